"""The az plan's design (azplan) and the rules that judge a plan (checks.plan).

Each rule has a passing case (the example environments' plans) and failing cases: the same plan
with one documented requirement broken, the way an older or hand-edited plan would break it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from aks_runbook import azplan, manifests, params
from aks_runbook.checks import State, plan
from aks_runbook.objects import load_files

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = sorted((ROOT / "environments").glob("*.yaml"))


def env_of(name: str, **changes) -> params.Environment:
    given = params.to_papermill(params.load(ROOT / "environments" / f"{name}.yaml"))
    return params.load({**given, **changes})


def verdict(rule_id: str, env: params.Environment, steps: list[azplan.Step] | None = None):
    steps = azplan.build(env) if steps is None else steps
    [found] = [f for f in plan.judge(env, steps) if f.check == rule_id]
    return found.status, found.evidence


def edited(steps, step_id: str, old: str, new: str) -> list[azplan.Step]:
    step = next(s for s in steps if s.id == step_id)
    assert old in step.command, (step_id, old)
    return [replace(s, command=s.command.replace(old, new)) if s is step else s for s in steps]


def without(steps, *step_ids: str) -> list[azplan.Step]:
    assert set(step_ids) <= {s.id for s in steps}
    return [s for s in steps if s.id not in step_ids]


def moved_after_cluster(steps, step_id: str) -> list[azplan.Step]:
    step = next(s for s in steps if s.id == step_id)
    rest = [s for s in steps if s is not step]
    at = next(i for i, s in enumerate(rest) if s.id == "aks-create") + 1
    return rest[:at] + [step] + rest[at:]


def ids(env) -> list[str]:
    return [s.id for s in azplan.build(env)]


# ---- the design ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ENVIRONMENTS, ids=lambda p: p.name)
def test_example_plans_break_no_rule(path):
    env = params.load(path)
    failed = [(f.check, f.evidence) for f in plan.judge(env, azplan.build(env))
              if f.status == "fail"]
    assert failed == []


def test_prod_plan_is_the_complete_private_design_in_order():
    order = ids(env_of("aks-prod"))
    before = order.index
    assert before("identity") < before("role-subnet") < before("role-route-table") \
        < before("aks-create")
    assert before("route-table") < before("role-route-table")
    assert before("route-default") < before("route-firewall-ip") < before("route-table-attach") \
        < before("aks-create")
    assert before("acr") < before("registry-endpoint") < before("registry-endpoint-dns") \
        < before("aks-create")
    assert before("registry-dns-zone") < before("registry-dns-link")
    assert "operator-path" in order and "firewall-registry-rule" not in order
    assert sum(i.startswith("firewall-ipconfig-") for i in order) == 20
    assert not [i for i in order if i.startswith("firewall-tunnel") or "ntp" in i]


def test_registry_sku_follows_how_it_is_reached():
    commands = {name: next(s.command for s in azplan.build(env_of(name, **changes))
                           if s.id == "acr")
                for name, changes in (("aks-dev", {}), ("aks-prod", {}),
                                      ("kind", {}))}
    assert "--sku Premium --admin-enabled false --data-endpoint-enabled true" in commands["aks-dev"]
    assert "--public-network-enabled" not in commands["aks-dev"]
    assert commands["aks-prod"].endswith("--data-endpoint-enabled true "
                                         "--public-network-enabled false")
    assert "--sku Standard" in commands["kind"]


def test_firewall_rules_each_have_one_protocol_and_a_reason():
    dev = azplan.build(env_of("aks-dev"))
    rules = [s for s in dev if s.command.startswith("az network firewall network-rule")]
    assert [s.id for s in rules] == ["firewall-apiserver-tcp-443"]
    [api] = rules
    assert "--protocols TCP " in api.command and "--destination-ports 443" in api.command
    assert "--destination-fqdns $API_SERVER_FQDN" in api.command
    assert "by its IP" in api.reason
    opened = {r.name: r.needed for r in azplan.network_rules(env_of("aks-dev"))}
    assert opened == {"apiserver-tcp-443": True, "tunnel-udp-1194": False,
                      "tunnel-tcp-9000": False, "ntp-udp-123": False}
    assert not any(r.needed for r in azplan.network_rules(env_of("aks-prod")))


def test_firewall_private_ip_is_read_never_hard_coded():
    env = env_of("aks-dev")
    route = next(s for s in azplan.build(env) if s.id == "route-default")
    assert route.command.endswith("--next-hop-ip-address $FIREWALL_PRIVATE_IP")
    lookup = azplan.placeholders(env)["FIREWALL_PRIVATE_IP"].lookup
    assert lookup == ("az network firewall show --resource-group rg-team1-dev --name "
                      "fw-aks-team1-dev --query 'ipConfigurations[0].privateIPAddress' -o tsv")


def test_sh_format_reads_each_value_before_its_first_use_and_is_valid_bash(tmp_path):
    env = env_of("aks-prod", api_server={"private_cluster": False,
                                         "authorized_ip_ranges": ["131.107.0.0/16"]})
    text = azplan.render(azplan.build(env), env, "sh")
    script = tmp_path / "plan.sh"
    script.write_text(text)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    lines = text.splitlines()
    for name in ("FIREWALL_PRIVATE_IP", "FIREWALL_PUBLIC_IP", "FIREWALL_PUBLIC_IP_20",
                 "IDENTITY_PRINCIPAL_ID", "SUBSCRIPTION_ID", "API_SERVER_FQDN"):
        defined = next(i for i, line in enumerate(lines) if line.startswith(f"{name}=$(az "))
        used = next(i for i, line in enumerate(lines) if line.startswith("az ")
                    and f"${name}" in azplan.PLACEHOLDER.sub(r"$\1 ", line))
        assert defined < used, name
    create = next(line for line in lines if line.startswith("az aks create"))
    assert "$FIREWALL_PUBLIC_IP/32,$FIREWALL_PUBLIC_IP_2/32" in create


def test_placeholders_are_filled_by_whole_name():
    assert azplan.fill("$FIREWALL_PUBLIC_IP/32,$FIREWALL_PUBLIC_IP_2/32 $UNKNOWN",
                       {"FIREWALL_PUBLIC_IP": "20.0.0.1", "FIREWALL_PUBLIC_IP_2": "20.0.0.2"}) \
        == "20.0.0.1/32,20.0.0.2/32 $UNKNOWN"


def test_text_plan_says_where_each_value_comes_from():
    env = env_of("aks-dev")
    text = azplan.render(azplan.build(env), env)
    assert text.count("FIREWALL_PRIVATE_IP=$(az network firewall show") == 1
    assert "IDENTITY_PRINCIPAL_ID=$(az identity show" in text


@pytest.mark.parametrize("outbound, expected, absent", [
    ("loadBalancer", ["vnet", "role-subnet"], ["firewall", "nat-gateway"]),
    ("userAssignedNATGateway", ["nat-ip", "nat-gateway", "nat-gateway-attach", "role-subnet"],
     ["firewall", "role-route-table"]),
    ("managedNATGateway", [], ["vnet", "role-subnet", "firewall"]),
    ("userDefinedRouting", ["firewall", "role-route-table"], ["nat-gateway"]),
])
def test_each_outbound_type_plans_its_own_egress(outbound, expected, absent):
    env = env_of("aks-dev", egress={"outbound_type": outbound},
                 api_server={"authorized_ip_ranges": []} if outbound == "managedNATGateway"
                 else {"authorized_ip_ranges": ["131.107.0.0/16"]})
    planned = ids(env)
    assert set(expected) <= set(planned) and not set(absent) & set(planned)
    create = next(s.command for s in azplan.build(env) if s.id == "aks-create")
    assert f"--outbound-type {outbound}" in create
    assert ("--vnet-subnet-id" in create) == (outbound != "managedNATGateway")


def test_network_isolated_plan_bootstraps_from_a_private_registry():
    env = env_of("aks-prod", egress={"outbound_type": "none"})
    create = next(s.command for s in azplan.build(env) if s.id == "aks-create")
    assert "--outbound-type none --bootstrap-artifact-source Cache" in create
    assert "firewall" not in " ".join(ids(env))


# ---- the rules: each passes on the plan and fails when its requirement is broken --------------

def test_001_registry_data_endpoint():
    env = env_of("aks-dev")
    steps = azplan.build(env)
    assert verdict("AKS-PLAN-001", env)[0] == "pass"
    standard = edited(steps, "acr", "--sku Premium", "--sku Standard")
    standard = edited(standard, "acr", " --data-endpoint-enabled true", "")
    status, evidence = verdict("AKS-PLAN-001", env, standard)
    assert status == "fail" and "Premium only" in evidence and "*.blob.core.windows.net" in evidence
    login_only = edited(steps, "firewall-registry-rule", " acrteam1dev.japaneast.data.azurecr.io",
                        "")
    status, evidence = verdict("AKS-PLAN-001", env, login_only)
    assert status == "fail" and "does not allow acrteam1dev.japaneast.data.azurecr.io" in evidence
    blob = edited(steps, "firewall-registry-rule", "acrteam1dev.azurecr.io",
                  "acrteam1dev.azurecr.io '*.blob.core.windows.net'")
    assert "exfiltration" in verdict("AKS-PLAN-001", env, blob)[1]
    assert verdict("AKS-PLAN-001", env_of("aks-prod"))[0] == "not-applicable"  # private endpoint


def test_002_routes():
    env = env_of("aks-dev")
    steps = azplan.build(env)
    hard_coded = edited(steps, "route-default", "$FIREWALL_PRIVATE_IP", "10.225.0.4")
    status, evidence = verdict("AKS-PLAN-002", env, hard_coded)
    assert status == "fail" and "10.225.0.4 is hard-coded" in evidence
    status, evidence = verdict("AKS-PLAN-002", env, without(steps, "route-firewall-ip"))
    assert status == "fail" and "asymmetric routing" in evidence
    late = moved_after_cluster(steps, "route-table-attach")
    assert "not attached to the node subnet before" in verdict("AKS-PLAN-002", env, late)[1]
    assert verdict("AKS-PLAN-002", env_of("kind"))[0] == "not-applicable"


def test_003_private_cluster_needs_a_private_registry():
    env = env_of("aks-prod")
    steps = azplan.build(env)
    public = edited(steps, "acr", " --public-network-enabled false", "")
    status, evidence = verdict("AKS-PLAN-003", env, public)
    assert status == "fail" and "keeps public network access" in evidence
    status, evidence = verdict("AKS-PLAN-003", env, without(steps, "registry-endpoint",
                                                            "registry-dns-link"))
    assert status == "fail" and "no private endpoint" in evidence and "VNET link" in evidence
    assert verdict("AKS-PLAN-003", env_of("aks-dev"))[0] == "not-applicable"


def test_004_network_rules_of_2020_fail():
    env = env_of("aks-dev")
    steps = azplan.build(env)
    legacy = replace(steps[0], id="legacy-rule", command=(
        "az network firewall network-rule create --resource-group rg-team1-dev --firewall-name "
        "fw --collection-name aks-network --name aks-tunnel-ntp --action Allow --priority 100 "
        "--protocols UDP TCP --source-addresses 10.224.0.0/16 --destination-addresses "
        "AzureCloud.japaneast --destination-ports 1194 9000 123"))
    status, evidence = verdict("AKS-PLAN-004", env, [*steps, legacy])
    assert status == "fail"
    for part in ("protocols UDP TCP", "1194, 9000 are the legacy tunnel", "NTP 123",
                 "several ports"):
        assert part in evidence
    status, evidence = verdict("AKS-PLAN-004", env, without(steps, "firewall-apiserver-tcp-443"))
    assert status == "fail" and "no TCP 443 rule to the API server" in evidence
    assert verdict("AKS-PLAN-004", env_of("aks-prod"))[0] == "pass"  # private: none needed


def test_005_identity_rights_before_the_cluster():
    env = env_of("aks-dev")
    steps = azplan.build(env)
    status, evidence = verdict("AKS-PLAN-005", env, without(steps, "role-route-table"))
    assert status == "fail" and "on the route table before az aks create" in evidence
    late = moved_after_cluster(steps, "role-subnet")
    assert "node subnet" in verdict("AKS-PLAN-005", env, late)[1]
    assert verdict("AKS-PLAN-005", env_of("aks-dev", egress={
        "outbound_type": "managedNATGateway"}, api_server={}))[0] == "not-applicable"


def test_006_private_cluster_needs_an_operator_path():
    env = env_of("aks-prod")
    assert verdict("AKS-PLAN-006", env) == ("pass", "operator path: az aks command invoke")
    status, _ = verdict("AKS-PLAN-006", env, without(azplan.build(env), "operator-path"))
    assert status == "fail"


def test_007_production_firewall_ips():
    assert verdict("AKS-PLAN-007", env_of("aks-prod"))[0] == "pass"
    status, evidence = verdict("AKS-PLAN-007", env_of("aks-prod", egress={
        "outbound_type": "userDefinedRouting", "firewall_public_ips": 2}))
    assert status == "fail" and evidence.startswith("2 frontend IP(s)")
    assert verdict("AKS-PLAN-007", env_of("aks-dev"))[0] == "not-applicable"


def test_008_os_update_sources_through_the_firewall():
    env = env_of("aks-prod")
    status, evidence = verdict("AKS-PLAN-008", env, without(azplan.build(env),
                                                            "firewall-os-updates-rule"))
    assert status == "fail" and "snapshot.ubuntu.com" in evidence
    unmanaged = env_of("aks-dev", upgrades={"node_os_upgrade_channel": "Unmanaged"})
    assert verdict("AKS-PLAN-008", unmanaged)[0] == "pass"
    assert verdict("AKS-PLAN-008", env_of("aks-dev"))[0] == "not-applicable"  # NodeImage


def test_009_authorized_ranges_include_the_egress_ips():
    env = env_of("aks-dev")
    steps = edited(azplan.build(env), "aks-create", ",$FIREWALL_PUBLIC_IP/32", "")
    status, evidence = verdict("AKS-PLAN-009", env, steps)
    assert status == "fail" and "$FIREWALL_PUBLIC_IP/32" in evidence
    nat = env_of("aks-dev", egress={"outbound_type": "userAssignedNATGateway"})
    assert verdict("AKS-PLAN-009", nat) == ("pass", "ranges include $NAT_PUBLIC_IP/32")


# ---- the app under default deny --------------------------------------------------------------

def chapter_state(folder: Path, with_ingress_allow: bool) -> State:
    """The chapter's app and policies, read back from files as `--from-files` would."""
    docs = manifests.render("voting-app", namespace="vote", back_selector="azure-vote-back",
                            front_replicas=2)
    docs += [d for d in manifests.render("network-policies", namespace="vote",
                                         ingress_namespace="app-routing-system")
             if with_ingress_allow or d["metadata"]["name"] != "front-from-ingress"]
    path = folder / f"chapter-{with_ingress_allow}.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return State(objects=load_files([path]).objects, origin="files")


