"""Issue 17: training holds against an attendee who tries. Each attempt of the security test is
made again here with the attendee's own kubeconfig, and must be refused with the admission
policy's (or the quota's) message; next to it, the allowed variant is accepted, so a refusal
that would refuse everything does not pass.

The session's own cluster (tests/conftest.py), two attendees: alice (defaults) and bob
(provisioned with --allow-external-services).
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from aks_runbook.targets.local import MAX_TOKEN_SECONDS
from aks_runbook.training import credentials, provision
from aks_runbook.training.roster import Attendee
from training_access import attendee_client, status_of

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "environments" / "local.yaml"
ALICE, BOB = "training-alice", "training-bob"
EXPIRY = 3600
POLICY = "ValidatingAdmissionPolicy 'aks-runbook-training-{}'"


@pytest.fixture(scope="module")
def trained(local_cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("course") / "training"
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    admin = local_cluster.api()
    provision.provision(admin, [Attendee("alice")], folder, access, LOCAL, expiry=EXPIRY)
    provision.provision(admin, [Attendee("bob")], folder, access, LOCAL, expiry=EXPIRY,
                        external_services=True)
    yield folder
    provision.teardown(admin, folder, everything=True)


def _refusal(call) -> str:
    """The API server's message refusing call (fails the test if it is accepted)."""
    with pytest.raises(ApiException) as refused:
        call()
    assert refused.value.status in (403, 422), refused.value.body
    return json.loads(refused.value.body)["message"]


# ---- 1(a): a service-account-token Secret (a token that never expires) ------------------------


def test_a_service_account_token_secret_is_refused(trained):
    alice = attendee_client(trained, "alice").CoreV1Api()
    message = _refusal(lambda: alice.create_namespaced_secret(ALICE, {
        "metadata": {"name": "forever", "annotations": {
            "kubernetes.io/service-account.name": "attendee"}},
        "type": "kubernetes.io/service-account-token"}))
    assert POLICY.format("no-token-secrets") in message
    assert "a token that never expires" in message
    alice.create_namespaced_secret(ALICE, {"metadata": {"name": "plain"},
                                           "stringData": {"k": "v"}})  # control: Opaque is fine


# ---- 1(c): a RoleBinding that opens the namespace ---------------------------------------------


def _binding(name: str, subject: dict) -> dict:
    return {"metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                        "name": "attendee"},
            "subjects": [subject]}


@pytest.mark.parametrize("subject, shown", [
    ({"kind": "Group", "name": "system:unauthenticated",
      "apiGroup": "rbac.authorization.k8s.io"}, "Group system:unauthenticated"),
    ({"kind": "Group", "name": "system:authenticated",
      "apiGroup": "rbac.authorization.k8s.io"}, "Group system:authenticated"),
    ({"kind": "Group", "name": "system:serviceaccounts",
      "apiGroup": "rbac.authorization.k8s.io"}, "Group system:serviceaccounts"),
    ({"kind": "Group", "name": f"system:serviceaccounts:{BOB}",
      "apiGroup": "rbac.authorization.k8s.io"}, f"Group system:serviceaccounts:{BOB}"),
    ({"kind": "Group", "name": "team-vote-developers-2",
      "apiGroup": "rbac.authorization.k8s.io"}, "Group team-vote-developers-2"),
    ({"kind": "User", "name": "system:anonymous", "apiGroup": "rbac.authorization.k8s.io"},
     "User system:anonymous"),
    ({"kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"},
     "User mallory"),
    ({"kind": "ServiceAccount", "name": "attendee", "namespace": BOB},
     f"ServiceAccount {BOB}/attendee"),
])
def test_a_rolebinding_to_anyone_but_the_namespaces_own_accounts_is_refused(
        trained, subject, shown):
    rbac = attendee_client(trained, "alice").RbacAuthorizationV1Api()
    message = _refusal(lambda: rbac.create_namespaced_role_binding(
        ALICE, _binding("open", subject)))
    assert POLICY.format("own-subjects") in message
    assert message.endswith(f"refused: {shown}"), message


