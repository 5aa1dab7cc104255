"""The trainer's side: which cluster to provision, with which (admin) kubeconfig.

The one place that knows about the local cluster: its admin kubeconfig, and that its
`kubectl exec` must be confined (bubblewrap) before attendees get exec rights on it.
"""

from __future__ import annotations

from pathlib import Path

from aks_runbook.training.provision import ProvisionError


def exec_confined() -> bool:
    """Whether the local cluster's simulated `kubectl exec` runs inside a bubblewrap sandbox."""
    from aks_runbook.targets.local import LocalCluster

    return LocalCluster().exec_confined


def admin_kubeconfig(target: str, given: str | Path | None) -> Path:
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise ProvisionError(f"--admin-kubeconfig {given}: no such file")
        return path
    if target != "local":
        raise ProvisionError(f"target {target!r}: give the trainer's kubeconfig with "
                             f"--admin-kubeconfig (for AKS: `az aks get-credentials ... --file "
                             f"trainer.kubeconfig`)")
    from aks_runbook.targets.local import LocalCluster

    cluster = LocalCluster()
    if not cluster.status().healthy:
        raise ProvisionError("the local cluster is not running: `aks-runbook local up` first")
    if not exec_confined():
        raise ProvisionError("the local cluster's `kubectl exec` would run attendees' commands "
                             "unconfined on this machine: install bubblewrap (`apt-get install "
                             "bubblewrap`) and run `aks-runbook local up` again")
    return cluster.kubeconfig
