"""Which pod may reach which pod, and which outside addresses, on which ports, as the
NetworkPolicies say (networking.k8s.io/v1, read the way the API server stores them).

Semantics:
- policyTypes: when empty or absent the API server defaults it to [Ingress], plus Egress only
  when `egress` holds at least one rule; so `egress: []` or `egress: null` without policyTypes
  leaves egress alone, and [Egress] alone leaves ingress alone.
- A pod is isolated for ingress (egress) when a policy of its namespace selects it (podSelector;
  empty selects every pod) with that type. A side that is not isolated allows everything; an
  isolated side allows only the union of what the rules of those policies allow (additive, so
  an allow-all next to a deny-all allows all). A connection needs both: the source's egress
  and the destination's ingress.
- A peer is a podSelector alone (pods of the policy's namespace), a namespaceSelector alone
  (every pod of the matching namespaces; `{}` is every namespace), both (matching pods in
  matching namespaces) or an ipBlock (the CIDR minus `except`). A rule without `from`/`to` (or
  an empty list) matches every pod and every address. Namespaces carry the
  `kubernetes.io/metadata.name` label the API server adds.
- Ports: `protocol` defaults to TCP; an entry without `port` is every port of its protocol;
  `port`..`endPort` is a range; a named port is resolved per destination pod against its
  containers' ports of that name and protocol (a name the pod does not define matches nothing
  for it). Towards an outside address there is no pod to define a name, so a named port in an
  egress rule to an ipBlock matches nothing (as in kube-network-policies, SIG Network's
  reference implementation); in an ingress rule it names the destination pod's port and
  applies to every peer, ipBlocks included. A rule without `ports` allows every protocol,
  including those without ports (ICMP, ...); a rule with ports allows only TCP, UDP and SCTP.
- `containerPort` is informational: traffic to a port no container declares is judged by the
  policies alone.
- ipBlock and pod IPs (`ipblock_matches_pods`, default False): the API leaves it to the
  engine. Cilium (also AKS's "Azure CNI powered by Cilium") does not apply CIDR rules when both
  ends are pods or nodes of the cluster, so an ipBlock matches no pod (the default here).
  Azure NPM turns an ipBlock into an ipset of CIDRs matched against packet addresses, so pod
  IPs match (read in its source, translatePolicy.go; not stated in its docs). Calico matches
  pod IPs too (reported in projectcalico/calico#6634; not checked in Calico's docs). With the
  option on, a pod matches when any of its IPs (`status.podIPs`, else `status.podIP`) is in
  the block; a pod without an IP (from manifests, or pending) matches no ipBlock.
- Outside the cluster: addresses that are not pods, as peers named `ip/<cidr>`, computed from
  the ipBlocks (with `except`) and the rules without peers. Under Cilium, node IPs do not
  match ipBlocks either unless it is configured to, so these rows speak of addresses beyond
  the nodes.
- hostNetwork pods (`spec.hostNetwork: true`) use the node's network: no policy isolates
  them, whatever selects them (Kubernetes docs "Network Policies", NetworkPolicy and
  hostNetwork pods; a Cilium endpoint policy selects endpoints, and such a pod is none). As
  peers of other pods' policies they are matched by selectors here; most plugins see their
  traffic as the node's instead, so a row from one may be allowed here and denied there.
Policies are stored by every cluster but enforced only by an engine that implements them (not
by the local kwok cluster; kind with Calico and AKS with azure/calico/cilium do).
- CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy objects in `policies` (told apart by
  `kind`) are read as Cilium enforces them beside NetworkPolicies (see analysis/cilium.py):
  default deny per direction when any policy of either kind selects the pod for it, allowed
  what any allow rule allows, minus what any deny rule (`ingressDeny`, `egressDeny`) denies.
  What that model cannot decide (toFQDNs, L7 rules, toServices, ...) makes a row neither
  allowed nor denied: `allowed` is None ("not modelled") and `policies` names the policies.
  A denied row names the deny policies that cover it.

Rows (`Connection`): for every ordered pair of distinct pods, `port` is `*` (every protocol
and port) when the pair is allowed everything (one allowed row) or nothing (one denied row);
otherwise the pair is listed range by range, allowed rows and the denied remainder, sorted by
protocol (TCP, UDP, SCTP) then port: `TCP/8080`, `UDP/5000-5010`, a whole protocol
`UDP/1-65535`, and a last denied row `other` for the protocols without ports. `policies` on
an allowed row names the policies (namespace/name), on either side, that each allow the whole
row; a side that is not isolated names none. With external peers: for each pod, the outside
ranges it may reach (`pod -> ip/<cidr>`) and that may reach it (`ip/<cidr> -> pod`), one
allowed row per CIDR and port range, then one denied row `ip/0.0.0.0/0` (`ip/::/0`) `*`
standing for every other address and port of that family; an address family allowed in full
is one allowed row `ip/0.0.0.0/0 *` (`ip/::/0 *`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address, summarize_address_range
from typing import Any

from aks_runbook.analysis import cilium
from aks_runbook.analysis.addresses import network as cidr_network

ANY_PORT = "*"
OTHER = "other"
PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_PORT = 65535
NAME_LABEL = "kubernetes.io/metadata.name"
FAMILIES = {4: ("0.0.0.0/0", (1 << 32) - 1, IPv4Address),
            6: ("::/0", (1 << 128) - 1, IPv6Address)}

# the view's kinds (objects.LISTS) that hold the policies `Analyzer` reads, in that order
POLICY_KINDS = ("networkpolicies", "ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies")

Intervals = tuple[tuple[int, int], ...]
Row = tuple[str, bool | None, tuple[str, ...]]  # port, allowed (None: not modelled), policies
FULL: Intervals = ((1, MAX_PORT),)


class PolicyError(ValueError):
    """A policy that cannot be read (an ipBlock or Cilium CIDR that is not a CIDR); `policy`
    is its "namespace/name"."""

    def __init__(self, message: str, policy: str):
        super().__init__(message)
        self.policy = policy


def _merge(intervals: list[tuple[int, int]]) -> Intervals:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return tuple(merged)


def _intersect(a: Intervals, b: Intervals) -> Intervals:
    if a == b:
        return a
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        low, high = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if low <= high:
            out.append((low, high))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _complement(a: Intervals, top: int = MAX_PORT, bottom: int = 1) -> list[tuple[int, int]]:
    out, start = [], bottom
    for low, high in a:
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= top:
        out.append((start, top))
    return out


def _covers(intervals: Intervals, low: int, high: int) -> bool:
    return any(a <= low and high <= b for a, b in intervals)


@dataclass(frozen=True, slots=True)
class Ports:
    """A set of connections: port intervals per protocol (TCP, UDP, SCTP), and whether the
    protocols without ports (ICMP, ...) are in it."""

    ranges: tuple[Intervals, Intervals, Intervals] = ((), (), ())
    others: bool = False

    def __or__(self, other: Ports) -> Ports:
        if not other:
            return self
        if not self:
            return other
        return Ports(tuple(x if x == y else _merge(list(x + y))  # type: ignore[arg-type]
                           for x, y in zip(self.ranges, other.ranges, strict=True)),
                     self.others or other.others)

    def __and__(self, other: Ports) -> Ports:
        return Ports(tuple(_intersect(x, y)  # type: ignore[arg-type]
                           for x, y in zip(self.ranges, other.ranges, strict=True)),
                     self.others and other.others)

    def __sub__(self, other: Ports) -> Ports:
        if not other or not self:
            return self
        return Ports(tuple(_intersect(x, tuple(_complement(y)))  # type: ignore[arg-type]
                           for x, y in zip(self.ranges, other.ranges, strict=True)),
                     self.others and not other.others)

    def __bool__(self) -> bool:
        return self.others or any(self.ranges)

    @property
    def everything(self) -> bool:
        return self.others and all(r == FULL for r in self.ranges)


NOTHING = Ports()
EVERYTHING = Ports((FULL, FULL, FULL), True)
OPEN: tuple[Row, ...] = ((ANY_PORT, True, ()),)
CLOSED: tuple[Row, ...] = ((ANY_PORT, False, ()),)


def spell(protocol: int, low: int, high: int) -> str:
    """`TCP/80`, `UDP/5000-5010`."""
    return f"{PROTOCOLS[protocol]}/{low}" if low == high else f"{PROTOCOLS[protocol]}/{low}-{high}"


def port_range(port: str) -> tuple[str, int, int] | None:
    """The protocol and range a row's port spells (None for `*`; `other` has no ports: 0-0)."""
    if port == ANY_PORT:
        return None
    if port == OTHER:
        return (OTHER, 0, 0)
    protocol, _, numbers = port.partition("/")
    low, _, high = numbers.partition("-")
    return (protocol, int(low), int(high or low))


