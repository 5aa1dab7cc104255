"""`aks-runbook posture`: the posture checks on a cluster or on manifest files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aks_runbook.cli.common import (
    CHAPTER_NUMBERS,
    CannotRun,
    source_args,
    source_of,
    view_of,
)
from aks_runbook.cli.options import lang_arg, output_args, parser_texts

FORMATS = ["table", "wide", "csv", "json", "sarif", "junit"]
AZURE_KINDS = ("ManagedCluster", "AgentPool")  # what --cluster-json describes


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser(
        "posture", **parser_texts("run the posture checks on a cluster or on manifest files "
                                  "(--from-files)"))
    source_args(sub)
    sub.add_argument("--cluster-json", help="`az aks show -o json` output, for the Azure "
                                            "checks (accepts either field casing)")
    sub.add_argument("--chapter", choices=sorted(CHAPTER_NUMBERS),
                     help="only one chapter's checks")
    output_args(sub, FORMATS, show_all="also list the passing and not-applicable findings "
                                       "(the table lists failures only)")
    sub.add_argument("--group-by", choices=["category"],
                     help="group the findings by the AKS review checklist's categories "
                          "(a category column first; docs/aks-review-checklist.md)")
    sub.add_argument("--allowed-registry", action="append",
                     default=["mcr.microsoft.com"],
                     help="registries images may come from (repeat; MCR is always allowed)")
    sub.add_argument("--floating-tag", action="append", default=[], metavar="TAG",
                     help="an image tag that moves like latest (e.g. alpine, stable); repeat")
    lang_arg(sub)
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aks_runbook import checks

    cluster = None
    if args.cluster_json:
        try:
            cluster = json.loads(Path(args.cluster_json).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CannotRun(f"--cluster-json {args.cluster_json}: {error}") from None
        if not isinstance(cluster, dict):
            raise CannotRun(f"--cluster-json {args.cluster_json}: expected one JSON object "
                            "(az aks show -o json)")
    objects, sources = view_of(args)
    state = checks.State(objects, cluster,
                         "az aks show" if cluster else "none",
                         allowed_registries=tuple(args.allowed_registry),
                         floating_tags=tuple(args.floating_tag),
                         origin="files" if args.from_files else "cluster")
    findings = checks.run(state, chapter=CHAPTER_NUMBERS.get(args.chapter, args.chapter))
    show(checks.localized_all(findings), args, sources)
    from aks_runbook.cli.options import failing_at

    return failing_at((f.severity for f in findings if f.status == "fail"), args.fail_on)


def show(findings: list, args: argparse.Namespace, sources: dict) -> None:
    from aks_runbook import checks
    from aks_runbook.checks import checklist

    grouped = args.group_by == "category"
    if args.format == "json":
        rows = (checklist.grouped_rows(findings) if grouped
                else [f.as_dict() for f in findings])
        print(json.dumps(rows, indent=2))
    elif args.format == "csv":
        frame = checklist.grouped(findings) if grouped else checks.table(findings)
        print(frame.to_csv(index=False), end="")
    elif args.format == "sarif":
        from aks_runbook.cli import sarif

        print(sarif.log(findings, [checks.localized_check(c) for c in checks.CATALOG],
                        lambda r: locate(r, args, sources)))
    elif args.format == "junit":
        from aks_runbook.cli import junit

        print(junit.report(findings, "aks-runbook posture"))
    else:
        from aks_runbook.cli import tables
        from aks_runbook.cli.output import print_table

        found = checklist.ordered(findings) if grouped else findings
        table, summary = tables.findings(found, args.format == "wide", args.all,
                                         checklist.category if grouped else None)
        print_table(table, summary, args, sys.stdout)


def locate(resource: str, args: argparse.Namespace, sources: dict):
    """The file and line a finding's resource was read from; the --cluster-json file for the
    Azure-level resources."""
    if args.cluster_json and resource.split("/")[0] in AZURE_KINDS:
        from aks_runbook.cluster.objects import Source

        return Source(Path(args.cluster_json), 1, 1)
    return source_of(sources, resource)
