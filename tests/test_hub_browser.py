"""The training hub in a real browser, as two attendees see it (issue 21): `aks-runbook training
hub` (serve.Hub) on the session's local cluster, Debian's Chromium, headless, driven by
Playwright, one browser context per attendee.

Everything the attendees do is done once, in the module's `day` fixture, both attendees side
by side (their servers start at once); the tests judge what it saw, so they hold in any order
(pytest-randomly), the teardown test too: everything else was seen before it runs.

- a wrong password is refused on the login page; the handout's password logs in;
- each attendee gets their own JupyterLab, opens chapter 01 from their home and runs its first
  cells (up to `session = nb.start(...)`) in their own namespace, training-<name>;
- attendee A's kernel finds none of B's kubeconfig, the admin kubeconfig, the state folder
  (and the project's own .state/ when there is one) or the handout ("no such file"), and reads
  its own kubeconfig;
- A's hub login does not open B's server;
- after `training teardown` neither can log in.

Screenshots (the hub's login page, an attendee's JupyterLab) go to the test's own folder, or to
AKS_RUNBOOK_SCREENSHOTS (`make screenshots`: docs/screenshots)."""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path

import psutil
import pytest

from aks_runbook import paths
from aks_runbook.training import credentials, logins, provision
from aks_runbook.training.hub import serve
from aks_runbook.training.roster import Attendee
from test_browser import CELL_OUTCOMES, OPEN

ROOT = paths.project_root()
LOCAL = ROOT / "environments" / "local.yaml"
A, B = "hubann", "hubbob"
PEOPLE = [Attendee(A), Attendee(B)]
NOTEBOOK = "01-overview.ipynb"
LAST_CELL = "session = nb.start("  # the first cells: up to and including this one
SPAWN_TIMEOUT_MS = 120_000
RUN_TIMEOUT_MS = 120_000
NO_FILE = "no such file"
OPEN_TIMEOUT_MS = 60_000  # for a kernel to be idle in a notebook just opened

# Runs the cells up to and including the first one containing `marker`; resolves with the code
# cells' outcome. Stored outputs are cleared first so nothing old is judged.
RUN_FIRST = """async ([marker, timeoutMs]) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  if (!panel || !panel.sessionContext) throw new Error('no notebook in the page');
  await panel.sessionContext.ready;
  const model = panel.content.model;
  let last = -1;
  for (let i = 0; i < model.cells.length; i++) {
    if (model.cells.get(i).sharedModel.getSource().includes(marker)) { last = i; break; }
  }
  if (last < 0) throw new Error('no cell contains ' + marker);
  await app.commands.execute('notebook:clear-all-cell-outputs');
  panel.content.activeCellIndex = last + 1;  // run-all-above: the cells before it
  const timer = new Promise(resolve => setTimeout(() => resolve('timeout'), timeoutMs));
  const finished = await Promise.race(
    [app.commands.execute('notebook:run-all-above').then(() => 'done'), timer]);
  return {finished, cells: (CELL_OUTCOMES)(model, last)};
}""".replace("CELL_OUTCOMES", CELL_OUTCOMES)

# A new code cell with `source` after cell `index`, run in the notebook's kernel; resolves
# with its outputs.
RUN_NEW_CELL = """async ([index, source, timeoutMs]) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  const model = panel.content.model;
  model.sharedModel.insertCell(index + 1, {cell_type: 'code', source});
  panel.content.activeCellIndex = index + 1;
  const timer = new Promise(resolve => setTimeout(() => resolve('timeout'), timeoutMs));
  const finished = await Promise.race(
    [app.commands.execute('notebook:run-cell').then(() => 'done'), timer]);
  const cell = model.cells.get(index + 1);
  const outputs = [];
  for (let j = 0; j < cell.outputs.length; j++) outputs.push(cell.outputs.get(j).toJSON());
  return {finished, count: cell.executionCount, outputs};
}"""


