"""The offline az validator: azure-cli's own parser, validators and handlers.

Most cases live in tests/data/az-corpus.md (one worker call validates all of it); each az line
there follows a `# expect: STATUS -- fragment` comment.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aks_runbook import params
from aks_runbook.azure import answers as azanswers
from aks_runbook.azure import offline as azoffline
from aks_runbook.azure import plan as azplan
from aks_runbook.azure import preview as azpreview
from aks_runbook.azure import rules as azrules
from aks_runbook.azure.validate import (
    AzLine,
    fake_ssh_key,
    fill,
    join_continuations,
    read_file,
    read_markdown,
    read_script,
    validate,
)

pytestmark = pytest.mark.slow  # azure-cli's worker validates every line

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "az-corpus.md"
CLI = [sys.executable, "-m", "aks_runbook.cli", "validate-az"]
EXPECT = re.compile(r"# expect: (valid \(deep\)|parsed|invalid|not validated)(?: -- (.*))?$")


@pytest.fixture(scope="module", autouse=True)
def fresh_verdicts():
    """The validator's own tests judge the worker, never a cached verdict (azure.cache)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AKS_RUNBOOK_NO_CACHE", "1")
        yield


def expectations() -> dict[int, tuple[str, str | None]]:
    """Line number of each corpus az line -> (expected status, message fragment)."""
    starts = {a.line_number for a in read_file(CORPUS)}
    found, pending = {}, None
    for number, line in enumerate(CORPUS.read_text().splitlines(), 1):
        if match := EXPECT.search(line):
            pending = match.groups()
        elif number in starts:
            assert pending, f"az line {number} of the corpus has no `# expect:` comment"
            found[number], pending = pending, None
    return found


@pytest.fixture(scope="module")
def corpus():
    return {r.line_number: r for r in validate(read_file(CORPUS))}


def by_text(corpus, fragment: str):
    return next(r for r in corpus.values() if fragment in r.line)


def test_every_corpus_line_gets_its_expected_status(corpus):
    expected = expectations()
    assert set(expected) == set(corpus)
    wrong = [f"line {n}: expected {status}{f' ({text})' if text else ''}, got\n"
             f"{corpus[n].describe()}"
             for n, (status, text) in expected.items()
             if corpus[n].status != status or (text and text not in corpus[n].message)]
    assert not wrong, "\n".join(wrong)


def test_deep_check_reaches_the_create_request_without_a_location(corpus):
    # Without --location, aks create first looks up the resource group: that lookup is
    # answered, so the conflict checks behind it run (they used to be skipped).
    conflict = by_text(corpus, "--enable-private-cluster --load-balancer-sku basic")
    assert "--location" not in conflict.line and conflict.status == "invalid"
    good = by_text(corpus, "az aks create --resource-group rg-aks-dev")
    assert good.status == "valid (deep)" and "PUT " in good.message
    assert "managedClusters/aks-dev" in good.message


def test_a_deep_check_that_stops_early_says_where_and_is_not_deep(corpus):
    stopped = by_text(corpus, "az aks check-acr -g rg-seq")
    assert stopped.status == "not validated" and not stopped.ok and stopped.depth == "none"
    assert "needed POST" in stopped.message and "listClusterUserCredential" in stopped.message


def test_lookups_needing_a_login_are_not_validated_never_invalid(corpus):
    for fragment in ("az keyvault set-policy", "az vm create"):
        result = by_text(corpus, fragment)
        assert result.status == "not validated" and "Please run 'az login'" not in result.message
    # Validators and handlers that only need the subscription or the group's location do run.
    assert by_text(corpus, "az acr create -g rg -n acrteamdev02").status == "valid (deep)"


