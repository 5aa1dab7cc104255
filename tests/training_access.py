"""What the training tests share: an attendee's own client, and the HTTP status of a call."""

from __future__ import annotations

from pathlib import Path

from kubernetes.client.exceptions import ApiException

from aks_runbook.cluster.kube import client_for


def attendee_client(folder: Path, attendee: str):
    """The API as the attendee: their provisioned kubeconfig, no retries."""
    return client_for(folder / attendee / "kubeconfig", retries=0)


def status_of(call) -> int:
    """200 when the call is accepted, else the API server's status code."""
    try:
        call()
    except ApiException as error:
        return error.status
    return 200
