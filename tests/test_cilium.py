"""CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy in the reachability analysis, from
the examples of Cilium's documentation (Documentation/security/policy/: language.rst
"Layer 3 Examples", "Layer 4 Examples", "Deny Policies"; kubernetes.rst "Using Kubernetes
Constructs in Policy"), written here as our own objects, and the boundaries of the model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aks_runbook.analysis import cilium
from aks_runbook.analysis.reachability import (
    OTHER,
    Analyzer,
    Pod,
    PolicyError,
    Port,
    port_range,
    reachability,
)
from test_reachability import POD, POLICY, PROBES, build

FRONT = Pod("default", "front", {"role": "frontend"})
BACK = Pod("default", "back", {"role": "backend"})
OTHER_NS = Pod("other", "front", {"role": "frontend"})


def cnp(name, namespace="default", **spec):
    return {"kind": "CiliumNetworkPolicy", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


def ccnp(name, **spec):
    return {"kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def np(name, namespace="default", **spec):
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def rows(pods, policies, external=False):
    return list(Analyzer(pods, {}, policies).matrix(external))


def verdict(connections, source, destination, protocol="TCP", number=80):
    """allowed (True), denied (False) or not modelled (None) for one port."""
    found = []
    for c in connections:
        if (c.source, c.destination) != (source, destination):
            continue
        spelled = port_range(c.port)
        if spelled is None or (spelled[0] == protocol and spelled[1] <= number <= spelled[2]):
            found.append(c)
    assert len(found) == 1, [(c.port, c.allowed) for c in found]
    return found[0].allowed


def row(connections, source, destination, port):
    [found] = [c for c in connections if (c.source, c.destination, c.port)
               == (source, destination, port)]
    return found


BACKEND = {"matchLabels": {"role": "backend"}}
FRONTEND = {"matchLabels": {"role": "frontend"}}


def test_simple_ingress_allow_l3_labels():
    """language.rst "Simple Ingress Allow": frontend may reach backend; backend is in default
    deny for ingress, so nothing else may; pods of another namespace are not selected by a
    peer selector without the namespace label."""
    found = rows([FRONT, BACK, OTHER_NS], [cnp("l3-rule", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [FRONTEND]}])])
    assert row(found, "default/front", "default/back", "*").allowed is True
    assert row(found, "default/front", "default/back", "*").policies == ("default/l3-rule",)
    assert verdict(found, "other/front", "default/back") is False
    assert verdict(found, "default/back", "default/front") is True  # front is not selected


def test_match_expressions_are_kubernetes_label_selector_requirements():
    """An EndpointSelector is a Kubernetes LabelSelector (pkg/policy/api/selector.go): `In`
    needs the key with one of the values, `Exists` the key, `DoesNotExist` its absence."""
    bare, db = Pod("default", "bare", {}), Pod("default", "db", {"role": "db"})
    web = Pod("default", "web", {"role": "web"})
    pods = [FRONT, BACK, bare, db, web]

    def role(operator, *values):
        return {"matchExpressions": [{"key": "role", "operator": operator,
                                      **({"values": list(values)} if values else {})}]}

    found = rows(pods, [cnp("in", endpointSelector=role("In", "backend"), ingress=[
        {"fromEndpoints": [role("In", "frontend", "web")]}])])
    assert verdict(found, "default/front", "default/back") is True
    assert verdict(found, "default/web", "default/back") is True
    assert verdict(found, "default/db", "default/back") is False  # another value
    assert verdict(found, "default/bare", "default/back") is False  # no role label
    assert verdict(found, "default/back", "default/db") is True  # db is not selected
    found = rows(pods, [cnp("exists", endpointSelector=role("DoesNotExist"), ingress=[
        {"fromEndpoints": [role("Exists")]}])])
    assert verdict(found, "default/db", "default/bare") is True
    assert verdict(found, "default/back", "default/front") is True  # front is not selected
    found = rows([*pods, Pod("default", "bare2", {})], [cnp(
        "exists", endpointSelector=role("DoesNotExist"), ingress=[
            {"fromEndpoints": [role("Exists")]}])])
    assert verdict(found, "default/bare2", "default/bare") is False  # no role label
    # `NotIn` needs the key absent or with another value
    found = rows(pods, [cnp("not-in", endpointSelector=role("In", "backend"), ingress=[
        {"fromEndpoints": [role("NotIn", "frontend")]}])])
    assert verdict(found, "default/web", "default/back") is True  # another value
    assert verdict(found, "default/bare", "default/back") is True  # no role label
    assert verdict(found, "default/front", "default/back") is False


def test_namespace_label_in_a_peer_reaches_another_namespace():
    """kubernetes.rst "Expose pods across namespaces": the peer names its namespace."""
    found = rows([FRONT, BACK, OTHER_NS], [cnp("across", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [{"matchLabels": {"role": "frontend",
                                            "k8s:io.kubernetes.pod.namespace": "other"}}]}])])
    assert verdict(found, "other/front", "default/back") is True
    assert verdict(found, "default/front", "default/back") is False


def test_empty_from_endpoints_is_the_policy_namespace_for_a_cnp_and_the_cluster_for_a_ccnp():
    """language.rst "Egress Allow All Endpoints" (a CNP's {} is its namespace) and
    kubernetes.rst "Allow all ingress to kube-dns" (a CCNP's {} is every endpoint)."""
    namespaced = rows([FRONT, BACK, OTHER_NS], [cnp("all", endpointSelector=BACKEND,
                                                    ingress=[{"fromEndpoints": [{}]}])])
    assert verdict(namespaced, "default/front", "default/back") is True
    assert verdict(namespaced, "other/front", "default/back") is False
    clusterwide = rows([FRONT, BACK, OTHER_NS], [ccnp("all", endpointSelector=BACKEND,
                                                      ingress=[{"fromEndpoints": [{}]}])])
    assert verdict(clusterwide, "default/front", "default/back") is True
    assert verdict(clusterwide, "other/front", "default/back") is True


def test_empty_endpoint_selector_selects_its_namespace_for_a_cnp_and_all_for_a_ccnp():
    deny_in = {"endpointSelector": {}, "ingress": [{}]}
    namespaced = rows([FRONT, BACK, OTHER_NS], [cnp("deny", **deny_in)])
    assert verdict(namespaced, "default/front", "default/back") is False
    assert verdict(namespaced, "default/back", "other/front") is True
    clusterwide = rows([FRONT, BACK, OTHER_NS], [ccnp("deny", **deny_in)])
    assert verdict(clusterwide, "default/back", "other/front") is False


def test_default_deny_needs_a_rule_in_that_direction():
    """language.rst "Ingress/Egress Default Deny": `egress: [{}]` denies all egress and allows
    nothing; `egress: []` is no rule at all (rule.go: "If omitted or empty, this rule does not
    apply"); enableDefaultDeny: false keeps the direction open."""
    deny = rows([FRONT, BACK], [cnp("deny-all-egress", endpointSelector=FRONTEND,
                                    egress=[{}])], external=True)
    assert verdict(deny, "default/front", "default/back") is False
    assert row(deny, "default/front", "ip/0.0.0.0/0", "*").allowed is False
    assert verdict(deny, "default/back", "default/front") is True
    empty = rows([FRONT, BACK], [cnp("empty", endpointSelector=FRONTEND, egress=[])])
    assert verdict(empty, "default/front", "default/back") is True
    not_default = rows([FRONT, BACK], [cnp(
        "broad", endpointSelector=FRONTEND, egress=[{"toEndpoints": [BACKEND],
                                                     "toPorts": [{"ports": [{"port": "53"}]}]}],
        enableDefaultDeny={"egress": False})])
    assert verdict(not_default, "default/front", "default/back", "TCP", 443) is True


def test_entities_world_and_cluster():
    """language.rst "Access to/from outside cluster" (fromEntities world) and the entity list:
    world is every outside address and no pod; cluster is every pod and no outside address."""
    world = rows([FRONT, BACK], [cnp("from-world", endpointSelector=BACKEND,
                                     ingress=[{"fromEntities": ["world"]}])], external=True)
    assert row(world, "ip/0.0.0.0/0", "default/back", "*").allowed is True
    assert row(world, "ip/::/0", "default/back", "*").policies == ("default/from-world",)
    assert verdict(world, "default/front", "default/back") is False
    cluster = rows([FRONT, BACK, OTHER_NS], [cnp("from-cluster", endpointSelector=BACKEND,
                                                 ingress=[{"fromEntities": ["cluster"]}])],
                   external=True)
    assert verdict(cluster, "other/front", "default/back") is True
    assert row(cluster, "ip/0.0.0.0/0", "default/back", "*").allowed is False


def test_cidr_with_except_matches_outside_addresses_only():
    """language.rst "Allow to external CIDR block": 20.1.1.1/32 and 10.0.0.0/8 except
    10.96.0.0/12; CIDR rules do not apply between pods."""
    service = Pod("default", "svc", {"app": "myService"}, ips=("10.1.2.3",))
    target = Pod("default", "target", {}, ips=("10.1.2.4",))
    found = rows([service, target], [cnp("cidr-rule", endpointSelector={
        "matchLabels": {"app": "myService"}}, egress=[
            {"toCIDR": ["20.1.1.1/32"]},
            {"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.96.0.0/12"]}]}])],
        external=True)
    out = {(c.destination, c.port): c.allowed for c in found if c.source == "default/svc"}
    assert out[("ip/20.1.1.1/32", "*")] is True
    assert out[("ip/10.0.0.0/10", "*")] is True and out[("ip/10.112.0.0/12", "*")] is True
    assert ("ip/10.96.0.0/12", "*") not in out
    assert out[("ip/0.0.0.0/0", "*")] is False
    assert verdict(found, "default/svc", "default/target") is False


