"""Checks for chapter 04 (maintenance): Kubernetes versions (supported, control plane to node
skew), automatic upgrade channels and their maintenance windows, and what lets workloads survive
node upgrades: pinned image tags, resource requests and limits, PodDisruptionBudgets and
readiness probes.

Live status decides where it exists: on a cluster a PodDisruptionBudget is judged by its
`status.disruptionsAllowed` (what the Eviction API will allow now), from files by its spec, and
the evidence says which."""

from __future__ import annotations

import math
import re

from aks_runbook.analysis.reachability import matches
from aks_runbook.checks import (
    Check,
    Finding,
    State,
    check,
    containers,
    field_of,
    owner,
    resource,
)
from aks_runbook.checks.workloads import (
    PODS,
    Verdict,
    per_container,
    per_workload,
    user_pods,
    verdict,
)

# AKS standard support, a dated table: "Supported Kubernetes Versions in AKS" (its release
# calendar: 1.37 GA 2026-10, 1.34 out of support 2026-11). On a live cluster `az aks
# get-versions` is the authority; update this table with the calendar.
SUPPORTED_MINORS = (35, 36, 37)
SUPPORT_AS_OF = "2026-11"
SKEW_POLICY = "Kubernetes Version Skew Policy (kubelet)"


def minor(version: str | None) -> tuple[int, int] | None:
    """(major, minor) of v1.33.2, 1.33.2 or 1.33; None when it is not a version."""
    found = re.match(r"v?(\d+)\.(\d+)", str(version).strip())
    return (int(found[1]), int(found[2])) if found else None


def _cluster(state: State) -> str:
    return f"ManagedCluster/{field_of(state.cluster, 'name') or 'cluster'}"


def _source(state: State) -> str:
    return f" ({state.cluster_source})"


def _kubelet(node: dict) -> str | None:
    return ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion")


def _supported() -> str:
    return ", ".join(f"1.{m}" for m in SUPPORTED_MINORS)


def _unknown(what: str, version: str | None) -> str:
    return (f"{what} version not known" if version is None
            else f"{what} version {version!r} is not a version")


def _support(me: Check, where: str, what: str, version: str | None, lts: bool) -> Finding:
    """One version (a kubelet's or the control plane's) against the dated support table."""
    found = minor(version)
    if found is None:
        return me.finding(where, "not-applicable", _unknown(what, version))
    if found > (1, max(SUPPORTED_MINORS)):
        return me.finding(where, "not-applicable", f"{what} {version} is newer than this "
                          f"check's list ({_supported()}, as of {SUPPORT_AS_OF}): check az aks "
                          "get-versions")
    if found[0] == 1 and found[1] in SUPPORTED_MINORS:
        return me.finding(where, "pass", f"{what} {version}: 1.{found[1]} is in AKS support "
                          f"({_supported()}, as of {SUPPORT_AS_OF})")
    if lts:
        return me.finding(where, "not-applicable", f"{what} {version} under the LTS support "
                          "plan: check az aks get-versions")
    n3 = (1, max(SUPPORTED_MINORS) - 3)
    note = " (N-3: platform support only, no Kubernetes fixes)" if found == n3 else ""
    return me.finding(where, "fail", f"{what} {version}: out of AKS support{note}; supported "
                      f"{_supported()} (as of {SUPPORT_AS_OF})")


@check("AKS-MNT-001", "04-maintenance", "Control plane or node runs a Kubernetes version out of "
       "AKS support", 5.0,
       "kubescape C-0273; Popeye 405",
       "az aks upgrade -k <supported version> (one minor at a time), then the node pools",
       differs="C-0273 compares kubelets with upstream's three newest minors; here with AKS's "
               f"supported minors ({_supported()} as of {SUPPORT_AS_OF}, from the calendar in "
               "'Supported Kubernetes Versions in AKS'; N-3 has platform support only), and the "
               "control plane's version (currentKubernetesVersion, else kubernetesVersion, from "
               "the cluster configuration) is judged too. A version newer than that list is "
               "not-applicable, so is an older one under the LTS support plan")
