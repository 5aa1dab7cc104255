"""Benchmark training mode on a local cluster of its own (temporary state directory).

Goals: provisioning 30 attendees <= 30 s; a training run of the notebooks for 10 attendees
takes at most 3 times one attendee's run, both measured here, in the same benchmark run.
Also timed: provisioning the 30 again (nothing changes) and their teardown.
Run with `make bench` or `python bench/training.py [--parallel K] [--notebooks DIR]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from aks_runbook.targets.local import LocalCluster
from aks_runbook.training import credentials, provision, roster
from aks_runbook.training import run as training

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "environments" / "local.yaml"
PROVISION_GOAL = 30.0
RATIO_GOAL = 3.0


def main(parallel: int, notebooks: Path | None) -> bool:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as state:
        os.environ["AKS_RUNBOOK_STATE"] = state  # the workers' notebooks use this cluster too
        cluster = LocalCluster(state=Path(state) / "local")
        try:
            cluster.up()
            api = cluster.api()
            access = credentials.ClusterAccess.from_kubeconfig(cluster.kubeconfig)
            work = Path(state) / "work"

            def timed(name: str, call):
                started = time.monotonic()
                value = call()
                results[name] = time.monotonic() - started
                return value

            thirty = [roster.Attendee(f"bench{n:02d}") for n in range(1, 31)]
            timed("provision 30 attendees (s)", lambda: provision.provision(
                api, thirty, work / "thirty", access, LOCAL))
            again = timed("provision the same 30 again, nothing changes (s)",
                          lambda: provision.provision(api, thirty, work / "thirty", access,
                                                      LOCAL))
            assert all(not o.changes and o.token == "kept" for o in again)
            timed("teardown of the 30 (s)", lambda: provision.teardown(api, work / "thirty"))

            provision.provision(api, [roster.Attendee("solo")], work / "one", access, LOCAL)
            one = timed("training run, 1 attendee (s)", lambda: training.run(
                work / "one", parallel=1, directory=notebooks, runs_root=work / "runs"))
            provision.provision(api, roster.numbered(10), work / "ten", access, LOCAL)
            ten = timed(f"training run, 10 attendees, {parallel} at a time (s)",
                        lambda: training.run(work / "ten", parallel=parallel,
                                             directory=notebooks, runs_root=work / "runs"))
            print(one.summary())
            print(ten.summary())
        finally:
            cluster.down()
    for name, value in results.items():
        print(f"{name:<58} {value:7.1f}")
    ratio = results[f"training run, 10 attendees, {parallel} at a time (s)"] / \
        results["training run, 1 attendee (s)"]
    print(f"{'ratio 10 attendees / 1 attendee':<58} {ratio:7.2f}")
    provisioned = results["provision 30 attendees (s)"]
    met = provisioned <= PROVISION_GOAL and ratio <= RATIO_GOAL
    passed = one.ok and ten.ok
    print(f"goals (provision 30 <= {PROVISION_GOAL:g} s, 10 attendees <= {RATIO_GOAL:g} x one): "
          + ("met" if met else "NOT met")
          + ("" if passed else " (note: not every notebook passed, see the summaries above)"))
    return met


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=10, help="attendees at a time "
                        "(default 10: with one kernel server for the run, faster than 5 on "
                        "2 cores; bench/README.md)")
    parser.add_argument("--notebooks", type=Path, help="notebook folder (default notebooks/)")
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)  # make bench's
    args = parser.parse_args()
    sys.exit(0 if main(args.parallel, args.notebooks) else 1)
