"""The options the analysis commands share (format, colour, --all, --fail-on), their exit
status, and the exit code --fail-on asks for. Light to import: every command's parser uses it."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from aks_runbook.i18n import LANGUAGES
from aks_runbook.severity import SEVERITIES, SEVERITY_ORDER

FAIL_ON = SEVERITIES[::-1]
EXIT_STATUS = ("exit status: 0 when it ran, whatever it found{unless}; {fail_on}2 when it "
               "cannot run (unreadable cluster or file, bad option).")
FAIL_ON_STATUS = "1 when a failing finding at or above --fail-on's severity exists; "


def output_args(sub: argparse.ArgumentParser, formats: Iterable[str], fail_on: bool = True,
                show_all: str = "") -> None:
    """The options every analysis command shares: format, colour, --fail-on, --all."""
    sub.add_argument("-o", "--format", choices=list(formats), default="table",
                     help="table (fits 120 columns), wide (every column whole), or a "
                          "machine format (default: table)")
    sub.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                     help="colour the table: auto (only on a terminal and when NO_COLOR is "
                          "not set), always, never")
    if show_all:
        sub.add_argument("--all", action="store_true", help=show_all)
    if fail_on:
        sub.add_argument("--fail-on", choices=FAIL_ON, metavar="SEVERITY",
                         help="exit 1 when a failing finding of this severity or higher "
                              f"exists ({', '.join(FAIL_ON)})")


def lang_arg(sub: argparse.ArgumentParser) -> None:
    """`--lang en|ja`: the language of titles, remediation, messages and tables (default:
    AKS_RUNBOOK_LANG, else Japanese when LANG says so, else English). Ids never change."""
    sub.add_argument("--lang", choices=list(LANGUAGES), default=None,
                     help="language of the text: en or ja (default: AKS_RUNBOOK_LANG, else "
                          "LANG: ja_* gives ja); check ids, commands and statuses stay as "
                          "they are")


def parser_texts(help: str, fail_on: bool = True) -> dict:
    """add_parser() keywords: the help line, and the exit status below the options."""
    epilog = EXIT_STATUS.format(unless=" (unless --fail-on)" if fail_on else "",
                                fail_on=FAIL_ON_STATUS if fail_on else "")
    return {"help": help, "description": help, "epilog": epilog}


def failing_at(severities: Iterable[str], fail_on: str | None) -> int:
    """The exit code: 1 when one of these failing findings' severities reaches `fail_on`."""
    if not fail_on:
        return 0
    limit = SEVERITY_ORDER[fail_on]
    return int(any(SEVERITY_ORDER.get(s, len(SEVERITY_ORDER)) <= limit for s in severities))