def supported_version(state: State, me: Check) -> list[Finding]:
    lts = field_of(state.cluster, "supportPlan") == "AKSLongTermSupport"
    findings = []
    if state.cluster is not None:
        version = (field_of(state.cluster, "currentKubernetesVersion")
                   or field_of(state.cluster, "kubernetesVersion"))
        found = _support(me, _cluster(state), "control plane", version, lts)
        findings.append(me.finding(found.resource, found.status, found.evidence
                                   + _source(state)))
    missing = state.unlisted("nodes")
    if missing:
        return [*findings, me.not_listed("Node/*", missing)]
    nodes = state.objects.get("nodes")
    if not nodes:
        return [*findings, me.finding("Node/*", "not-applicable", "no nodes to judge")]
    return findings + [_support(me, resource(node, "Node"), "kubelet", _kubelet(node), lts)
                       for node in nodes]


def skew(control_plane: tuple[int, int], kubelet: tuple[int, int]) -> str | None:
    """Why this kubelet breaks the version skew policy against this API server, or None.
    kubelet may be up to three minors older (two when it is older than 1.25), never newer."""
    if kubelet > control_plane:
        return "newer than the control plane"
    allowed = 3 if kubelet >= (1, 25) else 2
    if kubelet[0] != control_plane[0] or control_plane[1] - kubelet[1] > allowed:
        return f"more than {allowed} minor versions older than the control plane"
    return None


@check("AKS-MNT-002", "04-maintenance", "Node pool or kubelet outside the version skew policy",
       7.0, SKEW_POLICY,
       "az aks nodepool upgrade -k <control plane version> for each pool behind; a pool can "
       "never be newer than the control plane",
       scope="azure",
       differs="The policy speaks of kubelets; here each agent pool's version in the "
               "configuration is judged too, and each node's kubelet when nodes were listed")
def version_skew(state: State, me: Check) -> list[Finding]:
    version = (field_of(state.cluster, "currentKubernetesVersion")
               or field_of(state.cluster, "kubernetesVersion"))
    control_plane = minor(version)
    if control_plane is None:
        return [me.finding(_cluster(state), "not-applicable", "no Kubernetes version in the "
                           "configuration" + _source(state))]
    judged = [(f"AgentPool/{field_of(p, 'name')}", "pool",
               field_of(p, "currentOrchestratorVersion") or field_of(p, "orchestratorVersion"))
              for p in field_of(state.cluster, "agentPoolProfiles") or []]
    judged += [(resource(n, "Node"), "kubelet", _kubelet(n))
               for n in state.objects.get("nodes", [])]
    findings = []
    for where, what, theirs in judged:
        found = minor(theirs)
        if found is None:
            findings.append(me.finding(where, "not-applicable",
                                       _unknown(what, theirs) + _source(state)))
            continue
        why = skew(control_plane, found)
        status = "fail" if why else "pass"
        behind = control_plane[1] - found[1]  # same major: another one is a skew (`why`)
        detail = why or ("same minor" if behind == 0 else f"{behind} minor(s) behind")
        findings.append(me.finding(where, status, f"{what} {theirs} vs control plane {version}: "
                                   f"{detail}" + _source(state)))
    if not findings:
        findings.append(me.finding(_cluster(state), "not-applicable", "no agent pools or nodes "
                                   "to compare" + _source(state)))
    return findings


KUBERNETES_CHANNELS = ("patch", "stable", "rapid")
NODE_OS_CHANNELS = ("nodeimage", "securitypatch")


def _setting(data: dict | None, path: str) -> str:
    """A setting as the evidence shows it: "not set" when the configuration lacks it."""
    value = field_of(data, path)
    return "not set" if value is None else str(value)


@check("AKS-MNT-003", "04-maintenance", "No automatic Kubernetes upgrade channel", 5.0,
       "checkov CKV_AZURE_171; AKS checklist e189c599-df0d-45a7-9dd4-ce32c1881370",
       "az aks update --auto-upgrade-channel patch (or stable), and a maintenance window: az aks "
       "maintenanceconfiguration add -n aksManagedAutoUpgradeSchedule ...",
       scope="azure",
       differs="CKV_AZURE_171 passes any channel but none; here node-image fails too: that legacy "
               "channel renews node images only and leaves Kubernetes versions to you")
