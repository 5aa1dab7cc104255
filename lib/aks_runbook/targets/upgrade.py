"""A simulated AKS node-pool upgrade, run for real against the local cluster's API server.

What AKS does for `az aks nodepool upgrade -k VERSION` (a rolling upgrade with surge), after
"Configure rolling upgrades for Azure Kubernetes Service (AKS) node pools"
(upgrade-aks-node-pools-rolling.md) and "How Azure Kubernetes Service (AKS) cluster upgrades
work" (upgrade-conceptual.md):
1. add max-surge buffer nodes at the new version;
2. cordon as many old nodes as there are buffer nodes and drain them through the Eviction API,
   honouring PodDisruptionBudgets, for at most the drain timeout (default 30 min); then wait
   the node soak duration (default 0);
3. reimage the drained nodes: they come back at the new version, under the same names, and are
   the buffer for the next nodes;
4. after the last node, cordon, drain and delete the surge nodes: the pool keeps its size and
   its node names.
A node whose drain times out is undrainable, and the pool's undrainableNodeBehavior decides
(API enum UndrainableNodeBehavior): `Schedule` (the default) makes it schedulable again, not
upgraded, deletes the surge nodes, and the upgrade fails; `Cordon` leaves it cordoned with the
label kubernetes.azure.com/upgrade-status=Quarantined, goes on with the other nodes (until
more than max-blocked-nodes are blocked; aks-preview only, default: the max surge) and keeps
one surge node per blocked node as a permanent node of the pool; the upgrade ends Failed, or
Canceled when there were fewer surge nodes than blocked nodes.

Real here: cordon (spec.unschedulable), policy/v1 Evictions answered 429 while a PDB allows no
disruption and retried as `kubectl drain` does (k8s.io/kubectl/pkg/drain: DaemonSet and
mirror pods skipped, each refused eviction retried until the timeout, then a wait until the
evicted pods are gone), the ReplicaSet controller recreating evicted pods, the scheduler
placing them, the disruption controller keeping the PDB's status, Nodes created and deleted
through the API.
Simulated: nodes are kwok Node objects (no VM, no kubelet; kwok marks them and their pods
Ready). A surge node is a Node created from the shape of a node of the pool (labels, taints,
capacity, nodeInfo) with the new kubelet version in status.nodeInfo and the next VMSS
instance name. "Reimage" sets the new version in the same Node's status.nodeInfo and makes it
schedulable again (AKS reimages the VMSS instance in place: same name; no VM is reimaged here,
and the node does not go NotReady in between). Unlike AKS, it waits (ready_timeout) for the
evicted pods' replacements to be Ready before it reimages a node, which makes the timeline easy
to read; AKS relies on the PDBs alone. Batches of nodes are drained together, as with a max
surge above 1; the default max surge is 1 (the rolling-upgrade doc's default; API 2026-06-01
says 10% when unset, which is 1 node for pools of up to 10). Times are in seconds where AKS's
are in minutes. Not modelled: maxUnavailable (upgrades without surge), the surge-of-1
fallback, force upgrade, node image changes, the control plane upgrade (the target version
must not be newer than the control plane's, as AKS requires).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import watch
from kubernetes.client.rest import ApiException

from aks_runbook.cluster.kube import Client
from aks_runbook.targets.nodepools import node_name

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
SURGE_ANNOTATION = "aks-runbook/surge-node"  # marks this simulation's surge nodes
UPGRADE_STATUS_LABEL = "kubernetes.azure.com/upgrade-status"
QUARANTINED = "Quarantined"
BEHAVIORS = ("Schedule", "Cordon")
_SCALE_SET_NAME = re.compile(r"(.+-vmss)([0-9a-f]{6})")

# Event kinds, in the order a node goes through them
SURGE_ADDED, CORDON, EVICTED, BLOCKED, DRAIN_TIMEOUT = (
    "surge-added", "cordon", "evicted", "eviction-blocked", "drain-timeout")
DRAINED, REPLACED, REIMAGED, NODE_DELETED = (
    "drained", "replacements-ready", "reimaged", "node-deleted")
UNCORDON, QUARANTINE, SURGE_KEPT, DONE = "uncordon", "quarantined", "surge-kept", "done"


@dataclass(frozen=True)
class Event:
    t: float  # seconds since the upgrade started
    kind: str
    node: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.t:6.1f} s  {self.kind:<18} {self.node}  {self.detail}".rstrip()


@dataclass(frozen=True)
class Sample:
    """The app's pods that count for its PDB (Ready and not terminating), and the PDB's
    desired healthy count (minAvailable, or replicas - maxUnavailable) at that time."""
    t: float
    ready: int
    min_available: int | None


@dataclass(frozen=True)
class Blocked:
    node: str
    pod: str  # namespace/name
    status: int  # the Eviction API's answer: 429 when a PDB allows no disruption
    message: str


@dataclass
class UpgradeResult:
    pool: str
    version: str
    state: str  # Succeeded, Failed or Canceled, as AKS reports the operation
    behavior: str
    nodes: dict[str, str]  # node -> kubelet version, at the end
    events: list[Event]
    samples: list[Sample]
    blocked: list[Blocked]
    quarantined: list[str]
    duration: float
    explanation: str = ""

    @property
    def all_upgraded(self) -> bool:
        return bool(self.nodes) and set(self.nodes.values()) == {self.version}

    @property
    def min_ready(self) -> int | None:
        return min((s.ready for s in self.samples), default=None)

    @property
    def min_available(self) -> int | None:
        """The PDB's desired healthy count when the app was at its lowest (min_ready)."""
        low = min(self.samples, key=lambda s: s.ready, default=None)
        return low.min_available if low else None

    @property
    def below_pdb(self) -> list[Sample]:
        return [s for s in self.samples
                if s.min_available is not None and s.ready < s.min_available]

    @property
    def never_below_pdb(self) -> bool:
        return not self.below_pdb

    def summary(self) -> str:
        at_version = sum(v == self.version for v in self.nodes.values())
        lines = [f"Upgrade of node pool {self.pool!r} to {self.version}: {self.state} in "
                 f"{self.duration:.1f} s; {at_version}/{len(self.nodes)} nodes at {self.version}"]
        if self.samples:
            verdict = ("never below its PDB" if self.never_below_pdb else
                       f"BELOW its PDB {len(self.below_pdb)} time(s)")
            lines.append(f"App: at least {self.min_ready} pod(s) ready throughout (PDB minimum "
                         f"{self.min_available}): {verdict}.")
        if self.explanation:
            lines.append(self.explanation)
        return "\n".join(lines)


