"""The aks target with execute: true. Azure itself cannot run here; what can be tested is
that nothing runs without a signed-in az, and that production guards destructive steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aks_runbook.azure import plan as azplan
from aks_runbook.params import load
from aks_runbook.run import chapters as runs
from aks_runbook.run import plan as planrun
from aks_runbook.run.runner import Runner
from aks_runbook.run.transcript import Transcript

pytestmark = pytest.mark.slow  # notebook runs and azure-cli's worker

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
    with pytest.raises(planrun.NeedsConfirmation, match="confirm_destructive: true"):
        planrun.execute(steps, prod, runner)
    assert runner.transcript.entries == []


class AzureStandIn:
    """A runner whose az answers lookups and records everything else (no Azure here)."""

    ANSWERS = {"az account show": "11111111-2222-3333-4444-555555555555",
               "az network firewall show": "10.10.8.4", "az network public-ip show": "20.48.0.7",
               "az identity show": "99999999-0000-0000-0000-000000000001",
               "az aks show --resource-group rg-team1-dev --name aks-team1-dev --query fqdn":
                   "aks-team1-dev-1.hcp.japaneast.azmk8s.io"}

    def __init__(self):
        self.env, self.commands = {"KUBECONFIG": "/tmp/kubeconfig"}, []

    def run(self, command, step, **kwargs):
        from aks_runbook.run.runner import Result

        self.commands.append(command)
        answer = next((v for k, v in self.ANSWERS.items() if command.startswith(k)), "")
        exists = step.endswith(":exists")  # nothing exists yet
        return Result(command, 1 if exists else 0, answer + "\n", "")


def test_execution_reads_azure_values_by_query_before_the_steps_that_use_them():
    dev = load(ROOT / "environments" / "aks-dev.yaml", {"execute": True})
    steps = [s for s in azplan.build(dev) if s.phase == "provision"]
    runner = AzureStandIn()
    planrun.execute(steps, dev, runner)
    ran = runner.commands
    lookup = next(i for i, c in enumerate(ran) if c.startswith("az network firewall show"))
    route = next(i for i, c in enumerate(ran) if "--name default-via-firewall" in c)
    assert lookup < route and ran[route].endswith("--next-hop-ip-address 10.10.8.4")
    assert "'ipConfigurations[0].privateIPAddress'" in ran[lookup]
    assert any("--address-prefix 20.48.0.7/32 --next-hop-type Internet" in c for c in ran)
    grant = next(c for c in ran if "--scope" in c and "routeTables" in c)
    assert "--assignee-object-id 99999999-0000-0000-0000-000000000001" in grant
    assert "/subscriptions/11111111-2222-3333-4444-555555555555/" in grant
    create = next(c for c in ran if c.startswith("az aks create"))
    assert "--api-server-authorized-ip-ranges 131.107.0.0/16,20.48.0.7/32" in create
    assert not [c for c in ran if "$" in c]  # every placeholder was resolved
