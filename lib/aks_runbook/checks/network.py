"""Checks for chapter 02 (network): API server exposure, CNI and policy engine, egress,
node public IPs, default-deny NetworkPolicies, pod isolation, exposure and Ingress TLS.

Address ranges (authorized IP ranges, ipBlock peers) are judged by the address space they admit
together, not by their spelling: `analysis.addresses` says where "the Internet" begins (more
public addresses than a /8, or for IPv6 a /32) and why.
"""

from __future__ import annotations

from aks_runbook.analysis import cilium
from aks_runbook.analysis.addresses import (
    THRESHOLD_TEXT,
    AddressSpace,
    RangeError,
    admitted,
    intersection,
    network,
    ranges,
)
from aks_runbook.analysis.reachability import matches
from aks_runbook.checks import Check, Finding, State, check, field_of, owner, resource, selects

SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
INTERNAL_LB = "service.beta.kubernetes.io/azure-load-balancer-internal"
DIRECTIONS = ("Ingress", "Egress")


def _cluster(state: State) -> str:
    name = field_of(state.cluster, "name") or "cluster"
    return f"ManagedCluster/{name}"


def _source(state: State) -> str:
    return f" ({state.cluster_source})"


INTERNET_NOTE = (f"more public addresses than {THRESHOLD_TEXT[4]} for IPv4 or {THRESHOLD_TEXT[6]} "
                 "for IPv6 count as the Internet")


LB_ONLY = network("0.0.0.0/32")


def _not_ranges(cidrs: list[str]) -> list[str]:
    bad = []
    for cidr in cidrs:
        try:
            network(cidr)
        except RangeError:
            bad.append(cidr)
    return bad


@check("AKS-NET-001", "02-network", "API server open to any address (no authorized IP ranges)",
       8.0, "kubescape C-0247; checkov CKV_AZURE_6; CIS AKS 5.4.1"
       "; AKS checklist c4581559-bb91-463e-a908-aed8c44ce3b2",
       "az aks update --api-server-authorized-ip-ranges <your CIDRs> (your egress or firewall "
       "IPs, never 0.0.0.0/0 or ranges that add up to it), or use a private cluster (AKS-NET-009)",
       scope="azure",
       differs="C-0247 and CKV_AZURE_6 accept any non-empty list; here the ranges are judged by "
               "the public addresses they admit together (IPv4 and IPv6 apart): "
               + INTERNET_NOTE + ", so 0.0.0.0/0, ::/0 and 0.0.0.0/1 + 128.0.0.0/1 fail; private "
               "ranges (RFC 1918) are not Internet addresses and are not counted. An entry that is "
               "not a range fails. A private cluster without ranges is not-applicable here (ranges "
               "cannot be set on it); C-0247 fails it, and so does the AKS checklist's query "
               "(c4581559), which passes any non-null list")
def authorized_ip_ranges(state: State, me: Check) -> list[Finding]:
    private = field_of(state.cluster, "apiServerAccessProfile.enablePrivateCluster") is True
    listed = [str(r) for r in field_of(state.cluster, "apiServerAccessProfile.authorizedIpRanges")
              or []]
    where = _cluster(state)
    if not listed:
        if private:
            return [me.finding(where, "not-applicable", "private cluster: no public endpoint to "
                               "restrict (see AKS-NET-009)" + _source(state))]
        return [me.finding(where, "fail", "no authorized IP ranges: the public API server is "
                           "open to any address" + _source(state))]
    bad = _not_ranges(listed)
    if bad:
        return [me.finding(where, "fail", f"authorized IP ranges {', '.join(bad)}: not an IP "
                           "range, so nothing is known to be restricted" + _source(state))]
    space = ranges(listed)
    wide = space.internet_wide()
    if wide:
        return [me.finding(where, "fail", f"authorized IP ranges {', '.join(listed)} admit the "
                           f"Internet: {'; '.join(wide)}" + _source(state))]
    private_note = (f"; private ranges {', '.join(space.private(4) + space.private(6))} are not "
                    "Internet addresses" if space.private(4) + space.private(6) else "")
    if any(network(r) == LB_ONLY for r in listed):
        private_note += ("; 0.0.0.0/32 is AKS's placeholder for the cluster's own Standard load "
                         "balancer outbound IP only (AKS docs 'API Server Authorized IP Ranges in "
                         "Azure Kubernetes Service (AKS)')")
    return [me.finding(where, "pass", f"authorized IP ranges {', '.join(listed)}: "
                       f"{space.summary()}, not the Internet ({INTERNET_NOTE})" + private_note
                       + _source(state))]


