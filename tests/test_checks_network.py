"""Chapter 02 checks against the public controls they cite. Cases named `C-xxxx <case>` mirror
the published test cases of the control's rule in kubescape/regolibrary, recreated as small
objects: C-0247 restrict-access-to-the-control-plane-endpoint, C-0248
ensure-clusters-are-created-with-private-nodes, C-0240 rule-cni-enabled-aks, C-0206
internal-networking, C-0260 ensure_network_policy_configured_in_labels, C-0030
ingress-and-egress-blocked, C-0256 exposure-to-internet, C-0263 ingress-no-tls."""

from __future__ import annotations

import pytest

from aks_runbook import checks
from aks_runbook.checks.network import policy_types
from check_views import cluster_view, files_view


def findings(check_id: str, state: checks.State) -> list[checks.Finding]:
    return [f for f in checks.run(state) if f.check == check_id]


def verdicts(check_id: str, objects: dict, **state) -> dict[str, str]:
    return {f.resource: f.status for f in findings(check_id, checks.State(objects, **state))}


# ---- Azure settings ---------------------------------------------------------------------------

def azure(check_id: str, cluster: dict) -> str:
    state = checks.State(cluster={"name": "aks1", **cluster}, cluster_source="az aks show",
                         has_cluster=False)
    [found] = findings(check_id, state)
    return found.status


def access(**profile) -> dict:
    return {"apiServerAccessProfile": profile}


API_CASES = [
    # (case, cluster, AKS-NET-001 authorized ranges, AKS-NET-009 private cluster)
    ("C-0247 failed / C-0248 failed: no access profile", {}, "fail", "fail"),
    ("C-0247 success: ranges on a private cluster",
     access(authorizedIPRanges=["10.0.0.1", "10.0.0.2"], enablePrivateCluster=True), "pass",
     "pass"),
    ("C-0248 success: private, no ranges", access(enablePrivateCluster=True), "not-applicable",
     "pass"),
    ("public with ranges", access(authorizedIpRanges=["131.107.0.0/16"]), "pass", "fail"),
    ("public, enablePrivateCluster null", access(enablePrivateCluster=None), "fail", "fail"),
    ("public, enablePrivateCluster false", access(enablePrivateCluster=False), "fail", "fail"),
    ("0.0.0.0/0 is no restriction", access(authorizedIpRanges=["0.0.0.0/0"]), "fail", "fail"),
    ("0.0.0.0/0 beside a real range", access(authorizedIpRanges=["10.0.0.0/8", "0.0.0.0/0"]),
     "fail", "fail"),
    ("::/0 is no restriction", access(authorizedIpRanges=["::/0"]), "fail", "fail"),
    ("0.0.0.0/1 is half the Internet", access(authorizedIpRanges=["0.0.0.0/1"]), "fail",
     "fail"),
    ("not a range", access(authorizedIpRanges=["everyone"]), "fail", "fail"),
    ("empty list", access(authorizedIpRanges=[]), "fail", "fail"),
    ("null list", access(authorizedIpRanges=None), "fail", "fail"),
]


@pytest.mark.parametrize("cluster, ranges, private", [c[1:] for c in API_CASES],
                         ids=[c[0] for c in API_CASES])
def test_api_server_ranges_and_private_cluster_are_separate_checks(cluster, ranges, private):
    assert (azure("AKS-NET-001", cluster), azure("AKS-NET-009", cluster)) == (ranges, private)


def test_api_server_checks_cite_their_own_ids():
    state = checks.State(cluster={"name": "a"}, has_cluster=False)
    [ranges], [private] = findings("AKS-NET-001", state), findings("AKS-NET-009", state)
    assert ranges.public_ids == ("kubescape C-0247; checkov CKV_AZURE_6; CIS AKS 5.4.1; "
                                 "AKS checklist c4581559-bb91-463e-a908-aed8c44ce3b2")
    assert private.public_ids == ("kubescape C-0248; checkov CKV_AZURE_115; CIS AKS 5.4.3; "
                                  "AKS checklist ecccd979-3b6b-4cda-9b50-eb2eb03dda6d")
    assert "0.0.0.0/0" in ranges.differs


def network(plugin, policy) -> dict:
    return {"networkProfile": {"networkPlugin": plugin, "networkPolicy": policy}}


CNI_CASES = [
    ("C-0240 aks-azure-azure-pass", network("azure", "azure"), "pass"),
    ("C-0240 aks-calico-azure-pass", network("azure", "calico"), "pass"),
    ("C-0240 aks-calico-kubenet-pass (differs: kubenet fails here)", network("kubenet", "calico"),
     "fail"),
    ("C-0240 aks-empty-fail", network("kubenet", None), "fail"),
    ("C-0240 aks-kubenet-null-fail", {"networkProfile": {"networkPlugin": "kubenet"}}, "fail"),
    ("cilium (differs: C-0240 fails it)", network("azure", "cilium"), "pass"),
    ("policy none (CKV_AZURE_7 would pass)", network("azure", "none"), "fail"),
    ("bring your own CNI", network("none", None), "fail"),
]


@pytest.mark.parametrize("cluster, expected", [c[1:] for c in CNI_CASES],
                         ids=[c[0] for c in CNI_CASES])
def test_cni_and_policy_engine(cluster, expected):
    assert azure("AKS-NET-002", cluster) == expected


def test_cni_difference_is_stated():
    [found] = findings("AKS-NET-002", checks.State(cluster={}, has_cluster=False))
    assert "cilium" in found.differs and "C-0240" in found.differs


def test_no_node_pools_is_not_a_pass():
    assert azure("AKS-NET-004", {"agentPoolProfiles": []}) == "not-applicable"


# ---- NetworkPolicies --------------------------------------------------------------------------

def pod(name: str, namespace: str = "app", labels: dict | None = None, phase: str = "Running"):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace,
                                        "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": "mcr.microsoft.com/a"}]},
            "status": {"phase": phase}}


def policy(name: str, namespace: str = "app", selector: dict | None = None, **spec) -> dict:
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace},
            "spec": {"podSelector": selector or {}, **spec}}


DENY_ALL = policy("deny", policyTypes=["Ingress", "Egress"])
ALLOW_ALL_IN = policy("allow-in", ingress=[{}])
ALLOW_ALL_OUT = policy("allow-out", policyTypes=["Egress"], egress=[{}])
WEB = pod("web", labels={"app": "web"})

