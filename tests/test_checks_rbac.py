"""AKS-OV-001: who holds cluster-admin or an equivalent role, as kubescape C-0035 / C-0185 judge
it. Cases named `C-0035 ...` / `C-0185 ...` mirror the published test cases of the rules
rule-list-all-cluster-admins-v1 (C-0035) and cluster-admin-role (C-0185) in
kubescape/regolibrary, recreated as small objects."""

from __future__ import annotations

import pytest

from aks_runbook import checks
from check_views import cluster_view, files_view

RBAC = "rbac.authorization.k8s.io"
ALL = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
AGGREGATE_TO_ADMIN = {f"{RBAC}/aggregate-to-admin": "true"}



def verdicts(objects: dict, origin: str = "cluster") -> dict[str, str]:
    state = checks.State(objects, origin=origin)
    return {f.resource: f.status for f in checks.run(state) if f.check == "AKS-OV-001"}


def cluster_role(name: str, *rules: dict, labels: dict | None = None,
                 aggregate: dict | None = None) -> dict:
    role = {"kind": "ClusterRole", "metadata": {"name": name, "labels": labels or {}},
            "rules": list(rules)}
    if aggregate:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": aggregate}]}
    return role


def role(name: str, namespace: str, *rules: dict) -> dict:
    return {"kind": "Role", "metadata": {"name": name, "namespace": namespace},
            "rules": list(rules)}


def subject(kind: str, name: str, namespace: str | None = None) -> dict:
    if kind == "ServiceAccount":
        return {"kind": kind, "name": name, "namespace": namespace}
    return {"kind": kind, "name": name, "apiGroup": RBAC}


def binding(name: str, role_name: str, *subjects: dict, namespace: str | None = None,
            role_kind: str = "ClusterRole") -> dict:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"kind": "RoleBinding" if namespace else "ClusterRoleBinding", "metadata": meta,
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role_name},
            "subjects": list(subjects)}


GET_AND_ALL = {"apiGroups": ["*"], "resources": ["*", "secrets", "users"],
               "verbs": ["get", "*"]}