def test_010_ingress_controller_reaches_the_front_end_only_with_its_allow(tmp_path):
    [passing] = plan.ingress_reachable(chapter_state(tmp_path, True), "app-routing-system")
    assert (passing.status, passing.resource) == (
        "pass", "Ingress/vote/azure-vote -> Service azure-vote-front")
    assert passing.evidence == "app-routing-system reaches 1 pod(s) on http"
    [failing] = plan.ingress_reachable(chapter_state(tmp_path, False), "app-routing-system")
    assert failing.status == "fail" and "cannot reach" in failing.evidence
    [other] = plan.ingress_reachable(chapter_state(tmp_path, True), "ingress-nginx")
    assert other.status == "fail"  # the allow names one namespace, not every one


# ---- currency carried by the posture checks --------------------------------------------------

def test_policy_engine_check_says_azure_npm_retires_and_points_to_cilium():
    from aks_runbook import checks

    def net_002(policy: str) -> checks.Finding:
        state = State(cluster={"name": "aks1", "networkProfile": {
            "networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": policy}},
            cluster_source="az aks show", has_cluster=False)
        return next(f for f in checks.run(state) if f.check == "AKS-NET-002")

    npm = net_002("azure")
    assert npm.status == "pass"  # still a policy engine today
    assert "retires (Linux 2028-09-30, Windows 2026-09-30): migrate to Cilium" in npm.evidence
    assert "retires" not in net_002("cilium").evidence
    assert "Azure NPM retires on Linux 2028-09-30" in net_002("none").remediation


def test_plan_command_shows_the_rules_and_fails_when_one_fails(tmp_path):
    cli = [sys.executable, "-m", "aks_runbook.cli", "plan"]
    ok = subprocess.run([*cli, str(ROOT / "environments" / "aks-prod.yaml")],
                        capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stderr
    assert "[pass] AKS-PLAN-007 Plan/prod: 20 frontend IP(s)" in ok.stdout
    given = yaml.safe_load((ROOT / "environments" / "aks-prod.yaml").read_text())
    given["egress"]["firewall_public_ips"] = 2
    few = tmp_path / "few-ips.yaml"
    few.write_text(yaml.safe_dump(given))
    failing = subprocess.run([*cli, str(few), "--format", "json"], capture_output=True,
                             text=True, timeout=600)
    assert failing.returncode == 1
    assert isinstance(json.loads(failing.stdout), list)  # the rules go to stderr with JSON
    assert "[fail] AKS-PLAN-007" in failing.stderr
