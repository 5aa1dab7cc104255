"""Benchmark: the reachability matrix for 200 pods and 100 NetworkPolicies (goal: < 2 s)."""

from __future__ import annotations

import random
import sys
import time

from aks_runbook.analysis.reachability import Pod, Port, reachability

GOAL_SECONDS = 2.0


def synthetic(pods: int = 200, policies: int = 100, namespaces: int = 10, seed: int = 7):
    rng = random.Random(seed)
    apps = [f"app{i}" for i in range(20)]
    world = [Pod(f"ns{i % namespaces}", f"pod{i}", {"app": rng.choice(apps),
                                                      "tier": rng.choice(["web", "db"])},
                 f"10.244.{i // 250}.{i % 250}", [Port("TCP", rng.choice([80, 443, 6379]))])
             for i in range(pods)]
    ns_labels = {f"ns{i}": {"team": f"t{i % 3}"} for i in range(namespaces)}
    rules = []
    for i in range(policies):
        peer = rng.choice([
            {"podSelector": {"matchLabels": {"app": rng.choice(apps)}}},
            {"namespaceSelector": {"matchLabels": {"team": f"t{rng.randrange(3)}"}}},
            {"ipBlock": {"cidr": "10.244.0.0/16", "except": ["10.244.0.0/24"]}},
        ])
        rules.append({"metadata": {"name": f"p{i}", "namespace": f"ns{i % namespaces}"},
                      "spec": {"podSelector": {"matchLabels": {"tier": rng.choice(["web", "db"])}},
                               "policyTypes": ["Ingress", "Egress"],
                               "ingress": [{"from": [peer], "ports": [{"port": 80}]}],
                               "egress": [{"to": [peer]}]}})
    return world, ns_labels, rules


def main() -> bool:
    pods, namespaces, policies = synthetic()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        connections = reachability(pods, namespaces, policies)
        best = min(best, time.perf_counter() - started)
    allowed = sum(c.allowed for c in connections)
    print(f"{len(pods)} pods, {len(policies)} policies: {len(connections)} pairs "
          f"({allowed} allowed) in {best:.2f} s (best of 3); goal < {GOAL_SECONDS} s: "
          + ("met" if best < GOAL_SECONDS else "NOT met"))
    return best < GOAL_SECONDS


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
