"""Chapter 04 (maintenance) checks, AKS-MNT-001 to -008, on views from a cluster and from files
and on `az aks show` JSON. Cases named `C-xxxx <case>` mirror the published test cases of
kubescape's rules (kubescape/regolibrary rules/<rule>/test/<case>), `CKV_AZURE_171 <case>`
checkov's ARM test examples; they are recreated as small objects, and where a check judges
differently the expected verdict is this check's and the case says so."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from aks_runbook import checks
from aks_runbook.azure import plan as azplan
from aks_runbook.checks.maintenance import (
    SUPPORTED_MINORS,
    blocks_drains,
    image_tag,
    minor,
    missing_resources,
    skew,
)
from aks_runbook.params import load
from check_views import cluster_view, files_view

ROOT = Path(__file__).resolve().parents[1]
NEWEST = max(SUPPORTED_MINORS)


def run(objects: dict, **state) -> list[checks.Finding]:
    return checks.run(checks.State(objects, **state), chapter="04")


def verdicts(check_id: str, objects: dict, **state) -> dict[str, str]:
    return {f.resource: f.status for f in run(objects, **state) if f.check == check_id}


def evidence(check_id: str, objects: dict, **state) -> dict[str, str]:
    return {f.resource: f.evidence for f in run(objects, **state) if f.check == check_id}


def c(name: str = "c", image: str = "mcr.microsoft.com/a:1", **fields) -> dict:
    return {"name": name, "image": image, **fields}


def pod(name: str = "p", namespace: str = "default", labels: dict | None = None,
        owner: tuple[str, str] | None = None, phase: str = "Running", **spec) -> dict:
    meta: dict = {"name": name, "namespace": namespace, "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1]}]
    return {"kind": "Pod", "metadata": meta, "spec": spec or {"containers": [c()]},
            "status": {"phase": phase}}


def workload(kind: str, name: str, replicas: int | None = None, namespace: str = "default",
             **pod_spec) -> dict:
    template = {"metadata": {"labels": {"app": name}},
                "spec": pod_spec or {"containers": [c()]}}
    body: dict = ({"jobTemplate": {"spec": {"template": template}}} if kind == "CronJob"
                  else {"selector": {"matchLabels": {"app": name}}, "template": template})
    if replicas is not None:
        body["replicas"] = replicas
    return {"kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": body}


# ---- AKS-MNT-001 supported version (outdated-k8s-version) ---------------------------------------

def node(name: str, version: str | None) -> dict:
    return {"kind": "Node", "metadata": {"name": name},
            "status": {"nodeInfo": {"kubeletVersion": version} if version else {}}}


VERSION_CASES = [
    ("C-0273 fail: v1.20.7", "v1.20.7", {}, "fail"),
    ("C-0273 fail2: v1.25.3", "v1.25.3", {}, "fail"),
    ("C-0273 pass: v1.34.6 (AKS N-3 in late 2026: fails here)", "v1.34.6", {}, "fail"),
    ("newest supported", f"v1.{NEWEST}.1", {}, "pass"),
    ("oldest supported", f"v1.{min(SUPPORTED_MINORS)}.0", {}, "pass"),
    ("newer than the list", f"v1.{NEWEST + 1}.0", {}, "not-applicable"),
    ("not a version", "unknown", {}, "not-applicable"),
    ("no kubeletVersion", None, {}, "not-applicable"),
    ("old version under LTS", "v1.30.4", {"supportPlan": "AKSLongTermSupport"},
     "not-applicable"),
    ("old version, standard plan", "v1.30.4", {"supportPlan": "KubernetesOfficial"}, "fail"),
]


@pytest.mark.parametrize("version, cluster, expected", [c[1:] for c in VERSION_CASES],
                         ids=[c[0] for c in VERSION_CASES])
def test_supported_version(version, cluster, expected):
    found = verdicts("AKS-MNT-001", cluster_view(node("n1", version)), cluster=cluster or None)
    assert found.pop("Node/n1") == expected
    # a cluster configuration without a version: the control plane is not known
    assert found == ({"ManagedCluster/cluster": "not-applicable"} if cluster else {})


CONTROL_PLANE_CASES = [
    ("newest supported", {"currentKubernetesVersion": f"1.{NEWEST}.2"}, "pass"),
    ("oldest supported", {"kubernetesVersion": f"1.{min(SUPPORTED_MINORS)}"}, "pass"),
    ("one below the oldest", {"kubernetesVersion": f"1.{min(SUPPORTED_MINORS) - 1}.9"}, "fail"),
    ("the version it runs wins over the one asked for",
     {"currentKubernetesVersion": "1.33.4", "kubernetesVersion": f"1.{NEWEST}"}, "fail"),
    ("newer than the table", {"kubernetesVersion": f"1.{NEWEST + 1}.0"}, "not-applicable"),
    ("old under LTS", {"kubernetesVersion": "1.30.4", "supportPlan": "AKSLongTermSupport"},
     "not-applicable"),
    ("no version", {}, "not-applicable"),
]


@pytest.mark.parametrize("cluster, expected", [c[1:] for c in CONTROL_PLANE_CASES],
                         ids=[c[0] for c in CONTROL_PLANE_CASES])
def test_control_plane_version_is_judged_too(cluster, expected):
    objects = cluster_view(node("n1", f"v1.{NEWEST}.1"))
    found = azure(cluster, objects, "AKS-MNT-001")
    assert found == {"ManagedCluster/aks1": expected, "Node/n1": "pass"}


def test_control_plane_evidence_names_the_table_and_its_date():
    state = checks.State(cluster_view(), cluster={"name": "aks1", "kubernetesVersion": "1.33.1"},
                         cluster_source="planned configuration")
    [plane] = [f for f in checks.run(state, chapter="04")
               if f.check == "AKS-MNT-001" and f.resource == "ManagedCluster/aks1"]
    assert plane.evidence == (f"control plane 1.33.1: out of AKS support; supported "
                              f"{', '.join(f'1.{m}' for m in SUPPORTED_MINORS)} (as of 2026-11) "
                              "(planned configuration)")
    assert "Supported Kubernetes Versions in AKS" in plane.differs


def test_n3_evidence_says_platform_support_only():
    found = evidence("AKS-MNT-001", cluster_view(node("n1", f"v1.{NEWEST - 3}.2")))
    assert "N-3: platform support only" in found["Node/n1"]


def test_unlisted_or_absent_nodes_never_pass():
    objects = cluster_view()
    assert verdicts("AKS-MNT-001", objects) == {"Node/*": "not-applicable"}
    del objects["nodes"]
    assert verdicts("AKS-MNT-001", objects) == {"Node/*": "not-applicable"}


@pytest.mark.parametrize("text, expected", [
    ("v1.33.2", (1, 33)), ("1.33.2", (1, 33)), ("1.33", (1, 33)), ("v1.35.0+k3s1", (1, 35)),
    (" 1.36 ", (1, 36)), ("", None), (None, None), ("latest", None)])
def test_minor(text, expected):
    assert minor(text) == expected


# ---- AKS-MNT-002 version skew (Kubernetes Version Skew Policy) ----------------------------------

@pytest.mark.parametrize("control_plane, kubelet, broken", [
    ((1, 36), (1, 36), False), ((1, 36), (1, 33), False), ((1, 36), (1, 32), True),
    ((1, 36), (1, 37), True), ((1, 26), (1, 24), False), ((1, 27), (1, 24), True),
    ((1, 28), (1, 25), False), ((2, 0), (1, 36), True)],
    ids=["same", "3 older", "4 older", "newer", "kubelet 1.24: 2 older", "kubelet 1.24: 3 older",
         "kubelet 1.25: 3 older", "another major"])
def test_skew_policy(control_plane, kubelet, broken):
    assert (skew(control_plane, kubelet) is not None) == broken


def azure(cluster: dict, objects: dict | None = None, check_id: str = "AKS-MNT-002"):
    state = checks.State(objects or {}, cluster={"name": "aks1", **cluster},
                         cluster_source="az aks show", has_cluster=objects is not None)
    return {f.resource: f.status for f in checks.run(state, chapter="04") if f.check == check_id}


def test_pools_and_kubelets_against_the_control_plane():
    cluster = {"currentKubernetesVersion": "1.36.2", "kubernetesVersion": "1.36",
               "agentPoolProfiles": [
                   {"name": "system", "orchestratorVersion": "1.36",
                    "currentOrchestratorVersion": "1.32.9"},
                   {"name": "user", "orchestratorVersion": "1.35.1"},
                   {"name": "odd"}]}
    objects = cluster_view(node("n1", "v1.36.2"), node("n2", "v1.37.0"))
    assert azure(cluster, objects) == {
        "AgentPool/system": "fail",  # the version it runs, not the one asked for
        "AgentPool/user": "pass", "AgentPool/odd": "not-applicable",
        "Node/n1": "pass", "Node/n2": "fail"}


def test_skew_without_a_control_plane_version_is_not_applicable():
    assert azure({"agentPoolProfiles": [{"name": "p", "orchestratorVersion": "1.36"}]}) == {
        "ManagedCluster/aks1": "not-applicable"}


def test_skew_evidence():
    state = checks.State(cluster={"name": "aks1", "kubernetesVersion": "1.36.1",
                                  "agentPoolProfiles": [{"name": "p",
                                                         "orchestratorVersion": "1.34.3"}]},
                         cluster_source="az aks show", has_cluster=False)
    [found] = [f for f in checks.run(state, chapter="04") if f.check == "AKS-MNT-002"]
    assert found.evidence == "pool 1.34.3 vs control plane 1.36.1: 2 minor(s) behind (az aks show)"


# ---- AKS-MNT-003 / -004 upgrade channels (CKV_AZURE_171) ----------------------------------------

CHANNEL_CASES = [
    ("AKS-MNT-003", "CKV_AZURE_171 fail: none", {"upgradeChannel": "none"}, "fail"),
    ("AKS-MNT-003", "CKV_AZURE_171 fail1: absent", {}, "fail"),
    ("AKS-MNT-003", "CKV_AZURE_171 pass: stable", {"upgradeChannel": "stable"}, "pass"),
    ("AKS-MNT-003", "patch", {"upgradeChannel": "patch"}, "pass"),
    ("AKS-MNT-003", "rapid", {"upgradeChannel": "rapid"}, "pass"),
    ("AKS-MNT-003", "node-image (CKV_AZURE_171 passes it)", {"upgradeChannel": "node-image"},
     "fail"),
    ("AKS-MNT-004", "NodeImage", {"nodeOsUpgradeChannel": "NodeImage"}, "pass"),
    ("AKS-MNT-004", "SecurityPatch", {"nodeOsUpgradeChannel": "SecurityPatch"}, "pass"),
    ("AKS-MNT-004", "lower case", {"nodeOsUpgradeChannel": "nodeimage"}, "pass"),
    ("AKS-MNT-004", "Unmanaged, no cluster to look for kured", {"nodeOsUpgradeChannel":
                                                                 "Unmanaged"}, "fail"),
    ("AKS-MNT-004", "None", {"nodeOsUpgradeChannel": "None"}, "fail"),
    ("AKS-MNT-004", "absent", {}, "fail"),
]


@pytest.mark.parametrize("check_id, profile, expected", [(c[0], *c[2:]) for c in CHANNEL_CASES],
                         ids=[f"{c[0]} {c[1]}" for c in CHANNEL_CASES])
def test_upgrade_channels(check_id, profile, expected):
    found = azure({"autoUpgradeProfile": profile}, check_id=check_id)
    assert found == {"ManagedCluster/aks1": expected}


def test_planned_configuration_of_prod():
    state = checks.State(cluster=azplan.planned_cluster(load(ROOT / "environments" /
                                                                 "aks-prod.yaml")),
                         cluster_source="planned configuration", has_cluster=False)
    found = {f.check: f.status for f in checks.run(state, chapter="04")
             if f.check in ("AKS-MNT-002", "AKS-MNT-003", "AKS-MNT-004")}
    assert found["AKS-MNT-002"] == "pass"  # every pool at the planned version
    assert found["AKS-MNT-003"] == found["AKS-MNT-004"] == "pass"  # stable, SecurityPatch


def daemonset_pod(name: str, image: str, namespace: str = "kube-system") -> dict:
    return pod(f"{name}-x1", namespace, {"app": name}, ("DaemonSet", name),
               containers=[c("c", image)])


UNMANAGED = {"nodeOsUpgradeChannel": "Unmanaged"}
KURED_CASES = [
    ("kured DaemonSet running", [daemonset_pod("kured", "ghcr.io/kubereboot/kured:1.23.0")],
     "pass"),
    ("kured by digest", [daemonset_pod("reboots", "ghcr.io/kubereboot/kured@sha256:ab")], "pass"),
    ("no kured", [daemonset_pod("agent", "mcr.microsoft.com/agent:1")], "fail"),
    ("kured image in a bare pod, not a DaemonSet",
     [pod("kured", "kube-system", containers=[c("c", "ghcr.io/kubereboot/kured:1")])], "fail"),
    ("an image merely named like it", [daemonset_pod("x", "example.com/kured-exporter:1")],
     "fail"),
]


@pytest.mark.parametrize("pods, expected", [c[1:] for c in KURED_CASES],
                         ids=[c[0] for c in KURED_CASES])
def test_unmanaged_node_os_channel_passes_with_kured(pods, expected):
    assert azure({"autoUpgradeProfile": UNMANAGED}, cluster_view(*pods), "AKS-MNT-004") == {
        "ManagedCluster/aks1": expected}


def test_kured_evidence():
    objects = cluster_view(daemonset_pod("kured", "ghcr.io/kubereboot/kured:1.23.0"))
    state = checks.State(objects, cluster={"name": "aks1", "autoUpgradeProfile": UNMANAGED},
                         cluster_source="az aks show")
    [found] = [f for f in checks.run(state, chapter="04") if f.check == "AKS-MNT-004"]
    assert found.evidence == ("nodeOsUpgradeChannel Unmanaged (OS patches without reboots) (az "
                              "aks show); kured reboots the nodes: DaemonSet/kube-system/kured")
    del objects["pods"]
    [found] = [f for f in checks.run(state, chapter="04") if f.check == "AKS-MNT-004"]
    assert found.status == "fail" and found.evidence.endswith("pods were not listed, so kured "
                                                              "is not known")


def test_kured_from_files(tmp_path):
    kured = {"kind": "DaemonSet", "metadata": {"name": "kured", "namespace": "kube-system"},
             "spec": {"template": {"spec": {"containers": [
                 {"name": "kured", "image": "ghcr.io/kubereboot/kured:1.23.0"}]}}}}
    state = checks.State(files_view(tmp_path, kured), origin="files",
                         cluster={"name": "aks1", "autoUpgradeProfile": UNMANAGED})
    [found] = [f for f in checks.run(state, chapter="04") if f.check == "AKS-MNT-004"]
    assert found.status == "pass"


# ---- AKS-MNT-009 maintenance windows for the channels -------------------------------------------

def windows(profile: dict, names: list[str] | None) -> dict[str, str]:
    cluster: dict = {"autoUpgradeProfile": profile}
    if names is not None:
        cluster["maintenanceConfigurations"] = [{"name": n} for n in names]
    return azure(cluster, check_id="AKS-MNT-009")


BOTH = {"upgradeChannel": "stable", "nodeOsUpgradeChannel": "NodeImage"}
AUTO, NODE_OS = ("MaintenanceConfiguration/aksManagedAutoUpgradeSchedule",
                 "MaintenanceConfiguration/aksManagedNodeOSUpgradeSchedule")
WINDOW_CASES = [
    ("both channels, both windows", BOTH,
     ["default", "aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"],
     {AUTO: "pass", NODE_OS: "pass"}),
    ("both channels, only default", BOTH, ["default"], {AUTO: "fail", NODE_OS: "fail"}),
    ("both channels, node OS window missing", BOTH, ["aksManagedAutoUpgradeSchedule"],
     {AUTO: "pass", NODE_OS: "fail"}),
    ("names are case-sensitive", BOTH, ["aksmanagedautoupgradeschedule",
                                        "aksManagedNodeOSUpgradeSchedule"],
     {AUTO: "fail", NODE_OS: "pass"}),
    ("patch and SecurityPatch", {"upgradeChannel": "patch",
                                 "nodeOsUpgradeChannel": "SecurityPatch"}, [],
     {AUTO: "fail", NODE_OS: "fail"}),
    ("Unmanaged needs no node OS window", {"upgradeChannel": "rapid",
                                           "nodeOsUpgradeChannel": "Unmanaged"},
     ["aksManagedAutoUpgradeSchedule"], {AUTO: "pass"}),
    ("the legacy node-image channel is an auto-upgrade channel",
     {"upgradeChannel": "node-image", "nodeOsUpgradeChannel": "NodeImage"},
     ["aksManagedNodeOSUpgradeSchedule"], {AUTO: "fail", NODE_OS: "pass"}),
    ("no channel: nothing to schedule", {"upgradeChannel": "none", "nodeOsUpgradeChannel": "None"},
     [], {"ManagedCluster/aks1": "not-applicable"}),
    ("configurations not in the JSON", BOTH, None, {"ManagedCluster/aks1": "not-applicable"}),
]


@pytest.mark.parametrize("profile, names, expected", [c[1:] for c in WINDOW_CASES],
                         ids=[c[0] for c in WINDOW_CASES])
def test_each_channel_has_its_window(profile, names, expected):
    assert windows(profile, names) == expected


def test_window_evidence_says_why():
    cluster = {"name": "aks1", "autoUpgradeProfile": BOTH}
    state = checks.State(cluster=cluster, cluster_source="az aks show", has_cluster=False)
    [unknown] = [f for f in checks.run(state, chapter="04") if f.check == "AKS-MNT-009"]
    assert unknown.evidence == ("maintenance configurations not known: they are not in az aks "
                                "show JSON (add az aks maintenanceconfiguration list as "
                                "maintenanceConfigurations) (az aks show)")
    cluster["maintenanceConfigurations"] = [{"name": "aksManagedAutoUpgradeSchedule"}]
    found = {f.resource: f.evidence for f in checks.run(state, chapter="04")
             if f.check == "AKS-MNT-009"}
    assert found == {AUTO: "upgradeChannel stable: its window is configured (az aks show)",
                     NODE_OS: "nodeOsUpgradeChannel NodeImage: no "
                              "aksManagedNodeOSUpgradeSchedule: AKS upgrades at any time (az aks "
                              "show)"}


# ---- AKS-MNT-005 image tags (CKV_K8S_14; image-pull-policy-is-not-set-to-always) ----------------

@pytest.mark.parametrize("image, tag", [
    ("nginx", ""), ("nginx:1.27", "1.27"), ("nginx:latest", "latest"),
    ("localhost:5000/app", ""), ("localhost:5000/app:1", "1"),
    ("mcr.microsoft.com/oss/nginx@sha256:abc", None), ("app:1@sha256:abc", None), ("", "")])
def test_image_tag(image, tag):
    assert image_tag(image) == tag


TAG_CASES = [
    ("C-0075 workload: mysql untagged, IfNotPresent", [c("mysql", "mysql",
                                                         imagePullPolicy="IfNotPresent"),
                                                       c("php", "php:7.0-apache")], "fail"),
    ("C-0075 pod: test:latest with Never", [c("test", "test:latest", imagePullPolicy="Never")],
     "fail"),
    ("C-0075 pod: untagged, no pull policy (C-0075 passes it)", [c("t", "test")], "fail"),
    ("C-0075 pod: hash-like tag", [c("t", "test:befacaad", imagePullPolicy="IfNotPresent")],
     "pass"),
    ("C-0075 cronjob: mysql untagged with Always (C-0075 passes it)",
     [c("mysql", "mysql", imagePullPolicy="Always")], "fail"),
    ("a registry port is not a tag", [c("a", "localhost:5000/app")], "fail"),
    ("pinned by digest", [c("a", "mcr.microsoft.com/a@sha256:0123")], "pass"),
    ("version tag", [c("a", "mcr.microsoft.com/oss/nginx:1.27")], "pass"),
]


@pytest.mark.parametrize("containers, expected", [c[1:] for c in TAG_CASES],
                         ids=[c[0] for c in TAG_CASES])
def test_image_tags(containers, expected):
    objects = cluster_view(pod(containers=containers))
    assert verdicts("AKS-MNT-005", objects) == {"Pod/default/p": expected}


def test_tags_listed_as_floating_fail_like_latest():
    """C-0075 pod-configured-floating-tag: with floatingImageTags [alpine], redis:alpine fails;
    without the list it is a tag like any other."""
    objects = cluster_view(pod(containers=[c("redis", "redis:alpine")]))
    assert evidence("AKS-MNT-005", objects, floating_tags=("alpine",)) == {
        "Pod/default/p": "container redis: redis:alpine (tag alpine is listed as floating)"}
    assert verdicts("AKS-MNT-005", objects) == {"Pod/default/p": "pass"}


def test_posture_takes_floating_tags(tmp_path):
    from aks_runbook import cli

    (tmp_path / "pod.json").write_text(json.dumps({"apiVersion": "v1",
                                                    **pod(containers=[c("r", "redis:stable")])}))
    for extra, status in (([], "pass"), (["--floating-tag", "stable"], "fail")):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli.main(["posture", "--from-files", str(tmp_path), "--format", "json",
                             "--chapter", "maintenance", *extra]) == 0
        [row] = [r for r in json.loads(out.getvalue()) if r["check"] == "AKS-MNT-005"]
        assert row["status"] == status


def test_init_and_ephemeral_images_are_read():
    objects = cluster_view(pod(containers=[c()], initContainers=[c("i", "busybox:latest")],
                               ephemeralContainers=[c("e", "busybox")]))
    assert evidence("AKS-MNT-005", objects) == {"Pod/default/p": (
        "init container i: busybox:latest; ephemeral container e: busybox has no tag (means "
        "latest)")}


def test_windows_images_are_judged_too():
    objects = cluster_view(pod(containers=[c("w", "mcr.microsoft.com/windows/servercore")],
                               os={"name": "windows"}))
    assert evidence("AKS-MNT-005", objects) == {"Pod/default/p": (
        "container w: mcr.microsoft.com/windows/servercore has no tag (means latest)")}
    assert verdicts("AKS-MNT-005", objects) == {"Pod/default/p": "fail"}


def test_c0075_cronjob_from_files(tmp_path):
    cron = workload("CronJob", "hello", containers=[c("mysql", "mysql", imagePullPolicy="Always"),
                                                   c("php", "php", imagePullPolicy="Never")])
    assert verdicts("AKS-MNT-005", files_view(tmp_path, cron), origin="files") == {
        "CronJob/default/hello": "fail"}


# ---- AKS-MNT-006 requests and limits (resources-*-limits/-requests; CKV_K8S_10-13) --------------

FULL = {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m",
                                                                 "memory": "128Mi"}}


@pytest.mark.parametrize("resources, missing", [
    (FULL, []),
    ({}, ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]),
    ({"limits": {"cpu": "1", "memory": "1Gi"}}, []),  # requests copied from the limits
    ({"requests": {"cpu": "1", "memory": "1Gi"}}, ["limits.cpu", "limits.memory"]),
    ({"requests": {"memory": "64Mi", "cpu": "250m"}, "limits": {"memory": "128Mi"}},
     ["limits.cpu"]),
    ({"requests": {"cpu": "", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}, []),
    ({"requests": None, "limits": None},
     ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]),
], ids=["all set", "none", "limits only", "requests only", "no cpu limit", "empty request, limit",
        "nulls"])
def test_missing_resources(resources, missing):
    assert missing_resources({"resources": resources}) == missing


RESOURCE_CASES = [
    ("C-0270 pod: log-aggregator without a cpu limit",
     [c("app", resources=FULL), c("log-aggregator", resources={
         "requests": {"memory": "64Mi"}, "limits": {"memory": "128Mi"}})], [], "fail"),
    ("C-0270 pod-only-limits: no cpu limit", [c("app", resources=FULL), c(
        "log-aggregator", resources={"requests": {"memory": "64Mi", "cpu": "250m"},
                                     "limits": {"memory": "128Mi"}})], [], "fail"),
    ("C-0269 pod_pass", [c("app", resources=FULL)], [], "pass"),
    ("C-0269 pod-only-requests: memory request copied from the limit (C-0269 fails it)",
     [c("app", resources=FULL), c("log-aggregator", resources={
         "requests": {"cpu": "250m"}, "limits": {"memory": "128Mi", "cpu": "500m"}})], [], "pass"),
    ("C-0270 cronjob: no resources", [c("hello")], [], "fail"),
    ("init container without resources (kubescape does not look)", [c("app", resources=FULL)],
     [c("init")], "fail"),
    ("empty resources", [c("app", resources={})], [], "fail"),
]


@pytest.mark.parametrize("containers, init, expected", [c[1:] for c in RESOURCE_CASES],
                         ids=[c[0] for c in RESOURCE_CASES])
def test_resources(containers, init, expected):
    spec = {"containers": containers, **({"initContainers": init} if init else {})}
    assert verdicts("AKS-MNT-006", cluster_view(pod(**spec))) == {"Pod/default/p": expected}


def test_ephemeral_containers_need_no_resources():
    objects = cluster_view(pod(containers=[c(resources=FULL)], ephemeralContainers=[c("e")]))
    assert verdicts("AKS-MNT-006", objects) == {"Pod/default/p": "pass"}


def test_resources_evidence():
    objects = cluster_view(pod(containers=[c("web", resources={"requests": {"cpu": "1"}})]))
    assert evidence("AKS-MNT-006", objects) == {"Pod/default/p": (
        "container web: no requests.memory, limits.cpu, limits.memory")}


# ---- AKS-MNT-007 PodDisruptionBudgets -----------------------------------------------------------

def replica_pods(count: int, owner: str = "web-7d4", kind: str = "ReplicaSet",
                 phase: str = "Running", namespace: str = "default") -> list[dict]:
    return [pod(f"{owner}-{i}", namespace, {"app": "web"}, (kind, owner), phase)
            for i in range(count)]


def pdb(name: str = "web", selector: dict | None = None, namespace: str = "default",
        **spec) -> dict:
    body = {**spec}
    if selector is not None:
        body["selector"] = selector
    return {"kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": namespace},
            "spec": body}


WEB = {"matchLabels": {"app": "web"}}
PDB_CASES = [
    ("maxUnavailable 1", [pdb(selector=WEB, maxUnavailable=1)], "pass"),
    ("minAvailable 2 of 3", [pdb(selector=WEB, minAvailable=2)], "pass"),
    ("minAvailable 50%", [pdb(selector=WEB, minAvailable="50%")], "pass"),
    ("maxUnavailable 34% rounds up to 2", [pdb(selector=WEB, maxUnavailable="34%")], "pass"),
    ("no PDB", [], "fail"),
    ("a PDB of another namespace", [pdb(selector=WEB, namespace="other", maxUnavailable=1)],
     "fail"),
    ("a PDB selecting other pods", [pdb(selector={"matchLabels": {"app": "db"}},
                                        maxUnavailable=1)], "fail"),
    ("null selector selects nothing (policy/v1)", [pdb(maxUnavailable=1)], "fail"),
    ("empty selector selects every pod (policy/v1)", [pdb(selector={}, maxUnavailable=1)],
     "pass"),
    ("maxUnavailable 0 blocks drains", [pdb(selector=WEB, maxUnavailable=0)], "fail"),
    ("maxUnavailable 0% blocks drains", [pdb(selector=WEB, maxUnavailable="0%")], "fail"),
    ("minAvailable equal to the replicas", [pdb(selector=WEB, minAvailable=3)], "fail"),
    ("minAvailable 100%", [pdb(selector=WEB, minAvailable="100%")], "fail"),
    ("minAvailable 90% rounds up to 3 of 3", [pdb(selector=WEB, minAvailable="90%")], "fail"),
    ("two PDBs on the same pods (Popeye 209)",
     [pdb("a", WEB, maxUnavailable=1), pdb("b", {"matchExpressions": [
         {"key": "app", "operator": "Exists"}]}, maxUnavailable=1)], "fail"),
]


@pytest.mark.parametrize("budgets, expected", [c[1:] for c in PDB_CASES],
                         ids=[c[0] for c in PDB_CASES])
def test_disruption_budgets_on_a_cluster(budgets, expected):
    objects = cluster_view(*replica_pods(3), *budgets)
    assert verdicts("AKS-MNT-007", objects) == {"ReplicaSet/default/web-7d4": expected}


@pytest.mark.parametrize("value, field, total, why", [
    (0, "maxUnavailable", 3, "maxUnavailable 0"), ("0%", "maxUnavailable", 3, "maxUnavailable 0%"),
    (1, "maxUnavailable", 3, None), (3, "minAvailable", 3, "minAvailable 3 of 3"),
    (2, "minAvailable", 3, None), ("67%", "minAvailable", 3, "minAvailable 67% of 3"),
    ("66%", "minAvailable", 3, None), ("bad", "minAvailable", 3, None)])
def test_blocks_drains(value, field, total, why):
    assert blocks_drains({"spec": {field: value}}, total) == why


def test_replicas_on_a_cluster_are_running_pods_per_owner():
    objects = cluster_view(*replica_pods(1), *replica_pods(2, phase="Succeeded"),
                           *replica_pods(2, "api-5c6"))
    assert verdicts("AKS-MNT-007", objects) == {"ReplicaSet/default/web-7d4": "not-applicable",
                                                "ReplicaSet/default/api-5c6": "fail"}


def test_daemonsets_jobs_bare_pods_and_system_namespaces_are_not_judged():
    objects = cluster_view(*replica_pods(3, "agent", "DaemonSet"), *replica_pods(3, "run", "Job"),
                           pod("solo"), *replica_pods(3, namespace="kube-system"))
    assert verdicts("AKS-MNT-007", objects) == {}


def test_unlisted_budgets_never_pass():
    objects = cluster_view(*replica_pods(3))
    del objects["poddisruptionbudgets"]
    assert verdicts("AKS-MNT-007", objects) == {"Pod/*": "not-applicable"}


@pytest.mark.parametrize("objects, expected", [
    ([workload("Deployment", "web", 3), pdb(selector=WEB, maxUnavailable=1)],
     {"Deployment/default/web": "pass"}),
    ([workload("Deployment", "web", 3)], {"Deployment/default/web": "fail"}),
    ([workload("Deployment", "web")], {"Deployment/default/web": "not-applicable"}),  # default 1
    ([workload("Deployment", "web", 0)], {"Deployment/default/web": "not-applicable"}),
    ([workload("StatefulSet", "web", 2)], {"StatefulSet/default/web": "fail"}),
    ([workload("DaemonSet", "web"), workload("CronJob", "job")], {}),
], ids=["replicas 3 with a PDB", "replicas 3 without", "replicas unset", "replicas 0",
        "StatefulSet", "DaemonSet and CronJob"])
def test_disruption_budgets_from_files(tmp_path, objects, expected):
    view = files_view(tmp_path, *objects)
    assert verdicts("AKS-MNT-007", view, origin="files") == expected


# ---- AKS-MNT-007 live status: what the Eviction API allows now -----------------------------------

def live(budget: dict, allowed: int, healthy: int, desired: int, expected: int = 3,
         generation: int = 1, observed: int | None = 1) -> dict:
    status = {"disruptionsAllowed": allowed, "currentHealthy": healthy,
              "desiredHealthy": desired, "expectedPods": expected}
    if observed is not None:
        status["observedGeneration"] = observed
    meta = {**budget["metadata"], "generation": generation}
    return {**budget, "metadata": meta, "status": status}


MIN_2 = pdb(selector=WEB, minAvailable=2)
STATUS_CASES = [
    # (case, budget, verdict)
    ("minAvailable 2 of 3 with 2 ready: disruptionsAllowed 0", live(MIN_2, 0, 2, 2), "fail"),
    ("minAvailable 2 of 3 with 3 ready: disruptionsAllowed 1", live(MIN_2, 1, 3, 2), "pass"),
    ("maxUnavailable 1 with one pod already down", live(pdb(selector=WEB, maxUnavailable=1),
                                                        0, 2, 2), "fail"),
    ("a spec that blocks drains fails whatever the status",
     live(pdb(selector=WEB, minAvailable=3), 1, 3, 2), "fail"),
    ("status of an older generation: judged from the spec",
     live(MIN_2, 0, 2, 2, generation=2, observed=1), "pass"),
    ("no observedGeneration: the status counts", live(MIN_2, 0, 2, 2, observed=None), "fail"),
    ("no status yet: judged from the spec", MIN_2, "pass"),
]


@pytest.mark.parametrize("budget, expected", [c[1:] for c in STATUS_CASES],
                         ids=[c[0] for c in STATUS_CASES])
def test_disruption_budgets_by_their_live_status(budget, expected):
    objects = cluster_view(*replica_pods(3), budget)
    assert verdicts("AKS-MNT-007", objects) == {"ReplicaSet/default/web-7d4": expected}


def test_live_status_is_named_in_the_evidence():
    found = evidence("AKS-MNT-007", cluster_view(*replica_pods(3), live(MIN_2, 0, 2, 2)))
    assert found == {"ReplicaSet/default/web-7d4": (
        "PodDisruptionBudget web (minAvailable 2, 3 replicas) allows no eviction now, status: "
        "disruptionsAllowed 0 (currentHealthy 2, desiredHealthy 2, expectedPods 3): a node "
        "drain waits until more pods are healthy")}
    found = evidence("AKS-MNT-007", cluster_view(*replica_pods(3), live(MIN_2, 1, 3, 2)))
    assert found == {"ReplicaSet/default/web-7d4": (
        "PodDisruptionBudget web (minAvailable 2, 3 replicas); status: disruptionsAllowed 1 "
        "(currentHealthy 3, desiredHealthy 2, expectedPods 3)")}
    found = evidence("AKS-MNT-007", cluster_view(*replica_pods(3), pdb(selector=WEB,
                                                                       minAvailable=3)))
    assert found == {"ReplicaSet/default/web-7d4": (
        "PodDisruptionBudget web (minAvailable 3 of 3) blocks node drains; status not reported "
        "yet by the disruption controller: judged from the spec")}


def test_from_files_the_status_is_not_known_and_not_read(tmp_path):
    """A saved status in a file (kubectl get -o yaml) is not the cluster's state now."""
    view = files_view(tmp_path, workload("Deployment", "web", 3), live(MIN_2, 0, 2, 2))
    [budget] = view["poddisruptionbudgets"]
    assert "status" not in budget
    found = evidence("AKS-MNT-007", view, origin="files")
    assert found == {"Deployment/default/web": (
        "PodDisruptionBudget web (3 replicas); from files: judged from the spec, its status "
        "(disruptionsAllowed) is not known")}
    assert verdicts("AKS-MNT-007", view, origin="files") == {"Deployment/default/web": "pass"}


