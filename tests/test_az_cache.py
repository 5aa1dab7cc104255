"""The az validation cache (azure.cache): a run seen before is answered without azure-cli,
and anything that could change a verdict (the lines, a local file they read, the worker's code
or azure-cli's version) makes it a miss."""

from __future__ import annotations

import stat

import pytest

from aks_runbook.azure import cache as azcache
from aks_runbook.azure import validate as azvalidate

pytestmark = pytest.mark.slow  # azure-cli's worker runs

LINES = ["az group create --name demo1 --location eastus",
         "az aks nodepool list --resource-group demo1 --cluster-name"]


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("AKS_RUNBOOK_CACHE", str(tmp_path))
    monkeypatch.setenv(azcache.NO_CACHE_ENV, "")  # on; undone after (the CLI test sets it)
    runs = []
    real = azvalidate._run_worker

    def counted(request, timeout):
        runs.append(request["lines"])
        return real(request, timeout)
    monkeypatch.setattr(azvalidate, "_run_worker", counted)
    return runs


def test_a_run_seen_before_gets_the_same_verdicts_without_azure_cli(cache, tmp_path):
    first = azvalidate.validate(LINES)
    second = azvalidate.validate(LINES)
    assert [r.status for r in first] == ["valid (deep)", "invalid"]
    assert second == first
    assert len(cache) == 1
    entries = list((tmp_path / "az-validation").rglob("*.json"))
    assert len(entries) == 1
    assert stat.S_IMODE(entries[0].stat().st_mode) == 0o600  # a line may hold a value
    assert stat.S_IMODE((tmp_path / "az-validation").stat().st_mode) == 0o700


def test_another_line_or_mode_is_a_miss(cache):
    azvalidate.validate(LINES)
    azvalidate.validate(LINES[:1])
    azvalidate.validate(LINES, deep=False)
    assert len(cache) == 3


def test_a_changed_local_file_is_a_miss(cache, tmp_path):
    config = tmp_path / "kubelet.json"
    config.write_text('{"cpuManagerPolicy": "static"}')
    line = (f"az aks nodepool add -g demo1 --cluster-name demo1 -n pool2 "
            f"--kubelet-config {config}")
    azvalidate.validate([line])
    azvalidate.validate([line])
    config.write_text('{"cpuManagerPolicy": "none"}')
    azvalidate.validate([line])
    assert len(cache) == 2


def test_a_changed_worker_or_azure_cli_is_a_miss(cache, monkeypatch):
    azvalidate.validate(LINES[:1])
    monkeypatch.setattr(azcache, "_worker_fingerprint", lambda: "azure-cli 9.99, new worker")
    azvalidate.validate(LINES[:1])
    assert len(cache) == 2


def test_no_cache_validates_afresh(cache, monkeypatch):
    azvalidate.validate(LINES[:1])
    azvalidate.validate(LINES[:1], cached=False)
    monkeypatch.setenv(azcache.NO_CACHE_ENV, "1")
    azvalidate.validate(LINES[:1])
    assert len(cache) == 3


def test_the_fingerprint_covers_the_worker_and_azure_cli(monkeypatch):
    """Every module the worker imports from this project is hashed, and azure-cli's version."""
    from aks_runbook.azure import offline
    imported = {line.split(" import ")[1].split(" as ")[0] + ".py"
                for line in open(offline.__file__) if line.startswith("from aks_runbook.azure")}
    assert imported | {"offline.py"} <= set(azcache.WORKER_MODULES)
    before = azcache._worker_fingerprint()
    azcache._worker_fingerprint.cache_clear()
    monkeypatch.setattr(azcache.metadata, "version", lambda name: "0.0.1")
    assert azcache._worker_fingerprint() != before
    azcache._worker_fingerprint.cache_clear()


def test_the_cli_no_cache_flag_reaches_the_validator(cache, capsys):
    from aks_runbook.cli import main
    assert main(["validate-az", LINES[0]]) == 0
    assert main(["validate-az", LINES[0]]) == 0
    assert main(["validate-az", "--no-cache", LINES[0]]) == 0
    assert len(cache) == 2
    assert "valid (deep)" in capsys.readouterr().out
