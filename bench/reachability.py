"""Benchmark: the full reachability matrix (pod pairs and outside peers) for 2,000 pods and
1,000 NetworkPolicies in 10 namespaces (goal: <= 5 s). Expanding every row is timed apart."""

from __future__ import annotations

import random
import sys
import time

from aks_runbook.analysis.reachability import Analyzer, Pod, Port

GOAL_SECONDS = 5.0
TIERS = ["web", "api", "db", "cache", "worker"]


def synthetic(pods: int = 2000, policies: int = 1000, namespaces: int = 10, workloads: int = 200,
              seed: int = 7) -> tuple[list[Pod], dict[str, dict[str, str]], list[dict]]:
    """Pods of ~200 workloads (Deployments, one in ten a StatefulSet whose pods carry their
    own name as a label) with replicas, named and numbered ports, dual-stack IPs; per
    namespace a default deny, DNS egress, and allows between workloads with port numbers,
    ranges and named ports, namespace selectors, and ipBlocks to and from outside."""
    rng = random.Random(seed)
    names = [f"ns{i}" for i in range(namespaces)]
    ns_labels = {n: {"team": f"t{i % 3}", "env": "prod" if i % 2 else "dev"}
                 for i, n in enumerate(names)}
    shapes = []
    for w in range(workloads):
        ports = [Port("TCP", rng.choice([8080, 8443, 3000]), "http"), Port("TCP", 9090, "metrics")]
        if w % 7 == 0:
            ports.append(Port("UDP", 5353, "mdns"))
        shapes.append((names[w % namespaces], f"app{w}", rng.choice(TIERS), ports, w % 10 == 0))
    replicas = [1] * workloads
    for _ in range(pods - workloads):
        replicas[rng.randrange(workloads)] += 1
    world = []
    for (namespace, app, tier, ports, stateful), count in zip(shapes, replicas, strict=True):
        for r in range(count):
            n = len(world)
            labels = {"app": app, "tier": tier, "pod-template-hash": f"{hash(app) % 99999}"}
            if stateful:
                labels["statefulset.kubernetes.io/pod-name"] = f"{app}-{r}"
            ips = (f"10.244.{n // 250}.{n % 250}",) + ((f"fd00::{n:x}",) if n % 2 else ())
            world.append(Pod(namespace, f"{app}-{r}", labels, ips, ports))
    rules: list[dict] = []

    def add(namespace: str, spec: dict) -> None:
        rules.append({"metadata": {"name": f"p{len(rules)}", "namespace": namespace},
                      "spec": spec})

    for namespace in names:
        add(namespace, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
        add(namespace, {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
             "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]})
    while len(rules) < policies:
        namespace = names[len(rules) % namespaces]
        mine = [s for s in shapes if s[0] == namespace]
        target = rng.choice(mine)
        peer = rng.choice([
            {"podSelector": {"matchLabels": {"app": rng.choice(mine)[1]}}},
            {"podSelector": {"matchLabels": {"tier": rng.choice(TIERS)}}},
            {"namespaceSelector": {"matchLabels": {"team": f"t{rng.randrange(3)}"}}},
            {"namespaceSelector": {"matchLabels": {"env": "prod"}},
             "podSelector": {"matchLabels": {"tier": rng.choice(TIERS)}}},
            {"ipBlock": {"cidr": "10.1.0.0/16", "except": ["10.1.255.0/24"]}},
        ])
        ports = rng.choice([[{"port": "http"}], [{"port": "metrics"}, {"port": 8080}],
                            [{"port": 30000, "endPort": 30100}],
                            [{"protocol": "UDP", "port": 5000, "endPort": 5010}], []])
        kind = rng.random()
        if kind < 0.6:
            add(namespace, {"podSelector": {"matchLabels": {"app": target[1]}},
                            "ingress": [{"from": [peer], "ports": ports}]})
        elif kind < 0.85:
            to = [peer] if "ipBlock" not in peer else [{"podSelector": {}}]
            add(namespace, {"podSelector": {"matchLabels": {"app": target[1]}},
                            "policyTypes": ["Egress"], "egress": [{"to": to, "ports": ports}]})
        else:
            add(namespace, {"podSelector": {"matchLabels": {"tier": target[2]}},
                            "policyTypes": ["Egress"], "egress": [
                                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [
                                    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
                                 "ports": [{"port": 443}]},
                                {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}},
                                        {"ipBlock": {"cidr": "fd12::/16"}}],
                                 "ports": [{"port": 5432}]}]})
    return world, ns_labels, rules


def main() -> bool:
    pods, namespaces, policies = synthetic()
    best, matrix = float("inf"), None
    for _ in range(3):
        started = time.perf_counter()
        analyzer = Analyzer(pods, namespaces, policies)
        matrix = analyzer.matrix(external=True)
        rows = len(matrix)
        best = min(best, time.perf_counter() - started)
    assert matrix is not None
    started = time.perf_counter()
    allowed = sum(c.allowed for c in matrix)
    expand = time.perf_counter() - started
    pairs = len(pods) * (len(pods) - 1)
    print(f"{len(pods)} pods ({len(analyzer.classes)} classes), {len(policies)} policies: "
          f"{pairs:,} pod pairs, {rows:,} rows with outside peers; matrix in {best:.2f} s "
          f"(best of 3); goal <= {GOAL_SECONDS} s: " + ("met" if best <= GOAL_SECONDS
                                                        else "NOT met"))
    print(f"expanding all {rows:,} rows ({allowed:,} allowed) into Connection objects: "
          f"{expand:.1f} s")
    return best <= GOAL_SECONDS


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
