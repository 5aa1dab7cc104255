"""`aks-runbook report`: one self-contained HTML page for a run or a training run folder."""

from __future__ import annotations

import csv
import functools
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from aks_runbook import cli
from aks_runbook.run import chapters as runs
from aks_runbook.run import report

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "environments" / "local.yaml"
# A service-account token's shape (a JWT): aks_runbook.run.redact masks it wherever it appears.
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ.c2lnbmF0dXJlLXBhcnQ"
HINT = "the cluster is not reachable: `aks-runbook local status` (local target)"
FINDINGS = [  # (chapter, check, status, severity)
    ("01-overview", "AKS-OV-001", "pass", "critical"),
    ("01-overview", "AKS-OV-002", "fail", "medium"),
    ("01-overview", "AKS-OV-003", "pass", "medium"),
    ("02-network", "AKS-NET-001", "fail", "critical"),
    ("02-network", "AKS-NET-002", "fail", "high"),
    ("02-network", "AKS-NET-003", "fail", "high"),
    ("02-network", "AKS-NET-004", "pass", "high"),
    ("02-network", "AKS-NET-005", "not-applicable", "low"),
    ("02-network", "AKS-NET-006", "pass", "low"),
]


# ---- fixtures: run folders as `aks-runbook run` writes them --------------------------------

def _passing_notebook() -> nbformat.NotebookNode:
    cell = new_code_cell("session.cluster.kubectl('get nodes', step='nodes')", execution_count=1,
                         id="ov-01", outputs=[new_output("stream", name="stdout",
                                                         text="NAME   STATUS\naks-1  Ready\n")])
    return new_notebook(cells=[new_markdown_cell("# 01 overview"), cell])


def _failing_notebook() -> nbformat.NotebookNode:
    error = ("StepFailed: step 'read the <script>alert(1)</script> secret' failed: "
             f"`kubectl get pods` exited 1\nUnable to connect to the server: token {TOKEN}\n"
             f"What to try: {HINT}")
    failing = new_code_cell(
        "session.cluster.kubectl('get pods', step='read the <script>alert(1)</script> secret')",
        execution_count=2, id="net-07",
        metadata={"papermill": {"status": "failed"}},
        outputs=[new_output("stream", name="stderr",
                            text=f"Authorization: Bearer {TOKEN}\n<script>alert(2)</script>\n"),
                 new_output("error", ename="StepFailed", evalue=error.split(": ", 1)[1],
                            traceback=["\x1b[31m-----\x1b[39m", f"\x1b[31m{error}\x1b[39m"])])
    marker = new_markdown_cell('<span id="papermill-error-cell">Execution using papermill '
                               'encountered an exception here</span>',
                               metadata={"tags": ["papermill-error-cell-tag"]})
    expected = new_code_cell("1 / 0", execution_count=1, id="net-00",
                             metadata={"tags": ["raises-exception"]},
                             outputs=[new_output("error", ename="ZeroDivisionError",
                                                 evalue="division by zero", traceback=[])])
    pending = new_code_cell("session.cluster.cleanup()", id="net-08")
    return new_notebook(cells=[new_markdown_cell("# 02 network"), expected, marker, failing,
                               pending])


