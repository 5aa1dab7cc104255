"""Benchmark the training hub: N attendees (default 10) log in at once, each starts their
server and a kernel; measured per attendee, the time from the login form to a ready (idle)
kernel, and the memory of their sandbox (PSS of every process in it: what they really add,
shared libraries counted once across sandboxes), and the hub's own (hub, proxy, culler).
On a local cluster of its own (temporary state directory).
Run with `make bench` or `python bench/hub.py [--attendees N]`.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests

from aks_runbook.targets.local import LocalCluster
from aks_runbook.training import credentials, provision, roster
from aks_runbook.training.hub.serve import Hub, free_port

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "environments" / "local.yaml"


def ready_kernel(base: str, name: str, password: str) -> float:
    """Seconds from the login form to an idle kernel in the attendee's own server."""
    started = time.monotonic()
    session = requests.Session()
    session.get(f"{base}hub/login", timeout=30)
    answer = session.post(f"{base}hub/login", allow_redirects=False, timeout=30, data={
        "username": name, "password": password, "_xsrf": session.cookies.get("_xsrf")})
    assert answer.status_code == 302, f"{name}: login answered {answer.status_code}"
    session.get(f"{base}hub/spawn/{name}", timeout=180)
    deadline = time.monotonic() + 180
    while True:  # the server is up once its lab page comes through the OAuth redirects
        page = session.get(f"{base}user/{name}/lab", timeout=30)
        if page.status_code == 200 and "/user/" in page.url:
            break
        assert time.monotonic() < deadline, f"{name}: no JupyterLab after 180 s"
        time.sleep(0.5)
    xsrf = next(c.value for c in session.cookies if c.name == "_xsrf"
                and c.path.startswith(f"/user/{name}"))
    kernel = session.post(f"{base}user/{name}/api/kernels", json={"name": "python3"},
                          headers={"X-XSRFToken": xsrf}, timeout=60).json()
    while session.get(f"{base}user/{name}/api/kernels/{kernel['id']}",
                      timeout=30).json().get("execution_state") != "idle":
        assert time.monotonic() < deadline, f"{name}: the kernel is not ready after 180 s"
        time.sleep(0.2)
    return time.monotonic() - started


def pss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as state:
        os.environ["AKS_RUNBOOK_STATE"] = state
        cluster = LocalCluster(state=Path(state) / "local")
        hub = None
        try:
            cluster.up()
            folder = Path(state) / "training"
            people = [roster.Attendee(f"hub{n:02d}") for n in range(1, count + 1)]
            provision.provision(cluster.api(), people, folder,
                                credentials.ClusterAccess.from_kubeconfig(cluster.kubeconfig),
                                LOCAL)
            with open(folder / "handout.csv") as handle:
                passwords = {row["name"]: row["password"] for row in csv.DictReader(handle)}
            hub = Hub(folder, Path(state) / "hub", ROOT, port=free_port(),
                      hidden=[Path(state)])
            hub.start()
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=count) as pool:
                times = list(pool.map(lambda a: ready_kernel(hub.url, a.name,
                                                             passwords[a.name]), people))
            everyone = time.monotonic() - started
            root = psutil.Process(hub.process.pid)
            family = root.children(recursive=True)
            sandboxes = [p for p in family if p.name() == "bwrap"
                         and p.parent().pid == root.pid]
            per_attendee = [pss([s, *s.children(recursive=True)]) for s in sandboxes]
            in_sandboxes = {p.pid for s in sandboxes for p in [s, *s.children(recursive=True)]}
            hub_own = pss([root, *[p for p in family if p.pid not in in_sandboxes]])
            print(f"{count} attendees logging in at once, on {os.cpu_count()} cores:")
            print(f"  login to a ready kernel: median {statistics.median(times):.1f} s, "
                  f"slowest {max(times):.1f} s; everyone ready after {everyone:.1f} s")
            print(f"  memory per attendee (PSS of their sandbox): median "
                  f"{statistics.median(per_attendee) / 2**20:.0f} MiB, largest "
                  f"{max(per_attendee) / 2**20:.0f} MiB ({len(sandboxes)} sandboxes)")
            print(f"  the hub, the proxy and the culler: {hub_own / 2**20:.0f} MiB")
        finally:
            if hub:
                hub.stop()
            cluster.down()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=10)
    main(parser.parse_args().attendees)
