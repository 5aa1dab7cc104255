"""The az steps each chapter needs, for given parameters, in the order they must run.

A step is one az line with a one-line reason. Values only Azure knows (the subscription, the
firewall's public IP) appear as $PLACEHOLDERS: the sh format looks them up, execution resolves
them through the runner, and validation substitutes documentation-range samples.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field, replace
from ipaddress import IPv4Network

from aks_runbook.azvalidate import Validation, validate
from aks_runbook.params import Environment
from aks_runbook.runner import Runner, StepFailed

CHAPTERS = ("01-overview", "02-network", "03-auth", "04-maintenance")


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
        return [word[1:] for word in _words(self.command) if word.startswith("$")]


def _words(command: str) -> list[str]:
    words = []
    for token in command.replace(",", " ").replace("/", " ").split():
        if token.startswith("$"):
            words.append(token.rstrip("'\""))
    return words


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
    names = _names(env)
    return {
        "SUBSCRIPTION_ID": Placeholder(
            "SUBSCRIPTION_ID", "az account show --query id -o tsv",
            "00000000-0000-0000-0000-000000000000"),
        "KUBECONFIG": Placeholder(
            "KUBECONFIG", 'echo "${KUBECONFIG:-$HOME/.kube/config}"', "/tmp/aks-kubeconfig"),
        "FIREWALL_PUBLIC_IP": Placeholder(
            "FIREWALL_PUBLIC_IP",
            _az("az", "network", "public-ip", "show", "--resource-group", env.rg, "--name",
                names["firewall_ip"], "--query", "ipAddress", "-o", "tsv"),
            "20.48.0.10"),
    }


def _names(env: Environment) -> dict[str, str]:
    return {
        "vnet": f"vnet-{env.cluster}",
        "node_subnet": "snet-nodes",
        "firewall": f"fw-{env.cluster}",
        "firewall_ip": f"pip-fw-{env.cluster}",
        "route_table": f"rt-{env.cluster}",
        "identity": f"id-{env.cluster}",
    }


def firewall_private_ip(subnet: IPv4Network) -> str:
    """Azure gives the firewall the first address after the 4 it reserves (.4 in a /26)."""
    return str(subnet.network_address + 4)


def build(env: Environment) -> list[Step]:
    n = _names(env)
    net = env.network
    rg, loc = env.rg, env.location
    sub = str(env.subscription_id) if env.subscription_id else "$SUBSCRIPTION_ID"
    subnet_id = (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/"
                 f"virtualNetworks/{n['vnet']}/subnets/{n['node_subnet']}")
    identity_id = (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/"
                   f"Microsoft.ManagedIdentity/userAssignedIdentities/{n['identity']}")
    udr = env.egress.outbound_type == "userDefinedRouting"
    fw = ("--resource-group", rg, "--firewall-name", n["firewall"])
    steps = [
        Step("resource-group", "01-overview", "provision",
             "One resource group holds everything this environment creates (and deletes).",
             _az("az", "group", "create", "--name", rg, "--location", loc)),
        Step("vnet", "02-network", "provision",
             "A VNET of its own (reached over Private Link) rather than a shared VDC: saves "
             "address space and isolates the cluster.",
             _az("az", "network", "vnet", "create", "--resource-group", rg, "--name", n["vnet"],
                 "--location", loc, "--address-prefixes", net.vnet_cidr,
                 "--subnet-name", n["node_subnet"], "--subnet-prefixes", net.node_subnet_cidr)),
        Step("identity", "03-auth", "provision",
             "The control plane's user-assigned managed identity: no service principal secret "
             "to rotate, and it can be granted rights on the subnet before the cluster exists.",
             _az("az", "identity", "create", "--resource-group", rg, "--name", n["identity"],
                 "--location", loc)),
    ]
    if udr:
        steps += _egress_steps(env, n, fw)
    steps += [
        Step("acr", "01-overview", "provision",
             "Your private images live in ACR (MCR serves AKS's own); no admin user: AKS pulls "
             "with its kubelet identity.",
             _az("az", "acr", "create", "--resource-group", rg, "--name", env.acr,
                 "--location", loc, "--sku", "Standard", "--admin-enabled", "false"),
             exists=_az("az", "acr", "show", "--resource-group", rg, "--name", env.acr)),
        Step("aks-create", "01-overview", "provision",
             "The cluster, with every security setting of the later chapters at creation time.",
             _aks_create(env, subnet_id, identity_id, udr),
             exists=_az("az", "aks", "show", "--resource-group", rg, "--name", env.cluster)),
    ]
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
    steps += [
        Step("credentials", "03-auth", "provision",
             "User credentials (Entra ID, through kubelogin); with local accounts disabled, "
             "`--admin` fails by design.",
             _az("az", "aks", "get-credentials", "--resource-group", rg, "--name", env.cluster,
                 "--format", "exec", "--file", "$KUBECONFIG", "--overwrite-existing")),
        *_maintenance_steps(env),
        Step("upgrades", "04-maintenance", "operate",
             "Which Kubernetes versions this cluster can move to.",
             _az("az", "aks", "get-upgrades", "--resource-group", rg, "--name", env.cluster,
                 "--output", "table")),
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


def _egress_steps(env: Environment, n: dict[str, str], fw: tuple) -> list[Step]:
    net, rg, loc = env.network, env.rg, env.location
    nodes = str(net.node_subnet_cidr)
    return [
        Step("firewall-extension", "02-network", "provision",
             "Azure Firewall's commands come from an az extension (not part of core az).",
             _az("az", "extension", "add", "--name", "azure-firewall", "--upgrade")),
        Step("firewall-subnet", "02-network", "provision",
             "Azure Firewall needs its own subnet named AzureFirewallSubnet.",
             _az("az", "network", "vnet", "subnet", "create", "--resource-group", rg,
                 "--vnet-name", n["vnet"], "--name", "AzureFirewallSubnet",
                 "--address-prefixes", net.firewall_subnet_cidr)),
        Step("firewall-ip", "02-network", "provision",
             "The firewall's public IP: all egress leaves through it (and it must be in the "
             "API server's authorized ranges).",
             _az("az", "network", "public-ip", "create", "--resource-group", rg, "--name",
                 n["firewall_ip"], "--location", loc, "--sku", "Standard")),
        Step("firewall", "02-network", "provision",
             "Egress lockdown (出力経路の制限): one firewall sees and filters all outbound "
             "traffic.",
             _az("az", "network", "firewall", "create", "--resource-group", rg, "--name",
                 n["firewall"], "--location", loc, "--enable-dns-proxy", "true")),
        Step("firewall-ipconfig", "02-network", "provision",
             "Attach the firewall to its subnet and public IP.",
             _az("az", "network", "firewall", "ip-config", "create", *fw, "--name",
                 "fw-ipconfig", "--public-ip-address", n["firewall_ip"], "--vnet-name",
                 n["vnet"])),
        Step("firewall-fqdn-rules", "02-network", "provision",
             "Allow only what AKS needs (FQDN tag AzureKubernetesService) and your own ACR.",
             _az("az", "network", "firewall", "application-rule", "create", *fw,
                 "--collection-name", "aks-fqdn", "--name", "aks-required", "--action", "Allow",
                 "--priority", "100", "--source-addresses", nodes, "--protocols", "http=80",
                 "https=443", "--fqdn-tags", "AzureKubernetesService")),
        Step("firewall-acr-rule", "02-network", "provision",
             "Your registry's login and data endpoints.",
             _az("az", "network", "firewall", "application-rule", "create", *fw,
                 "--collection-name", "aks-registry", "--name", "acr", "--action", "Allow",
                 "--priority", "110", "--source-addresses", nodes, "--protocols", "https=443",
                 "--target-fqdns", f"{env.acr}.azurecr.io", f"{env.acr}.{loc}.data.azurecr.io")),
        Step("firewall-network-rules", "02-network", "provision",
             "Required network rules: tunnel to the control plane (UDP 1194, TCP 9000) and NTP.",
             _az("az", "network", "firewall", "network-rule", "create", *fw,
                 "--collection-name", "aks-network", "--name", "aks-tunnel-ntp",
                 "--action", "Allow", "--priority", "100", "--protocols", "UDP", "TCP",
                 "--source-addresses", nodes, "--destination-addresses",
                 f"AzureCloud.{loc}", "--destination-ports", "1194", "9000", "123")),
        Step("route-table", "02-network", "provision",
             "A route table for the node subnet.",
             _az("az", "network", "route-table", "create", "--resource-group", rg, "--name",
                 n["route_table"], "--location", loc)),
        Step("route-default", "02-network", "provision",
             "Send 0.0.0.0/0 to the firewall's private IP.",
             _az("az", "network", "route-table", "route", "create", "--resource-group", rg,
                 "--route-table-name", n["route_table"], "--name", "default-via-firewall",
                 "--address-prefix", "0.0.0.0/0", "--next-hop-type", "VirtualAppliance",
                 "--next-hop-ip-address", firewall_private_ip(net.firewall_subnet_cidr))),
        Step("route-table-attach", "02-network", "provision",
             "Attach the route table to the node subnet (required before "
             "--outbound-type userDefinedRouting).",
             _az("az", "network", "vnet", "subnet", "update", "--resource-group", rg,
                 "--vnet-name", n["vnet"], "--name", n["node_subnet"], "--route-table",
                 n["route_table"])),
    ]


def _aks_create(env: Environment, subnet_id: str, identity_id: str, udr: bool) -> str:
    net, api, entra, up = env.network, env.api_server, env.entra, env.upgrades
    system = next(p for p in env.node_pools if p.mode == "System")
    ranges = [str(r) for r in api.authorized_ip_ranges]
    if ranges and udr:
        ranges.append("$FIREWALL_PUBLIC_IP/32")
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
    args += ["--service-cidr", net.service_cidr, "--dns-service-ip", net.dns_service_ip,
             "--vnet-subnet-id", subnet_id, "--outbound-type", env.egress.outbound_type]
    if api.private_cluster:
        args += ["--enable-private-cluster"]
    elif ranges:
        args += ["--api-server-authorized-ip-ranges", ",".join(ranges)]
    args += ["--enable-managed-identity", "--assign-identity", identity_id]
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


def _maintenance_steps(env: Environment) -> list[Step]:
    window = env.upgrades.maintenance_window
    steps = []
    for config, what in (("aksManagedAutoUpgradeSchedule", "Kubernetes upgrades"),
                         ("aksManagedNodeOSUpgradeSchedule", "node OS updates")):
        steps.append(Step(
            f"maintenance-{config}", "04-maintenance", "provision",
            f"Planned maintenance: {what} only in the weekly window.",
            _az("az", "aks", "maintenanceconfiguration", "add", "--resource-group", env.rg,
                "--cluster-name", env.cluster, "--name", config, "--schedule-type", "Weekly",
                "--day-of-week", window.day_of_week, "--interval-weeks", "1",
                "--start-time", window.start_time, "--duration", window.duration_hours,
                "--utc-offset", window.utc_offset),
            exists=_az("az", "aks", "maintenanceconfiguration", "show", "--resource-group",
                       env.rg, "--cluster-name", env.cluster, "--name", config)))
    return steps


# ---- validation, rendering, execution -------------------------------------------------------

def for_validation(step: Step, holders: dict[str, Placeholder]) -> str:
    """The step with documentation-range samples in place of its $PLACEHOLDERS."""
    command = step.command
    for name, holder in holders.items():
        command = command.replace(f"${name}", holder.sample)
    return command


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
    lines = []
    for number, step in enumerate(steps, 1):
        status = f"  [{_status(step)}]" if step.validation else ""
        lines.append(f"{number:>2}. [{step.chapter}] {step.reason}{status}")
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
            if name in needed and name not in defined:
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
    for step in steps:
        if step.exists and runner.run(step.exists, step=f"{step.id}:exists", check=False,
                                      retries=0, quiet=True).ok:
            print(f"# {step.id}: exists already, skipped")
            continue
        command = step.command
        for name in step.placeholders:
            if name not in values:
                values[name] = runner.run(holders[name].lookup, step=f"lookup {name}",
                                          quiet=True).stdout.strip()
            command = command.replace(f"${name}", values[name])
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
                          "azureKeyvaultSecretsProvider": {"enabled": True}},
        "autoUpgradeProfile": {"upgradeChannel": up.auto_upgrade_channel,
                               "nodeOsUpgradeChannel": up.node_os_upgrade_channel},
        "agentPoolProfiles": [
            {"name": p.name, "count": p.count, "vmSize": p.vm_size, "mode": p.mode,
             "maxPods": p.max_pods, "orchestratorVersion": env.kubernetes_version,
             "enableNodePublicIp": False, "osSku": "Ubuntu"} for p in env.node_pools],
    }
