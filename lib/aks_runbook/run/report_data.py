"""What a run report shows, read from a run folder or a training run folder.

A run folder (runs/<environment>/<UTC time>/, written by aks_runbook.run.chapters) holds
summary.json, findings.json (or .csv), transcript.jsonl and the executed notebooks with their
HTML. A training
run folder (runs/training/<UTC time>/) holds results.csv and one run folder per attendee.
Everything taken from the files is masked with aks_runbook.run.redact here, so the renderer only
has to escape it.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aks_runbook.run.redact import Redactor
from aks_runbook.severity import SEVERITY_ORDER, severity

EXPECTED = ("expected a run folder (runs/<environment>/<UTC time>/ with summary.json, written "
            "by `aks-runbook run`) or a training run folder (runs/training/<UTC time>/ with "
            "results.csv)")
TRAINING_COLUMNS = ("attendee", "notebook", "status", "duration_s", "failing_cell", "message")
HINT = re.compile(r"What to try:\s*(.+)", re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PAPERMILL_MARKER = "papermill-error-cell-tag"
OUTPUT_LINES = 60  # a failing cell's output is cut to its last lines; the notebook has them all


class ReportError(ValueError):
    """The folder is not something a report can be made of; the message says why."""


@dataclass
class FailingCell:
    notebook: str
    index: int | None  # position in the executed notebook (nbformat's cells list)
    execution_count: int | None
    source: str
    output: str
    hint: str
    link: str | None  # to the cell in the executed notebook's HTML


@dataclass
class Chapter:
    name: str  # the notebook's file name, e.g. 01-overview.ipynb
    status: str
    seconds: float
    failed_cell: int | None
    error: str
    notebook: str | None  # relative links, present only when the file exists
    html: str | None

    @property
    def chapter(self) -> str:
        return self.name.removesuffix(".ipynb")


@dataclass
class Run:
    folder: Path
    environment: str
    target: str
    ok: bool
    chapters: list[Chapter]
    findings: list[dict[str, str]]
    failing_cells: list[FailingCell]
    transcript: str | None
    notes: list[str] = field(default_factory=list)


@dataclass
class TrainingRow:
    attendee: str
    notebook: str
    status: str
    duration_s: str
    failing_cell: str
    message: str


@dataclass
class Training:
    folder: Path
    rows: list[TrainingRow]
    attendees: dict[str, Run | None]  # None: the attendee has no run folder with a summary
    links: dict[tuple[str, str], str]  # (attendee, notebook) -> its executed HTML or notebook

    @property
    def notebooks(self) -> list[str]:
        return sorted({row.notebook for row in self.rows})


def load(folder: str | Path, redactor: Redactor | None = None) -> Run | Training:
    folder = Path(folder)
    if not folder.exists():
        raise ReportError(f"RUN_FOLDER {folder}: no such folder; {EXPECTED}")
    if not folder.is_dir():
        raise ReportError(f"RUN_FOLDER {folder}: not a folder; {EXPECTED}")
    redactor = redactor or Redactor()
    if (folder / "summary.json").is_file():
        return load_run(folder, redactor)
    if (folder / "results.csv").is_file():
        return load_training(folder, redactor)
    raise ReportError(f"RUN_FOLDER {folder}: neither summary.json nor results.csv in it; "
                      f"{EXPECTED}")


def load_run(folder: Path, redactor: Redactor, base: Path | None = None) -> Run:
    """`base` is the folder the report is written to: links are relative to it."""
    base = base or folder
    summary = _summary(folder / "summary.json")
    chapters = []
    for entry in summary["notebooks"]:
        name = Path(str(entry["name"])).name
        chapters.append(Chapter(
            name=name, status=str(entry["status"]), seconds=_seconds(entry, folder),
            failed_cell=entry.get("failed_cell"), error=redactor.text(str(entry.get("error")
                                                                          or "")),
            notebook=_link(folder / name, base),
            html=_link(folder / Path(name).with_suffix(".html"), base)))
    notes = [f"cleanup: still terminating when the run ended: {redactor.text(str(line))}"
             for line in summary.get("left_behind") or []]
    cells: list[FailingCell] = []
    for chapter in chapters:
        if chapter.status == "failed":
            cells += _failing_cells(folder, chapter, redactor, base, notes)
    return Run(folder=folder, environment=redactor.text(str(summary.get("environment", ""))),
               target=redactor.text(str(summary.get("target", ""))),
               ok=bool(summary.get("ok")), chapters=chapters,
               findings=_findings(folder, redactor), failing_cells=cells,
               transcript=_link(folder / "transcript.jsonl", base), notes=notes)


def load_training(folder: Path, redactor: Redactor) -> Training:
    path = folder / "results.csv"
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in TRAINING_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ReportError(f"{path}: missing column(s) {', '.join(missing)}; a training "
                                  f"run's results.csv has {', '.join(TRAINING_COLUMNS)}")
            rows = [TrainingRow(**{c: redactor.text(row[c] or "") for c in TRAINING_COLUMNS})
                    for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ReportError(f"{path}: cannot read it ({error}); {EXPECTED}") from None
    for row in rows:
        row.notebook = Path(row.notebook).name.removesuffix(".ipynb")
    rows.sort(key=lambda r: (r.attendee, r.notebook))
    attendees: dict[str, Run | None] = {}
    links: dict[tuple[str, str], str] = {}
    for name in sorted({row.attendee for row in rows}):
        sub = folder / name
        if not sub.resolve().is_relative_to(folder.resolve()):  # a name like ../x is not ours
            attendees[name] = None
            continue
        # An interrupted attendee has executed notebooks but no summary.json.
        attendees[name] = (load_run(sub, redactor, base=folder)
                           if (sub / "summary.json").is_file() else None)
        for row in rows:
            if row.attendee == name:
                link = (_link(sub / f"{row.notebook}.html", folder)
                        or _link(sub / f"{row.notebook}.ipynb", folder))
                if link:
                    links[(name, row.notebook)] = link
    return Training(folder=folder, rows=rows, attendees=attendees, links=links)


def hint_of(error: str) -> str:
    """The hint the runner put in a StepFailed message ("What to try: ..."), else ""."""
    match = HINT.search(error)
    return " ".join(match.group(1).split()) if match else ""


def severity_of(row: dict[str, Any]) -> str:
    value = str(row.get("severity") or "").strip().lower()
    if not value and str(row.get("score") or "").strip():
        try:
            return severity(float(row["score"]))
        except ValueError:
            pass
    return value or "unknown"


def severity_key(name: str) -> tuple[int, str]:
    return (SEVERITY_ORDER.get(name, len(SEVERITY_ORDER)), name)


def _summary(path: Path) -> dict[str, Any]:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ReportError(f"{path}: damaged summary ({error}); {EXPECTED}") from None
    notebooks = summary.get("notebooks") if isinstance(summary, dict) else None
    if not isinstance(notebooks, list) or not all(
            isinstance(n, dict) and "name" in n and "status" in n for n in notebooks):
        raise ReportError(f"{path}: damaged summary: expected a JSON object whose \"notebooks\" "
                          f"is a list of {{\"name\", \"status\", ...}} entries, as "
                          f"`aks-runbook run` writes it")
    return summary


def _seconds(entry: dict[str, Any], folder: Path) -> float:
    try:
        return float(entry.get("seconds") or 0)
    except (TypeError, ValueError):
        raise ReportError(f"{folder / 'summary.json'}: damaged summary: {entry['name']}'s "
                          f"seconds is {entry.get('seconds')!r}, expected a number") from None


def _findings(folder: Path, redactor: Redactor) -> list[dict[str, str]]:
    """findings.json, else findings.csv (same columns), else none."""
    path = folder / "findings.json"
    try:
        if path.is_file():
            rows = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError("expected a JSON list of objects")
        elif (path := folder / "findings.csv").is_file():
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        else:
            return []
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as error:
        raise ReportError(f"{path}: damaged findings ({error}); expected the rows "
                          f"`aks-runbook run` writes (chapter, check, status, severity, ...)") \
            from None
    return [{str(k): redactor.text("" if v is None else str(v)) for k, v in row.items()}
            for row in rows]


def _failing_cells(folder: Path, chapter: Chapter, redactor: Redactor, base: Path,
                   notes: list[str]) -> list[FailingCell]:
    import nbformat

    fallback = FailingCell(chapter.name, None, chapter.failed_cell, "", chapter.error,
                           hint_of(chapter.error), chapter.html)
    path = folder / chapter.name
    if not path.is_file():
        notes.append(f"{chapter.name}: the executed notebook is missing; the failure is "
                     f"shown from summary.json")
        return [fallback]
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several unrelated types for a bad file
        notes.append(f"{chapter.name}: the executed notebook cannot be read ({error}); the "
                     f"failure is shown from summary.json")
        return [fallback]
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        failed = cell.metadata.get("papermill", {}).get("status") == "failed"
        if not errors and not failed:
            continue
        evalue = "\n".join(f"{o.get('ename', '')}: {o.get('evalue', '')}" for o in errors)
        html = (path.with_suffix(".html"))
        link = _link(html, base)
        if link and cell.get("id"):
            link += f"#cell-id={cell['id']}"
        found.append(FailingCell(
            notebook=chapter.name, index=index, execution_count=cell.get("execution_count"),
            source=redactor.text(cell.source), output=redactor.text(_output_text(cell)),
            hint=redactor.text(hint_of(evalue) or hint_of(chapter.error)), link=link))
    return found or [fallback]


def _output_text(cell: Any) -> str:
    parts = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(output.get("text", ""))
        elif kind == "error":
            parts.append(ANSI.sub("", "\n".join(output.get("traceback", []))
                                  or f"{output.get('ename')}: {output.get('evalue')}"))
        elif kind in ("display_data", "execute_result"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    lines = "".join(p if p.endswith("\n") else p + "\n" for p in parts if p).splitlines()
    if len(lines) > OUTPUT_LINES:
        lines = [f"[{len(lines) - OUTPUT_LINES} earlier line(s) left out; the executed "
                 f"notebook has them]"] + lines[-OUTPUT_LINES:]
    return "\n".join(lines)


def _link(path: Path, base: Path) -> str | None:
    """A link relative to the report's folder, or None when there is no such file."""
    if not path.is_file():
        return None
    return path.resolve().relative_to(base.resolve()).as_posix()
