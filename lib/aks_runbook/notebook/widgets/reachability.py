"""The reachability explorer (chapter 02): pick a source and a destination (a pod, or an
outside range `ip/<cidr>`), see the allowed ports and the policies that allow them; switch
policies off to see what changes. Answers come from analysis.reachability."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_network
from typing import Any

from aks_runbook.analysis import reachability as reach
from aks_runbook.i18n import _
from aks_runbook.notebook.widgets import common

NOTHING = "no connection allowed"
EVERY_PORT = "every protocol and port"


def policy_name(policy: dict) -> str:
    """namespace/name as the analysis names policies; a clusterwide one by its name."""
    meta = policy.get("metadata") or {}
    if policy.get("kind") == "CiliumClusterwideNetworkPolicy":
        return str(meta.get("name"))
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"


@dataclass(frozen=True)
class Answer:
    source: str
    destination: str
    allowed: tuple[tuple[str, tuple[str, ...]], ...]  # (port, policies allowing it)
    disabled: tuple[str, ...] = ()
    # (port, policies) decided by rules the analysis does not model (Cilium L7, FQDN …)
    undecided: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def ports(self) -> str:
        known = ", ".join(EVERY_PORT if port == reach.ANY_PORT else port
                          for port, _ in self.allowed) or NOTHING
        if not self.undecided:
            return known
        return f"{known}; not modelled: " + ", ".join(
            EVERY_PORT if port == reach.ANY_PORT else port for port, _ in self.undecided)

    def text(self, names: dict[str, str] | None = None) -> str:
        names = names or {}
        head = (f"{names.get(self.source, self.source)} -> "
                f"{names.get(self.destination, self.destination)}: "
                + (f"allowed {self.ports}" if self.allowed else NOTHING))
        lines = [head]
        for port, policies in self.allowed:
            why = ", ".join(policies) or "no policy isolates these ends"
            lines.append(f"  {EVERY_PORT if port == reach.ANY_PORT else port}: {why}")
        for port, policies in self.undecided:
            lines.append(f"  {EVERY_PORT if port == reach.ANY_PORT else port}: not modelled "
                         f"(decided by {', '.join(policies)}): check it by hand")
        if self.disabled:
            lines.append("(switched off: " + ", ".join(self.disabled) + ")")
        return "\n".join(lines)


class Explorer:
    """The pods, namespaces and policies of one analysis, asked pair by pair."""

    def __init__(self, pods: list[reach.Pod], namespaces: dict[str, dict[str, str]],
                 policies: list[dict]):
        self.pods, self.namespaces = pods, namespaces
        self.policies = sorted(policies, key=policy_name)
        self._matrices: dict[frozenset[str], dict[tuple[str, str], list]] = {}

    @property
    def policy_names(self) -> list[str]:
        return [policy_name(p) for p in self.policies]

    @property
    def pod_keys(self) -> list[str]:
        return sorted(p.key for p in self.pods)

    def ranges(self) -> list[str]:
        """The outside ranges the policies name (`ip/<cidr>`), and the rest of the internet."""
        found = {key for (source, destination) in self._rows(frozenset())
                 for key in (source, destination) if key.startswith("ip/")}
        return sorted(found, key=lambda k: (ip_network(k[3:]).version, ip_network(k[3:])))

    def endpoints(self) -> list[str]:
        return self.pod_keys + self.ranges()

    def _rows(self, disabled: frozenset[str]) -> dict[tuple[str, str], list]:
        if disabled not in self._matrices:
            unknown = sorted(disabled - set(self.policy_names))
            if unknown:
                raise ValueError(f"no such policy: {', '.join(unknown)} (policies: "
                                 f"{', '.join(self.policy_names) or 'none'})")
            kept = [p for p in self.policies if policy_name(p) not in disabled]
            rows: dict[tuple[str, str], list] = {}
            for c in reach.Analyzer(self.pods, self.namespaces, kept).matrix(external=True):
                rows.setdefault((c.source, c.destination), []).append(c)
            self._matrices[disabled] = rows
        return self._matrices[disabled]

    def answer(self, source: str, destination: str, disabled: tuple[str, ...] = ()) -> Answer:
        """What `source` may send `destination` with the `disabled` policies switched off. An
        outside range is allowed a port when an allowed row's range holds all of it."""
        off = frozenset(disabled)
        rows = self._rows(off)
        if source.startswith("ip/") and destination.startswith("ip/"):
            raise ValueError("pick a pod on at least one side: traffic between two outside "
                             "ranges never meets the cluster's policies")
        if source == destination:
            raise ValueError(f"{source}: pick two different ends")
        for key in (source, destination):
            if not key.startswith("ip/") and key not in self.pod_keys:
                raise ValueError(f"{key}: no such pod (pods: {', '.join(self.pod_keys)})")
        if source.startswith("ip/") or destination.startswith("ip/"):
            pod_sends = not source.startswith("ip/")
            pod, outside = (source, destination) if pod_sends else (destination, source)
            wanted = ip_network(outside[3:])
            candidates = [c for (s, d), cs in rows.items()
                          if (s if pod_sends else d) == pod
                          and (d if pod_sends else s).startswith("ip/")
                          and _holds(d if pod_sends else s, wanted)
                          for c in cs]
        else:
            candidates = rows.get((source, destination), [])
        chosen = [c for c in candidates if c.allowed]
        if any(c.port == reach.ANY_PORT for c in chosen):  # every port: the rest says no more
            chosen = [c for c in chosen if c.port == reach.ANY_PORT]
        allowed = tuple(sorted({(c.port, c.policies) for c in chosen}, key=_port_order))
        undecided = tuple(sorted({(c.port, c.policies) for c in candidates
                                  if c.allowed is None}, key=_port_order))
        return Answer(source, destination, allowed, tuple(sorted(off)), undecided)

    def changes(self, policy: str) -> list[tuple[str, str, str, str]]:
        """Pairs whose answer changes without `policy`: (source, destination, with, without)."""
        found = []
        for source in self.endpoints():
            for destination in self.endpoints():
                if source == destination or (source.startswith("ip/")
                                             and destination.startswith("ip/")):
                    continue
                before = self.answer(source, destination).ports
                after = self.answer(source, destination, (policy,)).ports
                if before != after:
                    found.append((source, destination, before, after))
        return found


