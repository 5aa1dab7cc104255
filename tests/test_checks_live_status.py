"""Live status on a real cluster: AKS-MNT-007 judges a PodDisruptionBudget by the
status.disruptionsAllowed the disruption controller writes, and the same objects from files are
judged by their spec and say so ("upgrade-options" docs, Scenario 2: a PDB that allows no
eviction is the commonest cause of a stuck upgrade)."""

from __future__ import annotations

import time

import yaml

from aks_runbook import checks
from aks_runbook.cluster.objects import load_files, plain_read, read_objects

TEST_LABEL = "aks-runbook.test/pdb-pool"


def deployment(name: str, replicas: int, pool: str | None = None) -> dict:
    """`replicas` pods labelled app=NAME; with `pool`, only on nodes labelled with it and at
    most one per node (so pods beyond the pool's nodes stay Pending, never Ready)."""
    spec: dict = {"containers": [{"name": "web", "image": "mcr.microsoft.com/azurelinux/"
                                                           "busybox:1.36"}]}
    if pool:
        spec["nodeSelector"] = {TEST_LABEL: pool}
        spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": name}},
             "topologyKey": "kubernetes.io/hostname"}]}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def budget(name: str) -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": name}}}}


def _observed(k8s, namespace: str, name: str, allowed: int, healthy: int) -> dict:
    policy = k8s.PolicyV1Api()
    for _ in range(120):
        status = policy.read_namespaced_pod_disruption_budget(name, namespace).status
        if (status and status.disruptions_allowed == allowed
                and status.current_healthy == healthy and status.expected_pods == 3):
            return status.to_dict()
        time.sleep(0.5)
    raise AssertionError(f"PDB {name}: status never reached disruptionsAllowed {allowed}, "
                         f"currentHealthy {healthy}: {status}")


def test_a_pdb_that_allows_no_eviction_fails_by_its_live_status(k8s, namespace, tmp_path):
    core, apps, policy = k8s.CoreV1Api(), k8s.AppsV1Api(), k8s.PolicyV1Api()
    nodes = [n.metadata.name for n in core.list_node().items
             if not (n.spec.taints or [])][:2]
    assert len(nodes) == 2, "the local cluster has fewer than two untainted nodes"
    for node in nodes:
        core.patch_node(node, {"metadata": {"labels": {TEST_LABEL: namespace}}})
    try:
        # stuck: 3 replicas, room for 2; minAvailable 2 of 3 looks fine in the spec
        stuck, healthy = deployment("stuck", 3, pool=namespace), deployment("healthy", 3)
        for obj in (stuck, healthy):
            apps.create_namespaced_deployment(namespace, obj)
        for name in ("stuck", "healthy"):
            policy.create_namespaced_pod_disruption_budget(namespace, budget(name))
        _observed(k8s, namespace, "stuck", allowed=0, healthy=2)
        _observed(k8s, namespace, "healthy", allowed=1, healthy=3)

        state = checks.State(read_objects(plain_read, k8s),
                             namespaces=(namespace,))
        found = {f.resource.split("/")[2].rsplit("-", 1)[0]: f for f in checks.run(state, "04")
                 if f.check == "AKS-MNT-007"}
        assert found["stuck"].status == "fail"
        assert found["stuck"].evidence == (
            "PodDisruptionBudget stuck (minAvailable 2, 3 replicas) allows no eviction now, "
            "status: disruptionsAllowed 0 (currentHealthy 2, desiredHealthy 2, expectedPods 3): "
            "a node drain waits until more pods are healthy")
        assert found["healthy"].status == "pass"
        assert found["healthy"].evidence == (
            "PodDisruptionBudget healthy (minAvailable 2, 3 replicas); status: disruptionsAllowed "
            "1 (currentHealthy 3, desiredHealthy 2, expectedPods 3)")

        # the same objects from files, status and all (kubectl get -o yaml): judged by the spec
        saved = [plain_read("get", lambda: apps.read_namespaced_deployment("stuck", namespace)),
                 plain_read("get", lambda: policy.read_namespaced_pod_disruption_budget(
                     "stuck", namespace))]
        assert saved[1]["status"]["disruptionsAllowed"] == 0
        (tmp_path / "saved.yaml").write_text(yaml.safe_dump_all(saved))
        view = load_files([tmp_path]).objects
        from_files = [f for f in checks.run(checks.State(view, origin="files"), "04")
                      if f.check == "AKS-MNT-007"]
        assert [(f.resource, f.status, f.evidence) for f in from_files] == [
            (f"Deployment/{namespace}/stuck", "pass",
             "PodDisruptionBudget stuck (3 replicas); from files: judged from the spec, its "
             "status (disruptionsAllowed) is not known")]
    finally:
        for node in nodes:
            core.patch_node(node, {"metadata": {"labels": {TEST_LABEL: None}}})
