"""tests/nbval-sanitize.cfg masks what the cluster assigns at random, and nothing the
parameters decide: a wrong CIDR or name in a notebook's output must still fail nbval."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = get_sanitize_patterns((ROOT / "tests" / "nbval-sanitize.cfg").read_text())


def sanitize(text: str) -> str:
    for regex, replace in PATTERNS:  # as nbval does
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize("line, expected", [
    ("azure-vote-back    ClusterIP   10.0.52.150   <none>        6379/TCP   12s",
     "azure-vote-back    ClusterIP   CLUSTER-IP   <none>        6379/TCP   12s"),
    ("IPs:                      10.0.67.178", "IPs:                      CLUSTER-IP"),
    ("Endpoints:                10.244.1.7:6379,10.244.2.13:6379",
     "Endpoints:                POD-IP:6379,POD-IP:6379"),
    ("azure-vote-front-59b6d57c69-clft5   true   mcr.microsoft.com/azuredocs/azure-vote-front:v1",
     "azure-vote-front-59b6d57c69-XXXXX   true   mcr.microsoft.com/azuredocs/azure-vote-front:v1"),
    ("log-agent-x7k2p   aks-user-75276105-vmss000001",
     "log-agent-XXXXX   aks-user-75276105-vmss000001"),
    ("$ kubectl port-forward service/azure-vote-front 41557:80 --namespace azure-vote &",
     "$ kubectl port-forward service/azure-vote-front LOCAL-PORT:80 --namespace azure-vote &"),
])
def test_assigned_values_are_masked(line, expected):
    assert sanitize(line) == expected


@pytest.mark.parametrize("line", [
    "az aks create --resource-group rg-demo-local --name aks-demo-local --pod-cidr "
    "10.244.0.0/16 --service-cidr 10.0.0.0/16 --dns-service-ip 10.0.0.10",
    "--service-cidr=10.0.0.0/16 --dns-service-ip=10.0.0.10",
    "ReplicaSet/azure-vote/azure-vote-back-866fd488bc   pass",
    "Service/azure-vote/azure-vote-front   aks-system-77271179-vmss000000",
    "azure-vote-front-proxy   node-exporter   log-agent",
])
def test_values_the_parameters_decide_are_kept(line):
    assert sanitize(line) == line


def test_stored_cidrs_and_dns_service_ip_stay_compared():
    decided = []
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", []))
                decided += re.findall(r"--(?:pod-cidr|service-cidr|dns-service-ip)[ =]\S+", text)
    assert decided, "the stored az aks create line should name the CIDRs"
    assert [sanitize(value) for value in decided] == decided
