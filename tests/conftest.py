"""One real local cluster per test session, in a state directory of its own; Debian's Chromium
for the browser tests (test_browser*.py, test_hub_browser.py)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from aks_runbook import paths
from aks_runbook.targets.local import LocalCluster

CLUSTER_FIXTURES = {"local_cluster", "k8s", "namespace"}
CHROMIUM = Path(os.environ.get("AKS_RUNBOOK_CHROMIUM", "/usr/lib/chromium/chromium"))
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster: needs the session's local cluster (set "
                                       "automatically); -m 'not cluster' runs the fast tests")
    config.addinivalue_line("markers", "slow: starts azure-cli's worker, a kernel or a notebook "
                                       "run; `make check` leaves these out")


def pytest_collection_modifyitems(items):
    for item in items:
        if CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def state_dir():
    """The session's state directory (set up by the root conftest for tests and notebooks)."""
    return paths.state_dir()


@pytest.fixture(scope="session")
def local_cluster(state_dir):
    cluster = LocalCluster()
    assert cluster.state == state_dir / "local"
    cluster.up()
    yield cluster  # removed at the end of the session (root conftest): nbval uses it too


@pytest.fixture(scope="session")
def k8s(local_cluster):
    """The real kubernetes client module, configured for the session's cluster."""
    return local_cluster.api()


@pytest.fixture
def namespace(k8s):
    """A fresh namespace per test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    core = k8s.CoreV1Api()
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Playwright (no browser download)."""
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is missing ({CHROMIUM}); install it with: "
                    "tools/ensure-system-packages.sh chromium fonts-noto-cjk (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """The test's own folder, or AKS_RUNBOOK_SCREENSHOTS (`make screenshots`: docs/screenshots)."""
    chosen = os.environ.get("AKS_RUNBOOK_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
