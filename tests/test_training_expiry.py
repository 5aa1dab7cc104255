"""An attendee's kubeconfig stops working once its token expires.

The TokenRequest API refuses lifetimes under 10 minutes and the API server accepts a token
until a minute after its expiry (JWT leeway), so the token's life takes about 11 minutes. The
first test (run first: marker starts_clock) provisions an attendee with the shortest token there
is and starts a watcher that makes real requests just after provisioning, just before the
expiry and after it; the second (run last: reads_clock) waits for what is left of that time and
asserts: 200, 200, then 401. In a full run the wait overlaps the rest of the suite.

The attendee lives on a cluster of its own for those minutes: on the session's cluster it would
show up in what other tests read cluster-wide (chapter 03's RBAC risk table under nbval).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from aks_runbook.cluster.kube import client_for
from aks_runbook.targets.local import LocalCluster
from aks_runbook.training import credentials, provision
from aks_runbook.training.roster import Attendee

pytestmark = pytest.mark.cluster  # a cluster of its own (not through the `local_cluster` fixture)

LOCAL = Path(__file__).resolve().parents[1] / "environments" / "local.yaml"
LEEWAY = 60  # seconds the API server still accepts an expired service account token
WATCH: dict = {}  # what the first test started, for the second


def _status(kubeconfig: Path) -> int:
    try:
        client_for(kubeconfig, retries=0).CoreV1Api().list_namespaced_pod("training-eve")
    except ApiException as error:
        return error.status
    return 200


def _watch(kubeconfig: Path, expires: float, seen: dict[str, int]) -> None:
    seen["after provisioning"] = _status(kubeconfig)
    time.sleep(max(0.0, expires - 5 - time.time()))
    seen["5 s before expiry"] = _status(kubeconfig)
    time.sleep(max(0.0, expires + LEEWAY + 5 - time.time()))
    seen["after expiry"] = _status(kubeconfig)


def _start(cluster, folder: Path) -> None:
    access = credentials.ClusterAccess.from_kubeconfig(cluster.kubeconfig)
    provision.provision(cluster.api(), [Attendee("eve")], folder, access, LOCAL,
                        expiry=provision.MIN_EXPIRY)
    kubeconfig = folder / "eve" / "kubeconfig"
    expires = credentials.token_expiry(kubeconfig)
    seen: dict[str, int] = {}
    watcher = threading.Thread(target=_watch, args=(kubeconfig, expires, seen), daemon=True)
    watcher.start()
    WATCH.update(folder=folder, expires=expires, seen=seen, watcher=watcher)


@pytest.fixture(scope="session")
def own_cluster(tmp_path_factory):
    cluster = LocalCluster(state=tmp_path_factory.mktemp("expiry-cluster") / "local")
    cluster.up()
    yield cluster
    cluster.down()


@pytest.mark.starts_clock
def test_a_short_lived_kubeconfig_works_at_first(own_cluster, tmp_path_factory):
    _start(own_cluster, tmp_path_factory.mktemp("expiry") / "training")
    assert 0 < WATCH["expires"] - time.time() <= provision.MIN_EXPIRY
    WATCH["watcher"].join(timeout=30)  # only its first request; the thread goes on
    assert WATCH["seen"]["after provisioning"] == 200


@pytest.mark.reads_clock
def test_the_kubeconfig_stops_working_after_its_token_expires(own_cluster, tmp_path):
    if not WATCH:  # run on its own
        _start(own_cluster, tmp_path / "training")
    try:
        WATCH["watcher"].join(timeout=provision.MIN_EXPIRY + LEEWAY + 120)
        assert not WATCH["watcher"].is_alive(), "the watcher did not finish"
        assert WATCH["seen"] == {"after provisioning": 200, "5 s before expiry": 200,
                                 "after expiry": 401}
    finally:
        provision.teardown(own_cluster.api(), WATCH["folder"])