def test_the_reviews_five_lines_are_invalid_and_their_corrections_valid(corpus):
    rejected = ["-n default --schedule-type Weekly --day-of-week Monday --interval-weeks 1",
                "-n aksManagedClusterAutoUpgradeSchedule", "get-credentials -g rg -n c --admin "
                "--format exec", "-k 1.37 --node-image-only", "--node-image-only --max-surge 33%"]
    for fragment in rejected:
        result = by_text(corpus, fragment)
        assert result.status == "invalid" and result.command, (fragment, result.message)
    corrected = ["-n default --schedule-type Weekly --day-of-week Monday --start-time",
                 "-n aksManagedAutoUpgradeSchedule --schedule-type Weekly --day-of-week Sunday "
                 "--interval-weeks 1 --duration 4", "get-credentials -g rg -n c --admin",
                 "upgrade -g rg -n c -k 1.37 --yes", "-n user --node-image-only"]
    for fragment in corrected:
        result = next(r for r in corpus.values() if r.line.endswith(fragment) or (
            fragment in r.line and "--max-surge" not in r.line and "--format" not in r.line
            and "--node-image-only" not in r.line.replace(fragment, "")))
        assert result.status == "valid (deep)", (fragment, result.describe())


def test_a_plan_like_run_answers_later_lines_from_the_created_cluster(corpus):
    lines = [r for r in corpus.values() if "rg-seq" in r.line and "-n rules" not in r.line]
    created = [r for r in lines if r.command in ("aks update", "aks nodepool update",
                                                 "aks maintenanceconfiguration add")
               and r.status == "valid (deep)"]
    assert len(created) == 3
    for result in created:
        assert "answered from earlier lines of this run" in result.message, result.describe()
        assert "placeholders" not in result.message, result.describe()
    for result in lines:
        if result.command in ("aks get-credentials", "aks show"):
            assert result.status == "valid (deep)" and "the read it exists for" in result.message


SCRIPT = [
    "az group create -n rg-s -l japaneast",
    "az aks create -g rg-s -n aks-s --nodepool-name system --generate-ssh-keys",
    "az aks nodepool add -g rg-s --cluster-name aks-s -n user --mode User",
    "az aks nodepool update -g rg-s --cluster-name aks-s -n user --max-surge 33%",
    "az aks nodepool update -g rg-s --cluster-name aks-s -n nosuchpool --max-surge 33%",
    "az aks maintenanceconfiguration add -g rg-s --cluster-name aks-s -n default "
    "--schedule-type Weekly --day-of-week Sunday --start-time 01:00 --duration 4",
    "az aks maintenanceconfiguration add -g rg-s --cluster-name aks-s -n default "
    "--schedule-type Weekly --day-of-week Monday --start-time 01:00 --duration 4",
    "az aks update -g rg-s -n aks-s --enable-azure-rbac",
    "az aks get-credentials -g rg-s -n aks-s",
]


def test_in_a_script_the_created_cluster_decides():
    """Plain lines (a plan, a script) are one run: the cluster created by the second line
    answers the later ones, and what it says is a verdict."""
    results = validate(SCRIPT)
    assert [r.status for r in results] == ["valid (deep)"] * 4 + [
        "invalid", "valid (deep)", "invalid", "invalid", "valid (deep)"], "\n".join(
        r.describe() for r in results)
    assert "agentPools 'nosuchpool' was not found" in results[4].message
    assert "Maintenance configuration 'default' already exists" in results[6].message
    assert "managed AAD is not enabled" in results[7].message  # the run's cluster has no AAD
    assert "answered from earlier lines of this run" in results[3].message


def test_a_handler_error_against_a_placeholder_is_not_a_verdict():
    [result] = validate(["az aks update -g rg -n aks --enable-azure-rbac"])
    assert result.status == "not validated" and "placeholder existing resource" in result.message


def test_rules_beyond_azure_cli_cite_their_docs_page(corpus):
    for fragment, page in (("--pod-cidr 10.244.0.0/33", azrules.IP_PLANNING),
                           ("--dns-service-ip 10.0.0.0", azrules.IP_PLANNING),
                           ("--pod-cidr 10.240.255.255/32", azrules.OVERLAY),
                           ("--max-pods 9", azrules.IP_PLANNING),
                           ("--pod-cidr 172.16.0.0/12", azrules.CNI)):
        result = by_text(corpus, fragment)
        assert result.status == "invalid" and page in result.message, result.describe()


