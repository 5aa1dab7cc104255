"""The posture check catalog: Azure settings from az aks show (either casing) or the plan,
and the posture / reachability commands' output contracts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aks_runbook import checks
from aks_runbook.azure import plan as azplan
from aks_runbook.params import load

ROOT = Path(__file__).resolve().parents[1]

SHOW_SDK = {  # az aks show (camelCase from the SDK)
    "name": "aks1", "enableRbac": True, "disableLocalAccounts": True,
    "apiServerAccessProfile": {"enablePrivateCluster": None,
                               "authorizedIpRanges": ["131.107.0.0/16"]},
    "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay",
                       "networkPolicy": "cilium", "outboundType": "loadBalancer"},
    "agentPoolProfiles": [{"name": "system", "enableNodePublicIp": False},
                          {"name": "user", "enableNodePublicIp": True}],
}
SHOW_ARM = {  # the same cluster in raw ARM casing
    "name": "aks1", "enableRBAC": True, "disableLocalAccounts": True,
    "apiServerAccessProfile": {"authorizedIPRanges": ["131.107.0.0/16"]},
    "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay",
                       "networkPolicy": "cilium", "outboundType": "loadBalancer"},
    "agentPoolProfiles": [{"name": "system", "enableNodePublicIP": False},
                          {"name": "user", "enableNodePublicIP": True}],
}


def azure_findings(cluster: dict) -> dict[tuple[str, str], str]:
    state = checks.State(cluster=cluster, cluster_source="az aks show", has_cluster=False)
    return {(f.check, f.resource): f.status for f in checks.run(state, chapter="02")
            if f.resource != "Cluster"}


@pytest.mark.parametrize("cluster", [SHOW_SDK, SHOW_ARM], ids=["sdk-casing", "arm-casing"])
def test_azure_checks_read_either_casing(cluster):
    assert azure_findings(cluster) == {
        ("AKS-NET-001", "ManagedCluster/aks1"): "pass",
        ("AKS-NET-002", "ManagedCluster/aks1"): "pass",
        ("AKS-NET-003", "ManagedCluster/aks1"): "fail",
        ("AKS-NET-004", "AgentPool/system"): "pass",
        ("AKS-NET-004", "AgentPool/user"): "fail",
        ("AKS-NET-009", "ManagedCluster/aks1"): "fail",
        ("AKS-NET-101", "ManagedCluster/aks1"): "not-applicable",
        ("AKS-NET-102", "ManagedCluster/aks1"): "not-applicable",
        ("AKS-NET-103", "ManagedCluster/aks1"): "not-applicable",
    }


def test_open_api_server_fails_and_private_passes():
    open_cluster = {**SHOW_SDK, "apiServerAccessProfile": {"enablePrivateCluster": None}}
    found = azure_findings(open_cluster)
    assert found[("AKS-NET-001", "ManagedCluster/aks1")] == "fail"
    assert found[("AKS-NET-009", "ManagedCluster/aks1")] == "fail"
    private = azure_findings({**SHOW_SDK, "apiServerAccessProfile": {"enablePrivateCluster": True}})
    assert private[("AKS-NET-001", "ManagedCluster/aks1")] == "not-applicable"  # no ranges there
    assert private[("AKS-NET-009", "ManagedCluster/aks1")] == "pass"


def test_planned_configuration_of_prod_is_judged():
    prod = load(ROOT / "environments" / "aks-prod.yaml")
    found = azure_findings(azplan.planned_cluster(prod))
    assert found[("AKS-NET-009", "ManagedCluster/aks-team1-prod")] == "pass"  # private
    assert found[("AKS-NET-001", "ManagedCluster/aks-team1-prod")] != "pass"  # no public endpoint
    assert found[("AKS-NET-003", "ManagedCluster/aks-team1-prod")] == "pass"  # UDR


@pytest.mark.parametrize("score, band", [
    (1, "low"), (3.9, "low"), (4, "medium"), (6.9, "medium"), (7, "high"), (8.9, "high"),
    (9, "critical"), (10, "critical")])
def test_severity_follows_kubescape_bands(score, band):
    assert checks.severity(score) == band


def test_every_check_has_ids_and_says_how_it_differs_in_its_findings():
    state = checks.State(has_cluster=False)
    found = checks.run(state)
    assert {f.check for f in found} == {c.id for c in checks.CATALOG}
    assert len({c.id for c in checks.CATALOG}) == len(checks.CATALOG)
    for item in checks.CATALOG:
        assert item.public_ids and "CKV_K8S_33" not in item.public_ids
    by_id = {f.check: f for f in found}
    assert all(by_id[c.id].differs == c.differs for c in checks.CATALOG)
    assert list(checks.table(found).columns) == ["check", "resource", "status", "severity",
                                                 "evidence", "remediation", "public_ids",
                                                 "differs"]


def test_views_from_files_know_every_kind_views_from_a_cluster_only_what_was_listed():
    assert checks.State({"pods": []}).unlisted("pods", "secrets") == ["secrets"]
    assert checks.State({}, origin="files").unlisted("pods", "secrets") == []


def cli(*args):
    return subprocess.run([sys.executable, "-m", "aks_runbook.cli", *args],
                          capture_output=True, text=True, timeout=300)


def test_posture_json_contract_and_exit_code(local_cluster, tmp_path):
    show = tmp_path / "show.json"
    show.write_text(json.dumps(SHOW_ARM))
    out = cli("posture", "--kubeconfig", str(local_cluster.kubeconfig), "--cluster-json",
              str(show), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows and all({"check", "resource", "status", "severity", "evidence",
                         "remediation"} <= set(r) for r in rows)
    assert {r["status"] for r in rows} <= {"pass", "fail", "not-applicable"}
    assert any(r["status"] == "fail" for r in rows), "failures do not change the exit code"
    assert all(r["resource"].count("/") in (1, 2) for r in rows)


def test_posture_without_cluster_json_marks_azure_checks_not_applicable(local_cluster):
    out = cli("posture", "--kubeconfig", str(local_cluster.kubeconfig), "--chapter",
              "network", "--format", "csv")
    assert out.returncode == 0
    assert "AKS-NET-001,ManagedCluster,not-applicable" in out.stdout


def test_posture_that_cannot_run_exits_nonzero(tmp_path):
    out = cli("posture", "--kubeconfig", str(tmp_path / "missing"))
    assert out.returncode != 0 and "cannot load the kubeconfig" in out.stderr


def test_reachability_json_contract(local_cluster, k8s, namespace):
    labels = {"app": "web"}
    k8s.AppsV1Api().create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                     {"name": "web", "image": "mcr.microsoft.com/azurelinux/busybox:1.36",
                      "ports": [{"containerPort": 8080}]}]}}}})
    k8s.NetworkingV1Api().create_namespaced_network_policy(namespace, {
        "metadata": {"name": "deny"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    import time

    for _ in range(60):
        out = cli("reachability", "--kubeconfig", str(local_cluster.kubeconfig), "--namespace",
                  namespace, "--format", "json")
        rows = json.loads(out.stdout)
        pairs = [r for r in rows if not (r["source"] + r["destination"]).count("ip/")]
        if len(pairs) == 2:
            break
        time.sleep(0.5)
    for row in rows:
        assert set(row) == {"source", "destination", "port", "allowed", "policies"}
    # ingress denied by policy, whatever port the containers declare: one `*` row per pair
    assert len(pairs) == 2, rows
    for row in pairs:
        assert row["source"].startswith(f"{namespace}/web-") and row["port"] == "*"
        assert row["allowed"] is False and row["policies"] == []
    # outside addresses: egress is not isolated (everything), ingress is (nothing)
    outside = {(r["source"].startswith("ip/"), r["port"], r["allowed"]) for r in rows
               if r not in pairs}
    assert outside == {(False, "*", True), (True, "*", False)}, rows


# ---- added for mutation testing: AKS-OV-001 rows for AKS's Entra admin binding ------------------

ENTRA_BINDING = {
    "kind": "ClusterRoleBinding", "metadata": {"name": "aks-cluster-admin-binding-aad"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                "name": "cluster-admin"},
    "subjects": [{"kind": "Group", "name": "g-ops"}, {"kind": "Group", "name": "g-sre"}]}
ENTRA_DOC = ("AKS creates it for the groups given with --aad-admin-group-object-ids: 'This group "
             "is registered as an admin group on the cluster to grant admin permissions' (Enable "
             "Microsoft Entra ID Authentication for the AKS Control Plane); who joins them is "
             "governed in Entra ID (PIM)")


def entra_rows(cluster: dict | None) -> list[tuple[str, str, str]]:
    state = checks.State({"clusterroles": [], "clusterrolebindings": [ENTRA_BINDING],
                          "roles": [], "rolebindings": []}, cluster=cluster)
    return [(f.resource, f.status, f.evidence) for f in checks.run(state, chapter="01")
            if f.check == "AKS-OV-001"]


def test_entra_admin_groups_without_the_configuration_are_not_judged_and_named():
    assert entra_rows(None) == [(
        "ClusterRoleBinding/aks-cluster-admin-binding-aad", "not-applicable",
        "cluster-admin for Group g-ops, Group g-sre: whether these are the cluster's Entra admin "
        "groups needs the cluster's configuration (aadProfile.adminGroupObjectIDs). "
        + ENTRA_DOC)]


def test_entra_admin_groups_named_by_the_configuration_pass_with_the_reason():
    cluster = {"aadProfile": {"adminGroupObjectIDs": ["g-ops", "g-sre"]}}
    assert entra_rows(cluster) == [
        ("Binding/*", "pass", "no binding gives cluster-admin or * on * beyond system:masters "
                              "and the Entra admin groups (1 bindings checked)"),
        ("ClusterRoleBinding/aks-cluster-admin-binding-aad", "pass",
         "cluster-admin for Group g-ops, Group g-sre, the cluster's Entra admin groups: "
         + ENTRA_DOC)]
