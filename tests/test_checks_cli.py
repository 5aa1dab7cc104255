"""`aks-runbook posture --from-files`: the Kubernetes checks on manifests, the Azure checks on
--cluster-json when given; exit 0 whatever it finds, 2 when it cannot run."""

from __future__ import annotations

import csv
import io
import json

import pytest

from aks_runbook import checks, cli

COLUMNS = ["check", "resource", "status", "severity", "evidence", "remediation", "public_ids",
           "differs"]
MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers: [{name: setup, image: busybox}]
      containers: [{name: web, image: mcr.microsoft.com/oss/nginx:1.27}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: typo, namespace: shop}
spec:
  selector: {app: wbe}
  ports: [{port: 80}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}]
"""
POLICIES = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: shop}
spec: {podSelector: {}, ingress: [{}]}
"""
SHOW = {"name": "aks1", "apiServerAccessProfile": {"authorizedIPRanges": ["0.0.0.0/0"]},
        "networkProfile": {"networkPlugin": "azure", "networkPolicy": "cilium",
                           "outboundType": "loadBalancer"},
        "agentPoolProfiles": [{"name": "system", "enableNodePublicIP": False}]}


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "app.yaml").write_text(MANIFESTS)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "np.yml").write_text(POLICIES)
    (tmp_path / "README.md").write_text("not a manifest")
    return tmp_path


def posture(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["posture", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def statuses(rows: list[dict]) -> dict[tuple[str, str], str]:
    return {(r["check"], r["resource"]): r["status"] for r in rows}


EXPECTED_KUBERNETES = {
    ("AKS-OV-001", "ClusterRoleBinding/everyone-admin"): "fail",
    ("AKS-OV-002", "Service/shop/typo"): "fail",
    ("AKS-OV-002", "Service/shop/web"): "pass",
    ("AKS-OV-003", "Deployment/shop/web"): "fail",
    ("AKS-NET-005", "Namespace/shop"): "fail",
    ("AKS-NET-006", "Deployment/shop/web"): "fail",
    ("AKS-NET-007", "Deployment/shop/web"): "fail",
}


def test_json_on_files_without_cluster_json(capsys, folder):
    code, out, _ = posture(capsys, "--from-files", str(folder), "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert all(set(COLUMNS) <= set(r) for r in rows)
    found = statuses(rows)
    assert {k: found[k] for k in EXPECTED_KUBERNETES} == EXPECTED_KUBERNETES
    azure = {k: v for k, v in found.items() if k[1] == "ManagedCluster"}
    assert set(azure.values()) == {"not-applicable"}
    assert {c.id for c in checks.CATALOG if c.scope == "azure"} == {k[0] for k in azure}


def test_json_on_files_with_cluster_json(capsys, folder, tmp_path):
    show = tmp_path / "show.json"
    show.write_text(json.dumps(SHOW))
    code, out, _ = posture(capsys, "--from-files", str(folder / "app.yaml"),
                           str(folder / "policies"), "--cluster-json", str(show), "--format",
                           "json")
    assert code == 0
    found = statuses(json.loads(out))
    assert found[("AKS-NET-001", "ManagedCluster/aks1")] == "fail"  # 0.0.0.0/0
    assert found[("AKS-NET-009", "ManagedCluster/aks1")] == "fail"
    assert found[("AKS-NET-002", "ManagedCluster/aks1")] == "pass"
    assert found[("AKS-NET-004", "AgentPool/system")] == "pass"
    assert found[("AKS-OV-001", "ClusterRoleBinding/everyone-admin")] == "fail"


def test_csv_has_the_findings_columns(capsys, folder):
    code, out, _ = posture(capsys, "--from-files", str(folder), "--format", "csv",
                           "--chapter", "overview")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == COLUMNS
    assert {r["check"] for r in rows} == {"AKS-OV-001", "AKS-OV-002", "AKS-OV-003",
                                          "AKS-OV-101", "AKS-OV-102", "AKS-OV-103",
                                          "AKS-OV-104", "AKS-OV-105"}
    assert any(r["status"] == "fail" and "busybox (docker.io, init container)" in r["evidence"]
               for r in rows)


def test_table_shows_failures_and_wide_the_controls_and_differences(capsys, folder):
    code, out, _ = posture(capsys, "--from-files", str(folder), "--chapter", "network")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["STATUS", "SEVERITY", "CHECK", "RESOURCE", "TITLE"]
    assert lines[1].split()[:4] == ["fail", "medium", "AKS-NET-005", "Namespace/shop"]
    assert lines[2].strip().startswith("ingress default deny (deny) is undone by allow-all")
    assert "C-0206" not in out
    _, wide, _ = posture(capsys, "--from-files", str(folder), "--chapter", "network", "-o",
                         "wide")
    assert "      controls: CIS 4.4.2 (kubescape C-0206)" in wide and "      differs: " in wide


def test_allowed_registry_option(capsys, folder):
    _, out, _ = posture(capsys, "--from-files", str(folder), "--format", "json",
                        "--allowed-registry", "docker.io/library")
    assert statuses(json.loads(out))[("AKS-OV-003", "Deployment/shop/web")] == "pass"


def test_a_kind_not_analysed_is_noted(capsys, folder):
    (folder / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    code, _, err = posture(capsys, "--from-files", str(folder), "--format", "json")
    assert code == 0 and "ConfigMap (1)" in err


@pytest.mark.parametrize("content, message", [
    ("kind: Pod\nmetadata: {name: [\n", "not valid YAML"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {}\n", "document 1, line 1: Pod without "
                                                  "metadata.name"),
])
def test_bad_manifest_exits_2(capsys, tmp_path, content, message):
    (tmp_path / "bad.yaml").write_text(content)
    code, out, err = posture(capsys, "--from-files", str(tmp_path))
    assert code == 2 and out == "" and message in err


def test_missing_path_exits_2(capsys, tmp_path):
    code, _, err = posture(capsys, "--from-files", str(tmp_path / "nowhere"))
    assert code == 2 and "no such file or folder" in err


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_bad_cluster_json_exits_2(capsys, folder, tmp_path, content):
    show = tmp_path / "show.json"
    show.write_text(content)
    code, _, err = posture(capsys, "--from-files", str(folder), "--cluster-json", str(show))
    assert code == 2 and "--cluster-json" in err


def test_missing_cluster_json_exits_2(capsys, folder, tmp_path):
    code, _, err = posture(capsys, "--from-files", str(folder), "--cluster-json",
                           str(tmp_path / "absent.json"))
    assert code == 2 and "--cluster-json" in err


def test_group_by_category_puts_the_checklist_category_first(capsys, folder):
    code, out, _ = posture(capsys, "--from-files", str(folder), "--format", "csv",
                           "--group-by", "category")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[0] == "category"
    by_check = {r["check"]: r["category"] for r in rows}
    assert by_check["AKS-OV-003"] == "Governance and Security"  # item 55b46a94
    # AKS-OV-001 judges no checklist item: its group comes after every checklist category
    last = max(n for n, r in enumerate(rows) if r["check"] == "AKS-OV-003")
    assert all(n > last for n, r in enumerate(rows) if r["check"] == "AKS-OV-001")
