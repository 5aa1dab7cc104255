"""The `aks-runbook` command: one module per subcommand. Each imports what it needs inside the
command, so `aks-runbook --help` and a subcommand's help start at once."""

from __future__ import annotations

import argparse
import os
import sys

from aks_runbook.cli import (
    lab,
    local,
    plan,
    posture,
    rbac,
    reachability,
    report,
    run,
    training,
    validate_az,
)
from aks_runbook.cli.common import CannotRun

COMMANDS = (local, plan, validate_az, run, report, lab, training, posture, reachability, rbac)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="aks-runbook", description="Executable workshop and runbook for secure AKS.")
    commands = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add(commands)
    return top


def user_errors() -> tuple[type[Exception], ...]:
    """What a command raises for bad input or a missing prerequisite: one line, exit 2.
    Imported only when something went wrong, so start-up stays light."""
    from aks_runbook.params import ParameterError
    from aks_runbook.run.transcript import ReplayMissing
    from aks_runbook.targets.binaries import MissingBinaries
    from aks_runbook.targets.kind import KindUnavailable
    from aks_runbook.targets.local import LocalClusterError

    return (CannotRun, ParameterError, ReplayMissing, MissingBinaries, KindUnavailable,
            LocalClusterError)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "no_cache", False):
        os.environ["AKS_RUNBOOK_NO_CACHE"] = "1"  # azure.cache.NO_CACHE_ENV, kept light here
    from aks_runbook import i18n

    with i18n.using(getattr(args, "lang", None)):  # --lang, for this command only
        try:
            return args.func(args)
        except Exception as error:
            if not isinstance(error, user_errors()):
                raise
            print(f"error: {error}", file=sys.stderr)
            return 2
