"""Attendee mode (the `namespace` parameter): what an attendee's session may touch.

An attendee holds the `attendee` Role (manifests/training-attendee-role.yaml) in one namespace
and nothing cluster-wide. Their namespaced steps run there; a step that needs more is the
trainer's demo: said so, not run. Reads list the namespace only, so a kind they cannot list
(nodes, namespaces, ClusterRoles ...) is absent from the view and the checks that need it say
not-applicable.
"""

from __future__ import annotations

import copy
import socket
from collections.abc import Callable
from typing import Any

from aks_runbook.cluster.kube import Client
from aks_runbook.cluster.objects import LISTS, as_sent, cilium_policies, secret_metadata

TRAINING_LABEL = "app.kubernetes.io/managed-by=aks-runbook-training"

# plural kind -> how to list it in one namespace (the namespaced kinds of objects.LISTS)
NAMESPACED_LISTS: dict[str, Callable[[Client, str], Any]] = {
    "pods": lambda c, ns: as_sent(c.CoreV1Api().list_namespaced_pod, ns),
    "services": lambda c, ns: as_sent(c.CoreV1Api().list_namespaced_service, ns),
    "endpointslices":
        lambda c, ns: as_sent(c.DiscoveryV1Api().list_namespaced_endpoint_slice, ns),
    "networkpolicies":
        lambda c, ns: as_sent(c.NetworkingV1Api().list_namespaced_network_policy, ns),
    "ciliumnetworkpolicies": lambda c, ns: cilium_policies(c, "ciliumnetworkpolicies",
                                                           "CiliumNetworkPolicy", ns),
    "ingresses": lambda c, ns: as_sent(c.NetworkingV1Api().list_namespaced_ingress, ns),
    "secrets":
        lambda c, ns: secret_metadata(as_sent(c.CoreV1Api().list_namespaced_secret, ns)),
    "serviceaccounts": lambda c, ns: as_sent(c.CoreV1Api().list_namespaced_service_account, ns),
    "roles": lambda c, ns: as_sent(c.RbacAuthorizationV1Api().list_namespaced_role, ns),
    "rolebindings":
        lambda c, ns: as_sent(c.RbacAuthorizationV1Api().list_namespaced_role_binding, ns),
    "poddisruptionbudgets":
        lambda c, ns: as_sent(c.PolicyV1Api().list_namespaced_pod_disruption_budget, ns),
}

# What a chapter may leave in the namespace; the training's own objects (labelled) and the
# namespace's built-ins (the `default` service account, kube-root-ca.crt) stay.
CHAPTER_KINDS = ("deployments.apps", "daemonsets.apps", "statefulsets.apps", "jobs.batch",
                 "cronjobs.batch", "pods", "services", "ingresses.networking.k8s.io",
                 "networkpolicies.networking.k8s.io", "poddisruptionbudgets.policy",
                 "rolebindings.rbac.authorization.k8s.io", "roles.rbac.authorization.k8s.io",
                 "secrets", "serviceaccounts")


def demo(what: str) -> str:
    return f"trainer's demo: {what}, not run for attendees"


def read_namespace(read: Callable[[str, Callable[[], Any]], Any], client: Client | None,
                   namespace: str) -> dict[str, list[dict]]:
    """The attendee's view: every namespaced kind the checks read, listed in their namespace."""
    return {kind: read(f"list {kind} --namespace {namespace}",
                       lambda list_=list_: list_(client, namespace))["items"]
            for kind, list_ in NAMESPACED_LISTS.items()}


def clean_command(namespace: str, keep: set[str]) -> list[str]:
    """kubectl delete for what the chapters created in the attendee's namespace (attendees
    cannot delete the namespace itself). Kept: the training's labelled objects and the names
    in `keep` (the attendee's own service account, Role and RoleBinding, `default`)."""
    names = ",".join(f"metadata.name!={name}" for name in sorted(keep))
    return ["kubectl", "delete", ",".join(CHAPTER_KINDS), "--namespace", namespace,
            "--selector", TRAINING_LABEL.replace("=", "!="), "--field-selector", names,
            "--ignore-not-found", "--wait", "--timeout=120s"]