@check("AKS-NET-009", "02-network", "API server is public (not a private cluster)", 8.0,
       "kubescape C-0248; checkov CKV_AZURE_115; CIS AKS 5.4.3"
       "; AKS checklist ecccd979-3b6b-4cda-9b50-eb2eb03dda6d",
       "Create the cluster with --enable-private-cluster (an existing cluster cannot be made "
       "private); meanwhile restrict the public endpoint with authorized IP ranges (AKS-NET-001)",
       scope="azure",
       differs="The AKS checklist's query (ecccd979) judges only clusters whose "
               "enablePrivateCluster is not null; here null, as az aks show prints a public "
               "cluster, fails")
def private_cluster(state: State, me: Check) -> list[Finding]:
    private = field_of(state.cluster, "apiServerAccessProfile.enablePrivateCluster") is True
    return [me.finding(_cluster(state), "pass" if private else "fail",
                       f"enablePrivateCluster {str(private).lower()}" + _source(state))]


@check("AKS-NET-002", "02-network", "Azure CNI with a network policy engine", 6.0,
       "checkov CKV2_AZURE_29, CKV_AZURE_7; kubescape C-0240; CIS AKS 5.4.4"
       "; AKS checklist a0f61565-9de5-458f-a372-49c831112dbd"
       "; AKS checklist 58d7c892-ddb1-407d-9769-ae669ca48e4a",
       "Create the cluster with --network-plugin azure --network-plugin-mode overlay and "
       "--network-policy cilium --network-dataplane cilium (the path forward: Azure NPM "
       "retires on Linux 2028-09-30, on Windows 2026-09-30) or calico; kubenet retires "
       "2028-03-31", scope="azure",
       differs="C-0240 accepts only azure or calico (and calico on kubenet); here cilium passes "
               "too, and kubenet fails whatever the policy, as CKV2_AZURE_29 wants Azure CNI. "
               "CKV_AZURE_7 accepts any value; 'none' fails here. The AKS checklist's queries pass "
               "networkPlugin azure alone (a0f61565) and any non-null networkPolicy, none "
               "included (58d7c892); here both are needed and none fails")
def cni_and_policy(state: State, me: Check) -> list[Finding]:
    plugin = field_of(state.cluster, "networkProfile.networkPlugin")
    mode = field_of(state.cluster, "networkProfile.networkPluginMode")
    policy = field_of(state.cluster, "networkProfile.networkPolicy")
    evidence = f"plugin {plugin}{' ' + mode if mode else ''}, policy {policy}" + _source(state)
    if policy == "azure":
        evidence += ("; Azure Network Policy Manager retires (Linux 2028-09-30, Windows "
                     "2026-09-30): migrate to Cilium")
    ok = plugin == "azure" and policy in ("azure", "calico", "cilium")
    return [me.finding(_cluster(state), "pass" if ok else "fail", evidence)]


@check("AKS-NET-003", "02-network", "Egress does not go through a firewall (UDR)", 5.0,
       "Azure Well-Architected: egress lockdown; AKS docs 'Limit egress traffic'"
       "; AKS checklist 3b365a91-7ecb-4e48-bbe5-4cd7df2e8bba",
       "Route 0.0.0.0/0 to Azure Firewall and set --outbound-type userDefinedRouting",
       scope="azure")
def egress_through_firewall(state: State, me: Check) -> list[Finding]:
    outbound = field_of(state.cluster, "networkProfile.outboundType")
    ok = outbound == "userDefinedRouting"
    return [me.finding(_cluster(state), "pass" if ok else "fail",
                       f"outboundType {outbound}" + _source(state))]


@check("AKS-NET-004", "02-network", "Nodes have public IPs", 6.0, "checkov CKV_AZURE_143",
       "Recreate the node pool without --enable-node-public-ip", scope="azure",
       differs="CKV_AZURE_143 reads the default node pool only; here every pool is judged")
