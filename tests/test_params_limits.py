"""Both sides of every parameter limit: the last value allowed passes, the first one beyond it
is refused naming the parameter. Overlap rules refuse partial overlaps, not only equal ranges."""

from __future__ import annotations

import pytest

from aks_runbook import params

BASE = {"environment": "local", "prefix": "demo"}
SYSTEM = {"name": "system", "count": 1, "mode": "System"}
ADMINS = {"admin_group_object_ids": ["00000000-0000-0000-0000-0000000000a1"]}


def load(**changes) -> params.Environment:
    return params.load({**BASE, **changes})


def refused(**changes) -> str:
    with pytest.raises(params.ParameterError) as error:
        load(**changes)
    return str(error.value)


def pools(**pool) -> list[dict]:
    return [{**SYSTEM, **pool}]


def network(**fields) -> dict:
    return {"network": fields}


# (case, accepted changes, refused changes, what the refusal names)
LIMITS = [
    ("environment length", {"environment": "e" * 20}, {"environment": "e" * 21}, "environment"),
    ("environment starts with a letter", {"environment": "a-1"}, {"environment": "1a"},
     "environment"),
    ("prefix length, short", {"prefix": "ab"}, {"prefix": "a"}, "prefix"),
    ("prefix length, long", {"prefix": "a" * 10}, {"prefix": "a" * 11}, "prefix"),
    ("location length", {"location": "abc"}, {"location": "ab"}, "location"),
    ("kubernetes patch digits", {"kubernetes_version": "1.36.10"},
     {"kubernetes_version": "1.36.100"}, "kubernetes_version"),
    ("kubernetes minor digits", {"kubernetes_version": "1.36"}, {"kubernetes_version": "1.3"},
     "kubernetes_version"),
    ("subscription is a GUID", {"subscription_id": "00000000-0000-0000-0000-000000000000"},
     {"subscription_id": "sub-1"}, "subscription_id"),
    ("cluster name length", {"cluster_name": "c" * 63}, {"cluster_name": "c" * 64},
     "cluster_name"),
    ("cluster name ends with a letter or digit", {"cluster_name": "c_1"},
     {"cluster_name": "c_"}, "cluster_name"),
    ("one-character cluster name", {"cluster_name": "c"}, {"cluster_name": ""}, "cluster_name"),
    ("registry name, short", {"acr_name": "a" * 5}, {"acr_name": "a" * 4}, "acr_name"),
    ("registry name, long", {"acr_name": "a" * 50}, {"acr_name": "a" * 51}, "acr_name"),
    ("resource group length", {"resource_group": "r" * 90}, {"resource_group": "r" * 91},
     "resource_group"),
    ("resource group characters", {"resource_group": "rg.(x)_-y"}, {"resource_group": "rg/x"},
     "resource_group"),
    ("at least one pool", {"node_pools": pools()}, {"node_pools": []}, "node_pools"),
    ("pool name length", {"node_pools": pools(name="s" * 12)},
     {"node_pools": pools(name="s" * 13)}, "node_pools.0.name"),
    ("pool name starts with a letter", {"node_pools": pools(name="s1")},
     {"node_pools": pools(name="1s")}, "node_pools.0.name"),
    ("pool size, high", {"node_pools": pools(count=1000)}, {"node_pools": pools(count=1001)},
     "node_pools.0.count"),
    ("max pods, low", {"node_pools": pools(max_pods=10)}, {"node_pools": pools(max_pods=9)},
     "node_pools.0.max_pods"),
    ("max pods, high", {"node_pools": pools(max_pods=250)}, {"node_pools": pools(max_pods=251)},
     "node_pools.0.max_pods"),
    ("VM size", {"node_pools": pools(vm_size="Standard_B2s")},
     {"node_pools": pools(vm_size="B2s")}, "node_pools.0.vm_size"),
    ("firewall subnet size", network(firewall_subnet_cidr="10.225.0.0/26"),
     network(firewall_subnet_cidr="10.225.0.0/27"), "network.firewall_subnet_cidr"),
    ("node subnet inside the VNET", network(node_subnet_cidr="10.239.0.0/16"),
     network(node_subnet_cidr="10.240.0.0/16"), "network.node_subnet_cidr"),
    ("firewall subnet inside the VNET", network(firewall_subnet_cidr="10.239.255.192/26"),
     network(firewall_subnet_cidr="10.240.0.0/26"), "network.firewall_subnet_cidr"),
    ("firewall subnet beside the node subnet, not inside it",
     network(firewall_subnet_cidr="10.225.0.0/26"), network(firewall_subnet_cidr="10.224.0.0/26"),
     "must not overlap node_subnet_cidr"),
    ("endpoint subnet beside the firewall subnet, not overlapping it",
     network(endpoint_subnet_cidr="10.225.0.64/26"), network(endpoint_subnet_cidr="10.225.0.0/24"),
     "network.endpoint_subnet_cidr = '10.225.0.0/24': must not overlap firewall_subnet_cidr"),
    ("endpoint subnet beside the node subnet, not inside it",
     network(endpoint_subnet_cidr="10.226.0.0/24"), network(endpoint_subnet_cidr="10.224.5.0/24"),
     "network.endpoint_subnet_cidr = '10.224.5.0/24': must not overlap node_subnet_cidr"),
    ("endpoint subnet inside the VNET", network(endpoint_subnet_cidr="10.239.255.0/24"),
     network(endpoint_subnet_cidr="10.240.0.0/24"),
     "network.endpoint_subnet_cidr = '10.240.0.0/24': must lie inside vnet_cidr"),
    ("service CIDR beside the VNET, not overlapping it",
     network(service_cidr="10.240.0.0/16", dns_service_ip="10.240.0.10"),
     network(service_cidr="10.239.0.0/16", dns_service_ip="10.239.0.10"),
     "network.service_cidr = '10.239.0.0/16': must not overlap vnet_cidr"),
    ("service CIDR holding the VNET", network(service_cidr="10.0.0.0/16"),
     network(service_cidr="10.0.0.0/8", dns_service_ip="10.0.0.10"),
     "network.service_cidr = '10.0.0.0/8': must not overlap vnet_cidr"),
    ("pod CIDR beside the service CIDR", network(pod_cidr="10.1.0.0/16"),
     network(pod_cidr="10.0.128.0/17"),
     "network.pod_cidr = '10.0.128.0/17': must not overlap service_cidr"),
    ("pod CIDR beside the VNET", network(pod_cidr="10.240.0.0/16"),
     network(pod_cidr="10.239.0.0/16"),
     "network.pod_cidr = '10.239.0.0/16': must not overlap vnet_cidr"),
    ("DNS IP: second address after the service address",
     network(dns_service_ip="10.0.0.2"), network(dns_service_ip="10.0.0.1"),
     "network.dns_service_ip = '10.0.0.1'"),
    ("DNS IP: not the network address", network(dns_service_ip="10.0.0.10"),
     network(dns_service_ip="10.0.0.0"), "network.dns_service_ip = '10.0.0.0'"),
    ("DNS IP: last address before broadcast", network(dns_service_ip="10.0.255.254"),
     network(dns_service_ip="10.0.255.255"), "network.dns_service_ip = '10.0.255.255'"),
    ("DNS IP: inside the service CIDR", network(dns_service_ip="10.0.255.254"),
     network(dns_service_ip="10.1.0.0"), "must be inside service_cidr"),
    ("kubenet with calico, not cilium",
     network(plugin="kubenet", plugin_mode=None, dataplane="azure", policy="calico"),
     network(plugin="kubenet", plugin_mode=None, dataplane="azure", policy="azure"),
     "network.policy = 'azure': kubenet supports only"),
    ("cilium dataplane needs cilium policy",
     network(dataplane="cilium", policy="cilium"), network(dataplane="cilium", policy="calico"),
     "network.dataplane = 'cilium': the cilium dataplane needs plugin 'azure'"),
    ("cilium policy needs the cilium dataplane",
     network(dataplane="azure", policy="calico"), network(dataplane="azure", policy="cilium"),
     "network.policy = 'cilium': policy 'cilium' needs dataplane 'cilium'"),
    ("cilium dataplane needs Azure CNI",
     network(plugin="azure", plugin_mode=None, dataplane="cilium", policy="cilium"),
     network(plugin="none", plugin_mode=None, dataplane="cilium", policy="cilium"),
     "network.dataplane = 'cilium'"),
    ("authorized ranges: 200 at most",
     {"api_server": {"authorized_ip_ranges": [f"131.107.{i}.0/24" for i in range(200)]}},
     {"api_server": {"authorized_ip_ranges": [f"131.107.{i}.0/24" for i in range(201)]}},
     "api_server.authorized_ip_ranges"),
    ("authorized ranges: documentation ranges are not public",
     {"api_server": {"authorized_ip_ranges": ["131.107.0.0/16"]}},
     {"api_server": {"authorized_ip_ranges": ["131.107.0.0/16", "203.0.113.0/24"]}},
     "api_server.authorized_ip_ranges = ['203.0.113.0/24']: must be public"),
    ("authorized ranges: shared address space is not public",
     {"api_server": {"authorized_ip_ranges": ["100.63.0.0/16"]}},
     {"api_server": {"authorized_ip_ranges": ["100.64.0.0/10"]}},
     "api_server.authorized_ip_ranges = ['100.64.0.0/10']: must be public"),
    ("private cluster without ranges", {"api_server": {"private_cluster": True}},
     {"api_server": {"private_cluster": True, "authorized_ip_ranges": ["131.107.0.0/16"]}},
     "not allowed with private_cluster"),
    ("local accounts need Entra",
     {"entra": {"enabled": False, "azure_rbac": False, "disable_local_accounts": False}},
     {"entra": {"enabled": False, "azure_rbac": False}},
     "entra.disable_local_accounts = True: needs enabled: true"),
    ("maintenance start", {"upgrades": {"maintenance_window": {"start_time": "23:59"}}},
     {"upgrades": {"maintenance_window": {"start_time": "24:00"}}}, "start_time"),
    ("maintenance start minutes", {"upgrades": {"maintenance_window": {"start_time": "00:00"}}},
     {"upgrades": {"maintenance_window": {"start_time": "00:60"}}}, "start_time"),
    ("maintenance hours, low", {"upgrades": {"maintenance_window": {"duration_hours": 4}}},
     {"upgrades": {"maintenance_window": {"duration_hours": 3}}}, "duration_hours"),
    ("maintenance hours, high", {"upgrades": {"maintenance_window": {"duration_hours": 24}}},
     {"upgrades": {"maintenance_window": {"duration_hours": 25}}}, "duration_hours"),
    ("UTC offset", {"upgrades": {"maintenance_window": {"utc_offset": "-14:00"}}},
     {"upgrades": {"maintenance_window": {"utc_offset": "+15:00"}}}, "utc_offset"),
    ("execute only on aks", {"target": "aks", "execute": True, "entra": ADMINS},
     {"target": "kind", "execute": True}, "execute = True"),
    ("executed with local accounts off: an admin group",
     {"target": "aks", "execute": True, "entra": ADMINS},
     {"target": "aks", "execute": True}, "entra.admin_group_object_ids = []"),
    ("change freeze order", {"upgrades": {"freezes": [{"start": "2026-12-29",
                                                       "end": "2026-12-29"}]}},
     {"upgrades": {"freezes": [{"start": "2027-01-03", "end": "2026-12-29"}]}},
     "upgrades.freezes.0.end = '2026-12-29': must not be before start 2027-01-03"),
    ("pipeline repository", {"delivery": {"repository": "contoso/team-vote"}},
     {"delivery": {"repository": "team-vote"}}, "delivery.repository"),
    ("replay needs a transcript", {"target": "replay", "transcript": "runs/x/transcript.jsonl"},
     {"target": "replay", "transcript": ""}, "transcript"),
]


