"""The RBAC risk table in the shape of posture findings, for SARIF and JUnit: one rule per risk
of the catalogue (RBAC-<risk>), one failing finding per grant, located at its binding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aks_runbook.checks import Finding
from aks_runbook.severity import severity

REMEDIATION = ("Remove the subject from the binding, or bind a Role that grants only the verbs "
               "and resources the subject needs (kubectl edit rolebinding|clusterrolebinding "
               "NAME)")
OTHERS = {  # rows the catalogue RISKS does not list
    "namespace-admin": ("every verb on every resource in one namespace (`*` on `*` through a "
                        "RoleBinding)", "GP-least; kubescape C-0035"),
    "ineffective-grant": ("a grant that grants nothing: a RoleBinding to a role that names "
                          "cluster-scoped resources, or a rule naming pods/*",
                          "Kubernetes RBAC authorizer"),
}


@dataclass(frozen=True)
class RiskRule:
    """A risk as a SARIF rule: what posture's checks.Check offers sarif.rule()."""

    id: str
    title: str
    score: float
    public_ids: str
    remediation: str = REMEDIATION
    differs: str = ""

    @property
    def severity(self) -> str:
        return severity(self.score)


def rule_id(risk: str) -> str:
    return f"RBAC-{risk}"


def rules() -> list[RiskRule]:
    from aks_runbook.analysis import rbac

    found = [RiskRule(rule_id(r.name), f"{r.name}: {r.what}", r.score, r.public_ids)
             for r in rbac.RISKS]
    return found + [RiskRule(rule_id(name), f"{name}: {what}", rbac.BASE_SCORES[name], ids)
                    for name, (what, ids) in OTHERS.items()]


def findings(rows: Sequence[Any]) -> list[Finding]:
    """One failing finding per grant; its resource is the binding (the object to change), its
    evidence who may do what through which role."""
    by_id = {r.id: r for r in rules()}
    found = []
    for row in rows:
        rule = by_id[rule_id(row.risk)]
        evidence = f"{row.subject} may {row.risk} through {row.role} (rule: {row.rule})"
        if row.path:
            evidence += f"; it would grant {row.path}"
        found.append(Finding(rule.id, rule.title, row.binding, "fail", row.severity, evidence,
                             rule.remediation, rule.public_ids))
    return found
