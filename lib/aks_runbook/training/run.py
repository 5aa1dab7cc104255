"""`training run`: every attendee's notebooks with their parameters and kubeconfig, K at a
time, into runs/training/<UTC timestamp>/<attendee>/ (an ordinary run folder each), then
results.csv and results.html (attendee x notebook: status, duration, failing cell, message).

One attendee's failure does not stop the others. Ctrl-C stops the running attendees (their
kernels too), keeps what finished and marks the rest interrupted or not run.

Each executed notebook's HTML copy is written here, as its worker reports it, in one thread for
every attendee: the exporter's templates, its regular expressions and the highlighted code are
then made once for the whole class instead of once per attendee (0.6 s of CPU each). That thread
runs at the lowest priority (Linux): the copies take the CPU the attendees' notebooks leave
idle, mostly while the last attendees wait on the cluster, and are finished before the run
returns. The workers' kernels are forked by one kernel server for the whole run
(run.kernel_service): its imports are made once for the class instead of once per attendee
(1.3 s of CPU each).
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from aks_runbook import paths
from aks_runbook.params import ParameterError, load
from aks_runbook.progress import bar
from aks_runbook.run import chapters as runs
from aks_runbook.run import html_export, kernel_service
from aks_runbook.training import credentials

COLUMNS = ("attendee", "notebook", "status", "duration_s", "failing_cell", "message")
GRACE_SECONDS = 10
# The first K attendees start this far apart. Started together, their runs reach the same
# waits (the token cache, a blocked drain, a namespace's deletion) at the same moment and
# leave the CPU idle; 3 s apart, ten attendees on 2 cores took 109 s instead of 119 s
# (bench/README.md). 6 s apart gained nothing more.
STAGGER_SECONDS = 3.0


@dataclass(kw_only=True)
class Row(runs.NotebookResult):
    """One attendee's result for one notebook; status may also be "error" (the worker never
    reported it)."""
    attendee: str

    def as_columns(self) -> dict:
        """The row of results.csv (COLUMNS)."""
        return dict(zip(COLUMNS, (self.attendee, self.name, self.status, self.seconds,
                                  self.failed_cell, self.error), strict=True))


@dataclass
class TrainingRun:
    folder: Path
    rows: list[Row] = field(default_factory=list)
    interrupted: bool = False
    failed_copies: list[str] = field(default_factory=list)  # "<notebook>: <error>"

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.failed_copies and \
            all(r.status == "passed" for r in self.rows)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        attendees = list(dict.fromkeys(r.attendee for r in self.rows))
        text = (f"{len(attendees)} attendee(s) x {len(self.rows) // max(len(attendees), 1)} "
                f"notebook(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        if self.failed_copies:
            text += "\nHTML copies not written (the notebooks are):\n  " + \
                "\n  ".join(self.failed_copies)
        if self.interrupted:
            groups: dict[str, list[str]] = {"finished": [], "stopped mid-run": [],
                                            "not started": []}
            for attendee in attendees:
                statuses = {r.status for r in self.rows if r.attendee == attendee}
                group = "stopped mid-run" if "interrupted" in statuses else \
                    "not started" if statuses == {"not run"} else "finished"
                groups[group].append(attendee)
            text += "\ninterrupted by Ctrl-C: " + "; ".join(
                f"{group} {len(names)}" + (f" ({', '.join(names)})" if names else "")
                for group, names in groups.items())
        return text


def attendees(training: Path) -> dict[str, Path]:
    """attendee -> environment file, for every provisioned attendee (sorted by name)."""
    found = {p.parent.name: p for p in sorted(training.glob("*/environment.yaml"))}
    if not found:
        raise ParameterError(f"no attendees in {training}: run `aks-runbook training "
                             f"provision` first")
    return found


def _check(envs: dict[str, Path], seconds_needed: float) -> None:
    """Every attendee's parameters and token, before anything runs."""
    problems = []
    for name, env_file in envs.items():
        try:
            env = load(env_file)
        except ParameterError as error:
            problems.append(f"{name}: {error}")
            continue
        if env.kubeconfig:
            left = credentials.token_expiry(Path(env.kubeconfig)) - time.time()
            if left < seconds_needed:
                when = "has expired" if left <= 0 else f"expires in {left:.0f} s"
                problems.append(f"{name}: the kubeconfig's token {when}: "
                                f"run `aks-runbook training provision` again to refresh it")
    if problems:
        raise ParameterError("cannot start the training run:\n  " + "\n  ".join(problems))