def test_a_rolebinding_to_the_namespaces_own_account_is_accepted(trained):
    alice = attendee_client(trained, "alice")
    alice.CoreV1Api().create_namespaced_service_account(ALICE, {"metadata": {"name": "helper"}})
    rbac = alice.RbacAuthorizationV1Api()
    rbac.create_namespaced_role_binding(ALICE, _binding("helper", {
        "kind": "ServiceAccount", "name": "helper", "namespace": ALICE}))
    # without a namespace, a RoleBinding's service account is the binding's namespace's
    rbac.create_namespaced_role_binding(ALICE, _binding("helper-short", {
        "kind": "ServiceAccount", "name": "helper"}))
    # chapter 03's team groups (fixed names; only a certificate of the cluster's CA carries them)
    rbac.create_namespaced_role_binding(ALICE, _binding("team", {
        "kind": "Group", "name": "team-vote-developers",
        "apiGroup": "rbac.authorization.k8s.io"}))
    # an update that adds a group is refused like a create
    message = _refusal(lambda: rbac.patch_namespaced_role_binding("helper", ALICE, {
        "subjects": [{"kind": "ServiceAccount", "name": "helper", "namespace": ALICE},
                     {"kind": "Group", "name": "system:unauthenticated",
                      "apiGroup": "rbac.authorization.k8s.io"}]}))
    assert message.endswith("refused: Group system:unauthenticated"), message


# ---- 1(b): a ten-year token for token-demo ----------------------------------------------------


def _lifetime(token: str) -> int:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims["exp"] - claims["iat"]


def test_token_demo_tokens_live_no_longer_than_the_kubeconfig(trained):
    core = attendee_client(trained, "alice").CoreV1Api()
    core.create_namespaced_service_account(ALICE, {"metadata": {"name": "token-demo"}})
    message = _refusal(lambda: core.create_namespaced_service_account_token(
        "token-demo", ALICE, {"spec": {"expirationSeconds": 87600 * 3600}}))
    assert POLICY.format("token-lifetime") in message
    assert f"at most {EXPIRY} s" in message and "asked for 315360000 s" in message
    token = core.create_namespaced_service_account_token(
        "token-demo", ALICE, {"spec": {"expirationSeconds": 600}}).status.token
    assert _lifetime(token) == 600  # control: chapter 03's 600 s token


def test_provision_refuses_an_expiry_the_api_server_would_shorten(tmp_path):
    assert provision.MAX_EXPIRY <= MAX_TOKEN_SECONDS
    with pytest.raises(provision.ProvisionError,
                       match=r"--expiry 172800: must be at most 86400 s \(24h\): the local "
                             r"cluster's API server caps every token"):
        provision.provision(None, [Attendee("alice")], tmp_path, None, LOCAL, expiry=172800)
    assert not tmp_path.joinpath("alice").exists()


# ---- Services, Endpoints, Ingress (what a shared AKS cluster would expose) --------------------


def _service(name: str, **spec) -> dict:
    return {"metadata": {"name": name},
            "spec": {"ports": [{"port": 80}], "selector": {"app": name}, **spec}}


@pytest.mark.parametrize("spec, words", [
    ({"externalIPs": ["10.0.0.9"]}, "refuse Services with externalIPs (CVE-2020-8554"),
    ({"type": "NodePort"}, "Services of type NodePort are refused"),
    ({"type": "LoadBalancer"}, "Services of type LoadBalancer are refused"),
    ({"type": "ExternalName", "externalName": "evil.example.com"},
     "Services of type ExternalName are refused"),
])
def test_services_that_reach_outside_the_namespace_are_refused(trained, spec, words):
    core = attendee_client(trained, "alice").CoreV1Api()
    message = _refusal(lambda: core.create_namespaced_service(ALICE, _service("out", **spec)))
    assert POLICY.format("services") in message and words in message, message


