"""NetworkPolicy reachability: the Kubernetes documentation's examples, one test per semantic
rule on both sides of its boundary, the CLI on manifest files, and properties checked with
Hypothesis against a brute-force reading of the API.

Examples: https://kubernetes.io/docs/concepts/services-networking/network-policies/
"""

from __future__ import annotations

import json
from ipaddress import ip_address, ip_network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aks_runbook import cli
from aks_runbook.analysis.reachability import (
    OTHER,
    PROTOCOLS,
    Analyzer,
    Pod,
    PolicyError,
    Port,
    Ports,
    isolated,
    matches,
    namespace_labels,
    pods_from_api,
    port_range,
    reachability,
)
from aks_runbook.notebook import views

REDIS = Port("TCP", 6379, "redis")
HTTP = Port("TCP", 80, "http")


def policy(name, namespace="default", **spec):
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def pair(connections, source, destination):
    return [c for c in connections if (c.source, c.destination) == (source, destination)]


def allowed(connections, source, destination, port="*"):
    """The verdict of the row with exactly this port spelling."""
    hits = [c for c in pair(connections, source, destination) if c.port == port]
    assert len(hits) == 1, f"no row {source} -> {destination} {port}: " \
                           f"{[c.port for c in pair(connections, source, destination)]}"
    return hits[0].allowed


def can(connections, source, destination, protocol="TCP", number=1):
    """Whether the pair's rows allow one protocol/port (protocol OTHER: e.g. ICMP)."""
    number = 0 if protocol == OTHER else number
    for c in pair(connections, source, destination):
        found = port_range(c.port)
        if found is None or (found[0] == protocol and found[1] <= number <= found[2]):
            return c.allowed
    raise AssertionError(f"{source} -> {destination}: {protocol}/{number} in no row")


def granted(rows) -> Ports:
    """The allowed rows of one pair, as a set of connections."""
    ranges: list[list[tuple[int, int]]] = [[], [], []]
    others = False
    for c in rows:
        if not c.allowed:
            continue
        found = port_range(c.port)
        if found is None:
            return Ports((((1, 65535),),) * 3, True)
        if found[0] == OTHER:
            others = True
        else:
            ranges[PROTOCOLS.index(found[0])].append(found[1:])
    return Ports(tuple(tuple(sorted(r)) for r in ranges), others)


def assert_partition(rows):
    """A pair's rows: one `*` row, or ranges covering every port of every protocol once."""
    ports = [c.port for c in rows]
    if ports == ["*"]:
        return
    assert "*" not in ports and ports[-1] == OTHER and not rows[-1].allowed
    for protocol in PROTOCOLS:
        spans = sorted(port_range(p)[1:] for p in ports if p.startswith(protocol + "/"))
        assert spans[0][0] == 1 and spans[-1][1] == 65535
        assert all(a[1] + 1 == b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert any(c.allowed for c in rows) and all(c.policies for c in rows if c.allowed)


@pytest.fixture
def world():
    pods = [
        Pod("default", "db", {"role": "db"}, ("10.244.1.10",), [REDIS]),
        Pod("default", "frontend", {"role": "frontend"}, ("10.244.1.11",), [HTTP]),
        Pod("default", "other", {"role": "other"}, ("10.244.1.12",), []),
        Pod("myproject", "client", {"role": "client"}, ("10.244.2.10",), []),
        Pod("elsewhere", "outsider", {"role": "client"}, ("172.17.0.5",), []),
        Pod("elsewhere", "excluded", {"role": "client"}, ("172.17.1.5",), []),
    ]
    namespaces = {"default": {}, "myproject": {"project": "myproject"}, "elsewhere": {}}
    return pods, namespaces


def two_pods(*extra: Pod) -> list[Pod]:
    return [Pod("demo", "a", {"app": "a"}), Pod("demo", "b", {"app": "b"}), *extra]


# ---- the documentation's examples ---------------------------------------------------------

def test_no_policies_means_everything_is_allowed(world):
    connections = reachability(*world, [], external=True)
    assert connections and all(c.allowed and c.policies == () and c.port == "*"
                               for c in connections)
    assert len(connections) == 6 * 5 + 6 * 4  # every pair, and both families both ways


def test_docs_test_network_policy(world):
    """The docs' `test-network-policy`: ingress to role=db from an ipBlock (with except),
    namespace project=myproject and pods role=frontend on TCP 6379; egress to 10.0.0.0/24:5978."""
    doc = policy(
        "test-network-policy", podSelector={"matchLabels": {"role": "db"}},
        policyTypes=["Ingress", "Egress"],
        ingress=[{"from": [
            {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
            {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
            {"podSelector": {"matchLabels": {"role": "frontend"}}}],
            "ports": [{"protocol": "TCP", "port": 6379}]}],
        egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                 "ports": [{"protocol": "TCP", "port": 5978}]}])
    c = reachability(*world, [doc], ipblock_matches_pods=True, external=True)
    assert allowed(c, "default/frontend", "default/db", "TCP/6379")
    assert allowed(c, "myproject/client", "default/db", "TCP/6379")
    assert allowed(c, "elsewhere/outsider", "default/db", "TCP/6379")  # in the ipBlock
    assert not allowed(c, "elsewhere/excluded", "default/db")  # in `except`: nothing at all
    assert not allowed(c, "default/other", "default/db")
    assert not can(c, "default/frontend", "default/db", "TCP", 6380)
    # db's egress is limited to 10.0.0.0/24:5978, so db reaches no pod here
    assert not allowed(c, "default/db", "default/frontend")
    assert allowed(c, "default/other", "default/frontend")  # pods not selected: unaffected
    names = {x.policies for x in c if x.destination == "default/db" and x.allowed}
    assert names == {("default/test-network-policy",)}
    # outside the cluster
    assert allowed(c, "default/db", "ip/10.0.0.0/24", "TCP/5978")
    assert not allowed(c, "default/db", "ip/0.0.0.0/0") and not allowed(c, "default/db",
                                                                          "ip/::/0")
    assert allowed(c, "ip/172.17.0.0/24", "default/db", "TCP/6379")
    assert allowed(c, "ip/172.17.2.0/23", "default/db", "TCP/6379")
    assert not pair(c, "ip/172.17.1.0/24", "default/db")
    # by default (Cilium) an ipBlock matches no pod, whatever its IP
    c = reachability(*world, [doc])
    assert not allowed(c, "elsewhere/outsider", "default/db")


def test_default_deny_ingress_and_allow_all_ingress(world):
    deny = policy("default-deny-ingress", podSelector={}, policyTypes=["Ingress"])
    c = reachability(*world, [deny])
    assert not allowed(c, "default/frontend", "default/db")
    assert allowed(c, "default/db", "myproject/client")  # other namespace: not isolated
    allow = policy("allow-all-ingress", podSelector={}, ingress=[{}], policyTypes=["Ingress"])
    c = reachability(*world, [deny, allow])
    assert allowed(c, "default/frontend", "default/db")
    assert pair(c, "default/frontend", "default/db")[0].policies == ("default/allow-all-ingress",)


def test_default_deny_egress_and_allow_all_egress(world):
    deny = policy("default-deny-egress", podSelector={}, policyTypes=["Egress"])
    c = reachability(*world, [deny])
    assert not allowed(c, "default/frontend", "default/db")
    assert allowed(c, "myproject/client", "default/db")  # ingress still open
    allow = policy("allow-all-egress", podSelector={}, egress=[{}], policyTypes=["Egress"])
    assert allowed(reachability(*world, [deny, allow]), "default/frontend", "default/db")


def test_default_deny_all(world):
    deny = policy("default-deny-all", podSelector={}, policyTypes=["Ingress", "Egress"])
    c = reachability(*world, [deny], external=True)
    touching = [x for x in c if "default/" in (x.source[:8], x.destination[:8])]
    assert touching and not any(x.allowed for x in touching)
    assert allowed(c, "myproject/client", "elsewhere/outsider")


def test_match_expressions(world):
    expr = policy("expr", podSelector={"matchExpressions": [
        {"key": "role", "operator": "In", "values": ["db"]}]}, ingress=[{"from": [
            {"podSelector": {"matchExpressions": [
                {"key": "role", "operator": "NotIn", "values": ["other"]}]}}]}])
    c = reachability(*world, [expr])
    assert allowed(c, "default/frontend", "default/db")
    assert not allowed(c, "default/other", "default/db")


def test_voting_app_front_to_redis_only():
    pods = [Pod("vote", "front", {"app": "azure-vote-front"}, ("10.244.0.2",), [HTTP]),
            Pod("vote", "back", {"app": "azure-vote-back"}, ("10.244.0.3",), [REDIS]),
            Pod("vote", "intruder", {"app": "debug"}, ("10.244.0.4",), [])]
    ns = {"vote": {"kubernetes.io/metadata.name": "vote"}}
    deny = policy("default-deny-all", "vote", podSelector={}, policyTypes=["Ingress", "Egress"])
    front_out = policy("front-egress-redis", "vote",
                       podSelector={"matchLabels": {"app": "azure-vote-front"}},
                       policyTypes=["Egress"], egress=[{"to": [{"podSelector": {
                           "matchLabels": {"app": "azure-vote-back"}}}],
                           "ports": [{"protocol": "TCP", "port": 6379}]}])
    back_in = policy("back-ingress-front", "vote",
                     podSelector={"matchLabels": {"app": "azure-vote-back"}},
                     policyTypes=["Ingress"], ingress=[{"from": [{"podSelector": {
                         "matchLabels": {"app": "azure-vote-front"}}}],
                         "ports": [{"protocol": "TCP", "port": 6379}]}])
    c = list(Analyzer(pods, ns, [deny, front_out, back_in]).matrix())
    assert [(x.port, x.allowed) for x in pair(c, "vote/front", "vote/back")] == [
        ("TCP/1-6378", False), ("TCP/6379", True), ("TCP/6380-65535", False),
        ("UDP/1-65535", False), ("SCTP/1-65535", False), ("other", False)]
    hit = next(x for x in c if x.allowed)
    assert hit.policies == ("vote/back-ingress-front", "vote/front-egress-redis")
    assert not allowed(c, "vote/intruder", "vote/back")
    assert not allowed(c, "vote/back", "vote/front")
    assert sum(x.allowed for x in c) == 1
    matrix = views.reachability_matrix(c, {"vote/front": "front", "vote/back": "back",
                                           "vote/intruder": "debug"})
    assert list(matrix.columns) == ["back TCP/6379", "debug *", "front *"]
    assert matrix.loc["front", "back TCP/6379"] == "allow"
    assert matrix.loc["debug", "back TCP/6379"] == "-" and matrix.loc["back", "front *"] == "-"
    before = views.reachability_matrix(reachability(pods, ns, []), None)
    assert list(before.columns) == ["back *", "front *", "intruder *"]
    assert (before == "allow").to_numpy().sum() == 6


# ---- policyTypes defaulting -----------------------------------------------------------------

@pytest.mark.parametrize("egress", ["missing", None, []])
def test_empty_egress_without_policy_types_leaves_egress_open(egress):
    """The review's reproduction: `egress: []` (or null, or absent) adds no Egress type."""
    spec = {"podSelector": {"matchLabels": {"app": "a"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "b"}}}]}]}
    if egress != "missing":
        spec["egress"] = egress
    c = reachability(two_pods(), {}, [policy("p", "demo", **spec)], external=True)
    assert allowed(c, "demo/a", "demo/b")  # every protocol and port
    assert allowed(c, "demo/a", "ip/0.0.0.0/0")
    assert allowed(c, "demo/b", "demo/a")  # ingress from b is allowed by the rule
    assert isolated(Analyzer(two_pods(), {}, [policy("p", "demo", **spec)]),
                    two_pods()[0]) == {"ingress": True, "egress": False}


