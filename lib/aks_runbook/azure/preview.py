"""What only the aks-preview extension adds to `az aks`: a fact table written for this project.

Consulted only after core azure-cli (2.91.0, pinned) rejected a command, a flag or a value, so
that anything that becomes core is validated normally; tests/test_azvalidate.py checks that core
azure-cli really rejects every entry. Sources: aks-preview's parameters and constants
(Azure/azure-cli-extensions, src/aks-preview/azext_aks_preview/_params.py, _consts.py,
commands.py) and the AKS docs articles that tell readers to install aks-preview for each
feature (MicrosoftDocs/azure-aks-docs, articles/aks/*.md).
"""

from __future__ import annotations

import re

_CLUSTER = ("aks create", "aks update")
_POOL = ("aks nodepool add", "aks nodepool update")
_CREATE = ("aks create", "aks nodepool add")
_ALL = (*_CLUSTER, *_POOL)

# flag -> (takes a value, commands that accept it with aks-preview installed)
PREVIEW_FLAGS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "--ssh-access": (True, _ALL),
    "--enable-imds-restriction": (False, _CLUSTER),
    "--disable-imds-restriction": (False, ("aks update",)),
    "--enable-pod-identity": (False, _CLUSTER),
    "--enable-pod-identity-with-kubenet": (False, _CLUSTER),
    "--disable-pod-identity": (False, ("aks update",)),
    "--kube-proxy-config": (True, _CLUSTER),
    "--enable-image-integrity": (False, _CLUSTER),
    "--disable-image-integrity": (False, ("aks update",)),
    "--enable-node-restriction": (False, _CLUSTER),
    "--disable-node-restriction": (False, ("aks update",)),
    "--node-init-taints": (True, (*_CREATE, "aks nodepool update", "aks update")),
    "--nodepool-initialization-taints": (True, _CLUSTER),
    "--enable-advanced-network-observability": (False, _CLUSTER),
    "--disable-advanced-network-observability": (False, ("aks update",)),
    "--enable-fqdn-policy": (False, _CLUSTER),
    "--disable-fqdn-policy": (False, ("aks update",)),
    "--enable-retina-flow-logs": (False, _CLUSTER),
    "--disable-retina-flow-logs": (False, ("aks update",)),
    "--enable-addon-autoscaling": (False, _CLUSTER),
    "--disable-addon-autoscaling": (False, ("aks update",)),
    "--enable-custom-ca-trust": (False, _ALL),
    "--disable-custom-ca-trust": (False, ("aks update", "aks nodepool update")),
    "--enable-managed-gpu": (True, _CREATE),
    "--gpu-driver": (True, ("aks create",)),
    "--enable-cost-analysis-exporter": (False, _CLUSTER),
    "--safeguards-level": (True, _CLUSTER),
    "--safeguards-version": (True, _CLUSTER),
    "--safeguards-excluded-ns": (True, _CLUSTER),
    "--cluster-snapshot-id": (True, ("aks create",)),
    "--control-plane-scaling-size": (True, _CLUSTER),
    "--enable-optimized-addon-scaling": (False, _CLUSTER),
    "--gpu-mig-strategy": (True, _CREATE),
    "--schedule-config": (True, _CLUSTER),
    "--maintenance-window": (True, _CLUSTER),
    "--upgrade-strategy": (True, (*_POOL, "aks nodepool upgrade")),
    "--drain-timeout-bg": (True, (*_POOL, "aks nodepool upgrade")),
    "--batch-soak-duration": (True, (*_POOL, "aks nodepool upgrade")),
    "--drain-batch-size": (True, (*_POOL, "aks nodepool upgrade")),
    "--final-soak-duration": (True, (*_POOL, "aks nodepool upgrade")),
    "--enable-continuous-control-plane-and-addon-monitor": (False, _CLUSTER),
    "--disable-continuous-control-plane-and-addon-monitor": (False, ("aks update",)),
    "--zones": (True, ("aks nodepool update",)),
    "--enable-hpa": (False, ("aks create",)),
    "--enable-osdisk-full-caching": (False, (*_CREATE, "aks nodepool update")),
    "--kms-infrastructure-encryption": (True, _CLUSTER),
    "--ssh-key-value": (True, ("aks update",)),
    "--prepared-image-specification-id": (True, (*_CREATE, "aks nodepool update", "aks update")),
    "--node-vm-size": (True, ("aks nodepool update",)),
    "--cluster-service-load-balancer-health-probe-mode": (True, _CLUSTER),
    "--max-pods": (True, ("aks nodepool update",)),
    "--max-blocked-nodes": (True, (*_POOL, "aks nodepool upgrade")),
    "--node-disruption-policy": (True, _CLUSTER),
    "--driver-type": (True, _CREATE),
    "--disable-optimized-addon-scaling": (False, ("aks update",)),
}

