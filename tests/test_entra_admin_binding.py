"""AKS-OV-001 and the ClusterRoleBinding AKS keeps for the Entra admin groups.

AKS-managed Entra ID binds the groups given with --aad-admin-group-object-ids to cluster-admin
(`aks-cluster-admin-binding-aad`). That is the cluster's design, not a breach, but only for
those groups: another subject added to the binding fails, and without the cluster's
configuration the check cannot tell, so it does not pass."""

from __future__ import annotations

from aks_runbook import checks

RBAC = "rbac.authorization.k8s.io"
ADMINS = "00000000-0000-0000-0000-0000000000a1"
OTHER = "00000000-0000-0000-0000-0000000000b2"


def _binding(*subjects: dict, name: str = "aks-cluster-admin-binding-aad") -> dict:
    return {"kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": list(subjects)}


def _group(name: str) -> dict:
    return {"kind": "Group", "name": name, "apiGroup": RBAC}


def _verdicts(binding: dict, cluster: dict | None) -> list[tuple[str, str]]:
    state = checks.State({"clusterroles": [], "clusterrolebindings": [binding],
                          "roles": [], "rolebindings": []}, cluster=cluster)
    return [(f.status, f.evidence) for f in checks.run(state) if f.check == "AKS-OV-001"]


def test_the_clusters_admin_group_passes_with_the_reason():
    found = _verdicts(_binding(_group(ADMINS)), {"aadProfile": {"adminGroupObjectIDs": [ADMINS]}})
    assert [status for status, _ in found] == ["pass", "pass"]
    evidence = " | ".join(text for _, text in found)
    assert "--aad-admin-group-object-ids" in evidence
    assert "beyond system:masters and the Entra admin groups" in evidence


def test_a_group_added_to_the_binding_that_is_not_an_admin_group_fails():
    found = _verdicts(_binding(_group(ADMINS), _group(OTHER)),
                      {"aadProfile": {"adminGroupObjectIDs": [ADMINS]}})
    assert sorted(status for status, _ in found) == ["fail", "pass"]
    failed = next(evidence for status, evidence in found if status == "fail")
    assert OTHER in failed and ADMINS not in failed


def test_a_user_in_the_binding_fails_even_when_the_groups_are_known():
    user = {"kind": "User", "name": "mallory@example.com", "apiGroup": RBAC}
    found = _verdicts(_binding(_group(ADMINS), user),
                      {"aadProfile": {"adminGroupObjectIDs": [ADMINS]}})
    assert "fail" in [status for status, _ in found]


def test_no_admin_groups_configured_means_the_group_fails():
    found = _verdicts(_binding(_group(ADMINS)), {"aadProfile": {"adminGroupObjectIDs": []}})
    assert [status for status, _ in found] == ["fail"]


def test_without_the_configuration_the_binding_is_not_called_safe():
    found = _verdicts(_binding(_group(ADMINS)), None)
    assert [status for status, _ in found] == ["not-applicable"]
    assert "aadProfile.adminGroupObjectIDs" in found[0][1]


def test_the_same_group_under_another_binding_name_fails():
    found = _verdicts(_binding(_group(ADMINS), name="my-admins"),
                      {"aadProfile": {"adminGroupObjectIDs": [ADMINS]}})
    assert [status for status, _ in found] == ["fail"]