@pytest.mark.parametrize("params, broken", [
    ({"service_cidr": "10.0.0.0/16", "dns_service_ip": "10.0.0.0"}, "network address"),
    ({"service_cidr": "10.0.0.0/16", "dns_service_ip": "10.0.0.1"}, "first address"),
    ({"service_cidr": "10.0.0.0/16", "dns_service_ip": "10.0.255.255"}, "broadcast"),
    ({"service_cidr": "10.0.0.0/16", "dns_service_ip": "10.0.0.2"}, None),
    ({"service_cidr": "10.0.0.0/16", "dns_service_ip": "10.0.255.254"}, None),
    ({"service_cidr": "10.0.0.0/12", "dns_service_ip": "10.0.0.10"}, None),
    ({"service_cidr": "10.0.0.0/11", "dns_service_ip": "10.0.0.10"}, "larger than a /12"),
    ({"pod_cidr": "10.244.0.0/16", "service_cidr": "10.244.255.0/24"}, "overlaps --pod-cidr"),
    ({"pod_cidr": "10.244.0.0/16", "service_cidr": "10.245.0.0/24"}, None),
    ({"max_pods": 10}, None), ({"max_pods": 250}, None), ({"max_pods": 251}, "outside 10-250"),
])
def test_cluster_rules_at_their_boundaries(params, broken):
    found = azrules.check("aks create", params, [])
    assert (broken in found[0]) if broken else not found, found


def test_overlap_with_the_runs_vnet_by_one_address():
    subnet = "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
    spaces = [(subnet, ["10.240.0.0/12"]), (f"{subnet}/subnets/s", ["10.240.0.0/16"])]
    params = {"vnet_subnet_id": f"{subnet}/subnets/s", "network_plugin_mode": "overlay"}
    assert azrules.check("aks create", {**params, "pod_cidr": "10.240.255.255/32"}, spaces)
    assert not azrules.check("aks create", {**params, "pod_cidr": "10.241.0.0/32"}, spaces)
    assert azrules.check("aks create", {**params, "service_cidr": "10.255.255.255/32"}, spaces)
    assert not azrules.check("aks create", {**params, "service_cidr": "10.0.0.0/16"}, spaces)


def test_answers_for_a_read_command_end_at_its_read_not_at_a_lookup():
    run = azanswers.RunState()
    url = "https://management.azure.com/subscriptions/0/resourceGroups/rg"
    assert isinstance(azanswers.decide("GET", url, None, "aks show", run, "eastus"),
                      azanswers.Answer)  # the group's location: a lookup
    cluster = url + "/providers/Microsoft.ContainerService/managedClusters/c"
    assert isinstance(azanswers.decide("GET", cluster, None, "aks show", run, "eastus"),
                      azanswers.Reached)
    assert isinstance(azanswers.decide("POST", cluster + "/listClusterUserCredential", None,
                                       "aks check-acr", run, "eastus"), azanswers.Refused)
    assert isinstance(azanswers.decide("PUT", cluster, b"{}", "aks update", run, "eastus"),
                      azanswers.Reached)
    assert azanswers.decide("GET", cluster, None, "aks update", run, "eastus").placeholder is None


def test_preview_flags_and_misspelt_flags(corpus):
    preview = by_text(corpus, "az aks create -g rg -n aks --ssh-access disabled")
    assert preview.status == "not validated" and "aks-preview" in preview.message
    for fragment in ("--os-sku flatcar", "managedNATGatewayV2", "--node-init-taints",
                     "az aks loadbalancer add"):
        result = by_text(corpus, fragment)
        assert result.status == "not validated", result.describe()
        assert "needs the aks-preview extension" in result.message
    typo = by_text(corpus, "--enable-managed-identiy")
    assert typo.status == "invalid" and typo.suggestion == "--enable-managed-identity"
    enum = by_text(corpus, "--outbound-type userDefinedRoutiong")
    assert enum.suggestion == "userDefinedRouting"


