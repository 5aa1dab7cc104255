"""Checks for chapter 02 (network): API server exposure, CNI and policy engine, egress,
node public IPs, default-deny NetworkPolicies, pod isolation, exposure and Ingress TLS."""

from __future__ import annotations

from ipaddress import ip_network

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


def _admits_everyone(cidr: str) -> bool:
    """A range with prefix length 0 (0.0.0.0/0, ::/0), or one that is not a range at all:
    neither restricts who reaches the API server."""
    try:
        return ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return True


@check("AKS-NET-001", "02-network", "API server open to any address (no authorized IP ranges)",
       8.0, "kubescape C-0247; checkov CKV_AZURE_6; CIS AKS 5.4.1",
       "az aks update --api-server-authorized-ip-ranges <your CIDRs> (never 0.0.0.0/0), or use a "
       "private cluster (AKS-NET-009)", scope="azure",
       differs="C-0247 and CKV_AZURE_6 accept any non-empty list; here 0.0.0.0/0 or ::/0 restricts "
               "nothing. A private cluster without ranges is not-applicable here (ranges cannot be "
               "set on it); C-0247 fails it")
def authorized_ip_ranges(state: State, me: Check) -> list[Finding]:
    private = field_of(state.cluster, "apiServerAccessProfile.enablePrivateCluster") is True
    ranges = [str(r) for r in field_of(state.cluster, "apiServerAccessProfile.authorizedIpRanges")
              or []]
    everyone = [r for r in ranges if _admits_everyone(r)]
    where = _cluster(state)
    if ranges and not everyone:
        return [me.finding(where, "pass", f"authorized IP ranges {', '.join(ranges)}"
                           + _source(state))]
    if everyone:
        return [me.finding(where, "fail", f"authorized IP ranges include {', '.join(everyone)}: "
                           "no restriction" + _source(state))]
    if private:
        return [me.finding(where, "not-applicable", "private cluster: no public endpoint to "
                           "restrict (see AKS-NET-009)" + _source(state))]
    return [me.finding(where, "fail", "no authorized IP ranges: the public API server is open to "
                       "any address" + _source(state))]


@check("AKS-NET-009", "02-network", "API server is public (not a private cluster)", 8.0,
       "kubescape C-0248; checkov CKV_AZURE_115; CIS AKS 5.4.3",
       "Create the cluster with --enable-private-cluster (an existing cluster cannot be made "
       "private); meanwhile restrict the public endpoint with authorized IP ranges (AKS-NET-001)",
       scope="azure")
def private_cluster(state: State, me: Check) -> list[Finding]:
    private = field_of(state.cluster, "apiServerAccessProfile.enablePrivateCluster") is True
    return [me.finding(_cluster(state), "pass" if private else "fail",
                       f"enablePrivateCluster {str(private).lower()}" + _source(state))]


@check("AKS-NET-002", "02-network", "Azure CNI with a network policy engine", 6.0,
       "checkov CKV2_AZURE_29, CKV_AZURE_7; kubescape C-0240; CIS AKS 5.4.4",
       "Create the cluster with --network-plugin azure --network-plugin-mode overlay and "
       "--network-policy cilium --network-dataplane cilium (the path forward: Azure NPM "
       "retires on Linux 2028-09-30, on Windows 2026-09-30) or calico; kubenet retires "
       "2028-03-31", scope="azure",
       differs="C-0240 accepts only azure or calico (and calico on kubenet); here cilium passes "
               "too, and kubenet fails whatever the policy, as CKV2_AZURE_29 wants Azure CNI. "
               "CKV_AZURE_7 accepts any value; 'none' fails here")
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
       "Azure Well-Architected: egress lockdown; AKS docs 'Limit egress traffic'",
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


def _open_peer(peer: dict) -> bool:
    """Every pod of every namespace, or every address (0.0.0.0/0 or ::/0 with no exceptions)."""
    if "ipBlock" in peer:
        block = peer.get("ipBlock") or {}
        try:
            whole = ip_network(str(block.get("cidr", "")), strict=False).prefixlen == 0
        except ValueError:
            return False
        return whole and not block.get("except")
    return ("namespaceSelector" in peer and selects_all(peer.get("namespaceSelector"))
            and selects_all(peer.get("podSelector")))


def _open_rule(rule: dict, direction: str) -> bool:
    """A rule that admits every peer on every port of at least one protocol."""
    peers = rule.get("from" if direction == "Ingress" else "to")
    ports = rule.get("ports")
    any_port = not ports or any("port" not in (p or {}) for p in ports)
    return any_port and (not peers or any(_open_peer(p or {}) for p in peers))


def opens(policy: dict, direction: str) -> bool:
    """The policy has a rule in this direction that allows all traffic."""
    if direction not in policy_types(policy):
        return False
    rules = (policy.get("spec") or {}).get(direction.lower()) or []
    return any(_open_rule(r or {}, direction) for r in rules)


def denies_all(policy: dict, direction: str) -> bool:
    """Selects every pod of its namespace and allows nothing in this direction."""
    spec = policy.get("spec") or {}
    return (selects_all(spec.get("podSelector")) and direction in policy_types(policy)
            and not spec.get(direction.lower()))


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
       "CIS 4.4.2 (kubescape C-0206)",
       "Apply a policy with podSelector {} and policyTypes [Ingress, Egress] and no rules, then "
       "allow only the flows the application needs (no allow-all policy beside it)",
       differs="C-0206 passes a namespace with any policy; here it needs a default deny for "
               "ingress and egress and no namespace-wide allow-all (policies are additive). "
               "Judges namespaces that run pods; Cilium policies are not read")