def test_cluster_ip_services_are_accepted_and_the_trainer_can_allow_node_ports(trained):
    alice = attendee_client(trained, "alice").CoreV1Api()
    alice.create_namespaced_service(ALICE, _service("inside"))
    bob = attendee_client(trained, "bob").CoreV1Api()
    bob.create_namespaced_service(BOB, _service("node-port", type="NodePort"))
    # externalIPs stay refused even where the trainer allowed external Services
    message = _refusal(lambda: bob.create_namespaced_service(
        BOB, _service("ips", type="NodePort", externalIPs=["10.0.0.9"])))
    assert "externalIPs" in message


def test_attendees_cannot_write_endpoints_even_with_a_role_that_allows_it(
        trained, local_cluster):
    alice = attendee_client(trained, "alice")
    endpoints = {"metadata": {"name": "inside"},
                 "subsets": [{"addresses": [{"ip": "10.0.0.9"}], "ports": [{"port": 80}]}]}
    assert status_of(lambda: alice.CoreV1Api().create_namespaced_endpoints(
        ALICE, endpoints)) == 403  # the attendee Role no longer has it
    # the policy holds on its own: the trainer grants writing them (`edit` does not since
    # Kubernetes 1.22), and the attendee is still refused
    trainer = local_cluster.api().RbacAuthorizationV1Api()
    trainer.create_namespaced_role(ALICE, {"metadata": {"name": "trainer-grants-endpoints"},
                                           "rules": [
        {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["create"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
         "verbs": ["create"]}]})
    trainer.create_namespaced_role_binding(ALICE, {
        "metadata": {"name": "trainer-grants-endpoints"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                    "name": "trainer-grants-endpoints"},
        "subjects": [{"kind": "ServiceAccount", "name": "attendee", "namespace": ALICE}]})
    try:
        _endpoints_refused_by_the_policy(alice, endpoints)
    finally:
        trainer.delete_namespaced_role_binding("trainer-grants-endpoints", ALICE)
        trainer.delete_namespaced_role("trainer-grants-endpoints", ALICE)
    # control: the control plane still writes them, from a Service
    alice.CoreV1Api().create_namespaced_service(ALICE, _service("endpoints-control"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = local_cluster.api().DiscoveryV1Api().list_namespaced_endpoint_slice(
            ALICE, label_selector="kubernetes.io/service-name=endpoints-control").items
        if found:
            break
        time.sleep(0.5)
    assert found, "the EndpointSlice controller wrote the Service's slice"


def _endpoints_refused_by_the_policy(alice, endpoints: dict) -> None:
    deadline = time.monotonic() + 10  # until the new binding is in the authorizer's cache
    while True:
        message = _refusal(lambda: alice.CoreV1Api().create_namespaced_endpoints(
            ALICE, endpoints))
        if "cannot create resource" not in message or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert POLICY.format("no-endpoints") in message and "CVE-2021-25740" in message
    slice_ = {"metadata": {"name": "inside-x", "labels": {
        "kubernetes.io/service-name": "inside"}}, "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.0.9"]}], "ports": [{"port": 80}]}
    message = _refusal(lambda: alice.DiscoveryV1Api().create_namespaced_endpoint_slice(
        ALICE, slice_))
    assert POLICY.format("no-endpoints") in message


