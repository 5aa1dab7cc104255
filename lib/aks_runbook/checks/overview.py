"""Checks for chapter 01 (overview): who holds cluster-admin, Services without endpoints,
images from registries other than your ACR and MCR."""

from __future__ import annotations

from aks_runbook.analysis.rbac import BUILTIN_CLUSTER_ROLES
from aks_runbook.analysis.reachability import matches
from aks_runbook.checks import (
    CONTAINER_FIELDS,
    Check,
    Finding,
    State,
    check,
    field_of,
    owner,
    resource,
    selects,
)


def _subject(subject: dict) -> str:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "ServiceAccount":
        return f"ServiceAccount {subject.get('namespace')}/{name}"
    return f"{kind} {name}"


def grants_all(rule: dict) -> bool:
    """Every verb on every resource, of every API group or of the core group: what kubescape's
    C-0035 calls cluster-admin-equivalent."""
    return ("*" in (rule.get("verbs") or []) and "*" in (rule.get("resources") or [])
            and bool({"*", ""} & set(rule.get("apiGroups") or [])))


def admin_cluster_roles(roles: list[dict]) -> dict[str, str]:
    """ClusterRole name -> why it grants * on *, following aggregation: an aggregated role gets
    the rules of every ClusterRole its selectors match (the controller does this on a cluster;
    from files it has not happened yet). Aggregated roles may aggregate each other."""
    why = {r["metadata"]["name"]: "grants * on *" for r in roles
           if any(grants_all(rule) for rule in r.get("rules") or [])}
    aggregated = [r for r in roles
                  if (r.get("aggregationRule") or {}).get("clusterRoleSelectors")]
    changed = True
    while changed:
        changed = False
        for role in aggregated:
            name = role["metadata"]["name"]
            if name in why:
                continue
            selectors = role["aggregationRule"]["clusterRoleSelectors"]
            source = next((o["metadata"]["name"] for o in roles
                           if o["metadata"]["name"] in why and o["metadata"]["name"] != name
                           and any(matches(s, o["metadata"].get("labels") or {})
                                   for s in selectors)), None)
            if source:
                why[name] = f"aggregates {source}, which {why[source]}"
                changed = True
    return why


def _exempt(subject: dict, binding: dict, kind: str) -> bool:
    """The subjects that hold cluster-admin by design, as kubescape's system exceptions say:
    group system:masters (the built-in binding `cluster-admin`; it bypasses RBAC anyway) and,
    on AKS, the local admin user clusterAdmin in the binding AKS creates for it."""
    who = (subject.get("kind"), subject.get("name"))
    if who == ("Group", "system:masters"):
        return True
    return (who == ("User", "clusterAdmin") and kind == "ClusterRoleBinding"
            and binding["metadata"]["name"] == "aks-cluster-admin-binding")


ENTRA_ADMIN_BINDING = "aks-cluster-admin-binding-aad"
ENTRA_ADMIN_DOC = ("AKS creates it for the groups given with --aad-admin-group-object-ids: 'This "
                   "group is registered as an admin group on the cluster to grant admin "
                   "permissions' (Enable Microsoft Entra ID Authentication for the AKS Control "
                   "Plane); who joins them is governed in Entra ID (PIM)")


def _entra_admins(subject: dict, binding: dict, kind: str, admin_groups: set[str] | None
                  ) -> bool:
    """A group in the ClusterRoleBinding AKS-managed Entra ID keeps for the cluster's admin
    groups; when the configuration is known, only the groups it names (aadProfile
    .adminGroupObjectIDs): another group added to the binding is not AKS's doing."""
    return (kind == "ClusterRoleBinding" and binding["metadata"]["name"] == ENTRA_ADMIN_BINDING
            and subject.get("kind") == "Group"
            and (admin_groups is None or subject.get("name") in admin_groups))


@check("AKS-OV-001", "01-overview",
       "Subject holds cluster-admin or a role granting * on * (cluster-admin equivalent)", 9.0,
       "kubescape C-0035, C-0185; CIS 4.1.1",
       "Delete the binding; grant a namespaced Role with only the verbs needed "
       "(kubectl delete clusterrolebinding|rolebinding NAME)",
       differs="C-0185 looks only at ClusterRoleBindings to cluster-admin; this check also fails "
               "RoleBindings and custom or aggregated roles granting * on *, as C-0035 does. "
               "Exempt: group system:masters and AKS's clusterAdmin user (kubescape's AKS "
               "exceptions); every other system: subject, e.g. system:authenticated, fails. "
               "AKS's Entra admin groups in aks-cluster-admin-binding-aad pass with the reason "
               "(only the groups in aadProfile.adminGroupObjectIDs; not-applicable when the "
               "configuration is unknown)")
