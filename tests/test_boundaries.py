"""Environments as security boundaries, judged from the plans' grants."""

import json
from types import SimpleNamespace

from aks_runbook.analysis import boundaries

CLUSTER = ("/subscriptions/$SUBSCRIPTION_ID/resourceGroups/rg-{env}/providers/"
           "Microsoft.ContainerService/managedClusters/aks-{env}")
LOOKUPS = {
    "DEV_DEVELOPERS_ID": "az ad group show --group team-vote-dev-developers --query id -o tsv",
    "PROD_DEVELOPERS_ID": "az ad group show --group team-vote-prod-developers --query id -o tsv",
    "SHARED_DEVELOPERS_ID": "az ad group show --group team-vote-developers --query id -o tsv",
    "PROD_VIEWERS_ID": "az ad group show --group team-vote-prod-viewers --query id -o tsv",
    "PIPELINE_ID": "az identity show --resource-group rg-prod --name id-aks-prod-pipeline "
                   "--query principalId -o tsv",
}
PROD_ADMINS = "00000000-0000-0000-0000-0000000000b2"


def step(id_, command):
    return SimpleNamespace(id=id_, command=command)


def assign(id_, role, who, kind="Group", env="prod", scope=""):
    return step(id_, f"az role assignment create --role '{role}' --assignee-object-id ${who} "
                     f"--assignee-principal-type {kind} --scope "
                     f"{CLUSTER.format(env=env)}{scope}")


def create(env, admins):
    return step("aks-create", f"az aks create --resource-group rg-{env} --name aks-{env} "
                              f"--enable-aad --aad-admin-group-object-ids {admins}")


def good_prod():
    return [create("prod", PROD_ADMINS),
            assign("cluster-user-developers", "Azure Kubernetes Service Cluster User Role",
                   "PROD_DEVELOPERS_ID"),
            assign("rbac-reader-developers", "Azure Kubernetes Service RBAC Reader",
                   "PROD_DEVELOPERS_ID"),
            assign("rbac-reader-viewers", "Azure Kubernetes Service RBAC Reader",
                   "PROD_VIEWERS_ID", scope="/namespaces/team-vote"),
            assign("pipeline-writer", "Azure Kubernetes Service RBAC Writer", "PIPELINE_ID",
                   kind="ServicePrincipal", scope="/namespaces/team-vote")]


def dev_plan(group="DEV_DEVELOPERS_ID"):
    return [create("dev", "00000000-0000-0000-0000-0000000000a1"),
            assign("developers-writer", "Azure Kubernetes Service RBAC Writer", group, env="dev",
                   scope="/namespaces/team-vote")]


def judge(dev_steps, prod_steps, eligible=(PROD_ADMINS,)):
    dev = boundaries.grants("dev", dev_steps, LOOKUPS)
    prod = boundaries.grants("prod", prod_steps, LOOKUPS, eligible=eligible)
    return boundaries.boundary(dev, prod)


def test_humans_read_only_pipeline_writes_and_pim_admins_pass():
    verdict = judge(dev_plan(), good_prod())
    assert verdict.passed, str(verdict)
    assert "id-aks-prod-pipeline (ServicePrincipal)" in verdict.line
    assert f"{PROD_ADMINS} (PIM-eligible)" in verdict.line
    assert f"PIM eligibility of {PROD_ADMINS} is configured in Entra ID" in verdict.line


def test_developers_with_a_writer_role_in_prod_fail():
    prod = good_prod() + [assign("developers-writer", "Azure Kubernetes Service RBAC Writer",
                                 "PROD_DEVELOPERS_ID", scope="/namespaces/team-vote")]
    verdict = judge(dev_plan(), prod)
    assert not verdict.passed
    assert any("group team-vote-prod-developers holds standing write access" in p
               for p in verdict.problems)


def test_a_group_shared_by_dev_and_prod_fails():
    # H4 as reviewed: one tenant-wide developers group with write rights in both environments
    prod = good_prod() + [assign("developers-writer", "Azure Kubernetes Service RBAC Writer",
                                 "SHARED_DEVELOPERS_ID", scope="/namespaces/team-vote")]
    verdict = judge(dev_plan("SHARED_DEVELOPERS_ID"), prod)
    assert not verdict.passed
    assert any(p.startswith("dev and prod: team-vote-developers has write access in both")
               for p in verdict.problems)


