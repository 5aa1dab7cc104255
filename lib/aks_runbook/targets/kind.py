"""The kind target, for users with Docker or Podman: one control plane, two workers, Calico.

kind's default CNI (kindnet) does not enforce NetworkPolicy, so it is disabled and Calico is
installed. The workers are labelled and tainted like AKS's system and user pools.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

from aks_runbook import paths
from aks_runbook.targets.nodepools import NODE_IMAGE, SYSTEM_TAINT

CLUSTER_NAME = "aks-runbook"
POD_SUBNET = "10.244.0.0/16"
SERVICE_SUBNET = "10.0.0.0/16"
CALICO_VERSION = "v3.30.3"
CALICO_MANIFEST = (
    f"https://raw.githubusercontent.com/projectcalico/calico/{CALICO_VERSION}/manifests/calico.yaml"
)


class KindUnavailable(RuntimeError):
    """kind cannot run on this machine (no container engine or no kind binary)."""


def _pool_labels(pool: str, mode: str) -> dict[str, str]:
    return {
        "agentpool": pool,
        "kubernetes.azure.com/agentpool": pool,
        "kubernetes.azure.com/mode": mode,
        "kubernetes.azure.com/node-image-version": NODE_IMAGE,
    }


def kind_config() -> dict:
    taint = f"{SYSTEM_TAINT['key']}={SYSTEM_TAINT['value']}:{SYSTEM_TAINT['effect']}"
    system_join = {
        "kind": "JoinConfiguration",
        "nodeRegistration": {"kubeletExtraArgs": {"register-with-taints": taint}},
    }
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": CLUSTER_NAME,
        "networking": {
            "disableDefaultCNI": True,  # Calico instead, so NetworkPolicy is enforced
            "podSubnet": POD_SUBNET,
            "serviceSubnet": SERVICE_SUBNET,
            "apiServerAddress": "127.0.0.1",
        },
        "nodes": [
            {"role": "control-plane"},
            {"role": "worker", "labels": _pool_labels("system", "system"),
             "kubeadmConfigPatches": [yaml.safe_dump(system_join)]},
            {"role": "worker", "labels": _pool_labels("user", "user")},
        ],
    }


def container_engine() -> str | None:
    """The first engine that answers (`docker info` / `podman info`), or None."""
    for engine in ("docker", "podman"):
        if shutil.which(engine):
            try:
                probe = subprocess.run([engine, "info"], capture_output=True, timeout=20)
            except subprocess.TimeoutExpired:
                continue
            if probe.returncode == 0:
                return engine
    return None


class KindCluster:
    def __init__(self, state: Path | None = None):
        self.state = state or paths.state_dir() / "kind"
        self.config_path = self.state / "kind-config.yaml"
        self.kubeconfig = self.state / "kubeconfig"

    def write_config(self) -> Path:
        self.state.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(kind_config(), sort_keys=False))
        return self.config_path

    def up(self) -> None:
        self.write_config()
        engine = container_engine()
        if engine is None:
            raise KindUnavailable(
                "kind needs a running Docker or Podman engine, and none answers here "
                "(`docker info` and `podman info` failed or are missing). Use the default "
                f"local target instead (`aks-runbook local up`). The kind config is written "
                f"to {self.config_path} for use on a machine with Docker."
            )
        kind = os.environ.get("KIND_BINARY") or shutil.which("kind")
        if not kind:
            raise KindUnavailable(
                "kind is not installed: install it (https://kind.sigs.k8s.io) or set KIND_BINARY."
            )
        env = dict(os.environ, KIND_EXPERIMENTAL_PROVIDER=engine)
        subprocess.run([kind, "create", "cluster", "--config", str(self.config_path),
                        "--kubeconfig", str(self.kubeconfig), "--wait", "5m"], env=env, check=True)
        os.chmod(self.kubeconfig, 0o600)
        kubectl = ["kubectl", "--kubeconfig", str(self.kubeconfig)]
        subprocess.run([*kubectl, "apply", "-f", CALICO_MANIFEST], check=True)
        subprocess.run([*kubectl, "wait", "--for=condition=Ready", "nodes", "--all",
                        "--timeout=5m"], check=True)

    def down(self) -> None:
        kind = os.environ.get("KIND_BINARY") or shutil.which("kind")
        if kind and container_engine():
            subprocess.run([kind, "delete", "cluster", "--name", CLUSTER_NAME,
                            "--kubeconfig", str(self.kubeconfig)], check=False)
        shutil.rmtree(self.state, ignore_errors=True)
