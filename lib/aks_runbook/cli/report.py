"""`aks-runbook report`: one self-contained HTML page for a run or a training run folder."""

from __future__ import annotations

import argparse

from aks_runbook.cli.common import CannotRun
from aks_runbook.cli.options import lang_arg
from aks_runbook.i18n import _


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser(
        "report", help="one self-contained HTML page for a run or a training run folder")
    sub.add_argument("run_folder", metavar="RUN_FOLDER",
                     help="runs/<environment>/<UTC time>/ or runs/training/<UTC time>/; "
                          "the page is written into it as report.html")
    lang_arg(sub)
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aks_runbook.run import report

    try:
        print(_("report: {path}").format(path=report.write(args.run_folder)))
    except report.ReportError as error:
        raise CannotRun(str(error)) from None
    return 0
