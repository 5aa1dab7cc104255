"""Issue 11: attendee mode. An attendee is provisioned by the training's own code (the attendee
Role, a service account bound to it, a kubeconfig with a short-lived TokenRequest token, mode
0600, the training's admission and network policies), then every chapter runs under papermill
with that environment file (its kubeconfig and `namespace`). What is
asserted: the run completes, everything it created is inside the attendee's namespace (and the
trainer's objects there survive), and the cluster-wide steps say they are the trainer's demo.
"""

from __future__ import annotations

import json
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from kubernetes import watch

from aks_runbook import manifests
from aks_runbook.run import chapters as runs
from aks_runbook.training import credentials, provision
from aks_runbook.training.roster import Attendee
from notebook_outputs import text_of

CHAPTERS = ["01-overview.ipynb", "02-network.ipynb", "03-auth.ipynb", "04-maintenance.ipynb"]
TRAINING = {"app.kubernetes.io/managed-by": "aks-runbook-training"}
DEMO = "trainer's demo: {}, not run for attendees"
LOCAL = Path(__file__).resolve().parents[1] / "environments" / "local.yaml"


def _lists(client) -> list[tuple[str, object]]:
    """The kinds the chapters could create: namespaced ones across all namespaces, and
    cluster-scoped ones."""
    core, apps = client.CoreV1Api(), client.AppsV1Api()
    rbac, policy = client.RbacAuthorizationV1Api(), client.PolicyV1Api()
    return [("pod", core.list_pod_for_all_namespaces),
            ("deployment", apps.list_deployment_for_all_namespaces),
            ("daemonset", apps.list_daemon_set_for_all_namespaces),
            ("service", core.list_service_for_all_namespaces),
            ("role", rbac.list_role_for_all_namespaces),
            ("pdb", policy.list_pod_disruption_budget_for_all_namespaces),
            ("namespace", core.list_namespace),
            ("clusterrolebinding", rbac.list_cluster_role_binding),
            ("clusterrole", rbac.list_cluster_role),
            ("node", core.list_node)]


def _add(found: dict[str, set[tuple[str, str]]], kind: str, items: list[dict]) -> None:
    for item in items:
        meta = item["metadata"]
        where = meta.get("namespace") or ("(namespaces)" if kind == "namespace" else "(cluster)")
        found.setdefault(where, set()).add((kind, meta["name"]))


def _names(client) -> dict[str, set[tuple[str, str]]]:
    """The objects of `_lists` now, by namespace ("(namespaces)", "(cluster)" for the others)."""
    found: dict[str, set[tuple[str, str]]] = {}
    for kind, call in _lists(client):
        _add(found, kind, json.loads(call(_preload_content=False).data)["items"])
    return found


@contextmanager
def _everything_that_appears(client):
    """The objects of `_lists` that exist at any moment within the block, by namespace as
    `_names` has them: a list, then the API server's watch from its resourceVersion on, so an
    object that a cell creates and deletes again is seen too (a list after each cell would miss
    it)."""
    found: dict[str, set[tuple[str, str]]] = {}
    lock, done, failures = threading.Lock(), threading.Event(), []

    def follow(kind, call, version):
        try:
            while not done.is_set():  # watches of 2 s, each from the last version seen
                for event in watch.Watch().stream(call, resource_version=version,
                                                  timeout_seconds=2, deserialize=False):
                    version = event["object"]["metadata"]["resourceVersion"]
                    with lock:
                        _add(found, kind, [event["object"]])
        except Exception as error:  # an expired version (410) too: something may be missed
            failures.append(f"watching {kind}: {error}")

    threads = []
    for kind, call in _lists(client):
        listed = json.loads(call(_preload_content=False).data)
        _add(found, kind, listed["items"])
        threads.append(threading.Thread(target=follow, daemon=True, args=(
            kind, call, listed["metadata"]["resourceVersion"])))
    for thread in threads:
        thread.start()
    try:
        yield found
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert not failures, failures


