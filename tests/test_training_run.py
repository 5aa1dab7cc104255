"""`training run`: every attendee's notebooks with their own parameters and kubeconfig, K at
a time; a results table; one failure does not stop the others; Ctrl-C stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import psutil
import pytest
import yaml

from aks_runbook.params import ParameterError
from aks_runbook.training import credentials, provision
from aks_runbook.training import run as training
from aks_runbook.training.roster import Attendee
from notebook_outputs import write_notebook
from processes import kernels

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "environments" / "local.yaml"
NOTEBOOKS = Path(__file__).parent / "data" / "training" / "notebooks"
SLOW = Path(__file__).parent / "data" / "training" / "slow"
PEOPLE = [Attendee("ann1"), Attendee("ben2"), Attendee("cat3")]


@pytest.fixture(scope="module")
def course(local_cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("course") / "training"
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    provision.provision(local_cluster.api(), PEOPLE, folder, access, LOCAL, expiry=3600)
    yield folder
    provision.teardown(local_cluster.api(), folder)


@pytest.fixture(scope="module")
def finished(course, tmp_path_factory):
    return training.run(course, parallel=2, directory=NOTEBOOKS,
                        runs_root=tmp_path_factory.mktemp("runs"))


def test_results_table_shows_every_attendee_and_notebook_honestly(finished):
    assert finished.folder.parent.name == "training" and finished.folder.name.endswith("Z")
    table = pd.read_csv(finished.folder / "results.csv")
    assert list(table.columns) == ["attendee", "notebook", "status", "duration_s",
                                   "failing_cell", "message"]
    rows = {(r.attendee, r.notebook): r for r in table.itertuples()}
    assert len(rows) == 6
    failed = rows[("ben2", "02-planted.ipynb")]
    assert (failed.status, failed.failing_cell) == ("failed", 4)
    assert failed.message == "RuntimeError: planted failure for ben2"
    others = [r for key, r in rows.items() if key != ("ben2", "02-planted.ipynb")]
    assert {r.status for r in others} == {"passed"}, "one failure does not stop the others"
    assert all(r.duration_s > 0 for r in others)
    page = (finished.folder / "results.html").read_text()
    assert "<table" in page and "planted failure for ben2" in page
    assert "3 attendee(s) x 2 notebook(s): 1 failed, 5 passed" in page
    assert not finished.ok


def test_each_attendee_ran_with_their_parameters_and_kubeconfig(finished, course, k8s):
    for person in PEOPLE:
        folder = finished.folder / person.name
        for name in ("01-whoami.ipynb", "01-whoami.html", "summary.json", "parameters.json",
                     "findings.csv"):
            assert (folder / name).is_file(), (person.name, name)
        parameters = json.loads((folder / "parameters.json").read_text())
        assert parameters["prefix"] == person.name
        assert parameters["namespace"] == person.namespace
        assert parameters["kubeconfig"] == str(course / person.name / "kubeconfig")
        # the notebook ran as the attendee's service account, in their own namespace
        output = (folder / "01-whoami.ipynb").read_text()
        assert f"user system:serviceaccount:{person.namespace}:attendee" in output
        assert k8s.CoreV1Api().read_namespaced_config_map(f"hello-{person.name}",
                                                          person.namespace)
    summary = json.loads((finished.folder / "ben2" / "summary.json").read_text())
    assert [n["status"] for n in summary["notebooks"]] == ["passed", "failed"]


def test_no_token_appears_in_the_run_evidence(finished, course):
    tokens = [yaml.safe_load((course / p.name / "kubeconfig").read_text())["users"][0]["user"]
              ["token"] for p in PEOPLE]
    for path in finished.folder.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not any(t in text for t in tokens), path


def test_ctrl_c_while_an_attendee_waits_for_their_turn_never_starts_them(tmp_path):
    # The first K attendees start a few seconds apart (training.run.STAGGER_SECONDS), so their
    # runs do not all wait on the same timers at once; Ctrl-C in that gap starts no one more.
    runner = training._Runner(tmp_path, ["01-overview.ipynb"], None, None, progress=None)
    waiting = threading.Thread(target=runner.attendee, args=("dan4", tmp_path / "dan4.yaml", 60))
    waiting.start()
    runner.stop()
    waiting.join(timeout=5)
    assert not waiting.is_alive(), "the stop did not end the wait"
    assert runner.started == set() and not (tmp_path / "dan4").exists()
    assert [(r.name, r.status) for r in runner.rows("dan4")] == [("01-overview.ipynb", "not run")]


def test_a_failed_html_copy_is_said_and_fails_the_run_without_losing_the_results(tmp_path):
    # The training run writes every attendee's HTML copies itself (workers write none); one
    # that cannot be written is reported with its notebook, and the run is not ok, while the
    # other copies and the results table are still written.
    runner = training._Runner(tmp_path, ["01-a.ipynb", "02-b.ipynb"], None, None, progress=None)
    good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# fine")])
    (tmp_path / "ann1").mkdir()
    nbformat.write(good, tmp_path / "ann1" / "01-a.ipynb")
    (tmp_path / "ann1" / "02-b.ipynb").write_text("not a notebook")
    runner.copy(tmp_path / "ann1" / "01-a.ipynb")
    runner.copy(tmp_path / "ann1" / "02-b.ipynb")
    failed = runner.finish_copies()
    assert (tmp_path / "ann1" / "01-a.html").is_file()
    assert len(failed) == 1 and failed[0].startswith("ann1/02-b.ipynb: "), failed
    result = training.TrainingRun(tmp_path, rows=[
        training.Row(attendee="ann1", name=n, status="passed", seconds=1.0)
        for n in ("01-a.ipynb", "02-b.ipynb")], failed_copies=failed)
    training.write_results(result)
    assert not result.ok
    assert "HTML copies not written" in result.summary() and "ann1/02-b.ipynb" in result.summary()
    assert (tmp_path / "results.csv").is_file()


def test_html_copies_are_written_at_the_lowest_priority(tmp_path):
    # the copies take only the CPU the attendees' notebooks leave idle
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = niceness()
    runner = training._Runner(tmp_path, ["01-a.ipynb"], None, None, progress=None)
    copies = runner.copies.submit(niceness).result()
    runner.finish_copies()
    assert copies == 19
    assert niceness() == before  # the rest of the run keeps its priority


def test_a_workers_kernels_do_not_import_the_run_with_its_main_module(tmp_path):
    # A kernel forked for a worker imports the worker's module again (multiprocessing's
    # __mp_main__): the run's modules stay out of it, and with them the jsonschema setting of
    # processes that read and write notebooks (run.no_iri_grammar), as in a started kernel.
    book = tmp_path / "book"
    book.mkdir()
    probe = ("import sys\n"
             "print(sorted(m for m in ('__mp_main__', 'aks_runbook.run.chapters', 'papermill',\n"
             "                         'rfc3987_syntax') if m in sys.modules))")
    write_notebook(book / "01-probe.ipynb", probe)
    worker = subprocess.run([sys.executable, "-m", "aks_runbook.training.worker", str(LOCAL),
                             str(tmp_path / "out"), "--directory", str(book)],
                            capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    executed = nbformat.read(tmp_path / "out" / "01-probe.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "['__mp_main__']\n"


def test_an_expired_token_stops_the_run_before_it_starts(course, tmp_path):
    copy = tmp_path / "training"
    home = copy / "ann1"
    home.mkdir(parents=True)
    kubeconfig = home / "kubeconfig"
    credentials.write_private(kubeconfig, credentials.kubeconfig_text(
        credentials.ClusterAccess("https://127.0.0.1:1"), "ann1", "training-ann1",
        "e30.eyJleHAiOjEwMDB9.sig"))  # {"exp": 1000}: long gone
    env = yaml.safe_load((course / "ann1" / "environment.yaml").read_text())
    env["kubeconfig"] = str(kubeconfig)
    (home / "environment.yaml").write_text(yaml.safe_dump(env))
    with pytest.raises(ParameterError, match="ann1: the kubeconfig's token has expired: run "
                                             "`aks-runbook training provision` again"):
        training.run(copy, directory=NOTEBOOKS, runs_root=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()
    with pytest.raises(ParameterError, match="no attendees in"):
        training.run(tmp_path / "empty", directory=NOTEBOOKS, runs_root=tmp_path / "runs")
    with pytest.raises(ParameterError, match="--parallel 0: must be 1 or more"):
        training.run(course, parallel=0, directory=NOTEBOOKS, runs_root=tmp_path / "runs")


def _has_a_kernel(run_pid: int, name: str) -> bool:
    """Whether attendee `name` has a kernel running: the training run's kernel service forks
    it, and it writes to the attendee's run.log."""
    log = f"/{name}/run.log"
    try:
        return any(any(f.path.endswith(log) for f in kernel.open_files())
                   for kernel in kernels(psutil.Process(run_pid).children(recursive=True)))
    except psutil.Error:
        return False


