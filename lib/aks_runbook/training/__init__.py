"""Training mode: one cluster, one namespace and one short-lived kubeconfig per attendee.

roster.py reads who attends, provision.py creates (and tears down) what each attendee gets,
credentials.py writes their kubeconfig and environment file, run.py runs the notebooks for
every attendee (each in worker.py, a process of its own) and writes the results table.
"""

import hashlib
from pathlib import Path

MANAGED_BY = "aks-runbook-training"
SELECTOR = f"app.kubernetes.io/managed-by={MANAGED_BY}"
FOLDER_LABEL = "aks-runbook.io/training-folder"
NAMESPACE_PREFIX = "training-"


def namespace_of(attendee: str) -> str:
    return f"{NAMESPACE_PREFIX}{attendee}"


def folder_id(folder: Path) -> str:
    """A label value naming the credentials folder a namespace was provisioned for, so a
    teardown removes its own session's namespaces and not another session's on the cluster."""
    return hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