def test_non_empty_egress_without_policy_types_isolates_egress_and_ingress():
    spec = {"podSelector": {"matchLabels": {"app": "a"}},
            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "c"}}}]}]}
    c = reachability(two_pods(), {}, [policy("p", "demo", **spec)])
    assert not allowed(c, "demo/a", "demo/b")  # egress isolated, b not in `to`
    assert not allowed(c, "demo/b", "demo/a")  # Ingress is always in the defaulted types


def test_explicit_egress_type_only_leaves_ingress_open():
    spec = {"podSelector": {"matchLabels": {"app": "a"}}, "policyTypes": ["Egress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "nobody"}}}]}]}
    c = reachability(two_pods(), {}, [policy("p", "demo", **spec)])
    assert allowed(c, "demo/b", "demo/a") and not allowed(c, "demo/a", "demo/b")
    spec["policyTypes"] = ["Ingress", "Egress"]
    c = reachability(two_pods(), {}, [policy("p", "demo", **spec)])
    assert not allowed(c, "demo/b", "demo/a")


# ---- peers ----------------------------------------------------------------------------------

@pytest.fixture
def spread():
    pods = [Pod("web", "server", {"app": "server"}),
            Pod("web", "client", {"role": "client"}),
            Pod("web", "stranger", {"role": "other"}),
            Pod("team", "client", {"role": "client"}),
            Pod("team", "stranger", {"role": "other"}),
            Pod("away", "client", {"role": "client"})]
    namespaces = {"web": {}, "team": {"team": "yes"}, "away": {}}
    return pods, namespaces


def server_from(*peers):
    return policy("in", "web", podSelector={"matchLabels": {"app": "server"}},
                  ingress=[{"from": list(peers)}])


def sources(connections):
    return {c.source for c in connections if c.destination == "web/server" and c.allowed}


def test_pod_selector_peer_is_the_policy_namespace_only(spread):
    c = reachability(*spread, [server_from({"podSelector": {"matchLabels": {"role": "client"}}})])
    assert sources(c) == {"web/client"}


def test_namespace_selector_peer_is_every_pod_of_matching_namespaces(spread):
    team = {"namespaceSelector": {"matchLabels": {"team": "yes"}}}
    c = reachability(*spread, [server_from(team)])
    assert sources(c) == {"team/client", "team/stranger"}


def test_both_selectors_in_one_peer_are_and_in_two_peers_or(spread):
    both = {"namespaceSelector": {"matchLabels": {"team": "yes"}},
            "podSelector": {"matchLabels": {"role": "client"}}}
    assert sources(reachability(*spread, [server_from(both)])) == {"team/client"}
    either = [{"namespaceSelector": {"matchLabels": {"team": "yes"}}},
              {"podSelector": {"matchLabels": {"role": "client"}}}]
    assert sources(reachability(*spread, [server_from(*either)])) == {
        "team/client", "team/stranger", "web/client"}


def test_empty_namespace_selector_is_every_namespace(spread):
    c = reachability(*spread, [server_from({"namespaceSelector": {},
                                            "podSelector": {"matchLabels": {"role": "client"}}})])
    assert sources(c) == {"web/client", "team/client", "away/client"}
    by_name = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "away"}}}
    assert sources(reachability(*spread, [server_from(by_name)])) == {"away/client"}


