"""Create and remove what every attendee gets, with the trainer's (admin) credentials.

Per attendee: a namespace (Pod Security `restricted`) with a ResourceQuota, a LimitRange and
default-deny NetworkPolicies plus the allows the notebooks need; a service account bound to
the namespaced `attendee` Role; then credentials.py's kubeconfig and environment file.
Objects are server-side applied: provisioning twice changes nothing (no new resourceVersion).
Nothing here depends on the local cluster: the same code provisions an AKS cluster.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from aks_runbook import manifests
from aks_runbook.kube import Client
from aks_runbook.progress import bar
from aks_runbook.training import FOLDER_LABEL, MANAGED_BY, SELECTOR, credentials, folder_id
from aks_runbook.training.roster import Attendee

FIELD_MANAGER = "aks-runbook-training"
ACCOUNT = "attendee"
DEFAULT_EXPIRY = 8 * 3600  # a training day
MIN_EXPIRY = 600  # the TokenRequest API refuses shorter tokens


class ProvisionError(RuntimeError):
    """Provisioning cannot start or finish; the message says why and what to do."""


@dataclass
class Outcome:
    attendee: str
    namespace: str
    changes: list[str] = field(default_factory=list)  # "created ResourceQuota training", ...
    token: str = "kept"  # kept | new
    folder: Path | None = None


def objects(attendee: Attendee, folder: Path) -> list[dict]:
    values = {"namespace": attendee.namespace, "attendee": attendee.name,
              "folder_id": folder_id(folder)}
    return (manifests.render("training-namespace", **values)
            + manifests.render("training-attendee-role", namespace=attendee.namespace)
            + manifests.render("training-access", **values))


def provision(client: Client, attendees: list[Attendee], folder: Path,
              access: credentials.ClusterAccess, base_env: str | Path,
              expiry: int = DEFAULT_EXPIRY) -> list[Outcome]:
    if expiry < MIN_EXPIRY:
        raise ProvisionError(f"--expiry {expiry}: must be at least {MIN_EXPIRY} s (the "
                             f"TokenRequest API's minimum)")
    for attendee in attendees:  # bad parameters fail before anything is created
        credentials.environment(base_env, attendee.name, attendee.namespace, None)
    _refuse_foreign_namespaces(client, attendees)
    credentials.private_dir(folder)
    dynamic = DynamicClient(client.api_client)
    outcomes = []
    progress = bar(total=len(attendees), desc="provision", unit=" attendee", file=sys.stderr)
    for attendee in attendees:
        progress.set_postfix_str(attendee.name)
        outcome = Outcome(attendee.name, attendee.namespace)
        for body in objects(attendee, folder):
            if change := _apply(dynamic, body):
                outcome.changes.append(change)
        _credentials(client, attendee, folder, access, base_env, expiry, outcome)
        outcomes.append(outcome)
        progress.update(1)
    progress.close()
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
             timeout: float = 180) -> list[str]:
    """Delete the training namespaces provisioned for this folder (every training namespace
    on the cluster with everything=True) and the attendees' credentials in it. The service
    accounts go with their namespaces, and with them every token issued for them.
    Returns what was removed."""
    core = client.CoreV1Api()
    selector = SELECTOR if everything else f"{SELECTOR},{FOLDER_LABEL}={folder_id(folder)}"
    names = [ns.metadata.name for ns in core.list_namespace(label_selector=selector).items]
    removed = []
    for name in names:
        try:
            core.delete_namespace(name)
        except ApiException as error:
            if error.status != 404:
                raise
        removed.append(f"namespace {name} (service account, Role, RoleBinding, quota, "
                       f"limits, network policies and whatever the attendee created)")
    _wait_gone(core, names, timeout)
    if folder.is_dir():
        for home in sorted(p for p in folder.iterdir() if p.is_dir()):
            if (home / "kubeconfig").exists() or (home / "environment.yaml").exists():
                shutil.rmtree(home)
                removed.append(f"credentials {home}")
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


def _wait_gone(core, names: list[str], timeout: float) -> None:
    if not names:
        return
    deadline = time.monotonic() + timeout
    progress = bar(total=len(names), desc="namespaces deleted", unit=" ns", file=sys.stderr)
    while True:
        left = {ns.metadata.name for ns in core.list_namespace(label_selector=SELECTOR).items}
        left &= set(names)
        progress.update(len(names) - len(left) - progress.n)
        if not left:
            break
        if time.monotonic() > deadline:
            progress.close()
            raise ProvisionError(f"namespaces still terminating after {timeout:.0f} s: "
                                 f"{', '.join(sorted(left))} (see `kubectl get ns -o yaml`)")
        time.sleep(0.5)
    progress.close()
