"""Test-session setup shared by the tests and the notebooks (nbval).

Everything runs against a local cluster of the session's own, in a temporary state
directory, so `make test` never touches the cluster that `make run` uses. Notebook kernels
inherit AKS_RUNBOOK_STATE and so use the same cluster; it is removed when the session ends.
"""

from __future__ import annotations

import os
import tempfile


def pytest_configure(config):
    if "AKS_RUNBOOK_STATE" not in os.environ:
        os.environ["AKS_RUNBOOK_STATE"] = tempfile.mkdtemp(prefix="aks-runbook-test-")
        config._aks_runbook_owns_state = True


def pytest_unconfigure(config):
    if getattr(config, "_aks_runbook_owns_state", False):
        from aks_runbook.targets.local import LocalCluster

        LocalCluster().down()
