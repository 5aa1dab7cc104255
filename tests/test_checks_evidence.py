"""What each check says, word for word, in small scenarios: the evidence is what a reader acts
on. Objects earlier in a scenario are the ones a check skips (system pods, Services without
exposure, bindings that grant nothing): the later ones must still be judged."""

from __future__ import annotations

import pytest

from aks_runbook import checks
from check_views import cluster_view, files_view


def found(objects: dict | None, ids: set[str], **state) -> set[tuple[str, str, str, str]]:
    return {(f.check, f.resource, f.status, f.evidence)
            for f in checks.run(checks.State(objects or {}, **state)) if f.check in ids}


# ---- Azure settings ---------------------------------------------------------------------------

AZURE = {"AKS-NET-001", "AKS-NET-002", "AKS-NET-003", "AKS-NET-004", "AKS-NET-009"}
AZURE_CASES = [
    ("restricted, overlay, firewall, one public pool",
     {"name": "aks1", "apiServerAccessProfile": {"authorizedIpRanges": ["131.107.0.0/16",
                                                                        "20.1.0.0/16"]},
      "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay",
                         "networkPolicy": "cilium", "outboundType": "userDefinedRouting"},
      "agentPoolProfiles": [{"name": "system"}, {"name": "user", "enableNodePublicIp": True}]},
     {("AKS-NET-001", "ManagedCluster/aks1", "pass",
       "authorized IP ranges 131.107.0.0/16, 20.1.0.0/16: IPv4 131,072 public addresses, not "
       "the Internet (more public addresses than a /8 (16,777,216 addresses) for IPv4 or a /32 "
       "(2**96 addresses) for IPv6 count as the Internet) (az aks show)"),
      ("AKS-NET-002", "ManagedCluster/aks1", "pass",
       "plugin azure overlay, policy cilium (az aks show)"),
      ("AKS-NET-003", "ManagedCluster/aks1", "pass",
       "outboundType userDefinedRouting (az aks show)"),
      ("AKS-NET-004", "AgentPool/system", "pass", "enableNodePublicIp false (az aks show)"),
      ("AKS-NET-004", "AgentPool/user", "fail", "enableNodePublicIp true (az aks show)"),
      ("AKS-NET-009", "ManagedCluster/aks1", "fail", "enablePrivateCluster false (az aks show)")}),
    ("open to everyone, kubenet, load balancer, no pools",
     {"name": "aks2", "apiServerAccessProfile": {"authorizedIpRanges": ["0.0.0.0/0", "::/0"]},
      "networkProfile": {"networkPlugin": "kubenet", "networkPolicy": "calico",
                         "outboundType": "loadBalancer"}},
     {("AKS-NET-001", "ManagedCluster/aks2", "fail",
       "authorized IP ranges 0.0.0.0/0, ::/0 admit the Internet: IPv4: 3,702,258,688 public "
       "addresses (100% of the public unicast space), more than a /8 (16,777,216 addresses); "
       "IPv6: about 2**125 public addresses (100% of the public unicast space), more than a /32 "
       "(2**96 addresses) (az aks show)"),
      ("AKS-NET-002", "ManagedCluster/aks2", "fail", "plugin kubenet, policy calico (az aks show)"),
      ("AKS-NET-003", "ManagedCluster/aks2", "fail", "outboundType loadBalancer (az aks show)"),
      ("AKS-NET-004", "ManagedCluster/aks2", "not-applicable",
       "no agentPoolProfiles in the configuration (az aks show)"),
      ("AKS-NET-009", "ManagedCluster/aks2", "fail", "enablePrivateCluster false (az aks show)")}),
    ("private, nothing else known",
     {"name": "aks3", "apiServerAccessProfile": {"enablePrivateCluster": True}},
     {("AKS-NET-001", "ManagedCluster/aks3", "not-applicable",
       "private cluster: no public endpoint to restrict (see AKS-NET-009) (az aks show)"),
      ("AKS-NET-002", "ManagedCluster/aks3", "fail", "plugin None, policy None (az aks show)"),
      ("AKS-NET-003", "ManagedCluster/aks3", "fail", "outboundType None (az aks show)"),
      ("AKS-NET-004", "ManagedCluster/aks3", "not-applicable",
       "no agentPoolProfiles in the configuration (az aks show)"),
      ("AKS-NET-009", "ManagedCluster/aks3", "pass", "enablePrivateCluster true (az aks show)")}),
    ("public without ranges", {"name": "aks4"},
     {("AKS-NET-001", "ManagedCluster/aks4", "fail",
       "no authorized IP ranges: the public API server is open to any address (az aks show)"),
      ("AKS-NET-002", "ManagedCluster/aks4", "fail", "plugin None, policy None (az aks show)"),
      ("AKS-NET-003", "ManagedCluster/aks4", "fail", "outboundType None (az aks show)"),
      ("AKS-NET-004", "ManagedCluster/aks4", "not-applicable",
       "no agentPoolProfiles in the configuration (az aks show)"),
      ("AKS-NET-009", "ManagedCluster/aks4", "fail", "enablePrivateCluster false (az aks show)")}),
]