def own_names(client: Client, namespace: str) -> set[str]:
    """Names a clean must not delete: `default`, the attendee's service account (who they
    are), the `attendee` Role and the RoleBindings to it."""
    keep = {"default", "attendee"}
    review = client.AuthenticationV1Api().create_self_subject_review(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    user = review.status.user_info.username or ""
    if user.startswith(f"system:serviceaccount:{namespace}:"):
        keep.add(user.rpartition(":")[2])
    for binding in client.RbacAuthorizationV1Api().list_namespaced_role_binding(namespace).items:
        if binding.role_ref.name == "attendee":
            keep.add(binding.metadata.name)
    return keep


# Pod Security `restricted` (training namespaces enforce it): what a pod and its containers
# must set. Given to a pod or container whose manifest has no securityContext at all; one that
# says anything is kept as written (so chapter 03's privileged pod is still refused).
POD_RESTRICTED = {"runAsNonRoot": True, "runAsUser": 65532,
                  "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
RESTRICTED_NOTE = ("your namespace enforces Pod Security `restricted`: pods that do not say "
                   "otherwise run as non-root (65532) under RuntimeDefault seccomp, without "
                   "privilege escalation, all capabilities dropped")


def restricted(doc: dict) -> bool:
    """Give a Pod or a workload's pod template the restricted defaults it lacks; True when
    anything was added."""
    spec = doc.get("spec") or {}
    if doc.get("kind") != "Pod":
        spec = (spec.get("jobTemplate", {}).get("spec", spec).get("template") or {}).get("spec")
    if not spec:
        return False
    changed = False
    for holder, defaults in ((spec, POD_RESTRICTED), *(
            (c, CONTAINER_RESTRICTED)
            for c in spec.get("containers", []) + spec.get("initContainers", []))):
        if "securityContext" not in holder:
            holder["securityContext"] = copy.deepcopy(defaults)
            changed = True
    return changed


def run_overrides(name: str) -> str:
    """`kubectl run` arguments giving the pod (its container is named like it) the defaults."""
    import json

    patch = {"spec": {"securityContext": POD_RESTRICTED,
                      "containers": [{"name": name, "securityContext": CONTAINER_RESTRICTED}]}}
    return f"--override-type=strategic --overrides='{json.dumps(patch)}'"


def own_hosts(doc: dict, prefix: str) -> None:
    """Ingress hosts under the attendee's prefix, which the training's admission policy
    requires (manifests/training-policies.yaml): vote.example.com -> <prefix>-vote.example.com."""
    if doc.get("kind") != "Ingress":
        return
    spec = doc.get("spec") or {}
    for rule in spec.get("rules") or []:
        if rule.get("host"):
            rule["host"] = f"{prefix}-{rule['host']}"
    for tls in spec.get("tls") or []:
        tls["hosts"] = [f"{prefix}-{host}" for host in tls.get("hosts") or []]


class Scope:
    """What a session may touch, decided in this one place: everything (`namespace` None: an
    operator, the trainer) or an attendee's namespace. The session's parts ask it before a
    step that reaches beyond a namespace."""

    def __init__(self, namespace: str | None, prefix: str):
        self.namespace, self.prefix = namespace, prefix
        self._restricted_noted = False

    @property
    def attendee(self) -> bool:
        return self.namespace is not None

    def allows(self, what: str) -> bool:
        """A step that needs cluster-wide rights runs, except for an attendee: then it is the
        trainer's demo, said so."""
        if self.attendee:
            print(demo(what))
        return not self.attendee

    def kubectl(self, args: str) -> str | None:
        """The kubectl arguments to run, or None when the step is the trainer's demo
        (impersonation needs cluster-wide rights). An attendee's `kubectl run` gets the
        restricted defaults their namespace enforces."""
        if not self.attendee:
            return args
        if " --as " in f" {args} ":
            print(demo(f"kubectl {args} (impersonation)"))
            return None
        if args.startswith("run "):
            self._note_restricted()
            return f"{args} {run_overrides(args.split()[1])}"
        return args

    def documents(self, docs: list[dict]) -> list[dict]:
        """Manifests as this session may apply them: an attendee's namespace exists and they
        may not create namespaces; their Ingress hosts carry their prefix; pods get the
        restricted defaults they lack."""
        if not self.attendee:
            return docs
        docs = [d for d in docs if d["kind"] != "Namespace"]
        for doc in docs:
            own_hosts(doc, self.prefix)
        if [d for d in docs if restricted(d)]:
            self._note_restricted()
        return docs

    def local_port(self, usual: int, replay: bool) -> int:
        """The usual local port for a port-forward, unless something on this machine holds
        it; always a free one for an attendee, whose neighbours on the same machine forward
        at the same time (a replay keeps the recorded port)."""
        if replay or (not self.attendee and _free(usual)):
            return usual
        return free_port()

    def listing(self, kind: str, client: Client | None
                ) -> tuple[str, Callable[[], Any]] | None:
        """How to list a kind: (the call as recorded, the read), or None when an attendee
        cannot (a cluster-wide kind: said so)."""
        if not self.attendee:
            return f"list {kind}", lambda: LISTS[kind](client)
        if kind not in NAMESPACED_LISTS:
            print(demo(f"list {kind} (cluster-wide)"))
            return None
        return (f"list {kind} --namespace {self.namespace}",
                lambda: NAMESPACED_LISTS[kind](client, self.namespace))

    def view(self, read: Callable[[str, Callable[[], Any]], Any], client: Client | None
             ) -> dict[str, list[dict]] | None:
        """An attendee's view of the cluster (their namespace's objects); None: the whole."""
        return read_namespace(read, client, self.namespace) if self.attendee else None

    def removal(self, namespace: str) -> str:
        """What a chapter's reset or cleanup of `namespace` removes: "namespace" (it and the
        chapter's cluster-wide objects), "objects" (an attendee's own namespace: the
        chapter's objects in it) or "nothing" (an attendee, another namespace)."""
        if not self.attendee:
            return "namespace"
        return "objects" if namespace == self.namespace else "nothing"

    def access_review(self, authorization, review: dict, namespace: str) -> bool:
        """Ask the authorizer; an attendee asks a LocalSubjectAccessReview in the namespace
        (SubjectAccessReview is cluster-wide)."""
        if self.attendee:
            return bool(authorization.create_namespaced_local_subject_access_review(
                namespace, {**review, "kind": "LocalSubjectAccessReview",
                            "metadata": {"namespace": namespace}}).status.allowed)
        return bool(authorization.create_subject_access_review(review).status.allowed)

    def rbac_view_note(self) -> None:
        if self.attendee:
            print(f"your view: the Roles and RoleBindings of namespace {self.namespace} "
                  f"only (ClusterRoles and ClusterRoleBindings cannot be read, so rights "
                  f"granted through them are not shown)")

    def describe(self) -> str:
        if not self.attendee:
            return ""
        return (f"\nattendee mode: your steps run in namespace {self.namespace}; cluster-wide "
                f"steps are the trainer's demo")

    def _note_restricted(self) -> None:
        if not self._restricted_noted:
            print(RESTRICTED_NOTE)
            self._restricted_noted = True


def free_port() -> int:
    """A port nothing on this machine listens on now (the kernel picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _free(port: int) -> bool:
    """Whether a port-forward could listen on the port (kubectl binds 127.0.0.1 and ::1)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