def node_public_ips(state: State, me: Check) -> list[Finding]:
    pools = field_of(state.cluster, "agentPoolProfiles") or []
    if not pools:
        return [me.finding(_cluster(state), "not-applicable",
                           "no agentPoolProfiles in the configuration" + _source(state))]
    findings = []
    for pool in pools:
        public = bool(field_of(pool, "enableNodePublicIp"))
        findings.append(me.finding(f"AgentPool/{field_of(pool, 'name')}",
                                   "fail" if public else "pass",
                                   f"enableNodePublicIp {str(public).lower()}" + _source(state)))
    return findings


# ---- NetworkPolicies: policies are additive, so one rule that admits everyone wins --------------

def selects_all(selector: dict | None) -> bool:
    selector = selector or {}
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def policy_types(policy: dict) -> set[str]:
    """policyTypes, defaulted as the API server does: Ingress always, Egress only when the
    egress list is non-empty (`egress: []` or null makes an ingress-only policy)."""
    spec = policy.get("spec") or {}
    declared = spec.get("policyTypes")
    if declared:
        return set(declared)
    return {"Ingress", "Egress"} if spec.get("egress") else {"Ingress"}


NAME_LABEL = "kubernetes.io/metadata.name"  # the API server sets it on every namespace


def _every_namespace(selector: dict | None) -> bool:
    """{}, or only `kubernetes.io/metadata.name Exists`, which every namespace matches."""
    selector = selector or {}
    return not selector.get("matchLabels") and all(
        e.get("key") == NAME_LABEL and e.get("operator") == "Exists"
        for e in selector.get("matchExpressions") or [])


def _all_pods(peer: dict) -> bool:
    """Every pod of every namespace."""
    return ("namespaceSelector" in peer and _every_namespace(peer.get("namespaceSelector"))
            and selects_all(peer.get("podSelector")))


PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_PORT = 65535
Spans = dict[str, list[tuple[int, int]]]  # protocol -> port ranges
# What a rule admits: its peers as ipBlocks (cidr, except), or None for every peer; its ports.
Grant = tuple[list[tuple[str, list[str]]] | None, Spans]


def port_spans(entries: list[dict] | None) -> Spans:
    """The port ranges per protocol that NetworkPolicy-style port entries admit (none: every
    port of every protocol). A named port is only the ports some pods give that name, so it
    never makes up "every port"."""
    if not entries:
        return {protocol: [(1, MAX_PORT)] for protocol in PROTOCOLS}
    found: Spans = {}
    for entry in entries:
        entry = entry or {}
        port = entry.get("port")
        if port is None:
            span = (1, MAX_PORT)
        elif isinstance(port, str) and not port.isdigit():
            continue
        else:
            low = int(port)
            span = (low, max(int(entry.get("endPort") or low), low))
        found.setdefault(str(entry.get("protocol") or "TCP").upper(), []).append(span)
    return found


def _open_protocol(grants: list[Grant]) -> tuple[str, str] | None:
    """(protocol, how) for the first protocol whose every port the grants together admit from
    every peer, or from addresses that add up to the Internet; None when there is none.
    Policies and rules are additive, so a port range split over rules (1-32767 and
    32768-65535) is every port, as 0.0.0.0/1 + 128.0.0.0/1 is every address: per stretch of
    ports, the peers of the rules covering it are united, and what every stretch admits
    counts. `how` is empty when every peer is admitted."""
    for protocol in PROTOCOLS:
        spans = [(peers, span) for peers, by in grants for span in by.get(protocol, ())]
        # stretches start where a range starts: no range starts inside one, so the ranges
        # covering its last port cover all of it and admit the least of any of its ports
        cuts = sorted({1, MAX_PORT + 1} | {low for _, (low, _) in spans if 1 < low <= MAX_PORT})
        common: AddressSpace | None = None  # None: every peer on every stretch so far
        for start, end in zip(cuts, cuts[1:], strict=False):
            covering = [peers for peers, (low, high) in spans if low <= start and end - 1 <= high]
            if not covering:
                break
            if any(peers is None for peers in covering):
                continue
            here = admitted(block for peers in covering for block in peers or ())
            common = here if common is None else intersection(common, here)
        else:
            if common is None:
                return protocol, ""
            wide = common.internet_wide()
            if wide:
                split = any(span != (1, MAX_PORT) for _, span in spans)
                return protocol, (f"their ipBlocks admit the Internet: {'; '.join(wide)}"
                                  + (f", on every {protocol} port" if split else ""))
    return None