def test_l4_ports_ranges_and_protocols():
    """language.rst "Example (L4)", "Example Port Ranges" (80-444) and "Labels-dependent Layer 4
    rule": a ports-only rule applies to every peer; a range ends where endPort says; protocol
    ANY (or none) is TCP, UDP and SCTP; a rule with ports admits no ICMP."""
    found = rows([FRONT, BACK], [cnp("l4-port-range", endpointSelector=FRONTEND, egress=[
        {"toPorts": [{"ports": [{"port": "80", "endPort": 444, "protocol": "TCP"}]}]}])],
        external=True)
    assert verdict(found, "default/front", "default/back", "TCP", 80) is True
    assert verdict(found, "default/front", "default/back", "TCP", 444) is True
    assert verdict(found, "default/front", "default/back", "TCP", 445) is False
    assert verdict(found, "default/front", "default/back", "TCP", 79) is False
    assert verdict(found, "default/front", "default/back", "UDP", 80) is False
    assert verdict(found, "default/front", "default/back", "other", 0) is False
    assert row(found, "default/front", "ip/0.0.0.0/0", "TCP/80-444").allowed is True
    labelled = rows([FRONT, BACK, Pod("default", "x", {})], [cnp(
        "l3-l4", endpointSelector=BACKEND, ingress=[
            {"fromEndpoints": [FRONTEND], "toPorts": [{"ports": [{"port": "80"}]}]}])])
    for protocol in ("TCP", "UDP", "SCTP"):
        assert verdict(labelled, "default/front", "default/back", protocol, 80) is True
    assert verdict(labelled, "default/front", "default/back", "TCP", 81) is False
    assert verdict(labelled, "default/x", "default/back", "TCP", 80) is False


def test_port_zero_is_every_port_and_named_ports_resolve_on_the_destination():
    web = Pod("default", "back", {"role": "backend"}, ports=[Port("TCP", 8080, "http")])
    found = rows([FRONT, web], [cnp("named", endpointSelector=BACKEND, ingress=[
        {"toPorts": [{"ports": [{"port": "http", "protocol": "TCP"},
                                {"port": "0", "protocol": "UDP"}]}]}])])
    assert verdict(found, "default/front", "default/back", "TCP", 8080) is True
    assert verdict(found, "default/front", "default/back", "TCP", 80) is False
    assert verdict(found, "default/front", "default/back", "UDP", 65535) is True