def cluster_admin_bindings(state: State, me: Check) -> list[Finding]:
    # The API server recreates missing built-in roles at start, so assume them when absent.
    cluster_roles = list(state.objects.get("clusterroles", []))
    defined = {r["metadata"]["name"] for r in cluster_roles}
    cluster_roles += [r for r in BUILTIN_CLUSTER_ROLES if r["metadata"]["name"] not in defined]
    admin = admin_cluster_roles(cluster_roles)
    known_cluster = {r["metadata"]["name"] for r in cluster_roles}
    roles = state.items("roles")
    admin_roles = {(r["metadata"]["namespace"], r["metadata"]["name"]): "grants * on *"
                   for r in roles if any(grants_all(rule) for rule in r.get("rules") or [])}
    known_roles = {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in roles}

    groups = field_of(state.cluster, "aadProfile.adminGroupObjectIDs")
    admin_groups = None if state.cluster is None else {str(g) for g in groups or []}
    findings: list[Finding] = []
    bindings = ([("ClusterRoleBinding", b) for b in state.objects.get("clusterrolebindings", [])]
                + [("RoleBinding", b) for b in state.items("rolebindings")])
    for kind, binding in bindings:
        ref = binding.get("roleRef") or {}
        name, namespace = ref.get("name"), binding["metadata"].get("namespace")
        if ref.get("kind") == "Role":
            if kind == "ClusterRoleBinding":
                continue  # the API server rejects it: it can grant only a ClusterRole
            why, known = admin_roles.get((namespace, name)), (namespace, name) in known_roles
        else:
            why, known = admin.get(name), name in known_cluster
        where = resource(binding, kind)
        if not known:
            if state.from_files:  # on a cluster a binding to a missing role grants nothing
                findings.append(me.finding(where, "not-applicable", f"{ref.get('kind')} {name} "
                                           "is not among the files: cannot judge its rules"))
            continue
        subjects = [s for s in binding.get("subjects") or [] if not _exempt(s, binding, kind)]
        by_design = [s for s in subjects if _entra_admins(s, binding, kind, admin_groups)]
        risky = [s for s in subjects if s not in by_design]
        if why is not None and by_design:
            held_by = ", ".join(map(_subject, by_design))
            if admin_groups is None:  # from files: whether these are the admin groups is unknown
                findings.append(me.finding(where, "not-applicable", f"cluster-admin for "
                                           f"{held_by}: whether these are the cluster's Entra "
                                           f"admin groups needs the cluster's configuration "
                                           f"(aadProfile.adminGroupObjectIDs). {ENTRA_ADMIN_DOC}"))
            else:
                findings.append(me.finding(where, "pass", f"cluster-admin for {held_by}, the "
                                           f"cluster's Entra admin groups: {ENTRA_ADMIN_DOC}"))
        if why is None or not risky:
            continue
        role = "cluster-admin" if name == "cluster-admin" else f"{ref.get('kind')} {name} ({why})"
        scope = f"in namespace {namespace} only" if kind == "RoleBinding" else "cluster-wide"
        findings.append(me.finding(where, "fail", f"{role} for "
                                   f"{', '.join(map(_subject, risky))} ({scope})"))
    missing = state.unlisted("clusterroles", "clusterrolebindings", "roles", "rolebindings")
    if missing:
        findings.append(me.not_listed("Binding/*", missing))
    elif not any(f.status in ("fail", "not-applicable") for f in findings):
        beyond = "system:masters" + (" and the Entra admin groups" if findings else "")
        findings.append(me.finding("Binding/*", "pass", "no binding gives cluster-admin or * on "
                                   f"* beyond {beyond} ({len(bindings)} bindings checked)"))
    return findings


def ready_endpoints(slices: list[dict]) -> int:
    """Ready endpoints in EndpointSlices (a missing `ready` condition means ready)."""
    return sum(1 for s in slices for e in s.get("endpoints") or []
               if (e.get("conditions") or {}).get("ready", True))