@pytest.fixture(scope="module")
def attendee_run(local_cluster, k8s, tmp_path_factory):
    """One attendee provisioned by the training's own code (namespace, policies, Role, service
    account, 0600 kubeconfig with a TokenRequest token, environment file), then every chapter
    run with that environment; torn down as the training does, also when a step failed."""
    folder = tmp_path_factory.mktemp("attendee") / "training"
    person = Attendee(f"att{uuid.uuid4().hex[:6]}")
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    try:
        provision.provision(k8s, [person], folder, access, LOCAL, expiry=3600)
        before = _names(k8s)
        with _everything_that_appears(k8s) as seen:
            result = runs.run(folder / person.name / "environment.yaml",
                              runs_root=folder.parent / "runs")
        after = _names(k8s)
        yield person.namespace, result, before, seen, after
    finally:
        # also when setting up failed: a half-made namespace would show in other tests'
        # cluster-wide tables
        provision.teardown(k8s, folder)


def test_every_chapter_completes_for_an_attendee(attendee_run):
    _, result, *_ = attendee_run
    assert [n.name for n in result.notebooks] == CHAPTERS
    assert result.ok, runs.failure_message(result)


def test_everything_created_is_inside_the_attendee_namespace(attendee_run):
    namespace, _, before, seen, after = attendee_run
    for snapshot in (seen, after):
        for where, objects in snapshot.items():
            if where == namespace:
                continue
            new = objects - before.get(where, set())
            # pods of the cluster's own controllers may come and go; nothing may be named
            # after a chapter's objects
            assert not {o for o in new if o[0] != "pod" or "vote" in o[1] or "kured" in o[1]
                        or "upgrade" in o[1] or "debug" in o[1] or "web-" in o[1]}, (where, new)
    created = seen.get(namespace, set())
    assert ("deployment", "azure-vote-front") in created
    assert ("role", "developer") in created
    assert ("pdb", "azure-vote-front") in created or any(k == "pdb" for k, _ in created)


def test_cleanup_leaves_the_training_objects_and_removes_the_chapters(attendee_run, k8s):
    namespace, *_ = attendee_run
    core = k8s.CoreV1Api()
    assert core.read_namespaced_service_account("attendee", namespace)
    assert k8s.RbacAuthorizationV1Api().read_namespaced_role("attendee", namespace)
    policies = k8s.NetworkingV1Api().list_namespaced_network_policy(namespace).items
    assert sorted(p.metadata.name for p in policies) == [
        "training-allow-dns", "training-allow-same-namespace", "training-default-deny"]
    assert k8s.AppsV1Api().list_namespaced_deployment(namespace).items == []
    assert core.list_namespaced_pod(namespace).items == []


def test_cluster_wide_steps_say_they_are_the_trainers_demo(attendee_run):
    namespace, result, *_ = attendee_run
    text = {n.name: text_of(result.folder / n.name) for n in result.notebooks}
    assert DEMO.format("the dashboard's cluster-admin binding (a ClusterRoleBinding)") \
        in text["01-overview.ipynb"]
    assert DEMO.format("the nodes by pool (nodes are cluster-wide)") in text["01-overview.ipynb"]
    assert "(impersonation), not run for attendees" in text["01-overview.ipynb"]
    assert f"attendee mode: your steps run in namespace {namespace}" in text["02-network.ipynb"]
    assert DEMO.format("the RBAC risk table over the whole cluster") in text["03-auth.ipynb"]
    assert DEMO.format("the TokenReview (a cluster-wide API)") in text["03-auth.ipynb"]
    assert "a request with the token (SelfSubjectReview): 401 Unauthorized" \
        in text["03-auth.ipynb"]
    assert DEMO.format("kured (a DaemonSet with a ClusterRole and ClusterRoleBinding)") \
        in text["04-maintenance.ipynb"]
    assert "node pool 'legacy' added" not in text["04-maintenance.ipynb"]
    # the namespace enforces Pod Security restricted: 03's privileged pod is refused by it,
    # while the chapters' other pods were given the restricted settings and ran
    assert 'pods "privileged" is forbidden: violates PodSecurity "restricted:' \
        in text["03-auth.ipynb"]
    assert "your namespace enforces Pod Security `restricted`" in text["01-overview.ipynb"]
    for chapter, shown in text.items():  # refused only where 01 shows kubectl's default, and
        refused = [line for line in shown.splitlines()  # the privileged pod
                   if "Forbidden" in line and 'pods "privileged"' not in line]
        assert all('in the namespace "default"' in line for line in refused), (chapter, refused)