def test_rule_without_from_or_with_empty_from_admits_everyone(spread):
    for rule in ({}, {"from": []}, {"from": None}):
        open_in = policy("in", "web", podSelector={"matchLabels": {"app": "server"}},
                         ingress=[rule])
        c = reachability(*spread, [open_in], external=True)
        assert len(sources(c)) == 5 + 2  # every other pod, and both address families
        assert allowed(c, "ip/0.0.0.0/0", "web/server") and allowed(c, "ip/::/0", "web/server")


def test_ip_block_with_except_ipv4_and_ipv6_outside_the_cluster():
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[{"to": [
                     {"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.1.0/24"]}},
                     {"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]}}]}])
    c = reachability(two_pods(), {}, [out], external=True)
    reached = {x.destination for x in c if x.source == "demo/a" and x.allowed}
    networks = [ip_network(d[3:]) for d in reached]
    assert all(x.port == "*" for x in c if x.source == "demo/a" and x.allowed)
    inside = [ip_address("10.0.0.1"), ip_address("10.0.255.1"), ip_address("2001:db8::1"),
              ip_address("2001:db8:2::1")]
    excluded = [ip_address("10.0.1.7"), ip_address("2001:db8:1::1"), ip_address("10.1.0.1"),
                ip_address("8.8.8.8")]
    assert all(any(a in n for n in networks) for a in inside)
    assert not any(a in n for a in excluded for n in networks)
    assert "ip/10.0.0.0/24" in reached and "ip/10.0.2.0/23" in reached
    assert not allowed(c, "demo/a", "ip/0.0.0.0/0") and not allowed(c, "demo/a", "ip/::/0")
    assert not allowed(c, "demo/a", "demo/b")  # ipBlocks match no pod by default


def test_ip_block_matching_pod_ips_is_an_option_with_except_and_dual_stack():
    pods = two_pods(Pod("demo", "c", {"app": "c"}, ("10.0.1.9",)),
                    Pod("demo", "d", {"app": "d"}, ("192.168.0.4", "2001:db8::4")))
    pods[1].ips = ("10.0.0.9",)
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[{"to": [
                     {"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.1.0/24"]}},
                     {"ipBlock": {"cidr": "2001:db8::/64"}}]}])
    c = reachability(pods, {}, [out], ipblock_matches_pods=True)
    assert allowed(c, "demo/a", "demo/b")  # 10.0.0.9: in the block
    assert not allowed(c, "demo/a", "demo/c")  # 10.0.1.9: in `except`
    assert allowed(c, "demo/a", "demo/d")  # its second (IPv6) address is in the block
    c = reachability(pods, {}, [out])
    assert not any(x.allowed for x in c if x.source == "demo/a")


