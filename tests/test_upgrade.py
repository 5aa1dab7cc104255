"""The simulated AKS node-pool upgrade (targets.upgrade), for real on the session's cluster.

The upgrades run on a pool of their own (`upg`, 3 nodes, tainted so that nothing else lands
there), created and deleted by each test: the session's `system` and `user` pools keep their
nodes, names and versions, which other tests and the notebooks rely on.
"""

from __future__ import annotations

import pytest

from aks_runbook.notebook import views
from aks_runbook.targets import upgrade
from aks_runbook.targets.upgrade import Blocked, Event, Sample, UpgradeResult

POOL = "upg"
TAINT = {"key": "workload", "value": "upgrade-demo", "effect": "NoSchedule"}
SURGE = upgrade.SURGE_ANNOTATION


# ---- without a cluster --------------------------------------------------------------------------

def test_label_selector_reads_labels_and_expressions():
    assert upgrade.label_selector({"matchLabels": {"b": "2", "a": "1"}}) == "a=1,b=2"
    assert upgrade.label_selector({"matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["web", "api"]},
        {"key": "x", "operator": "NotIn", "values": ["1"]},
        {"key": "y", "operator": "Exists"}, {"key": "z", "operator": "DoesNotExist"}]}) == (
        "tier in (web,api),x notin (1),y,!z")
    assert upgrade.label_selector(None) == ""


def test_a_surge_node_takes_the_next_vmss_instance_name():
    names = ["aks-user-75276105-vmss000000", "aks-user-75276105-vmss00000a"]
    assert upgrade._next_name(names, "user") == "aks-user-75276105-vmss00000b"
    assert upgrade._next_name(["odd-name"], "user") == "user-surge-1"


def test_a_node_like_another_keeps_its_shape_at_the_new_version():
    template = {
        "metadata": {"name": "aks-user-1-vmss000000", "uid": "u", "resourceVersion": "9",
                     "labels": {"agentpool": "user", "kubernetes.azure.com/agentpool": "user",
                                "kubernetes.io/hostname": "aks-user-1-vmss000000",
                                upgrade.UPGRADE_STATUS_LABEL: upgrade.QUARANTINED},
                     "annotations": {upgrade.KWOK_ANNOTATION: "fake",
                                     upgrade.SURGE_ANNOTATION: "true"}},
        "spec": {"unschedulable": True,
                 "providerID": "azure:///subscriptions/0/resourceGroups/mc/providers/Microsoft."
                               "Compute/virtualMachineScaleSets/aks-user-1-vmss/virtualMachines/0",
                 "taints": [TAINT, {"key": "node.kubernetes.io/unschedulable",
                                    "effect": "NoSchedule"}]},
        "status": {"capacity": {"pods": "110"}, "allocatable": {"pods": "110"},
                   "conditions": [{"type": "Ready", "status": "True"}],
                   "nodeInfo": {"kubeletVersion": "v1.35.0", "osImage": "Ubuntu 22.04.5 LTS"}},
    }
    node = upgrade.node_like(template, "aks-user-1-vmss00000b", "v1.36.3")
    assert node["metadata"] == {
        "name": "aks-user-1-vmss00000b",
        "labels": {"agentpool": "user", "kubernetes.azure.com/agentpool": "user",
                   "kubernetes.io/hostname": "aks-user-1-vmss00000b"},
        "annotations": {upgrade.KWOK_ANNOTATION: "fake"}}
    assert node["spec"] == {"taints": [TAINT], "providerID": (
        "azure:///subscriptions/0/resourceGroups/mc/providers/Microsoft.Compute/"
        "virtualMachineScaleSets/aks-user-1-vmss/virtualMachines/11")}
    assert node["status"] == {"capacity": {"pods": "110"}, "allocatable": {"pods": "110"},
                              "nodeInfo": {"kubeletVersion": "v1.36.3",
                                           "osImage": "Ubuntu 22.04.5 LTS"}}
    other = upgrade.node_like(template, "aks-upg-2-vmss000001", "v1.35.0", pool="upg")
    assert other["metadata"]["labels"]["agentpool"] == "upg"
    assert other["spec"]["providerID"].endswith("/aks-upg-2-vmss/virtualMachines/1")