def upgrade_channel(state: State, me: Check) -> list[Finding]:
    channel = _setting(state.cluster, "autoUpgradeProfile.upgradeChannel")
    ok = channel.lower() in KUBERNETES_CHANNELS
    why = {"node-image": " (node images only: Kubernetes versions stay manual)",
           "not set": " (AKS's default is none: no automatic upgrades)"}
    evidence = f"upgradeChannel {channel}" + why.get(channel.lower(), "")
    return [me.finding(_cluster(state), "pass" if ok else "fail", evidence + _source(state))]


def kured(state: State) -> list[str]:
    """The workloads running kured (a DaemonSet whose image is .../kured), in any namespace."""
    found = set()
    for pod in state.objects.get("pods", []):
        if not owner(pod).startswith("DaemonSet/"):
            continue
        images = [c.get("image") or "" for _, c in containers(pod, ("containers",))]
        if any(image.split("@")[0].split("/")[-1].split(":")[0] == "kured" for image in images):
            found.add(owner(pod))
    return sorted(found)


@check("AKS-MNT-004", "04-maintenance", "No managed node OS upgrade channel", 5.0,
       "AKS docs auto-upgrade-node-os-image (CKV_AZURE_171 covers only the cluster channel)"
       "; AKS checklist 139c9580-ade3-426a-ba09-cf157d9f6477",
       "az aks update --node-os-upgrade-channel NodeImage (or SecurityPatch), and a window: az "
       "aks maintenanceconfiguration add -n aksManagedNodeOSUpgradeSchedule ...; or, to stay on "
       "Unmanaged, run kured (AKS docs 'Apply security and kernel updates to Linux nodes')",
       scope="azure",
       differs="Unmanaged passes only when a kured DaemonSet runs (read from the cluster's or "
               "the files' pods): the OS patches itself but only kured reboots the nodes. None "
               "and an absent channel fail")
def node_os_channel(state: State, me: Check) -> list[Finding]:
    channel = _setting(state.cluster, "autoUpgradeProfile.nodeOsUpgradeChannel")
    name = channel.lower()
    evidence = f"nodeOsUpgradeChannel {channel}"
    if name in NODE_OS_CHANNELS:
        return [me.finding(_cluster(state), "pass", evidence + _source(state))]
    if name != "unmanaged":
        why = " (no OS patches)" if name == "none" else ""
        return [me.finding(_cluster(state), "fail", evidence + why + _source(state))]
    rebooters = kured(state)
    if rebooters:
        return [me.finding(_cluster(state), "pass", f"{evidence} (OS patches without reboots)"
                           f"{_source(state)}; kured reboots the nodes: {', '.join(rebooters)}")]
    if not state.has_cluster or state.unlisted("pods"):
        seen = "pods were not listed, so kured is not known"
    else:
        seen = "no kured DaemonSet among the pods"
    return [me.finding(_cluster(state), "fail", f"{evidence} (OS patches without reboots: kured "
                       f"needed){_source(state)}; {seen}")]


WINDOWS = {"aksManagedAutoUpgradeSchedule": ("upgradeChannel", KUBERNETES_CHANNELS
                                             + ("node-image",)),
           "aksManagedNodeOSUpgradeSchedule": ("nodeOsUpgradeChannel", NODE_OS_CHANNELS)}


@check("AKS-MNT-009", "04-maintenance", "Automatic upgrade channel without its planned "
       "maintenance window", 4.0,
       "AKS docs planned-maintenance, auto-upgrade-cluster (no public check id)",
       "az aks maintenanceconfiguration add -g RG --cluster-name NAME -n "
       "aksManagedAutoUpgradeSchedule (or aksManagedNodeOSUpgradeSchedule) --schedule-type "
       "Weekly --day-of-week ... --interval-weeks 1 --start-time ... --duration 4",
       scope="azure",
       differs="Reads maintenanceConfigurations in the cluster configuration (the output of az aks "
               "maintenanceconfiguration list; az aks show does not carry it): without it the "
               "check is not-applicable. Each channel that upgrades on its own (auto-upgrade "
               "patch, stable, rapid, node-image; node OS NodeImage, SecurityPatch) needs its "
               "aksManaged* configuration, else AKS upgrades whenever it chooses ('Use Planned "
               "Maintenance to Schedule and Control Upgrades for AKS Clusters')")
