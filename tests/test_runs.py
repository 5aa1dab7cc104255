"""Papermill runs into runs/<env>/<timestamp>/, and record-then-replay."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from aks_runbook.frontend import RUN_DIR_ENV
from aks_runbook.notebook.session import Session
from aks_runbook.params import ParameterError, load
from aks_runbook.run import chapters as runs
from aks_runbook.run import terminating
from notebook_outputs import outputs, text_of, write_notebook
from processes import kernels

pytestmark = pytest.mark.slow  # papermill runs notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = Path(__file__).parent / "notebooks"
LOCAL = ROOT / "environments" / "local.yaml"


@pytest.fixture(scope="module")
def recorded(local_cluster, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    result = runs.run(LOCAL, directory=NOTEBOOKS, runs_root=root)
    assert result.ok, runs.failure_message(result)
    return result


def test_run_folder_holds_the_evidence(recorded):
    folder = recorded.folder
    assert folder.parent.name == "local" and folder.name.endswith("Z")
    for name in ("00-smoke.ipynb", "00-smoke.html", "transcript.jsonl", "findings.csv",
                 "findings.json", "summary.json", "summary.md", "parameters.json"):
        assert (folder / name).is_file(), name
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["ok"] and summary["notebooks"][0]["status"] == "passed"
    assert json.loads((folder / "findings.json").read_text())[0]["check"] == "smoke"
    assert "<html" in (folder / "00-smoke.html").read_text()[:500].lower()
    nodes_cell = outputs(folder / "00-smoke.ipynb")
    assert any("aks-user-" in (text or "") for cell in nodes_cell for _, text, _ in cell)


def test_replay_shows_what_the_recorded_run_showed(recorded, tmp_path):
    transcript = recorded.folder / "transcript.jsonl"
    replayed = runs.run(LOCAL, directory=NOTEBOOKS, runs_root=tmp_path,
                        overrides={"target": "replay", "transcript": str(transcript)})
    assert replayed.ok, runs.failure_message(replayed)
    live, replay = outputs(recorded.folder / "00-smoke.ipynb"), outputs(
        replayed.folder / "00-smoke.ipynb")
    session_cell = 3  # its describe() names the target, which differs by design
    assert "target replay" in replay[session_cell][0][1]
    assert [c for i, c in enumerate(live) if i != session_cell] == \
        [c for i, c in enumerate(replay) if i != session_cell]


def test_replay_of_a_missing_command_fails_clearly(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = runs.run(LOCAL, directory=NOTEBOOKS, runs_root=tmp_path,
                      overrides={"target": "replay", "transcript": str(empty)})
    assert not result.ok
    assert "ReplayMissing" in result.notebooks[0].error
    assert "not in the recording" in result.notebooks[0].error


def test_bad_parameters_fail_before_any_run_folder_exists(tmp_path):
    with pytest.raises(ParameterError, match="prefix = 'Bad Prefix'"):
        runs.run(LOCAL, directory=NOTEBOOKS, runs_root=tmp_path,
                 overrides={"prefix": "Bad Prefix"})
    with pytest.raises(ParameterError, match="transcript = 'nowhere.jsonl': no such file"):
        runs.run(LOCAL, directory=NOTEBOOKS, runs_root=tmp_path,
                 overrides={"target": "replay", "transcript": "nowhere.jsonl"})
    with pytest.raises(ParameterError, match="no notebook numbered 07"):
        runs.run(LOCAL, only=["07"], directory=NOTEBOOKS, runs_root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cli_rejects_unknown_parameter_before_running(tmp_path):
    out = subprocess.run([sys.executable, "-m", "aks_runbook.cli", "run", str(LOCAL),
                          "-p", "clustr_name=x"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2
    assert "clustr_name: unknown parameter" in out.stderr and "Traceback" not in out.stderr


def test_failed_notebook_is_named_with_its_cell(local_cluster, tmp_path):
    result = runs.run(LOCAL, directory=NOTEBOOKS / "failing", runs_root=tmp_path)
    assert not result.ok
    message = runs.failure_message(result)
    # In [5] in the executed notebook: papermill's injected parameters cell counts too
    assert message.startswith("01-fails.ipynb failed at cell 5: StepFailed")
    assert "step 'a step that fails' failed" in message
    assert (result.folder / "01-fails.ipynb").is_file(), "the failed notebook is kept"


def test_production_refuses_destructive_steps_unless_confirmed(capsys):
    prod = load(ROOT / "environments" / "aks-prod.yaml")
    assert not Session(prod, "04-maintenance").azure.allow_destructive("cleanup")
    assert "refused: cleanup is destructive" in capsys.readouterr().out
    confirmed = load(ROOT / "environments" / "aks-prod.yaml", {"confirm_destructive": True})
    assert Session(confirmed, "04-maintenance").azure.allow_destructive("cleanup")


def test_plan_only_cluster_steps_say_what_they_would_run_and_run_nothing(capsys):
    dev = load(ROOT / "environments" / "aks-dev.yaml")  # target aks, execute: false
    session = Session(dev, "01-overview")
    assert not session.has_cluster
    assert session.cluster.kubectl("get nodes", step="nodes") is None
    assert session.cluster.apply("viewer", step="viewer", namespace="azure-vote") is None
    assert session.cluster.objects("pods", "azure-vote") == []
    session.cluster.reset("azure-vote")  # silent
    session.cluster.cleanup("azure-vote")
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "not run (plan only, no cluster yet): kubectl get nodes",
        "not run (plan only, no cluster yet): kubectl apply -f - (manifests/viewer.yaml: "
        "ServiceAccount vote-viewer, RoleBinding vote-viewer)",
        "not run (plan only, no cluster yet): list pods",
        "not run (plan only, no cluster yet): kubectl delete namespace azure-vote "
        "--ignore-not-found --wait=false"]
    assert session.runner.transcript.entries == []


def test_keep_leaves_the_namespace_and_says_so(capsys):
    kept = load(ROOT / "environments" / "aks-dev.yaml", {"keep": True})
    Session(kept, "01-overview").cluster.cleanup("azure-vote")
    assert capsys.readouterr().out == "keep: true, namespace azure-vote left in place\n"
    Session(kept, "04-maintenance").cluster.cleanup("kured", "azure-vote",
                                                    cluster_objects=["clusterrole/kured"])
    assert capsys.readouterr().out == "keep: true, namespaces kured, azure-vote left in place\n"


@pytest.mark.cluster
def test_cleanup_deletes_its_namespaces_in_one_call_and_a_run_waits_for_them(
        local_cluster, k8s, tmp_path, monkeypatch, capsys):
    names = [f"t-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for name in names:
        k8s.CoreV1Api().create_namespace({"metadata": {"name": name}})
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path))
    session = Session(load(LOCAL), "01-overview")
    session.cluster.cleanup(*names)
    assert (f"$ kubectl delete namespace {names[0]} {names[1]} --ignore-not-found --wait=false"
            in capsys.readouterr().out)
    # not gone yet: the namespace controller waits 5 s before its first pass over each
    assert k8s.CoreV1Api().read_namespace(names[0]).status.phase == "Terminating"
    assert terminating.pending(tmp_path) == {str(session.kubeconfig): names}
    assert terminating.Wait(tmp_path).left() == []
    left = {ns.metadata.name for ns in k8s.CoreV1Api().list_namespace().items}
    assert not left & set(names)


@pytest.mark.cluster
def test_a_namespace_that_does_not_go_fails_the_run_and_is_named(
        local_cluster, k8s, tmp_path, monkeypatch):
    held = f"t-{uuid.uuid4().hex[:8]}"
    k8s.CoreV1Api().create_namespace(
        {"metadata": {"name": held, "finalizers": ["aks-runbook.test/hold"]}})
    smoke = nbformat.read(NOTEBOOKS / "00-smoke.ipynb", as_version=4)
    start = next(i for i, cell in enumerate(smoke.cells) if "nb.start(" in cell.source)
    smoke.cells[start + 1:] = [nbformat.v4.new_code_cell(
        f'session.cluster.cleanup("{held}")')]
    (tmp_path / "book").mkdir()
    nbformat.write(smoke, tmp_path / "book" / "00-smoke.ipynb")
    monkeypatch.setattr(terminating, "TIMEOUT", 3)
    try:
        result = runs.run(LOCAL, directory=tmp_path / "book", runs_root=tmp_path / "runs")
    finally:
        k8s.CoreV1Api().patch_namespace(held, {"metadata": {"finalizers": None}})
        for run_folder in (tmp_path / "runs").glob("*/*"):
            terminating.Wait(run_folder).left()  # the held namespace gone before the next test
    assert [n.status for n in result.notebooks] == ["passed"]
    assert not result.ok and len(result.left_behind) == 1 and held in result.left_behind[0]
    message = runs.failure_message(result)
    assert held in message and "still there 3 s after the last chapter" in message
    summary = json.loads((result.folder / "summary.json").read_text())
    assert summary["ok"] is False and summary["left_behind"] == result.left_behind


def test_a_namespace_left_behind_is_named_without_kubectls_log_lines():
    # what kubectl wait printed when its timeout cut a watch short (seen in a suite run): the
    # client library's log line is no namespace left behind; kubectl's own error is
    log = ('E1208 03:19:26.844526    6012 reflector.go:227] "Failed to watch" '
           'err="context deadline exceeded"')
    error = "error: timed out waiting for the condition on namespaces/t-held"
    assert terminating.verdict(["t-held"], 1, f"{log}\n{error}\n") == [error]
    assert terminating.verdict(["t-a", "t-b"], 1, log) == ["t-a, t-b: kubectl wait exited 1"]
    assert terminating.verdict(["t-a"], 0, log) == []


def test_notebook_cells_hold_steps_not_target_decisions():
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert "has_cluster" not in cell.source, (path.name, cell.source)


def test_agreement_names_every_cell_that_differs():
    import pandas as pd

    from aks_runbook.notebook.access import agreement

    matrix = pd.DataFrame({"get pods": ["yes", "no"], "get secrets": ["no", "no"]},
                          index=["alice", "eve"])
    assert agreement(matrix, matrix.copy(), "analysis") == \
        "analysis agrees with the SubjectAccessReview on all 4 cells"
    other = matrix.copy()
    other.loc["eve", "get secrets"] = "yes"
    assert agreement(matrix, other, "analysis") == (
        "analysis DISAGREES on 1 of 4 cells:\n  eve / get secrets: SubjectAccessReview no, "
        "analysis yes")
    assert agreement(matrix, {("alice", "get pods"): "yes"}, "can-i").endswith("on all 1 cells")
    assert agreement(pd.DataFrame(), {}, "can-i") == \
        "can-i: not compared (plan only, no cluster yet)"


def test_access_reviews_carry_the_groups_the_api_server_adds():
    from aks_runbook.notebook.access import access_review

    user = access_review({"user": "carol@example.com", "groups": ["devs"]},
                          "create deployments.apps", "team")["spec"]
    assert user["groups"] == ["devs", "system:authenticated"]
    assert user["resourceAttributes"] == {"namespace": "team", "verb": "create", "group": "apps",
                                          "resource": "deployments", "subresource": ""}
    account = access_review({"user": "system:serviceaccount:team:app"}, "create pods/exec",
                             "team")["spec"]
    assert account["groups"] == ["system:authenticated", "system:serviceaccounts",
                                 "system:serviceaccounts:team"]
    assert account["resourceAttributes"]["subresource"] == "exec"


def test_the_terminal_shows_one_progress_bar_and_nothing_else(local_cluster, tmp_path):
    script = ("from pathlib import Path\nfrom aks_runbook.run import chapters as runs\n"
              f"r = runs.run(Path({str(LOCAL)!r}), directory=Path({str(NOTEBOOKS)!r}), "
              f"runs_root=Path({str(tmp_path)!r}))\nassert r.ok")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout == ""
    pieces = [p.strip() for p in out.stderr.replace("\r", "\n").splitlines() if p.strip()]
    assert pieces and all(p.startswith("run local:") for p in pieces), pieces
    assert "100%" in pieces[-1] and "cell" in pieces[-1]
    folder = next(tmp_path.glob("local/*Z"))
    assert (folder / "00-smoke.ipynb").is_file() and (folder / "summary.json").is_file()


def test_each_chapter_starts_warm_and_no_kernel_outlives_the_run(tmp_path):
    # The next chapter's kernel starts (and imports its modules) while the one before runs;
    # it binds no name, and a chapter that never runs leaves no kernel behind.
    book = tmp_path / "book"
    book.mkdir()
    cells = {"01-warm": ['import sys\nprint("colorsys" in sys.modules, "colorsys" in dir())',
                         "import colorsys"],
             "02-fails": ['raise RuntimeError("stop here")'],
             "03-never": ["import json"]}
    for name, sources in cells.items():
        write_notebook(book / f"{name}.ipynb", *sources)
    result = runs.run(LOCAL, directory=book, runs_root=tmp_path / "runs")
    assert [n.status for n in result.notebooks] == ["passed", "failed", "not run"]
    assert "True False" in text_of(result.folder / "01-warm.ipynb")
    assert _kernels() == []


def _kernels() -> list[psutil.Process]:
    """This process's kernels, started or forked."""
    return kernels(psutil.Process().children(recursive=True))