def test_max_surge_is_a_count_or_a_percentage_rounded_up():
    assert upgrade.surge_count(2, 3) == 2
    assert upgrade.surge_count("33%", 3) == 1 and upgrade.surge_count("34%", 3) == 2
    assert upgrade.surge_count("100%", 3) == 3 and upgrade.surge_count("10%", 1) == 1


def test_versions_compare_as_numbers():
    assert upgrade._version("v1.36.3") > upgrade._version("v1.35.10")
    assert upgrade._version("v1.36.3+k3s1") == (1, 36, 3)


def _result(samples, blocked=(), state="Succeeded"):
    return UpgradeResult(pool="p", version="v1.36.3", state=state, behavior="Schedule",
                         nodes={"n0": "v1.36.3", "n1": "v1.35.0"}, events=[
                             Event(0.0, "surge-added", "n2", "buffer node at v1.36.3"),
                             Event(0.5, "cordon", "n0"), Event(0.6, "evicted", "n0", "ns/a"),
                             Event(1.0, "done", "p", state)],
                         samples=list(samples), blocked=list(blocked), quarantined=[],
                         duration=1.0)


def test_the_result_compares_the_app_with_its_pdb_at_every_sample():
    fine = _result([Sample(0, 4, 3), Sample(0.5, 3, 3), Sample(0.7, 4, 3)])
    assert (fine.min_ready, fine.min_available, fine.never_below_pdb) == (3, 3, True)
    assert not fine.all_upgraded
    assert "at least 3 pod(s) ready throughout (PDB minimum 3): never below its PDB" in (
        fine.summary())
    below = _result([Sample(0, 4, 3), Sample(0.5, 2, 3)])
    assert below.below_pdb == [Sample(0.5, 2, 3)] and "BELOW its PDB 1 time(s)" in below.summary()
    assert _result([]).min_ready is None and _result([]).never_below_pdb


def test_the_explanation_names_the_429_and_the_ways_out():
    blocked = [Blocked("n0", "ns/web-1", 429, "Cannot evict pod as it would violate the pod's "
                       "disruption budget.")]
    text = upgrade.explain(blocked, ["n0"], "Schedule", 2.0)
    assert "refused with 429 Too Many Requests until the drain timeout (2 s)" in text
    assert "violate the pod's disruption budget. AKS reports this as UpgradeFailed" in text
    assert "made schedulable again and not upgraded" in text
    assert "--undrainable-node-behavior Cordon" in text and "minAvailable" in text
    cordon = upgrade.explain(blocked, ["n0", "n1"], "Cordon", 2.0, max_blocked=1)
    assert "kubernetes.azure.com/upgrade-status=Quarantined" in cordon
    assert "more than max-blocked-nodes (1) nodes were blocked" in cordon
    assert upgrade.explain([], [], "Schedule", 2.0) == ""


def test_the_timeline_view_has_a_plot_and_a_plain_table():
    result = _result([Sample(0, 4, 3), Sample(0.6, 3, 3), Sample(0.8, 4, 3)])
    fig, table = views.upgrade_timeline(result)
    assert list(table.columns) == ["t (s)", "event", "node", "detail"]
    assert list(table["event"]) == ["surge-added", "cordon", "evicted", "done"]
    assert table.index.name == "step" and list(table.index) == [1, 2, 3, 4]
    assert len(fig.axes) == 2
    _, stable = views.upgrade_timeline(result, stable=True)
    assert list(stable.columns) == ["event", "node"]


def test_settings_aks_does_not_have_are_refused():
    with pytest.raises(ValueError, match="Schedule"):
        upgrade.upgrade_pool(None, "p", "v1.36.3", undrainable="Delete")
    with pytest.raises(ValueError, match="maxUnavailable"):
        upgrade.upgrade_pool(None, "p", "v1.36.3", max_surge=0)