class BrowserHub(serve.Hub):
    """The hub as `aks-runbook training hub` starts it, with JupyterLab's app object exposed
    in the attendees' pages (window.jupyterapp), so the test can run cells."""

    def settings(self) -> dict:
        settings = super().settings()
        settings["singleuser_args"] = [*settings["singleuser_args"],
                                       "--LabApp.expose_app_in_browser=True"]
        return settings


@pytest.fixture(scope="module")
def classroom(local_cluster, tmp_path_factory):
    """Two attendees provisioned (logins in handout.csv) and the hub serving them on a free
    port; the hub stopped and the folder torn down at the end."""
    folder = tmp_path_factory.mktemp("hubclass") / "training"
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    provision.provision(local_cluster.api(), PEOPLE, folder, access, LOCAL, expiry=3600)
    passwords = logins.handout(folder)
    assert sorted(passwords) == [A, B]
    hub = BrowserHub(folder, tmp_path_factory.mktemp("hubstate"), ROOT, port=serve.free_port(),
                     idle_timeout=3600, admin_password=secrets.token_urlsafe(16),
                     hidden=[paths.state_dir()])
    family = []
    try:
        hub.start()
        yield {"hub": hub, "folder": folder, "passwords": passwords, "cluster": local_cluster}
        family = psutil.Process(hub.process.pid).children(recursive=True)
    finally:
        hub.stop()
        provision.teardown(local_cluster.api(), folder)
    left = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert family and not left, f"left running after the hub stopped: {left}"
    log = hub.log.read_text(errors="replace")
    for secret in [*passwords.values(), hub.admin_password]:
        assert secret not in log, "a password is in the hub's log"


def server_url(hub_url: str, name: str) -> str:
    """An attendee's server: on <name>.<the hub's host>, under /user/<name>/."""
    scheme, rest = hub_url.split("://")
    return f"{scheme}://{name}.{rest}user/{name}/"


def fill_login(page, hub_url: str, name: str, password: str) -> None:
    page.goto(f"{hub_url}hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit", no_wait_after=True)


def probe_code(paths_to_read: dict[str, str]) -> str:
    """A cell that tries to read each path and prints `label: readable` or `label: no such
    file` (or the error's name): never the content."""
    return ("import os\n"
            f"for label, path in {json.dumps(paths_to_read)}.items():\n"
            "    try:\n"
            "        os.listdir(path) if os.path.isdir(path) else open(path, 'rb').close()\n"
            "        print(f'{label}: readable')\n"
            "    except FileNotFoundError:\n"
            f"        print(f'{{label}}: {NO_FILE}')\n"
            "    except OSError as error:\n"
            "        print(f'{label}: {type(error).__name__}')\n")


def text_of(cell: dict) -> str:
    return "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                   for o in cell["outputs"])


