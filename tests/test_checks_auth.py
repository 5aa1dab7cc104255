"""Chapter 03 (auth) checks, AKS-AUTH-001 to -018, on views from a cluster and from files and on
`az aks show` JSON. Cases named `C-xxxx <case>` mirror the published test cases of kubescape's
rules (kubescape/regolibrary rules/<rule>/test/<case>), `CKV_AZURE_nnn <case>` checkov's ARM test
examples; they are recreated as small objects, and where a check judges differently the
expected verdict is this check's and the case says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from aks_runbook import checks
from aks_runbook.azure import plan as azplan
from aks_runbook.params import load
from check_views import cluster_view, files_view

ROOT = Path(__file__).resolve().parents[1]


def run(objects: dict, **state) -> list[checks.Finding]:
    return checks.run(checks.State(objects, **state), chapter="03")


def verdicts(check_id: str, objects: dict, **state) -> dict[str, str]:
    return {f.resource: f.status for f in run(objects, **state) if f.check == check_id}


def evidence(check_id: str, objects: dict, **state) -> str:
    [found] = [f for f in run(objects, **state) if f.check == check_id]
    return found.evidence


def c(name: str = "c", **security) -> dict:
    """A container; keyword arguments become its securityContext."""
    container: dict = {"name": name, "image": "mcr.microsoft.com/a:1"}
    if security:
        container["securityContext"] = security
    return container


def spec(*main: dict, init: tuple = (), ephemeral: tuple = (), **fields) -> dict:
    found: dict = {"containers": list(main) or [c()], **fields}
    if init:
        found["initContainers"] = list(init)
    if ephemeral:
        found["ephemeralContainers"] = list(ephemeral)
    return found


def pod(name: str = "p", namespace: str = "default", pod_spec: dict | None = None) -> dict:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": pod_spec or spec()}


def workload(kind: str, name: str, pod_spec: dict, namespace: str = "default") -> dict:
    template = {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
    body = ({"jobTemplate": {"spec": {"template": template}}} if kind == "CronJob"
            else {"selector": {"matchLabels": {"app": name}}, "template": template})
    return {"kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": body}


HARDENED = dict(runAsNonRoot=True, allowPrivilegeEscalation=False,
                capabilities={"drop": ["ALL"]}, seccompProfile={"type": "RuntimeDefault"})

# (check, case, pod spec, verdict of Pod/default/p)
POD_CASES = [
    # ---- AKS-AUTH-001 privileged (rule-privileged-container) ----
    ("AKS-AUTH-001", "C-0057 pod: adds NET_ADMIN and SYS_ADMIN",
     spec(c(capabilities={"add": ["NET_ADMIN", "SYS_ADMIN"]})), "fail"),
    ("AKS-AUTH-001", "C-0057 pod-initcontainer: privileged init container",
     spec(c(privileged=False), init=(c("i", privileged=True),)), "fail"),
    ("AKS-AUTH-001", "C-0057 pod-ephemeralcontainer: ephemeral adds SYS_ADMIN",
     spec(c(privileged=False), ephemeral=(c("e", capabilities={"add": ["SYS_ADMIN"]}),)), "fail"),
    ("AKS-AUTH-001", "privileged false", spec(c(privileged=False)), "pass"),
    ("AKS-AUTH-001", "privileged absent, empty securityContext", spec(c(), c("d")), "pass"),
    ("AKS-AUTH-001", "SYS_ADMIN dropped, not added", spec(c(capabilities={"drop": ["SYS_ADMIN"]})),
     "pass"),
    ("AKS-AUTH-001", "empty add list", spec(c(capabilities={"add": []})), "pass"),
    # ---- AKS-AUTH-002 host namespaces (host-pid-ipc-privileges, host-network-access) ----
    ("AKS-AUTH-002", "C-0038 pod: hostPID", spec(hostPID=True), "fail"),
    ("AKS-AUTH-002", "C-0041 pod: hostNetwork", spec(hostNetwork=True), "fail"),
    ("AKS-AUTH-002", "hostIPC", spec(hostIPC=True), "fail"),
    ("AKS-AUTH-002", "all false", spec(hostIPC=False, hostPID=False, hostNetwork=False), "pass"),
    ("AKS-AUTH-002", "all absent", spec(), "pass"),
    # ---- AKS-AUTH-003 hostPath (alert-any-hostpath, alert-rw-hostpath) ----
    ("AKS-AUTH-003", "C-0048 pod: /var mounted",
     spec({**c(), "volumeMounts": [{"name": "v", "mountPath": "/test-pd"}]},
          volumes=[{"name": "v", "hostPath": {"path": "/var"}}]), "fail"),
    ("AKS-AUTH-003", "C-0048 pod-initcontainer: mounted by the init container",
     spec(c(), init=({**c("i"), "volumeMounts": [{"name": "v", "mountPath": "/x"}]},),
          volumes=[{"name": "v", "hostPath": {"path": "/var"}}]), "fail"),
    ("AKS-AUTH-003", "C-0048 pod-multiple-mounts: one volume mounted twice",
     spec({**c(), "volumeMounts": [{"name": "v", "mountPath": "/conf", "subPath": "c"},
                                   {"name": "v", "mountPath": "/state", "subPath": "s"}]},
          volumes=[{"name": "v", "hostPath": {"path": "/var"}}]), "fail"),
    ("AKS-AUTH-003", "read-only mount still fails (PSS baseline forbids hostPath)",
     spec({**c(), "volumeMounts": [{"name": "v", "mountPath": "/x", "readOnly": True}]},
          volumes=[{"name": "v", "hostPath": {"path": "/etc"}}]), "fail"),
    ("AKS-AUTH-003", "hostPath not mounted by any container (C-0048 passes it)",
     spec(volumes=[{"name": "v", "hostPath": {"path": "/"}}]), "fail"),
    ("AKS-AUTH-003", "emptyDir and configMap volumes",
     spec(volumes=[{"name": "a", "emptyDir": {}}, {"name": "b", "configMap": {"name": "x"}}]),
     "pass"),
    ("AKS-AUTH-003", "empty volumes list", spec(volumes=[]), "pass"),
    # ---- AKS-AUTH-004 capabilities (insecure-capabilities; PSS restricted) ----
    ("AKS-AUTH-004", "C-0046 pod: adds SETPCAP and MAC_OVERRIDE",
     spec(c(capabilities={"drop": ["ALL"], "add": ["SETPCAP", "MAC_OVERRIDE"]})), "fail"),
    ("AKS-AUTH-004", "C-0046 pod-initcontainer: init adds SETPCAP",
     spec(c(capabilities={"drop": ["ALL"]}),
          init=(c("i", capabilities={"drop": ["ALL"], "add": ["SETPCAP"]}),)), "fail"),
    ("AKS-AUTH-004", "C-0046 pod-ephemeralcontainer: ephemeral adds ALL",
     spec(c(capabilities={"drop": ["ALL"]}), ephemeral=(c("e", capabilities={"add": ["ALL"]}),)),
     "fail"),
    ("AKS-AUTH-004", "drop ALL, add NET_BIND_SERVICE (restricted allows it)",
     spec(c(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})), "pass"),
    ("AKS-AUTH-004", "drop ALL, empty add", spec(c(capabilities={"drop": ["ALL"], "add": []})),
     "pass"),
    ("AKS-AUTH-004", "adds a harmless-looking CHOWN (C-0046 passes it)",
     spec(c(capabilities={"drop": ["ALL"], "add": ["CHOWN"]})), "fail"),
    ("AKS-AUTH-004", "drops NET_RAW only", spec(c(capabilities={"drop": ["NET_RAW"]})), "fail"),
    ("AKS-AUTH-004", "no securityContext keeps the runtime's defaults", spec(c()), "fail"),
    ("AKS-AUTH-004", "init container keeps its capabilities",
     spec(c(capabilities={"drop": ["ALL"]}), init=(c("i"),)), "fail"),
    ("AKS-AUTH-004", "Windows pod", spec(os={"name": "windows"}), "not-applicable"),
    # ---- AKS-AUTH-005 root (non-root-containers) ----
    ("AKS-AUTH-005", "C-0013 pod: pod runAsNonRoot false, container only a runAsGroup",
     spec(c(runAsGroup=1000), securityContext={"runAsNonRoot": False}), "fail"),
    ("AKS-AUTH-005", "C-0013 pod-initcontainer: init container without settings",
     spec(c(runAsNonRoot=True, runAsUser=1000, runAsGroup=1000), init=(c("i"),)), "fail"),
    ("AKS-AUTH-005", "C-0013 pod-ephemeralcontainer: ephemeral container without settings",
     spec(c(runAsNonRoot=True, runAsUser=1000, runAsGroup=1000), ephemeral=(c("e"),)), "fail"),
    ("AKS-AUTH-005", "C-0013 deployment-pass: runAsNonRoot true",
     spec(c(runAsNonRoot=True, runAsGroup=2000)), "pass"),
    ("AKS-AUTH-005", "pod-level runAsNonRoot applies to every container",
     spec(c(), c("d"), init=(c("i"),), securityContext={"runAsNonRoot": True}), "pass"),
    ("AKS-AUTH-005", "container runAsNonRoot false overrides the pod's true",
     spec(c(runAsNonRoot=False), securityContext={"runAsNonRoot": True}), "fail"),
    ("AKS-AUTH-005", "pod-level runAsUser 1000", spec(securityContext={"runAsUser": 1000}), "pass"),
    ("AKS-AUTH-005", "container runAsUser 0 overrides the pod's 1000",
     spec(c(runAsUser=0), securityContext={"runAsUser": 1000}), "fail"),
    ("AKS-AUTH-005", "runAsUser 0 beside runAsNonRoot true",
     spec(c(runAsNonRoot=True, runAsUser=0)), "fail"),
    ("AKS-AUTH-005", "runAsGroup 0 is not judged (C-0013 fails it)",
     spec(c(runAsNonRoot=True, runAsGroup=0)), "pass"),
    ("AKS-AUTH-005", "nothing set: the image's USER decides", spec(c()), "fail"),
    ("AKS-AUTH-005", "Windows pod", spec(os={"name": "windows"}), "not-applicable"),
    # ---- AKS-AUTH-006 privilege escalation (rule-allow-privilege-escalation) ----
    ("AKS-AUTH-006", "C-0016 pod: allowPrivilegeEscalation true",
     spec(c("test-container", allowPrivilegeEscalation=True)), "fail"),
    ("AKS-AUTH-006", "absent means allowed", spec(c()), "fail"),
    ("AKS-AUTH-006", "false everywhere",
     spec(c(allowPrivilegeEscalation=False), init=(c("i", allowPrivilegeEscalation=False),)),
     "pass"),
    ("AKS-AUTH-006", "init container leaves it unset (C-0016 reads only containers)",
     spec(c(allowPrivilegeEscalation=False), init=(c("i"),)), "fail"),
    ("AKS-AUTH-006", "ephemeral container leaves it unset",
     spec(c(allowPrivilegeEscalation=False), ephemeral=(c("e"),)), "fail"),
    ("AKS-AUTH-006", "pod-level securityContext has no such field",
     spec(c(), securityContext={"runAsNonRoot": True}), "fail"),
    ("AKS-AUTH-006", "Windows pod", spec(os={"name": "windows"}), "not-applicable"),
    # ---- AKS-AUTH-007 seccomp (set-seccomp-profile-RuntimeDefault; PSS restricted) ----
    # kubescape's Localhost cases name no localhostProfile, which the API server refuses
    ("AKS-AUTH-007", "C-0210 pod: Localhost on the pod and a container, no localhostProfile",
     spec(c("test-container1"), c("test-container2", seccompProfile={"type": "Localhost"}),
          c("test-container3", seccompProfile={"type": "RuntimeDefault"}),
          securityContext={"seccompProfile": {"type": "Localhost"}}), "fail"),
    ("AKS-AUTH-007", "Localhost with its localhostProfile (allowed by PSS restricted)",
     spec(c(seccompProfile={"type": "Localhost", "localhostProfile": "profiles/audit.json"})),
     "pass"),
    ("AKS-AUTH-007", "pod RuntimeDefault, container Unconfined: the container's wins",
     spec(c(seccompProfile={"type": "Unconfined"}),
          securityContext={"seccompProfile": {"type": "RuntimeDefault"}}), "fail"),
    ("AKS-AUTH-007", "pod Unconfined", spec(securityContext={"seccompProfile": {
        "type": "Unconfined"}}), "fail"),
    ("AKS-AUTH-007", "no profile anywhere", spec(c()), "fail"),
    ("AKS-AUTH-007", "every container sets RuntimeDefault, the pod nothing",
     spec(c(seccompProfile={"type": "RuntimeDefault"}),
          init=(c("i", seccompProfile={"type": "RuntimeDefault"}),)), "pass"),
    ("AKS-AUTH-007", "init container without a profile and no pod profile",
     spec(c(seccompProfile={"type": "RuntimeDefault"}), init=(c("i"),)), "fail"),
    ("AKS-AUTH-007", "Windows pod", spec(os={"name": "windows"}), "not-applicable"),
    # ---- AKS-AUTH-009 Secrets in environment variables (rule-secrets-in-env-var) ----
    ("AKS-AUTH-009", "C-0207 pod: env from secretKeyRef",
     spec({**c(), "env": [{"name": "U", "valueFrom": {"secretKeyRef": {"name": "s",
                                                                       "key": "u"}}}]}), "fail"),
    ("AKS-AUTH-009", "C-0207 pod-envfrom-secretref",
     spec(c("clean"), {**c("secret"), "envFrom": [{"secretRef": {"name": "s"}}]}), "fail"),
    ("AKS-AUTH-009", "C-0207 pod-envfrom-configmapref",
     spec({**c(), "envFrom": [{"configMapRef": {"name": "cm"}}]}), "pass"),
    ("AKS-AUTH-009", "C-0207 pod-initcontainer-secretkeyref",
     spec(c(), init=({**c("i"), "env": [{"name": "P", "valueFrom": {"secretKeyRef": {
         "name": "db", "key": "p"}}}]},)), "fail"),
    ("AKS-AUTH-009", "C-0207 pod-initcontainer-envfrom-secretref",
     spec(c(), init=({**c("i"), "envFrom": [{"secretRef": {"name": "s"}}]},)), "fail"),
    ("AKS-AUTH-009", "ephemeral container reads a Secret (C-0207 does not look)",
     spec(c(), ephemeral=({**c("e"), "envFrom": [{"secretRef": {"name": "s"}}]},)), "fail"),
    ("AKS-AUTH-009", "configMapKeyRef, fieldRef and plain values",
     spec({**c(), "env": [{"name": "A", "value": "1"},
                          {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "m",
                                                                          "key": "b"}}},
                          {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}]}),
     "pass"),
    ("AKS-AUTH-009", "empty env and envFrom", spec({**c(), "env": [], "envFrom": []}), "pass"),
    ("AKS-AUTH-009", "Windows pod (not a Linux-only control)",
     spec({**c(), "env": [{"name": "U", "valueFrom": {"secretKeyRef": {"name": "s", "key": "u"}}}]},
          os={"name": "windows"}), "fail"),
    # ---- boundaries the evidence shows ----
    ("AKS-AUTH-003", "hostPath after another volume, mounted read-only",
     spec({**c("app"), "volumeMounts": [{"name": "h", "mountPath": "/h", "readOnly": True}]},
          volumes=[{"name": "cache", "emptyDir": {}}, {"name": "h", "hostPath": {"path": "/"}}]),
     "fail"),
    ("AKS-AUTH-003", "hostPath not mounted, writable by two containers",
     spec({**c("a"), "volumeMounts": [{"name": "w", "mountPath": "/w"}]},
          {**c("b"), "volumeMounts": [{"name": "w", "mountPath": "/w"}]},
          volumes=[{"name": "idle", "hostPath": {"path": "/srv"}},
                   {"name": "w", "hostPath": {"path": "/var/log"}}]), "fail"),
    ("AKS-AUTH-004", "two capabilities added", spec(c(capabilities={
        "drop": ["ALL"], "add": ["NET_ADMIN", "SYS_TIME"]})), "fail"),
    ("AKS-AUTH-005", "runAsUser 1 is non-root", spec(c(runAsUser=1)), "pass"),
    ("AKS-AUTH-005", "runAsNonRoot false, no user", spec(c(runAsNonRoot=False)), "fail"),
    ("AKS-AUTH-006", "allowPrivilegeEscalation true and unset",
     spec(c(allowPrivilegeEscalation=True), c("d")), "fail"),
    # ---- a hardened pod passes every pod check ----
    *[(check_id, "hardened pod", spec(c(**HARDENED), init=(c("i", **HARDENED),),
                                      automountServiceAccountToken=False), "pass")
      for check_id in ("AKS-AUTH-001", "AKS-AUTH-002", "AKS-AUTH-003", "AKS-AUTH-004",
                       "AKS-AUTH-005", "AKS-AUTH-006", "AKS-AUTH-007", "AKS-AUTH-008",
                       "AKS-AUTH-009")],
]


@pytest.mark.parametrize("check_id, pod_spec, expected", [(c[0], *c[2:]) for c in POD_CASES],
                         ids=[f"{c[0]} {c[1]}" for c in POD_CASES])
def test_pod_checks(check_id, pod_spec, expected):
    assert verdicts(check_id, cluster_view(pod(pod_spec=pod_spec))) == {"Pod/default/p": expected}


# what a reader sees for each case above (key: check and case)
POD_EVIDENCE = {
    "AKS-AUTH-001 C-0057 pod: adds NET_ADMIN and SYS_ADMIN":
        "container c: adds SYS_ADMIN (privileged in all but name)",
    "AKS-AUTH-001 C-0057 pod-initcontainer: privileged init container":
        "init container i: privileged",
    "AKS-AUTH-001 C-0057 pod-ephemeralcontainer: ephemeral adds SYS_ADMIN":
        "ephemeral container e: adds SYS_ADMIN (privileged in all but name)",
    "AKS-AUTH-001 privileged false":
        "no privileged container",
    "AKS-AUTH-001 privileged absent, empty securityContext":
        "no privileged container",
    "AKS-AUTH-001 SYS_ADMIN dropped, not added":
        "no privileged container",
    "AKS-AUTH-001 empty add list":
        "no privileged container",
    "AKS-AUTH-002 C-0038 pod: hostPID":
        "hostPID: true",
    "AKS-AUTH-002 C-0041 pod: hostNetwork":
        "hostNetwork: true",
    "AKS-AUTH-002 hostIPC":
        "hostIPC: true",
    "AKS-AUTH-002 all false":
        "no host namespace shared",
    "AKS-AUTH-002 all absent":
        "no host namespace shared",
    "AKS-AUTH-003 C-0048 pod: /var mounted":
        "hostPath /var (volume v, writable by container c)",
    "AKS-AUTH-003 C-0048 pod-initcontainer: mounted by the init container":
        "hostPath /var (volume v, writable by init container i)",
    "AKS-AUTH-003 C-0048 pod-multiple-mounts: one volume mounted twice":
        "hostPath /var (volume v, writable by container c, container c)",
    "AKS-AUTH-003 read-only mount still fails (PSS baseline forbids hostPath)":
        "hostPath /etc (volume v, read-only)",
    "AKS-AUTH-003 hostPath not mounted by any container (C-0048 passes it)":
        "hostPath / (volume v, not mounted)",
    "AKS-AUTH-003 emptyDir and configMap volumes":
        "no hostPath volume",
    "AKS-AUTH-003 empty volumes list":
        "no hostPath volume",
    "AKS-AUTH-004 C-0046 pod: adds SETPCAP and MAC_OVERRIDE":
        "container c: adds SETPCAP, MAC_OVERRIDE",
    "AKS-AUTH-004 C-0046 pod-initcontainer: init adds SETPCAP":
        "init container i: adds SETPCAP",
    "AKS-AUTH-004 C-0046 pod-ephemeralcontainer: ephemeral adds ALL":
        "ephemeral container e: does not drop ALL and adds ALL",
    "AKS-AUTH-004 drop ALL, add NET_BIND_SERVICE (restricted allows it)":
        "every container drops ALL (adds at most NET_BIND_SERVICE)",
    "AKS-AUTH-004 drop ALL, empty add":
        "every container drops ALL (adds at most NET_BIND_SERVICE)",
    "AKS-AUTH-004 adds a harmless-looking CHOWN (C-0046 passes it)":
        "container c: adds CHOWN",
    "AKS-AUTH-004 drops NET_RAW only":
        "container c: does not drop ALL",
    "AKS-AUTH-004 no securityContext keeps the runtime's defaults":
        "container c: does not drop ALL",
    "AKS-AUTH-004 init container keeps its capabilities":
        "init container i: does not drop ALL",
    "AKS-AUTH-004 Windows pod":
        "Windows pod (spec.os.name windows): a Linux-only control",
    "AKS-AUTH-005 C-0013 pod: pod runAsNonRoot false, container only a runAsGroup":
        "container c: runAsNonRoot false and no runAsUser above 0 (the image decides)",
    "AKS-AUTH-005 C-0013 pod-initcontainer: init container without settings":
        "init container i: no runAsNonRoot: true and no runAsUser above 0 (the image decides)",
    "AKS-AUTH-005 C-0013 pod-ephemeralcontainer: ephemeral container without settings":
        "ephemeral container e: no runAsNonRoot: true and no runAsUser above 0 (the image "
        "decides)",
    "AKS-AUTH-005 C-0013 deployment-pass: runAsNonRoot true":
        "every container runs as non-root",
    "AKS-AUTH-005 pod-level runAsNonRoot applies to every container":
        "every container runs as non-root",
    "AKS-AUTH-005 container runAsNonRoot false overrides the pod's true":
        "container c: runAsNonRoot false and no runAsUser above 0 (the image decides)",
    "AKS-AUTH-005 pod-level runAsUser 1000":
        "every container runs as non-root",
    "AKS-AUTH-005 container runAsUser 0 overrides the pod's 1000":
        "container c: runAsUser 0",
    "AKS-AUTH-005 runAsUser 0 beside runAsNonRoot true":
        "container c: runAsUser 0",
    "AKS-AUTH-005 runAsGroup 0 is not judged (C-0013 fails it)":
        "every container runs as non-root",
    "AKS-AUTH-005 nothing set: the image's USER decides":
        "container c: no runAsNonRoot: true and no runAsUser above 0 (the image decides)",
    "AKS-AUTH-005 Windows pod":
        "Windows pod (spec.os.name windows): a Linux-only control",
    "AKS-AUTH-006 C-0016 pod: allowPrivilegeEscalation true":
        "container test-container: allowPrivilegeEscalation true",
    "AKS-AUTH-006 absent means allowed":
        "container c: allowPrivilegeEscalation not set (allowed)",
    "AKS-AUTH-006 false everywhere":
        "allowPrivilegeEscalation false in every container",
    "AKS-AUTH-006 init container leaves it unset (C-0016 reads only containers)":
        "init container i: allowPrivilegeEscalation not set (allowed)",
    "AKS-AUTH-006 ephemeral container leaves it unset":
        "ephemeral container e: allowPrivilegeEscalation not set (allowed)",
    "AKS-AUTH-006 pod-level securityContext has no such field":
        "container c: allowPrivilegeEscalation not set (allowed)",
    "AKS-AUTH-006 Windows pod":
        "Windows pod (spec.os.name windows): a Linux-only control",
    "AKS-AUTH-007 C-0210 pod: Localhost on the pod and a container, no localhostProfile":
        "container test-container1: seccomp Localhost without localhostProfile; "
        "container test-container2: seccomp Localhost without localhostProfile",
    "AKS-AUTH-007 Localhost with its localhostProfile (allowed by PSS restricted)":
        "every container under RuntimeDefault or Localhost seccomp",
    "AKS-AUTH-007 pod RuntimeDefault, container Unconfined: the container's wins":
        "container c: seccomp Unconfined",
    "AKS-AUTH-007 pod Unconfined":
        "container c: seccomp Unconfined",
    "AKS-AUTH-007 no profile anywhere":
        "container c: no seccomp profile",
    "AKS-AUTH-007 every container sets RuntimeDefault, the pod nothing":
        "every container under RuntimeDefault or Localhost seccomp",
    "AKS-AUTH-007 init container without a profile and no pod profile":
        "init container i: no seccomp profile",
    "AKS-AUTH-007 Windows pod":
        "Windows pod (spec.os.name windows): a Linux-only control",
    "AKS-AUTH-009 C-0207 pod: env from secretKeyRef":
        "container c: env U from Secret s",
    "AKS-AUTH-009 C-0207 pod-envfrom-secretref":
        "container secret: env all keys of Secret s",
    "AKS-AUTH-009 C-0207 pod-envfrom-configmapref":
        "no Secret in environment variables",
    "AKS-AUTH-009 C-0207 pod-initcontainer-secretkeyref":
        "init container i: env P from Secret db",
    "AKS-AUTH-009 C-0207 pod-initcontainer-envfrom-secretref":
        "init container i: env all keys of Secret s",
    "AKS-AUTH-009 ephemeral container reads a Secret (C-0207 does not look)":
        "ephemeral container e: env all keys of Secret s",
    "AKS-AUTH-009 configMapKeyRef, fieldRef and plain values":
        "no Secret in environment variables",
    "AKS-AUTH-009 empty env and envFrom":
        "no Secret in environment variables",
    "AKS-AUTH-009 Windows pod (not a Linux-only control)":
        "container c: env U from Secret s",
    "AKS-AUTH-003 hostPath after another volume, mounted read-only":
        "hostPath / (volume h, read-only)",
    "AKS-AUTH-003 hostPath not mounted, writable by two containers":
        "hostPath /srv (volume idle, not mounted); hostPath /var/log (volume w, writable by "
        "container a, container b)",
    "AKS-AUTH-004 two capabilities added":
        "container c: adds NET_ADMIN, SYS_TIME",
    "AKS-AUTH-005 runAsUser 1 is non-root":
        "every container runs as non-root",
    "AKS-AUTH-005 runAsNonRoot false, no user":
        "container c: runAsNonRoot false and no runAsUser above 0 (the image decides)",
    "AKS-AUTH-006 allowPrivilegeEscalation true and unset":
        "container c: allowPrivilegeEscalation true; container d: allowPrivilegeEscalation not "
        "set (allowed)",
    "AKS-AUTH-001 hardened pod":
        "no privileged container",
    "AKS-AUTH-002 hardened pod":
        "no host namespace shared",
    "AKS-AUTH-003 hardened pod":
        "no hostPath volume",
    "AKS-AUTH-004 hardened pod":
        "every container drops ALL (adds at most NET_BIND_SERVICE)",
    "AKS-AUTH-005 hardened pod":
        "every container runs as non-root",
    "AKS-AUTH-006 hardened pod":
        "allowPrivilegeEscalation false in every container",
    "AKS-AUTH-007 hardened pod":
        "every container under RuntimeDefault or Localhost seccomp",
    "AKS-AUTH-008 hardened pod":
        "automountServiceAccountToken: false on the pod",
    "AKS-AUTH-009 hardened pod":
        "no Secret in environment variables",
}


@pytest.mark.parametrize("check_id, case, pod_spec", [c[:3] for c in POD_CASES],
                         ids=[f"{c[0]} {c[1]}" for c in POD_CASES])
def test_pod_evidence(check_id, case, pod_spec):
    found = evidence(check_id, cluster_view(pod(pod_spec=pod_spec)))
    assert found == POD_EVIDENCE[f"{check_id} {case}"]


# (check, case, workload kind, pod spec, verdict of Kind/default/w) - published cases on workloads
WORKLOAD_CASES = [
    ("AKS-AUTH-001", "C-0057 workloads: privileged container", "Deployment",
     spec(c(privileged=True)), "fail"),
    ("AKS-AUTH-001", "C-0057 workloads-initcontainer", "Deployment",
     spec(c(privileged=False), init=(c("i", privileged=True),)), "fail"),
    ("AKS-AUTH-001", "C-0057 cronjob: adds NET_ADMIN, SYS_TIME, SYS_ADMIN", "CronJob",
     spec(c(capabilities={"add": ["NET_ADMIN", "SYS_TIME", "SYS_ADMIN"]})), "fail"),
    ("AKS-AUTH-001", "C-0057 cronjob-initcontainer", "CronJob",
     spec(c(privileged=False), init=(c("i", capabilities={"add": ["SYS_ADMIN"]}),)), "fail"),
    ("AKS-AUTH-002", "C-0038 workload: hostIPC and hostPID", "Deployment",
     spec(hostIPC=True, hostPID=True), "fail"),
    ("AKS-AUTH-002", "C-0038 cronjob: hostIPC true, hostPID false", "CronJob",
     spec(hostIPC=True, hostPID=False), "fail"),
    ("AKS-AUTH-002", "C-0041 workloads", "Deployment", spec(hostNetwork=True), "fail"),
    ("AKS-AUTH-002", "C-0041 cronjob", "CronJob", spec(hostNetwork=True), "fail"),
    ("AKS-AUTH-003", "C-0048 deployment: two hostPath volumes", "Deployment",
     spec({**c(), "volumeMounts": [{"name": "a", "mountPath": "/a"},
                                   {"name": "b", "mountPath": "/b"}]},
          volumes=[{"name": "a", "hostPath": {"path": "/var"}},
                   {"name": "b", "hostPath": {"path": "/var"}}]), "fail"),
    ("AKS-AUTH-003", "C-0045 deployment-initcontainer: readOnly false", "Deployment",
     spec(c(), init=({**c("i"), "volumeMounts": [{"name": "v", "mountPath": "/x",
                                                 "readOnly": False}]},),
          volumes=[{"name": "v", "hostPath": {"path": "/var"}}]), "fail"),
    ("AKS-AUTH-004", "C-0046 workloads: MAC_OVERRIDE, AUDIT_CONTROL", "Deployment",
     spec(c(capabilities={"add": ["MAC_OVERRIDE", "AUDIT_CONTROL"]})), "fail"),
    ("AKS-AUTH-004", "C-0046 workloads-initcontainer: SYS_ADMIN", "Deployment",
     spec(c(capabilities={"drop": ["ALL"]}), init=(c("i", capabilities={"add": ["SYS_ADMIN"]}),)),
     "fail"),
    ("AKS-AUTH-004", "C-0046 cronjob: ALL", "CronJob", spec(c(capabilities={"add": ["ALL"]})),
     "fail"),
    ("AKS-AUTH-005", "C-0013 deployment-fail: container runAsNonRoot false over the pod's true",
     "Deployment", spec(c("nginx", runAsNonRoot=False, runAsGroup=2000),
                        c("nginx2", runAsGroup=0), securityContext={"runAsNonRoot": True}),
     "fail"),
    ("AKS-AUTH-005", "C-0013 workloads-initcontainer", "Deployment",
     spec(c(runAsNonRoot=True, runAsUser=1000, runAsGroup=1000), init=(c("i"),)), "fail"),
    ("AKS-AUTH-005", "C-0013 cronjob-runasuser: runAsUser 0 and 1000", "CronJob",
     spec(c("hello", runAsUser=0), c("hello2", runAsUser=1000)), "fail"),
    ("AKS-AUTH-005", "C-0013 cronjob: runAsNonRoot false on pod and container", "CronJob",
     spec(c("hello"), c("hello2", runAsNonRoot=False), securityContext={"runAsNonRoot": False}),
     "fail"),
    ("AKS-AUTH-006", "C-0016 workloads: true and unset", "Deployment",
     spec(c("mysql", allowPrivilegeEscalation=True), c("php")), "fail"),
    ("AKS-AUTH-006", "C-0016 cronjob: unset", "CronJob", spec(c("mysql"), c("php")), "fail"),
    ("AKS-AUTH-007", "C-0210 workloads: pod RuntimeDefault, a container Localhost without "
     "localhostProfile", "Deployment",
     spec(c(seccompProfile={"type": "Localhost"}),
          c("d", seccompProfile={"type": "RuntimeDefault"}),
          securityContext={"seccompProfile": {"type": "RuntimeDefault"}}), "fail"),
    ("AKS-AUTH-007", "C-0210 cronjob: Localhost without localhostProfile and RuntimeDefault",
     "CronJob",
     spec(c(seccompProfile={"type": "Localhost"}),
          c("d", seccompProfile={"type": "RuntimeDefault"})), "fail"),
    ("AKS-AUTH-009", "C-0207 workloads: secretKeyRef", "Deployment",
     spec({**c(), "env": [{"name": "U", "valueFrom": {"secretKeyRef": {"name": "s"}}}]}), "fail"),
    ("AKS-AUTH-009", "C-0207 workloads-envfrom-secretref", "Deployment",
     spec({**c(), "envFrom": [{"secretRef": {"name": "s"}}]}), "fail"),
    ("AKS-AUTH-009", "C-0207 workloads-initcontainer-secretkeyref", "Deployment",
     spec(c(), init=({**c("i"), "env": [{"name": "P", "valueFrom": {"secretKeyRef": {
         "name": "db"}}}]},)), "fail"),
    ("AKS-AUTH-009", "C-0207 workloads-initcontainer-envfrom-secretref", "Deployment",
     spec(c(), init=({**c("i"), "envFrom": [{"secretRef": {"name": "s"}}]},)), "fail"),
    ("AKS-AUTH-009", "C-0207 cronjob: secretKeyRef", "CronJob",
     spec({**c(), "env": [{"name": "U", "valueFrom": {"secretKeyRef": {"name": "s"}}}]}), "fail"),
    ("AKS-AUTH-009", "C-0207 cronjob-envfrom-secretref", "CronJob",
     spec({**c(), "envFrom": [{"secretRef": {"name": "s"}}]}), "fail"),
    ("AKS-AUTH-009", "C-0207 cronjob-initcontainer-secretkeyref", "CronJob",
     spec(c(), init=({**c("i"), "env": [{"name": "P", "valueFrom": {"secretKeyRef": {
         "name": "db"}}}]},)), "fail"),
    ("AKS-AUTH-009", "C-0207 cronjob-initcontainer-envfrom-secretref", "CronJob",
     spec(c(), init=({**c("i"), "envFrom": [{"secretRef": {"name": "s"}}]},)), "fail"),
]


@pytest.mark.parametrize("check_id, kind, pod_spec, expected",
                         [(c[0], *c[2:]) for c in WORKLOAD_CASES],
                         ids=[f"{c[0]} {c[1]}" for c in WORKLOAD_CASES])
def test_workload_checks_from_files(tmp_path, check_id, kind, pod_spec, expected):
    objects = files_view(tmp_path, workload(kind, "w", pod_spec))
    assert verdicts(check_id, objects, origin="files") == {f"{kind}/default/w": expected}


@pytest.mark.parametrize("pod_spec, expected", [
    (spec(c("hello", runAsUser=0), c("hello2", runAsUser=1000)), "container hello: runAsUser 0"),
    (spec(c("nginx", runAsNonRoot=False), c("nginx2", runAsGroup=0),
          securityContext={"runAsNonRoot": True}),
     "container nginx: runAsNonRoot false and no runAsUser above 0 (the image decides)"),
])
def test_root_evidence_names_only_the_containers_that_fail(pod_spec, expected):
    assert evidence("AKS-AUTH-005", cluster_view(pod(pod_spec=pod_spec))) == expected


def test_host_namespaces_evidence_lists_only_the_true_ones():
    found = evidence("AKS-AUTH-002", cluster_view(pod(pod_spec=spec(hostIPC=True, hostPID=False))))
    assert found == "hostIPC: true"


def test_host_path_evidence_says_which_mounts_are_writable():
    volumes = [{"name": "rw", "hostPath": {"path": "/var"}},
               {"name": "ro", "hostPath": {"path": "/etc"}}]
    main = {**c("app"), "volumeMounts": [{"name": "rw", "mountPath": "/a"},
                                         {"name": "ro", "mountPath": "/b", "readOnly": True}]}
    debug = {**c("dbg"), "volumeMounts": [{"name": "ro", "mountPath": "/b"}]}
    found = evidence("AKS-AUTH-003", cluster_view(pod(pod_spec=spec(
        main, ephemeral=(debug,), volumes=volumes))))
    assert found == ("hostPath /var (volume rw, writable by container app); hostPath /etc "
                     "(volume ro, writable by ephemeral container dbg)")


def test_capabilities_evidence_names_what_is_kept_and_added():
    found = evidence("AKS-AUTH-004", cluster_view(pod(pod_spec=spec(
        c(capabilities={"add": ["NET_BIND_SERVICE", "NET_ADMIN"]})))))
    assert found == "container c: does not drop ALL and adds NET_ADMIN"


def test_secrets_evidence_names_the_variables_and_secrets():
    container = {**c(), "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db"}}}],
                 "envFrom": [{"secretRef": {"name": "api"}}]}
    found = evidence("AKS-AUTH-009", cluster_view(pod(pod_spec=spec(container))))
    assert found == "container c: env PW from Secret db, all keys of Secret api"


# ---- per-workload rules shared by the pod checks ------------------------------------------------

POD_CHECKS = [f"AKS-AUTH-00{i}" for i in range(1, 10)]


def test_unlisted_pods_never_pass():
    objects = cluster_view()
    del objects["pods"]
    found = {f.check: (f.resource, f.status) for f in run(objects) if f.check in POD_CHECKS}
    assert found == {i: ("Pod/*", "not-applicable") for i in POD_CHECKS}


def test_system_namespaces_are_skipped():
    risky = spec(c(privileged=True), hostNetwork=True)
    objects = cluster_view(*[pod(namespace=n, pod_spec=risky)
                             for n in ("kube-system", "kube-public", "kube-node-lease")])
    assert not [f for f in run(objects) if f.check in POD_CHECKS]


def test_one_row_per_workload_on_a_cluster():
    owned = [{**pod(f"web-7d4-{x}", pod_spec=spec(c(privileged=True))),
              "metadata": {"name": f"web-7d4-{x}", "namespace": "default", "ownerReferences": [
                  {"kind": "ReplicaSet", "name": "web-7d4"}]}} for x in "ab"]
    assert verdicts("AKS-AUTH-001", cluster_view(*owned)) == {"ReplicaSet/default/web-7d4": "fail"}


def test_namespaces_limit_the_pods_judged():
    objects = cluster_view(pod("a", "app"), pod("b", "other"))
    assert set(verdicts("AKS-AUTH-001", objects, namespaces=("app",))) == {"Pod/app/a"}


# ---- AKS-AUTH-008 service account tokens (automount-service-account) ----------------------------

def account(name: str = "default", namespace: str = "default", automount=None) -> dict:
    found = {"kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}
    if automount is not None:
        found["automountServiceAccountToken"] = automount
    return found


def with_token(pod_value=None, account_name: str | None = None) -> dict:
    fields = {} if pod_value is None else {"automountServiceAccountToken": pod_value}
    if account_name:
        fields["serviceAccountName"] = account_name
    return spec(**fields)


TOKEN_CASES = [
    ("C-0034 both-mount-default: neither sets it", with_token(), [account()], "fail"),
    ("C-0034 both-mount: pod true, account true", with_token(True), [account(automount=True)],
     "fail"),
    ("C-0034 pod-mount: pod true wins over account false", with_token(True),
     [account(automount=False)], "fail"),
    ("C-0034 sa-mount: pod false wins over account true", with_token(False),
     [account(automount=True)], "pass"),
    ("C-0034 deployment-pod-false-sa-false", with_token(False, "test-sa"),
     [account("test-sa", automount=False)], "pass"),
    ("C-0034 deployment-pod-false-sa-true", with_token(False, "test-sa"),
     [account("test-sa", automount=True)], "pass"),
    ("C-0034 deployment-pod-true-sa-false", with_token(True, "test-sa"),
     [account("test-sa", automount=False)], "fail"),
    ("C-0034 deployment-pod-true-sa-true", with_token(True, "test-sa"),
     [account("test-sa", automount=True)], "fail"),
    ("pod unset, account false", with_token(None, "test-sa"),
     [account("test-sa", automount=False)], "pass"),
    ("account of that name in another namespace", with_token(None, "test-sa"),
     [account("test-sa", "other", automount=False)], "fail"),
    ("account missing", with_token(None, "gone"), [], "fail"),
    ("deprecated serviceAccount field", spec(serviceAccount="legacy"),
     [account("legacy", automount=False)], "pass"),
]


@pytest.mark.parametrize("pod_spec, accounts, expected", [c[1:] for c in TOKEN_CASES],
                         ids=[c[0] for c in TOKEN_CASES])
def test_token_automount(pod_spec, accounts, expected):
    objects = cluster_view(pod(pod_spec=pod_spec), *accounts)
    assert verdicts("AKS-AUTH-008", objects) == {"Pod/default/p": expected}


def test_c0034_cronjob_pod_true_sa_false_from_files(tmp_path):
    cron = workload("CronJob", "test-cron", with_token(True, "test-sa"), "kubescape-test")
    objects = files_view(tmp_path, cron, account("test-sa", "kubescape-test", automount=False))
    assert verdicts("AKS-AUTH-008", objects, origin="files") == {
        "CronJob/kubescape-test/test-cron": "fail"}


def test_token_from_files_without_the_account_mounts_it(tmp_path):
    objects = files_view(tmp_path, workload("Deployment", "w", spec()))
    assert evidence("AKS-AUTH-008", objects, origin="files") == (
        "ServiceAccount default not found among the files: the token is mounted")


@pytest.mark.parametrize("pod_value, expected", [(None, "not-applicable"), (False, "pass"),
                                                 (True, "fail")])
def test_unlisted_accounts_matter_only_when_the_pod_leaves_it_unset(pod_value, expected):
    objects = cluster_view(pod(pod_spec=with_token(pod_value)))
    del objects["serviceaccounts"]
    assert verdicts("AKS-AUTH-008", objects) == {"Pod/default/p": expected}


# ---- AKS-AUTH-010 Pod Security Admission labels (pod-security-admission-baseline-applied) -------

def namespace(name: str, **labels: str) -> dict:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": {
        f"pod-security.kubernetes.io/{k.replace('_', '-')}": v for k, v in labels.items()}}}


PSA_CASES = [
    ("C-0193 test: no labels (a cluster-scoped webhook does not count)",
     [namespace("my-namespace")], {"Namespace/my-namespace": "fail"}),
    ("C-0193 test2: baseline, none and restricted",
     [namespace("my-baseline-namespace", enforce="baseline", enforce_version="v1.25",
                audit="restricted", warn="restricted"),
      namespace("my-namespace"),
      namespace("my-restricted-namespace", enforce="restricted", warn="restricted")],
     {"Namespace/my-baseline-namespace": "pass", "Namespace/my-namespace": "fail",
      "Namespace/my-restricted-namespace": "pass"}),
    ("C-0193 test3: baseline", [namespace("my-baseline-namespace", enforce="baseline")],
     {"Namespace/my-baseline-namespace": "pass"}),
    ("enforce privileged", [namespace("a", enforce="privileged")], {"Namespace/a": "fail"}),
    ("warn and audit only", [namespace("a", warn="restricted", audit="restricted")],
     {"Namespace/a": "fail"}),
    ("system namespaces are skipped", [namespace(n) for n in ("kube-system", "kube-public",
                                                             "kube-node-lease")], {}),
    ("a system namespace listed first", [namespace("kube-system"), namespace("app")],
     {"Namespace/app": "fail"}),
]


@pytest.mark.parametrize("objects, expected", [c[1:] for c in PSA_CASES],
                         ids=[c[0] for c in PSA_CASES])
def test_pod_security_admission(objects, expected):
    assert verdicts("AKS-AUTH-010", cluster_view(*objects)) == expected


def test_psa_evidence():
    objects = cluster_view(namespace("a", enforce="restricted", enforce_version="v1.35"),
                           namespace("b", enforce="privileged"), namespace("c"),
                           namespace("d", enforce="baseline"))
    found = {f.resource: f.evidence for f in run(objects) if f.check == "AKS-AUTH-010"}
    assert found == {"Namespace/a": "enforce: restricted (version v1.35)",
                     "Namespace/d": "enforce: baseline",
                     "Namespace/b": "enforce: privileged: admits privileged pods",
                     "Namespace/c": "no enforce label: admits privileged pods"}


def test_psa_unlisted_namespaces_never_pass():
    objects = cluster_view()
    del objects["namespaces"]
    assert verdicts("AKS-AUTH-010", objects) == {"Namespace/*": "not-applicable"}


def test_psa_from_files_judges_declared_and_used_namespaces(tmp_path):
    objects = files_view(tmp_path, namespace("app", enforce="restricted"),
                         workload("Deployment", "w", spec(), namespace="web"))
    assert verdicts("AKS-AUTH-010", objects, origin="files") == {
        "Namespace/app": "pass", "Namespace/web": "fail"}


def test_psa_namespaces_limit_the_view():
    objects = cluster_view(namespace("a"), namespace("b"))
    assert verdicts("AKS-AUTH-010", objects, namespaces=("a",)) == {"Namespace/a": "fail"}


# ---- Azure level: az aks show JSON or the planned configuration ---------------------------------

def azure(cluster: dict) -> dict[str, tuple[str, str]]:
    state = checks.State(cluster={"name": "aks1", **cluster}, cluster_source="az aks show",
                         has_cluster=False)
    return {f.check: (f.resource, f.status) for f in checks.run(state, chapter="03")
            if f.resource.startswith("ManagedCluster/")}


SP_APP = "8f3a2c1e-0000-4000-8000-000000000001"  # a service principal's application id
MSI = {"servicePrincipalProfile": {"clientId": "msi"}}
KUBELET = {"identityProfile": {"kubeletidentity": {
    "clientId": "5d2b7e90-0000-4000-8000-000000000002",
    "resourceId": "/subscriptions/s/resourcegroups/MC_rg/providers/Microsoft.ManagedIdentity/"
                  "userAssignedIdentities/aks1-agentpool"}}}

AZURE_CASES = [
    ("AKS-AUTH-011", "C-0241 success", {"aadProfile": {"enableAzureRBAC": True, "managed": True}},
     "pass"),
    ("AKS-AUTH-011", "C-0241 failed", {"aadProfile": {"enableAzureRBAC": False, "managed": True}},
     "fail"),
    ("AKS-AUTH-011", "C-0241 failed_with_aadProfile_null", {"aadProfile": {}}, "fail"),
    ("AKS-AUTH-011", "C-0241 failed_with_enableAzureRbac_null",
     {"aadProfile": {"enableAzureRBAC": None, "managed": True}}, "fail"),
    ("AKS-AUTH-011", "no aadProfile at all", {"aadProfile": None}, "fail"),
    ("AKS-AUTH-011", "legacy integration (C-0241 passes it)",
     {"aadProfile": {"enableAzureRbac": True, "managed": False}}, "fail"),
    ("AKS-AUTH-012", "CKV_AZURE_141 fail: absent", {}, "fail"),
    ("AKS-AUTH-012", "CKV_AZURE_141 fail2: false", {"disableLocalAccounts": False}, "fail"),
    ("AKS-AUTH-012", "CKV_AZURE_141 pass: true (differs: without Entra ID, a lockout)",
     {"disableLocalAccounts": True}, "fail"),
    ("AKS-AUTH-012", "true with Entra ID", {"disableLocalAccounts": True, "aadProfile": {
        "managed": True, "enableAzureRbac": True}}, "pass"),
    ("AKS-AUTH-012", "true with an empty aadProfile", {"disableLocalAccounts": True,
                                                       "aadProfile": {}}, "fail"),
    ("AKS-AUTH-012", "false with Entra ID", {"disableLocalAccounts": False, "aadProfile": {
        "managed": True}}, "fail"),
    ("AKS-AUTH-013", "C-0088 rbac-enabled-cloud success", {"enableRBAC": True}, "pass"),
    ("AKS-AUTH-013", "C-0088 rbac-enabled-cloud failed", {"enableRBAC": False}, "fail"),
    ("AKS-AUTH-013", "CKV_AZURE_5 FAILED2: 'false'", {"enableRBAC": "false"}, "fail"),
    ("AKS-AUTH-013", "CKV_AZURE_5 FAILED: absent", {}, "fail"),
    ("AKS-AUTH-013", "SDK casing", {"enableRbac": True}, "pass"),
    ("AKS-AUTH-014", "system-assigned, msi, kubelet identity",
     {"identity": {"type": "SystemAssigned"}, **MSI, **KUBELET}, "pass"),
    ("AKS-AUTH-014", "user-assigned, msi, kubelet identity",
     {"identity": {"type": "UserAssigned"}, **MSI, **KUBELET}, "pass"),
    ("AKS-AUTH-014", "migrated, node pools not upgraded: kubelet keeps the service principal",
     {"identity": {"type": "UserAssigned"}, "servicePrincipalProfile": {"clientId": SP_APP},
      **KUBELET}, "fail"),
    ("AKS-AUTH-014", "migrated, no kubelet identity yet",
     {"identity": {"type": "UserAssigned"}, **MSI}, "fail"),
    ("AKS-AUTH-014", "managed but an empty kubelet identity",
     {"identity": {"type": "SystemAssigned"}, **MSI, "identityProfile": {"kubeletidentity": {}}},
     "fail"),
    ("AKS-AUTH-014", "msi in another casing", {"identity": {"type": "SystemAssigned"},
                                               "servicePrincipalProfile": {"clientId": "MSI"},
                                               **KUBELET}, "pass"),
    ("AKS-AUTH-014", "service principal",
     {"identity": None, "servicePrincipalProfile": {"clientId": SP_APP}}, "fail"),
    ("AKS-AUTH-014", "identity type None", {"identity": {"type": "None"}, **MSI, **KUBELET},
     "fail"),
    ("AKS-AUTH-014", "no identity", {}, "fail"),
    ("AKS-AUTH-015", "both on", {"oidcIssuerProfile": {"enabled": True},
                                 "securityProfile": {"workloadIdentity": {"enabled": True}}},
     "pass"),
    ("AKS-AUTH-015", "OIDC issuer only", {"oidcIssuerProfile": {"enabled": True}}, "fail"),
    ("AKS-AUTH-015", "workload identity off", {"oidcIssuerProfile": {"enabled": True},
                                               "securityProfile": {"workloadIdentity": {
                                                   "enabled": False}}}, "fail"),
    ("AKS-AUTH-015", "pod-managed identity still on",
     {"oidcIssuerProfile": {"enabled": True}, "podIdentityProfile": {"enabled": True},
      "securityProfile": {"workloadIdentity": {"enabled": True}}}, "fail"),
    ("AKS-AUTH-016", "add-on on (az casing)", {"addonProfiles": {"azurepolicy": {"enabled": True}}},
     "pass"),
    ("AKS-AUTH-016", "add-on on (other casing)",
     {"addonProfiles": {"azurePolicy": {"enabled": True}}}, "pass"),
    ("AKS-AUTH-016", "add-on off", {"addonProfiles": {"azurepolicy": {"enabled": False}}}, "fail"),
    ("AKS-AUTH-016", "no add-ons", {}, "fail"),
    ("AKS-AUTH-017", "CKV_AZURE_172 fail: no add-on",
     {"addonProfiles": {"omsagent": {"enabled": True}}}, "fail"),
    ("AKS-AUTH-017", "CKV_AZURE_172 fail1: rotation false", {"addonProfiles": {
        "azureKeyvaultSecretsProvider": {"enabled": True, "config": {
            "enableSecretRotation": False}}}}, "fail"),
    ("AKS-AUTH-017", "CKV_AZURE_172 pass: rotation true", {"addonProfiles": {
        "azureKeyvaultSecretsProvider": {"enabled": True, "config": {
            "enableSecretRotation": True}}}}, "pass"),
    ("AKS-AUTH-017", "az aks show strings", {"addonProfiles": {
        "azureKeyvaultSecretsProvider": {"enabled": True, "config": {
            "enableSecretRotation": "true", "rotationPollInterval": "2m"}}}}, "pass"),
    ("AKS-AUTH-017", "rotation on a disabled add-on (CKV_AZURE_172 passes it)", {"addonProfiles": {
        "azureKeyvaultSecretsProvider": {"enabled": False, "config": {
            "enableSecretRotation": "true"}}}}, "fail"),
    ("AKS-AUTH-017", "add-on on, no config", {"addonProfiles": {
        "azureKeyvaultSecretsProvider": {"enabled": True}}}, "fail"),
    ("AKS-AUTH-011", "legacy integration without Azure RBAC", {"aadProfile": {"managed": False}},
     "fail"),
    ("AKS-AUTH-014", "managed, kubelet on a service principal and no kubelet identity",
     {"identity": {"type": "SystemAssigned"}, "servicePrincipalProfile": {"clientId": SP_APP}},
     "fail"),
    ("AKS-AUTH-015", "neither", {}, "fail"),
    ("AKS-AUTH-017", "rotation every 5 minutes", {"addonProfiles": {
        "azureKeyvaultSecretsProvider": {"enabled": "true", "config": {
            "enableSecretRotation": "true", "rotationPollInterval": "5m"}}}}, "pass"),
]


@pytest.mark.parametrize("check_id, cluster, expected", [(c[0], *c[2:]) for c in AZURE_CASES],
                         ids=[f"{c[0]} {c[1]}" for c in AZURE_CASES])
def test_azure_checks(check_id, cluster, expected):
    assert azure(cluster)[check_id] == ("ManagedCluster/aks1", expected)


# what a reader sees for each case above (the source, az aks show, ends every evidence)
AZURE_EVIDENCE = {
    "C-0241 success":
        "managed Entra ID integration with Azure RBAC",
    "C-0241 failed":
        "Azure RBAC off: only Kubernetes RBAC authorizes Entra users",
    "C-0241 failed_with_aadProfile_null":
        "no Entra ID integration (aadProfile empty)",
    "C-0241 failed_with_enableAzureRbac_null":
        "Azure RBAC off: only Kubernetes RBAC authorizes Entra users",
    "no aadProfile at all":
        "no Entra ID integration (aadProfile empty)",
    "legacy integration (C-0241 passes it)":
        "legacy Entra integration (aadProfile.managed not true): retired",
    "CKV_AZURE_141 fail: absent":
        "local accounts enabled: az aks get-credentials --admin gives a cluster-admin certificate"
        " that bypasses Entra ID",
    "CKV_AZURE_141 fail2: false":
        "local accounts enabled: az aks get-credentials --admin gives a cluster-admin certificate"
        " that bypasses Entra ID",
    "CKV_AZURE_141 pass: true (differs: without Entra ID, a lockout)":
        "disableLocalAccounts true without Entra ID integration (no aadProfile): no one can sign "
        "in to the cluster (a lockout)",
    "true with Entra ID":
        "disableLocalAccounts true, Entra ID integration on",
    "true with an empty aadProfile":
        "disableLocalAccounts true without Entra ID integration (no aadProfile): no one can sign "
        "in to the cluster (a lockout)",
    "false with Entra ID":
        "local accounts enabled: az aks get-credentials --admin gives a cluster-admin certificate"
        " that bypasses Entra ID",
    "C-0088 rbac-enabled-cloud success":
        "enableRbac true",
    "C-0088 rbac-enabled-cloud failed":
        "enableRbac not true",
    "CKV_AZURE_5 FAILED2: 'false'":
        "enableRbac not true",
    "CKV_AZURE_5 FAILED: absent":
        "enableRbac not true",
    "SDK casing":
        "enableRbac true",
    "system-assigned, msi, kubelet identity":
        "managed identity (identity.type SystemAssigned); servicePrincipalProfile.clientId msi; "
        "identityProfile.kubeletidentity present",
    "user-assigned, msi, kubelet identity":
        "managed identity (identity.type UserAssigned); servicePrincipalProfile.clientId msi; "
        "identityProfile.kubeletidentity present",
    "migrated, node pools not upgraded: kubelet keeps the service principal":
        "identity.type UserAssigned but servicePrincipalProfile.clientId is a service principal, "
        "not msi: kubelet still authenticates with it ('Use a user-assigned managed identity in "
        "AKS': kubelet continues using a service principal until you also upgrade your node pool)",
    "migrated, no kubelet identity yet":
        "identity.type UserAssigned but no identityProfile.kubeletidentity: kubelet has no "
        "managed identity (upgrade the node pools)",
    "managed but an empty kubelet identity":
        "identity.type SystemAssigned but no identityProfile.kubeletidentity: kubelet has no "
        "managed identity (upgrade the node pools)",
    "msi in another casing":
        "managed identity (identity.type SystemAssigned); servicePrincipalProfile.clientId msi; "
        "identityProfile.kubeletidentity present",
    "service principal":
        "no managed identity (identity.type None, servicePrincipalProfile.clientId set): a "
        "service principal's secret expires and is stored on every node",
    "identity type None":
        "no managed identity (identity.type None, servicePrincipalProfile.clientId msi): a "
        "service principal's secret expires and is stored on every node",
    "no identity":
        "no managed identity (identity.type None, no servicePrincipalProfile.clientId): a service"
        " principal's secret expires and is stored on every node",
    "both on":
        "OIDC issuer and workload identity on",
    "OIDC issuer only":
        "workload identity off",
    "workload identity off":
        "workload identity off",
    "pod-managed identity still on":
        "pod-managed identity on (unsupported since 2025-09)",
    "add-on on (az casing)":
        "azurepolicy add-on on",
    "add-on on (other casing)":
        "azurepolicy add-on on",
    "add-on off":
        "azurepolicy add-on off",
    "no add-ons":
        "azurepolicy add-on off",
    "CKV_AZURE_172 fail: no add-on":
        "azureKeyvaultSecretsProvider add-on off",
    "CKV_AZURE_172 fail1: rotation false":
        "add-on on, secret rotation off",
    "CKV_AZURE_172 pass: rotation true":
        "add-on on, rotation every 2m",
    "az aks show strings":
        "add-on on, rotation every 2m",
    "rotation on a disabled add-on (CKV_AZURE_172 passes it)":
        "azureKeyvaultSecretsProvider add-on off",
    "add-on on, no config":
        "add-on on, secret rotation off",
    "legacy integration without Azure RBAC":
        "legacy Entra integration (aadProfile.managed not true): retired; Azure RBAC off: only "
        "Kubernetes RBAC authorizes Entra users",
    "managed, kubelet on a service principal and no kubelet identity":
        "identity.type SystemAssigned but servicePrincipalProfile.clientId is a service "
        "principal, not msi: kubelet still authenticates with it ('Use a user-assigned managed "
        "identity in AKS': kubelet continues using a service principal until you also upgrade "
        "your node pool); identity.type SystemAssigned but no identityProfile.kubeletidentity: "
        "kubelet has no managed identity (upgrade the node pools)",
    "neither":
        "OIDC issuer off; workload identity off",
    "rotation every 5 minutes":
        "add-on on, rotation every 5m",
}


@pytest.mark.parametrize("check_id, name, cluster", [c[:3] for c in AZURE_CASES],
                         ids=[f"{c[0]} {c[1]}" for c in AZURE_CASES])
def test_azure_evidence(check_id, name, cluster):
    state = checks.State(cluster={"name": "aks1", **cluster}, cluster_source="az aks show",
                         has_cluster=False)
    [found] = [f for f in checks.run(state, chapter="03") if f.check == check_id]
    assert found.evidence == AZURE_EVIDENCE[name] + " (az aks show)"


def test_azure_evidence_names_the_source_and_what_is_missing():
    state = checks.State(cluster={"name": "aks1", "aadProfile": {}}, cluster_source="az aks show",
                         has_cluster=False)
    [found] = [f for f in checks.run(state, chapter="03") if f.check == "AKS-AUTH-011"]
    assert found.evidence == "no Entra ID integration (aadProfile empty) (az aks show)"
    assert found.remediation.startswith("az aks update --enable-aad")


def test_without_configuration_azure_checks_are_not_applicable():
    found = {f.check: f.status for f in checks.run(checks.State(cluster_view()), chapter="03")
             if f.resource == "ManagedCluster"}
    assert found == {f"AKS-AUTH-0{i}": "not-applicable" for i in range(11, 18)}


def test_planned_configuration_of_prod():
    state = checks.State(cluster=azplan.planned_cluster(load(ROOT / "environments" /
                                                                 "aks-prod.yaml")),
                         cluster_source="planned configuration", has_cluster=False)
    found = {f.check: f.status for f in checks.run(state, chapter="03")
             if f.resource.startswith("ManagedCluster/")}
    # the plan's az aks create enables the Key Vault provider with --enable-secret-rotation
    assert {found[f"AKS-AUTH-0{i}"] for i in range(11, 18)} == {"pass"}


# ---- AKS-AUTH-014 every field that decides which identity acts --------------------------------

def auth_finding(check_id: str, cluster: dict, source: str = "az aks show") -> checks.Finding:
    state = checks.State(cluster={"name": "aks1", **cluster}, cluster_source=source,
                         has_cluster=False)
    [found] = [f for f in checks.run(state, chapter="03") if f.check == check_id]
    return found


def test_kubelet_on_a_service_principal_names_the_field_and_the_doc():
    found = auth_finding("AKS-AUTH-014", {"identity": {"type": "UserAssigned"},
                                          "servicePrincipalProfile": {"clientId": SP_APP},
                                          **KUBELET})
    assert found.status == "fail"
    assert "servicePrincipalProfile.clientId is a service principal, not msi" in found.evidence
    assert "kubelet continues using a service principal until you also upgrade your node pool" \
        in found.evidence
    assert SP_APP not in found.evidence  # the application id is not repeated
    assert "az aks nodepool upgrade --node-image-only" in found.remediation


def test_a_managed_cluster_evidence_names_each_field():
    found = auth_finding("AKS-AUTH-014", {"identity": {"type": "SystemAssigned"}, **MSI,
                                          **KUBELET})
    assert found.evidence == ("managed identity (identity.type SystemAssigned); "
                              "servicePrincipalProfile.clientId msi; "
                              "identityProfile.kubeletidentity present (az aks show)")


def test_a_plan_creates_the_kubelet_identity_with_the_cluster():
    found = auth_finding("AKS-AUTH-014", {"identity": {"type": "UserAssigned"}},
                         "planned configuration")
    assert found.status == "pass"
    assert found.evidence == ("managed identity (identity.type UserAssigned); no "
                              "servicePrincipalProfile.clientId; kubelet identity created with "
                              "the cluster (identityProfile is known once it exists) (planned "
                              "configuration)")
    planned_sp = auth_finding("AKS-AUTH-014", {"identity": {"type": "UserAssigned"},
                                               "servicePrincipalProfile": {"clientId": SP_APP}},
                              "planned configuration")
    assert planned_sp.status == "fail"


def test_local_accounts_off_without_entra_is_a_lockout():
    found = auth_finding("AKS-AUTH-012", {"disableLocalAccounts": True})
    assert found.evidence == ("disableLocalAccounts true without Entra ID integration (no "
                              "aadProfile): no one can sign in to the cluster (a lockout) (az aks "
                              "show)")
    assert found.remediation.startswith("az aks update --enable-aad")


def test_key_vault_remediation_uses_core_az():
    found = auth_finding("AKS-AUTH-017", {"addonProfiles": {"azureKeyvaultSecretsProvider": {
        "enabled": True, "config": {"enableSecretRotation": "false"}}}})
    assert found.status == "fail"
    assert "az aks addon" not in found.remediation  # aks-preview only
    assert "az aks update --enable-secret-rotation" in found.remediation
    assert ("az aks enable-addons --addons azure-keyvault-secrets-provider "
            "--enable-secret-rotation") in found.remediation


# ---- AKS-AUTH-018 long-lived service account tokens -------------------------------------------
# Facts: Kubernetes' tokens_controller.go, legacy.go, legacy_serviceaccount_token_cleaner.go and
# the docs 'Managing Service Accounts', 'Configure Service Accounts for Pods'.

TOKEN = "kubernetes.io/service-account-token"
INVALID = "kubernetes.io/legacy-token-invalid-since"
LAST_USED = "kubernetes.io/legacy-token-last-used"


def token_account(name: str = "deployer", namespace: str = "ci", uid: str = "uid-1") -> dict:
    return {"kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace,
                                                   "uid": uid}}


def token_secret(name: str = "deployer-token", namespace: str = "ci", sa: str | None = "deployer",
                 uid: str | None = None, labels: dict | None = None,
                 kind: str = TOKEN) -> dict:
    annotations = {}
    if sa:
        annotations["kubernetes.io/service-account.name"] = sa
    if uid:
        annotations["kubernetes.io/service-account.uid"] = uid
    meta = {"name": name, "namespace": namespace, "annotations": annotations,
            "labels": labels or {}}
    return {"apiVersion": "v1", "kind": "Secret", "type": kind, "metadata": meta}


def cluster_admin_binding(sa: str = "deployer", namespace: str = "ci") -> dict:
    return {"kind": "ClusterRoleBinding", "metadata": {"name": f"{sa}-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}]}


def tokens(objects: dict, **state) -> list[tuple[str, str, str, str]]:
    return [(f.resource, f.status, f.severity, f.evidence) for f in run(objects, **state)
            if f.check == "AKS-AUTH-018"]


NOT_KNOWN = ("from files: judged from the spec, its live status (token filled, "
             f"{INVALID}, {LAST_USED}) is not known")


def test_a_token_secret_from_files_fails_on_its_spec_and_says_the_status_is_not_known(tmp_path):
    secret = token_secret(uid="uid-1", labels={INVALID: "2026-01-01"})
    secret["data"] = {"token": "c2VjcmV0LXRva2Vu"}  # a saved copy: the value must never show
    found = tokens(files_view(tmp_path, secret), origin="files")
    assert found == [("Secret/ci/deployer-token", "fail", "medium",
                      "non-expiring token for ServiceAccount deployer once applied (the token "
                      f"controller fills it); {NOT_KNOWN}")]
    assert "c2VjcmV0" not in str(run(files_view(tmp_path, secret), origin="files"))
    [failing] = [f for f in run(files_view(tmp_path, secret), origin="files")
                 if f.check == "AKS-AUTH-018"]
    assert failing.remediation.startswith("Delete the Secret and have the client request "
                                          "short-lived tokens (TokenRequest API")


def test_a_token_for_a_cluster_admin_account_is_critical_from_files(tmp_path):
    view = files_view(tmp_path, token_secret(), cluster_admin_binding())
    assert tokens(view, origin="files") == [(
        "Secret/ci/deployer-token", "fail", "critical",
        "non-expiring token for ServiceAccount deployer once applied (the token controller "
        f"fills it); {NOT_KNOWN}; ServiceAccount/ci/deployer holds cluster-admin through "
        "ClusterRoleBinding/deployer-admin (critical)")]


def test_rights_through_the_accounts_groups_raise_the_severity():
    # every service account of namespace ci may read Secrets there: high, not medium
    binding = {"kind": "RoleBinding", "metadata": {"name": "read", "namespace": "ci"},
               "roleRef": {"kind": "Role", "name": "reader"},
               "subjects": [{"kind": "Group", "name": "system:serviceaccounts:ci"}]}
    role = {"kind": "Role", "metadata": {"name": "reader", "namespace": "ci"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}
    view = cluster_view(token_account(), token_secret(uid="uid-1"), binding, role)
    [(_, status, level, text)] = tokens(view)
    assert (status, level) == ("fail", "high")
    assert text.endswith("; ServiceAccount/ci/deployer holds secrets-read through "
                         "RoleBinding/ci/read (high)")


def test_a_lesser_right_does_not_lower_the_severity():
    # delete on pods scores below the check's own 6.0: the token stays medium
    binding = {"kind": "RoleBinding", "metadata": {"name": "cleanup", "namespace": "ci"},
               "roleRef": {"kind": "Role", "name": "cleaner"},
               "subjects": [{"kind": "ServiceAccount", "name": "deployer"}]}
    role = {"kind": "Role", "metadata": {"name": "cleaner", "namespace": "ci"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]}]}
    view = cluster_view(token_account(), token_secret(), binding, role)
    [(_, status, level, text)] = tokens(view)
    assert (status, level) == ("fail", "medium")
    assert "holds delete through RoleBinding/ci/cleanup" in text


def test_another_accounts_rights_do_not_raise_the_severity():
    # account builder may read Secrets in ci; deployer, whose token this is, holds nothing
    binding = {"kind": "RoleBinding", "metadata": {"name": "read", "namespace": "ci"},
               "roleRef": {"kind": "Role", "name": "reader"},
               "subjects": [{"kind": "ServiceAccount", "name": "builder"}]}
    role = {"kind": "Role", "metadata": {"name": "reader", "namespace": "ci"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}
    view = cluster_view(token_account(), token_secret(), binding, role)
    assert tokens(view) == [(
        "Secret/ci/deployer-token", "fail", "medium",
        "non-expiring token for ServiceAccount deployer, filled by the token controller (the "
        f"account exists): valid until the Secret is deleted; no use recorded (label {LAST_USED})")]


def test_without_the_cluster_wide_bindings_the_rights_are_not_all_known():
    # attendee mode lists only the namespace: the token still fails, its severity may be low
    view = cluster_view(token_account(), token_secret(), cluster_admin_binding())
    del view["clusterrolebindings"], view["clusterroles"]
    [(_, status, level, text)] = tokens(view)
    assert (status, level) == ("fail", "medium")
    assert text.endswith("no use recorded (label kubernetes.io/legacy-token-last-used); its "
                         "rights are not all known (clusterroles, clusterrolebindings could "
                         "not be listed)")


def test_a_live_token_of_an_existing_account_fails_and_says_when_it_was_used():
    used = token_secret(uid="uid-1", labels={LAST_USED: "2026-11-30"})
    view = cluster_view(token_account(), used)
    assert tokens(view) == [(
        "Secret/ci/deployer-token", "fail", "medium",
        "non-expiring token for ServiceAccount deployer, filled by the token controller (the "
        "account exists and its uid matches): valid until the Secret is deleted; last used "
        "2026-11-30")]


def test_a_token_not_yet_annotated_with_the_uid_is_filled_for_the_existing_account():
    [(_, status, _, text)] = tokens(cluster_view(token_account(), token_secret()))
    assert status == "fail"
    assert text == ("non-expiring token for ServiceAccount deployer, filled by the token "
                    "controller (the account exists): valid until the Secret is deleted; no use "
                    f"recorded (label {LAST_USED})")


def test_a_token_whose_account_does_not_exist_is_no_credential():
    assert tokens(cluster_view(token_account("other"), token_secret(sa="ghost"))) == [(
        "Secret/ci/deployer-token", "pass", "medium",
        "not a credential: ServiceAccount ghost does not exist, so the token controller writes "
        "no token into it (it deletes such Secrets) and the API server rejects any token whose "
        "account is gone")]


def test_an_account_of_the_same_name_in_another_namespace_does_not_count():
    [(_, status, _, text)] = tokens(cluster_view(token_account(namespace="prod"), token_secret()))
    assert status == "pass" and text.startswith("not a credential: ServiceAccount deployer "
                                                "does not exist")


def test_a_token_of_an_earlier_account_with_the_same_name_is_rejected():
    view = cluster_view(token_account(uid="uid-2"), token_secret(uid="uid-1"))
    assert tokens(view) == [(
        "Secret/ci/deployer-token", "pass", "medium",
        "not a credential: issued to an earlier ServiceAccount deployer "
        "(kubernetes.io/service-account.uid differs from the account's uid); the API server "
        "rejects it and the token controller deletes the Secret")]


def test_a_token_labelled_invalid_is_not_a_live_credential():
    view = cluster_view(token_account(), token_secret(uid="uid-1", labels={
        INVALID: "2026-10-01", LAST_USED: "2025-09-01"}), cluster_admin_binding())
    assert tokens(view) == [(
        "Secret/ci/deployer-token", "pass", "medium",
        f"invalid since 2026-10-01 (label {INVALID}): the API server rejects the token; "
        "removing the label makes it valid again, delete the Secret")]


def test_an_empty_invalid_since_label_does_not_invalidate():
    # the authenticator rejects only a non-empty value
    view = cluster_view(token_account(), token_secret(uid="uid-1", labels={INVALID: ""}))
    assert [status for _, status, _, _ in tokens(view)] == ["fail"]


def test_other_secret_types_are_not_judged_and_none_is_a_pass(tmp_path):
    opaque = token_secret(kind="Opaque")
    assert tokens(cluster_view(token_account(), opaque)) == [
        ("Secret/*", "pass", "medium", f"no Secret of type {TOKEN} listed")]
    assert tokens(cluster_view(token_account(), opaque), namespaces=("ci", "web")) == [
        ("Secret/*", "pass", "medium", f"no Secret of type {TOKEN} in ci, web")]
    assert tokens(files_view(tmp_path, opaque), origin="files") == [
        ("Secret/*", "pass", "medium", f"no Secret of type {TOKEN} among the files")]


def test_a_token_secret_without_its_account_annotation_is_refused_by_the_api_server(tmp_path):
    found = tokens(files_view(tmp_path, token_secret(sa=None)), origin="files")
    assert found == [("Secret/ci/deployer-token", "not-applicable", "medium",
                      "no kubernetes.io/service-account.name annotation: the API server "
                      "refuses this Secret")]


@pytest.mark.parametrize("unlisted", [("secrets",), ("serviceaccounts",),
                                      ("secrets", "serviceaccounts")])
def test_without_secrets_or_accounts_listed_the_token_check_cannot_judge(unlisted):
    view = cluster_view(token_account(), token_secret())
    for kind in unlisted:
        del view[kind]
    assert tokens(view) == [("Secret/*", "not-applicable", "medium",
                             f"cannot judge: {', '.join(unlisted)} could not be listed")]


def test_namespaces_limit_the_token_secrets_judged():
    view = cluster_view(token_account(), token_secret(), token_secret(namespace="prod"))
    assert [r for r, *_ in tokens(view, namespaces=("prod",))] == ["Secret/prod/deployer-token"]


def test_a_configuration_without_a_name_is_still_one_named_row():
    state = checks.State(cluster={"enableRbac": True}, cluster_source="az aks show",
                         has_cluster=False)
    found = [(f.resource, f.status) for f in checks.run(state, chapter="03")
             if f.check == "AKS-AUTH-013"]
    assert found == [("ManagedCluster/cluster", "pass")]


def test_a_kube_system_token_of_a_cluster_admin_account_is_critical():
    # system namespaces are judged here: a leaked controller token is the worst case
    secret = token_secret("ctl-token", "kube-system", "ctl", uid="uid-9")
    cluster_admin = {"kind": "ClusterRole", "metadata": {"name": "cluster-admin"},
                     "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}
    view = cluster_view(token_account("ctl", "kube-system", "uid-9"), secret, cluster_admin,
                        cluster_admin_binding("ctl", "kube-system"))
    [(resource, status, level, text)] = tokens(view)
    assert (resource, status, level) == ("Secret/kube-system/ctl-token", "fail", "critical")
    assert text.endswith("holds cluster-admin through ClusterRoleBinding/ctl-admin (critical)")


def test_token_secrets_without_labels_or_annotations():
    bare = {"kind": "Secret", "type": TOKEN, "metadata": {"name": "bare", "namespace": "ci"}}
    unlabelled = token_secret(uid="uid-1")
    del unlabelled["metadata"]["labels"]
    found = tokens(cluster_view(token_account(), bare, unlabelled))
    assert [(r, s) for r, s, _, _ in found] == [("Secret/ci/bare", "not-applicable"),
                                                 ("Secret/ci/deployer-token", "fail")]


def test_token_automount_evidence_names_the_field_that_decides():
    found = evidence("AKS-AUTH-008", cluster_view(pod(pod_spec=with_token(True, "test-sa")),
                                                  account("test-sa", automount=False)))
    assert found == ("automountServiceAccountToken: true on the pod (wins over its "
                     "ServiceAccount)")


@pytest.mark.parametrize("pod_spec, accounts, expected", [
    (with_token(False, "test-sa"), [], "automountServiceAccountToken: false on the pod"),
    (with_token(None, "test-sa"), [account("test-sa", automount=False)],
     "ServiceAccount test-sa sets automountServiceAccountToken: false"),
    (with_token(None, "test-sa"), [account("test-sa")],
     "neither the pod nor ServiceAccount test-sa sets automountServiceAccountToken: false"),
    (with_token(None, "gone"), [], "ServiceAccount gone not found in the namespace: the token "
                                   "is mounted"),
])
def test_token_automount_evidence(pod_spec, accounts, expected):
    assert evidence("AKS-AUTH-008", cluster_view(pod(pod_spec=pod_spec), *accounts)) == expected


def test_token_secrets_after_other_secrets_are_judged():
    opaque = token_secret("settings", kind="Opaque")
    view = cluster_view(token_account(), opaque, token_secret(uid="uid-1"))
    assert [(r, s) for r, s, _, _ in tokens(view)] == [("Secret/ci/deployer-token", "fail")]
