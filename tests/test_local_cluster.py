"""The local cluster behaves like a real Kubernetes cluster shaped like AKS."""

from __future__ import annotations

import copy
import json
import stat
import time

import kubernetes.client
import pytest
from kubernetes.client.exceptions import ApiException

from aks_runbook.targets import binaries

VOTE_IMAGE = "mcr.microsoft.com/azuredocs/azure-vote-front:v1"


def eventually(check, timeout=60.0, interval=0.5):
    """Poll until check() returns a truthy value; return it, or fail with the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"condition not met within {timeout} s (last value: {value!r})"
            return value
        time.sleep(interval)


def pods_by_node(k8s, namespace, selector):
    pods = k8s.CoreV1Api().list_namespaced_pod(namespace, label_selector=selector).items
    placed: dict[str, int] = {}
    for pod in pods:
        placed[pod.spec.node_name] = placed.get(pod.spec.node_name, 0) + 1
    return pods, placed


def node_pools(k8s):
    return {n.metadata.name: n.metadata.labels["agentpool"]
            for n in k8s.CoreV1Api().list_node().items}


def deployment(name, replicas, labels=None):
    labels = labels or {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": VOTE_IMAGE}]},
            },
        },
    }


def test_nodes_are_shaped_like_aks_pools(k8s):
    nodes = k8s.CoreV1Api().list_node().items
    pools = {}
    for node in nodes:
        labels = node.metadata.labels
        assert labels["kubernetes.azure.com/agentpool"] == labels["agentpool"]
        assert labels["kubernetes.io/os"] == "linux"
        assert labels["kubernetes.azure.com/node-image-version"].startswith("AKSUbuntu-")
        assert node.status.node_info.kubelet_version == binaries.kubernetes_version()
        pools.setdefault(labels["agentpool"], []).append(node)
    assert len(pools["system"]) == 1 and len(pools["user"]) >= 2
    system = pools["system"][0]
    assert system.metadata.labels["kubernetes.azure.com/mode"] == "system"
    assert [(t.key, t.value, t.effect) for t in system.spec.taints] == [
        ("CriticalAddonsOnly", "true", "NoSchedule")]
    assert all(n.metadata.labels["kubernetes.azure.com/mode"] == "user" for n in pools["user"])


def test_kubeconfig_is_private(local_cluster):
    mode = stat.S_IMODE(local_cluster.kubeconfig.stat().st_mode)
    assert mode == 0o600


def test_control_plane_runs_the_pinned_kubernetes(k8s):
    version = k8s.VersionApi().get_code()
    assert version.git_version == binaries.kubernetes_version()


def test_the_single_controller_manager_and_scheduler_hold_no_election_lease(k8s):
    # a leader renews its lease every 2 s, a third of an idle local cluster's CPU; the
    # control plane's own leases (the API server's identity, the nodes') stay
    leases = {lease.metadata.name for lease in
              k8s.CoordinationV1Api().list_namespaced_lease("kube-system").items}
    assert not leases & {"kube-controller-manager", "kube-scheduler"}, leases
    assert any(name.startswith("apiserver-") for name in leases), leases


def test_deployment_pods_become_ready_on_user_nodes_only(k8s, namespace):
    k8s.AppsV1Api().create_namespaced_deployment(namespace, deployment("front", 4))

    def ready():
        pods, placed = pods_by_node(k8s, namespace, "app=front")
        ready = [p for p in pods if any(c.type == "Ready" and c.status == "True"
                                        for c in p.status.conditions or [])]
        return placed if len(ready) == 4 else None

    placed = eventually(ready)
    pools = node_pools(k8s)
    assert {pools[node] for node in placed} == {"user"}, placed
    assert len(placed) >= 2, f"the scheduler should spread 4 replicas over the user pool: {placed}"


@pytest.mark.parametrize("tolerates_system", [False, True])
def test_daemonset_places_one_pod_per_tolerated_node(k8s, namespace, tolerates_system):
    tolerations = [{"key": "CriticalAddonsOnly", "operator": "Exists"}] if tolerates_system else []
    spec = deployment("agent", 1)
    del spec["spec"]["replicas"]
    spec["spec"]["template"]["spec"]["tolerations"] = tolerations
    k8s.AppsV1Api().create_namespaced_daemon_set(namespace, spec)

    pools = node_pools(k8s)
    expected = {n for n, pool in pools.items() if tolerates_system or pool != "system"}

    def placed_everywhere():
        _, placed = pods_by_node(k8s, namespace, "app=agent")
        return placed if set(placed) == expected else None

    placed = eventually(placed_everywhere)
    assert set(placed.values()) == {1}, placed
    time.sleep(2)  # a DaemonSet that over-schedules would show it now
    assert pods_by_node(k8s, namespace, "app=agent")[1] == placed


def test_namespaced_role_denies_outside_its_namespace(k8s, namespace):
    core, rbac = k8s.CoreV1Api(), k8s.RbacAuthorizationV1Api()
    other = f"{namespace}-other"
    core.create_namespace({"metadata": {"name": other}})
    try:
        core.create_namespaced_service_account(namespace, {"metadata": {"name": "dev"}})
        rbac.create_namespaced_role(namespace, {
            "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        })
        rbac.create_namespaced_role_binding(namespace, {
            "metadata": {"name": "dev-pod-reader"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                        "name": "pod-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "dev", "namespace": namespace}],
        })
        user = f"system:serviceaccount:{namespace}:dev"

        def allowed(ns):
            review = k8s.AuthorizationV1Api().create_subject_access_review({
                "spec": {"user": user, "groups": ["system:serviceaccounts"],
                         "resourceAttributes": {"namespace": ns, "verb": "list",
                                                "resource": "pods"}}})
            return review.status.allowed

        assert eventually(lambda: allowed(namespace)), "RBAC should allow inside the namespace"
        assert not allowed(other)

        token = core.create_namespaced_service_account_token(
            "dev", namespace, {"spec": {"expirationSeconds": 600}}).status.token
        config = copy.copy(k8s.api_client.configuration)
        config.api_key = {"authorization": "Bearer " + token}
        config.cert_file = config.key_file = None
        as_dev = kubernetes.client.CoreV1Api(
            kubernetes.client.ApiClient(config))
        assert as_dev.list_namespaced_pod(namespace).items == []
        with pytest.raises(ApiException) as denied:
            as_dev.list_namespaced_pod(other)
        assert denied.value.status == 403
        assert user in denied.value.body
    finally:
        core.delete_namespace(other)


def test_restricted_namespace_rejects_privileged_pod(k8s, namespace):
    core = k8s.CoreV1Api()
    core.patch_namespace(namespace, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted"}}})
    privileged = {
        "metadata": {"name": "root-shell"},
        "spec": {"containers": [{"name": "sh", "image": "busybox",
                                 "securityContext": {"privileged": True}}]},
    }
    with pytest.raises(ApiException) as rejected:
        core.create_namespaced_pod(namespace, privileged)
    assert rejected.value.status == 403
    message = json.loads(rejected.value.body)["message"]
    assert 'violates PodSecurity "restricted:latest": privileged' in message


def test_eviction_refused_while_pdb_holds(k8s, namespace):
    k8s.AppsV1Api().create_namespaced_deployment(namespace, deployment("redis", 2))
    k8s.PolicyV1Api().create_namespaced_pod_disruption_budget(namespace, {
        "metadata": {"name": "redis"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "redis"}}},
    })

    def pdb_settled():
        pdb = k8s.PolicyV1Api().read_namespaced_pod_disruption_budget("redis", namespace)
        return pdb.status.current_healthy == 2 and pdb.status.observed_generation

    eventually(pdb_settled)
    pod = k8s.CoreV1Api().list_namespaced_pod(namespace, label_selector="app=redis").items[0]
    with pytest.raises(ApiException) as refused:
        k8s.CoreV1Api().create_namespaced_pod_eviction(
            pod.metadata.name, namespace,
            {"metadata": {"name": pod.metadata.name, "namespace": namespace}})
    assert refused.value.status == 429
    assert "disruption budget" in refused.value.body
