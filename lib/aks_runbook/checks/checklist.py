"""Microsoft's Azure review checklist for AKS: the checks for its items, the table of which
check judges which item, and why the others are not automated.

Source: Azure/review-checklists, `checklists/aks_checklist.en.json` (read at commit 56cc3ad of
2025-12-24; the file's own timestamp says "February 20, 2024"); `aks_checklist.ja.json` beside it
has the same 23 queries under the same guids (it lacks two items without one, daa9a260 and
f4fd0602). Of the English file's 112 items, 23 carry an Azure Resource Graph
query (`graph`). Each of the 23 is either judged by a check that cites its guid (AUTOMATED) or
explained in NOT_AUTOMATED; docs/aks-review-checklist.md says the same for readers.

A check judges what its item's query means, not its letter, where the query is dated or wrong (a
tier renamed, a property misspelt, a query copied from another item); `differs` says how. A
check whose data the configuration does not hold says not-applicable and why: a planned
configuration models only what the plan sets, while `az aks show` prints unset fields as null.
Scores follow the item's own severity: High 7, Medium 5, Low 2.

Posture output groups by the checklist's categories with `grouped(findings)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aks_runbook.checks import Check, Finding, State, check, field_of


@dataclass(frozen=True)
class Item:
    category: str
    text: str
    graph: bool  # the item carries a Resource Graph query


# The items this module cites or explains: guid -> (category, text as the checklist words it).
ITEMS: dict[str, Item] = {
    # the 23 items with a Resource Graph query
    "578a219a-46be-4b54-9350-24922634292b": Item(
        "BC and DR", "Use Availability Zones if they are supported in your Azure region", True),
    "71d41e36-10cc-457b-9a4b-1410d4395898": Item(
        "BC and DR", "Use the SLA-backed AKS offering", True),
    "9ca48e4a-85e2-4223-bce8-bb12307ca5f1": Item(
        "Governance and Security", "Use Azure Policy for Kubernetes to ensure cluster "
        "compliance", True),
    "6f158e3e-a3a9-42c2-be7e-2165c3a87af4": Item(
        "Governance and Security", "Separate applications from the control plane with "
        "user/system node pools", True),
    "ed127dd1-42b0-46b2-8c69-99a646f3389a": Item(
        "Identity and Access Management", "Use managed identities instead of Service "
        "Principals", True),
    "7e42c78e-78c0-46a6-8a21-94956e698dc4": Item(
        "Identity and Access Management", "Integrate authentication with AAD (using the "
        "managed integration)", True),
    "b085b1f2-3119-4771-8c9a-bbf4411810ec": Item(
        "Identity and Access Management", "Disable AKS local accounts", True),
    "8008ae7d-7e4b-4475-a6c8-bdbf59bce65d": Item(
        "Network Topology and Connectivity", "Do not use AKS HTTP Routing Add-On, use instead "
        "the managed NGINX ingress with the application routing add-on.", True),
    "ba7da7be-9952-4914-a384-5d997cb39132": Item(
        "Network Topology and Connectivity", "Use the standard ALB (as opposed to the basic "
        "one)", True),
    "a0f61565-9de5-458f-a372-49c831112dbd": Item(
        "Network Topology and Connectivity", "Choose the best CNI network plugin for your "
        "requirements (Azure CNI recommended)", True),
    "3b365a91-7ecb-4e48-bbe5-4cd7df2e8bba": Item(
        "Network Topology and Connectivity", "Filter egress traffic with AzFW/NVA if your "
        "security requirements mandate it", True),
    "c4581559-bb91-463e-a908-aed8c44ce3b2": Item(
        "Network Topology and Connectivity", "If using a public API endpoint, restrict the IP "
        "addresses that can access it", True),
    "ecccd979-3b6b-4cda-9b50-eb2eb03dda6d": Item(
        "Network Topology and Connectivity", "Use private clusters if your requirements "
        "mandate it", True),
    "ce7f2a7c-297c-47c6-adea-a6ff838db665": Item(
        "Network Topology and Connectivity", "For Windows 2019 and 2022 AKS nodes Calico "
        "Network Policies can be used", True),
    "58d7c892-ddb1-407d-9769-ae669ca48e4a": Item(
        "Network Topology and Connectivity", "Enable a Kubernetes Network Policy option "
        "(Calico/Azure)", True),
    "9bda4776-8f24-4c11-9775-c2ea55b46a94": Item(
        "Network Topology and Connectivity", "Use DDoS Standard in the AKS Virtual Network",
        True),
    "6c46b91a-1107-4485-ad66-3183e2a8c266": Item(
        "Network Topology and Connectivity", "If required add company HTTP Proxy", True),
    "73b32a5a-67f7-4a9e-b5b3-1f38c3f39812": Item(
        "Operations", "Use custom Node RG (aka 'Infra RG') name", True),
    "c755562f-2b4e-4456-9b4d-874a748b662e": Item(
        "Operations", "Consider AKS virtual node for quick bursting", True),
    "eaa8dc4a-2436-47b3-9697-15b1752beee0": Item(
        "Operations", "Store and analyze your cluster logs with Container Insights (or other "
        "tools like Telegraf/ElasticSearch)", True),
    "90ce65de-8e13-4f9c-abd4-69266abca264": Item(
        "Operations", "Use the Cluster Autoscaler", True),
    "831c2872-c693-4b39-a887-a561bada49bc": Item(
        "Operations", "Customize node configuration for AKS node pools", True),
    "24367b33-6971-45b1-952b-eee0b9b588de": Item(
        "Operations", "Use ephemeral OS disks", True),
    # items without a query that Kubernetes objects or the configuration still decide
    "a7a1f893-9bda-4477-98f2-4c116775c2ea": Item(
        "Governance and Security", "Add taint to your system nodepool to make it dedicated",
        False),
    "c1288b3c-6a57-4cfc-9444-51e1a3d3453a": Item(
        "BC and DR", "Use Disruption Budgets in your pod and deployment definitions", False),
    "b54eb2eb-03dd-4aa3-9927-18e2edb11726": Item(
        "Operations", "Configure requests and limits in your pod specs", False),
    "f4fd0602-7ab5-46f1-b66a-e9dea9654a65": Item(
        "Operations", "Configure Liveness and Readiness probes for all deployments", False),
    "85e2223e-ce8b-4b12-907c-a5f16f158e3e": Item(
        "Network Topology and Connectivity", "Use Kubernetes network policies to increase "
        "intra-cluster security", False),
    "55b46a94-8008-4ae7-b7e4-b475b6c8bdbf": Item(
        "Governance and Security", "Use a private registry for your images, such as ACR",
        False),
    "5e3df584-eccc-4d97-a3b6-bcda3b50eb2e": Item(
        "Governance and Security", "Store your secrets in Azure Key Vault with the CSI Secrets "
        "Store driver", False),
    "eec4962c-c3bd-421b-b77f-26e5e6b3bec3": Item(
        "Identity and Access Management", "Integrate authorization with AAD RBAC", False),
    "d2e0d5d7-71d4-41e3-910c-c57b4a4b1410": Item(
        "Identity and Access Management", "For Pod Identity Access Management use Azure AD "
        "Workload Identity (preview)", False),
    "a2fe27b2-e287-401a-8352-beedf79b488d": Item(
        "Identity and Access Management", "Limit access to admin kubeconfig (get-credentials "
        "--admin)", False),
    "e189c599-df0d-45a7-9dd4-ce32c1881370": Item(
        "Operations", "Have a regular process to upgrade your kubernetes version periodically "
        "(quarterly, for example), or use the AKS autoupgrade feature", False),
    "139c9580-ade3-426a-ba09-cf157d9f6477": Item(
        "Operations", "Have a regular process to upgrade the cluster node images periodically "
        "(weekly, for example)", False),
}

# The checklist's categories in its own order, with the Japanese translation's names.
CATEGORIES = {
    "Identity and Access Management": "IDおよびアクセス管理",
    "Network Topology and Connectivity": "ネットワークトポロジと接続性",
    "BC and DR": "BCとDR",
    "Governance and Security": "ガバナンスとセキュリティ",
    "Cost Governance": "コストガバナンス",
    "Operations": "オペレーションズ",
    "Application Deployment": "アプリケーションの展開",
}
NOT_IN_CHECKLIST = "(not in the AKS checklist)"

# guid -> the checks that judge the item. AKS-*-1xx are this module's; the others live with
# their chapter and cite the guid in their public_ids.
AUTOMATED: dict[str, tuple[str, ...]] = {
    "578a219a-46be-4b54-9350-24922634292b": ("AKS-OV-101",),
    "71d41e36-10cc-457b-9a4b-1410d4395898": ("AKS-OV-102",),
    "9ca48e4a-85e2-4223-bce8-bb12307ca5f1": ("AKS-AUTH-016",),
    "6f158e3e-a3a9-42c2-be7e-2165c3a87af4": ("AKS-OV-103",),
    "ed127dd1-42b0-46b2-8c69-99a646f3389a": ("AKS-AUTH-014",),
    "7e42c78e-78c0-46a6-8a21-94956e698dc4": ("AKS-AUTH-011",),
    "b085b1f2-3119-4771-8c9a-bbf4411810ec": ("AKS-AUTH-012",),
    "8008ae7d-7e4b-4475-a6c8-bdbf59bce65d": ("AKS-NET-101",),
    "ba7da7be-9952-4914-a384-5d997cb39132": ("AKS-NET-102",),
    "a0f61565-9de5-458f-a372-49c831112dbd": ("AKS-NET-002",),
    "3b365a91-7ecb-4e48-bbe5-4cd7df2e8bba": ("AKS-NET-003",),
    "c4581559-bb91-463e-a908-aed8c44ce3b2": ("AKS-NET-001",),
    "ecccd979-3b6b-4cda-9b50-eb2eb03dda6d": ("AKS-NET-009",),
    "ce7f2a7c-297c-47c6-adea-a6ff838db665": ("AKS-NET-103",),
    "58d7c892-ddb1-407d-9769-ae669ca48e4a": ("AKS-NET-002",),
    "73b32a5a-67f7-4a9e-b5b3-1f38c3f39812": ("AKS-OV-105",),
    "eaa8dc4a-2436-47b3-9697-15b1752beee0": ("AKS-MNT-101",),
    "90ce65de-8e13-4f9c-abd4-69266abca264": ("AKS-MNT-102",),
    "24367b33-6971-45b1-952b-eee0b9b588de": ("AKS-MNT-103",),
    # judged from Kubernetes objects (or a setting) though the checklist has no query
    "a7a1f893-9bda-4477-98f2-4c116775c2ea": ("AKS-OV-104",),
    "c1288b3c-6a57-4cfc-9444-51e1a3d3453a": ("AKS-MNT-007",),
    "b54eb2eb-03dd-4aa3-9927-18e2edb11726": ("AKS-MNT-006",),
    "f4fd0602-7ab5-46f1-b66a-e9dea9654a65": ("AKS-MNT-008",),
    "85e2223e-ce8b-4b12-907c-a5f16f158e3e": ("AKS-NET-005", "AKS-NET-006"),
    "55b46a94-8008-4ae7-b7e4-b475b6c8bdbf": ("AKS-OV-003",),
    "5e3df584-eccc-4d97-a3b6-bcda3b50eb2e": ("AKS-AUTH-017",),
    "eec4962c-c3bd-421b-b77f-26e5e6b3bec3": ("AKS-AUTH-011",),
    "d2e0d5d7-71d4-41e3-910c-c57b4a4b1410": ("AKS-AUTH-015",),
    "a2fe27b2-e287-401a-8352-beedf79b488d": ("AKS-AUTH-012",),
    "e189c599-df0d-45a7-9dd4-ce32c1881370": ("AKS-MNT-003",),
    "139c9580-ade3-426a-ba09-cf157d9f6477": ("AKS-MNT-004",),
}

# Items with a query that no check judges, and why.
NOT_AUTOMATED: dict[str, str] = {
    "9bda4776-8f24-4c11-9775-c2ea55b46a94":
        "DDoS protection is a property of the virtual network (enableDdosProtection), another "
        "resource: az aks show does not hold it, and the query joins microsoft.network/"
        "virtualnetworks by the pools' vnetSubnetID. Judge it with az network vnet show on the "
        "VNet of each pool's subnet.",
    "6c46b91a-1107-4485-ad66-3183e2a8c266":
        "The item is conditional (\"if required\"): whether a company proxy is required is a "
        "decision outside the cluster, so a cluster without httpProxyConfig cannot be judged "
        "wrong. Its query is a copy of the DDoS item's and never reads httpProxyConfig.",
    "c755562f-2b4e-4456-9b4d-874a748b662e":
        "A suggestion (\"Consider\"), not a property every cluster should have: the query marks "
        "every cluster without the virtual node add-on (aciConnectorLinux) non-compliant. "
        "Virtual nodes support neither Kubernetes network policies nor API server authorized "
        "IP ranges (AKS docs 'Use virtual nodes with AKS', Limitations), so enabling them works "
        "against AKS-NET-001 and the NetworkPolicy checks: a design decision to review.",
    "831c2872-c693-4b39-a887-a561bada49bc":
        "A tuning option (custom kubelet and OS configuration), not a posture property: the "
        "defaults are not wrong. Its query reads a misspelt property (austoscalerProfile) that "
        "is always null, so it fails every cluster.",
}


def cite(guid: str) -> str:
    """How a check names an item in its public_ids."""
    item = ITEMS[guid]
    return f"AKS checklist {guid} ({item.category}: {item.text.rstrip('.')})"


def categories(check_id: str) -> list[str]:
    """The checklist categories of the items this check judges, in the checklist's order."""
    found = {ITEMS[guid].category for guid, ids in AUTOMATED.items() if check_id in ids}
    return [name for name in CATEGORIES if name in found]


