"""What `posture`, `rbac` and `reachability` show a person and a CI system: the terminal table
(summary line, failures first, lines that fit, colour only on a terminal), --fail-on's exit
code, SARIF checked against the published 2.1.0 schema, JUnit as Jenkins and Azure DevOps read
it, and --from-files on a folder that holds more than manifests."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from aks_runbook import cli
from aks_runbook.cli import sarif

SCHEMA = Path(__file__).parent / "data" / "sarif" / "sarif-schema-2.1.0.json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG = "payments-reconciliation-worker-with-a-name-long-enough-to-overflow-a-column-x9"
APP = f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: shop}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: mcr.microsoft.com/oss/nginx:1.27}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {LONG}, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: pay}}}}
  template:
    metadata: {{labels: {{app: pay}}}}
    spec:
      containers: [{{name: pay, image: mcr.microsoft.com/oss/nginx:1.27}}]
"""
ADMIN = """\
# everyone is cluster-admin
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}]
"""
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: pay}}}]}]
"""
SEVERITIES = ["critical", "high", "medium", "low"]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A repository as users have it: manifests, and YAML/JSON that are not manifests."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "app.yaml").write_text(APP)
    (tmp_path / "deploy" / "admin.yaml").write_text("---\n" + ADMIN)
    (tmp_path / "deploy" / "policy.yaml").write_text(POLICY)
    (tmp_path / "package.json").write_text('{"name": "shop", "version": "1.0.0"}')
    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "values.yaml").write_text("replicaCount: 2\nimage: {tag: '1.0'}\n")
    (tmp_path / "results.json").write_text('[{"kind": "finding", "status": "pass"}]')
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def posture_json(capsys) -> list[dict]:
    code, out, _ = run(capsys, "posture", "--from-files", ".", "--format", "json")
    assert code == 0
    return json.loads(out)


# ---- the terminal table ------------------------------------------------------------------------

def test_posture_lists_failures_by_severity_then_a_summary(folder, capsys):
    rows = posture_json(capsys)
    code, out, err = run(capsys, "posture", "--from-files", ".")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["STATUS", "SEVERITY", "CHECK", "RESOURCE", "TITLE"]
    listed = [line.split()[:4] for line in lines[1:-1] if not line.startswith(" ")]
    failed = [r for r in rows if r["status"] == "fail"]
    assert len(listed) == len(failed) and {s for s, *_ in listed} == {"fail"}
    ranks = [SEVERITIES.index(sev) for _, sev, *_ in listed]
    assert ranks == sorted(ranks) and listed[0][1:] == ["critical", "AKS-OV-001",
                                                         "ClusterRoleBinding/everyone-admin"]
    counts = {s: sum(r["status"] == s for r in rows) for s in ("fail", "pass", "not-applicable")}
    by_severity = ", ".join(f"{n} {s}" for s in SEVERITIES
                            if (n := sum(r["severity"] == s for r in failed)))
    assert lines[-1] == (f"{len(rows)} findings: {counts['fail']} failed ({by_severity}), "
                         f"{counts['pass']} passed, {counts['not-applicable']} not applicable; "
                         f"--all shows {counts['pass'] + counts['not-applicable']} more")
    assert "1 critical" in lines[-1]


def test_each_finding_fits_120_columns_and_its_evidence_is_wrapped_below(folder, capsys):
    rows = posture_json(capsys)
    _, out, _ = run(capsys, "posture", "--from-files", ".")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 120
    # the long workload name is shortened in its middle: its end still tells it apart
    [pay] = [line for line in lines if "-x9 " in line and "AKS-AUTH-005" in line]
    assert "…" in pay and "Deployment/shop/payments" in pay
    # a long evidence: indented lines below its finding, which read back as the evidence
    [long] = [r for r in rows if r["status"] == "fail" and r["check"] == "AKS-MNT-006"
              and r["resource"] == "Deployment/shop/web"]
    at = next(n for n, line in enumerate(lines)
              if "AKS-MNT-006" in line and "Deployment/shop/web" in line)
    below = []
    for line in lines[at + 1:]:
        if not line.startswith("      "):
            break
        below.append(line.strip())
    assert " ".join(below) == long["evidence"]


def test_all_adds_passes_after_failures_and_wide_adds_the_long_columns(folder, capsys):
    _, out, _ = run(capsys, "posture", "--from-files", ".", "--all")
    statuses = [line.split()[0] for line in out.splitlines()[1:-1] if not line.startswith(" ")]
    assert statuses == sorted(statuses, key=["fail", "not-applicable", "pass"].index)
    assert "pass" in statuses and "not-applicable" in statuses
    assert not out.splitlines()[-1].endswith("more")
    _, out, _ = run(capsys, "posture", "--from-files", ".", "-o", "wide", "--all")
    lines = out.splitlines()
    # every column whole (the long name too); the text below each finding wrapped at 160
    assert f"Deployment/shop/{LONG}" in out and "…" not in out
    assert max(len(line) for line in lines if line.startswith(" ")) <= 160
    assert "      fix: Delete the binding" in out and "      controls: kubescape C-0035" in out
    assert any(line.startswith("      differs: ") for line in lines)


def test_default_tables_fit_160_columns_for_every_command(folder, capsys):
    for argv in (["posture"], ["posture", "--all"], ["rbac"], ["rbac", "--include-system"],
                 ["reachability"], ["reachability", "--all"]):
        code, out, _ = run(capsys, *argv, "--from-files", ".")
        assert code == 0 and out and max(len(line) for line in out.splitlines()) <= 120, argv


def test_no_colour_when_piped_colour_on_a_terminal_unless_no_color(folder, capsys,
                                                                   monkeypatch):
    _, out, _ = run(capsys, "posture", "--from-files", ".")
    assert not ANSI.search(out)
    _, forced, _ = run(capsys, "posture", "--from-files", ".", "--color", "always")
    assert "\x1b[1;31mcritical\x1b[0m" in forced and "\x1b[31mfail\x1b[0m" in forced
    assert ANSI.sub("", forced) == out  # colour changes no column
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    _, tty, _ = run(capsys, "posture", "--from-files", ".")
    assert ANSI.search(tty)
    monkeypatch.setenv("NO_COLOR", "1")
    _, tty, _ = run(capsys, "posture", "--from-files", ".")
    assert not ANSI.search(tty)
    monkeypatch.setenv("NO_COLOR", "")  # an empty NO_COLOR does not count
    _, tty, _ = run(capsys, "posture", "--from-files", ".")
    assert ANSI.search(tty)
    _, never, _ = run(capsys, "posture", "--from-files", ".", "--color", "never")
    assert not ANSI.search(never)


def test_rbac_table_rule_below_or_in_a_wide_column(folder, capsys):
    code, out, _ = run(capsys, "rbac", "--from-files", ".")
    lines = out.splitlines()
    assert code == 0 and lines == [
        lines[0], lines[1], "      rule: apiGroups=* resources=* verbs=*",
        "1 risky grant(s): 1 critical"]
    assert lines[1].split() == ["critical", "cluster-admin", "Group/system:authenticated",
                                "ClusterRoleBinding/everyone-admin", "ClusterRole/cluster-admin"]
    _, out, _ = run(capsys, "rbac", "--from-files", ".", "-o", "wide")
    assert out.splitlines()[0].split()[-1] == "RULE"
    assert out.splitlines()[1].endswith("apiGroups=* resources=* verbs=*")


def test_reachability_lists_what_may_pass_and_the_denied_with_all(folder, capsys):
    code, out, _ = run(capsys, "reachability", "--from-files", ".", "--no-external")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["VERDICT", "SOURCE", "DESTINATION", "PORT",
                                              "POLICIES"]
    assert max(len(line) for line in lines) <= 120
    # the long pod name loses its middle, in both columns alike
    verdict, source, destination, port, policies = lines[1].split()
    assert (verdict, destination, port, policies) == ("allow", "shop/web", "*", "shop/web-in")
    assert source.startswith("shop/payments-rec") and source.endswith("-a-column-x9")
    assert "…" in source and len(lines[2].split()[2]) == len(source)
    assert lines[-1] == "2 rows: 2 allowed, 0 denied, 0 not modelled"
    _, out, _ = run(capsys, "reachability", "--from-files", ".", "--no-external", "-o", "wide")
    assert out.splitlines()[1].split()[1] == f"shop/{LONG}"
    (folder / "deploy" / "deny.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n")
    _, out, _ = run(capsys, "reachability", "--from-files", ".", "--no-external")
    assert out.splitlines()[-1] == ("2 rows: 1 allowed, 1 denied, 0 not modelled; "
                                    "--all shows the 1 denied")
    assert not any(line.startswith("deny") for line in out.splitlines())
    _, out, _ = run(capsys, "reachability", "--from-files", ".", "--no-external", "--all")
    assert [line.split()[0] for line in out.splitlines()[1:-1]] == ["allow", "deny"]


# ---- exit codes --------------------------------------------------------------------------------

@pytest.mark.parametrize("command, fail_on, code", [
    ("posture", None, 0), ("posture", "critical", 1), ("posture", "low", 1),
    ("rbac", None, 0), ("rbac", "critical", 1),
])
def test_fail_on_sets_the_exit_code(folder, capsys, command, fail_on, code):
    argv = [command, "--from-files", ".", "--format", "json"]
    assert run(capsys, *argv, *(["--fail-on", fail_on] if fail_on else []))[0] == code


def test_fail_on_ignores_findings_below_it(folder, capsys):
    (folder / "deploy" / "admin.yaml").unlink()
    found = {r["severity"] for r in posture_json(capsys) if r["status"] == "fail"}
    assert "critical" not in found and "high" in found
    assert run(capsys, "posture", "--from-files", ".", "--fail-on", "critical")[0] == 0
    assert run(capsys, "posture", "--from-files", ".", "--fail-on", "high")[0] == 1
    assert run(capsys, "rbac", "--from-files", ".", "--fail-on", "low")[0] == 0


@pytest.mark.parametrize("command", ["posture", "rbac", "reachability"])
def test_help_says_the_exit_status(capsys, command):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 when it ran" in text and "2 when it cannot run" in text
    assert ("1 when a failing finding at or above --fail-on's severity exists" in text) == (
        command != "reachability")


# ---- SARIF -------------------------------------------------------------------------------------

def validate(log: dict) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(log)


def test_sarif_is_valid_and_points_at_file_and_line(folder, capsys):
    rows = posture_json(capsys)
    (folder / "show.json").write_text(json.dumps(
        {"name": "aks1", "apiServerAccessProfile": {"authorizedIPRanges": ["0.0.0.0/0"]}}))
    code, out, _ = run(capsys, "posture", "--from-files", ".", "--cluster-json", "show.json",
                       "--format", "sarif")
    log = json.loads(out)
    validate(log)
    [run_] = log["runs"]
    driver = run_["tool"]["driver"]
    assert code == 0 and driver["name"] == "aks-runbook"
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {r["check"] for r in rows}
    admin = rules["AKS-OV-001"]
    assert admin["defaultConfiguration"]["level"] == "error"
    assert "kubescape C-0035" in admin["properties"]["tags"]
    assert admin["help"]["text"].startswith("Delete the binding")
    assert "Cited controls: kubescape C-0035, C-0185" in admin["help"]["text"]
    by_resource = {(r["ruleId"], r["properties"]["resource"]): r for r in run_["results"]}
    failed = {(r["check"], r["resource"]) for r in rows if r["status"] == "fail"}
    assert failed <= set(by_resource) and len(failed) < len(by_resource)  # and Azure ones
    result = by_resource[("AKS-OV-001", "ClusterRoleBinding/everyone-admin")]
    assert result["level"] == "error"
    assert result["message"]["text"] == ("ClusterRoleBinding/everyone-admin: cluster-admin for "
                                         "Group system:authenticated (cluster-wide)")
    [where] = result["locations"]
    # admin.yaml: "---" on line 1, a comment on line 2, the object from line 3
    assert where["physicalLocation"] == {
        "artifactLocation": {"uri": "deploy/admin.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3}}
    assert where["logicalLocations"][0]["fullyQualifiedName"] == (
        "ClusterRoleBinding/everyone-admin")
    # the Azure-level findings point at the --cluster-json file
    locations = {r["properties"]["resource"]: r["locations"][0]["physicalLocation"]
                 for r in run_["results"]}
    assert locations["ManagedCluster/aks1"]["artifactLocation"]["uri"] == "show.json"


def test_sarif_lines_of_every_document(folder, capsys):
    _, out, _ = run(capsys, "posture", "--from-files", ".", "--format", "sarif")
    log = json.loads(out)
    validate(log)
    lines = {(r["properties"]["resource"], r["locations"][0]["physicalLocation"][
        "artifactLocation"]["uri"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in log["runs"][0]["results"] if "physicalLocation" in r["locations"][0]}
    assert ("Deployment/shop/web", "deploy/app.yaml", 5) in lines
    assert (f"Deployment/shop/{LONG}", "deploy/app.yaml", 15) in lines
    assert ("Namespace/shop", "deploy/app.yaml", 1) in lines
    assert all(r["ruleId"] == log["runs"][0]["tool"]["driver"]["rules"][r["ruleIndex"]]["id"]
               for r in log["runs"][0]["results"])


def test_sarif_on_a_cluster_names_the_resource_as_a_logical_location():
    found = sarif.location("Pod/shop/web-1", None)
    assert found == {"logicalLocations": [{"name": "web-1", "fullyQualifiedName":
                                           "Pod/shop/web-1", "kind": "resource"}]}
    validate({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "aks-runbook"}},
                                            "results": [{"message": {"text": "x"},
                                                         "ruleId": "AKS-X",
                                                         "locations": [found]}]}]})


def test_the_schema_rejects_what_it_should():
    """The stored schema is the real one: a result without a message is invalid SARIF."""
    with pytest.raises(jsonschema.ValidationError):
        validate({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                                "results": [{"ruleId": "A"}]}]})


def test_control_tags_keep_each_id_with_its_source():
    assert sarif.control_tags("kubescape C-0046; checkov CKV_K8S_25, CKV_K8S_37; CIS AKS "
                              "4.2.7, 4.2.8; kubescape C-0241 (CIS AKS 5.2.2); kubescape "
                              "C-0256 (exposure to internet)") == [
        "kubescape C-0046", "checkov CKV_K8S_25", "checkov CKV_K8S_37", "CIS AKS 4.2.7",
        "CIS AKS 4.2.8", "kubescape C-0241", "CIS AKS 5.2.2", "kubescape C-0256"]


# ---- JUnit -------------------------------------------------------------------------------------

def test_junit_one_case_per_check_and_resource_with_the_counts(folder, capsys):
    rows = posture_json(capsys)
    code, out, _ = run(capsys, "posture", "--from-files", ".", "--format", "junit")
    root = ET.fromstring(out)
    assert code == 0 and root.tag == "testsuites"
    cases = list(root.iter("testcase"))
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        (r["check"], r["resource"]) for r in rows]
    fails = sum(r["status"] == "fail" for r in rows)
    skipped = sum(r["status"] == "not-applicable" for r in rows)
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": str(len(rows)), "failures": str(fails), "errors": "0",
        "skipped": str(skipped)}
    # what Jenkins' junit step and Azure DevOps read: suites of cases, counts that add up
    suites = root.findall("testsuite")
    assert sum(int(s.get("tests")) for s in suites) == len(rows)
    assert sum(int(s.get("failures")) for s in suites) == fails
    for suite in suites:
        assert set(suite.attrib) == {"name", "tests", "failures", "errors", "skipped", "time"}
        assert {child.tag for child in suite} == {"testcase"}
        for case in suite:
            assert len(case) <= 1 and all(c.tag in ("failure", "skipped") for c in case)
    [admin] = [c for c in cases if c.get("classname") == "AKS-OV-001"]
    failure = admin.find("failure")
    assert failure.get("type") == "critical"
    assert failure.get("message") == "cluster-admin for Group system:authenticated (cluster-wide)"
    assert "fix: Delete the binding" in failure.text
    [azure] = [c for c in cases if c.get("classname") == "AKS-NET-001"]
    assert azure.find("skipped").get("message") == (
        "not-applicable: no cluster configuration (pass --cluster-json)")


# ---- folders as users have them ------------------------------------------------------------------

def test_documents_that_are_not_kubernetes_objects_are_skipped_and_noted(folder, capsys):
    code, out, err = run(capsys, "posture", "--from-files", ".", "--format", "json")
    assert code == 0 and json.loads(out)
    assert ("note: skipped 3 document(s) that are not Kubernetes objects (no apiVersion and "
            "kind): chart/values.yaml, package.json, results.json") in err
    for command in ("rbac", "reachability"):
        code, _, err = run(capsys, command, "--from-files", ".")
        assert code == 0 and "skipped 3 document(s)" in err


@pytest.mark.parametrize("name, content, message", [
    ("broken.yaml", "apiVersion: v1\nkind: Pod\n---\nkind: Pod\nmetadata: {name: [\n",
     "broken.yaml, document 2, line 6: not valid YAML"),
    ("broken.json", '{"apiVersion": "v1",\n "kind": "Pod",,\n}',
     "broken.json, document 1, line 2: not valid JSON (column 16"),
    ("nameless.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n\n"
                      "apiVersion: v1\nkind: Pod\nmetadata: {}\n",
     "nameless.yaml, document 2, line 6: Pod without metadata.name"),
    ("twice.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
     "twice.yaml, document 1, line 1: Namespace shop is defined twice (first in "
     "deploy/app.yaml, document 1, line 1)"),
])
def test_what_cannot_be_read_stops_with_file_document_and_line(folder, capsys, name, content,
                                                              message):
    (folder / "zz").mkdir()
    (folder / "zz" / name).write_text(content)
    for command in ("posture", "rbac", "reachability"):
        code, out, err = run(capsys, command, "--from-files", ".")
        assert code == 2 and out == "" and f"error: zz/{message}" in err, (command, err)


def test_a_policy_the_analysis_cannot_read_is_named_with_its_file_and_line(folder, capsys):
    (folder / "deploy" / "bad.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: bad, namespace: shop}\n"
        "spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}\n")
    code, _, err = run(capsys, "reachability", "--from-files", ".")
    assert code == 2 and (
        "error: deploy/bad.yaml, document 1, line 1: NetworkPolicy shop/bad: ipBlock "
        "'10.0.0.0/33'") in err


def test_rbac_grants_as_sarif_and_junit_located_at_their_binding(folder, capsys):
    code, out, _ = run(capsys, "rbac", "--from-files", ".", "--format", "sarif")
    log = json.loads(out)
    validate(log)
    [result] = log["runs"][0]["results"]
    [rule] = log["runs"][0]["tool"]["driver"]["rules"]
    assert code == 0 and rule["id"] == result["ruleId"] == "RBAC-cluster-admin"
    assert "kubescape C-0035" in rule["properties"]["tags"]
    assert result["message"]["text"] == (
        "ClusterRoleBinding/everyone-admin: Group/system:authenticated may cluster-admin "
        "through ClusterRole/cluster-admin (rule: apiGroups=* resources=* verbs=*)")
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "deploy/admin.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3}}
    code, out, _ = run(capsys, "rbac", "--from-files", ".", "--format", "junit")
    root = ET.fromstring(out)
    [case] = root.iter("testcase")
    assert (root.get("tests"), root.get("failures")) == ("1", "1")
    assert (case.get("classname"), case.get("name")) == (
        "RBAC-cluster-admin", "Group/system:authenticated via ClusterRoleBinding/everyone-admin")
    assert case.find("failure").get("type") == "critical"
    code, out, err = run(capsys, "rbac", "--from-files", ".", "--who-can", "get", "pods",
                         "--format", "sarif")
    assert code == 2 and out == "" and "goes with the risk table" in err


def test_every_risk_the_table_can_show_has_a_sarif_rule():
    from aks_runbook.analysis import rbac
    from aks_runbook.cli import rbac_report

    assert {r.id for r in rbac_report.rules()} == {f"RBAC-{name}" for name in rbac.BASE_SCORES}


def test_group_by_category_puts_headings_over_the_failures(folder, capsys):
    _, out, _ = run(capsys, "posture", "--from-files", ".", "--group-by", "category")
    lines = out.splitlines()
    headings = [line for line in lines[1:-1] if not line.startswith(("fail", " "))]
    assert headings[0] == "Network Topology and Connectivity"
    assert headings[-1] == "(not in the AKS checklist)"
    assert lines[lines.index(headings[-1]) + 1].split()[:3] == ["fail", "critical", "AKS-OV-001"]