def maintenance_windows(state: State, me: Check) -> list[Finding]:
    profile = field_of(state.cluster, "autoUpgradeProfile")
    needed = {config: f"{field} {_setting(profile, field)}"
              for config, (field, channels) in WINDOWS.items()
              if _setting(profile, field).lower() in channels}
    if not needed:
        return [me.finding(_cluster(state), "not-applicable", "no channel upgrades on its own "
                           f"(upgradeChannel {_setting(profile, 'upgradeChannel')}, "
                           f"nodeOsUpgradeChannel {_setting(profile, 'nodeOsUpgradeChannel')}): "
                           "nothing for a window to schedule" + _source(state))]
    configured = field_of(state.cluster, "maintenanceConfigurations")
    if not isinstance(configured, list):
        return [me.finding(_cluster(state), "not-applicable", "maintenance configurations not "
                           "known: they are not in az aks show JSON (add az aks "
                           "maintenanceconfiguration list as maintenanceConfigurations)"
                           + _source(state))]
    names = {field_of(c, "name") for c in configured if isinstance(c, dict)}
    return [me.finding(f"MaintenanceConfiguration/{config}", "pass" if config in names else "fail",
                       f"{channel}: " + ("its window is configured" if config in names else
                                         f"no {config}: AKS upgrades at any time")
                       + _source(state))
            for config, channel in needed.items()]


# ---- workloads ----------------------------------------------------------------------------------

def image_tag(image: str) -> str | None:
    """The tag of an image reference ("" when none), or None when it is pinned by digest. A
    registry port (host:5000/app) is not a tag: the tag is in the last path part."""
    if "@" in image:
        return None
    return image.split("/")[-1].partition(":")[2]


@check("AKS-MNT-005", "04-maintenance", "Image tag latest or no tag", 4.0,
       "checkov CKV_K8S_14; Popeye 100, 101; kubescape C-0075",
       "Pin every image to a version tag, or better a digest (image@sha256:...)",
       differs="C-0075 passes latest or untagged images pulled with imagePullPolicy Always (or "
               "unset) and reads only `containers`; here they fail whatever the pull policy, in "
               "init and ephemeral containers too. A digest passes, as in CKV_K8S_14. Tags "
               "listed as floating (posture --floating-tag, kubescape's floatingImageTags) "
               "fail like latest. "
               "kube-system, kube-public and kube-node-lease are skipped (AKS manages them)",
       reads=PODS)
def floating_tags(state: State, me: Check) -> list[Finding]:
    def problem(pod: dict, container: dict) -> str | None:
        image = container.get("image") or "(no image)"
        tag = image_tag(image)
        if tag == "":
            return f"{image} has no tag (means latest)"
        if tag == "latest":
            return image
        if tag in state.floating_tags:
            return f"{image} (tag {tag} is listed as floating)"
        return None

    return per_container(state, me, problem, "every image pinned to a tag or digest")


RESOURCES = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


def missing_resources(container: dict) -> list[str]:
    """The requests and limits a container leaves unset. A request left out beside a limit is
    set: the API server copies the limit into it."""
    resources = container.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    present = {f"limits.{k}" for k, v in limits.items() if v}
    present |= {f"requests.{k}" for k in (*limits, *requests) if requests.get(k) or limits.get(k)}
    return [r for r in RESOURCES if r not in present]


@check("AKS-MNT-006", "04-maintenance", "CPU or memory requests or limits not set", 6.0,
       "kubescape C-0270, C-0271, C-0268, C-0269; checkov CKV_K8S_10-13; Popeye 106, 107"
       "; AKS checklist b54eb2eb-03dd-4aa3-9927-18e2edb11726",
       "Set resources.requests (cpu, memory) and resources.limits (cpu, memory) on every "
       "container; a namespace LimitRange can supply defaults",
       differs="One row per workload names every missing field (the public ids give one per "
               "field). A request left out beside its limit counts as set (the API server copies "
               "it). initContainers are read, as in checkov (kubescape reads only `containers`). "
               "From files a LimitRange's defaults are not applied. kube-system, kube-public and "
               "kube-node-lease are skipped (AKS manages them)",
       reads=PODS)
def resources(state: State, me: Check) -> list[Finding]:
    def judge(pod: dict) -> Verdict:
        problems = [f"{name}: no {', '.join(gaps)}"
                    for name, container in containers(pod, ("containers", "initContainers"))
                    if (gaps := missing_resources(container))]
        return verdict(problems, "requests and limits set for cpu and memory")

    return per_workload(state, me, judge)