def category(check_id: str) -> str:
    return "; ".join(categories(check_id)) or NOT_IN_CHECKLIST


def _rank(finding: Finding) -> tuple[int, str, str, str]:
    name = category(finding.check)
    order = list(CATEGORIES)
    first = name.split("; ")[0]
    return (order.index(first) if first in order else len(order), name, finding.check,
            finding.resource)


def ordered(findings: list[Finding]) -> list[Finding]:
    """Findings grouped by checklist category in the checklist's order (a check of two
    categories forms its own group; checks the checklist does not cover come last), then by
    check and resource."""
    return sorted(findings, key=_rank)


def grouped_rows(findings: list[Finding]) -> list[dict[str, Any]]:
    """The findings as JSON rows, grouped, each with its category first."""
    return [{"category": category(f.check), **f.as_dict()} for f in ordered(findings)]


def grouped(findings: list[Finding]):
    """The posture table (checks.table) grouped, with the category as its first column."""
    from aks_runbook.checks import table

    found = ordered(findings)
    frame = table(found)
    frame.insert(0, "category", [category(f.check) for f in found])
    return frame


# ---- reading the configuration ------------------------------------------------------------------

def says(data: Any, path: str) -> bool:
    """Whether the configuration holds this field at all (a null value counts: az aks show
    prints unset fields as null); absent means this configuration does not say."""
    parent, _, last = path.rpartition(".")
    holder = field_of(data, parent) if parent else data
    return isinstance(holder, dict) and last.lower() in {k.lower() for k in holder}


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _cluster(state: State) -> str:
    return f"ManagedCluster/{field_of(state.cluster, 'name') or 'cluster'}"


