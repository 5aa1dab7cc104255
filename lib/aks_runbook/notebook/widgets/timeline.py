"""The upgrade timeline (chapter 04), live: each event of the simulated node-pool upgrade
(targets.upgrade) appears as it happens. Headless nothing is shown live; the simulation's
own table (views.upgrade_timeline) follows at the end either way."""

from __future__ import annotations

import html
import threading

from aks_runbook.notebook.widgets import common
from aks_runbook.targets.upgrade import DONE, REIMAGED, Event


def status(pool: str, version: str, events: list[Event]) -> str:
    """One line: where the upgrade stands after these events."""
    nodes = sorted({e.node for e in events if e.kind == REIMAGED})
    done = next((e for e in events if e.kind == DONE), None)
    where = done.detail if done else f"running, {len(events)} event(s) so far"
    return (f"upgrade of node pool {pool!r} to {version}: {where}; "
            f"{len(nodes)} node(s) reimaged" + (f" ({', '.join(nodes)})" if nodes else ""))


def rows_html(events: list[Event]) -> str:
    cells = "".join(f"<tr><td>{n}</td><td>{e.t:.1f}</td><td>{html.escape(e.kind)}</td>"
                    f"<td>{html.escape(e.node)}</td><td>{html.escape(e.detail)}</td></tr>"
                    for n, e in enumerate(events, 1))
    return ("<table><thead><tr><th>step</th><th>t (s)</th><th>event</th><th>node</th>"
            f"<th>detail</th></tr></thead><tbody>{cells}</tbody></table>")


class Timeline:
    """Call `add` with each event (upgrade_pool's `report`), `finish` with the result."""

    def __init__(self, pool: str, version: str):
        import ipywidgets as w

        self.pool, self.version = pool, version
        self.events: list[Event] = []
        self._lock = threading.Lock()
        self.answer = common.answer_widget(status(pool, version, []))
        self.table = w.HTML(rows_html([]))
        self.widget = w.VBox([self.answer, self.table])
        self.widget.add_class("aks-upgrade-timeline")

    def add(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
            self._render()

    def finish(self, events: list[Event]) -> None:
        """The result's events (a replay has no live events: they all arrive here)."""
        with self._lock:
            self.events = list(events)
            self._render()

    def _render(self) -> None:
        self.answer.value = common.as_html(status(self.pool, self.version, self.events))
        self.table.value = rows_html(self.events)


def upgrade_timeline(pool: str, version: str) -> Timeline | None:
    """Show a live timeline (headless: nothing; the table comes with the result)."""
    if common.headless():
        return None
    timeline = Timeline(pool, version)
    common.show(timeline.widget, "live upgrade timeline (the table follows at the end)")
    return timeline
