"""The environment model: every parameter declared once, with type, default, help and rules.

Notebooks (their `parameters` cell), the CLI and the Azure plan all read parameters through
`load()`. Bad values fail here, before any command runs, naming the parameter, the value and
what is allowed. Secrets are never parameters: they come from the environment or `az login`.
"""

from __future__ import annotations

import re
from datetime import date
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from aks_runbook.analysis.addresses import (
    PoolDemand,
    model_name,
    smallest_prefix,
    subnet_capacity,
    subnet_demand,
)

TARGETS = ("local", "kind", "aks", "replay")
# What azure-cli 2.91 accepts for --outbound-type, and when each fits.
OUTBOUND_TYPES = {
    "loadBalancer": "AKS's Standard Load Balancer with a public outbound IP (the default); no "
                    "filtering",
    "managedNATGateway": "a NAT gateway AKS creates, only with the VNET AKS creates; no "
                         "filtering, more SNAT ports",
    "userAssignedNATGateway": "your NAT gateway on your subnet; no filtering, more SNAT ports",
    "userDefinedRouting": "your route table sends 0.0.0.0/0 to a firewall that filters egress "
                          "(Azure Firewall here)",
    "none": "no egress path at all: network isolated clusters (private, AKS images from a "
            "private registry)",
}
MAX_AUTHORIZED_RANGES = 200
SECRET_NAME = re.compile(r"(password|passwd|secret|token|api_?key|client_?key|connection_?string|"
                         r"sas|credential|private_?key|(?:^|_)key$)", re.IGNORECASE)


# Azure's naming rules for the names the runbook derives.
NAME_RULES = {
    "resource_group": (r"[-\w.()]{0,89}[-\w()]",
                       "1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'"),
    "cluster_name": (r"[A-Za-z0-9]([-_A-Za-z0-9]{0,61}[A-Za-z0-9])?",
                     "1-63 letters, digits, '-' or '_', starting and ending with a letter or "
                     "digit"),
    "acr_name": (r"[a-z0-9]{5,50}", "5-50 lower-case letters or digits"),
}