def test_pod_ips_dual_stack_with_pod_ip_fallback():
    def item(name, status):
        return {"metadata": {"namespace": "n", "name": name}, "spec": {}, "status": status}
    pods = pods_from_api([
        item("dual", {"podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}]}),
        item("old", {"podIP": "10.0.0.2"}),
        item("pending", {}),
        item("done", {"phase": "Succeeded", "podIP": "10.0.0.3"})])
    assert [(p.name, p.ips) for p in pods] == [("dual", ("10.0.0.1", "fd00::1")),
                                               ("old", ("10.0.0.2",)), ("pending", ())]


# ---- ports ----------------------------------------------------------------------------------

def ingress_to_b(*ports, **fields):
    return policy("in", "demo", podSelector={"matchLabels": {"app": "b"}},
                  ingress=[{"ports": list(ports), **fields}])


def test_named_ports_resolve_per_destination():
    pods = [Pod("demo", "a", {"app": "a"}),
            Pod("demo", "web1", {"app": "web"}, (), [Port("TCP", 8080, "http")]),
            Pod("demo", "web2", {"app": "web"}, (), [Port("TCP", 9090, "http")]),
            Pod("demo", "web3", {"app": "web"}, (), [Port("UDP", 8080, "http")])]
    named = policy("in", "demo", podSelector={"matchLabels": {"app": "web"}},
                   ingress=[{"ports": [{"port": "http"}]}])
    c = reachability(pods, {}, [named])
    assert allowed(c, "demo/a", "demo/web1", "TCP/8080")
    assert not can(c, "demo/a", "demo/web1", "TCP", 9090)
    assert allowed(c, "demo/a", "demo/web2", "TCP/9090")
    assert not can(c, "demo/a", "demo/web2", "TCP", 8080)
    assert not allowed(c, "demo/a", "demo/web3")  # `http` is UDP there: TCP matches nothing
    udp = policy("in", "demo", podSelector={"matchLabels": {"app": "web"}},
                 ingress=[{"ports": [{"port": "http", "protocol": "UDP"}]}])
    c = reachability(pods, {}, [udp])
    assert allowed(c, "demo/a", "demo/web3", "UDP/8080")
    assert not allowed(c, "demo/a", "demo/web1")


def test_named_port_towards_an_outside_address_matches_nothing():
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[
                     {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": "https"}]}])
    pods = two_pods()
    pods[1].ports = [Port("TCP", 443, "https")]
    c = reachability(pods, {}, [out], external=True)
    assert not allowed(c, "demo/a", "ip/0.0.0.0/0")
    assert not allowed(c, "demo/a", "demo/b")  # the ipBlock matches no pod


def test_end_port_ranges():
    c = reachability(two_pods(), {}, [ingress_to_b({"port": 32000, "endPort": 32768})])
    assert allowed(c, "demo/a", "demo/b", "TCP/32000-32768")
    assert not allowed(c, "demo/a", "demo/b", "TCP/32769-65535")
    assert not allowed(c, "demo/a", "demo/b", "TCP/1-31999")


def test_protocol_defaults_to_tcp_and_udp_sctp_are_their_own():
    c = reachability(two_pods(), {}, [ingress_to_b({"port": 53}, {"protocol": "UDP", "port": 53},
                                                   {"protocol": "SCTP"})])
    assert allowed(c, "demo/a", "demo/b", "TCP/53") and allowed(c, "demo/a", "demo/b", "UDP/53")
    assert allowed(c, "demo/a", "demo/b", "SCTP/1-65535")
    assert not can(c, "demo/a", "demo/b", "UDP", 54) and not can(c, "demo/a", "demo/b", OTHER)


def test_rule_without_ports_allows_every_protocol_but_ports_exclude_icmp():
    c = reachability(two_pods(), {}, [ingress_to_b()])
    assert allowed(c, "demo/a", "demo/b")
    every = [{"protocol": p} for p in PROTOCOLS]
    c = reachability(two_pods(), {}, [ingress_to_b(*every)])
    assert [(x.port, x.allowed) for x in pair(c, "demo/a", "demo/b")] == [
        ("TCP/1-65535", True), ("UDP/1-65535", True), ("SCTP/1-65535", True), ("other", False)]


def test_undeclared_ports_are_judged_by_the_policies_alone():
    """containerPort is informational: the review's 'TCP 8080 and UDP 5000-5010' case."""
    rule = ingress_to_b({"port": 8080}, {"protocol": "UDP", "port": 5000, "endPort": 5010})
    for declared in ([], [Port("TCP", 80, "http")]):
        pods = two_pods()
        pods[1].ports = declared
        c = reachability(pods, {}, [rule])
        assert allowed(c, "demo/a", "demo/b", "TCP/8080")
        assert allowed(c, "demo/a", "demo/b", "UDP/5000-5010")
        assert not can(c, "demo/a", "demo/b", "TCP", 80)
        assert_partition(pair(c, "demo/a", "demo/b"))


# ---- combining policies ---------------------------------------------------------------------

def test_allow_all_next_to_deny_all_is_additive():
    deny = policy("deny", "demo", podSelector={}, policyTypes=["Ingress", "Egress"])
    allow = policy("allow", "demo", podSelector={}, ingress=[{}], egress=[{}])
    c = reachability(two_pods(), {}, [deny, allow])
    assert allowed(c, "demo/a", "demo/b") and allowed(c, "demo/b", "demo/a")
    assert pair(c, "demo/a", "demo/b")[0].policies == ("demo/allow",)
    assert not allowed(reachability(two_pods(), {}, [deny]), "demo/a", "demo/b")


def test_both_egress_of_source_and_ingress_of_destination_are_needed():
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[{"ports": [{"port": 80, "endPort": 90}]}])
    into = ingress_to_b({"port": 85, "endPort": 100})
    c = reachability(two_pods(), {}, [out, into])
    rows = [(x.port, x.allowed, x.policies) for x in pair(c, "demo/a", "demo/b")]
    assert rows[:3] == [("TCP/1-84", False, ()), ("TCP/85-90", True, ("demo/in", "demo/out")),
                        ("TCP/91-65535", False, ())]
    assert can(reachability(two_pods(), {}, [out]), "demo/a", "demo/b", "TCP", 81)
    assert not can(reachability(two_pods(), {}, [out]), "demo/a", "demo/b", "TCP", 91)
    assert can(reachability(two_pods(), {}, [into]), "demo/a", "demo/b", "TCP", 99)


def test_each_allowed_row_names_the_policies_allowing_all_of_it():
    one = ingress_to_b({"port": 80, "endPort": 90})
    two = policy("two", "demo", podSelector={"matchLabels": {"app": "b"}},
                 ingress=[{"ports": [{"port": 85, "endPort": 100}]}])
    c = reachability(two_pods(), {}, [one, two])
    rows = [(x.port, x.policies) for x in pair(c, "demo/a", "demo/b") if x.allowed]
    assert rows == [("TCP/80-84", ("demo/in",)), ("TCP/85-90", ("demo/in", "demo/two")),
                    ("TCP/91-100", ("demo/two",))]


def test_pod_without_policy_is_fully_open_including_outside():
    isolating = policy("in", "demo", podSelector={"matchLabels": {"app": "a"}},
                       policyTypes=["Ingress"])
    c = reachability(two_pods(), {}, [isolating], external=True)
    for source, destination in (("demo/a", "demo/b"), ("demo/b", "ip/0.0.0.0/0"),
                                ("demo/b", "ip/::/0"), ("ip/0.0.0.0/0", "demo/b"),
                                ("ip/::/0", "demo/b")):
        assert allowed(c, source, destination)
        assert pair(c, source, destination)[0].policies == ()
    assert not allowed(c, "demo/b", "demo/a") and not allowed(c, "ip/::/0", "demo/a")


def test_equal_pods_are_grouped_and_the_matrix_counts_without_expanding():
    pods = [Pod("demo", f"web-{i}", {"app": "web"}, (f"10.0.0.{i}",),
                [Port("TCP", 8080 + i % 2, "http")]) for i in range(6)]
    named = policy("in", "demo", podSelector={}, ingress=[{"ports": [{"port": "http"}]}])
    analyzer = Analyzer(pods, {}, [named])
    assert len(analyzer.classes) == 2  # the named port's number tells them apart
    matrix = analyzer.matrix(external=True)
    rows = list(matrix)
    assert len(matrix) == len(rows)
    assert allowed(rows, "demo/web-0", "demo/web-1", "TCP/8081")
    assert allowed(rows, "demo/web-1", "demo/web-2", "TCP/8080")


def test_an_invalid_cidr_is_a_policy_error():
    bad = policy("bad", "demo", podSelector={}, ingress=[{"from": [{"ipBlock": {"cidr": "x"}}]}])
    with pytest.raises(PolicyError, match="demo/bad"):
        Analyzer(two_pods(), {}, [bad])


# ---- the command, on manifest files ---------------------------------------------------------

MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: mcr.microsoft.com/azurelinux/base/nginx:1.25
        ports: [{containerPort: 8080, name: http}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: shop}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: report}}
        spec:
          containers: [{name: report, image: mcr.microsoft.com/azurelinux/busybox:1.36}]
          restartPolicy: Never
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
"""

POLICIES = {"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": {"name": "deny", "namespace": "shop"},
     "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": {"name": "report-to-web", "namespace": "shop"},
     "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {
         "matchLabels": {"app": "report"}}}], "ports": [{"port": "http"}]}],
              "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "web"}}}]},
                         {"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                                              "except": ["10.0.0.0/8"]}}],
                          "ports": [{"port": 443}]}]}}]}


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "app.yaml").write_text(MANIFESTS)
    (tmp_path / "policies.json").write_text(json.dumps(POLICIES))
    return tmp_path


def run(capsys, *args):
    code = cli.main(["reachability", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_from_files_json(folder, capsys):
    code, out, err = run(capsys, "--from-files", str(folder), "--format", "json")
    assert code == 0
    assert "ConfigMap (1)" in err
    rows = json.loads(out)
    assert all(set(r) == {"source", "destination", "port", "allowed", "policies"}
               for r in rows)
    got = {(r["source"], r["destination"], r["port"]): (r["allowed"], r["policies"])
           for r in rows}
    assert got[("shop/report", "shop/web", "TCP/8080")] == (
        True, ["shop/report-to-web"])
    assert got[("shop/web", "shop/report", "*")] == (False, [])
    assert got[("shop/web", "ip/11.0.0.0/8", "TCP/443")] == (True, ["shop/report-to-web"])
    assert got[("shop/web", "ip/0.0.0.0/0", "*")] == (False, [])
    assert got[("ip/::/0", "shop/web", "*")] == (False, [])


def test_cli_from_files_table_options_and_notes(folder, capsys):
    code, out, err = run(capsys, "--from-files", str(folder / "app.yaml"),
                         str(folder / "policies.json"), "--no-external",
                         "--ipblock-matches-pods")
    assert code == 0 and "manifests have no pod IPs" in err
    lines = out.splitlines()
    assert lines[0].split() == ["VERDICT", "SOURCE", "DESTINATION", "PORT", "POLICIES"]
    assert "ip/" not in out and any(line.startswith("allow") and "TCP/8080" in line
                                    for line in lines)


def test_cli_bad_file_exits_2_naming_it(folder, capsys):
    (folder / "broken.yaml").write_text("kind: [unclosed\n")
    code, out, err = run(capsys, "--from-files", str(folder))
    assert code == 2 and "broken.yaml" in err and out == ""


def test_cli_bad_policy_exits_2(tmp_path, capsys):
    bad = {**POLICIES["items"][0], "spec": {"podSelector": {}, "ingress": [
        {"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]}}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    code, _, err = run(capsys, "--from-files", str(tmp_path))
    assert code == 2 and "shop/deny" in err


# ---- properties -----------------------------------------------------------------------------

LABELS = st.fixed_dictionaries({}, optional={"app": st.sampled_from(["x", "y"]),
                                             "tier": st.sampled_from(["web", "db"])})
SELECTOR = st.one_of(st.just({}), st.builds(lambda labels: {"matchLabels": labels}, LABELS))
PEER = st.one_of(
    st.builds(lambda s: {"podSelector": s}, SELECTOR),
    st.builds(lambda s: {"namespaceSelector": s}, SELECTOR),
    st.builds(lambda s, n: {"podSelector": s, "namespaceSelector": n}, SELECTOR, SELECTOR),
    st.sampled_from([{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.1.0/24"]}},
                     {"ipBlock": {"cidr": "fd00::/8"}}]))
PORT = st.one_of(
    st.builds(lambda n: {"port": n}, st.sampled_from([80, 443, 8080])),
    st.builds(lambda n, p: {"port": n, "protocol": p}, st.sampled_from([53, 80]),
              st.sampled_from(PROTOCOLS)),
    st.builds(lambda n, e: {"port": n, "endPort": n + e}, st.sampled_from([80, 1000]),
              st.integers(0, 30)),
    st.builds(lambda p: {"protocol": p}, st.sampled_from(PROTOCOLS)),
    st.builds(lambda name: {"port": name}, st.sampled_from(["http", "dns"])))
RULE = st.fixed_dictionaries({}, optional={"peers": st.lists(PEER, max_size=2),
                                           "ports": st.lists(PORT, max_size=2)})
POLICY = st.fixed_dictionaries(
    {"namespace": st.sampled_from(["n1", "n2"]), "podSelector": SELECTOR},
    optional={"policyTypes": st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]),
              "ingress": st.lists(RULE, max_size=2), "egress": st.one_of(
                  st.none(), st.lists(RULE, max_size=2))})
CONTAINER_PORTS = st.lists(st.sampled_from([Port("TCP", 8080, "http"), Port("UDP", 53, "dns"),
                                            Port("TCP", 53, "dns"), Port("TCP", 9000)]),
                           max_size=2, unique=True)
POD = st.tuples(st.sampled_from(["n1", "n2"]), LABELS,
                st.sampled_from([(), ("10.0.0.5",), ("10.0.1.5", "fd00::5"), ("192.168.0.1",)]),
                CONTAINER_PORTS)


def build(raw_pods, raw_policies):
    pods = [Pod(ns, f"p{i}", labels, ips, ports)
            for i, (ns, labels, ips, ports) in enumerate(raw_pods)]
    policies = []
    for i, raw in enumerate(raw_policies):
        spec = {"podSelector": raw["podSelector"]}
        if "policyTypes" in raw:
            spec["policyTypes"] = raw["policyTypes"]
        for key, peers in (("ingress", "from"), ("egress", "to")):
            if key in raw:
                spec[key] = None if raw[key] is None else [
                    {**({peers: r["peers"]} if "peers" in r else {}),
                     **({"ports": r["ports"]} if "ports" in r else {})} for r in raw[key]]
        policies.append(policy(f"np{i}", raw["namespace"], **spec))
    return pods, {"n1": {"app": "x"}, "n2": {"tier": "db"}}, policies


# the brute-force reading of the API the analysis must agree with
def oracle(pods, namespaces, policies, source, destination, protocol, number, matching):
    def label_match(selector, labels):
        return all(labels.get(k) == v for k, v in (selector or {}).get("matchLabels", {}).items())

    def types(spec):
        return spec.get("policyTypes") or (["Ingress", "Egress"] if spec.get("egress")
                                           else ["Ingress"])

    def peer_matches(peer, pod, namespace):
        if "ipBlock" in peer:
            if not matching:
                return False
            block = peer["ipBlock"]
            return any(ip_address(ip) in ip_network(block["cidr"])
                       and not any(ip_address(ip) in ip_network(e)
                                   for e in block.get("except", [])
                                   if ip_network(e).version == ip_address(ip).version)
                       for ip in pod.ips if ip_address(ip).version == ip_network(
                           block["cidr"]).version)
        ns_labels = {**namespaces.get(pod.namespace, {}),
                     "kubernetes.io/metadata.name": pod.namespace}
        if "namespaceSelector" in peer:
            in_scope = label_match(peer["namespaceSelector"], ns_labels)
        else:
            in_scope = pod.namespace == namespace
        return in_scope and label_match(peer.get("podSelector"), pod.labels)

    def port_matches(entries, target):
        if not entries:
            return True
        for entry in entries:
            if protocol == OTHER or entry.get("protocol", "TCP") != protocol:
                continue
            port = entry.get("port")
            if port is None:
                return True
            if isinstance(port, str):
                if any(p.name == port and p.protocol == protocol and p.number == number
                       for p in target.ports):
                    return True
            elif port <= number <= entry.get("endPort", port):
                return True
        return False

    def side(kind, key, peers_key, subject, peer):
        chosen = [p for p in policies if p["metadata"]["namespace"] == subject.namespace
                  and kind in types(p["spec"])
                  and label_match(p["spec"]["podSelector"], subject.labels)]
        if not chosen:
            return True
        return any((not rule.get(peers_key) or any(peer_matches(x, peer, p["metadata"][
            "namespace"]) for x in rule[peers_key])) and port_matches(rule.get("ports"),
                                                                       destination)
                   for p in chosen for rule in p["spec"].get(key) or [])

    return (side("Egress", "egress", "to", source, destination)
            and side("Ingress", "ingress", "from", destination, source))


PROBES = [(p, n) for p in PROTOCOLS for n in (1, 52, 53, 54, 79, 80, 81, 100, 443, 1000, 1010,
                                              1030, 1031, 8080, 9000, 65535)] + [(OTHER, 0)]


@settings(max_examples=150, deadline=None)
@given(st.lists(POD, min_size=2, max_size=4), st.lists(POLICY, max_size=4), st.booleans())
def test_agrees_with_a_brute_force_reading_of_the_api(raw_pods, raw_policies, matching):
    pods, namespaces, policies = build(raw_pods, raw_policies)
    c = reachability(pods, namespaces, policies, ipblock_matches_pods=matching)
    for s in pods:
        for d in pods:
            if s is d:
                continue
            rows = pair(c, s.key, d.key)
            assert_partition(rows)
            for protocol, number in PROBES:
                assert can(c, s.key, d.key, protocol, number) == oracle(
                    pods, namespaces, policies, s, d, protocol, number, matching), (
                    s.key, d.key, protocol, number)


@settings(max_examples=100, deadline=None)
@given(st.lists(POD, min_size=2, max_size=4), st.lists(POLICY, max_size=4),
       st.sampled_from(["n1", "n2"]))
def test_adding_an_allow_all_policy_never_removes_a_connection(raw_pods, raw_policies, where):
    pods, namespaces, policies = build(raw_pods, raw_policies)
    allow_all = policy("allow-all", where, podSelector={}, ingress=[{}], egress=[{}])
    before = reachability(pods, namespaces, policies, external=True)
    after = reachability(pods, namespaces, [*policies, allow_all], external=True)
    pods_keys = [p.key for p in pods]
    for s in pods_keys:
        for d in pods_keys:
            if s != d:
                old, new = granted(pair(before, s, d)), granted(pair(after, s, d))
                assert (old & new) == old
    outside_before = {(x.source, x.destination, x.port) for x in before if x.allowed
                      and "ip/" in x.source + x.destination and x.port == "*"}
    for s, d, _ in outside_before:
        assert allowed(after, s, d)


@settings(max_examples=50, deadline=None)
@given(st.lists(POD, min_size=2, max_size=4), st.lists(POLICY, max_size=4))
def test_removing_every_policy_allows_everything(raw_pods, raw_policies):
    pods, namespaces, _ = build(raw_pods, raw_policies)
    c = reachability(pods, namespaces, [], external=True)
    assert all(x.allowed and x.port == "*" for x in c)


@settings(max_examples=50, deadline=None)
@given(st.lists(POD, min_size=2, max_size=4), st.lists(POLICY, max_size=4))
def test_a_namespace_without_policies_is_fully_open(raw_pods, raw_policies):
    """Policies only in n1: every pod of n2 is isolated in no direction, reaches and is
    reached by every address, and two n2 pods reach each other on everything."""
    pods, namespaces, policies = build(raw_pods, [{**p, "namespace": "n1"}
                                                  for p in raw_policies])
    analyzer = Analyzer(pods, namespaces, policies)
    c = reachability(pods, namespaces, policies, external=True)
    free = [p for p in pods if p.namespace == "n2"]
    for p in free:
        assert isolated(analyzer, p) == {"ingress": False, "egress": False}
        outside = [x for x in c if p.key in (x.source, x.destination)
                   and "ip/" in x.source + x.destination]
        assert {(x.port, x.allowed) for x in outside} == {("*", True)} and len(outside) == 4
        for q in free:
            if q is not p:
                assert [(x.port, x.allowed) for x in pair(c, p.key, q.key)] == [("*", True)]


# ---- added for mutation testing: edges of selectors, port sets, blocks and attribution -------

@pytest.mark.parametrize("expression, labels, expected", [
    ({"operator": "In", "values": ["db"]}, {"tier": "db"}, True),
    ({"operator": "In", "values": ["db"]}, {"tier": "web"}, False),
    ({"operator": "In", "values": ["db"]}, {}, False),
    ({"operator": "NotIn", "values": ["db"]}, {"tier": "web"}, True),
    ({"operator": "NotIn", "values": ["db"]}, {}, True),
    ({"operator": "NotIn", "values": ["db"]}, {"tier": "db"}, False),
    ({"operator": "Exists"}, {"tier": "db"}, True),
    ({"operator": "Exists"}, {}, False),
    ({"operator": "DoesNotExist"}, {}, True),
    ({"operator": "DoesNotExist"}, {"tier": "db"}, False),
    ({"operator": "exists"}, {"tier": "db"}, False),  # not an operator: matches nothing
])
def test_match_expression_operators(expression, labels, expected):
    selector = {"matchExpressions": [{"key": "tier", **expression}]}
    assert matches(selector, labels) is expected
    assert matches({**selector, "matchLabels": {"app": "x"}}, {**labels, "app": "x"}) is expected


def test_absent_and_empty_selectors_match_everything():
    assert matches(None, {}) and matches({}, {"a": "b"}) and matches({"matchLabels": {}}, {})
    assert not matches({"matchLabels": {"a": "b"}}, {})


def test_port_range_spelling():
    assert port_range("*") is None
    assert port_range(OTHER) == (OTHER, 0, 0)
    assert port_range("UDP/5000-5010") == ("UDP", 5000, 5010)
    assert port_range("TCP/80") == ("TCP", 80, 80)


def rows_to_b(*ports: dict, pods=None) -> list[tuple[str, bool]]:
    c = reachability(pods or two_pods(), {}, [ingress_to_b(*ports)])
    return [(x.port, x.allowed) for x in pair(c, "demo/a", "demo/b")]


@pytest.mark.parametrize("ports, expected", [
    ([{"port": 80}, {"port": 81}], [("TCP/1-79", False), ("TCP/80-81", True),
                                    ("TCP/82-65535", False)]),
    ([{"port": 80}, {"port": 82}], [("TCP/1-79", False), ("TCP/80", True), ("TCP/81", False),
                                    ("TCP/82", True), ("TCP/83-65535", False)]),
    ([{"port": 80, "endPort": 90}, {"port": 85, "endPort": 100}],
     [("TCP/1-79", False), ("TCP/80-100", True), ("TCP/101-65535", False)]),
    ([{"port": 80, "endPort": 90}, {"port": 80}],
     [("TCP/1-79", False), ("TCP/80-90", True), ("TCP/91-65535", False)]),
    ([{"port": 1}, {"port": 65535}], [("TCP/1", True), ("TCP/2-65534", False),
                                      ("TCP/65535", True)]),
    ([{"port": 65534}], [("TCP/1-65533", False), ("TCP/65534", True), ("TCP/65535", False)]),
    ([{"port": 0}, {"port": 70000}, {"port": 443}], [("TCP/1-442", False), ("TCP/443", True),
                                                     ("TCP/444-65535", False)]),
    ([{"protocol": "ICMP"}, {"port": 443}], [("TCP/1-442", False), ("TCP/443", True),
                                             ("TCP/444-65535", False)]),
])
def test_port_sets_merge_split_and_stop_at_the_edges(ports, expected):
    assert rows_to_b(*ports)[:len(expected)] == expected


def test_intersecting_port_sets_keeps_every_common_piece():
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[{"ports": [
                     {"port": 10, "endPort": 20}, {"port": 30, "endPort": 40},
                     {"port": 50, "endPort": 60}]}])
    into = ingress_to_b({"port": 15, "endPort": 35}, {"port": 38, "endPort": 55})
    c = reachability(two_pods(), {}, [out, into])
    assert [x.port for x in pair(c, "demo/a", "demo/b") if x.allowed] == [
        "TCP/15-20", "TCP/30-35", "TCP/38-40", "TCP/50-55"]


def test_one_policy_on_both_sides_is_named_once_per_row():
    """x allows a's egress on 80-90 and b's ingress on 80-85; z allows b's ingress on 80-90:
    80-90 is one row allowed by both, though x's ingress range ends inside it."""
    x = policy("x", "demo", podSelector={}, policyTypes=["Ingress", "Egress"],
               egress=[{"ports": [{"port": 80, "endPort": 90}]}],
               ingress=[{"ports": [{"port": 80, "endPort": 85}]}])
    z = policy("z", "demo", podSelector={}, ingress=[{"ports": [{"port": 80, "endPort": 90}]}])
    c = reachability(two_pods(), {}, [x, z])
    assert [(r.port, r.policies) for r in pair(c, "demo/a", "demo/b") if r.allowed] == [
        ("TCP/80-90", ("demo/x", "demo/z"))]


def test_attribution_cuts_where_a_policy_range_ends_inside_another():
    one = ingress_to_b({"port": 80, "endPort": 99})
    two = policy("two", "demo", podSelector={"matchLabels": {"app": "b"}},
                 ingress=[{"ports": [{"port": 80, "endPort": 100}]}])
    c = reachability(two_pods(), {}, [one, two])
    assert [(r.port, r.policies) for r in pair(c, "demo/a", "demo/b") if r.allowed] == [
        ("TCP/80-99", ("demo/in", "demo/two")), ("TCP/100", ("demo/two",))]


def test_peers_of_different_rules_are_told_apart():
    pods = two_pods(Pod("demo", "c", {"app": "c"}))
    into = ingress_to_b()
    into["spec"]["ingress"] = [
        {"from": [{"podSelector": {"matchLabels": {"app": "a"}}}], "ports": [{"port": 80}]},
        {"from": [{}, {"podSelector": {"matchLabels": {"app": "c"}}}], "ports": [{"port": 443}]}]
    c = reachability(pods, {}, [into])
    assert [x.port for x in pair(c, "demo/a", "demo/b") if x.allowed] == ["TCP/80"]
    assert [x.port for x in pair(c, "demo/c", "demo/b") if x.allowed] == ["TCP/443"]


def test_a_policy_without_namespace_is_in_default():
    pods = [Pod("default", "a", {}), Pod("default", "b", {}), Pod("demo", "c", {})]
    deny = {"metadata": {"name": "deny"}, "spec": {"podSelector": {}}}
    c = reachability(pods, {}, [deny])
    assert not allowed(c, "default/a", "default/b")
    assert allowed(c, "default/a", "demo/c")


def test_isolation_reports_each_direction():
    egress_only = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                         policyTypes=["Egress"])
    pods = two_pods()
    analyzer = Analyzer(pods, {}, [egress_only])
    assert isolated(analyzer, pods[0]) == {"ingress": False, "egress": True}
    assert isolated(analyzer, pods[1]) == {"ingress": False, "egress": False}


