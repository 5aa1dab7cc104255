"""Test-session setup shared by the tests and the notebooks (nbval).

Everything runs against a local cluster of the session's own, in a temporary state
directory, so `make test` never touches the cluster that `make run` uses. Notebook kernels
inherit AKS_RUNBOOK_STATE and so use the same cluster; it is removed when the session ends.

`make test` runs the suite on three pytest-xdist workers (`--dist loadfile`: a file's tests,
and so a notebook's cells, stay on one worker), each with a cluster of its own. The files
that take longest are handed out first (`--no-loadscope-reorder` keeps this order; xdist
would otherwise start with the files of most tests and leave a long one for the end, with
the other workers idle).

Tests run in random order (pytest-randomly; the seed is printed at the start and the end,
rerun with `-p randomly --randomly-seed=N`), but a notebook's cells share one kernel: they
stay together and in their order, the notebook taking the place its first cell was given.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time

import pytest
from nbval.plugin import IPyNbCell

OWNED = "AKS_RUNBOOK_TEST_OWNS_STATE"  # set when this session made the state directory
# The longest files, longest first (seconds of test time on 2 cores, bench/README.md); the
# others follow in random order. Only the order of handing out depends on this list.
LONGEST_FIRST = [
    "tests/test_browser.py",
    "tests/test_notebooks.py",
    "tests/test_attendee_mode.py",
    "tests/test_azvalidate.py",
    "tests/test_hub_browser.py",
    "tests/test_local_security.py",
    "tests/test_training_run.py",
    "tests/test_local_lifecycle.py",
    "tests/test_browser_ja.py",
    "tests/test_hub.py",
    "tests/test_training_teardown.py",
    "tests/test_training_provision.py",
    "tests/test_runs.py",
    "notebooks/ja/04-maintenance.ipynb",
    "notebooks/04-maintenance.ipynb",
]


def pytest_configure(config):
    # notebooks run here (papermill, nbval) show widgets as text: outputs stay comparable
    os.environ.setdefault("AKS_RUNBOOK_HEADLESS", "1")
    # Tests press Ctrl-C (SIGINT) on the lab, the hub and training runs they start. A suite
    # started in the background from a script has SIGINT ignored, which every child would
    # inherit and never stop on: give them a terminal's SIGINT.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # Under pytest-xdist each worker gets a state directory, so a local cluster, of its own:
    # tests that read cluster-wide state never see another worker's objects.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if "AKS_RUNBOOK_STATE" not in os.environ or (worker and os.environ.get(OWNED) == "1"):
        os.environ["AKS_RUNBOOK_STATE"] = tempfile.mkdtemp(
            prefix=f"aks-runbook-test-{worker + '-' if worker else ''}")
        os.environ[OWNED] = "1"
        config._aks_runbook_owns_state = True


@pytest.hookimpl(trylast=True)  # after pytest-randomly has shuffled
def pytest_collection_modifyitems(items):
    cells = {}
    for item in items:
        if isinstance(item, IPyNbCell):
            cells.setdefault(item.parent, []).append(item)
    ordered = []
    for item in items:
        if not isinstance(item, IPyNbCell):
            ordered.append(item)
        elif item.parent in cells:
            ordered.extend(sorted(cells.pop(item.parent), key=lambda cell: cell.cell_num))
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    ordered.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
    items[:] = ordered


_settled: set = set()  # notebooks whose first cell waited for a settled cluster
SETTLE_SECONDS = 120


def pytest_runtest_setup(item):
    """A notebook starts on a settled cluster. A chapter's cleanup deletes its namespaces
    without waiting, so the notebook that runs next on this worker's cluster could find one
    still terminating, its Roles and bindings still there: chapter 03's cluster-wide RBAC table
    would then show chapter 04's kured, depending on the order the files were handed out."""
    if isinstance(item, IPyNbCell) and item.parent not in _settled:
        _settled.add(item.parent)
        _wait_for_terminating_namespaces()


def _wait_for_terminating_namespaces() -> None:
    from aks_runbook.targets.local import LocalCluster

    cluster = LocalCluster()
    if not cluster.kubeconfig.exists():
        return  # no cluster yet: the notebook's first cell starts one
    deadline = time.monotonic() + SETTLE_SECONDS
    try:
        core = cluster.api().CoreV1Api()
        while any(ns.status.phase == "Terminating" for ns in core.list_namespace().items):
            if time.monotonic() > deadline:
                return  # the notebook's own reset names what does not go
            time.sleep(0.5)
    except Exception:  # noqa: BLE001 - a cluster that is not up: the notebook starts it
        return


def pytest_terminal_summary(terminalreporter, config):
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and getattr(config.option, "randomly_reorganize", False):
        terminalreporter.write_line(f"random order: rerun with -p randomly --randomly-seed={seed}")


def pytest_unconfigure(config):
    if getattr(config, "_aks_runbook_owns_state", False):
        from aks_runbook.targets.local import LocalCluster

        LocalCluster().down()
