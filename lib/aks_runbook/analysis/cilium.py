"""CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2), read into plain rules
that the reachability analysis and the isolation checks use. L3/L4 only.

Semantics (Cilium docs: "Layer 3 Examples", "Layer 4 Examples", "Deny Policies", "Using
Kubernetes Constructs in Policy"; Cilium source: pkg/policy/api/rule.go and
pkg/k8s/apis/cilium.io/utils/utils.go):
- A policy holds one rule (`spec`) or several (`specs`); each has its own `endpointSelector`.
  A CiliumNetworkPolicy's endpointSelector always applies to pods of the policy's namespace
  (an empty one selects all of them); a clusterwide policy's selects in every namespace. A
  `nodeSelector` rule is a host policy: it selects nodes, no pod (listed as not modelled). A
  rule with neither selector makes Cilium refuse the whole policy ("rule must have one of
  EndpointSelector or NodeSelector": Rule.Sanitize, CiliumNetworkPolicy.Parse): none of its
  rules counts, so it isolates nothing.
- Default deny: a rule puts the pods it selects into default deny for ingress when its
  `ingress` or `ingressDeny` list has at least one entry (`ingress: []` is no rule; `ingress:
  [{}]` is a rule that allows nothing), likewise for egress, unless `enableDefaultDeny`
  turns that direction off (Cilium 1.16+).
- Peers: `fromEndpoints`/`toEndpoints` select pods by their labels plus the labels Cilium adds
  (`io.kubernetes.pod.namespace`, `io.cilium.k8s.policy.serviceaccount`,
  `io.cilium.k8s.policy.cluster`, `io.cilium.k8s.namespace.labels.<key>`); a key may carry
  the source prefix `k8s:` or `any:`; other sources (`reserved:` ...) select no pod. In a
  CiliumNetworkPolicy a peer selector that does not name `io.kubernetes.pod.namespace` is
  limited to the policy's namespace (so `{}` is every pod of that namespace); in a
  clusterwide policy it is every pod of the cluster. Entities: `cluster` and `all` are every
  pod; `world` (`world-ipv4`, `world-ipv6`) and `all` are every outside address;
  `kube-apiserver` is an address not known here (not modelled); `host`, `remote-node`,
  `health`, `init`, `ingress`, `unmanaged` are neither pods nor outside addresses (no row
  shows them). `fromCIDR`/`toCIDR` and `*CIDRSet` (with `except`) match outside addresses
  only: Cilium does not apply CIDR rules to traffic between pods or nodes of the cluster.
- A rule with `toPorts` (or `icmps`) but no peer field applies to every peer; a rule with
  neither (`{}`) allows nothing, and so does a peer field that is an empty list
  (`fromEndpoints: []`). Within a rule, peers and ports must both match.
- Ports: `port` is a number, `0` (every port) or a named port; `endPort` makes a range;
  `protocol` TCP, UDP, SCTP, or ANY/empty (all three). A rule with ports allows no ICMP.
- Deny rules (`ingressDeny`, `egressDeny`) win over every allow, from any policy kind,
  Kubernetes NetworkPolicy included. Cilium enforces NetworkPolicies and Cilium policies
  together: per direction, a pod is in default deny when any of them selects it for that
  direction, and then allowed is what any allow rule of any of them allows, minus the denies.
- Not modelled, reported per pair and port, never allowed or denied silently: `toFQDNs`,
  `toServices`, `toGroups`, CIDR groups (`cidrGroupRef`, `cidrGroupSelector`) and the
  `kube-apiserver` entity (addresses not known from objects); L7 `rules` (http, dns, kafka),
  `serverNames`, `listener` and TLS settings on a port (the port is open at L4 but requests
  are filtered); `authentication`; `fromRequires`/`toRequires` (they narrow every allow of the
  pods they select); `icmps` (ICMP types). Also not modelled: `fromNodes`/`toNodes` and the
  labels Cilium leaves out of identities by default (e.g. `pod-template-hash`: a selector on
  such a label matches here but not in Cilium).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = {"CiliumNetworkPolicy": False, "CiliumClusterwideNetworkPolicy": True}  # clusterwide?
NAMESPACE_KEY = "io.kubernetes.pod.namespace"
POD_SOURCES = ("k8s", "any")
OTHER_SOURCE = "\0other label source"  # a key no pod label has (reserved:, container:, ...)
POD_ENTITIES = {"cluster", "all"}
WORLD_ENTITIES = {"world": (4, 6), "all": (4, 6), "world-ipv4": (4,), "world-ipv6": (6,)}
UNKNOWN_OUTSIDE = ("toFQDNs", "toServices", "toGroups")
L7_FIELDS = ("rules", "serverNames", "listener", "terminatingTLS", "originatingTLS")
PEER_FIELDS = {"ingress": ("fromEndpoints", "fromEntities", "fromCIDR", "fromCIDRSet",
                           "fromNodes", "fromGroups"),
               "egress": ("toEndpoints", "toEntities", "toCIDR", "toCIDRSet", "toNodes",
                          "toFQDNs", "toServices", "toGroups")}


def is_cilium(policy: dict) -> bool:
    return policy.get("kind") in KINDS


@dataclass
class Rule:
    """One entry of `ingress`, `egress`, `ingressDeny` or `egressDeny`."""

    policy: str
    direction: str  # "ingress" | "egress"
    deny: bool
    selectors: list[dict]  # peer pods (keys without source prefix, namespace scope added)
    all_pods: bool  # entity cluster/all, or every peer (ports-only rule)
    cidrs: list[tuple[str, list[str]]]  # outside addresses: (cidr, except)
    worlds: tuple[int, ...]  # address families allowed whole (world entities, every peer)
    ports: list[dict] | None  # NetworkPolicy-style entries (protocol, port, endPort) allowed
    # at L4; None: every protocol and port, ICMP included
    l7_ports: list[dict]  # ports whose requests an L7 rule filters (not modelled)
    icmp: bool  # `icmps`: ICMP types (not modelled)
    unknown_pods: bool  # toServices: which pods it reaches is not modelled
    unknown_outside: bool  # addresses not known from objects (toFQDNs, CIDR groups, ...)
    unknown_all: bool  # authentication: whether it allows anything is not known


@dataclass
class Subject:
    """One rule of a policy (its `spec` or one of its `specs`): whom it selects and its rules."""

    policy: str
    namespace: str | None  # None: clusterwide
    selector: dict | None  # None: a nodeSelector (host policy): selects no pod
    default_deny: dict[str, bool]  # "ingress"/"egress" -> puts selected pods in default deny
    has_rules: dict[str, bool]  # "ingress"/"egress" -> has rules (allow or deny)
    rules: list[Rule]
    requires: dict[str, bool]  # "ingress"/"egress" -> fromRequires/toRequires present

    def selects(self, namespace: str, labels: dict[str, str]) -> bool:
        if self.selector is None:
            return False
        if self.namespace is not None and namespace != self.namespace:
            return False
        return matches(self.selector, labels)


# ---- selectors ----------------------------------------------------------------------------

def _key(key: str) -> str:
    """A selector key as a pod label key; a key of another label source becomes one no pod
    has."""
    source, colon, rest = key.partition(":")
    if not colon:
        return key
    return rest if source in POD_SOURCES else OTHER_SOURCE


def normalised(selector: dict | None) -> dict:
    """A Cilium EndpointSelector with keys as pod label keys."""
    selector = selector or {}
    labels = {_key(k): v for k, v in (selector.get("matchLabels") or {}).items()}
    expressions = [{**e, "key": _key(e.get("key", ""))}
                   for e in selector.get("matchExpressions") or []]
    return {"matchLabels": labels, "matchExpressions": expressions}


def names_namespace(selector: dict) -> bool:
    return NAMESPACE_KEY in selector["matchLabels"] or any(
        e.get("key") == NAMESPACE_KEY for e in selector["matchExpressions"])


def matches(selector: dict, labels: dict[str, str]) -> bool:
    """A normalised selector against endpoint labels (matchLabels and matchExpressions)."""
    if any(labels.get(k) != v for k, v in selector["matchLabels"].items()):
        return False
    for expression in selector["matchExpressions"]:
        key, operator = expression.get("key"), expression.get("operator")
        values, present = expression.get("values") or [], expression.get("key") in labels
        ok = {"In": present and labels.get(key) in values,
              "NotIn": not present or labels.get(key) not in values,
              "Exists": present, "DoesNotExist": not present}.get(operator)
        if not ok:
            return False
    return True


def endpoint_labels(namespace: str, labels: dict[str, str], namespace_labels: dict[str, str],
                    service_account: str) -> dict[str, str]:
    """The labels Cilium gives a pod's endpoint: its own and those it derives."""
    derived = {f"io.cilium.k8s.namespace.labels.{k}": v for k, v in namespace_labels.items()}
    return {**labels, **derived, NAMESPACE_KEY: namespace,
            "io.cilium.k8s.policy.serviceaccount": service_account,
            "io.cilium.k8s.policy.cluster": "default"}