@pytest.mark.parametrize("accepted, rejected, named", [c[1:] for c in LIMITS],
                         ids=[c[0] for c in LIMITS])
def test_both_sides_of_each_limit(accepted, rejected, named):
    load(**accepted)
    assert named in refused(**rejected)


# Node subnet capacity: (nodes + 1 surge) * addresses per node + 5 reserved by Azure.
# Flat Azure CNI: 1 + max_pods per node; overlay: 1 per node.
@pytest.mark.parametrize("plugin_mode, subnet, pool, fits", [
    (None, "10.224.0.0/23", {"count": 2, "max_pods": 168}, True),  # 3 * 169 + 5 = 512
    (None, "10.224.0.0/23", {"count": 2, "max_pods": 169}, False),  # 3 * 170 + 5 = 515
    ("overlay", "10.224.0.0/28", {"count": 10}, True),  # 11 + 5 = 16
    ("overlay", "10.224.0.0/28", {"count": 11}, False),  # 12 + 5 = 17
])
def test_node_subnet_capacity_edge(plugin_mode, subnet, pool, fits):
    changes = {"node_pools": pools(**pool),
               "network": {"plugin_mode": plugin_mode, "node_subnet_cidr": subnet}}
    if fits:
        load(**changes)
    else:
        message = refused(**changes)
        assert f"network.node_subnet_cidr = '{subnet}': too small" in message
        assert f"{subnet} has {2 ** (32 - int(subnet.split('/')[1]))}" in message