def test_egress_named_ports_resolve_against_the_destination_pod():
    pods = two_pods()
    pods[1].ports = [Port("TCP", 8080, "http")]
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[{"ports": [{"port": "http"}]}])
    c = reachability(pods, {}, [out])
    assert allowed(c, "demo/a", "demo/b", "TCP/8080")


def test_cached_rows_of_one_ingress_side_are_not_reused_for_another_egress_side():
    pods = two_pods(Pod("demo", "c", {"app": "c"}))
    out_a = policy("out-a", "demo", podSelector={"matchLabels": {"app": "a"}},
                   policyTypes=["Egress"], egress=[{"ports": [{"port": 80}]}])
    out_c = policy("out-c", "demo", podSelector={"matchLabels": {"app": "c"}},
                   policyTypes=["Egress"], egress=[{"ports": [{"port": 443}]}])
    into = ingress_to_b({"port": 80}, {"port": 443})
    c = reachability(pods, {}, [out_a, out_c, into])
    assert [x.port for x in pair(c, "demo/a", "demo/b") if x.allowed] == ["TCP/80"]
    assert [x.port for x in pair(c, "demo/c", "demo/b") if x.allowed] == ["TCP/443"]


def test_ingress_named_ports_from_outside_resolve_against_the_destination():
    pods = two_pods()
    pods[1].ports = [Port("TCP", 8080, "http")]
    into = ingress_to_b()
    into["spec"]["ingress"] = [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                                "ports": [{"port": "http"}]}]
    c = reachability(pods, {}, [into], external=True)
    assert [(x.source, x.port, x.allowed) for x in c if x.destination == "demo/b"
            and x.source.startswith("ip/")] == [
        ("ip/10.0.0.0/8", "TCP/8080", True), ("ip/0.0.0.0/0", "*", False),
        ("ip/::/0", "*", False)]