def _holds(peer: str, wanted) -> bool:
    network = ip_network(peer[3:])
    return wanted.version == network.version and wanted.subnet_of(network)


def _port_order(item: tuple[str, tuple[str, ...]]) -> tuple:
    port = reach.port_range(item[0]) if item[0] not in (reach.ANY_PORT, reach.OTHER) else None
    return (0, "", 0) if port is None else (1, reach.PROTOCOLS.index(port[0]), port[1])


def headless_table(explorer: Explorer, names: dict[str, str] | None = None):
    """Source x destination: the allowed ports ("all": every protocol and port; "-": none)."""
    import pandas as pd

    names = names or {}
    ends = explorer.endpoints()
    label = [names.get(k, k) for k in ends]
    frame = pd.DataFrame("", index=label, columns=label, dtype=object)
    for source, row in zip(ends, label, strict=True):
        for destination, column in zip(ends, label, strict=True):
            if source == destination or (source.startswith("ip/")
                                         and destination.startswith("ip/")):
                continue
            ports = explorer.answer(source, destination).ports
            frame.loc[row, column] = {NOTHING: "-", EVERY_PORT: "all"}.get(ports, ports)
    frame.index.name = "source \\ destination"
    return frame


def headless_text(explorer: Explorer, names: dict[str, str] | None = None) -> str:
    """What switching each policy off changes."""
    names = names or {}
    if not explorer.policies:
        return "reachability explorer: no NetworkPolicy to switch off"
    lines = ["reachability explorer: what switching each policy off changes"]
    for policy in explorer.policy_names:
        changed = explorer.changes(policy)
        lines.append(f"without {policy}: " + (f"{len(changed)} pair(s) change" if changed
                                              else "nothing changes"))
        lines += [f"  {names.get(s, s)} -> {names.get(d, d)}: {before} => {after}"
                  for s, d, before, after in changed]
    return "\n".join(lines)


class ExplorerWidget:
    """Dropdowns "source" and "destination", a checkbox per policy (ticked = in force)."""

    def __init__(self, explorer: Explorer, names: dict[str, str] | None = None):
        import ipywidgets as w

        self.explorer, self.names = explorer, names or {}
        options = [(self.names.get(k, k), k) for k in explorer.endpoints()]
        pods = explorer.pod_keys
        self.source = w.Dropdown(options=options, value=pods[0] if pods else None,
                                 description=_("source"))
        self.destination = w.Dropdown(options=options,
                                      value=pods[1] if len(pods) > 1 else None,
                                      description=_("destination"))
        self.other_range = w.Text(placeholder=_("e.g. 203.0.113.0/24"),
                                  description=_("other range"),
                                  continuous_update=False)
        self.policies = {name: w.Checkbox(value=True, description=name, indent=False)
                         for name in explorer.policy_names}
        self.answer = common.answer_widget()
        for control in (self.source, self.destination, *self.policies.values()):
            control.observe(self.update, names="value")
        self.other_range.observe(self._add_range, names="value")
        toggles = w.VBox([w.HTML(_("<b>policies in force</b> (untick to switch one off)")),
                          *self.policies.values()])
        self.widget = w.VBox([w.HBox([self.source, self.destination, self.other_range]),
                              self.answer, toggles])
        self.widget.add_class("aks-reachability-explorer")
        self.update()

    @property
    def disabled(self) -> tuple[str, ...]:
        return tuple(name for name, box in self.policies.items() if not box.value)

    def _add_range(self, _change: Any = None) -> None:
        """An outside range of one's own, offered on both sides and picked as destination."""
        text = self.other_range.value.strip()
        if not text:
            return
        try:
            key = f"ip/{ip_network(text, strict=False)}"
        except ValueError:
            self.answer.value = common.as_html(f"other range {text!r}: not an IPv4 or IPv6 "
                                               f"range (CIDR), e.g. 203.0.113.0/24")
            return
        if key not in dict((v, k) for k, v in self.source.options):
            options = [*self.source.options, (self.names.get(key, key), key)]
            source = self.source.value
            self.source.options = self.destination.options = options  # resets the values
            self.source.value = source
        if self.source.value.startswith("ip/"):
            self.source.value = self.explorer.pod_keys[0]
        self.destination.value = key
        self.update()

    def update(self, _change: Any = None) -> None:
        try:
            text = self.explorer.answer(self.source.value, self.destination.value,
                                        self.disabled).text(self.names)
        except ValueError as error:
            text = str(error)
        self.answer.value = common.as_html(text)


def reachability_explorer(explorer: Explorer, names: dict[str, str] | None = None
                          ) -> ExplorerWidget | None:
    """Show the explorer (headless: the table of every pair, and what each policy changes)."""
    text = headless_text(explorer, names)
    if common.headless():
        common.show_text(text, headless_table(explorer, names))
        return None
    widget = ExplorerWidget(explorer, names)
    common.show(widget.widget, text)
    return widget
