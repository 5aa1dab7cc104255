"""RBAC analysis: rule matching and binding scope as the Kubernetes authorizer decides,
aggregated roles from files and from a cluster, implicit groups, the risk table, who-can, and
the `aks-runbook rbac` command. Cases named `C-0xxx <rule>/<case>` recreate the published test
inputs of kubescape/regolibrary (rules/<rule>/test/<case>); where the authorizer disagrees with
kubescape's expected result, the test says so."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest

from aks_runbook import cli
from aks_runbook.analysis import rbac
from aks_runbook.analysis.rbac import Request, rule_allows
from check_views import cluster_view, files_view

RBAC = "rbac.authorization.k8s.io"


def rule(groups: str, resources: str, verbs: str, names: str = "") -> dict:
    """A PolicyRule; `groups` space-separated, `-` for the core group."""
    found = {"apiGroups": ["" if g == "-" else g for g in groups.split()],
             "resources": resources.split(), "verbs": verbs.split()}
    if names:
        found["resourceNames"] = names.split()
    return found


def crole(name: str, *rules: dict, labels: dict | None = None,
          selectors: list[dict] | None = None) -> dict:
    found = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
             "metadata": {"name": name, "labels": labels or {}}, "rules": list(rules)}
    if selectors is not None:
        found["aggregationRule"] = {"clusterRoleSelectors": selectors}
    return found


def role(name: str, namespace: str, *rules: dict) -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": namespace}, "rules": list(rules)}


def crb(name: str, role_name: str, *subjects: dict, role_kind: str = "ClusterRole") -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role_name},
            "subjects": list(subjects)}


def rb(name: str, namespace: str, role_name: str, *subjects: dict,
       role_kind: str = "ClusterRole") -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role_name},
            "subjects": list(subjects)}


def user(name: str) -> dict:
    return {"kind": "User", "name": name, "apiGroup": RBAC}


def group(name: str) -> dict:
    return {"kind": "Group", "name": name, "apiGroup": RBAC}


def sa(name: str, namespace: str | None = None) -> dict:
    return {"kind": "ServiceAccount", "name": name, **({"namespace": namespace} if namespace
                                                        else {})}


JANE, DEV, MANAGER = user("jane"), group("dev"), group("manager")
# The rows of the built-in edit role bound in one namespace (not kube-system), as Kubernetes
# v1.36 aggregates it: what Kubernetes' RBAC good practices list (Secrets, workload creation,
# impersonating service accounts, token requests; exec, attach and port-forward), plus changing
# Services (externalIPs), Ingresses and NetworkPolicies, and deleting workloads and Events.
EDIT_IN_A_NAMESPACE = {"secrets-read", "impersonate", "serviceaccount-token", "create-pods",
                       "exec", "attach", "portforward", "service-traffic", "ingress-routes",
                       "network-policies", "delete", "delete-events"}
SECRETS = rule("-", "secrets", "get list watch")


def found(rows: list[rbac.Row]) -> set[tuple[str, str]]:
    return {(r.subject, r.risk) for r in rows}


def risks(*objects: dict, **options) -> list[rbac.Row]:
    return rbac.risks(cluster_view(*objects), **options)


def who(*objects: dict, verb: str = "get", resource: str = "secrets", **options) -> set[str]:
    return {r.subject for r in rbac.who_can(cluster_view(*objects), verb, resource, **options)}


# -- rule matching -----------------------------------------------------------------------------

@pytest.mark.parametrize("rule_, request_, allowed", [
    (rule("-", "secrets", "get"), Request("get", "secrets"), True),
    (rule("-", "secrets", "get"), Request("list", "secrets"), False),
    (rule("-", "secrets", "*"), Request("delete", "secrets"), True),
    (rule("-", "secrets", "get"), Request("get", "secrets", api_group="apps"), False),
    (rule("*", "secrets", "get"), Request("get", "secrets", api_group="example.com"), True),
    (rule("apps", "deployments", "get"), Request("get", "deployments"), False),
    (rule("-", "*", "get"), Request("get", "pods", "exec"), True),
    (rule("-", "pods", "create"), Request("create", "pods", "exec"), False),
    (rule("-", "pods/exec", "create"), Request("create", "pods"), False),
    (rule("-", "pods/exec", "create"), Request("create", "pods", "exec"), True),
    (rule("-", "*/exec", "create"), Request("create", "pods", "exec"), True),
    (rule("-", "*/exec", "create"), Request("create", "pods", "attach"), False),
    (rule("-", "*/exec", "create"), Request("create", "pods"), False),
    (rule("-", "pods/*", "create"), Request("create", "pods", "exec"), False),  # no wildcard
    (rule("-", "secrets", "get", "db"), Request("get", "secrets", name="db"), True),
    (rule("-", "secrets", "get", "db"), Request("get", "secrets", name="web"), False),
    (rule("-", "secrets", "list", "db"), Request("list", "secrets"), False),  # unnamed request
])
def test_rule_matching_follows_the_authorizer(rule_, request_, allowed):
    assert rule_allows(rule_, request_) is allowed


@pytest.mark.parametrize("urls, path, allowed", [
    (["/metrics"], "/metrics", True),
    (["/metrics"], "/metrics/cadvisor", False),
    (["/healthz"], "/healthz/etcd", False),
    (["/healthz/*"], "/healthz/etcd", True),
    (["/healthz*"], "/healthzz", True),
    (["*"], "/anything", True),
    (["/api"], "/apis", False),
    (["/healthX*"], "/health", False),  # only the trailing `*` is a wildcard
])
def test_non_resource_urls_match_exactly_or_by_trailing_star(urls, path, allowed):
    assert rule_allows({"nonResourceURLs": urls, "verbs": ["get"]}, Request("get", path=path)) \
        is allowed
    assert not rule_allows({"nonResourceURLs": urls, "verbs": ["post"]},
                           Request("get", path=path))


def test_resource_rules_and_url_rules_do_not_answer_each_other():
    assert not rule_allows(rule("*", "*", "*"), Request("get", path="/metrics"))
    assert not rule_allows({"nonResourceURLs": ["*"], "verbs": ["*"]}, Request("get", "pods"))


# -- binding scope -----------------------------------------------------------------------------

READER = crole("secret-reader", SECRETS)


def test_rolebinding_to_a_clusterrole_grants_it_only_in_its_namespace():
    objects = (READER, rb("read", "team-a", "secret-reader", JANE))
    assert who(*objects, namespace="team-a") == {"User/jane"}
    assert who(*objects, namespace="team-b") == set()
    assert who(*objects) == {"User/jane"}  # in any namespace
    assert rbac.can(cluster_view(*objects), "User/jane", "get", "secrets", "team-a")
    assert not rbac.can(cluster_view(*objects), "User/jane", "get", "secrets", "team-b")
    assert not rbac.can(cluster_view(*objects), "User/jane", "get", "secrets")  # cluster-wide


def test_clusterrolebinding_grants_everywhere_including_cluster_scoped_resources():
    objects = (crole("nodes", rule("-", "nodes secrets", "get")), crb("all", "nodes", JANE))
    assert who(*objects, namespace="team-b") == {"User/jane"}
    assert who(*objects, resource="nodes") == {"User/jane"}
    assert rbac.can(cluster_view(*objects), "User/jane", "get", "secrets")


def test_a_rolebinding_never_grants_a_cluster_scoped_resource_or_a_url():
    objects = (crole("wide", rule("-", "nodes nodes/proxy", "get"),
                     {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}),
               rb("wide", "team-a", "wide", JANE))
    assert who(*objects, resource="nodes") == set()
    assert who(*objects, resource="nodes/proxy") == set()
    assert who(*objects, resource="/metrics") == set()
    # the RoleBinding reads like a grant of nodes/proxy: a low row of its own says it is none
    [row] = risks(*objects)
    assert (row.subject, row.risk, row.path, row.severity) == (
        "User/jane", "ineffective-grant", "nodes-proxy", "low")
    assert row.rule.endswith(
        "names nodes-proxy (get nodes/proxy) on cluster-scoped resources through a "
        "RoleBinding: grants nothing today (the authorizer ignores cluster-scoped rules in a "
        "RoleBinding); bound by a ClusterRoleBinding, this ClusterRole would grant nodes-proxy")
    objects = (*objects, crb("wide", "wide", DEV))
    assert who(*objects, resource="/metrics") == {"Group/dev"}
    assert {(r.subject, r.risk) for r in risks(*objects)} == {
        ("Group/dev", "nodes-proxy"), ("User/jane", "ineffective-grant")}


def test_a_request_on_a_namespace_object_is_in_that_namespace():
    objects = (crole("ns-reader", rule("-", "namespaces", "get list")),
               rb("ns", "team-a", "ns-reader", JANE))
    assert who(*objects, resource="namespaces", namespace="team-a") == {"User/jane"}
    assert who(*objects, resource="namespaces", namespace="team-b") == set()
    # in any namespace: jane can get one Namespace object, her own (namespaces/team-a)
    assert who(*objects, resource="namespaces") == {"User/jane"}
    assert who(*objects, resource="namespaces", name="team-a") == {"User/jane"}
    assert who(*objects, resource="namespaces", name="team-b") == set()
    # listing Namespaces is cluster-scoped: a RoleBinding never grants it
    assert who(*objects, verb="list", resource="namespaces") == set()


def test_a_role_counts_only_in_the_binding_namespace():
    objects = (role("reader", "team-a", SECRETS), rb("read", "team-b", "reader", JANE,
                                                      role_kind="Role"))
    assert who(*objects) == set()
    objects = (*objects, rb("read", "team-a", "reader", DEV, role_kind="Role"))
    assert who(*objects) == {"Group/dev"}
    assert rbac.who_can(cluster_view(*objects), "get", "secrets")[0].role == "Role/team-a/reader"


def test_a_binding_to_a_missing_role_grants_nothing():
    objects = cluster_view(rb("gone", "team-a", "nowhere", JANE),
                           crb("gone", "nowhere", JANE), crb("role-ref", "reader", DEV,
                                                              role_kind="Role"),
                           role("reader", "team-a", SECRETS))
    assert rbac.risks(objects, include_system=True) == []
    assert rbac.who_can(objects, "get", "secrets", include_system=True) == []
    assert rbac.Policy.of(objects).missing == [
        "ClusterRoleBinding/gone -> ClusterRole/nowhere",
        "ClusterRoleBinding/role-ref -> Role/reader",
        "RoleBinding/team-a/gone -> ClusterRole/nowhere"]
    # a roleRef of another kind grants nothing either; a binding to a role that exists is not
    # listed; from a cluster, a bootstrap role the cluster does not list is missing too
    objects = cluster_view(crb("odd", "reader", JANE, role_kind="Foo"), READER,
                           crb("ok", "secret-reader", JANE), rb("devs", "shop", "edit", DEV))
    assert rbac.Policy.of(objects).missing == ["ClusterRoleBinding/odd -> Foo/reader",
                                               "RoleBinding/shop/devs -> ClusterRole/edit"]


# -- subjects and groups -----------------------------------------------------------------------

def test_a_service_account_subject_without_namespace_takes_the_rolebinding_namespace():
    objects = (READER, rb("read", "team-a", "secret-reader", sa("app")))
    assert who(*objects) == {"ServiceAccount/team-a/app"}
    assert rbac.can(cluster_view(*objects), "ServiceAccount/team-a/app", "get", "secrets",
                    "team-a")
    assert not rbac.can(cluster_view(*objects), "ServiceAccount/team-b/app", "get", "secrets",
                        "team-a")


def test_a_service_account_subject_without_namespace_matches_nothing_in_a_clusterrolebinding():
    objects = (READER, crb("read", "secret-reader", sa("app"), sa("bot", "ops")))
    assert who(*objects) == {"ServiceAccount/ops/bot"}


def test_a_user_named_as_a_service_account_is_that_service_account():
    objects = (READER, crb("read", "secret-reader", user("system:serviceaccount:ops:bot")))
    assert who(*objects) == {"ServiceAccount/ops/bot"}
    # a group whose name has as many colons is a group
    assert who(READER, crb("read", "secret-reader", group("oidc:team:a:b"))) == {
        "Group/oidc:team:a:b"}


@pytest.mark.parametrize("subject_group, asking, allowed", [
    ("system:serviceaccounts:team-a", "ServiceAccount/team-a/app", True),
    ("system:serviceaccounts:team-a", "ServiceAccount/team-b/app", False),
    ("system:serviceaccounts:team-a", "User/jane", False),
    ("system:serviceaccounts", "ServiceAccount/team-b/app", True),
    ("system:serviceaccounts", "User/jane", False),
    ("system:authenticated", "User/jane", True),
    ("system:authenticated", "ServiceAccount/team-b/app", True),
    ("system:authenticated", "User/system:anonymous", False),
    ("system:unauthenticated", "User/system:anonymous", True),
    ("system:unauthenticated", "User/jane", False),
])
def test_implicit_groups(subject_group, asking, allowed):
    objects = cluster_view(READER, crb("read", "secret-reader", group(subject_group)))
    assert bool(rbac.can(objects, asking, "get", "secrets", "team-a")) is allowed


def test_known_groups_of_a_user_can_be_given():
    objects = cluster_view(READER, crb("read", "secret-reader", DEV))
    assert not rbac.can(objects, "User/jane", "get", "secrets", "x")
    assert rbac.can(objects, "User/jane", "get", "secrets", "x", groups=["dev"])[0].subject \
        == "Group/dev"


def test_several_bindings_give_several_rows_and_one_row_per_binding():
    objects = cluster_view(crole("two", SECRETS, rule("*", "secrets", "*")),
                           crb("a", "two", JANE), rb("b", "team-a", "two", JANE))
    rows = rbac.who_can(objects, "get", "secrets")
    assert [(r.binding, r.rule) for r in rows] == [
        ("ClusterRoleBinding/a", 'apiGroups="" resources=secrets verbs=get,list,watch'),
        ("RoleBinding/team-a/b", 'apiGroups="" resources=secrets verbs=get,list,watch')]
    assert {r.risk for r in rows} == {"get secrets"} and rows[0].severity == "high"


def test_who_can_asks_every_binding_in_order():
    objects = cluster_view(READER, crole("ns", rule("-", "namespaces", "patch create watch "
                                                                       "deletecollection")),
                           rb("a", "team-a", "secret-reader", JANE), rb("b", "team-b",
                                                                       "secret-reader", DEV),
                           rb("ns-a", "team-a", "ns", JANE), rb("ns-b", "team-b", "ns", DEV))
    found = rbac.who_can(objects, "get", "secrets", "team-b")
    assert [r.binding for r in found] == ["RoleBinding/team-b/b"]
    found = rbac.who_can(objects, "patch", "namespaces", "team-b")
    assert [r.binding for r in found] == ["RoleBinding/team-b/ns-b"]
    # creating, watching or deleting Namespaces as a collection is cluster-scoped: no
    # RoleBinding grants it (kubectl watches one Namespace as a collection, by field selector)
    for verb in ("create", "watch", "deletecollection"):
        assert rbac.who_can(objects, verb, "namespaces", "team-a") == []


def test_a_request_without_a_name_is_not_allowed_by_a_rule_with_resource_names():
    objects = cluster_view(crole("one", rule("-", "secrets", "get", "shop")),
                           crb("one", "one", JANE))
    assert rbac.who_can(objects, "get", "secrets", "shop") == []
    assert who(crole("one", rule("-", "secrets", "get", "shop")), crb("one", "one", JANE),
               name="shop") == {"User/jane"}


def test_rule_texts_as_the_table_shows_them():
    objects = cluster_view(
        crole("urls", {"nonResourceURLs": ["/metrics", "/healthz"], "verbs": ["get"]}),
        crole("two", rule("apps batch", "deployments jobs", "get", "web api")),
        crb("urls", "urls", JANE), crb("two", "two", JANE))
    assert [r.rule for r in rbac.who_can(objects, "get", "/metrics")] == [
        "nonResourceURLs=/metrics,/healthz verbs=get"]
    assert [r.rule for r in rbac.who_can(objects, "get", "jobs", api_group="batch",
                                         name="api")] == [
        "apiGroups=apps,batch resources=deployments,jobs resourceNames=web,api verbs=get"]


def test_who_can_a_request_outside_the_catalogue_is_info():
    objects = cluster_view(crole("cm", rule("-", "configmaps", "get")), crb("cm", "cm", JANE))
    assert [(r.risk, r.severity) for r in rbac.who_can(objects, "get", "configmaps")] == [
        ("get configmaps", "info")]


def test_who_can_with_a_name_and_an_api_group():
    objects = cluster_view(crole("one", rule("apps", "deployments", "patch", "web")),
                           rb("one", "shop", "one", JANE))
    assert rbac.who_can(objects, "patch", "deployments", api_group="apps") == []
    rows = rbac.who_can(objects, "patch", "deployments", api_group="apps", name="web")
    assert [(r.risk, r.severity) for r in rows] == [("patch deployments.apps", "medium")]


# -- aggregation -------------------------------------------------------------------------------

AGG = f"{RBAC}/aggregate-to-"


def test_from_files_aggregated_roles_are_computed_from_labels(tmp_path):
    objects = files_view(
        tmp_path,
        crole("monitoring", selectors=[{"matchLabels": {AGG + "monitoring": "true"}}]),
        crole("secrets-part", SECRETS, labels={AGG + "monitoring": "true"}),
        crole("unlabelled", rule("-", "nodes/proxy", "get")),
        crb("mon", "monitoring", JANE))
    rows = rbac.risks(objects, from_files=True)
    assert found(rows) == {("User/jane", "secrets-read")}
    assert rows[0].role == "ClusterRole/monitoring"
    assert rbac.risks(objects) == []  # read as a cluster: the controller has not run


def test_aggregation_runs_until_a_chain_against_name_order_is_complete():
    # a-top aggregates b-middle, which aggregates c-low: by name, a-top is computed first
    objects = [crole("a-top", selectors=[{"matchLabels": {"to": "a"}}]),
               crole("b-middle", labels={"to": "a"}, selectors=[{"matchLabels": {"to": "b"}}]),
               crole("c-low", SECRETS, labels={"to": "b"})]
    assert rbac.aggregate(objects)["a-top"] == [SECRETS]


def test_aggregation_chains_skip_the_role_itself_and_empty_selectors_match_all():
    objects = {"clusterroles": [
        crole("top", rule("-", "ignored", "get"),
              selectors=[{"matchLabels": {AGG + "top": "true"}}]),
        crole("middle", labels={AGG + "top": "true"},
              selectors=[{"matchExpressions": [{"key": "tier", "operator": "In",
                                                "values": ["low"]}]}]),
        crole("low", SECRETS, labels={"tier": "low"}),
        crole("all", selectors=[{}])]}
    rules = rbac.aggregate(objects["clusterroles"])
    assert rules["middle"] == [SECRETS] and rules["top"] == [SECRETS]
    assert rule("-", "ignored", "get") not in rules["top"]  # the controller overwrites rules
    assert rules["all"] == [SECRETS]  # every other role, each rule once


def test_from_files_the_bootstrap_roles_are_assumed_and_custom_roles_aggregate_into_them(
        tmp_path):
    objects = files_view(tmp_path,
                         crole("crd-view", rule("example.com", "widgets", "get"),
                               labels={AGG + "view": "true"}),
                         rb("devs", "shop", "edit", DEV), rb("readers", "shop", "view", JANE))
    policy = rbac.Policy.of(objects, from_files=True)
    assert policy.assumed == ["edit", "view"]
    assert found(rbac.risks(objects, from_files=True)) == {
        ("Group/dev", r) for r in EDIT_IN_A_NAMESPACE}
    widgets = rbac.who_can(objects, "get", "widgets", "shop", api_group="example.com",
                           from_files=True)
    assert {r.subject for r in widgets} == {"Group/dev", "User/jane"}  # view -> edit


def test_a_role_defined_in_the_files_replaces_the_bootstrap_one(tmp_path):
    objects = files_view(tmp_path, crole("edit", rule("-", "configmaps", "get")),
                         rb("devs", "shop", "edit", DEV))
    assert rbac.risks(objects, from_files=True) == []
    assert rbac.Policy.of(objects, from_files=True).assumed == []


def test_from_a_cluster_the_rules_the_controller_filled_are_used():
    filled = crole("monitoring", SECRETS, selectors=[{"matchLabels": {AGG + "mon": "true"}}])
    assert found(risks(filled, crb("mon", "monitoring", JANE))) == {("User/jane",
                                                                      "secrets-read")}
    # and no bootstrap role is assumed: the cluster lists the ones it has
    assert risks(rb("devs", "shop", "edit", DEV)) == []


# -- the risk table ----------------------------------------------------------------------------

@pytest.mark.parametrize("rule_, expected", [
    (rule("-", "secrets", "watch"), {"secrets-read"}),
    (rule("-", "pods/exec", "create"), {"exec"}),
    (rule("-", "pods/exec", "get"), {"exec"}),  # a WebSocket exec before Kubernetes 1.35
    (rule("-", "pods/attach", "create"), {"attach"}),
    (rule("-", "pods/portforward", "create"), {"portforward"}),
    (rule("-", "pods/log pods/status", "get create"), set()),
    (rule("-", "users", "impersonate"), {"impersonate"}),
    (rule("authentication.k8s.io", "uids", "impersonate"), {"impersonate"}),
    (rule("-", "serviceaccounts", "impersonate"), {"impersonate"}),
    (rule(RBAC, "clusterroles", "bind"), {"bind"}),
    (rule(RBAC, "roles", "escalate"), {"escalate"}),
    (rule(RBAC, "roles rolebindings", "create update"), set()),
    (rule("-", "pods", "create"), {"create-pods"}),
    (rule("apps", "deployments", "patch"), {"create-pods"}),
    (rule("batch", "cronjobs", "create"), {"create-pods"}),
    (rule("apps", "deployments/scale", "patch"), set()),
    (rule("-", "nodes/proxy", "get"), {"nodes-proxy"}),
    (rule("-", "nodes", "get"), set()),
    (rule("-", "serviceaccounts/token", "create"), {"serviceaccount-token"}),
    (rule("-", "serviceaccounts", "create"), set()),
    (rule("-", "configmaps", "*"), {"wildcard", "coredns"}),  # kube-system's too
    (rule("-", "*", "get"), {"wildcard", "secrets-read", "exec", "attach", "portforward",
                             "nodes-proxy"}),
    (rule("*", "*", "*"), {"cluster-admin"}),
])
def test_each_risk_is_found_by_the_rights_that_give_it(rule_, expected):
    rows = risks(crole("r", rule_), crb("b", "r", JANE))
    assert {r.risk for r in rows} == expected


def test_every_catalogued_risk_is_exercised_above():
    names = {r.name for r in rbac.RISKS} - {"csr-approval", "csr-signing"}  # own tests
    exercised = {"secrets-read", "exec", "attach", "portforward", "impersonate", "bind",
                 "escalate", "create-pods", "nodes-proxy", "serviceaccount-token", "wildcard",
                 "cluster-admin"}
    # the other paths: tests/test_rbac_paths.py, one case per path, and the rows only
    # everyone or anonymous requests get (their own tests there)
    from test_rbac_paths import PATHS, SUBJECT_RISKS
    assert names - exercised - SUBJECT_RISKS <= {case.risk for case in PATHS}


def test_every_verb_on_every_resource_by_name_is_no_cluster_admin():
    rows = risks(crole("named", rule("*", "*", "*", "one")), crb("named", "named", JANE))
    assert "cluster-admin" not in {r.risk for r in rows}
    assert {r.risk for r in rows} >= {"secrets-read", "wildcard"}


def test_names_in_a_rule_count_for_the_objects_the_path_needs():
    rows = risks(crole("ns", rule("-", "namespaces", "patch", "team-a")), crb("ns", "ns", JANE),
                 crole("dns", rule("-", "configmaps", "patch", "coredns")),
                 rb("dns", "kube-system", "dns", DEV))
    assert {(r.subject, r.risk, r.score) for r in rows} == {
        ("User/jane", "namespace-labels", 5), ("Group/dev", "coredns", 5)}


@pytest.mark.parametrize("rule_, risk", [
    (rule("authentication.k8s.io", "*/scopes", "impersonate"), "impersonate"),
    (rule("authentication.k8s.io", "tokenreviews", "impersonate"), None),
    (rule("constraints.gatekeeper.sh", "k8srequiredlabels/status", "patch"), None),
    (rule("constraints.gatekeeper.sh", "k8srequiredlabels", "patch"), "policy-engines"),
])
def test_probes_of_any_resource_or_any_subresource(rule_, risk):
    rows = risks(crole("r", rule_), crb("r", "r", JANE))
    assert {r.risk for r in rows} == ({risk} if risk else set())


@pytest.mark.parametrize("verb, resource, severity", [
    ("patch", "k8srequiredlabels.constraints.gatekeeper.sh", "high"),
    ("patch", "k8srequiredlabels.constraints.gatekeeper.sh/status", "info"),
    ("impersonate", "userextras.authentication.k8s.io/scopes", "critical"),
    ("impersonate", "userextras.authentication.k8s.io", "info"),
])
def test_who_can_rates_requests_on_any_resource_or_subresource(verb, resource, severity):
    objects = cluster_view(crole("all", rule("*", "*", "*")), crb("all", "all", JANE))
    name, sub, group_ = rbac.parse_resource(resource)
    [row] = rbac.who_can(objects, verb, name, None, sub or None, group_)
    assert row.severity == severity


def test_cluster_admin_is_one_row_and_scores_by_scope():
    rows = risks(crole("cluster-admin", rule("*", "*", "*"),
                       {"nonResourceURLs": ["*"], "verbs": ["*"]}),
                 crb("ops", "cluster-admin", JANE), rb("team", "shop", "cluster-admin", DEV),
                 rb("sys", "kube-system", "cluster-admin", MANAGER))
    assert [(r.subject, r.risk, r.severity, r.score) for r in rows] == [
        ("User/jane", "cluster-admin", "critical", 10),
        ("Group/manager", "namespace-admin", "critical", 10),  # kube-system: as bad
        ("Group/dev", "namespace-admin", "critical", 9)]
    assert rows[0].rule == "apiGroups=* resources=* verbs=*"
    assert rows[0].binding == "ClusterRoleBinding/ops" and rows[0].role == \
        "ClusterRole/cluster-admin"


def test_a_rule_limited_by_resource_names_is_listed_two_points_lower():
    rows = risks(crole("one", rule("-", "secrets", "get", "db-password")),
                 crole("all", SECRETS), crb("one", "one", JANE), crb("all", "all", DEV))
    assert [(r.subject, r.severity, r.score) for r in rows] == [
        ("Group/dev", "high", 8), ("User/jane", "medium", 6)]
    assert "resourceNames=db-password" in rows[1].rule


def test_everyone_scores_one_point_higher():
    rows = risks(READER, crb("all", "secret-reader", group("system:authenticated"),
                             group("system:serviceaccounts:ci"), JANE))
    assert [(r.subject, r.score) for r in rows] == [
        ("Group/system:authenticated", 9), ("Group/system:serviceaccounts:ci", 9),
        ("User/jane", 8)]


def test_through_a_rolebinding_only_namespaced_rights_count():
    objects = (crole("imp", rule("-", "users groups serviceaccounts", "impersonate"),
                     rule(RBAC, "clusterroles roles", "bind escalate"),
                     rule("certificates.k8s.io", "certificatesigningrequests/approval", "update"),
                     rule("certificates.k8s.io", "signers", "approve")),
               rb("imp", "shop", "imp", JANE))
    rows = risks(*objects)
    # impersonating service accounts and binding (also ClusterRoles, checked in the namespace
    # of the new RoleBinding) work in the namespace; users, groups, CSRs and escalating
    # ClusterRoles are cluster-scoped: CSR approval reads like a grant and is none
    assert found(rows) == {("User/jane", "impersonate"), ("User/jane", "bind"),
                           ("User/jane", "escalate"), ("User/jane", "ineffective-grant")}
    assert [r.path for r in rows if r.risk == "ineffective-grant"] == ["csr-approval"]
    assert [r.rule for r in rows if r.risk == "escalate"] == [
        "apiGroups=rbac.authorization.k8s.io resources=clusterroles,roles verbs=bind,escalate"]
    assert who(*objects, verb="escalate", resource="clusterroles.rbac.authorization.k8s.io") \
        == set()
    assert who(*objects, verb="bind", resource="clusterroles", api_group=RBAC) == {"User/jane"}


APPROVAL = rule("certificates.k8s.io", "certificatesigningrequests/approval", "update")
SIGNERS = rule("certificates.k8s.io", "signers", "approve", "kubernetes.io/kube-apiserver-client")


def test_csr_approval_needs_approve_on_signers_too():
    assert risks(crole("approval", APPROVAL), crb("a", "approval", JANE)) == []
    rows = risks(crole("approval", APPROVAL), crole("signer", SIGNERS),
                 crb("a", "approval", JANE), crb("s", "signer", JANE))
    assert [(r.subject, r.risk, r.severity) for r in rows] == [
        ("User/jane", "csr-approval", "high")]
    assert rows[0].rule.endswith("; approve on signers via ClusterRoleBinding/s")


def test_csr_approval_counts_signers_held_through_an_implicit_group():
    rows = risks(crole("approval", APPROVAL), crole("signer", SIGNERS),
                 crb("a", "approval", sa("approver", "ops"), DEV),
                 crb("s", "signer", group("system:serviceaccounts:ops")))
    assert found(rows) == {("ServiceAccount/ops/approver", "csr-approval")}


SYSTEM_SUBJECTS = [group("system:masters"), group("system:nodes"), user("system:node:aks-1"),
                   user("system:kube-controller-manager"), sa("namespace-controller",
                                                             "kube-system")]
PUBLIC_SUBJECTS = [group("system:authenticated"), group("system:unauthenticated"),
                   user("system:anonymous"), group("system:serviceaccounts"),
                   group("system:serviceaccounts:ci"), sa("default", "ci")]


def test_system_subjects_are_hidden_unless_asked_for():
    objects = (READER, crb("sys", "secret-reader", *SYSTEM_SUBJECTS, *PUBLIC_SUBJECTS),
               crb("aks-cluster-admin-binding", "secret-reader", user("clusterAdmin")),
               crb("other", "secret-reader", user("clusterAdmin")))
    shown = {r.subject for r in risks(*objects)}
    assert shown == {"Group/system:authenticated", "Group/system:unauthenticated",
                     "User/system:anonymous", "Group/system:serviceaccounts",
                     "Group/system:serviceaccounts:ci", "ServiceAccount/ci/default",
                     "User/clusterAdmin"}
    every = risks(*objects, include_system=True)
    assert {r.subject for r in every} - shown == {
        "Group/system:masters", "Group/system:nodes", "User/system:node:aks-1",
        "User/system:kube-controller-manager", "ServiceAccount/kube-system/namespace-controller"}
    assert [r.binding for r in every if r.subject == "User/clusterAdmin"] == [
        "ClusterRoleBinding/aks-cluster-admin-binding", "ClusterRoleBinding/other"]
    # AKS's own local admin binding is hidden by default; the same user elsewhere is not
    assert [r.binding for r in risks(*objects) if r.subject == "User/clusterAdmin"] == [
        "ClusterRoleBinding/other"]
    assert {r.subject for r in rbac.who_can(cluster_view(*objects), "get", "secrets")} == shown


def test_the_table_is_sorted_and_does_not_depend_on_input_order():
    objects = [crole("cluster-admin", rule("*", "*", "*")), READER,
               crole("pf", rule("-", "pods/portforward", "create")),
               crb("z", "secret-reader", JANE, DEV), crb("a", "cluster-admin", MANAGER),
               rb("pf", "shop", "pf", JANE), rb("read", "shop", "secret-reader", sa("app"))]
    rows = risks(*objects)
    shuffled = objects[:]
    random.Random(3).shuffle(shuffled)
    for item in shuffled:
        item.get("subjects", []).reverse()
    assert risks(*shuffled) == rows
    assert [(r.severity, r.risk, r.subject) for r in rows] == [
        ("critical", "cluster-admin", "Group/manager"),
        ("high", "secrets-read", "Group/dev"),
        ("high", "secrets-read", "User/jane"),
        ("high", "secrets-read", "ServiceAccount/shop/app"),
        ("medium", "portforward", "User/jane")]


# -- kubescape's published cases ---------------------------------------------------------------

GROUPS = (MANAGER, DEV)
BOTH, NOBODY = {"Group/manager", "Group/dev"}, set()
# (case, objects, risk, its subjects, who-can: verb, resource, namespace, subjects); a risk
# `ineffective-grant:<path>` is the row that names <path> and grants nothing
KUBESCAPE = [
    ("C-0015 rule-can-list-get-secrets-v1/clusterrole-clusterrolebinding",
     [crole("test", rule("*", "pods/log secrets users", "watch")),
      crb("read-secrets-global", "test", *GROUPS)],
     "secrets-read", BOTH, ("watch", "secrets", None, BOTH)),
    ("C-0015 rule-can-list-get-secrets-v1/clusterrole-rolebinding",
     [crole("test", rule("-", "*", "*")), rb("pod", "kube-system", "test", JANE)],
     "secrets-read", {"User/jane"}, ("get", "secrets", "kube-system", {"User/jane"})),
    ("C-0015 rule-can-list-get-secrets-v1/role-rolebinding",
     [role("test", "kube-system", rule("-", "rolebindings secrets serviceaccounts services *",
                                       "list")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "secrets-read", {"User/jane"}, ("list", "secrets", "kube-system", {"User/jane"})),
    # kubescape reads `pods/*` as covering pods/exec; the authorizer matches it only to a
    # subresource named `*`: a low row says the rule reads like exec and grants none
    ("C-0002 exec-into-container-v1/clusterrole (differs: an ineffective-grant row, no exec)",
     [crole("secret-reader", rule("-", "pods/*", "create list")),
      rb("read-secrets", "default", "secret-reader", user("dave"))],
     "ineffective-grant:exec", {"User/dave"}, ("create", "pods/exec", "default", NOBODY)),
    ("C-0002 exec-into-container-v1/clusterrole: no exec row",
     [crole("secret-reader", rule("-", "pods/*", "create list")),
      rb("read-secrets", "default", "secret-reader", user("dave"))],
     "exec", NOBODY, ("get", "pods/exec", "default", NOBODY)),
    # `*` on `*` in `*`: one namespace-admin row stands for exec and everything else
    ("C-0002 exec-into-container-v1/role (differs: namespace-admin)",
     [role("pod-reader", "default", rule("extensions *", "nodes pods *",
                                         "impersonate create list *")),
      rb("pod", "default", "pod-reader", JANE, role_kind="Role")],
     "namespace-admin", {"User/jane"}, ("create", "pods/exec", "default", {"User/jane"})),
    ("C-0063 rule-can-portforward-v1/role-rolebinding",
     [role("test", "kube-system", rule("-", "pods/portforward secrets serviceaccounts "
                                            "services *", "list create")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "portforward", {"User/jane"}, ("create", "pods/portforward", "kube-system", {"User/jane"})),
    ("C-0063 rule-can-portforward-v1/clusterrole-rolebinding",
     [crole("test", rule("-", "*", "*")), rb("pod", "kube-system", "test", JANE)],
     "portforward", {"User/jane"}, ("create", "pods/portforward", "kube-system", {"User/jane"})),
    ("C-0063 rule-can-portforward-v1/clusterrole-clusterrolebinding (differs: `pods/*`)",
     [crole("test", rule("*", "pods/* secrets users", "create")),
      crb("read-secrets-global", "test", *GROUPS)],
     "ineffective-grant:portforward", BOTH, ("create", "pods/portforward", None, NOBODY)),
    ("C-0065 rule-can-impersonate-users-groups-v1/clusterrole-clusterrolebinding",
     [crole("test", rule("*", "pods/log events users", "watch *")),
      crb("read-secrets-global", "test", *GROUPS)],
     "impersonate", BOTH, ("impersonate", "users", None, BOTH)),
    # kubescape: jane impersonates users; here only service accounts of kube-system
    ("C-0065 rule-can-impersonate-users-groups-v1/clusterrole-rolebinding",
     [crole("test", rule("-", "*", "*")), rb("pod", "kube-system", "test", JANE)],
     "impersonate", {"User/jane"}, ("impersonate", "users", None, NOBODY)),
    ("C-0065 rule-can-impersonate-users-groups-v1/clusterrole-rolebinding: service accounts",
     [crole("test", rule("-", "*", "*")), rb("pod", "kube-system", "test", JANE)],
     "impersonate", {"User/jane"},
     ("impersonate", "serviceaccounts", "kube-system", {"User/jane"})),
    ("C-0191 rule-can-bind-escalate/clusterrole-clusterrolebinding",
     [crole("test", rule(RBAC, "pods roles", "bind watch list")),
      crb("read-secrets-global", "test", *GROUPS)],
     "bind", BOTH, ("bind", f"roles.{RBAC}", "default", BOTH)),
    # kubescape: bind and escalate; escalating a ClusterRole is cluster-scoped, a Role can
    # never grant it: a low row says so
    ("C-0191 rule-can-bind-escalate/role-rolebinding (differs: escalate is an "
     "ineffective-grant row)",
     [role("test", "default", rule("*", "clusterroles", "* escalate create update")),
      rb("pod", "default", "test", JANE, role_kind="Role")],
     "ineffective-grant:escalate", {"User/jane"},
     ("escalate", f"clusterroles.{RBAC}", None, NOBODY)),
    ("C-0191 rule-can-bind-escalate/role-rolebinding: no escalate row",
     [role("test", "default", rule("*", "clusterroles", "* escalate create update")),
      rb("pod", "default", "test", JANE, role_kind="Role")],
     "escalate", NOBODY, ("escalate", f"clusterroles.{RBAC}", "default", NOBODY)),
    ("C-0191 rule-can-bind-escalate/role-rolebinding: bind",
     [role("test", "default", rule("*", "clusterroles", "* escalate create update")),
      rb("pod", "default", "test", JANE, role_kind="Role")],
     "bind", {"User/jane"}, ("bind", f"clusterroles.{RBAC}", "default", {"User/jane"})),
    ("C-0188 rule-can-create-pod/clusterrole-clusterrolebinding",
     [crole("test", rule(RBAC, "pods rolebindings", "create watch list")),
      crb("read-secrets-global", "test", *GROUPS)],
     "create-pods", NOBODY, ("create", "pods", None, NOBODY)),
    ("C-0188 rule-can-create-pod/clusterrole-rolebinding",
     [crole("test", rule("-", "pods services", "* watch list")),
      rb("pod", "kube-system", "test", JANE)],
     "create-pods", {"User/jane"}, ("create", "pods", "kube-system", {"User/jane"})),
    # nodes and CSRs are cluster-scoped: a RoleBinding grants nothing on them, and who-can
    # finds nobody; the binding reads like a grant, so a low row says it is none
    ("C-0279 rule-can-access-proxy-subresource/clusterrole-clusterrolebinding",
     [crole("test", rule(RBAC, "pods rolebindings", "create watch list")),
      crb("read-secrets-global", "test", *GROUPS)],
     "nodes-proxy", NOBODY, ("get", "nodes/proxy", None, NOBODY)),
    ("C-0279 rule-can-access-proxy-subresource/clusterrole-rolebinding (differs: "
     "ineffective-grant)",
     [crole("test", rule("-", "pods services nodes/proxy", "* watch list get create connect")),
      rb("pod", "kube-system", "test", JANE)],
     "ineffective-grant:nodes-proxy", {"User/jane"}, ("get", "nodes/proxy", None, NOBODY)),
    ("C-0279 rule-can-access-proxy-subresource/role-rolebinding (differs: ineffective-grant)",
     [role("test", "kube-system", rule("*", "rolebindings deployments pods nodes/proxy",
                                       "* watch create update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "ineffective-grant:nodes-proxy", {"User/jane"}, ("create", "nodes/proxy", None, NOBODY)),
    ("C-0280 rule-can-approve-cert-signing-request/clusterrole-clusterrolebinding",
     [crole("test", rule(RBAC, "pods rolebindings", "create watch list")),
      crb("read-secrets-global", "test", *GROUPS)],
     "csr-approval", NOBODY,
     ("update", "certificatesigningrequests.certificates.k8s.io/approval", None, NOBODY)),
    ("C-0280 rule-can-approve-cert-signing-request/clusterrole-rolebinding (differs: "
     "ineffective-grant)",
     [crole("test", rule("certificates.k8s.io", "certificatesigningrequests/approval",
                         "* update")),
      rb("pod", "kube-system", "test", JANE)],
     "ineffective-grant:csr-approval", {"User/jane"},
     ("update", "certificatesigningrequests.certificates.k8s.io/approval", None, NOBODY)),
    ("C-0280 rule-can-approve-cert-signing-request/role-rolebinding (differs: "
     "ineffective-grant)",
     [role("test", "kube-system", rule("*", "rolebindings deployments pods "
                                            "certificatesigningrequests/approval",
                                       "* watch create update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "ineffective-grant:csr-approval", {"User/jane"},
     ("update", "certificatesigningrequests.certificates.k8s.io/approval", None, NOBODY)),
    ("C-0282 rule-can-create-service-account-token/role-rolebinding",
     [role("test", "kube-system", rule("*", "rolebindings deployments pods "
                                            "serviceaccounts/token", "* watch create update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "serviceaccount-token", {"User/jane"},
     ("create", "serviceaccounts/token", "kube-system", {"User/jane"})),
    ("C-0282 rule-can-create-service-account-token/clusterrole-rolebinding",
     [crole("test", rule("-", "serviceaccounts/token", "*")),
      rb("pod", "kube-system", "test", JANE)],
     "serviceaccount-token", {"User/jane"},
     ("create", "serviceaccounts/token", "kube-system", {"User/jane"})),
    ("C-0035 rule-list-all-cluster-admins-v1/clusterrole-clusterrolebinding",
     [crole("test", rule("*", "* secrets users", "get *")),
      crb("read-secrets-global", "test", *GROUPS)],
     "cluster-admin", BOTH, ("delete", "nodes", None, BOTH)),
    ("C-0035 rule-list-all-cluster-admins-v1/role-rolebinding",
     [role("test", "kube-system", rule("*", "pods/portforward secrets * services *",
                                       "* delete")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "namespace-admin", {"User/jane"}, ("delete", "secrets", "kube-system", {"User/jane"})),
    # C-0185 looks only at ClusterRoleBindings; here the namespaced grant is a row of its own
    ("C-0185 cluster-admin-role/clusterrole-rolebinding (differs: namespace-admin)",
     [crole("cluster-admin", rule("*", "*", "*")), rb("pod", "kube-system", "cluster-admin",
                                                      JANE)],
     "namespace-admin", {"User/jane"}, ("get", "secrets", "kube-system", {"User/jane"})),
]


def rows_of(rows: list[rbac.Row], risk: str) -> list[rbac.Row]:
    """The rows of a risk; `ineffective-grant:<path>` the rows naming <path> that grant none."""
    kind, _, path = risk.partition(":")
    return [r for r in rows if r.risk == kind and r.path == path]


def who_answers(objects: dict, query: tuple) -> set[str]:
    verb, text, namespace, _ = query
    resource, sub, api_group = rbac.parse_resource(text)
    return {r.subject for r in rbac.who_can(objects, verb, resource, namespace, sub or None,
                                           api_group)}


@pytest.mark.parametrize("case, objects, risk, subjects, query", KUBESCAPE,
                         ids=[c[0] for c in KUBESCAPE])
def test_kubescape_published_cases(case, objects, risk, subjects, query):
    view = cluster_view(*objects)
    rows = rows_of(rbac.risks(view), risk)
    assert {r.subject for r in rows} == subjects
    if risk.startswith("ineffective-grant"):
        assert {r.severity for r in rows} == {"low"}
        assert all("grant" in r.rule for r in rows)
    assert who_answers(view, query) == query[3]


# -- the command -------------------------------------------------------------------------------

MANIFESTS = f"""\
apiVersion: {RBAC}/v1
kind: RoleBinding
metadata: {{name: devs-edit, namespace: shop}}
roleRef: {{apiGroup: {RBAC}, kind: ClusterRole, name: edit}}
subjects: [{{kind: Group, name: devs, apiGroup: {RBAC}}}]
---
apiVersion: {RBAC}/v1
kind: ClusterRoleBinding
metadata: {{name: ci}}
roleRef: {{apiGroup: {RBAC}, kind: ClusterRole, name: cluster-admin}}
subjects:
- {{kind: ServiceAccount, name: deployer, namespace: ci}}
- {{kind: Group, name: system:masters, apiGroup: {RBAC}}}
---
apiVersion: {RBAC}/v1
kind: RoleBinding
metadata: {{name: gone, namespace: shop}}
roleRef: {{apiGroup: {RBAC}, kind: Role, name: nothing}}
subjects: [{{kind: User, name: bob, apiGroup: {RBAC}}}]
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "rbac.yaml").write_text(MANIFESTS)
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["rbac", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_rows_have_exactly_the_fields(folder, capsys):
    code, out, err = run(capsys, "--from-files", str(folder), "--format", "json")
    rows = json.loads(out)
    assert code == 0 and all(list(r) == list(rbac.FIELDS) for r in rows)
    assert rows[0] == {"subject": "ServiceAccount/ci/deployer", "binding": "ClusterRoleBinding/ci",
                       "role": "ClusterRole/cluster-admin",
                       "rule": "apiGroups=* resources=* verbs=*", "risk": "cluster-admin",
                       "severity": "critical"}
    assert {r["risk"] for r in rows if r["subject"] == "Group/devs"} == EDIT_IN_A_NAMESPACE
    assert "assumed as Kubernetes v1.36 defines them: cluster-admin, edit" in err
    assert "RoleBinding/shop/gone -> Role/shop/nothing" in err
    assert "1 row(s) of system subjects hidden" in err


def test_cli_table_csv_and_include_system(folder, capsys):
    code, out, _ = run(capsys, "--from-files", str(folder))
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["SEVERITY", "RISK", "SUBJECT", "BINDING", "ROLE"]
    assert lines[1].split()[:3] == ["critical", "cluster-admin", "ServiceAccount/ci/deployer"]
    assert lines[2] == "      rule: apiGroups=* resources=* verbs=*"
    code, out, err = run(capsys, "--from-files", str(folder), "--format", "csv",
                         "--include-system")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(rows[0]) == list(rbac.FIELDS)
    assert "Group/system:masters" in {r["subject"] for r in rows}
    assert "hidden" not in err


def test_cli_who_can(folder, capsys):
    code, out, _ = run(capsys, "--from-files", str(folder), "--who-can", "create", "pods/exec",
                       "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [(r["subject"], r["risk"]) for r in rows] == [
        ("ServiceAccount/ci/deployer", "create pods/exec"), ("Group/devs", "create pods/exec")]
    code, out, _ = run(capsys, "--from-files", str(folder), "--who-can", "get", "secrets",
                       "-n", "other", "--format", "json")
    assert [r["subject"] for r in json.loads(out)] == ["ServiceAccount/ci/deployer"]
    code, out, _ = run(capsys, "--from-files", str(folder), "--who-can", "get", "nodes")
    assert out.splitlines()[1].split()[:3] == ["info", "get", "nodes"]


@pytest.mark.parametrize("argv, message", [
    (["--who-can", "get", ""], "--who-can: '': expected RESOURCE[.GROUP][/SUBRESOURCE], e.g. "
                               "pods/exec, deployments.apps, or a URL path such as /metrics"),
    (["-n", "shop"], "-n/--namespace goes with --who-can"),
])
def test_cli_cannot_run_exits_2(folder, capsys, argv, message):
    code, out, err = run(capsys, "--from-files", str(folder), *argv)
    assert code == 2 and out == "" and message in err


def test_cli_missing_folder_exits_2(tmp_path, capsys):
    code, _, err = run(capsys, "--from-files", str(tmp_path / "nowhere"))
    assert code == 2 and "no such file or folder" in err


@pytest.mark.parametrize("text, parsed", [
    ("pods", ("pods", "", "")),
    ("pods/exec", ("pods", "exec", "")),
    ("deployments.apps", ("deployments", "", "apps")),
    ("certificatesigningrequests.certificates.k8s.io/approval",
     ("certificatesigningrequests", "approval", "certificates.k8s.io")),
    ("/metrics", ("/metrics", "", "")),
])
def test_resources_are_spelled_as_kubectl_spells_them(text, parsed):
    assert rbac.parse_resource(text) == parsed


def test_cli_who_can_approve_csrs(tmp_path, capsys):
    (tmp_path / "csr.json").write_text(json.dumps({"kind": "List", "items": [
        crole("approver", APPROVAL), crb("approver", "approver", JANE)]}))
    code, out, _ = run(capsys, "--from-files", str(tmp_path), "--who-can", "update",
                       "certificatesigningrequests.certificates.k8s.io/approval", "--format",
                       "csv")
    assert code == 0 and list(csv.reader(io.StringIO(out)))[1] == [
        "User/jane", "ClusterRoleBinding/approver", "ClusterRole/approver",
        "apiGroups=certificates.k8s.io resources=certificatesigningrequests/approval "
        "verbs=update", "update certificatesigningrequests.certificates.k8s.io/approval", "high"]
