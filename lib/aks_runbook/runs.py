"""Execute the notebooks headless with papermill into runs/<environment>/<UTC timestamp>/.

The run folder is the evidence: executed notebooks, their HTML, the transcript, the findings
(CSV and JSON) and a summary. Parameters are validated before any notebook starts.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aks_runbook import paths
from aks_runbook.notebook import RUN_DIR_ENV, resolve_transcript
from aks_runbook.params import Environment, ParameterError, load, to_papermill
from aks_runbook.progress import bar


class RunFailed(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


@dataclass
class NotebookResult:
    name: str
    status: str  # passed | failed | not run
    seconds: float = 0.0
    failed_cell: int | None = None
    error: str = ""


@dataclass
class RunResult:
    folder: Path
    environment: str
    target: str
    notebooks: list[NotebookResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(n.status == "passed" for n in self.notebooks)


def notebooks_dir() -> Path:
    return paths.project_root() / "notebooks"


def select(only: list[str] | None, directory: Path | None = None) -> list[Path]:
    """Notebooks by number prefix (`--only 01,03`), in order."""
    directory = directory or notebooks_dir()
    available = sorted(directory.glob("[0-9][0-9]-*.ipynb"))
    if not only:
        return available
    chosen = [nb for nb in available if nb.name[:2] in only]
    missing = sorted(set(only) - {nb.name[:2] for nb in available})
    if missing:
        names = ", ".join(nb.name[:2] for nb in available)
        raise ParameterError(f"--only {','.join(only)}: no notebook numbered "
                             f"{', '.join(missing)} (available: {names})")
    return chosen


def run(env_file: str | Path, only: list[str] | None = None,
        overrides: dict[str, Any] | None = None, runs_root: Path | None = None,
        directory: Path | None = None) -> RunResult:
    env = load(env_file, overrides)  # before anything runs
    if env.target == "replay":
        resolve_transcript(env.transcript)
    chosen = select(only, directory)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = (runs_root or paths.project_root() / "runs") / env.environment / stamp
    folder.mkdir(parents=True, exist_ok=False)
    (folder / "parameters.json").write_text(json.dumps(to_papermill(env), indent=2))
    result = RunResult(folder, env.environment, env.target)
    progress = bar(total=len(chosen), desc=f"run {env.environment}", unit=" notebook",
                   file=sys.stderr)
    for notebook in chosen:
        progress.set_postfix_str(notebook.name)
        outcome = _execute(notebook, folder, env)
        result.notebooks.append(outcome)
        progress.update(1)
        if outcome.status == "failed":
            break
    progress.close()
    for notebook in chosen[len(result.notebooks):]:
        result.notebooks.append(NotebookResult(notebook.name, "not run"))
    _export_findings(folder)
    _write_summary(result, env)
    return result


def _execute(notebook: Path, folder: Path, env: Environment) -> NotebookResult:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output = folder / notebook.name
    started = time.monotonic()
    os.environ[RUN_DIR_ENV] = str(folder)
    try:
        papermill.execute_notebook(str(notebook), str(output), parameters=to_papermill(env),
                                   kernel_name="python3", progress_bar=True,
                                   cwd=str(notebook.parent))
        outcome = NotebookResult(notebook.name, "passed", time.monotonic() - started)
    except PapermillExecutionError as error:
        outcome = NotebookResult(notebook.name, "failed", time.monotonic() - started,
                                 failed_cell=error.exec_count,
                                 error=f"{error.ename}: {error.evalue}")
    finally:
        os.environ.pop(RUN_DIR_ENV, None)
    if output.exists():
        _export_html(output)
    return outcome


def _export_html(executed: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    executed.with_suffix(".html").write_text(body)


def _export_findings(folder: Path) -> None:
    import pandas as pd

    source = folder / "findings.jsonl"
    rows = [json.loads(line) for line in source.read_text().splitlines()] if source.exists() \
        else []
    frame = pd.DataFrame(rows)
    frame.to_csv(folder / "findings.csv", index=False)
    (folder / "findings.json").write_text(json.dumps(rows, indent=2))


def _write_summary(result: RunResult, env: Environment) -> None:
    findings = json.loads((result.folder / "findings.json").read_text())
    by_status: dict[str, int] = {}
    for row in findings:
        by_status[row.get("status", "?")] = by_status.get(row.get("status", "?"), 0) + 1
    summary = {
        "environment": env.environment, "target": env.target,
        "plan_only": env.plan_only, "ok": result.ok,
        "notebooks": [vars(n) for n in result.notebooks],
        "findings": by_status,
    }
    (result.folder / "summary.json").write_text(json.dumps(summary, indent=2))
    lines = [f"# Run of environment {env.environment!r} (target {env.target})", "",
             "| notebook | status | seconds | failed cell |", "|---|---|---|---|"]
    for n in result.notebooks:
        lines.append(f"| {n.name} | {n.status} | {n.seconds:.1f} | {n.failed_cell or ''} |")
    lines += ["", "Findings: " + (", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))
                                  or "none")]
    (result.folder / "summary.md").write_text("\n".join(lines) + "\n")


def failure_message(result: RunResult) -> str:
    failed = next(n for n in result.notebooks if n.status == "failed")
    return (f"{failed.name} failed at cell {failed.failed_cell}: {failed.error}\n"
            f"The executed notebook shows the cell and its output: "
            f"{result.folder / failed.name}")