def _source(state: State) -> str:
    return f" ({state.cluster_source})"


def _pool(pool: dict) -> str:
    return f"AgentPool/{field_of(pool, 'name')}"


def _pools(state: State) -> list[dict]:
    return [p for p in field_of(state.cluster, "agentPoolProfiles") or [] if isinstance(p, dict)]


def _unsaid(state: State, me: Check, where: str, field: str) -> Finding:
    return me.finding(where, "not-applicable", f"cannot judge: the configuration does not say "
                      f"{field}" + _source(state))


def _no_pools(state: State, me: Check) -> list[Finding]:
    return [_unsaid(state, me, _cluster(state), "agentPoolProfiles")]


# ---- 01-overview: the cluster's shape and its node pools ----------------------------------------

AZ = "578a219a-46be-4b54-9350-24922634292b"
SLA = "71d41e36-10cc-457b-9a4b-1410d4395898"
POOLS = "6f158e3e-a3a9-42c2-be7e-2165c3a87af4"
SYSTEM_TAINT = "a7a1f893-9bda-4477-98f2-4c116775c2ea"
NODE_RG = "73b32a5a-67f7-4a9e-b5b3-1f38c3f39812"


@check("AKS-OV-101", "01-overview", "Node pool not spread over availability zones", 5.0,
       cite(AZ),
       "Create zone-redundant pools (az aks nodepool add ... --zones 1 2 3; an existing pool's "
       "zones cannot be changed: add a new pool, move the workloads, delete the old one)",
       scope="azure",
       differs="The query reads only the first pool and passes any availabilityZones that is not "
               "null, even an empty list; here every pool is judged: two or more zones pass, one "
               "zone passes only when the pools of the same mode together span two or more, an "
               "empty list fails. Whether the region has zones is not known here: in a region "
               "without zones the item does not apply. A pool's zones cannot be changed after "
               "it is created (AKS docs 'Configure Availability Zones in AKS')")
