"""The offline az validator: azure-cli's own parser, validators and (deep) create handler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aks_runbook import azplan, params
from aks_runbook.azvalidate import join_continuations, validate

ROOT = Path(__file__).resolve().parents[1]
SUBNET = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
          "Microsoft.Network/virtualNetworks/v/subnets/s")


@pytest.fixture(scope="module")
def results():
    lines = [
        "az aks create -g rg -n aks -l japaneast --no-ssh-key --outbound-type userDefinedRoutiong",
        "az aks create -g rg -n aks -l japaneast --no-ssh-key --enable-private-cluster "
        "--api-server-authorized-ip-ranges 131.107.0.0/16",
        "az aks create -g rg -n aks -l japaneast --no-ssh-key --outbound-type userDefinedRouting",
        f"az aks create -g rg -n aks -l japaneast --no-ssh-key --outbound-type userDefinedRouting "
        f"--vnet-subnet-id {SUBNET}",
        "az network firewall create -g rg -n fw",
        "az aks frobnicate -g rg",
        "az aks create -g rg -n aks --network-policy Azure",
        "az aks get-credentials -g rg -n aks --admin",
        "az aks create -g rg -n aks --no-such-flag",
        "kubectl get pods",
    ]
    return validate(lines)


def test_reference_typo_is_invalid_with_the_right_value_suggested(results):
    typo = results[0]
    assert typo.status == "invalid"
    assert "'userDefinedRoutiong' is not a valid value for '--outbound-type'" in typo.message
    assert typo.suggestion == "userDefinedRouting"


def test_private_cluster_with_authorized_ranges_is_a_conflict(results):
    assert results[1].status == "invalid" and results[1].depth == "deep"
    assert "--api-server-authorized-ip-ranges is not supported for private cluster" in \
        results[1].message


def test_udr_needs_a_subnet_and_passes_with_one(results):
    assert results[2].status == "invalid"
    assert "--vnet-subnet-id must be specified for userDefinedRouting" in results[2].message
    assert results[3].status == "valid" and results[3].depth == "deep"
    assert "Azure call" in results[3].message, "deep mode runs the handler up to Azure"


def test_extension_commands_are_never_reported_valid(results):
    firewall = results[4]
    assert firewall.status == "not-validated"
    assert "extension not installed (azure-firewall)" in firewall.message


def test_unknown_commands_flags_and_values_are_invalid(results):
    assert results[5].status == "invalid" and "misspelled or not recognized" in results[5].message
    assert results[6].status == "invalid" and "lowercase" in results[6].message
    assert results[8].status == "invalid" and "unrecognized arguments: --no-such-flag" in \
        results[8].message


def test_valid_lines_and_non_az_lines(results):
    assert results[7].status == "valid" and results[7].command == "aks get-credentials"
    assert results[9].status == "not-validated" and results[9].message == "not an az command"


@pytest.mark.parametrize("path", sorted((ROOT / "environments").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_example_plan_validates(path):
    env = params.load(path)
    steps = azplan.validated(env)
    for step in steps:
        v = step.validation
        assert v.status != "invalid", f"{step.id}: {v.message}"
        if v.status == "valid":
            assert v.command and step.command.startswith(f"az {v.command}"), step.id
        else:
            assert step.command.startswith("az network firewall"), step.id
            assert "extension not installed" in v.message
    create = next(s for s in steps if s.id == "aks-create")
    assert create.validation.depth == "deep"


def test_validation_never_reaches_the_network():
    code = ("from aks_runbook import azoffline; azoffline._isolate(); import socket\n"
            "try:\n socket.create_connection(('127.0.0.1', 9))\nexcept azoffline.NetworkRefused:"
            "\n print('refused')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "refused"


def test_cli_exits_nonzero_on_an_invalid_line():
    cli = [sys.executable, "-m", "aks_runbook.cli", "validate-az"]
    bad = subprocess.run(cli, input="az aks create -g rg -n c \\\n  --outbound-type "
                         "userDefinedRoutiong\n", capture_output=True, text=True)
    assert bad.returncode == 1 and "did you mean: userDefinedRouting" in bad.stdout
    good = subprocess.run([*cli, "az group create -n rg -l japaneast"], capture_output=True,
                          text=True)
    assert good.returncode == 0 and good.stdout.startswith("[valid]")


def test_plan_command_formats():
    cli = [sys.executable, "-m", "aks_runbook.cli", "plan", str(ROOT / "environments" /
                                                                "aks-dev.yaml")]
    sh = subprocess.run([*cli, "--format", "sh"], capture_output=True, text=True)
    assert sh.returncode == 0 and sh.stdout.startswith("#!/usr/bin/env bash")
    assert "SUBSCRIPTION_ID=$(az account show --query id -o tsv)" in sh.stdout
    assert "az aks create" in sh.stdout


def test_continuations_are_joined():
    assert join_continuations("# comment\naz group create \\\n  -n rg \\\n  -l x\n\n") == [
        "az group create -n rg -l x"]
