"""Checks for chapter 03 (auth): what pods may do on their node (privileged, host namespaces,
hostPath, capabilities, root, privilege escalation, seccomp), their credentials (service
account tokens, long-lived token Secrets, Secrets in environment variables), Pod Security
Admission labels, and the
cluster's identity settings (Entra ID, Azure RBAC, local accounts, managed and workload
identity, Azure Policy, Key Vault secrets provider).

Pod checks judge every container kind (containers, initContainers, ephemeralContainers), give one
row per workload (`owner(pod)`), and skip the namespaces AKS manages.

Long-lived tokens (AKS-AUTH-018), from Kubernetes' source (pkg/controller/serviceaccount
tokens_controller.go, legacy_serviceaccount_token_cleaner.go; pkg/serviceaccount/legacy.go)
and docs ('Managing Service Accounts', 'Well-Known Labels, Annotations and Taints'): the API
server accepts a Secret of type kubernetes.io/service-account-token only with the annotation
kubernetes.io/service-account.name. The token controller writes a token that never expires into
it when that ServiceAccount exists (and kubernetes.io/service-account.uid, if set, is its uid),
sets the uid annotation as it does, and deletes the Secret when the account is missing or has
another uid. The authenticator accepts the token only while the Secret and the account (same
uid) exist and the Secret carries no kubernetes.io/legacy-token-invalid-since label; each use
stamps kubernetes.io/legacy-token-last-used. The legacy token cleaner labels auto-generated
tokens unused for a year (default) invalid and deletes them a year later. Listed Secrets carry
no data (cluster/objects.py), so on a cluster these rules, read from the Secret's metadata and the
ServiceAccounts, decide the status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from aks_runbook.analysis import rbac
from aks_runbook.checks import (
    Check,
    Finding,
    State,
    check,
    containers,
    field_of,
    resource,
    severity,
)
from aks_runbook.checks.network import SYSTEM_NAMESPACES
from aks_runbook.checks.workloads import (
    PODS,
    Verdict,
    per_container,
    per_workload,
    verdict,
)

SYSTEM_NOTE = ("kube-system, kube-public and kube-node-lease are skipped (AKS manages them; "
               "kubescape's AKS exceptions exempt AKS's workloads there)")
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
SAFE_SECCOMP = ("RuntimeDefault", "Localhost")

def context(container: dict) -> dict:
    return container.get("securityContext") or {}


def pod_context(pod: dict) -> dict:
    return (pod.get("spec") or {}).get("securityContext") or {}


# ---- pods: what they may do on the node ---------------------------------------------------------

@check("AKS-AUTH-001", "03-auth", "Privileged container", 8.0,
       "kubescape C-0057; checkov CKV_K8S_16; CIS AKS 4.2.1; PSS baseline 'Privileged Containers'",
       "Remove securityContext.privileged: true and the SYS_ADMIN capability; grant only the "
       "capabilities needed (AKS-AUTH-004)",
       differs="As C-0057, adding SYS_ADMIN counts as privileged and init and ephemeral "
               "containers are read (CKV_K8S_16 reads neither). " + SYSTEM_NOTE,
       reads=PODS)
def privileged(state: State, me: Check) -> list[Finding]:
    def problem(pod: dict, container: dict) -> str | None:
        added = (context(container).get("capabilities") or {}).get("add") or []
        if context(container).get("privileged") is True:
            return "privileged"
        return "adds SYS_ADMIN (privileged in all but name)" if "SYS_ADMIN" in added else None

    return per_container(state, me, problem, "no privileged container")


HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


@check("AKS-AUTH-002", "03-auth", "Pod shares the node's network, PID or IPC namespace", 7.0,
       "kubescape C-0041, C-0038; checkov CKV_K8S_19, CKV_K8S_17, CKV_K8S_18; CIS AKS "
       "4.2.2-4.2.4; PSS baseline 'Host Namespaces'",
       "Remove hostNetwork, hostPID and hostIPC (false is the default); expose ports through a "
       "Service instead",
       differs=SYSTEM_NOTE,
       reads=PODS)
def host_namespaces(state: State, me: Check) -> list[Finding]:
    def judge(pod: dict) -> Verdict:
        spec = pod.get("spec") or {}
        shared = [f"{field}: true" for field in HOST_NAMESPACES if spec.get(field) is True]
        return verdict(shared, "no host namespace shared")

    return per_workload(state, me, judge)


def _mounts(pod: dict, volume: str) -> list[tuple[str, bool]]:
    """(container, writable) for each mount of this volume."""
    return [(name, m.get("readOnly") is not True) for name, c in containers(pod)
            for m in c.get("volumeMounts") or [] if m.get("name") == volume]


@check("AKS-AUTH-003", "03-auth", "hostPath volume (node's filesystem in the pod)", 7.0,
       "kubescape C-0048, C-0045 (writable); CIS Kubernetes 5.2.12; PSS baseline 'HostPath "
       "Volumes'",
       "Replace hostPath with a PersistentVolumeClaim, emptyDir, ConfigMap or CSI volume; if it "
       "must stay, mount it readOnly: true",
       differs="C-0048 fails a hostPath volume only when a container mounts it; here every "
               "hostPath volume fails, as PSS baseline forbids them, and the evidence says which "
               "mounts are writable (C-0045: readOnly not true), ephemeral containers' too. "
               + SYSTEM_NOTE,
       reads=PODS)
def host_path(state: State, me: Check) -> list[Finding]:
    def judge(pod: dict) -> Verdict:
        problems = []
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            if "hostPath" not in volume:
                continue
            path = (volume.get("hostPath") or {}).get("path")
            mounts = _mounts(pod, volume.get("name"))
            writable = [name for name, rw in mounts if rw]
            how = (f"writable by {', '.join(writable)}" if writable
                   else "read-only" if mounts else "not mounted")
            problems.append(f"hostPath {path} (volume {volume.get('name')}, {how})")
        return verdict(problems, "no hostPath volume")

    return per_workload(state, me, judge)


@check("AKS-AUTH-004", "03-auth", "Container keeps or adds Linux capabilities", 7.0,
       "kubescape C-0046; checkov CKV_K8S_25, CKV_K8S_37; CIS AKS 4.2.7, 4.2.8; PSS restricted "
       "'Capabilities'",
       "In every container set securityContext.capabilities.drop: [ALL] and add back only "
       "NET_BIND_SERVICE if it binds a port below 1024",
       differs="C-0046 fails only capabilities on its insecure list, CKV_K8S_25 any added one; "
               "here, as PSS restricted, every container (init and ephemeral too) must drop ALL "
               "and may add only NET_BIND_SERVICE. Windows pods are not-applicable. "
               + SYSTEM_NOTE,
       reads=PODS)
def capabilities(state: State, me: Check) -> list[Finding]:
    def problem(pod: dict, container: dict) -> str | None:
        caps = context(container).get("capabilities") or {}
        added = [c for c in caps.get("add") or [] if c != "NET_BIND_SERVICE"]
        wrong = ([] if "ALL" in (caps.get("drop") or []) else ["does not drop ALL"])
        wrong += [f"adds {', '.join(added)}"] if added else []
        return " and ".join(wrong) or None

    return per_container(state, me, problem,
                         "every container drops ALL (adds at most NET_BIND_SERVICE)",
                         linux_only=True)


def _effective(pod: dict, container: dict, field: str):
    """A securityContext field: the container's wins over the pod's."""
    value = context(container).get(field)
    return pod_context(pod).get(field) if value is None else value


@check("AKS-AUTH-005", "03-auth", "Container may run as root", 6.0,
       "kubescape C-0013; checkov CKV_K8S_23; CIS AKS 4.2.6; PSS restricted 'Running as "
       "Non-root', 'Running as Non-root user'",
       "Set securityContext.runAsNonRoot: true (pod level) and a runAsUser above 0; build the "
       "image with a numeric non-root USER",
       differs="As C-0013 and CKV_K8S_23, runAsNonRoot: true or a runAsUser above 0 passes (the "
               "container's value wins over the pod's); C-0013 also fails an unset or 0 "
               "runAsGroup, which is not judged here. runAsUser 0 fails even beside runAsNonRoot: "
               "true. Windows pods are not-applicable. " + SYSTEM_NOTE,
       reads=PODS)
def run_as_root(state: State, me: Check) -> list[Finding]:
    def problem(pod: dict, container: dict) -> str | None:
        user = _effective(pod, container, "runAsUser")
        non_root = _effective(pod, container, "runAsNonRoot")
        if user == 0:
            return "runAsUser 0"
        if non_root is True or (isinstance(user, int) and user > 0):
            return None
        why = "runAsNonRoot false" if non_root is False else "no runAsNonRoot: true"
        return f"{why} and no runAsUser above 0 (the image decides)"

    return per_container(state, me, problem, "every container runs as non-root",
                         linux_only=True)


@check("AKS-AUTH-006", "03-auth", "Privilege escalation allowed (allowPrivilegeEscalation not "
       "false)", 6.0,
       "kubescape C-0016; checkov CKV_K8S_20; CIS AKS 4.2.5; PSS restricted 'Privilege "
       "Escalation'",
       "Set securityContext.allowPrivilegeEscalation: false in every container (absent means "
       "allowed)",
       differs="C-0016 reads only `containers`; here init and ephemeral containers too, as PSS "
               "restricted. Windows pods are not-applicable. " + SYSTEM_NOTE,
       reads=PODS)
def privilege_escalation(state: State, me: Check) -> list[Finding]:
    def problem(pod: dict, container: dict) -> str | None:
        value = context(container).get("allowPrivilegeEscalation")
        if value is False:
            return None
        return "allowPrivilegeEscalation " + ("true" if value is True else "not set (allowed)")

    return per_container(state, me, problem, "allowPrivilegeEscalation false in every container",
                         linux_only=True)


@check("AKS-AUTH-007", "03-auth", "No seccomp profile (RuntimeDefault or Localhost)", 4.0,
       "kubescape C-0210; checkov CKV_K8S_31; CIS Kubernetes 5.7.2; PSS restricted 'Seccomp'",
       "Set spec.securityContext.seccompProfile.type: RuntimeDefault on the pod (containers may "
       "override it only with RuntimeDefault or Localhost)",
       differs="C-0210 and CKV_K8S_31 accept only RuntimeDefault; here Localhost passes too, as "
               "PSS restricted allows it. The container's profile wins over the pod's; init and "
               "ephemeral containers are read (C-0210 reads only `containers`); the deprecated "
               "seccomp annotations are not. Windows pods are not-applicable. " + SYSTEM_NOTE,
       reads=PODS)
def seccomp(state: State, me: Check) -> list[Finding]:
    def problem(pod: dict, container: dict) -> str | None:
        profile = _effective(pod, container, "seccompProfile") or {}
        kind = profile.get("type")
        if kind == "Localhost" and not profile.get("localhostProfile"):
            # the API server refuses it (pod validation: localhostProfile "must be set when
            # seccomp type is Localhost"); applied anyway it never runs as written
            return "seccomp Localhost without localhostProfile"
        if kind in SAFE_SECCOMP:
            return None
        return f"seccomp {kind}" if kind else "no seccomp profile"

    return per_container(state, me, problem,
                         "every container under RuntimeDefault or Localhost seccomp",
                         linux_only=True)


# ---- pods: their credentials --------------------------------------------------------------------

@check("AKS-AUTH-008", "03-auth", "Service account token mounted automatically", 6.0,
       "kubescape C-0034, C-0190; checkov CKV_K8S_38; CIS AKS 4.1.6; Popeye 301",
       "Set automountServiceAccountToken: false on the ServiceAccount or the pod; mount a "
       "projected token only in pods that call the API server (workload identity needs none)",
       differs="As C-0034, the pod's field wins over its ServiceAccount's, a ServiceAccount with "
               "automountServiceAccountToken: false passes pods that leave it unset (CKV_K8S_38 "
               "passes only the pod field), and a pod setting it true fails. " + SYSTEM_NOTE,
       reads=PODS)
def token_automount(state: State, me: Check) -> list[Finding]:
    accounts_listed = not state.unlisted("serviceaccounts")
    accounts = {(a["metadata"].get("namespace"), a["metadata"]["name"]): a
                for a in state.objects.get("serviceaccounts", [])}

    def judge(pod: dict) -> Verdict:
        spec = pod.get("spec") or {}
        own = spec.get("automountServiceAccountToken")
        if own is False:
            return "pass", "automountServiceAccountToken: false on the pod"
        if own is True:
            return "fail", "automountServiceAccountToken: true on the pod (wins over its " \
                           "ServiceAccount)"
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        if not accounts_listed:
            return ("not-applicable", f"cannot judge: serviceaccounts could not be listed "
                                      f"(ServiceAccount {name})")
        account = accounts.get((pod["metadata"]["namespace"], name))
        if account is None:
            place = "among the files" if state.from_files else "in the namespace"
            return "fail", f"ServiceAccount {name} not found {place}: the token is mounted"
        if account.get("automountServiceAccountToken") is False:
            return "pass", f"ServiceAccount {name} sets automountServiceAccountToken: false"
        return "fail", (f"neither the pod nor ServiceAccount {name} sets "
                        "automountServiceAccountToken: false")

    return per_workload(state, me, judge)


@check("AKS-AUTH-009", "03-auth", "Secret exposed as environment variables", 4.0,
       "kubescape C-0207; checkov CKV_K8S_35; CIS AKS 4.5.1",
       "Mount the Secret as a file (a secret volume or the Key Vault CSI driver) and read it "
       "from there; environment variables leak into logs, crash dumps and child processes",
       differs="C-0207 reads containers and initContainers; here ephemeral containers too. "
               + SYSTEM_NOTE,
       reads=PODS)
def secrets_in_env(state: State, me: Check) -> list[Finding]:
    def problem(pod: dict, container: dict) -> str | None:
        used = [f"{e.get('name')} from Secret {e['valueFrom']['secretKeyRef'].get('name')}"
                for e in container.get("env") or []
                if (e.get("valueFrom") or {}).get("secretKeyRef")]
        used += [f"all keys of Secret {(f.get('secretRef') or {}).get('name')}"
                 for f in container.get("envFrom") or [] if "secretRef" in f]
        return f"env {', '.join(used)}" if used else None

    return per_container(state, me, problem, "no Secret in environment variables")


TOKEN_TYPE = "kubernetes.io/service-account-token"
ACCOUNT_NAME = "kubernetes.io/service-account.name"
ACCOUNT_UID = "kubernetes.io/service-account.uid"
INVALID_SINCE = "kubernetes.io/legacy-token-invalid-since"
LAST_USED = "kubernetes.io/legacy-token-last-used"
TOKEN_SCORE = 6.0
RBAC_KINDS = ("clusterroles", "clusterrolebindings", "roles", "rolebindings")


def _rights(state: State) -> Callable[[str], tuple[float, str]]:
    """account -> the score of the highest RBAC risk it holds (its own bindings and its
    groups'), and the words for it; the check's own score when it holds none the risk table
    knows. The table is built once, on first use."""
    built: dict[str, list[rbac.Row]] = {}
    missing = state.unlisted(*RBAC_KINDS)
    unknown = (f"; its rights are not all known ({', '.join(missing)} could not be listed)"
               if missing else "")

    def of(account: str) -> tuple[float, str]:
        if "rows" not in built:
            built["rows"] = rbac.risks(state.objects, from_files=state.from_files,
                                       include_system=True)
        held = rbac.identities(account)
        rows = [r for r in built["rows"]  # worst first; an ineffective grant grants nothing
                if r.subject in held and r.risk != rbac.INEFFECTIVE]
        if not rows:
            return TOKEN_SCORE, unknown
        return rows[0].score, (f"; {account} holds {rows[0].risk} through {rows[0].binding} "
                               f"({rows[0].severity})" + unknown)

    return of


def _live_token(secret: dict, account: dict | None, name: str) -> Verdict:
    """What the token controller and the API server's authenticator make of this Secret now
    ('Managing Service Accounts': token controller, legacy token clean-up)."""
    labels = secret["metadata"].get("labels") or {}
    uid = (secret["metadata"].get("annotations") or {}).get(ACCOUNT_UID)
    if account is None:
        return "pass", (f"not a credential: ServiceAccount {name} does not exist, so the token "
                        "controller writes no token into it (it deletes such Secrets) and the "
                        "API server rejects any token whose account is gone")
    if uid and uid != account["metadata"].get("uid"):
        return "pass", (f"not a credential: issued to an earlier ServiceAccount {name} "
                        f"({ACCOUNT_UID} differs from the account's uid); the API server "
                        "rejects it and the token controller deletes the Secret")
    if labels.get(INVALID_SINCE):
        return "pass", (f"invalid since {labels[INVALID_SINCE]} (label {INVALID_SINCE}): the API "
                        "server rejects the token; removing the label makes it valid again, "
                        "delete the Secret")
    used = labels.get(LAST_USED)
    use = f"last used {used}" if used else f"no use recorded (label {LAST_USED})"
    return "fail", (f"non-expiring token for ServiceAccount {name}, filled by the token "
                    f"controller (the account exists{' and its uid matches' if uid else ''}): "
                    f"valid until the Secret is deleted; {use}")


@check("AKS-AUTH-018", "03-auth", "Long-lived service account token (Secret of type "
       "kubernetes.io/service-account-token)", TOKEN_SCORE,
       "Kubernetes docs 'Configure Service Accounts for Pods', 'Managing Service Accounts' "
       "(no public check id)",
       "Delete the Secret and have the client request short-lived tokens (TokenRequest API: "
       "kubectl create token, or a projected serviceAccountToken volume); outside the cluster "
       "use workload identity",
       differs="No kubescape, CIS or checkov control judges token Secrets (kubescape C-0282 / "
               "CIS 5.1.13 judge who may create serviceaccounts/token). On a cluster the live "
               "status decides: a Secret whose ServiceAccount is missing or has another uid "
               "holds no usable token, and one labelled " + INVALID_SINCE + " is rejected by "
               "the API server; both pass. From files the spec is judged (a token Secret is a "
               "non-expiring credential once applied) and the status is not known. Severity "
               "rises to the account's highest RBAC risk (analysis/rbac.py's table)",
       reads=("secrets", "serviceaccounts"))
def long_lived_tokens(state: State, me: Check) -> list[Finding]:
    accounts = {(a["metadata"].get("namespace"), a["metadata"]["name"]): a
                for a in state.objects.get("serviceaccounts", [])}
    rights = _rights(state)
    findings = []
    for secret in state.items("secrets"):
        if secret.get("type") != TOKEN_TYPE:
            continue
        meta = secret["metadata"]
        name = (meta.get("annotations") or {}).get(ACCOUNT_NAME)
        where = resource(secret, "Secret")
        if not name:
            findings.append(me.finding(where, "not-applicable", f"no {ACCOUNT_NAME} annotation: "
                                       "the API server refuses this Secret"))
            continue
        if state.from_files:
            status, evidence = "fail", (
                f"non-expiring token for ServiceAccount {name} once applied (the token controller "
                "fills it); from files: judged from the spec, its live status (token filled, "
                f"{INVALID_SINCE}, {LAST_USED}) is not known")
        else:
            status, evidence = _live_token(secret, accounts.get((meta["namespace"], name)), name)
        found = me.finding(where, status, evidence)
        if status == "fail":
            score, held = rights(f"ServiceAccount/{meta['namespace']}/{name}")
            found = replace(found, evidence=evidence + held,
                            severity=severity(max(score, TOKEN_SCORE)))
        findings.append(found)
    if not findings:
        place = ("among the files" if state.from_files else
                 f"in {', '.join(state.namespaces)}" if state.namespaces else "listed")
        findings.append(me.finding("Secret/*", "pass", f"no Secret of type {TOKEN_TYPE} {place}"))
    return findings


@check("AKS-AUTH-010", "03-auth", "Namespace without Pod Security Admission enforce "
       "(baseline or restricted)", 7.0,
       "kubescape C-0193, C-0192; CIS Kubernetes 5.2.1, 5.2.2; Pod Security Admission",
       "kubectl label namespace NAME pod-security.kubernetes.io/enforce=restricted (or baseline; "
       "try warn=restricted first to see what would be refused)",
       differs="As C-0193, only an enforce label of baseline or restricted passes; C-0192 also "
               "passes namespaces that a namespaced admission webhook covers (Gatekeeper, "
               "Kyverno): here only the label counts, so AKS Automatic's Deployment Safeguards do "
               "not either. From files, a namespace the files use but do not declare has no "
               "labels. " + SYSTEM_NOTE,
       reads=("namespaces",))
def pod_security_admission(state: State, me: Check) -> list[Finding]:
    findings = []
    for namespace in state.items("namespaces"):
        name = namespace["metadata"]["name"]
        if name in SYSTEM_NAMESPACES or (state.namespaces and name not in state.namespaces):
            continue
        labels = namespace["metadata"].get("labels") or {}
        level = labels.get(PSA_ENFORCE)
        where = resource(namespace, "Namespace")
        if level in ("baseline", "restricted"):
            version = labels.get(f"{PSA_ENFORCE}-version")
            findings.append(me.finding(where, "pass", f"enforce: {level}"
                                       + (f" (version {version})" if version else "")))
        else:
            findings.append(me.finding(where, "fail", f"enforce: {level}: admits privileged pods"
                                       if level else "no enforce label: admits privileged pods"))
    return findings


# ---- the cluster's identity settings (az aks show, or the plan) ---------------------------------

def _cluster(state: State) -> str:
    return f"ManagedCluster/{field_of(state.cluster, 'name') or 'cluster'}"


def _source(state: State) -> str:
    return f" ({state.cluster_source})"


def _true(value) -> bool:
    """A boolean from az JSON, where add-on config values are strings ("true")."""
    return value is True or str(value).lower() == "true"


def _one(state: State, me: Check, problems: list[str], passed: str) -> list[Finding]:
    return _said(state, me, *verdict(problems, passed))


def _said(state: State, me: Check, status: str, evidence: str) -> list[Finding]:
    return [me.finding(_cluster(state), status, evidence + _source(state))]


@check("AKS-AUTH-011", "03-auth", "Entra ID integration with Azure RBAC not enabled", 7.0,
       "kubescape C-0241 (CIS AKS 5.2.2); AKS checklist 7e42c78e-78c0-46a6-8a21-94956e698dc4"
       "; AKS checklist eec4962c-c3bd-421b-b77f-26e5e6b3bec3",
       "az aks update --enable-aad --aad-admin-group-object-ids <group> --enable-azure-rbac",
       scope="azure",
       differs="C-0241 reads only aadProfile.enableAzureRBAC; here managed Entra integration "
               "(aadProfile.managed) is required too. The AKS checklist's query for 7e42c78e "
               "passes any aadProfile; here managed integration and Azure RBAC (eec4962c) are "
               "both required")
def entra_azure_rbac(state: State, me: Check) -> list[Finding]:
    aad = field_of(state.cluster, "aadProfile") or {}
    problems = []
    if not aad:
        problems.append("no Entra ID integration (aadProfile empty)")
    elif field_of(aad, "managed") is not True:
        problems.append("legacy Entra integration (aadProfile.managed not true): retired")
    if aad and field_of(aad, "enableAzureRbac") is not True:
        problems.append("Azure RBAC off: only Kubernetes RBAC authorizes Entra users")
    return _one(state, me, problems, "managed Entra ID integration with Azure RBAC")


@check("AKS-AUTH-012", "03-auth", "Local accounts enabled (static admin credential), or "
       "disabled without Entra ID (lockout)", 7.0,
       "checkov CKV_AZURE_141; AKS checklist b085b1f2-3119-4771-8c9a-bbf4411810ec"
       "; AKS checklist a2fe27b2-e287-401a-8352-beedf79b488d",
       "az aks update --enable-aad --aad-admin-group-object-ids <group> first, then az aks update "
       "--disable-local-accounts; az aks rotate-certs revokes admin certificates already handed "
       "out (it recreates every node: up to 30 minutes of downtime, schedule it in a window)",
       scope="azure",
       differs="CKV_AZURE_141 passes disableLocalAccounts true alone; here it fails without "
               "Entra ID integration (aadProfile): then any attempt to authenticate fails "
               "('Manage local accounts with Microsoft Entra integration')")
def local_accounts(state: State, me: Check) -> list[Finding]:
    disabled = field_of(state.cluster, "disableLocalAccounts") is True
    if not disabled:
        return _said(state, me, "fail", "local accounts enabled: az aks get-credentials --admin "
                                        "gives a cluster-admin certificate that bypasses Entra ID")
    if not field_of(state.cluster, "aadProfile"):
        return _said(state, me, "fail", "disableLocalAccounts true without Entra ID integration "
                                        "(no aadProfile): no one can sign in to the cluster (a "
                                        "lockout)")
    return _said(state, me, "pass", "disableLocalAccounts true, Entra ID integration on")


@check("AKS-AUTH-013", "03-auth", "Kubernetes RBAC not enabled", 7.0,
       "kubescape C-0088 (CIS AKS 5.5.1); checkov CKV_AZURE_5",
       "Recreate the cluster with RBAC (the default; it cannot be turned on later)",
       scope="azure")
def kubernetes_rbac(state: State, me: Check) -> list[Finding]:
    enabled = _true(field_of(state.cluster, "enableRbac"))
    return _one(state, me, [] if enabled else ["enableRbac not true"], "enableRbac true")


MANAGED = ("SystemAssigned", "UserAssigned")
KUBELET_NOTE = ("'Use a user-assigned managed identity in AKS': kubelet continues using a "
                "service principal until you also upgrade your node pool")


@check("AKS-AUTH-014", "03-auth", "Cluster or kubelet identity is a service principal, not a "
       "managed identity", 5.0,
       "AKS docs managed-identity-overview (no public check id)"
       "; AKS checklist ed127dd1-42b0-46b2-8c69-99a646f3389a",
       "az aks update --enable-managed-identity, then az aks nodepool upgrade --node-image-only "
       "for every pool so kubelet uses a managed identity too (nodes are drained and reimaged: "
       "in a maintenance window)",
       scope="azure",
       differs="Reads every field that decides which identity acts: identity.type (control "
               "plane), servicePrincipalProfile.clientId ('msi' when managed, else the service "
               "principal still in use) and identityProfile.kubeletidentity (kubelet's managed "
               "identity; az aks show always has it on a managed cluster, a plan creates it "
               "with the cluster). After --enable-managed-identity the kubelet keeps the service "
               "principal until the node pools are upgraded (" + KUBELET_NOTE + ")")
def managed_identity(state: State, me: Check) -> list[Finding]:
    kind = field_of(state.cluster, "identity.type")
    client = field_of(state.cluster, "servicePrincipalProfile.clientId")
    kubelet = field_of(state.cluster, "identityProfile.kubeletidentity")
    msi = str(client).lower() == "msi"
    shown_principal = (f"servicePrincipalProfile.clientId {'msi' if msi else 'set'}"
                       if client else "no servicePrincipalProfile.clientId")
    if kind not in MANAGED:
        return _said(state, me, "fail", f"no managed identity (identity.type {kind}, "
                                        f"{shown_principal}): a service principal's secret "
                                        "expires and is stored on every node")
    problems = []
    if client and not msi:
        problems.append(f"identity.type {kind} but servicePrincipalProfile.clientId is a service "
                        "principal, not msi: kubelet still authenticates with it ("
                        + KUBELET_NOTE + ")")
    planned = state.cluster_source == "planned configuration"
    if not kubelet and not planned:
        problems.append(f"identity.type {kind} but no identityProfile.kubeletidentity: kubelet "
                        "has no managed identity (upgrade the node pools)")
    if problems:
        return _said(state, me, "fail", "; ".join(problems))
    how = ("identityProfile.kubeletidentity present" if kubelet else
           "kubelet identity created with the cluster (identityProfile is known once it exists)")
    return _said(state, me, "pass", f"managed identity (identity.type {kind}); "
                                    f"{shown_principal}; {how}")


@check("AKS-AUTH-015", "03-auth", "Workload identity or the OIDC issuer not enabled", 5.0,
       "AKS docs workload-identity-overview, use-oidc-issuer (no public check id)"
       "; AKS checklist d2e0d5d7-71d4-41e3-910c-c57b4a4b1410",
       "az aks update --enable-oidc-issuer --enable-workload-identity; federate each "
       "application's managed identity with its ServiceAccount",
       scope="azure")
def workload_identity(state: State, me: Check) -> list[Finding]:
    problems = []
    if field_of(state.cluster, "oidcIssuerProfile.enabled") is not True:
        problems.append("OIDC issuer off")
    if field_of(state.cluster, "securityProfile.workloadIdentity.enabled") is not True:
        problems.append("workload identity off")
    if field_of(state.cluster, "podIdentityProfile.enabled") is True:
        problems.append("pod-managed identity on (unsupported since 2025-09)")
    return _one(state, me, problems, "OIDC issuer and workload identity on")


@check("AKS-AUTH-016", "03-auth", "Azure Policy add-on not enabled", 5.0,
       "checkov CKV_AZURE_116; AKS checklist 9ca48e4a-85e2-4223-bce8-bb12307ca5f1",
       "az aks enable-addons --addons azure-policy, then assign the Kubernetes pod security "
       "initiative (audit first)",
       scope="azure")
def azure_policy(state: State, me: Check) -> list[Finding]:
    on = _true(field_of(state.cluster, "addonProfiles.azurepolicy.enabled"))
    return _one(state, me, [] if on else ["azurepolicy add-on off"], "azurepolicy add-on on")


@check("AKS-AUTH-017", "03-auth", "Key Vault secrets provider off or without rotation", 5.0,
       "checkov CKV_AZURE_172; CIS AKS 4.5.2 (kubescape C-0208)"
       "; AKS checklist 5e3df584-eccc-4d97-a3b6-bcda3b50eb2e",
       "az aks enable-addons --addons azure-keyvault-secrets-provider --enable-secret-rotation "
       "(add-on off), or az aks update --enable-secret-rotation (add-on on, rotation off)",
       scope="azure",
       differs="CKV_AZURE_172 reads only enableSecretRotation; here the add-on must be enabled "
               "too (rotation is off by default)")
def key_vault_provider(state: State, me: Check) -> list[Finding]:
    addon = field_of(state.cluster, "addonProfiles.azureKeyvaultSecretsProvider") or {}
    if not _true(field_of(addon, "enabled")):
        return _said(state, me, "fail", "azureKeyvaultSecretsProvider add-on off")
    rotation = _true(field_of(addon, "config.enableSecretRotation"))
    interval = field_of(addon, "config.rotationPollInterval") or "2m"
    return _one(state, me, [] if rotation else ["add-on on, secret rotation off"],
                f"add-on on, rotation every {interval}")