# (flag, value) accepted only with aks-preview: -> commands
PREVIEW_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("--os-sku", "flatcar"): _CREATE,
    ("--os-sku", "azurelinuxosguard"): _CREATE,
    ("--os-sku", "azurelinux3osguard"): _CREATE,
    ("--os-sku", "windowsannual"): _CREATE,
    ("--outbound-type", "managednatgatewayv2"): _CLUSTER,
    ("--outbound-type", "block"): _CLUSTER,
    ("--mode", "machines"): ("aks nodepool add",),
    ("--workload-runtime", "kataccisolation"): _CREATE,
    ("--acns-transit-encryption-type", "mtls"): _CLUSTER,
    ("--os-sku", "windows2022"): ("aks nodepool update",),
    ("--os-sku", "windows2025"): ("aks nodepool update",),
    ("--workload-runtime", "wasmwasi"): _CREATE,
}

# Command groups and commands that only aks-preview has.
PREVIEW_COMMANDS = (
    "aks loadbalancer", "aks bastion", "aks addon", "aks check-network", "aks draft",
    "aks kollect", "aks kanalyze", "aks jwtauthenticator", "aks extension",
    "aks pod-identity", "aks list-vm-skus", "aks operation",
    "aks prepared-image-specification",
)


def takes_value(flag: str) -> bool:
    return PREVIEW_FLAGS.get(flag, (True, ()))[0]


def flags_of(command: str) -> list[str]:
    """The preview flags a command accepts with aks-preview (for did-you-mean)."""
    return [f for f, (_, commands) in PREVIEW_FLAGS.items() if command in commands]


def preview_flags(command: str, rejected: list[str]) -> list[str]:
    """The flags among those core rejected that aks-preview has for this command."""
    return [f for f in rejected if command in PREVIEW_FLAGS.get(f, (True, ()))[1]]


def preview_command(words: str) -> str | None:
    """The aks-preview command group or command `words` falls in, if any."""
    for command in PREVIEW_COMMANDS:
        if words == command or words.startswith(command + " "):
            return command
    return None


_INVALID_VALUE = re.compile(r"'([^']*)' is not a valid value for '(--[a-z0-9-]+)'")


# Values core azure-cli's validators reject with their own message: (flag, commands, what
# the rejected value looks like, a fragment of core's error). Service tags as authorized
# ranges: "API Server Authorized IP Ranges with service tags" (aks-preview).
PREVIEW_VALIDATOR_VALUES = [
    ("--api-server-authorized-ip-ranges", _CLUSTER, r"(^|,)[A-Za-z][A-Za-z.]*(,|$)",
     "--api-server-authorized-ip-ranges should be a list of IPv4 addresses or CIDRs"),
]


def preview_value(command: str, errors: list[str], argv: list[str]) -> tuple[str, str] | None:
    """(flag, value) when core rejected a value that aks-preview accepts for this command."""
    for flag, commands, looks, says in PREVIEW_VALIDATOR_VALUES:
        value = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag), None)
        if command in commands and value and re.search(looks, value) and any(
                says in e for e in errors):
            return flag, value
    for error in errors:
        match = _INVALID_VALUE.search(error)
        if match and command in PREVIEW_VALUES.get((match.group(2), match.group(1).lower()), ()):
            return match.group(2), match.group(1)
    return None
