"""The real kubernetes client, bound to one kubeconfig (never the process-wide default).

`client_for(path).CoreV1Api()` reads like the kubernetes package itself, but every API object
shares this cluster's ApiClient, so two clusters in one process never cross wires.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config


class Client:
    def __init__(self, api_client: k8s.ApiClient):
        self.api_client = api_client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(k8s, name)
        if isinstance(attr, type) and name.endswith("Api") and name != "ApiClient":
            return lambda: attr(self.api_client)
        return attr


def client_for(kubeconfig: str | Path, retries: int | None = None) -> Client:
    api_client = config.new_client_from_config(config_file=str(kubeconfig))
    if retries is not None:
        api_client.configuration.retries = retries
    return Client(api_client)


def plain(value: Any) -> Any:
    """Kubernetes client objects to plain JSON-able data (camelCase, as kubectl shows it)."""
    return _serializer().sanitize_for_serialization(value)


@functools.cache
def _serializer() -> k8s.ApiClient:
    return k8s.ApiClient()  # one for the process: each new one builds a configuration