def _slices_by_service(state: State) -> dict[tuple[str, str], list[dict]]:
    found: dict[tuple[str, str], list[dict]] = {}
    for s in state.objects.get("endpointslices", []):
        service = (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
        found.setdefault((s["metadata"].get("namespace"), service), []).append(s)
    return found


def _pods_by_namespace(state: State) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for pod in state.items("pods"):
        found.setdefault(pod["metadata"]["namespace"], []).append(pod)
    return found


@check("AKS-OV-002", "01-overview", "Service selects no ready pod (no endpoints)", 5.0,
       "Popeye SVC-POD; kubectl describe shows Endpoints: <none>",
       "Fix the Service's selector to match the pods' labels (a wrong selector gives no error)",
       differs="From files there are no EndpointSlices: the selector is judged against the pods "
               "and pod templates in the files, and readiness is not known",
       reads=("services", "endpointslices"))
def services_without_endpoints(state: State, me: Check) -> list[Finding]:
    slices = _slices_by_service(state)
    pods = _pods_by_namespace(state)
    findings = []
    for service in state.items("services"):
        meta, spec = service["metadata"], service.get("spec") or {}
        selector = spec.get("selector")
        if not selector or spec.get("type") == "ExternalName":
            continue  # endpoints managed by hand, or none by design
        wanted = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        where = resource(service, "Service")
        if state.from_files:
            owners = sorted({owner(p) for p in pods.get(meta["namespace"], [])
                             if selects(selector, p["metadata"].get("labels") or {})})
            if owners:
                findings.append(me.finding(where, "pass", f"selector {wanted} matches "
                                           f"{', '.join(owners)} (from files: pod templates, "
                                           "readiness not known)"))
            else:
                findings.append(me.finding(where, "fail", f"selector {wanted} matches no pod or "
                                           "pod template in the files"))
            continue
        ready = ready_endpoints(slices.get((meta["namespace"], meta["name"]), []))
        if ready:
            findings.append(me.finding(where, "pass", f"{ready} ready endpoint(s) for {wanted}"))
        else:
            findings.append(me.finding(where, "fail", f"selector {wanted} matches no ready pod"))
    return findings


def registry_path(image: str) -> str:
    """The image with its registry host made explicit. The first path part is a host only when
    it has a dot or a port or is localhost; otherwise the image is on Docker Hub."""
    first, slash, _ = image.partition("/")
    if not slash:
        return f"docker.io/library/{image}"
    if "." in first or ":" in first or first == "localhost":
        return image
    return f"docker.io/{image}"


def allowed_image(image: str, registries: tuple[str, ...]) -> bool:
    """From one of these registries (or registry paths): the prefix must end at a `/`, so
    mcr.microsoft.com.evil.io/x is not from mcr.microsoft.com."""
    full = registry_path(image)
    return any(full.startswith(r.rstrip("/") + "/") for r in registries)




def images(pod: dict) -> list[tuple[str, str]]:
    """(image, what runs it) for every container of the pod, init and ephemeral ones too."""
    spec = pod.get("spec") or {}
    return [(c.get("image") or "", label) for key, label in CONTAINER_FIELDS
            for c in spec.get(key) or []]


@check("AKS-OV-003", "01-overview", "Image from a registry other than your ACR or MCR", 5.0,
       "kubescape C-0078; CIS AKS 5.1.4; Azure Policy 'allowed container images'"
       "; AKS checklist 55b46a94-8008-4ae7-b7e4-b475b6c8bdbf",
       "Push the image to your ACR (az acr import) and reference it from there",
       differs="C-0078 reads only `containers`; this check also reads initContainers and "
               "ephemeralContainers. An image without a registry host (nginx) is Docker Hub's",
       reads=("pods",))
def allowed_registries(state: State, me: Check) -> list[Finding]:
    findings = []
    for pod in state.items("pods"):
        used = images(pod)
        outside = sorted({f"{image} ({registry_path(image).split('/')[0]}"
                          + (f", {label})" if label else ")")
                          for image, label in used
                          if not allowed_image(image, state.allowed_registries)})
        if outside:
            findings.append(me.finding(owner(pod), "fail", "images " + ", ".join(outside)))
        else:
            findings.append(me.finding(owner(pod), "pass",
                                       "images " + ", ".join(sorted({i for i, _ in used}))))
    unique = {(f.resource, f.status, f.evidence): f for f in findings}
    return list(unique.values())
