"""The workshop in a real browser, as an attendee sees it: JupyterLab on 127.0.0.1 (the same
server `aks-runbook lab` starts), Debian's Chromium, headless, driven by Playwright. Each
notebook is run top to bottom against the session's local cluster; no cell may end in an error,
every widget must render, the reachability explorer must answer for a picked pod pair, and a
screenshot of each notebook is taken: into the test's own folder, so the suite changes no
tracked file; `make screenshots` sets AKS_RUNBOOK_SCREENSHOTS=docs/screenshots to refresh the
ones the README shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from aks_runbook import paths
from aks_runbook.notebook import lab

ROOT = paths.project_root()
RUN_TIMEOUT_MS = 420_000
# Notebooks of one lane run one after the other, lanes side by side (see `runs`).
LANES = [["01-overview", "02-network", "04-maintenance"], ["03-auth"]]

PICKER = "aks-environment-picker"
# The widgets each notebook shows (outer containers' CSS classes).
WIDGETS = {
    "01-overview": [PICKER],
    "02-network": [PICKER, "aks-reachability-explorer"],
    "03-auth": [PICKER, "aks-whocan-explorer"],
    "04-maintenance": [PICKER, "aks-upgrade-timeline"],
}

# Opens a notebook in a tab of the page's JupyterLab (window.jupyterapp), in front, and resolves
# with its panel's id once its kernel is idle (also the hub's and the Japanese browser tests').
OPEN = """async ([path, timeoutMs]) => {
  const app = window.jupyterapp;
  await app.restored;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  app.shell.activateById(panel.id);
  await panel.context.ready;
  await panel.sessionContext.ready;
  const deadline = Date.now() + timeoutMs;
  while (panel.sessionContext.session?.kernel?.status !== 'idle') {
    if (Date.now() > deadline) {
      throw new Error(`${path}: the kernel is not idle after ${timeoutMs / 1000} s`);
    }
    await new Promise(r => setTimeout(r, 200));
  }
  return panel.id;
}"""
OPEN_TIMEOUT_MS = 90_000

# The outcome of a notebook's code cells up to cell `last`: what the browser tests judge.
CELL_OUTCOMES = """(model, last) => {
  const cells = [];
  for (let i = 0; i <= last; i++) {
    const cell = model.cells.get(i);
    if (cell.type !== 'code') continue;
    const outputs = [];
    for (let j = 0; j < cell.outputs.length; j++) outputs.push(cell.outputs.get(j).toJSON());
    cells.push({index: i, count: cell.executionCount, outputs,
                source: cell.sharedModel.getSource().slice(0, 80)});
  }
  return cells;
}"""

# Runs all cells of a notebook and resolves with the code cells' outcome once the last one has
# run (or the run stopped at an error). Stored outputs are cleared first so nothing old is
# judged. The notebook commands act on the tab in front, and the test opens other tabs
# meanwhile: each command is given in the same task that brought this one to the front.
RUN_ALL = """async ([id, timeoutMs]) => {
  const app = window.jupyterapp;
  const front = async () => {
    for (let tries = 0; app.shell.currentWidget?.id !== id; tries++) {
      if (tries === 100) throw new Error('notebook ' + id + ' did not come to the front');
      app.shell.activateById(id);
      await new Promise(r => setTimeout(r, 100));
    }
    return app.shell.currentWidget;
  };
  const panel = await front();
  await panel.sessionContext.ready;
  await front();
  await app.commands.execute('notebook:clear-all-cell-outputs');
  await front();
  const run = app.commands.execute('notebook:run-all-cells');
  const timer = new Promise(resolve => setTimeout(() => resolve('timeout'), timeoutMs));
  const finished = await Promise.race([run.then(() => 'done'), timer]);
  const cells = (CELL_OUTCOMES)(panel.content.model, panel.content.model.cells.length - 1);
  return {finished, kernel: panel.sessionContext.session?.kernel?.status, cells};
}""".replace("CELL_OUTCOMES", CELL_OUTCOMES)


@pytest.fixture(scope="module")
def workshop(local_cluster, tmp_path_factory):
    """JupyterLab on a copy of the notebooks (it autosaves), with settings, config and runtime
    files of its own; the app object exposed so the test can run all cells."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    root.mkdir()
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, root)
    settings = dict(lab.SETTINGS)
    # Every cell stays in the page, not only those scrolled into view.
    settings["@jupyterlab/notebook-extension/tracker.jupyterlab-settings"] = {
        "windowingMode": "none"}
    server = lab.Lab(root_dir=root, home=base / "home", settings=settings,
                     extra_args=["--LabApp.expose_app_in_browser=True"],
                     env={"JUPYTER_CONFIG_DIR": str(base / "config"),
                          "JUPYTER_DATA_DIR": str(base / "data")},
                     log=base / "server.log")
    with server:
        yield server
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert server.token not in log
    assert "without encryption" not in log, "a kernel warned that it talks over plain TCP"