@dataclass(frozen=True)
class Port:
    """A port a container declares (informational; it names a port for named-port rules)."""

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
    ips: tuple[str, ...] = ()
    ports: list[Port] = field(default_factory=list)
    service_account: str = "default"
    host_network: bool = False  # spec.hostNetwork: no policy isolates it (see the module doc)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Connection:
    source: str
    destination: str
    port: str  # "*", "TCP/6379", "UDP/5000-5010", "other"
    allowed: bool | None  # None: decided by what the model does not cover (Cilium L7, FQDN...)
    # the policies (namespace/name; a clusterwide one by name) that allow the whole row, or
    # for a denied row the deny rules' policies, for a not-modelled row the undecided ones
    policies: tuple[str, ...]

    @property
    def verdict(self) -> str:
        return {True: "allowed", False: "denied", None: "not modelled"}[self.allowed]

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "destination": self.destination, "port": self.port,
                "allowed": self.allowed, "policies": list(self.policies)}


def matches(selector: dict | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions); an empty or absent one matches all."""
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        present = key in labels
        if operator == "In":
            ok = present and labels[key] in values
        elif operator == "NotIn":
            ok = not present or labels[key] not in values
        elif operator == "Exists":
            ok = present
        elif operator == "DoesNotExist":
            ok = not present
        else:  # not a valid operator: the API server would have refused the object
            ok = False
        if not ok:
            return False
    return True


def namespace_labels(items: list[dict]) -> dict[str, dict[str, str]]:
    """Namespace name -> labels, from Namespace API objects (for namespaceSelectors)."""
    return {n["metadata"]["name"]: n["metadata"].get("labels") or {} for n in items}


def pods_from_api(items: list[dict]) -> list[Pod]:
    """Pods (API JSON, camelCase) that are not finished, with all their IPs (dual stack)."""
    pods = []
    for item in items:
        meta, spec = item["metadata"], item.get("spec") or {}
        status = item.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            continue
        ips = [entry.get("ip") for entry in status.get("podIPs") or [] if entry.get("ip")]
        if not ips and status.get("podIP"):
            ips = [status["podIP"]]
        ports = [Port(p.get("protocol") or "TCP", int(p["containerPort"]), p.get("name"))
                 for c in spec.get("containers") or [] for p in c.get("ports") or []
                 if p.get("containerPort") is not None]
        pods.append(Pod(meta["namespace"], meta["name"], meta.get("labels") or {},
                        tuple(dict.fromkeys(ips)), ports,
                        spec.get("serviceAccountName") or "default",
                        spec.get("hostNetwork") is True))
    return pods


# ---- policies, compiled ----------------------------------------------------------------------

NamedPorts = dict[tuple[int, str], tuple[int, ...]]  # (protocol, name) -> numbers


@dataclass(frozen=True)
class _PortSpec:
    fixed: Ports
    named: tuple[tuple[int, str], ...] = ()

    def resolve(self, named: NamedPorts) -> Ports:
        if not self.named:
            return self.fixed
        ranges: list[list[tuple[int, int]]] = [list(r) for r in self.fixed.ranges]
        for protocol, name in self.named:
            ranges[protocol].extend((n, n) for n in named.get((protocol, name), ()))
        return Ports(tuple(_merge(r) for r in ranges), self.fixed.others)  # type: ignore[arg-type]


def _port_spec(entries: list[dict] | None) -> _PortSpec:
    if not entries:
        return _PortSpec(EVERYTHING)
    ranges: list[list[tuple[int, int]]] = [[], [], []]
    named: list[tuple[int, str]] = []
    for entry in entries:
        entry = entry or {}
        protocol = entry.get("protocol") or "TCP"
        if protocol not in PROTOCOLS:
            continue  # the API server accepts only these three
        index = PROTOCOLS.index(protocol)
        port = entry.get("port")
        if port is None:
            ranges[index].append((1, MAX_PORT))
        elif isinstance(port, str) and not port.isdigit():
            named.append((index, port))
        else:
            low = int(port)
            high = max(int(entry.get("endPort") or low), low)
            if 1 <= low <= MAX_PORT:
                ranges[index].append((low, min(high, MAX_PORT)))
    return _PortSpec(Ports(tuple(_merge(r) for r in ranges)),  # type: ignore[arg-type]
                     tuple(dict.fromkeys(named)))


def _block(cidr: str, excepts: list[str], policy: str) -> tuple[int, Intervals]:
    """An ipBlock as (address family, address intervals): the CIDR minus its exceptions (an
    IPv4-mapped IPv6 CIDR is the IPv4 range it maps, as addresses.network says why)."""
    try:
        network = cidr_network(cidr)
        left = [(int(network.network_address), int(network.broadcast_address))]
        for text in excepts:
            hole = cidr_network(text)
            if hole.version != network.version:
                continue
            low, high = int(hole.network_address), int(hole.broadcast_address)
            left = [piece for a, b in left
                    for piece in ((a, min(b, low - 1)), (max(a, high + 1), b))
                    if piece[0] <= piece[1]]
    except (ValueError, TypeError) as error:
        raise PolicyError(f"NetworkPolicy {policy}: ipBlock {cidr!r}: {error}", policy) from None
    return network.version, tuple(left)


@dataclass
class _Rule:
    id: int
    everyone: bool  # no from/to: every pod and every address
    selector_peers: list[int]  # ids of distinct pod/namespace selector peers
    blocks: list[tuple[int, Intervals]]  # ipBlocks: (family, intervals)
    block_ids: list[int]
    ports: _PortSpec


@dataclass
class _Policy:
    name: str
    namespace: str
    selector: dict
    rules: dict[str, list[_Rule] | None]  # "ingress"/"egress" -> rules; None: type not set


DIRECTIONS = (("Ingress", "ingress", "from"), ("Egress", "egress", "to"))


@dataclass
class _Class:
    """Pods that no policy tells apart: same selecting policies, same peer matches and the
    same numbers for the named ports the policies use."""

    members: list[int]
    ingress: tuple[int, ...]  # policies isolating it for ingress
    egress: tuple[int, ...]
    rules: frozenset[int]  # rules whose peers include it
    named: NamedPorts
    cilium_ingress: tuple[int, ...] = ()  # Cilium subjects with ingress rules selecting it
    cilium_egress: tuple[int, ...] = ()
    cilium_peers: frozenset[int] = frozenset()  # Cilium rules whose endpoint peers include it


@dataclass
class _CiliumRule:
    """A Cilium rule with its ports and outside addresses compiled."""

    id: int
    rule: cilium.Rule
    ports: _PortSpec  # allowed (or denied) at L4
    l7: _PortSpec | None  # ports an L7 rule filters
    blocks: list[tuple[int, Intervals]]


def _key(selector: Any) -> str:
    return json.dumps(selector, sort_keys=True)


class Analyzer:
    """Groups equivalent pods into classes, then computes what each pair of classes allows."""

    def __init__(self, pods: list[Pod], namespaces: dict[str, dict[str, str]],
                 policies: list[dict], *, ipblock_matches_pods: bool = False):
        self.pods = sorted(pods, key=lambda p: p.key)
        self.index = {p.key: i for i, p in enumerate(self.pods)}
        self.namespaces = {**{p.namespace: {} for p in self.pods}, **namespaces}
        self.ipblock_matches_pods = ipblock_matches_pods
        self._selector_peers: dict[tuple, int] = {}  # (namespace|None, pod key, ns key) -> id
        self._selectors: dict[str, dict | None] = {}
        self._block_ids: dict[tuple, int] = {}
        self._blocks: list[tuple[int, Intervals]] = []
        self._rules: list[_Rule] = []
        self.policies = [self._compile(p) for p in policies if not cilium.is_cilium(p)]
        self.subjects = [s for p in policies if cilium.is_cilium(p) for s in cilium.subjects(p)]
        self._cilium_rules: list[_CiliumRule] = []
        for rule in (r for s in self.subjects for r in s.rules):
            self._cilium_rules.append(self._compile_cilium(rule))
        self._classify()
        self._resolved: dict[tuple[int, int], Ports] = {}
        self._sides: dict[tuple, tuple[Row, ...]] = {}

    # ---- compiling ----

    def _compile(self, policy: dict) -> _Policy:
        meta, spec = policy.get("metadata") or {}, policy.get("spec") or {}
        namespace = meta.get("namespace") or "default"
        name = f"{namespace}/{meta.get('name')}"
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress")
                                                           else []))
        rules: dict[str, list[_Rule] | None] = {}
        for kind, key, peers_key in DIRECTIONS:
            if kind not in types:
                rules[key] = None
                continue
            rules[key] = [self._rule(rule or {}, peers_key, namespace, name)
                          for rule in spec.get(key) or []]
        return _Policy(name, namespace, spec.get("podSelector") or {}, rules)

    def _rule(self, rule: dict, peers_key: str, namespace: str, policy: str) -> _Rule:
        peers = rule.get(peers_key)
        compiled = _Rule(len(self._rules), not peers, [], [], [], _port_spec(rule.get("ports")))
        for peer in peers or []:
            peer = peer or {}
            if peer.get("ipBlock"):
                block = peer["ipBlock"]
                found = _block(block.get("cidr", ""), block.get("except") or [], policy)
                if found not in self._block_ids:
                    self._block_ids[found] = len(self._blocks)
                    self._blocks.append(found)
                compiled.blocks.append(found)
                compiled.block_ids.append(self._block_ids[found])
                continue
            pod_selector, ns_selector = peer.get("podSelector"), peer.get("namespaceSelector")
            if pod_selector is None and ns_selector is None:
                continue  # an empty peer: the API server refuses it; it matches nothing here
            pod_key, ns_key = _key(pod_selector or {}), _key(ns_selector)
            self._selectors[pod_key] = pod_selector or {}
            self._selectors[ns_key] = ns_selector
            identity = (namespace if ns_selector is None else None, pod_key, ns_key)
            compiled.selector_peers.append(
                self._selector_peers.setdefault(identity, len(self._selector_peers)))
        self._rules.append(compiled)
        return compiled

    def _compile_cilium(self, rule: cilium.Rule) -> _CiliumRule:
        def spec(entries: list[dict] | None) -> _PortSpec:
            return _PortSpec(EVERYTHING) if entries is None else (
                _port_spec(entries) if entries else _PortSpec(NOTHING))
        blocks = [_block(cidr, excepts, rule.policy) for cidr, excepts in rule.cidrs]
        blocks += [(family, ((0, FAMILIES[family][1]),)) for family in rule.worlds]
        return _CiliumRule(len(self._cilium_rules), rule, spec(rule.ports),
                           spec(rule.l7_ports) if rule.l7_ports else None, blocks)

    # ---- grouping pods ----

    def _classify(self) -> None:
        groups: dict[tuple, int] = {}  # (namespace, labels, service account) -> label group
        group_of = [groups.setdefault((p.namespace, frozenset(p.labels.items()),
                                       p.service_account, p.host_network), len(groups))
                    for p in self.pods]
        group_pods: dict[int, Pod] = {group_of[i]: p for i, p in enumerate(self.pods)}
        by_namespace: dict[str, list[int]] = {}
        for group, pod in group_pods.items():
            by_namespace.setdefault(pod.namespace, []).append(group)
        matched: dict[tuple[str, int], bool] = {}

        def selects(selector_key: str, group: int) -> bool:
            found = matched.get((selector_key, group))
            if found is None:
                found = matches(self._selectors[selector_key], group_pods[group].labels)
                matched[(selector_key, group)] = found
            return found

        # the policies that isolate each label group
        sides: dict[int, tuple[list[int], list[int]]] = {g: ([], []) for g in group_pods}
        for index, policy in enumerate(self.policies):
            key = _key(policy.selector)
            self._selectors[key] = policy.selector
            for group in by_namespace.get(policy.namespace, []):
                if selects(key, group) and not group_pods[group].host_network:
                    for side, direction in zip(sides[group], ("ingress", "egress"), strict=True):
                        if policy.rules[direction] is not None:
                            side.append(index)
        # the rules whose selector peers match each label group
        rules_of_peer: dict[int, list[int]] = {}
        rules_of_block: dict[int, list[int]] = {}
        for rule in self._rules:
            for peer in rule.selector_peers:
                rules_of_peer.setdefault(peer, []).append(rule.id)
            for block in rule.block_ids:
                rules_of_block.setdefault(block, []).append(rule.id)
        group_rules: dict[int, set[int]] = {g: set() for g in group_pods}
        for (namespace, pod_key, ns_key), peer in self._selector_peers.items():
            if namespace is not None:
                scope = [namespace] if namespace in by_namespace else []
            else:
                scope = [ns for ns in by_namespace if matches(
                    self._selectors[ns_key], {**self.namespaces.get(ns, {}), NAME_LABEL: ns})]
            for ns in scope:
                for group in by_namespace[ns]:
                    if selects(pod_key, group):
                        group_rules[group].update(rules_of_peer.get(peer, ()))
        cilium_sides = {g: self._cilium_sides(pod) for g, pod in group_pods.items()}
        # named ports the rules use, and (optionally) ipBlocks that hold pod IPs
        used = sorted({n for r in self._rules for n in r.ports.named}
                      | {n for r in self._cilium_rules for spec in (r.ports, r.l7) if spec
                         for n in spec.named})
        classes: dict[tuple, int] = {}
        self.classes: list[_Class] = []
        self.class_of: list[int] = []
        for i, pod in enumerate(self.pods):
            group = group_of[i]
            rules = frozenset(group_rules[group] | self._rules_by_ip(pod, rules_of_block))
            declared: dict[tuple[int, str], set[int]] = {}
            for port in pod.ports:
                if port.name and port.protocol in PROTOCOLS:
                    declared.setdefault((PROTOCOLS.index(port.protocol), port.name),
                                        set()).add(port.number)
            signature = tuple(tuple(sorted(declared.get(wanted, ()))) for wanted in used)
            ingress, egress = sides[group]
            key = (tuple(ingress), tuple(egress), rules, signature, cilium_sides[group])
            number = classes.get(key)
            if number is None:
                number = classes[key] = len(self.classes)
                self.classes.append(_Class([], tuple(ingress), tuple(egress), rules,
                                           dict(zip(used, signature, strict=True)),
                                           *cilium_sides[group]))
            self.classes[number].members.append(i)
            self.class_of.append(number)

    def _cilium_sides(self, pod: Pod) -> tuple[tuple[int, ...], tuple[int, ...], frozenset[int]]:
        """The Cilium subjects selecting the pod per direction, and the rules it is a peer of."""
        if not self.subjects:
            return (), (), frozenset()
        labels = cilium.endpoint_labels(pod.namespace, pod.labels,
                                        self.namespaces.get(pod.namespace, {}),
                                        pod.service_account)
        selecting = [i for i, s in enumerate(self.subjects)
                     if not pod.host_network and s.selects(pod.namespace, labels)]
        peers = frozenset(r.id for r in self._cilium_rules
                          if any(cilium.matches(sel, labels) for sel in r.rule.selectors))
        return (tuple(i for i in selecting if self.subjects[i].has_rules["ingress"]),
                tuple(i for i in selecting if self.subjects[i].has_rules["egress"]), peers)

    def _rules_by_ip(self, pod: Pod, rules_of_block: dict[int, list[int]]) -> set[int]:
        if not self.ipblock_matches_pods or not pod.ips:
            return set()
        found: set[int] = set()
        addresses = []
        for text in pod.ips:
            try:
                address = ip_address(text)
            except ValueError:
                continue
            addresses.append((address.version, int(address)))
        for block_id, (family, intervals) in enumerate(self._blocks):
            if any(version == family and _covers(intervals, number, number)
                   for version, number in addresses):
                found.update(rules_of_block.get(block_id, ()))
        return found

    # ---- results ----

    def isolation(self, pod: Pod) -> dict[str, bool]:
        cls = self.classes[self.class_of[self.index[pod.key]]]
        return {direction: self._isolated(cls, direction) for direction in ("ingress", "egress")}

    def _isolated(self, cls: _Class, direction: str) -> bool:
        """Default deny in this direction: a NetworkPolicy or a Cilium rule selects it."""
        policies = cls.ingress if direction == "ingress" else cls.egress
        subjects = cls.cilium_ingress if direction == "ingress" else cls.cilium_egress
        return bool(policies) or any(self.subjects[i].default_deny[direction]
                                     for i in subjects)

    def _ports(self, rule: _Rule, destination: _Class | None) -> Ports:
        """What a rule allows towards a destination pod class (None: an outside address)."""
        if not rule.ports.named:
            return rule.ports.fixed
        if destination is None:
            return rule.ports.resolve({})
        key = (rule.id, id(destination))
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = rule.ports.resolve(destination.named)
        return found

    def _side(self, policies: tuple[int, ...], direction: str, peer: _Class,
              destination: _Class) -> dict[str, Ports] | None:
        """Per isolating policy, what its rules allow towards this peer (None: not isolated)."""
        if not policies:
            return None
        allowed: dict[str, Ports] = {}
        for index in policies:
            policy = self.policies[index]
            total = NOTHING
            for rule in policy.rules[direction] or ():
                if rule.everyone or rule.id in peer.rules:
                    total = total | self._ports(rule, destination)
            if total:
                allowed[policy.name] = allowed.get(policy.name, NOTHING) | total
        return allowed

    def pair_rows(self, source: int, destination: int) -> tuple[Row, ...]:
        """The rows between two pod classes."""
        s, d = self.classes[source], self.classes[destination]
        if self.subjects:
            return self._cilium_pair_rows(s, d)
        egress = self._side(s.egress, "egress", d, d)
        ingress = self._side(d.ingress, "ingress", s, d)
        if egress is None and ingress is None:
            return OPEN
        if egress == {} or ingress == {}:
            return CLOSED
        key = (None if egress is None else tuple(sorted(egress.items())),
               None if ingress is None else tuple(sorted(ingress.items())))
        rows = self._sides.get(key)
        if rows is None:
            rows = self._sides[key] = rows_for([side for side in (egress, ingress)
                                                if side is not None])
        return rows

    def external_rows(self, cls: _Class, direction: str) -> list[tuple[str, str, bool,
                                                                         tuple[str, ...]]]:
        """(peer `ip/<cidr>`, port, allowed, policies) for a class's egress or ingress."""
        if self.subjects:
            return self._cilium_external_rows(cls, direction)
        policies = cls.egress if direction == "egress" else cls.ingress
        if not policies:
            return [(f"ip/{FAMILIES[f][0]}", ANY_PORT, True, ()) for f in FAMILIES]
        destination = None if direction == "egress" else cls
        owners: dict[int, list[tuple[str, int, int, Ports]]] = {4: [], 6: []}
        for index in policies:
            policy = self.policies[index]
            for rule in policy.rules[direction] or ():
                ports = self._ports(rule, destination)
                if not ports:
                    continue
                if rule.everyone:
                    for family, (_, top, _) in FAMILIES.items():
                        owners[family].append((policy.name, 0, top, ports))
                for family, intervals in rule.blocks:
                    owners[family].extend((policy.name, a, b, ports) for a, b in intervals)
        rows = []
        for family, found in owners.items():
            rows.extend(_external_family(family, found))
        return rows

    # ---- with Cilium policies: allowed, not modelled, denied ----

    def _resolve(self, spec: _PortSpec | None, destination: _Class | None) -> Ports:
        if spec is None:
            return NOTHING
        if not spec.named:
            return spec.fixed
        return spec.resolve(destination.named if destination is not None else {})

    def _cilium_rule_parts(self, rule: _CiliumRule, destination: _Class | None
                           ) -> list[tuple[str, Ports]]:
        """(kind, ports) a Cilium rule gives a peer it matches: kind allow, unknown, deny
        (fromRequires/toRequires are applied afterwards, by _requiring, which names them)."""
        ports = self._resolve(rule.ports, destination)
        l7 = self._resolve(rule.l7, destination)
        icmp = Ports(others=True) if rule.rule.icmp else NOTHING
        if rule.rule.deny:
            return [("deny", ports), ("unknown-deny", icmp)]
        if rule.rule.unknown_all:
            return [("unknown", ports | l7 | icmp)]
        return [("allow", ports), ("unknown", l7 | icmp)]

    def _cilium_side(self, cls: _Class, direction: str, peer: _Class, destination: _Class
                     ) -> tuple[bool, list[tuple[str, str, Ports]]]:
        """Whether the side is in default deny, and (kind, policy, ports) towards a pod."""
        policies = cls.ingress if direction == "ingress" else cls.egress
        found = [("allow", name, ports) for name, ports in
                 (self._side(policies, direction, peer, destination) or {}).items()]
        subjects = cls.cilium_ingress if direction == "ingress" else cls.cilium_egress
        requiring = sorted({self.subjects[i].policy for i in subjects
                            if self.subjects[i].requires[direction]})
        for rule in self._cilium_rules_of(subjects, direction):
            unknown = "unknown-deny" if rule.rule.deny else "unknown"
            if rule.rule.all_pods or rule.id in peer.cilium_peers:
                found += [(kind, rule.rule.policy, ports) for kind, ports
                          in self._cilium_rule_parts(rule, destination)]
            if rule.rule.unknown_pods:
                found.append((unknown, rule.rule.policy, self._resolve(rule.ports, destination)
                              | self._resolve(rule.l7, destination)))
        return self._isolated(cls, direction), _requiring(found, requiring)

    def _cilium_rules_of(self, subjects: tuple[int, ...], direction: str
                         ) -> Iterator[_CiliumRule]:
        wanted = {id(r) for i in subjects for r in self.subjects[i].rules
                  if r.direction == direction}
        return (r for r in self._cilium_rules if id(r.rule) in wanted)

    def _cilium_pair_rows(self, s: _Class, d: _Class) -> tuple[Row, ...]:
        egress = self._cilium_side(s, "egress", d, d)
        ingress = self._cilium_side(d, "ingress", s, d)
        (out_allowed, out_unknown), (in_allowed, in_unknown) = (_evaluate(*egress),
                                                                _evaluate(*ingress))
        allowed = out_allowed & in_allowed
        unknown = ((out_allowed | out_unknown) & (in_allowed | in_unknown)) - allowed
        return rows3(allowed, unknown, egress[1] + ingress[1])

    def _cilium_external_rows(self, cls: _Class, direction: str
                              ) -> list[tuple[str, str, bool | None, tuple[str, ...]]]:
        """external_rows with Cilium policies: per address region, allowed and not modelled."""
        policies = cls.egress if direction == "egress" else cls.ingress
        destination = None if direction == "egress" else cls
        owners: dict[int, list[tuple[str, str, int, int, Ports]]] = {4: [], 6: []}
        for index in policies:
            policy = self.policies[index]
            for rule in policy.rules[direction] or ():
                ports = self._ports(rule, destination)
                if rule.everyone:
                    for family, (_, top, _) in FAMILIES.items():
                        owners[family].append(("allow", policy.name, 0, top, ports))
                for family, intervals in rule.blocks:
                    owners[family].extend(("allow", policy.name, a, b, ports)
                                          for a, b in intervals)
        subjects = cls.cilium_ingress if direction == "ingress" else cls.cilium_egress
        requiring = sorted({self.subjects[i].policy for i in subjects
                            if self.subjects[i].requires[direction]})
        for rule in self._cilium_rules_of(subjects, direction):
            name = rule.rule.policy
            parts = self._cilium_rule_parts(rule, destination)
            for family, intervals in rule.blocks:
                owners[family].extend((kind, name, a, b, ports) for a, b in intervals
                                      for kind, ports in parts)
            if rule.rule.unknown_outside:
                kind = "unknown-deny" if rule.rule.deny else "unknown"
                ports = (self._resolve(rule.ports, destination)
                         | self._resolve(rule.l7, destination))
                for family, (_, top, _) in FAMILIES.items():
                    owners[family].append((kind, name, 0, top, ports))
        isolated = self._isolated(cls, direction)
        rows = []
        for family, found in owners.items():
            rows.extend(_external_family3(family, isolated, found, requiring))
        return rows

    def matrix(self, external: bool = False) -> Matrix:
        """Every ordered pair of distinct pods (and, with `external`, outside addresses)."""
        pairs = {}
        for s, source in enumerate(self.classes):
            for d in range(len(self.classes)):
                if s != d or len(source.members) > 1:
                    pairs[(s, d)] = self.pair_rows(s, d)
        outside: dict[tuple[int, str], list] = {}
        if external:
            cache: dict[tuple, list] = {}
            for number, cls in enumerate(self.classes):
                for direction in ("egress", "ingress"):
                    key = ((direction, cls.egress, cls.cilium_egress) if direction == "egress"
                           else (direction, cls.ingress, tuple(sorted(cls.named.items())),
                                 cls.cilium_ingress))
                    if key not in cache:
                        cache[key] = self.external_rows(cls, direction)
                    outside[(number, direction)] = cache[key]
        return Matrix(self, pairs, outside)


