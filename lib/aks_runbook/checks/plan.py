"""Plan rules: the az plan (and the manifests it deploys) judged before anything runs.

Each rule is one fact chapter 02 teaches about an egress and private-cluster design that works in
Azure (AKS docs, 2026); it reads the planned steps as they would run, not the parameters that
produced them, so a hand-edited or older plan is judged the same way. Findings use the posture
checks' shape (checks.table shows them); a rule that does not apply to the design says
not-applicable and why.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from aks_runbook import azplan
from aks_runbook.analysis import reachability as reach
from aks_runbook.checks import Check, Finding, State, resource, selects
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


def read(step: azplan.Step) -> Az:
    tokens = shlex.split(step.command)
    words, flags, current = [], {}, None
    for token in tokens:
        if token.startswith("--"):
            current = token
            flags.setdefault(current, [])
        elif current:
            flags[current].append(token)
        else:
            words.append(token)
    return Az(step, tuple(words), flags)


def _find(steps: Steps, *words: str) -> list[Az]:
    found = [read(s) for s in steps]
    return [a for a in found if a.words[: len(words)] == words]


def _index(steps: Steps, step_id: str) -> int:
    return next((i for i, s in enumerate(steps) if s.id == step_id), len(steps))


RULES: list[Check] = []
Evaluate = Callable[[Environment, Steps, Check], list[Finding]]


def rule(id: str, title: str, score: float, source: str, remediation: str):
    """Register a plan rule: a Check (same findings, same table) whose evaluate reads the
    environment and the planned steps instead of a State; not part of the posture catalog.
    `source` is the title of the docs page the rule comes from (shown as public_ids)."""

    def register(evaluate: Evaluate) -> Evaluate:
        RULES.append(Check(id, "02-network", title, score, source, remediation, evaluate,
                           scope="plan"))
        return evaluate

    return register


def judge(env: Environment, steps: Steps) -> list[Finding]:
    """Every plan rule on this plan, sorted like the posture checks."""
    findings = [f for r in RULES for f in r.evaluate(env, steps, r)]
    return sorted(findings, key=lambda f: (f.check, f.resource))


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