# ---- AKS-MNT-008 readiness probes (configured-readiness-probe; CKV_K8S_9) -----------------------

PROBE = {"httpGet": {"path": "/ready", "port": 8080}}
PROBE_CASES = [
    ("C-0018 deployment: two containers with liveness probes only",
     [c("goproxy", livenessProbe=PROBE), c("goproxy2", livenessProbe=PROBE)], [], "fail"),
    ("every container has one", [c("a", readinessProbe=PROBE), c("b", readinessProbe=PROBE)], [],
     "pass"),
    ("one of two lacks it", [c("a", readinessProbe=PROBE), c("b")], [], "fail"),
    ("init containers need none", [c("a", readinessProbe=PROBE)], [c("init")], "pass"),
    ("an empty probe is no probe", [c("a", readinessProbe={})], [], "fail"),
]


@pytest.mark.parametrize("containers, init, expected", [c[1:] for c in PROBE_CASES],
                         ids=[c[0] for c in PROBE_CASES])
def test_readiness_probes(containers, init, expected):
    spec = {"containers": containers, **({"initContainers": init} if init else {})}
    assert verdicts("AKS-MNT-008", cluster_view(pod(**spec))) == {"Pod/default/p": expected}


def test_jobs_and_cronjobs_need_no_readiness_probe(tmp_path):
    objects = cluster_view(*replica_pods(1, "run-1", "Job"))
    assert verdicts("AKS-MNT-008", objects) == {}
    files = files_view(tmp_path, workload("CronJob", "nightly"), workload("Job", "once"),
                       workload("Deployment", "web"))
    assert verdicts("AKS-MNT-008", files, origin="files") == {"Deployment/default/web": "fail"}


