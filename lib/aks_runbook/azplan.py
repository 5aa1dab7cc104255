"""The az steps each chapter needs, for given parameters, in the order they must run.

A step is one az line with a one-line reason. Values only Azure knows (the subscription, the
firewall's private and public IPs, the identity's principal id) appear as $PLACEHOLDERS, each
read by an az query: the sh format assigns them to variables before their first use, execution
resolves them through the runner, and validation substitutes documentation-range samples.

The design follows the AKS documentation of 2026 (egress through Azure Firewall, a registry the
firewall can allow exactly, rights for the cluster identity before the cluster exists, a private
registry and an operator path for private clusters); checks.plan judges a plan against it.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import asdict, dataclass, field, replace
from ipaddress import IPv4Address

from aks_runbook.azvalidate import Validation, validate
from aks_runbook.params import Environment
from aks_runbook.progress import bar
from aks_runbook.runner import Runner, StepFailed

CHAPTERS = ("01-overview", "02-network", "03-auth", "04-maintenance")
PRODUCTION_FIREWALL_IPS = 20  # "Limit network traffic with Azure Firewall in AKS": production
# Chapter 03's application team: its namespace, its workload's service account and its Entra ID
# groups (tenant-wide, shared by every environment, as a team's groups are).
TEAM_NAMESPACE = "team-vote"
WORKLOAD_SERVICE_ACCOUNT = "vote-app"
TEAM_GROUPS = {"developers": "team-vote-developers", "viewers": "team-vote-viewers"}
WORKLOAD_AUDIENCE = "api://AzureADTokenExchange"
# What each upgrade channel does (AKS docs: "Automatically upgrade an Azure Kubernetes Service
# (AKS) cluster", "Autoupgrade Node OS Images in Azure Kubernetes Service (AKS)"; azure-cli 2.91).
UPGRADE_CHANNELS = {
    "none": "no automatic Kubernetes upgrades (the default on Standard): you run az aks upgrade; "
            "AKS still upgrades a cluster about to fall out of support (N-3 to N-2)",
    "patch": "the latest patch of your minor version, as soon as it is available (the portal's "
             "recommendation)",
    "stable": "the latest patch of minor N-1 (N = the newest supported minor); AKS Automatic "
              "is fixed to it",
    "rapid": "the latest patch of the newest supported minor",
    "node-image": "legacy: node images only; forces the node OS channel NodeImage and locks it",
}
NODE_OS_CHANNELS = {
    "NodeImage": "a new node image (OS patches included) weekly, rolled out like an upgrade: "
                 "surge, cordon, drain, reimage; the default on Standard, fixed on Automatic",
    "SecurityPatch": "security patches applied to the running nodes' image and reimaged in "
                     "place (not on Windows; nodes fetch from snapshot.ubuntu.com)",
    "Unmanaged": "the OS updates itself (unattended-upgrades, about 06:00 UTC) and AKS never "
                 "reboots: kured must reboot the nodes (on Windows: same as None)",
    "None": "nothing: no OS updates at all until you upgrade the node image yourself",
}
MAINTENANCE_CONFIGURATIONS = {
    "default": "AKS's weekly releases: control plane and add-ons (Weekly only, no "
               "--interval-weeks: the interval is always one week)",
    "aksManagedAutoUpgradeSchedule": "the cluster's auto-upgrade channel (Kubernetes versions)",
    "aksManagedNodeOSUpgradeSchedule": "the node OS upgrade channel (node images or patches)",
}


@dataclass(frozen=True)
class Placeholder:
    name: str
    lookup: str  # az command printing the value (tsv)
    sample: str  # value used for offline validation only


@dataclass(frozen=True)
class Step:
    id: str
    chapter: str
    phase: str  # provision | operate | cleanup
    reason: str
    command: str
    destructive: bool = False
    exists: str | None = None  # az command that succeeds when the step's result already exists
    validation: Validation | None = field(default=None, compare=False)

    @property
    def placeholders(self) -> list[str]:
        return list(dict.fromkeys(PLACEHOLDER.findall(self.command)))


PLACEHOLDER = re.compile(r"\$([A-Z][A-Z0-9_]*)")


def fill(command: str, values: dict[str, str]) -> str:
    """The command with $NAME replaced by values[NAME] (whole names only: $A never eats $A_2)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), command)


def _az(*parts: object) -> str:
    """Join an az command, quoting values but leaving $PLACEHOLDERS for the shell."""
    out = []
    for part in parts:
        if part is None or part is False:
            continue
        text = str(part)
        out.append(text if text.startswith("$") or "/$" in text or ",$" in text
                   else shlex.quote(text))
    return " ".join(out)


def placeholders(env: Environment) -> dict[str, Placeholder]:
    """Values only Azure knows, each read by an az query (never guessed, never hard-coded)."""
    n, rg = _names(env), env.rg
    holders = [
        Placeholder("SUBSCRIPTION_ID", "az account show --query id -o tsv",
                    "00000000-0000-0000-0000-000000000000"),
        Placeholder("KUBECONFIG", 'echo "${KUBECONFIG:-$HOME/.kube/config}"',
                    "/tmp/aks-kubeconfig"),
        Placeholder("IDENTITY_PRINCIPAL_ID",
                    _az("az", "identity", "show", "--resource-group", rg, "--name",
                        n["identity"], "--query", "principalId", "-o", "tsv"),
                    "11111111-1111-1111-1111-111111111111"),
        Placeholder("FIREWALL_PRIVATE_IP",
                    _az("az", "network", "firewall", "show", "--resource-group", rg, "--name",
                        n["firewall"], "--query", "ipConfigurations[0].privateIPAddress",
                        "-o", "tsv"),
                    str(env.network.firewall_subnet_cidr.network_address + 4)),
        Placeholder("NAT_PUBLIC_IP", _public_ip(rg, n["nat_ip"]), "20.48.0.40"),
        Placeholder("API_SERVER_FQDN",
                    _az("az", "aks", "show", "--resource-group", rg, "--name", env.cluster,
                        "--query", "fqdn", "-o", "tsv"),
                    f"{env.cluster}-00000000.hcp.{env.location}.azmk8s.io"),
    ]
    holders += [
        Placeholder("KUBELET_OBJECT_ID",
                    _az("az", "aks", "show", "--resource-group", rg, "--name", env.cluster,
                        "--query", "identityProfile.kubeletidentity.objectId", "-o", "tsv"),
                    "22222222-2222-2222-2222-222222222222"),
        Placeholder("OIDC_ISSUER",
                    _az("az", "aks", "show", "--resource-group", rg, "--name", env.cluster,
                        "--query", "oidcIssuerProfile.issuerUrl", "-o", "tsv"),
                    f"https://{env.location}.oic.prod-aks.azure.com/"
                    "00000000-0000-0000-0000-000000000000/33333333-3333-3333-3333-333333333333/"),
        Placeholder("WORKLOAD_PRINCIPAL_ID",
                    _az("az", "identity", "show", "--resource-group", rg, "--name",
                        n["workload_identity"], "--query", "principalId", "-o", "tsv"),
                    "44444444-4444-4444-4444-444444444444"),
        *(Placeholder(f"{role.upper()}_GROUP_ID",
                      _az("az", "ad", "group", "show", "--group", group, "--query", "id",
                          "-o", "tsv"),
                      f"5555555{i}-5555-5555-5555-555555555555")
          for i, (role, group) in enumerate(TEAM_GROUPS.items())),
    ]
    for number in range(1, env.egress.firewall_public_ips + 1):
        holders.append(Placeholder(_firewall_ip_var(number),
                                   _public_ip(rg, _firewall_ip_name(env, number)),
                                   str(IPv4Address("20.48.0.10") + number - 1)))
    return {h.name: h for h in holders}


