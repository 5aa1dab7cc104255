"""`aks-runbook lab`, as an attendee starts it: it prints one address with a token, listens on
127.0.0.1 only (its kernels too), turns away requests without the token, shows the notebooks,
runs kernels with the project's Python and encrypted ZeroMQ (no plain-TCP warning), and stops
on Ctrl-C with nothing left running. The token is never put in an assertion message."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from aks_runbook.notebook import lab
from processes import command_line

URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab\?token=(\S+)")
NOTEBOOKS = {"01-overview.ipynb", "02-network.ipynb", "03-auth.ipynb", "04-maintenance.ipynb"}


class Lines:
    """The command's output, read in a thread so a silent command cannot hang the test."""

    def __init__(self, stream):
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self._queue.put(line)

    def until(self, pattern: re.Pattern, timeout: float) -> re.Match | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            self.seen.append(line)
            if match := pattern.search(line):
                return match
        return None

    def drain(self) -> str:
        while not self._queue.empty():
            self.seen.append(self._queue.get())
        return "".join(self.seen)


@pytest.fixture
def lab_command(local_cluster, tmp_path):
    env = dict(os.environ, JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               AKS_RUNBOOK_HEADLESS="1")  # the lab must not pass it on to its kernels
    process = subprocess.Popen(
        [sys.executable, "-m", "aks_runbook.cli", "lab", "--no-browser"], env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process, Lines(process.stdout)
    if process.poll() is None:
        for child in psutil.Process(process.pid).children(recursive=True):
            child.kill()
        process.kill()
        process.wait()


def request(port: int, path: str, token: str | None = None, method: str = "GET"):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"token {token}"} if token else {}
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    return response.status, response.getheader("Location"), response.read()


def listening(processes) -> set[tuple[str, int]]:
    def sockets(process):
        try:
            return process.net_connections(kind="inet")
        except psutil.NoSuchProcess:  # ended: it listens on nothing
            return []

    return {(c.laddr.ip, c.laddr.port) for p in processes
            for c in sockets(p) if c.status == psutil.CONN_LISTEN}


def test_lab_listens_on_loopback_behind_a_token(lab_command):
    process, lines = lab_command
    match = lines.until(URL, timeout=180)
    assert match, "no http://127.0.0.1:<port>/lab?token=... line; output:\n" + "".join(
        line for line in lines.seen if "token=" not in line)
    port, token = int(match.group(1)), match.group(2)
    assert len(token) >= 32, "the token is too short to be generated"

    server = psutil.Process(process.pid).children(recursive=True)
    assert listening(server) == {("127.0.0.1", port)}

    status, location, _ = request(port, "/api/contents")
    assert status == 403
    status, location, _ = request(port, "/lab")
    assert status == 302 and location.startswith("/login")
    status, _, _ = request(port, "/api/contents", token="not-" + token)
    assert status == 403

    status, _, body = request(port, "/api/contents", token=token)
    assert status == 200
    assert {item["name"] for item in json.loads(body)["content"]} >= NOTEBOOKS

    # A kernel, as opening a notebook starts one: the project's Python, loopback ports only.
    status, _, body = request(port, "/api/kernels", token=token, method="POST")
    assert status == 201, body[:200]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kernels = [p for p in psutil.Process(process.pid).children(recursive=True)
                   if "ipykernel_launcher" in command_line(p)]
        if kernels and listening(kernels):
            break
        time.sleep(0.5)
    assert kernels, "no kernel process started"
    assert Path(kernels[0].cmdline()[0]).resolve() == Path(sys.executable).resolve()
    assert "AKS_RUNBOOK_HEADLESS" not in kernels[0].environ()
    addresses = {ip for ip, _ in listening(kernels)}
    assert addresses == {"127.0.0.1"}, f"the kernel listens on {addresses}"

    process.send_signal(signal.SIGINT)  # Ctrl-C
    assert process.wait(timeout=60) == 0
    assert not [p for p in server + kernels if p.is_running()], "left running after Ctrl-C"
    output = lines.drain()
    printed_twice = token in output.replace(match.group(0), "")
    assert not printed_twice, "the token was printed twice"
    # The test's own refused requests are logged (a 403 is worth a warning); nothing else.
    shown = "".join(line for line in output.replace(token, "***").splitlines(keepends=True)
                    if "403 GET" not in line and "'Forbidden'" not in line)
    for noise in ("without encryption", "Traceback", "[W ", "[E ", "[TrustNotebookApp]"):
        found = noise in shown
        assert not found, f"{noise!r} in the output:\n{shown}"


def test_lab_keeps_the_token_off_the_command_line_and_root_rights_to_root(monkeypatch, tmp_path):
    monkeypatch.setenv("AKS_RUNBOOK_HEADLESS", "1")
    server = lab.Lab(root_dir=tmp_path, home=tmp_path / "home")
    assert "--ServerApp.ip=127.0.0.1" in server.argv()
    in_argv = server.token in " ".join(server.argv())
    assert not in_argv, "the token would show in `ps`"
    env = server.environ()
    assert env["JUPYTER_TOKEN"] == server.token and "AKS_RUNBOOK_HEADLESS" not in env
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert not [arg for arg in server.argv() if "allow_root" in arg]
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert "--ServerApp.allow_root=True" in server.argv()


def test_lab_says_when_it_listens_beyond_loopback(tmp_path):
    server = lab.Lab(root_dir=tmp_path, home=tmp_path, ip="0.0.0.0", bound_port=8888)
    assert "on every network interface (--ip asked for it)" in lab.banner(server)
    assert server.base_url == "http://127.0.0.1:8888"
    assert "on 127.0.0.1 only" in lab.banner(lab.Lab(root_dir=tmp_path, home=tmp_path))
