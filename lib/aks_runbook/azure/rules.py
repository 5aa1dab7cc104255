"""Rules Azure applies to az lines that azure-cli's own code does not check, knowable offline.

Each rule cites the AKS docs page it comes from (MicrosoftDocs/azure-aks-docs, 2026):

- "Concepts - IP address planning in Azure Kubernetes Service (AKS)": the DNS service IP lies
  inside the service CIDR and is not its first address (kubernetes.default takes it); the
  service CIDR is used by nothing on the cluster's VNET; max pods per node 10 to 250.
- "Overview of Azure CNI Overlay Networking in Azure Kubernetes Service (AKS)": the pod CIDR
  does not overlap the cluster subnet; the service CIDR is smaller than /12 and overlaps
  neither the pod CIDR nor the cluster subnet.
- "Concepts - CNI Networking in Azure Kubernetes Service (AKS)": service, pod and VNET ranges
  stay out of 169.254.0.0/16, 192.0.2.0/24, 172.30.0.0/16 and 172.31.0.0/16.
- Add-on names: azure-cli's own list (acs/_consts.py ADDONS), which the service accepts.

`check` gets the command's parsed arguments (azure-cli's names) and the address ranges of VNETs
and subnets that earlier lines of the same run created; it returns what the line breaks.
"""

from __future__ import annotations

import ipaddress
import json
import re

from aks_runbook.i18n import _

IP_PLANNING = "Concepts - IP address planning in Azure Kubernetes Service (AKS)"
OVERLAY = "Overview of Azure CNI Overlay Networking in Azure Kubernetes Service (AKS)"
CNI = "Concepts - CNI Networking in Azure Kubernetes Service (AKS)"
RESERVED = ("169.254.0.0/16", "192.0.2.0/24", "172.30.0.0/16", "172.31.0.0/16")
MAX_PODS = (10, 250)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def check(command: str, params: dict, spaces: list[tuple[str, list[str]]]) -> list[str]:
    """What the line breaks, each naming the rule and its docs page (empty when nothing)."""
    broken: list[str] = []
    if command in ("aks create", "aks update"):
        broken += _cluster_network(params, spaces, command == "aks create")
    if command in ("aks create", "aks nodepool add"):
        broken += _max_pods(params.get("max_pods"))
    if command in ("aks enable-addons", "aks disable-addons"):  # aks create checks its own
        broken += _addons(params.get("enable_addons") or params.get("addons"))
    return broken


def check_request(method: str, path: str, body) -> list[str]:
    """Address prefixes of a VNET or subnet that a line is about to PUT (azure-cli sends
    them unchecked; Azure rejects a malformed one)."""
    low = path.lower()
    if method != "PUT" or not re.search(r"/(virtualnetworks|subnets)/[^/]+$", low):
        return []
    try:
        data = json.loads(body or b"{}")
    except (TypeError, ValueError):
        return []
    props = data.get("properties") or {}
    prefixes = list((props.get("addressSpace") or {}).get("addressPrefixes") or [])
    for subnet in [{"properties": props}, *(props.get("subnets") or [])]:
        sp = subnet.get("properties") or {}
        prefixes += sp.get("addressPrefixes") or ([sp["addressPrefix"]]
                                                  if sp.get("addressPrefix") else [])
    for prefix in prefixes:
        if _network(str(prefix)) is None:
            return [_("address prefix {prefix} is not a CIDR range (an address, a slash and "
                      "a prefix length, e.g. 10.224.0.0/16): Azure rejects the virtual network "
                      "or subnet ({page})").format(prefix=prefix, page=IP_PLANNING)]
        reserved = [r for r in RESERVED if _overlaps(_network(str(prefix)),
                                                     ipaddress.ip_network(r))]
        if reserved:
            return [_("address prefix {prefix} overlaps {reserved}, a range AKS reserves "
                      "for cluster virtual networks ({page})").format(
                prefix=prefix, reserved=reserved[0], page=CNI)]
    return []


def _values(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,\s]+", value) if v.strip()]
    try:
        return [str(v).strip() for v in value if str(v).strip()]
    except TypeError:
        return [str(value)]


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text, strict=False) if "/" in text else None
    except ValueError:
        return None


