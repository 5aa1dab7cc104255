"""Every escalation and lateral-movement path of the RBAC risk table (analysis.rbac.RISKS), one
case each: a binding that grants exactly the path gives a row naming it; the same rule narrowed
(a verb that does not reach it, resourceNames that exclude it, a RoleBinding for a
cluster-scoped resource, another namespace) gives no row and who-can finds nobody; who-can finds
the subject through a group and an aggregated ClusterRole. Then the review's H3 reproduction,
the built-in ClusterRoles, harmless Roles, and kubescape's published cases for the controls
added with these paths (`C-0xxx <rule>/<case>`, recreated as our own objects; `differs` where
the authorizer disagrees with kubescape's expected result)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from aks_runbook.analysis import rbac
from check_views import cluster_view, files_view
from test_rbac import RBAC, crb, crole, group, rb, role, rule, user

ADM = "admissionregistration.k8s.io"
CERTS = "certificates.k8s.io"
GATEWAY = "gateway.networking.k8s.io"
AGG = f"{RBAC}/aggregate-to-"
JANE = user("jane")
CLUSTER = None  # a ClusterRoleBinding; a string: a RoleBinding in that namespace


@dataclass(frozen=True)
class Path:
    label: str
    risk: str
    rules: tuple[dict, ...]  # the role's rules: exactly the path
    where: str | None  # CLUSTER or the RoleBinding's namespace
    who: tuple[str, str, str | None, str | None]  # verb, resource as kubectl spells it,
    #                                               namespace, object name
    narrowed: tuple[tuple[str, tuple[dict, ...], str | None], ...] = ()


def P(label, risk, rules, where, who, *narrowed):  # noqa: N802 - a table row
    rules = rules if isinstance(rules, tuple) else (rules,)
    return Path(label, risk, rules, where, who,
                tuple((why, r if isinstance(r, tuple) else (r,), w) for why, r, w in narrowed))


APPROVAL = rule(CERTS, "certificatesigningrequests/approval", "update")
SIGNERS = rule(CERTS, "signers", "approve", "kubernetes.io/kube-apiserver-client")
STATUS = rule(CERTS, "certificatesigningrequests/status", "update")
SIGN = rule(CERTS, "signers", "sign")

PATHS = [
    # Kubernetes "RBAC Good Practices": privilege escalation risks
    P("secrets list", "secrets-read", rule("-", "secrets", "list"), "shop",
      ("list", "secrets", "shop", None),
      ("create and update only", rule("-", "secrets", "create update"), "shop"),
      ("another API group", rule("apps", "secrets", "list"), "shop"),
      ("configmaps instead", rule("-", "configmaps", "get list watch"), "shop")),
    P("secrets watch cluster-wide", "secrets-read", rule("-", "secrets", "watch"), CLUSTER,
      ("watch", "secrets", None, None)),
    P("create pods", "create-pods", rule("-", "pods", "create"), "shop",
      ("create", "pods", "shop", None),
      ("get and list pods", rule("-", "pods", "get list watch"), "shop"),
      ("pods/log", rule("-", "pods/log", "create get"), "shop")),
    # a running pod's image is mutable (Kubernetes docs "Pods": Pod update and replacement), so
    # patching pods runs one's own image as their service accounts (rbac-tool R2 counts it)
    P("patch a running pod's image", "create-pods", rule("-", "pods", "patch"), "shop",
      ("patch", "pods", "shop", None),
      ("pods/status only", rule("-", "pods/status", "update patch"), "shop"),
      ("read only", rule("-", "pods", "get list watch"), "shop")),
    P("update pods cluster-wide", "create-pods", rule("-", "pods", "update"), CLUSTER,
      ("update", "pods", None, None)),
    *[P(f"workload controller {res}.{grp or 'core'}", "create-pods", rule(grp or "-", res, verb),
        "shop", (verb, f"{res}.{grp}" if grp else res, "shop", None),
        ("read only", rule(grp or "-", res, "get list watch"), "shop"),
        (f"{res}/scale", rule(grp or "-", f"{res}/scale", verb), "shop"))
      for grp, res, verb in [("apps", "deployments", "create"), ("apps", "replicasets", "patch"),
                             ("apps", "statefulsets", "update"), ("apps", "daemonsets", "create"),
                             ("batch", "jobs", "create"), ("batch", "cronjobs", "patch"),
                             ("", "replicationcontrollers", "create")]],
    P("persistentvolumes create", "persistent-volumes", rule("-", "persistentvolumes", "create"),
      CLUSTER, ("create", "persistentvolumes", None, None),
      ("a RoleBinding (cluster-scoped)", rule("-", "persistentvolumes", "create"), "shop"),
      ("get only", rule("-", "persistentvolumes", "get list"), CLUSTER),
      ("resourceNames: a create carries no name",
       rule("-", "persistentvolumes", "create", "hostpath-pv"), CLUSTER),
      ("claims instead", rule("-", "persistentvolumeclaims", "create"), "shop")),
    P("nodes/proxy get", "nodes-proxy", rule("-", "nodes/proxy", "get"), CLUSTER,
      ("get", "nodes/proxy", None, None),
      ("a RoleBinding (cluster-scoped)", rule("-", "nodes/proxy", "get create"), "kube-system"),
      ("nodes, not their proxy", rule("-", "nodes", "get list"), CLUSTER)),
    P("escalate clusterroles", "escalate", rule(RBAC, "clusterroles", "escalate"), CLUSTER,
      ("escalate", f"clusterroles.{RBAC}", None, None),
      ("a RoleBinding (cluster-scoped)", rule(RBAC, "clusterroles", "escalate"), "shop"),
      ("update only", rule(RBAC, "clusterroles roles", "create update"), CLUSTER)),
    P("bind clusterroles in a namespace", "bind", rule(RBAC, "clusterroles", "bind"), "shop",
      ("bind", f"clusterroles.{RBAC}", "shop", None),
      ("get only", rule(RBAC, "clusterroles", "get"), "shop"),
      ("create rolebindings", rule(RBAC, "rolebindings", "create"), "shop")),
    P("impersonate users", "impersonate", rule("-", "users", "impersonate"), CLUSTER,
      ("impersonate", "users", None, None),
      ("a RoleBinding (cluster-scoped)", rule("-", "users groups", "impersonate"), "shop"),
      ("get users", rule("-", "users", "get"), CLUSTER)),
    P("impersonate groups", "impersonate", rule("-", "groups", "impersonate"), CLUSTER,
      ("impersonate", "groups", None, None)),
    P("impersonate uids", "impersonate", rule("authentication.k8s.io", "uids", "impersonate"),
      CLUSTER, ("impersonate", "uids.authentication.k8s.io", None, None),
      ("the core group", rule("-", "uids", "impersonate"), CLUSTER)),
    P("impersonate userextras", "impersonate",
      rule("authentication.k8s.io", "userextras/scopes", "impersonate"), CLUSTER,
      ("impersonate", "userextras.authentication.k8s.io/scopes", None, None),
      ("a RoleBinding (cluster-scoped)",
       rule("authentication.k8s.io", "userextras/scopes", "impersonate"), "shop")),
    P("impersonate serviceaccounts", "impersonate",
      rule("-", "serviceaccounts", "impersonate"), "shop",
      ("impersonate", "serviceaccounts", "shop", None),
      ("create serviceaccounts", rule("-", "serviceaccounts", "create get"), "shop")),
    P("CSR approval with approve on signers", "csr-approval", (APPROVAL, SIGNERS), CLUSTER,
      ("update", f"certificatesigningrequests.{CERTS}/approval", None, None),
      ("no approve on signers", APPROVAL, CLUSTER),
      ("a RoleBinding (cluster-scoped)", (APPROVAL, SIGNERS), "shop")),
    P("CSR signing with sign on signers", "csr-signing", (STATUS, SIGN), CLUSTER,
      ("update", f"certificatesigningrequests.{CERTS}/status", None, None),
      ("no sign on signers", STATUS, CLUSTER),
      ("get status only", (rule(CERTS, "certificatesigningrequests/status", "get"), SIGN),
       CLUSTER)),
    P("serviceaccounts/token create", "serviceaccount-token",
      rule("-", "serviceaccounts/token", "create"), "shop",
      ("create", "serviceaccounts/token", "shop", None),
      ("serviceaccounts, not tokens", rule("-", "serviceaccounts", "create"), "shop")),
    P("mutatingwebhookconfigurations create", "mutating-webhooks",
      rule(ADM, "mutatingwebhookconfigurations", "create"), CLUSTER,
      ("create", f"mutatingwebhookconfigurations.{ADM}", None, None),
      ("a RoleBinding (cluster-scoped)", rule(ADM, "mutatingwebhookconfigurations", "create"),
       "kube-system"),
      ("read only", rule(ADM, "mutatingwebhookconfigurations", "get list watch"), CLUSTER)),
    P("mutatingwebhookconfigurations patch", "mutating-webhooks",
      rule(ADM, "mutatingwebhookconfigurations", "patch"), CLUSTER,
      ("patch", f"mutatingwebhookconfigurations.{ADM}", None, None)),
    P("validatingwebhookconfigurations delete", "validating-webhooks",
      rule(ADM, "validatingwebhookconfigurations", "delete"), CLUSTER,
      ("delete", f"validatingwebhookconfigurations.{ADM}", None, None),
      ("read only", rule(ADM, "validatingwebhookconfigurations", "get list"), CLUSTER)),
    P("namespaces patch cluster-wide", "namespace-labels", rule("-", "namespaces", "patch"),
      CLUSTER, ("patch", "namespaces", "team-a", None),
      ("get only", rule("-", "namespaces", "get list watch"), CLUSTER),
      ("status only", rule("-", "namespaces/status", "patch"), CLUSTER)),
    P("namespaces update of one's own namespace", "namespace-labels",
      rule("-", "namespaces", "update"), "team-a", ("update", "namespaces", "team-a", None),
      ("resourceNames name another namespace", rule("-", "namespaces", "update", "team-b"),
       "team-a")),
    P("namespaces patch of one's own namespace, by name", "namespace-labels",
      rule("-", "namespaces", "patch", "team-a"), "team-a",
      ("patch", "namespaces", "team-a", None)),
    # kubescape's further controls
    P("configmaps update in kube-system (CoreDNS)", "coredns",
      rule("-", "configmaps", "update"), "kube-system",
      ("update", "configmaps", "kube-system", "coredns"),
      ("another namespace", rule("-", "configmaps", "update patch"), "shop"),
      ("resourceNames exclude CoreDNS", rule("-", "configmaps", "update", "kube-proxy"),
       CLUSTER),
      ("get only", rule("-", "configmaps", "get list watch"), "kube-system")),
    P("configmaps patch of coredns-custom", "coredns",
      rule("-", "configmaps", "patch", "coredns-custom"), CLUSTER,
      ("patch", "configmaps", "kube-system", "coredns-custom")),
    P("delete events", "delete-events", rule("-", "events", "delete"), "shop",
      ("delete", "events", "shop", None),
      ("create events", rule("-", "events", "create patch"), "shop")),
    P("deletecollection events.k8s.io", "delete-events",
      rule("events.k8s.io", "events", "deletecollection"), CLUSTER,
      ("deletecollection", "events.events.k8s.io", None, None)),
    P("delete deployments", "delete", rule("apps", "deployments", "delete"), "shop",
      ("delete", "deployments.apps", "shop", None),
      ("delete configmaps", rule("-", "configmaps", "delete"), "shop")),
    # rbac-tool's further rules
    P("pods/ephemeralcontainers update", "ephemeral-containers",
      rule("-", "pods/ephemeralcontainers", "update"), "shop",
      ("update", "pods/ephemeralcontainers", "shop", None),
      ("get only", rule("-", "pods/ephemeralcontainers", "get"), "shop"),
      ("pods/status", rule("-", "pods/status", "patch"), "shop")),
    P("pods/exec create", "exec", rule("-", "pods/exec", "create"), "shop",
      ("create", "pods/exec", "shop", None),
      ("pods/* is no wildcard", rule("-", "pods/*", "create"), "shop")),
    P("pods/attach create", "attach", rule("-", "pods/attach", "create"), "shop",
      ("create", "pods/attach", "shop", None)),
    P("pods/portforward create", "portforward", rule("-", "pods/portforward", "create"), "shop",
      ("create", "pods/portforward", "shop", None),
      ("pods/proxy", rule("-", "pods/proxy", "get"), "shop")),
    P("storageclasses create", "storage", rule("storage.k8s.io", "storageclasses", "create"),
      CLUSTER, ("create", "storageclasses.storage.k8s.io", None, None),
      ("a RoleBinding (cluster-scoped)", rule("storage.k8s.io", "storageclasses", "create"),
       "shop")),
    P("persistentvolumes delete", "storage", rule("-", "persistentvolumes", "delete"), CLUSTER,
      ("delete", "persistentvolumes", None, None)),
    P("services create (externalIPs)", "service-traffic", rule("-", "services", "create"),
      "shop", ("create", "services", "shop", None),
      ("read only", rule("-", "services", "get list watch"), "shop")),
    P("services/status patch (load-balancer IP)", "service-traffic",
      rule("-", "services/status", "patch"), "shop",
      ("patch", "services/status", "shop", None)),
    P("endpointslices update", "service-traffic",
      rule("discovery.k8s.io", "endpointslices", "update"), "shop",
      ("update", "endpointslices.discovery.k8s.io", "shop", None),
      ("read only", rule("discovery.k8s.io", "endpointslices", "get list watch"), "shop")),
    P("endpoints create", "service-traffic", rule("-", "endpoints", "create"), "shop",
      ("create", "endpoints", "shop", None)),
    P("gateway.networking.k8s.io httproutes create", "ingress-routes",
      rule(GATEWAY, "httproutes", "create"), "shop",
      ("create", f"httproutes.{GATEWAY}", "shop", None),
      ("read only", rule(GATEWAY, "httproutes gateways", "get list watch"), "shop")),
    P("gateway.networking.k8s.io gatewayclasses patch", "ingress-routes",
      rule(GATEWAY, "gatewayclasses", "patch"), CLUSTER,
      ("patch", f"gatewayclasses.{GATEWAY}", None, None),
      ("a RoleBinding (cluster-scoped)", rule(GATEWAY, "gatewayclasses", "patch"), "shop")),
    P("ingresses create", "ingress-routes", rule("networking.k8s.io", "ingresses", "create"),
      "shop", ("create", "ingresses.networking.k8s.io", "shop", None)),
    P("networkpolicies delete", "network-policies",
      rule("networking.k8s.io", "networkpolicies", "delete"), "shop",
      ("delete", "networkpolicies.networking.k8s.io", "shop", None),
      ("read only", rule("networking.k8s.io", "networkpolicies", "get list"), "shop")),
    P("ciliumclusterwidenetworkpolicies create", "network-policies",
      rule("cilium.io", "ciliumclusterwidenetworkpolicies", "create"), CLUSTER,
      ("create", "ciliumclusterwidenetworkpolicies.cilium.io", None, None),
      ("a RoleBinding (cluster-scoped)",
       rule("cilium.io", "ciliumclusterwidenetworkpolicies", "create"), "shop")),
    P("validatingadmissionpolicybindings delete", "admission-policies",
      rule(ADM, "validatingadmissionpolicybindings", "delete"), CLUSTER,
      ("delete", f"validatingadmissionpolicybindings.{ADM}", None, None),
      ("a RoleBinding (cluster-scoped)", rule(ADM, "validatingadmissionpolicies", "update"),
       "shop"),
      ("read only", rule(ADM, "validatingadmissionpolicies", "get list watch"), CLUSTER)),
    P("validatingadmissionpolicies update", "admission-policies",
      rule(ADM, "validatingadmissionpolicies", "update"), CLUSTER,
      ("update", f"validatingadmissionpolicies.{ADM}", None, None)),
    P("customresourcedefinitions update", "crds",
      rule("apiextensions.k8s.io", "customresourcedefinitions", "update"), CLUSTER,
      ("update", "customresourcedefinitions.apiextensions.k8s.io", None, None),
      ("a RoleBinding (cluster-scoped)",
       rule("apiextensions.k8s.io", "customresourcedefinitions", "create"), "shop"),
      ("read only", rule("apiextensions.k8s.io", "customresourcedefinitions", "get list"),
       CLUSTER)),
    P("apiservices create", "apiservices", rule("apiregistration.k8s.io", "apiservices",
                                                "create"), CLUSTER,
      ("create", "apiservices.apiregistration.k8s.io", None, None),
      ("read only", rule("apiregistration.k8s.io", "apiservices", "get list"), CLUSTER)),
    P("Gatekeeper constrainttemplates delete", "policy-engines",
      rule("templates.gatekeeper.sh", "constrainttemplates", "delete"), CLUSTER,
      ("delete", "constrainttemplates.templates.gatekeeper.sh", None, None),
      ("read only", rule("templates.gatekeeper.sh", "constrainttemplates", "get list"),
       CLUSTER)),
    P("Gatekeeper constraints patch (any constraint kind)", "policy-engines",
      rule("constraints.gatekeeper.sh", "k8sazurev2blockhostnamespace", "patch"), CLUSTER,
      ("patch", "k8sazurev2blockhostnamespace.constraints.gatekeeper.sh", None, None),
      ("a RoleBinding (cluster-scoped)",
       rule("constraints.gatekeeper.sh", "k8sazurev2blockhostnamespace", "patch"), "shop")),
    P("Gatekeeper mutations assign create", "policy-engines",
      rule("mutations.gatekeeper.sh", "assign", "create"), CLUSTER,
      ("create", "assign.mutations.gatekeeper.sh", None, None)),
    P("Gatekeeper config update in gatekeeper-system", "policy-engines",
      rule("config.gatekeeper.sh", "configs", "update"), "gatekeeper-system",
      ("update", "configs.config.gatekeeper.sh", "gatekeeper-system", None),
      ("another namespace", rule("config.gatekeeper.sh", "configs", "update"), "shop")),
    P("Kyverno clusterpolicies update", "policy-engines",
      rule("kyverno.io", "clusterpolicies", "update"), CLUSTER,
      ("update", "clusterpolicies.kyverno.io", None, None),
      ("a RoleBinding (cluster-scoped)", rule("kyverno.io", "clusterpolicies", "update"),
       "shop"),
      ("read only", rule("kyverno.io", "clusterpolicies policies", "get list watch"),
       CLUSTER)),
    P("Kyverno policyexceptions create", "policy-engines",
      rule("kyverno.io", "policyexceptions", "create"), "shop",
      ("create", "policyexceptions.kyverno.io", "shop", None)),
    P("Kyverno policies delete", "policy-engines", rule("kyverno.io", "policies", "delete"),
      "shop", ("delete", "policies.kyverno.io", "shop", None)),
    # wildcards
    P("* verbs on one resource", "wildcard", rule("-", "configmaps", "*"), "shop",
      ("escalate", "configmaps", "shop", None),
      ("named verbs", rule("-", "configmaps", "get list watch create update"), "shop")),
    P("* on * in *", "cluster-admin", rule("*", "*", "*"), CLUSTER,
      ("delete", "nodes", None, None)),
    P("* on * in * in one namespace", "namespace-admin", rule("*", "*", "*"), "shop",
      ("get", "secrets", "shop", None)),
]
IDS = [p.label for p in PATHS]


def _objects(rules: tuple[dict, ...], where: str | None, *subjects: dict) -> dict:
    binding = crb("grant", "paths", *subjects) if where is CLUSTER else \
        rb("grant", where, "paths", *subjects)
    return cluster_view(crole("paths", *rules), binding)


def _who(objects: dict, query: tuple, **options) -> list[rbac.Row]:
    verb, text, namespace, name = query
    resource, sub, api_group = rbac.parse_resource(text)
    return rbac.who_can(objects, verb, resource, namespace, sub or None, api_group, name=name,
                        **options)


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_a_binding_granting_exactly_the_path_gives_its_row(path):
    rows = rbac.risks(_objects(path.rules, path.where, JANE))
    assert {(r.subject, r.risk) for r in rows} == {("User/jane", path.risk)}
    risk = {r.name: r for r in rbac.RISKS}.get(path.risk)
    expected = rbac.score(rbac.BASE_SCORES[path.risk], rbac.Binding(
        "RoleBinding" if path.where else "ClusterRoleBinding", path.where or "", "grant", "",
        [], []), "User/jane", bool(path.rules[0].get("resourceNames")))
    assert rows[0].severity == rbac.severity(expected)
    if risk is not None:
        assert risk.what and risk.public_ids  # the path in words and its sources


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_who_can_finds_the_subject_through_a_group_and_an_aggregated_role(tmp_path, path):
    part = crole("paths-part", *path.rules, labels={AGG + "paths": "true"})
    top = crole("paths", selectors=[{"matchLabels": {AGG + "paths": "true"}}])
    subjects = (group("ops"), group("system:serviceaccounts:ci"))
    binding = crb("grant", "paths", *subjects) if path.where is CLUSTER else \
        rb("grant", path.where, "paths", *subjects)
    objects = files_view(tmp_path, part, top, binding)
    rows = _who(objects, path.who, from_files=True)
    assert {(r.subject, r.role) for r in rows} == {
        ("Group/ops", "ClusterRole/paths"), ("Group/system:serviceaccounts:ci",
                                             "ClusterRole/paths")}
    verb, text, namespace, name = path.who
    resource, sub, api_group = rbac.parse_resource(text)
    ask = dict(subresource=sub or None, api_group=api_group, name=name, from_files=True)
    assert rbac.can(objects, "User/jane", verb, resource, namespace or "", groups=["ops"],
                    **ask)
    assert rbac.can(objects, "ServiceAccount/ci/bot", verb, resource, namespace or "", **ask)
    assert not rbac.can(objects, "ServiceAccount/other/bot", verb, resource, namespace or "",
                        **ask)
    assert path.risk in {r.risk for r in rbac.risks(objects, from_files=True)}


SECOND_RIGHT_MISSING = {"no approve on signers", "no sign on signers"}
NARROWED = [(p.label, why, rules, where, p.who) for p in PATHS for why, rules, where in
            p.narrowed]


@pytest.mark.parametrize("label, why, rules, where, query", NARROWED,
                         ids=[f"{n[0]}: {n[1]}" for n in NARROWED])
def test_the_rule_narrowed_so_it_no_longer_grants_the_path_gives_no_row(label, why, rules,
                                                                         where, query):
    objects = _objects(rules, where, JANE)
    assert rbac.risks(objects) == []
    if why in SECOND_RIGHT_MISSING:  # the request itself is allowed; the path needs both
        assert {r.subject for r in _who(objects, query)} == {"User/jane"}
    else:
        assert _who(objects, query) == []


def test_every_catalogued_risk_has_a_path_case_and_its_sources():
    assert {r.name for r in rbac.RISKS} <= {p.risk for p in PATHS}
    doc = rbac.__doc__
    for risk in rbac.RISKS:
        assert risk.name in doc
    for n in range(1, 16):
        assert f"R{n} " in doc  # rbac-tool's 15 rules, each mapped
    for cid in ("C-0002", "C-0007", "C-0015", "C-0031", "C-0035", "C-0036", "C-0037", "C-0039",
                "C-0063", "C-0065", "C-0185", "C-0186", "C-0187", "C-0188", "C-0191", "C-0246",
                "C-0262", "C-0265", "C-0267", "C-0272", "C-0278", "C-0279", "C-0280", "C-0281",
                "C-0282"):
        assert cid in doc


def test_who_can_rates_a_request_by_the_path_it_is():
    objects = cluster_view(crole("cm", rule("-", "configmaps", "update")), crb("cm", "cm", JANE),
                           rb("cm", "shop", "cm", group("dev")))
    coredns = rbac.who_can(objects, "update", "configmaps", "kube-system", name="coredns")
    assert [(r.subject, r.severity) for r in coredns] == [("User/jane", "high")]
    other = rbac.who_can(objects, "update", "configmaps", "kube-system", name="kube-proxy")
    assert [(r.subject, r.severity) for r in other] == [("User/jane", "info")]
    shop = rbac.who_can(objects, "update", "configmaps", "shop", name="coredns")
    assert {(r.subject, r.severity) for r in shop} == {("User/jane", "info"),
                                                       ("Group/dev", "info")}
    anywhere = rbac.who_can(objects, "update", "configmaps")  # the ClusterRoleBinding reaches
    assert {(r.subject, r.severity) for r in anywhere} == {("User/jane", "high"),  # kube-system
                                                           ("Group/dev", "info")}


def test_a_request_on_a_namespace_object_names_that_namespace():
    objects = cluster_view(crole("ns", rule("-", "namespaces", "patch", "team-a")),
                           crb("ns", "ns", JANE))
    assert [r.subject for r in rbac.who_can(objects, "patch", "namespaces", "team-a")] == [
        "User/jane"]
    assert rbac.who_can(objects, "patch", "namespaces", "team-b") == []
    assert rbac.who_can(objects, "patch", "namespaces") == []  # which one: not known


def test_the_severity_of_each_path_row():
    objects = cluster_view(crole("ns", rule("-", "namespaces", "patch", "team-a")),
                           rb("ns", "team-a", "ns", JANE))
    [row] = rbac.risks(objects)
    assert (row.risk, row.score, row.severity) == ("namespace-labels", 4, "medium")  # 7-1-2
    assert {r.name: r.severity for r in rbac.RISKS} == {
        "cluster-admin": "critical", "impersonate": "critical", "nodes-proxy": "critical",
        "mutating-webhooks": "critical", "bind": "high", "escalate": "high",
        "csr-approval": "high", "secrets-read": "high", "serviceaccount-token": "high",
        "validating-webhooks": "high", "admission-policies": "high", "apiservices": "high",
        "create-pods": "high", "exec": "high", "attach": "high", "ephemeral-containers": "high",
        "namespace-labels": "high", "persistent-volumes": "high", "policy-engines": "high",
        "coredns": "high", "csr-signing": "medium", "crds": "medium", "portforward": "medium",
        "service-traffic": "medium", "ingress-routes": "medium", "storage": "medium",
        "wildcard": "medium", "network-policies": "medium", "delete-events": "medium",
        "delete": "low"}


# -- the review's H3 -------------------------------------------------------------------------

def test_h3_the_four_missing_rights_now_give_four_rows():
    """REVIEW-03-04 H3: one ClusterRoleBinding granting patch namespaces, create
    mutatingwebhookconfigurations, update pods/ephemeralcontainers and create persistentvolumes
    gave 0 rows."""
    objects = cluster_view(
        crole("h3", rule("-", "namespaces", "patch"),
              rule(ADM, "mutatingwebhookconfigurations", "create"),
              rule("-", "pods/ephemeralcontainers", "update"),
              rule("-", "persistentvolumes", "create")),
        crb("h3", "h3", JANE))
    rows = rbac.risks(objects)
    assert [(r.risk, r.severity) for r in rows] == [
        ("mutating-webhooks", "critical"), ("ephemeral-containers", "high"),
        ("namespace-labels", "high"), ("persistent-volumes", "high")]
    assert {r.binding for r in rows} == {"ClusterRoleBinding/h3"}


# -- built-in roles and harmless Roles ---------------------------------------------------------

EDIT_IN_A_NAMESPACE = {"secrets-read", "impersonate", "serviceaccount-token", "create-pods",
                       "exec", "attach", "portforward", "service-traffic", "ingress-routes",
                       "network-policies", "delete", "delete-events"}


@pytest.mark.parametrize("name, in_namespace, cluster_wide", [
    ("view", set(), set()),
    ("edit", EDIT_IN_A_NAMESPACE, EDIT_IN_A_NAMESPACE | {"coredns"}),
    # admin adds Roles and RoleBindings, which RBAC's escalation check keeps to rights it holds
    ("admin", EDIT_IN_A_NAMESPACE, EDIT_IN_A_NAMESPACE | {"coredns"}),
    ("cluster-admin", {"namespace-admin"}, {"cluster-admin"}),
])
def test_builtin_cluster_roles(tmp_path, name, in_namespace, cluster_wide):
    objects = files_view(tmp_path, rb("team", "shop", name, group("dev")),
                         crb("ops", name, group("ops")))
    rows = rbac.risks(objects, from_files=True)
    assert {r.risk for r in rows if r.subject == "Group/dev"} == in_namespace
    assert {r.risk for r in rows if r.subject == "Group/ops"} == cluster_wide


def test_edit_reads_secrets_and_execs_as_kubernetes_documents(tmp_path):
    objects = files_view(tmp_path, rb("team", "shop", "edit", group("dev")))
    for verb, resource in (("get", "secrets"), ("create", "pods/exec"),
                           ("create", "serviceaccounts/token"), ("create", "pods")):
        assert rbac.can(objects, "User/jane", verb, resource, "shop", groups=["dev"],
                        from_files=True)
    assert not rbac.can(objects, "User/jane", "update", "pods/ephemeralcontainers", "shop",
                        groups=["dev"], from_files=True)


@pytest.mark.parametrize("rules", [
    (rule("-", "pods", "get list watch"),),
    (rule("-", "configmaps", "get list watch create update patch delete deletecollection"),),
    (rule("-", "pods/log pods/status events", "get list watch"),
     rule("apps batch", "deployments jobs", "get list watch")),
    (rule("-", "persistentvolumeclaims", "create update patch delete"),),
    (rule("-", "serviceaccounts", "get list"), rule(RBAC, "roles rolebindings", "get list")),
], ids=["pods read", "configmaps in a namespace", "the workshop's viewer", "claims",
        "read RBAC"])
def test_a_harmless_role_gives_no_row(rules):
    objects = cluster_view(role("harmless", "shop", *rules),
                           rb("harmless", "shop", "harmless", JANE, role_kind="Role"))
    assert rbac.risks(objects) == []


# -- kubescape's published cases for the controls added with these paths -----------------------

GROUPS = (group("manager"), group("dev"))
KUBESCAPE = [
    ("C-0037 rule-can-update-configmap-v1/clusterrole-clusterrolebinding",
     [crole("test", rule("*", "pods/* * users", "update")),
      crb("read-secrets-global", "test", *GROUPS)],
     "coredns", {"Group/manager", "Group/dev"}),
    ("C-0037 rule-can-update-configmap-v1/clusterrole-rolebinding",
     [crole("test", rule("-", "*", "*")), rb("pod", "kube-system", "test", JANE)],
     "coredns", {"User/jane"}),
    ("C-0037 rule-can-update-configmap-v1/role-rolebinding",
     [role("test", "kube-system", rule("-", "configmap secrets serviceaccounts services *",
                                       "list update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "coredns", {"User/jane"}),
    ("C-0278 rule-can-create-pv/clusterrole-clusterrolebinding",
     [crole("test", rule(RBAC, "pods rolebindings persistentvolumes", "create watch list")),
      crb("read-secrets-global", "test", *GROUPS)],
     "persistent-volumes", set()),
    # PersistentVolumes are cluster-scoped: the authorizer never consults a RoleBinding for them
    ("C-0278 rule-can-create-pv/clusterrole-rolebinding (differs: a RoleBinding grants no PV)",
     [crole("test", rule("-", "pods services persistentvolumes", "* watch list")),
      rb("pod", "kube-system", "test", JANE)],
     "persistent-volumes", set()),
    ("C-0278 rule-can-create-pv/role-rolebinding (differs: a RoleBinding grants no PV)",
     [role("test", "kube-system", rule("*", "rolebindings deployments pods persistentvolumes",
                                       "* watch create update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "persistent-volumes", set()),
    ("C-0281 rule-can-modify-admission-webhooks/clusterrole-clusterrolebinding",
     [crole("test", rule(RBAC, "pods rolebindings", "create watch list")),
      crb("read-secrets-global", "test", *GROUPS)],
     "mutating-webhooks", set()),
    ("C-0281 rule-can-modify-admission-webhooks/clusterrole-rolebinding (differs: "
     "webhook configurations are cluster-scoped)",
     [crole("test", rule(ADM, "validatingwebhookconfigurations mutatingwebhookconfigurations",
                         "create update delete")),
      rb("pod", "kube-system", "test", JANE)],
     "mutating-webhooks", set()),
    ("C-0281 rule-can-modify-admission-webhooks/role-rolebinding (differs: cluster-scoped)",
     [role("test", "kube-system", rule("*", "rolebindings deployments pods "
                                            "validatingwebhookconfigurations "
                                            "mutatingwebhookconfigurations",
                                       "* watch create update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "validating-webhooks", set()),
    ("C-0007 rule-excessive-delete-rights-v1/clusterrole-clusterrolebinding",
     [crole("test", rule("-", "pods secrets users", "get *")),
      crb("read-secrets-global", "test", *GROUPS)],
     "delete", {"Group/manager", "Group/dev"}),
    ("C-0007 rule-excessive-delete-rights-v1/clusterrole-rolebinding",
     [crole("test", rule("-", "*", "*")), rb("pod", "kube-system", "test", JANE)],
     "delete", {"User/jane"}),
    ("C-0007 rule-excessive-delete-rights-v1/role-rolebinding",
     [role("test", "kube-system", rule("-", "pods/portforward secrets serviceaccounts "
                                            "services *", "list delete")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "delete", {"User/jane"}),
    ("C-0031 rule-can-delete-k8s-events-v1/clusterrole-clusterrolebinding",
     [crole("test", rule("-", "pods events services", "watch delete")),
      crb("read-secrets-global", "test", *GROUPS)],
     "delete-events", {"Group/manager", "Group/dev"}),
    ("C-0031 rule-can-delete-k8s-events-v1/clusterrole-rolebinding",
     [crole("test", rule("-", "*", "*")), rb("pod", "kube-system", "test", JANE)],
     "delete-events", {"User/jane"}),
    # `*` on `*` in `*`: one namespace-admin row stands for deleting Events and everything else
    ("C-0031 rule-can-delete-k8s-events-v1/role-rolebinding (differs: namespace-admin)",
     [role("test", "kube-system", rule("*", "rolebindings deployments pods services *",
                                       "* watch create update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "namespace-admin", {"User/jane"}),
]


@pytest.mark.parametrize("case, objects, risk, subjects", KUBESCAPE, ids=[c[0] for c in KUBESCAPE])
def test_kubescape_published_cases(case, objects, risk, subjects):
    rows = rbac.risks(cluster_view(*objects))
    assert {r.subject for r in rows if r.risk == risk} == subjects


PUBLIC_INFO = crb("system:public-info-viewer", "system:public-info-viewer",
                  group("system:authenticated"), group("system:unauthenticated"))
EVERYONE_CASES = [
    # kubescape fails on `pods` among the resources; get/list/watch pods and nodes reaches no
    # path here, and `pods/*`, `nodes/*` are no wildcards
    ("C-0265 system-authenticated-allowed-to-take-over-cluster/fail (differs: read only)",
     [crole("system:viewer", rule("-", "nodes nodes/* namespaces namespaces/* pods pods/*",
                                  "get list watch")),
      crb("system:viewer", "system:viewer", group("system:authenticated"))], set()),
    ("C-0265 system-authenticated-allowed-to-take-over-cluster/success",
     [crole("system:viewer", rule("-", "configmaps", "get list watch")),
      crb("system:viewer", "system:viewer", group("system:authenticated"))], set()),
    # the same subject with a path: its row, one point higher
    ("C-0265 with secrets read", [crole("r", rule("-", "secrets", "get")),
                                  crb("r", "r", group("system:authenticated"))],
     {("Group/system:authenticated", "secrets-read", 9.0)}),
    # kubescape fails on the subject alone; the role is not in the case, so it grants nothing
    # (on a cluster it is system:public-info-viewer: get /healthz, /livez, /readyz, /version)
    ("C-0262 anonymous-access-enabled/fail (differs: the role grants no path)",
     [PUBLIC_INFO], set()),
    ("C-0262 anonymous-access-enabled/fail with the role as Kubernetes v1.36 defines it",
     [crole("system:public-info-viewer", {"nonResourceURLs": ["/healthz", "/livez", "/readyz",
                                                             "/version", "/version/"],
                                          "verbs": ["get"]}), PUBLIC_INFO], set()),
    ("C-0262 anonymous-access-enabled/success",
     [rb("pod", "default", "pod-reader", JANE, role_kind="Role")], set()),
    ("C-0262 with exec for anonymous", [crole("x", rule("-", "pods/exec", "create")),
                                        crb("x", "x", user("system:anonymous"))],
     {("User/system:anonymous", "exec", 8.0)}),
]


@pytest.mark.parametrize("case, objects, expected", EVERYONE_CASES,
                         ids=[c[0] for c in EVERYONE_CASES])
def test_kubescape_published_cases_for_everyone_subjects(case, objects, expected):
    assert {(r.subject, r.risk, r.score) for r in rbac.risks(cluster_view(*objects))} == expected


def test_csr_approval_is_listed_when_a_group_the_user_may_be_in_holds_the_signer_right():
    """Jane may update CSR approvals; approve on the signer is held by Group/pki. Whether jane
    is in pki is known to Entra ID, not the cluster, so the row is shown naming the group; a
    service account's groups are known (implicit only), so it gets no row."""
    objects = cluster_view(crole("approve", APPROVAL), crole("signer", SIGNERS),
                           crb("approvers", "approve", JANE,
                               {"kind": "ServiceAccount", "name": "bot", "namespace": "ci"}),
                           crb("pki", "signer", group("pki")))
    rows = [r for r in rbac.risks(objects) if r.risk == "csr-approval"]
    assert [(r.subject, r.severity) for r in rows] == [("User/jane", "high")]
    assert "held by Group/pki (ClusterRoleBinding/pki): a member has both" in rows[0].rule
