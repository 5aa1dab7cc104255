"""An attendee's files in training/<attendee>/: a kubeconfig holding a short-lived token
(TokenRequest API) and an environment file for the notebooks. Folders 0700, files 0600.

The token is reused while it is good: same cluster, same service account (its uid is in the
token), and more than a quarter of the asked lifetime left (and not longer than asked).
Otherwise a new one is requested. Tokens are never printed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aks_runbook.cluster.kube import Client
from aks_runbook.params import load, read_file

REFRESH_FRACTION = 0.25


@dataclass(frozen=True)
class ClusterAccess:
    """Where attendees connect: the API server's URL and its CA (base64 PEM), if any."""

    server: str
    ca_data: str | None = None

    @classmethod
    def from_kubeconfig(cls, path: str | Path) -> ClusterAccess:
        config = yaml.safe_load(Path(path).read_text())
        contexts = {c["name"]: c["context"] for c in config.get("contexts", [])}
        cluster_name = contexts[config["current-context"]]["cluster"]
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == cluster_name)
        ca = cluster.get("certificate-authority-data")
        if not ca and cluster.get("certificate-authority"):
            ca_file = Path(cluster["certificate-authority"])
            if not ca_file.is_absolute():
                ca_file = Path(path).parent / ca_file
            ca = base64.b64encode(ca_file.read_bytes()).decode()
        return cls(cluster["server"], ca)


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write atomically, never readable by others even for a moment."""
    temporary = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)  # a file left over, or a link planted there: never followed
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def claims(token: str) -> dict[str, Any]:
    """The JWT's claims (not verified: only to decide whether to ask for a new token)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


def kubeconfig_text(access: ClusterAccess, attendee: str, namespace: str, token: str) -> str:
    cluster: dict[str, Any] = {"server": access.server}
    if access.ca_data:
        cluster["certificate-authority-data"] = access.ca_data
    config = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "training", "cluster": cluster}],
        "users": [{"name": attendee, "user": {"token": token}}],
        "contexts": [{"name": attendee, "context": {"cluster": "training", "user": attendee,
                                                      "namespace": namespace}}],
        "current-context": attendee,
    }
    return yaml.safe_dump(config, sort_keys=False)


def current_token(path: Path, access: ClusterAccess, account_uid: str, expiry: int
                  ) -> str | None:
    """The kubeconfig's token if it can be kept (see the module's docstring), else None."""
    try:
        config = yaml.safe_load(path.read_text())
        token = config["users"][0]["user"]["token"]
        cluster = config["clusters"][0]["cluster"]
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return None
    if cluster.get("server") != access.server or \
            cluster.get("certificate-authority-data") != access.ca_data:
        return None
    found = claims(token)
    account = found.get("kubernetes.io", {}).get("serviceaccount", {})
    left = found.get("exp", 0) - time.time()
    if account.get("uid") != account_uid or not REFRESH_FRACTION * expiry < left <= expiry + 60:
        return None
    return token


def request_token(client: Client, namespace: str, account: str, expiry: int) -> str:
    response = client.CoreV1Api().create_namespaced_service_account_token(
        account, namespace, {"spec": {"expirationSeconds": expiry}})
    return response.status.token


def token_expiry(kubeconfig: Path) -> float:
    """Seconds since the epoch when the kubeconfig's token expires (0 if unreadable)."""
    try:
        token = yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["token"]
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return 0
    return float(claims(token).get("exp", 0))


def environment(base_file: str | Path, attendee: str, namespace: str,
                kubeconfig: Path | None) -> dict[str, Any]:
    """The attendee's parameters: the base environment's, with their name, namespace and
    kubeconfig. Validated here (without the kubeconfig before it exists)."""
    values = read_file(base_file)
    values.update(environment="training", prefix=attendee, namespace=namespace)
    values.pop("kubeconfig", None)
    if kubeconfig is not None:
        values["kubeconfig"] = str(kubeconfig.resolve())
    load(values)
    return values


def write_environment(path: Path, values: dict[str, Any]) -> bool:
    """Write the environment file unless it already says the same; True if written."""
    text = ("# An attendee's parameters, written by `aks-runbook training provision`.\n"
            + yaml.safe_dump(values, sort_keys=False))
    if path.is_file() and path.read_text() == text:
        return False
    write_private(path, text)
    return True
