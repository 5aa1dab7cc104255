"""Running a plan for real (target aks, execute: true): refuse first what must not run (a
plan that breaks a plan rule, destructive steps in production unless confirmed, invalid
lines, no az login), then each step through the runner with Azure's values read into their
placeholders. Above both azplan (the plan) and checks.plan (its rules), so neither imports the
other's way round."""

from __future__ import annotations

import os
from pathlib import Path

from aks_runbook.azure.plan import APP_SECRET, TEAM_GROUPS, Step, build, fill, placeholders
from aks_runbook.checks import plan as plan_rules
from aks_runbook.params import Environment
from aks_runbook.progress import bar
from aks_runbook.run.runner import Runner, StepFailed


class NotLoggedIn(RuntimeError):
    """az has no signed-in account; nothing was run."""


class NeedsConfirmation(RuntimeError):
    """A destructive step in production without confirm_destructive."""


class FailingRules(RuntimeError):
    """The plan breaks a plan rule (a feature without its prerequisite); nothing was run."""


def guard(steps: list[Step], env: Environment) -> None:
    """Refuse, before anything runs, a plan that breaks a plan rule, and destructive steps in
    production unless confirmed."""
    # The rules read the whole plan (a step's prerequisite may come before the steps given).
    failed = [f for f in plan_rules.judge(env, _whole_plan(steps, env)) if f.status == "fail"]
    if failed:
        raise FailingRules("the plan breaks its rules, nothing was run:\n" + "\n".join(
            f"  {f.check} {f.title}: {f.evidence} (fix: {f.remediation})"
            for f in plan_rules.localized(failed)))
    risky = [s.id for s in steps if s.destructive]
    if env.production and risky and not env.confirm_destructive:
        raise NeedsConfirmation(
            f"environment {env.environment!r} is production and these steps are destructive: "
            f"{', '.join(risky)}. Set confirm_destructive: true (e.g. -p confirm_destructive=true) "
            f"to run them.")


def files_dir(environ: dict[str, str]) -> Path:
    """Where execution writes the files steps read (e.g. maintenance configurations)."""
    given = environ.get("AKS_RUNBOOK_FILES") or os.environ.get("AKS_RUNBOOK_FILES")
    return Path(given).expanduser() if given else Path.home() / ".aks-runbook"


def _secret_file(environ: dict[str, str]) -> str:
    """The file holding the application's secret: named by SECRET_FILE, readable by you only
    (its content is never read here, only handed to az as --file)."""
    path = environ.get("SECRET_FILE") or os.environ.get("SECRET_FILE")
    if not path or not Path(path).expanduser().is_file():
        raise RuntimeError(f"the plan stores the secret {APP_SECRET}: put its value in a file, "
                           f"chmod 600 it and set SECRET_FILE to its path. Nothing was run.")
    if Path(path).expanduser().stat().st_mode & 0o077:
        raise RuntimeError(f"SECRET_FILE {path} is readable by others: chmod 600 it. Nothing "
                           f"was run.")
    return str(Path(path).expanduser())


def _whole_plan(steps: list[Step], env: Environment) -> list[Step]:
    """The plan a run belongs to, as the rules judge it: the environment's plan with the given
    steps in place of the planned ones of the same id (new ones where they are given). A planned
    step missing from the run counts as removed when it is of a phase the run has and lies
    between the run's first and last planned step (a hole in what runs); otherwise it simply
    runs another time (e.g. chapter 03's steps after the provisioning)."""
    planned, given = build(env), {s.id: s for s in steps}
    phases = {s.phase for s in steps}
    positions = [i for i, s in enumerate(planned) if s.id in given]
    first, last = (min(positions), max(positions)) if positions else (0, -1)
    kept = [given.get(s.id, s) for i, s in enumerate(planned)
            if s.id in given or not (first <= i <= last and s.phase in phases)]
    known = {s.id for s in planned}
    extra = [s for s in steps if s.id not in known]
    at = next((i for i, s in enumerate(kept) if s.id == planned[last].id), len(kept) - 1) + 1 \
        if positions else len(kept)
    return kept[:at] + extra + kept[at:]  # steps the plan lacks: right after the run


def execute(steps: list[Step], env: Environment, runner: Runner) -> None:
    """Run the steps for real with az (target aks, execute: true)."""
    if env.plan_only:
        raise RuntimeError("execute() needs target 'aks' with execute: true")
    guard(steps, env)
    if any("$SECRET_FILE" in s.command for s in steps):
        _secret_file(runner.env)  # before anything runs
    invalid = [s.id for s in steps if s.validation and s.validation.status == "invalid"]
    if invalid:
        raise RuntimeError(f"the plan has invalid steps, nothing was run: {', '.join(invalid)}")
    account = runner.run("az account show --query id -o tsv", step="az-login", check=False,
                         retries=0)
    if not account.ok:
        raise NotLoggedIn("az is not signed in: run `az login` (and `az account set "
                          "--subscription <id>`), then run again. Nothing was run.")
    values = {"SUBSCRIPTION_ID": account.stdout.strip(),
              "KUBECONFIG": runner.env.get("KUBECONFIG", ""),
              "MAINTENANCE_DIR": str(files_dir(runner.env) / "maintenance")}
    if any("$SECRET_FILE" in s.command for s in steps):
        values["SECRET_FILE"] = _secret_file(runner.env)
    holders = placeholders(env)
    with bar(total=len(steps), desc="plan", unit=" step") as progress:  # JupyterLab: a widget
        for step in steps:
            progress.set_postfix_str(step.id)
            _execute_step(step, values, holders, runner)
            progress.update(1)


def _execute_step(step: Step, values: dict[str, str], holders: dict, runner: Runner) -> None:
    if step.exists and runner.run(step.exists, step=f"{step.id}:exists", check=False,
                                  retries=0, quiet=True).ok:
        print(f"# {step.id}: exists already, skipped")
        return
    for name in step.placeholders:
        if name not in values:
            values[name] = runner.run(holders[name].lookup, step=f"lookup {name}",
                                      quiet=True).stdout.strip()
    for path, text in step.files:
        target = Path(fill(path, values))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(fill(text, values))
        target.chmod(0o600)
    command = fill(step.command, values)
    if step.env:  # e.g. AAD_LOGIN_METHOD=azurecli for az aks check-acr
        command = " ".join(["env", *(f"{k}={v}" for k, v in step.env), command])
    try:
        runner.run(command, step=step.id, stream=True)  # long operations show progress
    except StepFailed:
        print(f"# stopped at {step.id}; the steps before it are in place, re-running "
              f"continues from here (existing resources are skipped)")
        raise


def group_subjects(env: Environment, runner: Runner) -> dict[str, str]:
    """The team's groups as Kubernetes binding subjects. On AKS each Entra group's object id,
    read with az: Entra ID tokens carry group object ids, not names, so a binding naming
    `team-vote-dev-developers` would match nobody ("Use Microsoft Entra ID and Kubernetes RBAC
    for clusters"). Without Azure (local, kind, replay, plan only) the lab's readable names."""
    if env.plan_only:
        return dict(TEAM_GROUPS)
    holders = placeholders(env)
    return {role: runner.run(holders[f"{role.upper()}_GROUP_ID"].lookup,
                             step=f"lookup the {role} group's object id", quiet=True
                             ).stdout.strip()
            for role in TEAM_GROUPS}