def test_egress_to_outside_merges_rules_blocks_and_ports():
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[
                     {"to": [{"ipBlock": {"cidr": "10.0.0.0/9"}}], "ports": [{"port": "dns"}]},
                     {"to": [{"ipBlock": {"cidr": "10.0.0.0/9"}}], "ports": [{"port": 80}]},
                     {"to": [{"ipBlock": {"cidr": "10.128.0.0/9"}}], "ports": [{"port": 80}]},
                     {"to": [{"ipBlock": {"cidr": "10.0.0.0/9"}}], "ports": [{"port": 443}]},
                     {"to": [{"ipBlock": {"cidr": "10.128.0.0/9"}}],
                      "ports": [{"port": 443}]}])
    c = reachability(two_pods(), {}, [out], external=True)
    assert [(x.destination, x.port) for x in c if x.source == "demo/a"
            and x.destination.startswith("ip/") and x.allowed] == [
        ("ip/10.0.0.0/8", "TCP/80"), ("ip/10.0.0.0/8", "TCP/443")]


def test_single_addresses_between_blocks_and_except_holes():
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[{"to": [
                     {"ipBlock": {"cidr": "10.0.0.0/31"}},
                     {"ipBlock": {"cidr": "10.0.0.3/32"}},
                     {"ipBlock": {"cidr": "192.168.0.1/30",  # host bits: the /30
                                  "except": ["fd00::/8", "192.168.0.1/31", "192.168.0.3"]}}]}])
    c = reachability(two_pods(), {}, [out], external=True)
    assert [x.destination for x in c if x.source == "demo/a" and x.allowed
            and x.destination.startswith("ip/")] == [
        "ip/10.0.0.0/31", "ip/10.0.0.3/32", "ip/192.168.0.2/32"]