def test_deprecation_warnings_are_kept_and_shown(corpus):
    bridge = by_text(corpus, "--docker-bridge-address")
    assert any("'--docker-bridge-address' has been deprecated" in w for w in bridge.warnings)
    assert "    warning: Option '--docker-bridge-address'" in bridge.describe()
    sp = by_text(corpus, "--skip-assignment")
    assert any("'--skip-assignment' has been deprecated" in w for w in sp.warnings)


def test_placeholders_get_plausible_values_and_are_reported(corpus):
    create = by_text(corpus, "-g $RESOURCE_GROUP")
    assert create.status == "valid (deep)"
    assert create.placeholders["$LOCATION"] == "eastus"
    assert create.placeholders["$SUBNET_ID"].endswith("/virtualNetworks/demo1/subnets/demo1")
    assert create.placeholders["$IDENTITY_ID"].startswith("/subscriptions/00000000-0000-")
    assert "placeholders filled in: $RESOURCE_GROUP -> demo1" in create.describe()
    angle = by_text(corpus, "-g <resource-group>")
    assert angle.placeholders["$MY_IP"] == "131.107.1.1"


def test_fill_placeholders_by_flag_name_and_position():
    filled = fill("az aks create -g $RG -n x --vnet-subnet-id /subscriptions/$SUB/resourceGroups/"
                  "$RG/providers/Microsoft.Network/virtualNetworks/v/subnets/s "
                  "--api-server-authorized-ip-ranges $(curl -s ifconfig.me)/32 "
                  "--ssh-key-value $KEY --zones $WHATEVER --query \"[?name=='$N']\" '$LITERAL'")
    assert filled.placeholders["$SUB"] == "00000000-0000-0000-0000-000000000000"
    assert filled.placeholders["$(curl -s ifconfig.me)"] == "131.107.1.1"
    assert filled.placeholders["$KEY"] == fake_ssh_key()
    assert filled.placeholders["$WHATEVER"] == "1"
    assert "$LITERAL" not in filled.placeholders  # single quotes: not a placeholder
    assert filled.generic == {"$N": "--query"}  # no plausible value known: a generic one


def test_describe_and_json_show_exactly_the_four_statuses(corpus):
    seen = {r.status for r in corpus.values()}
    assert seen == {"valid (deep)", "invalid", "not validated"}  # no parser-only verdict
    for result in corpus.values():
        assert result.describe().startswith(f"[{result.status}] {CORPUS}:{result.line_number}")
        assert set(result.to_json()) == {"file", "line", "text", "command", "status", "message",
                                         "warnings", "placeholders", "suggestion"}
    [shallow] = validate(["az group create -n rg -l japaneast"], deep=False)
    assert shallow.status == "parsed" and shallow.ok and shallow.depth == "parser"
    assert "[parsed]" in shallow.describe() and "no handler was run" in shallow.describe()


def test_core_azure_cli_really_lacks_the_extension_commands_and_preview_flags():
    lines = [f"az {group} list" for group in azoffline.EXTENSION_GROUPS]
    lines += [f"az {command} list" for command in azpreview.PREVIEW_COMMANDS]
    value = {"--ssh-key-value": " ssh-rsa"}  # not a file name the validator would look for
    lines += [f"az {command} -g rg -n aks{' --cluster-name c' if 'nodepool' in command else ''} "
              f"{flag}{value.get(flag, ' x') if takes_value else ''}"
              for flag, (takes_value, commands) in azpreview.PREVIEW_FLAGS.items()
              for command in commands]
    for line, result in zip(lines, validate(lines, plain=True), strict=True):
        assert result.status == "invalid", line
        assert ("misspelled or not recognized" in result.message
                or "unrecognized arguments" in result.message), (line, result.message)


def test_core_azure_cli_really_rejects_the_preview_values():
    lines = [f"az {command} -g rg -n aks{' --cluster-name c' if 'nodepool' in command else ''} "
             f"{flag} {value}" for (flag, value), commands in azpreview.PREVIEW_VALUES.items()
             for command in commands]
    for line, result in zip(lines, validate(lines, plain=True), strict=True):
        assert result.status == "invalid" and "is not a valid value" in result.message, (
            line, result.message)


