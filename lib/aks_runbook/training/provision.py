"""Create and remove what every attendee gets, with the trainer's (admin) credentials.

Once per cluster: the admission policies of every training namespace (training-policies.yaml).
Per attendee: a namespace (Pod Security `restricted`) with a ResourceQuota, a LimitRange and
default-deny NetworkPolicies plus the allows the notebooks need; a service account bound to
the namespaced `attendee` Role; then credentials.py's kubeconfig and environment file.
Objects are server-side applied: provisioning twice changes nothing (no new resourceVersion).
Nothing here depends on the local cluster: the same code provisions an AKS cluster.
"""

from __future__ import annotations

import errno
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.resource import ResourceList

from aks_runbook import manifests
from aks_runbook.azure.plan import TEAM_GROUPS
from aks_runbook.cluster.kube import Client
from aks_runbook.progress import bar
from aks_runbook.training import FOLDER_LABEL, MANAGED_BY, SELECTOR, credentials, folder_id, logins
from aks_runbook.training.roster import Attendee

FIELD_MANAGER = "aks-runbook-training"
ACCOUNT = "attendee"
DEFAULT_EXPIRY = 8 * 3600  # a training day
MIN_EXPIRY = 600  # the TokenRequest API refuses shorter tokens
# The local cluster's API server shortens longer tokens to this (targets/local.py,
# MAX_TOKEN_SECONDS): a longer --expiry would promise more than the cluster gives.
MAX_EXPIRY = 24 * 3600
FINALIZER_GRACE = 15  # seconds a deleted namespace gets before its finalizers are removed
HOME_STOP_SECONDS = 15  # for an attendee's JupyterLab to stop writing in its home at teardown
PROBE = "aks-runbook-policy-probe"  # the name of the dry-run requests that test the policies


class ProvisionError(RuntimeError):
    """Provisioning cannot start or finish; the message says why and what to do."""


@dataclass
class Outcome:
    attendee: str
    namespace: str
    changes: list[str] = field(default_factory=list)  # "created ResourceQuota training", ...
    token: str = "kept"  # kept | new
    folder: Path | None = None


@dataclass
class Teardown:
    removed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # what could not be removed (and why)


def policies() -> list[dict]:
    """The admission policies of every training namespace, and their bindings."""
    return manifests.render("training-policies", team_groups=sorted(TEAM_GROUPS.values()))


def objects(attendee: Attendee, folder: Path, expiry: int = DEFAULT_EXPIRY,
            external_services: bool = False) -> list[dict]:
    values = {"namespace": attendee.namespace, "attendee": attendee.name,
              "folder_id": folder_id(folder), "token_seconds": str(expiry),
              "external_services": "allowed" if external_services else "refused"}
    return (manifests.render("training-namespace", **values)
            + manifests.render("training-attendee-role", namespace=attendee.namespace)
            + manifests.render("training-access", **values))


def provision(client: Client, attendees: list[Attendee], folder: Path,
              access: credentials.ClusterAccess, base_env: str | Path,
              expiry: int = DEFAULT_EXPIRY, external_services: bool = False) -> list[Outcome]:
    if expiry < MIN_EXPIRY:
        raise ProvisionError(f"--expiry {expiry}: must be at least {MIN_EXPIRY} s (the "
                             f"TokenRequest API's minimum)")
    if expiry > MAX_EXPIRY:
        raise ProvisionError(f"--expiry {expiry}: must be at most {MAX_EXPIRY} s "
                             f"({MAX_EXPIRY // 3600}h): the local cluster's API server caps "
                             f"every token at that (--service-account-max-token-expiration); "
                             f"provision again the next day for a longer training")
    for attendee in attendees:  # bad parameters fail before anything is created
        credentials.environment(base_env, attendee.name, attendee.namespace, None)
    _refuse_foreign_namespaces(client, attendees)
    credentials.private_dir(folder)
    dynamic = DynamicClient(client.api_client)
    for body in policies():
        _apply(dynamic, body)
    outcomes = []
    progress = bar(total=len(attendees), desc="provision", unit=" attendee", file=sys.stderr)
    for number, attendee in enumerate(attendees):
        progress.set_postfix_str(attendee.name)
        outcome = Outcome(attendee.name, attendee.namespace)
        for body in objects(attendee, folder, expiry, external_services):
            if change := _apply(dynamic, body):
                outcome.changes.append(change)
        if number == 0:  # before anyone gets credentials
            _wait_enforced(client, attendee)
        _credentials(client, attendee, folder, access, base_env, expiry, outcome)
        outcomes.append(outcome)
        progress.update(1)
    progress.close()
    new_logins = logins.ensure(folder, [o.attendee for o in outcomes])  # the hub's
    for outcome in outcomes:
        if outcome.attendee in new_logins:
            outcome.changes.append("new hub login")
    return outcomes


