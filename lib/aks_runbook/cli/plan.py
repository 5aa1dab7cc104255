"""`aks-runbook plan`: the az steps for an environment, validated offline, and the plan rules."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from aks_runbook.cli.common import no_cache_arg
from aks_runbook.cli.options import lang_arg
from aks_runbook.i18n import _

if TYPE_CHECKING:
    from aks_runbook.params import Environment


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser("plan", help="the az steps for an environment, validated offline")
    sub.add_argument("env_file", help="environment file, e.g. environments/aks-dev.yaml")
    sub.add_argument("--format", choices=["text", "json", "sh"], default="text")
    sub.add_argument("--chapter", help="only one chapter's steps, e.g. 02")
    no_cache_arg(sub)
    lang_arg(sub)
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aks_runbook import params
    from aks_runbook.azure import plan as azplan

    env = params.load(args.env_file)
    whole = azplan.validated(env)
    steps = [s for s in whole if s.chapter.startswith(args.chapter or "")]
    print(azplan.render(steps, env, args.format))
    invalid = [s for s in steps if s.validation and s.validation.status == "invalid"]
    failed = judge_rules(env, whole, args.format)
    return 1 if invalid or failed else 0


def judge_rules(env: Environment, steps: list, fmt: str) -> int:
    """The plan rules on the whole plan: a table after the text plan, else on stderr so the
    JSON or the script stays as it is. Returns how many failed."""
    from aks_runbook.checks import plan as plan_rules

    findings = plan_rules.localized(plan_rules.judge(env, steps))
    lines = [f"[{f.status}] {f.check} {f.resource}: {f.evidence}" for f in findings]
    failed = sum(f.status == "fail" for f in findings)
    summary = _("plan rules: {ok} of {total} without a failure").format(
        ok=len(findings) - failed, total=len(findings))
    print("\n".join(["", _("Plan rules (AKS docs, 2026):"), *lines, summary]),
          file=sys.stdout if fmt == "text" else sys.stderr)
    return failed