def test_azure_network_policy_manager_passes_with_its_retirement_date():
    cluster = {"name": "a", "networkProfile": {"networkPlugin": "azure",
                                               "networkPolicy": "azure"}}
    assert found(None, {"AKS-NET-002"}, cluster=cluster, cluster_source="az aks show",
                 has_cluster=False) == {
        ("AKS-NET-002", "ManagedCluster/a", "pass",
         "plugin azure, policy azure (az aks show); Azure Network Policy Manager retires "
         "(Linux 2028-09-30, Windows 2026-09-30): migrate to Cilium")}


@pytest.mark.parametrize("cluster, expected", [c[1:] for c in AZURE_CASES],
                         ids=[c[0] for c in AZURE_CASES])
def test_azure_evidence(cluster, expected):
    state = {"cluster": cluster, "cluster_source": "az aks show", "has_cluster": False}
    assert found(None, AZURE, **state) == expected


# ---- Kubernetes objects -----------------------------------------------------------------------

def pod(name, namespace="app", labels=None, phase="Running", images=("mcr.microsoft.com/a:1",),
        init=(), owner=None):
    obj = {"kind": "Pod", "metadata": {"name": name, "namespace": namespace,
                                       "labels": labels or {}},
           "spec": {"containers": [{"name": f"c{i}", "image": image}
                                   for i, image in enumerate(images)],
                    "initContainers": [{"name": "i", "image": image} for image in init]},
           "status": {"phase": phase}}
    if owner:
        obj["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": owner}]
    return obj


def policy(name, namespace="app", selector=None, **spec):
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace},
            "spec": {"podSelector": selector or {}, **spec}}


def service(name, selector, **spec):
    return {"kind": "Service", "metadata": {"name": name, "namespace": "app"},
            "spec": {**({"selector": selector} if selector else {}), **spec}}


def ingress(name, backend, **spec):
    return {"kind": "Ingress", "metadata": {"name": name, "namespace": "app"},
            "spec": {"rules": [{"http": {"paths": [{"path": "/", "backend": {"service": {
                "name": backend, "port": {"number": 80}}}}]}}], **spec}}


def secret(name):
    return {"kind": "Secret", "metadata": {"name": name, "namespace": "app"}}


def binding(name, role, *subjects, namespace=None, role_kind="ClusterRole"):
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"kind": "RoleBinding" if namespace else "ClusterRoleBinding", "metadata": meta,
            "roleRef": {"kind": role_kind, "name": role}, "subjects": list(subjects)}


def slices(service_name, *ready):
    return {"kind": "EndpointSlice", "metadata": {
        "name": f"{service_name}-x", "namespace": "app",
        "labels": {"kubernetes.io/service-name": service_name}},
        "endpoints": [{"conditions": {"ready": r}} for r in ready]}