def _public_ip(rg: str, name: str) -> str:
    return _az("az", "network", "public-ip", "show", "--resource-group", rg, "--name", name,
               "--query", "ipAddress", "-o", "tsv")


def _firewall_ip_var(number: int) -> str:
    return "FIREWALL_PUBLIC_IP" if number == 1 else f"FIREWALL_PUBLIC_IP_{number}"


def _firewall_ip_name(env: Environment, number: int) -> str:
    return f"pip-fw-{env.cluster}" + ("" if number == 1 else f"-{number}")


def _names(env: Environment) -> dict[str, str]:
    return {
        "vnet": f"vnet-{env.cluster}",
        "node_subnet": "snet-nodes",
        "endpoint_subnet": "snet-endpoints",
        "firewall": f"fw-{env.cluster}",
        "route_table": f"rt-{env.cluster}",
        "identity": f"id-{env.cluster}",
        "nat_gateway": f"ng-{env.cluster}",
        "nat_ip": f"pip-ng-{env.cluster}",
        "registry_endpoint": f"pe-{env.acr}",
        "workload_identity": f"id-{env.cluster}-{WORKLOAD_SERVICE_ACCOUNT}",
        "key_vault": key_vault_name(env),
    }


def key_vault_name(env: Environment) -> str:
    """kv-<prefix>-<environment>, within Key Vault's rule: 3-24 letters, digits and single
    hyphens, starting with a letter and ending with a letter or digit."""
    return re.sub(r"-+", "-", f"kv-{env.prefix}-{env.environment}")[:24].rstrip("-")


@dataclass(frozen=True)
class Shape:
    """The design decisions the parameters imply (what the plan builds, not what it checks)."""

    udr: bool  # egress through Azure Firewall
    nat_gateway: bool  # egress through a NAT gateway you create
    own_vnet: bool  # a VNet you create (every outbound type but managedNATGateway)
    private_registry: bool  # registry reached over a private endpoint, public access off
    registry_sku: str

    @property
    def registry_through_firewall(self) -> bool:
        return self.udr and not self.private_registry


def shape(env: Environment) -> Shape:
    outbound, private = env.egress.outbound_type, env.api_server.private_cluster
    udr = outbound == "userDefinedRouting"
    return Shape(udr=udr, nat_gateway=outbound == "userAssignedNATGateway",
                 own_vnet=outbound != "managedNATGateway", private_registry=private,
                 registry_sku="Premium" if udr or private else "Standard")


REGISTRY_ZONE = "privatelink.azurecr.io"

# Outbound network and FQDN rules for AKS clusters (AKS docs, 2026): what a firewall other than
# Azure Firewall needs; Azure Firewall gets them through the AzureKubernetesService FQDN tag.
REQUIRED_FQDNS = (
    ("*.hcp.{region}.azmk8s.io", "HTTPS:443",
     "node <-> API server (konnectivity); not needed by private clusters"),
    ("mcr.microsoft.com", "HTTPS:443", "Microsoft Container Registry: AKS's own images"),
    ("*.data.mcr.microsoft.com", "HTTPS:443", "MCR storage behind the CDN"),
    ("mcr-0001.mcr-msedge.net", "HTTPS:443", "MCR storage behind the CDN"),
    ("management.azure.com", "HTTPS:443", "Kubernetes operations against the Azure API"),
    ("login.microsoftonline.com", "HTTPS:443", "Microsoft Entra authentication"),
    ("packages.microsoft.com", "HTTPS:443", "Microsoft packages (cached apt-get)"),
    ("acs-mirror.azureedge.net", "HTTPS:443", "Kubernetes and Azure CNI binaries"),
    ("packages.aks.azure.com", "HTTPS:443",
     "Kubernetes and Azure CNI binaries (replacing acs-mirror.azureedge.net)"),
)


