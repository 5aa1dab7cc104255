"""Tables and charts the notebooks show: stable (sorted, no ages or UIDs) so nbval can compare."""

from __future__ import annotations

from collections import Counter
from ipaddress import IPv4Network

import pandas as pd

from aks_runbook import azvalidate
from aks_runbook.analysis.addresses import (
    PoolDemand,
    model_name,
    smallest_prefix,
    subnet_capacity,
    subnet_demand,
)
from aks_runbook.analysis.reachability import Connection
from aks_runbook.params import Environment


def pods_per_node(nodes: list[dict], pods: list[dict], owners: dict[str, str]) -> pd.DataFrame:
    """Rows: nodes (with their pool); columns: workloads; cells: pod counts."""
    pool = {n["metadata"]["name"]: n["metadata"]["labels"].get("agentpool", "")
            for n in nodes}
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
    whole port or range, '-' when not, '' on the diagonal."""
    from aks_runbook.analysis.reachability import port_range

    def name(key: str) -> str:
        return (short or {}).get(key, key.split("/", 1)[1])

    granted: dict[tuple[str, str], list[tuple[str, int, int] | None]] = {}
    columns: dict[str, set[str]] = {}
    for c in connections:
        source, destination = name(c.source), name(c.destination)
        granted.setdefault((source, destination), [])
        columns.setdefault(destination, set())
        if c.allowed:
            granted[(source, destination)].append(port_range(c.port))
            columns[destination].add(c.port)

    def allows(ranges: list[tuple[str, int, int] | None], port: str) -> bool:
        wanted = port_range(port)
        return any(r is None or (wanted is not None and r[0] == wanted[0]
                                 and r[1] <= wanted[1] and wanted[2] <= r[2]) for r in ranges)

    rows: dict[str, dict[str, str]] = {}
    for (source, destination), ranges in granted.items():
        for port in columns[destination] or {"*"}:
            rows.setdefault(source, {})[f"{destination} {port}"] = (
                "allow" if allows(ranges, port) else "-")
    frame = pd.DataFrame(rows).T.sort_index().fillna("")
    return frame[sorted(frame.columns)]


def short_names(pods: list[str]) -> dict[str, str]:
    """Stable names for pods whose names end in random suffixes: front-1, front-2, back-1."""
    names, counter = {}, Counter()
    for key in sorted(pods):
        base = key.split("/", 1)[1].rsplit("-", 2)[0].removeprefix("azure-vote-")
        counter[base] += 1
        names[key] = f"{base}-{counter[base]}"
    return names


def heatmap(before: pd.DataFrame, after: pd.DataFrame, title_before: str, title_after: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
