"""Which pod may talk to which pod on which port, as the NetworkPolicies say.

Semantics follow the Kubernetes NetworkPolicy documentation:
- A pod is isolated for ingress (egress) once any policy in its namespace selects it with
  policyType Ingress (Egress); then only what some such policy's rules allow gets through.
  policyTypes defaults to [Ingress], plus Egress when the policy has egress rules.
- A connection needs both: the source's egress allowed and the destination's ingress allowed.
- A peer is a podSelector (pods in the policy's namespace), a namespaceSelector (all pods in
  matching namespaces), both (matching pods in matching namespaces), or an ipBlock (CIDR minus
  `except`). ipBlock is matched against pod IPs here, as Calico and Cilium do; the API leaves
  that implementation-defined.
- A rule without `from`/`to` matches every peer; without `ports` every port. Ports are a
  number, a range (`endPort`) or a name resolved against the destination pod's container ports.
Policies are stored by every cluster but enforced only by a CNI that implements them (not by
the local kwok cluster; kind with Calico and AKS with azure/calico/cilium do).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from typing import Any

ANY_PORT = "*"


@dataclass(frozen=True)
class Port:
    protocol: str
    number: int
    name: str | None = None

    def __str__(self) -> str:
        return f"{self.protocol}/{self.number}"


@dataclass
class Pod:
    namespace: str
    name: str
    labels: dict[str, str]
    ip: str | None = None
    ports: list[Port] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Connection:
    source: str
    destination: str
    port: str  # "TCP/6379" or "*"
    allowed: bool
    policies: tuple[str, ...]  # names (namespace/name) of the policies that allow it

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "destination": self.destination, "port": self.port,
                "allowed": self.allowed, "policies": list(self.policies)}


def matches(selector: dict | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions); an empty selector matches all."""
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def namespace_labels(items: list[dict]) -> dict[str, dict[str, str]]:
    """Namespace name -> labels, from Namespace API objects (for namespaceSelectors)."""
    return {n["metadata"]["name"]: n["metadata"].get("labels") or {} for n in items}


def pods_from_api(items: list[dict]) -> list[Pod]:
    """Pods (API JSON, camelCase) that are scheduled and not finished."""
    pods = []
    for item in items:
        meta, spec, status = item["metadata"], item.get("spec", {}), item.get("status", {})
        if status.get("phase") in ("Succeeded", "Failed"):
            continue
        ports = [Port(p.get("protocol", "TCP"), p["containerPort"], p.get("name"))
                 for c in spec.get("containers", []) for p in c.get("ports") or []]
        pods.append(Pod(meta["namespace"], meta["name"], meta.get("labels") or {},
                        status.get("podIP"), ports))
    return pods


class Analyzer:
    """Precomputes who each policy selects and admits, then answers pairs quickly."""

    def __init__(self, pods: list[Pod], namespaces: dict[str, dict[str, str]],
                 policies: list[dict]):
        self.pods = sorted(pods, key=lambda p: p.key)
        self.namespaces = namespaces
        self.index = {p.key: i for i, p in enumerate(self.pods)}
        self.ingress: dict[int, list[tuple[str, list]]] = {}  # pod -> [(policy, rules)]
        self.egress: dict[int, list[tuple[str, list]]] = {}
        for policy in policies:
            self._add(policy)

    def _add(self, policy: dict) -> None:
        meta, spec = policy["metadata"], policy.get("spec") or {}
        name = f"{meta['namespace']}/{meta['name']}"
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec
                                                           else []))
        selected = [i for i, p in enumerate(self.pods) if p.namespace == meta["namespace"]
                    and matches(spec.get("podSelector") or {}, p.labels)]
        for kind, key, table in (("Ingress", "ingress", self.ingress),
                                 ("Egress", "egress", self.egress)):
            if kind not in types:
                continue
            rules = [(self._peers(rule.get("from" if key == "ingress" else "to"),
                                  meta["namespace"]), rule.get("ports"))
                     for rule in spec.get(key) or []]
            for i in selected:
                table.setdefault(i, []).append((name, rules))

    def _peers(self, peers: list[dict] | None, namespace: str) -> set[int] | None:
        """Indices of the pods the peers match; None means every peer (from/to empty or absent)."""
        if not peers:
            return None
        found: set[int] = set()
        for peer in peers:
            if "ipBlock" in peer:
                block = peer["ipBlock"]
                cidr = ip_network(block["cidr"], strict=False)
                excluded = [ip_network(e, strict=False) for e in block.get("except") or []]
                for i, pod in enumerate(self.pods):
                    if pod.ip:
                        address = ip_address(pod.ip)
                        if address in cidr and not any(address in e for e in excluded):
                            found.add(i)
                continue
            pod_selector = peer.get("podSelector")
            ns_selector = peer.get("namespaceSelector")
            for i, pod in enumerate(self.pods):
                if ns_selector is None:
                    in_scope = pod.namespace == namespace
                else:
                    in_scope = matches(ns_selector, self.namespaces.get(pod.namespace, {}))
                if in_scope and matches(pod_selector or {}, pod.labels):
                    found.add(i)
        return found

    @staticmethod
    def _port_allowed(ports: list[dict] | None, port: Port | None) -> bool:
        if not ports:
            return True
        if port is None:  # "any port": only a rule without port limits covers it
            return False
        for entry in ports:
            if entry.get("protocol", "TCP") != port.protocol:
                continue
            wanted = entry.get("port")
            if wanted is None:
                return True
            if isinstance(wanted, str) and not wanted.isdigit():
                if wanted == port.name:
                    return True
                continue
            low = int(wanted)
            high = int(entry.get("endPort") or low)
            if low <= port.number <= high:
                return True
        return False

    def _direction(self, table, subject: int, peer: int, port: Port | None
                   ) -> tuple[bool, list[str]]:
        policies = table.get(subject)
        if not policies:
            return True, []  # not isolated in this direction
        allowing = [name for name, rules in policies
                    if any((peers is None or peer in peers) and self._port_allowed(ports, port)
                           for peers, ports in rules)]
        return bool(allowing), allowing

    def connection(self, source: Pod, destination: Pod, port: Port | None) -> Connection:
        s, d = self.index[source.key], self.index[destination.key]
        out_ok, out_by = self._direction(self.egress, s, d, port)
        in_ok, in_by = self._direction(self.ingress, d, s, port)
        allowed = out_ok and in_ok
        return Connection(source.key, destination.key, str(port) if port else ANY_PORT,
                          allowed, tuple(sorted(set(out_by + in_by))) if allowed else ())

    def matrix(self) -> list[Connection]:
        """Every ordered pair of distinct pods, on each port the destination declares."""
        result = []
        for source in self.pods:
            for destination in self.pods:
                if source is destination:
                    continue
                for port in destination.ports or [None]:
                    result.append(self.connection(source, destination, port))
        return result


def isolated(analyzer: Analyzer, pod: Pod) -> dict[str, bool]:
    i = analyzer.index[pod.key]
    return {"ingress": i in analyzer.ingress, "egress": i in analyzer.egress}


def reachability(pods: list[Pod], namespaces: dict[str, dict[str, str]],
                 policies: list[dict]) -> list[Connection]:
    return Analyzer(pods, namespaces, policies).matrix()
