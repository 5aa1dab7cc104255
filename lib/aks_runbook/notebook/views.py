"""Tables and charts the notebooks show: stable (sorted, no ages or UIDs) so nbval can compare."""

from __future__ import annotations

from collections import Counter
from ipaddress import IPv4Network

import pandas as pd

from aks_runbook.analysis.addresses import (
    PoolDemand,
    model_name,
    smallest_prefix,
    subnet_capacity,
    subnet_demand,
)
from aks_runbook.analysis.reachability import Connection
from aks_runbook.azure import plan as azplan
from aks_runbook.azure import validate as azvalidate
from aks_runbook.frontend import in_kernel
from aks_runbook.params import OUTBOUND_TYPES, Environment


def pods_per_node(nodes: list[dict], pods: list[dict], owners: dict[str, str]) -> pd.DataFrame:
    """Rows: nodes (with their pool); columns: workloads; cells: pod counts."""
    pool = {n["metadata"]["name"]: n["metadata"]["labels"].get("agentpool", "")
            for n in nodes}
    if not nodes:  # nodes could not be listed (an attendee): the pods' nodes, pool unknown
        pool = {(p.get("spec") or {}).get("nodeName") or "(pending)": "(nodes not readable)"
                for p in pods}
    counts: Counter = Counter()
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName") or "(pending)"
        workload = next((w for prefix, w in owners.items()
                         if pod["metadata"]["name"].startswith(prefix)), None)
        if workload:
            counts[(node, workload)] += 1
    frame = pd.DataFrame(0, index=sorted(pool), columns=list(owners.values()))
    for (node, workload), count in counts.items():
        frame.loc[node, workload] = count
    frame.insert(0, "pool", [pool[n] for n in frame.index])
    frame.index.name = "node"
    return frame


def reachability_matrix(connections: list[Connection], short: dict[str, str] | None = None
                        ) -> pd.DataFrame:
    """Sources as rows; columns `destination port` for each port (or range) some source may
    reach there, `destination *` when none may; cells 'allow' when the source may reach that
    whole port or range, '?' when what decides it is not modelled (Cilium L7, FQDN rules …),
    '-' when not, '' on the diagonal."""
    from aks_runbook.analysis.reachability import port_range

    def name(key: str) -> str:
        return (short or {}).get(key, key.split("/", 1)[1])

    granted: dict[tuple[str, str], list[tuple[str, int, int] | None]] = {}
    undecided: dict[tuple[str, str], list[tuple[str, int, int] | None]] = {}
    columns: dict[str, set[str]] = {}
    for c in connections:
        source, destination = name(c.source), name(c.destination)
        granted.setdefault((source, destination), [])
        columns.setdefault(destination, set())
        if c.allowed is not False:
            (granted if c.allowed else undecided).setdefault((source, destination), []).append(
                port_range(c.port))
            columns[destination].add(c.port)

    def allows(ranges: list[tuple[str, int, int] | None], port: str) -> bool:
        wanted = port_range(port)
        return any(r is None or (wanted is not None and r[0] == wanted[0]
                                 and r[1] <= wanted[1] and wanted[2] <= r[2]) for r in ranges)

    rows: dict[str, dict[str, str]] = {}
    for (source, destination), ranges in granted.items():
        for port in columns[destination] or {"*"}:
            rows.setdefault(source, {})[f"{destination} {port}"] = (
                "allow" if allows(ranges, port) else
                "?" if allows(undecided.get((source, destination), []), port) else "-")
    frame = pd.DataFrame(rows).T.sort_index().fillna("")
    return frame[sorted(frame.columns)]


def short_names(pods: list[str]) -> dict[str, str]:
    """Stable names for pods whose names end in random suffixes: front-1, front-2, back-1;
    outside peers (`ip/<cidr>`) keep their CIDR."""
    names, counter = {}, Counter()
    for key in sorted(pods):
        if key.startswith("ip/"):
            names[key] = key[3:]
            continue
        base = key.split("/", 1)[1].rsplit("-", 2)[0].removeprefix("azure-vote-")
        counter[base] += 1
        names[key] = f"{base}-{counter[base]}"
    return names