def print_event(event: Event) -> None:
    print(event.line(), flush=True)


def upgrade_pool(api: Client, pool: str, version: str, *, pdb: tuple[str, str] | None = None,
                 max_surge: int | str = 1, drain_timeout: float = 30.0, soak: float = 0.0,
                 undrainable: str = "Schedule", max_blocked_nodes: int | None = None,
                 retry_interval: float = 1.0, ready_timeout: float = 60.0,
                 report: Callable[[Event], None] | None = print_event) -> UpgradeResult:
    """Upgrade every node of `pool` to kubelet `version` the way AKS does (module docstring).

    pdb: (namespace, name) of a PodDisruptionBudget whose app is watched throughout (the
    timeline's samples). max_surge: a count or a percentage of the pool ("33%", rounded up).
    drain_timeout and soak are in seconds. undrainable: Schedule or Cordon; max_blocked_nodes
    (Cordon only) defaults to the max surge.
    report: called with each event as it happens (default: print a line). Running it again
    after a failure resumes the upgrade, like a new `az aks nodepool upgrade`.
    """
    if undrainable not in BEHAVIORS:
        raise ValueError(f"undrainable must be one of {BEHAVIORS}, not {undrainable!r}")
    if surge_count(max_surge, 1) < 1:
        raise ValueError("max_surge must be at least 1 (maxUnavailable is not simulated)")
    run = _Upgrade(api, pool, version, report)
    watcher = AppWatcher(api, *pdb, t0=run.t0) if pdb else None
    try:
        if watcher:
            watcher.start()
        result = run.execute(max_surge=max_surge, drain_timeout=drain_timeout, soak=soak,
                             undrainable=undrainable, max_blocked=max_blocked_nodes,
                             retry_interval=retry_interval, ready_timeout=ready_timeout)
    finally:
        if watcher:
            watcher.stop()
    if watcher:
        result.samples = watcher.samples
    return result


