"""Checks for chapter 01 (overview): cluster-admin bindings, Services without endpoints,
images from registries other than your ACR and MCR."""

from __future__ import annotations

from aks_runbook.checks import Check, Finding, State, check, owner, resource

SYSTEM_PREFIX = "system:"


def _subject(subject: dict) -> str:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "ServiceAccount":
        return f"ServiceAccount {subject.get('namespace')}/{name}"
    return f"{kind} {name}"


@check("AKS-OV-001", "01-overview", "cluster-admin bound to a service account or user", 9.0,
       "kubescape C-0035, C-0185; CIS 4.1.1; checkov CKV_K8S_33 (dashboard)",
       "Delete the binding; grant a namespaced Role with only the verbs needed "
       "(kubectl delete clusterrolebinding NAME)")
def cluster_admin_bindings(state: State, me: Check) -> list[Finding]:
    findings = []
    for binding in state.objects.get("clusterrolebindings", []):
        if binding.get("roleRef", {}).get("name") != "cluster-admin":
            continue
        risky = [s for s in binding.get("subjects") or []
                 if not str(s.get("name", "")).startswith(SYSTEM_PREFIX)]
        if risky:
            findings.append(me.finding(resource(binding, "ClusterRoleBinding"), "fail",
                                       "cluster-admin for " + ", ".join(map(_subject, risky))))
    if not findings:
        findings.append(me.finding("ClusterRoleBinding/*", "pass",
                                   "cluster-admin is bound only to system subjects"))
    return findings


def ready_endpoints(slices: list[dict]) -> int:
    """Ready endpoints in EndpointSlices (a missing `ready` condition means ready)."""
    return sum(1 for s in slices for e in s.get("endpoints") or []
               if (e.get("conditions") or {}).get("ready", True))


def _ready_endpoints(state: State, namespace: str, service: str) -> int:
    return ready_endpoints([
        s for s in state.objects.get("endpointslices", [])
        if s["metadata"].get("namespace") == namespace
        and (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == service])


@check("AKS-OV-002", "01-overview", "Service selects no ready pod (no endpoints)", 5.0,
       "Popeye SVC-POD; kubectl describe shows Endpoints: <none>",
       "Fix the Service's selector to match the pods' labels (a wrong selector gives no error)")
def services_without_endpoints(state: State, me: Check) -> list[Finding]:
    findings = []
    for service in state.items("services"):
        meta, spec = service["metadata"], service.get("spec") or {}
        selector = spec.get("selector")
        if not selector or spec.get("type") == "ExternalName":
            continue  # endpoints managed by hand, or none by design
        ready = _ready_endpoints(state, meta["namespace"], meta["name"])
        wanted = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        if ready:
            findings.append(me.finding(resource(service, "Service"), "pass",
                                       f"{ready} ready endpoint(s) for {wanted}"))
        else:
            findings.append(me.finding(resource(service, "Service"), "fail",
                                       f"selector {wanted} matches no ready pod"))
    return findings


@check("AKS-OV-003", "01-overview", "Image from a registry other than your ACR or MCR", 5.0,
       "kubescape C-0078; Azure Policy 'allowed container images'",
       "Push the image to your ACR (az acr import) and reference it from there")
def allowed_registries(state: State, me: Check) -> list[Finding]:
    findings = []
    for pod in state.items("pods"):
        images = [c["image"] for c in (pod.get("spec") or {}).get("containers", [])]
        outside = [i for i in images if not any(i.startswith(r + "/")
                                                for r in state.allowed_registries)]
        where = owner(pod)
        if outside:
            findings.append(me.finding(where, "fail", "images " + ", ".join(sorted(outside))))
        else:
            findings.append(me.finding(where, "pass", "images " + ", ".join(sorted(images))))
    unique = {(f.resource, f.status): f for f in findings}
    return list(unique.values())
