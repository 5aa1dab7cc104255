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

from aks_runbook import manifests, params
from aks_runbook.azure import plan as azplan
from aks_runbook.checks import State, plan
from aks_runbook.cluster.objects import load_files
from aks_runbook.run import plan as planrun

pytestmark = pytest.mark.slow  # every plan is validated by azure-cli's worker

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
    node_image = env_of("aks-dev", upgrades={"node_os_upgrade_channel": "NodeImage"})
    assert verdict("AKS-PLAN-008", node_image)[0] == "not-applicable"


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


# ---- every feature the plan enables, with and without its prerequisite ------------------------

def add_step(steps, after: str, step_id: str, command: str, **fields) -> list[azplan.Step]:
    at = next(i for i, s in enumerate(steps) if s.id == after) + 1
    new = azplan.Step(step_id, "03-auth", "operate", "added by the test", command, **fields)
    return steps[:at] + [new] + steps[at:]


def test_the_prerequisites_table_has_a_rule_and_a_page_for_every_feature():
    table = plan.prerequisites()
    assert [row["rule"] for row in table] == [f"AKS-PLAN-0{n}" for n in range(11, 24)]
    for row in table:
        assert row["feature"] and row["detected in the plan"] and row["needs"]
        assert row["docs page"] and row["docs page"][0].isupper()
    rules = {r.id: r for r in plan.RULES}
    for row in table:  # a failing rule names its page and the prerequisite
        assert rules[row["rule"]].public_ids == row["docs page"]
        assert rules[row["rule"]].remediation == row["needs"]


def test_011_key_vault_provider_needs_the_vault_behind_the_firewall_or_a_private_path():
    dev, prod = env_of("aks-dev"), env_of("aks-prod")
    assert verdict("AKS-PLAN-011", dev) == (
        "pass", "the firewall allows kv-team1-dev.vault.azure.net:443")
    status, evidence = verdict("AKS-PLAN-011", dev,
                               without(azplan.build(dev), "firewall-keyvault-rule"))
    assert status == "fail" and "Key Vault secrets provider enabled" in evidence
    assert "kv-team1-dev.vault.azure.net:443" in evidence and "ContainerCreating" in evidence
    # the page's literal vault.azure.net does not match a vault's own name: still a failure
    literal = edited(azplan.build(dev), "firewall-keyvault-rule",
                     "--target-fqdns kv-team1-dev.vault.azure.net",
                     "--target-fqdns vault.azure.net")
    assert verdict("AKS-PLAN-011", dev, literal)[0] == "fail"
    wildcard = edited(azplan.build(dev), "firewall-keyvault-rule",
                      "--target-fqdns kv-team1-dev.vault.azure.net",
                      "--target-fqdns '*.vault.azure.net'")
    assert verdict("AKS-PLAN-011", dev, wildcard)[0] == "pass"
    assert "private endpoint" in verdict("AKS-PLAN-011", prod)[1]
    status, evidence = verdict("AKS-PLAN-011", prod,
                               without(azplan.build(prod), "key-vault-endpoint-dns"))
    assert status == "fail" and "DNS zone group for privatelink.vaultcore.azure.net" in evidence
    off = edited(azplan.build(dev), "aks-create", "azure-keyvault-secrets-provider,", "")
    assert verdict("AKS-PLAN-011", dev, without(off, "firewall-keyvault-rule"))[0] \
        == "not-applicable"
    unfiltered = env_of("aks-dev", egress={"outbound_type": "userAssignedNATGateway"})
    assert verdict("AKS-PLAN-011", unfiltered)[0] == "not-applicable"


def test_012_key_vault_has_purge_protection_and_in_a_private_design_no_public_endpoint():
    dev, prod = env_of("aks-dev"), env_of("aks-prod")
    assert verdict("AKS-PLAN-012", dev)[0] == "pass"
    assert verdict("AKS-PLAN-012", prod) == (
        "pass", "Key Vault kv-team1-prod: purge protection, private endpoint, public access off")
    no_purge = edited(azplan.build(dev), "key-vault", " --enable-purge-protection true", "")
    status, evidence = verdict("AKS-PLAN-012", dev, no_purge)
    assert status == "fail" and "no purge protection" in evidence
    public = edited(azplan.build(prod), "key-vault", " --public-network-access Disabled", "")
    public = without(public, "key-vault-endpoint")
    status, evidence = verdict("AKS-PLAN-012", prod, public)
    assert "keeps its public endpoint" in evidence and "--group-id vault" in evidence


