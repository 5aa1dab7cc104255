"""The terminal tables of `posture`, `rbac` and `reachability`: what each row shows, their
order, and the summary line below them (output.py lays them out)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aks_runbook.cli.output import Row, Table, counted
from aks_runbook.i18n import _
from aks_runbook.severity import SEVERITIES, SEVERITY_ORDER

STATUS_ORDER = {"fail": 0, "not-applicable": 1, "pass": 2}


def findings(found: Sequence[Any], wide: bool, show_all: bool,
             category: Callable[[str], str] | None = None) -> tuple[Table, str]:
    """Posture findings: failures first, by severity; passes and not-applicable ones only with
    --all. One line per finding, its evidence below (with -o wide the fix, the cited controls
    and how the check differs from them too). `category` groups them under headings."""
    shown = [f for f in found if show_all or f.status == "fail"]
    shown.sort(key=lambda f: (STATUS_ORDER.get(f.status, 9), SEVERITY_ORDER.get(f.severity, 9),
                              f.check, f.resource))
    table = Table([_("status"), _("severity"), _("check"), _("resource"), _("title")],
                  shrink=[[4], [3]],
                  keep_end={3})
    sections: dict[str | None, list[Row]] = {}
    for f in shown:
        details = [f.evidence]
        if wide:
            details += [_("fix: {fix}").format(fix=f.remediation) if f.remediation else "",
                        _("controls: {ids}").format(ids=f.public_ids) if f.public_ids else "",
                        _("differs: {differs}").format(differs=f.differs) if f.differs else ""]
        row = Row([f.status, f.severity, f.check, f.resource, f.title],
                  [f.status, f.severity], [d for d in details if d])
        sections.setdefault(category(f.check) if category else None, []).append(row)
    table.sections = sorted(sections.items(), key=lambda s: order_of(s[0], found, category))
    statuses = [f.status for f in found]
    failed = counted((f.severity for f in found if f.status == "fail"), SEVERITIES)
    summary = (_("{total} findings: {failed} failed").format(total=len(found),
                                                              failed=statuses.count("fail"))
               + (f" ({failed})" if failed else "")
               + _(", {passed} passed, {na} not applicable").format(
                   passed=statuses.count("pass"), na=statuses.count("not-applicable")))
    if hidden := len(found) - len(shown):
        summary += _("; --all shows {hidden} more").format(hidden=hidden)
    return table, summary


def order_of(heading: str | None, found: Sequence[Any],
             category: Callable[[str], str] | None) -> int:
    """A category's place: where its first finding stands in the checklist's order."""
    if category is None:
        return 0
    return next(n for n, f in enumerate(found) if category(f.check) == heading)


def rbac_rows(rows: Sequence[Any], wide: bool, who_can: bool) -> tuple[Table, str]:
    """RBAC grants, most severe first (as the analysis sorts them); the rule that grants each
    below it, or with -o wide as a last column."""
    header = ([_("severity"), _("risk"), _("subject"), _("binding"), _("role")]
              + ([_("rule")] if wide else []))
    table = Table(header, shrink=[[4, 3, 2], [1]], keep_end={2, 3, 4})
    table.sections = [(None, [
        Row([r.severity, r.risk, r.subject, r.binding, r.role] + ([r.rule] if wide else []),
            [r.severity], [] if wide else [_("rule: {rule}").format(rule=r.rule)])
        for r in rows])]
    what = (_("{count} grant(s)") if who_can else _("{count} risky grant(s)")).format(
        count=len(rows))
    severities = counted((r.severity for r in rows), [*SEVERITIES, "info"])
    return table, what + (f": {severities}" if severities else "")


VERDICTS = {True: "allow", False: "deny", None: "unknown"}


def reachability_rows(rows: Iterable[Any], wide: bool, show_all: bool) -> tuple[Table, str]:
    """What may pass between pods (and outside addresses): allowed and not-modelled rows; the
    denied ones only with --all. Long pod names, then the policies, are shortened to fit
    unless -o wide. `rows` is read once (a matrix expands to pods as it is iterated)."""
    counts: Counter = Counter()
    shown = []
    for c in rows:
        verdict = VERDICTS[c.allowed]
        counts[verdict] += 1
        if show_all or c.allowed is not False:
            shown.append(Row([verdict, c.source, c.destination, c.port, ",".join(c.policies)],
                             [verdict]))
    table = Table([_("verdict"), _("source"), _("destination"), _("port"), _("policies")],
                  shrink=[[1, 2], [4]], keep_end={1, 2}, sections=[(None, shown)])
    summary = _("{total} rows: {allowed} allowed, {denied} denied, {unknown} not modelled").format(
        total=counts.total(), allowed=counts["allow"], denied=counts["deny"],
        unknown=counts["unknown"])
    if hidden := counts.total() - len(shown):
        summary += _("; --all shows the {hidden} denied").format(hidden=hidden)
    return table, summary