def _ingress(name: str, host: str | None = None, tls_host: str | None = None,
             default: bool = False) -> dict:
    backend = {"service": {"name": "inside", "port": {"number": 80}}}
    rule: dict = {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
    if host is not None:
        rule["host"] = host
    spec: dict = {"rules": [rule]}
    if tls_host:
        spec["tls"] = [{"hosts": [tls_host], "secretName": "x"}]
    if default:
        spec["defaultBackend"] = backend
    return {"metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize("ingress, words", [
    (_ingress("theirs", "vote.example.com"), "refused: vote.example.com"),
    (_ingress("neighbour", "bob-vote.example.com"), "refused: bob-vote.example.com"),
    (_ingress("lookalike", "alicex.example.com"), "refused: alicex.example.com"),
    (_ingress("wildcard", "*.example.com"), "refused: *.example.com"),
    (_ingress("every-host"), "refused: (a rule or tls entry without a host"),
    (_ingress("tls", "alice.example.com", tls_host="vote.example.com"),
     "refused: vote.example.com"),
    (_ingress("default", "alice.example.com", default=True), "with a defaultBackend"),
])
def test_ingress_hosts_outside_the_attendees_prefix_are_refused(trained, ingress, words):
    net = attendee_client(trained, "alice").NetworkingV1Api()
    message = _refusal(lambda: net.create_namespaced_ingress(ALICE, ingress))
    assert POLICY.format("ingress-hosts") in message and words in message, message


def test_ingress_hosts_under_the_attendees_prefix_are_accepted(trained):
    net = attendee_client(trained, "alice").NetworkingV1Api()
    net.create_namespaced_ingress(ALICE, _ingress("own", "alice-vote.example.com",
                                                  tls_host="alice-vote.example.com"))
    net.create_namespaced_ingress(ALICE, _ingress("own-sub", "*.alice.example.com"))
    net.delete_namespaced_ingress("own", ALICE)
    net.delete_namespaced_ingress("own-sub", ALICE)


# ---- the quota: one too many of every kind ----------------------------------------------------

SMALL = {"requests": {"cpu": "1m", "memory": "1Mi"}, "limits": {"cpu": "1m", "memory": "1Mi"}}
POD_SPEC = {"securityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "image": "mcr.microsoft.com/azurelinux/base/core:3.0",
                            "resources": SMALL,
                            "securityContext": {"allowPrivilegeEscalation": False,
                                                "capabilities": {"drop": ["ALL"]}}}]}
