"""`aks-runbook report RUN_FOLDER`: one self-contained HTML page for a run or a training run.

The page is written into the folder as report.html, its links relative to it, so the folder
can be moved or zipped as it is. Reading is in report_data, the page in report_html.
"""

from __future__ import annotations

from pathlib import Path

from aks_runbook.run.redact import Redactor
from aks_runbook.run.report_data import ReportError, load
from aks_runbook.run.report_html import render

__all__ = ["NAME", "ReportError", "write"]

NAME = "report.html"


def write(folder: str | Path, redactor: Redactor | None = None) -> Path:
    """Write FOLDER/report.html and return its path; ReportError if FOLDER is no run folder."""
    report = load(folder, redactor)
    path = Path(folder) / NAME
    path.write_text(render(report), encoding="utf-8")
    return path