def deployment(name, labels):
    return {"kind": "Deployment", "metadata": {"name": name, "namespace": "app"},
            "spec": {"selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "mcr.microsoft.com/a"}]}}}}


ALL = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
JANE, DEV = {"kind": "User", "name": "jane"}, {"kind": "Group", "name": "dev"}


def without(kind, *objects):
    view = cluster_view(*objects)
    del view[kind]
    return view


CASES = [
    ("default deny undone, an open namespace, skipped pods first",
     {"AKS-NET-005", "AKS-NET-006"},
     cluster_view(pod("dns", "kube-system"), pod("done", phase="Succeeded"),
                  pod("web", labels={"app": "web"}), pod("api", labels={"app": "api"}),
                  pod("x", "open"), policy("deny-in", policyTypes=["Ingress"]),
                  policy("deny-out", policyTypes=["Egress"]), policy("allow-in", ingress=[{}]),
                  policy("api-out", selector={"matchLabels": {"app": "api"}},
                         policyTypes=["Egress"], egress=[{}])),
     {("AKS-NET-005", "Namespace/app", "fail",
       "ingress default deny (deny-in) is undone by allow-all allow-in (policies are additive) "
       "(4 policies in the namespace)"),
      ("AKS-NET-005", "Namespace/open", "fail",
       "no default deny for ingress; no default deny for egress (0 policies in the namespace)"),
      ("AKS-NET-006", "Pod/app/api", "fail",
       "ingress: allow-in allows all; egress: api-out allows all"),
      ("AKS-NET-006", "Pod/app/web", "fail", "ingress: allow-in allows all"),
      ("AKS-NET-006", "Pod/open/x", "fail",
       "ingress: no policy selects it; egress: no policy selects it")}),
    ("default deny in two policies", {"AKS-NET-005", "AKS-NET-006"},
     cluster_view(pod("db", "locked"), policy("deny-in", "locked", policyTypes=["Ingress"]),
                  policy("deny-out", "locked", policyTypes=["Egress"])),
     {("AKS-NET-005", "Namespace/locked", "pass", "default deny: deny-in, deny-out"),
      ("AKS-NET-006", "Pod/locked/db", "pass",
       "isolated for ingress and egress, no allow-all rule")}),
    ("pods not listed", {"AKS-NET-005", "AKS-NET-006", "AKS-NET-007", "AKS-OV-003"},
     without("pods", policy("deny")),
     {("AKS-NET-005", "Namespace/*", "not-applicable", "cannot judge: pods could not be listed"),
      ("AKS-NET-006", "Pod/*", "not-applicable", "cannot judge: pods could not be listed"),
      ("AKS-NET-007", "Pod/*", "not-applicable", "cannot judge: pods could not be listed"),
      ("AKS-OV-003", "Pod/*", "not-applicable", "cannot judge: pods could not be listed")}),
    ("policies not listed", {"AKS-NET-005", "AKS-NET-006"}, without("networkpolicies", pod("a")),
     {("AKS-NET-005", "Namespace/*", "not-applicable",
       "cannot judge: networkpolicies could not be listed"),
      ("AKS-NET-006", "Pod/*", "not-applicable",
       "cannot judge: networkpolicies could not be listed")}),
    ("services not listed", {"AKS-NET-007", "AKS-OV-002"}, without("services", pod("a")),
     {("AKS-NET-007", "Pod/*", "not-applicable", "cannot judge: services could not be listed"),
      ("AKS-OV-002", "Service/*", "not-applicable",
       "cannot judge: services could not be listed")}),
    ("ingresses not listed", {"AKS-NET-007", "AKS-NET-008"}, without("ingresses", pod("a")),
     {("AKS-NET-007", "Pod/*", "not-applicable", "cannot judge: ingresses could not be listed"),
      ("AKS-NET-008", "Ingress/*", "not-applicable",
       "cannot judge: ingresses could not be listed")}),
    ("exposure, an unexposed Service first", {"AKS-NET-007"},
     cluster_view(pod("web-1", labels={"app": "web"}, owner="web-7d4"),
                  pod("db", labels={"app": "db"}), service("internal", {"app": "db"}),
                  service("np", {"app": "web"}, type="NodePort"),
                  service("lb", {"app": "web"}, type="LoadBalancer"),
                  service("ghost", {"app": "none"}, type="LoadBalancer",
                          externalIPs=["203.0.113.9"]), ingress("public", "np")),
     {("AKS-NET-007", "Pod/app/db", "pass", "not exposed outside the cluster"),
      ("AKS-NET-007", "ReplicaSet/app/web-7d4", "fail",
       "exposed through Ingress public -> Service np; LoadBalancer Service lb; NodePort "
       "Service np"),
      ("AKS-NET-007", "Service/app/ghost", "fail",
       "exposed (LoadBalancer Service ghost; Service ghost externalIPs 203.0.113.9) but "
       "selects no pod")}),
    ("TLS, a plain Ingress first", {"AKS-NET-008"},
     cluster_view(ingress("a-plain", "s"),
                  ingress("b-default", "s", tls=[{"hosts": ["a.example.org", "b.example.org"]},
                                                 {}]),
                  ingress("c-absent", "s", tls=[{"secretName": "x1"}, {"secretName": "x2"},
                                                {"secretName": "ok"}]),
                  ingress("d-present", "s", tls=[{"secretName": "ok", "hosts": ["a"]},
                                                 {"secretName": "ok2"}]),
                  secret("ok"), secret("ok2")),
     {("AKS-NET-008", "Ingress/app/a-plain", "fail", "no tls section: plain HTTP only"),
      ("AKS-NET-008", "Ingress/app/b-default", "pass",
       "a.example.org, b.example.org: no secretName, the controller's default certificate; "
       "all hosts: no secretName, the controller's default certificate"),
      ("AKS-NET-008", "Ingress/app/c-absent", "fail",
       "tls Secret x1, x2 not found in namespace app"),
      ("AKS-NET-008", "Ingress/app/d-present", "pass", "tls Secret ok, ok2 present")}),
    ("TLS, Secrets not listed", {"AKS-NET-008"},
     without("secrets", ingress("e", "s", tls=[{"secretName": "x1"}, {"secretName": "x2"}])),
     {("AKS-NET-008", "Ingress/app/e", "not-applicable",
       "cannot judge: secrets could not be listed (tls Secret x1, x2)")}),
    ("bindings that grant nothing first", {"AKS-OV-001"},
     cluster_view({"kind": "Role", "metadata": {"name": "local", "namespace": "team"},
                   "rules": [ALL]},
                  binding("a-to-role", "local", JANE, role_kind="Role"),
                  binding("b-missing", "gone", JANE), binding("c-view", "view", JANE),
                  binding("d-admin", "cluster-admin", JANE, DEV),
                  binding("e-local", "local", JANE, namespace="team", role_kind="Role")),
     {("AKS-OV-001", "ClusterRoleBinding/d-admin", "fail",
       "cluster-admin for User jane, Group dev (cluster-wide)"),
      ("AKS-OV-001", "RoleBinding/team/e-local", "fail",
       "Role local (grants * on *) for User jane (in namespace team only)")}),
    ("no risky binding", {"AKS-OV-001"}, cluster_view(binding("c-view", "view", JANE)),
     {("AKS-OV-001", "Binding/*", "pass", "no binding gives cluster-admin or * on * beyond "
                                          "system:masters (1 bindings checked)")}),
    ("Services: skipped ones first", {"AKS-OV-002"},
     cluster_view(service("a-ext", {"app": "x"}, type="ExternalName"), service("b-none", None),
                  service("c-down", {"app": "web", "tier": "a"}), service("d-up", {"app": "web"}),
                  slices("d-up", True, False)),
     {("AKS-OV-002", "Service/app/c-down", "fail", "selector app=web,tier=a matches no ready pod"),
      ("AKS-OV-002", "Service/app/d-up", "pass", "1 ready endpoint(s) for app=web")}),
    ("images", {"AKS-OV-003"},
     cluster_view(pod("a", images=("mcr.microsoft.com/a:1", "nginx:1.27", "ghcr.io/x/y:2"),
                      init=("busybox",)),
                  pod("b", images=("mcr.microsoft.com/b:1", "mcr.microsoft.com/a:1"))),
     {("AKS-OV-003", "Pod/app/a", "fail", "images busybox (docker.io, init container), "
                                          "ghcr.io/x/y:2 (ghcr.io), nginx:1.27 (docker.io)"),
      ("AKS-OV-003", "Pod/app/b", "pass", "images mcr.microsoft.com/a:1, mcr.microsoft.com/b:1")}),
]


@pytest.mark.parametrize("ids, objects, expected", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_evidence(ids, objects, expected):
    assert found(objects, ids) == expected


def test_evidence_from_files(tmp_path):
    objects = files_view(tmp_path, binding("b-missing", "gone", JANE),
                         binding("r", "gone-role", JANE, namespace="team", role_kind="Role"),
                         deployment("web", {"app": "web"}), deployment("web2", {"app": "web"}),
                         service("s", {"app": "web"}), service("t", {"app": "nope"}))
    assert found(objects, {"AKS-OV-001", "AKS-OV-002"}, origin="files") == {
        ("AKS-OV-001", "ClusterRoleBinding/b-missing", "not-applicable",
         "ClusterRole gone is not among the files: cannot judge its rules"),
        ("AKS-OV-001", "RoleBinding/team/r", "not-applicable",
         "Role gone-role is not among the files: cannot judge its rules"),
        ("AKS-OV-002", "Service/app/s", "pass",
         "selector app=web matches Deployment/app/web, Deployment/app/web2 (from files: pod "
         "templates, readiness not known)"),
        ("AKS-OV-002", "Service/app/t", "fail",
         "selector app=nope matches no pod or pod template in the files")}