def availability_zones(state: State, me: Check) -> list[Finding]:
    pools = _pools(state)
    if not pools:
        return _no_pools(state, me)
    spans: dict[str, set[str]] = {}
    for pool in pools:
        if says(pool, "availabilityZones"):
            spans.setdefault(str(field_of(pool, "mode")), set()).update(
                str(z) for z in field_of(pool, "availabilityZones") or [])
    findings = []
    for pool in pools:
        where = _pool(pool)
        if not says(pool, "availabilityZones"):
            findings.append(_unsaid(state, me, where, "availabilityZones"))
            continue
        zones = sorted({str(z) for z in field_of(pool, "availabilityZones") or []})
        mode = str(field_of(pool, "mode"))
        together = sorted(spans[mode])  # this pool's zones are in it
        if len(zones) >= 2:
            status, evidence = "pass", f"zones {', '.join(zones)}"
        elif zones and len(together) >= 2:
            status, evidence = "pass", (f"zone {zones[0]} only, and the {mode} pools together "
                                        f"span zones {', '.join(together)}")
        elif zones:
            status, evidence = "fail", (f"zone {zones[0]} only, and no other {mode} pool in "
                                        "another zone: one zone's outage stops all of them")
        else:
            location = field_of(state.cluster, "location") or "the region"
            status, evidence = "fail", ("no availability zones: one datacenter's outage can "
                                        f"stop the pool (if {location} has no zones, the item "
                                        "does not apply)")
        findings.append(me.finding(where, status, evidence + _source(state)))
    return findings