def make_run(folder: Path, failing: bool = True, findings=FINDINGS) -> Path:
    folder.mkdir(parents=True)
    notebooks = [("01-overview", _passing_notebook(), "passed", None, "")]
    if failing:
        error = _failing_notebook().cells[3].outputs[1]
        notebooks.append(("02-network", _failing_notebook(), "failed", 2,
                          f"{error.ename}: {error.evalue}"))
    else:
        notebooks.append(("02-network", _passing_notebook(), "passed", None, ""))
    for name, notebook, *_ in notebooks:
        nbformat.write(notebook, folder / f"{name}.ipynb")
        (folder / f"{name}.html").write_text(f"<html><body>{name}</body></html>")
    rows = [{"chapter": chapter, "check": check, "title": f"title of {check}",
             "resource": "Namespace/azure-vote", "status": status, "severity": severity,
             "evidence": "seen", "remediation": "fix it" if status == "fail" else ""}
            for chapter, check, status, severity in findings]
    (folder / "findings.json").write_text(json.dumps(rows, indent=2))
    with (folder / "findings.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["chapter"])
        writer.writeheader()
        writer.writerows(rows)
    (folder / "transcript.jsonl").write_text(json.dumps({"seq": 1, "kind": "command"}) + "\n")
    summary = {"environment": "local", "target": "local", "plan_only": True,
               "ok": not failing,
               "notebooks": [{"name": f"{name}.ipynb", "status": status, "seconds": 1.5,
                              "failed_cell": cell, "error": error}
                             for name, _, status, cell, error in notebooks]
               + [{"name": "03-auth.ipynb", "status": "not run", "seconds": 0.0,
                   "failed_cell": None, "error": ""}],
               "findings": dict(Counter(status for *_, status, _ in findings))}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    return folder


class Page(HTMLParser):
    """What a reader of the page gets: its tables (cell texts), links, tags and hint boxes."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.links: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.hints: list[str] = []
        self.pres: list[str] = []
        self._cell: list[str] | None = None
        self._hint: list[str] | None = None
        self._pre: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self.links.append(attributes["href"])
        elif tag == "p" and attributes.get("class") == "hint":
            self._hint = []
        elif tag == "pre":
            self._pre = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "p" and self._hint is not None:
            self.hints.append("".join(self._hint))
            self._hint = None
        elif tag == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        for part in (self._cell, self._hint, self._pre):
            if part is not None:
                part.append(data)

    def table(self, first_header: str) -> dict[str, list[str]]:
        """The table whose first header is `first_header`, by its first column."""
        table = next(t for t in self.tables if t and t[0][0] == first_header)
        return {row[0]: row[1:] for row in table}


def _page(folder: Path) -> tuple[Path, str, Page]:
    path = report.write(folder)
    text = path.read_text()
    return path, text, Page(text)


def _assert_self_contained(text: str) -> None:
    """No script, no fetched resource: the page shows the same offline and zipped."""
    page = Page(text)
    assert {tag for tag, _ in page.tags} <= {"html", "head", "meta", "title", "style", "body",
                                             "h1", "h2", "h3", "h4", "p", "b", "span", "a",
                                             "table", "tr", "th", "td", "div", "pre", "svg",
                                             "rect", "text"}
    assert not any(name == "src" or name.startswith("on") or re.match(r"\s*(\w+:)?//", value or "")
                   for _, attrs in page.tags for name, value in attrs.items())
    assert not re.search(r"@import|url\(", text.split("</style>")[0])


def _assert_links_resolve(page: Page, report_path: Path) -> None:
    assert page.links
    for href in page.links:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc and not href.startswith("/"), href
        target = report_path.parent / unquote(parts.path)
        assert target.is_file(), href
        assert target.resolve().is_relative_to(report_path.parent.resolve()), href


# ---- one run ------------------------------------------------------------------------------

def test_run_report_shows_each_chapter_and_links_its_evidence(tmp_path):
    path, text, page = _page(make_run(tmp_path / "runs" / "local" / "20261126T010000Z"))
    assert path == tmp_path / "runs" / "local" / "20261126T010000Z" / "report.html"
    chapters = page.table("chapter")
    assert chapters["01-overview"][:1] == ["passed"]
    assert chapters["02-network"][:4] == ["failed", "1.5", "2", "3"]  # failed at In [2], 3 fails
    assert chapters["03-auth"] == ["not run", "0.0", "", "0", "—"]  # nothing to link to
    assert "failed" in re.sub(r"<[^>]+>", "", text.split("<h2", 1)[0])
    _assert_links_resolve(page, path)
    assert {"transcript.jsonl", "01-overview.html", "01-overview.ipynb", "02-network.html",
            "02-network.ipynb"} <= {urlsplit(h).path for h in page.links}
    _assert_self_contained(text)


def test_findings_by_severity_count_what_the_findings_file_holds(tmp_path):
    folder = make_run(tmp_path / "run")
    _, text, page = _page(folder)
    rows = json.loads((folder / "findings.json").read_text())
    expected = Counter((r["severity"], r["status"]) for r in rows)
    table = next(t for t in page.tables if t[0][0] == "severity" and "total" in t[0])
    header, body = table[0], table[1:]
    assert [row[0] for row in body] == ["critical", "high", "medium", "low"]  # kubescape order
    for row in body:
        for status, count in zip(header[1:-1], row[1:-1], strict=True):
            assert int(count) == expected[(row[0], status)], (row[0], status)
        assert int(row[-1]) == sum(n for (s, _), n in expected.items() if s == row[0])
    # The chart's bars say the same (their tooltips), and only failing findings are listed.
    bars = re.findall(r"<title>(\w+) ([\w-]+): (\d+)</title>", text)
    assert {(s, st): int(n) for s, st, n in bars} == dict(expected)
    failing = next(t for t in page.tables if t[0][:3] == ["severity", "chapter", "check"])
    assert [(r[0], r[2]) for r in failing[1:]] == [
        ("critical", "AKS-NET-001"), ("high", "AKS-NET-002"), ("high", "AKS-NET-003"),
        ("medium", "AKS-OV-002")]


def test_findings_csv_holds_every_finding_as_a_spreadsheet_reads_it(tmp_path):
    rows = [{"chapter": "01-overview", "check": "AKS-OV-001", "status": "fail",
             "evidence": 'binding "admins", subject group "ops"\nand a second line'},
            {"chapter": "02-network", "check": "AKS-NET-001", "status": "pass",
             "evidence": "", "differs": "C-0260, as kubescape"}]
    (tmp_path / "findings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    runs._export_findings(tmp_path)
    with (tmp_path / "findings.csv").open(newline="") as handle:
        read = list(csv.DictReader(handle))
    # every column once, in the order the findings first use it; a missing value is empty
    assert list(read[0]) == ["chapter", "check", "status", "evidence", "differs"]
    assert read == [{**r, "differs": r.get("differs", "")} for r in rows]
    assert json.loads((tmp_path / "findings.json").read_text()) == rows
    (tmp_path / "empty").mkdir()  # a run with no findings
    runs._export_findings(tmp_path / "empty")
    assert (tmp_path / "empty" / "findings.csv").read_text() == "\n"
    assert json.loads((tmp_path / "empty" / "findings.json").read_text()) == []


def test_failing_cell_shows_source_error_and_hint_escaped_and_masked(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTER_ADMIN_PASSWORD", "hunter2-secret-value")
    folder = make_run(tmp_path / "run")
    notebook = nbformat.read(folder / "02-network.ipynb", as_version=4)
    notebook.cells[3].outputs[0].text += "password was hunter2-secret-value\n"
    nbformat.write(notebook, folder / "02-network.ipynb")
    path, text, page = _page(folder)
    assert page.hints == [f"What to try: {HINT}"]
    source, output = page.pres
    assert source == ("session.cluster.kubectl('get pods', step='read the "
                      "<script>alert(1)</script> secret')")
    assert "StepFailed: step 'read the <script>alert(1)</script> secret' failed" in output
    assert "<script>alert(2)</script>" in output and "\x1b[" not in output
    # Shown as text, never as markup; secrets masked.
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert TOKEN not in text and "hunter2-secret-value" not in text
    assert "Bearer ***" in output
    # The heading names the cell and links to it in the executed notebook's HTML; the cell
    # tagged raises-exception (an expected error) is not a failure.
    cell_link = [h for h in page.links if "#" in h]
    assert cell_link == ["02-network.html#cell-id=net-07"]
    assert "02-network.ipynb, In [2], cell index 3" in text
    assert "ZeroDivisionError" not in text
    _assert_links_resolve(page, path)


def test_passing_run_says_no_chapter_failed(tmp_path):
    _, text, page = _page(make_run(tmp_path / "run", failing=False, findings=[]))
    assert "None: no chapter failed." in text and "No findings recorded." in text
    assert page.hints == [] and page.pres == []


def test_report_is_the_same_each_time(tmp_path):
    folder = make_run(tmp_path / "run")
    first = report.write(folder).read_bytes()
    assert report.write(folder).read_bytes() == first


def test_a_missing_executed_notebook_still_reports_the_failure(tmp_path):
    folder = make_run(tmp_path / "run")
    (folder / "02-network.ipynb").unlink()
    _, text, page = _page(folder)
    assert page.hints == [f"What to try: {HINT}"]
    assert "02-network.ipynb: the executed notebook is missing" in text
    assert TOKEN not in text


# ---- bad folders ----------------------------------------------------------------------------

@pytest.mark.parametrize("make, expected", [
    (lambda d: d / "nowhere", "no such folder"),
    (lambda d: (d / "file.txt", (d / "file.txt").write_text("x"))[0], "not a folder"),
    (lambda d: d, "neither summary.json nor results.csv in it"),
    (lambda d: (d / "summary.json", (d / "summary.json").write_text("{trunc"))[0].parent,
     "summary.json: damaged summary"),
    (lambda d: (d / "summary.json", (d / "summary.json").write_text('{"ok": true}'))[0].parent,
     "summary.json: damaged summary: expected a JSON object whose \"notebooks\""),
    (lambda d: (d / "summary.json", (d / "summary.json").write_text(
        '{"notebooks": [{"name": "01-overview.ipynb", "status": "passed", "seconds": "soon"}]}'))
     [0].parent, "01-overview.ipynb's seconds is 'soon', expected a number"),
    (lambda d: (d / "results.csv", (d / "results.csv").write_text("attendee,status\n"))[0]
     .parent, "results.csv: missing column(s) notebook, duration_s, failing_cell, message"),
])
def test_bad_run_folder_is_refused_naming_the_path(tmp_path, capsys, make, expected):
    target = make(tmp_path)
    assert cli.main(["report", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and str(tmp_path) in err
    assert "Traceback" not in err
    assert not (tmp_path / "report.html").exists()


def test_damaged_findings_are_refused(tmp_path):
    folder = make_run(tmp_path / "run")
    (folder / "findings.json").write_text('{"not": "a list"}')
    with pytest.raises(report.ReportError, match=r"findings.json: damaged findings"):
        report.write(folder)


# ---- a training run -------------------------------------------------------------------------

def make_training(folder: Path) -> Path:
    folder.mkdir(parents=True)
    make_run(folder / "alice", failing=False, findings=FINDINGS[:3])
    make_run(folder / "bob", failing=True, findings=FINDINGS)
    rows = [("alice", "01-overview.ipynb", "passed", "12.0", "", ""),
            ("alice", "02-network.ipynb", "passed", "9.5", "", ""),
            ("bob", "01-overview.ipynb", "passed", "11.0", "", ""),
            ("bob", "02-network.ipynb", "failed", "3.2", "2", "StepFailed: ..."),
            ("carol", "01-overview.ipynb", "failed", "0.4", "1",
             f"kernel died <b>bold</b> token {TOKEN}\nWhat to try: re-run carol's setup"),
            ("carol", "02-network.ipynb", "not run", "", "", ""),
            # Ctrl-C: an executed notebook so far, no summary.json
            ("dave", "01-overview.ipynb", "interrupted", "", "", "stopped by Ctrl-C"),
            ("dave", "02-network.ipynb", "not run", "", "", "")]
    (folder / "dave").mkdir()
    nbformat.write(_passing_notebook(), folder / "dave" / "01-overview.ipynb")
    with (folder / "results.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["attendee", "notebook", "status", "duration_s", "failing_cell",
                         "message"])
        writer.writerows(rows)
    return folder


def test_training_report_shows_attendees_by_notebook(tmp_path):
    path, text, page = _page(make_training(tmp_path / "runs" / "training" / "20261126T020000Z"))
    matrix = page.table("attendee")
    assert matrix["attendee"] == ["01-overview", "02-network", "transcript"]
    assert matrix["alice"] == ["passed (12.0 s)", "passed (9.5 s)", "transcript"]
    assert matrix["bob"] == ["passed (11.0 s)", "failed (3.2 s)", "transcript"]
    assert matrix["carol"] == ["failed (0.4 s)", "not run", "—"]  # no run folder
    assert matrix["dave"] == ["interrupted", "not run", "—"]
    _assert_links_resolve(page, path)
    assert {"alice/01-overview.html", "bob/02-network.html", "bob/transcript.jsonl",
            "bob/02-network.html#cell-id=net-07", "dave/01-overview.ipynb"} <= set(page.links)
    _assert_self_contained(text)
    assert TOKEN not in text and "<b>bold</b>" not in text


def test_training_findings_are_summed_over_attendees(tmp_path):
    folder = make_training(tmp_path / "training")
    _, text, page = _page(folder)
    rows = [r for name in ("alice", "bob")
            for r in json.loads((folder / name / "findings.json").read_text())]
    expected = Counter((r["severity"], r["status"]) for r in rows)
    table = next(t for t in page.tables if t[0][0] == "severity" and "total" in t[0])
    for row in table[1:]:
        for status, count in zip(table[0][1:-1], row[1:-1], strict=True):
            assert int(count) == expected[(row[0], status)]
    assert "Summed over the 2 attendee run(s)" in text
    assert "Failing findings" not in text  # per check instead, naming the attendees
    by_check = {r[1]: r for r in next(t for t in page.tables if t[0][:2] == ["severity", "check"])}
    assert by_check["AKS-OV-002"][3:] == ["2", "alice, bob"]
    assert by_check["AKS-NET-001"][3:] == ["1", "bob"]


def test_training_failing_cells_are_listed_per_attendee(tmp_path):
    _, text, page = _page(make_training(tmp_path / "training"))
    section = text.split('id="failing-cells"', 1)[1]
    assert "<h3>alice</h3>" not in section
    assert section.index("<h3>bob</h3>") < section.index("<h3>carol</h3>") \
        < section.index("<h3>dave</h3>")
    assert page.hints == [f"What to try: {HINT}", "What to try: re-run carol's setup"]
    assert "01-overview (failed), In [1]" in section
    assert "01-overview (interrupted)</h4><pre>stopped by Ctrl-C</pre>" in section


# ---- a real run -----------------------------------------------------------------------------

def test_make_run_prints_the_report_of_a_real_run(local_cluster, tmp_path, monkeypatch, capsys):
    """`aks-runbook run --only 01` (what `make run` calls) on the local cluster."""
    monkeypatch.setattr(runs, "run", functools.partial(runs.run, runs_root=tmp_path))
    assert cli.main(["run", str(LOCAL), "--only", "01"]) == 0
    out = capsys.readouterr().out
    path = Path(re.search(r"^report: (.+)$", out, re.M).group(1))
    assert path.parent.parent == tmp_path / "local" and path.name == "report.html"
    text = path.read_text()
    page = Page(text)
    assert page.table("chapter")["01-overview"][0] == "passed"
    findings = json.loads((path.parent / "findings.json").read_text())
    assert findings, "chapter 01 records findings"
    expected = Counter((r["severity"], r["status"]) for r in findings)
    table = next(t for t in page.tables if t[0][0] == "severity" and "total" in t[0])
    shown = {(row[0], status): int(count) for row in table[1:]
             for status, count in zip(table[0][1:-1], row[1:-1], strict=True) if int(count)}
    assert shown == dict(expected)
    _assert_links_resolve(page, path)
    _assert_self_contained(text)


def test_real_failed_notebook_shows_its_cell_and_hint(local_cluster, tmp_path):
    """papermill's own failure record: the cell, its error and the runner's hint."""
    result = runs.run(LOCAL, directory=ROOT / "tests" / "notebooks" / "failing",
                      runs_root=tmp_path)
    assert not result.ok
    path, text, page = _page(result.folder)
    error = json.loads((result.folder / "summary.json").read_text())["notebooks"][0]["error"]
    hint = " ".join(error.split("What to try:", 1)[1].split())
    assert page.hints == [f"What to try: {hint}"]
    row = page.table("chapter")["01-fails"]
    assert row[0] == "failed" and row[2:4] == ["5", "0"]  # In [5], no failing finding
    source, output = page.pres
    assert source == 'session.cluster.kubectl("get nosuchkind", step="a step that fails")'
    assert "step 'a step that fails' failed" in output
    [cell_link] = [h for h in page.links if "#" in h]
    html_file, anchor = cell_link.split("#")
    assert f'id="{anchor}"' in (path.parent / html_file).read_text()  # nbconvert's cell anchor
    _assert_links_resolve(page, path)
    _assert_self_contained(text)