def _ip_blocks(rule: dict, direction: str) -> list[tuple[str, list[str]]]:
    """(cidr, except) of the rule's ipBlock peers; one that is not a CIDR admits nothing (the API
    server refuses the policy)."""
    blocks = []
    for peer in rule.get("from" if direction == "Ingress" else "to") or []:
        block = (peer or {}).get("ipBlock")
        if block is None:
            continue
        cidr, holes = str((block or {}).get("cidr", "")), [str(h) for h in
                                                            (block or {}).get("except") or []]
        try:
            admitted([(cidr, holes)])
        except RangeError:
            continue
        blocks.append((cidr, holes))
    return blocks


def _rule_grants(rule: dict, direction: str) -> list[Grant]:
    """What one NetworkPolicy rule admits: every peer (no peers, or every pod of every
    namespace), or its ipBlocks, on its ports."""
    peers = rule.get("from" if direction == "Ingress" else "to")
    spans = port_spans(rule.get("ports"))
    if not peers or any(_all_pods(p or {}) for p in peers):
        return [(None, spans)]
    blocks = _ip_blocks(rule, direction)
    return [(blocks, spans)] if blocks else []


def _rules(policy: dict, direction: str) -> list[dict]:
    if direction not in policy_types(policy):
        return []
    return [r or {} for r in (policy.get("spec") or {}).get(direction.lower()) or []]


def _open_together(grants: dict[str, list[Grant]]) -> tuple[list[str], str]:
    """(names of the policies that together allow all traffic, how) from each policy's
    grants: for the protocol they open, the policies admitting every peer on it when that is
    how, else every policy with a grant on it."""
    found = _open_protocol([g for mine in grants.values() for g in mine])
    if found is None:
        return [], ""
    protocol, how = found
    names = sorted(name for name, mine in grants.items()
                   if any(protocol in spans and (how or peers is None)
                          for peers, spans in mine))
    if not how and not any(_open_protocol(grants[name]) for name in names):
        how = f"together they admit every {protocol} port from every peer"
    return names, how


def allowing_all(policies: list[dict], direction: str) -> tuple[list[dict], str]:
    """The policies that together allow all traffic in this direction (every port of at least
    one protocol, from every peer or from Internet-wide addresses), and how. Policies are
    additive, so their rules are united: ipBlocks 0.0.0.0/1 in one and 128.0.0.0/1 in another
    admit the Internet as 0.0.0.0/0 does, and ports 1-32767 in one rule and 32768-65535 in
    another are every port. "How" is empty when a rule admits every peer outright."""
    by_name = {p["metadata"]["name"]: p for p in policies}
    grants = {name: [g for r in _rules(p, direction) for g in _rule_grants(r, direction)]
              for name, p in by_name.items()}
    names, how = _open_together(grants)
    return [by_name[n] for n in names], how


def denies_all(policy: dict, direction: str) -> bool:
    """Selects every pod of its namespace and allows nothing in this direction."""
    spec = policy.get("spec") or {}
    return (selects_all(spec.get("podSelector")) and direction in policy_types(policy)
            and not spec.get(direction.lower()))


# ---- Cilium policies: CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy -------------------

CILIUM_KINDS = ("ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies")


def cilium_unenforced(state: State) -> str:
    """Why this cluster does not enforce Cilium policies, when its configuration says so: only
    Cilium enforces them (AKS: --network-policy cilium, "Azure CNI Powered by Cilium"); Azure
    NPM and Calico enforce NetworkPolicies only. Empty when Cilium enforces them or the
    configuration does not say (or the CNI is your own: networkPlugin none)."""
    profile = field_of(state.cluster, "networkProfile")
    if not isinstance(profile, dict) or not ({"networkpolicy", "networkdataplane"}
                                             & {k.lower() for k in profile}):
        return ""
    engine = field_of(profile, "networkPolicy")
    dataplane = field_of(profile, "networkDataplane")
    # your own CNI (networkPlugin "none") may be Cilium; an unset plugin (None) is not that
    byo_cni = str(field_of(profile, "networkPlugin") or "").lower() == "none"
    if byo_cni or "cilium" in (str(engine).lower(), str(dataplane).lower()):
        return ""
    return (f"networkPolicy {engine or 'none'} enforces no Cilium policy ({state.cluster_source})")