class ParameterError(ValueError):
    """One or more parameters are invalid; the message lists each with what is allowed."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class NodePool(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9]{0,11}$",
                      description="pool name: 1-12 lower-case letters or digits, starting with a "
                                  "letter (AKS's rule for Linux pools)")
    count: int = Field(ge=1, le=1000, description="number of nodes")
    vm_size: str = Field("Standard_D4ds_v5", pattern=r"^Standard_[A-Za-z0-9_]+$",
                         description="Azure VM size, e.g. Standard_D4ds_v5")
    mode: Literal["System", "User"] = Field("User", description="System pools run AKS add-ons")
    max_pods: int = Field(110, ge=10, le=250, description="maximum pods per node")


class Network(Strict):
    plugin: Literal["azure", "kubenet", "none"] = Field(
        "azure", description="CNI plugin (kubenet retires 2028-03-31)")
    plugin_mode: Literal["overlay"] | None = Field(
        "overlay", description="'overlay' for Azure CNI Overlay; null for Azure CNI Node Subnet "
                               "(legacy)")
    dataplane: Literal["azure", "cilium"] = Field("cilium", description="network dataplane")
    policy: Literal["azure", "calico", "cilium", "none"] = Field(
        "cilium", description="NetworkPolicy engine")
    vnet_cidr: IPv4Network = Field(IPv4Network("10.224.0.0/12"), description="VNET address space")
    node_subnet_cidr: IPv4Network = Field(IPv4Network("10.224.0.0/16"),
                                          description="subnet for the nodes")
    firewall_subnet_cidr: IPv4Network = Field(
        IPv4Network("10.225.0.0/26"), description="AzureFirewallSubnet (/26 or larger)")
    endpoint_subnet_cidr: IPv4Network = Field(
        IPv4Network("10.225.1.0/24"), description="subnet for private endpoints (the registry's "
                                                  "in a private design)")
    pod_cidr: IPv4Network = Field(IPv4Network("10.244.0.0/16"),
                                  description="pod CIDR for overlay and kubenet (not in the VNET)")
    service_cidr: IPv4Network = Field(IPv4Network("10.0.0.0/16"),
                                      description="Kubernetes service CIDR (not in the VNET)")
    dns_service_ip: IPv4Address = Field(IPv4Address("10.0.0.10"),
                                        description="cluster DNS IP, inside service_cidr")

    @model_validator(mode="after")
    def _consistent(self) -> Network:
        problems = []
        if self.plugin_mode == "overlay" and self.plugin != "azure":
            problems.append(("plugin_mode", self.plugin_mode, "overlay needs plugin 'azure'"))
        if self.dataplane == "cilium" and (self.plugin != "azure" or self.policy != "cilium"):
            problems.append(("dataplane", self.dataplane,
                             "the cilium dataplane needs plugin 'azure' and policy 'cilium'"))
        if self.policy == "cilium" and self.dataplane != "cilium":
            problems.append(("policy", self.policy, "policy 'cilium' needs dataplane 'cilium'"))
        if self.plugin == "kubenet" and self.policy in ("azure", "cilium"):
            problems.append(("policy", self.policy,
                             "kubenet supports only 'calico' or 'none' (Azure NPM and Cilium "
                             "need Azure CNI)"))
        subnets = ("node_subnet_cidr", "firewall_subnet_cidr", "endpoint_subnet_cidr")
        for number, name in enumerate(subnets):
            subnet = getattr(self, name)
            if not subnet.subnet_of(self.vnet_cidr):
                problems.append((name, str(subnet), f"must lie inside vnet_cidr {self.vnet_cidr}"))
            for other in subnets[:number]:
                if subnet.overlaps(getattr(self, other)):
                    problems.append((name, str(subnet),
                                     f"must not overlap {other} {getattr(self, other)}"))
        if self.firewall_subnet_cidr.prefixlen > 26:
            problems.append(("firewall_subnet_cidr", str(self.firewall_subnet_cidr),
                             "Azure Firewall needs a /26 or larger subnet"))
        if self.service_cidr.overlaps(self.vnet_cidr):
            problems.append(("service_cidr", str(self.service_cidr),
                             f"must not overlap vnet_cidr {self.vnet_cidr}"))
        if self.uses_pod_cidr:
            for other in ("vnet_cidr", "service_cidr"):
                if self.pod_cidr.overlaps(getattr(self, other)):
                    problems.append(("pod_cidr", str(self.pod_cidr),
                                     f"must not overlap {other} {getattr(self, other)}"))
        hosts = self.service_cidr
        if self.dns_service_ip not in hosts:
            problems.append(("dns_service_ip", str(self.dns_service_ip),
                             f"must be inside service_cidr {hosts}"))
        elif self.dns_service_ip in (hosts.network_address, hosts.network_address + 1,
                                     hosts.broadcast_address):
            problems.append(("dns_service_ip", str(self.dns_service_ip),
                             f"must not be the network, broadcast or first address ({hosts[1]} "
                             f"is the kubernetes service) of {hosts}"))
        if problems:
            raise ValueError(_join(problems, prefix="network"))
        return self

    @property
    def uses_pod_cidr(self) -> bool:
        return self.plugin == "kubenet" or self.plugin_mode == "overlay"

    @property
    def model(self) -> str:
        return model_name(self.plugin, self.plugin_mode)


class ApiServer(Strict):
    authorized_ip_ranges: list[IPv4Network] = Field(
        default_factory=list, max_length=200,
        description="public CIDRs allowed to reach the API server (the reference's choice)")
    private_cluster: bool = Field(False, description="API server only inside the VNET")

    @model_validator(mode="after")
    def _one_or_the_other(self) -> ApiServer:
        reserved = [str(r) for r in self.authorized_ip_ranges if not r.is_global]
        if reserved:
            raise ValueError(_join([(
                "authorized_ip_ranges", reserved,
                "must be public (global) ranges: private, documentation and other reserved "
                "ranges never reach the public API server endpoint, and az aks rejects them")],
                prefix="api_server"))
        if self.private_cluster and self.authorized_ip_ranges:
            raise ValueError(_join([(
                "authorized_ip_ranges", [str(r) for r in self.authorized_ip_ranges],
                "not allowed with private_cluster: true (a private API server has no public "
                "endpoint to restrict); choose one")], prefix="api_server"))
        return self


class Egress(Strict):
    outbound_type: Literal["loadBalancer", "managedNATGateway", "userAssignedNATGateway",
                           "userDefinedRouting", "none"] = Field(
        "loadBalancer", description="how nodes reach the internet; userDefinedRouting sends "
                                    "0.0.0.0/0 through Azure Firewall")
    firewall_public_ips: int = Field(
        1, ge=1, le=250, description="Azure Firewall frontend public IPs (userDefinedRouting; "
                                     "production: at least 20, for SNAT ports)")


class Entra(Strict):
    enabled: bool = Field(True, description="managed Entra ID (Azure AD) integration")
    admin_group_object_ids: list[UUID] = Field(default_factory=list,
                                               description="Entra groups that get cluster-admin")
    azure_rbac: bool = Field(True, description="authorize Kubernetes with Azure RBAC")
    disable_local_accounts: bool = Field(True, description="no static admin kubeconfig")

    @model_validator(mode="after")
    def _needs_entra(self) -> Entra:
        problems = [(name, True, "needs enabled: true") for name in
                    ("azure_rbac", "disable_local_accounts") if getattr(self, name) and
                    not self.enabled]
        if problems:
            raise ValueError(_join(problems, prefix="entra"))
        return self


class MaintenanceWindow(Strict):
    day_of_week: Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                         "Sunday"] = Field("Sunday", description="weekly window day")
    start_time: str = Field("01:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                            description="HH:MM local to utc_offset")
    duration_hours: int = Field(4, ge=4, le=24, description="AKS needs at least 4 hours")
    utc_offset: str = Field("+09:00", pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$",
                            description="e.g. +09:00 for Japan")


class Freeze(Strict):
    """A change freeze: no planned maintenance from start to end (notAllowedDates)."""

    start: date = Field(description="first day without maintenance (YYYY-MM-DD)")
    end: date = Field(description="last day without maintenance (YYYY-MM-DD)")
    reason: str = Field("change freeze", max_length=60, description="why, e.g. year-end")

    @model_validator(mode="after")
    def _ordered(self) -> Freeze:
        if self.end < self.start:
            raise ValueError(_join([("end", str(self.end), f"must not be before start "
                                                           f"{self.start}")]))
        return self


def _default_freezes() -> list[Freeze]:
    # Japan's usual change freezes: year-end (年末年始) and Golden Week.
    return [Freeze(start=date(2026, 12, 29), end=date(2027, 1, 3), reason="year-end"),
            Freeze(start=date(2027, 4, 29), end=date(2027, 5, 6), reason="Golden Week")]


class Upgrades(Strict):
    auto_upgrade_channel: Literal["none", "patch", "stable", "rapid", "node-image"] = Field(
        "patch", description="cluster auto-upgrade channel")
    node_os_upgrade_channel: Literal["NodeImage", "SecurityPatch", "Unmanaged", "None"] = Field(
        "NodeImage", description="node OS upgrade channel (kured only matters with Unmanaged)")
    maintenance_window: MaintenanceWindow = Field(
        default_factory=MaintenanceWindow,
        description="the weekly node OS window; AKS releases run the next day and the monthly "
                    "auto-upgrade the day after, so the three never overlap")
    auto_upgrade_week: Literal["First", "Second", "Third", "Fourth", "Last"] = Field(
        "First", description="week of the month of the monthly auto-upgrade window (dev "
                             "earlier than prod)")
    freezes: list[Freeze] = Field(default_factory=_default_freezes, max_length=20,
                                  description="change freezes (notAllowedDates)")


class Delivery(Strict):
    repository: str = Field("contoso/team-vote", pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
                            description="the delivery pipeline's GitHub repository (owner/name)")


def _default_pools() -> list[NodePool]:
    return [NodePool(name="system", count=1, mode="System"), NodePool(name="user", count=2)]


class Environment(Strict):
    environment: str = Field(pattern=r"^[a-z][a-z0-9-]{0,19}$",
                             description="environment name, e.g. local, dev, prod")
    target: Literal["local", "kind", "aks", "replay"] = Field(
        "local", description="where to run: local | kind | aks | replay")
    prefix: str = Field(pattern=r"^[a-z][a-z0-9]{1,9}$",
                        description="attendee or team prefix for derived names")
    location: str = Field("japaneast", pattern=r"^[a-z][a-z0-9]{2,30}$",
                          description="Azure region, e.g. japaneast")
    language: Literal["en", "ja"] = Field(
        "en", description="language of the text and findings: en | ja (notebooks/ja)")
    subscription_id: UUID | None = Field(
        None, description="Azure subscription (plan-only: a placeholder; aks: from az login)")
    resource_group: str | None = Field(
        None, description="resource group (default rg-<prefix>-<environment>)")
    cluster_name: str | None = Field(
        None, description="AKS cluster name (default aks-<prefix>-<environment>)")
    acr_name: str | None = Field(None, description="container registry (default acr<prefix><env>)")
    kubernetes_version: str = Field("1.36", pattern=r"^1\.\d{2}(\.\d{1,2})?$",
                                    description="Kubernetes version, e.g. 1.36")
    node_pools: list[NodePool] = Field(default_factory=_default_pools, min_length=1,
                                       description="node pools; at least one System pool")
    network: Network = Field(default_factory=Network,
                             description="CNI, policy engine, VNET, subnets and CIDRs")
    api_server: ApiServer = Field(default_factory=ApiServer,
                                  description="authorized IP ranges or a private cluster")
    egress: Egress = Field(default_factory=Egress, description="outbound type")
    entra: Entra = Field(default_factory=Entra,
                         description="Entra ID, Azure RBAC and local accounts")
    upgrades: Upgrades = Field(default_factory=Upgrades,
                               description="upgrade channels and the maintenance window")
    delivery: Delivery = Field(default_factory=Delivery,
                               description="the delivery pipeline (production write access)")
    production: bool = Field(False, description="production: destructive steps need confirmation")
    execute: bool = Field(False, description="run az for real (target aks only)")
    confirm_destructive: bool = Field(False, description="allow destructive steps in production")
    keep: bool = Field(False, description="keep what the notebooks created (skip cleanup)")
    transcript: str | None = Field(None, description="recorded transcript (target replay)")
    namespace: str | None = Field(
        None, description="the attendee's namespace: when set every namespaced step runs there "
                          "and cluster-wide steps are the trainer's demo")
    kubeconfig: str | None = Field(
        None, description="a kubeconfig file used instead of the target's own admin "
                          "credentials (local, kind, aks: e.g. an attendee's)")

    @field_validator("namespace")
    @classmethod
    def _dns_label(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", value):
            raise ValueError("must be a DNS-1123 label: 1-63 lower-case letters, digits or '-', "
                             "starting and ending with a letter or digit")
        return value

    @field_validator("resource_group", "cluster_name", "acr_name")
    @classmethod
    def _azure_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        pattern, rule = NAME_RULES[info.field_name]
        if value is not None and not re.fullmatch(pattern, value):
            raise ValueError(rule)
        return value

    @model_validator(mode="after")
    def _whole(self) -> Environment:
        problems = []
        names = [p.name for p in self.node_pools]
        if len(set(names)) != len(names):
            problems.append(("node_pools", names, "pool names must be unique"))
        if not any(p.mode == "System" for p in self.node_pools):
            problems.append(("node_pools", names, "at least one pool needs mode: System"))
        demand = subnet_demand(self.network.plugin, self.network.plugin_mode,
                               [PoolDemand(p.name, p.count, p.max_pods) for p in self.node_pools])
        subnet = self.network.node_subnet_cidr
        if demand > subnet_capacity(subnet):
            problems.append(("network.node_subnet_cidr", str(subnet),
                             f"too small for {self.network.model}: these node pools need "
                             f"{demand} addresses (a /{smallest_prefix(demand)} or larger), "
                             f"{subnet} has {subnet_capacity(subnet)}"))
        problems += self._egress_problems()
        if self.execute and self.target != "aks":
            problems.append(("execute", True, "only target 'aks' runs az for real"))
        if self.target == "replay" and not self.transcript:
            problems.append(("transcript", None, "target 'replay' needs a recorded transcript"))
        problems += self._kubeconfig_problems()
        entra = self.entra
        if self.execute and entra.disable_local_accounts and not entra.admin_group_object_ids:
            problems.append(("entra.admin_group_object_ids", [],
                             "with disable_local_accounts nobody could administer the cluster "
                             "(az aks create assigns AKS RBAC Cluster Admin to no one except "
                             "with --sku automatic): give an Entra group's object id"))
        derived = {"resource_group": self.rg, "cluster_name": self.cluster,
                   "acr_name": self.acr}
        for name, value in derived.items():
            pattern, rule = NAME_RULES[name]
            if not re.fullmatch(pattern, value):
                problems.append((name, value, f"derived from prefix and environment, but {rule}; "
                                              f"set {name} explicitly"))
        if problems:
            raise ValueError(_join(problems))
        return self

    def _kubeconfig_problems(self) -> list[tuple[str, Any, str]]:
        if self.kubeconfig is None:
            return []
        if self.target == "replay":
            return [("kubeconfig", self.kubeconfig, "target 'replay' reads its recording, not a "
                                                    "cluster: leave kubeconfig unset")]
        path = Path(self.kubeconfig).expanduser()
        if not path.is_file():
            return [("kubeconfig", self.kubeconfig, "no such file")]
        if path.stat().st_mode & 0o077:
            return [("kubeconfig", self.kubeconfig,
                     f"is readable by others (mode {path.stat().st_mode & 0o777:o}): it holds a "
                     f"token; chmod 600 it")]
        return []

    def _egress_problems(self) -> list[tuple[str, Any, str]]:
        outbound, api = self.egress.outbound_type, self.api_server
        problems = []
        if outbound == "none" and not api.private_cluster:
            problems.append(("egress.outbound_type", outbound,
                             "'none' is for network isolated clusters, which are private: set "
                             "api_server.private_cluster: true"))
        if outbound == "managedNATGateway" and api.private_cluster:
            problems.append(("egress.outbound_type", outbound,
                             "the managed NAT gateway lives in a VNET AKS creates, where the "
                             "private cluster's registry endpoint cannot be planned; use "
                             "userAssignedNATGateway or userDefinedRouting"))
        if outbound == "managedNATGateway" and api.authorized_ip_ranges:
            problems.append(("egress.outbound_type", outbound,
                             "the managed NAT gateway's egress IPs exist only after creation, "
                             "yet must be in api_server.authorized_ip_ranges; use "
                             "userAssignedNATGateway (its IP is created first)"))
        firewall_ips = self.egress.firewall_public_ips
        if firewall_ips != 1 and outbound != "userDefinedRouting":
            problems.append(("egress.firewall_public_ips", firewall_ips,
                             "only used with outbound_type userDefinedRouting (Azure Firewall)"))
        egress_ips = {"userDefinedRouting": firewall_ips, "userAssignedNATGateway": 1}
        ranges = len(api.authorized_ip_ranges)
        if ranges and ranges + egress_ips.get(outbound, 0) > MAX_AUTHORIZED_RANGES:
            problems.append(("api_server.authorized_ip_ranges", f"{ranges} ranges",
                             f"with the cluster's {egress_ips[outbound]} egress IP(s) added "
                             f"they exceed AKS's limit of {MAX_AUTHORIZED_RANGES}"))
        return problems

    # Derived names: given values win, else built from the prefix and the environment.
    @property
    def rg(self) -> str:
        return self.resource_group or f"rg-{self.prefix}-{self.environment}"

    @property
    def cluster(self) -> str:
        return self.cluster_name or f"aks-{self.prefix}-{self.environment}"

    @property
    def acr(self) -> str:
        return self.acr_name or re.sub(r"[^a-z0-9]", "", f"acr{self.prefix}{self.environment}")

    @property
    def plan_only(self) -> bool:
        """Azure steps are shown as a validated plan rather than executed."""
        return not (self.target == "aks" and self.execute)


def _join(problems: list[tuple[str, Any, str]], prefix: str = "") -> str:
    lines = []
    for name, value, rule in problems:
        full = f"{prefix}.{name}" if prefix else name
        lines.append(f"{full} = {value!r}: {rule}")
    return "\n".join(lines)


def fields() -> dict[str, Any]:
    """Top-level parameter names with their pydantic field info, in declaration order."""
    return dict(Environment.model_fields)


def _explain(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"])
        if item["type"] == "extra_forbidden":
            name = loc.split(".")[-1]
            if SECRET_NAME.search(name):
                lines.append(f"{loc}: secrets are never parameters; set it in the process "
                             f"environment or use `az login`")
            else:
                known = ", ".join(_known_names(item["loc"]))
                lines.append(f"{loc}: unknown parameter; known parameters here: {known}")
            continue
        if item["type"] == "value_error":
            message = str(item.get("ctx", {}).get("error", item["msg"]))
            if " = " not in message:  # a field's own rule: name the value here
                lines.append(f"{loc} = {item['input']!r}: {message}")
                continue
            for line in message.splitlines():  # a model's rules: they name their fields
                lines.append(f"{loc + '.' if loc and not line.startswith(loc) else ''}{line}")
            continue
        message = item["msg"]
        if item["type"] == "string_pattern_mismatch":
            field = _model_at(item["loc"]).model_fields.get(str(item["loc"][-1]))
            message = f"must be {field.description}" if field else message
        lines.append(f"{loc} = {item['input']!r}: {message}")
    return "Invalid parameters:\n  " + "\n  ".join(lines)


def _model_at(loc: tuple) -> type[BaseModel]:
    """The model that holds the last element of an error location."""
    model: type[BaseModel] = Environment
    for part in loc[:-1]:
        if isinstance(part, int) or part not in model.model_fields:
            continue
        annotation = model.model_fields[part].annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            model = inner
    return model


def _known_names(loc: tuple) -> list[str]:
    return list(_model_at(loc).model_fields)


def read_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParameterError(f"environment file not found: {path}") from None
    except yaml.YAMLError as error:
        raise ParameterError(f"environment file {path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"environment file {path} must be a mapping of parameter: value")
    return data


def load(source: str | Path | dict[str, Any], overrides: dict[str, Any] | None = None
         ) -> Environment:
    """Validate parameters from a YAML file or a mapping, with `-p name=value` overrides."""
    given = dict(source) if isinstance(source, dict) else read_file(source)
    given.update(overrides or {})
    try:
        return Environment.model_validate(given)
    except ValidationError as error:
        raise ParameterError(_explain(error)) from None


def parse_override(text: str) -> tuple[str, Any]:
    """`name=value` from the command line; the value is parsed as YAML (so 3 is an int)."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ParameterError(f"-p {text!r}: expected name=value")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    return name.strip(), value


def to_papermill(env: Environment) -> dict[str, Any]:
    """Plain JSON-able values for papermill's injected cell (only what was set or derived)."""
    return env.model_dump(mode="json")