def test_node_subnet_message_names_model_demand_and_smallest_prefix():
    message = refused(node_pools=pools(count=11), network={"node_subnet_cidr": "10.224.0.0/28"})
    assert "too small for Azure CNI Overlay: these node pools need 17 addresses (a /27 or " \
           "larger), 10.224.0.0/28 has 16" in message


def test_pod_cidr_is_ignored_without_overlay_or_kubenet():
    env = load(network={"plugin_mode": None, "pod_cidr": "10.0.0.0/16"})
    assert not env.network.uses_pod_cidr
    assert load(network={"plugin": "kubenet", "plugin_mode": None, "dataplane": "azure",
                         "policy": "calico"}).network.uses_pod_cidr


def test_names_derived_from_a_trailing_hyphen_must_be_set_explicitly():
    message = refused(environment="dev-")
    assert "cluster_name = 'aks-demo-dev-': derived from prefix and environment" in message
    assert "set cluster_name explicitly" in message
    env = load(environment="dev-", cluster_name="aks-demo-dev")
    assert (env.rg, env.cluster, env.acr) == ("rg-demo-dev-", "aks-demo-dev", "acrdemodev")


def test_plan_only_unless_aks_executes():
    assert load().plan_only
    assert load(target="aks").plan_only
    assert not load(target="aks", execute=True, entra=ADMINS).plan_only


