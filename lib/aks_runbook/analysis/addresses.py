"""Address arithmetic: how many subnet addresses each network model consumes (the network
chapter's calculator), and how much of the Internet a set of ranges admits (the checks on
authorized IP ranges and NetworkPolicy ipBlock peers).

Subnets. Azure reserves 5 addresses in every subnet. With Azure CNI Node Subnet (legacy, once
"flat") every node takes one address plus one per pod it may run (pre-allocated up to max pods).
With kubenet and with Azure CNI Overlay pods live in a separate, non-VNET pod CIDR, so a node
takes one address. An upgrade surges one extra node per pool (max surge 1, AKS's default).

Address space admitted. A list of ranges is judged by its effect: the union of the ranges (an
ipBlock's `except` subtracted), IPv4 and IPv6 separately, so `0.0.0.0/1` + `128.0.0.0/1` counts
as what it is, the whole Internet; an IPv4-mapped IPv6 range (`::ffff:0:0/96`) counts as the
IPv4 range it maps, as Go's net package matches it (see `network`). Only public unicast
addresses count (IANA's special-purpose registries: RFC 1918, CGNAT, loopback, link-local,
documentation, benchmarking, multicast and reserved space are left out; for IPv6 only global
unicast 2000::/3 counts, less documentation 2001:db8::/32). Private ranges are a different
question, lateral movement inside your own networks, not exposure to the Internet: they are
listed in the evidence, never counted.

Threshold: a set of ranges is "Internet-wide" when it admits more than
- IPv4: 16,777,216 public addresses, the size of a /8: the largest block IANA ever allocated to
  one organization (the legacy class A networks). No single network of yours is larger, so
  ranges adding up to more than a /8 admit other people's networks; exactly a /8 is the
  boundary and still passes (a /8 of a cloud provider would admit all its tenants, which the
  count cannot tell apart from a company's own /8: the evidence gives the count).
- IPv6: 2**96 addresses, the size of a /32: the minimum allocation the regional registries
  make to one ISP or LIR (an organization's own site gets a /48, 65,536 times less), the
  counterpart of "more than one organization's network".
A firewall's /32 or a corporate /16 (131.107.0.0/16) is far below it; two /1s, `/0 except the
private ranges`, or four /8s are far above it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, collapse_addresses, ip_network

AZURE_RESERVED = 5
UPGRADE_SURGE = 1


@dataclass(frozen=True)
class PoolDemand:
    name: str
    nodes: int
    max_pods: int


def addresses_per_node(plugin: str, plugin_mode: str | None, max_pods: int) -> int:
    flat_azure_cni = plugin == "azure" and plugin_mode != "overlay"
    return 1 + (max_pods if flat_azure_cni else 0)


def model_name(plugin: str, plugin_mode: str | None) -> str:
    if plugin == "azure":
        return "Azure CNI Overlay" if plugin_mode == "overlay" else "Azure CNI Node Subnet (legacy)"
    return "BYO CNI" if plugin == "none" else plugin


def subnet_demand(plugin: str, plugin_mode: str | None, pools: list[PoolDemand]) -> int:
    """Addresses needed in the node subnet, upgrades included."""
    used = sum((p.nodes + UPGRADE_SURGE) * addresses_per_node(plugin, plugin_mode, p.max_pods)
               for p in pools)
    return used + AZURE_RESERVED


def subnet_capacity(subnet: IPv4Network) -> int:
    return subnet.num_addresses


def smallest_prefix(demand: int) -> int:
    """The longest prefix (smallest subnet) that holds `demand` addresses."""
    prefix = 32
    while prefix > 0 and 2 ** (32 - prefix) < demand:
        prefix -= 1
    return prefix


# ---- address space admitted by a set of ranges -----------------------------------------------

Network = IPv4Network | IPv6Network

NOT_PUBLIC = {
    4: [ip_network(n) for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")],
    # everything outside global unicast 2000::/3 (ULA, link-local, multicast, loopback, ...),
    # and the documentation prefix inside it
    6: [*ip_network("::/0").address_exclude(ip_network("2000::/3")),
        ip_network("2001:db8::/32")],
}
PRIVATE = {4: [ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                       "100.64.0.0/10")],
           6: [ip_network("fc00::/7")]}
# The most public addresses a set of ranges may admit and still be "restricted" (see above).
INTERNET_WIDE = {4: 2 ** 24, 6: 2 ** 96}
THRESHOLD_TEXT = {4: "a /8 (16,777,216 addresses)", 6: "a /32 (2**96 addresses)"}
PUBLIC_TOTAL = {
    version: ip_network("0.0.0.0/0" if version == 4 else "::/0").num_addresses
    - sum(n.num_addresses for n in NOT_PUBLIC[version]) for version in (4, 6)}


class RangeError(ValueError):
    """A range that is not an IPv4 or IPv6 CIDR; the message names it."""


def network(text: str) -> Network:
    """A CIDR (host bits allowed, as AKS and NetworkPolicy accept 10.0.0.1/8) or an address.
    An IPv4-mapped IPv6 range (`::ffff:0:0/96`, `::ffff:10.0.0.0/104`) is the IPv4 range it
    maps: Go's net package, in which the API server and the CNIs parse these fields, reads it
    so (net.ParseCIDR keeps the address in IPv4-mapped form, and IPNet.Contains compares an
    IPv4 address with the last 32 bits of the mask: `::ffff:0:0/96` contains every IPv4
    address); KEP-4858 "IP/CIDR Validation Improvements" names these values ambiguous."""
    try:
        found = ip_network(str(text).strip(), strict=False)
    except ValueError:
        raise RangeError(f"{text!r} is not an IPv4 or IPv6 range (CIDR)") from None
    mapped = found.network_address.ipv4_mapped if found.version == 6 else None
    if mapped is not None and found.prefixlen >= 96:
        return IPv4Network((mapped, found.prefixlen - 96))
    return found


def _without(networks: Iterable[Network], holes: Iterable[Network]) -> list[Network]:
    """The networks with every hole cut out (CIDR blocks either nest or do not meet)."""
    remaining = list(networks)
    for hole in holes:
        cut: list[Network] = []
        for net in remaining:
            if net.version != hole.version or not net.overlaps(hole):
                cut.append(net)
            elif not hole.supernet_of(net):
                cut.extend(net.address_exclude(hole))
        remaining = cut
    return remaining


def _overlap(networks: Iterable[Network], blocks: Iterable[Network]) -> int:
    """Addresses of (disjoint) networks inside (disjoint) blocks."""
    total = 0
    for net in networks:
        for block in blocks:
            if net.version == block.version and net.overlaps(block):
                total += min(net.num_addresses, block.num_addresses)
    return total


@dataclass(frozen=True)
class AddressSpace:
    """The union of some ranges, per IP version, as disjoint networks."""

    v4: tuple[IPv4Network, ...] = ()
    v6: tuple[IPv6Network, ...] = ()

    def networks(self, version: int) -> tuple[Network, ...]:
        return self.v4 if version == 4 else self.v6

    def public(self, version: int) -> int:
        """Public unicast addresses admitted."""
        nets = self.networks(version)
        return sum(n.num_addresses for n in nets) - _overlap(nets, NOT_PUBLIC[version])

    def private(self, version: int) -> list[str]:
        """The private ranges (RFC 1918, CGNAT, ULA) it reaches into."""
        return [str(block) for block in PRIVATE[version]
                if any(n.overlaps(block) for n in self.networks(version))]

    def internet_wide(self) -> list[str]:
        """Why these ranges admit the Internet rather than someone's networks, one reason per
        IP version over the threshold; empty when they stay within it."""
        reasons = []
        for version in (4, 6):
            count = self.public(version)
            if count > INTERNET_WIDE[version]:
                reasons.append(f"IPv{version}: {describe_count(count)} public addresses "
                               f"({share(count, version)} of the public unicast space), more "
                               f"than {THRESHOLD_TEXT[version]}")
        return reasons

    def summary(self) -> str:
        """Public addresses admitted per version, e.g. 'IPv4 65,536 public addresses'."""
        return "; ".join(f"IPv{v} {describe_count(self.public(v))} public addresses"
                         for v in (4, 6) if self.networks(v))


def describe_count(count: int) -> str:
    """Counts below 2**64 (every IPv4 count) in full; larger ones as a power of two."""
    if count < 2 ** 64:
        return f"{count:,}"
    exact = count & (count - 1) == 0
    return f"2**{count.bit_length() - 1}" if exact else f"about 2**{round(math.log2(count))}"


def share(count: int, version: int) -> str:
    percent = 100 * count / PUBLIC_TOTAL[version]
    return f"{percent:.0f}%" if percent >= 1 else f"{percent:.2g}%"


def admitted(blocks: Iterable[tuple[str, Iterable[str]]]) -> AddressSpace:
    """The union of these (cidr, except) blocks, each with its exceptions cut out. Raises
    RangeError naming the first entry that is not a range."""
    nets: list[Network] = []
    for cidr, holes in blocks:
        nets.extend(_without([network(cidr)], [network(h) for h in holes]))
    v4 = [n for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    return AddressSpace(tuple(collapse_addresses(v4)), tuple(collapse_addresses(v6)))


def intersection(first: AddressSpace, second: AddressSpace) -> AddressSpace:
    """The addresses in both."""
    v4 = _without(first.v4, _without(first.v4, second.v4))
    v6 = _without(first.v6, _without(first.v6, second.v6))
    return AddressSpace(tuple(collapse_addresses(v4)),  # type: ignore[arg-type]
                        tuple(collapse_addresses(v6)))  # type: ignore[arg-type]


def ranges(cidrs: Iterable[str]) -> AddressSpace:
    """The union of plain ranges (authorized IP ranges: no exceptions)."""
    return admitted((cidr, ()) for cidr in cidrs)
