"""`aks-runbook rbac`: RBAC risks, or who can do one thing."""

from __future__ import annotations

import argparse
import json
import sys

from aks_runbook.cli.common import CannotRun, source_args, source_of, view_of
from aks_runbook.cli.options import lang_arg, output_args, parser_texts


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser(
        "rbac", **parser_texts("RBAC risks (who holds secrets, exec, impersonate, "
                               "cluster-admin ...), or who can do one thing"))
    source_args(sub)
    sub.add_argument("--who-can", nargs=2, metavar=("VERB", "RESOURCE"),
                     help="who can VERB RESOURCE: pods, pods/exec, deployments.apps, "
                          "certificatesigningrequests.certificates.k8s.io/approval, or a "
                          "URL path such as /metrics")
    sub.add_argument("-n", "--namespace",
                     help="with --who-can: in this namespace (default: in any namespace)")
    output_args(sub, ["table", "wide", "csv", "json", "sarif", "junit"])
    sub.add_argument("--include-system", action="store_true",
                     help="also list the subjects the control plane uses by design "
                          "(system:masters, system: users and groups, kube-system service "
                          "accounts, AKS's clusterAdmin)")
    lang_arg(sub)
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import csv

    from aks_runbook.analysis import rbac

    if args.namespace and not args.who_can:
        raise CannotRun("-n/--namespace goes with --who-can (the risk table covers every "
                        "namespace; its binding column names each grant's namespace)")
    if args.who_can and args.format in ("sarif", "junit"):
        raise CannotRun(f"--format {args.format} goes with the risk table, not --who-can")
    objects, sources = view_of(args)
    policy = rbac.Policy.of(objects, from_files=bool(args.from_files))
    if args.who_can:
        verb, resource = args.who_can
        try:
            name, subresource, group = rbac.parse_resource(resource)
        except ValueError as error:
            raise CannotRun(f"--who-can: {error}") from None
        rows = rbac.who_can(objects, verb.lower(), name, args.namespace, subresource, group,
                            include_system=True, policy=policy)
    else:
        rows = rbac.risks(objects, include_system=True, policy=policy)
    shown = [r for r in rows if args.include_system or not r.system]
    notes = []
    if policy.assumed:
        notes.append("note: bootstrap ClusterRoles not in the files, assumed as Kubernetes "
                     f"v1.36 defines them: {', '.join(policy.assumed)}")
    if policy.missing:
        notes.append(f"note: {len(policy.missing)} binding(s) refer to a role that does not "
                     f"exist and grant nothing: {', '.join(policy.missing)}")
    if hidden := len(rows) - len(shown):
        notes.append(f"note: {hidden} row(s) of system subjects hidden (system:masters, other "
                     "system: users and groups, kube-system service accounts, AKS's "
                     "clusterAdmin); --include-system shows them")
    for note in notes:
        print(note, file=sys.stderr)
    if args.format == "json":
        print(json.dumps([r.as_dict() for r in shown], indent=2))
    elif args.format in ("sarif", "junit"):
        ci_report(shown, args.format, sources)
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=rbac.FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r.as_dict() for r in shown)
    else:
        from aks_runbook.cli import tables
        from aks_runbook.cli.output import print_table

        table, summary = tables.rbac_rows(shown, args.format == "wide", bool(args.who_can))
        print_table(table, summary, args, sys.stdout)
    from aks_runbook.cli.options import failing_at

    return failing_at((r.severity for r in shown), args.fail_on)


def ci_report(rows: list, format: str, sources: dict) -> None:
    from aks_runbook.cli import rbac_report

    findings = rbac_report.findings(rows)
    if format == "sarif":
        from aks_runbook.cli import sarif

        print(sarif.log(findings, rbac_report.rules(), lambda r: source_of(sources, r)))
    else:
        from aks_runbook.cli import junit

        print(junit.report(findings, "aks-runbook rbac",
                           [f"{r.subject} via {r.binding}" for r in rows]))
