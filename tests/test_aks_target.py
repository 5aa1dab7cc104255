"""The aks target with execute: true. Azure itself cannot run here; what can be tested is
that nothing runs without a signed-in az, and that production guards destructive steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aks_runbook import azplan, runs
from aks_runbook.params import load
from aks_runbook.runner import Runner
from aks_runbook.transcript import Transcript

ROOT = Path(__file__).resolve().parents[1]


def test_without_az_login_the_run_stops_before_doing_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path / "no-login"))  # an az with no account
    result = runs.run(ROOT / "environments" / "aks-dev.yaml", runs_root=tmp_path,
                      overrides={"execute": True}, only=["01"])
    assert not result.ok
    message = runs.failure_message(result)
    assert message.startswith("01-overview.ipynb failed") and "NotLoggedIn" in message
    assert "az is not signed in: run `az login`" in message and "Nothing was run." in message
    commands = [json.loads(line)["command"] for line in
                (result.folder / "transcript.jsonl").read_text().splitlines()]
    assert commands == ["az account show --query id -o tsv"]


def test_production_refuses_destructive_plan_steps_before_running_any(tmp_path):
    prod = load(ROOT / "environments" / "aks-prod.yaml", {"execute": True})
    steps = azplan.validated(prod)
    runner = Runner(Transcript())
    with pytest.raises(azplan.NeedsConfirmation, match="confirm_destructive: true"):
        azplan.execute(steps, prod, runner)
    assert runner.transcript.entries == []