NAMESPACE_CASES = [
    # (case, objects, AKS-NET-005 verdict for Namespace/app)
    ("no policies", [WEB], "fail"),
    ("default deny for both directions (C-0030 default-policy)", [WEB, DENY_ALL], "pass"),
    ("deny-all beside allow-all ingress", [WEB, DENY_ALL, ALLOW_ALL_IN], "fail"),
    ("deny-all beside allow-all egress", [WEB, DENY_ALL, ALLOW_ALL_OUT], "fail"),
    ("deny-all beside allow from every namespace",
     [WEB, DENY_ALL, policy("all-pods", ingress=[{"from": [{"namespaceSelector": {}}]}])], "fail"),
    ("deny-all beside allow from 0.0.0.0/0",
     [WEB, DENY_ALL, policy("world", ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}])],
     "fail"),
    ("deny-all beside 0.0.0.0/0 except 10.0.0.0/8: still the whole Internet",
     [WEB, DENY_ALL, policy("internet", policyTypes=["Egress"], egress=[{"to": [{"ipBlock": {
         "cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}])], "fail"),
    ("deny-all beside allow-all on one port",
     [WEB, DENY_ALL, policy("https", ingress=[{"ports": [{"port": 443}]}])], "pass"),
    ("deny-all beside allow-all of one pod", [WEB, DENY_ALL, policy(
        "web-open", selector={"matchLabels": {"app": "web"}}, ingress=[{}])], "pass"),
    ("egress: [] without policyTypes is ingress-only",
     [WEB, policy("deny", egress=[])], "fail"),
    ("egress: null without policyTypes is ingress-only",
     [WEB, policy("deny", egress=None)], "fail"),
    ("policyTypes [] is defaulted", [WEB, policy("deny", policyTypes=[], egress=[])], "fail"),
    ("deny ingress and deny egress in two policies",
     [WEB, policy("in", policyTypes=["Ingress"]), policy("out", policyTypes=["Egress"])], "pass"),
    ("matchLabels {} selects every pod", [WEB, policy("deny", selector={"matchLabels": {}},
                                                      policyTypes=["Ingress", "Egress"])], "pass"),
    ("C-0030 only-egress-policy (C-0030 passes; no ingress deny here)",
     [WEB, policy("deny", policyTypes=["Egress"])], "fail"),
    ("C-0206 namespace-failed: the only policy is in another namespace",
     [WEB, policy("np", "default", {"matchLabels": {"purpose": "x"}}, egress=[
         {"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"port": 5978}]}])], "fail"),
    ("C-0206 namespace-passed (differs: any policy is not a default deny)",
     [WEB, policy("np", "app", {"matchLabels": {"purpose": "x"}}, egress=[
         {"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"port": 5978}]}])], "fail"),
]


@pytest.mark.parametrize("objects, expected", [c[1:] for c in NAMESPACE_CASES],
                         ids=[c[0] for c in NAMESPACE_CASES])
def test_default_deny(objects, expected):
    assert verdicts("AKS-NET-005", cluster_view(*objects)) == {"Namespace/app": expected}


def test_allow_all_evidence_says_policies_are_additive():
    [found] = findings("AKS-NET-005", checks.State(cluster_view(WEB, DENY_ALL, ALLOW_ALL_IN)))
    assert "allow-in" in found.evidence and "additive" in found.evidence


POD_CASES = [
    # (case, objects, AKS-NET-006 verdict for the pod)
    ("C-0260 failed_pod_no_networkpolicy / C-0030 pod", [pod("mypod")], "fail"),
    ("C-0260 failed_pod_no_matched_label",
     [pod("mypod", labels={"app": "my-pod"}),
      policy("np", selector={"matchLabels": {"app": "my-pod1"}}, ingress=[
          {"ports": [{"protocol": "TCP", "port": 8080}]}])], "fail"),
    ("C-0260 success_pod_label_match (differs: ingress only, egress not isolated)",
     [pod("mypod", labels={"app": "my-pod"}),
      policy("np", selector={"matchLabels": {"app": "my-pod"}}, ingress=[
          {"ports": [{"protocol": "TCP", "port": 8080}]}])], "fail"),
    ("C-0260 success_pod_no_pod_selector (differs: ingress only)",
     [pod("mypod", labels={"app": "my-pod"}),
      policy("np", ingress=[{"ports": [{"protocol": "TCP", "port": 8080}]}])], "fail"),
    ("C-0030 default-policy", [pod("mypod"), DENY_ALL], "pass"),
    ("C-0030 only-egress-policy (differs: C-0030 passes it)",
     [pod("mypod"), policy("deny", policyTypes=["Egress"])], "fail"),
    ("isolated both ways by rules, no allow-all",
     [pod("mypod", labels={"app": "my-pod"}), policy(
         "np", selector={"matchLabels": {"app": "my-pod"}}, policyTypes=["Ingress", "Egress"],
         ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "front"}}}]}],
         egress=[{"to": [{"podSelector": {}}], "ports": [{"port": 53, "protocol": "UDP"}]}])],
     "pass"),
    ("deny-all beside allow-all", [pod("mypod"), DENY_ALL, ALLOW_ALL_IN], "fail"),
    ("deny-all beside allow-all of this pod only",
     [pod("mypod", labels={"app": "web"}), DENY_ALL,
      policy("web-open", selector={"matchLabels": {"app": "web"}}, ingress=[{}])], "fail"),
    ("a port entry without a port opens all ports of its protocol",
     [pod("mypod"), DENY_ALL, policy("tcp", ingress=[{"ports": [{"protocol": "TCP"}]}])], "fail"),
    ("egress: [] without policyTypes leaves egress open",
     [pod("mypod"), policy("deny", egress=[])], "fail"),
    ("a policy of another namespace selects nothing here",
     [pod("mypod"), policy("deny", "other", policyTypes=["Ingress", "Egress"])], "fail"),
    ("matchExpressions select", [pod("mypod", labels={"tier": "db"}), policy(
        "db", selector={"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]},
        policyTypes=["Ingress", "Egress"])], "pass"),
]


@pytest.mark.parametrize("objects, expected", [c[1:] for c in POD_CASES],
                         ids=[c[0] for c in POD_CASES])
def test_pod_isolation(objects, expected):
    assert verdicts("AKS-NET-006", cluster_view(*objects)) == {"Pod/app/mypod": expected}


def test_c0260_deployments_from_files(tmp_path):
    """C-0260 failed_deployment_no_matched_label and success_deployment_label_match (an
    ingress-only policy: C-0260 passes it, this check wants egress isolated too)."""
    def deployment(name, labels):
        return {"kind": "Deployment", "metadata": {"name": name, "namespace": "app"},
                "spec": {"template": {"metadata": {"labels": labels},
                                      "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
    ingress_only = [{"ports": [{"protocol": "TCP", "port": 8080}]}]
    objects = files_view(tmp_path, deployment("unmatched", {"app": "my-app"}),
                         deployment("matched", {"app": "my-pod1"}),
                         policy("np", selector={"matchLabels": {"app": "my-pod1"}},
                                ingress=ingress_only))
    assert verdicts("AKS-NET-006", objects, origin="files") == {
        "Deployment/app/unmatched": "fail", "Deployment/app/matched": "fail"}
    found = findings("AKS-NET-006", checks.State(objects, origin="files"))
    assert {f.evidence for f in found} == {"ingress: no policy selects it; egress: no policy "
                                           "selects it", "egress: no policy selects it"}


def test_finished_and_system_pods_are_not_judged():
    objects = cluster_view(pod("done", phase="Succeeded"), pod("dns", "kube-system"))
    assert verdicts("AKS-NET-006", objects) == {}
    assert verdicts("AKS-NET-005", objects) == {}


def namespace(name: str) -> dict:
    return {"kind": "Namespace", "metadata": {"name": name}}


def test_an_empty_namespace_is_judged_as_kubescape_c0206_does(tmp_path):
    """C-0206 namespace-failed: Namespace test holds no pod and no policy (the only policy is in
    default, which the files thereby name too): test fails, its first pod would run
    unisolated; default passes. System namespaces stay out."""
    objects = files_view(tmp_path, namespace("test"), namespace("kube-system"),
                         policy("deny", "default", policyTypes=["Ingress", "Egress"]))
    assert verdicts("AKS-NET-005", objects, origin="files") == {
        "Namespace/test": "fail", "Namespace/default": "pass"}


def test_every_listed_namespace_is_judged_within_the_namespaces_asked_for():
    objects = cluster_view(namespace("app"), namespace("empty"), namespace("kube-public"), WEB,
                           DENY_ALL)
    assert verdicts("AKS-NET-005", objects) == {"Namespace/app": "pass", "Namespace/empty": "fail"}
    assert verdicts("AKS-NET-005", objects, namespaces=("app",)) == {"Namespace/app": "pass"}
    # a namespace asked for that does not exist is not judged
    assert verdicts("AKS-NET-005", objects, namespaces=("app", "absent")) == {
        "Namespace/app": "pass"}
    # an attendee cannot list namespaces: the namespaces their pods run in are still judged
    del objects["namespaces"]
    assert verdicts("AKS-NET-005", objects) == {"Namespace/app": "pass"}


@pytest.mark.parametrize("check_id", ["AKS-NET-005", "AKS-NET-006"])
def test_unlisted_policies_never_pass(check_id):
    objects = cluster_view(WEB, DENY_ALL)
    del objects["networkpolicies"]
    assert set(verdicts(check_id, objects).values()) == {"not-applicable"}


@pytest.mark.parametrize("spec, types", [
    ({}, {"Ingress"}), ({"egress": []}, {"Ingress"}), ({"egress": None}, {"Ingress"}),
    ({"egress": [{}]}, {"Ingress", "Egress"}), ({"policyTypes": ["Egress"]}, {"Egress"}),
    ({"policyTypes": [], "egress": [{}]}, {"Ingress", "Egress"}),
])
def test_policy_types_default_as_the_api_server_does(spec, types):
    assert policy_types({"spec": spec}) == types


# ---- exposure and TLS -------------------------------------------------------------------------

def deployment(name: str, labels: dict, namespace: str = "default") -> dict:
    return {"kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "argo-server", "image": "argoproj/argocli"}]}}}}


def service(name: str, selector: dict, namespace: str = "default", annotations=None, **spec):
    return {"kind": "Service", "metadata": {"name": name, "namespace": namespace,
                                            "annotations": annotations or {}},
            "spec": {"selector": selector, "ports": [{"port": 80}], **spec}}


def ingress(name: str, backend: str, namespace: str = "default", **spec) -> dict:
    return {"kind": "Ingress", "metadata": {"name": name, "namespace": namespace},
            "spec": {"rules": [{"host": "a.example.org", "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": backend, "port": {"number": 80}}}}]}}], **spec}}


APP = {"app": "my-app"}
EXPOSURE_CASES = [
    ("C-0256 failed_with_ingress", [deployment("my-app", APP), service("my-service", APP),
                                    ingress("my-ingress", "my-service")],
     {"Deployment/default/my-app": "fail"}),
    ("C-0256 success_with_ingress: the Ingress routes elsewhere",
     [deployment("my-app", APP), service("my-service", APP), ingress("my-ingress", "my-service-b")],
     {"Deployment/default/my-app": "pass"}),
    ("C-0256 failed_with_service_loadbalancer",
     [deployment("my-app", {"app": "argo-server"}),
      service("my-service", {"app": "argo-server"}, type="LoadBalancer")],
     {"Deployment/default/my-app": "fail"}),
    ("C-0256 failed_with_service_nodeport (its other Service selects no pod: fails here)",
     [deployment("my-app", {"app": "argo-server"}, "ns1"),
      service("my-service", {"app": "argo-server"}, "ns1", type="NodePort"),
      service("my-service2", {"app": "argo-server"}, "ns2", type="NodePort")],
     {"Deployment/ns1/my-app": "fail", "Service/ns2/my-service2": "fail"}),
    ("C-0256 detect_with_ingress: an Ingress with several rules",
     [deployment("backend", {"app": "api", "tier": "backend"}, "api"),
      service("api-be", {"app": "api", "tier": "backend"}, "api"),
      ingress("api-ig", "other", "api", rules=[{"host": h, "http": {"paths": [{"path": "/",
              "backend": {"service": {"name": s, "port": {"number": 80}}}}]}}
              for h, s in (("a.example.com", "api-be"), ("b.example.com", "wss-be"))])],
     {"Deployment/api/backend": "fail"}),
    ("internal Azure load balancer (differs: C-0256 fails it)",
     [deployment("my-app", APP), service("lb", APP, type="LoadBalancer", annotations={
         "service.beta.kubernetes.io/azure-load-balancer-internal": "true"})],
     {"Deployment/default/my-app": "pass"}),
    ("ClusterIP with externalIPs", [deployment("my-app", APP),
                                    service("ext", APP, externalIPs=["203.0.113.7"])],
     {"Deployment/default/my-app": "fail"}),
    ("an Ingress's default backend",
     [deployment("my-app", APP), service("my-service", APP), {
         "kind": "Ingress", "metadata": {"name": "catch-all", "namespace": "default"},
         "spec": {"defaultBackend": {"service": {"name": "my-service", "port": {"number": 80}}}}}],
     {"Deployment/default/my-app": "fail"}),
    ("an Ingress of another namespace",
     [deployment("my-app", APP), service("my-service", APP), ingress("i", "my-service", "other")],
     {"Deployment/default/my-app": "pass"}),
    ("a plain ClusterIP", [deployment("my-app", APP), service("my-service", APP)],
     {"Deployment/default/my-app": "pass"}),
]


@pytest.mark.parametrize("objects, expected", [c[1:] for c in EXPOSURE_CASES],
                         ids=[c[0] for c in EXPOSURE_CASES])
def test_exposure(tmp_path, objects, expected):
    assert verdicts("AKS-NET-007", files_view(tmp_path, *objects), origin="files") == expected


def replica(labels: dict) -> dict:
    running = pod("web-7d4-abcde", "default", labels)
    running["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "web-7d4"}]
    return running


@pytest.mark.parametrize("exposure", [
    [service("web", APP, type="NodePort")],
    [service("web", APP), ingress("public", "web")],
    [service("web", APP, externalIPs=["203.0.113.7"])],
], ids=["NodePort", "ClusterIP behind an Ingress", "ClusterIP with externalIPs"])
def test_exposure_on_a_cluster_reports_the_replicaset(exposure):
    objects = cluster_view(replica(APP), *exposure)
    assert verdicts("AKS-NET-007", objects) == {"ReplicaSet/default/web-7d4": "fail"}
    del objects["ingresses"]
    assert verdicts("AKS-NET-007", objects) == {"Pod/*": "not-applicable"}


def tls_ingress(tls) -> dict:
    return ingress("example-ingress-tls", "example-service", tls=tls)


SECRET = {"kind": "Secret", "type": "kubernetes.io/tls",
          "metadata": {"name": "example-tls-secret", "namespace": "default"}}
TLS = [{"hosts": ["example.com"], "secretName": "example-tls-secret"}]
# (case, objects, verdict on a cluster, verdict from files)
TLS_CASES = [
    ("C-0263 failed_with_ingress: no tls", [ingress("my-ingress", "my-service")], "fail", "fail"),
    ("C-0263 success_with_ingress, its Secret present", [tls_ingress(TLS), SECRET], "pass",
     "pass"),
    ("C-0263 success_with_ingress as published, no Secret (on a cluster: the controller's "
     "default certificate; from files: not known)", [tls_ingress(TLS)], "fail", "pass"),
    ("the Secret in another namespace",
     [tls_ingress(TLS), {**SECRET, "metadata": {"name": "example-tls-secret",
                                                "namespace": "other"}}], "fail", "fail"),
    ("tls: [] (differs: C-0263 passes it)", [tls_ingress([])], "fail", "fail"),
    ("tls entry without secretName (as C-0263: passes)", [tls_ingress([{"hosts": ["a"]}])],
     "pass", "pass"),
    ("one of two Secrets missing",
     [tls_ingress([*TLS, {"hosts": ["b"], "secretName": "gone"}]), SECRET], "fail", "pass"),
]


@pytest.mark.parametrize("objects, expected", [c[1:3] for c in TLS_CASES],
                         ids=[c[0] for c in TLS_CASES])
def test_ingress_tls_from_a_cluster(objects, expected):
    assert verdicts("AKS-NET-008", cluster_view(*objects)) == {
        f"Ingress/default/{objects[0]['metadata']['name']}": expected}


@pytest.mark.parametrize("objects, expected", [(c[1], c[3]) for c in TLS_CASES],
                         ids=[c[0] for c in TLS_CASES])
def test_ingress_tls_from_files(tmp_path, objects, expected):
    found = verdicts("AKS-NET-008", files_view(tmp_path, *objects), origin="files")
    assert found == {f"Ingress/default/{objects[0]['metadata']['name']}": expected}


def test_default_certificate_and_missing_secret_evidence(tmp_path):
    [default_cert] = findings("AKS-NET-008", checks.State(cluster_view(tls_ingress([{}]))))
    assert "default certificate" in default_cert.evidence
    [absent] = findings("AKS-NET-008", checks.State(files_view(tmp_path, tls_ingress(TLS)),
                                                    origin="files"))
    assert absent.evidence == ("tls Secret example-tls-secret not among the files (whether it "
                               "exists is known only on a cluster)")
    two = tls_ingress([*TLS, {"hosts": ["b"], "secretName": "gone"}])
    [partly] = findings("AKS-NET-008", checks.State(files_view(tmp_path, two, SECRET),
                                                    origin="files"))
    assert partly.evidence == ("tls Secret example-tls-secret present; tls Secret gone not "
                               "among the files (whether it exists is known only on a cluster)")
    wrong = {**SECRET, "metadata": {"name": "example-tls-secret", "namespace": "other"}}
    [elsewhere] = findings("AKS-NET-008", checks.State(
        files_view(tmp_path, tls_ingress(TLS), wrong), origin="files"))
    assert elsewhere.evidence == ("tls Secret example-tls-secret (in other) not in namespace "
                                  "default, the only one an Ingress reads")


def test_unlisted_secrets_never_pass():
    objects = cluster_view(tls_ingress(TLS), SECRET)
    del objects["secrets"]
    assert verdicts("AKS-NET-008", objects) == {
        "Ingress/default/example-ingress-tls": "not-applicable"}


# ---- added for mutation testing: a policy with rules is not a default deny ---------------------

def test_a_namespace_wide_policy_with_rules_is_not_a_default_deny():
    rules = policy("allow-front", policyTypes=["Ingress", "Egress"],
                   ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "front"}}}]}],
                   egress=[{"to": [{"podSelector": {}}], "ports": [{"port": 53,
                                                                    "protocol": "UDP"}]}])
    [found] = findings("AKS-NET-005", checks.State(cluster_view(WEB, rules)))
    assert found.status == "fail"
    assert found.evidence == ("no default deny for ingress; no default deny for egress "
                              "(1 policies in the namespace)")
    egress_rules = policy("deny-in", policyTypes=["Ingress", "Egress"],
                          egress=[{"to": [{"podSelector": {}}]}])
    [found] = findings("AKS-NET-005", checks.State(cluster_view(WEB, egress_rules)))
    assert found.evidence.startswith("no default deny for egress")
    [found] = findings("AKS-NET-005", checks.State(cluster_view(WEB, DENY_ALL)))
    assert (found.status, found.evidence) == ("pass", "default deny: deny")


PEERS_THAT_ARE_NOT_EVERYONE = [
    ("pods of the policy's namespace only", {"podSelector": {}}),
    ("namespaces with a label", {"namespaceSelector": {"matchLabels": {"team": "a"}}}),
    ("namespaces by expression", {"namespaceSelector": {"matchExpressions": [
        {"key": "team", "operator": "Exists"}]}}),
    ("some pods of every namespace",
     {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "x"}}}),
    ("pods by expression in every namespace",
     {"namespaceSelector": {}, "podSelector": {"matchExpressions": [
         {"key": "app", "operator": "Exists"}]}}),
    ("an ipBlock that is not a CIDR", {"ipBlock": {"cidr": "everyone"}}),
    ("an ipBlock without a CIDR", {"ipBlock": {}}),
]


@pytest.mark.parametrize("peer", [c[1] for c in PEERS_THAT_ARE_NOT_EVERYONE],
                         ids=[c[0] for c in PEERS_THAT_ARE_NOT_EVERYONE])
def test_a_rule_for_some_peers_keeps_the_default_deny(peer):
    some = policy("some", ingress=[{"from": [peer]}])
    objects = cluster_view(WEB, DENY_ALL, some)
    assert verdicts("AKS-NET-005", objects) == {"Namespace/app": "pass"}
    assert verdicts("AKS-NET-006", objects) == {"Pod/app/web": "pass"}


def test_the_whole_address_space_with_host_bits_is_everyone():
    world = policy("world", ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.1/0"}}]}])
    assert verdicts("AKS-NET-005", cluster_view(WEB, DENY_ALL, world)) == {"Namespace/app": "fail"}


@pytest.mark.parametrize("selector", [{"matchLabels": {"app": "web"}},
                                      {"matchExpressions": [{"key": "app",
                                                             "operator": "Exists"}]}])
def test_a_deny_all_for_some_pods_is_not_a_namespace_default_deny(selector):
    some = policy("deny-web", selector=selector, policyTypes=["Ingress", "Egress"])
    [found] = findings("AKS-NET-005", checks.State(cluster_view(WEB, some)))
    assert (found.status, found.evidence) == (
        "fail", "no default deny for ingress; no default deny for egress "
                "(1 policies in the namespace)")


def test_failed_pods_are_not_judged():
    objects = cluster_view(pod("crashed", phase="Failed"))
    assert verdicts("AKS-NET-005", objects) == {}
    assert verdicts("AKS-NET-006", objects) == {}


def test_evidence_lists_every_allow_all_policy():
    second = policy("allow-in-2", ingress=[{}])
    [found] = findings("AKS-NET-005", checks.State(cluster_view(WEB, DENY_ALL, ALLOW_ALL_IN,
                                                                second)))
    assert "undone by allow-all allow-in, allow-in-2" in found.evidence


def test_evidence_names_only_the_policies_that_admit_everyone():
    """A policy whose peers are pods only adds no address: the evidence does not blame it."""
    internet = egress("internet", {"cidr": "0.0.0.0/0"})
    pods_only = policy("pods-only", policyTypes=["Egress"], egress=[
        {"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}])
    state = checks.State(cluster_view(WEB, DENY_ALL, internet, pods_only))
    [namespace] = findings("AKS-NET-005", state)
    assert "undone by allow-all internet (their ipBlocks admit the Internet" in namespace.evidence
    assert "pods-only" not in namespace.evidence
    [pod] = findings("AKS-NET-006", state)
    assert pod.evidence.startswith("egress: internet allows all (their ipBlocks admit")


def test_evidence_names_each_internet_wide_version_and_a_port_split():
    both = egress("both", {"cidr": "0.0.0.0/0"}, {"cidr": "::/0"})
    [found] = findings("AKS-NET-006", checks.State(cluster_view(WEB, DENY_ALL, both)))
    assert "admit the Internet: IPv4: " in found.evidence
    assert "more than a /8 (16,777,216 addresses); IPv6: " in found.evidence
    assert "on every TCP port" not in found.evidence
    split = egress("split", {"cidr": "0.0.0.0/0"}, ports=[
        {"port": 1, "endPort": 32767, "protocol": "TCP"},
        {"port": 32768, "endPort": 65535, "protocol": "TCP"}])
    [found] = findings("AKS-NET-006", checks.State(cluster_view(WEB, DENY_ALL, split)))
    assert found.evidence.endswith(", on every TCP port)")


def test_evidence_does_not_blame_a_policy_for_another_protocol():
    every = policy("every", ingress=[{}])
    dns = policy("dns", ingress=[{"ports": [{"port": 53, "protocol": "UDP"}]}])
    [found] = findings("AKS-NET-005", checks.State(cluster_view(WEB, DENY_ALL, every, dns)))
    assert "undone by allow-all every (" in found.evidence


def test_a_cluster_without_a_name_is_still_named():
    state = checks.State(cluster={}, cluster_source="planned configuration", has_cluster=False)
    [found] = findings("AKS-NET-009", state)
    assert (found.resource, found.evidence) == (
        "ManagedCluster/cluster", "enablePrivateCluster false (planned configuration)")


def test_a_range_written_with_host_bits_still_restricts():
    assert azure("AKS-NET-001", access(authorizedIpRanges=["131.107.0.1/16"])) == "pass"


def test_exposure_evidence_names_the_ingress_and_every_external_ip():
    objects = cluster_view(replica(APP), service("web", APP), ingress("public", "web"),
                           service("ext", APP, externalIPs=["203.0.113.7", "203.0.113.8"]))
    [found] = findings("AKS-NET-007", checks.State(objects))
    assert found.evidence == ("exposed through Ingress public -> Service web; Service ext "
                              "externalIPs 203.0.113.7, 203.0.113.8")


# ---- address space, not spelling: ranges are united and judged by what they admit -------------

RANGE_CASES = [
    # (case, authorized IP ranges, AKS-NET-001 verdict)
    ("a firewall's /32", ["20.61.12.7/32"], "pass"),
    ("a corporate /16", ["131.107.0.0/16"], "pass"),
    ("0.0.0.0/1 + 128.0.0.0/1 add up to 0.0.0.0/0", ["0.0.0.0/1", "128.0.0.0/1"], "fail"),
    ("four /8s", ["3.0.0.0/8", "4.0.0.0/8", "6.0.0.0/8", "7.0.0.0/8"], "fail"),
    ("exactly a /8: the threshold", ["17.0.0.0/8"], "pass"),
    ("exactly a /8 in two halves", ["17.0.0.0/9", "17.128.0.0/9"], "pass"),
    ("a /8 and one address more", ["17.0.0.0/8", "18.0.0.1"], "fail"),
    ("the same /8 twice is still one /8", ["17.0.0.0/8", "17.1.0.0/16"], "pass"),
    ("private ranges are not counted", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                        "131.107.0.0/16"], "pass"),
    ("10.0.0.0/7: 10/8 private, 11/8 public (exactly the threshold)", ["10.0.0.0/7"], "pass"),
    ("8.0.0.0/6: three public /8s beside 10/8", ["8.0.0.0/6"], "fail"),
    ("IPv6 /32, the threshold", ["2a01:110::/32"], "pass"),
    ("IPv6 /31, beyond it", ["2a01:110::/31"], "fail"),
    ("IPv6 halves", ["::/1", "8000::/1"], "fail"),
    ("IPv6 global unicast 2000::/3", ["2000::/3"], "fail"),
    ("IPv6 unique local fc00::/7 is private", ["fc00::/7"], "pass"),
    ("IPv4 and IPv6 are judged apart", ["17.0.0.0/8", "2a01:110::/32"], "pass"),
]


@pytest.mark.parametrize("ranges, expected", [c[1:] for c in RANGE_CASES],
                         ids=[c[0] for c in RANGE_CASES])
def test_authorized_ranges_by_the_addresses_they_admit(ranges, expected):
    assert azure("AKS-NET-001", access(authorizedIpRanges=ranges)) == expected


def ranges_finding(ranges: list[str]) -> checks.Finding:
    state = checks.State(cluster={"name": "aks1", **access(authorizedIpRanges=ranges)},
                         cluster_source="az aks show", has_cluster=False)
    [found] = findings("AKS-NET-001", state)
    return found


def test_authorized_ranges_evidence_gives_the_count_and_the_threshold():
    split = ranges_finding(["0.0.0.0/1", "128.0.0.0/1"])
    assert split.evidence.startswith("authorized IP ranges 0.0.0.0/1, 128.0.0.0/1 admit the "
                                     "Internet: IPv4: 3,702,258,688 public addresses (100% of "
                                     "the public unicast space), more than a /8")
    assert "private ranges" in split.differs and "0.0.0.0/1 + 128.0.0.0/1" in split.differs
    mixed = ranges_finding(["10.0.0.0/8", "131.107.0.0/16", "192.168.1.0/24"])
    assert (mixed.resource, mixed.status, mixed.evidence) == (
        "ManagedCluster/aks1", "pass",
        "authorized IP ranges 10.0.0.0/8, 131.107.0.0/16, 192.168.1.0/24: IPv4 65,536 public "
        "addresses, not the Internet (more public addresses than a /8 (16,777,216 addresses) "
        "for IPv4 or a /32 (2**96 addresses) for IPv6 count as the Internet); private ranges "
        "10.0.0.0/8, 192.168.0.0/16 are not Internet addresses (az aks show)")
    bad = ranges_finding(["131.107.0.0/16", "office", "10.0.0.0/33"])
    assert (bad.resource, bad.status, bad.evidence) == (
        "ManagedCluster/aks1", "fail", "authorized IP ranges office, 10.0.0.0/33: not an IP "
        "range, so nothing is known to be restricted (az aks show)")


def egress(name: str, *blocks: dict, ports: list | None = None, selector=None) -> dict:
    rule: dict = {"to": [{"ipBlock": b} for b in blocks]}
    if ports:
        rule["ports"] = ports
    return policy(name, selector=selector, policyTypes=["Egress"], egress=[rule])


HALF_LOW, HALF_HIGH = {"cidr": "0.0.0.0/1"}, {"cidr": "128.0.0.0/1"}
IP_BLOCK_CASES = [
    # (case, policies beside DENY_ALL, AKS-NET-005 and AKS-NET-006 verdict)
    ("halves in one rule", [egress("split", HALF_LOW, HALF_HIGH)], "fail"),
    ("halves in two policies", [egress("low", HALF_LOW), egress("high", HALF_HIGH)], "fail"),
    ("0.0.0.0/0 except the private ranges: every public address",
     [egress("internet", {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12",
                                                          "192.168.0.0/16"]})], "fail"),
    ("the private ranges only", [egress("vnet", {"cidr": "10.0.0.0/8"},
                                        {"cidr": "172.16.0.0/12"}, {"cidr": "192.168.0.0/16"})],
     "pass"),
    ("halves on one port only", [egress("https", HALF_LOW, HALF_HIGH,
                                        ports=[{"port": 443, "protocol": "TCP"}])], "pass"),
    ("halves on every TCP port", [egress("tcp", HALF_LOW, HALF_HIGH,
                                         ports=[{"protocol": "TCP"}])], "fail"),
    ("two /8s", [egress("two", {"cidr": "16.0.0.0/7"})], "fail"),
    ("two /8s with one carved back out: exactly the threshold",
     [egress("one", {"cidr": "16.0.0.0/7", "except": ["16.0.0.0/8"]})], "pass"),
    ("two /8s with half of one carved out", [egress("one-and-a-half", {
        "cidr": "16.0.0.0/7", "except": ["16.0.0.0/9"]})], "fail"),
    ("a /8 and one address more (a /31 less one)",
     [egress("edge", {"cidr": "17.0.0.0/8"}, {"cidr": "18.0.0.0/31", "except": ["18.0.0.1/32"]})],
     "fail"),
    ("IPv6 halves", [egress("v6", {"cidr": "::/1"}, {"cidr": "8000::/1"})], "fail"),
    ("two /8s in two policies", [egress("a", {"cidr": "17.0.0.0/8"}),
                                 egress("b", {"cidr": "18.0.0.0/8"})], "fail"),
    ("a policy of another namespace is not added",
     [egress("a", {"cidr": "17.0.0.0/8"}), {**egress("b", {"cidr": "18.0.0.0/8"}),
                                             "metadata": {"name": "b", "namespace": "other"}}],
     "pass"),
    ("half the IPv4 Internet alone", [egress("low", HALF_LOW)], "fail"),
    ("the Internet after a pod peer in the same rule", [policy(
        "mixed", policyTypes=["Egress"], egress=[{"to": [
            {"podSelector": {"matchLabels": {"app": "db"}}},
            {"ipBlock": {"cidr": "0.0.0.0/0"}}]}])],
     "fail"),
    ("a named port is not every port", [egress("named", {"cidr": "0.0.0.0/0"},
                                               ports=[{"port": "https", "protocol": "TCP"}])],
     "pass"),
    ("every TCP port but port 1", [egress("not-1", {"cidr": "0.0.0.0/0"}, ports=[
        {"port": 2, "endPort": 65535, "protocol": "TCP"}])], "pass"),
    ("every port: overlapping ranges", [egress("overlap", {"cidr": "0.0.0.0/0"}, ports=[
        {"port": 1, "endPort": 100, "protocol": "TCP"},
        {"port": 50, "endPort": 65535, "protocol": "TCP"}])], "fail"),
    ("every port without a protocol: TCP", [egress("no-protocol", {"cidr": "0.0.0.0/0"}, ports=[
        {"port": 1, "endPort": 65535}])], "fail"),
    ("one TCP port, every UDP port", [egress("udp", {"cidr": "0.0.0.0/0"}, ports=[
        {"port": 443, "protocol": "TCP"}, {"protocol": "UDP"}])], "fail"),
    ("two /8s on half the ports, two others on the other half: no address on every port",
     [egress("low-ports", {"cidr": "16.0.0.0/7"}, ports=[
         {"port": 1, "endPort": 32767, "protocol": "TCP"}]),
      egress("high-ports", {"cidr": "18.0.0.0/7"}, ports=[
          {"port": 32768, "endPort": 65535, "protocol": "TCP"}])], "pass"),
    ("every TCP port after a named port", [egress("named-then-all", {"cidr": "0.0.0.0/0"}, ports=[
        {"port": "https", "protocol": "TCP"}, {"port": 1, "endPort": 65535, "protocol": "TCP"}])],
     "fail"),
]


@pytest.mark.parametrize("extra, expected", [c[1:] for c in IP_BLOCK_CASES],
                         ids=[c[0] for c in IP_BLOCK_CASES])
def test_ip_blocks_by_the_addresses_they_admit(extra, expected):
    objects = cluster_view(WEB, DENY_ALL, *extra)
    assert verdicts("AKS-NET-005", objects) == {"Namespace/app": expected}
    assert verdicts("AKS-NET-006", objects) == {"Pod/app/web": expected}


def test_ingress_ip_blocks_are_united_too():
    halves = policy("world", ingress=[{"from": [{"ipBlock": HALF_LOW}]},
                                      {"from": [{"ipBlock": HALF_HIGH}]}])
    [found] = findings("AKS-NET-006", checks.State(cluster_view(WEB, DENY_ALL, halves)))
    assert found.status == "fail"
    assert found.evidence.startswith("ingress: world allows all (their ipBlocks admit the "
                                     "Internet: IPv4: 3,702,258,688 public addresses")


def test_split_egress_evidence_names_both_policies_and_the_count():
    objects = cluster_view(WEB, DENY_ALL, egress("low", HALF_LOW), egress("high", HALF_HIGH))
    [found] = findings("AKS-NET-005", checks.State(objects))
    assert found.evidence == (
        "egress default deny (deny) is undone by allow-all high, low (their ipBlocks admit the "
        "Internet: IPv4: 3,702,258,688 public addresses (100% of the public unicast space), more "
        "than a /8 (16,777,216 addresses); policies are additive) (3 policies in the namespace)")


def test_halves_for_some_pods_only_fail_those_pods():
    db = pod("db", labels={"app": "db"})
    objects = cluster_view(WEB, db, DENY_ALL, egress("web-out", HALF_LOW, HALF_HIGH,
                                                     selector={"matchLabels": {"app": "web"}}))
    assert verdicts("AKS-NET-006", objects) == {"Pod/app/web": "fail", "Pod/app/db": "pass"}
    assert verdicts("AKS-NET-005", objects) == {"Namespace/app": "pass"}


# A port range is judged by the ports it admits, as ipBlocks by their addresses: every port of a
# protocol split over rules or policies is every port (NetworkPolicy ports are additive, and
# `endPort` makes `port`..`endPort` one range: Kubernetes docs "Network Policies", Targeting a
# range of ports).
ALL_TCP = [{"protocol": "TCP", "port": 1, "endPort": 65535}]
LOW_TCP = [{"protocol": "TCP", "port": 1, "endPort": 32767}]
HIGH_TCP = [{"protocol": "TCP", "port": 32768, "endPort": 65535}]
PORT_SPLIT_CASES = [
    ("every TCP port as one range from everyone",
     [policy("tcp", ingress=[{"ports": ALL_TCP}])], "fail"),
    ("every TCP port in two ranges of one policy",
     [policy("tcp", ingress=[{"ports": LOW_TCP}, {"ports": HIGH_TCP}])], "fail"),
    ("every TCP port in two policies",
     [policy("low", ingress=[{"ports": LOW_TCP}]), policy("high", ingress=[{"ports": HIGH_TCP}])],
     "fail"),
    ("every TCP port from every namespace, in one rule's two entries",
     [policy("tcp", ingress=[{"from": [{"namespaceSelector": {}}],
                              "ports": LOW_TCP + HIGH_TCP}])], "fail"),
    ("every TCP port to 0.0.0.0/0",
     [policy("out", policyTypes=["Egress"], egress=[
         {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": ALL_TCP}])], "fail"),
    ("halves of the ports to halves of the Internet",
     [policy("out", policyTypes=["Egress"], egress=[
         {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": LOW_TCP},
         {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": HIGH_TCP}])], "fail"),
    ("every TCP port as port 1 and 2-65535",
     [policy("tcp", ingress=[{"ports": [{"protocol": "TCP", "port": 1}]},
                             {"ports": [{"protocol": "TCP", "port": 2, "endPort": 65535}]}])],
     "fail"),
    ("every TCP port as 1-65534 and port 65535",
     [policy("tcp", ingress=[{"ports": [{"protocol": "TCP", "port": 1, "endPort": 65534}]},
                             {"ports": [{"protocol": "TCP", "port": 65535}]}])], "fail"),
    ("one port short of every port",
     [policy("tcp", ingress=[{"ports": [{"protocol": "TCP", "port": 1, "endPort": 65534}]}])],
     "pass"),
    ("every TCP port, but from one namespace's pods only",
     [policy("tcp", ingress=[{"from": [{"podSelector": {}}], "ports": ALL_TCP}])], "pass"),
    ("low ports from everyone, high ports from a corporate /16 only",
     [policy("split", ingress=[
         {"ports": LOW_TCP},
         {"from": [{"ipBlock": {"cidr": "131.107.0.0/16"}}], "ports": HIGH_TCP}])], "pass"),
    ("TCP low half and UDP high half are no protocol's every port",
     [policy("mixed", ingress=[{"ports": LOW_TCP},
                               {"ports": [{"protocol": "UDP", "port": 32768,
                                           "endPort": 65535}]}])], "pass"),
]


@pytest.mark.parametrize("extra, expected", [c[1:] for c in PORT_SPLIT_CASES],
                         ids=[c[0] for c in PORT_SPLIT_CASES])
def test_a_port_range_covering_every_port_is_an_allow_all(extra, expected):
    objects = cluster_view(WEB, DENY_ALL, *extra)
    assert verdicts("AKS-NET-005", objects) == {"Namespace/app": expected}
    assert verdicts("AKS-NET-006", objects) == {"Pod/app/web": expected}


def test_split_ports_evidence_says_the_rules_add_up():
    objects = cluster_view(WEB, DENY_ALL, policy("low", ingress=[{"ports": LOW_TCP}]),
                           policy("high", ingress=[{"ports": HIGH_TCP}]))
    [found] = findings("AKS-NET-006", checks.State(objects))
    assert found.evidence.startswith("ingress: high, low allows all (together they admit every "
                                     "TCP port from every peer)")


def test_an_ipv4_mapped_ipv6_block_is_the_ipv4_internet():
    """::ffff:0:0/96 is every IPv4 address to Go's net package (IPNet.Contains), in which the
    API server and the CNIs read ipBlocks."""
    objects = cluster_view(WEB, DENY_ALL, egress("mapped", {"cidr": "::ffff:0:0/96"}))
    assert verdicts("AKS-NET-005", objects) == {"Namespace/app": "fail"}
    assert verdicts("AKS-NET-006", objects) == {"Pod/app/web": "fail"}


def test_a_host_network_pod_is_not_isolated_by_the_policies_selecting_it():
    """Kubernetes docs "Network Policies" (NetworkPolicy and hostNetwork pods): the plugins
    treat a hostNetwork pod's traffic as the node's, so a namespace's default deny does not
    isolate it; the pod beside it on the pod network stays isolated."""
    host = pod("agent", labels={"app": "agent"})
    host["spec"]["hostNetwork"] = True
    objects = cluster_view(host, WEB, DENY_ALL)  # the pod listed after it is judged too
    assert verdicts("AKS-NET-006", objects) == {"Pod/app/web": "pass", "Pod/app/agent": "fail"}
    [found] = [f for f in findings("AKS-NET-006", checks.State(objects))
               if f.resource == "Pod/app/agent"]
    assert found.evidence.startswith("hostNetwork: true: the pod uses the node's network")


def test_the_load_balancer_placeholder_range_passes_and_says_what_it_means():
    """AKS docs "API Server Authorized IP Ranges in AKS": 0.0.0.0/32 allows only the cluster's
    own Standard load balancer outbound IP; "0 public addresses" alone would puzzle."""
    state = checks.State(cluster={"name": "aks1", **access(authorizedIpRanges=["0.0.0.0/32"])},
                         cluster_source="az aks show", has_cluster=False)
    [found] = findings("AKS-NET-001", state)
    assert found.status == "pass"
    assert "0.0.0.0/32 is AKS's placeholder for the cluster's own Standard load balancer" in (
        found.evidence)
    with_private = ranges_finding(["0.0.0.0/32", "10.1.0.0/16"])
    assert (with_private.status, with_private.evidence) == (
        "pass", "authorized IP ranges 0.0.0.0/32, 10.1.0.0/16: IPv4 0 public addresses, not the "
        "Internet (more public addresses than a /8 (16,777,216 addresses) for IPv4 or a /32 "
        "(2**96 addresses) for IPv6 count as the Internet); private ranges 10.0.0.0/8 are not "
        "Internet addresses; 0.0.0.0/32 is AKS's placeholder for the cluster's own Standard "
        "load balancer outbound IP only (AKS docs 'API Server Authorized IP Ranges in Azure "
        "Kubernetes Service (AKS)') (az aks show)")


def test_a_namespace_selector_every_namespace_matches_is_every_namespace():
    """The API server labels every namespace kubernetes.io/metadata.name (Kubernetes docs
    "Network Policies", Targeting a Namespace by its name), so `Exists` on it is `{}`."""
    every = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "Exists"}]}
    objects = cluster_view(WEB, DENY_ALL, policy("all", ingress=[
        {"from": [{"namespaceSelector": every}]}]))
    assert verdicts("AKS-NET-005", objects) == {"Namespace/app": "fail"}
    assert verdicts("AKS-NET-006", objects) == {"Pod/app/web": "fail"}
