"""The catalog's own rules, without a cluster: severity bands on both sides of each edge, what a
finding carries, namespaces limiting the view, and why a check is not applicable."""

from __future__ import annotations

import pytest

from aks_runbook import checks


@pytest.mark.parametrize("score, band", [
    (0, "low"), (3.99, "low"), (4, "medium"), (6.99, "medium"), (7, "high"), (8.99, "high"),
    (9, "critical"), (10, "critical")])
def test_severity_band_edges(score, band):
    assert checks.severity(score) == band


def test_every_check_severity_follows_its_score():
    checks.run(checks.State())  # registers the catalog
    assert checks.CATALOG and all(c.severity == checks.severity(c.score) for c in checks.CATALOG)
    assert {c.severity for c in checks.CATALOG} <= set(checks.SEVERITY_ORDER)


def evaluate(state, me):
    return []


CHECK = checks.Check("X-001", "02-network", "Title", 7.0, "ids", "fix it", evaluate,
                     differs="judged differently")


def test_a_failing_finding_carries_everything_a_reader_needs():
    assert CHECK.finding("Pod/app/a", "fail", "why") == checks.Finding(
        "X-001", "Title", "Pod/app/a", "fail", "high", "why", "fix it", "ids",
        "judged differently")


@pytest.mark.parametrize("status", ["pass", "not-applicable"])
def test_only_a_failure_has_a_remediation(status):
    found = CHECK.finding("Pod/app/a", status, "ok")
    assert (found.status, found.remediation, found.title) == (status, "", "Title")


def test_an_unknown_status_is_refused():
    with pytest.raises(AssertionError):
        CHECK.finding("Pod/app/a", "ok", "")


def test_not_listed_names_the_kinds():
    found = CHECK.not_listed("Pod/*", ["pods", "networkpolicies"])
    assert (found.status, found.evidence) == (
        "not-applicable", "cannot judge: pods, networkpolicies could not be listed")


def pod(name, namespace):
    return {"metadata": {"name": name, "namespace": namespace}}


def test_namespaces_limit_namespaced_objects_and_keep_cluster_scoped_ones():
    objects = {"pods": [pod("a", "app"), pod("b", "other")],
               "clusterroles": [{"metadata": {"name": "admin"}}]}
    limited = checks.State(objects, namespaces=("app",))
    assert [p["metadata"]["name"] for p in limited.items("pods")] == ["a"]
    assert limited.items("clusterroles") == objects["clusterroles"]
    assert limited.items("services") == []
    assert checks.State(objects).items("pods") == objects["pods"]


def test_plan_only_and_missing_configuration_say_why_nothing_was_judged():
    found = checks.run(checks.State(has_cluster=False), chapter="02")
    kubernetes = {f.evidence for f in found if f.resource == "Cluster"}
    azure = {f.evidence for f in found if f.resource == "ManagedCluster"}
    assert kubernetes == {"no cluster to read (plan only)"}
    assert azure == {"no cluster configuration (pass --cluster-json)"}
    assert {f.status for f in found} == {"not-applicable"}
    assert {f.check[:7] for f in found} == {"AKS-NET"}  # chapter 02 only


def test_findings_are_sorted_by_check_then_resource():
    found = checks.run(checks.State(has_cluster=False))
    keys = [(f.check, f.resource) for f in found]
    assert keys == sorted(keys) and any(k.startswith("AKS-OV") for k, _ in keys)


def test_the_table_shows_one_row_per_finding_without_the_title():
    frame = checks.table([CHECK.finding("Pod/app/a", "fail", "why")])
    assert frame.to_dict("records") == [{
        "check": "X-001", "resource": "Pod/app/a", "status": "fail", "severity": "high",
        "evidence": "why", "remediation": "fix it", "public_ids": "ids",
        "differs": "judged differently"}]


def test_an_empty_table_still_has_the_columns():
    frame = checks.table([])
    assert list(frame.columns) == ["check", "resource", "status", "severity", "evidence",
                                   "remediation", "public_ids", "differs"]
    assert frame.empty


def test_owner_resource_and_selector_helpers():
    replica = {"metadata": {"name": "web-7d4-x", "namespace": "app", "ownerReferences": [
        {"kind": "ReplicaSet", "name": "web-7d4"}]}}
    assert checks.owner(replica) == "ReplicaSet/app/web-7d4"
    assert checks.owner(pod("solo", "app")) == "Pod/app/solo"
    assert checks.resource({"metadata": {"name": "admin"}}, "ClusterRole") == "ClusterRole/admin"
    assert checks.selects({"app": "web"}, {"app": "web", "tier": "x"})
    assert not checks.selects({"app": "web"}, {"app": "db"})
    assert not checks.selects({}, {"app": "web"})  # an empty Service selector matches nothing
    assert checks.field_of({"A": {"bC": 1}}, "a.Bc") == 1
    assert checks.field_of({"a": 1}, "a.b") is None


def test_check_registers_the_function_with_its_defaults():
    before = list(checks.CATALOG)
    try:
        registered = checks.check("X-009", "99-test", "Title", 5.0, "ids", "fix it")(evaluate)
        assert registered is evaluate
        assert checks.CATALOG[-1] == checks.Check("X-009", "99-test", "Title", 5.0, "ids",
                                                  "fix it", evaluate, "kubernetes", "")
        checks.check("X-010", "99-test", "T", 1.0, "i", "r", scope="azure", differs="d")(evaluate)
        assert (checks.CATALOG[-1].scope, checks.CATALOG[-1].differs) == ("azure", "d")
    finally:
        checks.CATALOG[:] = before
