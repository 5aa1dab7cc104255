"""Checks for chapter 02 (network): API server exposure, CNI and policy engine, egress,
node public IPs, default-deny NetworkPolicies, unselected pods, exposure and Ingress TLS."""

from __future__ import annotations

from aks_runbook.analysis.reachability import (
    Analyzer,
    isolated,
    namespace_labels,
    pods_from_api,
)
from aks_runbook.checks import Check, Finding, State, check, field_of, owner, resource

SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")


def _cluster(state: State) -> str:
    name = field_of(state.cluster, "name") or "cluster"
    return f"ManagedCluster/{name}"


def _source(state: State) -> str:
    return f" ({state.cluster_source})"


@check("AKS-NET-001", "02-network", "API server is neither private nor IP-restricted", 8.0,
       "kubescape C-0247, C-0248; checkov CKV_AZURE_6, CKV_AZURE_115; CIS AKS 5.4.1-5.4.3",
       "az aks update --api-server-authorized-ip-ranges <your CIDRs>, or create a private "
       "cluster (--enable-private-cluster)", scope="azure")
def api_server_access(state: State, me: Check) -> list[Finding]:
    private = field_of(state.cluster, "apiServerAccessProfile.enablePrivateCluster")
    ranges = field_of(state.cluster, "apiServerAccessProfile.authorizedIpRanges") or []
    if private:
        return [me.finding(_cluster(state), "pass", "private cluster" + _source(state))]
    if ranges:
        return [me.finding(_cluster(state), "pass",
                           f"authorized IP ranges {', '.join(ranges)}" + _source(state))]
    return [me.finding(_cluster(state), "fail",
                       "public API server open to any address" + _source(state))]


@check("AKS-NET-002", "02-network", "Azure CNI with a network policy engine", 6.0,
       "checkov CKV2_AZURE_29, CKV_AZURE_7; kubescape C-0240; CIS AKS 5.4.4",
       "Create the cluster with --network-plugin azure and --network-policy azure|calico|"
       "cilium (policy engine cannot be added to a kubenet cluster later)", scope="azure")
def cni_and_policy(state: State, me: Check) -> list[Finding]:
    plugin = field_of(state.cluster, "networkProfile.networkPlugin")
    mode = field_of(state.cluster, "networkProfile.networkPluginMode")
    policy = field_of(state.cluster, "networkProfile.networkPolicy")
    evidence = f"plugin {plugin}{' ' + mode if mode else ''}, policy {policy}" + _source(state)
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
       "Recreate the node pool without --enable-node-public-ip", scope="azure")
def node_public_ips(state: State, me: Check) -> list[Finding]:
    findings = []
    for pool in field_of(state.cluster, "agentPoolProfiles") or []:
        public = bool(field_of(pool, "enableNodePublicIp"))
        findings.append(me.finding(f"AgentPool/{field_of(pool, 'name')}",
                                   "fail" if public else "pass",
                                   f"enableNodePublicIp {str(public).lower()}" + _source(state)))
    return findings


def _workload_namespaces(state: State) -> list[str]:
    with_pods = {p["metadata"]["namespace"] for p in state.items("pods")}
    return sorted(ns for ns in with_pods if ns not in SYSTEM_NAMESPACES)


def _denies_all(policy: dict, direction: str) -> bool:
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))
    key = direction.lower()
    return (spec.get("podSelector") or {}) == {} and direction in types and not spec.get(key)


@check("AKS-NET-005", "02-network", "Namespace without a default-deny NetworkPolicy", 6.0,
       "kubescape C-0260; CIS 4.4.2; checkov CKV2_K8S_6; Polaris missingNetworkPolicy",
       "Apply a policy with podSelector {} and policyTypes [Ingress, Egress] and no rules, then "
       "allow only the flows the application needs")
def default_deny(state: State, me: Check) -> list[Finding]:
    findings = []
    policies = state.objects.get("networkpolicies", [])
    for namespace in _workload_namespaces(state):
        mine = [p for p in policies if p["metadata"]["namespace"] == namespace]
        ingress = [p["metadata"]["name"] for p in mine if _denies_all(p, "Ingress")]
        egress = [p["metadata"]["name"] for p in mine if _denies_all(p, "Egress")]
        where = f"Namespace/{namespace}"
        if ingress and egress:
            findings.append(me.finding(where, "pass", "default deny: " +
                                       ", ".join(sorted(set(ingress + egress)))))
        else:
            missing = [d for d, found in (("ingress", ingress), ("egress", egress)) if not found]
            findings.append(me.finding(where, "fail", f"no default deny for {' and '.join(missing)}"
                                       f" ({len(mine)} policies in the namespace)"))
    return findings


@check("AKS-NET-006", "02-network", "Pod not selected by any NetworkPolicy", 4.0,
       "kubescape C-0260 (workload), C-0030", "Select the pod with a policy (a namespace-wide "
       "default deny selects every pod)")
def unselected_pods(state: State, me: Check) -> list[Finding]:
    items = [i for i in state.items("pods") if i["metadata"]["namespace"] not in
             SYSTEM_NAMESPACES]
    owners = {f"{i['metadata']['namespace']}/{i['metadata']['name']}": owner(i) for i in items}
    namespaces = namespace_labels(state.objects.get("namespaces", []))
    analyzer = Analyzer(pods_from_api(items), namespaces,
                        state.objects.get("networkpolicies", []))
    judged: set[tuple[str, str]] = set()  # one row per ReplicaSet (pod names are random)
    for pod in analyzer.pods:
        where = owners[pod.key]
        sides = isolated(analyzer, pod)
        judged.add((where, "+".join(k for k, v in sides.items() if v) or "none"))
    return [me.finding(where, "pass" if text == "ingress+egress" else "fail",
                       f"isolated for: {text}") for where, text in sorted(judged)]


@check("AKS-NET-007", "02-network", "Service exposed outside the cluster", 5.0,
       "kubescape C-0256 (exposure to internet)",
       "Use ClusterIP behind an Ingress / Application Gateway; if a LoadBalancer is needed, "
       "make it internal (service.beta.kubernetes.io/azure-load-balancer-internal: 'true')")
def exposed_services(state: State, me: Check) -> list[Finding]:
    findings = []
    for service in state.items("services"):
        spec = service.get("spec") or {}
        kind = spec.get("type", "ClusterIP")
        internal = (service["metadata"].get("annotations") or {}).get(
            "service.beta.kubernetes.io/azure-load-balancer-internal") == "true"
        exposed = kind == "NodePort" or (kind == "LoadBalancer" and not internal)
        findings.append(me.finding(resource(service, "Service"), "fail" if exposed else "pass",
                                   f"type {kind}" + (" (internal)" if internal else "")))
    return findings


@check("AKS-NET-008", "02-network", "Ingress without TLS", 5.0, "kubescape C-0263",
       "Add a tls section with a certificate (e.g. from Key Vault through the CSI driver)")
def ingress_tls(state: State, me: Check) -> list[Finding]:
    return [me.finding(resource(ing, "Ingress"), "pass" if (ing.get("spec") or {}).get("tls")
                       else "fail", "tls configured" if (ing.get("spec") or {}).get("tls")
                       else "plain HTTP only")
            for ing in state.items("ingresses")]
