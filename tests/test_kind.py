"""kind plumbing: only the config and the engine detection can be tested without Docker."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from aks_runbook.targets.kind import KindCluster, kind_config


def test_config_has_one_control_plane_two_workers_and_no_default_cni():
    config = kind_config()
    assert [n["role"] for n in config["nodes"]] == ["control-plane", "worker", "worker"]
    assert config["networking"]["disableDefaultCNI"] is True
    pools = [n.get("labels", {}).get("agentpool") for n in config["nodes"]]
    assert pools == [None, "system", "user"]
    join = yaml.safe_load(config["nodes"][1]["kubeadmConfigPatches"][0])
    taint = join["nodeRegistration"]["kubeletExtraArgs"]["register-with-taints"]
    assert taint == "CriticalAddonsOnly=true:NoSchedule"


def test_written_config_is_valid_kind_yaml(tmp_path):
    path = KindCluster(state=tmp_path).write_config()
    loaded = yaml.safe_load(path.read_text())
    assert loaded["apiVersion"] == "kind.x-k8s.io/v1alpha4" and loaded["kind"] == "Cluster"


def test_up_without_container_engine_says_so(tmp_path):
    bare = tmp_path / "bin"
    bare.mkdir()
    env = dict(os.environ, PATH=str(bare), AKS_RUNBOOK_STATE=str(tmp_path / "state"))
    result = subprocess.run([sys.executable, "-m", "aks_runbook.cli", "local", "up",
                             "--driver", "kind"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "Docker or Podman" in result.stderr
    assert (tmp_path / "state" / "kind" / "kind-config.yaml").is_file()
