"""`aks-runbook local up | down | status` on a cluster of its own: no-op, recovery, cleanup."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from aks_runbook.targets import binaries
from aks_runbook.targets.local import COMPONENTS, LocalCluster


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "aks_runbook.cli", *args], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built():
    """The cluster's binaries, built once if the cache has none (cheap when cached)."""
    return binaries.resolve()


@pytest.fixture(scope="module")
def state(built, tmp_path_factory):
    """This module's own state directory; whatever cluster runs there is removed at the end."""
    state = tmp_path_factory.mktemp("lifecycle")
    yield state
    LocalCluster(state=state / "local").down()


@pytest.fixture(scope="module")
def env(state):
    return dict(os.environ, AKS_RUNBOOK_STATE=str(state))


@pytest.fixture
def cluster(state):
    """The module's cluster, up and healthy (created again if an earlier test removed it)."""
    cluster = LocalCluster(state=state / "local")
    status = cluster.up()
    assert status.running and status.healthy, status.describe()
    return cluster


def processes_under(path: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if str(path) in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


@pytest.mark.cluster  # a cluster of its own
def test_up_prints_nodes_by_pool_and_status_reports_running(env, state):
    up = cli("local", "up", env=env)
    assert up.returncode == 0, up.stderr
    assert re.search(r"pool system +1 node\(s\): aks-system-\d{8}-vmss000000\n", up.stdout)
    assert re.search(r"pool user +2 node\(s\): aks-user-", up.stdout)
    status = cli("local", "status", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    for component in COMPONENTS:
        assert f"{component}" in status.stdout
    assert "not running" not in status.stdout
    assert str(state / "local" / "kubeconfig") in status.stdout
    assert cli("local", "kubeconfig", env=env).stdout.strip() == str(state / "local" / "kubeconfig")


@pytest.mark.cluster  # a cluster of its own
def test_up_twice_is_a_no_op(cluster):
    before = cluster.status().processes
    cluster.up()
    after = cluster.status().processes
    assert before == after and all(after.values()), (before, after)


@pytest.mark.cluster  # a cluster of its own
def test_up_recovers_after_a_component_is_killed(cluster):
    pid = cluster.status().processes["kube-apiserver"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while cluster.status().healthy and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not cluster.status().healthy
    recovered = cluster.up()
    assert recovered.running and recovered.healthy
    assert recovered.processes["kube-apiserver"] != pid
    assert recovered.nodes["user"], "nodes survive in etcd across the restart"


@pytest.mark.cluster  # a cluster of its own
def test_down_leaves_no_process_behind(cluster, env, state):
    assert processes_under(state), "the cluster should be running before down"
    down = cli("local", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert processes_under(state) == []
    status = cli("local", "status", env=env)
    assert status.returncode != 0 and "not created" in status.stdout


def test_missing_go_and_binaries_says_what_to_provide(tmp_path):
    bare_path = tmp_path / "bin"
    bare_path.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KWOK")}
    env.update(PATH=str(bare_path), AKS_RUNBOOK_CACHE=str(tmp_path / "empty-cache"),
               AKS_RUNBOOK_STATE=str(tmp_path / "state"))
    result = cli("local", "up", env=env)
    assert result.returncode == 2
    assert "no Go toolchain" in result.stderr
    for variable in ("KWOK_KUBE_APISERVER_BINARY", "KWOK_ETCD_BINARY", "KWOKCTL_BINARY"):
        assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_binaries_named_by_environment_variables_are_used(built, monkeypatch, tmp_path):
    cached = built
    monkeypatch.setenv("AKS_RUNBOOK_CACHE", str(tmp_path / "empty"))  # nothing cached there
    for component in binaries.COMPONENTS:
        monkeypatch.setenv(component.env, str(cached[component.name]))
    assert binaries.resolve(build=False) == cached
    monkeypatch.setenv("KWOK_ETCD_BINARY", str(tmp_path / "no-such-etcd"))
    with pytest.raises(binaries.MissingBinaries, match="KWOK_ETCD_BINARY=.*does not name"):
        binaries.resolve(build=False)


@pytest.mark.cluster  # two clusters of their own
def test_two_clusters_starting_at_once_both_come_up(built, tmp_path):
    # a test session beside `make run`: kwokctl alone would give both the same ports
    states = [tmp_path / "first", tmp_path / "second"]
    ups = [subprocess.Popen([sys.executable, "-m", "aks_runbook.cli", "local", "up"],
                            env=dict(os.environ, AKS_RUNBOOK_STATE=str(state)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
           for state in states]
    try:
        outcomes = [up.communicate(timeout=300) for up in ups]
        assert [up.returncode for up in ups] == [0, 0], outcomes
        clusters = [LocalCluster(state=state / "local") for state in states]
        statuses = [cluster.status() for cluster in clusters]
        assert all(s.running and s.healthy for s in statuses), [s.describe() for s in statuses]
        assert statuses[0].server != statuses[1].server
    finally:
        for state in states:
            LocalCluster(state=state / "local").down()