class _Upgrade:
    def __init__(self, api: Client, pool: str, version: str,
                 report: Callable[[Event], None] | None):
        self.core = api.CoreV1Api()
        self.apps = api.AppsV1Api()
        self.api = api
        self.pool, self.version, self.report = pool, version, report
        self.t0 = time.monotonic()
        self.events: list[Event] = []
        self.blocked: list[Blocked] = []

    def emit(self, kind: str, node: str, detail: str = "") -> None:
        event = Event(round(time.monotonic() - self.t0, 2), kind, node, detail)
        self.events.append(event)
        if self.report:
            self.report(event)

    # ---- the upgrade --------------------------------------------------------------------------

    def execute(self, *, max_surge: int | str, drain_timeout: float, soak: float,
                undrainable: str, max_blocked: int | None, retry_interval: float,
                ready_timeout: float) -> UpgradeResult:
        nodes = pool_nodes(self.api, self.pool)
        self._check(nodes)
        surges = [n["metadata"]["name"] for n in nodes if _is_surge(n)]
        old = [n["metadata"]["name"] for n in nodes
               if not _is_surge(n) and kubelet_version(n) != self.version]
        template = nodes[0]
        surge = surge_count(max_surge, len(nodes) - len(surges))
        max_blocked = surge if max_blocked is None else max_blocked
        for _ in range(min(surge, len(old)) - len(surges)):
            surges.append(self._add_surge(template, ready_timeout))
        blocked_nodes: list[str] = []
        quarantined: list[str] = []
        batch_size = max(len(surges), 1)
        for i in range(0, len(old), batch_size):
            batch = old[i:i + batch_size]
            for name in batch:
                self._cordon(name, True)
            stuck = self._drain(batch, drain_timeout, retry_interval, ready_timeout)
            if soak:
                time.sleep(soak)
            for name in batch:
                if name not in stuck:
                    self._reimage(name, ready_timeout)
            blocked_nodes += [n for n in batch if n in stuck]
            if stuck and undrainable == "Schedule":
                for name in stuck:
                    self._cordon(name, False)
                break
            for name in (n for n in batch if n in stuck):
                self._quarantine(name)
                quarantined.append(name)
            if len(blocked_nodes) > max_blocked:
                break
        keep = min(len(blocked_nodes), len(surges)) if undrainable == "Cordon" else 0
        for name in surges[keep:]:
            self._remove_surge(name, drain_timeout, retry_interval, ready_timeout)
        for name in surges[:keep]:
            self.core.patch_node(name, {"metadata": {"annotations": {SURGE_ANNOTATION: None}}})
            self.emit(SURGE_KEPT, name, f"replaces blocked node {blocked_nodes[surges.index(name)]}"
                                        " as a permanent node of the pool")
        state = ("Succeeded" if not blocked_nodes else
                 "Canceled" if undrainable == "Cordon" and len(blocked_nodes) > len(surges)
                 else "Failed")
        final = {n["metadata"]["name"]: kubelet_version(n) for n in pool_nodes(self.api, self.pool)}
        self.emit(DONE, self.pool, f"{state}: {sum(v == self.version for v in final.values())}"
                                   f"/{len(final)} nodes at {self.version}")
        return UpgradeResult(
            pool=self.pool, version=self.version, state=state, behavior=undrainable,
            nodes=final, events=self.events, samples=[], blocked=self.blocked,
            quarantined=quarantined, duration=round(time.monotonic() - self.t0, 2),
            explanation=explain(self.blocked, blocked_nodes, undrainable, drain_timeout,
                                max_blocked),
        )

    def _check(self, nodes: list[dict]) -> None:
        if not nodes:
            raise ValueError(f"node pool {self.pool!r} has no nodes")
        real = [n["metadata"]["name"] for n in nodes
                if (n["metadata"].get("annotations") or {}).get(KWOK_ANNOTATION) != "fake"]
        if real:
            raise ValueError(f"only simulated (kwok) nodes can be upgraded here, not {real}")
        control_plane = self.api.VersionApi().get_code().git_version
        if _version(self.version) > _version(control_plane):
            raise ValueError(f"{self.version} is newer than the control plane ({control_plane}):"
                             " AKS never lets a node pool be newer than its control plane")
        older = [kubelet_version(n) for n in nodes
                 if _version(kubelet_version(n)) > _version(self.version)]
        if older:
            raise ValueError(f"the pool already runs {older[0]}: AKS does not downgrade")

    # ---- steps ----------------------------------------------------------------------------------

    def _add_surge(self, template: dict, timeout: float) -> str:
        names = [n["metadata"]["name"] for n in pool_nodes(self.api, self.pool)]
        name = _next_name(names, self.pool)
        body = node_like(template, name, self.version)
        body["metadata"]["annotations"][SURGE_ANNOTATION] = "true"
        self.core.create_node(body)
        wait_node_ready(self.api, name, timeout)
        self.emit(SURGE_ADDED, name, f"buffer node at {self.version}")
        return name

    def _cordon(self, name: str, on: bool) -> None:
        self.core.patch_node(name, {"spec": {"unschedulable": on}})
        self.emit(CORDON if on else UNCORDON, name,
                  "spec.unschedulable=true" if on else "schedulable again, not upgraded")

    def _quarantine(self, name: str) -> None:
        self.core.patch_node(name, {"metadata": {"labels": {UPGRADE_STATUS_LABEL: QUARANTINED}}})
        self.emit(QUARANTINE, name, f"stays cordoned, label {UPGRADE_STATUS_LABEL}={QUARANTINED}")

    def _reimage(self, name: str, timeout: float) -> None:
        """The same node (name, uid, labels) comes back at the new version, schedulable."""
        old = self.core.read_node(name).status.node_info.kubelet_version
        self.core.patch_node_status(name, {"status": {"nodeInfo": {"kubeletVersion":
                                                                   self.version}}})
        self.core.patch_node(name, {"metadata": {"labels": {UPGRADE_STATUS_LABEL: None}},
                                    "spec": {"unschedulable": False}})
        wait_node_ready(self.api, name, timeout)
        self.emit(REIMAGED, name, f"{old} -> {self.version}, schedulable again")

    def _remove_surge(self, name: str, drain_timeout: float, retry_interval: float,
                      ready_timeout: float) -> None:
        self._cordon(name, True)
        if self._drain([name], drain_timeout, retry_interval, ready_timeout):
            self._cordon(name, False)
            self.core.patch_node(name, {"metadata": {"annotations": {SURGE_ANNOTATION: None}}})
            self.emit(SURGE_KEPT, name, "could not be drained: left in the pool (best effort)")
            return
        self.core.delete_node(name)
        _wait(lambda: not _exists(self.core, name), ready_timeout, f"node {name} to be deleted")
        self.emit(NODE_DELETED, name, "surge node removed")

    def _drain(self, names: list[str], timeout: float, retry_interval: float,
               ready_timeout: float) -> set[str]:
        """Evict every pod of the nodes (not DaemonSet or mirror pods), retrying refused
        evictions until the timeout; then wait for the evicted pods to be gone and their
        replacements Ready. Returns the nodes that could not be drained."""
        deadline = time.monotonic() + timeout
        pending: dict[tuple[str, str], tuple[str, Any]] = {}
        for name in names:
            for pod in self.core.list_pod_for_all_namespaces(
                    field_selector=f"spec.nodeName={name}").items:
                if _evictable(pod):
                    pending[(pod.metadata.namespace, pod.metadata.name)] = (name, pod)
        evicted, refused, stuck = [], {}, set()
        while pending:
            for key, (node, pod) in list(pending.items()):
                try:
                    self.core.create_namespaced_pod_eviction(key[1], key[0], {
                        "apiVersion": "policy/v1", "kind": "Eviction",
                        "metadata": {"name": key[1], "namespace": key[0]}})
                except ApiException as error:
                    if error.status == 404:  # already gone
                        del pending[key]
                        continue
                    message = _api_message(error)
                    if key not in refused:
                        self.emit(BLOCKED, node, f"{key[0]}/{key[1]}: {error.status} {message}")
                    refused[key] = Blocked(node, f"{key[0]}/{key[1]}", error.status, message)
                    continue
                retried = " (after being blocked)" if key in refused else ""
                self.emit(EVICTED, node, f"{key[0]}/{key[1]}{retried}")
                refused.pop(key, None)
                evicted.append(pod)
                del pending[key]
            if not pending:
                break
            if time.monotonic() >= deadline:
                stuck = {node for node, _ in pending.values()}
                for name in sorted(stuck):
                    left = sum(node == name for node, _ in pending.values())
                    self.emit(DRAIN_TIMEOUT, name, f"{left} pod(s) left after {timeout:g} s")
                self.blocked += [refused[k] for k in pending if k in refused]
                break
            time.sleep(retry_interval)
        uids = {pod.metadata.uid for pod in evicted}
        try:  # graceful termination counts against the drain timeout too
            _wait(lambda: not self._terminating(names, uids), max(deadline - time.monotonic(), 1),
                  "evicted pods to terminate")
        except TimeoutError:
            for name in sorted(self._terminating(names, uids) - stuck):
                stuck.add(name)
                self.emit(DRAIN_TIMEOUT, name, f"pods still terminating after {timeout:g} s")
        for name in names:
            if name not in stuck:
                self.emit(DRAINED, name)
        if evicted:
            self._wait_replacements(evicted, ready_timeout, node=",".join(names))
        return stuck

    def _terminating(self, names: list[str], uids: set[str]) -> set[str]:
        """The nodes where some of these pods still are."""
        return {name for name in names for pod in self.core.list_pod_for_all_namespaces(
            field_selector=f"spec.nodeName={name}").items if pod.metadata.uid in uids}

    def _wait_replacements(self, evicted: list, timeout: float, node: str) -> None:
        """Wait until the owners of the evicted pods have all their replicas Ready again (AKS
        does not wait: it relies on the PDBs); if they do not in time, say so and go on."""
        owners = sorted({(p.metadata.namespace, ref.kind, ref.name) for p in evicted
                         for ref in p.metadata.owner_references or []
                         if ref.controller and ref.kind in ("ReplicaSet", "StatefulSet")})

        def ready() -> bool:
            """Counted from the pods: the owner's status may not have seen the eviction yet."""
            for namespace, kind, name in owners:
                read = (self.apps.read_namespaced_replica_set if kind == "ReplicaSet"
                        else self.apps.read_namespaced_stateful_set)
                owner = read(name, namespace)
                selector = label_selector(self.api.api_client.sanitize_for_serialization(
                    owner.spec.selector))
                pods = self.core.list_namespaced_pod(namespace, label_selector=selector).items
                healthy = sum(
                    any(ref.uid == owner.metadata.uid for ref in p.metadata.owner_references or [])
                    and _pod_healthy(self.api.api_client.sanitize_for_serialization(p))
                    for p in pods)
                if healthy < (owner.spec.replicas or 0):
                    return False
            return True

        names = ", ".join(f"{namespace}/{name}" for namespace, _kind, name in owners)
        try:
            _wait(ready, timeout, "replacement pods to be Ready")
        except TimeoutError:
            self.emit(REPLACED, node, f"NOT all Ready after {timeout:g} s: {names}")
            return
        self.emit(REPLACED, node, f"{names}: every replica Ready")


