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
import tempfile
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from importlib import resources
from ipaddress import IPv4Address
from pathlib import Path

from aks_runbook.azure.validate import Validation, validate
from aks_runbook.i18n import N_, gettext, language
from aks_runbook.params import Environment, NodePool

CHAPTERS = ("01-overview", "02-network", "03-auth", "04-maintenance")
PRODUCTION_FIREWALL_IPS = 20  # "Limit network traffic with Azure Firewall in AKS": production
# Chapter 03's application team: its namespace, its workload's service account and its Entra ID
# groups. On Azure every environment has groups of its own (team_groups), so membership in dev
# never grants anything in prod; TEAM_GROUPS are the local lab's names (no Entra ID there).
TEAM_NAMESPACE = "team-vote"
WORKLOAD_SERVICE_ACCOUNT = "vote-app"
TEAM_ROLES = ("developers", "viewers")
TEAM_GROUPS = {role: f"team-vote-{role}" for role in TEAM_ROLES}
WORKLOAD_AUDIENCE = "api://AzureADTokenExchange"
# The delivery pipeline signs in with workload identity federation: GitHub Actions' OIDC token
# for the repository's environment is trusted by a user-assigned identity ("Use GitHub Actions
# to connect to Azure"; Entra: "Workload identity federation").
PIPELINE_ISSUER = "https://token.actions.githubusercontent.com"
# The application's secret in Key Vault (the SecretProviderClass mounts it): its value never
# appears on a command line or in output; the operator puts it in a file first.
APP_SECRET = "db-password"
# What each upgrade channel does (AKS docs: "Automatically upgrade an Azure Kubernetes Service
# (AKS) cluster", "Autoupgrade Node OS Images in Azure Kubernetes Service (AKS)"; azure-cli 2.91).
UPGRADE_CHANNELS = {
    "none": "no automatic Kubernetes upgrades (the default on Standard): you run az aks upgrade; "
            "AKS still upgrades a cluster about to fall out of support (N-3 to N-2)",
    "patch": "the latest patch of your minor version, as soon as it is available; it never "
             "moves to a new minor, so the cluster falls out of support unless you upgrade it "
             "(stable and rapid keep it in support)",
    "stable": "the latest patch of minor N-1 (N = the newest supported minor); AKS Automatic "
              "is fixed to it",
    "rapid": "the latest patch of the newest supported minor",
    "node-image": "legacy: node images only; forces the node OS channel NodeImage and locks it",
}
NODE_OS_CHANNELS = {
    "NodeImage": "a new node image (OS patches included) weekly, rolled out like an upgrade: "
                 "surge, cordon, drain, reimage; the default on Standard, fixed on Automatic",
    "SecurityPatch": "a security-patched image rolled out in the maintenance window with the "
                     "pool's surge and drain settings; when no reimage is needed, nodes are "
                     "patched live without a drain (not on Windows; nodes fetch from "
                     "snapshot.ubuntu.com; conflicts with a deny-CMK policy)",
    "Unmanaged": "the OS updates itself (unattended-upgrades, about 06:00 UTC) and AKS never "
                 "reboots: kured must reboot the nodes (on Windows: same as None)",
    "None": "nothing: no OS updates at all until you upgrade the node image yourself",
}
# What each configuration schedules, in a step's reason (MAINTENANCE_CONFIGURATIONS' first part)
MAINTENANCE_WHAT = {
    "default": N_("AKS's weekly releases: control plane and add-ons"),
    "aksManagedAutoUpgradeSchedule": N_("the cluster's auto-upgrade channel"),
    "aksManagedNodeOSUpgradeSchedule": N_("the node OS upgrade channel"),
}
MAINTENANCE_CONFIGURATIONS = {
    "default": "AKS's weekly releases: control plane and add-ons (Weekly only, no "
               "--interval-weeks: the interval is always one week)",
    "aksManagedAutoUpgradeSchedule": "the cluster's auto-upgrade channel (Kubernetes versions)",
    "aksManagedNodeOSUpgradeSchedule": "the node OS upgrade channel (node images or patches)",
}


class Reason(str):
    """A step's reason: its English text (what the plan holds, compares and writes as JSON)
    that remembers the template and the values it was made of, so `said` can show it in the
    reader's language. Values that are Reasons are translated in turn; others (names, ranges,
    ids) stay as they are."""

    template: str
    fields: dict

    def __new__(cls, template: str, **fields: object) -> Reason:
        made = super().__new__(cls, template.format(**fields) if fields else template)
        made.template, made.fields = template, fields
        return made

    def __copy__(self) -> Reason:
        return self

    def __deepcopy__(self, memo: dict) -> Reason:
        return self

    def __reduce__(self):
        return _reason, (self.template, self.fields)


def _reason(template: str, fields: dict) -> Reason:
    return Reason(template, **fields)


say = Reason


def said(text: str, lang: str | None = None) -> str:
    """A reason (or any text marked for translation) in `lang` (the current language by
    default); English: the text itself."""
    if not text or (lang or language()) == "en":
        return str(text)
    if isinstance(text, Reason) and text.fields:
        return gettext(text.template, lang).format(**{
            name: said(value, lang) if isinstance(value, Reason) else value
            for name, value in text.fields.items()})
    return gettext(getattr(text, "template", text), lang)


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
    env: tuple[tuple[str, str], ...] = ()  # environment variables the command runs with
    files: tuple[tuple[str, str], ...] = ()  # (path, content) written before the command runs

    @property
    def placeholders(self) -> list[str]:
        text = " ".join([self.command, *(path for path, _ in self.files)])
        return list(dict.fromkeys(PLACEHOLDER.findall(text)))

    @property
    def shown(self) -> str:
        """The command as a person would type it (environment variables in front)."""
        return " ".join([*(f"{name}={value}" for name, value in self.env), self.command])


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
          for i, (role, group) in enumerate(team_groups(env).items())),
        Placeholder("OPERATOR_OBJECT_ID", "az ad signed-in-user show --query id -o tsv",
                    "66666666-6666-6666-6666-666666666666"),
        Placeholder("PIPELINE_PRINCIPAL_ID",
                    _az("az", "identity", "show", "--resource-group", rg, "--name",
                        n["pipeline_identity"], "--query", "principalId", "-o", "tsv"),
                    "77777777-7777-7777-7777-777777777777"),
        Placeholder("MAINTENANCE_DIR",
                    'echo "${AKS_RUNBOOK_FILES:-$HOME/.aks-runbook}/maintenance"',
                    str(SAMPLE_DIR / "maintenance")),
        Placeholder("SECRET_FILE",
                    f'echo "${{SECRET_FILE:?put the value of {APP_SECRET} in a file only you '
                    f'can read (chmod 600) and set SECRET_FILE to its path}}"',
                    str(SAMPLE_DIR / APP_SECRET)),
    ]
    for number in range(1, env.egress.firewall_public_ips + 1):
        holders.append(Placeholder(_firewall_ip_var(number),
                                   _public_ip(rg, _firewall_ip_name(env, number)),
                                   str(IPv4Address("20.48.0.10") + number - 1)))
    return {h.name: h for h in holders}


def _public_ip(rg: str, name: str) -> str:
    return _az("az", "network", "public-ip", "show", "--resource-group", rg, "--name", name,
               "--query", "ipAddress", "-o", "tsv")


# Offline validation reads the files a step names (--config-file, --file): samples live here.
SAMPLE_DIR = Path(tempfile.gettempdir()) / "aks-runbook-plan-samples"


def team_groups(env: Environment) -> dict[str, str]:
    """The team's Entra ID groups in this environment (the environment is in the name)."""
    return {role: f"team-vote-{env.environment}-{role}" for role in TEAM_ROLES}


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
        "pipeline_identity": f"id-{env.cluster}-pipeline",
        "key_vault": key_vault_name(env),
        "vault_endpoint": f"pe-{key_vault_name(env)}",
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
VAULT_ZONE = "privatelink.vaultcore.azure.net"  # Key Vault's private endpoint (group id vault)
EGRESS_PAGE = "Outbound network and FQDN rules for Azure Kubernetes Service (AKS) clusters"