def test_013_the_secret_writer_gets_secrets_officer_first_and_the_value_stays_in_a_file():
    dev = env_of("aks-dev")
    steps = azplan.build(dev)
    secret = next(s for s in steps if s.id == "key-vault-secret")
    assert "--file $SECRET_FILE" in secret.command and "--value" not in secret.command
    assert "--output none" in secret.command
    assert verdict("AKS-PLAN-013", dev)[0] == "pass"
    status, evidence = verdict("AKS-PLAN-013", dev, without(steps, "key-vault-secrets-officer"))
    assert status == "fail" and "nobody is given Key Vault Secrets Officer" in evidence
    late = [s for s in steps if s.id != "key-vault-secrets-officer"]
    late.append(next(s for s in steps if s.id == "key-vault-secrets-officer"))
    assert verdict("AKS-PLAN-013", dev, late)[0] == "fail"  # granted after the write
    typed = edited(steps, "key-vault-secret", "--file $SECRET_FILE", "--value hunter2")
    assert "its value is on the command line" in verdict("AKS-PLAN-013", dev, typed)[1]
    # the wrong role on the right vault does not count
    reader = edited(steps, "key-vault-secrets-officer", "'Key Vault Secrets Officer'",
                    "'Key Vault Secrets User'")
    assert verdict("AKS-PLAN-013", dev, reader)[0] == "fail"


def test_014_azure_policy_needs_its_fqdns_behind_the_firewall():
    dev = env_of("aks-dev")
    assert verdict("AKS-PLAN-014", dev)[0] == "pass"
    assert verdict("AKS-PLAN-014", env_of("aks-prod"))[0] == "pass"  # no private path exists
    partial = edited(azplan.build(dev), "firewall-policy-rule",
                     " store.policy.core.windows.net", "")
    status, evidence = verdict("AKS-PLAN-014", dev, partial)
    assert status == "fail" and evidence.startswith("Azure Policy add-on enabled")
    assert "store.policy.core.windows.net" in evidence and "data.policy" not in evidence
    status, _ = verdict("AKS-PLAN-014", dev, without(azplan.build(dev), "firewall-policy-rule"))
    assert status == "fail"


def test_015_azure_policy_enforces_something_or_fails():
    dev, prod = env_of("aks-dev"), env_of("aks-prod")
    assert verdict("AKS-PLAN-015", dev) == ("pass", "Deployment Safeguards at level Warn")
    assert verdict("AKS-PLAN-015", prod) == ("pass", "Deployment Safeguards at level Enforce")
    status, evidence = verdict("AKS-PLAN-015", dev, without(azplan.build(dev),
                                                            "policy-safeguards"))
    assert status == "fail" and "enforces nothing" in evidence
    initiative = add_step(without(azplan.build(dev), "policy-safeguards"), "aks-create",
                          "policy-assignment", "az policy assignment create --name "
                          "pss-baseline --scope /subscriptions/0/resourceGroups/rg-team1-dev "
                          "--policy-set-definition a8640138-9b0a-4a28-b8cb-1666c838647d")
    assert verdict("AKS-PLAN-015", dev, initiative) == ("pass",
                                                        "policy assignment pss-baseline")


def test_016_monitoring_needs_the_azure_monitor_fqdns():
    dev = env_of("aks-dev")
    steps = azplan.build(dev)
    assert verdict("AKS-PLAN-016", dev)[0] == "not-applicable"
    monitored = edited(steps, "aks-create", "azure-policy", "azure-policy,monitoring")
    status, evidence = verdict("AKS-PLAN-016", dev, monitored)
    assert status == "fail" and "*.ods.opinsights.azure.com" in evidence
    assert "japaneast.handler.control.monitor.azure.com" in evidence
    rule = ("az network firewall application-rule create --resource-group rg-team1-dev "
            "--firewall-name fw-aks-team1-dev --collection-name monitor --name monitor "
            "--action Allow --priority 150 --source-addresses 10.224.0.0/16 --protocols "
            "https=443 --target-fqdns " + " ".join(
                f"'{f.replace('{region}', 'japaneast')}'" for f in azplan.MONITOR_FQDNS))
    allowed = add_step(monitored, "firewall-policy-rule", "firewall-monitor-rule", rule)
    assert verdict("AKS-PLAN-016", dev, allowed)[0] == "pass"