TIERS_WITH_SLA = {"standard": "Standard", "premium": "Premium (Standard plus long-term support)",
                  "paid": "Paid (Standard's name before API version 2023-07-01)"}


@check("AKS-OV-102", "01-overview", "Free tier: no financially backed uptime SLA", 7.0,
       cite(SLA),
       "az aks update --tier standard (or premium for long-term support); keep free for dev and "
       "test clusters",
       scope="azure",
       differs="The query passes only tier Paid, a value the API dropped in version 2023-07-01 "
               "(AKS docs 'Free, Standard, and Premium pricing tiers': Uptime SLA is part of "
               "Standard), so it fails every current cluster; here Standard and Premium pass, "
               "and so does a Paid from an older API version")
def sla_tier(state: State, me: Check) -> list[Finding]:
    where = _cluster(state)
    if not says(state.cluster, "sku.tier"):
        return [_unsaid(state, me, where, "sku.tier")]
    tier = field_of(state.cluster, "sku.tier")
    if str(tier).lower() in TIERS_WITH_SLA:
        status, evidence = "pass", f"tier {TIERS_WITH_SLA[str(tier).lower()]}: uptime SLA"
    elif tier is None:
        status, evidence = "fail", "no tier set (Free by default): no uptime SLA"
    else:
        status, evidence = "fail", f"tier {tier}: no financially backed uptime SLA"
    return [me.finding(where, status, evidence + _source(state))]


def _names(pools: list[dict]) -> str:
    return ", ".join(str(field_of(p, "name")) for p in pools)


@check("AKS-OV-103", "01-overview", "No user node pool: applications share the system pool", 5.0,
       cite(POOLS),
       "az aks nodepool add --mode User ... for the applications, and taint the system pool "
       "CriticalAddonsOnly=true:NoSchedule (AKS-OV-104)",
       scope="azure",
       differs="The query passes any cluster with more than one pool, two System pools too; here "
               "a User pool (or node auto-provisioning, which adds user nodes) must exist beside "
               "the System pool, whatever the count")
def pool_separation(state: State, me: Check) -> list[Finding]:
    pools = _pools(state)
    if not pools:
        return _no_pools(state, me)
    where = _cluster(state)
    unknown = [p for p in pools if not field_of(p, "mode")]
    system = [p for p in pools if str(field_of(p, "mode")).lower() == "system"]
    user = [p for p in pools if str(field_of(p, "mode")).lower() == "user"]
    provisioning = str(field_of(state.cluster, "nodeProvisioningProfile.mode")).lower() == "auto"
    if system and (user or provisioning):
        users = ([f"User pool(s) {_names(user)}"] if user else []) + (
            ["node auto-provisioning"] if provisioning else [])
        return [me.finding(where, "pass", f"System pool(s) {_names(system)}; applications on "
                           f"{' and '.join(users)}" + _source(state))]
    if unknown:
        return [_unsaid(state, me, where, f"the mode of pool(s) {_names(unknown)}")]
    if not system:
        return [me.finding(where, "fail", "no System pool among " + _names(pools)
                           + _source(state))]
    return [me.finding(where, "fail", f"only System pool(s) {_names(system)}: applications run "
                       "beside CoreDNS, metrics-server and the other system pods"
                       + _source(state))]


MODE_LABEL = "kubernetes.azure.com/mode"
POOL_LABELS = ("kubernetes.azure.com/agentpool", "agentpool")
DEDICATED = "CriticalAddonsOnly"
KEEPS_OFF = ("NoSchedule", "NoExecute")


def _dedicated(node: dict) -> bool:
    return any(t.get("key") == DEDICATED and t.get("effect") in KEEPS_OFF
               for t in (node.get("spec") or {}).get("taints") or [])


@check("AKS-OV-104", "01-overview", "System node pool not dedicated (no CriticalAddonsOnly taint)",
       2.0, cite(SYSTEM_TAINT),
       "az aks nodepool update --name <system pool> --node-taints "
       "CriticalAddonsOnly=true:NoSchedule (AKS's system pods tolerate it; applications then "
       "go to the User pools)",
       differs="The checklist has no query for this item; as AKS docs 'Use System Node Pools "
               "in AKS' teach, each System pool's nodes (label "
               "kubernetes.azure.com/mode=system) must carry the CriticalAddonsOnly taint with "
               "effect NoSchedule or NoExecute (its value is not read); PreferNoSchedule does not "
               "keep applications off",
       reads=("nodes",))