def _refuse_foreign_namespaces(client: Client, attendees: list[Attendee]) -> None:
    core = client.CoreV1Api()
    existing = {ns.metadata.name: ns for ns in core.list_namespace().items}
    foreign = []
    for attendee in attendees:
        namespace = existing.get(attendee.namespace)
        labels = (namespace.metadata.labels or {}) if namespace else {}
        if namespace and labels.get("app.kubernetes.io/managed-by") != MANAGED_BY:
            foreign.append(attendee.namespace)
    if foreign:
        raise ProvisionError(f"namespace(s) {', '.join(foreign)} exist but were not created by "
                             f"training provision; nothing was created. Rename those "
                             f"attendees in the roster (or remove the namespaces yourself).")


def _apply(dynamic: DynamicClient, body: dict) -> str | None:
    """Server-side apply; returns what changed ("created Kind name"), None if nothing did."""
    resource = dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"])
    name, namespace = body["metadata"]["name"], body["metadata"].get("namespace")
    try:
        before = resource.get(name=name, namespace=namespace).metadata.resourceVersion
    except ApiException as error:
        if error.status != 404:
            raise
        before = None
    for attempt in range(60):
        try:
            after = resource.server_side_apply(body=body, name=name, namespace=namespace,
                                               field_manager=FIELD_MANAGER,
                                               force_conflicts=True)
            break
        except ApiException as error:
            # a namespace still terminating (from a teardown just before) refuses new objects
            if error.status != 403 or "terminat" not in str(error.body) or attempt == 59:
                raise
            time.sleep(1)
    if before is None:
        return f"created {body['kind']} {name}"
    if after.metadata.resourceVersion != before:
        return f"updated {body['kind']} {name}"
    return None


def _probes(attendee: Attendee) -> list[tuple[str, Callable[..., Any], dict]]:
    """Requests the training's policies refuse in an attendee's namespace (sent as dry runs):
    a token Secret, a RoleBinding to everyone, an Ingress host outside the attendee's prefix."""
    meta = {"name": PROBE, "namespace": attendee.namespace}
    secret = {"metadata": {**meta, "annotations": {
        "kubernetes.io/service-account.name": ACCOUNT}},
        "type": "kubernetes.io/service-account-token"}
    binding = {"metadata": meta, "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                             "kind": "Role", "name": ACCOUNT},
               "subjects": [{"kind": "Group", "name": "system:unauthenticated",
                             "apiGroup": "rbac.authorization.k8s.io"}]}
    ingress = {"metadata": meta, "spec": {"rules": [{"host": "probe.example.com"}]}}
    return [("a token Secret", lambda c: c.CoreV1Api().create_namespaced_secret, secret),
            ("a RoleBinding to system:unauthenticated",
             lambda c: c.RbacAuthorizationV1Api().create_namespaced_role_binding, binding),
            ("an Ingress host outside the prefix",
             lambda c: c.NetworkingV1Api().create_namespaced_ingress, ingress)]


