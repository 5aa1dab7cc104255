"""Plan rules: the az plan (and the manifests it deploys) judged before anything runs.

Each rule is one fact chapter 02 teaches about an egress and private-cluster design that works in
Azure (AKS docs, 2026); it reads the planned steps as they would run, not the parameters that
produced them, so a hand-edited or older plan is judged the same way. Findings use the posture
checks' shape (checks.table shows them); a rule that does not apply to the design says
not-applicable and why.
"""

from __future__ import annotations

import functools
import itertools
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from aks_runbook.analysis import reachability as reach
from aks_runbook.azure import plan as azplan
from aks_runbook.checks import EVIDENCE as POSTURE_EVIDENCE
from aks_runbook.checks import Check, Finding, State, localized_all, resource, selects
from aks_runbook.i18n import N_
from aks_runbook.params import Environment

Steps = list[azplan.Step]


@dataclass(frozen=True)
class Az:
    """One planned az line, read: its command words and its flags' values."""

    step: azplan.Step
    words: tuple[str, ...]
    flags: dict[str, list[str]]

    def value(self, flag: str) -> str | None:
        return (self.flags.get(flag) or [None])[0]

    def values(self, flag: str) -> list[str]:
        return self.flags.get(flag) or []


@functools.lru_cache(maxsize=4096)
def _tokens(command: str) -> tuple[str, ...]:
    # every rule reads every line: a plan's judgement split each line some 4,000 times
    return tuple(shlex.split(command))


def read(step: azplan.Step) -> Az:
    words = _command_words(step.command)
    flags: dict[str, list[str]] = {}
    for token in _tokens(step.command)[len(words):]:  # from the first --flag on
        if token.startswith("--"):
            current = token
            flags.setdefault(current, [])
        else:
            flags[current].append(token)
    return Az(step, words, flags)


@functools.lru_cache(maxsize=4096)
def _command_words(command: str) -> tuple[str, ...]:
    """The words before the first --flag (Az.words): rules look lines up by them, and a plan's
    judgement looks some 30 times through all its lines."""
    return tuple(itertools.takewhile(lambda token: not token.startswith("--"), _tokens(command)))


def _find(steps: Steps, *words: str) -> list[Az]:
    return [read(s) for s in steps if _command_words(s.command)[: len(words)] == words]


def _index(steps: Steps, step_id: str) -> int:
    return next((i for i, s in enumerate(steps) if s.id == step_id), len(steps))


RULES: list[Check] = []
Evaluate = Callable[[Environment, Steps, Check], list[Finding]]


def rule(id: str, title: str, score: float, source: str, remediation: str,
         chapter: str = "02-network"):
    """Register a plan rule: a Check (same findings, same table) whose evaluate reads the
    environment and the planned steps instead of a State; not part of the posture catalog.
    `source` is the title of the docs page the rule comes from (shown as public_ids)."""

    def register(evaluate: Evaluate) -> Evaluate:
        RULES.append(Check(id, chapter, title, score, source, remediation, evaluate,
                           scope="plan"))
        return evaluate

    return register


def judge(env: Environment, steps: Steps) -> list[Finding]:
    """Every plan rule on this plan, sorted like the posture checks."""
    findings = [f for r in RULES for f in r.evaluate(env, steps, r)]
    return sorted(findings, key=lambda f: (f.check, f.resource))


# The rules' common evidence, as templates (see checks.EVIDENCE): matched at presentation, so
# the findings themselves stay English. Fields named text* are sentences translated in turn.
EVIDENCE = (
    N_("Premium registry, data endpoint on; firewall allows {login} and {data}"),
    N_("Premium registry, public access off, private endpoint and {zone} linked"),
    N_("0.0.0.0/0 -> {hop} (az network firewall show); {public} -> Internet; route table "
       "attached first"),
    N_("network rules: {text}"),
    N_("none needed (private cluster)"),
    N_("{roles} on the node subnet and route table before az aks create"),
    N_("{roles} on the node subnet before az aks create"),
    N_("channel {channel}: {fqdns} allowed"),
    N_("channel {channel}: no update source behind a firewall"),
    N_("channel {channel} needs {fqdns}"),
    N_("ranges include {ranges}"),
    N_("nodes leave through {ips}, which the API server would refuse"),
    N_("the firewall allows the Azure Monitor FQDNs"),
    N_("the firewall allows {fqdns}"),
    N_("the firewall does not allow {fqdn}"),
    N_("Key Vault {name}: purge protection, private endpoint, public access off"),
    N_("Key Vault {name}: purge protection"),
    N_("the vault is reached over its private endpoint ({zone})"),
    N_("the registry is reached over its private endpoint, not the firewall"),
    N_("each secret is written from a file by a Key Vault Secrets Officer assigned first"),
    N_("Deployment Safeguards at level {level}"),
    N_("policy assignment {name}"),
    N_("neither Container Insights nor managed Prometheus is enabled"),
    N_("OIDC issuer on; login.microsoftonline.com reachable"),
    N_("admin group(s) {groups}"),
    N_("{count} AKS RBAC assignment(s), each principal with Cluster User Role"),
    N_("registry {name} exists first; AcrPull for the kubelet"),
    N_("{count} image(s), all from MCR or {registry}"),
    N_("check-acr signs in with the az login"),
    N_("no check-acr on an Entra ID cluster"),
    N_("{upgrade} in {window}, {nodeos} in {window2}"),
    N_("{channel} in {window}"),
    N_("operator path: {paths}"),
    N_("nothing in the plan reaches the private API server"),
    N_("{count} frontend IP(s); production minimum {minimum}"),
    N_("not a private cluster"),
    N_("not a production firewall"),
    N_("public API server (authorized ranges)"),
    N_("no authorized ranges, or egress through AKS's own load balancer"),
    N_("egress does not go through a firewall"),
    N_("egress is not filtered by a firewall"),
    N_("outbound type is not userDefinedRouting"),
    N_("no image pulled behind a firewall"),
    N_("no subnet of your own (AKS-managed VNET)"),
    N_("the plan writes no secret"),
    N_("the plan creates no Key Vault"),
    N_("the Azure Policy add-on is off"),
    N_("the Key Vault secrets provider is off"),
    N_("workload identity is off"),
    N_("local accounts stay on"),
    N_("Azure RBAC for Kubernetes is off"),
    N_("no --attach-acr"),
    N_("no cluster in the plan"),
    N_("no 0.0.0.0/0 route to a virtual appliance"),
    N_("the route table is not attached to the node subnet before az aks create"),
    N_("registry keeps public network access"),
)