def test_ip_blocks_match_pods_only_when_asked_and_skip_bad_ips():
    pods = [Pod("demo", "a", {"app": "a"}, ("not-an-ip", "10.1.2.3")), Pod("demo", "b", {})]
    into = policy("in", "demo", podSelector={}, policyTypes=["Ingress"],
                  ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}])
    assert allowed(reachability(pods, {}, [into], ipblock_matches_pods=True), "demo/a", "demo/b")
    assert not allowed(Analyzer(pods, {}, [into]).matrix(), "demo/a", "demo/b")


def test_the_matrix_length_counts_pairs_of_different_classes():
    pods = [Pod("demo", f"a{i}", {"app": "a"}) for i in range(3)] + [Pod("demo", "b", {})]
    deny = policy("deny", "demo", podSelector={"matchLabels": {"app": "a"}},
                  policyTypes=["Ingress"])
    matrix = Analyzer(pods, {}, [deny]).matrix(external=True)
    assert len(matrix) == len(list(matrix)) == 4 * 3 + 4 * 4


def test_namespace_labels_and_pods_from_the_api():
    assert namespace_labels([{"metadata": {"name": "a", "labels": {"team": "x"}}},
                             {"metadata": {"name": "b"}}]) == {"a": {"team": "x"}, "b": {}}
    items = [{"metadata": {"name": n, "namespace": "demo"}, "status": {"phase": phase}}
             for n, phase in (("done", "Succeeded"), ("crashed", "Failed"), ("up", "Running"))]
    items[2]["spec"] = {"containers": [{"ports": [
        {"containerPort": 53, "protocol": "UDP", "name": "dns"}, {"containerPort": 80}]}]}
    [up] = pods_from_api(items)
    assert (up.name, up.ports) == ("up", [Port("UDP", 53, "dns"), Port("TCP", 80, None)])


def test_an_ip_block_without_a_cidr_is_a_policy_error_naming_it():
    bad = policy("bad", "demo", podSelector={}, ingress=[{"from": [
        {"ipBlock": {"except": ["10.0.0.0/8"]}}]}])
    with pytest.raises(PolicyError, match="NetworkPolicy demo/bad: ipBlock '': "):
        Analyzer(two_pods(), {}, [bad])


