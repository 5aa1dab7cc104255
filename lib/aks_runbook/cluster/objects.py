"""One in-memory view of Kubernetes objects, read from a live cluster or from manifest files.

The view maps a plural kind ("pods", "networkpolicies") to API objects as plain JSON
(camelCase, as `kubectl get -o json` shows them). Posture checks and the reachability analysis
read only this view, so the same code judges a running cluster and a folder of manifests.

From files, as the API server would see them once applied:
- documents that are not Kubernetes objects (no apiVersion and kind: a package.json, Helm
  values, a JSON list of results) are skipped and counted per file; each object keeps where it
  was read (file, document, the line the document starts on; a *List's items: the List's);
- a workload (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
  ReplicationController) becomes one representative pod with the workload's name, its pod
  template's labels and spec, and an owner reference to the workload;
- namespaced objects without a namespace are in `default`; every namespace, declared or only
  used, carries the `kubernetes.io/metadata.name` label the API server adds;
- `*List` documents are unpacked; Secrets keep their metadata and type, never their data;
- a PodDisruptionBudget loses any `status` the file carries (a saved `kubectl get -o yaml` is
  not the cluster's state now): checks judge its spec and say the status is not known.
CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2) are read from both; a
cluster without Cilium's CRDs lists none of them.
Listed from a cluster, every object keeps its `status` as the API server returns it (e.g. a
PodDisruptionBudget's disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aks_runbook.cluster.kube import Client, plain

NAME_LABEL = "kubernetes.io/metadata.name"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# libyaml's safe loader when PyYAML has it: six times faster on large folders
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def as_sent(list_call: Callable[..., Any], *args: Any) -> dict:
    """A list call's response as the API server sent it (`kubectl get -o json`'s JSON), not
    through the client's models: building them and flattening them back costs ten times the
    rest of a read, some 30 full listings per run."""
    return json.loads(list_call(*args, _preload_content=False).data)


def secret_metadata(listed: dict) -> dict:
    """Secrets without their data: the checks need names and types only."""
    return {"items": [_without_data(item) for item in listed.get("items", [])]}


def _without_data(secret: dict) -> dict:
    return {k: v for k, v in secret.items() if k not in ("data", "stringData")}


def cilium_policies(client: Client, plural: str, kind: str, namespace: str | None = None) -> dict:
    """Cilium's policy custom resources (cilium.io/v2), in every namespace or in one; none
    where the CRD is not installed (a cluster without Cilium cannot hold any)."""
    from kubernetes.client.exceptions import ApiException

    api = client.CustomObjectsApi()
    try:
        listed = (api.list_namespaced_custom_object("cilium.io", "v2", namespace, plural)
                  if namespace else api.list_cluster_custom_object("cilium.io", "v2", plural))
    except ApiException as error:
        if error.status == 404:
            return {"items": []}
        raise
    return {"items": [{**item, "kind": kind} for item in listed.get("items", [])]}


# plural kind -> how to list it with the kubernetes client
LISTS: dict[str, Callable[[Client], Any]] = {
    "namespaces": lambda c: as_sent(c.CoreV1Api().list_namespace),
    "nodes": lambda c: as_sent(c.CoreV1Api().list_node),
    "pods": lambda c: as_sent(c.CoreV1Api().list_pod_for_all_namespaces),
    "services": lambda c: as_sent(c.CoreV1Api().list_service_for_all_namespaces),
    "endpointslices": lambda c: as_sent(c.DiscoveryV1Api().list_endpoint_slice_for_all_namespaces),
    "networkpolicies":
        lambda c: as_sent(c.NetworkingV1Api().list_network_policy_for_all_namespaces),
    "ciliumnetworkpolicies":
        lambda c: cilium_policies(c, "ciliumnetworkpolicies", "CiliumNetworkPolicy"),
    "ciliumclusterwidenetworkpolicies": lambda c: cilium_policies(
        c, "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy"),
    "ingresses": lambda c: as_sent(c.NetworkingV1Api().list_ingress_for_all_namespaces),
    "secrets": lambda c: secret_metadata(as_sent(c.CoreV1Api().list_secret_for_all_namespaces)),
    "serviceaccounts": lambda c: as_sent(c.CoreV1Api().list_service_account_for_all_namespaces),
    "clusterroles": lambda c: as_sent(c.RbacAuthorizationV1Api().list_cluster_role),
    "clusterrolebindings": lambda c: as_sent(c.RbacAuthorizationV1Api().list_cluster_role_binding),
    "roles": lambda c: as_sent(c.RbacAuthorizationV1Api().list_role_for_all_namespaces),
    "rolebindings":
        lambda c: as_sent(c.RbacAuthorizationV1Api().list_role_binding_for_all_namespaces),
    "poddisruptionbudgets":
        lambda c: as_sent(c.PolicyV1Api().list_pod_disruption_budget_for_all_namespaces),
}

# kind -> plural, for the kinds the analyses read from files
PLURALS = {
    "Namespace": "namespaces", "Node": "nodes", "Pod": "pods", "Service": "services",
    "EndpointSlice": "endpointslices", "NetworkPolicy": "networkpolicies",
    "Ingress": "ingresses", "Secret": "secrets", "ServiceAccount": "serviceaccounts",
    "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
    "Role": "roles", "RoleBinding": "rolebindings",
    "Deployment": "deployments", "ReplicaSet": "replicasets", "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets", "Job": "jobs", "CronJob": "cronjobs",
    "ReplicationController": "replicationcontrollers",
    "PodDisruptionBudget": "poddisruptionbudgets",
    "CiliumNetworkPolicy": "ciliumnetworkpolicies",
    "CiliumClusterwideNetworkPolicy": "ciliumclusterwidenetworkpolicies",
}
CLUSTER_SCOPED = {"Namespace", "Node", "ClusterRole", "ClusterRoleBinding",
                  "CiliumClusterwideNetworkPolicy"}
# kinds whose status checks read as the cluster's state now: never taken from a file
LIVE_STATUS = {"PodDisruptionBudget"}
WORKLOADS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
             "ReplicationController"}


class ManifestError(ValueError):
    """A manifest file that cannot be read or parsed; the message names the file."""


def read_objects(read: Callable[[str, Callable[[], Any]], Any], client: Client | None,
                 kinds: list[str] | None = None) -> dict[str, list[dict]]:
    """The live view. `read(call, fetch)` is the runner's api() (recorded, replayable) or
    `plain_read`."""
    objects = {}
    for kind in kinds or list(LISTS):
        listed = read(f"list {kind}", lambda kind=kind: LISTS[kind](client))
        objects[kind] = listed["items"]
    return objects


def plain_read(call: str, fetch: Callable[[], Any]) -> Any:
    return plain(fetch())


@dataclass(frozen=True)
class Source:
    """Where an object was read: the file, the document's number in it, its first line."""

    path: Path
    document: int
    line: int

    def __str__(self) -> str:
        return f"{self.path}, document {self.document}, line {self.line}"


