"""Namespaces a run's chapters deleted without waiting, and the wait for them at its end.

A chapter's cleanup deletes its namespaces and goes on: the namespace controller takes at
least 5 s over each (it waits that long before its first pass), and the next chapter needs
none of them. The run ends only once they are gone, so its evidence says the cluster was left
clean, as a waiting `kubectl delete` would have.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from aks_runbook.run.runner import resolve_tool

FILE = "terminating.jsonl"  # in the run folder: {"kubeconfig": path, "namespaces": [...]}
TIMEOUT = 120  # seconds, as the chapters' own waits
# klog's header: severity, MMDD hh:mm:ss.micros, thread id, file:line]
KLOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [^ \]]+:\d+\] ")


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


def verdict(names: list[str], exit_code: int, stderr: str) -> list[str]:
    """What one `kubectl wait --for=delete` says is left: its own lines, not its client
    library's log lines (a watch cut short by the timeout, say), or its exit code."""
    if not exit_code:
        return []
    said = [line for line in stderr.strip().splitlines()
            if line.strip() and not KLOG_LINE.match(line)]
    return said or [f"{', '.join(names)}: kubectl wait exited {exit_code}"]


class Wait:
    """`kubectl wait --for=delete` on every namespace of `pending`, started at once so that a
    run writes its last files meanwhile; `left()` reads the verdict."""

    def __init__(self, run_dir: Path, timeout: float = TIMEOUT):
        self._waits: list[tuple[list[str], subprocess.Popen]] = []  # none: nothing pending
        for kubeconfig, names in pending(run_dir).items():
            env = dict(os.environ, **({"KUBECONFIG": kubeconfig} if kubeconfig else {}))
            command = [resolve_tool("kubectl"), "wait", "--for=delete",
                       f"--timeout={timeout:.0f}s", *(f"namespace/{name}" for name in names)]
            self._waits.append((names, subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True)))

    @property
    def waiting(self) -> bool:
        return bool(self._waits)

    def left(self) -> list[str]:
        """kubectl's word on each namespace still there after the timeout (or on why it could
        not tell), or nothing."""
        left = []
        try:
            for names, waiting in self._waits:
                _, stderr = waiting.communicate()
                left += verdict(names, waiting.returncode, stderr)
        finally:
            self.stop()
        return left

    def stop(self) -> None:
        """End the waits still running (the run was stopped)."""
        for _, waiting in self._waits:
            if waiting.poll() is None:
                waiting.kill()
                waiting.wait()
