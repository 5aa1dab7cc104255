"""`aks-runbook validate-az`: az lines checked by azure-cli's own parser and handlers, offline."""

from __future__ import annotations

import argparse
import json
import sys

from aks_runbook.cli.common import CannotRun, no_cache_arg
from aks_runbook.cli.options import lang_arg
from aks_runbook.i18n import _


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser(
        "validate-az", help="check az command lines with azure-cli's own parser (offline)")
    sub.add_argument("lines", nargs="*",
                     help="az lines; with neither lines nor --file, a script read from stdin")
    sub.add_argument("--file", action="append", default=[], metavar="PATH",
                     help="a shell script, or a Markdown file (its bash/sh/shell/azurecli/"
                          "console code blocks); repeatable")
    sub.add_argument("--format", choices=["text", "json"], default="text")
    sub.add_argument("--strict", action="store_true",
                     help="also exit 1 when a line could not be validated")
    sub.add_argument("--shallow", action="store_true",
                     help="parser and validators only (no handler runs: 'parsed')")
    no_cache_arg(sub)
    lang_arg(sub)
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aks_runbook.azure import validate as azvalidate

    lines: list[str | azvalidate.AzLine] = [
        line for arg in args.lines for line in azvalidate.join_continuations(arg)]
    for path in args.file:
        try:
            lines += azvalidate.read_file(path)
        except OSError as error:
            raise CannotRun(f"cannot read --file {path}: {error.strerror or error}") from error
        except UnicodeDecodeError as error:
            raise CannotRun(f"cannot read --file {path}: not UTF-8 text ({error.reason}); "
                            f"--file takes a shell script or a Markdown file") from error
    if not args.lines and not args.file:
        lines = azvalidate.read_script(sys.stdin.read(), "<stdin>")
    results = azvalidate.validate(lines, deep=not args.shallow)
    counts = azvalidate.counts(results)
    if args.format == "json":
        print(json.dumps({"results": [r.to_json() for r in results], "counts": counts},
                         indent=2, ensure_ascii=False))
    else:
        for result in results:
            print(result.describe())
        print(_("{count} az lines: ").format(count=len(results))
              + ", ".join(f"{n} {s}" for s, n in counts.items()))
    failing = ("invalid", "not validated") if args.strict else ("invalid",)
    return 1 if any(r.status in failing for r in results) else 0