def run(training: Path, parallel: int = 4, only: list[str] | None = None,
        runs_root: Path | None = None, directory: Path | None = None) -> TrainingRun:
    if parallel < 1:
        raise ParameterError(f"--parallel {parallel}: must be 1 or more")
    envs = attendees(training)
    chosen = runs.select(only, directory)
    _check(envs, seconds_needed=60)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    root = runs_root or paths.project_root() / "runs"
    folder = root / "training" / stamp
    if folder.exists():
        raise FileExistsError(f"run folder {folder} exists already")
    runs.private_folder(folder, root)  # 0700, and 0600 files (the workers inherit the umask)
    umask = os.umask(runs.PRIVATE_UMASK)
    try:
        return _run_all(folder, envs, chosen, parallel, only, directory)
    finally:
        os.umask(umask)


def _run_all(folder: Path, envs: dict[str, Path], chosen: list[Path], parallel: int,
             only: list[str] | None, directory: Path | None) -> TrainingRun:
    cells = sum(runs.cell_count(n) for n in chosen)
    progress = bar(total=cells * len(envs), desc=f"training run ({parallel} at a time)",
                   unit=" cell", file=sys.stderr)
    result = TrainingRun(folder)
    with kernel_service.KernelServer() as kernels, \
            ThreadPoolExecutor(max_workers=parallel) as pool:
        runner = _Runner(folder, [n.name for n in chosen], only, directory, progress, kernels)
        futures = [pool.submit(runner.attendee, name, env,
                               STAGGER_SECONDS * i if i < parallel else 0)
                   for i, (name, env) in enumerate(envs.items())]
        try:
            while wait(futures, timeout=0.5).not_done:
                pass
        except KeyboardInterrupt:
            result.interrupted = True
            runner.stop()
            pool.shutdown(wait=True, cancel_futures=True)
    result.failed_copies = runner.finish_copies()
    progress.close()
    result.rows = [row for name in envs for row in runner.rows(name)]
    write_results(result)
    return result