def _cilium_subjects(state: State) -> list[cilium.Subject]:
    if cilium_unenforced(state):
        return []
    return [s for kind in CILIUM_KINDS for p in state.items(kind) for s in cilium.subjects(p)]


def _cilium_note(state: State) -> str:
    """Said when Cilium policies are not weighed: not enforced by this cluster's engine, or
    not listed (then only NetworkPolicies are weighed)."""
    unenforced = cilium_unenforced(state)
    if unenforced and any(state.items(kind) for kind in CILIUM_KINDS):
        return f" (Cilium policies not weighed: {unenforced})"
    missing = state.unlisted(*CILIUM_KINDS)
    return f" (not weighed: {', '.join(missing)} could not be listed)" if missing else ""


def _cilium_grants(rule: cilium.Rule) -> list[Grant]:
    """What a Cilium allow rule admits, as a NetworkPolicy rule's grants: every pod of the
    cluster (entity cluster or all, a clusterwide `{}`, a namespace-Exists selector) counts as
    every peer; world entities and CIDRs as addresses."""
    if rule.deny or rule.unknown_all:
        return []
    spans = port_spans(rule.ports) if rule.ports is None or rule.ports else {}
    every_pod = rule.all_pods or any(
        not sel["matchLabels"] and all(e.get("key") == cilium.NAMESPACE_KEY
                                       and e.get("operator") == "Exists"
                                       for e in sel["matchExpressions"])
        for sel in rule.selectors)
    if every_pod:
        return [(None, spans)]
    blocks = [(cidr, []) for family, cidr in ((4, "0.0.0.0/0"), (6, "::/0"))
              if family in rule.worlds]
    for cidr, holes in rule.cidrs:
        try:
            admitted([(cidr, holes)])
        except RangeError:
            continue
        blocks.append((cidr, holes))
    return [(blocks, spans)] if blocks else []


def _cilium_selecting(subjects: list[cilium.Subject], pod: dict, namespaces: dict[str, dict]
                      ) -> list[cilium.Subject]:
    meta = pod["metadata"]
    labels = cilium.endpoint_labels(
        meta["namespace"], meta.get("labels") or {},
        (namespaces.get(meta["namespace"]) or {}).get("labels") or {},
        (pod.get("spec") or {}).get("serviceAccountName") or "default")
    return [s for s in subjects if s.selects(meta["namespace"], labels)]


def _cilium_sides(selecting: list[cilium.Subject], direction: str) -> tuple[str, str]:
    """(names of the Cilium policies putting these pods in default deny for this direction,
    names of those with an allow-all rule for it)."""
    key = direction.lower()
    deny = {s.policy for s in selecting if s.default_deny[key]}
    grants: dict[str, list[Grant]] = {}
    for s in selecting:
        for r in s.rules:
            if r.direction == key:
                grants.setdefault(s.policy, []).extend(_cilium_grants(r))
    return ", ".join(sorted(deny)), ", ".join(_open_together(grants)[0])


def _cilium_namespace_wide(subjects: list[cilium.Subject], namespace: str
                           ) -> list[cilium.Subject]:
    """The Cilium rules selecting every pod of the namespace: an empty endpointSelector of a
    policy in it, or of a clusterwide policy (alone, or naming only this namespace)."""
    found = []
    for s in subjects:
        if s.selector is None or s.namespace not in (None, namespace):
            continue
        labels, expressions = s.selector["matchLabels"], s.selector["matchExpressions"]
        if not expressions and (not labels or (s.namespace is None and labels == {
                cilium.NAMESPACE_KEY: namespace})):
            found.append(s)
    return found


def _policies_by_namespace(state: State) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for policy in state.objects.get("networkpolicies", []):
        found.setdefault(policy["metadata"]["namespace"], []).append(policy)
    return found


