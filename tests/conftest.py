"""One real local cluster per test session, in a state directory of its own."""

from __future__ import annotations

import os
import uuid

import pytest

from aks_runbook.targets.local import LocalCluster


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory):
    """The session's state directory; notebook kernels inherit it through the environment."""
    path = tmp_path_factory.mktemp("state")
    os.environ["AKS_RUNBOOK_STATE"] = str(path)
    return path


@pytest.fixture(scope="session")
def local_cluster(state_dir):
    cluster = LocalCluster()
    assert cluster.state == state_dir / "local"
    cluster.up()
    yield cluster
    cluster.down()


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