WORKLOAD_CHECKS = ("AKS-MNT-005", "AKS-MNT-006", "AKS-MNT-008")


def test_unlisted_pods_never_pass():
    objects = cluster_view()
    del objects["pods"]
    found = {f.check: (f.resource, f.status) for f in run(objects)
             if f.check in (*WORKLOAD_CHECKS, "AKS-MNT-007")}
    assert found == {i: ("Pod/*", "not-applicable") for i in (*WORKLOAD_CHECKS, "AKS-MNT-007")}


def test_system_namespaces_are_skipped():
    objects = cluster_view(pod(namespace="kube-system", containers=[c("a", "nginx")]))
    assert not [f for f in run(objects) if f.check in WORKLOAD_CHECKS]


# ---- added for mutation testing: what each row says ---------------------------------------------

def skew_evidence(cluster: dict, *nodes: dict) -> dict[str, tuple[str, str]]:
    state = checks.State(cluster_view(*nodes) if nodes else {}, cluster={"name": "aks1", **cluster},
                         cluster_source="az aks show", has_cluster=bool(nodes))
    return {f.resource: (f.status, f.evidence) for f in checks.run(state, chapter="04")
            if f.check == "AKS-MNT-002"}


def test_skew_rows_say_how_far_each_pool_and_kubelet_is_from_the_control_plane():
    pools = [{"name": "same", "orchestratorVersion": "1.36.0"},
             {"name": "three", "currentOrchestratorVersion": "1.33.9"},
             {"name": "four", "orchestratorVersion": "1.32"},
             {"name": "unset"}, {"name": "odd", "orchestratorVersion": "next"}]
    found = skew_evidence({"currentKubernetesVersion": "1.36.2", "kubernetesVersion": "1.35",
                           "agentPoolProfiles": pools},
                          node("n1", "v1.37.1"), node("n2", "v1.34.0"))
    assert found == {
        "AgentPool/same": ("pass", "pool 1.36.0 vs control plane 1.36.2: same minor (az aks show)"),
        "AgentPool/three": ("pass", "pool 1.33.9 vs control plane 1.36.2: 3 minor(s) behind (az "
                                    "aks show)"),
        "AgentPool/four": ("fail", "pool 1.32 vs control plane 1.36.2: more than 3 minor versions "
                                   "older than the control plane (az aks show)"),
        "AgentPool/unset": ("not-applicable", "pool version not known (az aks show)"),
        "AgentPool/odd": ("not-applicable", "pool version 'next' is not a version (az aks show)"),
        "Node/n1": ("fail", "kubelet v1.37.1 vs control plane 1.36.2: newer than the control "
                            "plane (az aks show)"),
        "Node/n2": ("pass", "kubelet v1.34.0 vs control plane 1.36.2: 2 minor(s) behind (az aks "
                            "show)"),
    }


