"""One real local cluster per test session, in a state directory of its own."""

from __future__ import annotations

import uuid

import pytest

from aks_runbook import paths
from aks_runbook.targets.local import LocalCluster

CLUSTER_FIXTURES = {"local_cluster", "k8s", "namespace"}


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster: needs the session's local cluster (set "
                                       "automatically); -m 'not cluster' runs the fast tests")
    config.addinivalue_line("markers", "slow: starts azure-cli's worker, a kernel or a notebook "
                                       "run; `make check` leaves these out")


def pytest_collection_modifyitems(items):
    for item in items:
        if CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def state_dir():
    """The session's state directory (set up by the root conftest for tests and notebooks)."""
    return paths.state_dir()


@pytest.fixture(scope="session")
def local_cluster(state_dir):
    cluster = LocalCluster()
    assert cluster.state == state_dir / "local"
    cluster.up()
    yield cluster  # removed at the end of the session (root conftest): nbval uses it too


@pytest.fixture(scope="session")
def k8s(local_cluster):
    """The real kubernetes client module, configured for the session's cluster."""
    return local_cluster.api()


@pytest.fixture
def namespace(k8s):
    """A fresh namespace per test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    core = k8s.CoreV1Api()
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)
