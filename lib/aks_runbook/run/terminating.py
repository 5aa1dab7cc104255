"""Namespaces a run's chapters deleted without waiting, and the wait for them at its end.

A chapter's cleanup deletes its namespaces and goes on: the namespace controller takes at
least 5 s over each (it waits that long before its first pass), and the next chapter needs
none of them. The run ends only once they are gone, so its evidence says the cluster was left
clean, as a waiting `kubectl delete` would have.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from aks_runbook.run.runner import resolve_tool

FILE = "terminating.jsonl"  # in the run folder: {"kubeconfig": path, "namespaces": [...]}
TIMEOUT = 120  # seconds, as the chapters' own waits


def note(run_dir: Path, kubeconfig: Path | None, namespaces: Iterable[str]) -> None:
    entry = {"kubeconfig": str(kubeconfig) if kubeconfig else None,
             "namespaces": list(namespaces)}
    with (run_dir / FILE).open("a") as record:
        record.write(json.dumps(entry) + "\n")


def pending(run_dir: Path) -> dict[str | None, list[str]]:
    """The namespaces deleted during the run, by kubeconfig (in the order deleted)."""
    record = run_dir / FILE
    if not record.exists():
        return {}
    by_kubeconfig: dict[str | None, list[str]] = {}
    for line in record.read_text().splitlines():
        entry = json.loads(line)
        names = by_kubeconfig.setdefault(entry["kubeconfig"], [])
        names += [name for name in entry["namespaces"] if name not in names]
    return by_kubeconfig


def wait(run_dir: Path, timeout: float = TIMEOUT) -> list[str]:
    """Wait until every namespace of `pending` is gone; kubectl's word on each one still
    there after `timeout` (or on why it could not tell), or nothing."""
    left = []
    for kubeconfig, names in pending(run_dir).items():
        env = dict(os.environ, **({"KUBECONFIG": kubeconfig} if kubeconfig else {}))
        command = [resolve_tool("kubectl"), "wait", "--for=delete", f"--timeout={timeout:.0f}s",
                   *(f"namespace/{name}" for name in names)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            left += done.stderr.strip().splitlines() or [f"{', '.join(names)}: kubectl wait "
                                                         f"exited {done.returncode}"]
    return left
