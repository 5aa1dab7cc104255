"""Benchmark the local cluster: cold build, warm `up` until nodes are Ready, `down`, memory.

Run with `make bench` (or `python bench/local_cluster.py [--cold]`). `--cold` builds every
binary again into an empty cache (many minutes); the Go module download cache is shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from aks_runbook.targets import binaries
from aks_runbook.targets.local import LocalCluster

GOAL_UP_SECONDS = 20
GOAL_RSS_GIB = 1.5


def cold_build() -> float:
    with tempfile.TemporaryDirectory() as cache:
        os.environ["AKS_RUNBOOK_CACHE"] = cache
        saved = {c.env: os.environ.pop(c.env) for c in binaries.COMPONENTS if c.env in os.environ}
        started = time.monotonic()
        binaries.resolve()
        elapsed = time.monotonic() - started
        del os.environ["AKS_RUNBOOK_CACHE"]
        os.environ.update(saved)
    return elapsed


class PeakRss:
    """Samples the summed RSS of every process under a directory."""

    def __init__(self, under: Path):
        self.under, self.peak, self._stop = str(under), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            for proc in psutil.process_iter(["cmdline", "memory_info"]):
                if self.under in " ".join(proc.info["cmdline"] or []) and proc.info["memory_info"]:
                    total += proc.info["memory_info"].rss
            self.peak = max(self.peak, total)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def load(cluster: LocalCluster, replicas: int = 100) -> None:
    """A rollout big enough to make the control plane work: 100 pods scheduled and Ready."""
    api = cluster.api()
    api.CoreV1Api().create_namespace({"metadata": {"name": "bench"}})
    labels = {"app": "bench"}
    api.AppsV1Api().create_namespaced_deployment("bench", {
        "metadata": {"name": "bench"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
    })
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = api.AppsV1Api().read_namespaced_deployment("bench", "bench").status
        if status.ready_replicas == replicas:
            return
        time.sleep(0.5)
    raise RuntimeError("bench deployment did not become Ready")


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", action="store_true", help="also time a cold build")
    args = parser.parse_args()
    results: dict[str, float] = {}
    if args.cold:
        results["cold build (s)"] = cold_build()
    binaries.resolve()
    with tempfile.TemporaryDirectory() as state:
        cluster = LocalCluster(state=Path(state))
        with PeakRss(Path(state)) as rss:
            started = time.monotonic()
            cluster.up()
            results["warm up until nodes Ready (s)"] = time.monotonic() - started
            load(cluster)
        results["control plane peak RSS, 100-pod rollout (GiB)"] = rss.peak / 2**30
        started = time.monotonic()
        cluster.down()
        results["down (s)"] = time.monotonic() - started
    for name, value in results.items():
        print(f"{name:<48} {value:8.2f}")
    ok = (results["warm up until nodes Ready (s)"] <= GOAL_UP_SECONDS
          and results["control plane peak RSS, 100-pod rollout (GiB)"] <= GOAL_RSS_GIB)
    print(f"goals (up <= {GOAL_UP_SECONDS} s, RSS <= {GOAL_RSS_GIB} GiB): "
          + ("met" if ok else "NOT met"))
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