def system_pool_taint(state: State, me: Check) -> list[Finding]:
    by_pool: dict[str, list[dict]] = {}
    for node in state.objects.get("nodes", []):
        labels = node["metadata"].get("labels") or {}
        if labels.get(MODE_LABEL) == "system":
            pool = next((labels[k] for k in POOL_LABELS if labels.get(k)), "(no pool label)")
            by_pool.setdefault(pool, []).append(node)
    if not by_pool:
        return [me.finding("Node/*", "not-applicable", f"no node labelled {MODE_LABEL}=system "
                           "(AKS labels every node of a System pool so; none in this view)")]
    findings = []
    for pool, nodes in sorted(by_pool.items()):
        bare = sorted(n["metadata"]["name"] for n in nodes if not _dedicated(n))
        if bare:
            status, evidence = "fail", (f"{len(bare)} of {len(nodes)} system node(s) without a "
                                        f"{DEDICATED} NoSchedule taint ({', '.join(bare)}): "
                                        "application pods may be scheduled there")
        else:
            status, evidence = "pass", f"{DEDICATED} taint on all {len(nodes)} system node(s)"
        findings.append(me.finding(f"AgentPool/{pool}", status, evidence))
    return findings


@check("AKS-OV-105", "01-overview", "Node resource group keeps AKS's default MC_ name", 2.0,
       cite(NODE_RG),
       "Name it at creation: az aks create ... --node-resource-group <name> (renaming AKS "
       "resources is not supported: AKS FAQ)",
       scope="azure",
       differs="As the query, a name starting with MC_ (any case) fails; a name the "
               "configuration does not give is not-applicable here, where the query passes it")
def node_resource_group(state: State, me: Check) -> list[Finding]:
    where = _cluster(state)
    name = field_of(state.cluster, "nodeResourceGroup")
    if not says(state.cluster, "nodeResourceGroup") or not name:
        return [_unsaid(state, me, where, "nodeResourceGroup")]
    if str(name).lower().startswith("mc_"):
        return [me.finding(where, "fail", f"node resource group {name}: AKS's default name "
                           "(MC_<group>_<cluster>_<location>)" + _source(state))]
    return [me.finding(where, "pass", f"node resource group {name}" + _source(state))]


# ---- 02-network ---------------------------------------------------------------------------------

HTTP_ROUTING = "8008ae7d-7e4b-4475-a6c8-bdbf59bce65d"
LOAD_BALANCER = "ba7da7be-9952-4914-a384-5d997cb39132"
WINDOWS_POLICY = "ce7f2a7c-297c-47c6-adea-a6ff838db665"


@check("AKS-NET-101", "02-network", "HTTP application routing add-on enabled (retired)", 7.0,
       cite(HTTP_ROUTING),
       "az aks disable-addons --addons http_application_routing; route traffic through the "
       "application routing add-on's Gateway API implementation or Application Gateway for "
       "Containers",
       scope="azure",
       differs="As the query, the add-on enabled fails and an absent or disabled one passes "
               "(AKS docs 'HTTP application routing add-on for AKS (retired)': retired "
               "2025-03-03, does not work on Kubernetes 1.22.6 or later). "
               "The item's replacement, the application routing add-on's NGINX, is itself "
               "retiring (AKS docs 'Managed NGINX ingress with the application routing add-on': "
               "critical patches through November 2026), so the remediation names Gateway API")
def http_application_routing(state: State, me: Check) -> list[Finding]:
    where = _cluster(state)
    if not says(state.cluster, "addonProfiles"):
        return [_unsaid(state, me, where, "addonProfiles")]
    profile = field_of(state.cluster, "addonProfiles.httpApplicationRouting")
    enabled = field_of(profile, "enabled")
    if isinstance(profile, dict) and str(enabled).lower() not in ("true", "false"):
        return [_unsaid(state, me, where, "whether httpApplicationRouting is enabled")]
    if _true(enabled):
        return [me.finding(where, "fail", "httpApplicationRouting add-on enabled: retired on "
                           "2025-03-03 and does not work on Kubernetes 1.22.6 or later"
                           + _source(state))]
    return [me.finding(where, "pass", "httpApplicationRouting add-on not enabled"
                       + _source(state))]


@check("AKS-NET-102", "02-network", "Basic load balancer (not Standard)", 7.0, cite(LOAD_BALANCER),
       "Move to the Standard load balancer (Azure's Basic-to-Standard upgrade guidance); new "
       "clusters get --load-balancer-sku standard by default",
       scope="azure",
       differs="As the query, only standard (any case) passes, and an unset SKU fails (AKS docs "
               "'Use a Public Standard Load Balancer in AKS': Basic is not supported since "
               "2025-09-30)")
