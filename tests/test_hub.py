"""The training hub's parts without a browser: the logins provisioning hands out, the
authenticator that checks them, the sandbox an attendee's server runs in, and the relays that
are its only way out. The whole hub in Chromium: tests/test_hub_browser.py."""

from __future__ import annotations

import asyncio
import csv
import json
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from aks_runbook.training import logins
from aks_runbook.training.hub import relay, sandbox
from aks_runbook.training.hub.authenticator import RosterAuthenticator
from aks_runbook.training.hub.serve import Hub, HubError

ROOT = Path(__file__).resolve().parents[1]


def _handout(folder: Path) -> dict[str, str]:
    with open(folder / logins.HANDOUT) as handle:
        return {row["name"]: row["password"] for row in csv.DictReader(handle)}


def test_provisioning_hands_out_one_private_password_each_and_keeps_them(tmp_path):
    assert logins.ensure(tmp_path, ["ann", "bob"]) == ["ann", "bob"]
    first = _handout(tmp_path)
    assert set(first) == {"ann", "bob"} and first["ann"] != first["bob"]
    assert min(len(p) for p in first.values()) >= 16
    for name in (logins.HANDOUT, logins.LOGINS):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    stored = (tmp_path / logins.LOGINS).read_text()
    assert first["ann"] not in stored and first["bob"] not in stored  # hashes only

    assert logins.ensure(tmp_path, ["ann", "bob", "cy"]) == ["cy"]  # a late-comer
    second = _handout(tmp_path)
    assert second["ann"] == first["ann"] and second["bob"] == first["bob"]

    (tmp_path / logins.HANDOUT).write_text(f"name,password\nann,{first['ann']}\n")
    assert logins.ensure(tmp_path, ["ann", "bob"]) == ["bob"]  # lost line: a new password
    assert _handout(tmp_path)["bob"] != first["bob"]


def _authenticator(folder: Path, **settings) -> RosterAuthenticator:
    return RosterAuthenticator(logins_file=str(folder / logins.LOGINS),
                               admin_login=logins.entry("the trainer's password"), **settings)


def _login(authenticator, name, password, address="192.0.2.10"):
    handler = SimpleNamespace(request=SimpleNamespace(remote_ip=address))
    return asyncio.run(authenticator.authenticate(handler, {"username": name,
                                                            "password": password}))


def test_the_hub_accepts_exactly_the_handout_and_the_trainer(tmp_path):
    logins.ensure(tmp_path, ["ann", "bob"])
    given = _handout(tmp_path)
    hub = _authenticator(tmp_path)
    assert _login(hub, "ann", given["ann"]) == {"name": "ann", "admin": False}
    assert _login(hub, "trainer", "the trainer's password") == {"name": "trainer",
                                                                  "admin": True}
    refused = [("ann", given["bob"]), ("ann", ""), ("eve", given["ann"]),
               ("ANN", given["ann"]), ("trainer", given["ann"]), ("", "")]
    assert [_login(hub, name, password, f"192.0.2.{n}")
            for n, (name, password) in enumerate(refused)] == [None] * len(refused)
    assert hub.check_allowed("bob") and hub.check_allowed("trainer")
    assert not hub.check_allowed("eve")


def test_failed_logins_lock_the_name_and_the_address_even_for_the_right_password(tmp_path):
    logins.ensure(tmp_path, ["ann", "bob", "cy"])
    given = _handout(tmp_path)
    hub = _authenticator(tmp_path, max_failures=3, max_failures_per_address=5,
                         lockout_seconds=60)
    for _ in range(3):
        assert _login(hub, "ann", "guess", "192.0.2.1") is None
    assert _login(hub, "ann", given["ann"], "192.0.2.2") is None  # the name is locked
    # A class behind one address: others' typos there do not lock bob out yet ...
    assert _login(hub, "bob", given["bob"], "192.0.2.1") == {"name": "bob", "admin": False}
    for _ in range(2):
        assert _login(hub, "eve", "guess", "192.0.2.1") is None
    # ... until the address's own limit: then nobody gets in from it
    assert _login(hub, "cy", given["cy"], "192.0.2.1") is None
    assert _login(hub, "cy", given["cy"], "192.0.2.3") == {"name": "cy", "admin": False}
    hub.lockout_seconds = 0  # the window has passed
    assert _login(hub, "ann", given["ann"], "192.0.2.2") == {"name": "ann", "admin": False}


def test_a_teardown_revokes_every_login_at_once(tmp_path):
    logins.ensure(tmp_path, ["ann"])
    given = _handout(tmp_path)
    hub = _authenticator(tmp_path)
    assert _login(hub, "ann", given["ann"])
    assert logins.revoke(tmp_path) == [tmp_path / logins.LOGINS, tmp_path / logins.HANDOUT]
    assert _login(hub, "ann", given["ann"]) is None
    user = SimpleNamespace(name="ann")
    assert asyncio.run(hub.refresh_user(user)) is False  # logged out at the next refresh
    assert _login(hub, "trainer", "the trainer's password")  # the trainer still gets in