@pytest.fixture(scope="module")
def day(classroom, browser, screenshots):
    """The attendees' morning, in the browser: what each page showed, for the tests to judge."""
    hub, folder, passwords = classroom["hub"], classroom["folder"], classroom["passwords"]
    seen: dict = {"contexts": {}, "hub url": hub.url}
    pages = {}
    for name in (A, B):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        seen["contexts"][name] = context
        pages[name] = context.new_page()

    # A: the login page, a wrong password first.
    page = pages[A]
    page.goto(f"{hub.url}hub/login")
    page.wait_for_selector("#login_submit")
    page.screenshot(path=screenshots / "hub-login.png")
    fill_login(page, hub.url, A, passwords[A][::-1] + "x")
    page.wait_for_selector(".login_error", timeout=15_000)
    seen["wrong password"] = {"url": page.url, "error": page.inner_text(".login_error"),
                              "lab": page.locator("#jp-main-dock-panel").count()}

    # Both log in with the handout's password; their servers start side by side.
    for name in (A, B):
        fill_login(pages[name], hub.url, name, passwords[name])
    for name in (A, B):
        pages[name].wait_for_url(re.compile(rf"/user/{name}/lab"), timeout=SPAWN_TIMEOUT_MS)
        pages[name].wait_for_function("() => window.jupyterapp !== undefined",
                                      timeout=SPAWN_TIMEOUT_MS)
        seen.setdefault("lab url", {})[name] = pages[name].url

    # Each opens chapter 01 from their home and runs its first cells; A then probes.
    own = f"/home/{A}/kubeconfig"
    targets = {
        f"{B}'s kubeconfig on the machine": str(folder / B / "kubeconfig"),
        f"/home/{B}/kubeconfig": f"/home/{B}/kubeconfig",
        "the admin kubeconfig": str(classroom["cluster"].kubeconfig),
        "the state folder": str(paths.state_dir()),
        "the handout": str(folder / logins.HANDOUT),
    }
    if (ROOT / ".state").is_dir():  # `make run`'s cluster, if this checkout has one
        targets["the project's .state/"] = str(ROOT / ".state")
    on_machine = {label: Path(path).exists() for label, path in targets.items()}
    on_machine.pop(f"/home/{B}/kubeconfig")
    seen["on the machine"] = on_machine
    seen["probed"] = {**targets, "own kubeconfig": own}
    for name in (A, B):
        pages[name].evaluate(OPEN, [NOTEBOOK, OPEN_TIMEOUT_MS])
    for name in (A, B):
        pages[name].evaluate(f"(args) => {{ window.aksRun = ({RUN_FIRST})(args); }}",
                             [LAST_CELL, RUN_TIMEOUT_MS])
    seen["runs"] = {name: pages[name].evaluate("async () => await window.aksRun")
                    for name in (A, B)}

    # A's JupyterLab: the injected parameters and chapter 01's session cell in view.
    page = pages[A]
    page.bring_to_front()
    session_cell = seen["runs"][A]["cells"][-1]["index"]
    page.evaluate("(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }",
                  session_cell)
    page.locator(".jp-Cell", has_text=LAST_CELL).first.evaluate(
        "cell => cell.scrollIntoView({block: 'end'})")
    page.wait_for_timeout(300)
    page.screenshot(path=screenshots / "hub-attendee-lab.png")

    # A's kernel tries to read B's, the trainer's and its own files.
    seen["probe"] = page.evaluate(RUN_NEW_CELL, [session_cell, probe_code(seen["probed"]),
                                                 RUN_TIMEOUT_MS])

    # A's hub login going to B's server, at its own host (B.localhost: each attendee's
    # server has a host of its own) and through the hub's.
    intruder = seen["contexts"][A].new_page()
    answer = intruder.goto(server_url(hub.url, B) + "lab")
    intruder.wait_for_load_state()
    seen["other server"] = {
        "status": answer.status if answer else None, "url": intruder.url,
        "text": intruder.inner_text("body")[:2000],
        "lab": intruder.locator("#jp-main-dock-panel").count(),
        "app": intruder.evaluate("() => window.jupyterapp !== undefined")}
    intruder.close()

    # The trainer: the admin page lists both attendees' running servers; opening one is refused.
    trainer = browser.new_context()
    seen["contexts"]["trainer"] = trainer
    admin = trainer.new_page()
    fill_login(admin, hub.url, "trainer", hub.admin_password)
    admin.wait_for_url(lambda url: "/hub/login" not in url, timeout=30_000)
    admin.goto(f"{hub.url}hub/admin")
    admin.wait_for_load_state("networkidle")
    seen["admin page"] = admin.inner_text("body")
    answer = admin.goto(server_url(hub.url, A) + "lab")
    admin.wait_for_load_state()
    seen["trainer at A's server"] = {"status": answer.status if answer else None,
                                     "lab": admin.locator("#jp-main-dock-panel").count()}
    yield seen
    for context in seen["contexts"].values():
        context.close()


def test_a_wrong_password_is_refused_and_the_handouts_one_logs_in(day, screenshots):
    wrong = day["wrong password"]
    assert "Invalid username or password" in wrong["error"]
    assert "/hub/login" in wrong["url"] and not wrong["lab"]
    for name in (A, B):  # each on a host of their own
        assert day["lab url"][name].startswith(server_url(day["hub url"], name) + "lab")
    assert (screenshots / "hub-login.png").stat().st_size > 10_000  # a page, not a blank