def explain(blocked: list[Blocked], nodes: list[str], behavior: str, timeout: float,
            max_blocked: int = 1) -> str:
    """What went wrong, as AKS words it, and how to resolve it."""
    if not nodes:
        return ""
    lines = []
    for b in blocked:
        lines.append(
            f"Drain of node {b.node} failed: the eviction of pod {b.pod} was refused with "
            f"{b.status}{' Too Many Requests' if b.status == 429 else ''} until the drain "
            f"timeout ({timeout:g} s): {b.message.rstrip('.')}. "
            "AKS reports this as UpgradeFailed (\"... failed with Too Many Requests error. "
            "This is often caused by a restrictive Pod Disruption Budget (PDB) policy. See "
            "http://aka.ms/aks/debugdrainfailures\").")
    if behavior == "Schedule":
        lines.append(
            f"undrainableNodeBehavior Schedule (the default): {', '.join(nodes)} made "
            "schedulable again and not upgraded; the surge node was removed; the upgrade Failed.")
    else:
        lines.append(
            f"undrainableNodeBehavior Cordon: {', '.join(nodes)} remain(s) cordoned with label "
            f"{UPGRADE_STATUS_LABEL}={QUARANTINED}; a surge node replaces each blocked node as "
            "a permanent node of the pool while there are enough; "
            + (f"more than max-blocked-nodes ({max_blocked}) nodes were blocked, so the "
               "upgrade stopped there." if len(nodes) > max_blocked else
               "the other nodes were upgraded.")
            + " Quarantined nodes are yours to clean up (relax the PDB, then drain and delete "
            "them, or run the upgrade again).")
    lines.append(
        "To resolve: `kubectl get pdb -A` shows ALLOWED DISRUPTIONS 0. Let the PDB allow at "
        "least one disruption (minAvailable below the replica count, or maxUnavailable >= 1), "
        "or scale the app up so it has more replicas than minAvailable; then run the upgrade "
        "again (`az aks nodepool upgrade` resumes it). To let the rest of the pool upgrade "
        "while a node stays blocked: `az aks nodepool update --undrainable-node-behavior Cordon "
        "--drain-timeout <minutes>` (--max-blocked-nodes needs the aks-preview extension). "
        "Force upgrade (`az aks update --enable-force-upgrade --upgrade-override-until ...`) "
        "ignores PDBs: for emergencies only.")
    return "\n".join(lines)