@dataclass
class Manifests:
    """Objects loaded from files, where each was read, and what was left out."""

    objects: dict[str, list[dict]]
    ignored: Counter = field(default_factory=Counter)  # kind -> objects not analysed
    files: int = 0
    # (kind, namespace or "", name) -> where it was read; a namespace only used: its first user
    sources: dict[tuple[str, str, str], Source] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)  # file -> documents not Kubernetes objects

    def note(self) -> str | None:
        """Lines for stderr about the documents that were not analysed."""
        lines = []
        if self.skipped:
            files = [str(path) for path in self.skipped]
            shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5
                                            else "")
            lines.append(f"note: skipped {sum(self.skipped.values())} document(s) that are not "
                         f"Kubernetes objects (no apiVersion and kind): {shown}")
        if self.ignored:
            kinds = ", ".join(f"{kind} ({count})"
                              for kind, count in sorted(self.ignored.items()))
            lines.append(f"note: {sum(self.ignored.values())} object(s) of kinds not analysed "
                         f"were ignored: {kinds}")
        return "\n".join(lines) or None


def manifest_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, and the manifest files (.yaml, .yml, .json) under folders, sorted."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise ManifestError(f"{path}: no such file or folder")
    return found


def is_kubernetes_object(document: Any) -> bool:
    """A mapping with kind and apiVersion, as kubectl requires (a *List of items may omit its
    apiVersion); anything else in a folder (a package.json, Helm values, a JSON list of
    results) is not one."""
    if not isinstance(document, dict) or not isinstance(kind := document.get("kind"), str):
        return False
    return (isinstance(document.get("apiVersion"), str)
            or (kind.endswith("List") and isinstance(document.get("items"), list)))


