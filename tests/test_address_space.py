"""The address space a set of ranges admits (analysis.addresses): union, `except`, public
addresses only, IPv4 and IPv6 apart, and the threshold where "the Internet" begins."""

from __future__ import annotations

import pytest

from aks_runbook.analysis.addresses import (
    INTERNET_WIDE,
    PUBLIC_TOTAL,
    RangeError,
    admitted,
    describe_count,
    intersection,
    model_name,
    ranges,
    smallest_prefix,
)


def test_the_public_ipv4_space_leaves_out_the_special_purpose_blocks():
    assert PUBLIC_TOTAL[4] == 3_702_258_688
    assert ranges(["0.0.0.0/0"]).public(4) == PUBLIC_TOTAL[4]
    assert ranges(["0.0.0.0/1", "128.0.0.0/1"]).public(4) == PUBLIC_TOTAL[4]


@pytest.mark.parametrize("cidrs, public", [
    (["131.107.0.0/16"], 65_536),
    (["131.107.0.1/16"], 65_536),  # host bits, as AKS accepts them
    (["20.61.12.7"], 1),  # a bare address is a /32
    (["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"], 0),
    (["127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "192.0.2.0/24"], 0),
    (["17.0.0.0/8", "17.1.0.0/16"], 2 ** 24),  # overlaps count once
    (["10.0.0.0/7"], 2 ** 24),  # 11/8 public beside private 10/8
])
def test_public_addresses_of_a_union(cidrs, public):
    assert ranges(cidrs).public(4) == public


@pytest.mark.parametrize("blocks, public", [
    ([("16.0.0.0/7", ["16.0.0.0/8"])], 2 ** 24),
    ([("16.0.0.0/7", ["16.0.0.0/9"])], 2 ** 24 + 2 ** 23),
    ([("18.0.0.0/31", ["18.0.0.1/32"])], 1),
    ([("0.0.0.0/0", ["0.0.0.0/1", "128.0.0.0/1"])], 0),
    # a hole in one block is filled by another: the union, not the sum of differences
    ([("16.0.0.0/7", ["16.0.0.0/8"]), ("16.0.0.0/8", [])], 2 ** 25),
])
def test_except_is_cut_out_of_its_own_block(blocks, public):
    assert admitted(blocks).public(4) == public


@pytest.mark.parametrize("cidrs, wide", [
    (["17.0.0.0/8"], False),
    (["17.0.0.0/8", "18.0.0.0/32"], True),
    (["2a01:110::/32"], False),
    (["2a01:110::/31"], True),
    (["fc00::/7", "2001:db8::/32"], False),  # unique local and documentation: not public
    (["17.0.0.0/8", "2a01:110::/32"], False),  # each version at its threshold
])
def test_the_threshold_is_exclusive(cidrs, wide):
    assert bool(ranges(cidrs).internet_wide()) is wide


def test_the_thresholds_are_a_slash_8_and_a_slash_32():
    assert INTERNET_WIDE == {4: ranges(["17.0.0.0/8"]).public(4),
                             6: ranges(["2a01:110::/32"]).public(6)}


def test_reasons_name_the_version_the_count_and_the_threshold():
    assert ranges(["3.0.0.0/8", "4.0.0.0/8"]).internet_wide() == [
        "IPv4: 33,554,432 public addresses (0.91% of the public unicast space), more than a /8 "
        "(16,777,216 addresses)"]
    [reason] = ranges(["::/0"]).internet_wide()
    assert reason.startswith("IPv6: about 2**125 public addresses (100% of")


def test_private_ranges_are_named_not_counted():
    space = ranges(["10.1.0.0/16", "fd00::/8", "131.107.0.0/16"])
    assert (space.private(4), space.private(6)) == (["10.0.0.0/8"], ["fc00::/7"])
    assert space.summary() == "IPv4 65,536 public addresses; IPv6 0 public addresses"


def test_counts_read_as_numbers():
    assert describe_count(65_536) == "65,536"
    assert describe_count(2 ** 96) == "2**96"
    assert describe_count(2 ** 96 + 1) == "about 2**96"
    assert describe_count(1_000) == "1,000"
    assert describe_count(2 ** 64 - 1) == "18,446,744,073,709,551,615"  # the last in full
    assert describe_count(2 ** 64) == "2**64"
    assert describe_count(3 * 2 ** 64) == "about 2**66"


def test_the_share_of_the_public_space_is_rounded_to_whole_percent_from_1_percent_on():
    [reason] = ranges(["17.0.0.0/8", "18.0.0.0/8", "19.0.0.0/8", "20.0.0.0/8"]).internet_wide()
    assert reason == ("IPv4: 67,108,864 public addresses (2% of the public unicast space), "
                      "more than a /8 (16,777,216 addresses)")
    [reason] = ranges(["17.0.0.0/8", "18.0.0.0/31"]).internet_wide()
    assert "(0.45% of the public unicast space)" in reason


def test_the_summary_counts_each_version_it_holds():
    assert ranges(["131.107.0.0/16"]).summary() == "IPv4 65,536 public addresses"
    assert ranges(["131.107.0.0/16", "2001:4860::/32"]).summary() == (
        "IPv4 65,536 public addresses; IPv6 2**96 public addresses")


def test_an_ipv6_range_that_maps_no_ipv4_address_stays_ipv6():
    assert ranges(["2001:4860::1/128"]).public(6) == 1
    assert ranges(["2001:4860::/96"]).public(6) == 2 ** 32
    assert ranges(["2001:4860::/96"]).public(4) == 0


def test_the_intersection_keeps_both_versions():
    both = intersection(ranges(["0.0.0.0/0", "2000::/3"]),
                        ranges(["20.0.0.0/8", "2001:4860::/32", "fd00::/8"]))
    assert both == ranges(["20.0.0.0/8", "2001:4860::/32"])


@pytest.mark.parametrize("demand, prefix", [(6, 29), (8, 29), (9, 28), (16, 28), (17, 27),
                                            (65_536, 16), (65_537, 15)])
def test_the_smallest_subnet_holds_the_demand_exactly(demand, prefix):
    """The network chapter's calculator: a /28 holds 16 addresses, so 16 fit and 17 do not."""
    assert smallest_prefix(demand) == prefix


@pytest.mark.parametrize("plugin, mode, name", [
    ("azure", None, "Azure CNI Node Subnet (legacy)"), ("azure", "overlay", "Azure CNI Overlay"),
    ("kubenet", None, "kubenet"), ("none", None, "BYO CNI"), ("other", None, "other")])
def test_the_calculator_names_each_network_model(plugin, mode, name):
    assert model_name(plugin, mode) == name


@pytest.mark.parametrize("text", ["everyone", "10.0.0.0/33", "", "300.1.1.1"])
def test_a_range_that_is_not_one_is_named(text):
    with pytest.raises(RangeError, match="is not an IPv4 or IPv6 range"):
        ranges(["10.0.0.0/8", text])


@pytest.mark.parametrize("cidr, ipv4", [
    ("::ffff:0:0/96", "0.0.0.0/0"),
    ("::ffff:0.0.0.0/97", "0.0.0.0/1"),
    ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
    ("::ffff:20.61.12.7", "20.61.12.7/32"),
])
def test_an_ipv4_mapped_ipv6_range_admits_the_ipv4_addresses_it_maps(cidr, ipv4):
    """Go's net.IPNet.Contains (the API server's and the CNIs' reading) matches IPv4 addresses
    against an IPv4-mapped IPv6 network: ::ffff:0:0/96 is every IPv4 address, not zero public
    IPv6 addresses."""
    assert admitted([(cidr, ())]).public(4) == ranges([ipv4]).public(4)
    assert admitted([(cidr, ())]).networks(6) == ()


def test_authorized_ranges_written_as_ipv4_mapped_ipv6_fail_as_the_internet():
    assert ranges(["::ffff:0:0/96"]).internet_wide()
    assert ranges(["::ffff:0.0.0.0/97", "::ffff:128.0.0.0/97"]).internet_wide()
    assert not ranges(["::ffff:131.107.0.0/112"]).internet_wide()