def test_skew_of_an_old_kubelet_allows_two_minors_and_names_the_rule():
    found = skew_evidence({"kubernetesVersion": "1.27.3"}, node("n1", "v1.24.9"),
                          node("n2", "v1.25.1"))
    assert found == {
        "Node/n1": ("fail", "kubelet v1.24.9 vs control plane 1.27.3: more than 2 minor versions "
                            "older than the control plane (az aks show)"),
        "Node/n2": ("pass", "kubelet v1.25.1 vs control plane 1.27.3: 2 minor(s) behind (az aks "
                            "show)")}


def test_skew_with_nothing_to_compare_or_no_version_says_so():
    assert skew_evidence({"kubernetesVersion": "1.36"}) == {"ManagedCluster/aks1": (
        "not-applicable", "no agent pools or nodes to compare (az aks show)")}
    assert skew_evidence({"agentPoolProfiles": [{"name": "p", "orchestratorVersion": "1.36"}]}
                         ) == {"ManagedCluster/aks1": (
        "not-applicable", "no Kubernetes version in the configuration (az aks show)")}


def test_a_budget_that_blocks_drains_fails_from_files_too(tmp_path):
    view = files_view(tmp_path, workload("Deployment", "web", 3), pdb(selector=WEB,
                                                                     minAvailable=3))
    assert evidence("AKS-MNT-007", view, origin="files") == {"Deployment/default/web": (
        "PodDisruptionBudget web (minAvailable 3 of 3) blocks node drains; from files: judged "
        "from the spec, its status (disruptionsAllowed) is not known")}
    assert verdicts("AKS-MNT-007", view, origin="files") == {"Deployment/default/web": "fail"}