def load_balancer_sku(state: State, me: Check) -> list[Finding]:
    where = _cluster(state)
    if not says(state.cluster, "networkProfile.loadBalancerSku"):
        return [_unsaid(state, me, where, "networkProfile.loadBalancerSku")]
    sku = field_of(state.cluster, "networkProfile.loadBalancerSku")
    if str(sku).lower() == "standard":
        return [me.finding(where, "pass", "loadBalancerSku standard" + _source(state))]
    why = {"basic": ": no longer supported by AKS since 2025-09-30 (no zones, no SLA)",
           "none": ": not set"}.get(str(sku).lower(), "")
    return [me.finding(where, "fail", f"loadBalancerSku {sku}{why}" + _source(state))]


CALICO_WINDOWS_SKUS = ("Windows2019", "Windows2022")


def runs_windows(pool: dict) -> bool | None:
    """Whether the pool's nodes run Windows, from osType, else from osSku; None when the
    configuration says neither."""
    kind = field_of(pool, "osType")
    if kind:
        return str(kind).lower() == "windows"
    sku = field_of(pool, "osSku")
    if sku:
        return str(sku).lower().startswith("windows")
    return None


@check("AKS-NET-103", "02-network", "Windows node pool without a policy engine that enforces "
       "on Windows (Calico)", 5.0, cite(WINDOWS_POLICY),
       "Use --network-plugin azure --network-policy calico for clusters with Windows pools "
       "(Calico enforces on Windows Server 2019 and 2022); Cilium enforces on Linux only and "
       "Azure NPM's Windows support ended 2026-09-30",
       scope="azure",
       differs="The item's query is a copy of the private-cluster item's (ecccd979) and reads "
               "neither pools nor policy; here each Windows pool (osType, else osSku) is judged: "
               "Calico with Azure CNI passes on Windows Server 2019 and 2022 (AKS docs 'Secure "
               "pod traffic with network policies'), other Windows versions are not-applicable, "
               "azure (NPM on Windows, retired 2026-09-30), cilium (Linux only: 'Configure Azure "
               "CNI Powered by Cilium') and none fail. A pool whose OS the configuration does not "
               "say is not-applicable; no Windows pool: not-applicable")
def windows_network_policy(state: State, me: Check) -> list[Finding]:
    pools = _pools(state)
    if not pools:
        return _no_pools(state, me)
    windows = [p for p in pools if runs_windows(p)]
    unknown = [p for p in pools if runs_windows(p) is None]
    if not windows:
        if unknown:
            return [_unsaid(state, me, _cluster(state), f"the OS of pool(s) {_names(unknown)}")]
        return [me.finding(_cluster(state), "not-applicable", "no Windows node pool"
                           + _source(state))]
    plugin = str(field_of(state.cluster, "networkProfile.networkPlugin")).lower()
    policy = field_of(state.cluster, "networkProfile.networkPolicy")
    why = {"azure": "Azure NPM: its Windows support ended 2026-09-30",
           "cilium": "Cilium enforces on Linux nodes only",
           "none": "no policy engine: NetworkPolicies are not enforced"}
    # a pool whose OS is unsaid may be Windows too: say so rather than leave it out
    findings = [_unsaid(state, me, _pool(p), "osType or osSku") for p in unknown]
    for pool in windows:
        sku = field_of(pool, "osSku")
        if str(policy).lower() == "calico" and plugin == "azure":
            if sku is None or str(sku).lower() in {s.lower() for s in CALICO_WINDOWS_SKUS}:
                status, evidence = "pass", f"Calico with Azure CNI enforces on {sku or 'Windows'}"
            else:
                status, evidence = "not-applicable", (f"Calico's Windows support is documented "
                                                      f"for {' and '.join(CALICO_WINDOWS_SKUS)}, "
                                                      f"not {sku}")
        elif str(policy).lower() == "calico":
            status, evidence = "fail", f"Calico on plugin {plugin}: Windows needs Azure CNI"
        else:
            status, evidence = "fail", f"network policy {policy}: " + why.get(
                str(policy).lower(), why["none"])
        findings.append(me.finding(_pool(pool), status, evidence + _source(state)))
    return findings


# ---- 04-maintenance: operating the nodes --------------------------------------------------------

LOGS = "eaa8dc4a-2436-47b3-9697-15b1752beee0"
AUTOSCALER = "90ce65de-8e13-4f9c-abd4-69266abca264"
EPHEMERAL = "24367b33-6971-45b1-952b-eee0b9b588de"