# ---- watching the app ---------------------------------------------------------------------------

class AppWatcher:
    """Records, from watch streams, the pods of a PDB's app that count as healthy (Ready, not
    terminating) against the PDB's desired healthy count: one sample at every change."""

    def __init__(self, api: Client, namespace: str, pdb: str, t0: float | None = None):
        self.core, self.policy = api.CoreV1Api(), api.PolicyV1Api()
        self.namespace, self.pdb = namespace, pdb
        self.t0 = time.monotonic() if t0 is None else t0  # times are relative to this
        self.samples: list[Sample] = []
        budget = self.policy.read_namespaced_pod_disruption_budget(pdb, namespace)
        self.selector = label_selector(
            api.api_client.sanitize_for_serialization(budget.spec.selector))
        self._ready: dict[str, bool] = {}
        self._desired: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._error: Exception | None = None

    def start(self) -> None:
        streams = (
            (self.core.list_namespaced_pod, {"label_selector": self.selector}, self._on_pod),
            (self.policy.list_namespaced_pod_disruption_budget,
             {"field_selector": f"metadata.name={self.pdb}"}, self._on_pdb),
        )
        for lister, kwargs, handle in streams:
            rv = self._list(lister, kwargs, handle)
            thread = threading.Thread(target=self._watch, args=(lister, kwargs, handle, rv),
                                      daemon=True)
            self._threads.append(thread)
        self._sample()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._sample()
        if self._error:
            raise RuntimeError(f"watching {self.namespace}/{self.pdb} failed: {self._error}"
                               ) from self._error

    def __enter__(self) -> AppWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _list(self, lister, kwargs: dict, handle) -> str:
        listed = lister(self.namespace, **kwargs)
        with self._lock:
            if handle == self._on_pod:
                self._ready.clear()
            for item in listed.items:
                handle("ADDED", self.core.api_client.sanitize_for_serialization(item), False)
        return listed.metadata.resource_version

    def _watch(self, lister, kwargs: dict, handle, rv: str) -> None:
        try:
            while not self._stop.is_set():
                try:
                    for event in watch.Watch().stream(lister, self.namespace, resource_version=rv,
                                                      timeout_seconds=1, **kwargs):
                        rv = event["raw_object"]["metadata"]["resourceVersion"]
                        with self._lock:
                            handle(event["type"], event["raw_object"], True)
                except ApiException as error:
                    if error.status != 410:  # 410: expired; list again, then watch on
                        raise
                    rv = self._list(lister, kwargs, handle)
        except Exception as error:  # noqa: BLE001 - reported by stop()
            self._error = error

    def _on_pod(self, kind: str, pod: dict, sample: bool) -> None:
        name = pod["metadata"]["name"]
        if kind == "DELETED":
            self._ready.pop(name, None)
        else:
            self._ready[name] = _pod_healthy(pod)
        if sample:
            self._sample_locked()

    def _on_pdb(self, kind: str, budget: dict, sample: bool) -> None:
        if kind != "DELETED":
            status, spec = budget.get("status") or {}, budget.get("spec") or {}
            desired = status.get("desiredHealthy")
            if desired is None and isinstance(spec.get("minAvailable"), int):
                desired = spec["minAvailable"]
            self._desired = desired
        if sample:
            self._sample_locked()

    def _sample(self) -> None:
        with self._lock:
            self._sample_locked()

    def _sample_locked(self) -> None:
        ready = sum(self._ready.values())
        last = self.samples[-1] if self.samples else None
        if last is None or (last.ready, last.min_available) != (ready, self._desired):
            self.samples.append(Sample(round(time.monotonic() - self.t0, 2), ready,
                                       self._desired))