def test_017_workload_identity_needs_the_oidc_issuer():
    dev = env_of("aks-dev")
    assert verdict("AKS-PLAN-017", dev)[0] == "pass"
    no_oidc = edited(azplan.build(dev), "aks-create", " --enable-oidc-issuer", "")
    status, evidence = verdict("AKS-PLAN-017", dev, no_oidc)
    assert status == "fail" and "--enable-oidc-issuer" in evidence
    no_tag = edited(azplan.build(dev), "firewall-aks-rule", "--fqdn-tags AzureKubernetesService",
                    "--target-fqdns mcr.microsoft.com")
    assert "login.microsoftonline.com" in verdict("AKS-PLAN-017", dev, no_tag)[1]


def test_018_local_accounts_off_needs_an_admin_group_or_a_cluster_admin():
    dev = env_of("aks-dev")
    assert verdict("AKS-PLAN-018", dev)[0] == "pass"
    steps = edited(azplan.build(dev), "aks-create",
                   " --aad-admin-group-object-ids 00000000-0000-0000-0000-0000000000a1", "")
    status, evidence = verdict("AKS-PLAN-018", dev, steps)
    assert status == "fail" and "nobody can administer the cluster" in evidence
    # without a group the plan itself gives the operator the role (and the door)
    no_group = env_of("aks-dev", entra={"admin_group_object_ids": []})
    planned = ids(no_group)
    assert "cluster-admin-operator" in planned and "cluster-user-operator" in planned
    assert planned.index("aks-create") < planned.index("cluster-admin-operator")
    assert verdict("AKS-PLAN-018", no_group)[0] == "pass"
    assert verdict("AKS-PLAN-019", no_group)[0] == "pass"
    without_rbac = edited(azplan.build(no_group), "aks-create", " --enable-azure-rbac", "")
    assert verdict("AKS-PLAN-018", no_group, without_rbac)[0] == "fail"  # the role grants nothing
    local_on = env_of("aks-dev", entra={"disable_local_accounts": False})
    assert verdict("AKS-PLAN-018", local_on)[0] == "not-applicable"


def test_019_everyone_with_kubernetes_rights_through_azure_can_fetch_credentials():
    prod = env_of("aks-prod")
    assert verdict("AKS-PLAN-019", prod)[0] == "pass"
    status, evidence = verdict("AKS-PLAN-019", prod, without(azplan.build(prod),
                                                             "cluster-user-viewers"))
    assert status == "fail" and "$VIEWERS_GROUP_ID gets Azure Kubernetes Service RBAC Reader " \
                                "but not Cluster User Role" in evidence
    early = azplan.build(prod)
    reader = next(s for s in early if s.id == "rbac-reader-viewers")
    early = [reader] + [s for s in early if s is not reader]
    assert "assigned before az aks create" in verdict("AKS-PLAN-019", prod, early)[1]


def test_020_attached_registry_exists_before_the_cluster():
    dev = env_of("aks-dev")
    assert verdict("AKS-PLAN-020", dev)[0] == "pass"
    status, evidence = verdict("AKS-PLAN-020", dev, moved_after_cluster(azplan.build(dev), "acr"))
    assert status == "fail" and "--attach-acr acrteam1dev" in evidence


def test_021_images_come_from_mcr_or_your_registry():
    unmanaged = env_of("aks-dev", upgrades={"node_os_upgrade_channel": "Unmanaged"})
    steps = azplan.build(unmanaged)
    assert verdict("AKS-PLAN-021", unmanaged)[0] == "pass"
    upstream = edited(steps, "kured-install", "image.repository=acrteam1dev.azurecr.io/kubereboot"
                                              "/kured", "image.repository=ghcr.io/kubereboot/kured")
    status, evidence = verdict("AKS-PLAN-021", unmanaged, upstream)
    assert status == "fail" and "comes from ghcr.io, which the firewall does not allow" in evidence
    status, evidence = verdict("AKS-PLAN-021", unmanaged, without(steps, "kured-image-import"))
    assert status == "fail" and "is not imported into the registry first" in evidence
    every = {image for _, image in azplan.cluster_images(unmanaged)}
    assert every and all(i.startswith(("mcr.microsoft.com/", "acrteam1dev.azurecr.io/"))
                         for i in every)