# ---- reading policies -----------------------------------------------------------------------

def _ports(entries: list[dict]) -> list[dict]:
    """Cilium PortProtocol entries as NetworkPolicy-style ones (ANY expanded, 0 = all)."""
    out = []
    for entry in entries:
        entry = entry or {}
        protocol = str(entry.get("protocol") or "ANY").upper()
        port = entry.get("port")
        number = None if port in (None, "", 0, "0") else port
        if isinstance(number, str) and number.isdigit():
            number = int(number)
        for proto in (("TCP", "UDP", "SCTP") if protocol == "ANY" else (protocol,)):
            item: dict = {"protocol": proto}
            if number is not None:
                item["port"] = number
                if entry.get("endPort"):
                    item["endPort"] = int(entry["endPort"])
            out.append(item)
    return out


def _rule(raw: dict, direction: str, deny: bool, policy: str, namespace: str | None) -> Rule:
    raw = raw or {}
    prefix = "from" if direction == "ingress" else "to"
    selectors = []
    for selector in raw.get(f"{prefix}Endpoints") or []:
        found = normalised(selector)
        if namespace is not None and not names_namespace(found):
            found["matchLabels"][NAMESPACE_KEY] = namespace
        selectors.append(found)
    entities = {str(e).lower() for e in raw.get(f"{prefix}Entities") or []}
    cidr_sets = [item or {} for item in raw.get(f"{prefix}CIDRSet") or []]
    cidrs = [(str(c), []) for c in raw.get(f"{prefix}CIDR") or []] + [
        (str(item["cidr"]), [str(e) for e in item.get("except") or []])
        for item in cidr_sets if item.get("cidr")]
    # a CIDRSet entry without cidr is a cidrGroupRef / cidrGroupSelector: addresses held in
    # CiliumCIDRGroups
    unknown_outside = (any(not item.get("cidr") for item in cidr_sets)
                       or any(raw.get(name) for name in UNKNOWN_OUTSIDE)
                       or "kube-apiserver" in entities)
    port_rules = raw.get("toPorts") or []
    ports = [p for rule in port_rules for p in _ports((rule or {}).get("ports") or [{}])]
    l7 = [p for rule in port_rules if any((rule or {}).get(f) for f in L7_FIELDS)
          for p in _ports((rule or {}).get("ports") or [{}])]
    # a peer field written as an empty list selects nobody, it does not widen the rule
    # (Cilium's mergeEndpointSelectors: "empty non-nil slices ... not any identity")
    has_peer = any(raw.get(f) is not None for f in PEER_FIELDS[direction])
    has_l4 = bool(port_rules or raw.get("icmps"))
    every_peer = not has_peer and has_l4
    worlds = tuple(sorted({f for e in entities for f in WORLD_ENTITIES.get(e, ())}
                          | ({4, 6} if every_peer else set())))
    return Rule(policy, direction, deny, selectors,
                every_peer or bool(entities & POD_ENTITIES), cidrs, worlds,
                None if not has_l4 else [p for p in ports if p not in l7],
                l7, bool(raw.get("icmps")), bool(raw.get("toServices")), unknown_outside,
                bool(raw.get("authentication")))


