"""`aks-runbook local`: the local cluster (a real control plane with kwok nodes) or kind."""

from __future__ import annotations

import argparse
import sys


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser(
        "local", help="the local cluster: a real control plane with kwok nodes (or kind)")
    sub.add_argument("verb", choices=["up", "down", "status", "kubeconfig", "build"],
                     help="up: create or recover; down: remove everything; status: what runs "
                          "where; kubeconfig: print its path; build: only build the binaries")
    sub.add_argument("--driver", choices=["kwok", "kind"], default="kwok",
                     help="kwok (default, no Docker needed) or kind (needs Docker or Podman)")
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aks_runbook.targets import binaries
    from aks_runbook.targets.kind import KindCluster
    from aks_runbook.targets.local import LocalCluster

    if args.driver == "kind":
        cluster = KindCluster()
        if args.verb == "up":
            cluster.up()
        elif args.verb == "down":
            cluster.down()
        elif args.verb == "kubeconfig":
            print(cluster.kubeconfig)
        else:
            print(f"kind config: {cluster.write_config()}")
        return 0

    cluster = LocalCluster()
    if args.verb == "build":
        for name, path in sorted(binaries.resolve().items()):
            print(f"{name:<24} {path}")
    elif args.verb == "up":
        print(cluster.up().describe())
    elif args.verb == "down":
        cluster.down()
        print("local cluster removed; no process left running")
    elif args.verb == "status":
        status = cluster.status()
        print(status.describe())
        return 0 if status.running and status.healthy else 3
    elif args.verb == "kubeconfig":
        if not cluster.kubeconfig.is_file():
            print("no local cluster: run `aks-runbook local up` first", file=sys.stderr)
            return 1
        print(cluster.kubeconfig)
    return 0
