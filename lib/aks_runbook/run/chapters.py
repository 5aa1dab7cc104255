"""Execute the notebooks headless with papermill into runs/<environment>/<UTC timestamp>/.

The run folder is the evidence: executed notebooks, their HTML, the transcript, the findings
(CSV and JSON) and a summary. Parameters are validated before any notebook starts.
Owner-only, like training/: folders 0700 (runs/ itself too), files 0600 (the run holds
namespace listings and commands; on a shared machine nobody else may read them).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aks_runbook import paths
from aks_runbook.frontend import RUN_DIR_ENV
from aks_runbook.params import Environment, ParameterError, load, to_papermill
from aks_runbook.progress import bar
from aks_runbook.run import (
    html_export,
    kernels,
    no_iri_grammar,  # noqa: F401 (imported for its effect: see the module)
    terminating,
)
from aks_runbook.run.transcript import resolve_transcript

ENGINE = "aks-runbook"
SAVE_EVERY = 2.0  # seconds between writes of a running notebook (papermill: every cell)


class RunFailed(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


@dataclass
class NotebookResult:
    name: str
    status: str  # passed | failed | not run | interrupted
    seconds: float = 0.0
    failed_cell: int | None = None
    error: str = ""


@dataclass
class RunResult:
    folder: Path
    environment: str
    target: str
    notebooks: list[NotebookResult] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)  # namespaces still terminating

    @property
    def ok(self) -> bool:
        return all(n.status == "passed" for n in self.notebooks) and not self.left_behind


def notebooks_dir(language: str = "en") -> Path:
    """The English notebooks (the source), or an edition built from them (notebooks/ja)."""
    base = paths.project_root() / "notebooks"
    return base if language == "en" else base / language


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


PRIVATE_UMASK = 0o077


def private_folder(folder: Path, root: Path | None = None) -> Path:
    """Create folder (and its parents) owner-only; from root down to it every folder is made
    0700, so runs written before this change are hidden too."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in (folder, *folder.parents):
        if root is not None and not path.is_relative_to(root):
            break
        os.chmod(path, 0o700)
        if root is None or path == root:
            break
    return folder


def run(env_file: str | Path, only: list[str] | None = None,
        overrides: dict[str, Any] | None = None, runs_root: Path | None = None,
        directory: Path | None = None, folder: Path | None = None,
        on_cell: Callable[[], None] | None = None,
        on_notebook: Callable[[NotebookResult], None] | None = None,
        progress: bool = True, html_copies: bool = True) -> RunResult:
    """Run the notebooks into `folder` (default runs_root/<environment>/<UTC timestamp>).

    The terminal shows one bar over every cell of the run (off with progress=False; on_cell
    and on_notebook then let a caller show its own) and nothing else but errors. Each executed
    notebook gets its HTML copy beside it, unless html_copies=False (a training run writes its
    attendees' copies itself, when on_notebook reports each notebook)."""
    env = load(env_file, overrides)  # before anything runs
    if env.target == "replay":
        resolve_transcript(env.transcript)
    chosen = select(only, directory or notebooks_dir(env.language))
    if folder is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        root = runs_root or paths.project_root() / "runs"
        folder = root / env.environment / stamp
        if folder.exists():
            raise FileExistsError(f"run folder {folder} exists already")
        private_folder(folder, root)
    else:
        private_folder(folder)
    # every file of the run (papermill's, the kernel's, ours) is created 0600
    umask = os.umask(PRIVATE_UMASK)
    try:
        return _run(env, chosen, folder, on_cell, on_notebook, progress, html_copies)
    finally:
        os.umask(umask)


def _run(env: Environment, chosen: list[Path], folder: Path,
         on_cell: Callable[[], None] | None, on_notebook: Callable[[NotebookResult], None] | None,
         progress: bool, html_copies: bool) -> RunResult:
    (folder / "parameters.json").write_text(json.dumps(to_papermill(env), indent=2))
    os.environ[RUN_DIR_ENV] = str(folder)  # every chapter's kernel reads it
    try:
        ahead = kernels.Ahead(chosen)
        try:
            return _chapters(env, chosen, folder, on_cell, on_notebook, progress, ahead,
                             html_copies)
        finally:
            ahead.close()
    finally:
        os.environ.pop(RUN_DIR_ENV, None)


def _chapters(env: Environment, chosen: list[Path], folder: Path,
              on_cell: Callable[[], None] | None,
              on_notebook: Callable[[NotebookResult], None] | None, progress: bool,
              ahead: kernels.Ahead, html_copies: bool) -> RunResult:
    result = RunResult(folder, env.environment, env.target)
    sizes = [cell_count(notebook) for notebook in chosen]
    shown = bar(total=sum(sizes), desc=f"run {env.environment}", unit=" cell",
                file=sys.stderr, disable=not progress)

    def cell_done() -> None:
        shown.update(1)
        if on_cell:
            on_cell()

    interrupted = False
    # each chapter's HTML is written while the next one runs (about a second each)
    exports = ThreadPoolExecutor(max_workers=1, thread_name_prefix="html-export")
    written = []
    try:
        for index, notebook in enumerate(chosen):
            shown.set_postfix_str(notebook.name)
            kernel = ahead.take(index)
            outcome = _execute(notebook, folder, env, cell_done, kernel)
            ahead.release(kernel)
            if html_copies and (folder / notebook.name).exists():
                written.append(exports.submit(html_export.export, folder / notebook.name))
            result.notebooks.append(outcome)
            shown.update(sum(sizes[:len(result.notebooks)]) - shown.n)  # cells not run too
            if on_notebook:
                on_notebook(outcome)
            if outcome.status == "failed":
                break
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM in a training worker): keep the evidence
        interrupted = True
        result.notebooks.append(NotebookResult(chosen[len(result.notebooks)].name,
                                               "interrupted", error="stopped by Ctrl-C"))
    # the deleted namespaces go (5 s or more) while the kernels exit and the last files are
    # written
    namespaces = None if interrupted else terminating.Wait(folder, terminating.TIMEOUT)
    try:
        ahead.close()
        exports.shutdown(wait=True)
        for export in written:
            export.result()  # an export's error is the run's
        _export_findings(folder)
        if namespaces is not None and namespaces.waiting:
            shown.set_postfix_str("waiting for the deleted namespaces to go")
            result.left_behind = namespaces.left()
    finally:
        if namespaces is not None:
            namespaces.stop()
    shown.close()
    for notebook in chosen[len(result.notebooks):]:
        result.notebooks.append(NotebookResult(notebook.name, "not run"))
        if on_notebook and not interrupted:
            on_notebook(result.notebooks[-1])
    _write_summary(result, env)
    if interrupted:
        raise KeyboardInterrupt
    return result