def test_each_attendee_runs_chapter_01_in_their_own_namespace(day, screenshots):
    for name in (A, B):
        run = day["runs"][name]
        assert run["finished"] == "done", f"{name}: still running after {RUN_TIMEOUT_MS} ms"
        first = run["cells"]
        unrun = [c["index"] for c in first if c["count"] is None]
        assert not unrun, f"{name}: cells {unrun} did not run"
        errors = [f"cell {c['index']} ({c['source']!r}): {o.get('ename')}: {o.get('evalue')}"
                  for c in first for o in c["outputs"] if o["output_type"] == "error"]
        errors += [f"cell {c['index']} wrote a traceback: {text_of(c)[:300]}"
                   for c in first if "Traceback" in text_of(c)]
        assert not errors, f"{name}: " + "\n".join(errors)
        session = text_of(first[-1])
        assert LAST_CELL in first[-1]["source"]
        assert f"your steps run in namespace training-{name}" in session, session[:500]
        other = B if name == A else A
        assert f"training-{other}" not in session
    assert (screenshots / "hub-attendee-lab.png").stat().st_size > 10_000


def test_attendee_a_reads_only_their_own_kubeconfig(day):
    assert all(day["on the machine"].values()), \
        f"a probed file is missing on the machine itself: {day['on the machine']}"
    run = day["probe"]
    assert run["finished"] == "done" and run["count"], run
    assert not [o for o in run["outputs"] if o["output_type"] == "error"], run
    probe = text_of(run)
    assert "readable" in probe or NO_FILE in probe, f"the probe cell printed: {probe[:500]}"
    answers = dict(line.rsplit(": ", 1) for line in probe.strip().splitlines())
    assert answers == {**{label: NO_FILE for label in day["probed"]},
                       "own kubeconfig": "readable"}


def test_attendee_a_cannot_open_bs_server(day):
    other = day["other server"]
    assert other["status"] == 403, other
    assert f"You do not have permission to access Server at /user/{B}/" in other["text"], other
    assert not other["lab"] and not other["app"], f"A sees {B}'s JupyterLab: {other['url']}"


def _answers(page, url: str) -> bool:
    """Whether the server's API answers at url for this browser (not a redirect elsewhere)."""
    answer = page.goto(url)
    return bool(answer and answer.status == 200 and page.url == url
                and '"started"' in page.content())


def test_the_trainer_sees_every_server_on_the_admin_page_but_opens_none(day):
    page = day["admin page"]
    assert A in page and B in page, page[:3000]
    assert day["trainer at A's server"] == {"status": 403, "lab": 0}


def test_after_teardown_neither_attendee_can_log_in(day, classroom, browser):
    folder, hub = classroom["folder"], classroom["hub"]
    open_lab = day["contexts"][A].new_page()  # in A's browser, still logged in
    status_url = server_url(hub.url, A) + "api/status"
    assert _answers(open_lab, status_url)
    result = provision.teardown(classroom["cluster"].api(), folder)
    assert not result.left, result.left
    assert not (folder / logins.HANDOUT).exists() and not (folder / logins.LOGINS).exists()
    # The hub's revoker deletes A from the hub within seconds: the open JupyterLab's server
    # is stopped and its cookie no longer lets anything through.
    deadline = time.monotonic() + 30
    while _answers(open_lab, status_url):
        assert time.monotonic() < deadline, "A's open JupyterLab still answers 30 s after teardown"
        time.sleep(1)
    context = browser.new_context()
    page = context.new_page()
    try:
        for name in (A, B):
            fill_login(page, hub.url, name, classroom["passwords"][name])
            page.wait_for_selector(".login_error", timeout=15_000)
            assert "Invalid username or password" in page.inner_text(".login_error"), name
            assert "/hub/login" in page.url and f"/user/{name}/" not in page.url
    finally:
        context.close()