# ---- on the session's cluster -------------------------------------------------------------------

def _shape(k8s) -> dict[str, tuple[str, str]]:
    return {n.metadata.name: (n.metadata.labels.get("agentpool"),
                              n.status.node_info.kubelet_version)
            for n in k8s.CoreV1Api().list_node().items}


@pytest.fixture
def versions(k8s) -> tuple[str, str]:
    """(old, new): the previous minor, and the control plane's version."""
    new = k8s.VersionApi().get_code().git_version
    major, minor = upgrade._version(new)[:2]
    return f"v{major}.{minor - 1}.0", new


@pytest.fixture
def pool(k8s, versions):
    """Pool `upg`: 3 nodes at the old version shaped like the user pool's; deleted afterwards,
    leaving the session's nodes as they were."""
    before = _shape(k8s)
    names = upgrade.add_pool(k8s, POOL, 3, versions[0], taints=[TAINT])
    yield names
    upgrade.delete_pool(k8s, POOL)
    assert _shape(k8s) == before


def _node(k8s, name):
    return k8s.CoreV1Api().read_node(name)


def test_an_upgrade_surges_drains_and_reimages_every_node_within_the_pdb(k8s, pool, namespace,
                                                                        versions):
    upgrade.deploy_app(k8s, namespace, replicas=4, min_available=3, pool=POOL)
    seen: list[Event] = []
    result = upgrade.upgrade_pool(k8s, POOL, versions[1], pdb=(namespace, "web"),
                                  retry_interval=0.5, report=seen.append)

    assert result.state == "Succeeded" and result.all_upgraded, result.summary()
    assert sorted(result.nodes) == pool  # same names: reimaged in place; surge node gone
    assert {_node(k8s, n).status.node_info.kubelet_version for n in pool} == {versions[1]}
    assert not any(_node(k8s, n).spec.unschedulable for n in pool)
    assert result.min_ready == 3 and result.min_available == 3 and result.never_below_pdb
    assert result.samples[0].ready == 4 and result.samples[-1].ready == 4
    assert seen == result.events
    assert [e.t for e in seen] == sorted(e.t for e in seen)

    kinds = [(e.kind, e.node) for e in seen]
    surge = seen[0].node
    assert seen[0].kind == "surge-added" and surge not in pool
    for name in pool:  # one node after the other: cordon, evictions, drained, reimaged
        steps = [kinds.index((kind, name)) for kind in ("cordon", "drained", "reimaged")]
        evictions = [i for i, k in enumerate(kinds) if k == ("evicted", name)]
        assert steps == sorted(steps)
        assert all(steps[0] < i < steps[1] for i in evictions)
    assert [kinds.index(("cordon", n)) for n in pool] == sorted(
        kinds.index(("cordon", n)) for n in pool)
    assert kinds.index(("reimaged", pool[0])) < kinds.index(("cordon", pool[1]))
    assert sum(kind == "evicted" for kind, _ in kinds) >= 4  # every pod of the app moved
    assert kinds[-2:] == [("node-deleted", surge), ("done", POOL)]
    assert "Succeeded in" in result.summary() and "never below its PDB" in result.summary()


def test_a_larger_surge_drains_nodes_together(k8s, pool, namespace, versions):
    upgrade.deploy_app(k8s, namespace, replicas=4, min_available=3, pool=POOL)
    result = upgrade.upgrade_pool(k8s, POOL, versions[1], pdb=(namespace, "web"),
                                  max_surge="50%", retry_interval=0.5, report=None)

    assert result.state == "Succeeded" and result.all_upgraded and sorted(result.nodes) == pool
    assert result.never_below_pdb and result.min_ready == 3
    kinds = [(e.kind, e.node) for e in result.events]
    surges = [node for kind, node in kinds if kind == "surge-added"]
    assert len(surges) == 2
    # the first two nodes are cordoned before either is drained
    assert kinds.index(("cordon", pool[1])) < kinds.index(("drained", pool[0]))
    assert kinds.index(("reimaged", pool[1])) < kinds.index(("cordon", pool[2]))
    assert {node for kind, node in kinds if kind == "node-deleted"} == set(surges)


