"""`aks-runbook posture`: the posture checks on a cluster or on manifest files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aks_runbook.cli.common import CHAPTER_NUMBERS, CannotRun, objects_of, source_args


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser(
        "posture", help="run the posture checks on a cluster or on manifest files (--from-files)")
    source_args(sub)
    sub.add_argument("--cluster-json", help="`az aks show -o json` output, for the Azure "
                                            "checks (accepts either field casing)")
    sub.add_argument("--chapter", choices=sorted(CHAPTER_NUMBERS),
                     help="only one chapter's checks")
    sub.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sub.add_argument("--group-by", choices=["category"],
                     help="group the findings by the AKS review checklist's categories "
                          "(a category column first; docs/aks-review-checklist.md)")
    sub.add_argument("--allowed-registry", action="append",
                     default=["mcr.microsoft.com"],
                     help="registries images may come from (repeat; MCR is always allowed)")
    sub.add_argument("--floating-tag", action="append", default=[], metavar="TAG",
                     help="an image tag that moves like latest (e.g. alpine, stable); repeat")
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
    state = checks.State(objects_of(args), cluster,
                         "az aks show" if cluster else "none",
                         allowed_registries=tuple(args.allowed_registry),
                         floating_tags=tuple(args.floating_tag),
                         origin="files" if args.from_files else "cluster")
    findings = checks.run(state, chapter=CHAPTER_NUMBERS.get(args.chapter, args.chapter))
    rows, frame = [f.as_dict() for f in findings], checks.table(findings)
    if args.group_by == "category":
        from aks_runbook.checks import checklist

        rows, frame = checklist.grouped_rows(findings), checklist.grouped(findings)
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    elif args.format == "csv":
        print(frame.to_csv(index=False), end="")
    else:
        print(frame.to_string(index=False))
    return 0
