"""The training hub's parts without a browser: the logins provisioning hands out, the
authenticator that checks them, the sandbox an attendee's server runs in, and the relays that
are its only way out. The whole hub in Chromium: tests/test_hub_browser.py."""

from __future__ import annotations

import asyncio
import csv
import errno
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import nbformat
import psutil
import pytest
import yaml

from aks_runbook.targets import exec_seccomp
from aks_runbook.training import credentials, logins
from aks_runbook.training.hub import relay, sandbox
from aks_runbook.training.hub.authenticator import RosterAuthenticator
from aks_runbook.training.hub.serve import Hub, HubError, free_port
from aks_runbook.training.hub.spawner import SEEDS
from aks_runbook.training.hub.spawner import own as spawner_own

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


def _login(authenticator, name, password, address="192.0.2.10", peer="127.0.0.1"):
    """As through the proxy (a connection from 127.0.0.1): it appends the client's address to
    X-Forwarded-For; the client itself may send anything in X-Real-Ip and before it."""
    connection = SimpleNamespace(context=SimpleNamespace(address=(peer, 40000)))
    handler = SimpleNamespace(request=SimpleNamespace(
        remote_ip="198.51.100.8", connection=connection, headers={
            "X-Forwarded-For": f"198.51.100.7, {address}", "X-Real-Ip": "198.51.100.8"}))
    return asyncio.run(authenticator.authenticate(handler, {"username": name,
                                                            "password": password}))


def test_the_hub_accepts_exactly_the_handout_and_the_trainer(tmp_path):
    logins.ensure(tmp_path, ["ann", "bob"])
    given = _handout(tmp_path)
    hub = _authenticator(tmp_path)
    assert _login(hub, "ann", given["ann"]) == {"name": "ann"}
    assert _login(hub, "trainer", "the trainer's password") == {"name": "trainer"}
    refused = [("ann", given["bob"]), ("ann", ""), ("eve", given["ann"]),
               ("ANN", given["ann"]), ("trainer", given["ann"]), ("", "")]
    assert [_login(hub, name, password, f"192.0.2.{n}")
            for n, (name, password) in enumerate(refused)] == [None] * len(refused)
    assert hub.check_allowed("bob") and hub.check_allowed("trainer")
    assert not hub.check_allowed("eve")


def test_failed_logins_lock_the_name_from_that_address_and_then_the_address(tmp_path):
    logins.ensure(tmp_path, ["ann", "bob", "cy"])
    given = _handout(tmp_path)
    hub = _authenticator(tmp_path, max_failures=3, max_failures_per_address=5,
                         lockout_seconds=60)
    calls = []
    real = __import__("hashlib").scrypt
    for _ in range(3):
        assert _login(hub, "ann", "guess", "192.0.2.1") is None
    import hashlib
    hashlib.scrypt = lambda *a, **k: calls.append(1) or real(*a, **k)
    try:  # ann from that address: refused even with her password, and without a scrypt
        assert _login(hub, "ann", given["ann"], "192.0.2.1") is None
    finally:
        hashlib.scrypt = real
    assert calls == []
    # A stranger's guesses elsewhere do not lock ann out, nor others' typos at her address
    assert _login(hub, "ann", given["ann"], "192.0.2.2") == {"name": "ann"}
    assert _login(hub, "bob", given["bob"], "192.0.2.1") == {"name": "bob"}
    for _ in range(2):
        assert _login(hub, "eve", "guess", "192.0.2.1") is None
    # ... until the address's own limit: then nobody gets in from it
    assert _login(hub, "cy", given["cy"], "192.0.2.1") is None
    assert _login(hub, "cy", given["cy"], "192.0.2.3") == {"name": "cy"}
    hub.lockout_seconds = 0  # the window has passed
    assert _login(hub, "ann", given["ann"], "192.0.2.1") == {"name": "ann"}