def cell_count(notebook: Path) -> int:
    """Cells papermill runs: the notebook's, plus the parameters cell it injects."""
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    tagged = any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells)
    return len(cells) + tagged


def _engine() -> str:
    """A papermill engine that reports each finished cell (the kernel it is given: run.kernels
    starts each one ahead)."""
    from papermill.engines import NBClientEngine, papermill_engines

    class Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            on_cell = kwargs.pop("on_cell")
            _save_now_and_then(nb_man)
            complete = nb_man.cell_complete

            def cell_complete(cell, cell_index=None, **more):
                complete(cell, cell_index=cell_index, **more)
                on_cell()

            nb_man.cell_complete = cell_complete
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(ENGINE, Engine)
    logging.getLogger("papermill").addFilter(_every_parameter_is_passed)
    return ENGINE


def _save_now_and_then(nb_man) -> None:
    """Write the output notebook at most every SAVE_EVERY seconds while it runs, and always at
    its end (papermill calls notebook_complete also after an error or Ctrl-C). papermill writes
    it at every cell's start and end, each time serializing and validating the whole notebook:
    some 400 writes for the four chapters."""
    save, finish = nb_man.save, nb_man.notebook_complete
    due = {"at": 0.0, "always": False}

    def save_now_and_then(**kwargs):
        if due["always"] or time.monotonic() >= due["at"]:
            save(**kwargs)
            due["at"] = time.monotonic() + SAVE_EVERY

    def notebook_complete(**kwargs):
        due["always"] = True
        finish(**kwargs)

    nb_man.save, nb_man.notebook_complete = save_now_and_then, notebook_complete


def _every_parameter_is_passed(record: logging.LogRecord) -> bool:
    """Every run passes every parameter; a notebook that does not declare one gets papermill's
    "Passed unknown parameter" per name. Which parameters a notebook declares is the notebook
    tests' business, not the run's terminal."""
    return not record.getMessage().startswith("Passed unknown parameter")


def _execute(notebook: Path, folder: Path, env: Environment,
             on_cell: Callable[[], None], kernel) -> NotebookResult:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output = folder / notebook.name
    started = time.monotonic()
    try:
        papermill.execute_notebook(str(notebook), str(output), parameters=to_papermill(env),
                                   kernel_name="python3", progress_bar=False,
                                   cwd=str(notebook.parent), engine_name=_engine(),
                                   on_cell=on_cell, km=kernel)
        outcome = NotebookResult(notebook.name, "passed", time.monotonic() - started)
    except PapermillExecutionError as error:
        outcome = NotebookResult(notebook.name, "failed", time.monotonic() - started,
                                 failed_cell=error.exec_count,
                                 error=f"{error.ename}: {error.evalue}")
    except BaseException:  # Ctrl-C: no graceful goodbye from the kernel
        kernels.stop(kernel)
        raise
    return outcome


def _export_findings(folder: Path) -> None:
    source = folder / "findings.jsonl"
    rows = [json.loads(line) for line in source.read_text().splitlines()] if source.exists() \
        else []
    columns = list(dict.fromkeys(key for row in rows for key in row))  # in first-seen order
    with (folder / "findings.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
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
        "left_behind": result.left_behind,
        "findings": by_status,
    }
    (result.folder / "summary.json").write_text(json.dumps(summary, indent=2))
    lines = [f"# Run of environment {env.environment!r} (target {env.target})", "",
             "| notebook | status | seconds | failed cell |", "|---|---|---|---|"]
    for n in result.notebooks:
        lines.append(f"| {n.name} | {n.status} | {n.seconds:.1f} | {n.failed_cell or ''} |")
    lines += ["", "Findings: " + (", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))
                                  or "none")]
    if result.left_behind:
        lines += ["", left_behind_message(result)]
    (result.folder / "summary.md").write_text("\n".join(lines) + "\n")


def left_behind_message(result: RunResult) -> str:
    return (f"cleanup: namespaces the chapters deleted were still there "
            f"{terminating.TIMEOUT} s after the last chapter: {'; '.join(result.left_behind)}. "
            f"`kubectl get namespace <name> -o yaml` shows what holds them (often a finalizer)")


def failure_message(result: RunResult) -> str:
    failed = next((n for n in result.notebooks if n.status == "failed"), None)
    if failed is None:
        return left_behind_message(result)
    return (f"{failed.name} failed at cell {failed.failed_cell}: {failed.error}\n"
            f"The executed notebook shows the cell and its output: "
            f"{result.folder / failed.name}")