def subjects(policy: dict) -> list[Subject]:
    """The rules of one CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy."""
    meta = policy.get("metadata") or {}
    clusterwide = KINDS[policy["kind"]]
    namespace = None if clusterwide else (meta.get("namespace") or "default")
    name = meta.get("name") if clusterwide else f"{namespace}/{meta.get('name')}"
    specs = [spec or {} for spec in ([policy["spec"]] if policy.get("spec") else [])
             + list(policy.get("specs") or [])]
    if any(spec.get("endpointSelector") is None and spec.get("nodeSelector") is None
           for spec in specs):
        return []  # Cilium refuses the whole policy (see the module's docstring)
    found = []
    for spec in specs:
        rules: list[Rule] = []
        has_rules, default_deny, requires = {}, {}, {}
        for direction in ("ingress", "egress"):
            allow = spec.get(direction) or []
            deny = spec.get(f"{direction}Deny") or []
            rules += [_rule(r, direction, False, name, namespace) for r in allow]
            rules += [_rule(r, direction, True, name, namespace) for r in deny]
            has_rules[direction] = bool(allow or deny)
            wanted = (spec.get("enableDefaultDeny") or {}).get(direction)
            default_deny[direction] = has_rules[direction] and wanted is not False
            requires[direction] = any((r or {}).get("fromRequires" if direction == "ingress"
                                                    else "toRequires") for r in allow + deny)
        selector = spec.get("endpointSelector")
        subject = None if selector is None else normalised(selector)
        if subject is not None and namespace is not None:
            # Cilium replaces a namespace a CiliumNetworkPolicy's endpointSelector names
            # with the policy's own (utils.go, ParseToCiliumRule)
            subject["matchLabels"].pop(NAMESPACE_KEY, None)
        found.append(Subject(name, namespace, subject, default_deny, has_rules, rules,
                             requires))
    return found

