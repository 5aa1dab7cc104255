"""A chapter's Azure steps (`session.azure`): its part of the az plan, validated offline,
shown, and run for real only on target aks with execute: true (run.plan)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aks_runbook.azure import plan as azplan
from aks_runbook.run import plan as planrun

if TYPE_CHECKING:
    from aks_runbook.notebook.session import Session


class AzurePlan:
    def __init__(self, session: Session):
        self.session, self.env, self.runner = session, session.env, session.runner
        self._plan: list[azplan.Step] | None = None  # the chapter's, validated once

    def plan(self) -> list[azplan.Step]:
        """This chapter's az steps, each validated offline by azure-cli."""
        return azplan.validated(self.env, chapter=self.session.chapter)

    def show_plan(self) -> list[azplan.Step]:
        steps = self.plan()
        print(azplan.render(steps, self.env))
        return steps

    def show_steps(self, *prefixes: str) -> list[azplan.Step]:
        """The chapter's validated steps whose id starts with one of the prefixes, printed."""
        if self._plan is None:
            self._plan = self.plan()
        steps = [s for s in self._plan if s.id.startswith(prefixes)]
        print(azplan.render(steps, self.env))
        return steps

    def provision(self) -> None:
        """Create the Azure resources for real (target aks, execute: true): the plan's
        provisioning steps, validated first; stops before anything runs without `az login`."""
        steps = [s for s in azplan.validated(self.env) if s.phase == "provision"]
        if not self.env.plan_only:
            self.session.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        self.execute(steps, what=f"the plan's {len(steps)} provisioning steps (every chapter's; "
                                 f"`aks-runbook plan` lists them)")

    def execute(self, steps: list[azplan.Step], what: str | None = None) -> None:
        """Run plan steps with az (target aks, execute: true); elsewhere they stay a plan.
        Destructive steps in production need confirm_destructive (else nothing runs)."""
        risky = [s.id for s in steps if s.destructive]
        if risky and not self.allow_destructive(", ".join(risky)):
            return
        if self.env.plan_only:
            # the same words on local and on its replay, so a replay shows what the run showed
            where = "execute is false" if self.env.target == "aks" else "no Azure on this target"
            print(f"not run in Azure ({where}): {what or f'{len(steps)} planned step(s)'}; "
                  f"they run on target aks with execute: true")
            return
        planrun.execute(steps, self.env, self.runner)

    def team_groups(self) -> dict[str, str]:
        """The team's groups as binding subjects (object ids on AKS; see run.plan)."""
        return planrun.group_subjects(self.env, self.runner)

    def allow_destructive(self, what: str) -> bool:
        """Production needs confirm_destructive; otherwise say so and skip."""
        if self.env.production and not self.env.confirm_destructive:
            print(f"refused: {what} is destructive and environment {self.env.environment!r} "
                  f"is production; set confirm_destructive: true to allow it")
            return False
        return True

    def cluster_config(self) -> tuple[dict, str]:
        """`az aks show` on a live AKS cluster, else the configuration the plan would create."""
        if self.env.target == "aks" and not self.env.plan_only:
            shown = self.runner.run(["az", "aks", "show", "--resource-group", self.env.rg,
                                     "--name", self.env.cluster, "-o", "json"],
                                    step="az aks show", quiet=True)
            return shown.json(), "az aks show"
        return azplan.planned_cluster(self.env), "planned configuration"
