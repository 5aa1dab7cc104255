"""`aks-runbook run`: the chapters executed with papermill into runs/, and the run's report."""

from __future__ import annotations

import argparse
import sys

from aks_runbook.cli.common import no_cache_arg
from aks_runbook.cli.options import lang_arg
from aks_runbook.i18n import _


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser("run", help="execute the notebooks with papermill into runs/")
    sub.add_argument("env_file", help="environment file, e.g. environments/local.yaml")
    sub.add_argument("--only", help="notebook numbers, e.g. 01,03")
    sub.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="override a parameter (value parsed as YAML)")
    no_cache_arg(sub)
    lang_arg(sub)
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aks_runbook import i18n, params
    from aks_runbook.run import chapters as runs

    overrides = dict(params.parse_override(p) for p in args.param)
    if args.lang:  # the notebooks speak it too (their `language` parameter)
        overrides["language"] = args.lang
    only = [part.strip() for part in args.only.split(",")] if args.only else None
    # Without --lang the environment's `language` speaks for the whole run, report included.
    language = None if args.lang else params.load(args.env_file, overrides).language
    with i18n.using(language):
        result = runs.run(args.env_file, only=only, overrides=overrides)
        print(_("run folder: {folder}").format(folder=result.folder))
        for notebook in result.notebooks:
            print(f"  {notebook.name:<28} {notebook.status}")
        from aks_runbook.run import report

        print(_("report: {path}").format(path=report.write(result.folder)))
    if not result.ok:
        print(f"error: {runs.failure_message(result)}", file=sys.stderr)
        return 1
    return 0
