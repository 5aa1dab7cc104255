"""The who-can explorer (chapter 03): pick a verb, a resource and a namespace, see who can,
through which binding, role and rule (analysis.rbac.who_can; the control plane's own
subjects left out, as in the chapter's tables)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aks_runbook.analysis import rbac
from aks_runbook.i18n import _
from aks_runbook.notebook.widgets import common

ANY_NAMESPACE = "(any namespace)"
COLUMNS = ["request", "namespace", "subject", "binding", "role", "rule"]


@dataclass(frozen=True)
class Answer:
    verb: str
    resource: str
    namespace: str | None
    rows: tuple[rbac.Row, ...]

    def text(self) -> str:
        where = f"in namespace {self.namespace}" if self.namespace else "in any namespace"
        head = f"who can {self.verb} {self.resource} {where}: "
        if not self.rows:
            return head + "nobody (besides the control plane's own identities)"
        lines = [head + ", ".join(sorted({r.subject for r in self.rows}))]
        lines += [f"  {r.subject} through {r.binding} -> {r.role}: {r.rule}" for r in self.rows]
        return "\n".join(lines)


class WhoCan:
    """The cluster's Roles and bindings (API objects, as state().objects holds them)."""

    def __init__(self, objects: dict[str, list[dict]]):
        self.objects = objects
        self.policy = rbac.Policy.of(objects)

    def answer(self, verb: str, resource: str, namespace: str | None = None) -> Answer:
        """`resource` as kubectl spells it: pods, pods/exec, deployments.apps, /metrics."""
        name, sub, group = rbac.parse_resource(resource)
        rows = rbac.who_can(self.objects, verb, name, namespace or None, sub or None, group,
                            policy=self.policy)
        rows = sorted(rows, key=lambda r: (r.subject, r.binding, r.role, r.rule))
        return Answer(verb, resource, namespace or None, tuple(rows))


def headless_table(who: WhoCan, verbs: list[str], resources: list[str],
                   namespaces: list[str]):
    """Every combination offered: one row per subject and granting binding."""
    import pandas as pd

    rows = []
    for namespace in namespaces:
        for resource in resources:
            for verb in verbs:
                answer = who.answer(verb, resource, _namespace(namespace))
                rows += [{"request": f"{verb} {resource}", "namespace": namespace,
                          "subject": r.subject, "binding": r.binding, "role": r.role,
                          "rule": r.rule} for r in answer.rows]
                if not answer.rows:
                    rows.append({"request": f"{verb} {resource}", "namespace": namespace,
                                 "subject": "nobody", "binding": "", "role": "", "rule": ""})
    return pd.DataFrame(rows, columns=COLUMNS)


def _namespace(choice: str) -> str | None:
    return None if choice == ANY_NAMESPACE else choice


class WhoCanWidget:
    def __init__(self, who: WhoCan, verbs: list[str], resources: list[str],
                 namespaces: list[str]):
        import ipywidgets as w

        self.who = who
        self.verb = w.Dropdown(options=verbs, description=_("verb"))
        self.resource = w.Dropdown(options=resources, description=_("resource"))
        self.namespace = w.Dropdown(options=namespaces, description=_("namespace"))
        self.answer = common.answer_widget()
        for control in (self.verb, self.resource, self.namespace):
            control.observe(self.update, names="value")
        self.widget = w.VBox([w.HBox([self.verb, self.resource, self.namespace]), self.answer])
        self.widget.add_class("aks-whocan-explorer")
        self.update()

    def update(self, _change: Any = None) -> None:
        text = self.who.answer(self.verb.value, self.resource.value,
                               _namespace(self.namespace.value)).text()
        self.answer.value = common.as_html(text)


def whocan_explorer(who: WhoCan, verbs: list[str], resources: list[str],
                    namespaces: list[str]) -> WhoCanWidget | None:
    """Show the explorer; `namespaces` may hold ANY_NAMESPACE. Headless: a table of every
    combination offered."""
    table = headless_table(who, verbs, resources, namespaces)
    if common.headless():
        common.show_text("who-can explorer: every request offered, and who can", table)
        return None
    widget = WhoCanWidget(who, verbs, resources, namespaces)
    common.show(widget.widget, table.to_string(index=False))
    return widget
