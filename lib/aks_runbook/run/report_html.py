"""The run report as one self-contained HTML page: inline CSS, an inline SVG chart, no scripts.

Every text from the run is escaped here (report_data has already masked it); links are
relative to the report and URL-quoted, so the folder can be moved or zipped.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from pathlib import Path
from urllib.parse import quote

from aks_runbook import checks, i18n
from aks_runbook.i18n import _
from aks_runbook.run.report_data import (
    Chapter,
    FailingCell,
    Run,
    Training,
    hint_of,
    severity_key,
    severity_of,
)

STATUS_ORDER = ("fail", "pass", "not-applicable")
COLOURS = {"fail": "#c0392b", "pass": "#2e7d32", "not-applicable": "#9e9e9e"}
OTHER_COLOUR = "#e0a000"

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK JP", "Hiragino Sans",
       "Yu Gothic UI", "Meiryo", sans-serif; margin: 2em auto;
       max-width: 72em; padding: 0 1em; color: #1b1b1b; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.passed, .pass { color: #2e7d32; font-weight: 600; }
.failed, .fail { color: #c0392b; font-weight: 600; }
.not-run, .not-applicable, .missing { color: #757575; }
pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: .6em; overflow-x: auto;
      white-space: pre-wrap; word-break: break-word; max-height: 40em; }
.hint { background: #fff8e1; border-left: 4px solid #e0a000; padding: .4em .8em; }
td.id { white-space: nowrap; } .cell { margin: 1em 0 2em; } .note { color: #555; }
"""


def render(report: Run | Training) -> str:
    if isinstance(report, Training):
        title = _("Training run {folder}").format(folder=report.folder.name)
        body = _training(report)
    else:
        title = _("Run {folder} of environment {environment}").format(
            folder=report.folder.name, environment=report.environment)
        body = _run(report)
    return (f"<!DOCTYPE html>\n<html lang=\"{i18n.language()}\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n{body}\n</body></html>\n")


# ---- one run ---------------------------------------------------------------------------------

def _run(run: Run) -> str:
    verdict = "passed" if run.ok else "failed"
    parts = [f"<p>Target <b>{escape(run.target)}</b>; result "
             f"<span class=\"{verdict}\">{verdict}</span>. "
             + (f"Transcript: {_a(run.transcript, 'transcript.jsonl')}." if run.transcript
                else "No transcript in the folder.") + "</p>"]
    parts += [f"<p class=\"note\">{escape(n)}</p>" for n in run.notes]
    parts.append("<h2 id=\"chapters\">" + _("Chapters") + "</h2>")
    parts.append(_chapters(run.chapters, run.findings))
    parts.append("<h2 id=\"findings\">" + _("Findings by severity") + "</h2>")
    parts.append(_findings(run.findings, _("{count} finding(s) in findings.json.").format(
        count=len(run.findings))))
    parts.append("<h2 id=\"failing-cells\">" + _("Failing cells") + "</h2>")
    parts.append(_cells(run.failing_cells) if run.failing_cells
                 else "<p>" + _("None: no chapter failed.") + "</p>")
    return "\n".join(parts)


def _chapters(chapters: list[Chapter], findings: list[dict[str, str]]) -> str:
    failing = Counter(f.get("chapter", "") for f in findings if f.get("status") == "fail")
    rows = []
    for c in chapters:
        cell = str(c.failed_cell) if c.failed_cell is not None else ""
        links = " ".join(_a(href, label) for href, label in ((c.html, "HTML"),
                                                              (c.notebook, "notebook")) if href)
        rows.append(f"<tr><td>{escape(c.chapter)}</td>{_status(c.status)}"
                    f"<td class=\"n\">{c.seconds:.1f}</td><td class=\"n\">{escape(cell)}</td>"
                    f"<td class=\"n\">{failing[c.chapter]}</td><td>{links or '—'}</td></tr>")
    return ("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in (
        _("chapter"), _("status"), _("seconds"), _("failed cell (In [n])"),
        _("failing findings"), _("executed notebook"))) + "</tr>" + "".join(rows) + "</table>")


def _cells(cells: list[FailingCell], heading: str = "h3") -> str:
    parts = []
    NONE = _("(none)")  # noqa: N806
    for cell in cells:
        where = [f"In [{cell.execution_count}]" if cell.execution_count is not None else "",
                 f"cell index {cell.index}" if cell.index is not None else ""]
        label = f"{cell.notebook}, " + ", ".join(w for w in where if w) \
            if any(where) else cell.notebook
        title = _a(cell.link, label) if cell.link else escape(label)
        parts.append(
            f"<div class=\"cell\"><{heading}>{title}</{heading}>"
            + ("<p class=\"hint\"><b>" + _("What to try:") + f"</b> {escape(cell.hint)}</p>"
               if cell.hint else "<p class=\"hint\">" + _(
                   "No hint recorded: the error did not come from a command step.") + "</p>")
            + ("<p>" + _("Source") + f"</p><pre>{escape(cell.source)}</pre>" if cell.source else "")
            + "<p>" + _("Error output") + f"</p><pre>{escape(cell.output) or NONE}</pre></div>")
    return "\n".join(parts)