def rows_for(sides: list[dict[str, Ports]]) -> tuple[Row, ...]:
    """The rows of one pair, given what each policy of each isolated side allows."""
    if not sides:
        return OPEN
    allowed = EVERYTHING
    for side in sides:
        union = NOTHING
        for ports in side.values():
            union = union | ports
        allowed = allowed & union
    if not allowed:
        return CLOSED
    if allowed.everything:
        return ((ANY_PORT, True, tuple(sorted({name for side in sides
                                               for name, p in side.items() if p.everything}))),)
    rows: list[Row] = []
    for protocol in range(len(PROTOCOLS)):
        owners = [(name, p.ranges[protocol]) for side in sides for name, p in side.items()]
        pieces = [(low, high, True, names)
                  for low, high, names in _attributed(allowed.ranges[protocol], owners)]
        pieces += [(low, high, False, ()) for low, high in _complement(allowed.ranges[protocol])]
        rows.extend((spell(protocol, low, high), ok, names)
                    for low, high, ok, names in sorted(pieces))
    rows.append((OTHER, False, ()))
    return tuple(rows)


def _attributed(granted: Intervals, owners: list[tuple[str, Intervals]]
                ) -> list[tuple[int, int, tuple[str, ...]]]:
    """Cut the granted intervals where the set of policies covering them changes."""
    cuts = sorted({b for _, intervals in owners for low, high in intervals
                   for b in (low, high + 1)})
    pieces: list[tuple[int, int, tuple[str, ...]]] = []
    for low, high in granted:
        points = [low, *(c for c in cuts if low < c <= high), high + 1]
        for a, b in zip(points, points[1:], strict=False):
            names = tuple(sorted({n for n, intervals in owners if _covers(intervals, a, b - 1)}))
            if pieces and pieces[-1][2] == names and pieces[-1][1] + 1 == a:
                pieces[-1] = (pieces[-1][0], b - 1, names)
            else:
                pieces.append((a, b - 1, names))
    return pieces