def _wait_enforced(client: Client, attendee: Attendee, timeout: float = 30) -> None:
    """The API server loads admission policies a moment after they are created: wait until
    it refuses what they forbid (dry runs, nothing is created), so no attendee holds
    credentials before the policies hold."""
    deadline = time.monotonic() + timeout
    waiting = _probes(attendee)
    while waiting:
        what, create, body = waiting[0]
        try:
            create(client)(attendee.namespace, body, dry_run="All")
        except ApiException as error:
            if "ValidatingAdmissionPolicy" not in str(error.body):
                raise
            waiting.pop(0)
            continue
        if time.monotonic() > deadline:
            raise ProvisionError(f"the training's admission policies are not enforced after "
                                 f"{timeout:.0f} s ({what} is still accepted in "
                                 f"{attendee.namespace}); no credentials were written. Check "
                                 f"`kubectl get validatingadmissionpolicies` and provision "
                                 f"again")
        time.sleep(0.2)


def _credentials(client: Client, attendee: Attendee, folder: Path,
                 access: credentials.ClusterAccess, base_env: str | Path, expiry: int,
                 outcome: Outcome) -> None:
    home = credentials.private_dir(folder / attendee.name)
    outcome.folder = home
    kubeconfig = home / "kubeconfig"
    account = client.CoreV1Api().read_namespaced_service_account(ACCOUNT, attendee.namespace)
    token = credentials.current_token(kubeconfig, access, account.metadata.uid, expiry)
    if token is None:
        token = credentials.request_token(client, attendee.namespace, ACCOUNT, expiry)
        credentials.write_private(kubeconfig, credentials.kubeconfig_text(
            access, attendee.name, attendee.namespace, token))
        outcome.token = "new"
    values = credentials.environment(base_env, attendee.name, attendee.namespace, kubeconfig)
    if credentials.write_environment(home / "environment.yaml", values):
        outcome.changes.append("wrote environment.yaml")


def teardown(client: Client, folder: Path, everything: bool = False,
             timeout: float = 180) -> Teardown:
    """Delete the attendees' credentials first, then the training namespaces provisioned for
    this folder (every training namespace on the cluster, and the admission policies, with
    everything=True). The service accounts go with their namespaces, and with them every
    token issued for them. Finalizers that still hold a namespace after FINALIZER_GRACE
    seconds are removed (the trainer is the cluster's admin) and reported. Returns what was
    removed and what is left (then the caller exits non-zero)."""
    result = Teardown()
    _remove_credentials(folder, result)
    core = client.CoreV1Api()
    selector = SELECTOR if everything else f"{SELECTOR},{FOLDER_LABEL}={folder_id(folder)}"
    names = [ns.metadata.name for ns in core.list_namespace(label_selector=selector).items]
    for name in names:
        try:
            core.delete_namespace(name)
        except ApiException as error:
            if error.status != 404:
                raise
        result.removed.append(f"namespace {name} (service account, Role, RoleBinding, quota, "
                              f"limits, network policies and whatever the attendee created)")
    left = _wait_gone(core, names, min(FINALIZER_GRACE, timeout))
    if left:
        dynamic = DynamicClient(client.api_client)
        for name in sorted(left):
            result.removed += _remove_finalizers(dynamic, core, name)
        left = _wait_gone(core, sorted(left), max(timeout - FINALIZER_GRACE, 1))
    for name in sorted(left):
        result.left.append(f"namespace {name}: still terminating: {_why_stuck(core, name)}")
    if everything:
        if left:
            result.left.append("the training admission policies: kept while a training "
                               "namespace is left (they still protect it)")
        else:
            result.removed += _remove_policies(DynamicClient(client.api_client))
    return result