def default_deny(state: State, me: Check) -> list[Finding]:
    missing = state.unlisted("pods", "networkpolicies")
    if missing:
        return [me.not_listed("Namespace/*", missing)]
    by_namespace = _policies_by_namespace(state)
    namespaces = sorted({p["metadata"]["namespace"] for p in state.items("pods") if _running(p)}
                        - set(SYSTEM_NAMESPACES))
    findings = []
    for namespace in namespaces:
        mine = by_namespace.get(namespace, [])
        problems, denying = [], []
        for direction in DIRECTIONS:
            deny = [p for p in mine if denies_all(p, direction)]
            allow_all = [p for p in mine if selects_all((p.get("spec") or {}).get("podSelector"))
                         and opens(p, direction)]
            denying += deny
            if not deny:
                problems.append(f"no default deny for {direction.lower()}")
            elif allow_all:
                problems.append(f"{direction.lower()} default deny ({_names(deny)}) is undone by "
                                f"allow-all {_names(allow_all)} (policies are additive)")
        where = f"Namespace/{namespace}"
        if problems:
            findings.append(me.finding(where, "fail", "; ".join(problems)
                                       + f" ({len(mine)} policies in the namespace)"))
        else:
            findings.append(me.finding(where, "pass", f"default deny: {_names(denying)}"))
    return findings


@check("AKS-NET-006", "02-network", "Pod not isolated by NetworkPolicies (ingress and egress)",
       4.0, "kubescape C-0260, C-0030; checkov CKV2_K8S_6; Polaris missingNetworkPolicy",
       "Select the pod with a policy for each direction (a namespace-wide default deny selects "
       "every pod) and remove allow-all rules",
       differs="C-0260, C-0030 and CKV2_K8S_6 pass a pod selected by any policy; here the pod "
               "must be isolated for ingress and egress with no allow-all rule selecting it. "
               "Cilium policies are not read")
def unisolated_pods(state: State, me: Check) -> list[Finding]:
    missing = state.unlisted("pods", "networkpolicies")
    if missing:
        return [me.not_listed("Pod/*", missing)]
    by_namespace = _policies_by_namespace(state)
    judged: dict[tuple[str, str, str], Finding] = {}  # one row per workload
    for pod in state.items("pods"):
        meta = pod["metadata"]
        if meta["namespace"] in SYSTEM_NAMESPACES or not _running(pod):
            continue
        labels = meta.get("labels") or {}
        selecting = [p for p in by_namespace.get(meta["namespace"], [])
                     if matches((p.get("spec") or {}).get("podSelector") or {}, labels)]
        problems = []
        for direction in DIRECTIONS:
            if not any(direction in policy_types(p) for p in selecting):
                problems.append(f"{direction.lower()}: no policy selects it")
            elif allow_all := [p for p in selecting if opens(p, direction)]:
                problems.append(f"{direction.lower()}: {_names(allow_all)} allows all")
        status = "fail" if problems else "pass"
        evidence = "; ".join(problems) or "isolated for ingress and egress, no allow-all rule"
        judged[(owner(pod), status, evidence)] = me.finding(owner(pod), status, evidence)
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
    kind, name = spec.get("type", "ClusterIP"), meta["name"]
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
               "Services that select no pod fail here too")
def exposed_workloads(state: State, me: Check) -> list[Finding]:
    missing = state.unlisted("pods", "services", "ingresses")
    if missing:
        return [me.not_listed("Pod/*", missing)]
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
       differs="C-0263 passes any tls section; here an empty tls list fails, and so does a "
               "secretName whose Secret is not in the Ingress's namespace (from files: not among "
               "the files). As in C-0263, a tls entry without secretName passes: the ingress "
               "controller serves its default certificate (the evidence says so)")
def ingress_tls(state: State, me: Check) -> list[Finding]:
    missing = state.unlisted("ingresses")
    if missing:
        return [me.not_listed("Ingress/*", missing)]
    secrets_listed = not state.unlisted("secrets")
    secrets = {(s["metadata"].get("namespace"), s["metadata"]["name"])
               for s in state.objects.get("secrets", [])}
    findings = []
    for ingress in state.items("ingresses"):
        namespace, where = ingress["metadata"]["namespace"], resource(ingress, "Ingress")
        entries = (ingress.get("spec") or {}).get("tls") or []
        if not entries:
            findings.append(me.finding(where, "fail", "no tls section: plain HTTP only"))
            continue
        absent, unknown, notes = [], [], []
        for entry in entries:
            name = (entry or {}).get("secretName")
            hosts = ", ".join((entry or {}).get("hosts") or []) or "all hosts"
            if not name:
                notes.append(f"{hosts}: no secretName, the controller's default certificate")
            elif not secrets_listed:
                unknown.append(name)
            elif (namespace, name) not in secrets:
                absent.append(name)
        if absent:
            place = "among the files" if state.from_files else f"in namespace {namespace}"
            findings.append(me.finding(where, "fail", f"tls Secret {', '.join(absent)} not "
                                       f"found {place}"))
        elif unknown:
            findings.append(me.finding(where, "not-applicable", "cannot judge: secrets could "
                                       f"not be listed (tls Secret {', '.join(unknown)})"))
        else:
            named = [e.get("secretName") for e in entries if (e or {}).get("secretName")]
            findings.append(me.finding(where, "pass", "; ".join(
                ([f"tls Secret {', '.join(named)} present"] if named else []) + notes)))
    return findings
