"""An attendee's kubeconfig stops working once its token expires, measured on the wall clock.

Run with `python bench/token_expiry.py` (about 11 minutes). The TokenRequest API refuses
lifetimes under 10 minutes and the API server accepts a token until a minute after its expiry
(JWT leeway), so this takes about 11 minutes: too long for the suite, whose 10-minute budget it
would set alone. The suite proves the same with the real API server in seconds
(tests/test_training_provision.py: the attendee's own claims signed again with the cluster's
key, once expired and once not); this script is the wall-clock check beside it.

It provisions one attendee with the shortest token there is on a cluster of its own, then makes
real requests with their kubeconfig: just after provisioning, 5 s before the expiry and 5 s
after the leeway. Expected: 200, 200, 401.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from kubernetes.client.exceptions import ApiException

from aks_runbook.cluster.kube import client_for
from aks_runbook.targets.local import LocalCluster
from aks_runbook.training import credentials, provision
from aks_runbook.training.roster import Attendee

LOCAL = Path(__file__).resolve().parents[1] / "environments" / "local.yaml"
LEEWAY = 60  # seconds the API server still accepts an expired service account token
EXPECTED = {"after provisioning": 200, "5 s before expiry": 200, "after expiry": 401}


def _status(kubeconfig: Path) -> int:
    try:
        client_for(kubeconfig, retries=0).CoreV1Api().list_namespaced_pod("training-eve")
    except ApiException as error:
        return error.status
    return 200


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="token-expiry-") as work:
        cluster = LocalCluster(state=Path(work) / "local")
        cluster.up()
        folder = Path(work) / "training"
        try:
            access = credentials.ClusterAccess.from_kubeconfig(cluster.kubeconfig)
            provision.provision(cluster.api(), [Attendee("eve")], folder, access, LOCAL,
                                expiry=provision.MIN_EXPIRY)
            kubeconfig = folder / "eve" / "kubeconfig"
            expires = credentials.token_expiry(kubeconfig)
            seen = {"after provisioning": _status(kubeconfig)}
            print(f"token expires in {expires - time.time():.0f} s; waiting", flush=True)
            time.sleep(max(0.0, expires - 5 - time.time()))
            seen["5 s before expiry"] = _status(kubeconfig)
            time.sleep(max(0.0, expires + LEEWAY + 5 - time.time()))
            seen["after expiry"] = _status(kubeconfig)
            provision.teardown(cluster.api(), folder)
        finally:
            cluster.down()
    for moment, status in seen.items():
        print(f"{moment:>20}: {status} (expected {EXPECTED[moment]})")
    return 0 if seen == EXPECTED else 1


if __name__ == "__main__":
    sys.exit(main())
