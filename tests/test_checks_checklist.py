"""The AKS review checklist's items (Azure/review-checklists, checklists/aks_checklist.en.json):
every item with a Resource Graph query is judged by a check or explained, each check agrees with
its query's intent at the boundary (or says how it differs), and findings group by category."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from aks_runbook import checks
from aks_runbook.checks import checklist

# The 23 items with a `graph` query, read from aks_checklist.en.json (commit 56cc3ad): guid ->
# category. Written here independently of checklist.ITEMS, to catch a mistyped guid there.
GRAPH_ITEMS = {
    "578a219a-46be-4b54-9350-24922634292b": "BC and DR",
    "71d41e36-10cc-457b-9a4b-1410d4395898": "BC and DR",
    "9ca48e4a-85e2-4223-bce8-bb12307ca5f1": "Governance and Security",
    "6f158e3e-a3a9-42c2-be7e-2165c3a87af4": "Governance and Security",
    "ed127dd1-42b0-46b2-8c69-99a646f3389a": "Identity and Access Management",
    "7e42c78e-78c0-46a6-8a21-94956e698dc4": "Identity and Access Management",
    "b085b1f2-3119-4771-8c9a-bbf4411810ec": "Identity and Access Management",
    "8008ae7d-7e4b-4475-a6c8-bdbf59bce65d": "Network Topology and Connectivity",
    "ba7da7be-9952-4914-a384-5d997cb39132": "Network Topology and Connectivity",
    "a0f61565-9de5-458f-a372-49c831112dbd": "Network Topology and Connectivity",
    "3b365a91-7ecb-4e48-bbe5-4cd7df2e8bba": "Network Topology and Connectivity",
    "c4581559-bb91-463e-a908-aed8c44ce3b2": "Network Topology and Connectivity",
    "ecccd979-3b6b-4cda-9b50-eb2eb03dda6d": "Network Topology and Connectivity",
    "ce7f2a7c-297c-47c6-adea-a6ff838db665": "Network Topology and Connectivity",
    "58d7c892-ddb1-407d-9769-ae669ca48e4a": "Network Topology and Connectivity",
    "9bda4776-8f24-4c11-9775-c2ea55b46a94": "Network Topology and Connectivity",
    "6c46b91a-1107-4485-ad66-3183e2a8c266": "Network Topology and Connectivity",
    "73b32a5a-67f7-4a9e-b5b3-1f38c3f39812": "Operations",
    "c755562f-2b4e-4456-9b4d-874a748b662e": "Operations",
    "eaa8dc4a-2436-47b3-9697-15b1752beee0": "Operations",
    "90ce65de-8e13-4f9c-abd4-69266abca264": "Operations",
    "831c2872-c693-4b39-a887-a561bada49bc": "Operations",
    "24367b33-6971-45b1-952b-eee0b9b588de": "Operations",
}
DOCS = Path(__file__).resolve().parents[1] / "docs" / "aks-review-checklist.md"
GUID = re.compile(r"AKS checklist ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def catalog() -> dict[str, checks.Check]:
    checks.run(checks.State(has_cluster=False))  # registers every module's checks
    return {c.id: c for c in checks.CATALOG}


def judge(check_id: str, cluster: dict | None = None, objects: dict | None = None,
          source: str = "az aks show") -> dict[str, tuple[str, str]]:
    """resource -> (status, evidence) of one check on this configuration and these objects."""
    me = catalog()[check_id]
    state = checks.State(objects if objects is not None else {}, cluster, source)
    return {f.resource: (f.status, f.evidence) for f in me.evaluate(state, me)}


def statuses(check_id: str, cluster: dict | None = None, **kwargs) -> dict[str, str]:
    return {where: status for where, (status, _) in judge(check_id, cluster, **kwargs).items()}


def pool(name: str, mode: str = "User", **fields) -> dict:
    return {"name": name, "mode": mode, "osType": "Linux", "osSku": "Ubuntu", "count": 3,
            "vmSize": "Standard_D4ds_v5", "availabilityZones": ["1", "2", "3"],
            "enableAutoScaling": True, "minCount": 2, "maxCount": 5, "osDiskType": "Ephemeral",
            **fields}


# A well-configured cluster as az aks show prints it (camelCase, unset fields null).
GOOD = {
    "name": "aks1", "location": "japaneast", "sku": {"name": "Base", "tier": "Standard"},
    "nodeResourceGroup": "rg-aks1-nodes", "enableRbac": True, "disableLocalAccounts": True,
    "aadProfile": {"managed": True, "enableAzureRbac": True},
    "identity": {"type": "UserAssigned"}, "servicePrincipalProfile": {"clientId": "msi"},
    "identityProfile": {"kubeletidentity": {
        "clientId": "00000000-0000-4000-8000-00000000000a",
        "resourceId": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
                      "userAssignedIdentities/aks1-agentpool"}},
    "apiServerAccessProfile": {"enablePrivateCluster": True, "authorizedIpRanges": None},
    "oidcIssuerProfile": {"enabled": True},
    "securityProfile": {"workloadIdentity": {"enabled": True}},
    "autoUpgradeProfile": {"upgradeChannel": "patch", "nodeOsUpgradeChannel": "NodeImage"},
    "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay",
                       "networkPolicy": "cilium", "networkDataplane": "cilium",
                       "outboundType": "userDefinedRouting", "loadBalancerSku": "standard"},
    "addonProfiles": {"azurepolicy": {"enabled": True}, "omsagent": {"enabled": True},
                      "azureKeyvaultSecretsProvider": {"enabled": True, "config": {
                          "enableSecretRotation": "true"}}},
    "nodeProvisioningProfile": {"mode": "Manual"},
    "agentPoolProfiles": [pool("system", "System", nodeTaints=[
        "CriticalAddonsOnly=true:NoSchedule"]), pool("user")],
}


def good(**changes) -> dict:
    """GOOD with dotted fields replaced, e.g. good(**{"sku.tier": "Free"})."""
    cluster = copy.deepcopy(GOOD)
    for path, value in changes.items():
        holder = cluster
        *parents, last = path.split(".")
        for part in parents:
            holder = holder[part]
        holder[last] = value
    return cluster


def without(path: str) -> dict:
    cluster = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    holder = cluster
    for part in parents:
        holder = holder[part]
    del holder[last]
    return cluster


# ---- the table: every query item cited or explained, every cited guid real ----------------------

def test_the_fact_table_matches_the_checklists_query_items():
    graph = {guid: item.category for guid, item in checklist.ITEMS.items() if item.graph}
    assert graph == GRAPH_ITEMS
    assert all(item.category in checklist.CATEGORIES for item in checklist.ITEMS.values())


def test_every_query_item_is_judged_or_explained_and_at_least_18_are_judged():
    judged = {g for g in GRAPH_ITEMS if g in checklist.AUTOMATED}
    explained = {g for g in GRAPH_ITEMS if g in checklist.NOT_AUTOMATED}
    assert judged | explained == set(GRAPH_ITEMS)
    assert not judged & explained
    assert len(judged) >= 18, sorted(explained)
    assert all(len(why) > 80 for why in checklist.NOT_AUTOMATED.values())
    assert set(checklist.NOT_AUTOMATED) <= set(GRAPH_ITEMS)


def test_every_guid_in_the_tables_and_the_catalog_is_a_checklist_item():
    cited = {g for c in catalog().values() for g in GUID.findall(c.public_ids)}
    assert cited <= set(checklist.ITEMS)
    assert set(checklist.AUTOMATED) <= set(checklist.ITEMS)


def test_every_check_the_table_names_exists():
    known = catalog()
    assert {i for ids in checklist.AUTOMATED.values() for i in ids} <= set(known)


def test_this_modules_checks_cite_exactly_the_items_the_table_gives_them():
    mine = {c.id: c for c in catalog().values() if c.evaluate.__module__ == checklist.__name__}
    assert len(mine) == 11
    for check_id, me in mine.items():
        wanted = {g for g, ids in checklist.AUTOMATED.items() if check_id in ids}
        assert set(GUID.findall(me.public_ids)) == wanted, check_id
        assert me.differs, check_id
        assert check_id.split("-")[1] == {"01": "OV", "02": "NET", "04": "MNT"}[me.chapter[:2]]


def test_existing_checks_cite_the_items_the_table_maps_to_them():
    """The checks of other chapters that judge an item carry its guid in their public_ids
    (the citations the lead adds: see docs/aks-review-checklist.md)."""
    known = catalog()
    missing = sorted(f"{i} {g}" for g, ids in checklist.AUTOMATED.items() for i in ids
                     if g not in known[i].public_ids)
    assert not missing


def test_the_docs_page_gives_each_query_item_its_check_or_says_it_is_not_automated():
    rows = {line.split("|")[1].strip(" `"): line for line in DOCS.read_text().splitlines()
            if line.startswith("| `")}
    for guid in GRAPH_ITEMS:
        row = rows[guid[:8]]
        wanted = checklist.AUTOMATED.get(guid, ("not automated",))
        assert all(f" {w} " in row for w in wanted), row
    for guid in checklist.NOT_AUTOMATED:
        assert f"**`{guid[:8]}`" in DOCS.read_text()


def test_a_citation_names_the_guid_category_and_text():
    assert checklist.cite("71d41e36-10cc-457b-9a4b-1410d4395898") == (
        "AKS checklist 71d41e36-10cc-457b-9a4b-1410d4395898 (BC and DR: Use the SLA-backed AKS "
        "offering)")
    # the item's closing full stop is dropped inside the parentheses
    assert checklist.cite("8008ae7d-7e4b-4475-a6c8-bdbf59bce65d").endswith(
        "use instead the managed NGINX ingress with the application routing add-on)")


# ---- grouping by category -----------------------------------------------------------------------

def test_a_check_knows_its_checklist_category():
    assert checklist.category("AKS-OV-101") == "BC and DR"
    assert checklist.category("AKS-NET-002") == "Network Topology and Connectivity"
    assert checklist.category("AKS-MNT-007") == "BC and DR"
    assert checklist.category("AKS-AUTH-001") == checklist.NOT_IN_CHECKLIST


def test_grouped_findings_follow_the_checklists_category_order():
    state = checks.State({}, GOOD, "az aks show", has_cluster=False)
    frame = checklist.grouped(checks.run(state))
    assert list(frame.columns)[:2] == ["category", "check"]
    order = list(dict.fromkeys(frame["category"]))
    assert order == [*[c for c in checklist.CATEGORIES if c in order],
                     checklist.NOT_IN_CHECKLIST]
    first = frame[frame["category"] == "Identity and Access Management"]["check"].tolist()
    assert "AKS-AUTH-012" in first and first == sorted(first)
    assert len(frame) == len(checks.run(state))


def test_grouped_json_rows_carry_their_category_first():
    me = catalog()["AKS-OV-102"]
    other = catalog()["AKS-AUTH-001"]
    rows = checklist.grouped_rows([other.finding("Pod/a/b", "pass", "ok"),
                                   me.finding("ManagedCluster/aks1", "fail", "Free")])
    assert [(r["category"], r["check"]) for r in rows] == [
        ("BC and DR", "AKS-OV-102"), (checklist.NOT_IN_CHECKLIST, "AKS-AUTH-001")]
    assert list(rows[0])[:2] == ["category", "check"] and rows[0]["status"] == "fail"


def test_a_check_of_two_categories_forms_its_own_group_after_its_first(monkeypatch):
    # AKS-OV-101 judges a BC and DR item; let it judge an Operations item too
    monkeypatch.setitem(checklist.AUTOMATED, "139c9580-ade3-426a-ba09-cf157d9f6477",
                        ("AKS-MNT-004", "AKS-OV-101"))
    assert checklist.category("AKS-OV-101") == "BC and DR; Operations"
    found = [catalog()[i].finding("ManagedCluster/aks1", "pass", "ok")
             for i in ("AKS-MNT-004", "AKS-OV-101", "AKS-OV-102")]
    assert [f.check for f in checklist.ordered(found)] == ["AKS-OV-102", "AKS-OV-101",
                                                           "AKS-MNT-004"]


def test_within_a_group_findings_follow_check_then_resource():
    found = [catalog()[i].finding(where, "pass", "ok") for i, where in [
        ("AKS-OV-101", "AgentPool/user"), ("AKS-OV-102", "ManagedCluster/aks1"),
        ("AKS-OV-101", "AgentPool/system"), ("AKS-AUTH-001", "Pod/a/b"),
        ("AKS-AUTH-014", "ManagedCluster/aks1")]]
    assert [(f.check, f.resource) for f in checklist.ordered(found)] == [
        ("AKS-AUTH-014", "ManagedCluster/aks1"), ("AKS-OV-101", "AgentPool/system"),
        ("AKS-OV-101", "AgentPool/user"), ("AKS-OV-102", "ManagedCluster/aks1"),
        ("AKS-AUTH-001", "Pod/a/b")]


def test_grouping_an_empty_list_keeps_the_columns():
    frame = checklist.grouped([])
    assert frame.empty and list(frame.columns)[0] == "category"


# ---- the good configuration passes every checklist check that can judge it ----------------------

def test_the_good_configuration_passes_every_checklist_check():
    state = checks.State({}, GOOD, "az aks show", has_cluster=False)
    found = [f for f in checks.run(state) if f.check in {
        i for ids in checklist.AUTOMATED.values() for i in ids} and f.resource != "Cluster"]
    by_status = {(f.check, f.resource): f.status for f in found}
    assert {k: s for k, s in by_status.items() if s != "pass"} == {
        ("AKS-NET-103", "ManagedCluster/aks1"): "not-applicable",  # no Windows pool
        ("AKS-NET-001", "ManagedCluster/aks1"): "not-applicable"}  # private: no ranges to set
    assert len(by_status) > 20


# ---- 578a219a availability zones ----------------------------------------------------------------

AZ = "AKS-OV-101"


def test_zones_two_or_more_pass_none_fail():
    cluster = good(agentPoolProfiles=[pool("system", "System", availabilityZones=["1", "2"]),
                                      pool("user", availabilityZones=None)])
    assert statuses(AZ, cluster) == {"AgentPool/system": "pass", "AgentPool/user": "fail"}


def test_zones_every_pool_is_judged_not_only_the_first():
    # the query reads agentPoolProfiles[0] only: it would pass this cluster
    cluster = good(agentPoolProfiles=[pool("system", "System"), pool("user",
                                                                     availabilityZones=[])])
    assert statuses(AZ, cluster)["AgentPool/user"] == "fail"


def test_zones_one_zone_passes_only_when_pools_of_its_mode_span_more():
    alone = good(agentPoolProfiles=[pool("system", "System"),
                                    pool("user1", availabilityZones=["1"])])
    assert statuses(AZ, alone)["AgentPool/user1"] == "fail"
    spread = good(agentPoolProfiles=[pool("system", "System", availabilityZones=["1"]),
                                     pool("user1", availabilityZones=["1"]),
                                     pool("user2", availabilityZones=["2"])])
    found = judge(AZ, spread)
    assert found["AgentPool/user1"][0] == found["AgentPool/user2"][0] == "pass"
    assert "span zones 1, 2" in found["AgentPool/user1"][1]
    assert found["AgentPool/system"][0] == "fail"  # the User pools' zones do not help it


def test_zones_not_in_the_configuration_are_not_judged():
    cluster = good(agentPoolProfiles=[{"name": "system", "mode": "System"}])
    status, evidence = judge(AZ, cluster, source="planned configuration")["AgentPool/system"]
    assert status == "not-applicable" and "availabilityZones" in evidence
    assert statuses(AZ, without("agentPoolProfiles")) == {"ManagedCluster/aks1":
                                                          "not-applicable"}


# ---- 71d41e36 SLA-backed tier -------------------------------------------------------------------

SLA = "AKS-OV-102"


@pytest.mark.parametrize("tier, status", [
    ("Standard", "pass"), ("Premium", "pass"), ("standard", "pass"),
    ("Paid", "pass"),  # the query's value: today's Standard
    ("Free", "fail"), (None, "fail")])
def test_sla_tier(tier, status):
    assert statuses(SLA, good(**{"sku.tier": tier})) == {"ManagedCluster/aks1": status}


def test_sla_tier_unknown_without_a_sku():
    assert statuses(SLA, without("sku")) == {"ManagedCluster/aks1": "not-applicable"}
    assert statuses(SLA, good(sku=None)) == {"ManagedCluster/aks1": "not-applicable"}


# ---- 6f158e3e user and system pools -------------------------------------------------------------

POOLS = "AKS-OV-103"


def test_pools_a_user_pool_beside_the_system_pool_passes():
    assert statuses(POOLS, GOOD) == {"ManagedCluster/aks1": "pass"}


def test_pools_two_system_pools_fail_though_the_query_counts_two():
    cluster = good(agentPoolProfiles=[pool("system1", "System"), pool("system2", "System")])
    status, evidence = judge(POOLS, cluster)["ManagedCluster/aks1"]
    assert status == "fail" and "only System pool(s) system1, system2" in evidence
    assert statuses(POOLS, good(agentPoolProfiles=[pool("system", "System")])) == {
        "ManagedCluster/aks1": "fail"}


def test_pools_node_auto_provisioning_gives_applications_their_nodes():
    cluster = good(agentPoolProfiles=[pool("system", "System")],
                   nodeProvisioningProfile={"mode": "Auto"})
    assert statuses(POOLS, cluster) == {"ManagedCluster/aks1": "pass"}


def test_pools_without_their_mode_are_not_judged():
    cluster = good(agentPoolProfiles=[{"name": "a"}, {"name": "b"}])
    assert statuses(POOLS, cluster) == {"ManagedCluster/aks1": "not-applicable"}


# ---- a7a1f893 the system pool's taint (nodes) ---------------------------------------------------

TAINT = "AKS-OV-104"


def node(name: str, mode: str = "system", pool_name: str = "system", taints=None) -> dict:
    return {"metadata": {"name": name, "labels": {"kubernetes.azure.com/mode": mode,
                                                  "kubernetes.azure.com/agentpool": pool_name}},
            "spec": {"taints": taints or []}}


CRITICAL = {"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}


def test_taint_on_every_system_node_passes_user_nodes_are_not_judged():
    nodes = [node("n1", taints=[CRITICAL]), node("n2", taints=[CRITICAL]),
             node("u1", "user", "user")]
    assert statuses(TAINT, objects={"nodes": nodes}) == {"AgentPool/system": "pass"}


def test_taint_missing_on_one_node_or_too_weak_fails():
    nodes = [node("n1", taints=[CRITICAL]), node("n2")]
    status, evidence = judge(TAINT, objects={"nodes": nodes})["AgentPool/system"]
    assert status == "fail" and "1 of 2" in evidence and "n2" in evidence
    weak = [node("n1", taints=[{**CRITICAL, "effect": "PreferNoSchedule"}])]
    assert statuses(TAINT, objects={"nodes": weak}) == {"AgentPool/system": "fail"}
    evicting = [node("n1", taints=[{"key": "CriticalAddonsOnly", "effect": "NoExecute"}])]
    assert statuses(TAINT, objects={"nodes": evicting}) == {"AgentPool/system": "pass"}


def test_taint_on_the_local_clusters_aks_shaped_nodes():
    from aks_runbook.targets.nodepools import DEFAULT_POOLS, PoolShape, node_manifests

    nodes = node_manifests(DEFAULT_POOLS, "v1.36.3")
    assert statuses(TAINT, objects={"nodes": nodes}) == {"AgentPool/system": "pass"}
    bare = node_manifests([PoolShape("system", 1, mode="System")], "v1.36.3")
    bare[0]["spec"]["taints"] = []
    assert statuses(TAINT, objects={"nodes": bare}) == {"AgentPool/system": "fail"}


def test_taint_needs_nodes():
    assert statuses(TAINT, objects={}) == {"Node/*": "not-applicable"}  # not listed
    only_user = {"nodes": [node("u1", "user", "user")]}
    assert statuses(TAINT, objects=only_user) == {"Node/*": "not-applicable"}


# ---- 73b32a5a node resource group name ----------------------------------------------------------

NODE_RG = "AKS-OV-105"


@pytest.mark.parametrize("name, status", [
    ("MC_rg_aks1_japaneast", "fail"), ("mc_rg_aks1_japaneast", "fail"),  # KQL: any case
    ("MC-nodes", "pass"), ("rg-aks1-nodes", "pass"), (None, "not-applicable")])
def test_node_resource_group(name, status):
    assert statuses(NODE_RG, good(nodeResourceGroup=name)) == {"ManagedCluster/aks1": status}


# ---- 8008ae7d HTTP application routing ----------------------------------------------------------

HTTP = "AKS-NET-101"


@pytest.mark.parametrize("profile, status", [
    ({"enabled": True}, "fail"), ({"enabled": "True"}, "fail"), ({"enabled": False}, "pass"),
    (None, "pass"), ({"config": {}}, "not-applicable")])
def test_http_application_routing(profile, status):
    cluster = good(**{"addonProfiles.httpApplicationRouting": profile})
    assert statuses(HTTP, cluster) == {"ManagedCluster/aks1": status}


def test_http_application_routing_needs_the_add_ons():
    assert statuses(HTTP, without("addonProfiles")) == {"ManagedCluster/aks1": "not-applicable"}
    assert statuses(HTTP, good(addonProfiles=None)) == {"ManagedCluster/aks1": "pass"}


# ---- ba7da7be standard load balancer ------------------------------------------------------------

LB = "AKS-NET-102"


@pytest.mark.parametrize("sku, status", [
    ("standard", "pass"), ("Standard", "pass"), ("basic", "fail"), (None, "fail")])
def test_load_balancer_sku(sku, status):
    cluster = good(**{"networkProfile.loadBalancerSku": sku})
    assert statuses(LB, cluster) == {"ManagedCluster/aks1": status}


def test_load_balancer_sku_unknown_when_not_in_the_configuration():
    cluster = without("networkProfile.loadBalancerSku")
    assert statuses(LB, cluster) == {"ManagedCluster/aks1": "not-applicable"}


# ---- ce7f2a7c network policy on Windows nodes ---------------------------------------------------

WINDOWS = "AKS-NET-103"


def windows_cluster(policy, plugin="azure", **pool_fields) -> dict:
    fields = {"osType": "Windows", "osSku": "Windows2022", **pool_fields}
    return good(agentPoolProfiles=[pool("system", "System"), pool("win", **fields)],
                networkProfile={**GOOD["networkProfile"], "networkPolicy": policy,
                                "networkPlugin": plugin})


@pytest.mark.parametrize("policy, status", [
    ("calico", "pass"), ("azure", "fail"), ("cilium", "fail"), ("none", "fail"), (None, "fail")])
def test_windows_pools_need_calico(policy, status):
    assert statuses(WINDOWS, windows_cluster(policy)) == {"AgentPool/win": status}


def test_windows_calico_needs_azure_cni_and_a_documented_windows_version():
    assert statuses(WINDOWS, windows_cluster("calico", "kubenet")) == {"AgentPool/win": "fail"}
    assert statuses(WINDOWS, windows_cluster("calico", osSku="Windows2019")) == {
        "AgentPool/win": "pass"}
    assert statuses(WINDOWS, windows_cluster("calico", osSku="Windows2025")) == {
        "AgentPool/win": "not-applicable"}


def test_windows_pool_found_by_its_os_sku_alone():
    cluster = windows_cluster("cilium", osType=None)
    assert statuses(WINDOWS, cluster) == {"AgentPool/win": "fail"}


def test_windows_item_does_not_apply_without_windows_pools():
    assert statuses(WINDOWS, GOOD) == {"ManagedCluster/aks1": "not-applicable"}
    unknown = good(agentPoolProfiles=[{"name": "system", "mode": "System"}])
    status, evidence = judge(WINDOWS, unknown)["ManagedCluster/aks1"]
    assert status == "not-applicable" and "OS of pool(s) system" in evidence


# ---- eaa8dc4a Container Insights ----------------------------------------------------------------

LOGS = "AKS-MNT-101"


@pytest.mark.parametrize("addons, status", [
    ({"omsagent": {"enabled": True}}, "pass"), ({"omsAgent": {"enabled": True}}, "pass"),
    ({"omsagent": {"enabled": False}}, "fail"), ({"azurepolicy": {"enabled": True}}, "fail"),
    (None, "fail")])
def test_container_insights(addons, status):
    assert statuses(LOGS, good(addonProfiles=addons)) == {"ManagedCluster/aks1": status}


def test_container_insights_unknown_without_add_ons():
    assert statuses(LOGS, without("addonProfiles")) == {"ManagedCluster/aks1": "not-applicable"}


# ---- 90ce65de cluster autoscaler ----------------------------------------------------------------

SCALE = "AKS-MNT-102"


def test_autoscaler_each_pool_judged_by_enable_auto_scaling():
    cluster = good(agentPoolProfiles=[pool("system", "System"),
                                      pool("user", enableAutoScaling=False)])
    found = judge(SCALE, cluster)
    assert found["AgentPool/system"] == ("pass", "cluster autoscaler on (2 to 5 nodes) "
                                                 "(az aks show)")
    assert found["AgentPool/user"][0] == "fail"


def test_autoscaler_profile_alone_does_not_scale_anything():
    # the query passes any cluster with an autoScalerProfile
    cluster = good(autoScalerProfile={"expander": "random"},
                   agentPoolProfiles=[pool("system", "System", enableAutoScaling=False)])
    assert statuses(SCALE, cluster) == {"AgentPool/system": "fail"}


def test_autoscaler_node_auto_provisioning_scales_the_cluster():
    cluster = good(nodeProvisioningProfile={"mode": "Auto"},
                   agentPoolProfiles=[pool("system", "System", enableAutoScaling=False)])
    assert statuses(SCALE, cluster) == {"AgentPool/system": "pass"}


def test_autoscaler_unknown_when_not_in_the_configuration():
    cluster = good(agentPoolProfiles=[{"name": "system", "mode": "System"}])
    assert statuses(SCALE, cluster) == {"AgentPool/system": "not-applicable"}


# ---- 24367b33 ephemeral OS disks ----------------------------------------------------------------

DISK = "AKS-MNT-103"


@pytest.mark.parametrize("kind, status", [
    ("Ephemeral", "pass"), ("ephemeral", "pass"), ("Managed", "fail"), (None, "fail")])
def test_ephemeral_os_disk(kind, status):
    cluster = good(agentPoolProfiles=[pool("system", "System", osDiskType=kind)])
    assert statuses(DISK, cluster) == {"AgentPool/system": status}


def test_ephemeral_os_disk_unknown_when_not_in_the_configuration():
    cluster = good(agentPoolProfiles=[{"name": "system", "mode": "System"}])
    assert statuses(DISK, cluster) == {"AgentPool/system": "not-applicable"}


# ---- items judged by the other chapters' checks: the query's own boundary -----------------------

@pytest.mark.parametrize("guid, passing, failing", [
    ("9ca48e4a-85e2-4223-bce8-bb12307ca5f1",  # azurepolicy add-on enabled
     {}, {"addonProfiles.azurepolicy": {"enabled": False}}),
    ("ed127dd1-42b0-46b2-8c69-99a646f3389a",  # servicePrincipalProfile.clientId == 'msi'
     {}, {"servicePrincipalProfile.clientId": "3f2a9c1e-0000-4000-8000-000000000001"}),
    ("7e42c78e-78c0-46a6-8a21-94956e698dc4",  # aadProfile not null
     {}, {"aadProfile": None}),
    ("b085b1f2-3119-4771-8c9a-bbf4411810ec",  # disableLocalAccounts == true
     {}, {"disableLocalAccounts": False}),
    ("a0f61565-9de5-458f-a372-49c831112dbd",  # networkPlugin == 'azure'
     {}, {"networkProfile.networkPlugin": "kubenet"}),
    ("3b365a91-7ecb-4e48-bbe5-4cd7df2e8bba",  # outboundType == 'userDefinedRouting'
     {}, {"networkProfile.outboundType": "loadBalancer"}),
    ("c4581559-bb91-463e-a908-aed8c44ce3b2",  # public endpoint and authorizedIPRanges set
     {"apiServerAccessProfile": {"enablePrivateCluster": None,
                                 "authorizedIpRanges": ["131.107.0.0/16"]}},
     {"apiServerAccessProfile": {"enablePrivateCluster": None, "authorizedIpRanges": None}}),
    ("ecccd979-3b6b-4cda-9b50-eb2eb03dda6d",  # enablePrivateCluster == true
     {}, {"apiServerAccessProfile.enablePrivateCluster": False}),
    ("58d7c892-ddb1-407d-9769-ae669ca48e4a",  # networkPolicy not null
     {"networkProfile.networkPolicy": "calico"}, {"networkProfile.networkPolicy": None}),
])
def test_mapped_items_follow_their_querys_boundary(guid, passing, failing):
    (check_id,) = checklist.AUTOMATED[guid]
    assert set(statuses(check_id, good(**passing)).values()) == {"pass"}, check_id
    assert set(statuses(check_id, good(**failing)).values()) == {"fail"}, check_id


def test_network_policy_none_fails_though_the_query_counts_it_set():
    cluster = good(**{"networkProfile.networkPolicy": "none"})
    assert statuses("AKS-NET-002", cluster) == {"ManagedCluster/aks1": "fail"}


# ---- what a reader sees: the verdict and its evidence, configuration by configuration ----------
# Each row is a configuration and every finding the check gives on it, with the evidence the
# review reads. "(az aks show)" or "(planned configuration)" at the end says where the data came
# from.

def pools(*profiles: dict, **changes) -> dict:
    return good(agentPoolProfiles=list(profiles), **changes)


@pytest.mark.parametrize("cluster, found", [
    pytest.param(pools(pool("system", "System"), pool("user", availabilityZones=[2, 1])), {
        "AgentPool/system": ("pass", "zones 1, 2, 3 (az aks show)"),
        "AgentPool/user": ("pass", "zones 1, 2 (az aks show)")}, id="two or three zones"),
    pytest.param(pools(pool("system", "System", availabilityZones=["1", "1"])), {
        "AgentPool/system": ("fail", "zone 1 only, and no other System pool in another zone: one "
                             "zone's outage stops all of them (az aks show)")},
        id="a zone named twice is one zone"),
    pytest.param(pools(pool("system", "System", availabilityZones=["1"]),
                       pool("user", availabilityZones=["2"])), {
        "AgentPool/system": ("fail", "zone 1 only, and no other System pool in another zone: one "
                             "zone's outage stops all of them (az aks show)"),
        "AgentPool/user": ("fail", "zone 2 only, and no other User pool in another zone: one "
                           "zone's outage stops all of them (az aks show)")},
        id="one zone per mode"),
    pytest.param(pools(pool("system", "System", availabilityZones=["1", "2"]),
                       pool("user1", availabilityZones=["3"]),
                       pool("user2", availabilityZones=["1"]),
                       pool("user3", availabilityZones=["1"])), {
        "AgentPool/system": ("pass", "zones 1, 2 (az aks show)"),
        "AgentPool/user1": ("pass", "zone 3 only, and the User pools together span zones 1, 3 "
                            "(az aks show)"),
        "AgentPool/user2": ("pass", "zone 1 only, and the User pools together span zones 1, 3 "
                            "(az aks show)"),
        "AgentPool/user3": ("pass", "zone 1 only, and the User pools together span zones 1, 3 "
                            "(az aks show)")}, id="one zone each, spread together"),
    pytest.param(pools(pool("user1", availabilityZones=["1"]), pool("user2",
                                                                    availabilityZones=["1"])), {
        "AgentPool/user1": ("fail", "zone 1 only, and no other User pool in another zone: one "
                            "zone's outage stops all of them (az aks show)"),
        "AgentPool/user2": ("fail", "zone 1 only, and no other User pool in another zone: one "
                            "zone's outage stops all of them (az aks show)")},
        id="two pools in the same zone"),
    pytest.param(pools({"name": "user3", "mode": "User"}, pool("user1", availabilityZones=["1"]),
                       pool("user2", availabilityZones=None)), {
        "AgentPool/user1": ("fail", "zone 1 only, and no other User pool in another zone: one "
                            "zone's outage stops all of them (az aks show)"),
        "AgentPool/user2": ("fail", "no availability zones: one datacenter's outage can stop the "
                            "pool (if japaneast has no zones, the item does not apply) "
                            "(az aks show)"),
        "AgentPool/user3": ("not-applicable", "cannot judge: the configuration does not say "
                            "availabilityZones (az aks show)")},
        id="null zones, and a pool that does not say"),
    pytest.param(pools(pool("system", "System", availabilityZones=[]), location=None), {
        "AgentPool/system": ("fail", "no availability zones: one datacenter's outage can stop "
                             "the pool (if the region has no zones, the item does not apply) "
                             "(az aks show)")}, id="empty list, no location"),
    pytest.param(good(agentPoolProfiles=None), {
        "ManagedCluster/aks1": ("not-applicable", "cannot judge: the configuration does not say "
                                "agentPoolProfiles (az aks show)")}, id="no pools"),
])
def test_zones_evidence(cluster, found):
    assert judge(AZ, cluster) == found


@pytest.mark.parametrize("cluster, found", [
    (good(**{"sku.tier": "Standard"}), ("pass", "tier Standard: uptime SLA")),
    (good(**{"sku.tier": "PREMIUM"}), ("pass", "tier Premium (Standard plus long-term support): "
                                       "uptime SLA")),
    (good(**{"sku.tier": "Paid"}), ("pass", "tier Paid (Standard's name before API version "
                                    "2023-07-01): uptime SLA")),
    (good(**{"sku.tier": "Free"}), ("fail", "tier Free: no financially backed uptime SLA")),
    (good(**{"sku.tier": None}), ("fail", "no tier set (Free by default): no uptime SLA")),
    (good(sku={"name": "Base"}), ("not-applicable", "cannot judge: the configuration does not "
                                  "say sku.tier")),
])
def test_sla_tier_evidence(cluster, found):
    status, evidence = found
    assert judge(SLA, cluster, source="planned configuration") == {
        "ManagedCluster/aks1": (status, evidence + " (planned configuration)")}


@pytest.mark.parametrize("cluster, found", [
    pytest.param(GOOD, ("pass", "System pool(s) system; applications on User pool(s) user"),
                 id="system and user"),
    pytest.param(pools(pool("sys", "system"), pool("apps", "user"), pool("batch", "User"),
                       nodeProvisioningProfile={"mode": "auto"}),
                 ("pass", "System pool(s) sys; applications on User pool(s) apps, batch and node "
                          "auto-provisioning"), id="any case, with auto-provisioning"),
    pytest.param(pools(pool("sys", "System"), nodeProvisioningProfile={"mode": "Auto"}),
                 ("pass", "System pool(s) sys; applications on node auto-provisioning"),
                 id="auto-provisioning alone"),
    pytest.param(pools(pool("sys", "System"), {"name": "other"}),
                 ("not-applicable", "cannot judge: the configuration does not say the mode of "
                                    "pool(s) other"), id="one pool's mode unsaid"),
    pytest.param(pools(pool("sys", "System"), pool("apps"), {"name": "other"}),
                 ("pass", "System pool(s) sys; applications on User pool(s) apps"),
                 id="unsaid mode beside a user pool"),
    pytest.param(pools(pool("a"), pool("b")), ("fail", "no System pool among a, b"),
                 id="no system pool"),
    pytest.param(pools(pool("sys1", "System"), pool("sys2", "System")),
                 ("fail", "only System pool(s) sys1, sys2: applications run beside CoreDNS, "
                          "metrics-server and the other system pods"), id="two system pools"),
    pytest.param(good(agentPoolProfiles=[]),
                 ("not-applicable", "cannot judge: the configuration does not say "
                                    "agentPoolProfiles"), id="no pools"),
])
def test_pools_evidence(cluster, found):
    status, evidence = found
    assert judge(POOLS, cluster) == {"ManagedCluster/aks1": (status, evidence + " (az aks show)")}


def files(nodes: list[dict]) -> checks.State:
    return checks.State({"nodes": nodes} if nodes else {}, None, origin="files")


def test_taint_evidence_names_each_pool_and_its_bare_nodes():
    nodes = [node("s1", taints=[CRITICAL]), node("s2", taints=[{**CRITICAL, "key": "other"}]),
             node("s3", taints=[{**CRITICAL, "effect": "PreferNoSchedule"}]),
             node("b1", pool_name="blue", taints=[CRITICAL]),
             {"metadata": {"name": "a1", "labels": {"kubernetes.azure.com/mode": "system",
                                                     "agentpool": "alpha"}}},
             {"metadata": {"name": "x1", "labels": {"kubernetes.azure.com/mode": "system"}},
              "spec": {"taints": None}},
             {"metadata": {"name": "u1", "labels": None}}]
    assert judge(TAINT, objects={"nodes": nodes}) == {
        "AgentPool/(no pool label)": ("fail", "1 of 1 system node(s) without a CriticalAddonsOnly "
                                      "NoSchedule taint (x1): application pods may be scheduled "
                                      "there"),
        "AgentPool/alpha": ("fail", "1 of 1 system node(s) without a CriticalAddonsOnly "
                            "NoSchedule taint (a1): application pods may be scheduled there"),
        "AgentPool/blue": ("pass", "CriticalAddonsOnly taint on all 1 system node(s)"),
        "AgentPool/system": ("fail", "2 of 3 system node(s) without a CriticalAddonsOnly "
                             "NoSchedule taint (s2, s3): application pods may be scheduled "
                             "there")}
    assert [f.resource for f in checklist.system_pool_taint(checks.State({"nodes": nodes}),
                                                              catalog()[TAINT])] == [
        "AgentPool/(no pool label)", "AgentPool/alpha", "AgentPool/blue", "AgentPool/system"]


@pytest.mark.parametrize("state, found", [
    (checks.State({}), {"Node/*": ("not-applicable", "cannot judge: nodes could not be "
                                   "listed")}),
    (files([]), {"Node/*": ("not-applicable", "no node labelled kubernetes.azure.com/mode="
                            "system (AKS labels every node of a System pool so; none in this "
                            "view)")}),
    (files([node("s1", taints=[CRITICAL])]), {"AgentPool/system": (
        "pass", "CriticalAddonsOnly taint on all 1 system node(s)")}),
])
def test_taint_evidence_from_a_cluster_and_from_files(state, found):
    assert {f.resource: (f.status, f.evidence) for f in checks.run(state)
            if f.check == TAINT} == found


@pytest.mark.parametrize("name, found", [
    ("MC_rg_aks1_japaneast", ("fail", "node resource group MC_rg_aks1_japaneast: AKS's default "
                                      "name (MC_<group>_<cluster>_<location>)")),
    ("rg-aks1-nodes", ("pass", "node resource group rg-aks1-nodes")),
    ("", ("not-applicable", "cannot judge: the configuration does not say nodeResourceGroup")),
])
def test_node_resource_group_evidence(name, found):
    status, evidence = found
    assert judge(NODE_RG, good(nodeResourceGroup=name)) == {
        "ManagedCluster/aks1": (status, evidence + " (az aks show)")}
    assert judge(NODE_RG, without("nodeResourceGroup")) == {"ManagedCluster/aks1": (
        "not-applicable", "cannot judge: the configuration does not say nodeResourceGroup "
                          "(az aks show)")}


@pytest.mark.parametrize("profile, found", [
    ({"enabled": "TRUE"}, ("fail", "httpApplicationRouting add-on enabled: retired on "
                                   "2025-03-03 and does not work on Kubernetes 1.22.6 or later")),
    ({"enabled": "false"}, ("pass", "httpApplicationRouting add-on not enabled")),
    (None, ("pass", "httpApplicationRouting add-on not enabled")),
    ({"enabled": None}, ("not-applicable", "cannot judge: the configuration does not say "
                                           "whether httpApplicationRouting is enabled")),
])
def test_http_application_routing_evidence(profile, found):
    status, evidence = found
    cluster = good(**{"addonProfiles.httpApplicationRouting": profile})
    assert judge(HTTP, cluster) == {"ManagedCluster/aks1": (status, evidence + " (az aks show)")}
    assert judge(HTTP, without("addonProfiles")) == {"ManagedCluster/aks1": (
        "not-applicable", "cannot judge: the configuration does not say addonProfiles "
                          "(az aks show)")}


@pytest.mark.parametrize("sku, found", [
    ("Standard", ("pass", "loadBalancerSku standard")),
    ("Basic", ("fail", "loadBalancerSku Basic: no longer supported by AKS since 2025-09-30 (no "
                       "zones, no SLA)")),
    (None, ("fail", "loadBalancerSku None: not set")),
    ("premium", ("fail", "loadBalancerSku premium")),
])
def test_load_balancer_sku_evidence(sku, found):
    status, evidence = found
    cluster = good(**{"networkProfile.loadBalancerSku": sku})
    assert judge(LB, cluster) == {"ManagedCluster/aks1": (status, evidence + " (az aks show)")}
    assert judge(LB, without("networkProfile.loadBalancerSku")) == {"ManagedCluster/aks1": (
        "not-applicable", "cannot judge: the configuration does not say "
                          "networkProfile.loadBalancerSku (az aks show)")}


@pytest.mark.parametrize("policy, plugin, sku, found", [
    ("calico", "azure", "Windows2022", ("pass", "Calico with Azure CNI enforces on Windows2022")),
    ("Calico", "Azure", "Windows2019", ("pass", "Calico with Azure CNI enforces on Windows2019")),
    ("calico", "azure", None, ("pass", "Calico with Azure CNI enforces on Windows")),
    ("calico", "azure", "windows2022", ("pass", "Calico with Azure CNI enforces on windows2022")),
    ("calico", "azure", "Windows2025", ("not-applicable", "Calico's Windows support is documented "
                                        "for Windows2019 and Windows2022, not Windows2025")),
    ("calico", "kubenet", "Windows2022", ("fail", "Calico on plugin kubenet: Windows needs Azure "
                                          "CNI")),
    ("calico", None, "Windows2022", ("fail", "Calico on plugin none: Windows needs Azure CNI")),
    ("azure", "azure", "Windows2022", ("fail", "network policy azure: Azure NPM: its Windows "
                                       "support ended 2026-09-30")),
    ("Cilium", "azure", "Windows2022", ("fail", "network policy Cilium: Cilium enforces on Linux "
                                        "nodes only")),
    ("none", "azure", "Windows2022", ("fail", "network policy none: no policy engine: "
                                      "NetworkPolicies are not enforced")),
    (None, "azure", "Windows2022", ("fail", "network policy None: no policy engine: "
                                    "NetworkPolicies are not enforced")),
    ("antrea", "azure", "Windows2022", ("fail", "network policy antrea: no policy engine: "
                                        "NetworkPolicies are not enforced")),
])
def test_windows_evidence(policy, plugin, sku, found):
    status, evidence = found
    cluster = windows_cluster(policy, plugin, osSku=sku)
    assert judge(WINDOWS, cluster) == {"AgentPool/win": (status, evidence + " (az aks show)")}


@pytest.mark.parametrize("profiles, found", [
    pytest.param([pool("system", "System"), pool("w1", osType="windows", osSku=None),
                  pool("w2", osType=None, osSku="windows2019"), {"name": "x", "mode": "User"}],
                 {"AgentPool/w1": "fail", "AgentPool/w2": "fail",
                  "AgentPool/x": "not-applicable"},
                 id="osType, else osSku, any case; a pool that says neither"),
    pytest.param([pool("l1", osType="Linux", osSku="Windows2022"), pool("l2", osType=None,
                                                                        osSku="AzureLinux")],
                 {"ManagedCluster/aks1": "not-applicable"}, id="osType wins over osSku"),
])
def test_windows_pools_are_found_by_os_type_else_os_sku(profiles, found):
    assert statuses(WINDOWS, pools(*profiles)) == found


def test_beside_a_windows_pool_a_pool_of_unsaid_os_is_named_not_left_out():
    cluster = pools(pool("win", osType="Windows", osSku="Windows2022"), {"name": "x"},
                    networkProfile={**GOOD["networkProfile"], "networkPolicy": "calico"})
    assert judge(WINDOWS, cluster, source="planned configuration") == {
        "AgentPool/win": ("pass", "Calico with Azure CNI enforces on Windows2022 "
                                  "(planned configuration)"),
        "AgentPool/x": ("not-applicable", "cannot judge: the configuration does not say osType "
                                          "or osSku (planned configuration)")}


@pytest.mark.parametrize("cluster, found", [
    (pools(pool("system", "System"), {"name": "a"}, {"name": "b", "osType": None}),
     ("not-applicable", "cannot judge: the configuration does not say the OS of pool(s) a, b")),
    (GOOD, ("not-applicable", "no Windows node pool")),
    (without("agentPoolProfiles"), ("not-applicable", "cannot judge: the configuration does not "
                                     "say agentPoolProfiles")),
])
def test_windows_item_evidence_without_windows_pools(cluster, found):
    status, evidence = found
    assert judge(WINDOWS, cluster) == {"ManagedCluster/aks1": (status,
                                                               evidence + " (az aks show)")}


@pytest.mark.parametrize("addons, found", [
    ({"omsagent": {"enabled": "true"}}, ("pass", "Container Insights (monitoring add-on) on")),
    ({"omsagent": {"enabled": False}}, ("fail", "Container Insights (monitoring add-on) off: "
                                                "container logs stay on the nodes and rotate "
                                                "away")),
])
def test_container_insights_evidence(addons, found):
    status, evidence = found
    assert judge(LOGS, good(addonProfiles=addons)) == {
        "ManagedCluster/aks1": (status, evidence + " (az aks show)")}
    assert judge(LOGS, without("addonProfiles")) == {"ManagedCluster/aks1": (
        "not-applicable", "cannot judge: the configuration does not say addonProfiles "
                          "(az aks show)")}


@pytest.mark.parametrize("cluster, found", [
    pytest.param(pools(pool("system", "System", minCount=1, maxCount=3),
                       pool("user", enableAutoScaling="True"),
                       pool("fixed", enableAutoScaling=False, count=4),
                       pool("unset", enableAutoScaling=None, count=2),
                       {"name": "plan", "count": 1}), {
        "AgentPool/system": ("pass", "cluster autoscaler on (1 to 3 nodes)"),
        "AgentPool/user": ("pass", "cluster autoscaler on (2 to 5 nodes)"),
        "AgentPool/fixed": ("fail", "fixed at 4 node(s): pods that do not fit stay Pending"),
        "AgentPool/unset": ("fail", "fixed at 2 node(s): pods that do not fit stay Pending"),
        "AgentPool/plan": ("not-applicable", "cannot judge: the configuration does not say "
                           "enableAutoScaling")}, id="each pool"),
    pytest.param(pools(pool("pinned", minCount=3, maxCount=3),
                       pool("bounds unsaid", minCount=None, maxCount=None),
                       pool("one more", minCount=0, maxCount=1)), {
        "AgentPool/pinned": ("fail", "cluster autoscaler on, but minCount and maxCount are both "
                             "3: the pool cannot grow, pods that do not fit stay Pending"),
        "AgentPool/bounds unsaid": ("pass", "cluster autoscaler on (None to None nodes)"),
        "AgentPool/one more": ("pass", "cluster autoscaler on (0 to 1 nodes)")},
        id="minCount = maxCount cannot grow"),
    pytest.param(pools(pool("fixed", enableAutoScaling=False), {"name": "plan"},
                       pool("pinned", minCount=2, maxCount=2),
                       nodeProvisioningProfile={"mode": "auto"}), {
        "AgentPool/pinned": ("pass", "fixed size, and node auto-provisioning adds nodes as pods "
                             "need them"),
        "AgentPool/fixed": ("pass", "fixed size, and node auto-provisioning adds nodes as pods "
                            "need them"),
        "AgentPool/plan": ("pass", "fixed size, and node auto-provisioning adds nodes as pods "
                           "need them")}, id="node auto-provisioning"),
    pytest.param(good(agentPoolProfiles=None), {"ManagedCluster/aks1": (
        "not-applicable", "cannot judge: the configuration does not say agentPoolProfiles")},
        id="no pools"),
])
def test_autoscaler_evidence(cluster, found):
    assert judge(SCALE, cluster) == {where: (status, evidence + " (az aks show)")
                                     for where, (status, evidence) in found.items()}


@pytest.mark.parametrize("cluster, found", [
    pytest.param(pools({"name": "plan"}, pool("system", "System", osDiskType="ephemeral"),
                       pool("user", osDiskType="Managed", vmSize="Standard_D2s_v5"),
                       pool("unset", osDiskType=None)), {
        "AgentPool/system": ("pass", "osDiskType Ephemeral"),
        "AgentPool/user": ("fail", "osDiskType Managed: the OS disk is remote storage (slower "
                           "reimage, scale-out and upgrades; VM size Standard_D2s_v5)"),
        "AgentPool/unset": ("fail", "osDiskType None: the OS disk is remote storage (slower "
                            "reimage, scale-out and upgrades; VM size Standard_D4ds_v5)"),
        "AgentPool/plan": ("not-applicable", "cannot judge: the configuration does not say "
                           "osDiskType")}, id="each pool"),
    pytest.param(without("agentPoolProfiles"), {"ManagedCluster/aks1": (
        "not-applicable", "cannot judge: the configuration does not say agentPoolProfiles")},
        id="no pools"),
])
def test_ephemeral_os_disk_evidence(cluster, found):
    assert judge(DISK, cluster) == {where: (status, evidence + " (az aks show)")
                                    for where, (status, evidence) in found.items()}


def test_a_configuration_without_the_clusters_name_names_it_cluster():
    # a planned configuration may leave the name to the command line
    assert judge(LB, without("name"), source="planned configuration") == {
        "ManagedCluster/cluster": ("pass", "loadBalancerSku standard (planned configuration)")}