def messages() -> list[tuple[str, str]]:
    """The rules' titles and remediation to translate (plain strings given to @rule):
    (message, "rule:<id>")."""
    return [(text, f"rule:{item.id}") for item in RULES
            for text in (item.title, item.remediation) if text]


def localized(findings: list[Finding], language: str | None = None) -> list[Finding]:
    """The rules' findings for a reader of `language` (the current one by default): title,
    remediation and (where a template matches) evidence translated; ids, resources and
    statuses as they are. English: the findings themselves."""
    return localized_all(findings, language, EVIDENCE + POSTURE_EVIDENCE)


def _plan(env: Environment) -> str:
    return f"Plan/{env.environment}"


def _cluster(steps: Steps) -> Az | None:
    return next(iter(_find(steps, "az", "aks", "create")), None)


def _outbound(steps: Steps) -> str | None:
    cluster = _cluster(steps)
    return cluster.value("--outbound-type") if cluster else None


def _private(steps: Steps) -> bool:
    cluster = _cluster(steps)
    return bool(cluster and "--enable-private-cluster" in cluster.flags)


def _app_rule_fqdns(steps: Steps) -> set[str]:
    return {fqdn for a in _find(steps, "az", "network", "firewall", "application-rule", "create")
            for fqdn in a.values("--target-fqdns")}


def _registry(steps: Steps) -> Az | None:
    return next(iter(_find(steps, "az", "acr", "create")), None)


def _registry_is_private(steps: Steps) -> bool:
    registry = _registry(steps)
    return bool(registry and (registry.value("--public-network-enabled") or "").lower() == "false")


@rule("AKS-PLAN-001", "Registry behind the firewall without its dedicated data endpoint", 7.0,
      "Firewall Access Rules to access an Azure Container Registry",
      "Create the registry with --sku Premium --data-endpoint-enabled true and allow exactly "
      "<acr>.azurecr.io and <acr>.<region>.data.azurecr.io (or reach it over a private endpoint)")