@check("AKS-MNT-101", "04-maintenance", "Container Insights not enabled (cluster logs)", 7.0,
       cite(LOGS),
       "az aks enable-addons --addons monitoring --workspace-resource-id <Log Analytics "
       "workspace>",
       scope="azure",
       differs="As the query, only the monitoring add-on (omsagent) counts: log pipelines of "
               "other tools (Telegraf, Elasticsearch) are not in the configuration, so a cluster "
               "that ships its logs that way fails here and its review marks the item fulfilled "
               "by hand")
def container_insights(state: State, me: Check) -> list[Finding]:
    where = _cluster(state)
    if not says(state.cluster, "addonProfiles"):
        return [_unsaid(state, me, where, "addonProfiles")]
    if _true(field_of(state.cluster, "addonProfiles.omsagent.enabled")):
        return [me.finding(where, "pass", "Container Insights (monitoring add-on) on"
                           + _source(state))]
    return [me.finding(where, "fail", "Container Insights (monitoring add-on) off: container "
                       "logs stay on the nodes and rotate away" + _source(state))]


@check("AKS-MNT-102", "04-maintenance", "Node pool without the cluster autoscaler", 5.0,
       cite(AUTOSCALER),
       "az aks nodepool update --enable-cluster-autoscaler --min-count N --max-count M, or "
       "node auto-provisioning (az aks update --node-provisioning-mode Auto)",
       scope="azure",
       differs="The query passes any cluster with an autoScalerProfile, but that profile only "
               "tunes the autoscaler of the pools that enable it (AKS docs 'Cluster autoscaling "
               "in AKS overview'); here each pool's enableAutoScaling is judged, and a pool that "
               "does not scale passes when node auto-provisioning (nodeProvisioningProfile.mode "
               "Auto) scales the cluster. A pool whose minCount equals its maxCount cannot grow: "
               "it fails like a fixed pool")
def autoscaler(state: State, me: Check) -> list[Finding]:
    pools = _pools(state)
    if not pools:
        return _no_pools(state, me)
    provisioning = str(field_of(state.cluster, "nodeProvisioningProfile.mode")).lower() == "auto"
    findings = []
    for pool in pools:
        where = _pool(pool)
        scales = _true(field_of(pool, "enableAutoScaling"))
        low, high = field_of(pool, "minCount"), field_of(pool, "maxCount")
        if scales and (low is None or low != high):
            findings.append(me.finding(where, "pass", f"cluster autoscaler on ({low} to {high} "
                                       "nodes)" + _source(state)))
        elif provisioning:
            findings.append(me.finding(where, "pass", "fixed size, and node auto-provisioning "
                                       "adds nodes as pods need them" + _source(state)))
        elif scales:
            findings.append(me.finding(where, "fail", f"cluster autoscaler on, but minCount and "
                                       f"maxCount are both {low}: the pool cannot grow, pods "
                                       "that do not fit stay Pending" + _source(state)))
        elif not says(pool, "enableAutoScaling"):
            findings.append(_unsaid(state, me, where, "enableAutoScaling"))
        else:
            count = field_of(pool, "count")
            findings.append(me.finding(where, "fail", f"fixed at {count} node(s): pods that do "
                                       "not fit stay Pending" + _source(state)))
    return findings


@check("AKS-MNT-103", "04-maintenance", "Node pool OS disk not ephemeral", 7.0, cite(EPHEMERAL),
       "Add a pool with --node-osdisk-type Ephemeral on a VM size whose cache or temp disk holds "
       "the OS disk, move the workloads, delete the old pool (a pool's OS disk type cannot be "
       "changed)",
       scope="azure",
       differs="As the query, every pool is judged and only Ephemeral passes (AKS docs "
               "'Performance and scaling best practices for small to medium workloads in AKS': "
               "ephemeral OS disks reimage and boot faster; azure-cli 2.91 sets the OS disk type "
               "only in aks create and aks nodepool add)")
def ephemeral_os_disk(state: State, me: Check) -> list[Finding]:
    pools = _pools(state)
    if not pools:
        return _no_pools(state, me)
    findings = []
    for pool in pools:
        where = _pool(pool)
        if not says(pool, "osDiskType"):
            findings.append(_unsaid(state, me, where, "osDiskType"))
            continue
        kind = field_of(pool, "osDiskType")
        if str(kind).lower() == "ephemeral":
            findings.append(me.finding(where, "pass", "osDiskType Ephemeral" + _source(state)))
        else:
            findings.append(me.finding(where, "fail", f"osDiskType {kind}: the OS disk is remote "
                                       "storage (slower reimage, scale-out and upgrades; "
                                       f"VM size {field_of(pool, 'vmSize')})" + _source(state)))
    return findings