def test_a_field_rule_names_its_value():
    assert "cluster_name = 'c_': 1-63 letters" in refused(cluster_name="c_")


def test_model_rules_are_reported_each_on_a_line():
    message = refused(network={"plugin": "kubenet", "policy": "azure", "dataplane": "azure"})
    lines = message.splitlines()
    assert "  network.plugin_mode = 'overlay': overlay needs plugin 'azure'" in lines
    assert ("  network.policy = 'azure': kubenet supports only 'calico' or 'none' (Azure NPM "
            "and Cilium need Azure CNI)") in lines


def test_pattern_errors_describe_the_field():
    assert ("node_pools.0.name = 'System': must be pool name: 1-12 lower-case letters or digits"
            in refused(node_pools=pools(name="System")))
    assert ("upgrades.maintenance_window.utc_offset = '9': must be e.g. +09:00 for Japan"
            in refused(upgrades={"maintenance_window": {"utc_offset": "9"}}))


def test_unknown_nested_parameter_lists_the_names_of_its_own_level():
    message = refused(upgrades={"maintenance_window": {"day": "Monday"}})
    assert "upgrades.maintenance_window.day: unknown parameter; known parameters here: " \
           "day_of_week, start_time, duration_hours, utc_offset" in message
    message = refused(node_pools=[{**SYSTEM, "size": 3}])
    assert "node_pools.0.size: unknown parameter; known parameters here: name, count, vm_size, " \
           "mode, max_pods" in message


@pytest.mark.parametrize("name", ["api_key", "client_key", "private_key", "key", "ssh_key",
                                  "credentials", "passwd", "apikey"])
