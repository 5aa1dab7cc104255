"""Benchmark: posture on manifest files, 5,000 objects, load + all checks (goal: <= 3 s)."""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

from aks_runbook import checks
from aks_runbook.cluster.objects import load_files

GOAL_SECONDS = 3.0
NAMESPACES = 38  # 125 objects each, plus 250 cluster-scoped: 5,000 in all


def namespace_objects(ns: str, rng: random.Random) -> list[dict]:
    """125 objects of one namespace: 40 Deployments and their Services, 20 NetworkPolicies,
    10 Ingresses, 10 TLS Secrets, 2 Roles and 2 RoleBindings, and the Namespace."""
    objects: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]
    for i in range(40):
        labels = {"app": f"app{i}", "tier": rng.choice(["web", "db"])}
        image = rng.choice(["mcr.microsoft.com/oss/nginx:1.27", "nginx:1.27",
                            "myacr.azurecr.io/app:1"])
        objects.append({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": f"app{i}", "namespace": ns},
                        "spec": {"selector": {"matchLabels": labels}, "template": {
                            "metadata": {"labels": labels},
                            "spec": {"initContainers": [{"name": "init", "image": "busybox"}],
                                     "containers": [{"name": "c", "image": image,
                                                     "ports": [{"containerPort": 8080}]}]}}}})
        objects.append({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": f"app{i}", "namespace": ns},
                        "spec": {"type": rng.choice(["ClusterIP", "ClusterIP", "LoadBalancer"]),
                                 "selector": {"app": f"app{rng.randrange(45)}"},
                                 "ports": [{"port": 80, "targetPort": 8080}]}})
    for i in range(20):
        spec: dict = {"podSelector": {} if i == 0 else {"matchLabels": {"app": f"app{i}"}},
                      "policyTypes": ["Ingress", "Egress"]}
        if i:
            spec["ingress"] = [{"from": [{"podSelector": {"matchLabels": {"tier": "web"}}}],
                                "ports": [{"port": 8080}]}]
            spec["egress"] = [{} if i % 7 == 0 else {"to": [{"namespaceSelector": {}}]}]
        objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": f"np{i}", "namespace": ns}, "spec": spec})
    for i in range(10):
        objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                        "metadata": {"name": f"ing{i}", "namespace": ns},
                        "spec": {"tls": [{"hosts": [f"h{i}.example.com"],
                                          "secretName": f"tls{rng.randrange(12)}"}],
                                 "rules": [{"host": f"h{i}.example.com", "http": {"paths": [{
                                     "path": "/", "pathType": "Prefix", "backend": {"service": {
                                         "name": f"app{i}", "port": {"number": 80}}}}]}}]}})
        objects.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                        "metadata": {"name": f"tls{i}", "namespace": ns}})
    for i in range(2):
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                        "metadata": {"name": f"role{i}", "namespace": ns},
                        "rules": [{"apiGroups": [""], "resources": ["pods"],
                                   "verbs": ["get", "list"] if i else ["*"]}]})
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": {"name": f"rb{i}", "namespace": ns},
                        "roleRef": {"kind": "Role" if i else "ClusterRole",
                                    "name": f"role{i}" if i else "admin"},
                        "subjects": [{"kind": "ServiceAccount", "name": "default",
                                      "namespace": ns}]})
    return objects


def cluster_objects(count: int) -> list[dict]:
    """ClusterRoles (some aggregated, one granting * on *) and a binding to each."""
    objects = []
    for i in range(count):
        role: dict = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                      "metadata": {"name": f"cr{i}", "labels": {"group": f"g{i % 10}"}},
                      "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                                 "verbs": ["get"]}]}
        if i % 25 == 0:
            role["aggregationRule"] = {"clusterRoleSelectors": [
                {"matchLabels": {"group": f"g{(i // 25) % 10}"}}]}
        if i == 7:
            role["rules"] = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
        objects.append(role)
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1",
                        "kind": "ClusterRoleBinding", "metadata": {"name": f"crb{i}"},
                        "roleRef": {"kind": "ClusterRole", "name": f"cr{i}"},
                        "subjects": [{"kind": "User", "name": f"user{i}"}]})
    return objects


def write(folder: Path) -> int:
    rng = random.Random(7)
    count = 0
    for n in range(NAMESPACES):
        docs = namespace_objects(f"ns{n}", rng)
        (folder / f"ns{n}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
        count += len(docs)
    docs = cluster_objects(125)
    (folder / "cluster.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return count + len(docs)


def main() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        objects = write(folder)
        best = load_best = check_best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            view = load_files([folder]).objects
            loaded = time.perf_counter()
            findings = checks.run(checks.State(view, origin="files"))
            done = time.perf_counter()
            load_best, check_best = min(load_best, loaded - started), min(check_best, done - loaded)
            best = min(best, done - started)
    failed = sum(f.status == "fail" for f in findings)
    print(f"{objects} objects in {NAMESPACES + 1} YAML files: {len(findings)} findings ({failed} "
          f"fail) in {best:.2f} s: loading {load_best:.2f} s, checks {check_best:.2f} s (best of "
          f"3); goal <= {GOAL_SECONDS} s: " + ("met" if best <= GOAL_SECONDS else "NOT met"))
    return best <= GOAL_SECONDS


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