# ---- reading files --------------------------------------------------------------------------

def test_markdown_reader_keeps_shell_blocks_line_numbers_and_prompts():
    text = "\n".join([
        "# Title",                                    # 1
        "az not-in-a-block",                          # 2
        "```bash",                                    # 3
        "export RG=rg1",                              # 4
        "az group create \\",                         # 5
        "  -n $RG -l eastus   # a comment",           # 6
        "kubectl get pods",                           # 7
        "SUBNET=$(az network vnet show -g rg -n v)",  # 8
        "az aks list | jq . && az aks show -g rg -n a",  # 9
        "```",                                        # 10
        "```azurepowershell",                         # 11
        "az aks create `",                            # 12
        "```",                                        # 13
        "```console",                                 # 14
        "$ az account show",                          # 15
        "{ \"az\": 1 }",                              # 16
        "$ az aks get-credentials \\",                # 17
        ">   -g rg -n aks",                           # 18
        "```",                                        # 19
        "   ```azurecli-interactive",                 # 20
        "   az acr list",                             # 21
        "   ```",                                     # 22
        "```",                                        # 23
        "az in-an-unlabelled-block",                  # 24
        "```",                                        # 25
    ])
    found = [(a.line_number, a.text) for a in read_markdown(text, "doc.md")]
    assert found == [(5, "az group create -n $RG -l eastus"),
                     (8, "az network vnet show -g rg -n v"),
                     (9, "az aks list"), (9, "az aks show -g rg -n a"),
                     (15, "az account show"),
                     (17, "az aks get-credentials -g rg -n aks"),
                     (21, "az acr list")]


def test_script_reader_skips_non_az_lines_and_heredocs():
    script = ("#!/bin/bash\nset -e\ncat <<EOF > x.yaml\naz not-a-command\nEOF\n"
              "echo az\naz group list -o table > groups.txt 2>&1\n"
              "if ! az group exists -n rg; then az group create -n rg -l eastus; fi\n"
              "  local ID=$(az identity show -g rg -n id --query id -o tsv)\n")
    assert read_script(script, "s.sh") == [
        AzLine("az group list -o table", "s.sh", 7), AzLine("az group exists -n rg", "s.sh", 8),
        AzLine("az group create -n rg -l eastus", "s.sh", 8),
        AzLine("az identity show -g rg -n id --query id -o tsv", "s.sh", 9)]


def test_continuations_are_joined():
    assert join_continuations("# comment\naz group create \\\n  -n rg \\\n  -l x\n\n") == [
        "az group create -n rg -l x"]


# ---- the plan and the command line ------------------------------------------------------------

