"""Posture checks: one catalog, each check a function of the cluster's state.

A check reads one view of Kubernetes objects (listed from a cluster, or loaded from manifest
files) and, for Azure-level settings, the cluster's configuration: `az aks show` JSON on AKS, or
the planned configuration on plan-only targets. It returns one Finding per resource it judged:
pass, fail or not-applicable, with evidence and the fix. A kind the view could not list never
makes a check pass: the check says not-applicable and names the kind.

Each check cites the public controls it corresponds to; `differs` says where it deliberately
judges differently from them (it is shown next to the ids).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aks_runbook.severity import SEVERITY_ORDER, severity  # noqa: F401 - part of the API

STATUSES = ("pass", "fail", "not-applicable")


@dataclass(frozen=True)
class Finding:
    check: str
    title: str
    resource: str  # Kind/namespace/name, or Kind/name when cluster-scoped
    status: str
    severity: str
    evidence: str
    remediation: str
    public_ids: str
    differs: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class State:
    """What the checks read. `objects` maps a plural kind to API objects (camelCase JSON)."""

    objects: dict[str, list[dict]] = field(default_factory=dict)
    cluster: dict | None = None  # az aks show JSON, or the planned configuration
    cluster_source: str = "none"  # "az aks show" | "planned configuration" | "none"
    has_cluster: bool = True
    allowed_registries: tuple[str, ...] = ("mcr.microsoft.com",)
    namespaces: tuple[str, ...] | None = None  # limit namespaced checks to these
    origin: str = "cluster"  # "cluster": listed from the API server; "files": manifests
    floating_tags: tuple[str, ...] = ()  # tags that move (e.g. "alpine"), judged like latest

    @property
    def from_files(self) -> bool:
        return self.origin == "files"

    def unlisted(self, *kinds: str) -> list[str]:
        """The kinds among these that the view could not list. From files every kind is known
        (absent means none in the files); from a cluster a kind is known once it was listed."""
        if self.from_files:
            return []
        return [kind for kind in kinds if kind not in self.objects]

    def items(self, kind: str) -> list[dict]:
        items = self.objects.get(kind, [])
        if self.namespaces is None:
            return items
        return [i for i in items if i["metadata"].get("namespace") in (None, *self.namespaces)]


@dataclass(frozen=True)
class Check:
    id: str
    chapter: str
    title: str
    score: float
    public_ids: str
    remediation: str
    evaluate: Callable[[State, Check], list[Finding]]
    scope: str = "kubernetes"  # "kubernetes" (API objects) or "azure" (cluster configuration)
    differs: str = ""  # how this check deliberately judges differently from the cited controls
    reads: tuple[str, ...] = ()  # kinds it cannot judge without (not listed: not-applicable)
    reports: str = ""  # the resource it reports on, e.g. "Pod/*" (default: its first kind)

    @property
    def severity(self) -> str:
        return severity(self.score)

    def finding(self, resource: str, status: str, evidence: str) -> Finding:
        assert status in STATUSES, status
        return Finding(self.id, self.title, resource, status, self.severity, evidence,
                       self.remediation if status == "fail" else "", self.public_ids,
                       self.differs)

    def not_listed(self, resource: str, kinds: list[str]) -> Finding:
        return self.finding(resource, "not-applicable",
                            f"cannot judge: {', '.join(kinds)} could not be listed")


CATALOG: list[Check] = []


def check(id: str, chapter: str, title: str, score: float, public_ids: str, remediation: str,
          scope: str = "kubernetes", differs: str = "", reads: tuple[str, ...] = (),
          reports: str = ""):
    """Register a check function in the catalog. `reads`: the kinds the check cannot judge
    without; when the view could not list one, the catalog reports the check not-applicable
    for `reports` (default: every object of the first kind read) and does not run it."""

    def register(evaluate):
        CATALOG.append(Check(id, chapter, title, score, public_ids, remediation, evaluate,
                             scope, differs, reads, reports))
        return evaluate

    return register


def run(state: State, chapter: str | None = None) -> list[Finding]:
    from aks_runbook.checks import auth, checklist, maintenance, network, overview  # noqa: F401 - they register themselves

    findings = []
    for item in CATALOG:
        if chapter and not item.chapter.startswith(chapter):
            continue
        if item.scope == "kubernetes" and not state.has_cluster:
            findings.append(item.finding("Cluster", "not-applicable",
                                         "no cluster to read (plan only)"))
            continue
        if item.scope == "azure" and state.cluster is None:
            findings.append(item.finding("ManagedCluster", "not-applicable",
                                         "no cluster configuration (pass --cluster-json)"))
            continue
        if missing := state.unlisted(*item.reads):
            findings.append(item.not_listed(item.reports or every(item.reads[0]), missing))
            continue
        findings.extend(item.evaluate(state, item))
    return sorted(findings, key=lambda f: (f.check, f.resource))


def table(findings: list[Finding]):
    """Findings as a pandas DataFrame with the columns a reader expects, in a stable order;
    `differs` comes last, after the ids it qualifies."""
    import pandas as pd

    columns = ["check", "resource", "status", "severity", "evidence", "remediation",
               "public_ids", "differs"]
    return pd.DataFrame([f.as_dict() for f in findings], columns=[*columns, "title"])[columns]


def every(plural: str) -> str:
    """"pods" -> "Pod/*": every object of a kind, as a finding's resource."""
    from aks_runbook.cluster.objects import PLURALS

    return next(kind for kind, listed in PLURALS.items() if listed == plural) + "/*"


