"""Benchmark: how long the CLI takes to answer, against Python's own start (goals: --help
within 0.5 s of it; posture --from-files on a small folder within 1.5 s of it)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "aks_runbook.cli"]
COMMANDS = ["local", "plan", "validate-az", "run", "report", "lab", "training", "posture",
            "reachability", "rbac"]
SMALL_APP = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""


def best(command: list[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> bool:
    python = best([sys.executable, "-c", "pass"])
    top = best([*CLI, "--help"]) - python
    each = {c: best([*CLI, c, "--help"], runs=3) - python for c in COMMANDS}
    with tempfile.TemporaryDirectory() as folder:
        for n in range(4):
            (Path(folder) / f"app{n}.yaml").write_text(SMALL_APP.replace("shop", f"shop{n}"))
        posture = best([*CLI, "posture", "--from-files", folder]) - python
    slowest = max(each, key=each.get)
    print(f"python -c pass: {python:.2f} s; beyond it: aks-runbook --help {top:.2f} s, "
          f"<command> --help median {statistics.median(each.values()):.2f} s (slowest "
          f"{slowest} {each[slowest]:.2f} s), posture --from-files (4 files, 12 objects) "
          f"{posture:.2f} s")
    met = top <= 0.5 and max(each.values()) <= 0.5 and posture <= 1.5
    print("goals (help <= 0.5 s, posture <= 1.5 s beyond Python's start): "
          + ("met" if met else "NOT met"))
    return met


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