def test_more_secret_names_are_refused_as_secrets(name):
    assert f"{name}: secrets are never parameters" in refused(**{name: "x"})


@pytest.mark.parametrize("name", ["keep", "keyboard", "monkey"])
def test_names_with_key_inside_are_unknown_not_secrets(name):
    if name == "keep":
        load(keep=True)
        return
    assert f"{name}: unknown parameter" in refused(**{name: "x"})


def test_file_must_be_a_mapping(tmp_path):
    path = tmp_path / "env.yaml"
    path.write_text("- environment: local\n")
    with pytest.raises(params.ParameterError, match="must be a mapping of parameter: value"):
        params.load(path)


def test_overrides_win_over_the_file(tmp_path):
    path = tmp_path / "env.yaml"
    path.write_text("environment: local\nprefix: demo\n")
    assert params.load(path, {"prefix": "team1"}).prefix == "team1"


@pytest.mark.parametrize("text, parsed", [
    ("prefix=team1", ("prefix", "team1")),
    (" keep = true", ("keep", True)),
    ("transcript=", ("transcript", None)),
    ("prefix=[unclosed", ("prefix", "[unclosed")),
    ("a=b=c", ("a", "b=c")),
])
def test_override_parsing(text, parsed):
    assert params.parse_override(text) == parsed


@pytest.mark.parametrize("text", ["=x", " =x", "novalue"])
def test_override_without_name_or_value_is_refused(text):
    with pytest.raises(params.ParameterError, match="expected name=value"):
        params.parse_override(text)


def test_fields_lists_the_top_level_parameters_in_order():
    names = list(params.fields())
    assert names[:3] == ["environment", "target", "prefix"] and "network" in names


# ---- the message: every problem, each on its own line, named by its full path ----------------

def lines(**changes) -> list[str]:
    return refused(**changes).splitlines()


def test_the_message_lists_each_problem_on_its_own_line():
    assert lines(node_pools=[{"name": "user", "count": 2}]) == [
        "Invalid parameters:", "  node_pools = ['user']: at least one pool needs mode: System"]


def test_every_unknown_parameter_is_reported():
    found = lines(clustr_name="x", polcy="y")
    assert [line.split(":")[0] for line in found[1:]] == ["  clustr_name", "  polcy"]


def test_every_field_rule_is_reported():
    assert lines(cluster_name="c_", acr_name="A")[1:] == [
        "  cluster_name = 'c_': 1-63 letters, digits, '-' or '_', starting and ending with a "
        "letter or digit", "  acr_name = 'A': 5-50 lower-case letters or digits"]


def test_rules_of_several_sections_are_all_reported_with_their_section():
    found = lines(network={"plugin": "kubenet"}, entra={"enabled": False})
    assert found[1:] == [
        "  network.plugin_mode = 'overlay': overlay needs plugin 'azure'",
        "  network.dataplane = 'cilium': the cilium dataplane needs plugin 'azure' and policy "
        "'cilium'",
        "  network.policy = 'cilium': kubenet supports only 'calico' or 'none' (Azure NPM and "
        "Cilium need Azure CNI)",
        "  entra.azure_rbac = True: needs enabled: true",
        "  entra.disable_local_accounts = True: needs enabled: true"]


def test_a_secret_name_inside_a_section_is_refused_as_a_secret():
    assert "network.key: secrets are never parameters" in refused(network={"key": "x"})