def test_a_named_port_of_the_source_itself_does_not_name_an_outside_port():
    pods = two_pods()
    pods[0].ports = [Port("TCP", 443, "https")]
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[
                     {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": "https"}]}])
    c = reachability(pods, {}, [out], external=True)
    assert [(x.destination, x.port, x.allowed) for x in c if x.source == "demo/a"
            and x.destination.startswith("ip/")] == [("ip/0.0.0.0/0", "*", False),
                                                     ("ip/::/0", "*", False)]


def test_outside_rows_of_pods_with_different_egress_are_their_own():
    to = {"a": "10.0.0.0/8", "b": "192.168.0.0/16"}
    policies = [policy(f"out-{name}", "demo", podSelector={"matchLabels": {"app": name}},
                       policyTypes=["Egress"], egress=[{"to": [{"ipBlock": {"cidr": cidr}}]}])
                for name, cidr in to.items()]
    c = reachability(two_pods(), {}, policies, external=True)
    for name, cidr in to.items():
        assert [x.destination for x in c if x.source == f"demo/{name}" and x.allowed
                and x.destination.startswith("ip/")] == [f"ip/{cidr}"]


def test_a_policy_ending_just_before_the_allowed_ports_is_not_named():
    e1 = policy("e1", "demo", podSelector={"matchLabels": {"app": "a"}}, policyTypes=["Egress"],
                egress=[{"ports": [{"port": 60, "endPort": 69}]}])
    e2 = policy("e2", "demo", podSelector={"matchLabels": {"app": "a"}}, policyTypes=["Egress"],
                egress=[{"ports": [{"port": 70, "endPort": 90}]}])
    into = ingress_to_b({"port": 70, "endPort": 90})
    c = reachability(two_pods(), {}, [e1, e2, into])
    assert [(x.port, x.policies) for x in pair(c, "demo/a", "demo/b") if x.allowed] == [
        ("TCP/70-90", ("demo/e2", "demo/in"))]


def test_every_address_on_some_ports_is_not_every_address_on_every_port():
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[{"ports": [{"port": 80}]}])
    c = reachability(two_pods(), {}, [out], external=True)
    assert [(x.destination, x.port, x.allowed) for x in c if x.source == "demo/a"
            and x.destination.startswith("ip/")] == [
        ("ip/0.0.0.0/0", "TCP/80", True), ("ip/0.0.0.0/0", "*", False),
        ("ip/::/0", "TCP/80", True), ("ip/::/0", "*", False)]


def test_an_ipv4_mapped_ipv6_ip_block_reaches_every_ipv4_address():
    """::ffff:0:0/96 is every IPv4 address to Go's net.IPNet.Contains, in which CNIs read
    ipBlocks: the pod reaches the IPv4 Internet, not an IPv6 range no packet comes from."""
    front = Pod("default", "front", {"a": "b"})
    policy = {"metadata": {"name": "out", "namespace": "default"}, "spec": {
        "podSelector": {}, "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "::ffff:0:0/96"}}]}]}}
    found = {(c.destination, c.port): c.allowed
             for c in Analyzer([front], {}, [policy]).matrix(True) if c.source == "default/front"}
    assert found == {("ip/0.0.0.0/0", "*"): True, ("ip/::/0", "*"): False}


def test_a_host_network_pod_is_reachable_whatever_policy_selects_it():
    """Kubernetes docs "Network Policies" (NetworkPolicy and hostNetwork pods): a deny-all does
    not isolate a pod on the node's network; its pod-network neighbour stays isolated."""
    def api_pod(name, host_network):
        return {"metadata": {"name": name, "namespace": "default", "labels": {"app": "x"}},
                "spec": {"hostNetwork": host_network, "containers": []},
                "status": {"phase": "Running"}}
    pods = pods_from_api([api_pod("agent", True), api_pod("web", False)])
    deny = {"metadata": {"name": "deny", "namespace": "default"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    cnp_deny = {"kind": "CiliumNetworkPolicy", "metadata": {"name": "c", "namespace": "default"},
                "spec": {"endpointSelector": {}, "ingress": [{}], "egress": [{}]}}
    for policy in (deny, cnp_deny):
        analyzer = Analyzer(pods, {}, [policy])
        assert analyzer.isolation(pods[0]) == {"ingress": False, "egress": False}
        assert analyzer.isolation(pods[1]) == {"ingress": True, "egress": True}


def cilium_policy(name, **spec):
    return {"kind": "CiliumNetworkPolicy", "metadata": {"name": name, "namespace": "demo"},
            "spec": spec}


def outside_rows(connections, source):
    return [(c.destination, c.port, c.allowed, c.policies) for c in connections
            if c.source == source and c.destination.startswith("ip/")]


def test_an_egress_deny_leaves_the_rest_of_the_address_space_open_to_its_very_edges():
    """Without default deny every address is allowed but 10.0.0.0/8: the rows reach 0.0.0.0
    and 255.255.255.255 (the first and last blocks), and IPv6 stays open as a whole."""
    deny = cilium_policy("no-10", endpointSelector={"matchLabels": {"app": "a"}},
                         enableDefaultDeny={"egress": False},
                         egressDeny=[{"toCIDR": ["10.0.0.0/8"]}])
    c = reachability(two_pods(), {}, [deny], external=True)
    allowed = [f"ip/{n}" for n in ("0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6",
                                   "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1")]
    assert outside_rows(c, "demo/a") == [
        *[(network, "*", True, ()) for network in allowed],
        ("ip/0.0.0.0/0", "*", False, ()), ("ip/::/0", "*", True, ())]


def test_to_requires_makes_a_network_policy_s_outside_allow_not_modelled():
    """A Cilium policy with toRequires narrows every allow of the pod, a NetworkPolicy's
    ipBlock too: that address is not modelled (None), naming both policies."""
    out = policy("out", "demo", podSelector={"matchLabels": {"app": "a"}},
                 policyTypes=["Egress"], egress=[{"to": [{"ipBlock": {"cidr": "20.1.1.1/32"}}]}])
    requires = cilium_policy("req", endpointSelector={"matchLabels": {"app": "a"}},
                             egress=[{"toRequires": [{"matchLabels": {"env": "prod"}}]}])
    c = reachability(two_pods(), {}, [out, requires], external=True)
    assert outside_rows(c, "demo/a") == [
        ("ip/20.1.1.1/32", "*", None, ("demo/out", "demo/req")),
        ("ip/0.0.0.0/0", "*", False, ()), ("ip/::/0", "*", False, ())]


def test_a_cilium_policy_selects_api_pods_by_their_service_account():
    """A pod without serviceAccountName runs as `default`: a Cilium policy selecting that
    account isolates the ingress of that pod only."""
    items = [{"metadata": {"namespace": "demo", "name": "web"}, "spec": {
                 "serviceAccountName": "web"}},
             {"metadata": {"namespace": "demo", "name": "plain"}, "spec": {}}]
    deny_default = cilium_policy("closed", endpointSelector={"matchLabels": {
        "io.cilium.k8s.policy.serviceaccount": "default"}}, ingress=[{}])
    c = reachability(pods_from_api(items), {}, [deny_default])
    assert {(x.source, x.destination, x.allowed) for x in c} == {
        ("demo/web", "demo/plain", False), ("demo/plain", "demo/web", True)}


def test_a_cilium_named_port_from_outside_resolves_against_the_destination():
    pods = [Pod("demo", "a", {"app": "a"}, ports=[HTTP]), Pod("demo", "b", {"app": "b"})]
    web = cilium_policy("web", endpointSelector={"matchLabels": {"app": "a"}}, ingress=[
        {"fromEntities": ["world"], "toPorts": [{"ports": [{"port": "http", "protocol": "TCP"}]}]}])
    c = reachability(pods, {}, [web], external=True)
    assert [(x.source, x.port, x.allowed, x.policies) for x in c if x.destination == "demo/a"] == [
        ("ip/0.0.0.0/0", "TCP/80", True, ("demo/web",)), ("ip/0.0.0.0/0", "*", False, ()),
        ("ip/::/0", "TCP/80", True, ("demo/web",)), ("ip/::/0", "*", False, ()),
        ("demo/b", "*", False, ())]