def _documents(path: Path) -> list[tuple[Any, int]]:
    """The file's documents, each with the line it starts on (a JSON file: line 1)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path}: cannot read it ({error})") from None
    if path.suffix.lower() == ".json":
        try:
            return [(json.loads(text), 1)] if text.strip() else []
        except json.JSONDecodeError as error:
            raise ManifestError(f"{path}, document 1, line {error.lineno}: not valid JSON "
                                f"(column {error.colno}: {error.msg})") from None
    documents: list[tuple[Any, int]] = []
    loader = SAFE_LOADER(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            documents.append((loader.construct_document(node), node.start_mark.line + 1))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise ManifestError(f"{path}, document {len(documents) + 1}{where}: not valid YAML "
                            f"({getattr(error, 'problem', None) or error})") from None
    finally:
        loader.dispose()
    return documents


def _unpack(document: dict, where: Source, item_kind: str | None = None) -> list[dict]:
    """The objects in one document: itself, or the items of a *List (nested lists too)."""
    if not isinstance(document, dict):
        raise ManifestError(f"{where}: expected a Kubernetes object (a mapping with apiVersion "
                            f"and kind), found {type(document).__name__}")
    kind = document.get("kind") or item_kind
    if isinstance(kind, str) and kind.endswith("List") and isinstance(document.get("items"),
                                                                     list):
        inner = kind.removesuffix("List") or None
        return [obj for item in document["items"] if item is not None
                for obj in _unpack(item, where, inner)]
    return [{**document, "kind": kind} if kind else document]


def _representative_pod(workload: dict) -> dict:
    spec = workload.get("spec") or {}
    if workload["kind"] == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template") or {}
    meta = workload["metadata"]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                     "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                     "annotations": dict((template.get("metadata") or {}).get("annotations")
                                         or {}),
                     "ownerReferences": [{"apiVersion": workload.get("apiVersion", ""),
                                          "kind": workload["kind"], "name": meta["name"]}]},
        "spec": template.get("spec") or {},
        "status": {},
    }


def load_files(paths: Iterable[str | Path]) -> Manifests:
    """The view of the manifests in these files and folders (YAML or JSON, multi-document)."""
    files = manifest_files(paths)
    objects: dict[str, list[dict]] = {}
    ignored: Counter = Counter()
    skipped: Counter = Counter()
    seen: dict[tuple[str, str, str], Source] = {}
    used: dict[tuple[str, str, str], Source] = {}  # namespaces, where first used
    namespaces: set[str] = set()
    for path in files:
        for index, (document, line) in enumerate(_documents(path), start=1):
            if document is None:
                continue
            if not is_kubernetes_object(document):
                skipped[path] += 1
                continue
            where = Source(path, index, line)
            for obj in _unpack(document, where):
                kind = obj.get("kind")
                if kind not in PLURALS:
                    ignored[kind or "(no kind)"] += 1
                    continue
                obj = _normalised(obj, kind, where)
                meta = obj["metadata"]
                key = (kind, meta.get("namespace", ""), meta["name"])
                if key in seen:
                    raise ManifestError(f"{where}: {kind} {'/'.join(key[1:]).lstrip('/')} is "
                                        f"defined twice (first in {seen[key]})")
                seen[key] = where
                objects.setdefault(PLURALS[kind], []).append(obj)
                if "namespace" in meta:
                    namespaces.add(meta["namespace"])
                    used.setdefault(("Namespace", "", meta["namespace"]), where)
                if kind in WORKLOADS:
                    pod_key = ("Pod", meta["namespace"], meta["name"])
                    if pod_key in seen:
                        raise ManifestError(f"{where}: {kind} {meta['namespace']}/"
                                            f"{meta['name']} has the name of a pod defined in "
                                            f"{seen[pod_key]}; rename one of them")
                    seen[pod_key] = where
                    objects.setdefault("pods", []).append(_representative_pod(obj))
    declared = {n["metadata"]["name"] for n in objects.get("namespaces", [])}
    for name in sorted(namespaces - declared):
        objects.setdefault("namespaces", []).append(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    for namespace in objects.get("namespaces", []):
        meta = namespace["metadata"]
        meta["labels"] = {**(meta.get("labels") or {}), NAME_LABEL: meta["name"]}
    return Manifests(objects, ignored, len(files), {**used, **seen}, skipped)


def _normalised(obj: dict, kind: str, where: Source) -> dict:
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise ManifestError(f"{where}: {kind} without metadata.name")
    meta = dict(meta)
    if kind in CLUSTER_SCOPED:
        meta.pop("namespace", None)
    else:
        meta["namespace"] = meta.get("namespace") or "default"
    obj = {k: v for k, v in obj.items() if not (k == "status" and kind in LIVE_STATUS)}
    obj["metadata"] = meta
    return _without_data(obj) if kind == "Secret" else obj
