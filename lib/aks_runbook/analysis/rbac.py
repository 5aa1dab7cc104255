"""RBAC: who can do one thing, and who holds risky rights, as the Kubernetes RBAC authorizer
decides (read in k8s.io/kubernetes v1.36.3: plugin/pkg/auth/authorizer/rbac/rbac.go,
pkg/apis/rbac/v1/evaluation_helpers.go, pkg/registry/rbac/validation/rule.go,
pkg/controller/clusterroleaggregation).

Semantics:
- A rule allows a resource request when its verbs hold the verb or `*`, its apiGroups the group
  or `*`, its resources `*`, the resource (`pods`), the resource and subresource (`pods/exec`)
  or `*/<subresource>`; `pods/*` is no wildcard (it matches only a subresource literally named
  `*`). When the rule has resourceNames the request must name one of them, so a list, watch or
  create without a name is not allowed by it. A non-resource request (`/metrics`) needs the
  verb and a nonResourceURL equal to the path, `*`, or ending in `*` and prefixing the path.
- Bindings: a ClusterRoleBinding grants its ClusterRole everywhere (cluster-scoped resources,
  every namespace, non-resource URLs). A RoleBinding grants its Role, or a ClusterRole's rules,
  only for requests in its namespace: never a cluster-scoped resource (nodes, CSRs, users to
  impersonate, ...) nor a URL. Two namespace-related exceptions follow the API server: `bind`
  on a ClusterRole is checked in the namespace where the RoleBinding is created, and a request
  on the object `namespaces/<ns>` is in namespace `<ns>`. A binding to a role that does not
  exist grants nothing; so does a ClusterRoleBinding to a Role.
- Subjects: `User/<name>`, `Group/<name>`, `ServiceAccount/<namespace>/<name>`. The API does
  not default a ServiceAccount subject's namespace: the authorizer takes the RoleBinding's
  namespace when it is empty, and in a ClusterRoleBinding (where validation requires it) an
  empty one matches nothing. A User named `system:serviceaccount:<ns>:<name>` is that service
  account and is shown as one. Implicit groups (`can`): every service account is in
  `system:serviceaccounts` and `system:serviceaccounts:<ns>`, every authenticated user (service
  accounts too) in `system:authenticated`, the anonymous user in `system:unauthenticated`.
- Aggregated ClusterRoles (`aggregationRule.clusterRoleSelectors`): from a cluster their rules
  are those the controller wrote, used as listed. From files (`from_files=True`) they are
  computed as the controller does: the rules of every other ClusterRole whose labels match a
  selector (`{}` matches all), by name, without duplicates, repeated until nothing changes
  (aggregated roles start empty). From files, the bootstrap ClusterRoles cluster-admin, admin,
  edit, view and system:aggregate-to-{admin,edit,view} (as in Kubernetes v1.36.3) are assumed
  when the files do not define them, because the API server creates them on every cluster.

`risks()` lists, per subject, binding and risk of the catalogue `RISKS`, the first rule of the
role that grants it (the highest-scoring one when rules differ in score). A risk is found when a
rule allows one of its probe requests on some object: the binding must reach it (a RoleBinding
never reaches a cluster-scoped resource; CoreDNS's ConfigMaps only from kube-system, Gatekeeper's
config only from gatekeeper-system; a RoleBinding reaches only its own Namespace object), and a
rule with resourceNames counts only if it names an object the path needs (coredns or
coredns-custom; the binding's own namespace) and never for create or deletecollection, which
carry no name. The catalogue, each path with its score (severity band) and the sources it
answers:

  risk                  score  the path                                      sources
  cluster-admin           10   `*` on `*` in `*` (one row; no other of it)   GP-least; C-0035,
                                                                             C-0185; CIS AKS 4.1.1
  impersonate              9   users, groups, uids, userextras (cluster);    GP-imp; C-0065,
                               serviceaccounts                               C-0191; R3
  nodes-proxy              9   get/create nodes/proxy (kubelet API)          GP-proxy; C-0279; R11
  mutating-webhooks        9   create/update/patch/delete                    GP-webhooks; C-0281;
                               mutatingwebhookconfigurations                 R8
  bind, escalate           8   bind roles/clusterroles; escalate roles,      GP-bind, GP-escalate;
                               clusterroles (cluster)                        C-0191; R4
  csr-approval             8   update CSRs/approval + approve on signers     GP-csr; C-0280
  secrets-read             8   get/list/watch secrets                        GP-secrets; C-0015,
                                                                             C-0186; R1
  serviceaccount-token     8   create serviceaccounts/token                  GP-token; C-0282
  validating-webhooks      8   create/update/patch/delete                    GP-webhooks; C-0281;
                               validatingwebhookconfigurations               R8
  admission-policies       8   change/delete (Validating|Mutating)Admission- R15
                               Policies and their bindings
  apiservices              8   change/delete APIServices (API aggregation)   (brief; none of the 3)
  create-pods              7   create pods; update/patch pods (a running     GP-workload; C-0188;
                               pod's image is mutable); create/update/patch  R2; CIS AKS 4.1.4
                               Deployments, ReplicaSets, StatefulSets,
                               DaemonSets, Jobs, CronJobs,
                               ReplicationControllers
  exec, attach             7   create/get pods/exec, pods/attach             C-0002; R13
  ephemeral-containers     7   update/patch pods/ephemeralcontainers         R12
  namespace-labels         7   update/patch namespaces (Pod Security,        GP-namespace
                               NetworkPolicy namespaceSelectors)
  persistent-volumes       7   create persistentvolumes (hostPath)           GP-pv; C-0278; R5
  policy-engines           7   change/delete Gatekeeper constrainttemplates, R10, R14
                               constraints, mutations, config; Kyverno
                               (cluster)policies, policyexceptions,
                               cleanup policies, policies.kyverno.io
  coredns                  7   create configmaps, update/patch coredns or    C-0037
                               coredns-custom, in kube-system
  csr-signing              6   update CSRs/status + sign on signers          GP-csr
  crds                     6   change/delete customresourcedefinitions       R9
  anonymous-access         6   a binding of system:anonymous or              C-0262
                               system:unauthenticated to more than the
                               public-info endpoints, or to a missing role
  everyone-reads-workloads 6   get/list/watch pods, pods/log, workloads,     C-0265
                               nodes; a row only for everyone (below)
  portforward              5   create/get pods/portforward                   C-0063
  service-traffic          5   change services (externalIPs), services/      R6; C-0283 (the
                               status (load-balancer IP), endpoints,         admission plugin
                               endpointslices (CVE-2020-8554)                that closes it)
  ingress-routes           5   change ingresses, ingressclasses, Gateway     R6, R7
                               API gateways, routes, gatewayclasses
  storage                  5   update/patch/delete persistentvolumes;        R5
                               change storageclasses, volumeattachments,
                               csidrivers, volumeattributesclasses
  wildcard                 5   `*` in verbs or resources                     GP-least; C-0187;
                                                                             CIS AKS 4.1.3
  network-policies         4   change/delete NetworkPolicies, Cilium(Cluster- R6
                               wide)NetworkPolicies, AdminNetworkPolicies
  delete-events            4   delete/deletecollection events                C-0031
  delete                   3   delete/deletecollection secrets, pods,        C-0007
                               services, workloads

CIS ids as before: AKS 4.1.1 cluster-admin, 4.1.2 secrets-read, 4.1.3 wildcard, 4.1.4
create-pods, 4.1.9 nodes-proxy, 4.1.10 csr-approval, 4.1.12 serviceaccount-token; Kubernetes
5.1.8 bind, escalate, impersonate. Each Risk's `public_ids` holds its sources, `what` the path in
words, `severity` its band.

Sources (all read in full; "change" = create, update, patch, delete):
- GP: Kubernetes' "Role Based Access Control Good Practices" (kubernetes/website
  content/en/docs/concepts/security/rbac-good-practices.md). Privilege escalation risks: Listing
  secrets (GP-secrets: secrets-read), Workload creation (GP-workload: create-pods), Persistent
  volume creation (GP-pv: persistent-volumes), Access to proxy subresource of Nodes (GP-proxy:
  nodes-proxy), Escalate verb (GP-escalate: escalate), Bind verb (GP-bind: bind), Impersonate
  verb (GP-imp: impersonate), CSRs and certificate issuing (GP-csr: csr-approval, csr-signing),
  Token request (GP-token: serviceaccount-token), Control admission webhooks (GP-webhooks:
  mutating-webhooks, validating-webhooks), Namespace modification (GP-namespace:
  namespace-labels). Least privilege (GP-least): wildcard, cluster-admin; system:masters is a
  system subject (below). Denial of service risks: Object creation denial-of-service is no row:
  every create right has it, and its control is ResourceQuota, not RBAC.
- kubescape (kubescape/regolibrary controls/ and rules/, Aug 2026): C-0002 Prevent containers
  from allowing command execution (exec), C-0007 Roles with delete capabilities (delete), C-0015
  List Kubernetes secrets and C-0186 Minimize access to secrets (secrets-read), C-0031 Delete
  Kubernetes events (delete-events), C-0035 Administrative Roles and C-0185 Ensure that the
  cluster-admin role is only used where required (cluster-admin, namespace-admin), C-0037
  CoreDNS poisoning (coredns), C-0063 Portforwarding privileges (portforward), C-0065 No
  impersonation (impersonate), C-0187 Minimize wildcard use in Roles and ClusterRoles
  (wildcard), C-0188 Minimize access to create pods (create-pods), C-0191 Limit use of the Bind,
  Impersonate and Escalate permissions (bind, escalate, impersonate), C-0278 Minimize access to
  create persistent volumes (persistent-volumes), C-0279 Minimize access to the proxy
  sub-resource of nodes (nodes-proxy), C-0280 Minimize access to the approval sub-resource of
  certificatesigningrequests objects (csr-approval), C-0281 Minimize access to webhook
  configuration objects (mutating-webhooks, validating-webhooks), C-0282 Minimize access to the
  service account token creation (serviceaccount-token), C-0262 Anonymous user has RoleBinding
  (anonymous-access), C-0265 system:authenticated user has elevated roles
  (everyone-reads-workloads; and the +1 for everyone below). No row of their own: C-0036 and
  C-0039 Validate admission controller (validating / mutating) list the webhook configurations
  themselves, not who may change them; C-0246 Avoid use
  of system:masters group is a system subject (AKS-OV-001); C-0267 Workload with cluster
  takeover roles and C-0272 Workload with administrative roles judge a workload's service
  account, whose rows here are that account's; C-0283 is the API server's
  DenyServiceExternalIPs flag, which closes half of service-traffic.
- rbac-tool (alcideio/rbac-tool pkg/analysis/default-rules.yaml, its 15 rules): R1 Secret
  Readers (secrets-read), R2 Workload Creators & Editors (create-pods; it omits the apps group,
  here included), R3 Identify Privileges Escalators - via impersonate (impersonate), R4 ... via
  bind or escalate (bind, escalate; it also flags create/update/patch of roles and clusterroles,
  which RBAC's escalation check limits to rights one holds: no row), R5 Storage & Data -
  Manipulate Cluster Shared Resources (persistent-volumes, storage; a namespace's own
  PersistentVolumeClaims: no row), R6 Networking - Manipulate Networking and Network Access
  related resources (service-traffic, ingress-routes, network-policies), R7 Networking -
  Manipulate Gateway API Resources (ingress-routes), R8 Installing or Modifying Admission
  Controllers (mutating-webhooks, validating-webhooks), R9 Installing or Modifying Cluster
  Extensions (CRDs) (crds), R10 Open Policy Agent (OPA) GateKeeper Administration
  (policy-engines), R11 Create Node Proxy (nodes-proxy), R12 Create Ephemeral Containers in
  Running Pods (ephemeral-containers), R13 Exec into Pod (exec), R14 Kyverno Administration
  (policy-engines), R15 Installing or Modifying Kubernetes Admission Policies
  (admission-policies).

Scores are ours (how directly the right leads to cluster-admin or to other workloads' data or
traffic); kubescape's base scores are lower and flatter (4-8). A row's score is its risk's, -1
when a RoleBinding limits it to one namespace other than kube-system, -2 when the rule names its
objects (resourceNames: narrower, still listed), +1 when the subject is everyone or every
service account (system:authenticated, system:unauthenticated, system:anonymous,
system:serviceaccounts[:<ns>]; kubescape C-0262, C-0265), within 1..10; the severity is
kubescape's band (aks_runbook.severity: 9+ critical, 7-8 high, 4-6 medium, 1-3 low). A rule
granting every verb on every resource of every group is one row, `cluster-admin`
(ClusterRoleBinding) or `namespace-admin` (RoleBinding; same score), and no other row of that
rule. `exec`, `attach` and `portforward` count `get` as well as `create`: a WebSocket upgrade
needed only `get` before Kubernetes 1.35 (and still does where the
AuthorizePodWebsocketUpgradeCreatePermission gate is off). `csr-approval` and `csr-signing` need
their second right (approve, sign on signers) held through a ClusterRoleBinding by the same
subject or a group it is known to be in (implicit groups only: other memberships are unknown to
the cluster), as the CertificateApproval and CertificateSigning admission plugins check; when a
User or Group holds only the first and some other Group the second, the row is listed naming
that group (its members hold both, and membership is not known to the cluster).

Rows for what reads like a grant but is none (`ineffective-grant`, score 2, low; `path` holds
the catalogued risk it names): a RoleBinding whose role names a path on cluster-scoped
resources (nodes/proxy, CSR approval, PersistentVolumes, webhook configurations, escalate on
ClusterRoles, impersonating users, ...) grants nothing: the authorizer lists RoleBindings only
for the request's namespace (rule.go VisitRulesFor: `if len(namespace) > 0`) and a
cluster-scoped request has none (rbac.go Authorize passes the request's namespace), so who-can
never names the subject. The row says so: through a ClusterRoleBinding that ClusterRole would
grant the path; a Role never can (dead configuration). Likewise `pods/*` (or `*/*`): RBAC
matches it to a subresource literally named `*` (ResourceMatches), so it grants no exec,
attach or port-forward, though it reads like it. No such row for a path the same rule does
grant (impersonating service accounts beside users), nor for `*` on `*` in `*`.

Everyone (system:authenticated, system:unauthenticated, system:anonymous,
system:serviceaccounts): on AKS with Entra ID, system:authenticated is every identity that can
get a token for the cluster, guests and every pod's service account included. A read of pods,
their logs, workload templates or nodes by everyone is a row of its own
(`everyone-reads-workloads`, 6 + 1: high cluster-wide, medium in one namespace): specs carry
env values, images, service accounts and node addresses. Anonymous requests
(system:anonymous, system:unauthenticated): a binding that grants them more than get on
/healthz, /livez, /readyz, /version (Kubernetes' default system:public-info-viewer binding) is
an `anonymous-access` row (6 + 1), also when its role does not exist (it grants as soon as
someone creates the role; a bootstrap ClusterRole the API server recreates at its next start is
judged as Kubernetes v1.36 defines it). AKS runs its API server with anonymous authentication
off (AKS docs "Center for Internet Security (CIS) Kubernetes benchmark": 1.2.1 "Ensure that the
--anonymous-auth argument is set to false", Pass), so there such a binding matches no request
today; the row stays, because it grants the moment a request is anonymous (any other API
server, the workshop's local control plane).

Where kubescape differs (every difference stricter or equal on its published cases but one):
its rules match names in the rule without the authorizer's semantics, so it counts `pods/*` as
exec and RoleBindings as granting cluster-scoped rights; here those are ineffective-grant rows
(low) and who-can finds nobody. Its C-0037 counts any ConfigMap anywhere; here only what
reaches CoreDNS's. Its C-0265 flags system:authenticated for any verb on pods, workloads,
nodes, secrets or `*`; here reads of those are everyone-reads-workloads and other verbs the
path they are (create-pods, exec, secrets-read, delete; a verb outside the catalogue, such as
patch nodes or create secrets, gives no row). Its C-0262 fails every binding of
system:anonymous or system:unauthenticated, Kubernetes' default system:public-info-viewer too
(its published `fail` case): here that binding gives no row, by effect: it grants the health
and version endpoints Kubernetes opens to everyone by design, the API server restores it at
every start (autoupdate), and AKS authenticates no anonymous request at all. Its C-0262 also
matches a Group named system:anonymous or a User named system:unauthenticated, which no
request carries.

System subjects (`include_system=False` hides them): the identities the API server,
controllers and nodes use by design, whose rights are not a platform team's to trim:
- Group `system:masters` (bypasses RBAC altogether; kubescape C-0246 tracks its use) and every
  other User or Group named `system:...` (system:kube-controller-manager, system:kube-scheduler,
  system:kube-proxy, system:node:<node>, system:nodes, system:bootstrappers, system:monitoring,
  ...), except those that stand for people or workloads: User system:anonymous and Groups
  system:authenticated, system:unauthenticated, system:serviceaccounts[:<ns>];
- service accounts in kube-system (controllers, and AKS's add-ons there);
- AKS's local admin User clusterAdmin in ClusterRoleBinding aks-cluster-admin-binding (as
  kubescape's AKS exceptions and AKS-OV-001 treat it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from aks_runbook.analysis.reachability import matches
from aks_runbook.severity import severity

RBAC = "rbac.authorization.k8s.io"
AGGREGATE = f"{RBAC}/aggregate-to-"
FIELDS = ("subject", "binding", "role", "rule", "risk", "severity")
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
SYSTEM_NAMESPACES = ("kube-system",)
PUBLIC_GROUPS = ("system:authenticated", "system:unauthenticated", "system:serviceaccounts")
EVERYONE = ("Group/system:authenticated", "Group/system:unauthenticated",
            "Group/system:serviceaccounts", "User/system:anonymous")
ANONYMOUS = ("User/system:anonymous", "Group/system:unauthenticated")
# What Kubernetes' bootstrap ClusterRole system:public-info-viewer grants (get), bound by default
# to system:authenticated and system:unauthenticated.
PUBLIC_INFO_URLS = frozenset({"/healthz", "/livez", "/readyz", "/version", "/version/"})
SA_USER = "system:serviceaccount:"

# Built-in cluster-scoped resources (Kubernetes v1.36, plus the pseudo-resources of
# impersonation and CSR signing): a RoleBinding never grants them. Others count as namespaced.
CLUSTER_SCOPED = frozenset({
    "apiservices", "certificatesigningrequests", "clusterrolebindings", "clusterroles",
    "clustertrustbundles", "componentstatuses", "csidrivers", "csinodes",
    "customresourcedefinitions", "deviceclasses", "flowschemas", "groups", "ingressclasses",
    "ipaddresses", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
    "mutatingwebhookconfigurations", "namespaces", "nodes", "persistentvolumes",
    "priorityclasses", "prioritylevelconfigurations", "resourceslices", "runtimeclasses",
    "selfsubjectaccessreviews", "selfsubjectreviews", "selfsubjectrulesreviews", "servicecidrs",
    "signers", "storageclasses", "storageversionmigrations", "storageversions",
    "subjectaccessreviews", "tokenreviews", "uids", "userextras", "users",
    "validatingadmissionpolicies", "validatingadmissionpolicybindings",
    "validatingwebhookconfigurations", "volumeattachments", "volumeattributesclasses"})


def _rule(groups: str, resources: str, verbs: str) -> dict:
    return {"apiGroups": groups.split(" "), "resources": resources.split(), "verbs": verbs.split()}


_EDIT = "create delete deletecollection patch update"
_READ = "get list watch"


def _builtin(name: str, rules: list[dict], label: str = "",
             aggregates: str = "") -> dict:
    role: dict = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
                  "metadata": {"name": name, "labels": {AGGREGATE + label: "true"} if label
                               else {}}, "rules": rules}
    if aggregates:
        role["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {AGGREGATE + aggregates: "true"}}]}
    return role


# The user-facing bootstrap ClusterRoles of Kubernetes v1.36.3, and system:public-info-viewer
# (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/cluster-roles.yaml); apiGroups are
# space-separated, "" is the core group.
BUILTIN_CLUSTER_ROLES = [
    _builtin("cluster-admin", [_rule("*", "*", "*"), {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
    _builtin("system:public-info-viewer", [{"nonResourceURLs": sorted(PUBLIC_INFO_URLS),
                                            "verbs": ["get"]}]),
    _builtin("admin", [], aggregates="admin"),
    _builtin("edit", [], label="admin", aggregates="edit"),
    _builtin("view", [], label="edit", aggregates="view"),
    _builtin("system:aggregate-to-admin", [
        _rule("authorization.k8s.io", "localsubjectaccessreviews", "create"),
        _rule(RBAC, "rolebindings roles", f"{_EDIT} {_READ}")], label="admin"),
    _builtin("system:aggregate-to-edit", [
        _rule("", "pods/attach pods/exec pods/portforward pods/proxy secrets services/proxy",
              _READ),
        _rule("", "serviceaccounts", "impersonate"),
        _rule("", "pods pods/attach pods/exec pods/portforward pods/proxy", _EDIT),
        _rule("", "pods/eviction", "create"),
        _rule("", "configmaps persistentvolumeclaims replicationcontrollers "
                  "replicationcontrollers/scale secrets serviceaccounts services services/proxy",
              _EDIT),
        _rule("", "serviceaccounts/token", "create"),
        {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": _EDIT.split()},
        _rule("apps", "daemonsets deployments deployments/rollback deployments/scale replicasets "
                      "replicasets/scale statefulsets statefulsets/scale", _EDIT),
        _rule("autoscaling", "horizontalpodautoscalers", _EDIT),
        _rule("batch", "cronjobs jobs", _EDIT),
        _rule("extensions", "daemonsets deployments deployments/rollback deployments/scale "
                            "ingresses networkpolicies replicasets replicasets/scale "
                            "replicationcontrollers/scale", _EDIT),
        _rule("policy", "poddisruptionbudgets", _EDIT),
        _rule("networking.k8s.io", "ingresses networkpolicies", _EDIT),
        _rule("coordination.k8s.io", "leases", f"{_EDIT} {_READ}"),
        _rule("resource.k8s.io", "resourceclaims resourceclaimtemplates", _EDIT)], label="edit"),
    _builtin("system:aggregate-to-view", [
        _rule("", "configmaps endpoints persistentvolumeclaims persistentvolumeclaims/status pods "
                  "replicationcontrollers replicationcontrollers/scale serviceaccounts services "
                  "services/status", _READ),
        _rule("", "bindings limitranges namespaces/status pods/log pods/status "
                  "replicationcontrollers/status resourcequotas resourcequotas/status", _READ),
        _rule("", "namespaces", _READ),
        {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": _READ.split()},
        _rule("discovery.k8s.io", "endpointslices", _READ),
        _rule("apps", "controllerrevisions daemonsets daemonsets/status deployments "
                      "deployments/scale deployments/status replicasets replicasets/scale "
                      "replicasets/status statefulsets statefulsets/scale statefulsets/status",
              _READ),
        _rule("autoscaling", "horizontalpodautoscalers horizontalpodautoscalers/status", _READ),
        _rule("batch", "cronjobs cronjobs/status jobs jobs/status", _READ),
        _rule("extensions", "daemonsets daemonsets/status deployments deployments/scale "
                            "deployments/status ingresses ingresses/status networkpolicies "
                            "replicasets replicasets/scale replicasets/status "
                            "replicationcontrollers/scale", _READ),
        _rule("policy", "poddisruptionbudgets poddisruptionbudgets/status", _READ),
        _rule("networking.k8s.io", "ingresses ingresses/status networkpolicies", _READ),
        _rule("resource.k8s.io", "resourceclaims resourceclaims/status resourceclaimtemplates",
              _READ)], label="view"),
]


@dataclass(frozen=True)
class Request:
    """What the authorizer is asked: a resource request, or a non-resource one (`path`)."""

    verb: str
    resource: str = ""
    subresource: str = ""
    api_group: str = ""
    name: str = ""
    path: str = ""


def rule_allows(rule: dict, request: Request, any_name: bool = False) -> bool:
    """Does this PolicyRule allow the request (RuleAllows)? `any_name` ignores resourceNames."""
    verbs = rule.get("verbs") or ()
    if "*" not in verbs and request.verb not in verbs:
        return False
    if request.path:
        return any(url == request.path
                   or (url.endswith("*") and request.path.startswith(url.rstrip("*")))
                   for url in rule.get("nonResourceURLs") or ())
    groups = rule.get("apiGroups") or ()
    if "*" not in groups and request.api_group not in groups:
        return False
    sub = request.subresource
    combined = f"{request.resource}/{sub}" if sub else request.resource
    if not any(r == "*" or r == combined or (sub and r == f"*/{sub}")
               for r in rule.get("resources") or ()):
        return False
    names = rule.get("resourceNames")
    return any_name or not names or request.name in names


def rule_text(rule: dict) -> str:
    """A compact text of a rule: `apiGroups="" resources=secrets verbs=get,list`."""
    parts = []
    if rule.get("nonResourceURLs"):
        parts.append("nonResourceURLs=" + ",".join(rule["nonResourceURLs"]))
    else:
        parts.append("apiGroups=" + ",".join(g or '""' for g in rule.get("apiGroups") or ()))
        parts.append("resources=" + ",".join(rule.get("resources") or ()))
        if rule.get("resourceNames"):
            parts.append("resourceNames=" + ",".join(rule["resourceNames"]))
    parts.append("verbs=" + ",".join(rule.get("verbs") or ()))
    return " ".join(parts)


def parse_resource(text: str) -> tuple[str, str, str]:
    """`RESOURCE[.GROUP][/SUBRESOURCE]` as kubectl spells it -> (resource, subresource, group);
    a path (`/metrics`) -> (path, "", "")."""
    if text.startswith("/"):
        return text, "", ""
    head, _, sub = text.partition("/")
    resource, _, group = head.partition(".")
    if not resource:
        raise ValueError(f"{text!r}: expected RESOURCE[.GROUP][/SUBRESOURCE], e.g. pods/exec, "
                         "deployments.apps, or a URL path such as /metrics")
    return resource.lower(), sub, group


def subject_key(subject: dict, binding_namespace: str) -> str | None:
    """`Kind/name` or `ServiceAccount/ns/name` for a binding's subject; None when it can match
    no request (unknown kind, no name, ServiceAccount without a namespace in a
    ClusterRoleBinding)."""
    kind, name = subject.get("kind"), subject.get("name")
    if not name:
        return None
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return f"ServiceAccount/{namespace}/{name}" if namespace else None
    if kind == "User" and name.startswith(SA_USER) and name.count(":") == 3:
        namespace, _, account = name.removeprefix(SA_USER).partition(":")
        return f"ServiceAccount/{namespace}/{account}"
    if kind in ("User", "Group"):
        return f"{kind}/{name}"
    return None


def is_system(subject: str, binding: str = "") -> bool:
    """A subject the control plane, controllers or nodes use by design (see the module doc)."""
    kind, _, rest = subject.partition("/")
    if kind == "ServiceAccount":
        return rest.split("/", 1)[0] in SYSTEM_NAMESPACES
    if kind == "Group":
        return (rest.startswith("system:") and rest not in PUBLIC_GROUPS
                and not rest.startswith("system:serviceaccounts:"))
    if rest == "clusterAdmin":
        return binding == "ClusterRoleBinding/aks-cluster-admin-binding"
    return rest.startswith("system:") and rest != "system:anonymous"


def identities(subject: str, groups: Iterable[str] = ()) -> set[str]:
    """The subject and the groups it is in: the implicit ones and `groups` (names). For a
    Group, the groups every member of it is in: its members are authenticated (all but
    system:unauthenticated's), and a namespace's service accounts are service accounts."""
    kind, _, rest = subject.partition("/")
    found = {subject, *(f"Group/{g}" for g in groups)}
    if subject in ANONYMOUS:
        return found | {"Group/system:unauthenticated"}
    if kind == "ServiceAccount":
        found |= {"Group/system:serviceaccounts",
                  f"Group/system:serviceaccounts:{rest.split('/', 1)[0]}"}
    if rest.startswith("system:serviceaccounts:"):
        found.add("Group/system:serviceaccounts")
    found.add("Group/system:authenticated")
    return found


@dataclass(frozen=True)
class Row:
    """One grant: `subject` may do `risk` through `binding` to `role`, by `rule`."""

    subject: str
    binding: str
    role: str
    rule: str
    risk: str
    severity: str
    score: float = 0.0
    system: bool = False
    path: str = ""  # an ineffective-grant row: the catalogued risk it would grant

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELDS}

    def sort_key(self) -> tuple:
        return (SEVERITY_ORDER.get(self.severity, 9), -self.score, self.risk, self.subject,
                self.binding, self.role, self.rule)


@dataclass
class Binding:
    kind: str  # ClusterRoleBinding | RoleBinding
    namespace: str  # "" for a ClusterRoleBinding
    name: str
    role: str  # ClusterRole/name or Role/ns/name
    rules: list[dict]
    subjects: list[str]
    found: bool = True  # the role exists

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else \
            f"{self.kind}/{self.name}"


def aggregate(cluster_roles: list[dict]) -> dict[str, list[dict]]:
    """ClusterRole name -> rules, with the aggregated roles computed as the controller does."""
    rules = {r["metadata"]["name"]: list(r.get("rules") or []) for r in cluster_roles}
    aggregated = sorted((r for r in cluster_roles if r.get("aggregationRule") is not None),
                        key=lambda r: r["metadata"]["name"])
    by_name = sorted(cluster_roles, key=lambda r: r["metadata"]["name"])
    for role in aggregated:
        rules[role["metadata"]["name"]] = []
    for _ in range(len(aggregated) + 1):
        changed = False
        for role in aggregated:
            name = role["metadata"]["name"]
            new: list[dict] = []
            for selector in role["aggregationRule"].get("clusterRoleSelectors") or []:
                for other in by_name:
                    other_name = other["metadata"]["name"]
                    if other_name != name and matches(selector or {},
                                                      other["metadata"].get("labels") or {}):
                        new.extend(r for r in rules[other_name] if r not in new)
            if new != rules[name]:
                rules[name], changed = new, True
        if not changed:
            break
    return rules


BUILTIN_RULES = aggregate(BUILTIN_CLUSTER_ROLES)  # the bootstrap ClusterRoles' rules


@dataclass
class Policy:
    """The bindings of a view, each with its subjects and its role's rules, resolved once."""

    bindings: list[Binding]
    assumed: list[str] = field(default_factory=list)  # bootstrap roles assumed (from files)

    @classmethod
    def of(cls, objects: dict[str, list[dict]], from_files: bool = False) -> Policy:
        cluster_roles = list(objects.get("clusterroles", []))
        assumed: set[str] = set()
        if from_files:
            defined = {r["metadata"]["name"] for r in cluster_roles}
            added = [r for r in BUILTIN_CLUSTER_ROLES if r["metadata"]["name"] not in defined]
            cluster_roles += added
            builtin_names = {r["metadata"]["name"] for r in added}
            cluster_rules = aggregate(cluster_roles)
        else:
            builtin_names = set()
            cluster_rules = {r["metadata"]["name"]: r.get("rules") or [] for r in cluster_roles}
        roles = {(r["metadata"].get("namespace", ""), r["metadata"]["name"]): r.get("rules") or []
                 for r in objects.get("roles", [])}
        bindings = []
        for kind, plural in (("ClusterRoleBinding", "clusterrolebindings"),
                             ("RoleBinding", "rolebindings")):
            for item in objects.get(plural, []):
                meta, ref = item["metadata"], item.get("roleRef") or {}
                namespace = meta.get("namespace", "") if kind == "RoleBinding" else ""
                ref_kind, ref_name = ref.get("kind"), ref.get("name", "")
                rules: list[dict] | None = None
                if ref_kind == "ClusterRole":
                    role = f"ClusterRole/{ref_name}"
                    rules = cluster_rules.get(ref_name)
                    if ref_name in builtin_names:
                        assumed.add(ref_name)
                elif ref_kind == "Role":
                    role = f"Role/{namespace}/{ref_name}" if namespace else f"Role/{ref_name}"
                    rules = roles.get((namespace, ref_name)) if namespace else None
                else:
                    role = f"{ref_kind}/{ref_name}"
                subjects = [key for s in item.get("subjects") or []
                            if (key := subject_key(s, namespace))]
                bindings.append(Binding(kind, namespace, meta["name"], role, rules or [],
                                        list(dict.fromkeys(subjects)), rules is not None))
        return cls(bindings, sorted(assumed))

    @property
    def missing(self) -> list[str]:
        """The bindings whose role does not exist (they grant nothing)."""
        return sorted(f"{b.key} -> {b.role}" for b in self.bindings if not b.found)


# The risk catalogue ----------------------------------------------------------------------------

ANY = "<any>"  # in a probe: every resource of its API group, or every subresource of its resource
UNNAMED_VERBS = ("create", "deletecollection")  # requests that carry no object name


@dataclass(frozen=True)
class Probe:
    """A request a risky right allows. `namespaced`: a RoleBinding can grant it; `namespace`:
    only a grant there counts (CoreDNS lives in kube-system); `names`: only these objects count,
    so a rule whose resourceNames name none of them does not (empty: any name)."""

    request: Request
    namespaced: bool = True
    namespace: str = ""
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Risk:
    name: str
    score: float
    public_ids: str
    what: str
    probes: tuple[Probe, ...] = ()
    requires: Request | None = None  # a second right, held cluster-wide by the same subject
    everyone_only: bool = False  # a row only for the subjects that stand for everyone

    @property
    def severity(self) -> str:
        return severity(self.score)


def _probes(verbs: str, group: str, resources: str, namespaced: bool = True,
            namespace: str = "", names: tuple[str, ...] = ()) -> list[Probe]:
    found = []
    for verb in verbs.split():
        for item in resources.split():
            resource, _, sub = item.partition("/")
            found.append(Probe(Request(verb, resource, sub, group), namespaced, namespace, names))
    return found


def _cluster(verbs: str, group: str, resources: str) -> list[Probe]:
    return _probes(verbs, group, resources, namespaced=False)


CHANGE = "create update patch delete"
WRITE = "create update patch"
ADMISSION = "admissionregistration.k8s.io"
# A running pod's container images may be changed (update/patch pods: "Pod updates may not
# change fields other than spec.containers[*].image, ..." - Kubernetes docs "Pods", Pod update
# and replacement): one's own image then runs as that pod's service account.
WORKLOADS = [*_probes("create", "", "pods replicationcontrollers"),
             *_probes("update patch", "", "pods replicationcontrollers"),
             *_probes(WRITE, "apps", "deployments replicasets statefulsets daemonsets"),
             *_probes(WRITE, "batch", "jobs cronjobs")]
RISKS = [
    Risk("cluster-admin", 10,
         "GP-least; kubescape C-0035, C-0185; CIS AKS 4.1.1 (CIS Kubernetes 5.1.1)",
         "every verb on every resource of every API group (`*` on `*`)"),
    Risk("impersonate", 9, "GP-imp; kubescape C-0065, C-0191; rbac-tool R3; CIS Kubernetes 5.1.8",
         "act as other users, groups, uids, user extras (cluster-wide) or service accounts",
         (*_cluster("impersonate", "", "users groups"),
          *_cluster("impersonate", "authentication.k8s.io", f"uids userextras/{ANY}"),
          *_probes("impersonate", "", "serviceaccounts"))),
    Risk("nodes-proxy", 9, "GP-proxy; kubescape C-0279; rbac-tool R11; CIS AKS 4.1.9",
         "the kubelet API through nodes/proxy: exec into any pod of the node, unaudited",
         tuple(_cluster("get create", "", "nodes/proxy"))),
    Risk("mutating-webhooks", 9, "GP-webhooks; kubescape C-0281; rbac-tool R8",
         "control mutating admission webhooks: read every admitted object, Secrets too, and "
         "rewrite pods as they are admitted", tuple(_cluster(CHANGE, ADMISSION,
                                                            "mutatingwebhookconfigurations"))),
    Risk("bind", 8, "GP-bind; kubescape C-0191; rbac-tool R4; CIS Kubernetes 5.1.8",
         "bind roles one does not hold", tuple(_probes("bind", RBAC, "roles clusterroles"))),
    Risk("escalate", 8, "GP-escalate; kubescape C-0191; rbac-tool R4; CIS Kubernetes 5.1.8",
         "write roles with rights one does not hold",
         (*_probes("escalate", RBAC, "roles"), *_cluster("escalate", RBAC, "clusterroles"))),
    Risk("csr-approval", 8, "GP-csr; kubescape C-0280; CIS AKS 4.1.10",
         "approve CertificateSigningRequests (client certificates for any user, also with "
         "approve on signers)",
         tuple(_cluster("update", "certificates.k8s.io",
                        "certificatesigningrequests/approval")),
         Request("approve", "signers", "", "certificates.k8s.io")),
    Risk("secrets-read", 8, "GP-secrets; kubescape C-0015, C-0186; rbac-tool R1; CIS AKS 4.1.2",
         "get, list or watch Secrets", tuple(_probes("get list watch", "", "secrets"))),
    Risk("serviceaccount-token", 8, "GP-token; kubescape C-0282; CIS AKS 4.1.12",
         "create tokens for service accounts",
         tuple(_probes("create", "", "serviceaccounts/token"))),
    Risk("validating-webhooks", 8, "GP-webhooks; kubescape C-0281; rbac-tool R8",
         "control validating admission webhooks: read every admitted object, Secrets too, or "
         "remove the checks they enforce",
         tuple(_cluster(CHANGE, ADMISSION, "validatingwebhookconfigurations"))),
    Risk("admission-policies", 8, "rbac-tool R15",
         "change or delete (Validating|Mutating)AdmissionPolicies and their bindings: lift the "
         "checks, or mutate admitted pods",
         tuple(_cluster(CHANGE, ADMISSION, "validatingadmissionpolicies "
                        "validatingadmissionpolicybindings mutatingadmissionpolicies "
                        "mutatingadmissionpolicybindings"))),
    Risk("apiservices", 8, "(none of the three sources: API aggregation)",
         "register or change APIServices: the API server then sends that API group's requests "
         "to a service of one's choice", tuple(_cluster(CHANGE, "apiregistration.k8s.io",
                                                        "apiservices"))),
    Risk("create-pods", 7, "GP-workload; kubescape C-0188; rbac-tool R2; CIS AKS 4.1.4",
         "create pods, change a running pod's image, or create or change workloads whose "
         "controllers create them: run as any service account of the namespace, mount its "
         "Secrets", tuple(WORKLOADS)),
    Risk("exec", 7, "kubescape C-0002; rbac-tool R13", "run commands in containers (pods/exec)",
         tuple(_probes("create get", "", "pods/exec"))),
    Risk("attach", 7, "(no control of the three; same reach as exec)",
         "attach to a container's console (pods/attach)",
         tuple(_probes("create get", "", "pods/attach"))),
    Risk("ephemeral-containers", 7, "rbac-tool R12",
         "add ephemeral containers to running pods (kubectl debug): code in the pod, with a "
         "security context of one's choice", tuple(_probes("update patch", "",
                                                           "pods/ephemeralcontainers"))),
    Risk("namespace-labels", 7, "GP-namespace",
         "change a Namespace's labels: lift its Pod Security level to privileged, or match "
         "other NetworkPolicies' namespaceSelectors (a RoleBinding: its own namespace)",
         tuple(_probes("update patch", "", "namespaces"))),
    Risk("persistent-volumes", 7, "GP-pv; kubescape C-0278; rbac-tool R5",
         "create PersistentVolumes: a hostPath volume opens the node's file system",
         tuple(_cluster("create", "", "persistentvolumes"))),
    Risk("policy-engines", 7, "rbac-tool R10, R14",
         "change or delete Gatekeeper templates, constraints, mutations or its config, or "
         "Kyverno policies and policy exceptions: lift or bend what they enforce",
         (*_cluster(CHANGE, "templates.gatekeeper.sh", "constrainttemplates"),
          *_cluster(CHANGE, "constraints.gatekeeper.sh", ANY),
          *_cluster(CHANGE, "mutations.gatekeeper.sh",
                    "assign assignmetadata assignimage modifyset"),
          *_probes(CHANGE, "config.gatekeeper.sh", "configs", namespace="gatekeeper-system"),
          *_cluster(CHANGE, "kyverno.io", "clusterpolicies clustercleanuppolicies"),
          *_probes(CHANGE, "kyverno.io", "policies policyexceptions cleanuppolicies"),
          *_probes(CHANGE, "policies.kyverno.io", ANY))),
    Risk("coredns", 7, "kubescape C-0037",
         "rewrite the cluster's DNS (ConfigMaps coredns and coredns-custom in kube-system): "
         "send any name to an address of one's choice",
         (*_probes("create", "", "configmaps", namespace="kube-system"),
          *_probes("update patch", "", "configmaps", namespace="kube-system",
                   names=("coredns", "coredns-custom")))),
    Risk("csr-signing", 6, "GP-csr",
         "sign CertificateSigningRequests (write status.certificate, also with sign on signers); "
         "grants access where that signer's CA is trusted",
         tuple(_cluster("update", "certificates.k8s.io", "certificatesigningrequests/status")),
         Request("sign", "signers", "", "certificates.k8s.io")),
    Risk("crds", 6, "rbac-tool R9",
         "create, change or delete CustomResourceDefinitions (a deletion deletes every object "
         "of the type, policies too)",
         tuple(_cluster(CHANGE, "apiextensions.k8s.io", "customresourcedefinitions"))),
    Risk("anonymous-access", 6, "kubescape C-0262",
         "anonymous requests (system:anonymous, system:unauthenticated) granted more than the "
         "public health and version endpoints, or bound to a role that does not exist yet"),
    Risk("everyone-reads-workloads", 6, "kubescape C-0265",
         "every identity (system:authenticated, every service account, anonymous) reads pods, "
         "their logs, workload templates or nodes: env values, images, service accounts, node "
         "addresses",
         (*_probes(_READ, "", "pods pods/log replicationcontrollers"),
          *_cluster(_READ, "", "nodes"),
          *_probes(_READ, "apps", "deployments replicasets statefulsets daemonsets"),
          *_probes(_READ, "batch", "jobs cronjobs")),
         everyone_only=True),
    Risk("portforward", 5, "kubescape C-0063", "forward ports into pods (pods/portforward)",
         tuple(_probes("create get", "", "pods/portforward"))),
    Risk("service-traffic", 5, "rbac-tool R6; kubescape C-0283 (the admission plugin)",
         "change Services (also their status), Endpoints or EndpointSlices: an externalIP or a "
         "load-balancer IP captures that address's traffic cluster-wide (CVE-2020-8554), "
         "endpoints send a Service anywhere",
         (*_probes(CHANGE, "", "services endpoints"),
          *_probes("update patch", "", "services/status"),
          *_probes(CHANGE, "discovery.k8s.io", "endpointslices"))),
    Risk("ingress-routes", 5, "rbac-tool R6, R7",
         "change Ingresses, IngressClasses or Gateway API gateways and routes: take over "
         "host names and paths",
         (*_probes(CHANGE, "networking.k8s.io", "ingresses"),
          *_probes(CHANGE, "extensions", "ingresses"),
          *_cluster(CHANGE, "networking.k8s.io", "ingressclasses"),
          *_probes(CHANGE, "gateway.networking.k8s.io", "gateways httproutes grpcroutes "
                   "tcproutes tlsroutes udproutes referencegrants"),
          *_cluster(CHANGE, "gateway.networking.k8s.io", "gatewayclasses"))),
    Risk("storage", 5, "rbac-tool R5",
         "change or delete PersistentVolumes, StorageClasses, VolumeAttachments or CSIDrivers: "
         "reach or destroy other namespaces' data",
         (*_cluster("update patch delete", "", "persistentvolumes"),
          *_cluster(CHANGE, "storage.k8s.io",
                    "storageclasses volumeattachments csidrivers volumeattributesclasses"))),
    Risk("wildcard", 5, "GP-least; kubescape C-0187; CIS AKS 4.1.3",
         "`*` in verbs or resources (grants what future resources and verbs add)"),
    Risk("network-policies", 4, "rbac-tool R6",
         "change or delete NetworkPolicies or Cilium policies: open the namespaces they isolate",
         (*_probes(CHANGE, "networking.k8s.io", "networkpolicies"),
          *_probes(CHANGE, "extensions", "networkpolicies"),
          *_probes(CHANGE, "cilium.io", "ciliumnetworkpolicies"),
          *_cluster(CHANGE, "cilium.io", "ciliumclusterwidenetworkpolicies"),
          *_cluster(CHANGE, "policy.networking.k8s.io",
                    "adminnetworkpolicies baselineadminnetworkpolicies"))),
    Risk("delete-events", 4, "kubescape C-0031",
         "delete Events: erase the trail of what happened",
         (*_probes("delete deletecollection", "", "events"),
          *_probes("delete deletecollection", "events.k8s.io", "events"))),
    Risk("delete", 3, "kubescape C-0007",
         "delete Secrets, pods, Services or workloads",
         (*_probes("delete deletecollection", "", "secrets pods services"),
          *_probes("delete deletecollection", "apps",
                   "deployments replicasets daemonsets statefulsets"),
          *_probes("delete deletecollection", "batch", "jobs cronjobs"))),
]
NAMESPACE_ADMIN = "namespace-admin"
INEFFECTIVE = "ineffective-grant"
ANONYMOUS_ACCESS = "anonymous-access"
BASE_SCORES = {r.name: r.score for r in RISKS} | {NAMESPACE_ADMIN: RISKS[0].score,
                                                   INEFFECTIVE: 2}
EVERYONE_ONLY = frozenset(r.name for r in RISKS if r.everyone_only)
CLUSTER_PROBES = {r.name: [p for p in r.probes if not p.namespaced] for r in RISKS}
RISK_GROUPS = {r.name: {p.request.api_group for p in r.probes} for r in RISKS}
# Extension resources that are cluster-scoped (built-in ones: CLUSTER_SCOPED).
CLUSTER_SCOPED_GROUPS = frozenset({"constraints.gatekeeper.sh", "templates.gatekeeper.sh",
                                   "mutations.gatekeeper.sh"})
CLUSTER_SCOPED_EXTENSIONS = frozenset({
    ("kyverno.io", "clusterpolicies"), ("kyverno.io", "clustercleanuppolicies"),
    ("cilium.io", "ciliumclusterwidenetworkpolicies"), ("gateway.networking.k8s.io",
                                                        "gatewayclasses")})


def grants_all(rule: dict) -> bool:
    """`*` verbs on `*` resources in `*` API groups, for any name: cluster-admin's rule."""
    return ("*" in (rule.get("verbs") or ()) and "*" in (rule.get("resources") or ())
            and "*" in (rule.get("apiGroups") or ()) and not rule.get("resourceNames"))


def _resource_hit(resources: Iterable[str], request: Request) -> bool:
    if request.resource == ANY:  # any resource of the group
        return any(r == "*" or "/" not in r for r in resources)
    if request.subresource == ANY:  # any subresource of the resource
        return any(r == "*" or r.startswith(f"{request.resource}/") or r.startswith("*/")
                   for r in resources)
    sub = request.subresource
    combined = f"{request.resource}/{sub}" if sub else request.resource
    return any(r == "*" or r == combined or (sub and r == f"*/{sub}") for r in resources)


def probe_allows(rule: dict, probe: Probe, binding_namespace: str | None = None) -> bool:
    """Does this rule, bound by a ClusterRoleBinding (`binding_namespace` None) or by a
    RoleBinding in that namespace, allow the probe's request on some object it covers?"""
    request = probe.request
    if binding_namespace is not None and (
            not probe.namespaced or probe.namespace not in ("", binding_namespace)):
        return False
    verbs, groups = rule.get("verbs") or (), rule.get("apiGroups") or ()
    if ("*" not in verbs and request.verb not in verbs) or (
            "*" not in groups and request.api_group not in groups):
        return False
    if not _resource_hit(rule.get("resources") or (), request):
        return False
    listed = rule.get("resourceNames")
    if not listed:
        return True
    if request.verb in UNNAMED_VERBS and not request.subresource:
        return False
    names = probe.names
    if request.resource == "namespaces" and binding_namespace is not None:
        names = (binding_namespace,)  # a RoleBinding reaches only its own namespace object
    return not names or any(n in listed for n in names)


def _in_groups(rule: dict) -> list[Risk]:
    """The risks with a probe in an API group the rule names (the others cannot match)."""
    groups = set(rule.get("apiGroups") or ())
    return [r for r in RISKS if "*" in groups or groups & RISK_GROUPS[r.name]]


def rule_risks(rule: dict, binding_namespace: str | None = None) -> list[tuple[str, bool]]:
    """(risk name, limited to named objects) for one rule bound by a ClusterRoleBinding
    (`binding_namespace` None) or by a RoleBinding in that namespace."""
    if grants_all(rule):
        return [(NAMESPACE_ADMIN if binding_namespace is not None else "cluster-admin", False)]
    if rule.get("nonResourceURLs"):
        return []
    named = bool(rule.get("resourceNames"))
    found = [(risk.name, named) for risk in _in_groups(rule)
             if any(probe_allows(rule, p, binding_namespace) for p in risk.probes)]
    if "*" in (rule.get("verbs") or ()) or "*" in (rule.get("resources") or ()):
        found.append(("wildcard", False))
    return found


def _star_entry(rule: dict, request: Request) -> str:
    """The rule's `<resource>/*` (or `*/*`) entry that reads as every subresource of the
    request's resource; "" when none. RBAC matches it only to a subresource named `*`."""
    return next((r for r in rule.get("resources") or ()
                 if r in (f"{request.resource}/*", "*/*")), "")


def _star_allows(rule: dict, probe: Probe) -> bool:
    """Would the probe be allowed if the rule's `<resource>/*` meant every subresource?"""
    entry = _star_entry(rule, probe.request)
    sub = f"{probe.request.resource}/{probe.request.subresource}"
    return bool(entry) and probe_allows({**rule, "resources": [*rule["resources"], sub]}, probe)


def ineffective_paths(rule: dict, binding_namespace: str | None,
                      granted: Iterable[str] = ()) -> list[tuple[Risk, list[Probe], bool]]:
    """The catalogued paths (other than `granted`) this rule names but never grants, each with
    the probes it names and why (`star`):
    - False: a RoleBinding (in `binding_namespace`) naming cluster-scoped resources: the
      authorizer lists RoleBindings only for a request's namespace (VisitRulesFor), and a
      cluster-scoped request has none. The probes a ClusterRoleBinding would grant.
    - True: `pods/*` (or `*/*`) read as every subresource: RBAC matches it only to a
      subresource literally named `*` (ResourceMatches).
    Empty for `*` on `*` in `*` (namespace-admin or cluster-admin stands for it)."""
    stars = any(r.endswith("/*") for r in rule.get("resources") or ())
    if (binding_namespace is None and not stars) or grants_all(rule):
        return []
    found = []
    for risk in _in_groups(rule):
        if risk.name in granted:
            continue
        cluster = [p for p in CLUSTER_PROBES[risk.name] if binding_namespace is not None
                   and probe_allows(rule, p)]
        star = [p for p in risk.probes if stars and _star_allows(rule, p)
                and not probe_allows(rule, p)]
        if cluster:
            found.append((risk, cluster, False))
        elif star:
            found.append((risk, star, True))
    return found


def _label(request: Request) -> str:
    """`resource[.group][/subresource]` as kubectl spells it (`*` for any)."""
    resource = "*" if request.resource == ANY else request.resource
    sub = "*" if request.subresource == ANY else request.subresource
    return (resource + (f".{request.api_group}" if request.api_group else "")
            + (f"/{sub}" if sub else ""))


def ineffective_text(risk: Risk, probes: list[Probe], star: bool, rule: dict,
                     binding: Binding) -> str:
    """Why an ineffective-grant row grants nothing, and what it reads like."""
    verbs = "/".join(dict.fromkeys(p.request.verb for p in probes))
    resources = ", ".join(dict.fromkeys(_label(p.request) for p in probes))
    what = f"names {risk.name} ({verbs} {resources})"
    if star:
        entry = _star_entry(rule, probes[0].request)
        return (f"{what} as `{entry}`: RBAC matches `{entry}` only to a subresource named `*`, "
                f"not to every subresource, so it grants no {risk.name}; dead configuration "
                "that reads like a grant")
    if binding.role.startswith("Role/"):
        return (f"{what} on cluster-scoped resources in a Role: a Role can never grant them "
                "(its RoleBindings apply only in their namespace); dead configuration that "
                "reads like a grant")
    return (f"{what} on cluster-scoped resources through a RoleBinding: grants nothing today "
            "(the authorizer ignores cluster-scoped rules in a RoleBinding); bound by a "
            f"ClusterRoleBinding, this ClusterRole would grant {risk.name}")


def _public_info(rule: dict) -> bool:
    """get on the public health and version endpoints only (system:public-info-viewer)."""
    urls = rule.get("nonResourceURLs") or ()
    return bool(urls) and set(urls) <= PUBLIC_INFO_URLS and set(rule["verbs"]) <= {"get"}


def _grants_any(rule: dict) -> bool:
    """Can the rule allow any request at all (verbs, and URLs or resources in API groups)?"""
    return bool(rule.get("verbs")) and bool(
        rule.get("nonResourceURLs") or (rule.get("resources") and rule.get("apiGroups")))


def anonymous_grant(binding: Binding) -> str | None:
    """What this binding grants anonymous requests beyond the public-info endpoints (the rule
    and why), or None. A binding to a role that does not exist grants as soon as the role is
    created; a bootstrap ClusterRole the API server recreates is judged as it recreates it."""
    kinds = ("ClusterRole/", "Role/") if binding.kind == "RoleBinding" else ("ClusterRole/",)
    if not binding.role.startswith(kinds):
        return None  # the API server refuses such a roleRef: it can never grant
    rules, note = binding.rules, ""
    name = binding.role.removeprefix("ClusterRole/")
    if not binding.found and name in BUILTIN_RULES:
        rules = BUILTIN_RULES[name]
        note = (f"; {binding.role} is not in the view: the API server recreates it at its "
                "next start, as Kubernetes v1.36 defines it")
    elif not binding.found:
        return (f"{binding.role} does not exist: the binding grants anonymous requests nothing "
                "today, and whatever that role holds as soon as someone creates it")
    rule = next((r for r in rules if _grants_any(r) and not _public_info(r)), None)
    if rule is None:
        return None
    return (f"{rule_text(rule)}; granted to anonymous requests: anyone who reaches the API "
            "server where anonymous authentication is on (AKS reports it off: CIS Kubernetes "
            f"1.2.1){note}")


def score(base: float, binding: Binding, subject: str, named: bool) -> float:
    value = base
    if binding.namespace and binding.namespace not in SYSTEM_NAMESPACES:
        value -= 1
    if named:
        value -= 2
    if subject in EVERYONE or subject.startswith("Group/system:serviceaccounts:"):
        value += 1
    return max(1.0, min(10.0, value))


def _finish(rows: Iterable[Row], include_system: bool) -> list[Row]:
    unique = {(r.subject, r.binding, r.rule, r.risk): r for r in rows
              if include_system or not r.system}
    return sorted(unique.values(), key=Row.sort_key)


def _holders(policy: Policy, request: Request) -> dict[str, str]:
    """subject -> the first ClusterRoleBinding granting it `request` on some object."""
    found: dict[str, str] = {}
    for binding in policy.bindings:
        if binding.kind == "ClusterRoleBinding" and any(
                rule_allows(r, request, True) for r in binding.rules):
            for subject in binding.subjects:
                found.setdefault(subject, binding.key)
    return found


def _maybe_member(subject: str, holders: dict[str, str]) -> str | None:
    """The first Group holding the second right that this User or Group's members may also be
    in: group membership comes from the authenticator (Entra ID), not the cluster, so it is
    not known here. A service account's groups are known (only the implicit ones): None.
    (system:authenticated, which every member of a User or Group is in, is found through
    identities() before this is asked.)"""
    if not subject.startswith(("User/", "Group/")) or subject in ANONYMOUS:
        return None
    implicit = {"Group/system:unauthenticated", "Group/system:serviceaccounts"}
    return next((h for h in sorted(holders) if h.startswith("Group/") and h != subject
                 and h not in implicit and not h.startswith("Group/system:serviceaccounts:")),
                None)


def _better(rows: dict[tuple[str, str, str], Row], key: tuple[str, str, str],
            value: float) -> bool:
    """Is `value` a higher score than the row kept for `key` (or is there none)?"""
    kept = rows.get(key)
    return kept is None or value > kept.score


def risks(objects: dict[str, list[dict]], *, from_files: bool = False,
          include_system: bool = False, policy: Policy | None = None) -> list[Row]:
    """The RBAC risk table of the whole view: one row per subject, binding and risk, with the
    first rule of the role that grants it at the highest score; an ineffective-grant row per
    path a RoleBinding names on cluster-scoped resources; an anonymous-access row per binding
    that grants anonymous requests more than the public-info endpoints."""
    policy = policy or Policy.of(objects, from_files)
    cache: dict[tuple[int, str | None], tuple[list, list, str]] = {}
    rows: dict[tuple[str, str, str], Row] = {}
    required = {r.name: (r.requires, _holders(policy, r.requires)) for r in RISKS if r.requires}
    for binding in policy.bindings:
        where = binding.namespace if binding.kind == "RoleBinding" else None
        bkey = binding.key
        system = {s: is_system(s, bkey) for s in binding.subjects}
        if not include_system and all(system.values()):
            continue
        for rule in binding.rules:
            key = (id(rule), where)
            if key not in cache:
                found = rule_risks(rule, where)
                ineffective = ineffective_paths(rule, where, {name for name, _ in found})
                cache[key] = (found, ineffective, rule_text(rule))
            found, ineffective, text = cache[key]
            for subject in binding.subjects:
                for name, named in found:
                    if name in EVERYONE_ONLY and subject not in EVERYONE:
                        continue
                    row_text = text
                    if name in required:
                        request, holders = required[name]
                        via = next((holders[i] for i in sorted(identities(subject))
                                    if i in holders), None)
                        maybe = _maybe_member(subject, holders)
                        if via is not None:
                            row_text = f"{text}; {request.verb} on {request.resource} via {via}"
                        elif maybe:
                            row_text = (f"{text}; {request.verb} on {request.resource} held by "
                                        f"{maybe} ({holders[maybe]}): a member has both")
                        else:
                            continue
                    value = score(BASE_SCORES[name], binding, subject, named)
                    if _better(rows, (subject, bkey, name), value):
                        rows[subject, bkey, name] = Row(
                            subject, bkey, binding.role, row_text, name, severity(value),
                            value, system[subject])
                for risk, probes, star in ineffective:
                    if risk.everyone_only and subject not in EVERYONE:
                        continue
                    value = score(BASE_SCORES[INEFFECTIVE], binding, subject,
                                  bool(rule.get("resourceNames")))
                    slot = (subject, bkey, f"{INEFFECTIVE}/{risk.name}")
                    if _better(rows, slot, value):
                        rows[slot] = Row(
                            subject, bkey, binding.role,
                            f"{text}; {ineffective_text(risk, probes, star, rule, binding)}",
                            INEFFECTIVE, severity(value), value, system[subject], risk.name)
        anonymous = [s for s in binding.subjects if s in ANONYMOUS]
        granted = anonymous_grant(binding) if anonymous else None
        for subject in anonymous if granted else ():  # (anonymous subjects are not system)
            value = score(BASE_SCORES[ANONYMOUS_ACCESS], binding, subject, False)
            rows[subject, bkey, ANONYMOUS_ACCESS] = Row(
                subject, bkey, binding.role, granted, ANONYMOUS_ACCESS, severity(value), value)
    return _finish(rows.values(), include_system)


def _request(verb: str, resource: str, subresource: str | None, api_group: str,
             name: str | None) -> Request:
    if resource.startswith("/"):
        return Request(verb, path=resource)
    if subresource is None and "/" in resource:
        resource, _, subresource = resource.partition("/")
    return Request(verb, resource, subresource or "", api_group, name or "")


def _probe_answers(probe: Probe, request: Request, namespace: str | None) -> bool:
    """Is `request` (in `namespace`, None = not known) one the probe stands for?"""
    asked = probe.request
    if (asked.verb, asked.api_group) != (request.verb, request.api_group):
        return False
    if asked.resource == ANY:
        same = not request.subresource
    elif asked.subresource == ANY:
        same = asked.resource == request.resource and bool(request.subresource)
    else:
        same = (asked.resource, asked.subresource) == (request.resource, request.subresource)
    return (same and probe.namespace in ("", namespace or probe.namespace)
            and (not probe.names or not request.name or request.name in probe.names))


def _asked_risk(request: Request, namespace: str | None = None) -> Risk | None:
    """The catalogued risk this very request exercises, if any."""
    for risk in RISKS:
        if any(_probe_answers(p, request, namespace) for p in risk.probes):
            return risk
    return None


def _on_namespace_object(request: Request) -> bool:
    """A request on one Namespace object (get, update, patch, delete namespaces/<ns>, also its
    status and finalize): the API server files it in namespace <ns>."""
    return (not request.path and request.resource == "namespaces" and not request.api_group
            and request.verb not in ("list", "watch", "create", "deletecollection"))


def _grants(policy: Policy, request: Request, namespace: str | None,
            cluster_scoped: bool) -> Iterator[tuple[Binding, dict]]:
    """(binding, first rule of it allowing the request) for the bindings that apply."""
    own_namespace = _on_namespace_object(request)
    for binding in policy.bindings:
        asked = request
        if binding.kind == "RoleBinding":
            if own_namespace:
                if namespace not in (None, binding.namespace) or \
                        request.name not in ("", binding.namespace):
                    continue
                asked = replace(request, name=binding.namespace)
            elif cluster_scoped or (namespace is not None and binding.namespace != namespace):
                continue
        elif own_namespace and not request.name and namespace:
            asked = replace(request, name=namespace)
        rule = next((r for r in binding.rules if rule_allows(r, asked)), None)
        if rule is not None:
            yield binding, rule


def _is_cluster_scoped(request: Request) -> bool:
    """Does no RoleBinding grant it? (A request on one Namespace object is in that namespace:
    _grants decides it before asking this.)"""
    if request.path:
        return True
    if request.verb == "bind" and request.resource == "clusterroles":
        return False  # checked in the namespace of the RoleBinding being created
    return (request.resource in CLUSTER_SCOPED or request.api_group in CLUSTER_SCOPED_GROUPS
            or (request.api_group, request.resource) in CLUSTER_SCOPED_EXTENSIONS)


def who_can(objects: dict[str, list[dict]], verb: str, resource: str,
            namespace: str | None = None, subresource: str | None = None, api_group: str = "",
            *, name: str | None = None, from_files: bool = False, include_system: bool = False,
            policy: Policy | None = None) -> list[Row]:
    """The subjects that can `verb` `resource` (`pods`, `pods/exec`, or a URL path such as
    `/metrics`), one row per granting binding with the first rule of it that allows it (the
    authorizer's order). `namespace=None`: in any namespace (ClusterRoleBindings, and every
    RoleBinding unless the resource is cluster-scoped; for one Namespace object, each
    RoleBinding for its own); a name: only the bindings that apply there. `name=None` asks
    without an object name, which resourceNames-limited rules never allow (except on a
    Namespace object, whose name is its namespace). `risk` is the request; `severity` that of
    the catalogued risk it is where the grant applies, else `info`."""
    policy = policy or Policy.of(objects, from_files)
    request = _request(verb, resource, subresource, api_group, name)
    label = request.path or _label(request)
    rows = []
    for binding, rule in _grants(policy, request, namespace,
                                 _is_cluster_scoped(request)):
        asked = _asked_risk(request, namespace if namespace is not None
                            else binding.namespace or None)
        for subject in binding.subjects:
            if asked and (not asked.everyone_only or subject in EVERYONE):
                value = score(asked.score, binding, subject, bool(rule.get("resourceNames")))
                level = severity(value)
            else:
                value, level = 0.0, "info"
            rows.append(Row(subject, binding.key, binding.role, rule_text(rule),
                            f"{verb} {label}", level, value, is_system(subject, binding.key)))
    return _finish(rows, include_system)


def can(objects: dict[str, list[dict]], subject: str, verb: str, resource: str,
        namespace: str = "", subresource: str | None = None, api_group: str = "", *,
        name: str | None = None, groups: Iterable[str] = (), from_files: bool = False,
        policy: Policy | None = None) -> list[Row]:
    """What the authorizer decides for one user (`User/jane`, `ServiceAccount/ns/name`) in one
    namespace ("" = a cluster-wide request): the rows that allow it, through the subject itself
    or its groups (implicit ones, plus `groups`); empty = denied."""
    mine = identities(subject, groups)
    rows = who_can(objects, verb, resource, namespace, subresource, api_group, name=name,
                   from_files=from_files, include_system=True, policy=policy)
    return [r for r in rows if r.subject in mine]
