"""An attendee's kubeconfig stops working once its token expires.

The TokenRequest API refuses lifetimes under 10 minutes and the API server accepts a token
until a minute after its expiry (JWT leeway), so this test takes about 11 minutes: it asks
for the shortest token there is and checks, with real requests, that it works before its
expiry and is refused (401) after it.
"""

from __future__ import annotations

import time
from pathlib import Path

from kubernetes.client.exceptions import ApiException

from aks_runbook.kube import client_for
from aks_runbook.training import credentials, provision
from aks_runbook.training.roster import Attendee

LOCAL = Path(__file__).resolve().parents[1] / "environments" / "local.yaml"
LEEWAY = 60  # seconds the API server still accepts an expired service account token


def _status(kubeconfig: Path) -> int:
    try:
        client_for(kubeconfig, retries=0).CoreV1Api().list_namespaced_pod("training-eve")
    except ApiException as error:
        return error.status
    return 200


def test_the_kubeconfig_stops_working_after_its_token_expires(local_cluster, tmp_path):
    folder = tmp_path / "training"
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    provision.provision(local_cluster.api(), [Attendee("eve")], folder, access, LOCAL,
                        expiry=provision.MIN_EXPIRY)
    try:
        kubeconfig = folder / "eve" / "kubeconfig"
        expires = credentials.token_expiry(kubeconfig)
        assert 0 < expires - time.time() <= provision.MIN_EXPIRY
        assert _status(kubeconfig) == 200
        while time.time() < expires - 5:
            time.sleep(min(30, expires - 5 - time.time()))
        assert _status(kubeconfig) == 200, "still valid just before its expiry"
        time.sleep(max(0.0, expires + LEEWAY + 5 - time.time()))
        assert _status(kubeconfig) == 401, "refused once expired"
    finally:
        provision.teardown(local_cluster.api(), folder)
