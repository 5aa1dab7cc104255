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

`risks()` lists, per subject, binding and right of the catalogue, the first rule of the role
that grants it (the highest-scoring one when rules differ in score):

  risk                  score  public ids (verified in kubescape/regolibrary, Aug 2026)
  cluster-admin           10   kubescape C-0035, C-0185; CIS AKS 4.1.1 (`*` on `*` in `*`)
  impersonate              9   kubescape C-0065, C-0191; CIS Kubernetes 5.1.8
  nodes-proxy              9   kubescape C-0279; CIS AKS 4.1.9
  bind, escalate           8   kubescape C-0191; CIS Kubernetes 5.1.8
  csr-approval             8   kubescape C-0280; CIS AKS 4.1.10
  secrets-read             8   kubescape C-0015, C-0186; CIS AKS 4.1.2
  serviceaccount-token     8   kubescape C-0282; CIS AKS 4.1.12
  create-pods              7   kubescape C-0188; CIS AKS 4.1.4 (pods, or create/update/patch
                               Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs,
                               CronJobs, ReplicationControllers: their controllers make pods)
  exec, attach             7   kubescape C-0002 (exec; attach has no control, same reach)
  portforward              5   kubescape C-0063
  wildcard                 5   kubescape C-0187; CIS AKS 4.1.3 (`*` in verbs or resources)

Scores are ours (how directly the right leads to cluster-admin); kubescape's base scores are
lower and flatter (5-8). A row's score is its risk's, -1 when a RoleBinding limits it to one
namespace other than kube-system, -2 when the rule names its objects (resourceNames: narrower,
still listed), +1 when the subject is everyone or every service account (system:authenticated,
system:unauthenticated, system:anonymous, system:serviceaccounts[:<ns>]; kubescape C-0265),
within 1..10; the severity is kubescape's band (checks.severity: 9+ critical, 7-8 high, 4-6
medium). A rule granting every verb on every resource of every group is one row,
`cluster-admin` (ClusterRoleBinding) or `namespace-admin` (RoleBinding; same score), and no
other row of that rule. `exec`, `attach` and `portforward` count `get` as well as `create`: a
WebSocket upgrade needed only `get` before Kubernetes 1.35 (and still does where the
AuthorizePodWebsocketUpgradeCreatePermission gate is off). `csr-approval` needs update on
certificatesigningrequests/approval and, as the CertificateApproval admission plugin checks,
approve on signers held by the same subject or a group it is known to be in (implicit groups
only: other memberships are unknown to the cluster). Where kubescape differs: its rules match
names in the rule without the authorizer's semantics, so it counts `pods/*` as exec and
RoleBindings as granting cluster-scoped rights (nodes/proxy, CSR approval, impersonating users);
here neither grants anything.

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
from dataclasses import dataclass, field

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


