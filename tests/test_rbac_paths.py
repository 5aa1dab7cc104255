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
from test_rbac import RBAC, crb, crole, group, rb, role, rows_of, rule, sa, user, who_answers

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
# narrowed so that the rule still reads like the path: a low row naming it, granting nothing
READS_LIKE_A_GRANT = {"a RoleBinding (cluster-scoped)", "pods/* is no wildcard"}
NARROWED = [(p.label, p.risk, why, rules, where, p.who) for p in PATHS
            for why, rules, where in p.narrowed]


@pytest.mark.parametrize("label, risk, why, rules, where, query", NARROWED,
                         ids=[f"{n[0]}: {n[2]}" for n in NARROWED])
def test_the_rule_narrowed_so_it_no_longer_grants_the_path_gives_no_row(label, risk, why,
                                                                         rules, where, query):
    objects = _objects(rules, where, JANE)
    rows = rbac.risks(objects)
    if why in READS_LIKE_A_GRANT:
        assert {(r.subject, r.risk, r.severity) for r in rows} == {
            ("User/jane", "ineffective-grant", "low")}
        assert risk in {r.path for r in rows}
        named = next(r for r in rows if r.path == risk)
        assert f"names {risk} (" in named.rule and "grant" in named.rule.split(risk, 1)[1]
    else:
        assert rows == []
    if why in SECOND_RIGHT_MISSING:  # the request itself is allowed; the path needs both
        assert {r.subject for r in _who(objects, query)} == {"User/jane"}
    else:
        assert _who(objects, query) == []


# rows only everyone (everyone-reads-workloads) or anonymous requests (anonymous-access) get:
# their own tests below
SUBJECT_RISKS = {"everyone-reads-workloads", "anonymous-access"}