def test_posture_for_an_attendee_never_passes_what_it_could_not_read(attendee_run):
    import json

    namespace, result, *_ = attendee_run
    findings = json.loads((result.folder / "findings.json").read_text())
    status = {f["check"]: (f["status"], f["evidence"]) for f in findings}
    for check, kinds in (("AKS-OV-001", "clusterrolebindings"), ("AKS-AUTH-010", "namespaces"),
                         ("AKS-MNT-001", "nodes")):
        assert status[check][0] == "not-applicable", (check, status[check])
        assert kinds in status[check][1] and "could not be listed" in status[check][1]
    namespaced = [f["resource"] for f in findings if f["resource"].count("/") == 2]
    assert namespaced, "no finding on the attendee's objects"
    assert all(r.split("/")[1] == namespace for r in namespaced), namespaced  # Kind/ns/name


def test_bad_attendee_parameters_stop_before_anything_runs(tmp_path):
    from aks_runbook.params import ParameterError, load

    loose = tmp_path / "kubeconfig"
    loose.write_text("apiVersion: v1\n")
    loose.chmod(0o644)
    with pytest.raises(ParameterError, match=r"kubeconfig = .*readable by others"):
        load({"environment": "training", "prefix": "att1", "kubeconfig": str(loose)})
    with pytest.raises(ParameterError, match=r"namespace = 'Att_1': must be a DNS-1123 label"):
        load({"environment": "training", "prefix": "att1", "namespace": "Att_1"})
    loose.chmod(0o600)
    with pytest.raises(ParameterError, match="target 'replay' reads its recording"):
        load({"environment": "training", "prefix": "att1", "target": "replay",
              "kubeconfig": str(loose)})
    # an attendee on the trainer's AKS cluster: the az steps stay a plan, the cluster is real
    on_aks = load({"environment": "training", "prefix": "att1", "target": "aks",
                   "kubeconfig": str(loose)})
    assert on_aks.plan_only and on_aks.kubeconfig == str(loose)


def test_restricted_defaults_fill_only_what_a_manifest_leaves_out():
    from aks_runbook.notebook import attendee

    app = manifests.render("voting-app", namespace="ns1", back_selector="azure-vote-back",
                           front_replicas=2)
    assert [attendee.restricted(d) for d in app] == [
        d["kind"] == "Deployment" for d in app]
    pod = app[1]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    privileged = manifests.render("psa-pod", name="privileged", namespace="ns1",
                                  workload_sa="sa", pod_security={},
                                  container_security={"privileged": True})
    assert not any(attendee.restricted(d) for d in privileged)  # stays as written: refused
    assert privileged[-1]["spec"]["containers"][0]["securityContext"] == {"privileged": True}


def test_a_clean_keeps_the_namespace_the_training_objects_and_the_attendee():
    from aks_runbook.notebook import attendee

    command = attendee.clean_command("ns1", {"default", "attendee"})
    assert command[:2] == ["kubectl", "delete"] and "namespace" not in command[2].split(",")
    assert command[command.index("--namespace") + 1] == "ns1"
    assert command[command.index("--selector") + 1] == \
        "app.kubernetes.io/managed-by!=aks-runbook-training"
    assert command[command.index("--field-selector") + 1] == \
        "metadata.name!=attendee,metadata.name!=default"