# The user-facing bootstrap ClusterRoles of Kubernetes v1.36.3
# (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/cluster-roles.yaml); apiGroups are
# space-separated, "" is the core group.
BUILTIN_CLUSTER_ROLES = [
    _builtin("cluster-admin", [_rule("*", "*", "*"), {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
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
        return any(url == "*" or url == request.path
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
    """The subject and the groups it is in: the implicit ones and `groups` (names)."""
    kind, _, rest = subject.partition("/")
    found = {subject, *(f"Group/{g}" for g in groups)}
    if subject == "User/system:anonymous":
        return found | {"Group/system:unauthenticated"}
    if kind == "ServiceAccount":
        found |= {"Group/system:serviceaccounts",
                  f"Group/system:serviceaccounts:{rest.split('/', 1)[0]}"}
    if kind in ("User", "ServiceAccount"):
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

@dataclass(frozen=True)
class Probe:
    """A request a risky right allows; `namespaced`: a RoleBinding can grant it."""

    request: Request
    namespaced: bool = True


@dataclass(frozen=True)
class Risk:
    name: str
    score: float
    public_ids: str
    what: str
    probes: tuple[Probe, ...] = ()


def _probes(verbs: str, group: str, resources: str, namespaced: bool = True) -> list[Probe]:
    found = []
    for verb in verbs.split():
        for item in resources.split():
            resource, _, sub = item.partition("/")
            found.append(Probe(Request(verb, resource, sub, group), namespaced))
    return found


WORKLOADS = [*_probes("create", "", "pods replicationcontrollers"),
             *_probes("update patch", "", "replicationcontrollers"),
             *_probes("create update patch", "apps",
                      "deployments replicasets statefulsets daemonsets"),
             *_probes("create update patch", "batch", "jobs cronjobs")]
RISKS = [
    Risk("cluster-admin", 10, "kubescape C-0035, C-0185; CIS AKS 4.1.1 (CIS Kubernetes 5.1.1)",
         "every verb on every resource of every API group (`*` on `*`)"),
    Risk("impersonate", 9, "kubescape C-0065, C-0191; CIS Kubernetes 5.1.8",
         "impersonate users, groups, uids (cluster-wide) or service accounts",
         (*_probes("impersonate", "", "users groups", namespaced=False),
          *_probes("impersonate", "authentication.k8s.io", "uids", namespaced=False),
          *_probes("impersonate", "", "serviceaccounts"))),
    Risk("nodes-proxy", 9, "kubescape C-0279; CIS AKS 4.1.9",
         "the kubelet API through nodes/proxy (exec into any pod of the node)",
         tuple(_probes("get create", "", "nodes/proxy", namespaced=False))),
    Risk("bind", 8, "kubescape C-0191; CIS Kubernetes 5.1.8",
         "bind roles beyond one's own rights",
         tuple(_probes("bind", RBAC, "roles clusterroles"))),
    Risk("escalate", 8, "kubescape C-0191; CIS Kubernetes 5.1.8",
         "write roles with rights one does not hold",
         (*_probes("escalate", RBAC, "roles"),
          *_probes("escalate", RBAC, "clusterroles", namespaced=False))),
    Risk("csr-approval", 8, "kubescape C-0280; CIS AKS 4.1.10",
         "approve CertificateSigningRequests (client certificates for any user)",
         tuple(_probes("update", "certificates.k8s.io", "certificatesigningrequests/approval",
                       namespaced=False))),
    Risk("secrets-read", 8, "kubescape C-0015, C-0186; CIS AKS 4.1.2",
         "get, list or watch Secrets", tuple(_probes("get list watch", "", "secrets"))),
    Risk("serviceaccount-token", 8, "kubescape C-0282; CIS AKS 4.1.12",
         "create tokens for service accounts",
         tuple(_probes("create", "", "serviceaccounts/token"))),
    Risk("create-pods", 7, "kubescape C-0188; CIS AKS 4.1.4",
         "create pods, or create or change workloads whose controllers create them",
         tuple(WORKLOADS)),
    Risk("exec", 7, "kubescape C-0002", "run commands in containers (pods/exec)",
         tuple(_probes("create get", "", "pods/exec"))),
    Risk("attach", 7, "(no kubescape control; same reach as exec)",
         "attach to a container's console (pods/attach)",
         tuple(_probes("create get", "", "pods/attach"))),
    Risk("portforward", 5, "kubescape C-0063", "forward ports into pods (pods/portforward)",
         tuple(_probes("create get", "", "pods/portforward"))),
    Risk("wildcard", 5, "kubescape C-0187; CIS AKS 4.1.3",
         "`*` in verbs or resources (grants what future resources and verbs add)"),
]
NAMESPACE_ADMIN = "namespace-admin"
BASE_SCORES = {r.name: r.score for r in RISKS} | {NAMESPACE_ADMIN: RISKS[0].score}
_SIGNERS = Request("approve", "signers", "", "certificates.k8s.io")


def grants_all(rule: dict) -> bool:
    """`*` verbs on `*` resources in `*` API groups, for any name: cluster-admin's rule."""
    return ("*" in (rule.get("verbs") or ()) and "*" in (rule.get("resources") or ())
            and "*" in (rule.get("apiGroups") or ()) and not rule.get("resourceNames"))


def rule_risks(rule: dict, namespaced: bool) -> list[tuple[str, bool]]:
    """(risk name, limited to named objects) for one rule bound by a RoleBinding (`namespaced`)
    or a ClusterRoleBinding."""
    if grants_all(rule):
        return [(NAMESPACE_ADMIN if namespaced else "cluster-admin", False)]
    if rule.get("nonResourceURLs"):
        return []
    found = []
    for risk in RISKS:
        hit = any((p.namespaced or not namespaced) and rule_allows(rule, p.request, True)
                  for p in risk.probes)
        if hit:
            found.append((risk.name, bool(rule.get("resourceNames"))))
    if "*" in (rule.get("verbs") or ()) or "*" in (rule.get("resources") or ()):
        found.append(("wildcard", False))
    return found


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


def risks(objects: dict[str, list[dict]], *, from_files: bool = False,
          include_system: bool = False, policy: Policy | None = None) -> list[Row]:
    """The RBAC risk table of the whole view: one row per subject, binding and risk, with the
    first rule of the role that grants it at the highest score."""
    policy = policy or Policy.of(objects, from_files)
    cache: dict[tuple[int, bool], list[tuple[str, bool]]] = {}
    texts: dict[int, str] = {}
    rows: dict[tuple[str, str, str], Row] = {}
    approvers: dict[str, str] = {}  # subject -> binding holding approve on signers
    for binding in policy.bindings:
        if binding.kind == "ClusterRoleBinding" and any(
                rule_allows(r, _SIGNERS, True) for r in binding.rules):
            for subject in binding.subjects:
                approvers.setdefault(subject, binding.key)
    for binding in policy.bindings:
        namespaced = binding.kind == "RoleBinding"
        system = {s: is_system(s, binding.key) for s in binding.subjects}
        if not include_system and all(system.values()):
            continue
        for rule in binding.rules:
            key = (id(rule), namespaced)
            if key not in cache:
                cache[key] = rule_risks(rule, namespaced)
            if not cache[key]:
                continue
            if id(rule) not in texts:
                texts[id(rule)] = rule_text(rule)
            text = texts[id(rule)]
            for subject in binding.subjects:
                for name, named in cache[key]:
                    row_text = text
                    if name == "csr-approval":
                        via = next((approvers[i] for i in sorted(identities(subject))
                                    if i in approvers), None)
                        if via is None:
                            continue
                        row_text = f"{text}; approve on signers via {via}"
                    value = score(BASE_SCORES[name], binding, subject, named)
                    kept = rows.get((subject, binding.key, name))
                    if kept is None or value > kept.score:
                        rows[subject, binding.key, name] = Row(
                            subject, binding.key, binding.role, row_text, name,
                            severity(value), value, system[subject])
    return _finish(rows.values(), include_system)


def _request(verb: str, resource: str, subresource: str | None, api_group: str,
             name: str | None) -> Request:
    if resource.startswith("/"):
        return Request(verb, path=resource)
    if subresource is None and "/" in resource:
        resource, _, subresource = resource.partition("/")
    return Request(verb, resource, subresource or "", api_group, name or "")


def _asked_risk(request: Request) -> Risk | None:
    """The catalogued risk this very request exercises, if any."""
    bare = Request(request.verb, request.resource, request.subresource, request.api_group)
    for risk in RISKS:
        if any(p.request == bare for p in risk.probes):
            return risk
    return None


def _grants(policy: Policy, request: Request, namespace: str | None,
            cluster_scoped: bool) -> Iterator[tuple[Binding, dict]]:
    """(binding, first rule of it allowing the request) for the bindings that apply."""
    for binding in policy.bindings:
        if binding.kind == "RoleBinding":
            if cluster_scoped or (namespace is not None and binding.namespace != namespace):
                continue
        rule = next((r for r in binding.rules if rule_allows(r, request)), None)
        if rule is not None:
            yield binding, rule


def _is_cluster_scoped(request: Request, namespace: str | None) -> bool:
    if request.path:
        return True
    if request.resource == "namespaces" and namespace:
        return False  # a request on the namespace object itself is in that namespace
    if request.verb == "bind" and request.resource == "clusterroles":
        return False  # checked in the namespace of the RoleBinding being created
    return request.resource in CLUSTER_SCOPED


def who_can(objects: dict[str, list[dict]], verb: str, resource: str,
            namespace: str | None = None, subresource: str | None = None, api_group: str = "",
            *, name: str | None = None, from_files: bool = False, include_system: bool = False,
            policy: Policy | None = None) -> list[Row]:
    """The subjects that can `verb` `resource` (`pods`, `pods/exec`, or a URL path such as
    `/metrics`), one row per granting binding with the first rule of it that allows it (the
    authorizer's order). `namespace=None`: in any namespace (ClusterRoleBindings, and every
    RoleBinding unless the resource is cluster-scoped); a name: only the bindings that apply
    there. `name=None` asks without an object name, which resourceNames-limited rules never
    allow. `risk` is the request; `severity` that of the catalogued risk it is, else `info`."""
    policy = policy or Policy.of(objects, from_files)
    request = _request(verb, resource, subresource, api_group, name)
    asked = _asked_risk(request)
    label = request.path or (request.resource
                             + (f".{request.api_group}" if request.api_group else "")
                             + (f"/{request.subresource}" if request.subresource else ""))
    rows = []
    for binding, rule in _grants(policy, request, namespace,
                                 _is_cluster_scoped(request, namespace)):
        for subject in binding.subjects:
            if asked:
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