def os_update_fqdns(channel: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(protocols, FQDNs) the nodes fetch OS updates from, for a node OS upgrade channel."""
    if channel == "SecurityPatch":  # patches come from Ubuntu's snapshot service
        return ("https=443",), ("snapshot.ubuntu.com",)
    if channel == "Unmanaged":  # unattended-upgrades on the node
        return ("http=80",), ("security.ubuntu.com", "azure.archive.ubuntu.com",
                              "changelogs.ubuntu.com")
    return (), ()  # NodeImage / None: updates arrive as new node images


def registry_fqdns(env: Environment) -> tuple[str, str]:
    """The registry's login server and its dedicated data endpoint (Premium, when enabled)."""
    return f"{env.acr}.azurecr.io", f"{env.acr}.{env.location}.data.azurecr.io"


@dataclass(frozen=True)
class NetworkRule:
    name: str
    protocol: str
    port: str
    destination: str
    needed: bool
    reason: str

    @property
    def fqdn(self) -> bool:
        return not self.destination.startswith("AzureCloud.") and not self.destination[0].isdigit()


def network_rules(env: Environment) -> list[NetworkRule]:
    """The network (non-HTTP) rules the docs list, each with whether this design needs it."""
    private = env.api_server.private_cluster
    region = f"AzureCloud.{env.location}"
    tunnel = ("legacy tunnel only: new clusters use konnectivity over "
              f"*.hcp.{env.location}.azmk8s.io:443 (in the FQDN tag); never for private clusters")
    return [
        NetworkRule("apiserver-tcp-443", "TCP", "443", "$API_SERVER_FQDN", not private,
                    "private cluster: the API server is a private endpoint in the VNet"
                    if private else
                    "pods that call the API server by its IP (KUBERNETES_SERVICE_HOST), e.g. an "
                    "ingress controller; AKS injects the FQDN only in kube-system and "
                    "gatekeeper-system"),
        NetworkRule("tunnel-udp-1194", "UDP", "1194", region, False, tunnel),
        NetworkRule("tunnel-tcp-9000", "TCP", "9000", region, False, tunnel),
        NetworkRule("ntp-udp-123", "UDP", "123", "ntp.ubuntu.com", False,
                    "NTP: not needed by nodes provisioned after March 2021"),
    ]


def _ids(env: Environment) -> dict[str, str]:
    n = _names(env)
    sub = str(env.subscription_id) if env.subscription_id else "$SUBSCRIPTION_ID"
    group = f"/subscriptions/{sub}/resourceGroups/{env.rg}/providers"
    return {
        "subnet": f"{group}/Microsoft.Network/virtualNetworks/{n['vnet']}/subnets/"
                  f"{n['node_subnet']}",
        "route_table": f"{group}/Microsoft.Network/routeTables/{n['route_table']}",
        "identity": f"{group}/Microsoft.ManagedIdentity/userAssignedIdentities/{n['identity']}",
        "registry": f"{group}/Microsoft.ContainerRegistry/registries/{env.acr}",
        "cluster": f"{group}/Microsoft.ContainerService/managedClusters/{env.cluster}",
        "key_vault": f"{group}/Microsoft.KeyVault/vaults/{n['key_vault']}",
    }


def build(env: Environment) -> list[Step]:
    s, n, ids = shape(env), _names(env), _ids(env)
    net, rg, loc = env.network, env.rg, env.location
    steps = [
        Step("resource-group", "01-overview", "provision",
             "One resource group holds everything this environment creates (and deletes).",
             _az("az", "group", "create", "--name", rg, "--location", loc)),
    ]
    if s.own_vnet:
        steps.append(Step(
            "vnet", "02-network", "provision",
            "A VNET of its own (reached over Private Link) rather than a shared VDC: saves "
            "address space and isolates the cluster.",
            _az("az", "network", "vnet", "create", "--resource-group", rg, "--name", n["vnet"],
                "--location", loc, "--address-prefixes", net.vnet_cidr,
                "--subnet-name", n["node_subnet"], "--subnet-prefixes", net.node_subnet_cidr)))
    if s.own_vnet and s.private_registry:
        steps.append(Step(
            "endpoint-subnet", "02-network", "provision",
            "A subnet for private endpoints (the registry's), apart from the nodes.",
            _az("az", "network", "vnet", "subnet", "create", "--resource-group", rg,
                "--vnet-name", n["vnet"], "--name", n["endpoint_subnet"],
                "--address-prefixes", net.endpoint_subnet_cidr)))
    steps.append(Step(
        "identity", "02-network", "provision",
        "The control plane's user-assigned managed identity: no secret to rotate, and it "
        "exists before the cluster, so it can be granted rights on your network first.",
        _az("az", "identity", "create", "--resource-group", rg, "--name", n["identity"],
            "--location", loc)))
    if s.udr:
        steps += _firewall_steps(env, n)
    if s.nat_gateway:
        steps += _nat_gateway_steps(env, n)
    if s.own_vnet:
        steps += _role_steps(ids, s)
    steps += _registry_steps(env, n, ids, s)
    steps.append(Step(
        "aks-create", "01-overview", "provision",
        "The cluster, with every security setting of the later chapters at creation time.",
        _aks_create(env, ids, s),
        exists=_az("az", "aks", "show", "--resource-group", rg, "--name", env.cluster)))
    for pool in env.node_pools[1:]:
        steps.append(Step(
            f"nodepool-{pool.name}", "01-overview", "provision",
            f"{pool.mode} pool '{pool.name}': applications run on user pools, off the system "
            f"pool.",
            _az("az", "aks", "nodepool", "add", "--resource-group", rg, "--cluster-name",
                env.cluster, "--name", pool.name, "--node-count", pool.count,
                "--node-vm-size", pool.vm_size, "--mode", pool.mode, "--max-pods",
                pool.max_pods),
            exists=_az("az", "aks", "nodepool", "show", "--resource-group", rg,
                       "--cluster-name", env.cluster, "--name", pool.name)))
    if s.udr:
        steps += _network_rule_steps(env, n)
    steps.append(Step(
        "credentials", "03-auth", "provision",
        "User credentials (Entra ID, through kubelogin); with local accounts disabled, "
        "`--admin` fails by design.",
        _az("az", "aks", "get-credentials", "--resource-group", rg, "--name", env.cluster,
            "--format", "exec", "--file", "$KUBECONFIG", "--overwrite-existing")))
    if env.api_server.private_cluster:
        steps.append(Step(
            "operator-path", "02-network", "operate",
            "The way in to a private API server: command invoke runs kubectl in a pod of the "
            "cluster through Azure Resource Manager (needs the runcommand/action right); for "
            "daily work use a jump box or Bastion in the VNET.",
            _az("az", "aks", "command", "invoke", "--resource-group", rg, "--name",
                env.cluster, "--command", "kubectl get nodes")))
    steps += _auth_steps(env, n, ids)
    steps += [
        *_maintenance_steps(env),
        Step("upgrade-profile", "04-maintenance", "operate",
             "Verify: the Kubernetes version, the two upgrade channels and each pool's version "
             "and node image.",
             _az("az", "aks", "show", "--resource-group", rg, "--name", env.cluster, "--query",
                 "{kubernetesVersion: currentKubernetesVersion, channels: autoUpgradeProfile, "
                 "pools: agentPoolProfiles[].{name: name, version: currentOrchestratorVersion, "
                 "nodeImage: nodeImageVersion, maxSurge: upgradeSettings.maxSurge}}",
                 "--output", "json")),
        Step("maintenance-list", "04-maintenance", "operate",
             "Verify: the planned maintenance windows in place.",
             _az("az", "aks", "maintenanceconfiguration", "list", "--resource-group", rg,
                 "--cluster-name", env.cluster, "--output", "table")),
        Step("upgrades", "04-maintenance", "operate",
             "Which Kubernetes versions this cluster can move to.",
             _az("az", "aks", "get-upgrades", "--resource-group", rg, "--name", env.cluster,
                 "--output", "table")),
        *(Step(f"node-image-version-{pool.name}", "04-maintenance", "operate",
               f"Pool '{pool.name}': its node image and the latest one available "
               f"(latestNodeImageVersion).",
               _az("az", "aks", "nodepool", "get-upgrades", "--resource-group", rg,
                   "--cluster-name", env.cluster, "--nodepool-name", pool.name,
                   "--output", "table"))
          for pool in env.node_pools),
        *_upgrade_settings_steps(env),
        Step("node-image-upgrade", "04-maintenance", "operate",
             "Roll the latest node image (security patches) onto the user pool, node by node "
             "within the PodDisruptionBudgets.",
             _az("az", "aks", "nodepool", "upgrade", "--resource-group", rg, "--cluster-name",
                 env.cluster, "--name", env.node_pools[-1].name, "--node-image-only",
                 "--yes"),
             destructive=True),
        Step("cleanup", "04-maintenance", "cleanup",
             "Delete the resource group and everything in it.",
             _az("az", "group", "delete", "--name", rg, "--yes"), destructive=True),
    ]
    return steps


def _firewall_steps(env: Environment, n: dict[str, str]) -> list[Step]:
    net, rg, loc = env.network, env.rg, env.location
    fw = ("--resource-group", rg, "--firewall-name", n["firewall"])
    nodes = str(net.node_subnet_cidr)
    count = env.egress.firewall_public_ips
    steps = [
        Step("firewall-extension", "02-network", "provision",
             "Azure Firewall's commands come from an az extension (not part of core az).",
             _az("az", "extension", "add", "--name", "azure-firewall", "--upgrade")),
        Step("firewall-subnet", "02-network", "provision",
             "Azure Firewall needs its own subnet named AzureFirewallSubnet.",
             _az("az", "network", "vnet", "subnet", "create", "--resource-group", rg,
                 "--vnet-name", n["vnet"], "--name", "AzureFirewallSubnet",
                 "--address-prefixes", net.firewall_subnet_cidr)),
    ]
    for number in range(1, count + 1):
        steps.append(Step(
            f"firewall-ip-{number}", "02-network", "provision",
            f"Firewall frontend public IP {number} of {count}: egress leaves through these "
            f"(each adds SNAT ports; production wants at least {PRODUCTION_FIREWALL_IPS}).",
            _az("az", "network", "public-ip", "create", "--resource-group", rg, "--name",
                _firewall_ip_name(env, number), "--location", loc, "--sku", "Standard")))
    steps.append(Step(
        "firewall", "02-network", "provision",
        "Egress lockdown (出力経路の制限): one firewall sees and filters all outbound traffic "
        "(DNS proxy on: FQDNs in network rules need it).",
        _az("az", "network", "firewall", "create", "--resource-group", rg, "--name",
            n["firewall"], "--location", loc, "--enable-dns-proxy", "true")))
    for number in range(1, count + 1):
        first = number == 1
        steps.append(Step(
            f"firewall-ipconfig-{number}", "02-network", "provision",
            "Attach the firewall to its subnet and first public IP." if first else
            f"Add frontend public IP {number} to the firewall.",
            _az("az", "network", "firewall", "ip-config", "create", *fw, "--name",
                f"fw-ipconfig-{number}", "--public-ip-address", _firewall_ip_name(env, number),
                *(("--vnet-name", n["vnet"]) if first else ()))))
    steps.append(Step(
        "firewall-aks-rule", "02-network", "provision",
        "Application rule: what AKS itself needs, through the FQDN tag AzureKubernetesService "
        "(Microsoft keeps it equal to the documented FQDN list).",
        _az("az", "network", "firewall", "application-rule", "create", *fw,
            "--collection-name", "aks-required", "--name", "aks-fqdn-tag", "--action", "Allow",
            "--priority", "100", "--source-addresses", nodes, "--protocols", "http=80",
            "https=443", "--fqdn-tags", "AzureKubernetesService")))
    protocols, fqdns = os_update_fqdns(env.upgrades.node_os_upgrade_channel)
    if fqdns:
        steps.append(Step(
            "firewall-os-updates-rule", "02-network", "provision",
            f"Application rule: node OS updates for the {env.upgrades.node_os_upgrade_channel} "
            f"channel ({', '.join(fqdns)}).",
            _az("az", "network", "firewall", "application-rule", "create", *fw,
                "--collection-name", "aks-os-updates", "--name", "ubuntu", "--action", "Allow",
                "--priority", "110", "--source-addresses", nodes, "--protocols", *protocols,
                "--target-fqdns", *fqdns)))
    if shape(env).registry_through_firewall:
        steps.append(Step(
            "firewall-registry-rule", "02-network", "provision",
            "Application rule: your registry's login server and its dedicated data endpoint "
            "(image layers come from there, not from *.blob.core.windows.net).",
            _az("az", "network", "firewall", "application-rule", "create", *fw,
                "--collection-name", "aks-registry", "--name", "acr", "--action", "Allow",
                "--priority", "120", "--source-addresses", nodes, "--protocols", "https=443",
                "--target-fqdns", *registry_fqdns(env))))
    steps += [
        Step("route-table", "02-network", "provision",
             "A route table for the node subnet.",
             _az("az", "network", "route-table", "create", "--resource-group", rg, "--name",
                 n["route_table"], "--location", loc)),
        Step("route-default", "02-network", "provision",
             "Send 0.0.0.0/0 to the firewall's private IP, read from the firewall itself.",
             _az("az", "network", "route-table", "route", "create", "--resource-group", rg,
                 "--route-table-name", n["route_table"], "--name", "default-via-firewall",
                 "--address-prefix", "0.0.0.0/0", "--next-hop-type", "VirtualAppliance",
                 "--next-hop-ip-address", "$FIREWALL_PRIVATE_IP")),
        Step("route-firewall-ip", "02-network", "provision",
             "Send the firewall's own public IP straight to the Internet: replies to traffic "
             "that came in on it (DNAT) must not loop through the firewall's private side "
             "(asymmetric routing otherwise).",
             _az("az", "network", "route-table", "route", "create", "--resource-group", rg,
                 "--route-table-name", n["route_table"], "--name", "firewall-ip-internet",
                 "--address-prefix", "$FIREWALL_PUBLIC_IP/32", "--next-hop-type", "Internet")),
        Step("route-table-attach", "02-network", "provision",
             "Attach the route table to the node subnet (required before "
             "--outbound-type userDefinedRouting).",
             _az("az", "network", "vnet", "subnet", "update", "--resource-group", rg,
                 "--vnet-name", n["vnet"], "--name", n["node_subnet"], "--route-table",
                 n["route_table"])),
    ]
    return steps


def _network_rule_steps(env: Environment, n: dict[str, str]) -> list[Step]:
    """Network rules, one protocol and one reason each (after the cluster: the API server's
    FQDN exists only then)."""
    fw = ("--resource-group", env.rg, "--firewall-name", n["firewall"])
    steps = []
    for priority, rule in enumerate((r for r in network_rules(env) if r.needed), 200):
        target = "--destination-fqdns" if rule.fqdn else "--destination-addresses"
        steps.append(Step(
            f"firewall-{rule.name}", "02-network", "provision",
            f"Network rule {rule.protocol} {rule.port}: {rule.reason}.",
            _az("az", "network", "firewall", "network-rule", "create", *fw,
                "--collection-name", f"aks-{rule.name}", "--name", rule.name, "--action",
                "Allow", "--priority", priority, "--protocols", rule.protocol,
                "--source-addresses", env.network.node_subnet_cidr, target, rule.destination,
                "--destination-ports", rule.port)))
    return steps


def _nat_gateway_steps(env: Environment, n: dict[str, str]) -> list[Step]:
    rg, loc = env.rg, env.location
    return [
        Step("nat-ip", "02-network", "provision",
             "The NAT gateway's public IP: all egress leaves from it (64,512 SNAT ports).",
             _az("az", "network", "public-ip", "create", "--resource-group", rg, "--name",
                 n["nat_ip"], "--location", loc, "--sku", "Standard")),
        Step("nat-gateway", "02-network", "provision",
             "A NAT gateway you own (userAssignedNATGateway): scalable egress, no filtering.",
             _az("az", "network", "nat", "gateway", "create", "--resource-group", rg, "--name",
                 n["nat_gateway"], "--location", loc, "--public-ip-addresses", n["nat_ip"],
                 "--idle-timeout", "4")),
        Step("nat-gateway-attach", "02-network", "provision",
             "Associate the NAT gateway with the node subnet before az aks create.",
             _az("az", "network", "vnet", "subnet", "update", "--resource-group", rg,
                 "--vnet-name", n["vnet"], "--name", n["node_subnet"], "--nat-gateway",
                 n["nat_gateway"])),
    ]


def _role_steps(ids: dict[str, str], s: Shape) -> list[Step]:
    scopes = [("role-subnet", "the node subnet (join and read it)", ids["subnet"])]
    if s.udr:
        scopes.append(("role-route-table", "the route table (read and write its routes)",
                       ids["route_table"]))
    return [Step(step_id, "02-network", "provision",
                 f"Network Contributor for the cluster identity on {what}, granted before "
                 f"az aks create (a narrower custom role works too).",
                 _az("az", "role", "assignment", "create", "--assignee-object-id",
                     "$IDENTITY_PRINCIPAL_ID", "--assignee-principal-type", "ServicePrincipal",
                     "--role", "Network Contributor", "--scope", scope))
            for step_id, what, scope in scopes]


def _registry_steps(env: Environment, n: dict[str, str], ids: dict[str, str],
                    s: Shape) -> list[Step]:
    rg, loc = env.rg, env.location
    args: list[object] = ["az", "acr", "create", "--resource-group", rg, "--name", env.acr,
                          "--location", loc, "--sku", s.registry_sku, "--admin-enabled", "false"]
    if s.registry_sku == "Premium":
        args += ["--data-endpoint-enabled", "true"]
    if s.private_registry:
        args += ["--public-network-enabled", "false"]
        why = ("Premium with a private endpoint, public access off: a private cluster pulls "
               "over the VNET")
    elif s.udr:
        why = ("Premium with a dedicated data endpoint, so the firewall can allow exactly this "
               "registry's layers")
    else:
        why = "Standard is enough without an egress firewall"
    steps = [Step("acr", "01-overview", "provision",
                  f"Your private images live in ACR (MCR serves AKS's own); no admin user: AKS "
                  f"pulls with its kubelet identity. {why}.",
                  _az(*args),
                  exists=_az("az", "acr", "show", "--resource-group", rg, "--name", env.acr))]
    if not s.private_registry:
        return steps
    return steps + [
        Step("registry-dns-zone", "02-network", "provision",
             f"The private DNS zone {REGISTRY_ZONE}: the registry's names resolve to its "
             f"private endpoint.",
             _az("az", "network", "private-dns", "zone", "create", "--resource-group", rg,
                 "--name", REGISTRY_ZONE)),
        Step("registry-dns-link", "02-network", "provision",
             "Link the zone to the cluster's VNET so the nodes use it.",
             _az("az", "network", "private-dns", "link", "vnet", "create", "--resource-group",
                 rg, "--zone-name", REGISTRY_ZONE, "--name", f"link-{n['vnet']}",
                 "--virtual-network", n["vnet"], "--registration-enabled", "false")),
        Step("registry-endpoint", "02-network", "provision",
             "The registry's private endpoint (group id registry: login server and data "
             "endpoint) in the endpoint subnet.",
             _az("az", "network", "private-endpoint", "create", "--resource-group", rg,
                 "--name", n["registry_endpoint"], "--location", loc, "--vnet-name", n["vnet"],
                 "--subnet", n["endpoint_subnet"], "--private-connection-resource-id",
                 ids["registry"], "--group-id", "registry", "--connection-name", "registry")),
        Step("registry-endpoint-dns", "02-network", "provision",
             "Let the endpoint write its A records (login server and data endpoint) into the "
             "zone.",
             _az("az", "network", "private-endpoint", "dns-zone-group", "create",
                 "--resource-group", rg, "--endpoint-name", n["registry_endpoint"], "--name",
                 "registry", "--private-dns-zone", REGISTRY_ZONE, "--zone-name", "registry")),
    ]


def _aks_create(env: Environment, ids: dict[str, str], s: Shape) -> str:
    net, api, entra, up = env.network, env.api_server, env.entra, env.upgrades
    system = next(p for p in env.node_pools if p.mode == "System")
    ranges = [str(r) for r in api.authorized_ip_ranges]
    if ranges:  # the cluster's own egress address must reach the API server too
        ranges += [f"${name}/32" for name in egress_ip_placeholders(env)]
    args: list[object] = [
        "az", "aks", "create", "--resource-group", env.rg, "--name", env.cluster,
        "--location", env.location, "--kubernetes-version", env.kubernetes_version,
        "--tier", "standard" if env.production else "free",
        "--nodepool-name", system.name, "--node-count", system.count,
        "--node-vm-size", system.vm_size, "--max-pods", system.max_pods,
        "--nodepool-taints", "CriticalAddonsOnly=true:NoSchedule",
        "--network-plugin", net.plugin,
    ]
    if net.plugin_mode:
        args += ["--network-plugin-mode", net.plugin_mode]
    if net.plugin == "azure":
        args += ["--network-dataplane", net.dataplane]
    args += ["--network-policy", net.policy]
    if net.uses_pod_cidr:
        args += ["--pod-cidr", net.pod_cidr]
    args += ["--service-cidr", net.service_cidr, "--dns-service-ip", net.dns_service_ip]
    if s.own_vnet:
        args += ["--vnet-subnet-id", ids["subnet"]]
    args += ["--outbound-type", env.egress.outbound_type]
    if env.egress.outbound_type == "none":  # network isolated: AKS's images from a private ACR
        args += ["--bootstrap-artifact-source", "Cache"]
    if api.private_cluster:
        args += ["--enable-private-cluster"]
    elif ranges:
        args += ["--api-server-authorized-ip-ranges", ",".join(ranges)]
    args += ["--enable-managed-identity", "--assign-identity", ids["identity"]]
    if entra.enabled:
        args += ["--enable-aad"]
        if entra.admin_group_object_ids:
            args += ["--aad-admin-group-object-ids",
                     ",".join(str(g) for g in entra.admin_group_object_ids)]
        if entra.azure_rbac:
            args += ["--enable-azure-rbac"]
        if entra.disable_local_accounts:
            args += ["--disable-local-accounts"]
    args += ["--attach-acr", env.acr, "--enable-oidc-issuer", "--enable-workload-identity",
             "--enable-addons", "azure-keyvault-secrets-provider,azure-policy",
             "--enable-secret-rotation",
             "--auto-upgrade-channel", up.auto_upgrade_channel,
             "--node-os-upgrade-channel", up.node_os_upgrade_channel,
             "--no-ssh-key"]
    return _az(*args)


def egress_ip_placeholders(env: Environment) -> list[str]:
    """The placeholders of the cluster's egress addresses known before it exists."""
    if env.egress.outbound_type == "userDefinedRouting":
        return [_firewall_ip_var(i) for i in range(1, env.egress.firewall_public_ips + 1)]
    if env.egress.outbound_type == "userAssignedNATGateway":
        return ["NAT_PUBLIC_IP"]
    return []  # loadBalancer: AKS adds its outbound IP itself


def _maintenance_steps(env: Environment) -> list[Step]:
    """The three maintenance configurations azure-cli accepts, each in the weekly window."""
    window = env.upgrades.maintenance_window
    steps = []
    for config, what in MAINTENANCE_CONFIGURATIONS.items():
        # `default` rejects --interval-weeks in azure-cli 2.91 ("the interval is always 1 week")
        interval = () if config == "default" else ("--interval-weeks", "1")
        steps.append(Step(
            f"maintenance-{config}", "04-maintenance", "provision",
            f"Planned maintenance window '{config}': {what.split(' (')[0]}, only "
            f"{window.day_of_week}s from {window.start_time} for {window.duration_hours} h "
            f"(UTC{window.utc_offset}).",
            _az("az", "aks", "maintenanceconfiguration", "add", "--resource-group", env.rg,
                "--cluster-name", env.cluster, "--name", config, "--schedule-type", "Weekly",
                "--day-of-week", window.day_of_week, *interval,
                "--start-time", window.start_time, "--duration", window.duration_hours,
                "--utc-offset", window.utc_offset),
            exists=_az("az", "aks", "maintenanceconfiguration", "show", "--resource-group",
                       env.rg, "--cluster-name", env.cluster, "--name", config)))
    return steps


def channels(env: Environment) -> list[dict[str, str]]:
    """Every upgrade channel azure-cli accepts, what it does, and the ones this plan sets."""
    chosen = {"Kubernetes": env.upgrades.auto_upgrade_channel,
              "node OS": env.upgrades.node_os_upgrade_channel}
    return [{"upgrades": kind, "channel": name, "what it does": what,
             "this environment": "<-" if name == chosen[kind] else ""}
            for kind, table in (("Kubernetes", UPGRADE_CHANNELS), ("node OS", NODE_OS_CHANNELS))
            for name, what in table.items()]


def upgrade_settings(env: Environment) -> dict[str, str]:
    """How the node pools upgrade: max surge (unset means 10% on API 2026-06-01; the docs
    recommend 33% for production), drain timeout (minutes) and what happens to a node whose
    drain times out (Schedule, the default: the upgrade fails and the node is made schedulable
    again)."""
    return {"--max-surge": "33%" if env.production else "1", "--drain-timeout": "30",
            "--undrainable-node-behavior": "Schedule"}


def _upgrade_settings_steps(env: Environment) -> list[Step]:
    settings = upgrade_settings(env)
    return [Step(f"upgrade-settings-{pool.name}", "04-maintenance", "operate",
                 f"Pool '{pool.name}': upgrade with max surge {settings['--max-surge']}, "
                 f"{settings['--drain-timeout']} min drain timeout, undrainable nodes "
                 f"{settings['--undrainable-node-behavior']}.",
                 _az("az", "aks", "nodepool", "update", "--resource-group", env.rg,
                     "--cluster-name", env.cluster, "--name", pool.name,
                     *(part for flag, value in settings.items() for part in (flag, value))))
            for pool in env.node_pools]


def _auth_steps(env: Environment, n: dict[str, str], ids: dict[str, str]) -> list[Step]:
    """Chapter 03 on Azure: verify the cluster's identities and door, give the team's Entra
    groups their way in, and a workload identity with its Key Vault."""
    rg, cluster = env.rg, env.cluster
    team = f"{ids['cluster']}/namespaces/{TEAM_NAMESPACE}"
    steps = [
        Step("auth-settings", "03-auth", "operate",
             "Verify: managed Entra ID with Azure RBAC, local accounts off, a managed identity "
             "for the control plane and one for the kubelet, the OIDC issuer.",
             _az("az", "aks", "show", "--resource-group", rg, "--name", cluster, "--query",
                 "{entraId: aadProfile.managed, azureRbac: aadProfile.enableAzureRbac, "
                 "localAccountsDisabled: disableLocalAccounts, controlPlane: identity.type, "
                 "kubelet: identityProfile.kubeletidentity.resourceId, "
                 "oidcIssuer: oidcIssuerProfile.enabled, "
                 "workloadIdentity: securityProfile.workloadIdentity.enabled}",
                 "--output", "json")),
        Step("acr-pull-role", "03-auth", "operate",
             "Verify what --attach-acr assigned: AcrPull on the registry to the kubelet "
             "identity (no registry password anywhere).",
             _az("az", "role", "assignment", "list", "--assignee", "$KUBELET_OBJECT_ID",
                 "--scope", ids["registry"], "--query", "[].roleDefinitionName", "--output",
                 "tsv")),
    ]
    if not env.api_server.private_cluster:  # check-acr runs kubectl: from the VNET if private
        steps.append(Step(
            "check-acr", "03-auth", "operate",
            "Verify from inside the cluster that the nodes can pull from the registry.",
            _az("az", "aks", "check-acr", "--resource-group", rg, "--name", cluster, "--acr",
                f"{env.acr}.azurecr.io")))
    for role, group in TEAM_GROUPS.items():
        steps.append(Step(
            f"group-{role}", "03-auth", "operate",
            f"The team's {role} as an Entra ID group: people join the group, and bindings name "
            f"the group (its object id), never a person.",
            _az("az", "ad", "group", "create", "--display-name", group, "--mail-nickname",
                group),
            exists=_az("az", "ad", "group", "show", "--group", group)))
    steps += [
        Step("cluster-user-developers", "03-auth", "operate",
             "Developers may fetch the user kubeconfig (Cluster User Role: "
             "listClusterUserCredential); what they may do inside is Kubernetes RBAC's "
             "developer Role, bound to the group's object id.",
             _az("az", "role", "assignment", "create", "--role",
                 "Azure Kubernetes Service Cluster User Role", "--assignee-object-id",
                 "$DEVELOPERS_GROUP_ID", "--assignee-principal-type", "Group", "--scope",
                 ids["cluster"])),
        Step("rbac-reader-viewers", "03-auth", "operate",
             f"Viewers read namespace {TEAM_NAMESPACE} through Azure RBAC (AKS RBAC Reader: no "
             f"Secrets, no roles), assigned at namespace scope.",
             _az("az", "role", "assignment", "create", "--role",
                 "Azure Kubernetes Service RBAC Reader", "--assignee-object-id",
                 "$VIEWERS_GROUP_ID", "--assignee-principal-type", "Group", "--scope", team)),
        Step("workload-identity", "03-auth", "operate",
             "The application's own user-assigned managed identity (workload identity): no "
             "secret in the pod, a short-lived token exchanged for an Entra ID token.",
             _az("az", "identity", "create", "--resource-group", rg, "--name",
                 n["workload_identity"], "--location", env.location)),
        Step("federated-credential", "03-auth", "operate",
             f"Trust tokens that the cluster's OIDC issuer signs for service account "
             f"{TEAM_NAMESPACE}/{WORKLOAD_SERVICE_ACCOUNT}, audience {WORKLOAD_AUDIENCE}.",
             _az("az", "identity", "federated-credential", "create", "--name",
                 f"fc-{TEAM_NAMESPACE}-{WORKLOAD_SERVICE_ACCOUNT}", "--identity-name",
                 n["workload_identity"], "--resource-group", rg, "--issuer", "$OIDC_ISSUER",
                 "--subject", f"system:serviceaccount:{TEAM_NAMESPACE}:"
                              f"{WORKLOAD_SERVICE_ACCOUNT}",
                 "--audiences", WORKLOAD_AUDIENCE)),
        Step("key-vault", "03-auth", "operate",
             "A Key Vault for the application's secrets, authorized with Azure RBAC (no access "
             "policies).",
             _az("az", "keyvault", "create", "--resource-group", rg, "--name", n["key_vault"],
                 "--location", env.location, "--enable-rbac-authorization", "true"),
             exists=_az("az", "keyvault", "show", "--resource-group", rg, "--name",
                        n["key_vault"])),
        Step("key-vault-secrets-user", "03-auth", "operate",
             "The workload identity may read secrets of that vault only (Key Vault Secrets "
             "User); the Secrets Store CSI driver mounts them as files.",
             _az("az", "role", "assignment", "create", "--role", "Key Vault Secrets User",
                 "--assignee-object-id", "$WORKLOAD_PRINCIPAL_ID", "--assignee-principal-type",
                 "ServicePrincipal", "--scope", ids["key_vault"])),
    ]
    return steps


# ---- environments side by side ---------------------------------------------------------------

ABSENT = "—"


def _normalized(step: Step, env: Environment) -> list[str]:
    """The step's words with this environment's own names as <cluster>, <rg>, <acr>,
    <key-vault>, so two environments' plans compare by design, not by name."""
    text = step.command
    names = {env.cluster: "<cluster>", env.rg: "<rg>", env.acr: "<acr>",
             key_vault_name(env): "<key-vault>"}
    for value in sorted(names, key=len, reverse=True):
        text = text.replace(value, names[value])
    return shlex.split(text)


def _flags(words: list[str]) -> dict[str, str]:
    """Flag -> its value(s) joined by spaces ("" for a switch); words before the first flag
    are the command itself, under the key ""."""
    flags: dict[str, list[str]] = {"": []}
    current = ""
    for word in words:
        if word.startswith("--"):
            current = word
            flags.setdefault(current, [])
        else:
            flags[current].append(word)
    return {flag: " ".join(values) for flag, values in flags.items()}


def plan_differences(a: Environment, b: Environment) -> list[dict[str, str]]:
    """What two environments' plans do differently, one row per difference: a step only one of
    them has (numbered steps counted together, e.g. firewall-ip-N), or a flag of a common step
    that is set differently (`—`: not set). Names derived from each environment are compared as
    <cluster>, <rg>, <acr> and <key-vault>."""
    plans = (build(a), build(b))
    series = [re.sub(r"-\d+$", "-N", s.id) for plan in plans for s in plan]
    numbered = {stem for stem in series if series.count(stem) > 1 and stem.endswith("-N")}

    def by_stem(plan: list[Step]) -> dict[str, list[Step]]:
        grouped: dict[str, list[Step]] = {}
        for step in plan:
            stem = re.sub(r"-\d+$", "-N", step.id)
            grouped.setdefault(stem if stem in numbered else step.id, []).append(step)
        return grouped

    left, right = by_stem(plans[0]), by_stem(plans[1])
    rows = []
    for stem in _merged(list(left), list(right)):
        mine, theirs = left.get(stem, []), right.get(stem, [])
        chapter = (mine or theirs)[0].chapter
        if len(mine) != len(theirs):
            rows.append({"step": stem, "chapter": chapter, "flag": "(steps)",
                         a.environment: f"{len(mine)} step(s)" if mine else ABSENT,
                         b.environment: f"{len(theirs)} step(s)" if theirs else ABSENT})
        if not (mine and theirs):
            continue
        fa, fb = _flags(_normalized(mine[0], a)), _flags(_normalized(theirs[0], b))
        for flag in [*fa, *(f for f in fb if f not in fa)]:
            if fa.get(flag) != fb.get(flag):
                shown = {env.environment: ABSENT if flags.get(flag) is None else
                         flags[flag] or "(set)" for env, flags in ((a, fa), (b, fb))}
                rows.append({"step": stem, "chapter": chapter, "flag": flag or "(command)",
                             **shown})
    return rows


def _merged(first: list[str], second: list[str]) -> list[str]:
    """Both orders in one: the second's items that the first lacks go where the second has
    them (before the next item both share)."""
    out, pending = [], [x for x in second]
    for item in first:
        if item in pending:
            while pending and pending[0] != item:
                head = pending.pop(0)
                if head not in first:
                    out.append(head)
            pending.pop(0)
        out.append(item)
    return out + [x for x in pending if x not in first]


def parameter_differences(a: Environment, b: Environment) -> list[dict[str, str]]:
    """The parameters two environments set differently (nested ones as dotted names, node
    pools by name)."""
    from aks_runbook.params import to_papermill

    def flat(value, prefix: str = "") -> dict[str, str]:
        if isinstance(value, list) and value and all(
                isinstance(v, dict) and "name" in v for v in value):
            value = {v["name"]: {k: x for k, x in v.items() if k != "name"} for v in value}
        if isinstance(value, dict) and value:
            out: dict[str, str] = {}
            for key, item in value.items():
                out.update(flat(item, f"{prefix}.{key}" if prefix else key))
            return out
        return {prefix: json.dumps(value) if isinstance(value, list | dict) else str(value)}

    fa, fb = flat(to_papermill(a)), flat(to_papermill(b))
    return [{"parameter": key, a.environment: fa.get(key, ABSENT),
             b.environment: fb.get(key, ABSENT)}
            for key in [*fa, *(k for k in fb if k not in fa)] if fa.get(key) != fb.get(key)]


# ---- validation, rendering, execution -------------------------------------------------------

def for_validation(step: Step, holders: dict[str, Placeholder]) -> str:
    """The step with documentation-range samples in place of its $PLACEHOLDERS."""
    return fill(step.command, {name: h.sample for name, h in holders.items()})


def validated(env: Environment, chapter: str | None = None) -> list[Step]:
    """The plan (or one chapter of it) with each line checked by azure-cli's own code."""
    steps = [s for s in build(env) if chapter in (None, s.chapter)]
    holders = placeholders(env)
    results = validate([for_validation(s, holders) for s in steps])
    return [replace(s, validation=v) for s, v in zip(steps, results, strict=True)]


def render(steps: list[Step], env: Environment, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps([_as_dict(s) for s in steps], indent=2)
    if fmt == "sh":
        return _render_sh(steps, env)
    holders, read = placeholders(env), set()
    lines = []
    for number, step in enumerate(steps, 1):
        status = f"  [{_status(step)}]" if step.validation else ""
        lines.append(f"{number:>2}. [{step.chapter}] {step.reason}{status}")
        for name in step.placeholders:  # where a value only Azure knows comes from
            if name not in read:
                lines.append(f"    {name}=$({holders[name].lookup})")
                read.add(name)
        lines.append(f"    {step.command}")
        if step.validation and not step.validation.ok:
            lines.append(f"    -> {step.validation.message.splitlines()[0]}")
    return "\n".join(lines)


def _status(step: Step) -> str:
    v = step.validation
    if v is None:
        return "not checked"
    if v.status != "not validated":
        return v.status
    return "not validated: " + v.message.split(":")[0]


def _as_dict(step: Step) -> dict:
    data = asdict(step)
    data["validation"] = asdict(step.validation) if step.validation else None
    data["status"] = _status(step)
    return data


def _render_sh(steps: list[Step], env: Environment) -> str:
    needed = {name for s in steps for name in s.placeholders}
    holders = placeholders(env)
    out = ["#!/usr/bin/env bash", f"# aks-runbook plan for environment {env.environment!r}",
           "set -euo pipefail", ""]
    defined: set[str] = set()
    for step in steps:
        for name in step.placeholders:
            if name in needed and name not in defined:  # read once, just before first use
                out.append(f"{name}=$({holders[name].lookup})")
                defined.add(name)
        out.append(f"# [{step.chapter}] {step.reason} ({_status(step)})")
        out.append(step.command)
        out.append("")
    return "\n".join(out)


class NotLoggedIn(RuntimeError):
    """az has no signed-in account; nothing was run."""


class NeedsConfirmation(RuntimeError):
    """A destructive step in production without confirm_destructive."""


def guard(steps: list[Step], env: Environment) -> None:
    """Refuse destructive steps in production unless confirmed, before anything runs."""
    risky = [s.id for s in steps if s.destructive]
    if env.production and risky and not env.confirm_destructive:
        raise NeedsConfirmation(
            f"environment {env.environment!r} is production and these steps are destructive: "
            f"{', '.join(risky)}. Set confirm_destructive: true (e.g. -p confirm_destructive=true) "
            f"to run them.")


def execute(steps: list[Step], env: Environment, runner: Runner) -> None:
    """Run the steps for real with az (target aks, execute: true)."""
    if env.plan_only:
        raise RuntimeError("execute() needs target 'aks' with execute: true")
    guard(steps, env)
    invalid = [s.id for s in steps if s.validation and s.validation.status == "invalid"]
    if invalid:
        raise RuntimeError(f"the plan has invalid steps, nothing was run: {', '.join(invalid)}")
    account = runner.run("az account show --query id -o tsv", step="az-login", check=False,
                         retries=0)
    if not account.ok:
        raise NotLoggedIn("az is not signed in: run `az login` (and `az account set "
                          "--subscription <id>`), then run again. Nothing was run.")
    values = {"SUBSCRIPTION_ID": account.stdout.strip(),
              "KUBECONFIG": runner.env.get("KUBECONFIG", "")}
    holders = placeholders(env)
    with bar(total=len(steps), desc="plan", unit=" step") as progress:  # JupyterLab: a widget
        for step in steps:
            progress.set_postfix_str(step.id)
            _execute_step(step, values, holders, runner)
            progress.update(1)


def _execute_step(step: Step, values: dict[str, str], holders: dict, runner: Runner) -> None:
    if step.exists and runner.run(step.exists, step=f"{step.id}:exists", check=False,
                                  retries=0, quiet=True).ok:
        print(f"# {step.id}: exists already, skipped")
        return
    for name in step.placeholders:
        if name not in values:
            values[name] = runner.run(holders[name].lookup, step=f"lookup {name}",
                                      quiet=True).stdout.strip()
    command = fill(step.command, values)
    try:
        runner.run(command, step=step.id, stream=True)  # long operations show progress
    except StepFailed:
        print(f"# stopped at {step.id}; the steps before it are in place, re-running "
              f"continues from here (existing resources are skipped)")
        raise


def planned_cluster(env: Environment) -> dict:
    """The cluster this plan creates, shaped like `az aks show` output (camelCase)."""
    net, api, entra, up = env.network, env.api_server, env.entra, env.upgrades
    return {
        "name": env.cluster,
        "location": env.location,
        "kubernetesVersion": env.kubernetes_version,
        "enableRbac": True,
        "disableLocalAccounts": entra.disable_local_accounts,
        "aadProfile": {"managed": True, "enableAzureRbac": entra.azure_rbac,
                       "adminGroupObjectIDs": [str(g) for g in entra.admin_group_object_ids]}
        if entra.enabled else None,
        "apiServerAccessProfile": {
            "enablePrivateCluster": True if api.private_cluster else None,
            "authorizedIpRanges": [str(r) for r in api.authorized_ip_ranges] or None,
        },
        "networkProfile": {
            "networkPlugin": net.plugin, "networkPluginMode": net.plugin_mode,
            "networkPolicy": net.policy, "networkDataplane": net.dataplane,
            "outboundType": env.egress.outbound_type, "serviceCidr": str(net.service_cidr),
            "dnsServiceIp": str(net.dns_service_ip),
            "podCidr": str(net.pod_cidr) if net.uses_pod_cidr else None,
        },
        "identity": {"type": "UserAssigned"},
        "oidcIssuerProfile": {"enabled": True},
        "securityProfile": {"workloadIdentity": {"enabled": True}},
        "addonProfiles": {"azurepolicy": {"enabled": True},
                          "azureKeyvaultSecretsProvider": {  # --enable-secret-rotation
                              "enabled": True, "config": {"enableSecretRotation": "true",
                                                          "rotationPollInterval": "2m"}}},
        "autoUpgradeProfile": {"upgradeChannel": up.auto_upgrade_channel,
                               "nodeOsUpgradeChannel": up.node_os_upgrade_channel},
        "agentPoolProfiles": [
            {"name": p.name, "count": p.count, "vmSize": p.vm_size, "mode": p.mode,
             "maxPods": p.max_pods, "orchestratorVersion": env.kubernetes_version,
             "enableNodePublicIp": False, "osSku": "Ubuntu"} for p in env.node_pools],
    }