@pytest.mark.parametrize("path", sorted((ROOT / "environments").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_example_plan_validates(path):
    env = params.load(path)
    steps = azplan.validated(env)
    for step in steps:
        v = step.validation
        assert v.status in ("valid (deep)", "not validated"), f"{step.id}: {v.describe()}"
        if v.ok:
            assert v.command and step.command.startswith(f"az {v.command}"), step.id
        else:
            assert v.message, step.id  # a reason
    create = next(s for s in steps if s.id == "aks-create")
    assert create.validation.status == "valid (deep)", create.validation.message


def test_every_outbound_type_plan_reaches_the_create_request():
    """Each outbound type's plan, its cluster line run through aks_create up to the request,
    and every other line of it accepted (or, for the firewall extension, not validated)."""
    base = params.to_papermill(params.load(ROOT / "environments" / "aks-dev.yaml"))
    designs = {
        "loadBalancer": {}, "userDefinedRouting": {}, "userAssignedNATGateway": {},
        "managedNATGateway": {"api_server": {}},
        "none": {"api_server": {"private_cluster": True}},
    }
    plans = [params.load({**base, **changes, "egress": {"outbound_type": outbound}})
             for outbound, changes in designs.items()]
    steps = [(env, s) for env in plans for s in azplan.build(env)]
    results = validate([azplan.for_validation(s, azplan.placeholders(env)) for env, s in steps])
    for (env, step), result in zip(steps, results, strict=True):
        where = f"{env.egress.outbound_type}/{step.id}: {result.message}"
        if step.id == "aks-create":
            assert result.status == "valid (deep)", where
        elif not step.command.startswith("az network firewall"):
            assert result.status != "invalid", where


def test_validation_never_reaches_the_network():
    code = ("from aks_runbook.azure import offline as azoffline; import shutil, socket\n"
            "home = azoffline._isolate()\n"
            "try:\n socket.create_connection(('127.0.0.1', 9))\nexcept azoffline.NetworkRefused:"
            "\n print('refused')\nshutil.rmtree(home)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "refused"


def test_cli_exit_codes_strict_and_json(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("```bash\naz group create -n rg -l japaneast\naz fleet create -g rg -n f\n```\n")
    ok = subprocess.run([*CLI, "--file", str(doc), "--format", "json"], capture_output=True,
                        text=True)
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert [(r["line"], r["status"]) for r in report["results"]] == [
        (2, "valid (deep)"), (3, "not validated")]
    assert report["results"][0]["file"] == str(doc)
    strict = subprocess.run([*CLI, "--file", str(doc), "--strict"], capture_output=True,
                            text=True)
    assert strict.returncode == 1 and "[not validated]" in strict.stdout
    bad = subprocess.run(CLI, input="az aks create -g rg -n c \\\n  --outbound-type "
                         "userDefinedRoutiong\n", capture_output=True, text=True)
    assert bad.returncode == 1 and "did you mean: userDefinedRouting" in bad.stdout
    assert bad.stdout.startswith("[invalid] <stdin>:1  az aks create")


def test_cli_unreadable_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope.md"
    out = subprocess.run([*CLI, "--file", str(missing)], capture_output=True, text=True)
    assert out.returncode == 2 and f"cannot read --file {missing}" in out.stderr
    assert out.stdout == ""


def test_plan_command_formats():
    cli = [sys.executable, "-m", "aks_runbook.cli", "plan", str(ROOT / "environments" /
                                                                "aks-dev.yaml")]
    sh = subprocess.run([*cli, "--format", "sh"], capture_output=True, text=True)
    assert sh.returncode == 0 and sh.stdout.startswith("#!/usr/bin/env bash")
    assert "SUBSCRIPTION_ID=$(az account show --query id -o tsv)" in sh.stdout
    assert "az aks create" in sh.stdout


# ---- chapters 03 and 04 in the plan ---------------------------------------------------------

def _env(name: str, **changes) -> params.Environment:
    return params.load(ROOT / "environments" / f"{name}.yaml", changes or None)


def test_prod_plan_has_the_auth_and_maintenance_steps_and_no_invalid_line():
    out = subprocess.run([sys.executable, "-m", "aks_runbook.cli", "plan",
                          str(ROOT / "environments" / "aks-prod.yaml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "[invalid]" not in out.stdout and "[not checked]" not in out.stdout
    for fragment in ("[03-auth] Verify what --attach-acr assigned", "federated-credential create",
                     "[04-maintenance] Planned maintenance 'default'",
                     "az aks get-upgrades", "az aks nodepool update"):
        assert fragment in out.stdout, fragment


def test_maintenance_windows_are_the_three_names_azure_cli_accepts():
    steps = {s.id: s.command for s in azplan.build(_env("aks-prod"))}
    names = [i.removeprefix("maintenance-") for i in steps if i.startswith("maintenance-")
             and i != "maintenance-list"]
    assert sorted(names) == ["aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule",
                             "default"]
    # `default` never with --interval-weeks (azure-cli 2.91 rejects it there)
    assert "--interval-weeks" not in steps["maintenance-default"]
    for name in names:
        assert f"--name {name} " in steps[f"maintenance-{name}"]


def test_auth_steps_read_azure_values_by_query_before_using_them():
    sh = azplan.render(azplan.build(_env("aks-dev")), _env("aks-dev"), "sh").splitlines()
    first = {line.split("=")[0]: i for i, line in reversed(list(enumerate(sh)))}

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(sh) if fragment in line)

    assert first["OIDC_ISSUER"] < line_of("az identity federated-credential create")
    assert sh[first["OIDC_ISSUER"]].endswith("--query oidcIssuerProfile.issuerUrl -o tsv)")
    assert first["KUBELET_OBJECT_ID"] < line_of("az role assignment list --assignee "
                                                "$KUBELET_OBJECT_ID")
    assert first["DEVELOPERS_GROUP_ID"] < line_of("--assignee-object-id $DEVELOPERS_GROUP_ID")
    assert "--subject system:serviceaccount:team-vote:vote-app --audiences " \
           "api://AzureADTokenExchange" in sh[line_of("federated-credential create")]
    assert "'Azure Kubernetes Service Cluster User Role'" in \
        sh[line_of("--assignee-object-id $VIEWERS_GROUP_ID")]


def test_private_cluster_plan_checks_the_registry_from_inside_only():
    assert "check-acr" in {s.id for s in azplan.build(_env("aks-dev"))}
    assert "check-acr" not in {s.id for s in azplan.build(_env("aks-prod"))}


@pytest.mark.parametrize("prefix, environment, expected", [
    ("team1", "dev", "kv-team1-dev"),
    ("abcdefghij", "environment-name-20c", "kv-abcdefghij-environmen"),  # cut at 24
    ("abcdefghij", "abcdefghi-xy", "kv-abcdefghij-abcdefghi"),  # never ends in a hyphen
])
def test_key_vault_name_keeps_key_vaults_rule(prefix, environment, expected):
    env = _env("aks-dev", prefix=prefix, environment=environment)
    name = azplan.key_vault_name(env)
    assert name == expected
    assert re.fullmatch(r"[a-z][a-z0-9-]{1,22}[a-z0-9]", name) and "--" not in name


def test_dev_and_prod_plans_side_by_side_show_only_their_differences():
    dev, prod = _env("aks-dev"), _env("aks-prod")
    rows = {(r["step"], r["flag"]): (r["dev"], r["prod"])
            for r in azplan.plan_differences(dev, prod)}
    assert rows[("aks-create", "--tier")] == ("free", "standard")
    assert rows[("aks-create", "--enable-private-cluster")] == ("—", "(set)")
    assert rows[("firewall-ip-N", "(steps)")] == ("1 step(s)", "20 step(s)")
    assert rows[("operator-path", "(steps)")] == ("—", "1 step(s)")
    assert rows[("upgrade-settings-user", "--max-surge")] == ("1", "33%")
    # names derived from each environment are not differences
    assert not [k for k in rows if k[1] in ("--resource-group", "--name", "--cluster-name")]
    assert azplan.plan_differences(dev, dev) == []
    parameters = {r["parameter"]: (r["dev"], r["prod"])
                  for r in azplan.parameter_differences(dev, prod)}
    assert parameters["api_server.private_cluster"] == ("False", "True")
    assert parameters["node_pools.user.vm_size"] == ("Standard_D4ds_v5", "Standard_D8ds_v5")
    assert "location" not in parameters


@pytest.mark.parametrize("command, code, expected", [
    (None, 1, "not validated"),  # azure-cli failed because a public download was refused
    ("vm create", 0, "valid (deep)"),  # it failed nothing: the download was optional
])
def test_a_refused_download_is_never_a_verdict_of_its_own(monkeypatch, command, code, expected):
    state = azoffline.LineState(deep=True, command=command, handler_ran=True, offline=[
        "GET raw.githubusercontent.com/Azure/azure-rest-api-specs/x/aliases.json"],
        errors=["HTTPSConnectionPool: Max retries exceeded"])
    monkeypatch.setattr(azoffline, "STATE", state)
    result = {"status": "invalid", "command": None, "message": "", "warnings": [],
              "suggestion": None}
    azoffline._verdict(result, code, None)
    assert result["status"] == expected
    if expected == "not validated":
        assert result["message"].startswith("needs the network (GET raw.githubusercontent.com")
