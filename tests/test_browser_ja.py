"""The Japanese workshop in a real browser: the JupyterLab `aks-runbook lab --lang ja` starts
(its ja_JP language pack from the lock, the notebooks of notebooks/ja), opened in Debian's
Chromium. Each Japanese notebook is opened with its stored outputs and a screenshot taken
(`make screenshots` keeps them in docs/screenshots/ja/). The cells themselves run under nbval
and papermill; the English notebooks run top to bottom in tests/test_browser.py."""

from __future__ import annotations

import dataclasses
import shutil

import nbformat
import pytest

from aks_runbook import paths
from aks_runbook.notebook import lab
from test_browser import OPEN, OPEN_TIMEOUT_MS, logged_in

NOTEBOOKS = sorted((paths.project_root() / "notebooks" / "ja").glob("[0-9][0-9]-*.ipynb"))


@pytest.fixture(scope="module")
def workshop_ja(local_cluster, tmp_path_factory):
    """`aks-runbook lab --lang ja`'s server, on a copy of notebooks/ja (JupyterLab autosaves),
    with the app object exposed so the test can open each notebook in one page."""
    base = tmp_path_factory.mktemp("lab-ja")
    root = base / "notebooks"
    root.mkdir()
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, root)
    as_started = lab.workshop(paths.project_root(), base, language="ja", open_browser=False)
    assert as_started.root_dir == paths.project_root() / "notebooks" / "ja"
    server = dataclasses.replace(
        as_started, root_dir=root, home=base / "home", log=base / "server.log",
        extra_args=[*as_started.extra_args, "--LabApp.expose_app_in_browser=True"],
        env={"JUPYTER_CONFIG_DIR": str(base / "config"), "JUPYTER_DATA_DIR": str(base / "data")})
    with server:
        yield server


def _first_heading(notebook) -> str:
    first = next(c for c in nbformat.read(notebook, as_version=4).cells
                 if c.cell_type == "markdown")
    return first.source.splitlines()[0].lstrip("# ").strip()


@pytest.fixture(scope="module")
def lab_page(browser, workshop_ja):
    """One logged-in JupyterLab page for the four notebooks: the application loads once."""
    context = logged_in(browser, workshop_ja)
    page = context.new_page()
    page.goto(f"{workshop_ja.base_url}/lab/workspaces/ja")
    page.wait_for_function("window.jupyterapp !== undefined", timeout=90_000)
    yield page
    context.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_the_japanese_notebook_opens_in_a_japanese_jupyterlab(lab_page, notebook, screenshots):
    page = lab_page
    panel = f"#{page.evaluate(OPEN, [notebook.name, OPEN_TIMEOUT_MS])}"
    page.wait_for_selector(f"{panel} .jp-MarkdownOutput h1", timeout=90_000)
    menu = page.locator("#jp-MainMenu").inner_text()
    assert "ファイル" in menu and "File" not in menu, f"the menu is not Japanese: {menu!r}"
    heading = page.locator(f"{panel} .jp-MarkdownOutput h1").first.inner_text()
    assert _first_heading(notebook)[:12] in heading
    assert any("\u3040" <= ch <= "\u30ff" for ch in heading + page.locator(
        f"{panel} .jp-MarkdownOutput").nth(1).inner_text()), "no Japanese text"
    page.wait_for_timeout(1000)  # fonts and outputs settle
    folder = screenshots / "ja"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=folder / f"{notebook.stem}.png")
    assert (folder / f"{notebook.stem}.png").stat().st_size > 10_000
