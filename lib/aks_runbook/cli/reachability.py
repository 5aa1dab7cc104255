"""`aks-runbook reachability`: which pod may reach which, as the policies say."""

from __future__ import annotations

import argparse
import json
import sys

from aks_runbook.cli.common import CannotRun, source_args, view_of
from aks_runbook.cli.options import lang_arg, output_args, parser_texts
from aks_runbook.i18n import _


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser("reachability", **parser_texts(
        "which pod may reach which, as the NetworkPolicies say", fail_on=False))
    source_args(sub)
    sub.add_argument("--namespace", action="append", help="limit to these namespaces")
    output_args(sub, ["table", "wide", "json"], fail_on=False,
                show_all="also list the denied rows (the table lists what may pass)")
    sub.add_argument("--external", action=argparse.BooleanOptionalAction, default=True,
                     help="also list the outside addresses (ip/<cidr>) each pod may reach "
                          "and be reached from (default: on)")
    sub.add_argument("--ipblock-matches-pods", action="store_true",
                     help="let ipBlocks match pod IPs, as Calico and Azure NPM do (default: "
                          "they do not, as with Cilium)")
    lang_arg(sub)
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aks_runbook.analysis import reachability as reach

    objects, sources = view_of(args)
    namespaces = reach.namespace_labels(objects.get("namespaces", []))
    pods = reach.pods_from_api(objects.get("pods", []))
    if args.namespace:
        pods = [p for p in pods if p.namespace in set(args.namespace)]
    if args.ipblock_matches_pods and (without := sum(not p.ips for p in pods)):
        why = _("manifests have no pod IPs") if args.from_files else _("not running yet")
        print(_("note: {count} pod(s) have no IP ({why}): no ipBlock matches them").format(
            count=without, why=why), file=sys.stderr)
    try:
        policies = [p for kind in reach.POLICY_KINDS for p in objects.get(kind, [])]
        analyzer = reach.Analyzer(pods, namespaces, policies,
                                  ipblock_matches_pods=args.ipblock_matches_pods)
    except reach.PolicyError as error:
        where = policy_source(error.policy, sources)
        raise CannotRun(f"{where}: {error}" if where else str(error)) from None
    rows = analyzer.matrix(external=args.external)
    out = sys.stdout
    if args.format == "json":
        out.write("[")
        for n, c in enumerate(rows):
            out.write(("," if n else "") + "\n  " + json.dumps(c.as_dict()))
        out.write("\n]\n")
    else:
        from aks_runbook.cli import tables
        from aks_runbook.cli.output import print_table

        table, summary = tables.reachability_rows(rows, args.format == "wide", args.all)
        print_table(table, summary, args, out)
    return 0


POLICY_KINDS = ("NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")


def policy_source(policy: str, sources: dict):
    """The file, document and line of a policy ("namespace/name"), when it was read from
    files."""
    return next((source for (kind, namespace, name), source in sources.items()
                 if kind in POLICY_KINDS and "/".join(filter(None, (namespace, name))) == policy),
                None)