def test_every_catalogued_risk_has_a_path_case_and_its_sources():
    assert {r.name for r in rbac.RISKS} - SUBJECT_RISKS <= {p.risk for p in PATHS}
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
        "coredns": "high", "csr-signing": "medium", "crds": "medium",
        "anonymous-access": "medium", "everyone-reads-workloads": "medium",  # +1: high
        "portforward": "medium",
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
BOTH, NOBODY = {"Group/manager", "Group/dev"}, set()
# (case, objects, risk, its subjects, who-can: verb, resource, namespace, subjects); a risk
# `ineffective-grant:<path>` is the low row that names <path> and grants nothing
KUBESCAPE = [
    ("C-0037 rule-can-update-configmap-v1/clusterrole-clusterrolebinding",
     [crole("test", rule("*", "pods/* * users", "update")),
      crb("read-secrets-global", "test", *GROUPS)],
     "coredns", BOTH, ("update", "configmaps", "kube-system", BOTH)),
    ("C-0037 rule-can-update-configmap-v1/clusterrole-rolebinding",
     [crole("test", rule("-", "*", "*")), rb("pod", "kube-system", "test", JANE)],
     "coredns", {"User/jane"}, ("patch", "configmaps", "kube-system", {"User/jane"})),
    ("C-0037 rule-can-update-configmap-v1/role-rolebinding",
     [role("test", "kube-system", rule("-", "configmap secrets serviceaccounts services *",
                                       "list update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "coredns", {"User/jane"}, ("update", "configmaps", "kube-system", {"User/jane"})),
    ("C-0278 rule-can-create-pv/clusterrole-clusterrolebinding",
     [crole("test", rule(RBAC, "pods rolebindings persistentvolumes", "create watch list")),
      crb("read-secrets-global", "test", *GROUPS)],
     "persistent-volumes", NOBODY, ("create", "persistentvolumes", None, NOBODY)),
    # PersistentVolumes are cluster-scoped: the authorizer never consults a RoleBinding for
    # them, so who-can finds nobody; the binding reads like a grant: a low row says it is none
    ("C-0278 rule-can-create-pv/clusterrole-rolebinding (differs: ineffective-grant, low)",
     [crole("test", rule("-", "pods services persistentvolumes", "* watch list")),
      rb("pod", "kube-system", "test", JANE)],
     "ineffective-grant:persistent-volumes", {"User/jane"},
     ("create", "persistentvolumes", None, NOBODY)),
    ("C-0278 rule-can-create-pv/clusterrole-rolebinding: no persistent-volumes row",
     [crole("test", rule("-", "pods services persistentvolumes", "* watch list")),
      rb("pod", "kube-system", "test", JANE)],
     "persistent-volumes", NOBODY, ("create", "persistentvolumes", "kube-system", NOBODY)),
    ("C-0278 rule-can-create-pv/role-rolebinding (differs: ineffective-grant, low)",
     [role("test", "kube-system", rule("*", "rolebindings deployments pods persistentvolumes",
                                       "* watch create update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "ineffective-grant:persistent-volumes", {"User/jane"},
     ("create", "persistentvolumes", None, NOBODY)),
    ("C-0281 rule-can-modify-admission-webhooks/clusterrole-clusterrolebinding",
     [crole("test", rule(RBAC, "pods rolebindings", "create watch list")),
      crb("read-secrets-global", "test", *GROUPS)],
     "mutating-webhooks", NOBODY,
     ("create", f"mutatingwebhookconfigurations.{ADM}", None, NOBODY)),
    ("C-0281 rule-can-modify-admission-webhooks/clusterrole-rolebinding (differs: "
     "ineffective-grant, low)",
     [crole("test", rule(ADM, "validatingwebhookconfigurations mutatingwebhookconfigurations",
                         "create update delete")),
      rb("pod", "kube-system", "test", JANE)],
     "ineffective-grant:mutating-webhooks", {"User/jane"},
     ("update", f"mutatingwebhookconfigurations.{ADM}", None, NOBODY)),
    ("C-0281 rule-can-modify-admission-webhooks/clusterrole-rolebinding: validating",
     [crole("test", rule(ADM, "validatingwebhookconfigurations mutatingwebhookconfigurations",
                         "create update delete")),
      rb("pod", "kube-system", "test", JANE)],
     "ineffective-grant:validating-webhooks", {"User/jane"},
     ("delete", f"validatingwebhookconfigurations.{ADM}", None, NOBODY)),
    ("C-0281 rule-can-modify-admission-webhooks/role-rolebinding (differs: ineffective-grant, "
     "low)",
     [role("test", "kube-system", rule("*", "rolebindings deployments pods "
                                            "validatingwebhookconfigurations "
                                            "mutatingwebhookconfigurations",
                                       "* watch create update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "ineffective-grant:validating-webhooks", {"User/jane"},
     ("create", f"validatingwebhookconfigurations.{ADM}", None, NOBODY)),
    ("C-0007 rule-excessive-delete-rights-v1/clusterrole-clusterrolebinding",
     [crole("test", rule("-", "pods secrets users", "get *")),
      crb("read-secrets-global", "test", *GROUPS)],
     "delete", BOTH, ("delete", "pods", "shop", BOTH)),
    ("C-0007 rule-excessive-delete-rights-v1/clusterrole-rolebinding",
     [crole("test", rule("-", "*", "*")), rb("pod", "kube-system", "test", JANE)],
     "delete", {"User/jane"}, ("delete", "secrets", "kube-system", {"User/jane"})),
    ("C-0007 rule-excessive-delete-rights-v1/role-rolebinding",
     [role("test", "kube-system", rule("-", "pods/portforward secrets serviceaccounts "
                                            "services *", "list delete")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "delete", {"User/jane"}, ("delete", "services", "kube-system", {"User/jane"})),
    ("C-0031 rule-can-delete-k8s-events-v1/clusterrole-clusterrolebinding",
     [crole("test", rule("-", "pods events services", "watch delete")),
      crb("read-secrets-global", "test", *GROUPS)],
     "delete-events", BOTH, ("delete", "events", None, BOTH)),
    ("C-0031 rule-can-delete-k8s-events-v1/clusterrole-rolebinding",
     [crole("test", rule("-", "*", "*")), rb("pod", "kube-system", "test", JANE)],
     "delete-events", {"User/jane"}, ("delete", "events", "kube-system", {"User/jane"})),
    # `*` on `*` in `*`: one namespace-admin row stands for deleting Events and everything else
    ("C-0031 rule-can-delete-k8s-events-v1/role-rolebinding (differs: namespace-admin)",
     [role("test", "kube-system", rule("*", "rolebindings deployments pods services *",
                                       "* watch create update")),
      rb("pod", "kube-system", "test", JANE, role_kind="Role")],
     "namespace-admin", {"User/jane"},
     ("deletecollection", "events.events.k8s.io", "kube-system", {"User/jane"})),
]


@pytest.mark.parametrize("case, objects, risk, subjects, query", KUBESCAPE,
                         ids=[c[0] for c in KUBESCAPE])
def test_kubescape_published_cases(case, objects, risk, subjects, query):
    view = cluster_view(*objects)
    rows = rows_of(rbac.risks(view), risk)
    assert {r.subject for r in rows} == subjects
    if risk.startswith("ineffective-grant"):
        assert {r.severity for r in rows} == {"low"}
    assert who_answers(view, query) == query[3]


def test_an_ineffective_grant_says_what_it_would_grant_and_why_it_does_not():
    objects = cluster_view(
        crole("pv", rule("-", "persistentvolumes", "create")), rb("pv", "shop", "pv", JANE),
        role("pv", "shop", rule("-", "persistentvolumes", "create")),
        rb("pv-role", "shop", "pv", group("dev"), role_kind="Role"),
        crole("exec", rule("-", "pods/*", "create get")), crb("exec", "exec", group("ops")))
    rows = {(r.subject, r.path): r for r in rbac.risks(objects)}
    through_binding = rows["User/jane", "persistent-volumes"]
    assert (through_binding.risk, through_binding.severity, through_binding.score) == (
        "ineffective-grant", "low", 1)  # 2, -1 for one namespace
    assert through_binding.rule == (
        'apiGroups="" resources=persistentvolumes verbs=create; names persistent-volumes '
        "(create persistentvolumes) on cluster-scoped resources through a RoleBinding: grants "
        "nothing today (the authorizer ignores cluster-scoped rules in a RoleBinding); bound by "
        "a ClusterRoleBinding, this ClusterRole would grant persistent-volumes")
    assert rows["Group/dev", "persistent-volumes"].rule.endswith(
        "names persistent-volumes (create persistentvolumes) on cluster-scoped resources in a "
        "Role: a Role can never grant them (its RoleBindings apply only in their namespace); "
        "dead configuration that reads like a grant")
    star = rows["Group/ops", "exec"]
    assert (star.risk, star.score) == ("ineffective-grant", 2)  # a ClusterRoleBinding: 2
    assert star.rule.endswith(
        "names exec (create/get pods/exec) as `pods/*`: RBAC matches `pods/*` only to a "
        "subresource named `*`, not to every subresource, so it grants no exec; dead "
        "configuration that reads like a grant")
    assert {path for subject, path in rows if subject == "Group/ops"} == {
        "exec", "attach", "portforward"}
    assert rbac.who_can(objects, "create", "persistentvolumes") == []
    assert rbac.who_can(objects, "get", "pods", "shop", "exec") == []


@pytest.mark.parametrize("rule_, text", [
    (rule("-", "users groups", "impersonate"), "names impersonate (impersonate users, groups) "),
    (rule("constraints.gatekeeper.sh", "k8srequiredlabels", "delete"),
     "names policy-engines (delete *.constraints.gatekeeper.sh) "),
    (rule("authentication.k8s.io", "userextras/scopes", "impersonate"),
     "names impersonate (impersonate userextras.authentication.k8s.io/*) "),
])
def test_an_ineffective_grant_names_the_requests_it_reads_like(rule_, text):
    [row] = rbac.risks(_objects((rule_,), "shop", JANE))
    assert text in row.rule


@pytest.mark.parametrize("rules, where, paths", [
    # impersonating service accounts works in the namespace: no ineffective row beside it
    ((rule("-", "users serviceaccounts", "impersonate"),), "shop", set()),
    ((rule("-", "users", "impersonate"),), "shop", {"impersonate"}),
    # `*/*` is no wildcard either; `*` is
    ((rule("-", "*/*", "get"),), CLUSTER, {"exec", "attach", "portforward", "nodes-proxy"}),
    ((rule("-", "pods/* pods/exec", "create"),), "shop", {"attach", "portforward"}),
    # `nodes/*` says nothing of pods' subresources
    ((rule("-", "nodes/* pods", "get"),), CLUSTER, {"nodes-proxy"}),
    # resourceNames: the same paths, two points lower (the score floor is 1)
    ((rule("-", "nodes/*", "get", "aks-1"),), CLUSTER, {"nodes-proxy"}),
    # a URL rule and `*` on `*` in `*` through a RoleBinding: no ineffective row
    (({"nonResourceURLs": ["/metrics"], "verbs": ["get"]},), "shop", set()),
    ((rule("*", "*", "*"),), "shop", set()),
    # a role whose rules name only namespaced resources: none
    ((rule("-", "pods/exec configmaps", "create"),), "shop", set()),
], ids=["users beside serviceaccounts", "users only", "*/*", "pods/* beside pods/exec",
        "nodes/* beside pods",
        "nodes/* by name", "URL rule", "namespace-admin", "namespaced only"])
def test_ineffective_grant_rows_name_only_paths_the_rule_does_not_grant(rules, where, paths):
    rows = rbac.risks(_objects(rules, where, JANE))
    found = [r for r in rows if r.risk == "ineffective-grant"]
    assert {r.path for r in found} == paths
    named = bool(rules[0].get("resourceNames"))
    assert all(r.score == max(1, 2 - (where is not None) - 2 * named) for r in found)


# -- everyone and anonymous requests (kubescape C-0265, C-0262) -------------------------------

AUTHENTICATED = group("system:authenticated")
ANONYMOUS = group("system:unauthenticated")
PUBLIC_INFO_RULE = {"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version",
                                        "/version/"], "verbs": ["get"]}
PUBLIC_INFO = crb("system:public-info-viewer", "system:public-info-viewer", AUTHENTICATED,
                  ANONYMOUS)
EVERYONE_CASES = [
    # kubescape fails on `pods` and `nodes` among the resources: every identity reads every
    # pod's spec (env values, images, service accounts) and every node; `pods/*` and `nodes/*`
    # read like exec, attach, port-forward (get upgrades a WebSocket) and the kubelet API, and
    # grant none of them: low rows say so
    ("C-0265 system-authenticated-allowed-to-take-over-cluster/fail",
     [crole("system:viewer", rule("-", "nodes nodes/* namespaces namespaces/* pods pods/*",
                                  "get list watch")),
      crb("system:viewer", "system:viewer", AUTHENTICATED)],
     {("Group/system:authenticated", "everyone-reads-workloads", 7.0),
      ("Group/system:authenticated", "ineffective-grant", 3.0)},
     ("list", "pods", None, {"Group/system:authenticated"})),
    ("C-0265 system-authenticated-allowed-to-take-over-cluster/success",
     [crole("system:viewer", rule("-", "configmaps", "get list watch")),
      crb("system:viewer", "system:viewer", AUTHENTICATED)], set(),
     ("list", "pods", None, set())),
    # the same subject with a path: its row, one point higher
    ("C-0265 with secrets read", [crole("r", rule("-", "secrets", "get")),
                                  crb("r", "r", AUTHENTICATED)],
     {("Group/system:authenticated", "secrets-read", 9.0)},
     ("get", "secrets", "shop", {"Group/system:authenticated"})),
    # kubescape fails on the subject alone; the case is Kubernetes' default binding, whose role
    # (not in the case) the API server recreates at every start as get on /healthz, /livez,
    # /readyz, /version: decided by effect, no row (and AKS authenticates no anonymous request)
    ("C-0262 anonymous-access-enabled/fail (differs: the default public-info binding)",
     [PUBLIC_INFO], set(), ("get", "/version", None, set())),
    ("C-0262 anonymous-access-enabled/fail with the role as Kubernetes v1.36 defines it",
     [crole("system:public-info-viewer", PUBLIC_INFO_RULE), PUBLIC_INFO], set(),
     ("get", "/version", None, {"Group/system:authenticated",
                                "Group/system:unauthenticated"})),
    ("C-0262 anonymous-access-enabled/success",
     [rb("pod", "default", "pod-reader", JANE, role_kind="Role")], set(),
     ("get", "pods", "default", set())),
    ("C-0262 with exec for anonymous", [crole("x", rule("-", "pods/exec", "create")),
                                        crb("x", "x", user("system:anonymous"))],
     {("User/system:anonymous", "exec", 8.0),
      ("User/system:anonymous", "anonymous-access", 7.0)},
     ("create", "pods/exec", "shop", {"User/system:anonymous"})),
]


@pytest.mark.parametrize("case, objects, expected, query", EVERYONE_CASES,
                         ids=[c[0] for c in EVERYONE_CASES])
def test_kubescape_published_cases_for_everyone_subjects(case, objects, expected, query):
    view = cluster_view(*objects)
    assert {(r.subject, r.risk, r.score) for r in rbac.risks(view)} == expected
    assert who_answers(view, query) == query[3]


def test_the_c0265_case_says_what_everyone_reads_and_what_reads_like_a_grant():
    objects = EVERYONE_CASES[0][1]
    rows = rbac.risks(cluster_view(*objects))
    assert [(r.risk, r.path, r.severity) for r in rows] == [
        ("everyone-reads-workloads", "", "high"), ("ineffective-grant", "attach", "low"),
        ("ineffective-grant", "exec", "low"), ("ineffective-grant", "nodes-proxy", "low"),
        ("ineffective-grant", "portforward", "low")]
    assert "as `nodes/*`" in rows[3].rule and "grants no nodes-proxy" in rows[3].rule
    assert "as `pods/*`" in rows[2].rule and "grants no exec" in rows[2].rule
    assert rbac.who_can(cluster_view(*objects), "get", "pods", "shop", "exec") == []


EVERYONE_READS = [("get", "pods"), ("list", "pods/log"), ("watch", "nodes"),
                  ("list", "replicationcontrollers"), ("get", "deployments.apps"),
                  ("list", "replicasets.apps"), ("watch", "statefulsets.apps"),
                  ("get", "daemonsets.apps"), ("list", "jobs.batch"), ("get", "cronjobs.batch")]


@pytest.mark.parametrize("verb, resource", EVERYONE_READS,
                         ids=[" ".join(e) for e in EVERYONE_READS])
def test_everyone_reading_workloads_is_a_row_only_for_everyone(verb, resource):
    name, sub, api_group = rbac.parse_resource(resource)
    read = rule(api_group or "-", f"{name}/{sub}" if sub else name, verb)
    everyone = [AUTHENTICATED, ANONYMOUS, user("system:anonymous"),
                group("system:serviceaccounts")]
    objects = cluster_view(crole("read", read),
                           crb("read", "read", *everyone, JANE,
                               group("system:serviceaccounts:ci"), sa("bot", "ci")))
    rows = [r for r in rbac.risks(objects) if r.risk == "everyone-reads-workloads"]
    assert {(r.subject, r.severity) for r in rows} == {
        ("Group/system:authenticated", "high"), ("Group/system:unauthenticated", "high"),
        ("User/system:anonymous", "high"), ("Group/system:serviceaccounts", "high")}
    namespace = None if name == "nodes" else "shop"
    found = {r.subject: r.severity for r in rbac.who_can(objects, verb, name, namespace,
                                                         sub or None, api_group)}
    assert found["Group/system:authenticated"] == "high" and found["User/jane"] == "info"


def test_everyone_reading_pods_in_one_namespace_is_medium_and_writes_are_their_path():
    objects = cluster_view(crole("view-pods", rule("-", "pods", "get list watch")),
                           rb("all", "shop", "view-pods", AUTHENTICATED),
                           crole("secrets", rule("-", "secrets", "create")),
                           crb("secrets", "secrets", AUTHENTICATED))
    assert {(r.risk, r.severity) for r in rbac.risks(objects)} == {
        ("everyone-reads-workloads", "medium")}  # create secrets: no catalogued path


@pytest.mark.parametrize("objects, expected, text", [
    ((crole("cm", rule("-", "configmaps", "get")), crb("cm", "cm", ANONYMOUS)),
     {("Group/system:unauthenticated", "high")}, "granted to anonymous requests"),
    ((role("cm", "shop", rule("-", "configmaps", "get")),
      rb("cm", "shop", "cm", user("system:anonymous"), role_kind="Role")),
     {("User/system:anonymous", "medium")}, "AKS reports it off"),
    # more than the public-info endpoints: /metrics beside them, or another verb
    ((crole("info", {**PUBLIC_INFO_RULE, "nonResourceURLs": ["/version", "/metrics"]}),
      crb("info", "info", ANONYMOUS)), {("Group/system:unauthenticated", "high")},
     "nonResourceURLs=/version,/metrics verbs=get;"),
    ((crole("info", {**PUBLIC_INFO_RULE, "verbs": ["get", "post"]}),
      crb("info", "info", ANONYMOUS)), {("Group/system:unauthenticated", "high")},
     "verbs=get,post;"),
    # a role that does not exist yet grants as soon as someone creates it
    ((rb("later", "shop", "later", ANONYMOUS),), {("Group/system:unauthenticated", "medium")},
     "ClusterRole/later does not exist: the binding grants anonymous requests nothing today, "
     "and whatever that role holds as soon as someone creates it"),
    ((rb("later", "shop", "later", ANONYMOUS, role_kind="Role"),),
     {("Group/system:unauthenticated", "medium")}, "Role/shop/later does not exist"),
    # a bootstrap ClusterRole missing from the view: the API server recreates it
    ((crb("anon-admin", "cluster-admin", ANONYMOUS),),
     {("Group/system:unauthenticated", "high")},
     "ClusterRole/cluster-admin is not in the view: the API server recreates it"),
    ((crb("anon-edit", "edit", ANONYMOUS),), {("Group/system:unauthenticated", "high")},
     "the API server recreates it"),
], ids=["configmaps cluster-wide", "a Role in one namespace", "/metrics", "post",
        "missing ClusterRole", "missing Role", "missing cluster-admin", "missing edit"])
def test_anonymous_requests_granted_more_than_public_info_are_a_row(objects, expected, text):
    rows = [r for r in rbac.risks(cluster_view(*objects)) if r.risk == "anonymous-access"]
    assert {(r.subject, r.severity) for r in rows} == expected
    assert all(text in r.rule for r in rows)


@pytest.mark.parametrize("objects", [
    (crole("system:public-info-viewer", PUBLIC_INFO_RULE), PUBLIC_INFO),
    (crole("health", {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}),
     crb("health", "health", user("system:anonymous"))),
    (crole("empty"), crb("empty", "empty", ANONYMOUS)),  # grants nothing, and exists
    (crole("no-verbs", {"apiGroups": [""], "resources": ["pods"], "verbs": []}),
     crb("nv", "no-verbs", ANONYMOUS)),
    (crole("no-groups", {"resources": ["pods"], "verbs": ["get"]}),
     crb("ng", "no-groups", ANONYMOUS)),
    (crb("invalid", "reader", ANONYMOUS, role_kind="Role"),),  # the API server refuses it
    (crole("cm", rule("-", "configmaps", "get")), crb("cm", "cm", AUTHENTICATED, JANE)),
], ids=["public-info-viewer", "/healthz only", "empty role", "no verbs", "no apiGroups",
        "ClusterRoleBinding to a Role", "not anonymous"])
def test_anonymous_requests_granted_public_info_or_nothing_give_no_row(objects):
    assert [r for r in rbac.risks(cluster_view(*objects)) if r.risk == "anonymous-access"] == []


def test_the_anonymous_access_rows_in_full():
    objects = cluster_view(crole("cm", rule("-", "configmaps", "get")),
                           crb("cm", "cm", ANONYMOUS), crb("admin", "cluster-admin", ANONYMOUS))
    rows = {r.binding: r.rule for r in rbac.risks(objects) if r.risk == "anonymous-access"}
    assert {r.role for r in rbac.risks(objects) if r.risk == "anonymous-access"} == {
        "ClusterRole/cm", "ClusterRole/cluster-admin"}
    assert rows == {
        "ClusterRoleBinding/cm": 'apiGroups="" resources=configmaps verbs=get; granted to '
        "anonymous requests: anyone who reaches the API server where anonymous authentication "
        "is on (AKS reports it off: CIS Kubernetes 1.2.1)",
        "ClusterRoleBinding/admin": "apiGroups=* resources=* verbs=*; granted to anonymous "
        "requests: anyone who reaches the API server where anonymous authentication is on (AKS "
        "reports it off: CIS Kubernetes 1.2.1); ClusterRole/cluster-admin is not in the view: "
        "the API server recreates it at its next start, as Kubernetes v1.36 defines it"}


def test_scores_stay_within_ten_and_the_first_rule_of_equal_score_is_shown():
    rows = rbac.risks(cluster_view(
        crole("all", rule("*", "*", "*")), crb("all", "all", AUTHENTICATED),
        crole("two", rule("-", "secrets", "get"), rule("-", "secrets", "list")),
        crb("two", "two", JANE)))
    assert {(r.subject, r.risk, r.score) for r in rows} == {
        ("Group/system:authenticated", "cluster-admin", 10), ("User/jane", "secrets-read", 8)}
    assert [r.rule for r in rows if r.subject == "User/jane"] == [
        'apiGroups="" resources=secrets verbs=get']


def test_who_can_rates_a_rule_limited_by_names_lower_and_hides_aks_local_admin():
    objects = cluster_view(crole("one", rule("-", "secrets", "get", "db")),
                           crb("one", "one", JANE),
                           crb("aks-cluster-admin-binding", "one", user("clusterAdmin")))
    assert [(r.subject, r.severity) for r in rbac.who_can(objects, "get", "secrets",
                                                          name="db")] == [
        ("User/jane", "medium")]  # 8 - 2
    assert {r.subject for r in rbac.who_can(objects, "get", "secrets", name="db",
                                           include_system=True)} == {
        "User/jane", "User/clusterAdmin"}


def test_from_files_the_public_info_role_is_assumed(tmp_path):
    objects = files_view(tmp_path, PUBLIC_INFO)
    assert rbac.risks(objects, from_files=True) == []
    assert rbac.Policy.of(objects, from_files=True).assumed == ["system:public-info-viewer"]
    assert {r.subject for r in rbac.who_can(objects, "get", "/livez", from_files=True)} == {
        "Group/system:authenticated", "Group/system:unauthenticated"}
    assert rbac.who_can(objects, "get", "/metrics", from_files=True) == []


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


@pytest.mark.parametrize("approver, signer, expected", [
    # every member of a group (but system:unauthenticated's) is authenticated: a group that
    # may update approvals holds approve on signers through system:authenticated
    (group("dev"), group("system:authenticated"), {"Group/dev"}),
    (group("system:serviceaccounts:ci"), group("system:serviceaccounts"),
     {"Group/system:serviceaccounts:ci"}),
    # a group whose members may be in another group holding the signer right
    (group("dev"), group("pki"), {"Group/dev"}),
    # anonymous requests are in no group but system:unauthenticated
    (user("system:anonymous"), group("pki"), set()),
    (group("system:unauthenticated"), group("system:authenticated"), set()),
    # a user is never in the implicit groups of the unauthenticated or of service accounts
    (JANE, group("system:unauthenticated"), set()),
    (JANE, group("system:serviceaccounts"), set()),
    (group("dev"), group("system:serviceaccounts:ci"), set()),
], ids=["group, signer for authenticated", "namespace's accounts, signer for all accounts",
        "group, signer for another group", "anonymous", "unauthenticated group",
        "user, signer for unauthenticated", "user, signer for service accounts",
        "group, signer for one namespace's accounts"])
def test_csr_approval_follows_what_the_subjects_members_are_in(approver, signer, expected):
    objects = cluster_view(crole("approve", APPROVAL), crole("signer", SIGNERS),
                           crb("approvers", "approve", approver), crb("pki", "signer", signer))
    rows = [r for r in rbac.risks(objects) if r.risk == "csr-approval"]
    assert {r.subject for r in rows} == expected


def test_can_asks_cluster_wide_from_a_cluster_with_system_subjects_included():
    objects = cluster_view(crole("cm", rule("-", "configmaps", "update")),
                           crb("cm", "cm", user("system:kube-controller-manager")),
                           rb("devs", "shop", "edit", JANE))
    # cluster-wide (no namespace): the ClusterRoleBinding reaches CoreDNS's ConfigMap
    [row] = rbac.can(objects, "User/system:kube-controller-manager", "update", "configmaps",
                     name="coredns")
    assert (row.binding, row.severity) == ("ClusterRoleBinding/cm", "high")
    # from a cluster, a binding to edit grants nothing unless the cluster lists edit
    assert rbac.can(objects, "User/jane", "get", "secrets", "shop") == []
    assert rbac.can(objects, "User/jane", "get", "secrets", "shop", from_files=True)


def test_an_ineffective_grant_row_shows_the_first_rule_and_hides_system_subjects():
    objects = cluster_view(
        crole("pv", rule("-", "persistentvolumes", "create"),
              rule("-", "persistentvolumes nodes", "create get")),
        rb("pv", "shop", "pv", JANE, user("system:kube-proxy")))
    [row] = rbac.risks(objects)
    assert (row.subject, row.binding, row.role, row.path) == (
        "User/jane", "RoleBinding/shop/pv", "ClusterRole/pv", "persistent-volumes")
    assert row.rule.startswith('apiGroups="" resources=persistentvolumes verbs=create;')
    every = rbac.risks(objects, include_system=True)
    assert {(r.subject, r.system) for r in every} == {("User/jane", False),
                                                      ("User/system:kube-proxy", True)}
