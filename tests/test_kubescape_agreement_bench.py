"""bench/kubescape_agreement.py: how it reads a regolibrary (checkout or bare git directory),
a case's inputs and expected result, and how it counts our verdict against kubescape's. Small
libraries written here in kubescape's layout; the real snapshot is not needed."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aks_runbook.analysis import rbac

SPEC = importlib.util.spec_from_file_location(
    "kubescape_agreement", Path(__file__).parents[1] / "bench" / "kubescape_agreement.py")
bench = sys.modules.setdefault(SPEC.name, importlib.util.module_from_spec(SPEC))
SPEC.loader.exec_module(bench)

RBAC = "rbac.authorization.k8s.io"
SECRETS_READER = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "r"},
                  "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}
HARMLESS = {**SECRETS_READER,
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}


def crb(role: str = "r") -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "User", "name": "jane", "apiGroup": RBAC}]}


def aks(**properties) -> dict:
    return {"apiVersion": "management.azure.com/v1", "kind": "ClusterDescribe",
            "metadata": {"name": "c", "provider": "aks"},
            "data": {"name": "c", "location": "westeurope", "properties": properties}}


def write_case(root: Path, rule: str, case: str, inputs: dict[str, object] | None,
               expected: str) -> Path:
    folder = root / "rules" / rule / "test" / case
    folder.mkdir(parents=True)
    (folder / "expected.json").write_text(expected)
    for name, content in (inputs or {}).items():
        (folder / "input").mkdir(exist_ok=True)
        (folder / "input" / name).write_text(
            content if isinstance(content, str) else json.dumps(content))
    return folder


def write_control(root: Path, cid: str, *rules: str) -> None:
    (root / "controls").mkdir(parents=True, exist_ok=True)
    (root / "controls" / f"{cid}-x.json").write_text(
        json.dumps({"controlID": cid, "name": "x", "rulesNames": list(rules)}))


def outcomes(root: Path, tmp_path: Path) -> dict[tuple[str, str], str]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return {(o.control, o.case.name): o.kind for o in bench.measure(root, work)}


@pytest.fixture
def library(tmp_path) -> Path:
    root = tmp_path / "regolibrary"
    write_control(root, "C-0015", "secrets")
    write_case(root, "secrets", "reads", {"role.yaml": SECRETS_READER, "crb.json": crb()},
               '[{"alertMessage": "jane can read secrets"}]')
    write_case(root, "secrets", "harmless", {"role.yaml": HARMLESS, "crb.yaml": crb()}, "[]")
    write_case(root, "secrets", "missed", {"role.yaml": HARMLESS, "crb.yaml": crb()},
               '[{"alertMessage": "kubescape says so"}]')
    write_case(root, "secrets", "reads-but-passes", {"role.yaml": SECRETS_READER,
                                                     "crb.yaml": crb()}, "")
    write_case(root, "secrets", "only-a-pod", {"pod.yaml": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}}, "[]")
    write_case(root, "secrets", "no-input", None, "[]")
    return root


def test_each_case_is_counted_by_how_our_verdict_meets_kubescapes(library, tmp_path):
    assert outcomes(library, tmp_path) == {
        ("C-0015", "reads"): "agree",
        ("C-0015", "harmless"): "agree",
        ("C-0015", "missed"): "we laxer",
        ("C-0015", "reads-but-passes"): "we stricter",  # an empty expected.json is a pass
        ("C-0015", "only-a-pod"): "not applicable",  # the RBAC table reads no pod
        ("C-0015", "no-input"): "not applicable"}


def test_the_report_counts_per_control_and_names_every_laxer_case(library, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    found = bench.measure(library, work)
    text = bench.report(found, {"C-0015": bench.Citers(risks={"secrets-read"})}, {"C-0015"},
                        False)
    assert "| C-0015 | secrets-read | 6 | 2 | 1 | 1 | 2 |" in text
    assert "agreement: 2 of 4 judged cases = 50.0 %" in text
    assert "- C-0015 secrets/missed (ClusterRoleBinding, ClusterRole): kubescape fails, we " \
           "pass: RBAC rows: none" in text
    assert "only-a-pod (Pod): kubescape passes, we not-applicable: the RBAC table reads roles " \
           "and bindings, the inputs are Pod" in text
    assert "secrets/harmless" not in text  # agreements are listed only with --cases
    assert "secrets/harmless" in bench.report(found, {}, set(), True)


def test_a_bare_git_directory_is_read_at_its_head(library, tmp_path):
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    env = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(library)], check=True)
    subprocess.run(["git", "-C", str(library), "add", "."], check=True)
    subprocess.run(["git", *env, "-C", str(library), "commit", "-qm", "x"], check=True)
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(library), str(bare)], check=True)
    work = tmp_path / "extract"
    work.mkdir()
    root = bench.library(bare, work)
    assert root != bare and (root / "rules" / "secrets" / "test" / "reads").is_dir()
    assert outcomes(root, tmp_path)[("C-0015", "missed")] == "we laxer"


def test_a_path_that_is_neither_names_itself(tmp_path):
    with pytest.raises(SystemExit, match=str(tmp_path / "nothing")):
        bench.library(tmp_path / "nothing", tmp_path)


def test_an_aks_description_becomes_what_az_aks_show_prints():
    shown = bench.az_aks_show(aks(enableRBAC=True, networkProfile={"networkPlugin": "azure"}))
    assert shown == {"name": "c", "location": "westeurope", "enableRBAC": True,
                     "networkProfile": {"networkPlugin": "azure"}}


def test_azure_level_checks_judge_aks_descriptions_only(tmp_path):
    root = tmp_path / "lib"
    write_control(root, "C-0088", "rbac")
    write_case(root, "rbac", "off", {"aks.json": aks(enableRBAC=False)}, '[{"a": 1}]')
    write_case(root, "rbac", "on", {"aks.json": aks(enableRBAC=True)}, "[]")
    write_case(root, "rbac", "eks", {"eks.json": {**aks(), "metadata": {"provider": "eks"}}},
               "[]")
    assert outcomes(root, tmp_path) == {("C-0088", "off"): "agree", ("C-0088", "on"): "agree",
                                        ("C-0088", "eks"): "not applicable"}


def test_a_list_document_and_several_documents_are_read(tmp_path):
    root = tmp_path / "lib"
    write_control(root, "C-0015", "secrets")
    listed = json.dumps({"kind": "List", "items": [SECRETS_READER, crb()]})
    write_case(root, "secrets", "list", {"all.json": listed}, '[{"a": 1}]')
    docs = "---\n".join(json.dumps(d) + "\n" for d in (SECRETS_READER, crb()))
    write_case(root, "secrets", "docs", {"all.yaml": docs}, '[{"a": 1}]')
    assert outcomes(root, tmp_path) == {("C-0015", "list"): "agree",
                                        ("C-0015", "docs"): "agree"}


def test_files_our_loader_refuses_are_not_applicable_with_its_message(tmp_path):
    root = tmp_path / "lib"
    write_control(root, "C-0015", "secrets")
    write_case(root, "secrets", "twice", {"a.yaml": SECRETS_READER, "b.yaml": SECRETS_READER,
                                          "crb.yaml": crb()}, '[{"a": 1}]')
    work = tmp_path / "work"
    work.mkdir()
    [outcome] = bench.measure(root, work)
    assert outcome.kind == "not applicable"
    assert "defined twice" in outcome.ours.why
    assert "rules/secrets/test/twice/input/b.yaml" in outcome.ours.why


def test_an_allow_list_in_data_json_becomes_the_allowed_registries(tmp_path):
    root = tmp_path / "lib"
    write_control(root, "C-0078", "registries")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "quay.io/x/y:1"}]}}
    folder = write_case(root, "registries", "allowed", {"pod.yaml": pod}, "[]")
    (folder / "data.json").write_text(json.dumps(
        {"postureControlInputs": {"imageRepositoryAllowList": ["quay.io"]}}))
    write_case(root, "registries", "default", {"pod.yaml": pod}, '[{"a": 1}]')
    assert outcomes(root, tmp_path) == {("C-0078", "allowed"): "agree",
                                        ("C-0078", "default"): "agree"}


def row(risk: str, binding: str) -> rbac.Row:
    return rbac.Row("User/jane", binding, "ClusterRole/x", "*", risk, "high")


@pytest.mark.parametrize("risk, binding, risks, answers", [
    ("secrets-read", "RoleBinding/shop/b", {"secrets-read"}, True),
    ("exec", "RoleBinding/shop/b", {"secrets-read"}, False),
    # a `*` on `*` row stands for every path its binding reaches
    ("cluster-admin", "ClusterRoleBinding/b", {"persistent-volumes"}, True),
    ("namespace-admin", "RoleBinding/shop/b", {"secrets-read"}, True),
    # ... and a RoleBinding reaches no cluster-scoped resource, nor CoreDNS outside kube-system
    ("namespace-admin", "RoleBinding/shop/b", {"persistent-volumes"}, False),
    ("namespace-admin", "RoleBinding/shop/b", {"coredns"}, False),
    ("namespace-admin", "RoleBinding/kube-system/b", {"coredns"}, True),
    ("namespace-admin", "RoleBinding/shop/b", {"wildcard"}, True),
])
def test_a_grant_all_row_answers_the_risks_its_binding_reaches(risk, binding, risks, answers):
    assert bench.row_answers(row(risk, binding), risks) is answers


def test_every_kubescape_id_the_catalog_and_the_risk_table_cite_is_measured():
    from aks_runbook import checks

    cited = bench.cited_controls()
    for item in checks.CATALOG:
        for cid in bench.CONTROL_ID.findall(item.public_ids):
            assert item.id in cited[cid].checks
    for risk in rbac.RISKS:
        for cid in bench.CONTROL_ID.findall(risk.public_ids):
            assert risk.name in cited[cid].risks
    assert cited["C-0015"].risks >= {"secrets-read"}
    assert "AKS-OV-001" in cited["C-0035"].checks
    assert {"C-0262", "C-0265", "C-0267", "C-0272"} <= set(cited)


def test_a_case_every_citing_check_calls_not_applicable_is_not_applicable(tmp_path):
    root = tmp_path / "lib"
    write_control(root, "C-0247", "endpoint")
    write_case(root, "endpoint", "private",
               {"aks.json": aks(apiServerAccessProfile={"enablePrivateCluster": True})}, "[]")
    work = tmp_path / "work"
    work.mkdir()
    [outcome] = bench.measure(root, work)
    assert outcome.kind == "not applicable"
    assert outcome.ours.why.startswith("AKS-NET-001: private cluster")


def test_a_rolebinding_to_a_cluster_scoped_path_counts_as_its_ineffective_grant_row(tmp_path):
    root = tmp_path / "lib"
    write_control(root, "C-0278", "pv")
    creator = {**SECRETS_READER, "rules": [
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["create"]}]}
    binding = {**crb(), "kind": "RoleBinding", "metadata": {"name": "b", "namespace": "shop"}}
    write_case(root, "pv", "rolebinding", {"role.yaml": creator, "rb.yaml": binding},
               '[{"a": 1}]')
    write_case(root, "pv", "clusterrolebinding", {"role.yaml": creator, "crb.yaml": crb()},
               '[{"a": 1}]')
    work = tmp_path / "work"
    work.mkdir()
    found = {o.case.name: o for o in bench.measure(root, work)}
    assert {name: o.kind for name, o in found.items()} == {"rolebinding": "agree",
                                                          "clusterrolebinding": "agree"}
    assert found["rolebinding"].ours.why == (
        "User/jane ineffective-grant (persistent-volumes) via RoleBinding/shop/b")
    assert found["clusterrolebinding"].ours.why == (
        "User/jane persistent-volumes via ClusterRoleBinding/b")


def test_control_inputs_without_a_state_field_are_not_given(tmp_path):
    folder = write_case(tmp_path, "r", "c", None, "[]")
    (folder / "data.json").write_text(json.dumps({"postureControlInputs": {
        "imageRepositoryAllowList": ["quay.io"], "insecureCapabilities": ["NET_RAW"],
        "floatingImageTags": []}}))
    assert bench.Case("r", "c", folder).control_inputs() == {"allowed_registries": ("quay.io",)}
