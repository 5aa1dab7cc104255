"""NetworkPolicy reachability, checked against the Kubernetes documentation's examples.

Examples: https://kubernetes.io/docs/concepts/services-networking/network-policies/
"""

from __future__ import annotations

import pytest

from aks_runbook.analysis.reachability import Analyzer, Pod, Port, reachability

REDIS = Port("TCP", 6379, "redis")
HTTP = Port("TCP", 80, "http")


def policy(name, namespace="default", **spec):
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def allowed(connections, source, destination, port="*"):
    hits = [c for c in connections
            if (c.source, c.destination, c.port) == (source, destination, port)]
    assert len(hits) == 1, f"no such pair {source} -> {destination} {port}"
    return hits[0].allowed


@pytest.fixture
def world():
    pods = [
        Pod("default", "db", {"role": "db"}, "10.244.1.10", [REDIS]),
        Pod("default", "frontend", {"role": "frontend"}, "10.244.1.11", [HTTP]),
        Pod("default", "other", {"role": "other"}, "10.244.1.12", []),
        Pod("myproject", "client", {"role": "client"}, "10.244.2.10", []),
        Pod("elsewhere", "outsider", {"role": "client"}, "172.17.0.5", []),
        Pod("elsewhere", "excluded", {"role": "client"}, "172.17.1.5", []),
    ]
    namespaces = {"default": {}, "myproject": {"project": "myproject"}, "elsewhere": {}}
    return pods, namespaces


def test_no_policies_means_everything_is_allowed(world):
    connections = reachability(*world, [])
    assert connections and all(c.allowed and c.policies == () for c in connections)


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
    c = reachability(*world, [doc])
    assert allowed(c, "default/frontend", "default/db", "TCP/6379")
    assert allowed(c, "myproject/client", "default/db", "TCP/6379")
    assert allowed(c, "elsewhere/outsider", "default/db", "TCP/6379")  # in the ipBlock
    assert not allowed(c, "elsewhere/excluded", "default/db", "TCP/6379")  # in `except`
    assert not allowed(c, "default/other", "default/db", "TCP/6379")
    # db's egress is limited to 10.0.0.0/24:5978, so db reaches no pod here
    assert not allowed(c, "default/db", "default/frontend", "TCP/80")
    # pods the policy does not select are unaffected
    assert allowed(c, "default/other", "default/frontend", "TCP/80")
    names = [x.policies for x in c if x.destination == "default/db" and x.allowed]
    assert all(p == ("default/test-network-policy",) for p in names)


def test_default_deny_ingress_and_allow_all_ingress(world):
    deny = policy("default-deny-ingress", podSelector={}, policyTypes=["Ingress"])
    c = reachability(*world, [deny])
    assert not allowed(c, "default/frontend", "default/db", "TCP/6379")
    assert allowed(c, "default/db", "myproject/client")  # other namespace: not isolated
    allow = policy("allow-all-ingress", podSelector={}, ingress=[{}], policyTypes=["Ingress"])
    c = reachability(*world, [deny, allow])
    assert allowed(c, "default/frontend", "default/db", "TCP/6379")


def test_default_deny_egress_and_allow_all_egress(world):
    deny = policy("default-deny-egress", podSelector={}, policyTypes=["Egress"])
    c = reachability(*world, [deny])
    assert not allowed(c, "default/frontend", "default/db", "TCP/6379")
    assert allowed(c, "myproject/client", "default/db", "TCP/6379")  # ingress still open
    allow = policy("allow-all-egress", podSelector={}, egress=[{}], policyTypes=["Egress"])
    assert allowed(reachability(*world, [deny, allow]), "default/frontend", "default/db",
                   "TCP/6379")


def test_default_deny_all(world):
    deny = policy("default-deny-all", podSelector={}, policyTypes=["Ingress", "Egress"])
    c = reachability(*world, [deny])
    assert not any(x.allowed for x in c if "default/" in (x.source + x.destination)
                   and (x.source.startswith("default/") or x.destination.startswith("default/")))


def test_namespace_and_pod_selector_in_one_peer_is_and_in_two_peers_is_or(world):
    both = policy("and", podSelector={"matchLabels": {"role": "db"}}, ingress=[{"from": [
        {"namespaceSelector": {"matchLabels": {"project": "myproject"}},
         "podSelector": {"matchLabels": {"role": "frontend"}}}]}])
    c = reachability(*world, [both])
    assert not allowed(c, "myproject/client", "default/db", "TCP/6379")  # role != frontend
    assert not allowed(c, "default/frontend", "default/db", "TCP/6379")  # wrong namespace
    either = policy("or", podSelector={"matchLabels": {"role": "db"}}, ingress=[{"from": [
        {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
        {"podSelector": {"matchLabels": {"role": "frontend"}}}]}])
    c = reachability(*world, [either])
    assert allowed(c, "myproject/client", "default/db", "TCP/6379")
    assert allowed(c, "default/frontend", "default/db", "TCP/6379")


def test_port_ranges_named_ports_and_protocols(world):
    pods, namespaces = world
    pods = pods + [Pod("default", "multi", {"role": "multi"}, "10.244.1.20",
                       [Port("TCP", 32000), Port("TCP", 32769), Port("UDP", 32100)])]
    ranged = policy("range", podSelector={"matchLabels": {"role": "multi"}}, ingress=[
        {"ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}]}])
    named = policy("named", podSelector={"matchLabels": {"role": "db"}}, ingress=[
        {"ports": [{"port": "redis"}]}])
    c = reachability(pods, namespaces, [ranged, named])
    assert allowed(c, "default/other", "default/multi", "TCP/32000")
    assert not allowed(c, "default/other", "default/multi", "TCP/32769")
    assert not allowed(c, "default/other", "default/multi", "UDP/32100")
    assert allowed(c, "default/other", "default/db", "TCP/6379")


def test_match_expressions(world):
    expr = policy("expr", podSelector={"matchExpressions": [
        {"key": "role", "operator": "In", "values": ["db"]}]}, ingress=[{"from": [
            {"podSelector": {"matchExpressions": [
                {"key": "role", "operator": "NotIn", "values": ["other"]}]}}]}])
    c = reachability(*world, [expr])
    assert allowed(c, "default/frontend", "default/db", "TCP/6379")
    assert not allowed(c, "default/other", "default/db", "TCP/6379")


def test_voting_app_front_to_redis_only(world):
    pods = [Pod("vote", "front", {"app": "azure-vote-front"}, "10.244.0.2", [HTTP]),
            Pod("vote", "back", {"app": "azure-vote-back"}, "10.244.0.3", [REDIS]),
            Pod("vote", "intruder", {"app": "debug"}, "10.244.0.4", [])]
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
    analyzer = Analyzer(pods, ns, [deny, front_out, back_in])
    c = analyzer.matrix()
    assert allowed(c, "vote/front", "vote/back", "TCP/6379")
    hit = next(x for x in c if x.source == "vote/front" and x.destination == "vote/back")
    assert hit.policies == ("vote/back-ingress-front", "vote/front-egress-redis")
    assert not allowed(c, "vote/intruder", "vote/back", "TCP/6379")
    assert not allowed(c, "vote/back", "vote/front", "TCP/80")
    assert sum(x.allowed for x in c) == 1