# ---- findings ---------------------------------------------------------------------------------

def severity_counts(findings: list[dict[str, str]]) -> dict[str, Counter]:
    """severity -> status -> count, severities in kubescape's order (critical first)."""
    counts: dict[str, Counter] = {}
    for row in findings:
        counts.setdefault(severity_of(row), Counter())[row.get("status") or "unknown"] += 1
    return {s: counts[s] for s in sorted(counts, key=severity_key)}


def _statuses(counts: dict[str, Counter]) -> list[str]:
    seen = {s for c in counts.values() for s in c}
    return [s for s in STATUS_ORDER if s in seen] + sorted(seen - set(STATUS_ORDER))


def _findings(findings: list[dict[str, str]], note: str, list_failing: bool = True) -> str:
    if not findings:
        return "<p>" + _("No findings recorded.") + "</p>"
    counts = severity_counts(findings)
    statuses = _statuses(counts)
    head = "".join(f"<th>{escape(s)}</th>" for s in statuses)
    rows = "".join(
        f"<tr><td>{escape(sev)}</td>"
        + "".join(f"<td class=\"n\">{c[s]}</td>" for s in statuses)
        + f"<td class=\"n\">{sum(c.values())}</td></tr>" for sev, c in counts.items())
    table = ("<table class=\"severity\"><tr><th>" + _("severity") + f"</th>{head}"
             f"<th>" + _("total") + f"</th></tr>{rows}</table>")
    failing = sorted((localized(f) for f in findings if f.get("status") == "fail"),
                     key=lambda f: (severity_key(severity_of(f)), f.get("chapter", ""),
                                    f.get("check", ""), f.get("resource", "")))
    columns = ("chapter", "check", "title", "resource", "evidence", "remediation")
    fail_rows = "".join(
        f"<tr><td class=\"fail\">{escape(severity_of(f))}</td>"
        + "".join(f"<td class=\"id\">{escape(f.get(c, ''))}</td>" if c == "check"
                  else f"<td>{escape(f.get(c, ''))}</td>" for c in columns) + "</tr>"
        for f in failing)
    headers = "".join(f"<th>{escape(h)}</th>" for h in (
        _("severity"), _("chapter"), _("check"), _("title"), _("resource"), _("evidence"),
        _("remediation")))
    fail_table = ("<h3>" + _("Failing findings")
                  + f"</h3><table><tr>{headers}</tr>{fail_rows}</table>"
                  if failing else "<p>" + _("No finding failed.") + "</p>") if list_failing else ""
    return f"<p>{escape(note)}</p>{chart(counts)}{table}{fail_table}"


def localized(row: dict[str, str]) -> dict[str, str]:
    """A recorded finding (English, as findings.json keeps it) in the report's language."""
    if i18n.language() == "en":
        return row
    return {**row, **{key: i18n.gettext(row[key]) for key in ("title", "remediation", "differs")
                      if row.get(key)},
            "evidence": i18n.by_template(row.get("evidence", ""), checks.EVIDENCE)}


def chart(counts: dict[str, Counter]) -> str:
    """Stacked horizontal bars, one per severity, one segment per status; inline SVG."""
    statuses = _statuses(counts)
    biggest = max((sum(c.values()) for c in counts.values()), default=0) or 1
    label_w, bar_w, row_h, count_w = 90, 460, 26, 280
    height = row_h * len(counts) + 34
    width = label_w + bar_w + count_w
    parts = [f"<svg width=\"{width}\" height=\"{height}\" "
             f"viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"findings by "
             "severity and status\" font-family=\"sans-serif\" font-size=\"13\">"]
    for row, (sev, c) in enumerate(counts.items()):
        y = row * row_h + 4
        parts.append(f"<text x=\"0\" y=\"{y + 15}\">{escape(sev)}</text>")
        x = float(label_w)
        for status in statuses:
            if not c[status]:
                continue
            w = bar_w * c[status] / biggest
            parts.append(f"<rect x=\"{x:.1f}\" y=\"{y}\" width=\"{w:.1f}\" height=\"20\" "
                         f"fill=\"{COLOURS.get(status, OTHER_COLOUR)}\"><title>{escape(sev)} "
                         f"{escape(status)}: {c[status]}</title></rect>")
            x += w
        summary = ", ".join(f"{c[s]} {s}" for s in statuses if c[s])
        parts.append(f"<text x=\"{x + 6:.1f}\" y=\"{y + 15}\">{escape(summary)}</text>")
    y = row_h * len(counts) + 14
    x = label_w
    for status in statuses:
        parts.append(f"<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" "
                     f"fill=\"{COLOURS.get(status, OTHER_COLOUR)}\"/>"
                     f"<text x=\"{x + 16}\" y=\"{y + 11}\">{escape(status)}</text>")
        x += 30 + 8 * len(status)
    parts.append("</svg>")
    return "".join(parts)


# ---- a training run ---------------------------------------------------------------------------