@pytest.mark.parametrize("budget, expected", [
    (pdb(selector=WEB, maxUnavailable=1), (
        "fail", "PodDisruptionBudget web (maxUnavailable 1, 3 replicas) allows no eviction now, "
        "status: disruptionsAllowed 0 (currentHealthy 2, desiredHealthy 2, expectedPods 3): a "
        "node drain waits until more pods are healthy")),
    (pdb(selector=WEB), (
        "fail", "PodDisruptionBudget web (no minAvailable or maxUnavailable, 3 replicas) allows no "
        "eviction now, status: disruptionsAllowed 0 (currentHealthy 2, desiredHealthy 2, "
        "expectedPods 3): a node drain waits until more pods are healthy")),
    (pdb(selector=WEB, maxUnavailable=0), (
        "fail", "PodDisruptionBudget web (maxUnavailable 0) blocks node drains; status: "
        "disruptionsAllowed 0 (currentHealthy 2, desiredHealthy 2, expectedPods 3)")),
], ids=["maxUnavailable", "neither field", "blocking spec"])
def test_live_status_evidence_names_the_rule(budget, expected):
    found = run(cluster_view(*replica_pods(3), live(budget, 0, 2, 2)))
    assert {f.resource: (f.status, f.evidence) for f in found if f.check == "AKS-MNT-007"} == {
        "ReplicaSet/default/web-7d4": expected}


