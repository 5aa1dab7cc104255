"""Benchmark: the RBAC risk table over 500 roles and 2,000 bindings (goal: <= 1 s) and who-can
for one verb and resource over the same (goal: <= 0.2 s), each from the objects view, best of 3.
Run from files (aggregated roles computed, bootstrap roles assumed) as the harder case."""

from __future__ import annotations

import random
import sys
import time

from aks_runbook.analysis import rbac

RISK_GOAL, WHO_GOAL = 1.0, 0.2
RBAC = "rbac.authorization.k8s.io"
RESOURCES = [("", "pods"), ("", "pods/log"), ("", "pods/exec"), ("", "pods/portforward"),
             ("", "secrets"), ("", "configmaps"), ("", "services"), ("", "serviceaccounts"),
             ("", "serviceaccounts/token"), ("", "nodes"), ("", "nodes/proxy"),
             ("", "persistentvolumeclaims"), ("apps", "deployments"), ("apps", "statefulsets"),
             ("apps", "deployments/scale"), ("batch", "jobs"), ("batch", "cronjobs"),
             ("networking.k8s.io", "ingresses"), ("networking.k8s.io", "networkpolicies"),
             (RBAC, "roles"), (RBAC, "rolebindings"), ("example.com", "widgets"),
             ("certificates.k8s.io", "certificatesigningrequests/approval")]
VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]


def _rule(rng: random.Random) -> dict:
    picked = rng.sample(RESOURCES, rng.randint(1, 4))
    rule = {"apiGroups": sorted({g for g, _ in picked}), "resources": [r for _, r in picked],
            "verbs": rng.sample(VERBS, rng.randint(1, 4))}
    roll = rng.random()
    if roll < 0.03:
        rule["verbs"] = ["*"]
    elif roll < 0.05:
        rule["resources"] = ["*"]
    elif roll < 0.08 and len(picked) == 1:
        rule["resourceNames"] = [f"obj-{rng.randint(0, 9)}"]
    return rule


def synthetic(roles: int = 500, bindings: int = 2000, namespaces: int = 20,
              seed: int = 11) -> dict[str, list[dict]]:
    """150 ClusterRoles (one in ten aggregated by label, one in six labelled to aggregate into
    another or into view/edit/admin), 350 Roles, 300 ClusterRoleBindings and 1,700
    RoleBindings (to Roles, ClusterRoles and some missing roles) with 1-3 subjects each."""
    rng = random.Random(seed)
    names = [f"team-{i}" for i in range(namespaces)]
    cluster_roles, ns_roles = [], []
    for i in range(150):
        role: dict = {"kind": "ClusterRole", "metadata": {"name": f"cr-{i}", "labels": {}},
                      "rules": [_rule(rng) for _ in range(rng.randint(2, 8))]}
        if i % 10 == 0:
            role["aggregationRule"] = {"clusterRoleSelectors": [
                {"matchLabels": {f"{RBAC}/aggregate-to-cr-{i}": "true"}}]}
        elif i % 6 == 0:
            target = rng.choice(["view", "edit", "admin", f"cr-{10 * rng.randint(0, 14)}"])
            role["metadata"]["labels"][f"{RBAC}/aggregate-to-{target}"] = "true"
        cluster_roles.append(role)
    for i in range(roles - len(cluster_roles)):
        ns_roles.append({"kind": "Role", "metadata": {"name": f"r-{i}",
                                                      "namespace": names[i % namespaces]},
                         "rules": [_rule(rng) for _ in range(rng.randint(2, 8))]})

    def subjects() -> list[dict]:
        found = []
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(["User", "Group", "ServiceAccount"])
            if kind == "ServiceAccount":
                found.append({"kind": kind, "name": f"sa-{rng.randint(0, 40)}",
                              "namespace": rng.choice(names)})
            else:
                found.append({"kind": kind, "name": f"{kind.lower()}-{rng.randint(0, 60)}",
                              "apiGroup": RBAC})
        return found

    crbs, rbs = [], []
    for i in range(300):
        ref = rng.choice([*(f"cr-{j}" for j in range(150)), "view", "edit", "cluster-admin"])
        crbs.append({"kind": "ClusterRoleBinding", "metadata": {"name": f"crb-{i}"},
                     "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": ref},
                     "subjects": subjects()})
    for i in range(bindings - len(crbs)):
        namespace = names[i % namespaces]
        if rng.random() < 0.6:
            local = [r for r in ns_roles if r["metadata"]["namespace"] == namespace]
            ref = {"kind": "Role", "name": rng.choice(local)["metadata"]["name"]
                   if rng.random() < 0.97 else "missing"}
        else:
            ref = {"kind": "ClusterRole",
                   "name": rng.choice([f"cr-{rng.randint(0, 149)}", "edit", "admin", "view"])}
        rbs.append({"kind": "RoleBinding", "metadata": {"name": f"rb-{i}", "namespace": namespace},
                    "roleRef": {"apiGroup": RBAC, **ref}, "subjects": subjects()})
    return {"clusterroles": cluster_roles, "roles": ns_roles, "clusterrolebindings": crbs,
            "rolebindings": rbs}


def best(call, runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    objects = synthetic()
    policy_s, _ = best(lambda: rbac.Policy.of(objects, from_files=True))
    risk_s, rows = best(lambda: rbac.risks(objects, from_files=True, include_system=True))
    who_s, who = best(lambda: rbac.who_can(objects, "get", "secrets", from_files=True,
                                           include_system=True))
    print(f"{len(objects['clusterroles']) + len(objects['roles'])} roles, "
          f"{len(objects['clusterrolebindings']) + len(objects['rolebindings'])} bindings")
    print(f"policy (aggregation, bindings resolved): {policy_s:.3f} s")
    print(f"risk table: {risk_s:.3f} s, {len(rows)} rows (goal <= {RISK_GOAL} s)")
    print(f"who-can get secrets: {who_s:.3f} s, {len(who)} rows (goal <= {WHO_GOAL} s)")
    return 0 if risk_s <= RISK_GOAL and who_s <= WHO_GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
