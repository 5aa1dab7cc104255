"""How many subnet addresses each network model consumes (the network chapter's calculator).

Azure reserves 5 addresses in every subnet. With Azure CNI Node Subnet (legacy, once "flat")
every node takes one address plus one per pod it may run (pre-allocated up to max pods). With
kubenet and with Azure CNI Overlay pods live in a separate, non-VNET pod CIDR, so a node takes
one address.
An upgrade surges one extra node per pool (max surge 1, AKS's default).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

AZURE_RESERVED = 5
UPGRADE_SURGE = 1


@dataclass(frozen=True)
class PoolDemand:
    name: str
    nodes: int
    max_pods: int


def addresses_per_node(plugin: str, plugin_mode: str | None, max_pods: int) -> int:
    flat_azure_cni = plugin == "azure" and plugin_mode != "overlay"
    return 1 + (max_pods if flat_azure_cni else 0)


def model_name(plugin: str, plugin_mode: str | None) -> str:
    if plugin == "azure":
        return "Azure CNI Overlay" if plugin_mode == "overlay" else "Azure CNI Node Subnet (legacy)"
    return {"kubenet": "kubenet", "none": "BYO CNI"}.get(plugin, plugin)


def subnet_demand(plugin: str, plugin_mode: str | None, pools: list[PoolDemand]) -> int:
    """Addresses needed in the node subnet, upgrades included."""
    used = sum((p.nodes + UPGRADE_SURGE) * addresses_per_node(plugin, plugin_mode, p.max_pods)
               for p in pools)
    return used + AZURE_RESERVED


def subnet_capacity(subnet: IPv4Network) -> int:
    return subnet.num_addresses


def smallest_prefix(demand: int) -> int:
    """The longest prefix (smallest subnet) that holds `demand` addresses."""
    prefix = 32
    while prefix > 0 and 2 ** (32 - prefix) < demand:
        prefix -= 1
    return prefix