def test_without_a_status_yet_the_spec_is_judged_and_the_evidence_says_so():
    found = evidence("AKS-MNT-007", cluster_view(*replica_pods(3), MIN_2))
    assert found == {"ReplicaSet/default/web-7d4": (
        "PodDisruptionBudget web (3 replicas); status not reported yet by the disruption "
        "controller: judged from the spec")}


@pytest.mark.parametrize("value, field, why", [
    ("3", "minAvailable", "minAvailable 3 of 3"), ("30", "minAvailable", "minAvailable 30 of 3"),
    (" 100% ", "minAvailable", "minAvailable  100%  of 3"), ("5x%", "minAvailable", None),
    ("x5%", "minAvailable", None), ("%", "maxUnavailable", None), ("0", "maxUnavailable",
                                                                  "maxUnavailable 0")],
    ids=["number in quotes", "two digits in quotes", "spaces", "junk percent", "junk first",
         "bare percent sign", "zero in quotes"])
def test_blocks_drains_reads_quoted_numbers_and_ignores_junk(value, field, why):
    assert blocks_drains({"spec": {field: value}}, 3) == why


def test_kured_is_found_after_other_pods_and_by_a_short_image_name():
    pods = [pod("solo", "kube-system"), daemonset_pod("agent", "mcr.microsoft.com/agent:1"),
            daemonset_pod("kured", "kured:1.23.0")]
    assert azure({"autoUpgradeProfile": UNMANAGED}, cluster_view(*pods), "AKS-MNT-004") == {
        "ManagedCluster/aks1": "pass"}