def _training(training: Training) -> str:
    notebooks = training.notebooks
    by_key = {(r.attendee, r.notebook): r for r in training.rows}
    passed = sum(r.status == "passed" for r in training.rows)
    parts = ["<p>" + _("{attendees} attendee(s), {notebooks} notebook(s): {passed} of {rows} "
                       "attendee notebook(s) passed. Source: {source}.").format(
        attendees=len(training.attendees), notebooks=len(notebooks), passed=passed,
        rows=len(training.rows), source=_a('results.csv', 'results.csv')) + "</p>",
             "<h2 id=\"attendees\">" + _("Attendees × notebooks") + "</h2>"]
    head = "".join(f"<th>{escape(n)}</th>" for n in notebooks)
    rows = []
    for attendee, run in training.attendees.items():
        cells = []
        for notebook in notebooks:
            row = by_key.get((attendee, notebook))
            if row is None:
                cells.append("<td class=\"missing\">—</td>")
                continue
            href = training.links.get((attendee, notebook))
            text = escape(row.status) + (f" ({escape(row.duration_s)} s)" if row.duration_s
                                         else "")
            cells.append(f"<td class=\"{_css(row.status)}\">"
                         + (f"<a href=\"{_href(href)}\">{text}</a>" if href else text)
                         + "</td>")
        transcript = _a(run.transcript, "transcript") if run and run.transcript else "—"
        rows.append(f"<tr><td>{escape(attendee)}</td>{''.join(cells)}<td>{transcript}</td></tr>")
    parts.append("<table><tr><th>" + _("attendee") + f"</th>{head}<th>" + _("transcript")
                 + "</th></tr>"
                 + "".join(rows) + "</table>")

    runs = [run for run in training.attendees.values() if run]
    findings = [f for run in runs for f in run.findings]
    parts.append("<h2 id=\"findings\">" + _("Findings by severity") + "</h2>")
    parts.append(_findings(findings, _("Summed over the {count} attendee run(s) with a run "
                                       "folder: every attendee's findings.json counts "
                                       "once.").format(count=len(runs)),
                           list_failing=False))
    parts.append(_failing_by_check(training))

    parts.append("<h2 id=\"failing-cells\">" + _("Failing cells per attendee") + "</h2>")
    any_failure = False
    NO_MESSAGE = _("(no message)")  # noqa: N806
    for attendee, run in training.attendees.items():
        found = run.failing_cells if run else []
        shown = {Path(c.notebook).stem for c in found}
        # What the run folder does not show (no run folder, a worker error, Ctrl-C):
        # results.csv's message.
        rest = [r for r in training.rows if r.attendee == attendee
                and r.status not in ("passed", "not run") and r.notebook not in shown]
        if not found and not rest:
            continue
        any_failure = True
        cells = _cells(found, heading="h4") + "".join(
            f"<div class=\"cell\"><h4>{escape(r.notebook)} ({escape(r.status)})"
            + (f", In [{escape(r.failing_cell)}]" if r.failing_cell else "") + "</h4>"
            + ("<p class=\"hint\"><b>" + _("What to try:") + f"</b> {escape(h)}</p>"
               if (h := hint_of(r.message)) else "")
            + f"<pre>{escape(r.message) or NO_MESSAGE}</pre></div>" for r in rest)
        notes = "".join(f"<p class=\"note\">{escape(n)}</p>" for n in (run.notes if run else []))
        parts.append(f"<h3>{escape(attendee)}</h3>{notes}{cells}")
    if not any_failure:
        parts.append("<p>" + _("None: every attendee's notebooks passed.") + "</p>")
    return "\n".join(parts)


def _failing_by_check(training: Training) -> str:
    """For each failing check: how many attendees it failed for, and who."""
    who: dict[tuple[str, str, str], set[str]] = {}
    for attendee, run in training.attendees.items():
        for f in run.findings if run else []:
            if f.get("status") == "fail":
                key = (severity_of(f), f.get("check", ""), i18n.gettext(f.get("title", "")))
                who.setdefault(key, set()).add(attendee)
    if not who:
        return ""
    rows = "".join(
        f"<tr><td class=\"fail\">{escape(sev)}</td><td>{escape(check)}</td><td>{escape(title)}"
        f"</td><td class=\"n\">{len(names)}</td><td>{escape(', '.join(sorted(names)))}</td></tr>"
        for (sev, check, title), names in sorted(
            who.items(), key=lambda kv: (severity_key(kv[0][0]), kv[0][1])))
    headers = "".join(f"<th>{h}</th>" for h in (_("severity"), _("check"), _("title"),
                                                 _("attendees"), _("who")))
    return ("<h3>" + _("Failing checks by attendee")
            + f"</h3><table><tr>{headers}</tr>{rows}</table>")


# ---- helpers ----------------------------------------------------------------------------------

def _status(status: str) -> str:
    return f"<td class=\"{_css(status)}\">{escape(status)}</td>"


def _css(status: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in status.lower())


def _href(path: str) -> str:
    return escape(quote(path, safe="/#=-._~"), quote=True)


def _a(path: str | None, label: str) -> str:
    return f"<a href=\"{_href(path)}\">{escape(label)}</a>" if path else escape(label)