def registry_data_endpoint(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    registry = _registry(steps)
    where = _plan(env)
    if _outbound(steps) != "userDefinedRouting" or registry is None:
        return [me.finding(where, "not-applicable", "egress does not go through a firewall")]
    if _registry_is_private(steps):
        return [me.finding(where, "not-applicable",
                           "the registry is reached over its private endpoint, not the firewall")]
    name, location = registry.value("--name"), registry.value("--location") or env.location
    login, data = f"{name}.azurecr.io", f"{name}.{location}.data.azurecr.io"
    allowed = _app_rule_fqdns(steps)
    problems = []
    if (registry.value("--sku") or "").lower() != "premium":
        problems.append(f"sku {registry.value('--sku')}: dedicated data endpoints are Premium only")
    if (registry.value("--data-endpoint-enabled") or "").lower() != "true":
        problems.append("dedicated data endpoint not enabled: layers come from "
                        "*.blob.core.windows.net, which the firewall does not allow")
    problems += [f"the firewall does not allow {fqdn}" for fqdn in (login, data)
                 if fqdn not in allowed]
    if "*.blob.core.windows.net" in allowed:
        problems.append("*.blob.core.windows.net is allowed: every storage account, an "
                        "exfiltration path")
    if problems:
        return [me.finding(where, "fail", "; ".join(problems))]
    return [me.finding(where, "pass", f"Premium registry, data endpoint on; firewall allows "
                                      f"{login} and {data}")]


@rule("AKS-PLAN-002", "User-defined routing without the routes the firewall needs", 7.0,
      "Limit Network Traffic with Azure Firewall in Azure Kubernetes Service (AKS)",
      "Route 0.0.0.0/0 to the firewall's private IP read with `az network firewall show --query "
      "ipConfigurations[0].privateIPAddress`, route the firewall's public IP /32 to Internet, and "
      "attach the route table to the node subnet before az aks create")
def udr_routes(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if _outbound(steps) != "userDefinedRouting":
        return [me.finding(where, "not-applicable", "outbound type is not userDefinedRouting")]
    routes = _find(steps, "az", "network", "route-table", "route", "create")
    holders = azplan.placeholders(env)
    problems = []
    default = [r for r in routes if r.value("--address-prefix") == "0.0.0.0/0"]
    hop = default[0].value("--next-hop-ip-address") if default else None
    if not default or default[0].value("--next-hop-type") != "VirtualAppliance":
        problems.append("no 0.0.0.0/0 route to a virtual appliance")
    elif not hop or not hop.startswith("$"):
        problems.append(f"next hop {hop} is hard-coded: read the firewall's private IP with "
                        f"az network firewall show")
    elif "az network firewall show" not in getattr(holders.get(hop[1:]), "lookup", ""):
        problems.append(f"next hop {hop} is not read from az network firewall show")
    public = [f"${name}/32" for name in azplan.egress_ip_placeholders(env)[:1]]
    if not any(r.value("--address-prefix") in public and r.value("--next-hop-type") == "Internet"
               for r in routes):
        problems.append("no route sending the firewall's public IP to Internet (asymmetric "
                        "routing for traffic that enters on it)")
    attach = [a for a in _find(steps, "az", "network", "vnet", "subnet", "update")
              if a.value("--route-table")]
    if not attach or _index(steps, attach[0].step.id) > _index(steps, "aks-create"):
        problems.append("the route table is not attached to the node subnet before az aks create")
    if problems:
        return [me.finding(where, "fail", "; ".join(problems))]
    return [me.finding(where, "pass", f"0.0.0.0/0 -> {hop} (az network firewall show); "
                                      f"{public[0]} -> Internet; route table attached first")]


@rule("AKS-PLAN-003", "Private cluster with a registry it cannot reach privately", 8.0,
      "Create a Private Azure Kubernetes Service (AKS) Cluster",
      "Use a Premium registry with --public-network-enabled false, a private endpoint "
      "(--group-id registry), the private DNS zone privatelink.azurecr.io linked to the VNET, and "
      "a DNS zone group on the endpoint")
def private_registry(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if not _private(steps):
        return [me.finding(where, "not-applicable", "not a private cluster")]
    registry = _registry(steps)
    endpoints = [a for a in _find(steps, "az", "network", "private-endpoint", "create")
                 if a.value("--group-id") == "registry"]
    zones = [a.value("--name") for a in _find(steps, "az", "network", "private-dns", "zone",
                                                   "create")]
    links = [a.value("--zone-name") for a in _find(steps, "az", "network", "private-dns", "link",
                                                        "vnet", "create")]
    groups = [a.value("--private-dns-zone") for a in _find(
        steps, "az", "network", "private-endpoint", "dns-zone-group", "create")]
    problems = []
    if registry is None or (registry.value("--sku") or "").lower() != "premium":
        problems.append("registry is not Premium (private endpoints are Premium only)")
    if not _registry_is_private(steps):
        problems.append("registry keeps public network access")
    if not endpoints:
        problems.append("no private endpoint with --group-id registry")
    for what, found in (("zone", zones), ("VNET link", links), ("DNS zone group", groups)):
        if azplan.REGISTRY_ZONE not in found:
            problems.append(f"no private DNS {what} for {azplan.REGISTRY_ZONE}")
    if problems:
        return [me.finding(where, "fail", "; ".join(problems))]
    return [me.finding(where, "pass", f"Premium registry, public access off, private endpoint "
                                      f"and {azplan.REGISTRY_ZONE} linked")]


LEGACY_TUNNEL = {"1194", "9000"}


@rule("AKS-PLAN-004", "Firewall network rules broader than the cluster needs", 5.0,
      "Outbound Network and FQDN Rules for Azure Kubernetes Service (AKS) Clusters",
      "One protocol per rule, each with its reason; no UDP 1194 / TCP 9000 (legacy tunnel; "
      "konnectivity and private clusters do without), no UDP 123 (nodes since March 2021); on a "
      "public cluster, TCP 443 to the API server for pods that call it by IP")
def network_rules(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if _outbound(steps) != "userDefinedRouting":
        return [me.finding(where, "not-applicable", "egress does not go through a firewall")]
    rules = _find(steps, "az", "network", "firewall", "network-rule", "create")
    problems = []
    for a in rules:
        name = a.value("--name")
        protocols = a.values("--protocols")
        ports = set(a.values("--destination-ports"))
        if len(protocols) != 1 or "Any" in protocols:
            problems.append(f"{name}: protocols {' '.join(protocols)} (every listed port opens "
                            f"on each)")
        if ports & LEGACY_TUNNEL:
            problems.append(f"{name}: ports {', '.join(sorted(ports & LEGACY_TUNNEL))} are the "
                            f"legacy tunnel (not used with konnectivity"
                            f"{' nor by private clusters' if _private(steps) else ''})")
        if "123" in ports:
            problems.append(f"{name}: NTP 123 is not needed by nodes provisioned after March 2021")
        if len(ports) > 1:
            problems.append(f"{name}: several ports in one rule ({', '.join(sorted(ports))})")
    api = [a for a in rules if a.values("--protocols") == ["TCP"]
           and a.values("--destination-ports") == ["443"]]
    if not _private(steps) and not api:
        problems.append("no TCP 443 rule to the API server (pods that call it by IP fail)")
    if problems:
        return [me.finding(where, "fail", "; ".join(problems))]
    names = ", ".join(a.value("--name") or "?" for a in rules) or "none needed (private cluster)"
    return [me.finding(where, "pass", f"network rules: {names}")]


@rule("AKS-PLAN-005", "Cluster identity without rights on the network before the cluster", 6.0,
      "AKS service permissions reference",
      "Create the control plane identity first and grant it Network Contributor (or a narrower "
      "custom role) on the node subnet and the route table before az aks create")
def identity_rights(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    cluster = _cluster(steps)
    subnet = cluster.value("--vnet-subnet-id") if cluster else None
    if not subnet:
        return [me.finding(where, "not-applicable", "no subnet of your own (AKS-managed VNET)")]
    scopes = {"node subnet": subnet}
    tables = _find(steps, "az", "network", "route-table", "create")
    if tables and _outbound(steps) == "userDefinedRouting":
        group = subnet.split("/providers/")[0]
        scopes["route table"] = (f"{group}/providers/Microsoft.Network/routeTables/"
                                 f"{tables[0].value('--name')}")
    before = _index(steps, "aks-create")
    granted = {a.value("--scope"): a for a in _find(steps, "az", "role", "assignment", "create")
               if _index(steps, a.step.id) < before and a.value("--assignee-object-id")}
    missing = [what for what, scope in scopes.items() if scope not in granted]
    if missing:
        return [me.finding(where, "fail", "no role assignment for the cluster identity on the "
                                          f"{' and the '.join(missing)} before az aks create")]
    roles = sorted({granted[s].value("--role") or "?" for s in scopes.values()})
    return [me.finding(where, "pass", f"{', '.join(roles)} on the {' and '.join(scopes)} "
                                      f"before az aks create")]


OPERATOR_PATHS = (("az", "aks", "command", "invoke"), ("az", "vm", "create"),
                  ("az", "network", "bastion", "create"))


@rule("AKS-PLAN-006", "Private cluster without an operator path", 5.0,
      "Establish network connectivity to a private Azure Kubernetes Service (AKS) cluster",
      "Plan one way in: az aks command invoke, a jump box in the VNET, or Azure Bastion")
def operator_path(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if not _private(steps):
        return [me.finding(where, "not-applicable", "public API server (authorized ranges)")]
    found = [" ".join(words) for words in OPERATOR_PATHS if _find(steps, *words)]
    if not found:
        return [me.finding(where, "fail", "nothing in the plan reaches the private API server")]
    return [me.finding(where, "pass", f"operator path: {', '.join(found)}")]


@rule("AKS-PLAN-007", "Production firewall with too few frontend IPs (SNAT ports)", 4.0,
      "Limit Network Traffic with Azure Firewall in Azure Kubernetes Service (AKS)",
      f"Give the production firewall at least {azplan.PRODUCTION_FIREWALL_IPS} frontend public "
      f"IPs (egress.firewall_public_ips)")
def firewall_ips(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if _outbound(steps) != "userDefinedRouting" or not env.production:
        return [me.finding(where, "not-applicable", "not a production firewall")]
    count = len(_find(steps, "az", "network", "firewall", "ip-config", "create"))
    status = "pass" if count >= azplan.PRODUCTION_FIREWALL_IPS else "fail"
    return [me.finding(where, status, f"{count} frontend IP(s); production minimum "
                                      f"{azplan.PRODUCTION_FIREWALL_IPS}")]


@rule("AKS-PLAN-008", "Node OS updates blocked by the firewall", 5.0,
      "Autoupgrade Node OS Images in Azure Kubernetes Service (AKS)",
      "Allow the update sources of the node OS channel: snapshot.ubuntu.com (SecurityPatch), "
      "security/azure.archive/changelogs.ubuntu.com (Unmanaged)")
def os_updates(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    cluster = _cluster(steps)
    channel = cluster.value("--node-os-upgrade-channel") if cluster else None
    _, needed = azplan.os_update_fqdns(channel or "NodeImage")
    if _outbound(steps) != "userDefinedRouting" or not needed:
        return [me.finding(where, "not-applicable",
                           f"channel {channel}: no update source behind a firewall")]
    missing = [f for f in needed if f not in _app_rule_fqdns(steps)]
    if missing:
        return [me.finding(where, "fail", f"channel {channel} needs {', '.join(missing)}")]
    return [me.finding(where, "pass", f"channel {channel}: {', '.join(needed)} allowed")]


@rule("AKS-PLAN-009", "Authorized IP ranges without the cluster's own egress IPs", 6.0,
      "API Server Authorized IP Ranges in Azure Kubernetes Service (AKS)",
      "Add every egress IP (firewall frontends, NAT gateway IP) to "
      "--api-server-authorized-ip-ranges")
def egress_in_ranges(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    cluster = _cluster(steps)
    ranges = (cluster.value("--api-server-authorized-ip-ranges") or "") if cluster else ""
    needed = [f"${name}/32" for name in azplan.egress_ip_placeholders(env)]
    if not ranges or not needed:
        return [me.finding(where, "not-applicable", "no authorized ranges, or egress through "
                                                    "AKS's own load balancer")]
    missing = [n for n in needed if n not in ranges.split(",")]
    if missing:
        return [me.finding(where, "fail", f"nodes leave through {', '.join(missing)}, which the "
                                          f"API server would refuse")]
    return [me.finding(where, "pass", f"ranges include {', '.join(needed)}")]


# ---- every feature the plan can enable, with what it needs -----------------------------------

@dataclass(frozen=True)
class Feature:
    """One row of the prerequisites table: a feature the plan can enable, how the rule finds it
    in the planned az lines, what it needs, and the docs page that says so."""

    rule: str
    feature: str
    detected: str
    needs: str
    page: str


FEATURES: list[Feature] = []


def feature_rule(id: str, feature: str, detected: str, needs: str, page: str, score: float,
                 chapter: str):
    """A plan rule for one feature's prerequisites, listed in FEATURES (the table)."""
    FEATURES.append(Feature(id, feature, detected, needs, page))
    return rule(id, f"{feature} without its prerequisites", score, page, needs, chapter)


def prerequisites() -> list[dict[str, str]]:
    """The table: one row per feature the plan can enable (for the notebooks and the docs)."""
    return [{"rule": f.rule, "feature": f.feature, "detected in the plan": f.detected,
             "needs": f.needs, "docs page": f.page} for f in FEATURES]


TAG_FQDNS = {fqdn.replace("{region}", "*") for fqdn, _, _ in azplan.REQUIRED_FQDNS}


def _covers(pattern: str, fqdn: str) -> bool:
    if pattern.startswith("*."):
        return fqdn.endswith(pattern[1:]) and fqdn != pattern[2:]
    return pattern == fqdn


def _allowed(steps: Steps, fqdn: str) -> bool:
    """Does an application rule of the firewall allow this FQDN (a target FQDN, or the FQDN tag
    AzureKubernetesService for the documented required set)?"""
    rules = _find(steps, "az", "network", "firewall", "application-rule", "create")
    if any("AzureKubernetesService" in a.values("--fqdn-tags") for a in rules) and any(
            _covers(p, fqdn) or p == fqdn for p in TAG_FQDNS):
        return True
    return any(_covers(pattern, fqdn) for a in rules for pattern in a.values("--target-fqdns"))


def _filtered(steps: Steps) -> bool:
    return _outbound(steps) in ("userDefinedRouting", "none")


def _cluster_lines(steps: Steps) -> list[Az]:
    return _find(steps, "az", "aks", "create") + _find(steps, "az", "aks", "update")


def _switch(steps: Steps, flag: str) -> bool:
    return any(flag in a.flags for a in _cluster_lines(steps))


def _addons(steps: Steps) -> set[str]:
    names = [v for a in _find(steps, "az", "aks", "create") for v in a.values("--enable-addons")]
    names += [v for a in _find(steps, "az", "aks", "enable-addons") for v in a.values("--addons")]
    return {n.strip() for value in names for n in value.split(",") if n.strip()}


def _private_path(steps: Steps, group_id: str, zone: str) -> list[str]:
    """What a private endpoint path lacks: the endpoint, its zone, VNET link and zone group."""
    missing = []
    if not [a for a in _find(steps, "az", "network", "private-endpoint", "create")
            if a.value("--group-id") == group_id]:
        missing.append(f"a private endpoint with --group-id {group_id}")
    found = {"private DNS zone": [a.value("--name") for a in _find(
                 steps, "az", "network", "private-dns", "zone", "create")],
             "VNET link": [a.value("--zone-name") for a in _find(
                 steps, "az", "network", "private-dns", "link", "vnet", "create")],
             "DNS zone group": [a.value("--private-dns-zone") for a in _find(
                 steps, "az", "network", "private-endpoint", "dns-zone-group", "create")]}
    missing += [f"the {what} for {zone}" for what, zones in found.items() if zone not in zones]
    return missing


def _egress(steps: Steps, fqdns: list[str]) -> list[str]:
    return [f for f in fqdns if not _allowed(steps, f)]


def _vault(steps: Steps) -> Az | None:
    return next(iter(_find(steps, "az", "keyvault", "create")), None)


def _assignments(steps: Steps) -> list[Az]:
    return _find(steps, "az", "role", "assignment", "create")


def _cluster_id_suffix(steps: Steps) -> str | None:
    cluster = _cluster(steps)
    return f"/managedClusters/{cluster.value('--name')}" if cluster else None


KEY_VAULT_CSI = "Use the Azure Key Vault Provider for Secrets Store CSI Driver for Azure " \
                "Kubernetes Service (AKS) Secrets"


@feature_rule("AKS-PLAN-011", "Key Vault secrets provider behind the firewall",
              "--enable-addons azure-keyvault-secrets-provider (az aks create / enable-addons)",
              "egress to the vault: an application rule for <vault>.vault.azure.net:443 (the "
              "page lists vault.azure.net), or a private endpoint (--group-id vault) with the "
              f"{azplan.VAULT_ZONE} zone, VNET link and zone group",
              azplan.EGRESS_PAGE, 7.0, "03-auth")
def key_vault_egress(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if "azure-keyvault-secrets-provider" not in _addons(steps):
        return [me.finding(where, "not-applicable", "the Key Vault secrets provider is off")]
    if not _filtered(steps):
        return [me.finding(where, "not-applicable", "egress is not filtered by a firewall")]
    vault = _vault(steps)
    fqdn = f"{vault.value('--name')}.vault.azure.net" if vault else "<vault>.vault.azure.net"
    private = _private_path(steps, "vault", azplan.VAULT_ZONE)
    if not private:
        return [me.finding(where, "pass", f"the vault is reached over its private endpoint "
                                          f"({azplan.VAULT_ZONE})")]
    if _outbound(steps) == "userDefinedRouting" and _allowed(steps, fqdn):
        return [me.finding(where, "pass", f"the firewall allows {fqdn}:443")]
    return [me.finding(where, "fail", f"Key Vault secrets provider enabled, but the firewall does "
                                      f"not allow {fqdn}:443 and there is no private path "
                                      f"(missing {'; '.join(private)}): pods that mount a "
                                      f"SecretProviderClass stay in ContainerCreating")]


@feature_rule("AKS-PLAN-012", "Key Vault for a private cluster or without purge protection",
              "az keyvault create",
              "--enable-purge-protection true; in a private cluster also --public-network-access "
              "Disabled and a private endpoint (--group-id vault) with its "
              f"{azplan.VAULT_ZONE} zone", KEY_VAULT_CSI, 6.0, "03-auth")
def key_vault_itself(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    vault = _vault(steps)
    if vault is None:
        return [me.finding(where, "not-applicable", "the plan creates no Key Vault")]
    problems = []
    if (vault.value("--enable-purge-protection") or "").lower() != "true":
        problems.append("no purge protection (--enable-purge-protection true): a deleted "
                        "vault or secret could be purged at once")
    if _private(steps):
        if (vault.value("--public-network-access") or "").lower() != "disabled":
            problems.append("private cluster, yet the vault keeps its public endpoint "
                            "(--public-network-access Disabled)")
        problems += [f"private cluster without {m}" for m in
                     _private_path(steps, "vault", azplan.VAULT_ZONE)]
    if problems:
        return [me.finding(where, "fail", f"Key Vault {vault.value('--name')}: "
                                          + "; ".join(problems))]
    return [me.finding(where, "pass", f"Key Vault {vault.value('--name')}: purge protection"
                                      + (", private endpoint, public access off"
                                         if _private(steps) else ""))]


WRITERS = ("Key Vault Secrets Officer", "Key Vault Administrator")


@feature_rule("AKS-PLAN-013", "Key Vault secret written by an operator",
              "az keyvault secret set",
              "Key Vault Secrets Officer (or Administrator) on the vault for the writer, "
              "assigned before the secret is set (an RBAC vault gives even Owner no data "
              "rights); the value from a file (--file), never --value on the command line",
              "Provide access to Key Vault keys, certificates, and secrets with Azure "
              "role-based access control", 6.0, "03-auth")
def key_vault_writer(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    writes = _find(steps, "az", "keyvault", "secret", "set")
    if not writes:
        return [me.finding(where, "not-applicable", "the plan writes no secret")]
    problems = []
    for write in writes:
        name, vault = write.value("--name"), write.value("--vault-name")
        if "--value" in write.flags:
            problems.append(f"secret {name}: its value is on the command line (shell history, "
                            f"process list, logs): read it with --file")
        before = _index(steps, write.step.id)
        granted = [a for a in _assignments(steps) if a.value("--role") in WRITERS
                   and (a.value("--scope") or "").endswith(f"/vaults/{vault}")
                   and _index(steps, a.step.id) < before]
        if not granted:
            problems.append(f"secret {name}: nobody is given Key Vault Secrets Officer on "
                            f"vault {vault} before it is set (the write fails: Forbidden)")
    if problems:
        return [me.finding(where, "fail", "; ".join(problems))]
    return [me.finding(where, "pass", "each secret is written from a file by a Key Vault "
                                      "Secrets Officer assigned first")]


@feature_rule("AKS-PLAN-014", "Azure Policy add-on behind the firewall",
              "--enable-addons azure-policy",
              f"egress to {', '.join(azplan.POLICY_FQDNS)} (HTTPS 443)",
              azplan.EGRESS_PAGE, 6.0, "03-auth")
def policy_egress(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if "azure-policy" not in _addons(steps):
        return [me.finding(where, "not-applicable", "the Azure Policy add-on is off")]
    if not _filtered(steps):
        return [me.finding(where, "not-applicable", "egress is not filtered by a firewall")]
    missing = _egress(steps, list(azplan.POLICY_FQDNS))
    if missing:
        return [me.finding(where, "fail", f"Azure Policy add-on enabled, but the firewall does "
                                          f"not allow {', '.join(missing)}: it never syncs "
                                          f"its policies")]
    return [me.finding(where, "pass", f"the firewall allows {', '.join(azplan.POLICY_FQDNS)}")]


@feature_rule("AKS-PLAN-015", "Azure Policy add-on that enforces nothing",
              "--enable-addons azure-policy",
              "something to enforce: az aks safeguards create --level Warn|Enforce (Deployment "
              "Safeguards) or az policy assignment create (an initiative such as the pod "
              "security baseline)",
              "Use Deployment Safeguards to Enforce Best Practices in Azure Kubernetes Service "
              "(AKS)", 4.0, "03-auth")
def policy_enforces(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if "azure-policy" not in _addons(steps):
        return [me.finding(where, "not-applicable", "the Azure Policy add-on is off")]
    safeguards = _find(steps, "az", "aks", "safeguards", "create")
    assigned = _find(steps, "az", "policy", "assignment", "create")
    if safeguards:
        return [me.finding(where, "pass", f"Deployment Safeguards at level "
                                          f"{safeguards[0].value('--level')}")]
    if assigned:
        return [me.finding(where, "pass", f"policy assignment {assigned[0].value('--name')}")]
    return [me.finding(where, "fail", "Azure Policy add-on enabled, but no Deployment "
                                      "Safeguards and no policy assignment: it enforces "
                                      "nothing")]


@feature_rule("AKS-PLAN-016", "Container Insights / Azure Monitor behind the firewall",
              "--enable-addons monitoring, or --enable-azure-monitor-metrics",
              "egress to the Azure Monitor FQDNs (*.ods.opinsights.azure.com, "
              "*.oms.opinsights.azure.com, dc.services.visualstudio.com, "
              "*.monitoring.azure.com, global and <region>.handler.control.monitor.azure.com, "
              "*.ingest.monitor.azure.com, *.metrics.ingest.monitor.azure.com)",
              azplan.EGRESS_PAGE, 5.0, "01-overview")
def monitor_egress(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if "monitoring" not in _addons(steps) and not _switch(steps, "--enable-azure-monitor-metrics"):
        return [me.finding(where, "not-applicable", "neither Container Insights nor managed "
                                                    "Prometheus is enabled")]
    if not _filtered(steps):
        return [me.finding(where, "not-applicable", "egress is not filtered by a firewall")]
    needed = [f.replace("{region}", env.location) for f in azplan.MONITOR_FQDNS]
    missing = _egress(steps, [f.replace("*.", "x.") for f in needed])
    if missing:
        return [me.finding(where, "fail", "Azure Monitor enabled, but the firewall does not "
                                          "allow " + ", ".join(missing).replace("x.", "*."))]
    return [me.finding(where, "pass", "the firewall allows the Azure Monitor FQDNs")]


@feature_rule("AKS-PLAN-017", "Workload identity",
              "--enable-workload-identity",
              "--enable-oidc-issuer on the cluster; behind a firewall, egress to "
              "login.microsoftonline.com:443 (the FQDN tag AzureKubernetesService has it)",
              "Use a Microsoft Entra Workload ID on Azure Kubernetes Service (AKS)", 6.0,
              "03-auth")
def workload_identity(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if not _switch(steps, "--enable-workload-identity"):
        return [me.finding(where, "not-applicable", "workload identity is off")]
    problems = []
    if not _switch(steps, "--enable-oidc-issuer"):
        problems.append("no OIDC issuer (--enable-oidc-issuer): nothing signs the tokens Entra "
                        "ID would exchange")
    if _filtered(steps) and not _allowed(steps, "login.microsoftonline.com"):
        problems.append("the firewall does not allow login.microsoftonline.com:443")
    if problems:
        return [me.finding(where, "fail", "workload identity enabled, but " + "; ".join(problems))]
    return [me.finding(where, "pass", "OIDC issuer on; login.microsoftonline.com reachable")]


CLUSTER_ADMIN = "Azure Kubernetes Service RBAC Cluster Admin"


@feature_rule("AKS-PLAN-018", "Local accounts disabled",
              "--disable-local-accounts",
              "Entra ID (--enable-aad) and someone who can administer the cluster: an admin "
              f"group (--aad-admin-group-object-ids) or a '{CLUSTER_ADMIN}' assignment on the "
              "cluster (az aks create assigns it to no one except with --sku automatic)",
              "Manage local accounts with Microsoft Entra integration", 7.0, "03-auth")
def local_accounts(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    cluster = _cluster(steps)
    if cluster is None or "--disable-local-accounts" not in cluster.flags:
        return [me.finding(where, "not-applicable", "local accounts stay on")]
    if "--enable-aad" not in cluster.flags:
        return [me.finding(where, "fail", "local accounts disabled without Entra ID: nobody "
                                          "can sign in")]
    groups = [g for g in (cluster.value("--aad-admin-group-object-ids") or "").split(",") if g]
    if groups:
        return [me.finding(where, "pass", f"admin group(s) {', '.join(groups)}")]
    suffix = _cluster_id_suffix(steps)
    admins = [a for a in _assignments(steps) if a.value("--role") == CLUSTER_ADMIN
              and (a.value("--scope") or "").endswith(suffix or "?")]
    if admins and "--enable-azure-rbac" in cluster.flags:
        return [me.finding(where, "pass", f"{CLUSTER_ADMIN} for "
                                          f"{admins[0].value('--assignee-object-id')}")]
    return [me.finding(where, "fail", "local accounts disabled, but no admin group and no "
                                      f"{CLUSTER_ADMIN} assignment (with --enable-azure-rbac): "
                                      "nobody can administer the cluster")]


AKS_DOOR = ("Azure Kubernetes Service Cluster User Role",
            "Azure Kubernetes Service Cluster Admin Role")


@feature_rule("AKS-PLAN-019", "Kubernetes rights through Azure RBAC",
              "--enable-azure-rbac, and role assignments of 'Azure Kubernetes Service RBAC …' "
              "roles",
              "each such principal also holds Azure Kubernetes Service Cluster User Role (or "
              "Cluster Admin Role) on the cluster, else az aks get-credentials fails; both "
              "assigned after az aks create (the scope must exist)",
              "Limit access to kubeconfig in Azure Kubernetes Service (AKS)", 5.0, "03-auth")
def rbac_door(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    if not _switch(steps, "--enable-azure-rbac"):
        return [me.finding(where, "not-applicable", "Azure RBAC for Kubernetes is off")]
    suffix = _cluster_id_suffix(steps) or "?"
    inside = [a for a in _assignments(steps)
              if (a.value("--role") or "").startswith("Azure Kubernetes Service RBAC ")]
    door = {a.value("--assignee-object-id") for a in _assignments(steps)
            if a.value("--role") in AKS_DOOR and (a.value("--scope") or "").endswith(suffix)}
    created = _index(steps, "aks-create")
    problems = [f"{a.value('--assignee-object-id')} gets {a.value('--role')} but not Cluster "
                f"User Role: it cannot fetch a kubeconfig" for a in inside
                if a.value("--assignee-object-id") not in door]
    problems += [f"{a.step.id}: assigned before az aks create (no scope yet)"
                 for a in _assignments(steps) if _index(steps, a.step.id) < created
                 and (a.value("--role") in AKS_DOOR or a in inside)]
    if problems:
        return [me.finding(where, "fail", "; ".join(problems))]
    return [me.finding(where, "pass", f"{len(inside)} AKS RBAC assignment(s), each principal "
                                      f"with Cluster User Role")]


@feature_rule("AKS-PLAN-020", "Registry attached to the cluster",
              "--attach-acr <name> (az aks create / update)",
              "the registry exists before az aks create (az acr create); the handler then "
              "assigns AcrPull to the kubelet identity (the caller needs Owner or User Access "
              "Administrator on the registry)",
              "Integrate Azure Container Registry with Azure Kubernetes Service (AKS)", 6.0,
              "01-overview")
def attach_acr(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    cluster = _cluster(steps)
    name = cluster.value("--attach-acr") if cluster else None
    if not name:
        return [me.finding(where, "not-applicable", "no --attach-acr")]
    made = [a for a in _find(steps, "az", "acr", "create") if a.value("--name") == name]
    if not made or _index(steps, made[0].step.id) > _index(steps, cluster.step.id):
        return [me.finding(where, "fail", f"--attach-acr {name}, but the plan does not create "
                                          f"registry {name} before az aks create")]
    return [me.finding(where, "pass", f"registry {name} exists first; AcrPull for the kubelet")]


def _images(steps: Steps) -> list[tuple[str, str]]:
    """(step id, image) for every image a planned step deploys (Helm image settings)."""
    found = []
    for step in steps:
        words = shlex.split(step.command)
        if words[:1] != ["helm"]:
            continue
        sets = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
        if "image.repository" in sets:
            found.append((step.id, f"{sets['image.repository']}:{sets.get('image.tag', '')}"))
    return found


@feature_rule("AKS-PLAN-021", "Images from registries behind the firewall",
              "image repositories the plan's Helm installs and manifests pull from",
              "every image from MCR (the FQDN tag) or your own registry; a third-party image "
              "imported into it first (az acr import) or served by ACR artifact cache",
              "Import container images to a container registry", 5.0, "04-maintenance")
def image_sources(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    images = _images(steps) + [(f"manifest {t}", i) for t, i in azplan.cluster_images(env)]
    if not images or not _filtered(steps):
        return [me.finding(where, "not-applicable", "no image pulled behind a firewall")]
    registry = _registry(steps)
    own = f"{registry.value('--name')}.azurecr.io/" if registry else None
    imported = {f"{own}{a.value('--image')}" for a in _find(steps, "az", "acr", "import")}
    cached = bool(_find(steps, "az", "acr", "cache", "create"))
    problems = []
    for origin, image in images:
        if image.startswith("mcr.microsoft.com/"):
            continue
        if own and image.startswith(own):
            if origin.startswith("manifest") or image in imported or cached:
                continue
            problems.append(f"{origin}: {image} is not imported into the registry first")
            continue
        problems.append(f"{origin}: {image} comes from {image.split('/')[0]}, which the "
                        f"firewall does not allow")
    if problems:
        return [me.finding(where, "fail", "; ".join(problems))]
    return [me.finding(where, "pass", f"{len(images)} image(s), all from MCR or "
                                      f"{own or 'your registry'}")]


@feature_rule("AKS-PLAN-022", "az aks check-acr on an Entra ID cluster",
              "az aks check-acr on a cluster created with --enable-aad",
              "AAD_LOGIN_METHOD=azurecli in its environment (else kubelogin waits for a "
              "device-code sign-in and the step hangs); create rights on pods in default",
              "Integrate Azure Container Registry with Azure Kubernetes Service (AKS)", 3.0,
              "03-auth")
def check_acr_login(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    checks = _find(steps, "az", "aks", "check-acr")
    cluster = _cluster(steps)
    if not checks or cluster is None or "--enable-aad" not in cluster.flags:
        return [me.finding(where, "not-applicable", "no check-acr on an Entra ID cluster")]
    hanging = [a.step.id for a in checks
               if ("AAD_LOGIN_METHOD", "azurecli") not in a.step.env]
    if hanging:
        return [me.finding(where, "fail", f"{', '.join(hanging)}: without "
                                          f"AAD_LOGIN_METHOD=azurecli it waits for a device "
                                          f"code")]
    return [me.finding(where, "pass", "check-acr signs in with the az login")]


MANAGED_WINDOWS = {"--auto-upgrade-channel": ("aksManagedAutoUpgradeSchedule", "none"),
                   "--node-os-upgrade-channel": ("aksManagedNodeOSUpgradeSchedule", "None")}


@feature_rule("AKS-PLAN-023", "Upgrade channels",
              "--auto-upgrade-channel / --node-os-upgrade-channel on az aks create",
              "a planned maintenance window of the channel's own configuration "
              "(aksManagedAutoUpgradeSchedule / aksManagedNodeOSUpgradeSchedule), else AKS "
              "upgrades at any time",
              "Use Planned Maintenance to Schedule and Control Upgrades for Azure Kubernetes "
              "Service (AKS) Clusters", 4.0, "04-maintenance")
def channel_windows(env: Environment, steps: Steps, me: Check) -> list[Finding]:
    where = _plan(env)
    cluster = _cluster(steps)
    if cluster is None:
        return [me.finding(where, "not-applicable", "no cluster in the plan")]
    configured = {a.value("--name") for a in _find(steps, "az", "aks", "maintenanceconfiguration",
                                                    "add")}
    active = {flag: cluster.value(flag) for flag, (_, off) in MANAGED_WINDOWS.items()
              if cluster.value(flag) not in (None, off)}
    if not active:
        return [me.finding(where, "not-applicable", "no upgrade channel")]
    missing = [f"{flag} {value} without a {MANAGED_WINDOWS[flag][0]} window"
               for flag, value in active.items() if MANAGED_WINDOWS[flag][0] not in configured]
    if missing:
        return [me.finding(where, "fail", "; ".join(missing))]
    return [me.finding(where, "pass", ", ".join(f"{v} in {MANAGED_WINDOWS[f][0]}"
                                                for f, v in active.items()))]


# ---- the manifests: the app must still work under default deny -------------------------------

INGRESS_CHECK = Check(
    "AKS-PLAN-010", "02-network", "Ingress backend unreachable from the ingress controller", 6.0,
    "Secure Pod Traffic with Network Policies in Azure Kubernetes Service (AKS)",
    "Allow ingress to the backend pods from the ingress controller's namespace on the Service's "
    "target port (namespaceSelector kubernetes.io/metadata.name)",
    lambda state, me: [], scope="kubernetes")


def controller_probe(namespace: str, namespaces: dict[str, dict[str, str]]) -> reach.Pod:
    """A pod standing for the ingress controller in its namespace (labels as the API server
    gives every namespace, added to `namespaces` when the namespace does not exist yet)."""
    namespaces.setdefault(namespace, {reach.NAME_LABEL: namespace})
    return reach.Pod(namespace, "ingress-controller", {})


def ingress_reachable(state: State, controller_namespace: str) -> list[Finding]:
    """For every Ingress backend: may a pod of the controller's namespace reach the Service's
    pods on its target port, under the NetworkPolicies? (A probe pod stands for the
    controller, so the answer does not depend on the controller being installed.)"""
    me = INGRESS_CHECK
    pods = reach.pods_from_api(state.items("pods"))
    namespaces = reach.namespace_labels(state.objects.get("namespaces", []))
    probe = controller_probe(controller_namespace, namespaces)
    analyzer = reach.Analyzer([*pods, probe], namespaces, state.items("networkpolicies"))
    rows = [c for c in analyzer.matrix() if c.source == probe.key and c.allowed]
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s
                for s in state.items("services")}
    findings = []
    for ingress in state.items("ingresses"):
        namespace = ingress["metadata"]["namespace"]
        for name, port in _backends(ingress):
            service = services.get((namespace, name))
            if service is None:
                continue
            target = _target_port(service, port)
            chosen = [p for p in pods if p.namespace == namespace
                      and selects((service.get("spec") or {}).get("selector"), p.labels)]
            blocked = sorted({p.name for p in chosen if not _reaches(rows, p, target)})
            where = f"{resource(ingress, 'Ingress')} -> Service {name}"
            if not chosen:
                continue
            if blocked:
                findings.append(me.finding(where, "fail", f"{controller_namespace} cannot reach "
                                           f"{', '.join(blocked)} on {target}"))
            else:
                findings.append(me.finding(where, "pass", f"{controller_namespace} reaches "
                                           f"{len(chosen)} pod(s) on {target}"))
    return findings or [me.finding("Ingress/*", "not-applicable",
                                   "no Ingress routes to a Service that selects pods")]


def _backends(ingress: dict) -> list[tuple[str, object]]:
    spec = ingress.get("spec") or {}
    found = [spec.get("defaultBackend") or {}]
    found += [path.get("backend") or {} for r in spec.get("rules") or []
              for path in (r.get("http") or {}).get("paths") or []]
    out = []
    for backend in found:
        service = backend.get("service") or {}
        if service.get("name"):
            port = service.get("port") or {}
            out.append((service["name"], port.get("name") or port.get("number")))
    return sorted(set(out), key=str)


def _target_port(service: dict, port: object) -> object:
    for entry in (service.get("spec") or {}).get("ports") or []:
        if port in (entry.get("name"), entry.get("port")):
            return entry.get("targetPort", entry.get("port"))
    return port


def _reaches(rows: list[reach.Connection], pod: reach.Pod, target: object) -> bool:
    number = target
    if isinstance(target, str):
        number = next((p.number for p in pod.ports if p.name == target), None)
    for row in rows:
        if row.destination != pod.key:
            continue
        span = reach.port_range(row.port)
        if span is None or (span[0] == "TCP" and number is not None
                            and span[1] <= int(number) <= span[2]):
            return True
    return False