def test_kured_only_in_an_init_container_reboots_nothing():
    """An init container must exit before the pod starts: kured there never watches for
    reboots."""
    ds = pod("r-x1", "kube-system", {"app": "r"}, ("DaemonSet", "r"),
             containers=[c("c", "mcr.microsoft.com/agent:1")],
             initContainers=[c("i", "ghcr.io/kubereboot/kured:1.23.0")])
    assert azure({"autoUpgradeProfile": UNMANAGED}, cluster_view(ds), "AKS-MNT-004") == {
        "ManagedCluster/aks1": "fail"}


SUPPORTED = ", ".join(f"1.{m}" for m in SUPPORTED_MINORS)
SUPPORT_CASES = [
    ("in support", f"v1.{NEWEST}.1", {}, (
        "pass", f"kubelet v1.{NEWEST}.1: 1.{NEWEST} is in AKS support ({SUPPORTED}, as of "
                "2026-11)")),
    ("newer than the list", f"v1.{NEWEST + 1}.0", {}, (
        "not-applicable", f"kubelet v1.{NEWEST + 1}.0 is newer than this check's list "
                          f"({SUPPORTED}, as of 2026-11): check az aks get-versions")),
    ("another major", "v2.0.0", {}, (
        "not-applicable", f"kubelet v2.0.0 is newer than this check's list ({SUPPORTED}, as of "
                          "2026-11): check az aks get-versions")),
    ("LTS", "v1.30.4", {"supportPlan": "AKSLongTermSupport"}, (
        "not-applicable", "kubelet v1.30.4 under the LTS support plan: check az aks "
                          "get-versions")),
    ("N-3", f"v1.{NEWEST - 3}.2", {}, (
        "fail", f"kubelet v1.{NEWEST - 3}.2: out of AKS support (N-3: platform support only, no "
                f"Kubernetes fixes); supported {SUPPORTED} (as of 2026-11)")),
    ("N-4", f"v1.{NEWEST - 4}.2", {}, (
        "fail", f"kubelet v1.{NEWEST - 4}.2: out of AKS support; supported {SUPPORTED} (as of "
                "2026-11)")),
    ("no version", None, {}, ("not-applicable", "kubelet version not known")),
    ("not a version", "unknown", {}, (
        "not-applicable", "kubelet version 'unknown' is not a version")),
]


@pytest.mark.parametrize("version, cluster, expected", [c[1:] for c in SUPPORT_CASES],
                         ids=[c[0] for c in SUPPORT_CASES])
def test_support_evidence_says_why(version, cluster, expected):
    found = run(cluster_view(node("n1", version)), cluster=cluster or None)
    [row] = [(f.status, f.evidence) for f in found
             if f.check == "AKS-MNT-001" and f.resource == "Node/n1"]
    assert row == expected


