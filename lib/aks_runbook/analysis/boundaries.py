"""Environments as security boundaries: who may change each environment, read from its plan.

A grant is one principal with one role at one scope, taken from the plan's az lines
(`az role assignment create`, the Entra admin groups of `az aks create|update`, PIM eligibility
requests sent with `az rest`) and, optionally, from Kubernetes RoleBindings. `boundary()` judges
two environments: in production no human (a group or a user) holds write access except
just-in-time through Privileged Identity Management, and no principal has write access in both
(AKS docs: "Control cluster and node access using Privileged Identity Management (PIM) with
Microsoft Entra integration"; "Use Microsoft Entra ID Authorization for the Kubernetes API in
Azure Kubernetes Service (AKS)"). A role this module does not know counts as write: a false
"read only" would be the dangerous mistake.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aks_runbook.analysis.rollout import Verdict

# Roles that read only, or only fetch a kubeconfig (what the holder may do inside is then up to
# Azure RBAC or Kubernetes RBAC, judged on their own grants).
READ_ONLY_ROLES = frozenset({
    "Reader", "Azure Kubernetes Service RBAC Reader", "Azure Kubernetes Service Cluster User Role",
    "Key Vault Secrets User", "Key Vault Certificate User", "Key Vault Reader", "AcrPull",
    "Monitoring Reader", "Container Registry Repository Reader",
})
HUMAN_KINDS = ("Group", "User")
ADMIN_GROUP_ROLE = "cluster-admin (Entra admin group, --aad-admin-group-object-ids)"
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection", "*",
                         "escalate", "bind", "impersonate"})


@dataclass(frozen=True)
class Grant:
    environment: str
    principal: str  # a group's display name, an identity's name, or an object id
    kind: str  # Group | User | ServicePrincipal | unknown
    role: str
    scope: str
    write: bool
    eligible: bool = False  # PIM: just in time, not standing access
    source: str = ""  # the plan step or binding it comes from
    stated: bool = False  # eligible by the caller's word (configured in Entra ID), not the plan


def _flags(words: list[str]) -> dict[str, str]:
    flags = {}
    for i, word in enumerate(words):
        if word.startswith("--") and i + 1 < len(words) and not words[i + 1].startswith("--"):
            flags[word] = words[i + 1]
    return flags


def principal_name(value: str, lookups: Mapping) -> str:
    """A `$PLACEHOLDER` resolved to what its lookup names (`az ad group show --group NAME`,
    `az identity show --name NAME`); anything else as it is. A lookup is the az query, or an
    object with a `lookup` attribute (azplan's Placeholder)."""
    match = re.fullmatch(r"\$([A-Z][A-Z0-9_]*)", value)
    if not match or match[1] not in lookups:
        return value
    lookup = getattr(lookups[match[1]], "lookup", lookups[match[1]])
    if "signed-in-user" in lookup:
        return f"signed-in operator ({value})"
    words = shlex.split(lookup)
    flags = _flags(words)
    return flags.get("--group") or flags.get("--name") or flags.get("--display-name") or value


def _short_scope(scope: str) -> str:
    parts = scope.split("/")
    if "providers" in parts:
        tail = parts[parts.index("providers") + 1:]
        return "/".join(tail[1:]) if len(tail) > 1 else scope
    return scope


def grants(environment: str, steps: Iterable, lookups: Mapping | None = None,
           eligible: Iterable[object] = ()) -> list[Grant]:
    """Every grant the plan makes. `lookups` maps placeholder names to the az query that reads
    them (to name principals); `eligible` names principals whose access is PIM-eligible by
    configuration outside the plan (PIM for Groups is set in Entra ID, not with az): such
    grants are marked `stated`, and the verdict says to confirm them there."""
    lookups, pim = lookups or {}, {str(e) for e in eligible}
    stated = set(pim)
    found: list[Grant] = []
    for step in steps:
        words = shlex.split(step.command)
        flags = _flags(words)
        if words[:4] == ["az", "role", "assignment", "create"]:
            who = flags.get("--assignee-object-id") or flags.get("--assignee") or "?"
            name = principal_name(who, lookups)
            role = flags.get("--role", "?")
            found.append(Grant(environment, name, flags.get("--assignee-principal-type",
                                                            "unknown"),
                               role, _short_scope(flags.get("--scope", "?")),
                               role not in READ_ONLY_ROLES, name in pim or who in pim, step.id))
        elif words[:3] in (["az", "aks", "create"], ["az", "aks", "update"]) and \
                "--aad-admin-group-object-ids" in flags:
            for group in flags["--aad-admin-group-object-ids"].split(","):
                found.append(Grant(environment, group, "Group", ADMIN_GROUP_ROLE, "cluster",
                                   True, group in pim, step.id))
        elif words[:2] == ["az", "rest"] and "eligibilityschedulerequests" in step.command.lower():
            body = json.loads(flags.get("--body", "{}"))
            props = body.get("properties", body)
            who = props.get("groupId") or props.get("principalId") or "?"  # Graph: the group
            pim.add(principal_name(who, lookups))
    # eligibility may be requested after the assignment it covers: apply it to every grant
    return [Grant(**{**g.__dict__, "eligible": g.eligible or g.principal in pim,
                     "stated": g.principal in stated and g.principal not in pim - stated})
            for g in found]


def _binding_writes(role: Mapping) -> bool:
    return any(WRITE_VERBS & set(rule.get("verbs", ())) for rule in role.get("rules", ()))


def binding_grants(environment: str, objects: Iterable[Mapping]) -> list[Grant]:
    """Grants of Kubernetes RoleBindings and ClusterRoleBindings to groups and users (a binding
    to a role not among the objects counts as write)."""
    objects = list(objects)
    roles = {(o["kind"], o["metadata"]["name"]): o for o in objects
             if o.get("kind") in ("Role", "ClusterRole")}
    found = []
    for binding in objects:
        if binding.get("kind") not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        ref = binding["roleRef"]
        role = roles.get((ref["kind"], ref["name"]))
        scope = binding["metadata"].get("namespace", "cluster")
        for subject in binding.get("subjects") or ():
            if subject.get("kind") in HUMAN_KINDS:
                found.append(Grant(environment, subject["name"], subject["kind"],
                                   f"{ref['kind']}/{ref['name']}", f"namespace {scope}",
                                   role is None or _binding_writes(role),
                                   False, f"{binding['kind']}/{binding['metadata']['name']}"))
    return found


def rows(*grant_lists: Iterable[Grant]) -> list[dict[str, str]]:
    return [{"environment": g.environment, "principal": g.principal, "kind": g.kind,
             "role": g.role, "scope": g.scope, "access": "write" if g.write else "read",
             "how": ("eligible (PIM, set in Entra ID: confirm there)" if g.stated else
                     "eligible (PIM, just in time)" if g.eligible else "standing"),
             "from": g.source}
            for grants_ in grant_lists for g in grants_]


def boundary(dev: Iterable[Grant], prod: Iterable[Grant]) -> Verdict:
    """Pass only if no human has standing write access in prod, and dev and prod share no
    principal with write access (eligible access counts: the same people would get it)."""
    dev, prod = list(dev), list(prod)
    problems = []
    for g in prod:
        if g.write and not g.eligible and g.kind not in ("ServicePrincipal",):
            problems.append(f"prod: {g.kind.lower()} {g.principal} holds standing write access "
                            f"({g.role} at {g.scope}, {g.source}); give humans read roles and "
                            f"make admin access PIM-eligible")
    dev_writers = {g.principal for g in dev if g.write}
    for name in sorted(dev_writers & {g.principal for g in prod if g.write}):
        problems.append(f"dev and prod: {name} has write access in both; use one group or "
                        f"identity per environment")
    if not prod:
        problems.append("prod: the plan grants nothing, so there is nothing to judge")
    if problems:
        return Verdict(False, "environment boundary: FAIL — humans can change prod, or dev and "
                              "prod share a writer", tuple(problems))
    writers = sorted({f"{g.principal} ({'PIM-eligible' if g.eligible else g.kind})"
                      for g in prod if g.write})
    confirm = sorted({g.principal for g in prod if g.write and g.stated})
    note = (f" (PIM eligibility of {', '.join(confirm)} is configured in Entra ID, outside the "
            f"plan: confirm it there)" if confirm else "")
    return Verdict(True, f"environment boundary: pass — in prod only {', '.join(writers)} may "
                         f"write; no writer is shared with dev{note}")