def _cluster_network(params: dict, spaces, creating: bool) -> list[str]:
    broken: list[str] = []
    nets: dict[str, list[Network]] = {}
    for flag in ("pod_cidr", "service_cidr", "pod_cidrs", "service_cidrs"):
        for value in _values(params.get(flag)):
            net = _network(value)
            name = "--" + flag.replace("_", "-")
            if net is None:
                broken.append(_("{flag} {value} is not a CIDR range (an address, a slash and "
                                "a prefix length, e.g. 10.244.0.0/16) ({page})").format(
                    flag=name, value=value, page=IP_PLANNING))
                continue
            nets.setdefault(flag.rstrip("s").replace("_cidr", ""), []).append(net)
    services, pods = nets.get("service", []), nets.get("pod", [])
    for kind, found in (("service", services), ("pod", pods)):
        for net in found:
            reserved = [r for r in RESERVED if _overlaps(net, ipaddress.ip_network(r))]
            if reserved:
                broken.append(_("{flag} {net} overlaps {reserved}, a range AKS reserves "
                                "({page})").format(flag=f"--{kind}-cidr", net=net,
                                                   reserved=reserved[0], page=CNI))
    for net in services:
        if net.version == 4 and net.prefixlen < 12:
            broken.append(_("--service-cidr {net} is larger than a /12; the service CIDR must "
                            "be smaller than /12 ({page})").format(net=net, page=OVERLAY))
        for pod in pods:
            if _overlaps(net, pod):
                broken.append(_("--service-cidr {net} overlaps --pod-cidr {pod} ({page})").format(
                    net=net, pod=pod, page=OVERLAY))
    dns = params.get("dns_service_ip")
    if dns and services:
        broken += _dns_ip(str(dns), services[0])
    subnet_id = str(params.get("vnet_subnet_id") or "")
    if subnet_id and creating:
        broken += _against_vnet(subnet_id, services, pods, params, spaces)
    return broken


def _dns_ip(dns: str, service: Network) -> list[str]:
    try:
        ip = ipaddress.ip_address(dns)
    except ValueError:
        return [_("--dns-service-ip {dns} is not an IP address ({page})").format(
            dns=dns, page=IP_PLANNING)]
    if ip not in service:
        return [_("--dns-service-ip {ip} is outside --service-cidr {service}: it must be an "
                  "address within the Kubernetes service address range ({page})").format(
            ip=ip, service=service, page=IP_PLANNING)]
    if ip == service.network_address or (service.num_addresses > 2 and (
            ip == service.network_address + 1 or ip == service.broadcast_address)):
        which = (_("the network address") if ip == service.network_address else
                 _("the first address") if ip == service.network_address + 1 else
                 _("the broadcast address"))
        return [_("--dns-service-ip {ip} is {which} of --service-cidr {service}: don't use the "
                  "first IP address of the range, kubernetes.default takes it ({page})").format(
            ip=ip, which=which, service=service, page=IP_PLANNING)]
    return []


def _against_vnet(subnet_id: str, services, pods, params, spaces) -> list[str]:
    """Service and pod CIDRs against a VNET and subnet that this run created."""
    low = subnet_id.lower().rstrip("/")
    vnet_id = low.rsplit("/subnets/", 1)[0]
    subnet = next((p for rid, p in spaces if rid.lower() == low), None)
    vnet = next((p for rid, p in spaces if rid.lower() == vnet_id), None)
    broken = []
    overlay_or_kubenet = (str(params.get("network_plugin_mode") or "").lower() == "overlay"
                          or str(params.get("network_plugin") or "").lower() == "kubenet")
    for net in services:
        for prefix in vnet or subnet or []:
            other = _network(prefix)
            if other is not None and _overlaps(net, other):
                broken.append(_("--service-cidr {net} overlaps the cluster's virtual network "
                                "({prefix}): no network element on or connected to the VNET "
                                "may use the service range ({page})").format(
                    net=net, prefix=prefix, page=IP_PLANNING))
                break
    for net in pods if overlay_or_kubenet else []:
        for prefix in subnet or []:
            other = _network(prefix)
            if other is not None and _overlaps(net, other):
                broken.append(_("--pod-cidr {net} overlaps the cluster subnet ({prefix}) "
                                "({page})").format(net=net, prefix=prefix, page=OVERLAY))
                break
    return broken


def _overlaps(a: Network, b: Network) -> bool:
    return a.version == b.version and a.overlaps(b)


def _max_pods(value) -> list[str]:
    if value is None:
        return []
    try:
        pods = int(value)
    except (TypeError, ValueError):
        return []
    low, high = MAX_PODS
    if pods == 0:  # azure-cli's own "let AKS pick the default"
        return []
    if pods < low or pods > high:
        return [_("--max-pods {pods} is outside {low}-{high}, the range AKS enforces for "
                  "maximum pods per node ({page})").format(pods=pods, low=low, high=high,
                                                          page=IP_PLANNING)]
    return []


def known_addons() -> list[str]:
    from azure.cli.command_modules.acs._consts import ADDONS

    return list(ADDONS)


def _addons(value) -> list[str]:
    if not value:
        return []
    known = known_addons()
    wrong = [a for a in _values(value) if a not in known]
    if not wrong:
        return []
    import difflib

    close = difflib.get_close_matches(wrong[0], known, n=1)
    hint = _(" (did you mean {addon}?)").format(addon=close[0]) if close else ""
    return [_("add-on {addon} does not exist{hint}: AKS add-ons are {known} (azure-cli's "
              "add-on list, acs/_consts.py ADDONS)").format(
        addon=repr(wrong[0]), hint=hint, known=", ".join(sorted(known)))]