# ---- nodes --------------------------------------------------------------------------------------

def pool_nodes(api: Client, pool: str) -> list[dict]:
    core = api.CoreV1Api()
    items = core.list_node(label_selector=f"agentpool={pool}").items
    nodes = [core.api_client.sanitize_for_serialization(n) for n in items]
    return sorted(nodes, key=lambda n: n["metadata"]["name"])


def kubelet_version(node: dict) -> str:
    return ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")


def node_like(template: dict, name: str, version: str, pool: str | None = None) -> dict:
    """A new Node shaped like `template` (labels, annotations, taints, capacity, nodeInfo),
    named `name`, with kubelet `version`; in pool `pool` if given. kwok manages it because of
    its kwok.x-k8s.io/node=fake annotation (kwokctl's annotation selector)."""
    meta = template["metadata"]
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != UPGRADE_STATUS_LABEL}
    labels["kubernetes.io/hostname"] = name
    if pool:
        labels["agentpool"] = labels["kubernetes.azure.com/agentpool"] = pool
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != SURGE_ANNOTATION}
    spec: dict[str, Any] = {"taints": [t for t in template["spec"].get("taints") or []
                                       if not t["key"].startswith("node.kubernetes.io/")]}
    provider, parts = template["spec"].get("providerID"), _SCALE_SET_NAME.fullmatch(name)
    if provider and parts and "/virtualMachineScaleSets/" in provider:
        spec["providerID"] = (provider.split("/virtualMachineScaleSets/")[0]
                              + f"/virtualMachineScaleSets/{parts[1]}/virtualMachines/"
                              + str(int(parts[2], 16)))
    status = template.get("status") or {}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": spec,
        "status": {"capacity": status.get("capacity"), "allocatable": status.get("allocatable"),
                   "nodeInfo": {**(status.get("nodeInfo") or {}), "kubeletVersion": version}},
    }


