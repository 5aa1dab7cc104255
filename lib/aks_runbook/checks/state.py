"""Gather what the checks read: API objects through a reader (live or replayed) and the
cluster configuration (az aks show, or the plan)."""

from __future__ import annotations

from aks_runbook.checks import State
from aks_runbook.cluster.kube import Client
from aks_runbook.cluster.objects import read_objects


def gather(read, client: Client | None, cluster: dict | None, cluster_source: str,
           has_cluster: bool = True, allowed_registries: tuple[str, ...] = ("mcr.microsoft.com",),
           namespaces: tuple[str, ...] | None = None) -> State:
    objects = read_objects(read, client) if has_cluster else {}
    return State(objects, cluster, cluster_source if cluster else "none", has_cluster,
                 allowed_registries, namespaces)