@pytest.mark.parametrize("changes, expected", [
    ({"network": {"node_subnet_cidr": "192.168.0.0/24", "firewall_subnet_cidr": "10.224.0.0/27"}},
     ["network.node_subnet_cidr = '192.168.0.0/24': must lie inside vnet_cidr 10.224.0.0/12",
      "network.firewall_subnet_cidr = '10.224.0.0/27': Azure Firewall needs a /26 or larger "
      "subnet"]),
    ({"network": {"firewall_subnet_cidr": "10.224.0.0/26"}},
     ["network.firewall_subnet_cidr = '10.224.0.0/26': must not overlap node_subnet_cidr "
      "10.224.0.0/16"]),
    ({"network": {"dns_service_ip": "10.0.0.1"}},
     ["network.dns_service_ip = '10.0.0.1': must not be the network, broadcast or first address "
      "(10.0.0.1 is the kubernetes service) of 10.0.0.0/16"]),
    ({"network": {"plugin": "kubenet", "plugin_mode": None, "dataplane": "azure",
                  "policy": "cilium"}},
     ["network.policy = 'cilium': policy 'cilium' needs dataplane 'cilium'",
      "network.policy = 'cilium': kubenet supports only 'calico' or 'none' (Azure NPM and "
      "Cilium need Azure CNI)"]),
    ({"api_server": {"authorized_ip_ranges": ["10.0.0.0/8", "131.107.0.0/16"]}},
     ["api_server.authorized_ip_ranges = ['10.0.0.0/8']: must be public (global) ranges: "
      "private, documentation and other reserved ranges never reach the public API server "
      "endpoint, and az aks rejects them"]),
    ({"api_server": {"private_cluster": True, "authorized_ip_ranges": ["131.107.0.0/16"]}},
     ["api_server.authorized_ip_ranges = ['131.107.0.0/16']: not allowed with private_cluster: "
      "true (a private API server has no public endpoint to restrict); choose one"]),
    ({"node_pools": [{"name": "user", "count": 1}, {"name": "user", "count": 1}]},
     ["node_pools = ['user', 'user']: pool names must be unique",
      "node_pools = ['user', 'user']: at least one pool needs mode: System"]),
])
def test_rule_messages_word_for_word(changes, expected):
    assert lines(**changes)[1:] == ["  " + line for line in expected]


# ---- egress: outbound types and the authorized ranges they need --------------------------------

def ranges(count: int) -> list[str]:
    return [f"131.{107 + i // 256}.{i % 256}.0/24" for i in range(count)]


def egress(outbound: str, private: bool = False, count: int = 0, firewall_ips: int = 1) -> dict:
    return {"egress": {"outbound_type": outbound, "firewall_public_ips": firewall_ips},
            "api_server": {"private_cluster": private, "authorized_ip_ranges": ranges(count)}}


@pytest.mark.parametrize("accepted, rejected, message", [
    (egress("none", private=True), egress("none"),
     "egress.outbound_type = 'none': 'none' is for network isolated clusters, which are private: "
     "set api_server.private_cluster: true"),
    (egress("managedNATGateway"), egress("managedNATGateway", private=True),
     "egress.outbound_type = 'managedNATGateway': the managed NAT gateway lives in a VNET AKS "
     "creates, where the private cluster's registry endpoint cannot be planned; use "
     "userAssignedNATGateway or userDefinedRouting"),
    (egress("userAssignedNATGateway", count=1), egress("managedNATGateway", count=1),
     "egress.outbound_type = 'managedNATGateway': the managed NAT gateway's egress IPs exist "
     "only after creation, yet must be in api_server.authorized_ip_ranges; use "
     "userAssignedNATGateway (its IP is created first)"),
    (egress("userDefinedRouting", firewall_ips=2), egress("loadBalancer", firewall_ips=2),
     "egress.firewall_public_ips = 2: only used with outbound_type userDefinedRouting (Azure "
     "Firewall)"),
    (egress("userAssignedNATGateway", count=199), egress("userAssignedNATGateway", count=200),
     "api_server.authorized_ip_ranges = '200 ranges': with the cluster's 1 egress IP(s) added "
     "they exceed AKS's limit of 200"),
    (egress("userDefinedRouting", count=197, firewall_ips=3),
     egress("userDefinedRouting", count=198, firewall_ips=3),
     "api_server.authorized_ip_ranges = '198 ranges': with the cluster's 3 egress IP(s) added "
     "they exceed AKS's limit of 200"),
    (egress("loadBalancer", count=200), egress("loadBalancer", count=201),
     "api_server.authorized_ip_ranges"),
])
def test_egress_rules_on_both_sides(accepted, rejected, message):
    load(**accepted)
    assert any(line.startswith("  " + message) for line in lines(**rejected))