def add_pool(api: Client, pool: str, count: int, version: str, *, like: str = "user",
             taints: list[dict] | None = None, timeout: float = 60.0) -> list[str]:
    """`az aks nodepool add` on the local cluster: `count` simulated nodes at kubelet
    `version`, shaped like the first node of pool `like`, named as AKS names VMSS nodes, with
    `taints` (AKS's --node-taints) instead of the template's. Returns the node names."""
    template = pool_nodes(api, like)
    if not template:
        raise ValueError(f"no node pool {like!r} to copy the shape of")
    if pool_nodes(api, pool):
        raise ValueError(f"node pool {pool!r} already exists")
    names = []
    for index in range(count):
        name = node_name(pool, index)
        body = node_like(template[0], name, version, pool=pool)
        body["spec"]["taints"] = list(taints or [])
        region = body["metadata"]["labels"].get("topology.kubernetes.io/region")
        if region:
            body["metadata"]["labels"]["topology.kubernetes.io/zone"] = f"{region}-{index % 3 + 1}"
        api.CoreV1Api().create_node(body)
        names.append(name)
    for name in names:
        wait_node_ready(api, name, timeout)
    return names


def delete_pool(api: Client, pool: str, timeout: float = 60.0) -> None:
    """Delete every node of the pool, and at once the pods left on them (without a node, kwok
    no longer finishes their deletion and the pod garbage collector takes 40 s or more)."""
    core = api.CoreV1Api()
    names = [node["metadata"]["name"] for node in pool_nodes(api, pool)]
    for name in names:
        core.delete_node(name)
    for name in names:
        for pod in core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={name}").items:
            try:
                core.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace,
                                           grace_period_seconds=0)
            except ApiException as error:
                if error.status != 404:
                    raise
    _wait(lambda: not pool_nodes(api, pool), timeout, f"the nodes of pool {pool} to be deleted")


def wait_node_ready(api: Client, name: str, timeout: float) -> None:
    core = api.CoreV1Api()

    def ready() -> bool:
        node = core.read_node(name)
        is_ready = any(c.type == "Ready" and c.status == "True"
                       for c in node.status.conditions or [])
        startup = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}
        return is_ready and not any(t.key in startup for t in node.spec.taints or [])

    _wait(ready, timeout, f"node {name} to be Ready (is the kwok controller running?)")


# ---- a demo app -----------------------------------------------------------------------------