DENY_TABLE_ALLOWS = [{"fromEndpoints": [FRONTEND]},
                     {"fromEndpoints": [FRONTEND], "toPorts": [{"ports": [
                         {"port": "80", "protocol": "TCP"}, {"port": "81", "protocol": "TCP"}]}]}]


def test_deny_wins_over_allow_as_in_the_deny_policies_table():
    """language.rst "Deny Policies", second column: allows at L3 and on 80 and 81, a deny on
    80/TCP: 81 allowed, 80 denied (and the row names the deny policy), ping allowed."""
    found = rows([FRONT, BACK], [
        cnp("allow", endpointSelector=BACKEND, ingress=DENY_TABLE_ALLOWS),
        cnp("deny-80", endpointSelector=BACKEND, ingressDeny=[
            {"fromEndpoints": [FRONTEND], "toPorts": [{"ports": [{"port": "80",
                                                                  "protocol": "TCP"}]}]}])])
    assert verdict(found, "default/front", "default/back", "TCP", 81) is True
    assert verdict(found, "default/front", "default/back", "TCP", 80) is False
    assert row(found, "default/front", "default/back", "TCP/80").policies == ("default/deny-80",)
    assert verdict(found, "default/front", "default/back", "other", 0) is True
    assert row(found, "default/front", "default/back", OTHER).policies == ("default/allow",)
    l3_deny = rows([FRONT, BACK], [
        cnp("allow", endpointSelector=BACKEND, ingress=DENY_TABLE_ALLOWS),
        cnp("deny-client", endpointSelector=BACKEND, ingressDeny=[
            {"fromEndpoints": [FRONTEND]}])])
    assert row(l3_deny, "default/front", "default/back", "*").allowed is False


def test_a_deny_peer_of_a_cnp_is_limited_to_its_namespace_as_an_allow_peer_is():
    """A peer selector of a deny rule, like that of an allow rule, selects in the policy's
    namespace only: frontend pods of another namespace keep the cluster-wide allow."""
    found = rows([FRONT, BACK, OTHER_NS], [cnp(
        "no-front", endpointSelector=BACKEND, ingress=[{"fromEntities": ["cluster"]}],
        ingressDeny=[{"fromEndpoints": [FRONTEND]}])])
    assert row(found, "default/front", "default/back", "*").allowed is False
    assert row(found, "other/front", "default/back", "*").allowed is True