NOT_REPLICATED = ("DaemonSet", "Job", "CronJob", "Pod")
REPLICATED_PLURALS = {"Deployment": "deployments", "StatefulSet": "statefulsets",
                      "ReplicaSet": "replicasets",
                      "ReplicationController": "replicationcontrollers"}


def _running(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def replicas(state: State) -> dict[str, tuple[int, dict]]:
    """Workload -> (replicas, one of its pods), for workloads that keep replicas (not
    DaemonSets, Jobs or bare pods). From files: the workload's spec.replicas (default 1); from a
    cluster: its running pods (a Deployment's pods belong to its ReplicaSets)."""
    declared = {resource(w, kind): (w.get("spec") or {}).get("replicas")
                for kind, plural in REPLICATED_PLURALS.items()
                for w in state.objects.get(plural, [])}
    found: dict[str, tuple[int, dict]] = {}
    for pod in user_pods(state):
        workload = owner(pod)
        if workload.split("/")[0] in NOT_REPLICATED or not (state.from_files or _running(pod)):
            continue
        if state.from_files:
            count = declared.get(workload)
            found[workload] = (1 if count is None else count, pod)
        else:
            count = found.get(workload, (0, pod))[0]
            found[workload] = (count + 1, pod)
    return found


def _scaled(value: int | str, total: int) -> int | None:
    """An IntOrString of a PDB for this many pods, None when it is neither; percentages round
    up, as the disruption controller does. A number in quotes ("3", which the API server refuses)
    is read as the number, so that a file's typo never turns a blocking budget into a pass."""
    if isinstance(value, int):
        return value
    found = re.fullmatch(r"(\d+)(%?)", str(value).strip())
    if found is None:
        return None
    number = int(found[1])
    return math.ceil(number * total / 100) if found[2] else number


def blocks_drains(pdb: dict, total: int) -> str | None:
    """Why this PDB lets no pod of `total` be evicted, or None."""
    spec = pdb.get("spec") or {}
    if "maxUnavailable" in spec:
        if _scaled(spec["maxUnavailable"], total) == 0:
            return f"maxUnavailable {spec['maxUnavailable']}"
    elif "minAvailable" in spec:
        needed = _scaled(spec["minAvailable"], total)
        if needed is not None and needed >= total:
            return f"minAvailable {spec['minAvailable']} of {total}"
    return None


STATUS_FIELDS = ("currentHealthy", "desiredHealthy", "expectedPods")


def disruption_status(pdb: dict) -> dict | None:
    """The PDB's status as the disruption controller last wrote it, or None when it has not
    observed this spec yet (no status, or observedGeneration behind metadata.generation)."""
    status = pdb.get("status") or {}
    if not isinstance(status.get("disruptionsAllowed"), int):
        return None
    observed, generation = status.get("observedGeneration"), pdb["metadata"].get("generation")
    if isinstance(observed, int) and isinstance(generation, int) and observed < generation:
        return None
    return status


def describe_status(status: dict) -> str:
    """The status in words; policy/v1 always writes the three counts beside disruptionsAllowed."""
    counts = ", ".join(f"{key} {status[key]}" for key in STATUS_FIELDS if key in status)
    return f"status: disruptionsAllowed {status['disruptionsAllowed']} ({counts})"


def _budget_verdict(state: State, budget: dict, count: int) -> Verdict:
    """One PDB over `count` replicas: the spec's verdict, and on a cluster the live status's
    (disruptionsAllowed 0 means the Eviction API refuses every eviction now)."""
    name = budget["metadata"]["name"]
    spec = budget.get("spec") or {}
    rule = ", ".join(f"{key} {spec[key]}" for key in ("minAvailable", "maxUnavailable")
                     if key in spec) or "no minAvailable or maxUnavailable"
    why = blocks_drains(budget, count)
    judged = (f"PodDisruptionBudget {name} ({why}) blocks node drains" if why else
              f"PodDisruptionBudget {name} ({count} replicas)")
    status = None if state.from_files else disruption_status(budget)
    if status is None:
        unknown = ("from files: judged from the spec, its status (disruptionsAllowed) is not "
                   "known" if state.from_files else "status not reported yet by the disruption "
                   "controller: judged from the spec")
        return ("fail" if why else "pass"), f"{judged}; {unknown}"
    live = describe_status(status)
    if why:
        return "fail", f"{judged}; {live}"
    if status["disruptionsAllowed"] < 1:
        return "fail", (f"PodDisruptionBudget {name} ({rule}, {count} replicas) allows no "
                        f"eviction now, {live}: a node drain waits until more pods are healthy")
    return "pass", f"PodDisruptionBudget {name} ({rule}, {count} replicas); {live}"


def _budgets(pdbs: list[dict], pod: dict) -> list[dict]:
    """The PDBs selecting this pod (policy/v1: a null selector selects nothing, {} all)."""
    meta = pod["metadata"]
    return [b for b in pdbs if b["metadata"].get("namespace") == meta["namespace"]
            and (b.get("spec") or {}).get("selector") is not None
            and matches(b["spec"]["selector"], meta.get("labels") or {})]


@check("AKS-MNT-007", "04-maintenance", "Replicated workload without a usable "
       "PodDisruptionBudget", 4.0,
       "Popeye 206, 209; AKS docs upgrade-options (drains honour PDBs)"
       "; AKS checklist c1288b3c-6a57-4cfc-9444-51e1a3d3453a",
       "Add one PodDisruptionBudget per workload, e.g. maxUnavailable: 1; never minAvailable equal "
       "to the replicas or maxUnavailable 0, which block node drains",
       differs="Popeye 206 flags every pod without a PDB; here only workloads with 2 or more "
               "replicas are judged (one replica: not-applicable), DaemonSets, Jobs and bare pods "
               "are not. Replicas from files: spec.replicas; from a cluster: running pods per "
               "owner (a Deployment's ReplicaSet). A PDB that allows no eviction fails: by its "
               "spec, and on a cluster by its live status.disruptionsAllowed 0 (e.g. minAvailable "
               "2 over 3 replicas with only 2 ready: the commonest stuck drain, AKS docs "
               "upgrade-options); from files the status is not known and the evidence says so. "
               "Several PDBs on one pod fail (Popeye 209: eviction then errors). kube-system, "
               "kube-public and kube-node-lease are skipped (AKS manages them)",
       reads=("pods", "poddisruptionbudgets"))
def disruption_budgets(state: State, me: Check) -> list[Finding]:
    pdbs = state.items("poddisruptionbudgets")
    findings = []
    for workload, (count, pod) in sorted(replicas(state).items()):
        if count < 2:
            findings.append(me.finding(workload, "not-applicable", f"{count} replica: a drain "
                                       "always interrupts it (run 2 or more)"))
            continue
        budgets = _budgets(pdbs, pod)
        names = ", ".join(sorted(b["metadata"]["name"] for b in budgets))
        if not budgets:
            status, evidence = "fail", (f"{count} replicas and no PodDisruptionBudget: a drain "
                                        "may evict them all at once")
        elif len(budgets) > 1:
            status, evidence = "fail", f"several PodDisruptionBudgets ({names}): eviction fails"
        else:
            status, evidence = _budget_verdict(state, budgets[0], count)
        findings.append(me.finding(workload, status, evidence))
    return findings


@check("AKS-MNT-008", "04-maintenance", "Container without a readiness probe", 3.0,
       "kubescape C-0018; checkov CKV_K8S_9; Popeye 104"
       "; AKS checklist f4fd0602-7ab5-46f1-b66a-e9dea9654a65",
       "Add a readinessProbe to every container that serves traffic, so a rolling upgrade waits "
       "for new pods to be ready",
       differs="As CKV_K8S_9, Jobs, CronJobs and init containers are not judged (C-0018 judges "
               "Jobs and CronJobs). kube-system, kube-public and kube-node-lease are skipped (AKS "
               "manages them). The AKS checklist's item f4fd0602 asks for liveness probes too; "
               "they are not judged here",
       reads=PODS)
def readiness_probes(state: State, me: Check) -> list[Finding]:
    def judge(pod: dict) -> Verdict | None:
        if owner(pod).split("/")[0] in ("Job", "CronJob"):
            return None
        problems = [f"{name}: no readinessProbe"
                    for name, container in containers(pod, ("containers",))
                    if not container.get("readinessProbe")]
        return verdict(problems, "every container has a readinessProbe")

    return per_workload(state, me, judge)
