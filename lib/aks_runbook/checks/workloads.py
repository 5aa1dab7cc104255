"""The shapes the workload checks share: one row per workload (its owner), a rule every
container keeps (init and ephemeral ones too), the namespaces AKS manages left out."""

from __future__ import annotations

from collections.abc import Callable

from aks_runbook.checks import Check, Finding, State, containers, owner
from aks_runbook.checks.network import SYSTEM_NAMESPACES

Verdict = tuple[str, str]  # (status, evidence)


def user_pods(state: State) -> list[dict]:
    return [p for p in state.items("pods") if p["metadata"]["namespace"] not in SYSTEM_NAMESPACES]


PODS = ("pods",)


def per_workload(state: State, me: Check, judge: Callable[[dict], Verdict | None]) -> list[Finding]:
    """One row per workload: `judge(pod)` gives its verdict, or None when it is not judged.
    Its checks read pods (`reads=PODS`): the catalog answers not-applicable when none could
    be listed."""
    judged: dict[tuple[str, str, str], Finding] = {}
    for pod in user_pods(state):
        found = judge(pod)
        if found:
            judged[(owner(pod), *found)] = me.finding(owner(pod), *found)
    return list(judged.values())


def verdict(problems: list[str], passed: str) -> Verdict:
    return ("fail", "; ".join(problems)) if problems else ("pass", passed)


def per_container(state: State, me: Check, problem: Callable[[dict, dict], str | None],
                  passed: str, linux_only: bool = False) -> list[Finding]:
    """per_workload for a rule every container must keep (init and ephemeral ones too):
    `problem(pod, container)` says what is wrong with one, or None. `linux_only`: a Windows pod
    is not-applicable."""
    def judge(pod: dict) -> Verdict:
        if linux_only and windows(pod):
            return LINUX_ONLY
        return verdict([f"{name}: {wrong}" for name, container in containers(pod)
                        if (wrong := problem(pod, container))], passed)

    return per_workload(state, me, judge)


def windows(pod: dict) -> bool:
    """PSS exempt Windows pods (spec.os.name) from the Linux-only restricted controls."""
    return ((pod.get("spec") or {}).get("os") or {}).get("name") == "windows"


LINUX_ONLY: Verdict = ("not-applicable", "Windows pod (spec.os.name windows): a Linux-only control")