def test_022_check_acr_on_an_entra_cluster_signs_in_with_az():
    dev = env_of("aks-dev")
    step = next(s for s in azplan.build(dev) if s.id == "check-acr")
    assert step.shown.startswith("AAD_LOGIN_METHOD=azurecli az aks check-acr ")
    assert step.command.startswith("az aks check-acr ")  # what azure-cli validates
    assert "hostNetwork" in step.reason and "namespace default" in step.reason
    assert verdict("AKS-PLAN-022", dev)[0] == "pass"
    bare = [replace(s, env=()) if s.id == "check-acr" else s for s in azplan.build(dev)]
    status, evidence = verdict("AKS-PLAN-022", dev, bare)
    assert status == "fail" and "device code" in evidence


def test_023_each_channel_has_its_own_window():
    dev = env_of("aks-dev")
    assert verdict("AKS-PLAN-023", dev)[0] == "pass"
    status, evidence = verdict("AKS-PLAN-023", dev, without(
        azplan.build(dev), "maintenance-aksManagedAutoUpgradeSchedule"))
    assert status == "fail" and "--auto-upgrade-channel stable without" in evidence


def test_execute_refuses_a_plan_that_breaks_a_rule_before_running_anything():
    from aks_runbook.run.runner import Runner
    from aks_runbook.run.transcript import Transcript

    dev = env_of("aks-dev", execute=True)
    broken = without(azplan.build(dev), "firewall-keyvault-rule")
    runner = Runner(Transcript())
    with pytest.raises(planrun.FailingRules) as refused:
        planrun.execute(broken, dev, runner)
    assert "AKS-PLAN-011" in str(refused.value) and "nothing was run" in str(refused.value)
    assert runner.transcript.entries == []
    # a part of the plan is judged together with the rest of it
    part = [s for s in broken if s.phase == "provision"]
    with pytest.raises(planrun.FailingRules):
        planrun.execute(part, dev, Runner(Transcript()))


# ---- the review's design fixes -----------------------------------------------------------------

def test_groups_are_per_environment_and_prod_humans_only_read():
    dev, prod = env_of("aks-dev"), env_of("aks-prod")
    assert azplan.team_groups(dev) == {"developers": "team-vote-dev-developers",
                                       "viewers": "team-vote-dev-viewers"}
    assert set(azplan.team_groups(prod).values()).isdisjoint(azplan.team_groups(dev).values())
    lookup = azplan.placeholders(prod)["DEVELOPERS_GROUP_ID"].lookup
    assert lookup == "az ad group show --group team-vote-prod-developers --query id -o tsv"
    roles = {(s.id, s.command.split("--role ")[1].split(" --")[0])
             for s in azplan.build(prod) if "az role assignment create" in s.command
             and "_GROUP_ID" in s.command}
    assert roles == {
        ("cluster-user-developers", "'Azure Kubernetes Service Cluster User Role'"),
        ("cluster-user-viewers", "'Azure Kubernetes Service Cluster User Role'"),
        ("rbac-reader-developers", "'Azure Kubernetes Service RBAC Reader'"),
        ("rbac-reader-viewers", "'Azure Kubernetes Service RBAC Reader'")}
    writers = [s for s in azplan.build(prod) if "RBAC Writer" in s.command]
    assert [s.id for s in writers] == ["rbac-writer-pipeline"]
    assert "$PIPELINE_PRINCIPAL_ID" in writers[0].command
    assert writers[0].command.endswith("/managedClusters/aks-team1-prod/namespaces/team-vote")
    fc = next(s.command for s in azplan.build(prod) if s.id == "pipeline-federated-credential")
    assert "--issuer https://token.actions.githubusercontent.com" in fc
    assert "--subject repo:contoso/team-vote:environment:prod" in fc
    # dev: viewers can fetch credentials too; no Azure RBAC grant next to the Kubernetes Roles
    dev_ids = ids(dev)
    assert {"cluster-user-developers", "cluster-user-viewers"} <= set(dev_ids)
    assert not [i for i in dev_ids if i.startswith(("rbac-", "pipeline-"))]


def test_team_rbac_binds_groups_only():
    docs = manifests.render("team-rbac", namespace="team-vote",
                            developers_group="11111111-1111-1111-1111-111111111111",
                            viewers_group="22222222-2222-2222-2222-222222222222",
                            workload_sa="vote-app")
    subjects = [s for d in docs if d["kind"] == "RoleBinding" for s in d["subjects"]]
    assert {s["kind"] for s in subjects} == {"Group"}
    assert {s["name"] for s in subjects} == {"11111111-1111-1111-1111-111111111111",
                                             "22222222-2222-2222-2222-222222222222"}