def deploy_app(api: Client, namespace: str, *, name: str = "web", replicas: int = 4,
               min_available: int | str = 3, pool: str | None = None,
               timeout: float = 60.0) -> None:
    """A Deployment and its PodDisruptionBudget, on `pool` if given (tolerating the pool's
    taints), waited for until every replica is Ready."""
    labels = {"app": name}
    spec: dict[str, Any] = {  # meets the restricted Pod Security Standard
        "securityContext": {"runAsNonRoot": True, "runAsUser": 101,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": name, "image": "nginxinc/nginx-unprivileged:1.27",
                        "securityContext": {"allowPrivilegeEscalation": False,
                                            "capabilities": {"drop": ["ALL"]}}}]}
    if pool:
        spec["nodeSelector"] = {"agentpool": pool}
        nodes = pool_nodes(api, pool)
        taints = nodes[0]["spec"].get("taints") or [] if nodes else []
        spec["tolerations"] = [{"key": t["key"], "operator": "Equal", "value": t.get("value"),
                                "effect": t["effect"]} for t in taints
                               if not t["key"].startswith("node.kubernetes.io/")]
    apps = api.AppsV1Api()
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": name, "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": spec}}})
    api.PolicyV1Api().create_namespaced_pod_disruption_budget(namespace, {
        "metadata": {"name": name},
        "spec": {"minAvailable": min_available, "selector": {"matchLabels": labels}}})

    def ready() -> bool:
        status = apps.read_namespaced_deployment(name, namespace).status
        budget = api.PolicyV1Api().read_namespaced_pod_disruption_budget(name, namespace)
        return (status.ready_replicas or 0) == replicas and budget.status is not None and (
            budget.status.current_healthy == replicas)

    _wait(ready, timeout, f"deployment {namespace}/{name} to be Ready")


# ---- helpers ------------------------------------------------------------------------------------

def label_selector(selector: dict | None) -> str:
    """A LabelSelector as the `labelSelector` query string."""
    parts = [f"{k}={v}" for k, v in sorted(((selector or {}).get("matchLabels") or {}).items())]
    for e in (selector or {}).get("matchExpressions") or []:
        op, values = e["operator"], ",".join(e.get("values") or [])
        parts.append({"In": f"{e['key']} in ({values})", "NotIn": f"{e['key']} notin ({values})",
                      "Exists": e["key"], "DoesNotExist": f"!{e['key']}"}[op])
    return ",".join(parts)


def surge_count(max_surge: int | str, pool_size: int) -> int:
    """AKS's max surge as a node count: an integer, or a percentage of the pool rounded up."""
    if isinstance(max_surge, str) and max_surge.endswith("%"):
        return -(-int(max_surge[:-1]) * pool_size // 100)
    return int(max_surge)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text.split("-")[0].split("+")[0])[:3])


def _next_name(names: list[str], pool: str) -> str:
    """The next VMSS instance name of the pool, as AKS names a surge node."""
    parsed = [m for m in map(_SCALE_SET_NAME.fullmatch, names) if m]
    if not parsed:
        return f"{pool}-surge-{len(names)}"
    index = max(int(m[2], 16) for m in parsed) + 1
    return f"{parsed[0][1]}{index:06x}"


def _is_surge(node: dict) -> bool:
    return (node["metadata"].get("annotations") or {}).get(SURGE_ANNOTATION) == "true"


def _evictable(pod) -> bool:
    """What `kubectl drain --ignore-daemonsets` evicts: not DaemonSet or mirror pods, and not
    pods already being deleted."""
    if pod.metadata.deletion_timestamp:
        return False
    if "kubernetes.io/config.mirror" in (pod.metadata.annotations or {}):
        return False
    return not any(ref.controller and ref.kind == "DaemonSet"
                   for ref in pod.metadata.owner_references or [])


def _pod_healthy(pod: dict) -> bool:
    """As the disruption controller counts: Ready and not terminating."""
    if pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _api_message(error: ApiException) -> str:
    try:
        body = json.loads(error.body or "{}")
    except ValueError:
        return str(error.reason)
    causes = [c.get("message", "") for c in (body.get("details") or {}).get("causes") or []]
    return " ".join([body.get("message", str(error.reason))] + [f"({c})" for c in causes if c])


def _exists(core, name: str) -> bool:
    try:
        core.read_node(name)
        return True
    except ApiException as error:
        if error.status == 404:
            return False
        raise


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)