# What each add-on and feature reaches behind an egress firewall (EGRESS_PAGE, per section),
# all HTTPS 443. Key Vault: the page lists vault.azure.net; a vault answers at
# <name>.vault.azure.net, so the plan allows exactly its own vault (or reaches it privately).
POLICY_FQDNS = ("data.policy.core.windows.net", "store.policy.core.windows.net",
                "dc.services.visualstudio.com")
MONITOR_FQDNS = ("*.ods.opinsights.azure.com", "*.oms.opinsights.azure.com",
                 "dc.services.visualstudio.com", "*.monitoring.azure.com",
                 "global.handler.control.monitor.azure.com", "*.ingest.monitor.azure.com",
                 "*.metrics.ingest.monitor.azure.com", "{region}.handler.control.monitor.azure.com")

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


def vault_fqdn(env: Environment) -> str:
    return f"{key_vault_name(env)}.vault.azure.net"


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
    tunnel = say(N_("legacy tunnel only: new clusters use konnectivity over "
                    "*.hcp.{region}.azmk8s.io:443 (in the FQDN tag); never for private clusters"),
                 region=env.location)
    return [
        NetworkRule("apiserver-tcp-443", "TCP", "443", "$API_SERVER_FQDN", not private,
                    say(N_("private cluster: the API server is a private endpoint in the VNet"))
                    if private else
                    say(N_("pods that call the API server by its IP (KUBERNETES_SERVICE_HOST), "
                           "e.g. an ingress controller; AKS injects the FQDN only in kube-system "
                           "and gatekeeper-system"))),
        NetworkRule("tunnel-udp-1194", "UDP", "1194", region, False, tunnel),
        NetworkRule("tunnel-tcp-9000", "TCP", "9000", region, False, tunnel),
        NetworkRule("ntp-udp-123", "UDP", "123", "ntp.ubuntu.com", False,
                    say(N_("NTP: not needed by nodes provisioned after March 2021"))),
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
             N_("One resource group holds everything this environment creates (and deletes)."),
             _az("az", "group", "create", "--name", rg, "--location", loc)),
    ]
    if s.own_vnet:
        steps.append(Step(
            "vnet", "02-network", "provision",
            N_("A VNET of its own (reached over Private Link) rather than a shared VDC: saves "
               "address space and isolates the cluster."),
            _az("az", "network", "vnet", "create", "--resource-group", rg, "--name", n["vnet"],
                "--location", loc, "--address-prefixes", net.vnet_cidr,
                "--subnet-name", n["node_subnet"], "--subnet-prefixes", net.node_subnet_cidr)))
    if s.own_vnet and s.private_registry:
        steps.append(Step(
            "endpoint-subnet", "02-network", "provision",
            N_("A subnet for private endpoints (the registry's), apart from the nodes."),
            _az("az", "network", "vnet", "subnet", "create", "--resource-group", rg,
                "--vnet-name", n["vnet"], "--name", n["endpoint_subnet"],
                "--address-prefixes", net.endpoint_subnet_cidr)))
    steps.append(Step(
        "identity", "02-network", "provision",
        N_("The control plane's user-assigned managed identity: no secret to rotate, and it "
           "exists before the cluster, so it can be granted rights on your network first."),
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
        N_("The cluster, with every security setting of the later chapters at creation time."),
        _aks_create(env, ids, s),
        exists=_az("az", "aks", "show", "--resource-group", rg, "--name", env.cluster)))
    for pool in env.node_pools[1:]:
        steps.append(Step(
            f"nodepool-{pool.name}", "01-overview", "provision",
            say(N_("{mode} pool '{pool}': applications run on user pools, off the system pool."),
                mode=pool.mode, pool=pool.name),
            _az("az", "aks", "nodepool", "add", "--resource-group", rg, "--cluster-name",
                env.cluster, "--name", pool.name, "--node-count", pool.count,
                "--node-vm-size", pool.vm_size, "--mode", pool.mode, "--max-pods",
                pool.max_pods),
            exists=_az("az", "aks", "nodepool", "show", "--resource-group", rg,
                       "--cluster-name", env.cluster, "--name", pool.name)))
    if env.entra.disable_local_accounts and not env.entra.admin_group_object_ids:
        steps.append(Step(
            "cluster-admin-operator", "03-auth", "provision",
            N_("Local accounts are off and no admin group is given: without this nobody could "
               "administer the cluster (az aks create assigns AKS RBAC Cluster Admin only with "
               "--sku automatic; Owner has no data actions). You, the operator, get it; prefer a "
               "PIM-eligible admin group (entra.admin_group_object_ids) (\"Manage local accounts "
               "with Microsoft Entra integration\")."),
            _az("az", "role", "assignment", "create", "--role",
                "Azure Kubernetes Service RBAC Cluster Admin", "--assignee-object-id",
                "$OPERATOR_OBJECT_ID", "--assignee-principal-type", "User", "--scope",
                ids["cluster"])))
        steps.append(Step(
            "cluster-user-operator", "03-auth", "provision",
            N_("And the door for it: Cluster User Role, so you can fetch the user kubeconfig with "
               "az aks get-credentials (\"Limit access to kubeconfig in Azure Kubernetes Service "
               "(AKS)\")."),
            _az("az", "role", "assignment", "create", "--role",
                "Azure Kubernetes Service Cluster User Role", "--assignee-object-id",
                "$OPERATOR_OBJECT_ID", "--assignee-principal-type", "User", "--scope",
                ids["cluster"])))
    if s.udr:
        steps += _network_rule_steps(env, n)
    steps.append(Step(
        "credentials", "03-auth", "provision",
        N_("User credentials (Entra ID, through kubelogin); with local accounts disabled, "
           "`--admin` fails by design."),
        _az("az", "aks", "get-credentials", "--resource-group", rg, "--name", env.cluster,
            "--format", "exec", "--file", "$KUBECONFIG", "--overwrite-existing")))
    if env.api_server.private_cluster:
        steps.append(Step(
            "operator-path", "02-network", "operate",
            N_("The way in to a private API server: command invoke runs kubectl in a pod of the "
               "cluster through Azure Resource Manager (needs the runcommand/action right); for "
               "daily work use a jump box or Bastion in the VNET."),
            _az("az", "aks", "command", "invoke", "--resource-group", rg, "--name",
                env.cluster, "--command", "kubectl get nodes")))
    steps += _auth_steps(env, n, ids)
    steps += [
        *_maintenance_steps(env),
        Step("upgrade-profile", "04-maintenance", "operate",
             N_("Verify: the Kubernetes version, the two upgrade channels and each pool's version "
                "and node image."),
             _az("az", "aks", "show", "--resource-group", rg, "--name", env.cluster, "--query",
                 "{kubernetesVersion: currentKubernetesVersion, channels: autoUpgradeProfile, "
                 "pools: agentPoolProfiles[].{name: name, version: currentOrchestratorVersion, "
                 "nodeImage: nodeImageVersion, maxSurge: upgradeSettings.maxSurge}}",
                 "--output", "json")),
        Step("maintenance-list", "04-maintenance", "operate",
             N_("Verify: the planned maintenance windows in place."),
             _az("az", "aks", "maintenanceconfiguration", "list", "--resource-group", rg,
                 "--cluster-name", env.cluster, "--output", "table")),
        Step("upgrades", "04-maintenance", "operate",
             N_("Which Kubernetes versions this cluster can move to."),
             _az("az", "aks", "get-upgrades", "--resource-group", rg, "--name", env.cluster,
                 "--output", "table")),
        *(Step(f"node-image-version-{pool.name}", "04-maintenance", "operate",
               say(N_("Pool '{pool}': its node image and the latest one available "
                      "(latestNodeImageVersion)."), pool=pool.name),
               _az("az", "aks", "nodepool", "get-upgrades", "--resource-group", rg,
                   "--cluster-name", env.cluster, "--nodepool-name", pool.name,
                   "--output", "table"))
          for pool in env.node_pools),
        *_upgrade_settings_steps(env),
        *(_kured_steps(env) if env.upgrades.node_os_upgrade_channel == "Unmanaged" else []),
        Step("node-image-upgrade", "04-maintenance", "operate",
             N_("Roll the latest node image (security patches) onto the user pool, node by node "
                "within the PodDisruptionBudgets."),
             _az("az", "aks", "nodepool", "upgrade", "--resource-group", rg, "--cluster-name",
                 env.cluster, "--name", env.node_pools[-1].name, "--node-image-only",
                 "--yes"),
             destructive=True),
        *_rollback_steps(env),
        Step("cleanup", "04-maintenance", "cleanup",
             N_("Delete the resource group and everything in it."),
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
             N_("Azure Firewall's commands come from an az extension (not part of core az)."),
             _az("az", "extension", "add", "--name", "azure-firewall", "--upgrade")),
        Step("firewall-subnet", "02-network", "provision",
             N_("Azure Firewall needs its own subnet named AzureFirewallSubnet."),
             _az("az", "network", "vnet", "subnet", "create", "--resource-group", rg,
                 "--vnet-name", n["vnet"], "--name", "AzureFirewallSubnet",
                 "--address-prefixes", net.firewall_subnet_cidr)),
    ]
    for number in range(1, count + 1):
        steps.append(Step(
            f"firewall-ip-{number}", "02-network", "provision",
            say(N_("Firewall frontend public IP {number} of {count}: egress leaves through these "
                   "(each adds SNAT ports; production wants at least {minimum})."),
                number=number, count=count, minimum=PRODUCTION_FIREWALL_IPS),
            _az("az", "network", "public-ip", "create", "--resource-group", rg, "--name",
                _firewall_ip_name(env, number), "--location", loc, "--sku", "Standard")))
    steps.append(Step(
        "firewall", "02-network", "provision",
        N_("Egress lockdown (出力経路の制限): one firewall sees and filters all outbound traffic "
           "(DNS proxy on: FQDNs in network rules need it)."),
        _az("az", "network", "firewall", "create", "--resource-group", rg, "--name",
            n["firewall"], "--location", loc, "--enable-dns-proxy", "true")))
    for number in range(1, count + 1):
        first = number == 1
        steps.append(Step(
            f"firewall-ipconfig-{number}", "02-network", "provision",
            N_("Attach the firewall to its subnet and first public IP.") if first else
            say(N_("Add frontend public IP {number} to the firewall."), number=number),
            _az("az", "network", "firewall", "ip-config", "create", *fw, "--name",
                f"fw-ipconfig-{number}", "--public-ip-address", _firewall_ip_name(env, number),
                *(("--vnet-name", n["vnet"]) if first else ()))))
    steps.append(Step(
        "firewall-aks-rule", "02-network", "provision",
        N_("Application rule: what AKS itself needs, through the FQDN tag AzureKubernetesService "
           "(Microsoft keeps it equal to the documented FQDN list)."),
        _az("az", "network", "firewall", "application-rule", "create", *fw,
            "--collection-name", "aks-required", "--name", "aks-fqdn-tag", "--action", "Allow",
            "--priority", "100", "--source-addresses", nodes, "--protocols", "http=80",
            "https=443", "--fqdn-tags", "AzureKubernetesService")))
    protocols, fqdns = os_update_fqdns(env.upgrades.node_os_upgrade_channel)
    if fqdns:
        steps.append(Step(
            "firewall-os-updates-rule", "02-network", "provision",
            say(N_("Application rule: node OS updates for the {channel} channel ({fqdns})."),
                channel=env.upgrades.node_os_upgrade_channel, fqdns=", ".join(fqdns)),
            _az("az", "network", "firewall", "application-rule", "create", *fw,
                "--collection-name", "aks-os-updates", "--name", "ubuntu", "--action", "Allow",
                "--priority", "110", "--source-addresses", nodes, "--protocols", *protocols,
                "--target-fqdns", *fqdns)))
    if shape(env).registry_through_firewall:
        steps.append(Step(
            "firewall-registry-rule", "02-network", "provision",
            N_("Application rule: your registry's login server and its dedicated data endpoint "
               "(image layers come from there, not from *.blob.core.windows.net)."),
            _az("az", "network", "firewall", "application-rule", "create", *fw,
                "--collection-name", "aks-registry", "--name", "acr", "--action", "Allow",
                "--priority", "120", "--source-addresses", nodes, "--protocols", "https=443",
                "--target-fqdns", *registry_fqdns(env))))
    steps.append(Step(
        "firewall-policy-rule", "02-network", "provision",
        say(N_("Application rule: the Azure Policy add-on pulls its policies and reports "
               "compliance ({fqdns}); without it the add-on never syncs and enforces nothing "
               "({page}, section Azure Policy)."), fqdns=", ".join(POLICY_FQDNS), page=EGRESS_PAGE),
        _az("az", "network", "firewall", "application-rule", "create", *fw,
            "--collection-name", "aks-azure-policy", "--name", "azure-policy", "--action",
            "Allow", "--priority", "130", "--source-addresses", nodes, "--protocols",
            "https=443", "--target-fqdns", *POLICY_FQDNS)))
    if not env.api_server.private_cluster:  # a private cluster reaches its vault privately
        steps.append(Step(
            "firewall-keyvault-rule", "02-network", "provision",
            say(N_("Application rule: the Key Vault secrets provider's pods fetch secrets from "
                   "the vault (the page lists vault.azure.net:443; the rule allows exactly this "
                   "vault, {vault}). Without it a pod mounting the SecretProviderClass stays in "
                   "ContainerCreating ({page}, section Azure Key Vault provider for Secrets "
                   "Store CSI Driver)."), vault=vault_fqdn(env), page=EGRESS_PAGE),
            _az("az", "network", "firewall", "application-rule", "create", *fw,
                "--collection-name", "aks-key-vault", "--name", "key-vault", "--action",
                "Allow", "--priority", "140", "--source-addresses", nodes, "--protocols",
                "https=443", "--target-fqdns", vault_fqdn(env))))
    steps += [
        Step("route-table", "02-network", "provision",
             N_("A route table for the node subnet."),
             _az("az", "network", "route-table", "create", "--resource-group", rg, "--name",
                 n["route_table"], "--location", loc)),
        Step("route-default", "02-network", "provision",
             N_("Send 0.0.0.0/0 to the firewall's private IP, read from the firewall itself."),
             _az("az", "network", "route-table", "route", "create", "--resource-group", rg,
                 "--route-table-name", n["route_table"], "--name", "default-via-firewall",
                 "--address-prefix", "0.0.0.0/0", "--next-hop-type", "VirtualAppliance",
                 "--next-hop-ip-address", "$FIREWALL_PRIVATE_IP")),
        Step("route-firewall-ip", "02-network", "provision",
             N_("Send the firewall's own public IP straight to the Internet: replies to traffic "
                "that came in on it (DNAT) must not loop through the firewall's private side "
                "(asymmetric routing otherwise)."),
             _az("az", "network", "route-table", "route", "create", "--resource-group", rg,
                 "--route-table-name", n["route_table"], "--name", "firewall-ip-internet",
                 "--address-prefix", "$FIREWALL_PUBLIC_IP/32", "--next-hop-type", "Internet")),
        Step("route-table-attach", "02-network", "provision",
             N_("Attach the route table to the node subnet (required before "
                "--outbound-type userDefinedRouting)."),
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
            say(N_("Network rule {protocol} {port}: {reason}."), protocol=rule.protocol,
                port=rule.port, reason=rule.reason),
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
             N_("The NAT gateway's public IP: all egress leaves from it (64,512 SNAT ports)."),
             _az("az", "network", "public-ip", "create", "--resource-group", rg, "--name",
                 n["nat_ip"], "--location", loc, "--sku", "Standard")),
        Step("nat-gateway", "02-network", "provision",
             N_("A NAT gateway you own (userAssignedNATGateway): scalable egress, no filtering."),
             _az("az", "network", "nat", "gateway", "create", "--resource-group", rg, "--name",
                 n["nat_gateway"], "--location", loc, "--public-ip-addresses", n["nat_ip"],
                 "--idle-timeout", "4")),
        Step("nat-gateway-attach", "02-network", "provision",
             N_("Associate the NAT gateway with the node subnet before az aks create."),
             _az("az", "network", "vnet", "subnet", "update", "--resource-group", rg,
                 "--vnet-name", n["vnet"], "--name", n["node_subnet"], "--nat-gateway",
                 n["nat_gateway"])),
    ]