def _external_family(family: int, owners: list[tuple[str, int, int, Ports]]
                     ) -> list[tuple[str, str, bool, tuple[str, ...]]]:
    """Rows for one address family from (policy, first address, last address, ports)."""
    def allowed_in(first: int, last: int) -> tuple[Row, ...]:
        per_policy: dict[str, Ports] = {}
        for name, low, high, ports in owners:
            if low <= first and last <= high:
                per_policy[name] = per_policy.get(name, NOTHING) | ports
        return tuple(row for row in rows_for([per_policy]) if row[1]) if per_policy else ()

    return _address_rows(family, [(low, high) for _, low, high, _ in owners], allowed_in)


def _address_rows(family: int, ranges: list[tuple[int, int]], rows_in
                  ) -> list[tuple[str, str, bool | None, tuple[str, ...]]]:
    """The address space of a family cut where `ranges` begin and end; `rows_in(first, last)`
    gives each piece's rows (none: not allowed). Neighbouring pieces with the same rows are
    one; the whole space allowed on every port is one `ip/<world>` row; otherwise each piece
    as CIDRs, and `ip/<world>` last for the rest (not allowed)."""
    world, top, address = FAMILIES[family]
    cuts = sorted({0, top + 1} | {b for low, high in ranges for b in (low, high + 1)})
    regions: list[tuple[int, int, tuple[Row, ...]]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        rows = rows_in(a, b - 1)
        if regions and regions[-1][2] == rows:
            regions[-1] = (regions[-1][0], b - 1, rows)
        else:
            regions.append((a, b - 1, rows))
    if len(regions) == 1 and regions[0][2][:1] and regions[0][2][0][:2] == (ANY_PORT, True):
        return [(f"ip/{world}", ANY_PORT, True, regions[0][2][0][2])]
    out = []
    for first, last, rows in regions:
        for network in summarize_address_range(address(first), address(last)) if rows else ():
            out.extend((f"ip/{network}", port, state, names) for port, state, names in rows)
    if not all(any(port == ANY_PORT for port, _, _ in rows) for _, _, rows in regions):
        out.append((f"ip/{world}", ANY_PORT, False, ()))  # the rest, when anything is left
    return out


def _requiring(found: list[tuple[str, str, Ports]], requiring: list[str]
               ) -> list[tuple[str, str, Ports]]:
    """fromRequires/toRequires narrow every allow of the pod in an unmodelled way: its allows
    become not modelled, naming the requiring policies too."""
    if not requiring:
        return found
    allows = NOTHING
    for kind, _, ports in found:
        if kind == "allow":
            allows = allows | ports
    changed = [("unknown" if kind == "allow" else kind, name, ports)
               for kind, name, ports in found]
    return changed + [("unknown", name, allows) for name in requiring if allows]


def _evaluate(isolated: bool, found: list[tuple[str, str, Ports]]) -> tuple[Ports, Ports]:
    """One side: (allowed, not modelled). Not in default deny, everything is allowed; deny
    rules win over allows; a deny the model cannot place makes what it may cover unknown."""
    union = {kind: NOTHING for kind in ("allow", "unknown", "deny", "unknown-deny")}
    for kind, _, ports in found:
        union[kind] = union[kind] | ports
    allowed = union["allow"] if isolated else EVERYTHING
    unknown = ((union["unknown"] - allowed) | (allowed & union["unknown-deny"])) - union["deny"]
    return (allowed - union["deny"]) - union["unknown-deny"], unknown


def rows3(allowed: Ports, unknown: Ports, found: list[tuple[str, str, Ports]]
          ) -> tuple[Row, ...]:
    """Rows of one pair (or one outside region) when a row may be allowed, not modelled (None)
    or denied: each row names the policies of its kind (allow, unknown, deny) covering it."""
    owners: dict[bool | None, list[tuple[str, Ports]]] = {True: [], None: [], False: []}
    for kind, name, ports in found:
        owners[{"allow": True, "deny": False}.get(kind)].append((name, ports))

    def names(state: bool | None, protocol: int | None, low: int = 0, high: int = 0
              ) -> tuple[str, ...]:
        return tuple(sorted({name for name, ports in owners[state]
                             if (ports.others if protocol is None
                                 else _covers(ports.ranges[protocol], low, high))}))

    everything = [ports for ports in (allowed, unknown) if ports.everything]
    if everything or not (allowed or unknown):
        state = True if allowed.everything else (None if everything else False)
        whole = tuple(sorted({name for name, ports in owners[state] if ports.everything}))
        return ((ANY_PORT, state, whole),)
    rows: list[Row] = []
    for protocol in range(len(PROTOCOLS)):
        sets = [allowed.ranges[protocol], unknown.ranges[protocol]] + [
            ports.ranges[protocol] for group in owners.values() for _, ports in group]
        cuts = sorted({1, MAX_PORT + 1} | {b for intervals in sets for low, high in intervals
                                           for b in (low, high + 1)})
        pieces: list[tuple[int, int, bool | None, tuple[str, ...]]] = []
        for a, b in zip(cuts, cuts[1:], strict=False):
            state = (True if _covers(allowed.ranges[protocol], a, b - 1) else
                     None if _covers(unknown.ranges[protocol], a, b - 1) else False)
            who = names(state, protocol, a, b - 1)
            if pieces and pieces[-1][2:] == (state, who):
                pieces[-1] = (pieces[-1][0], b - 1, state, who)
            else:
                pieces.append((a, b - 1, state, who))
        rows.extend((spell(protocol, low, high), state, who) for low, high, state, who in pieces)
    state = True if allowed.others else (None if unknown.others else False)
    rows.append((OTHER, state, names(state, None)))
    return tuple(rows)


def _external_family3(family: int, isolated: bool, owners: list[tuple[str, str, int, int, Ports]],
                      requiring: list[str]) -> list[tuple[str, str, bool | None, tuple[str, ...]]]:
    """_external_family with Cilium kinds: rows allowed or not modelled per address region."""
    def rows_in(first: int, last: int) -> tuple[Row, ...]:
        found = _requiring([(kind, name, ports) for kind, name, low, high, ports in owners
                            if low <= first and last <= high], requiring)
        return tuple(row for row in rows3(*_evaluate(isolated, found), found)
                     if row[1] is not False)

    return _address_rows(family, [(low, high) for _, _, low, high, _ in owners], rows_in)


class Matrix:
    """The rows, kept per pair of pod classes and expanded to pods only when iterated.

    Order: for each pod (sorted by namespace/name), its rows to every other pod, then (with
    external peers) to outside addresses, then from outside addresses."""

    def __init__(self, analyzer: Analyzer, pairs: dict[tuple[int, int], tuple[Row, ...]],
                 outside: dict[tuple[int, str], list]):
        self.analyzer = analyzer
        self.pairs = pairs
        self.outside = outside

    def __iter__(self) -> Iterator[Connection]:
        pods, class_of, pairs = self.analyzer.pods, self.analyzer.class_of, self.pairs
        keys = [p.key for p in pods]
        for i, source in enumerate(keys):
            mine = class_of[i]
            for j, destination in enumerate(keys):
                if i != j:
                    for port, allowed, policies in pairs[(mine, class_of[j])]:
                        yield Connection(source, destination, port, allowed, policies)
            for peer, port, allowed, policies in self.outside.get((mine, "egress"), ()):
                yield Connection(source, peer, port, allowed, policies)
            for peer, port, allowed, policies in self.outside.get((mine, "ingress"), ()):
                yield Connection(peer, source, port, allowed, policies)

    def __len__(self) -> int:
        sizes = [len(c.members) for c in self.analyzer.classes]
        total = sum(len(rows) * sizes[s] * (sizes[d] - (s == d))
                    for (s, d), rows in self.pairs.items())
        return total + sum(len(rows) * sizes[number]
                           for (number, _), rows in self.outside.items())


def isolated(analyzer: Analyzer, pod: Pod) -> dict[str, bool]:
    """Whether some policy isolates the pod for ingress and for egress."""
    return analyzer.isolation(pod)


def reachability(pods: list[Pod], namespaces: dict[str, dict[str, str]], policies: list[dict],
                 *, external: bool = False, ipblock_matches_pods: bool = False
                 ) -> list[Connection]:
    analyzer = Analyzer(pods, namespaces, policies, ipblock_matches_pods=ipblock_matches_pods)
    return list(analyzer.matrix(external))