def test_a_pipeline_identity_shared_by_both_environments_fails_too():
    dev = dev_plan() + [assign("pipeline-writer", "Azure Kubernetes Service RBAC Writer",
                               "PIPELINE_ID", kind="ServicePrincipal", env="dev")]
    verdict = judge(dev, good_prod())
    assert not verdict.passed
    assert any("id-aks-prod-pipeline has write access in both" in p for p in verdict.problems)


def test_an_admin_group_that_is_not_pim_eligible_fails():
    verdict = judge(dev_plan(), good_prod(), eligible=())
    assert not verdict.passed
    assert any(PROD_ADMINS in p and "standing write" in p for p in verdict.problems)


def test_pim_eligibility_requested_in_the_plan_counts():
    body = json.dumps({"properties": {"principalId": PROD_ADMINS, "requestType": "AdminAssign"}})
    prod = [step("pim-admins", "az rest --method put --url https://management.azure.com/x/"
                               "providers/Microsoft.Authorization/roleEligibilityScheduleRequests/"
                               f"1?api-version=2020-10-01 --body '{body}'"), *good_prod()]
    verdict = judge(dev_plan(), prod, eligible=())
    assert verdict.passed, str(verdict)
    assert "confirm it there" not in verdict.line  # the plan itself requests it


def test_an_unknown_role_counts_as_write_and_an_unknown_kind_as_human():
    prod = good_prod() + [step("custom", "az role assignment create --role 'Team Deployer' "
                                         "--assignee $PROD_VIEWERS_ID --scope /x")]
    verdict = judge(dev_plan(), prod)
    assert not verdict.passed
    assert any("unknown team-vote-prod-viewers holds standing write access (Team Deployer"
               in p for p in verdict.problems)


def test_contributor_on_the_cluster_is_write():
    prod = good_prod() + [assign("ops", "Contributor", "PROD_VIEWERS_ID")]
    assert not judge(dev_plan(), prod).passed


def test_an_empty_prod_plan_is_not_a_pass():
    assert not judge(dev_plan(), []).passed


def test_kubernetes_bindings_of_the_developer_role_are_write():
    objects = [
        {"kind": "Role", "metadata": {"name": "developer", "namespace": "team-vote"},
         "rules": [{"apiGroups": ["apps"], "resources": ["deployments"],
                    "verbs": ["get", "create", "update"]}]},
        {"kind": "Role", "metadata": {"name": "viewer", "namespace": "team-vote"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
        {"kind": "RoleBinding", "metadata": {"name": "developers", "namespace": "team-vote"},
         "roleRef": {"kind": "Role", "name": "developer"},
         "subjects": [{"kind": "Group", "name": "team-vote-prod-developers"}]},
        {"kind": "RoleBinding", "metadata": {"name": "viewers", "namespace": "team-vote"},
         "roleRef": {"kind": "Role", "name": "viewer"},
         "subjects": [{"kind": "Group", "name": "team-vote-prod-viewers"},
                      {"kind": "ServiceAccount", "name": "vote-app"}]},
        {"kind": "RoleBinding", "metadata": {"name": "elsewhere", "namespace": "team-vote"},
         "roleRef": {"kind": "ClusterRole", "name": "edit"},
         "subjects": [{"kind": "User", "name": "alice@example.com"}]},
    ]
    found = boundaries.binding_grants("prod", objects)
    access = {(g.principal, g.write) for g in found}
    assert access == {("team-vote-prod-developers", True), ("team-vote-prod-viewers", False),
                      ("alice@example.com", True)}
    prod = boundaries.grants("prod", good_prod(), LOOKUPS, eligible=(PROD_ADMINS,)) + found
    verdict = boundaries.boundary(boundaries.grants("dev", dev_plan(), LOOKUPS), prod)
    assert not verdict.passed
    assert any("user alice@example.com" in p for p in verdict.problems)


def test_rows_say_read_write_and_how():
    prod = boundaries.grants("prod", good_prod(), LOOKUPS, eligible=(PROD_ADMINS,))
    shown = {(r["principal"], r["access"], r["how"]) for r in boundaries.rows(prod)}
    assert (PROD_ADMINS, "write", "eligible (PIM, set in Entra ID: confirm there)") in shown
    assert ("team-vote-prod-viewers", "read", "standing") in shown
    assert {r["scope"] for r in boundaries.rows(prod)} >= {
        "managedClusters/aks-prod/namespaces/team-vote"}