def _pyplot():
    """pyplot with the kernel's inline backend (figures display as images); Agg elsewhere, so
    no window opens. Forcing Agg in a kernel left figures as their text only."""
    import matplotlib

    if not in_kernel():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def heatmap(before: pd.DataFrame, after: pd.DataFrame, title_before: str, title_after: str):
    plt = _pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, frame, title in ((axes[0], before, title_before), (axes[1], after, title_after)):
        values = (frame == "allow").astype(int).to_numpy()
        ax.imshow(values, cmap="RdYlGn", vmin=0, vmax=1)
        ax.set_xticks(range(len(frame.columns)), frame.columns, rotation=60, ha="right",
                      fontsize=8)
        ax.set_yticks(range(len(frame.index)), frame.index, fontsize=8)
        ax.set_title(title)
    fig.tight_layout()
    plt.close(fig)
    return fig


def address_plan(env: Environment, subnet: IPv4Network | None = None) -> pd.DataFrame:
    """Subnet addresses each CNI model needs for the environment's node pools."""
    subnet = subnet or env.network.node_subnet_cidr
    pools = [PoolDemand(p.name, p.count, p.max_pods) for p in env.node_pools]
    rows = []
    for plugin, mode in (("kubenet", None), ("azure", None), ("azure", "overlay")):
        demand = subnet_demand(plugin, mode, pools)
        rows.append({"model": model_name(plugin, mode), "addresses needed": demand,
                     "smallest subnet": f"/{smallest_prefix(demand)}",
                     f"fits {subnet} ({subnet_capacity(subnet)})":
                         "yes" if demand <= subnet_capacity(subnet) else "NO"})
    return pd.DataFrame(rows).set_index("model")


def validate_lines(lines: list[str]) -> list[azvalidate.Validation]:
    """Check az lines with azure-cli's own parser and print the verdict for each."""
    results = azvalidate.validate(lines)
    for result in results:
        print(result.describe())
    return results


def outbound_types(env: Environment) -> pd.DataFrame:
    """Every outbound type azure-cli accepts, when it fits, and which one this plan uses."""
    rows = [{"outbound type": name, "fits when": why,
             "this environment": "<-" if name == env.egress.outbound_type else ""}
            for name, why in OUTBOUND_TYPES.items()]
    return pd.DataFrame(rows).set_index("outbound type")


def network_rules(env: Environment) -> pd.DataFrame:
    """The firewall network rules the docs list, and whether this design opens each."""
    rows = [{"rule": r.name, "protocol": r.protocol, "port": r.port,
             "destination": r.destination, "opened": "yes" if r.needed else "no",
             "why": azplan.said(r.reason)} for r in azplan.network_rules(env)]
    return pd.DataFrame(rows).set_index("rule")


def egress_fqdns(env: Environment) -> pd.DataFrame:
    """The FQDNs the nodes need (for any firewall), and how this plan allows each."""
    private = env.api_server.private_cluster
    rows = []
    for fqdn, port, why in azplan.REQUIRED_FQDNS:
        fqdn = fqdn.format(region=env.location)
        how = "FQDN tag AzureKubernetesService"
        if private and "azmk8s.io" in fqdn:
            how = "not needed: private API server"
        rows.append({"FQDN": fqdn, "port": port, "why": why, "this plan": how})
    protocols, fqdns = azplan.os_update_fqdns(env.upgrades.node_os_upgrade_channel)
    for fqdn in fqdns:
        rows.append({"FQDN": fqdn, "port": protocols[0].replace("=", ":").upper(),
                     "why": f"node OS updates ({env.upgrades.node_os_upgrade_channel})",
                     "this plan": "application rule aks-os-updates"})
    registry = ("private endpoint (not through the firewall)" if private
                else "application rule aks-registry")
    for fqdn, why in zip(azplan.registry_fqdns(env), ("registry login server",
                                                      "registry data endpoint (layers)"),
                         strict=True):
        rows.append({"FQDN": fqdn, "port": "HTTPS:443", "why": why, "this plan": registry})
    return pd.DataFrame(rows).set_index("FQDN")