CONTAINER_FIELDS = (("containers", ""), ("initContainers", "init container"),
                    ("ephemeralContainers", "ephemeral container"))
ALL_CONTAINERS = tuple(key for key, _ in CONTAINER_FIELDS)


def containers(pod: dict, kinds: tuple[str, ...] = ALL_CONTAINERS) -> list[tuple[str, dict]]:
    """The pod's containers of these kinds (all by default: init and ephemeral ones run too),
    each with how a reader names it ("container web", "init container setup")."""
    spec = pod.get("spec") or {}
    return [(f"{label or 'container'} {c.get('name')}", c) for key, label in CONTAINER_FIELDS
            if key in kinds for c in spec.get(key) or []]


def owner(pod: dict) -> str:
    """The workload a pod belongs to (ReplicaSet/ns/name, DaemonSet/ns/name), else the pod:
    pod names end in random suffixes, their owners' names do not."""
    meta = pod["metadata"]
    ref = (meta.get("ownerReferences") or [None])[0]
    if ref:
        return f"{ref['kind']}/{meta['namespace']}/{ref['name']}"
    return resource(pod, "Pod")


def selects(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    """A Service's selector (a plain map) matches these labels; an empty one matches nothing."""
    return bool(selector) and all(labels.get(k) == v for k, v in (selector or {}).items())


def resource(obj: dict, kind: str) -> str:
    meta = obj["metadata"]
    namespace = meta.get("namespace")
    return f"{kind}/{namespace}/{meta['name']}" if namespace else f"{kind}/{meta['name']}"


def field_of(data: dict | None, path: str) -> Any:
    """A dotted path in `az aks show` JSON, accepting either casing (enableRbac, enableRBAC)."""
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        lowered = {k.lower(): v for k, v in current.items()}
        current = lowered.get(part.lower())
    return current


# ---- the findings in the reader's language ----------------------------------------------------

def N_(message: str) -> str:
    """A message the catalog translates later (marked for `python -m aks_runbook.cli.messages`)."""
    return message


# The evidence sentences the checks build most often, as templates: a finding's evidence is
# matched against them at presentation (the checks' own English output never changes). Fields
# named text* are sentences themselves and are translated in turn; the others (names, kinds,
# ranges, field paths) are carried over as they are. Evidence nothing matches stays English.
EVIDENCE = (
    N_("{text} (az aks show)"),
    N_("{text} (planned configuration)"),
    N_("cannot judge: {kinds} could not be listed"),
    N_("cannot judge: the configuration does not say {field}"),
    N_("cannot judge: the configuration does not say the OS of pool(s) {pools}"),
    N_("cannot judge: the configuration does not say the mode of pool(s) {pools}"),
    N_("no cluster to read (plan only)"),
    N_("no cluster configuration (pass --cluster-json)"),
    N_("container {name}: {text}"),
    N_("init container {name}: {text}"),
    N_("ephemeral container {name}: {text}"),
    N_("does not drop ALL"),
    N_("no seccomp profile"),
    N_("no readinessProbe"),
    N_("no requests.cpu, requests.memory, limits.cpu, limits.memory"),
    N_("no runAsNonRoot: true and no runAsUser above 0 (the image decides)"),
    N_("allowPrivilegeEscalation not set (allowed)"),
    N_("{image} has no tag (means latest)"),
    N_("no privileged container"),
    N_("no host namespace shared"),
    N_("no hostPath volume"),
    N_("no Secret in environment variables"),
    N_("no enforce label: admits privileged pods"),
    N_("no nodes to judge"),
    N_("{kind} add-on off"),
    N_("enableRbac not true"),
    N_("OIDC issuer off; workload identity off"),
    N_("no Entra ID integration (aadProfile empty)"),
    N_("control plane version not known"),
    N_("no Kubernetes version in the configuration"),
    N_("upgradeChannel not set (AKS's default is none: no automatic upgrades)"),
    N_("nodeOsUpgradeChannel not set"),
    N_("ServiceAccount {name} not found among the files: the token is mounted"),
    N_("no Secret of type kubernetes.io/service-account-token among the files"),
    N_("{count} replica: a drain always interrupts it (run 2 or more)"),
    N_("exposed through LoadBalancer Service {name}"),
    N_("selector {selector} matches no pod or pod template in the files"),
    N_("selector {selector} matches {workload} (from files: pod templates, readiness not "
       "known)"),
    N_("cluster-admin for {subject} (cluster-wide)"),
    N_("no authorized IP ranges: the public API server is open to any address"),
    N_("private cluster: no public endpoint to restrict (see AKS-NET-009)"),
    N_("no policy engine: NetworkPolicies are not enforced"),
    N_("no tls section: plain HTTP only"),
    N_("no tier set (Free by default): no uptime SLA"),
    N_("no upgrade channel"),
    N_("no Windows node pool"),
    N_("no minAvailable or maxUnavailable"),
    N_("no kured DaemonSet among the pods"),
    N_("local accounts enabled: az aks get-credentials --admin gives a cluster-admin "
       "certificate that bypasses Entra ID"),
    N_("no managed identity (identity.type {kind}, {principal}): a service principal's secret "
       "expires and is stored on every node"),
    N_("no channel upgrades on its own (upgradeChannel {upgrade}, nodeOsUpgradeChannel "
       "{nodeos}): nothing for a window to schedule"),
    N_("authorized IP ranges {ranges} admit the Internet: {detail}"),
    N_("{direction}: {names} allows all"),
    N_("isolated for ingress and egress, no allow-all rule"),
    N_("no node labelled kubernetes.azure.com/mode=system (AKS labels every node of a System "
       "pool so; none in this view)"),
    N_("authorized IP ranges {ranges}: {text}, not the Internet ({text_note})"),
    N_("IPv{version} {count} public addresses"),
    N_("more public addresses than {text_v4} for IPv4 or {text_v6} for IPv6 count as the "
       "Internet"),
    N_("a {prefix} ({count} addresses)"),
    N_("private ranges {ranges} are not Internet addresses"),
    N_("{text} ({count} policies in the namespace)"),
    N_("no default deny for {direction}"),
    N_("default deny: {names}"),
    N_("{direction}: no policy selects it"),
    N_("not exposed outside the cluster"),
    N_("no binding gives cluster-admin or * on * beyond {who} ({count} bindings checked)"),
    N_("{kind} {name} is not among the files: cannot judge its rules"),
    N_("images {images}"),
    N_("System pool(s) {system}; applications on User pool(s) {user}"),
    N_("hostPath {path} (volume {volume}, {text})"),
    N_("read-only"),
    N_("not mounted"),
    N_("writable by {names}"),
    N_("every container drops ALL (adds at most NET_BIND_SERVICE)"),
    N_("every container runs as non-root"),
    N_("allowPrivilegeEscalation false in every container"),
    N_("every container under RuntimeDefault or Localhost seccomp"),
    N_("every image pinned to a tag or digest"),
    N_("requests and limits set for cpu and memory"),
    N_("every container has a readinessProbe"),
    N_("neither the pod nor ServiceAccount {name} sets automountServiceAccountToken: false"),
    N_("automountServiceAccountToken: false on the pod"),
    N_("ServiceAccount {name} sets automountServiceAccountToken: false"),
    N_("enforce: {level} (version {version})"),
    N_("managed Entra ID integration with Azure RBAC"),
    N_("disableLocalAccounts true, Entra ID integration on"),
    N_("enableRbac true"),
    N_("identity.type {kind} but no identityProfile.kubeletidentity: kubelet has no managed "
       "identity (upgrade the node pools)"),
    N_("OIDC issuer and workload identity on"),
    N_("azurepolicy add-on on"),
    N_("add-on on, rotation every {interval}"),
    N_("control plane {version}: {minor} is in AKS support ({supported}, as of {date})"),
    N_("kubelet {version}: {minor} is in AKS support ({supported}, as of {date})"),
    N_("{what} version {version} is not a version"),
    N_("pool {version} vs control plane {control}: {text}"),
    N_("kubelet {version} vs control plane {control}: {text}"),
    N_("same minor"),
    N_("{count} minor(s) behind"),
    N_("maintenance configurations not known: they are not in az aks show JSON (add az aks "
       "maintenanceconfiguration list as maintenanceConfigurations)"),
    N_("Container Insights (monitoring add-on) on"),
    N_("Container Insights (monitoring add-on) off: container logs stay on the nodes and rotate "
       "away"),
    N_("httpApplicationRouting add-on not enabled"),
)


def messages() -> list[tuple[str, str]]:
    """The check catalog's texts to translate (they are plain strings given to @check):
    (message, "check:<id>") for each title, remediation and differs; and the plan rules'
    titles and remediation (checks.plan.messages)."""
    from aks_runbook.checks import auth, checklist, maintenance, network, overview  # noqa: F401 - they register themselves
    from aks_runbook.checks import plan as plan_rules

    return [(text, f"check:{item.id}") for item in CATALOG
            for text in (item.title, item.remediation, item.differs) if text
            ] + plan_rules.messages()


def localized(finding: Finding, language: str | None = None,
              templates: tuple[str, ...] = ()) -> Finding:
    """The finding for a reader of `language` (the current one by default): title,
    remediation, differs and (where a template matches) evidence translated; the check id,
    resource, status, severity and public ids as they are. English: the finding itself."""
    import dataclasses

    from aks_runbook import i18n

    lang = i18n.checked(language or i18n.language())
    if lang == "en":
        return finding
    return dataclasses.replace(
        finding, title=i18n.gettext(finding.title, lang),
        remediation=i18n.gettext(finding.remediation, lang),
        differs=i18n.gettext(finding.differs, lang),
        evidence=i18n.by_template(finding.evidence, templates or EVIDENCE, lang))


def localized_check(item: Check, language: str | None = None) -> Check:
    """A catalog entry with its title, remediation and differs in `language`."""
    import dataclasses

    from aks_runbook import i18n

    lang = i18n.checked(language or i18n.language())
    if lang == "en":
        return item
    return dataclasses.replace(item, title=i18n.gettext(item.title, lang),
                               remediation=i18n.gettext(item.remediation, lang),
                               differs=i18n.gettext(item.differs, lang))


def localized_all(findings: list[Finding], language: str | None = None,
                  templates: tuple[str, ...] = ()) -> list[Finding]:
    return [localized(f, language, templates) for f in findings]
