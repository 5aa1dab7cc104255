"""Gather what the checks read: API objects through a reader (live or replayed) and the
cluster configuration (az aks show, or the plan)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aks_runbook.checks import State
from aks_runbook.kube import Client

# plural kind -> how to list it with the kubernetes client
LISTS: dict[str, Callable[[Client], Any]] = {
    "namespaces": lambda c: c.CoreV1Api().list_namespace(),
    "nodes": lambda c: c.CoreV1Api().list_node(),
    "pods": lambda c: c.CoreV1Api().list_pod_for_all_namespaces(),
    "services": lambda c: c.CoreV1Api().list_service_for_all_namespaces(),
    "endpointslices": lambda c: c.DiscoveryV1Api().list_endpoint_slice_for_all_namespaces(),
    "networkpolicies": lambda c: c.NetworkingV1Api().list_network_policy_for_all_namespaces(),
    "ingresses": lambda c: c.NetworkingV1Api().list_ingress_for_all_namespaces(),
    "clusterrolebindings": lambda c: c.RbacAuthorizationV1Api().list_cluster_role_binding(),
}


def read_objects(read: Callable[[str, Callable[[], Any]], Any], client: Client | None,
                 kinds: list[str] | None = None) -> dict[str, list[dict]]:
    """`read(call, fetch)` is the runner's api() (recorded, replayable) or a plain call."""
    objects = {}
    for kind in kinds or list(LISTS):
        listed = read(f"list {kind}", lambda kind=kind: LISTS[kind](client))
        objects[kind] = listed["items"]
    return objects


def plain_read(call: str, fetch: Callable[[], Any]) -> Any:
    from kubernetes.client import ApiClient

    return ApiClient().sanitize_for_serialization(fetch())


def gather(read, client: Client | None, cluster: dict | None, cluster_source: str,
           has_cluster: bool = True, allowed_registries: tuple[str, ...] = ("mcr.microsoft.com",),
           namespaces: tuple[str, ...] | None = None) -> State:
    objects = read_objects(read, client) if has_cluster else {}
    return State(objects, cluster, cluster_source if cluster else "none", has_cluster,
                 allowed_registries, namespaces)
