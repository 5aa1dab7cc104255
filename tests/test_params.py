"""Every class of bad parameter is rejected before anything runs, with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from aks_runbook import params

ROOT = Path(__file__).resolve().parents[1]
BASE = {"environment": "local", "prefix": "demo"}


def rejected(**changes) -> str:
    with pytest.raises(params.ParameterError) as error:
        params.load({**BASE, **changes})
    return str(error.value)


@pytest.mark.parametrize("path", sorted((ROOT / "environments").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_example_environments_are_valid(path):
    env = params.load(path)
    assert env.environment and env.rg.startswith("rg-") and env.cluster.startswith("aks-")


def test_names_are_derived_from_prefix_unless_given():
    env = params.load(BASE)
    assert (env.rg, env.cluster, env.acr) == ("rg-demo-local", "aks-demo-local", "acrdemolocal")
    env = params.load({**BASE, "resource_group": "rg-shared", "cluster_name": "c1"})
    assert (env.rg, env.cluster) == ("rg-shared", "c1")


@pytest.mark.parametrize("changes, expected", [
    ({"target": "gcp"}, "target = 'gcp': Input should be 'local', 'kind', 'aks' or 'replay'"),
    ({"prefix": "Demo_1"}, "prefix = 'Demo_1': must be attendee or team prefix"),
    ({"environment": ""}, "environment = '': must be environment name"),
    ({"cluster_name": "-bad-"}, "cluster_name = '-bad-'"),
    ({"resource_group": "rg."}, "not ending in '.'"),
    ({"acr_name": "My-Registry"}, "acr_name = 'My-Registry'"),
    ({"resource_group": "x" * 91}, "1-90 letters"),
    ({"kubernetes_version": "latest"}, "kubernetes_version = 'latest'"),
    ({"node_pools": [{"name": "user", "count": 2}]}, "at least one pool needs mode: System"),
    ({"node_pools": [{"name": "sys", "count": 0, "mode": "System"}]},
     "node_pools.0.count = 0: Input should be greater than or equal to 1"),
    ({"node_pools": [{"name": "system", "count": 1, "mode": "System"},
                     {"name": "system", "count": 1}]}, "pool names must be unique"),
    ({"node_pools": [{"name": "system", "count": 1, "mode": "system"}]},
     "Input should be 'System' or 'User'"),
    ({"network": {"plugin": "flannel"}}, "network.plugin = 'flannel'"),
    ({"network": {"policy": "Azure"}}, "network.policy = 'Azure'"),
    ({"network": {"dns_service_ip": "10.1.0.10"}},
     "network.dns_service_ip = '10.1.0.10': must be inside service_cidr 10.0.0.0/16"),
    ({"network": {"dns_service_ip": "10.0.0.1"}}, "is the kubernetes service"),
    ({"network": {"service_cidr": "10.224.0.0/16", "dns_service_ip": "10.224.0.10"}},
     "network.service_cidr = '10.224.0.0/16': must not overlap vnet_cidr 10.224.0.0/12"),
    ({"network": {"pod_cidr": "10.0.0.0/16"}},
     "network.pod_cidr = '10.0.0.0/16': must not overlap service_cidr"),
    ({"network": {"node_subnet_cidr": "192.168.0.0/24"}}, "must lie inside vnet_cidr"),
    ({"network": {"firewall_subnet_cidr": "10.225.0.0/27"}}, "needs a /26 or larger subnet"),
    ({"network": {"plugin": "kubenet", "plugin_mode": None, "dataplane": "azure",
                  "policy": "azure"}}, "kubenet supports only 'calico' or 'none'"),
    ({"network": {"plugin": "kubenet"}}, "overlay needs plugin 'azure'"),
    ({"network": {"plugin_mode": None, "node_subnet_cidr": "10.224.0.0/24"}},
     "network.node_subnet_cidr = '10.224.0.0/24': too small for Azure CNI Node Subnet (legacy): "
     "these node pools need 560 addresses (a /22 or larger)"),
    ({"network": {"endpoint_subnet_cidr": "10.225.0.0/28"}},
     "network.endpoint_subnet_cidr = '10.225.0.0/28': must not overlap firewall_subnet_cidr"),
    ({"network": {"endpoint_subnet_cidr": "192.168.0.0/24"}},
     "network.endpoint_subnet_cidr = '192.168.0.0/24': must lie inside vnet_cidr"),
    ({"api_server": {"private_cluster": True, "authorized_ip_ranges": ["131.107.0.0/16"]}},
     "api_server.authorized_ip_ranges = ['131.107.0.0/16']: not allowed with private_cluster"),
    ({"api_server": {"authorized_ip_ranges": ["10.0.0.0/8"]}}, "must be public (global) ranges"),
    ({"api_server": {"authorized_ip_ranges": ["1.2.3.4/40"]}}, "api_server.authorized_ip_ranges"),
    ({"egress": {"outbound_type": "userDefinedRoutiong"}},
     "egress.outbound_type = 'userDefinedRoutiong': Input should be 'loadBalancer', "
     "'managedNATGateway', 'userAssignedNATGateway', 'userDefinedRouting' or 'none'"),
    ({"egress": {"outbound_type": "none"}},
     "egress.outbound_type = 'none': 'none' is for network isolated clusters, which are private"),
    ({"egress": {"outbound_type": "managedNATGateway"}, "api_server": {"private_cluster": True}},
     "egress.outbound_type = 'managedNATGateway': the managed NAT gateway lives in a VNET AKS "
     "creates"),
    ({"egress": {"outbound_type": "managedNATGateway"},
      "api_server": {"authorized_ip_ranges": ["131.107.0.0/16"]}},
     "egress IPs exist only after creation"),
    ({"egress": {"firewall_public_ips": 3}},
     "egress.firewall_public_ips = 3: only used with outbound_type userDefinedRouting"),
    ({"egress": {"outbound_type": "userDefinedRouting", "firewall_public_ips": 0}},
     "egress.firewall_public_ips = 0: Input should be greater than or equal to 1"),
    ({"egress": {"outbound_type": "userDefinedRouting", "firewall_public_ips": 2},
      "api_server": {"authorized_ip_ranges": [f"20.{i}.0.0/16" for i in range(199)]}},
     "api_server.authorized_ip_ranges = '199 ranges': with the cluster's 2 egress IP(s) added "
     "they exceed AKS's limit of 200"),
    ({"entra": {"enabled": False}}, "entra.azure_rbac = True: needs enabled: true"),
    ({"entra": {"admin_group_object_ids": ["not-a-guid"]}}, "entra.admin_group_object_ids.0"),
    ({"upgrades": {"auto_upgrade_channel": "weekly"}}, "upgrades.auto_upgrade_channel"),
    ({"upgrades": {"maintenance_window": {"duration_hours": 2}}},
     "duration_hours = 2: Input should be greater than or equal to 4"),
    ({"upgrades": {"maintenance_window": {"start_time": "25:00"}}}, "must be HH:MM"),
    ({"execute": True}, "execute = True: only target 'aks' runs az for real"),
    ({"target": "replay"}, "transcript = None: target 'replay' needs a recorded transcript"),
    ({"execute": "yes please"}, "execute = 'yes please'"),
])
def test_bad_values_name_parameter_value_and_rule(changes, expected):
    assert expected in rejected(**changes)


def test_unknown_parameters_are_rejected_with_the_known_ones_listed():
    message = rejected(clustr_name="x")
    assert "clustr_name: unknown parameter" in message and "cluster_name" in message
    assert "network.polcy: unknown parameter" in rejected(network={"polcy": "calico"})


@pytest.mark.parametrize("name", ["client_secret", "password", "sas_token", "storage_key",
                                  "connection_string"])
def test_secrets_are_never_parameters(name):
    assert f"{name}: secrets are never parameters" in rejected(**{name: "hunter2"})


def test_all_problems_are_reported_at_once():
    message = rejected(target="gcp", prefix="X", node_pools=[])
    assert "target" in message and "prefix" in message and "node_pools" in message


def test_missing_file_and_bad_yaml_are_clear(tmp_path):
    with pytest.raises(params.ParameterError, match="environment file not found"):
        params.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("environment: [unclosed")
    with pytest.raises(params.ParameterError, match="not valid YAML"):
        params.load(bad)


def test_overrides_are_parsed_as_yaml():
    assert params.parse_override("execute=true") == ("execute", True)
    assert params.parse_override("node_pools=[{name: system, count: 3, mode: System}]")[1][0][
        "count"] == 3
    with pytest.raises(params.ParameterError, match="expected name=value"):
        params.parse_override("execute")


def test_every_outbound_type_azure_cli_accepts_is_a_parameter_with_its_reason():
    from azure.cli.command_modules.acs._params import outbound_types

    assert set(params.OUTBOUND_TYPES) == set(outbound_types)
    for outbound in outbound_types:
        private = outbound == "none"
        env = params.load({**BASE, "egress": {"outbound_type": outbound},
                           "api_server": {"private_cluster": private}})
        assert env.egress.outbound_type == outbound


def test_production_example_uses_overlay_a_private_api_server_and_a_documented_firewall():
    prod = params.load(ROOT / "environments" / "aks-prod.yaml")
    assert prod.network.model == "Azure CNI Overlay"
    assert prod.api_server.private_cluster and prod.egress.outbound_type == "userDefinedRouting"
    assert prod.egress.firewall_public_ips >= 20


def test_local_accounts_off_needs_an_admin_group_only_when_the_cluster_is_created():
    aks = {**BASE, "target": "aks"}
    assert params.load(aks).plan_only  # a plan to read: its rules say what is missing
    message = rejected(**{**aks, "execute": True})
    assert "entra.admin_group_object_ids = []" in message and "--sku automatic" in message
    group = {"admin_group_object_ids": ["00000000-0000-0000-0000-0000000000a1"]}
    assert not params.load({**aks, "execute": True, "entra": group}).plan_only
    local_accounts_on = {"disable_local_accounts": False}
    assert not params.load({**aks, "execute": True, "entra": local_accounts_on}).plan_only


def test_example_environments_update_dev_before_prod():
    dev, prod = (params.load(ROOT / "environments" / f"aks-{name}.yaml")
                 for name in ("dev", "prod"))
    assert dev.upgrades.auto_upgrade_channel == prod.upgrades.auto_upgrade_channel == "stable"
    assert dev.upgrades.node_os_upgrade_channel == prod.upgrades.node_os_upgrade_channel
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    assert days.index(dev.upgrades.maintenance_window.day_of_week) < \
        days.index(prod.upgrades.maintenance_window.day_of_week)
    weeks = ("First", "Second", "Third", "Fourth", "Last")
    assert weeks.index(dev.upgrades.auto_upgrade_week) < \
        weeks.index(prod.upgrades.auto_upgrade_week)
    for env in (dev, prod):
        assert env.upgrades.maintenance_window.utc_offset == "+09:00"
        assert [f.reason for f in env.upgrades.freezes] == ["year-end", "Golden Week"]