def test_a_pdb_allowing_no_disruption_blocks_the_drain_until_it_is_relaxed(k8s, pool, namespace,
                                                                          versions):
    upgrade.deploy_app(k8s, namespace, replicas=4, min_available=4, pool=POOL)
    result = upgrade.upgrade_pool(k8s, POOL, versions[1], pdb=(namespace, "web"),
                                  drain_timeout=2, retry_interval=0.5, report=None)

    assert result.state == "Failed" and not result.all_upgraded
    blocked = result.blocked[0]
    assert blocked.status == 429
    assert "Cannot evict pod as it would violate the pod's disruption budget" in blocked.message
    assert "needs 4 healthy pods and has 4 currently" in blocked.message
    kinds = [e.kind for e in result.events if e.node == blocked.node]
    assert kinds[0] == "cordon" and kinds[-2:] == ["drain-timeout", "uncordon"]
    assert set(kinds[1:-2]) == {"eviction-blocked"}
    assert not _node(k8s, blocked.node).spec.unschedulable  # Schedule: schedulable again
    assert sorted(result.nodes) == pool  # the surge node was removed
    assert result.nodes[blocked.node] == versions[0]
    assert result.events[-1].kind == "done" and result.events[-2].kind == "node-deleted"
    assert result.never_below_pdb and result.min_ready == 4
    assert "429 Too Many Requests" in result.explanation
    assert "--undrainable-node-behavior Cordon" in result.explanation

    k8s.PolicyV1Api().patch_namespaced_pod_disruption_budget(
        "web", namespace, {"spec": {"minAvailable": 3}})
    retried = upgrade.upgrade_pool(k8s, POOL, versions[1], pdb=(namespace, "web"),
                                   drain_timeout=30, retry_interval=0.5, report=None)
    assert retried.state == "Succeeded" and retried.all_upgraded, retried.summary()
    assert sorted(retried.nodes) == pool
    assert retried.never_below_pdb and retried.min_ready == 3


def test_cordon_quarantines_the_blocked_node_and_upgrades_the_others(k8s, pool, namespace,
                                                                     versions):
    # A singleton whose PDB allows no disruption: the classic undrainable node.
    upgrade.deploy_app(k8s, namespace, replicas=1, min_available=1, pool=POOL)
    (pod,) = k8s.CoreV1Api().list_namespaced_pod(namespace).items
    result = upgrade.upgrade_pool(k8s, POOL, versions[1], pdb=(namespace, "web"),
                                  drain_timeout=2, retry_interval=0.5, undrainable="Cordon",
                                  report=None)

    stuck = pod.spec.node_name
    assert result.state == "Failed" and result.quarantined == [stuck]
    node = _node(k8s, stuck)
    assert node.spec.unschedulable
    assert node.metadata.labels[upgrade.UPGRADE_STATUS_LABEL] == upgrade.QUARANTINED
    assert node.status.node_info.kubelet_version == versions[0]
    kept = [e.node for e in result.events if e.kind == "surge-kept"]
    assert len(kept) == 1 and kept[0] not in pool  # the surge node stays, as a pool member
    assert SURGE not in (_node(k8s, kept[0]).metadata.annotations or {})
    assert {n: v for n, v in result.nodes.items() if n != stuck} == {
        name: versions[1] for name in [*pool, kept[0]] if name != stuck}
    assert result.never_below_pdb and "Quarantined" in result.explanation


def test_a_pool_is_never_upgraded_past_its_control_plane(k8s, pool, versions):
    with pytest.raises(ValueError, match="newer than the control plane"):
        upgrade.upgrade_pool(k8s, POOL, "v1.99.0", report=None)
    assert {_node(k8s, n).status.node_info.kubelet_version for n in pool} == {versions[0]}