def logged_in(browser, workshop):
    """A browser context logged in by typing the token into the login form (so it is never
    part of a URL, which error messages would show)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{workshop.base_url}/login")
    page.fill("input[type=password]", workshop.token)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r"/(lab|tree)"))
    page.close()
    return context


def start_run(page, name: str, panel: str) -> None:
    page.evaluate(f"([name, id]) => {{ (window.aksRuns ??= {{}})[name] = "
                  f"({RUN_ALL})([id, {RUN_TIMEOUT_MS}]); }}", [name, panel])


@pytest.fixture(scope="module")
def runs(browser, workshop):
    """Every notebook run top to bottom, each in its own tab and kernel, in one JupyterLab page
    (the application loads once). Chapter 03 works in a namespace of its own, so it runs
    beside the others; 01, 02 and 04 share the azure-vote namespace (each resets it) and run
    one after the other. The tabs that wait are opened while the first ones run."""
    context = logged_in(browser, workshop)
    page = context.new_page()
    page.goto(f"{workshop.base_url}/lab/workspaces/browser-test")
    page.wait_for_function("window.jupyterapp !== undefined", timeout=90_000)
    panels, results, running = {}, {}, set()
    for lane in LANES:
        panels[lane[0]] = page.evaluate(OPEN, [f"{lane[0]}.ipynb", OPEN_TIMEOUT_MS])
        start_run(page, lane[0], panels[lane[0]])
        running.add(lane[0])
    for lane in LANES:
        for name in lane[1:]:
            panels[name] = page.evaluate(OPEN, [f"{name}.ipynb", OPEN_TIMEOUT_MS])
    while running:
        for name in sorted(running):
            result = page.evaluate("async (name) => await Promise.race([window.aksRuns[name], "
                                   "new Promise(r => setTimeout(r, 500))])", name)
            if result:
                results[name] = result
                running.discard(name)
                lane = next(lane for lane in LANES if name in lane)
                if lane.index(name) + 1 < len(lane):
                    following = lane[lane.index(name) + 1]
                    running.add(following)
                    start_run(page, following, panels[following])
    yield {name: (results[name], page, f"#{panels[name]}") for name in results}
    context.close()


def errors_of(result: dict) -> list[str]:
    problems = []
    for cell in result["cells"]:
        for output in cell["outputs"]:
            text = "".join(output.get("text", ""))
            if output["output_type"] == "error":
                problems.append(f"cell {cell['index']} ({cell['source']!r}): "
                                f"{output['ename']}: {output['evalue']}")
            # stderr may be a command's own refusal that the chapter shows on purpose.
            elif output.get("name") == "stderr" and "Traceback" in text:
                problems.append(f"cell {cell['index']} wrote to stderr: {text[:300]}")
    return problems


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_notebook_runs_in_the_browser(runs, name, screenshots):
    result, page, panel = runs[name]
    assert result["finished"] == "done", f"{name}: still running after {RUN_TIMEOUT_MS} ms"
    assert not errors_of(result), f"{name}: " + "\n".join(errors_of(result))
    unrun = [c["index"] for c in result["cells"] if c["count"] is None]
    assert not unrun, f"{name}: cells {unrun} did not run"
    page.evaluate("(id) => window.jupyterapp.shell.activateById(id)", panel[1:])
    page.wait_for_timeout(500)  # widget views render after the kernel's last message
    assert page.get_by_text("Jupyter news").count() == 0, "the news pop-up is shown"
    broken = page.locator(f"{panel} .jp-OutputArea-output", has_text="Error displaying widget")
    assert broken.count() == 0, f"{name}: a widget failed to display"

    # The chapter's own widget in view (its last in WIDGETS), or else the notebook's top.
    shown = page.locator(f"{panel} .{WIDGETS[name][-1]}").first
    (shown if shown.count() else page.locator(f"{panel} .jp-Cell").first
     ).scroll_into_view_if_needed()
    page.screenshot(path=screenshots / f"{name}.png")
    assert (screenshots / f"{name}.png").stat().st_size > 10_000  # a page, not a blank

    missing = [w for w in WIDGETS[name] if page.locator(f"{panel} .{w}").count() == 0]
    assert not missing, f"{name}: widgets not rendered: {missing}"
    for widget in WIDGETS[name]:
        assert page.locator(f"{panel} .{widget}").first.is_visible(), f"{name}: {widget} hidden"
    if name == "02-network":
        pick_a_pod_pair(page.locator(panel), page, screenshots)


def pick_a_pod_pair(notebook, page, screenshots: Path):
    """Swap the explorer's first pod pair (pods come first in both lists, outside ranges after
    them): source the second pod, destination the first. The answer must follow, naming the pair
    and what is allowed between them."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    explorer = notebook.locator(".aks-reachability-explorer").first
    selects = explorer.locator(".widget-dropdown select")
    assert selects.count() >= 2, "the reachability explorer has no source/destination dropdowns"
    source, destination = selects.nth(0), selects.nth(1)
    pods = source.locator("option").all_inner_texts()
    assert len(pods) >= 2, "too few pods to pick from"
    answer = explorer.locator(".aks-answer")
    source.select_option(index=1)
    destination.select_option(index=0)
    head = f"{pods[1].strip()} -> {pods[0].strip()}: "
    try:
        page.wait_for_function("([el, head]) => el.innerText.trim().startsWith(head)",
                               arg=[answer.element_handle(), head], timeout=15_000)
    except PlaywrightTimeout:
        pytest.fail(f"no answer for the picked pair {head!r}; it says: {answer.inner_text()}")
    text = answer.inner_text().strip()
    assert "allowed" in text.splitlines()[0], f"the answer has no verdict: {text[:200]}"
    explorer.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "02-network-reachability-explorer.png")