MANAGER, DEV = subject("Group", "manager"), subject("Group", "dev")
JANE = subject("User", "jane")
CASES = [
    # (case, objects, expected verdicts)
    ("C-0185 clusterrole-clusterrolebinding: groups bound to cluster-admin",
     [cluster_role("cluster-admin", GET_AND_ALL), binding("read-secrets-global", "cluster-admin",
                                                           MANAGER, DEV)],
     {"ClusterRoleBinding/read-secrets-global": "fail"}),
    ("C-0035 clusterrole-clusterrolebinding: a custom ClusterRole with * on *",
     [cluster_role("test", GET_AND_ALL), binding("read-secrets-global", "test", MANAGER, DEV)],
     {"ClusterRoleBinding/read-secrets-global": "fail"}),
    ("C-0035 clusterrole-rolebinding: core group * on * through a RoleBinding",
     [cluster_role("test", {"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}),
      binding("pod", "test", JANE, namespace="kube-system")],
     {"RoleBinding/kube-system/pod": "fail"}),
    ("C-0185 clusterrole-rolebinding: RoleBinding to cluster-admin (C-0185 passes; C-0035 and "
     "this check fail)",
     [cluster_role("cluster-admin", {"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}),
      binding("pod", "cluster-admin", JANE, namespace="kube-system")],
     {"RoleBinding/kube-system/pod": "fail"}),
    ("C-0035 role-rolebinding: a Role with * among other resources and verbs",
     [role("test", "kube-system", {"apiGroups": ["*"], "resources": [
         "pods/portforward", "secrets", "*", "services", "*"], "verbs": ["*", "delete"]}),
      binding("pod", "test", JANE, namespace="kube-system", role_kind="Role")],
     {"RoleBinding/kube-system/pod": "fail"}),
    ("C-0185 role-clusterrolebinding: a ClusterRoleBinding cannot grant a Role",
     [role("test", "kube-system", ALL),
      binding("read-secrets-global", "test", subject("Group", "dev1"), role_kind="Role")],
     {"Binding/*": "pass"}),
    ("group system:authenticated bound to cluster-admin",
     [binding("everyone", "cluster-admin", subject("Group", "system:authenticated"))],
     {"ClusterRoleBinding/everyone": "fail"}),
    ("group system:unauthenticated bound to cluster-admin",
     [binding("anyone", "cluster-admin", subject("Group", "system:unauthenticated"))],
     {"ClusterRoleBinding/anyone": "fail"}),
    ("user system:anonymous bound to a custom * on * role",
     [cluster_role("god", ALL), binding("anon", "god", subject("User", "system:anonymous"))],
     {"ClusterRoleBinding/anon": "fail"}),
    ("the built-in binding: group system:masters",
     [cluster_role("cluster-admin", ALL),
      binding("cluster-admin", "cluster-admin", subject("Group", "system:masters"))],
     {"Binding/*": "pass"}),
    ("AKS's local admin user in the binding AKS creates",
     [binding("aks-cluster-admin-binding", "cluster-admin", subject("User", "clusterAdmin"))],
     {"Binding/*": "pass"}),
    ("a user named clusterAdmin in any other binding",
     [binding("mine", "cluster-admin", subject("User", "clusterAdmin"))],
     {"ClusterRoleBinding/mine": "fail"}),
    ("the reference's dashboard service account",
     [binding("kubernetes-dashboard", "cluster-admin",
              subject("ServiceAccount", "kubernetes-dashboard", "kube-system"))],
     {"ClusterRoleBinding/kubernetes-dashboard": "fail"}),
    ("system:masters beside a risky subject in one binding",
     [binding("both", "cluster-admin", subject("Group", "system:masters"), JANE)],
     {"ClusterRoleBinding/both": "fail"}),
    ("an aggregated ClusterRole that aggregates * on *",
     [cluster_role("god", ALL, labels={"team": "ops"}),
      cluster_role("ops", aggregate={"team": "ops"}), binding("ops", "ops", JANE)],
     {"ClusterRoleBinding/ops": "fail"}),
    ("an aggregated ClusterRole that aggregates another aggregated one",
     [cluster_role("god", ALL, labels={"tier": "1"}),
      cluster_role("middle", aggregate={"tier": "1"}, labels={"tier": "2"}),
      cluster_role("top", aggregate={"tier": "2"}), binding("top", "top", JANE)],
     {"ClusterRoleBinding/top": "fail"}),
    ("a custom role without * verbs",
     [cluster_role("reader", {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]}),
      binding("read", "reader", JANE)],
     {"Binding/*": "pass"}),
    ("* on * of one API group only",
     [cluster_role("apps-admin", {"apiGroups": ["apps"], "resources": ["*"], "verbs": ["*"]}),
      binding("apps", "apps-admin", JANE)],
     {"Binding/*": "pass"}),
    ("a binding without subjects",
     [binding("empty", "cluster-admin")], {"Binding/*": "pass"}),
]


@pytest.mark.parametrize("objects, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cluster_view(objects, expected):
    assert verdicts(cluster_view(*objects)) == expected


@pytest.mark.parametrize("objects, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_files_view_judges_alike(tmp_path, objects, expected):
    assert verdicts(files_view(tmp_path, *objects), origin="files") == expected


def test_rolebinding_evidence_names_its_scope():
    objects = cluster_view(binding("pod", "cluster-admin", JANE, namespace="team1"))
    [finding] = [f for f in checks.run(checks.State(objects)) if f.check == "AKS-OV-001"]
    assert finding.evidence == "cluster-admin for User jane (in namespace team1 only)"
    assert "RoleBindings" in finding.differs and "system:masters" in finding.differs


def test_aggregated_into_builtin_admin_from_files(tmp_path):
    """From files the built-in admin role is absent; a role aggregated into it still counts."""
    objects = files_view(tmp_path, cluster_role("extra", ALL, labels=AGGREGATE_TO_ADMIN),
                         binding("team-admin", "admin", JANE, namespace="team1"))
    assert verdicts(objects, origin="files") == {"RoleBinding/team1/team-admin": "fail"}


def test_builtin_admin_alone_is_not_cluster_admin(tmp_path):
    objects = files_view(tmp_path, binding("team-admin", "admin", JANE, namespace="team1"))
    assert verdicts(objects, origin="files") == {"Binding/*": "pass"}


def test_role_missing_from_the_files_is_not_judged(tmp_path):
    objects = files_view(tmp_path, binding("x", "defined-elsewhere", JANE))
    # Nothing is called safe while a bound role is unknown: no overall pass.
    assert verdicts(objects, origin="files") == {"ClusterRoleBinding/x": "not-applicable"}


@pytest.mark.parametrize("kind", ["clusterroles", "clusterrolebindings", "roles", "rolebindings"])
def test_unlisted_kind_never_passes(kind):
    objects = cluster_view()
    del objects[kind]
    assert verdicts(objects) == {"Binding/*": "not-applicable"}


def test_unlisted_kind_still_reports_what_it_saw():
    objects = cluster_view(binding("everyone", "cluster-admin",
                                   subject("Group", "system:authenticated")))
    del objects["roles"]
    assert verdicts(objects) == {"ClusterRoleBinding/everyone": "fail",
                                 "Binding/*": "not-applicable"}


def test_citation_no_longer_names_the_dashboard_image_check():
    [finding] = [f for f in checks.run(checks.State(cluster_view()))
                 if f.check == "AKS-OV-001"]
    assert "CKV_K8S_33" not in finding.public_ids
    assert finding.public_ids == "kubescape C-0035, C-0185; CIS 4.1.1"


# ---- added for mutation testing: what the evidence says, aggregation in any order -------------

def evidence(objects: dict) -> dict[str, str]:
    return {f.resource: f.evidence for f in checks.run(checks.State(objects))
            if f.check == "AKS-OV-001" and f.status == "fail"}


def test_evidence_names_service_accounts_with_their_namespace():
    objects = cluster_view(binding("dash", "cluster-admin",
                                   subject("ServiceAccount", "dashboard", "kube-system")))
    assert evidence(objects) == {
        "ClusterRoleBinding/dash": "cluster-admin for ServiceAccount kube-system/dashboard "
                                   "(cluster-wide)"}


def test_evidence_says_why_a_custom_role_is_cluster_admin():
    objects = cluster_view(cluster_role("god", ALL), binding("g", "god", JANE),
                           role("local-god", "team1", ALL),
                           binding("l", "local-god", JANE, namespace="team1", role_kind="Role"))
    assert evidence(objects) == {
        "ClusterRoleBinding/g": "ClusterRole god (grants * on *) for User jane (cluster-wide)",
        "RoleBinding/team1/l": "Role local-god (grants * on *) for User jane "
                               "(in namespace team1 only)"}


def test_aggregation_is_followed_whatever_the_order_of_the_roles():
    objects = cluster_view(
        cluster_role("already", ALL, aggregate={"unused": "x"}),  # aggregated and * on * itself
        cluster_role("top", aggregate={"tier": "2"}),
        cluster_role("middle", aggregate={"tier": "1"}, labels={"tier": "2"}),
        cluster_role("god", ALL, labels={"tier": "1"}),
        binding("top", "top", JANE))
    assert evidence(objects) == {
        "ClusterRoleBinding/top": "ClusterRole top (aggregates middle, which aggregates god, "
                                  "which grants * on *) for User jane (cluster-wide)"}