TEMPLATE = {"metadata": {"labels": {"app": "q"}}, "spec": POD_SPEC}
SELECTOR = {"matchLabels": {"app": "q"}}
# quota key -> (apiVersion, kind, spec of an object that creates nothing else)
COUNTED = {
    "pods": ("v1", "Pod", POD_SPEC),
    "services": ("v1", "Service", {"ports": [{"port": 80}]}),
    "secrets": ("v1", "Secret", None),
    "configmaps": ("v1", "ConfigMap", None),
    "persistentvolumeclaims": ("v1", "PersistentVolumeClaim", {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}}),
    "count/serviceaccounts": ("v1", "ServiceAccount", None),
    "count/roles.rbac.authorization.k8s.io": ("rbac.authorization.k8s.io/v1", "Role", None),
    "count/rolebindings.rbac.authorization.k8s.io": (
        "rbac.authorization.k8s.io/v1", "RoleBinding", None),
    "count/networkpolicies.networking.k8s.io": (
        "networking.k8s.io/v1", "NetworkPolicy", {"podSelector": {}}),
    "count/ingresses.networking.k8s.io": ("networking.k8s.io/v1", "Ingress", {"rules": [
        {"host": "alice-q.example.com", "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "q", "port": {"number": 80}}}}]}}]}),
    "count/poddisruptionbudgets.policy": ("policy/v1", "PodDisruptionBudget",
                                          {"selector": SELECTOR, "maxUnavailable": 1}),
    # before Deployments, whose controller makes ReplicaSets
    "count/replicasets.apps": ("apps/v1", "ReplicaSet",
                               {"replicas": 0, "selector": SELECTOR, "template": TEMPLATE}),
    "count/deployments.apps": ("apps/v1", "Deployment",
                               {"replicas": 0, "selector": SELECTOR, "template": TEMPLATE}),
    "count/statefulsets.apps": ("apps/v1", "StatefulSet", {
        "replicas": 0, "selector": SELECTOR, "template": TEMPLATE, "serviceName": "q"}),
    "count/daemonsets.apps": ("apps/v1", "DaemonSet", {
        "selector": SELECTOR, "template": {**TEMPLATE, "spec": {
            **POD_SPEC, "nodeSelector": {"no-such-node": "x"}}}}),
    "count/jobs.batch": ("batch/v1", "Job", {"suspend": True, "template": {
        "spec": {**POD_SPEC, "restartPolicy": "Never"}}}),
    "count/cronjobs.batch": ("batch/v1", "CronJob", {
        "schedule": "0 0 1 1 *", "suspend": True, "jobTemplate": {"spec": {"template": {
            "spec": {**POD_SPEC, "restartPolicy": "Never"}}}}}),
}


def _body(key: str, number: int, namespace: str) -> dict:
    api_version, kind, spec = COUNTED[key]
    body: dict = {"apiVersion": api_version, "kind": kind,
                  "metadata": {"name": f"q{number}"}}
    if kind == "Role":
        body["rules"] = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    elif kind == "RoleBinding":
        body["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                           "name": "attendee"}
        body["subjects"] = [{"kind": "ServiceAccount", "name": "attendee",
                              "namespace": namespace}]
    elif kind == "Ingress":
        attendee = namespace.removeprefix("training-")
        spec = {"rules": [{**spec["rules"][0], "host": f"{attendee}-q{number}.example.com"}]}
    if spec is not None:
        body["spec"] = spec
    return body


def test_every_kind_an_attendee_creates_is_counted_by_the_quota(local_cluster):
    quota = next(d for d in provision.objects(Attendee("alice"), Path("/x"))
                 if d["kind"] == "ResourceQuota")
    counted = {key for key in quota["spec"]["hard"]
               if key.startswith("count/") or "." not in key}
    assert set(COUNTED) <= counted
    role = next(d for d in provision.objects(Attendee("alice"), Path("/x"))
                if d["kind"] == "Role")
    creatable = {(group, resource) for rule in role["rules"] if "create" in rule["verbs"]
                 for group in rule["apiGroups"] for resource in rule["resources"]
                 if "/" not in resource and resource != "localsubjectaccessreviews"}
    for group, resource in creatable:
        key = resource if group == "" else f"{resource}.{group}"
        assert f"count/{key}" in counted or key in counted, f"{key} has no count in the quota"


def _quota_status(admin, namespace: str):
    """The quota's status once the controller has counted every kind in it."""
    deadline = time.monotonic() + 30
    while True:
        status = admin.read_namespaced_resource_quota("training", namespace).status
        if status and status.used and set(status.hard) <= set(status.used):
            return status
        assert time.monotonic() < deadline, "the quota controller never counted"
        time.sleep(0.5)


def test_one_too_many_of_each_kind_is_refused_by_the_quota(trained, local_cluster):
    # an attendee of its own: the quota is filled to the brim here
    admin = local_cluster.api()
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    provision.provision(admin, [Attendee("quinn")], trained, access, LOCAL, expiry=EXPIRY)
    namespace = "training-quinn"
    dynamic = DynamicClient(attendee_client(trained, "quinn").api_client)
    for key in COUNTED:
        status = _quota_status(admin.CoreV1Api(), namespace)
        hard, used = int(status.hard[key]), int(status.used[key])
        api_version, kind, _ = COUNTED[key]
        resource = dynamic.resources.get(api_version=api_version, kind=kind)
        for number in range(hard - used):  # up to the limit: accepted
            resource.create(body=_body(key, number, namespace), namespace=namespace)
        with pytest.raises(ApiException) as refused:
            resource.create(body=_body(key, hard, namespace), namespace=namespace)
        message = json.loads(refused.value.body)["message"]
        assert refused.value.status == 403, message
        assert f"exceeded quota: training, requested: {key}=1, used: {key}={hard}, " \
               f"limited: {key}={hard}" in message, message