def _role_steps(ids: dict[str, str], s: Shape) -> list[Step]:
    scopes = [("role-subnet", say(N_("the node subnet (join and read it)")), ids["subnet"])]
    if s.udr:
        scopes.append(("role-route-table", say(N_("the route table (read and write its routes)")),
                       ids["route_table"]))
    return [Step(step_id, "02-network", "provision",
                 say(N_("Network Contributor for the cluster identity on {what}, granted before "
                        "az aks create (a narrower custom role works too)."), what=what),
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
        why = say(N_("Premium with a private endpoint, public access off: a private cluster "
                     "pulls over the VNET"))
    elif s.udr:
        why = say(N_("Premium with a dedicated data endpoint, so the firewall can allow exactly "
                     "this registry's layers"))
    else:
        why = say(N_("Standard is enough without an egress firewall"))
    steps = [Step("acr", "01-overview", "provision",
                  say(N_("Your private images live in ACR (MCR serves AKS's own); no admin user: "
                         "AKS pulls with its kubelet identity. {why}."), why=why),
                  _az(*args),
                  exists=_az("az", "acr", "show", "--resource-group", rg, "--name", env.acr))]
    if not s.private_registry:
        return steps
    return steps + [
        Step("registry-dns-zone", "02-network", "provision",
             say(N_("The private DNS zone {zone}: the registry's names resolve to its private "
                    "endpoint."), zone=REGISTRY_ZONE),
             _az("az", "network", "private-dns", "zone", "create", "--resource-group", rg,
                 "--name", REGISTRY_ZONE)),
        Step("registry-dns-link", "02-network", "provision",
             N_("Link the zone to the cluster's VNET so the nodes use it."),
             _az("az", "network", "private-dns", "link", "vnet", "create", "--resource-group",
                 rg, "--zone-name", REGISTRY_ZONE, "--name", f"link-{n['vnet']}",
                 "--virtual-network", n["vnet"], "--registration-enabled", "false")),
        Step("registry-endpoint", "02-network", "provision",
             N_("The registry's private endpoint (group id registry: login server and data "
                "endpoint) in the endpoint subnet."),
             _az("az", "network", "private-endpoint", "create", "--resource-group", rg,
                 "--name", n["registry_endpoint"], "--location", loc, "--vnet-name", n["vnet"],
                 "--subnet", n["endpoint_subnet"], "--private-connection-resource-id",
                 ids["registry"], "--group-id", "registry", "--connection-name", "registry")),
        Step("registry-endpoint-dns", "02-network", "provision",
             N_("Let the endpoint write its A records (login server and data endpoint) into the "
                "zone."),
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


DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_NAMES = {"Monday": N_("Monday"), "Tuesday": N_("Tuesday"), "Wednesday": N_("Wednesday"),
             "Thursday": N_("Thursday"), "Friday": N_("Friday"), "Saturday": N_("Saturday"),
             "Sunday": N_("Sunday")}  # marked for translation (the reasons name the days)
WEEK_NAMES = {"First": N_("first"), "Second": N_("second"), "Third": N_("third"),
              "Fourth": N_("fourth"), "Last": N_("last")}  # RelativeMonthly's weekIndex
FLEET = N_("Windows only order the updates, they do not gate them: a release published between "
         "dev's and prod's windows reaches prod untested. Azure Kubernetes Fleet Manager update "
         "runs (dev, then prod, with a wait between stages) are the managed way (az fleet, an "
         "extension; not planned here: \"Azure Kubernetes Service (AKS) production upgrade "
         "strategies\").")


@dataclass(frozen=True)
class Window:
    """One planned maintenance configuration: when it runs and the file azure-cli reads."""

    config: str  # default | aksManagedAutoUpgradeSchedule | aksManagedNodeOSUpgradeSchedule
    cadence: str  # Weekly | RelativeMonthly
    day: str
    week: str | None  # RelativeMonthly: First … Last
    start: str  # HH:MM at utc_offset
    hours: int
    utc_offset: str
    freezes: tuple[tuple[str, str, str], ...]  # (start, end, reason)

    @property
    def local(self) -> str:
        end = f"{datetime.strptime(self.start, '%H:%M') + timedelta(hours=self.hours):%H:%M}"
        if self.week is None:
            return say(N_("{day}s {start}-{end} (UTC{offset})"), day=say(DAY_NAMES[self.day]),
                       start=self.start, end=end, offset=self.utc_offset)
        return say(N_("the {week} {day} {start}-{end} (UTC{offset})"),
                   week=say(WEEK_NAMES[self.week]), day=say(DAY_NAMES[self.day]),
                   start=self.start, end=end, offset=self.utc_offset)

    @property
    def utc(self) -> str:
        """The start in UTC (the day can change), e.g. 'Sunday 16:00 UTC'."""
        day, minutes = _utc_start(self.day, self.start, self.utc_offset)
        return say(N_("{day} {time} UTC"), day=say(DAY_NAMES[day]),
                   time=f"{minutes // 60:02d}:{minutes % 60:02d}")

    def body(self) -> dict:
        """The maintenance configuration as the file --config-file reads ("Use Planned
        Maintenance to Schedule and Control Upgrades for Azure Kubernetes Service (AKS)
        Clusters", JSON file: notAllowedDates exist only there)."""
        schedule = ({"weekly": {"intervalWeeks": 1, "dayOfWeek": self.day}}
                    if self.week is None else
                    {"relativeMonthly": {"intervalMonths": 1, "weekIndex": self.week,
                                         "dayOfWeek": self.day}})
        return {"properties": {"maintenanceWindow": {
            "schedule": schedule, "durationHours": self.hours, "utcOffset": self.utc_offset,
            "startTime": self.start,
            "notAllowedDates": [{"start": start, "end": end}
                                for start, end, _ in self.freezes]}}}


def _utc_start(day: str, start: str, offset: str) -> tuple[str, int]:
    hours, minutes = (int(x) for x in start.split(":"))
    sign = -1 if offset.startswith("-") else 1
    off = sign * (int(offset[1:3]) * 60 + int(offset[4:6]))
    total = DAYS.index(day) * 1440 + hours * 60 + minutes - off
    return DAYS[(total // 1440) % 7], total % 1440


def maintenance_windows(env: Environment) -> list[Window]:
    """The three configurations on three different days, so they never overlap (when windows
    overlap, AKS decides the order): node OS weekly on the window's day (a node image ships
    weekly), AKS releases the next day, Kubernetes auto-upgrades monthly the day after (the
    planned maintenance FAQ's cadences). Each window honours the environment's change freezes."""
    up = env.upgrades
    window = up.maintenance_window
    first = DAYS.index(window.day_of_week)
    freezes = tuple((str(f.start), str(f.end), f.reason) for f in up.freezes)

    def make(config: str, shift: int, week: str | None) -> Window:
        return Window(config, "Weekly" if week is None else "RelativeMonthly",
                      DAYS[(first + shift) % 7], week, window.start_time, window.duration_hours,
                      window.utc_offset, freezes)

    return [make("aksManagedNodeOSUpgradeSchedule", 0, None), make("default", 1, None),
            make("aksManagedAutoUpgradeSchedule", 2, up.auto_upgrade_week)]


MAINTENANCE_PAGE = ("Use Planned Maintenance to Schedule and Control Upgrades for Azure "
                    "Kubernetes Service (AKS) Clusters")


def maintenance_file(env: Environment, config: str) -> str:
    return f"$MAINTENANCE_DIR/{env.cluster}-{config}.json"


def _maintenance_steps(env: Environment) -> list[Step]:
    """The three maintenance configurations, each from a file the plan writes (the only way
    to give notAllowedDates), shown in the environment's UTC offset and in UTC."""
    steps = []
    frozen = "; ".join(f"{start}..{end} ({reason})" for start, end, reason in
                       (maintenance_windows(env)[0].freezes)) or say(N_("none"))
    for window in maintenance_windows(env):
        path = maintenance_file(env, window.config)
        note = (say(" {fleet}", fleet=say(FLEET))
                if window.config == "aksManagedAutoUpgradeSchedule" else "")
        steps.append(Step(
            f"maintenance-{window.config}", "04-maintenance", "provision",
            say(N_("Planned maintenance '{config}': {what}, {cadence}, {local} = {utc}; no "
                   "maintenance on the change freezes {frozen} (notAllowedDates: config file "
                   "only; \"{page}\").{note}"),
                config=window.config, what=say(MAINTENANCE_WHAT[window.config]),
                cadence=say(N_("weekly")) if window.cadence == "Weekly" else say(N_("monthly")),
                local=window.local, utc=window.utc, frozen=frozen, page=MAINTENANCE_PAGE,
                note=note),
            _az("az", "aks", "maintenanceconfiguration", "add", "--resource-group", env.rg,
                "--cluster-name", env.cluster, "--name", window.config, "--config-file", path),
            exists=_az("az", "aks", "maintenanceconfiguration", "show", "--resource-group",
                       env.rg, "--cluster-name", env.cluster, "--name", window.config),
            files=((path, json.dumps(window.body(), indent=2) + "\n"),)))
    return steps


def rollout_order(*envs: Environment) -> list[dict[str, str]]:
    """Every environment's maintenance windows, per configuration in the order they open
    within a local week (Monday first; monthly windows by their week of the month). Dev should
    come before prod in each."""
    weeks = ("First", "Second", "Third", "Fourth", "Last")
    rows = []
    for env in envs:
        for window in maintenance_windows(env):
            order = (weeks.index(window.week) if window.week else -1, DAYS.index(window.day),
                     window.start)
            rows.append((window.config, order, {
                "configuration": window.config, "environment": env.environment,
                "local time": window.local, "UTC": window.utc}))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [row for _, _, row in rows]


def channels(env: Environment) -> list[dict[str, str]]:
    """Every upgrade channel azure-cli accepts, what it does, and the ones this plan sets."""
    chosen = {"Kubernetes": env.upgrades.auto_upgrade_channel,
              "node OS": env.upgrades.node_os_upgrade_channel}
    return [{"upgrades": kind, "channel": name, "what it does": what,
             "this environment": "<-" if name == chosen[kind] else ""}
            for kind, table in (("Kubernetes", UPGRADE_CHANNELS), ("node OS", NODE_OS_CHANNELS))
            for name, what in table.items()]


def upgrade_settings(env: Environment, pool: NodePool | None = None) -> dict[str, str]:
    """How a node pool upgrades ("Upgrade Options and Recommendations for Azure Kubernetes
    Service (AKS) Clusters"): production uses max surge 33% with max unavailable 1 (not
    allowed on system pools: "Configure rolling upgrades for Azure Kubernetes Service (AKS) node
    pools") and Cordon for a node whose drain times out (the docs' recommendation: the node is
    quarantined, the upgrade goes on); dev surges one node and keeps Schedule (the upgrade
    fails and the node is made schedulable again, so a blocked drain is seen)."""
    if not env.production:
        return {"--max-surge": "1", "--drain-timeout": "30",
                "--undrainable-node-behavior": "Schedule"}
    settings = {"--max-surge": "33%"}
    if pool is None or pool.mode == "User":
        settings["--max-unavailable"] = "1"
    return {**settings, "--drain-timeout": "30", "--undrainable-node-behavior": "Cordon"}


def _upgrade_settings_steps(env: Environment) -> list[Step]:
    steps = []
    for pool in env.node_pools:
        settings = upgrade_settings(env, pool)
        unavailable = (say(N_(", max unavailable {count}"), count=settings["--max-unavailable"])
                       if "--max-unavailable" in settings else
                       say(N_(" (max unavailable: not allowed on system pools)"))
                       if env.production else "")
        steps.append(Step(
            f"upgrade-settings-{pool.name}", "04-maintenance", "operate",
            say(N_("Pool '{pool}': upgrade with max surge {surge}{unavailable}, {timeout} min "
                   "drain timeout, undrainable nodes {behavior} (\"Upgrade Options and "
                   "Recommendations for Azure Kubernetes Service (AKS) Clusters\")."),
                pool=pool.name, surge=settings["--max-surge"], unavailable=unavailable,
                timeout=settings["--drain-timeout"],
                behavior=settings["--undrainable-node-behavior"]),
            _az("az", "aks", "nodepool", "update", "--resource-group", env.rg,
                "--cluster-name", env.cluster, "--name", pool.name,
                *(part for flag, value in settings.items() for part in (flag, value)))))
    return steps


ROLLBACK_PAGE = "Roll Back Node Pool Versions in Azure Kubernetes Service (AKS)"


def _rollback_steps(env: Environment) -> list[Step]:
    """Undo a node pool upgrade (GA in core azure-cli 2.91). The control plane has no such way
    back: a minor version upgrade of the cluster is one-way."""
    rg, pool = env.rg, env.node_pools[-1].name
    where = ("--resource-group", rg, "--cluster-name", env.cluster, "--name", pool)
    return [
        Step(f"rollback-versions-{pool}", "04-maintenance", "operate",
             say(N_("Pool '{pool}': the version it can roll back to, if any (only within seven "
                    "days of its upgrade, and only to a version AKS still supports; \"{page}\"). "
                    "The control plane cannot roll back: a Kubernetes minor upgrade is one-way, "
                    "so minors reach prod only after dev ran them."),
                 pool=pool, page=ROLLBACK_PAGE),
             _az("az", "aks", "nodepool", "get-rollback-versions", *where)),
        Step("rollback-channels-off", "04-maintenance", "operate",
             N_("Before a rollback: turn the auto-upgrade channel off (required) and the node OS "
                "channel too (else the old node image may not come back); turn both on again once "
                "the cause is fixed."),
             _az("az", "aks", "update", "--resource-group", rg, "--name", env.cluster,
                 "--auto-upgrade-channel", "none", "--node-os-upgrade-channel", "None")),
        Step(f"rollback-{pool}", "04-maintenance", "operate",
             say(N_("Roll pool '{pool}' back to its previous Kubernetes version and node image "
                    "(one step back only; the newer version's security fixes go with it)."),
                 pool=pool),
             _az("az", "aks", "nodepool", "rollback", *where),
             destructive=True),
    ]


# kured only matters on the Unmanaged node OS channel. The AKS docs install its Helm chart
# ("Handle Linux node reboots with kured"); its image comes from ghcr.io, which the firewall does
# not allow, so the plan imports it into your registry first. Chart 6.0.0 ships kured 1.22.1
# (kubereboot/charts, charts/kured/Chart.yaml).
KURED_CHART = ("kubereboot/kured", "6.0.0")
KURED_IMAGE = ("ghcr.io/kubereboot/kured", "1.22.1")
KURED_DAYS = {"Monday": "mo", "Tuesday": "tu", "Wednesday": "we", "Thursday": "th",
              "Friday": "fr", "Saturday": "sa", "Sunday": "su"}
TIME_ZONES = {"+09:00": "Asia/Tokyo", "+00:00": "UTC"}


# The manifests the notebooks apply on a cluster (target aks included). kured.yaml is the local
# lab's; on AKS kured comes from the plan's Helm install (kured-*), only on Unmanaged.
CLUSTER_MANIFESTS = ("voting-app", "node-agents", "psa-pod", "secret-demo", "upgrade-demo",
                     "workload-identity")


def cluster_images(env: Environment) -> list[tuple[str, str]]:
    """(manifest, image) for every image those manifests pull; `$image` is the team's own image
    in the plan's registry."""
    found = []
    for name in CLUSTER_MANIFESTS:
        text = resources.files("aks_runbook.manifests").joinpath(f"{name}.yaml").read_text()
        for image in re.findall(r"^\s*image:\s*(\S+)", text, re.MULTILINE):
            found.append((name, f"{env.acr}.azurecr.io/vote-app:1.0" if image == "$image"
                          else image))
    return found


def _kured_steps(env: Environment) -> list[Step]:
    window = maintenance_windows(env)[0]  # the node OS window: reboots happen only in it
    end = datetime.strptime(window.start, "%H:%M") + timedelta(hours=window.hours)
    zone = TIME_ZONES.get(window.utc_offset, "UTC")
    start, stop = window.start, f"{end:%H:%M}"
    if zone == "UTC" and window.utc_offset != "+00:00":  # no zone name known: convert
        day, minutes = _utc_start(window.day, window.start, window.utc_offset)
        start = f"{minutes // 60:02d}:{minutes % 60:02d}"
        stop = (datetime.strptime(start, "%H:%M") + timedelta(hours=window.hours)).strftime(
            "%H:%M")
        window = replace(window, day=day)
    image, tag = KURED_IMAGE
    local = f"{env.acr}.azurecr.io/kubereboot/kured"
    return [
        Step("kured-image-import", "04-maintenance", "operate",
             say(N_("Third-party images go through your registry: az acr import copies {image} "
                    "into {registry} (the registry fetches it; the nodes pull only from ACR, which "
                    "the firewall allows). ACR artifact cache is the other way (\"Import "
                    "container images to a container registry\")."),
                 image=f"{image}:{tag}", registry=env.acr),
             _az("az", "acr", "import", "--name", env.acr, "--source", f"{image}:{tag}",
                 "--image", f"kubereboot/kured:{tag}")),
        Step("kured-install", "04-maintenance", "operate",
             say(N_("kured from its Helm chart as \"Handle Linux node reboots with kured\" "
                    "installs it (the chart's default nodeSelector: Linux nodes only), its image "
                    "from {registry}, rebooting only in the node OS maintenance window "
                    "({window}); run where the API server is reachable."),
                 registry=env.acr, window=window.local),
             " ".join(["helm", "upgrade", "--install", "kured", KURED_CHART[0], "--version",
                       KURED_CHART[1], "--namespace", "kured", "--create-namespace",
                       "--set", f"image.repository={local}", "--set", f"image.tag={tag}",
                       "--set", f"configuration.rebootDays={{{KURED_DAYS[window.day]}}}",
                       "--set", f"configuration.startTime={start}",
                       "--set", f"configuration.endTime={stop}",
                       "--set", f"configuration.timeZone={zone}"])),
    ]


def _auth_steps(env: Environment, n: dict[str, str], ids: dict[str, str]) -> list[Step]:
    """Chapter 03 on Azure: verify the cluster's identities and door, give the team's Entra
    groups their way in (and in production the delivery pipeline), a workload identity with its
    Key Vault, and an Azure Policy add-on that enforces something."""
    rg, cluster = env.rg, env.cluster
    steps = [
        Step("auth-settings", "03-auth", "operate",
             N_("Verify: managed Entra ID with Azure RBAC, local accounts off, a managed identity "
                "for the control plane and one for the kubelet, the OIDC issuer."),
             _az("az", "aks", "show", "--resource-group", rg, "--name", cluster, "--query",
                 "{entraId: aadProfile.managed, azureRbac: aadProfile.enableAzureRbac, "
                 "adminGroups: aadProfile.adminGroupObjectIDs, "
                 "localAccountsDisabled: disableLocalAccounts, controlPlane: identity.type, "
                 "kubelet: identityProfile.kubeletidentity.resourceId, "
                 "oidcIssuer: oidcIssuerProfile.enabled, "
                 "workloadIdentity: securityProfile.workloadIdentity.enabled}",
                 "--output", "json")),
        Step("acr-pull-role", "03-auth", "operate",
             N_("Verify what --attach-acr assigned: AcrPull on the registry to the kubelet "
                "identity (no registry password anywhere)."),
             _az("az", "role", "assignment", "list", "--assignee", "$KUBELET_OBJECT_ID",
                 "--scope", ids["registry"], "--query", "[].roleDefinitionName", "--output",
                 "tsv")),
    ]
    if not env.api_server.private_cluster:  # check-acr runs kubectl: from the VNET if private
        entra = env.entra.enabled
        steps.append(Step(
            "check-acr", "03-auth", "operate",
            say(N_("Verify from inside the cluster that the nodes can pull from the registry "
                   "(\"Integrate Azure Container Registry with Azure Kubernetes Service (AKS)\"). "
                   "It starts a pod (hostNetwork, root) in namespace default, so the caller "
                   "needs create rights on pods there. {entra}"),
                entra=say(N_("On an Entra ID cluster check-acr's kubeconfig signs in with a "
                             "device code and waits for a person; AAD_LOGIN_METHOD=azurecli "
                             "makes kubelogin use the az sign-in instead (azure-cli 2.91 "
                             "acs/custom.py; microsoft/tyger#21).")) if entra else ""),
            _az("az", "aks", "check-acr", "--resource-group", rg, "--name", cluster, "--acr",
                f"{env.acr}.azurecr.io"),
            env=(("AAD_LOGIN_METHOD", "azurecli"),) if entra else ()))
    steps += _group_steps(env, ids)
    if env.production:
        steps += _pipeline_steps(env, n, ids)
    steps += [
        Step("workload-identity", "03-auth", "operate",
             N_("The application's own user-assigned managed identity (workload identity): no "
                "secret in the pod, a short-lived token exchanged for an Entra ID token."),
             _az("az", "identity", "create", "--resource-group", rg, "--name",
                 n["workload_identity"], "--location", env.location)),
        Step("federated-credential", "03-auth", "operate",
             say(N_("Trust tokens that the cluster's OIDC issuer signs for service account "
                    "{account}, audience {audience}."),
                 account=f"{TEAM_NAMESPACE}/{WORKLOAD_SERVICE_ACCOUNT}",
                 audience=WORKLOAD_AUDIENCE),
             _az("az", "identity", "federated-credential", "create", "--name",
                 f"fc-{TEAM_NAMESPACE}-{WORKLOAD_SERVICE_ACCOUNT}", "--identity-name",
                 n["workload_identity"], "--resource-group", rg, "--issuer", "$OIDC_ISSUER",
                 "--subject", f"system:serviceaccount:{TEAM_NAMESPACE}:"
                              f"{WORKLOAD_SERVICE_ACCOUNT}",
                 "--audiences", WORKLOAD_AUDIENCE)),
        *_key_vault_steps(env, n, ids),
        _safeguards_step(env),
        Step("rotate-certs", "03-auth", "operate",
             N_("Rotate the cluster's certificates, e.g. after local accounts were on and an admin "
                "kubeconfig may have leaked: it recreates every node, scale set and disk, causes "
                "up to 30 minutes of downtime and invalidates every kubeconfig, so run it only in "
                "a maintenance window and fetch credentials again afterwards (\"Manage and Rotate "
                "Certificates in Azure Kubernetes Service (AKS)\")."),
             _az("az", "aks", "rotate-certs", "--resource-group", rg, "--name", cluster,
                 "--yes"),
             destructive=True),
    ]
    return steps


def _group_steps(env: Environment, ids: dict[str, str]) -> list[Step]:
    """The team's groups in this environment and each group's one path to its rights.

    Outside production: the Azure door (Cluster User Role, so `az aks get-credentials` works)
    plus the team's Kubernetes Roles from team-rbac.yaml, bound to the group's object id; those
    Roles say what no built-in Azure role says (developers never read Secrets nor exec). In
    production humans only read: AKS RBAC Reader on the namespace through Azure RBAC (no
    Kubernetes binding), and only the delivery pipeline writes."""
    team = f"{ids['cluster']}/namespaces/{TEAM_NAMESPACE}"
    steps = []
    for role, group in team_groups(env).items():
        steps.append(Step(
            f"group-{role}", "03-auth", "operate",
            say(N_("The team's {role} in {environment} as an Entra ID group of this environment "
                   "only: people join the group, bindings name its object id ({variable}, read "
                   "with az ad group show --query id), never a person (Entra tokens carry group "
                   "object ids: \"Use Microsoft Entra ID and Kubernetes RBAC for clusters\")."),
                role=role, environment=env.environment, variable=f"${role.upper()}_GROUP_ID"),
            _az("az", "ad", "group", "create", "--display-name", group, "--mail-nickname",
                group),
            exists=_az("az", "ad", "group", "show", "--group", group)))
    for role in TEAM_ROLES:
        inside = (say(N_("inside, AKS RBAC Reader on namespace {namespace} (next step): "
                         "production is read-only for people"), namespace=TEAM_NAMESPACE)
                  if env.production else
                  say(N_("inside, the {role} Role of team-rbac.yaml bound to the group's object "
                         "id {variable}"), role=role[:-1], variable=f"${role.upper()}_GROUP_ID"))
        steps.append(Step(
            f"cluster-user-{role}", "03-auth", "operate",
            say(N_("The {role} may fetch the user kubeconfig (Cluster User Role: "
                   "listClusterUserCredential; without it az aks get-credentials fails: \"Limit "
                   "access to kubeconfig in Azure Kubernetes Service (AKS)\"); {inside}."),
                role=role, inside=inside),
            _az("az", "role", "assignment", "create", "--role",
                "Azure Kubernetes Service Cluster User Role", "--assignee-object-id",
                f"${role.upper()}_GROUP_ID", "--assignee-principal-type", "Group", "--scope",
                ids["cluster"])))
    if env.production:
        for role in TEAM_ROLES:
            steps.append(Step(
                f"rbac-reader-{role}", "03-auth", "operate",
                say(N_("Production: the {role} read namespace {namespace} through Azure RBAC "
                       "(AKS RBAC Reader: no Secrets, no roles) and nothing more; write access "
                       "is the pipeline's, emergency admin rights come from the PIM-eligible "
                       "admin group (\"Control cluster and node access using Privileged "
                       "Identity Management (PIM) with Microsoft Entra integration\")."),
                    role=role, namespace=TEAM_NAMESPACE),
                _az("az", "role", "assignment", "create", "--role",
                    "Azure Kubernetes Service RBAC Reader", "--assignee-object-id",
                    f"${role.upper()}_GROUP_ID", "--assignee-principal-type", "Group",
                    "--scope", team)))
    return steps


def _pipeline_steps(env: Environment, n: dict[str, str], ids: dict[str, str]) -> list[Step]:
    """Production's only writer: the delivery pipeline, signing in without a secret."""
    rg = env.rg
    subject = f"repo:{env.delivery.repository}:environment:{env.environment}"
    team = f"{ids['cluster']}/namespaces/{TEAM_NAMESPACE}"
    return [
        Step("pipeline-identity", "03-auth", "operate",
             N_("The delivery pipeline's user-assigned identity: the only principal that changes "
                "workloads in production."),
             _az("az", "identity", "create", "--resource-group", rg, "--name",
                 n["pipeline_identity"], "--location", env.location)),
        Step("pipeline-federated-credential", "03-auth", "operate",
             say(N_("Workload identity federation for the pipeline: the identity trusts GitHub "
                    "Actions' OIDC token for {subject} only (no client secret to leak or rotate; "
                    "\"Use GitHub Actions to connect to Azure\")."), subject=subject),
             _az("az", "identity", "federated-credential", "create", "--name",
                 f"fc-github-{env.environment}", "--identity-name", n["pipeline_identity"],
                 "--resource-group", rg, "--issuer", PIPELINE_ISSUER, "--subject", subject,
                 "--audiences", WORKLOAD_AUDIENCE)),
        Step("cluster-user-pipeline", "03-auth", "operate",
             N_("The pipeline may fetch the user kubeconfig (Cluster User Role)."),
             _az("az", "role", "assignment", "create", "--role",
                 "Azure Kubernetes Service Cluster User Role", "--assignee-object-id",
                 "$PIPELINE_PRINCIPAL_ID", "--assignee-principal-type", "ServicePrincipal",
                 "--scope", ids["cluster"])),
        Step("rbac-writer-pipeline", "03-auth", "operate",
             say(N_("The pipeline deploys into namespace {namespace} (AKS RBAC Writer, that "
                    "namespace only; it can read the namespace's Secrets, so only reviewed "
                    "changes run: \"Use Microsoft Entra ID Authorization for the Kubernetes API "
                    "in Azure Kubernetes Service (AKS)\")."), namespace=TEAM_NAMESPACE),
             _az("az", "role", "assignment", "create", "--role",
                 "Azure Kubernetes Service RBAC Writer", "--assignee-object-id",
                 "$PIPELINE_PRINCIPAL_ID", "--assignee-principal-type", "ServicePrincipal",
                 "--scope", team)),
    ]


def _key_vault_steps(env: Environment, n: dict[str, str], ids: dict[str, str]) -> list[Step]:
    """The application's vault: RBAC-authorized, purge-protected, private in a private design;
    the operator who writes the secret gets the data-plane role first."""
    rg, vault = env.rg, n["key_vault"]
    private = env.api_server.private_cluster
    args: list[object] = ["az", "keyvault", "create", "--resource-group", rg, "--name", vault,
                          "--location", env.location, "--enable-rbac-authorization", "true",
                          "--enable-purge-protection", "true", "--retention-days", "90"]
    if private:
        args += ["--public-network-access", "Disabled"]
    steps = [Step(
        "key-vault", "03-auth", "operate",
        N_("A Key Vault for the application's secrets, authorized with Azure RBAC (no access "
           "policies), with purge protection (a deleted vault or secret stays recoverable for 90 "
           "days and nobody can purge it early: \"Azure Key Vault soft-delete overview\"); "
           "public network access off: the private cluster reaches it over a private endpoint "
           "(\"Use the Azure Key Vault Provider for Secrets Store CSI Driver for Azure "
           "Kubernetes Service (AKS) Secrets\", Network).") if private else
        N_("A Key Vault for the application's secrets, authorized with Azure RBAC (no access "
           "policies), with purge protection (a deleted vault or secret stays recoverable for 90 "
           "days and nobody can purge it early: \"Azure Key Vault soft-delete overview\")."),
        _az(*args),
        exists=_az("az", "keyvault", "show", "--resource-group", rg, "--name", vault))]
    if private:
        steps += [
            Step("key-vault-dns-zone", "03-auth", "operate",
                 say(N_("The private DNS zone {zone}: the vault's name resolves to its private "
                        "endpoint."), zone=VAULT_ZONE),
                 _az("az", "network", "private-dns", "zone", "create", "--resource-group", rg,
                     "--name", VAULT_ZONE)),
            Step("key-vault-dns-link", "03-auth", "operate",
                 N_("Link the zone to the cluster's VNET so the nodes use it."),
                 _az("az", "network", "private-dns", "link", "vnet", "create",
                     "--resource-group", rg, "--zone-name", VAULT_ZONE, "--name",
                     f"link-{n['vnet']}", "--virtual-network", n["vnet"],
                     "--registration-enabled", "false")),
            Step("key-vault-endpoint", "03-auth", "operate",
                 N_("The vault's private endpoint (group id vault) in the endpoint subnet."),
                 _az("az", "network", "private-endpoint", "create", "--resource-group", rg,
                     "--name", n["vault_endpoint"], "--location", env.location,
                     "--vnet-name", n["vnet"], "--subnet", n["endpoint_subnet"],
                     "--private-connection-resource-id", ids["key_vault"], "--group-id",
                     "vault", "--connection-name", "vault")),
            Step("key-vault-endpoint-dns", "03-auth", "operate",
                 N_("Let the endpoint write the vault's A record into the zone."),
                 _az("az", "network", "private-endpoint", "dns-zone-group", "create",
                     "--resource-group", rg, "--endpoint-name", n["vault_endpoint"], "--name",
                     "vault", "--private-dns-zone", VAULT_ZONE, "--zone-name", "vault")),
        ]
    admins = env.entra.admin_group_object_ids
    if env.production and admins:  # no standing human write access in production
        writer, kind = str(admins[0]), "Group"
        who = say(N_("The PIM-eligible admin group may write secrets of this vault (Key Vault "
                     "Secrets Officer): activate your membership just in time before the next "
                     "step, so no person holds standing write access in production"))
    else:
        writer, kind = "$OPERATOR_OBJECT_ID", "User"
        who = say(N_("You (the signed-in operator) may write secrets of this vault (Key Vault "
                     "Secrets Officer)"))
    steps += [
        Step("key-vault-secrets-officer", "03-auth", "operate",
             say(N_("{who}: on an RBAC vault even the subscription's Owner has no data-plane "
                    "rights (\"Provide access to Key Vault keys, certificates, and secrets with "
                    "Azure role-based access control\"). Role assignments can take a few minutes "
                    "to apply."), who=who),
             _az("az", "role", "assignment", "create", "--role", "Key Vault Secrets Officer",
                 "--assignee-object-id", writer, "--assignee-principal-type", kind, "--scope",
                 ids["key_vault"])),
        Step("key-vault-secret", "03-auth", "operate",
             say(N_("Store the application's secret {secret}, read from the file $SECRET_FILE "
                    "(never typed on the command line, never printed: --output none). The vault "
                    "has no public access: run this from inside the VNET (a jump box or "
                    "Bastion)."), secret=APP_SECRET) if private else
             say(N_("Store the application's secret {secret}, read from the file $SECRET_FILE "
                    "(never typed on the command line, never printed: --output none)."),
                 secret=APP_SECRET),
             _az("az", "keyvault", "secret", "set", "--vault-name", vault, "--name", APP_SECRET,
                 "--file", "$SECRET_FILE", "--encoding", "utf-8", "--output", "none")),
        Step("key-vault-secrets-user", "03-auth", "operate",
             N_("The workload identity may read secrets of that vault only (Key Vault Secrets "
                "User); the Secrets Store CSI driver mounts them as files."),
             _az("az", "role", "assignment", "create", "--role", "Key Vault Secrets User",
                 "--assignee-object-id", "$WORKLOAD_PRINCIPAL_ID", "--assignee-principal-type",
                 "ServicePrincipal", "--scope", ids["key_vault"])),
    ]
    return steps


def _safeguards_step(env: Environment) -> Step:
    level = "Enforce" if env.production else "Warn"
    return Step(
        "policy-safeguards", "03-auth", "operate",
        say(N_("Give the Azure Policy add-on something to enforce: Deployment Safeguards at "
               "level {level} ({effect} non-compliant workloads) with the Baseline Pod Security "
               "Standard; without it or an assigned initiative the add-on enforces nothing "
               "(\"Use Deployment Safeguards to Enforce Best Practices in Azure Kubernetes "
               "Service (AKS)\")."), level=level,
            effect=say(N_("deny or mutate")) if level == "Enforce" else say(N_("warn about"))),
        _az("az", "aks", "safeguards", "create", "--resource-group", env.rg, "--name",
            env.cluster, "--level", level, "--pss-level", "Baseline"))


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
        ja, jb = _file_fields(mine[0]), _file_fields(theirs[0])
        for key in [*ja, *(k for k in jb if k not in ja)]:
            if ja.get(key) != jb.get(key):  # e.g. a maintenance window's day in its file
                rows.append({"step": stem, "chapter": chapter, "flag": f"(file) {key}",
                             a.environment: ja.get(key, ABSENT),
                             b.environment: jb.get(key, ABSENT)})
    return rows


def _file_fields(step: Step) -> dict[str, str]:
    """The JSON files a step writes, flattened to dotted keys (lists as JSON)."""
    out: dict[str, str] = {}

    def walk(value, prefix: str) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(item, f"{prefix}.{key}" if prefix else key)
        else:
            out[prefix] = json.dumps(value) if isinstance(value, list | dict) else str(value)

    for _, text in step.files:
        try:
            walk(json.loads(text), "")
        except ValueError:
            out["(content)"] = text
    return {key.removeprefix("properties.maintenanceWindow."): value
            for key, value in out.items()}


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


def _write_samples(steps: list[Step], holders: dict[str, Placeholder]) -> None:
    """The files the steps read, at their sample paths, so azure-cli can read them offline
    (the secret's sample holds a dummy value, never a real one)."""
    samples = {name: h.sample for name, h in holders.items()}
    files = [(fill(path, samples), fill(text, samples)) for s in steps for path, text in s.files]
    if any("$SECRET_FILE" in s.command for s in steps):
        files.append((holders["SECRET_FILE"].sample, "sample-not-a-secret\n"))
    for path, text in files:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def validated(env: Environment, chapter: str | None = None) -> list[Step]:
    """The plan (or one chapter of it) with each line checked by azure-cli's own code."""
    steps = [s for s in build(env) if chapter in (None, s.chapter)]
    holders = placeholders(env)
    _write_samples(steps, holders)
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
        lines.append(f"{number:>2}. [{step.chapter}] {said(step.reason)}{status}")
        for name in step.placeholders:  # where a value only Azure knows comes from
            if name not in read:
                lines.append(f"    {name}=$({holders[name].lookup})")
                read.add(name)
        for path, text in step.files:
            lines.append(f"    writes {path}:")
            lines += [f"      {line}" for line in text.splitlines()]
        lines.append(f"    {step.shown}")
        if step.validation and not step.validation.ok:
            lines.append(f"    -> {step.validation.message.splitlines()[0]}")
    return "\n".join(lines)


def _status(step: Step) -> str:
    v = step.validation
    if v is None:
        return "not checked"
    if v.status != "not validated":
        return v.status
    needed = re.search(r"handler then needed (\S+) (\S+?),? which", v.message)
    if needed:  # the full call is in the message; the label names its last segment
        method, path = needed.groups()
        return f"not validated: the handler needs {method} …/{path.rsplit('/', 1)[-1]}"
    return "not validated: " + v.message.split(":")[0].split(", so ")[0]


def _as_dict(step: Step) -> dict:
    data = asdict(step)
    data["validation"] = asdict(step.validation) if step.validation else None
    data["status"] = _status(step)
    data["shown"] = step.shown
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
        out.append(f"# [{step.chapter}] {said(step.reason)} ({_status(step)})")
        for path, text in step.files:
            out.append(f'mkdir -p "$(dirname "{path}")"')
            out.append(f"cat > \"{path}\" <<'JSON'")
            out += text.rstrip("\n").splitlines()
            out.append("JSON")
        out.append(step.shown)
        out.append("")
    return "\n".join(out)


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