def test_maintenance_windows_are_staggered_files_with_change_freezes():
    dev, prod = env_of("aks-dev"), env_of("aks-prod")
    windows = {w.config: w for w in azplan.maintenance_windows(dev)}
    assert {c: w.day for c, w in windows.items()} == {
        "aksManagedNodeOSUpgradeSchedule": "Monday", "default": "Tuesday",
        "aksManagedAutoUpgradeSchedule": "Wednesday"}
    body = windows["aksManagedAutoUpgradeSchedule"].body()["properties"]["maintenanceWindow"]
    assert body["schedule"] == {"relativeMonthly": {"intervalMonths": 1, "weekIndex": "First",
                                                    "dayOfWeek": "Wednesday"}}
    assert body["utcOffset"] == "+09:00" and body["startTime"] == "01:00"
    assert body["notAllowedDates"] == [{"start": "2026-12-29", "end": "2027-01-03"},
                                       {"start": "2027-04-29", "end": "2027-05-06"}]
    assert windows["aksManagedNodeOSUpgradeSchedule"].utc == "Sunday 16:00 UTC"
    step = next(s for s in azplan.build(dev) if s.id == "maintenance-default")
    [(path, text)] = step.files
    assert step.command.endswith(f"--config-file {path}") and "--interval-weeks" not in \
        step.command
    assert json.loads(text)["properties"]["maintenanceWindow"]["schedule"] == {
        "weekly": {"intervalWeeks": 1, "dayOfWeek": "Tuesday"}}
    assert "Tuesdays 01:00-05:00 (UTC+09:00) = Monday 16:00 UTC" in step.reason
    assert "Golden Week" in step.reason
    order = azplan.rollout_order(prod, dev)
    for config in windows:
        assert [r["environment"] for r in order if r["configuration"] == config] == ["dev",
                                                                                    "prod"]
    auto = next(s for s in azplan.build(dev) if s.id == "maintenance-aksManagedAutoUpgradeSchedule")
    assert "Fleet Manager update runs" in auto.reason and "extension" in auto.reason


def test_sh_format_writes_the_maintenance_files_before_using_them(tmp_path):
    env = env_of("aks-dev")
    text = azplan.render(azplan.build(env), env, "sh")
    script = tmp_path / "plan.sh"
    script.write_text(text)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    lines = text.splitlines()
    write = next(i for i, line in enumerate(lines)
                 if line.startswith('cat > "$MAINTENANCE_DIR/aks-team1-dev-default.json"'))
    use = next(i for i, line in enumerate(lines) if line.startswith(
        "az aks maintenanceconfiguration add") and "--name default" in line)
    defined = next(i for i, line in enumerate(lines) if line.startswith("MAINTENANCE_DIR="))
    assert defined < write < use
    assert "AAD_LOGIN_METHOD=azurecli az aks check-acr" in text


def test_production_upgrades_surge_a_third_and_cordon_undrainable_nodes():
    prod, dev = env_of("aks-prod"), env_of("aks-dev")
    commands = {s.id: s.command for s in azplan.build(prod)}
    assert commands["upgrade-settings-user"].endswith(
        "--max-surge 33% --max-unavailable 1 --drain-timeout 30 "
        "--undrainable-node-behavior Cordon")
    assert "--max-unavailable" not in commands["upgrade-settings-system"]  # not on system pools
    assert "--undrainable-node-behavior Schedule" in next(
        s.command for s in azplan.build(dev) if s.id == "upgrade-settings-user")


def test_rollback_steps_and_their_limits():
    steps = {s.id: s for s in azplan.build(env_of("aks-dev"))}
    order = list(steps)
    assert order.index("rollback-versions-user") < order.index("rollback-channels-off") \
        < order.index("rollback-user")
    assert "seven days" in steps["rollback-versions-user"].reason
    assert "one-way" in steps["rollback-versions-user"].reason
    assert "--auto-upgrade-channel none" in steps["rollback-channels-off"].command
    assert steps["rollback-user"].destructive and steps["rotate-certs"].destructive
    assert "up to 30 minutes of downtime" in steps["rotate-certs"].reason
    assert "invalidates every kubeconfig" in steps["rotate-certs"].reason