def test_an_unknown_name_costs_one_scrypt_like_a_known_one(tmp_path, monkeypatch):
    logins.ensure(tmp_path, ["ann"])
    hub = _authenticator(tmp_path)
    calls = []
    real = __import__("hashlib").scrypt
    monkeypatch.setattr("hashlib.scrypt", lambda *a, **k: calls.append(k["n"]) or real(*a, **k))
    _login(hub, "ann", "wrong")
    _login(hub, "nobody", "wrong")
    assert calls == [2**14, 2**14]


@pytest.fixture
def home(tmp_path):
    """An attendee's home, another attendee's credentials, a state folder with an admin
    kubeconfig, all as the hub lays them out."""
    training = tmp_path / "training"
    for name in ("ann", "bob"):
        (training / name / "home").mkdir(parents=True)
        (training / name / "kubeconfig").write_text(f"{name}'s token")
    (training / "ann" / "home" / "kubeconfig").write_text("ann's token")
    (training / logins.HANDOUT).write_text("name,password\n")
    state = tmp_path / "state"
    (state / "local").mkdir(parents=True)
    (state / "local" / "kubeconfig").write_text("admin")
    sockets = tmp_path / "sockets"
    sockets.mkdir()
    return SimpleNamespace(training=training, state=state, sockets=sockets,
                           path=training / "ann" / "home")


def _in_sandbox(home, code: str) -> subprocess.CompletedProcess:
    argv = sandbox.command(home.path, Path("/home/ann"), home.sockets, ROOT,
                           [home.state, home.training])
    return subprocess.run(argv + [sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=60)


def test_an_attendee_sees_their_home_and_none_of_the_others_or_the_trainers(home):
    secrets = [home.training / "bob" / "kubeconfig", home.training / logins.HANDOUT,
               home.state / "local" / "kubeconfig", ROOT / ".state", ROOT / "runs",
               Path("/home/bob"), Path("/etc/shadow"), Path.home() / ".kube"]
    done = _in_sandbox(home, f"""
        import os, json
        paths = {[str(p) for p in secrets]!r}
        print(json.dumps({{
            "others": [p for p in paths if os.path.exists(p)],
            "trainer's home": sorted(os.listdir("{Path.home()}"))
                              if os.path.isdir("{Path.home()}") else [],
            "own": open("/home/ann/kubeconfig").read(),
            "cwd": os.getcwd(),
            "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        }}))
        open("/home/ann/notes.txt", "w").write("mine")
        try:
            open("{ROOT / 'lib' / 'new.py'}", "w")
        except OSError as error:
            print("project:", error.strerror)
        import aks_runbook.params  # the project's code and venv are there, read-only
    """)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[0])
    assert seen["others"] == []
    python = Path(sys.base_prefix)  # read-only, and the only thing of the trainer's home
    assert seen["trainer's home"] == ([python.relative_to(Path.home()).parts[0]]
                                      if Path.home() in python.parents else [])
    assert seen["own"] == "ann's token" and seen["cwd"] == "/home/ann"
    assert len(seen["processes"]) <= 3  # its own pid namespace: bwrap's init, python
    assert done.stdout.splitlines()[1] == "project: Read-only file system"
    assert (home.path / "notes.txt").read_text() == "mine"


def _listening() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server, server.getsockname()[1]


def test_the_sandbox_reaches_only_what_the_relays_forward(home):
    relayed, relayed_port = _listening()
    other, other_port = _listening()  # e.g. another attendee's server, the proxy's API
    code = f"""
        import socket
        for port in ({relayed_port}, {other_port}):
            probe = socket.socket()
            probe.settimeout(5)
            try:
                probe.connect(("127.0.0.1", port))
                print(port, "connected")
            except OSError as error:
                print(port, error.strerror)
    """
    argv = sandbox.command(home.path, Path("/home/ann"), home.sockets, ROOT,
                           [home.state, home.training])
    inside = [sys.executable, "-m", "aks_runbook.training.hub.relay",
              f"--tcp={relayed_port}={sandbox.SOCKETS / 'api.sock'}", "--",
              sys.executable, "-c", textwrap.dedent(code)]

    async def run() -> str:
        outside = await relay.unix_to_tcp(home.sockets / "api.sock", relayed_port)
        process = await asyncio.create_subprocess_exec(*argv, *inside,
                                                       stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        outside.close()
        return out.decode()

    try:
        assert asyncio.run(run()).splitlines() == [f"{relayed_port} connected",
                                                   f"{other_port} Connection refused"]
    finally:
        relayed.close()
        other.close()


def test_the_hub_names_what_is_missing_before_it_starts_anything(tmp_path):
    hub = Hub(tmp_path / "training", tmp_path / "state", ROOT, port=70000, idle_timeout=5,
              certfile=tmp_path / "cert.pem")
    with pytest.raises(HubError) as error:
        hub.start()
    message = str(error.value)
    for expected in ("no logins in", "training provision", "--port 70000",
                     "--idle-timeout 5", "--certfile and --keyfile go together",
                     "cert.pem: no such file"):
        assert expected in message
    assert not (tmp_path / "state").exists()
