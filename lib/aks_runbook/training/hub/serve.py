"""`aks-runbook training hub`: JupyterHub with its standard proxy (configurable-http-proxy,
installed into tools/npm/ from its lock file), the roster's logins, a sandbox per attendee and
the idle culler. One child process (the hub, which starts the proxy, the culler and the
attendees' servers); stopping it stops all of them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from aks_runbook.notebook.attendee import free_port
from aks_runbook.targets import exec_seccomp
from aks_runbook.training import logins
from aks_runbook.training.credentials import write_private
from aks_runbook.training.roster import TRAINER as ADMIN

CONFIG = Path(__file__).with_name("jupyterhub_config.py")
PROXY = Path("tools") / "npm" / "node_modules" / ".bin" / "configurable-http-proxy"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _hub_process() -> None:
    """In the hub's process: SIGTERM when `aks-runbook` ends, however it ends; SIGINT as in a
    terminal, even when `aks-runbook` was started with it ignored (from a script, with `&`:
    JupyterHub stops its services and servers with SIGINT first, and would otherwise wait out
    its timeouts); and every file descriptor the machine allows (each attendee's relays hold
    some)."""
    import ctypes
    import resource
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class HubError(RuntimeError):
    """The hub cannot start (or did not in time); the message says why and what to do."""


@dataclass
class Hub:
    training_folder: Path
    state: Path  # the hub's own folder (database, cookie secret, settings, log)
    project: Path
    ip: str = "127.0.0.1"
    port: int = 8000
    certfile: Path | None = None
    keyfile: Path | None = None
    idle_timeout: int = 3600
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(12), repr=False)
    hidden: list[Path] = field(default_factory=list)  # never seen in a sandbox
    # Attendees' servers on <name>.<host> (a wildcard DNS name for the class when the hub
    # listens beyond this machine); default: localhost, whose subdomains are this machine.
    subdomain_host: str | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def scheme(self) -> str:
        return "https" if self.certfile else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.subdomain_host or 'localhost'}:{self.port}/"

    @property
    def log(self) -> Path:
        return self.state / "jupyterhub.log"

    def check(self) -> None:
        """Everything the hub needs, before anything starts."""
        problems = []
        if not (self.training_folder / logins.LOGINS).is_file():
            problems.append(f"no logins in {self.training_folder}: run `aks-runbook training "
                            f"provision` first")
        if not (self.project / PROXY).is_file() and not shutil.which("npm"):
            problems.append(f"the proxy ({PROXY}) is not installed, and npm is not there to "
                            f"install it: `make hub` installs both")
        if not shutil.which("bwrap"):
            problems.append("bubblewrap (bwrap) is not installed: the attendees' sandboxes "
                            "need it (`make hub` installs it)")
        if os.geteuid() == 0 and not exec_seccomp.available():
            problems.append("libseccomp is missing (Debian: libseccomp2): as root, the "
                            "attendees' sandboxes need its filter")
        if bool(self.certfile) != bool(self.keyfile):
            problems.append("--certfile and --keyfile go together")
        for option, path in (("--certfile", self.certfile), ("--keyfile", self.keyfile)):
            if path and not path.is_file():
                problems.append(f"{option} {path}: no such file")
        if self.subdomain_host is None and self.ip not in LOOPBACK:
            problems.append(f"--ip {self.ip}: attendees on other machines need the hub's name "
                            f"and a wildcard DNS entry for it (--subdomain-host "
                            f"hub.example.org, *.hub.example.org pointing here): each "
                            f"attendee's server gets a host of its own")
        if self.subdomain_host and ("/" in self.subdomain_host or ":" in self.subdomain_host):
            problems.append(f"--subdomain-host {self.subdomain_host}: a host name only, "
                            f"e.g. hub.example.org")
        if not 0 < self.port < 65536:
            problems.append(f"--port {self.port}: must be 1-65535")
        if self.idle_timeout < 60:
            problems.append(f"--idle-timeout {self.idle_timeout}: at least 60 seconds")
        if problems:
            raise HubError("cannot start the hub:\n  " + "\n  ".join(problems))

    def settings(self) -> dict:
        bind = f"[{self.ip}]" if ":" in self.ip else self.ip
        singleuser = [str(Path(sys.prefix) / "bin" / "jupyterhub-singleuser")]
        # (never --allow-root: as root, each attendee's server runs as a uid of their own)
        args = ["--ServerApp.log_level=WARN", "--LabApp.extension_manager=readonly",
                "--KernelManager.transport_encryption=required"]
        return {
            "bind_url": f"{self.scheme}://{bind}:{self.port}/",
            "subdomain_host": self.url.rstrip("/"),
            "hub_port": free_port(), "proxy_api_port": free_port(),
            "certfile": str(self.certfile or ""), "keyfile": str(self.keyfile or ""),
            # __Host- cookies: no attendee's server can set the hub's (they need https)
            "cookie_host_prefix": bool(self.certfile),
            "state": str(self.state), "proxy": str(self.project / PROXY),
            "logins_file": str(self.training_folder / logins.LOGINS),
            "admin_login": logins.entry(self.admin_password),
            "training_folder": str(self.training_folder), "project": str(self.project),
            "seccomp": str(self._seccomp()),
            "hidden": [str(p) for p in [self.state, self.training_folder, *self.hidden]],
            "singleuser": singleuser, "singleuser_args": args,
            "culler": [sys.executable, "-m", "jupyterhub_idle_culler",
                       f"--timeout={self.idle_timeout}",
                       f"--cull-every={max(self.idle_timeout // 10, 30)}"],
            "revoker": [sys.executable, "-m", "aks_runbook.training.hub.revoker",
                        f"--logins={self.training_folder / logins.LOGINS}",
                        f"--keep={ADMIN}"],
            "login_hint": "Log in with the name and password on your handout.",
        }

    def install_proxy(self) -> None:
        """configurable-http-proxy at the versions of tools/npm/package-lock.json, into the
        project (npm ci), the first time."""
        if (self.project / PROXY).is_file():
            return
        print(f"installing the hub's proxy into {PROXY.parent.parent.parent} (npm ci) ...",
              file=sys.stderr, flush=True)
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts",
                               "--loglevel=error"], cwd=self.project / "tools" / "npm",
                              capture_output=True, text=True)
        if done.returncode != 0 or not (self.project / PROXY).is_file():
            raise HubError(f"npm ci in tools/npm failed (exit {done.returncode}):\n"
                           f"{done.stderr.strip()[-2000:]}")

    def _seccomp(self) -> Path | str:
        """The `kubectl exec` sandbox's seccomp filter, compiled into the hub's state ('' where
        libseccomp is missing: the sandboxes then run without one, and the log says so)."""
        try:
            return exec_seccomp.write_filter(self.state / "sandbox-seccomp.bpf")
        except exec_seccomp.SeccompUnavailable as error:
            print(f"warning: the attendees' sandboxes run without a seccomp filter: {error}",
                  file=sys.stderr)
            return ""

    def start(self, timeout: float = 90) -> None:
        self.check()
        self.install_proxy()
        self.state.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state, 0o700)
        # A new class: no user, session or cookie of a former one (its servers stopped with
        # its hub) may open a server of an attendee provisioned again under the same name.
        for former in ("jupyterhub.sqlite", "cookie_secret"):
            (self.state / former).unlink(missing_ok=True)
        settings_file = self.state / "settings.json"
        write_private(settings_file, json.dumps(self.settings(), indent=1))
        env = dict(os.environ, AKS_RUNBOOK_HUB_SETTINGS=str(settings_file),
                   CONFIGPROXY_AUTH_TOKEN=secrets.token_hex(32))
        with open(self.log, "ab") as log:
            os.chmod(self.log, 0o600)
            self.process = subprocess.Popen(
                [str(Path(sys.prefix) / "bin" / "jupyterhub"), "-f", str(CONFIG)],
                cwd=self.state, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_hub_process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HubError(f"the hub stopped at start (exit {self.process.returncode}); "
                               f"its log, {self.log}, ends with:\n{self._tail()}")
            if self.ready():
                return
            time.sleep(0.5)
        self.stop()
        raise HubError(f"the hub did not answer within {timeout:.0f} s; its log, {self.log}, "
                       f"ends with:\n{self._tail()}")

    def ready(self) -> bool:
        import ssl
        context = ssl._create_unverified_context() if self.certfile else None
        try:
            with urllib.request.urlopen(f"{self.url}hub/health", timeout=2,
                                        context=context) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the hub (it stops the attendees' servers, the culler and the proxy),
        then SIGKILL to whatever of it is left after `timeout` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            family = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            family = []
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        _, alive = psutil.wait_procs(family, timeout=5)
        for leftover in alive:
            leftover.kill()

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait()