def test_chapter_kernels_are_forked_and_behave_like_started_ones(tmp_path):
    # Each chapter's kernel is forked from a server that imported ipykernel and the kubernetes
    # client: it runs in the notebook's folder, with the run's environment, leads its own
    # session (an interrupt reaches its process group) and knows its real parent (so it prints
    # no console banner, and stops if that parent dies). Nothing that looks at its front end
    # when imported came from the server (tqdm, ipywidgets, the package), except pandas and
    # matplotlib, which the server imports as inside a kernel: pandas' display default is a
    # started kernel's (20 columns; 0, fit the terminal, elsewhere), matplotlib's backend the
    # kernel's inline one, and a figure shows as an image, not as its text. Its debugger is
    # there, as in a started kernel; what the server imported is kept out of the kernel's
    # garbage collections (frozen), which would otherwise copy the memory it shares.
    book = tmp_path / "book"
    book.mkdir()
    probe = ("import os, psutil, sys\n"
             "from ipykernel.kernelapp import IPKernelApp\n"
             "print(os.getcwd(), os.getpgid(0) == os.getpid(),\n"
             "      IPKernelApp.instance().parent_handle == int(os.environ['JPY_PARENT_PID']),\n"
             "      'AKS_RUNBOOK_RUN_DIR' in os.environ,\n"
             "      'forkserver' in ' '.join(psutil.Process().parent().cmdline()),\n"
             "      [m for m in ('tqdm', 'ipywidgets', 'aks_runbook.notebook')\n"
             "       if m in sys.modules],\n"
             "      sys.modules['pandas'].get_option('display.max_columns'),\n"
             "      'matplotlib.pyplot' in sys.modules,\n"
             "      dict.__getitem__(sys.modules['matplotlib'].rcParams, 'backend'),\n"
             "      hasattr(get_ipython().kernel, 'debugger'),\n"
             "      __import__('gc').get_freeze_count() > 0)")
    draw = ("import matplotlib.pyplot as plt\n"
            "figure, axes = plt.subplots()\n"
            "axes.plot([0, 1])")
    write_notebook(book / "01-probe.ipynb", probe, draw)
    result = runs.run(LOCAL, directory=book, runs_root=tmp_path / "runs")
    assert result.ok, result.notebooks
    executed = result.folder / "01-probe.ipynb"
    assert (f"{book} True True True True [] 20 True "
            "module://matplotlib_inline.backend_inline True True") in text_of(executed)
    outputs = nbformat.read(executed, as_version=4).cells[-1].outputs
    assert any("image/png" in output.get("data", {}) for output in outputs), outputs
    assert _kernels() == []


def test_a_folder_with_a_matplotlibrc_gets_a_kernel_started_anew(tmp_path):
    # matplotlib reads a matplotlibrc in the working folder when it is imported: the fork
    # server imported it elsewhere, so such a folder's kernel is started the usual way
    book = tmp_path / "book"
    book.mkdir()
    (book / "matplotlibrc").write_text("figure.dpi: 42\n")
    probe = ("import psutil, matplotlib\n"
             "print('forkserver' in ' '.join(psutil.Process().parent().cmdline()),\n"
             "      matplotlib.rcParams['figure.dpi'])")
    write_notebook(book / "01-probe.ipynb", probe)
    result = runs.run(LOCAL, directory=book, runs_root=tmp_path / "runs")
    assert result.ok, result.notebooks
    assert "False 42.0" in text_of(result.folder / "01-probe.ipynb")
    assert _kernels() == []