def plan_rules(env: Environment, steps: list[azplan.Step] | None = None) -> pd.DataFrame:
    """The plan rules (checks.plan) on a plan (default: the environment's whole plan): rule,
    verdict, evidence and the docs page it comes from."""
    from aks_runbook.checks import plan

    steps = azplan.build(env) if steps is None else steps
    rows = [{"rule": f.check, "status": f.status, "evidence": f.evidence,
             "source": f.public_ids} for f in plan.localized(plan.judge(env, steps))]
    return pd.DataFrame(rows).set_index("rule")


def print_steps(steps: list[azplan.Step], env: Environment, *prefixes: str) -> None:
    """The plan's steps whose id starts with one of the prefixes, in plan order."""
    print(azplan.render([s for s in steps if s.id.startswith(prefixes)], env))


def ingress_reachability(state, controller_namespace: str) -> pd.DataFrame:
    """AKS-PLAN-010 on a cluster's (or files') objects: may the ingress controller's namespace
    reach every Ingress backend under the NetworkPolicies?"""
    from aks_runbook.checks import plan, table

    return table(plan.ingress_reachable(state, controller_namespace))[
        ["check", "resource", "status", "evidence", "remediation"]]


_EVENT_STYLE = {  # event kind -> (marker, colour) on the timeline
    "surge-added": ("P", "tab:green"), "cordon": ("s", "tab:orange"),
    "evicted": ("v", "tab:blue"), "eviction-blocked": ("X", "tab:red"),
    "drain-timeout": ("X", "darkred"), "drained": ("o", "tab:cyan"),
    "replacements-ready": ("^", "tab:olive"), "reimaged": ("*", "tab:green"),
    "node-deleted": ("D", "tab:gray"), "uncordon": ("s", "tab:purple"),
    "quarantined": ("s", "darkred"), "surge-kept": ("P", "tab:brown"),
}


def upgrade_timeline(result, stable: bool = False):
    """A simulated node-pool upgrade (targets.upgrade.UpgradeResult) as a figure and a table.

    Figure: on top, the app's ready pods against its PDB's minimum over time; below, every
    event on its node's row. Table: one row per event in order (step, t (s), event, node,
    detail). Times and pod names change from run to run: `stable=True` leaves them out.
    Returns (figure, table).
    """
    plt = _pyplot()

    table = pd.DataFrame([{"t (s)": e.t, "event": e.kind, "node": e.node, "detail": e.detail}
                          for e in result.events], columns=["t (s)", "event", "node", "detail"])
    table.index = pd.RangeIndex(1, len(table) + 1, name="step")
    if stable:
        table = table.drop(columns=["t (s)", "detail"])

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 3]})
    end = max([result.duration] + [e.t for e in result.events])
    if result.samples:
        times = [s.t for s in result.samples] + [end]
        ready = [s.ready for s in result.samples] + [result.samples[-1].ready]
        minimum = [s.min_available for s in result.samples] + [result.samples[-1].min_available]
        top.step(times, ready, where="post", linewidth=3, label="ready pods (not terminating)")
        if any(m is not None for m in minimum):
            top.step(times, [m if m is not None else float("nan") for m in minimum],
                     where="post", linestyle="--", color="tab:red", label="PDB minimum")
        top.set_ylim(0, max(ready + [m or 0 for m in minimum]) + 1)
        top.legend(loc="lower right", fontsize=8)
    top.set_ylabel("pods")
    top.set_title(f"Upgrade of node pool {result.pool} to {result.version}: {result.state}")
    events = [e for e in result.events if e.kind in _EVENT_STYLE]
    rows = sorted({e.node for e in events})
    for kind, (marker, colour) in _EVENT_STYLE.items():
        points = [(e.t, rows.index(e.node)) for e in events if e.kind == kind]
        if points:
            bottom.scatter(*zip(*points, strict=True), marker=marker, color=colour, s=60,
                           label=kind, zorder=3)
    bottom.set_yticks(range(len(rows)), rows, fontsize=8)
    bottom.set_ylim(-0.5, len(rows) - 0.5)
    bottom.grid(axis="y", alpha=0.3)
    bottom.set_xlabel("seconds since the upgrade started")
    bottom.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig, table