class _Runner:
    def __init__(self, folder: Path, notebooks: list[str], only: list[str] | None,
                 directory: Path | None, progress,
                 kernels: kernel_service.KernelServer | None = None) -> None:
        self.folder, self.notebooks, self.only, self.directory = folder, notebooks, only, \
            directory
        self.progress = progress
        self.kernels = kernels  # forks the workers' kernels (none: each worker forks its own)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.running: dict[str, subprocess.Popen] = {}
        self.done: dict[str, list[Row]] = {}
        self.started: set[str] = set()
        self.errors: dict[str, str] = {}
        self.copies = ThreadPoolExecutor(max_workers=1, thread_name_prefix="html-export",
                                         initializer=_lowest_priority)
        self.copied: list[tuple[Path, Future]] = []

    def attendee(self, name: str, env_file: Path, delay: float = 0) -> None:
        if self.stopping.wait(delay):  # Ctrl-C during the delay: not started
            return
        out = self.folder / name
        out.mkdir(mode=0o700)
        command = [sys.executable, "-m", "aks_runbook.training.worker", str(env_file), str(out)]
        if self.only:
            command += ["--only", ",".join(self.only)]
        if self.directory:
            command += ["--directory", str(self.directory)]
        # appended to: the worker's kernels write to it too
        with open(out / "run.log", "a") as log, self.lock:
            if self.stopping.is_set():
                return
            env = {**os.environ, **self.kernels.environment(out / "run.log")} \
                if self.kernels else None
            # a session of its own: Ctrl-C reaches only this process, which stops the workers
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       env=env)
            self.running[name] = process
            self.started.add(name)
        rows: list[Row] = []
        for line in process.stdout or ():
            event = _event(line)
            if "cell" in event:
                self.progress.update(1)
            elif "notebook" in event:
                n = event["notebook"]
                rows.append(Row(attendee=name, **{**n, "seconds": round(n["seconds"], 1)}))
                if (out / n["name"]).exists():
                    self.copy(out / n["name"])
            elif "error" in event:
                self.errors[name] = event["error"]
        process.wait()
        with self.lock:
            self.running.pop(name, None)
            self.done[name] = rows
            unfinished = process.returncode not in (0, 1) or len(rows) < len(self.notebooks)
            if not self.stopping.is_set() and unfinished and name not in self.errors:
                self.errors[name] = _last_line(out / "run.log") or \
                    f"worker exited with code {process.returncode}"

    def copy(self, notebook: Path) -> None:
        """Write the executed notebook's HTML copy beside it, in the copies' thread."""
        self.copied.append((notebook, self.copies.submit(html_export.export, notebook)))

    def finish_copies(self) -> list[str]:
        """Wait for the HTML copies of every notebook reported (after Ctrl-C too: they are
        evidence). A copy that failed is said ("<notebook>: <error>"), and the run is not ok;
        the results table is still written."""
        self.copies.shutdown(wait=True)
        failed = []
        for notebook, copy in self.copied:
            error = copy.exception()
            if error is not None:
                failed.append(f"{notebook.relative_to(self.folder)}: "
                              f"{type(error).__name__}: {error}")
        return failed

    def stop(self) -> None:
        """Ctrl-C: stop every worker and its kernels (SIGTERM, then SIGKILL after a grace)."""
        with self.lock:
            self.stopping.set()
            processes = list(self.running.values())
        family = []
        for process in processes:
            try:
                parent = psutil.Process(process.pid)
                family += [parent, *parent.children(recursive=True)]
                parent.terminate()
            except psutil.NoSuchProcess:
                continue
        _, alive = psutil.wait_procs(family, timeout=GRACE_SECONDS)
        for leftover in alive:
            leftover.kill()

    def rows(self, name: str) -> list[Row]:
        """What happened to each notebook; notebooks without a result say why."""
        rows = list(self.done.get(name, []))
        rest = self.notebooks[len(rows):]
        if name in self.errors:
            return rows + [Row(attendee=name, name=nb, status="error", error=self.errors[name])
                           for nb in rest]
        if name in self.started and rest:  # stopped by Ctrl-C in the middle
            return rows + [Row(attendee=name, name=rest[0], status="interrupted",
                               error="stopped by Ctrl-C")] + \
                [Row(attendee=name, name=nb, status="not run") for nb in rest[1:]]
        return rows + [Row(attendee=name, name=nb, status="not run") for nb in rest]


def _lowest_priority() -> None:
    """Nice 19 for the calling thread. On Linux a thread has a nice value of its own; elsewhere
    setpriority takes a process, not a thread, so the thread keeps its priority."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):  # a sandbox that refuses it: copies at full priority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def _event(line: str) -> dict:
    try:
        event = json.loads(line)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def write_results(result: TrainingRun) -> None:
    import pandas as pd

    frame = pd.DataFrame([r.as_columns() for r in result.rows], columns=list(COLUMNS))
    frame["failing_cell"] = frame["failing_cell"].astype("Int64")
    frame.to_csv(result.folder / "results.csv", index=False)
    title = f"Training run {result.folder.name}"
    table = frame.to_html(index=False, na_rep="", classes="results", border=0)
    page = (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>body{{font-family:sans-serif}} td,th{{padding:2px 8px;"
            f"text-align:left}}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<pre>{html.escape(result.summary())}</pre>\n{table}\n</body></html>\n")
    (result.folder / "results.html").write_text(page)