def test_ctrl_c_stops_every_attendee_and_says_what_finished(course, tmp_path):
    runs_root = tmp_path / "runs"
    script = ("from pathlib import Path\nfrom aks_runbook.training import run\n"
              f"r = run.run(Path({str(course)!r}), parallel=2, directory=Path({str(SLOW)!r}), "
              f"runs_root=Path({str(runs_root)!r}))\nprint(r.summary())")
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(runs_root.glob("training/*/ann1/summary.json")):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.5)
    while not (_has_a_kernel(process.pid, "ben2")
               and list(runs_root.glob("training/*/ben2/01-slow.ipynb"))):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.5)  # ben2 is mid-run: their notebook is written, their kernel up (asleep)
    family = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    out, err = process.communicate(timeout=60)
    assert "interrupted by Ctrl-C: finished 1 (ann1); stopped mid-run " in out, (out, err[-2000:])
    assert "Traceback" not in err
    _, alive = psutil.wait_procs(family, timeout=5)
    assert alive == [], "no worker or kernel is left running"
    table = pd.read_csv(next(runs_root.glob("training/*/results.csv")))
    status = dict(zip(table.attendee, table.status, strict=True))
    assert status["ann1"] == "passed"
    assert status["ben2"] == "interrupted"
    assert status["cat3"] in ("interrupted", "not run")
    assert ("not started 1 (cat3)" in out) == (status["cat3"] == "not run")
    # the stopped attendee's run folder keeps its evidence, saying where it stopped
    summary = json.loads(next(runs_root.glob("training/*/ben2/summary.json")).read_text())
    assert summary["notebooks"][0]["status"] == "interrupted"
    # and its notebook as far as it ran, written when it stopped
    stopped = nbformat.read(next(runs_root.glob("training/*/ben2/01-slow.ipynb")), as_version=4)
    injected = next(c for c in stopped.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "prefix = \"ben2\"" in injected.source
    assert stopped.metadata.papermill.end_time
