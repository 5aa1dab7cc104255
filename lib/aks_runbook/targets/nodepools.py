"""Simulated nodes shaped like AKS node pools, for the local (kwok) cluster."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from aks_runbook import manifests

SYSTEM_TAINT = {"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}
NODE_IMAGE = "AKSUbuntu-2204gen2containerd-202511.07.0"


@dataclass(frozen=True)
class PoolShape:
    name: str
    count: int
    vm_size: str = "Standard_D4ds_v5"
    mode: str = "User"  # System or User, as AKS spells it


DEFAULT_POOLS = (PoolShape("system", 1, mode="System"), PoolShape("user", 2))


def vmss_id(pool: str) -> str:
    """AKS puts an 8-digit number in node names; derive it so names are stable across runs."""
    return f"{zlib.crc32(pool.encode()) % 10**8:08d}"


def node_name(pool: str, index: int) -> str:
    return f"aks-{pool}-{vmss_id(pool)}-vmss{index:06x}"


def node_manifests(pools, kubelet_version: str, region: str = "japaneast",
                   resource_group: str = "MC_rg-aks-runbook_aks-runbook_japaneast") -> list[dict]:
    nodes = []
    for pool in pools:
        for index in range(pool.count):
            name = node_name(pool.name, index)
            nodes += manifests.render(
                "aks-node",
                name=name,
                pool=pool.name,
                mode=pool.mode.lower(),
                vm_size=pool.vm_size,
                node_image=NODE_IMAGE,
                region=region,
                zone=f"{region}-{index % 3 + 1}",
                resource_group=resource_group,
                provider_id=(
                    "azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                    f"{resource_group.lower()}/providers/Microsoft.Compute/virtualMachineScaleSets/"
                    f"aks-{pool.name}-{vmss_id(pool.name)}-vmss/virtualMachines/{index}"
                ),
                taints=[SYSTEM_TAINT] if pool.mode == "System" else [],
                kubelet_version=kubelet_version,
            )
    return nodes