@pytest.mark.parametrize("check_id, profile, expected", [
    ("AKS-MNT-003", {"upgradeChannel": "stable"}, ("pass", "upgradeChannel stable")),
    ("AKS-MNT-003", {"upgradeChannel": "node-image"}, (
        "fail", "upgradeChannel node-image (node images only: Kubernetes versions stay manual)")),
    ("AKS-MNT-003", {"upgradeChannel": "none"}, ("fail", "upgradeChannel none")),
    ("AKS-MNT-003", {}, (
        "fail", "upgradeChannel not set (AKS's default is none: no automatic upgrades)")),
    ("AKS-MNT-004", {"nodeOsUpgradeChannel": "SecurityPatch"}, (
        "pass", "nodeOsUpgradeChannel SecurityPatch")),
    ("AKS-MNT-004", {"nodeOsUpgradeChannel": "None"}, (
        "fail", "nodeOsUpgradeChannel None (no OS patches)")),
    ("AKS-MNT-004", {}, ("fail", "nodeOsUpgradeChannel not set")),
], ids=["stable", "node-image", "none", "no channel", "SecurityPatch", "None", "no OS channel"])
def test_channel_evidence_says_what_is_set(check_id, profile, expected):
    state = checks.State(cluster={"name": "aks1", "autoUpgradeProfile": profile},
                         cluster_source="az aks show", has_cluster=False)
    [row] = [(f.status, f.evidence) for f in checks.run(state, chapter="04")
             if f.check == check_id]
    assert row == (expected[0], expected[1] + " (az aks show)")


def test_unmanaged_without_kured_says_where_it_looked():
    pods = [daemonset_pod("agent", "mcr.microsoft.com/agent:1")]
    state = checks.State(cluster_view(*pods), cluster={"name": "aks1",
                                                       "autoUpgradeProfile": UNMANAGED},
                         cluster_source="az aks show")
    [found] = [f for f in checks.run(state, chapter="04") if f.check == "AKS-MNT-004"]
    assert (found.status, found.evidence) == ("fail", (
        "nodeOsUpgradeChannel Unmanaged (OS patches without reboots: kured needed) (az aks "
        "show); no kured DaemonSet among the pods"))


def test_kured_evidence_names_every_kured_daemonset():
    pods = [daemonset_pod("kured", "ghcr.io/kubereboot/kured:1.23.0"),
            daemonset_pod("kured-gpu", "ghcr.io/kubereboot/kured:1.23.0", "ops")]
    state = checks.State(cluster_view(*pods), cluster={"name": "aks1",
                                                       "autoUpgradeProfile": UNMANAGED},
                         cluster_source="az aks show")
    [found] = [f for f in checks.run(state, chapter="04") if f.check == "AKS-MNT-004"]
    assert found.evidence.endswith("kured reboots the nodes: DaemonSet/kube-system/kured, "
                                   "DaemonSet/ops/kured-gpu")


@pytest.mark.parametrize("profile, shown", [
    ({"upgradeChannel": "none", "nodeOsUpgradeChannel": "None"},
     "upgradeChannel none, nodeOsUpgradeChannel None"),
    ({"nodeOsUpgradeChannel": "Unmanaged"}, "upgradeChannel not set, nodeOsUpgradeChannel "
                                            "Unmanaged"),
    (None, "upgradeChannel not set, nodeOsUpgradeChannel not set")])
def test_no_window_needed_says_which_channels_are_set(profile, shown):
    cluster = {"name": "aks1", "maintenanceConfigurations": []}
    if profile is not None:
        cluster["autoUpgradeProfile"] = profile
    state = checks.State(cluster=cluster, cluster_source="az aks show", has_cluster=False)
    [found] = [f for f in checks.run(state, chapter="04") if f.check == "AKS-MNT-009"]
    assert (found.resource, found.status, found.evidence) == (
        "ManagedCluster/aks1", "not-applicable",
        f"no channel upgrades on its own ({shown}): nothing for a window to schedule (az aks "
        "show)")


def test_failed_pods_are_not_replicas():
    objects = cluster_view(*replica_pods(1), *replica_pods(2, phase="Failed"))
    assert verdicts("AKS-MNT-007", objects) == {"ReplicaSet/default/web-7d4": "not-applicable"}


def test_nodes_not_listed_or_none_say_which():
    objects = cluster_view()
    assert evidence("AKS-MNT-001", objects) == {"Node/*": "no nodes to judge"}
    del objects["nodes"]
    assert evidence("AKS-MNT-001", objects) == {"Node/*": "cannot judge: nodes could not be "
                                                          "listed"}


@pytest.mark.parametrize("check_id, container, expected", [
    ("AKS-MNT-005", c("a", "mcr.microsoft.com/a:1"), "every image pinned to a tag or digest"),
    ("AKS-MNT-005", {"name": "a"}, "container a: (no image) has no tag (means latest)"),
    ("AKS-MNT-006", c("a", resources=FULL), "requests and limits set for cpu and memory"),
    ("AKS-MNT-008", c("a", readinessProbe=PROBE), "every container has a readinessProbe"),
    ("AKS-MNT-008", c("a"), "container a: no readinessProbe"),
], ids=["pinned", "no image", "resources set", "probe", "no probe"])
def test_workload_evidence(check_id, container, expected):
    assert evidence(check_id, cluster_view(pod(containers=[container]))) == {
        "Pod/default/p": expected}


def test_a_single_replica_says_a_drain_interrupts_it():
    assert evidence("AKS-MNT-007", cluster_view(*replica_pods(1))) == {
        "ReplicaSet/default/web-7d4": "1 replica: a drain always interrupts it (run 2 or more)"}
    found = evidence("AKS-MNT-007", cluster_view(*replica_pods(3)))
    assert found == {"ReplicaSet/default/web-7d4": "3 replicas and no PodDisruptionBudget: a "
                                                   "drain may evict them all at once"}
    budgets = [pdb("b", WEB, maxUnavailable=1), pdb("a", WEB, maxUnavailable=1)]
    found = evidence("AKS-MNT-007", cluster_view(*replica_pods(3), *budgets))
    assert found == {"ReplicaSet/default/web-7d4": "several PodDisruptionBudgets (a, b): "
                                                   "eviction fails"}


def test_a_status_inside_files_is_never_read(tmp_path):
    """Files judged as files: a status saved with the object is not the cluster's state now,
    whichever loader built the view."""
    objects = files_view(tmp_path, workload("Deployment", "web", 3), MIN_2)
    objects["poddisruptionbudgets"] = [live(MIN_2, 0, 2, 2)]
    assert evidence("AKS-MNT-007", objects, origin="files") == {"Deployment/default/web": (
        "PodDisruptionBudget web (3 replicas); from files: judged from the spec, its status "
        "(disruptionsAllowed) is not known")}


def test_a_single_replica_workload_does_not_hide_the_ones_after_it():
    objects = cluster_view(*replica_pods(1, "api-5c6"), *replica_pods(3))
    assert verdicts("AKS-MNT-007", objects) == {"ReplicaSet/default/api-5c6": "not-applicable",
                                                "ReplicaSet/default/web-7d4": "fail"}
