"""`aks-runbook reachability`: which pod may reach which, as the policies say."""

from __future__ import annotations

import argparse
import json
import sys

from aks_runbook.cli.common import CannotRun, objects_of, source_args


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser("reachability",
                              help="which pod may reach which, as the NetworkPolicies say")
    source_args(sub)
    sub.add_argument("--namespace", action="append", help="limit to these namespaces")
    sub.add_argument("--format", choices=["table", "json"], default="table")
    sub.add_argument("--external", action=argparse.BooleanOptionalAction, default=True,
                     help="also list the outside addresses (ip/<cidr>) each pod may reach "
                          "and be reached from (default: on)")
    sub.add_argument("--ipblock-matches-pods", action="store_true",
                     help="let ipBlocks match pod IPs, as Calico and Azure NPM do (default: "
                          "they do not, as with Cilium)")
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aks_runbook.analysis import reachability as reach

    objects = objects_of(args)
    namespaces = reach.namespace_labels(objects.get("namespaces", []))
    pods = reach.pods_from_api(objects.get("pods", []))
    if args.namespace:
        pods = [p for p in pods if p.namespace in set(args.namespace)]
    if args.ipblock_matches_pods and (without := sum(not p.ips for p in pods)):
        why = "manifests have no pod IPs" if args.from_files else "not running yet"
        print(f"note: {without} pod(s) have no IP ({why}): no ipBlock matches them",
              file=sys.stderr)
    try:
        policies = [p for kind in reach.POLICY_KINDS for p in objects.get(kind, [])]
        analyzer = reach.Analyzer(pods, namespaces, policies,
                                  ipblock_matches_pods=args.ipblock_matches_pods)
    except reach.PolicyError as error:
        raise CannotRun(str(error)) from None
    rows = analyzer.matrix(external=args.external)
    out = sys.stdout
    if args.format == "json":
        out.write("[")
        for n, c in enumerate(rows):
            out.write(("," if n else "") + "\n  " + json.dumps(c.as_dict()))
        out.write("\n]\n")
    else:
        width = max([len(p.key) for p in pods] + [len("SOURCE")]) + 1
        out.write(f"{'VERDICT':<8}{'SOURCE':<{width}}{'DESTINATION':<{width}}{'PORT':<16}"
                  "POLICIES\n")
        for c in rows:
            verdict = {True: "allow", False: "deny", None: "unknown"}[c.allowed]
            out.write(f"{verdict:<8}{c.source:<{width}}"
                      f"{c.destination:<{width}}{c.port:<16}{','.join(c.policies)}\n")
    return 0