def _remove_credentials(folder: Path, result: Teardown) -> None:
    """Every attendee's kubeconfig and environment file in the folder, before anything else:
    a teardown that stops half-way never leaves working credentials behind. The hub's logins
    go first of all."""
    if not folder.is_dir():
        return
    result.removed += [f"hub logins {path}" for path in logins.revoke(folder)]
    for home in sorted(p for p in folder.iterdir() if p.is_dir()):
        if (home / "kubeconfig").exists() or (home / "environment.yaml").exists():
            try:
                for name in ("kubeconfig", "environment.yaml"):  # the credentials first
                    (home / name).unlink(missing_ok=True)
                _remove_tree(home)
                result.removed.append(f"credentials {home}")
            except OSError as error:
                result.left.append(f"credentials {home}: {error}")
    if not any(folder.iterdir()):
        folder.rmdir()


def _remove_tree(folder: Path) -> None:
    """rmtree, again while something still writes in it: an attendee's JupyterLab keeps
    writing in its home (the hub's folder) until the hub, which has just lost its login,
    stops it a few seconds later."""
    deadline = time.monotonic() + HOME_STOP_SECONDS
    while True:
        try:
            shutil.rmtree(folder)
            return
        except OSError as error:
            if error.errno != errno.ENOTEMPTY or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _remove_finalizers(dynamic: DynamicClient, core, namespace: str) -> list[str]:
    """Empty the finalizers of everything left in a deleted namespace, and of the namespace."""
    removed = []
    for resource in dynamic.resources.search(namespaced=True):
        if isinstance(resource, ResourceList) or "/" in resource.name or \
                not {"list", "patch"} <= set(resource.verbs or ()):
            continue  # the *List kinds, subresources, kinds that cannot be patched
        try:
            items = resource.get(namespace=namespace).items
        except ApiException:
            continue  # a kind the API cannot list (e.g. an aggregated API that is down)
        for item in items:
            finalizers = list(item.metadata.finalizers or [])
            if not finalizers:
                continue
            try:
                resource.patch(name=item.metadata.name, namespace=namespace,
                               body={"metadata": {"finalizers": None}},
                               content_type="application/merge-patch+json")
            except ApiException as error:
                if error.status != 404:
                    raise
            removed.append(f"finalizer(s) {', '.join(finalizers)} of {resource.kind} "
                           f"{namespace}/{item.metadata.name}")
    try:
        namespace_object = core.read_namespace(namespace)
    except ApiException as error:
        if error.status == 404:
            return removed
        raise
    finalizers = list(namespace_object.metadata.finalizers or [])
    if finalizers:
        core.patch_namespace(namespace, {"metadata": {"finalizers": None}})
        removed.append(f"finalizer(s) {', '.join(finalizers)} of namespace {namespace}")
    return removed


def _why_stuck(core, namespace: str) -> str:
    try:
        conditions = core.read_namespace(namespace).status.conditions or []
    except ApiException:
        return "unknown"
    reasons = [c.message for c in conditions if c.status == "True" and c.message]
    return "; ".join(reasons) or "no condition says why (see `kubectl get ns -o yaml`)"


def _remove_policies(dynamic: DynamicClient) -> list[str]:
    removed = []
    for body in reversed(policies()):  # bindings first
        resource = dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"])
        try:
            resource.delete(name=body["metadata"]["name"])
        except ApiException as error:
            if error.status != 404:
                raise
            continue
        removed.append(f"{body['kind']} {body['metadata']['name']}")
    return removed


def _wait_gone(core, names: list[str], timeout: float) -> set[str]:
    """The namespaces of names still there after timeout seconds (empty when all are gone)."""
    if not names:
        return set()
    deadline = time.monotonic() + timeout
    progress = bar(total=len(names), desc="namespaces deleted", unit=" ns", file=sys.stderr)
    while True:
        left = {ns.metadata.name for ns in core.list_namespace(label_selector=SELECTOR).items}
        left &= set(names)
        progress.update(len(names) - len(left) - progress.n)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    progress.close()
    return left