def test_a_deny_only_policy_puts_the_pod_in_default_deny():
    """The table's last column: only a deny on 80/TCP: 81 and ping are denied too."""
    found = rows([FRONT, BACK], [cnp("deny-80", endpointSelector=BACKEND, ingressDeny=[
        {"toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}])])
    assert verdict(found, "default/front", "default/back", "TCP", 81) is False


def test_egress_deny_next_to_an_allow_all():
    """An egressDeny to 10.0.0.0/8 beside an allow of every entity: the deny wins there only;
    the world deny example of language.rst ("allowing traffic from everywhere except world")."""
    found = rows([FRONT, BACK], [cnp("open-but-10", endpointSelector=FRONTEND,
                                     egress=[{"toEntities": ["all"]}],
                                     egressDeny=[{"toCIDR": ["10.0.0.0/8"]}])], external=True)
    out = {(c.destination, c.port): c.allowed for c in found if c.source == "default/front"}
    assert out[("ip/11.0.0.0/8", "*")] is True and out[("ip/::/0", "*")] is True
    assert ("ip/10.0.0.0/8", "*") not in out and out[("ip/0.0.0.0/0", "*")] is False
    assert verdict(found, "default/front", "default/back") is True
    world_deny = rows([FRONT, BACK], [ccnp("external-lockdown", endpointSelector={},
                                           ingressDeny=[{"fromEntities": ["world"]}],
                                           ingress=[{"fromEntities": ["all"]}])], external=True)
    assert row(world_deny, "ip/0.0.0.0/0", "default/back", "*").allowed is False
    assert not [c for c in world_deny if c.source.startswith("ip/") and c.allowed is not False]
    assert verdict(world_deny, "default/front", "default/back") is True


def test_ccnp_across_namespaces():
    """kubernetes.rst "Clusterwide Policies": name=luke from any namespace to name=leia in any
    namespace."""
    leia = Pod("ns1", "leia", {"name": "leia"})
    luke = Pod("ns2", "luke", {"name": "luke"})
    other = Pod("ns2", "other", {"name": "other"})
    found = rows([leia, luke, other], [ccnp("interns", endpointSelector={
        "matchLabels": {"name": "leia"}}, ingress=[{"fromEndpoints": [
            {"matchLabels": {"name": "luke"}}]}])])
    assert row(found, "ns2/luke", "ns1/leia", "*").policies == ("interns",)
    assert verdict(found, "ns2/other", "ns1/leia") is False


def test_cnp_next_to_a_kubernetes_network_policy_is_a_union_per_direction():
    """Cilium enforces both kinds together: a NetworkPolicy's default deny of ingress and a
    CNP allowing frontend: allowed; allows of either kind add up, a CNP deny removes from
    both."""
    found = rows([FRONT, BACK], [
        np("deny-in", podSelector={}, policyTypes=["Ingress"]),
        cnp("front", endpointSelector=BACKEND, ingress=[{"fromEndpoints": [FRONTEND]}])])
    assert row(found, "default/front", "default/back", "*").policies == ("default/front",)
    assert verdict(found, "default/back", "default/front") is False
    denied = rows([FRONT, BACK], [
        np("allow-all", podSelector={}, ingress=[{}]),
        cnp("no-tcp", endpointSelector=BACKEND, ingressDeny=[
            {"toPorts": [{"ports": [{"port": "0", "protocol": "TCP"}]}]}])])
    assert verdict(denied, "default/front", "default/back", "TCP", 80) is False
    assert verdict(denied, "default/front", "default/back", "UDP", 53) is True


def test_not_modelled_rules_are_neither_allowed_nor_denied():
    """toFQDNs decides outside addresses by DNS; an L7 rule filters requests on its port;
    toServices, authentication and fromRequires too: the rows say "not modelled" (None)."""
    fqdn = rows([FRONT, BACK], [cnp("fqdn", endpointSelector=FRONTEND, egress=[
        {"toFQDNs": [{"matchName": "my-remote-service.com"}],
         "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}])], external=True)
    assert row(fqdn, "default/front", "ip/0.0.0.0/0", "TCP/443").allowed is None
    assert row(fqdn, "default/front", "ip/0.0.0.0/0", "TCP/443").policies == ("default/fqdn",)
    assert verdict(fqdn, "default/front", "default/back", "TCP", 443) is False
    http = rows([FRONT, BACK], [cnp("l7", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [FRONTEND], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}],
                                                   "rules": {"http": [{"method": "GET"}]}}]},
        {"fromEndpoints": [FRONTEND], "toPorts": [{"ports": [{"port": "81",
                                                              "protocol": "TCP"}]}]}])])
    assert verdict(http, "default/front", "default/back", "TCP", 80) is None
    assert verdict(http, "default/front", "default/back", "TCP", 81) is True
    assert verdict(http, "default/front", "default/back", "TCP", 82) is False
    service = rows([FRONT, BACK], [cnp("svc", endpointSelector=FRONTEND, egress=[
        {"toServices": [{"k8sService": {"serviceName": "db", "namespace": "default"}}]}])])
    assert verdict(service, "default/front", "default/back") is None
    requires = rows([FRONT, BACK], [cnp("req", endpointSelector=BACKEND, ingress=[
        {"fromRequires": [{"matchLabels": {"env": "prod"}}]},
        {"fromEndpoints": [FRONTEND]}])])
    assert verdict(requires, "default/front", "default/back") is None
    requires = rows([FRONT, BACK], [cnp("req", endpointSelector=FRONTEND, egress=[
        {"toRequires": [{"matchLabels": {"env": "prod"}}]},
        {"toEndpoints": [BACKEND]}])])
    assert verdict(requires, "default/front", "default/back") is None


def outside(connections, source, address):
    """{allowed: policies} of the rows from a pod to an outside address (every port)."""
    return {c.allowed: c.policies for c in connections
            if (c.source, c.destination) == (source, address)}


@pytest.mark.parametrize("egress", [
    {"toCIDRSet": [{"cidrGroupRef": "corp-ranges"}]},  # addresses held in a CiliumCIDRGroup
    {"toEntities": ["kube-apiserver"]},  # the API server's addresses are not in the objects
    {"toGroups": [{"aws": {"securityGroupsIds": ["sg-1"]}}]},  # a cloud provider's group
    {"toFQDNs": [{"matchPattern": "*.example.com"}]},
], ids=["cidr-group", "kube-apiserver", "to-groups", "to-fqdns"])
def test_outside_peers_known_only_at_run_time_are_not_modelled(egress):
    """language.rst: CIDR groups, the kube-apiserver entity, toGroups and toFQDNs name
    addresses the objects do not give: the outside row says not modelled and names the
    policy, never allowed (nor a plain denied)."""
    found = outside(rows([FRONT, BACK], [cnp("out", endpointSelector=FRONTEND,
                                             egress=[egress])], external=True),
                    "default/front", "ip/0.0.0.0/0")
    assert found.get(None) == ("default/out",)
    assert True not in found
    assert verdict(rows([FRONT, BACK], [cnp("out", endpointSelector=FRONTEND, egress=[egress])]),
                   "default/front", "default/back") is False  # no pod is such a peer


def test_a_cidr_set_entry_with_a_cidr_is_modelled():
    """language.rst "CIDR-based": toCIDRSet with except; the rest of the space is denied."""
    found = rows([FRONT, BACK], [cnp("out", endpointSelector=FRONTEND, egress=[
        {"toCIDRSet": [{"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}]}])], external=True)
    assert outside(found, "default/front", "ip/11.0.0.0/8") == {True: ("default/out",)}
    assert outside(found, "default/front", "ip/0.0.0.0/0") == {False: ()}  # 10.0.0.0/8


@pytest.mark.parametrize("port_rule", [
    {"rules": {"http": [{"method": "GET"}]}},
    {"serverNames": ["one.example.com"]},
    {"listener": {"envoyConfig": {"kind": "CiliumEnvoyConfig", "name": "lb"}, "name": "l"}},
    {"terminatingTLS": {"secret": {"name": "server-cert"}}},
    {"originatingTLS": {"secret": {"name": "ca"}}},
], ids=["l7-rules", "server-names", "listener", "terminating-tls", "originating-tls"])
def test_a_port_whose_requests_a_proxy_filters_is_not_modelled(port_rule):
    """An L7 rule, serverNames (SNI), a listener or TLS settings send the port's traffic
    through Cilium's proxy, which filters requests: the port is not known to be allowed."""
    found = rows([FRONT, BACK], [cnp("proxied", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [FRONTEND],
         "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}], **port_rule}]}])])
    assert verdict(found, "default/front", "default/back", "TCP", 443) is None
    assert verdict(found, "default/front", "default/back", "TCP", 444) is False


def test_authentication_and_icmp_types_are_not_modelled():
    """language.rst "Mutual Authentication" (the allow holds only once the peers
    authenticate) and "ICMP/ICMPv6" (icmps allow ICMP types, no TCP/UDP/SCTP port)."""
    auth = rows([FRONT, BACK], [cnp("auth", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [FRONTEND], "authentication": {"mode": "required"}}])])
    assert verdict(auth, "default/front", "default/back") is None
    icmp = rows([FRONT, BACK], [cnp("ping", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [FRONTEND], "icmps": [{"fields": [{"type": 8, "family": "IPv4"}]}]}])])
    assert verdict(icmp, "default/front", "default/back", "TCP", 80) is False
    assert verdict(icmp, "default/front", "default/back", OTHER, 0) is None


def test_a_deny_cannot_be_overruled_by_a_not_modelled_allow():
    found = rows([FRONT, BACK], [
        cnp("l7", endpointSelector=BACKEND, ingress=[{"toPorts": [
            {"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{}]}}]}]),
        cnp("deny", endpointSelector=BACKEND, ingressDeny=[{"fromEndpoints": [FRONTEND]}])])
    assert verdict(found, "default/front", "default/back", "TCP", 80) is False


def test_specs_list_and_node_selector():
    """A policy's `specs` are rules of their own; a nodeSelector rule selects no pod."""
    found = rows([FRONT, BACK], [{
        "kind": "CiliumNetworkPolicy", "metadata": {"name": "split", "namespace": "default"},
        "specs": [{"endpointSelector": BACKEND, "ingress": [{}]},
                  {"nodeSelector": {}, "egress": [{}]}]}])
    assert verdict(found, "default/front", "default/back") is False
    assert verdict(found, "default/back", "default/front") is True


def test_a_rule_without_any_selector_makes_cilium_refuse_the_whole_policy():
    """Rule.Sanitize: "rule must have one of EndpointSelector or NodeSelector", and
    CiliumNetworkPolicy.Parse then returns an error for the policy: none of its rules is
    enforced, the other spec's default deny included (no false "isolated")."""
    refused = {"kind": "CiliumNetworkPolicy", "metadata": {"name": "half", "namespace": "default"},
               "spec": {"endpointSelector": BACKEND, "ingress": [{}]},
               "specs": [{"ingress": [{}]}]}
    assert cilium.subjects(refused) == []
    found = rows([FRONT, BACK], [refused])
    assert verdict(found, "default/front", "default/back") is True
    assert Analyzer([FRONT, BACK], {}, [refused]).isolation(BACK) == {"ingress": False,
                                                                      "egress": False}


def test_source_prefixes_and_reserved_labels():
    assert cilium.normalised({"matchLabels": {"k8s:app": "a", "any:b": "c"}})["matchLabels"] == {
        "app": "a", "b": "c"}
    found = rows([FRONT, BACK], [cnp("host-only", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [{"matchLabels": {"reserved:host": ""}}]}])])
    assert verdict(found, "default/front", "default/back") is False
    # a label of another source (here the container runtime's) is not the pod's k8s label
    # (Cilium docs "Terminology", Label Source: container, k8s, reserved, unspec; a selector
    # without a source, or with `any:`, matches every source)
    found = rows([FRONT, BACK], [cnp("container-label", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [{"matchLabels": {"container:role": "frontend"}},
                           {"matchExpressions": [{"key": "container:role",
                                                  "operator": "Exists"}]}]}])])
    assert verdict(found, "default/front", "default/back") is False
    found = rows([FRONT, BACK], [cnp("any-label", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [{"matchExpressions": [{"key": "any:role", "operator": "In",
                                                  "values": ["frontend"]}]}]}])])
    assert verdict(found, "default/front", "default/back") is True


def test_isolation_counts_cilium_default_deny():
    analyzer = Analyzer([FRONT, BACK], {}, [cnp("in", endpointSelector=BACKEND,
                                                 ingress=[{}])])
    assert analyzer.isolation(BACK) == {"ingress": True, "egress": False}


def test_a_bad_cidr_names_the_policy():
    with pytest.raises(PolicyError, match="default/bad"):
        Analyzer([FRONT], {}, [cnp("bad", endpointSelector={}, egress=[{"toCIDR": ["x"]}])])


def test_a_cnp_file_without_a_namespace_applies_in_default():
    """A manifest without metadata.namespace is created in the default namespace (kubectl
    apply with the default context), so its rules select pods there."""
    policy = {"kind": "CiliumNetworkPolicy", "metadata": {"name": "no-ns"},
              "spec": {"endpointSelector": BACKEND, "ingress": [{}]}}
    found = rows([FRONT, BACK, OTHER_NS], [policy])
    assert verdict(found, "default/front", "default/back") is False
    assert verdict(found, "default/front", "other/front") is True
    [subject] = cilium.subjects(policy)
    assert subject.policy == "default/no-ns"


def test_a_cnp_endpoint_selector_always_applies_in_the_policy_namespace():
    """kubernetes.rst "Namespaces": the endpointSelector always applies to pods of the
    policy's namespace, whatever namespace label it names."""
    found = rows([FRONT, OTHER_NS], [cnp("deny", endpointSelector={"matchLabels": {
        "k8s:io.kubernetes.pod.namespace": "other"}}, ingress=[{}])])
    assert verdict(found, "other/front", "default/front") is False
    assert verdict(found, "default/front", "other/front") is True


def test_peer_selectors_read_namespace_labels_and_service_accounts():
    """Cilium's derived labels: namespace labels (io.cilium.k8s.namespace.labels.*) and the
    service account (io.cilium.k8s.policy.serviceaccount)."""
    luke = Pod("ns2", "luke", {}, service_account="luke")
    leia = Pod("ns1", "leia", {"name": "leia"})
    found = list(Analyzer([luke, leia, OTHER_NS], {"ns2": {"team": "rebels"}}, [ccnp(
        "sa", endpointSelector={"matchLabels": {"name": "leia"}}, ingress=[{"fromEndpoints": [
            {"matchLabels": {"io.cilium.k8s.policy.serviceaccount": "luke",
                             "k8s:io.cilium.k8s.namespace.labels.team": "rebels"}}]}])]
    ).matrix())
    assert verdict(found, "ns2/luke", "ns1/leia") is True
    assert verdict(found, "other/front", "ns1/leia") is False


# ---- the three-state engine agrees with the NetworkPolicy engine where both apply ------------

INERT = cnp("inert", endpointSelector={"matchLabels": {"nobody": "here"}}, ingress=[{}])


@settings(max_examples=120, deadline=None)
@given(st.lists(POD, min_size=2, max_size=4), st.lists(POLICY, max_size=4), st.booleans())
def test_a_cilium_policy_selecting_no_pod_changes_no_row(raw_pods, raw_policies, matching):
    """With any Cilium policy present the analysis takes its three-state path; with one that
    selects no pod, every row (pairs and outside addresses) must be the NetworkPolicy path's."""
    pods, namespaces, policies = build(raw_pods, raw_policies)
    plain = reachability(pods, namespaces, policies, external=True,
                         ipblock_matches_pods=matching)
    with_cilium = reachability(pods, namespaces, [*policies, INERT], external=True,
                               ipblock_matches_pods=matching)
    assert with_cilium == plain


# ---- against a brute-force reading of Cilium's documented semantics -------------------------

C_SELECTOR = st.one_of(
    st.just({}),
    st.builds(lambda labels: {"matchLabels": labels},
              st.fixed_dictionaries({}, optional={"app": st.sampled_from(["x", "y"]),
                                                  "k8s:tier": st.sampled_from(["web", "db"])})),
    st.builds(lambda ns: {"matchLabels": {"k8s:io.kubernetes.pod.namespace": ns}},
              st.sampled_from(["n1", "n2"])),
    st.builds(lambda operator, values: {"matchExpressions": [
        {"key": "app", "operator": operator, **({"values": values} if values else {})}]},
        st.sampled_from(["In", "NotIn"]), st.sampled_from([["x"], ["x", "y"]]))
    | st.builds(lambda operator: {"matchExpressions": [{"key": "app", "operator": operator}]},
                st.sampled_from(["Exists", "DoesNotExist"])))
C_PORT = st.sampled_from([{"port": "80"}, {"port": "80", "protocol": "TCP"},
                          {"port": "1000", "endPort": 1010, "protocol": "UDP"},
                          {"port": "0", "protocol": "SCTP"}, {"port": "http", "protocol": "TCP"},
                          {"port": "dns", "protocol": "ANY"}])
C_RULE = st.fixed_dictionaries({}, optional={
    "endpoints": st.lists(C_SELECTOR, max_size=2),
    "entities": st.lists(st.sampled_from(["cluster", "world", "all", "host"]), min_size=1,
                         max_size=2),
    "ports": st.lists(C_PORT, min_size=1, max_size=2)})
C_POLICY = st.fixed_dictionaries(
    {"namespace": st.sampled_from(["n1", "n2", None]), "selector": C_SELECTOR},
    optional={"ingress": st.lists(C_RULE, max_size=2), "egress": st.lists(C_RULE, max_size=2),
              "ingressDeny": st.lists(C_RULE, max_size=1),
              "egressDeny": st.lists(C_RULE, max_size=1),
              "enableDefaultDeny": st.fixed_dictionaries({}, optional={
                  "ingress": st.booleans(), "egress": st.booleans()})})


def c_build(raw_policies):
    policies = []
    for i, raw in enumerate(raw_policies):
        spec: dict = {"endpointSelector": raw["selector"]}
        for key in ("ingress", "egress", "ingressDeny", "egressDeny"):
            prefix = "from" if key.startswith("ingress") else "to"
            if key in raw:
                spec[key] = [{**({f"{prefix}Endpoints": r["endpoints"]} if "endpoints" in r
                                 else {}),
                              **({f"{prefix}Entities": r["entities"]} if "entities" in r
                                 else {}),
                              **({"toPorts": [{"ports": r["ports"]}]} if "ports" in r else {})}
                             for r in raw[key]]
        if "enableDefaultDeny" in raw:
            spec["enableDefaultDeny"] = raw["enableDefaultDeny"]
        policies.append(ccnp(f"c{i}", **spec) if raw["namespace"] is None
                        else cnp(f"c{i}", raw["namespace"], **spec))
    return policies


def c_oracle(raw_policies, source, destination, protocol, number):
    def labels(pod):
        return {**pod.labels, "io.kubernetes.pod.namespace": pod.namespace}

    def selected(selector, pod, scope):
        wanted = {k.removeprefix("k8s:"): v for k, v in selector.get("matchLabels", {}).items()}
        if scope is not None and "io.kubernetes.pod.namespace" not in wanted:
            wanted["io.kubernetes.pod.namespace"] = scope
        if any(labels(pod).get(k) != v for k, v in wanted.items()):
            return False
        def holds(e):  # Kubernetes label selector requirements
            present = e["key"] in pod.labels
            inside = present and pod.labels[e["key"]] in e.get("values", [])
            return {"In": inside, "NotIn": not inside, "Exists": present,
                    "DoesNotExist": not present}[e["operator"]]

        return all(holds(e) for e in selector.get("matchExpressions", []))

    def port_ok(rule):
        if "ports" not in rule:
            return True
        for entry in rule["ports"]:
            chosen = entry.get("protocol", "ANY")
            if protocol == OTHER or chosen not in ("ANY", protocol):
                continue
            if entry["port"] == "0":
                return True
            if entry["port"].isdigit():
                low = int(entry["port"])
                if low <= number <= entry.get("endPort", low):
                    return True
            elif any(p.name == entry["port"] and p.protocol == protocol and p.number == number
                     for p in destination.ports):
                return True
        return False

    def peer_ok(rule, peer, scope):
        if "endpoints" not in rule and "entities" not in rule:
            return "ports" in rule
        return (any(selected(s, peer, scope) for s in rule.get("endpoints", []))
                or bool({"cluster", "all"} & set(rule.get("entities", []))))

    def side(direction, subject, peer):
        def subject_of(r):  # a CNP's own namespace replaces any it names
            if r["namespace"] is None:
                return selected(r["selector"], subject, None)
            kept = {k: v for k, v in r["selector"].get("matchLabels", {}).items()
                    if "namespace" not in k}
            return r["namespace"] == subject.namespace and selected(
                {**r["selector"], "matchLabels": kept}, subject, None)

        mine = [r for r in raw_policies if subject_of(r)]
        has = [r for r in mine if r.get(direction) or r.get(f"{direction}Deny")]
        default_deny = any(r.get("enableDefaultDeny", {}).get(direction, True) for r in has)
        def hits(key):
            return any(peer_ok(rule, peer, r["namespace"]) and port_ok(rule)
                       for r in has for rule in r.get(key, []))
        if hits(f"{direction}Deny"):
            return False
        return hits(direction) or not default_deny

    return side("egress", source, destination) and side("ingress", destination, source)


@settings(max_examples=200, deadline=None)
@given(st.lists(POD, min_size=2, max_size=4), st.lists(C_POLICY, max_size=3))
def test_cilium_rows_agree_with_a_brute_force_reading_of_the_docs(raw_pods, raw_policies):
    pods, namespaces, _ = build(raw_pods, [])
    connections = reachability(pods, namespaces, c_build(raw_policies))
    for s in pods:
        for d in pods:
            if s is d:
                continue
            for protocol, number in PROBES:
                found = verdict(connections, s.key, d.key, protocol, number)
                assert found == c_oracle(raw_policies, s, d, protocol, number), (
                    s.key, d.key, protocol, number)


def test_an_empty_peer_list_selects_nobody_even_with_ports():
    """`fromEndpoints: []` beside toPorts: no peer (an explicit empty list), unlike a rule
    without any peer field, which applies to every peer."""
    ports = [{"ports": [{"port": "80", "protocol": "TCP"}]}]
    empty = rows([FRONT, BACK], [cnp("empty", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [], "toPorts": ports}])])
    assert verdict(empty, "default/front", "default/back") is False
    absent = rows([FRONT, BACK], [cnp("absent", endpointSelector=BACKEND, ingress=[
        {"toPorts": ports}])])
    assert verdict(absent, "default/front", "default/back") is True


WEB = Pod("default", "back", {"role": "backend"}, ports=[Port("TCP", 8080, "http")])
CLIENT = Pod("default", "front", {"role": "frontend"}, ports=[Port("TCP", 9090, "http")])
DB_SERVICE = {"k8sService": {"serviceName": "db", "namespace": "default"}}
HTTP = {"ports": [{"port": "http", "protocol": "TCP"}]}
GET = {"http": [{"method": "GET"}]}


def tcp(*numbers):
    return {"ports": [{"port": str(n), "protocol": "TCP"} for n in numbers]}


def test_named_ports_resolve_on_the_destination_pod_beside_cilium_policies():
    """A named port is the destination pod's port: towards an outside address (egress) it
    names none; from outside (ingress) it is the pod's port, for NetworkPolicy rules beside a
    Cilium policy, L7 ports, toServices and CIDR groups alike."""
    egress = rows([CLIENT, WEB], [
        np("np-out", podSelector=FRONTEND, policyTypes=["Egress"], egress=[{"ports": [
            {"port": "http"}]}]),
        cnp("cidr", endpointSelector=FRONTEND, egress=[{"toCIDR": ["203.0.113.0/24"],
                                                        "toPorts": [HTTP]}])], external=True)
    assert outside(egress, "default/front", "ip/0.0.0.0/0") == {False: ()}
    assert outside(egress, "default/front", "ip/::/0") == {False: ()}
    ingress = rows([FRONT, WEB], [
        np("np-in", podSelector=BACKEND, ingress=[{"ports": [{"port": "http"}]}]),
        cnp("all", endpointSelector=FRONTEND, egress=[{"toEntities": ["all"]}])], external=True)
    assert row(ingress, "ip/0.0.0.0/0", "default/back", "TCP/8080").policies == (
        "default/np-in",)
    assert row(ingress, "default/front", "default/back", "TCP/8080").allowed is True
    assert row(ingress, "default/front", "default/back", "TCP/8080").policies == (
        "default/all", "default/np-in")
    for port_rule in (HTTP, {**HTTP, "rules": GET}):
        l7 = rows([FRONT, WEB], [cnp("named", endpointSelector=BACKEND, ingress=[
            {"fromEndpoints": [FRONTEND], "toPorts": [port_rule]}])])
        assert verdict(l7, "default/front", "default/back", "TCP", 8080) is (
            None if "rules" in port_rule else True)
        service = rows([FRONT, WEB], [cnp("svc", endpointSelector=FRONTEND, egress=[
            {"toServices": [DB_SERVICE], "toPorts": [port_rule]}])])
        assert row(service, "default/front", "default/back", "TCP/8080").allowed is None
        group = rows([FRONT, WEB], [cnp("group", endpointSelector=BACKEND, ingress=[
            {"fromCIDRSet": [{"cidrGroupRef": "corp"}], "toPorts": [port_rule]}])],
            external=True)
        assert outside(group, "ip/0.0.0.0/0", "default/back") == {None: ("default/group",),
                                                                  False: ()}
        assert row(group, "ip/0.0.0.0/0", "default/back", "TCP/8080").allowed is None


def test_l7_ports_stay_not_modelled_beside_authentication_services_and_fqdns():
    auth = rows([FRONT, BACK], [cnp("auth", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [FRONTEND], "authentication": {"mode": "required"},
         "toPorts": [{**tcp(80), "rules": GET}]}])])
    assert row(auth, "default/front", "default/back", "TCP/80").policies == ("default/auth",)
    assert verdict(auth, "default/front", "default/back", "TCP", 80) is None
    service = rows([FRONT, BACK], [cnp("svc", endpointSelector=FRONTEND, egress=[
        {"toServices": [DB_SERVICE], "toPorts": [{**tcp(80), "rules": GET}]}])])
    assert verdict(service, "default/front", "default/back", "TCP", 80) is None
    assert verdict(service, "default/front", "default/back", "TCP", 81) is False
    fqdn = rows([FRONT, BACK], [cnp("fqdn", endpointSelector=FRONTEND, egress=[
        {"toFQDNs": [{"matchName": "api.example.com"}],
         "toPorts": [{**tcp(443), "rules": GET}]}])], external=True)
    assert row(fqdn, "default/front", "ip/0.0.0.0/0", "TCP/443").allowed is None
    assert row(fqdn, "default/front", "ip/::/0", "TCP/443").policies == ("default/fqdn",)


def test_a_deny_the_model_cannot_place_makes_what_it_may_cover_not_modelled():
    """A deny towards a Service or a CIDR group beside an allow of everything: not modelled
    (None), never allowed; a deny of ICMP types leaves ICMP denied where nothing allowed it."""
    service = rows([FRONT, BACK], [cnp("no-db", endpointSelector=FRONTEND,
                                       egress=[{"toEntities": ["all"]}],
                                       egressDeny=[{"toServices": [DB_SERVICE]}])])
    assert row(service, "default/front", "default/back", "*").allowed is None
    assert row(service, "default/front", "default/back", "*").policies == ("default/no-db",)
    group = rows([FRONT, BACK], [cnp("no-corp", endpointSelector=FRONTEND,
                                     egress=[{"toEntities": ["all"]}],
                                     egressDeny=[{"toCIDRSet": [{"cidrGroupRef": "corp"}]}])],
                 external=True)
    # one row for the whole space on every port: no contradicting "the rest, not allowed"
    assert outside(group, "default/front", "ip/0.0.0.0/0") == {None: ("default/no-corp",)}
    assert row(group, "default/front", "default/back", "*").allowed is True
    ping = rows([FRONT, BACK], [cnp("web", endpointSelector=BACKEND,
                                    ingress=[{"fromEndpoints": [FRONTEND], "toPorts": [tcp(80)]}],
                                    ingressDeny=[{"fromEndpoints": [FRONTEND], "icmps": [
                                        {"fields": [{"type": 8}]}]}])])
    assert verdict(ping, "default/front", "default/back", "TCP", 80) is True
    assert row(ping, "default/front", "default/back", OTHER).allowed is False


def test_requires_is_named_beside_the_cilium_policy_that_allows():
    """fromRequires in one policy, the allow in another: the row is not modelled and names
    both, as it does for a NetworkPolicy's allow."""
    found = rows([FRONT, BACK], [
        cnp("req", endpointSelector=BACKEND, ingress=[
            {"fromRequires": [{"matchLabels": {"env": "prod"}}]}]),
        cnp("allow", endpointSelector=BACKEND, ingress=[
            {"fromEndpoints": [FRONTEND], "toPorts": [tcp(80)]}])])
    assert row(found, "default/front", "default/back", "TCP/80").allowed is None
    assert row(found, "default/front", "default/back", "TCP/80").policies == (
        "default/allow", "default/req")


def test_requires_makes_every_allow_not_modelled_but_leaves_denies():
    """fromRequires narrows a NetworkPolicy's allow too (the row names both policies); a deny
    of the requiring policy stays denied."""
    found = rows([FRONT, BACK], [
        np("web", podSelector=BACKEND, ingress=[{"ports": [{"port": 80}]}]),
        cnp("req", endpointSelector=BACKEND, ingress=[
            {"fromRequires": [{"matchLabels": {"env": "prod"}}]}])])
    assert row(found, "default/front", "default/back", "TCP/80").allowed is None
    assert row(found, "default/front", "default/back", "TCP/80").policies == (
        "default/req", "default/web")
    deny = rows([FRONT, BACK], [cnp("req", endpointSelector=BACKEND, ingress=[
        {"fromRequires": [{"matchLabels": {"env": "prod"}}]}, {"fromEndpoints": [FRONTEND]}],
        ingressDeny=[{"fromEndpoints": [FRONTEND], "toPorts": [tcp(22)]}])])
    assert row(deny, "default/front", "default/back", "TCP/22").allowed is False
    assert row(deny, "default/front", "default/back", "TCP/23-65535").allowed is None


def test_each_row_names_only_the_policies_covering_its_ports():
    """Neighbouring ports allowed by different policies are rows of their own; ports with the
    same state and the same policies are one row; a denied port next to a not modelled one is
    denied."""
    two = rows([FRONT, BACK], [
        cnp("a80", endpointSelector=BACKEND, ingress=[{"fromEndpoints": [FRONTEND],
                                                       "toPorts": [tcp(80)]}]),
        cnp("b81", endpointSelector=BACKEND, ingress=[{"fromEndpoints": [FRONTEND],
                                                       "toPorts": [tcp(81)]}])])
    assert row(two, "default/front", "default/back", "TCP/80").policies == ("default/a80",)
    assert row(two, "default/front", "default/back", "TCP/81").policies == ("default/b81",)
    merged = rows([FRONT, BACK], [
        cnp("a", endpointSelector=BACKEND, ingress=[{"fromEndpoints": [FRONTEND],
                                                     "toPorts": [tcp(80, 81)]}]),
        cnp("b", endpointSelector=BACKEND, ingress=[{"fromEndpoints": [FRONTEND],
                                                     "toPorts": [{**tcp(81), "rules": GET}]}])])
    assert row(merged, "default/front", "default/back", "TCP/80-81").policies == ("default/a",)
    beside = rows([FRONT, BACK], [cnp("a", endpointSelector=BACKEND,
                                      ingress=[{"fromEndpoints": [FRONTEND],
                                                "toPorts": [{**tcp(80), "rules": GET}]}],
                                      ingressDeny=[{"fromEndpoints": [FRONTEND],
                                                    "toPorts": [tcp(81)]}])])
    assert verdict(beside, "default/front", "default/back", "TCP", 80) is None
    assert verdict(beside, "default/front", "default/back", "TCP", 81) is False


def test_adjacent_port_ranges_covering_every_port_are_one_row():
    """1-80 and 81-65535 on every protocol with ICMP, all behind authentication: every
    connection is not modelled, one `*` row."""
    found = rows([FRONT, BACK], [cnp("auth", endpointSelector=BACKEND, ingress=[
        {"fromEndpoints": [FRONTEND], "authentication": {"mode": "required"},
         "icmps": [{"fields": [{"type": 8}]}],
         "toPorts": [{"ports": [{"port": "1", "endPort": 80, "protocol": "ANY"},
                                {"port": "81", "endPort": 65535, "protocol": "ANY"}]}]}])])
    assert [(c.port, c.allowed, c.policies) for c in found
            if c.source == "default/front"] == [("*", None, ("default/auth",))]