def test_kured_only_on_unmanaged_from_your_registry_in_the_node_os_window():
    assert not [i for i in ids(env_of("aks-dev")) if i.startswith("kured")]
    env = env_of("aks-dev", upgrades={"node_os_upgrade_channel": "Unmanaged",
                                      "maintenance_window": {"day_of_week": "Monday",
                                                             "start_time": "01:00",
                                                             "utc_offset": "+09:00"}})
    steps = {s.id: s for s in azplan.build(env)}
    assert steps["kured-image-import"].command == (
        "az acr import --name acrteam1dev --source ghcr.io/kubereboot/kured:1.22.1 "
        "--image kubereboot/kured:1.22.1")
    install = steps["kured-install"].command
    for part in ("image.repository=acrteam1dev.azurecr.io/kubereboot/kured",
                 "configuration.rebootDays={mo}", "configuration.startTime=01:00",
                 "configuration.endTime=05:00", "configuration.timeZone=Asia/Tokyo"):
        assert part in install
    order = list(steps)
    assert order.index("kured-image-import") < order.index("kured-install")


def test_secrets_are_written_by_the_operator_in_dev_and_the_pim_eligible_group_in_prod():
    dev, prod = env_of("aks-dev"), env_of("aks-prod")
    officer = {e.environment: next(s.command for s in azplan.build(e)
                                   if s.id == "key-vault-secrets-officer") for e in (dev, prod)}
    assert "--assignee-object-id $OPERATOR_OBJECT_ID --assignee-principal-type User" \
        in officer["dev"]
    assert "--assignee-object-id 00000000-0000-0000-0000-0000000000b2 " \
           "--assignee-principal-type Group" in officer["prod"]
    prod_steps = azplan.build(prod)
    assert not [s.id for s in prod_steps if "$OPERATOR_OBJECT_ID" in s.command]
    order = [s.id for s in prod_steps]
    assert order.index("key-vault") < order.index("key-vault-endpoint") \
        < order.index("key-vault-secrets-officer") < order.index("key-vault-secret")
    secret = next(s for s in prod_steps if s.id == "key-vault-secret")
    assert "inside the VNET" in secret.reason


def test_plan_differences_show_what_the_maintenance_files_set_differently():
    rows = azplan.plan_differences(env_of("aks-dev"), env_of("aks-prod"))
    found = {(r["step"], r["flag"]): (r["dev"], r["prod"]) for r in rows}
    assert found[("maintenance-default", "(file) schedule.weekly.dayOfWeek")] == ("Tuesday",
                                                                                  "Friday")
    assert found[("maintenance-aksManagedAutoUpgradeSchedule",
                  "(file) schedule.relativeMonthly.weekIndex")] == ("First", "Third")
    assert not [key for key in found if "notAllowedDates" in key[1]]  # the same freezes


@pytest.mark.parametrize("prefixes", [
    ("group-", "cluster-user-", "rbac-reader-", "pipeline-", "rbac-writer-"),
    ("workload-identity", "federated-credential", "key-vault"),
    ("maintenance-", "upgrade-settings-"), ("rollback-",), ("rotate-certs",)])
def test_a_run_of_part_of_the_plan_is_judged_with_the_rest_of_it(prefixes):
    for name in ("aks-dev", "aks-prod"):
        env = env_of(name, execute=True, confirm_destructive=True)
        steps = azplan.build(env)
        part = [s for s in steps if s.id.startswith(prefixes)]
        assert part
        planrun.guard(part, env)  # the notebooks' runs pass: nothing missing from the plan
    provision = [s for s in steps if s.phase == "provision"]
    planrun.guard(provision, env)
    with pytest.raises(planrun.FailingRules, match="AKS-PLAN-014"):  # a hole in what runs
        planrun.guard([s for s in provision if s.id != "firewall-policy-rule"], env)
    vault = [s for s in steps if s.id.startswith("key-vault")]
    with pytest.raises(planrun.FailingRules, match="AKS-PLAN-013"):
        planrun.guard([s for s in vault if s.id != "key-vault-secrets-officer"], env)
    typed = azplan.Step("typed-secret", "03-auth", "operate", "a step someone added",
                        "az keyvault secret set --vault-name kv-team1-prod --name x --value y")
    with pytest.raises(planrun.FailingRules, match="its value is on the command line"):
        planrun.guard([typed], env)