def test_the_address_is_the_proxys_not_a_header_the_client_sets(tmp_path):
    logins.ensure(tmp_path, ["ann"])
    given = _handout(tmp_path)
    hub = _authenticator(tmp_path, max_failures=2)
    for _ in range(2):
        assert _login(hub, "ann", "guess", "192.0.2.1") is None
    locked = {key for key, times in hub._failures.items() if times}
    assert locked == {"name:ann@192.0.2.1", "address:192.0.2.1"}
    # Straight to the hub's port, not through the proxy: its headers are not believed
    for _ in range(2):
        assert _login(hub, "trainer", "guess", "127.0.0.1", peer="192.0.2.50") is None
    assert "name:trainer@192.0.2.50" in hub._failures
    assert _login(hub, "trainer", "the trainer's password") == {"name": "trainer"}
    # An attendee's sandbox reaches the hub from 127.0.0.2: never a login, even a right one
    assert _login(hub, "ann", given["ann"], "192.0.2.9", peer="127.0.0.2") is None


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
    kubeconfig, all as the hub lays them out, and the sandbox the spawner would start for
    ann: as a uid of her own when the tests run as root, as their user otherwise."""
    training = tmp_path / "training"
    for name in ("ann", "bob"):
        credentials.private_dir(training / name / "home")
        (training / name / "kubeconfig").write_text(f"{name}'s token")
        (training / name / "environment.yaml").write_text(f"prefix: {name}\n")
    (training / logins.HANDOUT).write_text("name,password\n")
    state = tmp_path / "state"
    (state / "local").mkdir(parents=True)
    (state / "local" / "kubeconfig").write_text("admin")
    sockets = tmp_path / "sockets"
    sockets.mkdir(mode=0o711)
    uid = sandbox.attendee_uid("ann", state / "uids.json")
    path = training / "ann" / "home"
    if uid is not None:
        spawner_own(path, uid)
    filter_path = exec_seccomp.write_filter(tmp_path / "seccomp.bpf")
    return SimpleNamespace(training=training, state=state, sockets=sockets, path=path, uid=uid,
                           seccomp=filter_path)


def _sandbox(home) -> sandbox.Command:
    return sandbox.Command(home.path, Path("/home/ann"), home.sockets, ROOT,
                           [home.state, home.training],
                           {seed: home.training / "ann" / seed for seed in SEEDS},
                           uid=home.uid, seccomp=home.seccomp)


def _in_sandbox(home, code: str, *extra: str) -> subprocess.CompletedProcess:
    box = _sandbox(home)
    try:
        return subprocess.run([*box.argv, *extra, sys.executable, "-c", textwrap.dedent(code)],
                              capture_output=True, text=True, timeout=60, pass_fds=box.fds,
                              env=dict(os.environ, HOME="/home/ann"))
    finally:
        box.close()


def test_an_attendee_sees_their_home_and_none_of_the_others_or_the_trainers(home):
    secrets = [home.training / "bob" / "kubeconfig", home.training / logins.HANDOUT,
               home.state / "local" / "kubeconfig", ROOT / ".state", ROOT / "runs",
               Path("/home/bob"), Path("/etc/shadow"), Path.home() / ".kube"]
    done = _in_sandbox(home, f"""
        import os, json, ssl
        paths = {[str(p) for p in secrets]!r}
        print(json.dumps({{
            "CA certificates": ssl.create_default_context().cert_store_stats()["x509_ca"],
            "others": [p for p in paths if os.path.exists(p)],
            "trainer's home": sorted(os.listdir("{Path.home()}"))
                              if os.path.isdir("{Path.home()}") else [],
            "seeds": open("/run/aks-runbook-seed/kubeconfig").read(),
            "cwd": os.getcwd(),
            "uid": os.getuid(),
            "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        }}))
        open("/home/ann/notes.txt", "w").write("mine")
        for path in ("{ROOT / 'lib' / 'new.py'}", "/run/aks-runbook-seed/kubeconfig",
                     "/proc/sys/kernel/core_pattern"):
            try:
                open(path, "w")
                print(path, "written")
            except OSError as error:
                print(path, error.strerror)
        import aks_runbook.params  # the project's code and venv are there, read-only
    """)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[0])
    assert seen["others"] == []
    assert seen["CA certificates"] > 0  # TLS to the API server works as the attendee
    python = Path(sys.base_prefix)  # read-only, and the only thing of the trainer's home
    assert seen["trainer's home"] == ([python.relative_to(Path.home()).parts[0]]
                                      if Path.home() in python.parents else [])
    assert seen["seeds"] == "ann's token" and seen["cwd"] == "/home/ann"
    assert seen["uid"] == (home.uid if home.uid is not None else os.getuid())
    assert seen["uid"] != 0  # never root, even when the hub is
    assert len(seen["processes"]) <= 3  # its own pid namespace: bwrap's init, python
    assert done.stdout.splitlines()[1:] == [
        f"{ROOT / 'lib' / 'new.py'} Read-only file system",
        "/run/aks-runbook-seed/kubeconfig Read-only file system",
        "/proc/sys/kernel/core_pattern Read-only file system"]  # machine-wide settings
    assert (home.path / "notes.txt").read_text() == "mine"


def test_no_capability_no_new_namespace_no_keyring_in_the_sandbox(home):
    done = _in_sandbox(home, """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        status = open("/proc/self/status").read()
        print([line.split()[1] for line in status.splitlines()
               if line.startswith(("CapEff", "CapPrm", "NoNewPrivs"))])
        for name, call in (("unshare(CLONE_NEWUSER)", lambda: libc.unshare(0x10000000)),
                           ("keyctl", lambda: libc.syscall(250, 0, -3, 0)),
                           ("clone3", lambda: libc.syscall(435, None, 0))):
            print(name, call(), ctypes.get_errno())
    """)
    assert done.returncode == 0, done.stderr
    caps, unshare, keyctl, clone3 = done.stdout.splitlines()
    # clone3's flags are out of a filter's reach: refused as if the kernel lacked it, so the
    # C library uses clone(), whose new-user-namespace flag is refused
    assert clone3 == f"clone3 -1 {errno.ENOSYS}"
    assert caps.startswith("['0000000000000000', '0000000000000000'")
    assert unshare == f"unshare(CLONE_NEWUSER) -1 {errno.EPERM}"
    assert keyctl == f"keyctl -1 {errno.EPERM}"


def test_the_home_is_made_inside_the_sandbox_so_planted_links_lead_nowhere(home):
    outside = home.training / "bob" / "kubeconfig"
    (home.path / ".kubeconfig.tmp").symlink_to(outside)  # what write_private would open
    (home.path / "02-network.ipynb").symlink_to(home.state / "planted.ipynb")
    done = _in_sandbox(home, "print('started')", sys.executable, "-m",
                       "aks_runbook.training.hub.workspace", str(sandbox.SEEDS),
                       str(ROOT / "notebooks"), "--")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "started\n"
    assert outside.read_text() == "bob's token"  # not followed: the sandbox cannot see it
    assert not (home.state / "planted.ipynb").exists()
    assert (home.path / "kubeconfig").read_text() == "ann's token"
    environment = yaml.safe_load((home.path / "environment.yaml").read_text())
    assert environment == {"prefix": "ann", "kubeconfig": "/home/ann/kubeconfig"}
    first = nbformat.read(home.path / "01-overview.ipynb", as_version=4)
    injected = [c for c in first.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'prefix = "ann"' in injected[0].source


def _listening() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server, server.getsockname()[1]


def test_the_sandbox_reaches_only_what_the_relays_forward(home):
    relayed, relayed_port = _listening()
    other, other_port = _listening()  # e.g. another attendee's server, the proxy's API
    code = f"""
        import os, socket
        for port in ({relayed_port}, {other_port}):
            probe = socket.socket()
            probe.settimeout(5)
            try:
                probe.connect(("127.0.0.1", port))
                print(port, "connected")
            except OSError as error:
                print(port, error.strerror)
        try:  # put another socket where the proxy's connections go
            os.unlink("{sandbox.SOCKETS / 'api.sock'}")
        except OSError as error:
            print("replace a socket:", error.strerror)
    """
    box = _sandbox(home)
    inside = [sys.executable, "-m", "aks_runbook.training.hub.relay",
              f"--tcp={relayed_port}={sandbox.SOCKETS / 'api.sock'}", "--",
              sys.executable, "-c", textwrap.dedent(code)]

    async def run() -> str:
        sock = relay.listening(home.sockets / "api.sock", home.uid)
        outside = await relay.unix_to_tcp(sock, relayed_port)
        process = await asyncio.create_subprocess_exec(*box.argv, *inside, pass_fds=box.fds,
                                                       stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        outside.close()
        return out.decode()

    try:
        assert asyncio.run(run()).splitlines() == [f"{relayed_port} connected",
                                                   f"{other_port} Connection refused",
                                                   "replace a socket: Read-only file system"]
    finally:
        box.close()
        relayed.close()
        other.close()


def test_the_hub_names_what_is_missing_before_it_starts_anything(tmp_path):
    hub = Hub(tmp_path / "training", tmp_path / "state", ROOT, ip="0.0.0.0", port=70000,
              idle_timeout=5, certfile=tmp_path / "cert.pem")
    with pytest.raises(HubError) as error:
        hub.start()
    message = str(error.value)
    for expected in ("no logins in", "training provision", "--port 70000",
                     "--idle-timeout 5", "--certfile and --keyfile go together",
                     "cert.pem: no such file",
                     "--ip 0.0.0.0: attendees on other machines need the hub's name and a "
                     "wildcard DNS entry for it (--subdomain-host"):
        assert expected in message
    assert not (tmp_path / "state").exists()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost, as a trainer would make one for a class."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.DNSName("localhost"), x509.DNSName("*.localhost")]), False)
                   .sign(key, hashes.SHA256()))
    cert, private = folder / "hub.pem", folder / "hub-key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert, private


def test_with_a_certificate_the_hub_speaks_only_tls_and_stops_with_nothing_left(tmp_path):
    import ssl
    import urllib.request

    logins.ensure(credentials.private_dir(tmp_path / "training"), ["ann"])
    cert, key = _self_signed(tmp_path)
    hub = Hub(tmp_path / "training", tmp_path / "state", ROOT, port=free_port(),
              certfile=cert, keyfile=key)
    try:
        hub.start()
        assert hub.url.startswith("https://localhost:")
        trusting = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"{hub.url}hub/login", context=trusting) as page:
            assert page.status == 200 and b"handout" in page.read()
        with pytest.raises(OSError):  # plain HTTP on the same port: no answer
            urllib.request.urlopen(f"http://localhost:{hub.port}/hub/login", timeout=10)
        family = psutil.Process(hub.process.pid).children(recursive=True)
        assert family  # the proxy and the hub's services
    finally:
        hub.stop()
    assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_the_hub_stops_by_itself_when_started_with_ctrl_c_ignored(tmp_path):
    # `aks-runbook training hub &` in a script starts it with SIGINT ignored, and JupyterHub
    # stops its services with SIGINT first: they must still hear it, or the hub waits out its
    # timeouts until `stop` kills it
    logins.ensure(credentials.private_dir(tmp_path / "training"), ["ann"])
    hub = Hub(tmp_path / "training", tmp_path / "state", ROOT, port=free_port())
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        hub.start()
    finally:
        signal.signal(signal.SIGINT, previous)
        family = psutil.Process(hub.process.pid).children(recursive=True) if hub.process else []
        hub.stop()
    assert family  # the proxy and the hub's services
    assert hub.process.returncode != -signal.SIGKILL, "the hub was killed, it did not stop"
    assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