def _running(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _names(policies: list[dict]) -> str:
    return ", ".join(sorted({p["metadata"]["name"] for p in policies}))


@check("AKS-NET-005", "02-network", "Namespace without a default-deny NetworkPolicy", 6.0,
       "CIS 4.4.2 (kubescape C-0206); AKS checklist 85e2223e-ce8b-4b12-907c-a5f16f158e3e",
       "Apply a policy with podSelector {} and policyTypes [Ingress, Egress] and no rules, then "
       "allow only the flows the application needs (no allow-all policy beside it)",
       differs="C-0206 passes a namespace with any policy; here it needs a default deny for "
               "ingress and egress and no namespace-wide allow-all (policies are additive: "
               "ipBlocks are united, `except` cut out, and more public addresses than a /8 of "
               "IPv4 or a /32 of IPv6 is an allow-all, so 0.0.0.0/1 + 128.0.0.0/1 is one). "
               "Judges every namespace listed (as C-0206 does: an empty one's first pod would "
               "be unisolated) and every namespace that runs pods. A CiliumNetworkPolicy with an "
               "empty endpointSelector (or a clusterwide one) gives default deny in a direction "
               "when it "
               "has rules for it (Cilium's own rule), and an allow from every pod of the "
               "cluster (a clusterwide `fromEndpoints: [{}]`) or from world undoes it",
       reads=("pods", "networkpolicies"), reports="Namespace/*")
def default_deny(state: State, me: Check) -> list[Finding]:
    by_namespace = _policies_by_namespace(state)
    names = {p["metadata"]["namespace"] for p in state.items("pods") if _running(p)}
    if not state.unlisted("namespaces"):  # an empty namespace too: its first pod is unisolated
        names |= {n["metadata"]["name"] for n in state.items("namespaces")}
    if state.namespaces is not None:
        names &= set(state.namespaces)
    namespaces = sorted(names - set(SYSTEM_NAMESPACES))
    findings = []
    subjects = _cilium_subjects(state)
    for namespace in namespaces:
        mine = by_namespace.get(namespace, [])
        problems, denying = [], []
        wide = _cilium_namespace_wide(subjects, namespace)
        for direction in DIRECTIONS:
            cilium_deny, cilium_open = _cilium_sides(wide, direction)
            deny = [p for p in mine if denies_all(p, direction)]
            allow_all, how = allowing_all([p for p in mine if selects_all(
                (p.get("spec") or {}).get("podSelector"))], direction)
            denying += deny
            if cilium_deny:
                denying.append({"metadata": {"name": f"{cilium_deny} (Cilium)"}})
            if not deny and not cilium_deny:
                problems.append(f"no default deny for {direction.lower()}")
            elif allow_all:
                how = f"{how}; " if how else ""
                problems.append(f"{direction.lower()} default deny ({_names(deny)}) is undone by "
                                f"allow-all {_names(allow_all)} ({how}policies are additive)")
            elif cilium_open:
                problems.append(f"{direction.lower()} default deny is undone by the allow-all "
                                f"rule of Cilium {cilium_open} (policies are additive)")
        where = f"Namespace/{namespace}"
        if problems:
            findings.append(me.finding(where, "fail", "; ".join(problems)
                                       + f" ({len(mine)} policies in the namespace)"
                                       + _cilium_note(state)))
        else:
            findings.append(me.finding(where, "pass", f"default deny: {_names(denying)}"
                                       + _cilium_note(state)))
    return findings


HOST_NETWORK_NOTE = (
    "hostNetwork: true: the pod uses the node's network, so no NetworkPolicy or Cilium endpoint "
    "policy isolates it, whatever selects it (Kubernetes docs 'Network Policies', NetworkPolicy "
    "and hostNetwork pods: most plugins treat its traffic as the node's; Cilium's pod "
    "policies select endpoints, and a hostNetwork pod is none: only host policies, which "
    "select nodes, reach its traffic)")


@check("AKS-NET-006", "02-network", "Pod not isolated by NetworkPolicies (ingress and egress)",
       4.0, "kubescape C-0260, C-0030; checkov CKV2_K8S_6; Polaris missingNetworkPolicy"
       "; AKS checklist 85e2223e-ce8b-4b12-907c-a5f16f158e3e",
       "Select the pod with a policy for each direction (a namespace-wide default deny selects "
       "every pod) and remove allow-all rules",
       differs="C-0260, C-0030 and CKV2_K8S_6 pass a pod selected by any policy; here the pod "
               "must be isolated for ingress and egress with no allow-all rule selecting it (the "
               "ipBlocks of its policies united: more public addresses than a /8 of IPv4 or a "
               "/32 of IPv6 is an allow-all). "
               "Cilium policies count as Cilium enforces them: `ingress: []` is no rule (no "
               "default deny, C-0260 passes it), and a clusterwide `fromEndpoints: [{}]` admits "
               "every pod of the cluster, an allow-all (C-0030 and C-0260 pass it). A "
               "hostNetwork pod fails whatever selects it: policies do not isolate the node's "
               "network",
       reads=("pods", "networkpolicies"))
def unisolated_pods(state: State, me: Check) -> list[Finding]:
    by_namespace = _policies_by_namespace(state)
    judged: dict[tuple[str, str], Finding] = {}  # one row per workload and evidence
    subjects = _cilium_subjects(state)
    namespaces = {n["metadata"]["name"]: n["metadata"] for n in state.items("namespaces")}
    for pod in state.items("pods"):
        meta = pod["metadata"]
        if meta["namespace"] in SYSTEM_NAMESPACES or not _running(pod):
            continue
        if (pod.get("spec") or {}).get("hostNetwork") is True:
            evidence = HOST_NETWORK_NOTE + _cilium_note(state)
            judged[(owner(pod), evidence)] = me.finding(owner(pod), "fail", evidence)
            continue
        labels = meta.get("labels") or {}
        selecting = [p for p in by_namespace.get(meta["namespace"], [])
                     if matches((p.get("spec") or {}).get("podSelector") or {}, labels)]
        problems = []
        cilium_selecting = _cilium_selecting(subjects, pod, namespaces)
        for direction in DIRECTIONS:
            cilium_deny, cilium_open = _cilium_sides(cilium_selecting, direction)
            if not any(direction in policy_types(p) for p in selecting) and not cilium_deny:
                problems.append(f"{direction.lower()}: no policy selects it")
            elif (found := allowing_all(selecting, direction))[0]:
                problems.append(f"{direction.lower()}: {_names(found[0])} allows all"
                                + (f" ({found[1]})" if found[1] else ""))
            elif cilium_open:
                problems.append(f"{direction.lower()}: Cilium {cilium_open} allows all")
        status = "fail" if problems else "pass"
        evidence = ("; ".join(problems) or "isolated for ingress and egress, no allow-all rule"
                    ) + _cilium_note(state)
        judged[(owner(pod), evidence)] = me.finding(owner(pod), status, evidence)
    return list(judged.values())


def _ingress_backends(state: State) -> dict[tuple[str, str], list[str]]:
    """(namespace, Service) -> the Ingresses that route to it (rules and default backend)."""
    routes: dict[tuple[str, str], list[str]] = {}
    for ingress in state.items("ingresses"):
        spec, namespace = ingress.get("spec") or {}, ingress["metadata"]["namespace"]
        backends = [spec.get("defaultBackend") or {}]
        backends += [path.get("backend") or {} for rule in spec.get("rules") or []
                     for path in (rule.get("http") or {}).get("paths") or []]
        for name in sorted({(b.get("service") or {}).get("name") for b in backends} - {None}):
            routes.setdefault((namespace, name), []).append(ingress["metadata"]["name"])
    return routes


def _exposure(service: dict, routes: dict[tuple[str, str], list[str]]) -> list[str]:
    """How a Service is reachable from outside the cluster, if it is."""
    meta, spec = service["metadata"], service.get("spec") or {}
    kind, name = spec.get("type"), meta["name"]
    internal = (meta.get("annotations") or {}).get(INTERNAL_LB) == "true"
    ways = []
    if kind == "NodePort" or (kind == "LoadBalancer" and not internal):
        ways.append(f"{kind} Service {name}")
    if spec.get("externalIPs"):
        ways.append(f"Service {name} externalIPs {', '.join(spec['externalIPs'])}")
    ways += [f"Ingress {i} -> Service {name}" for i in routes.get((meta["namespace"], name), [])]
    return ways


@check("AKS-NET-007", "02-network", "Workload exposed outside the cluster", 5.0,
       "kubescape C-0256 (exposure to internet)",
       "Expose only what must be public: make a LoadBalancer internal "
       "(service.beta.kubernetes.io/azure-load-balancer-internal: 'true'), avoid NodePort and "
       "externalIPs, and route the public entry through one Ingress / Application Gateway",
       differs="C-0256 fails every LoadBalancer; an Azure internal load balancer (VNet only) "
               "passes here. Services with externalIPs, an Ingress's default backend and exposed "
               "Services that select no pod fail here too",
       reads=("pods", "services", "ingresses"))
def exposed_workloads(state: State, me: Check) -> list[Finding]:
    routes = _ingress_backends(state)
    pods: dict[str, list[dict]] = {}
    for pod in state.items("pods"):
        pods.setdefault(pod["metadata"]["namespace"], []).append(pod)
    exposed: dict[str, list[str]] = {}
    findings = []
    for service in state.items("services"):
        ways = _exposure(service, routes)
        if not ways:
            continue
        selector = (service.get("spec") or {}).get("selector") or {}
        chosen = [p for p in pods.get(service["metadata"]["namespace"], [])
                  if selects(selector, p["metadata"].get("labels") or {})]
        if not chosen:
            findings.append(me.finding(resource(service, "Service"), "fail",
                                       f"exposed ({'; '.join(ways)}) but selects no pod"))
        for pod in chosen:
            exposed.setdefault(owner(pod), []).extend(ways)
    for where in sorted({owner(p) for group in pods.values() for p in group}):
        ways = sorted(set(exposed.get(where, [])))
        findings.append(me.finding(where, "fail" if ways else "pass",
                                   "exposed through " + "; ".join(ways) if ways
                                   else "not exposed outside the cluster"))
    return findings


@check("AKS-NET-008", "02-network", "Ingress without TLS", 5.0, "kubescape C-0263",
       "Add a tls section whose secretName names an existing Secret with the certificate "
       "(e.g. from Key Vault through the CSI driver)",
       differs="C-0263 passes any tls section; here an empty tls list fails, and on a cluster so "
               "does a secretName whose Secret is not in the Ingress's namespace (the controller "
               "serves its default certificate). From files a Secret that is not among them is "
               "judged as C-0263 does (pass, the evidence says its existence is not known: "
               "certificates are usually kept out of a repository, cert-manager or the Key Vault "
               "CSI driver create them), unless the files put it in another namespace. As in "
               "C-0263, a tls entry without secretName passes: the controller serves its default "
               "certificate (the evidence says so)",
       reads=("ingresses",))
def ingress_tls(state: State, me: Check) -> list[Finding]:
    secrets_listed = not state.unlisted("secrets")
    secrets: dict[str, set[str]] = {}  # name -> namespaces
    for s in state.objects.get("secrets", []):
        secrets.setdefault(s["metadata"]["name"], set()).add(s["metadata"].get("namespace"))
    findings = []
    for ingress in state.items("ingresses"):
        namespace, where = ingress["metadata"]["namespace"], resource(ingress, "Ingress")
        entries = (ingress.get("spec") or {}).get("tls") or []
        if not entries:
            findings.append(me.finding(where, "fail", "no tls section: plain HTTP only"))
            continue
        absent, elsewhere, not_in_files, unknown, notes = [], [], [], [], []
        for entry in entries:
            name = (entry or {}).get("secretName")
            hosts = ", ".join((entry or {}).get("hosts") or []) or "all hosts"
            if not name:
                notes.append(f"{hosts}: no secretName, the controller's default certificate")
            elif not secrets_listed:
                unknown.append(name)
            elif namespace in secrets.get(name, ()):
                continue
            elif state.from_files and secrets.get(name):
                elsewhere.append(f"{name} (in {', '.join(sorted(secrets[name]))})")
            elif state.from_files:
                not_in_files.append(name)
            else:
                absent.append(name)
        if absent:
            findings.append(me.finding(where, "fail", f"tls Secret {', '.join(absent)} not "
                                       f"found in namespace {namespace}"))
        elif elsewhere:
            findings.append(me.finding(where, "fail", f"tls Secret {', '.join(elsewhere)} not in "
                                       f"namespace {namespace}, the only one an Ingress reads"))
        elif unknown:
            findings.append(me.finding(where, "not-applicable", "cannot judge: secrets could "
                                       f"not be listed (tls Secret {', '.join(unknown)})"))
        else:
            named = [e.get("secretName") for e in entries if (e or {}).get("secretName")
                     and e.get("secretName") not in not_in_files]
            findings.append(me.finding(where, "pass", "; ".join(
                ([f"tls Secret {', '.join(named)} present"] if named else [])
                + ([f"tls Secret {', '.join(not_in_files)} not among the files (whether it "
                    "exists is known only on a cluster)"] if not_in_files else [])
                + notes)))
    return findings
