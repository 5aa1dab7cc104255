"""Benchmark the simulated AKS node-pool upgrade (targets.upgrade) on a cluster of its own.

A 3-node pool at the previous minor, a 4-replica Deployment with a PDB minAvailable 3 on it,
upgraded to the control plane's version with the library's defaults (max surge 1, a refused
eviction retried every second). Goal: <= 60 s. Also timed: the same pool blocked by a PDB that
allows no disruption (drain timeout 5 s), then relaxed and upgraded again.
Run with `make bench` (or `python bench/upgrade.py`).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from aks_runbook.targets import binaries
from aks_runbook.targets import upgrade as upg
from aks_runbook.targets.local import LocalCluster

GOAL_SECONDS = 60.0
POOL = "upg"
TAINT = {"key": "workload", "value": "upgrade-demo", "effect": "NoSchedule"}


def scenario(api, new: str, old: str, min_available: int, **settings) -> upg.UpgradeResult:
    """A fresh pool and app, one upgrade (plus, when it fails, a retry with minAvailable 3)."""
    namespace = f"bench-{min_available}"
    upg.add_pool(api, POOL, 3, old, taints=[TAINT])
    api.CoreV1Api().create_namespace({"metadata": {"name": namespace}})
    try:
        upg.deploy_app(api, namespace, replicas=4, min_available=min_available, pool=POOL)
        result = upg.upgrade_pool(api, POOL, new, pdb=(namespace, "web"), report=None,
                                  **settings)
        print(result.summary(), "\n")
        if result.state != "Succeeded":
            api.PolicyV1Api().patch_namespaced_pod_disruption_budget(
                "web", namespace, {"spec": {"minAvailable": 3}})
            retried = upg.upgrade_pool(api, POOL, new, pdb=(namespace, "web"), report=None)
            print(retried.summary(), "\n")
            result.duration += retried.duration
        return result
    finally:
        api.CoreV1Api().delete_namespace(namespace)
        upg.delete_pool(api, POOL)


def main() -> dict[str, float]:
    binaries.resolve()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as state:
        cluster = LocalCluster(state=Path(state))
        try:
            cluster.up()
            api = cluster.api()
            new = api.VersionApi().get_code().git_version
            major, minor = upg._version(new)[:2]
            old = f"v{major}.{minor - 1}.0"
            plain = scenario(api, new, old, 3)
            ok = plain.state == "Succeeded" and plain.all_upgraded and plain.never_below_pdb
            results[f"3-node pool, 4 replicas, PDB minAvailable 3: {old} -> {new} (s)"] = (
                plain.duration)
            blocked = scenario(api, new, old, 4, drain_timeout=5)
            results["blocked by minAvailable 4 (drain timeout 5 s) + retry after relaxing (s)"] = (
                blocked.duration)
        finally:
            cluster.down()
    for name, value in results.items():
        print(f"{name:<78} {value:6.2f}")
    first = next(iter(results.values()))
    met = ok and first <= GOAL_SECONDS
    print(f"goal (upgrade <= {GOAL_SECONDS:g} s, all nodes upgraded, never below the PDB): "
          + ("met" if met else "NOT met"))
    return results if met else {}


if __name__ == "__main__":
    started = time.monotonic()
    done = main()
    print(f"(whole benchmark, cluster up and down included: {time.monotonic() - started:.1f} s)")
    sys.exit(0 if done else 1)
