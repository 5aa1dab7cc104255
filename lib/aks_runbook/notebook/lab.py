"""JupyterLab for the workshop: the notebooks folder, the project's Python as the kernel, on
127.0.0.1 unless asked otherwise, behind a token generated for each start."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# Set by papermill/nbval runs so that widgets print plain text; a person in JupyterLab gets them.
HEADLESS_VARIABLE = "AKS_RUNBOOK_HEADLESS"
WILDCARD_IPS = {"", "0.0.0.0", "::", "*"}

# JupyterLab's user settings: no "get notified about Jupyter news?" pop-up, no update checks.
SETTINGS: dict[str, dict] = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


class LabError(RuntimeError):
    """JupyterLab did not start (or not in time); the message says what it printed."""


@dataclass
class Lab:
    """One JupyterLab server, as a child process.

    `home` keeps this lab's user settings, workspaces and runtime files (connection files,
    the server's info file) apart from the user's own JupyterLab.
    """

    root_dir: Path
    home: Path
    ip: str = "127.0.0.1"
    port: int = 0  # 0: a free port chosen by the OS
    open_browser: bool = False
    settings: dict[str, dict] = field(default_factory=lambda: dict(SETTINGS))
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # added to the server's environment
    log: Path | None = None  # where the server's messages go (default: this terminal)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    process: subprocess.Popen | None = field(default=None, repr=False)
    bound_port: int | None = None

    def argv(self) -> list[str]:
        args = [
            sys.executable, "-m", "jupyterlab",
            f"--ServerApp.ip={self.ip}",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--ServerApp.open_browser={self.open_browser}",
            "--ServerApp.log_level=WARN",
            "--LabApp.log_level=WARN",
            # No extension installs from a workshop, so no package-index queries either.
            "--LabApp.extension_manager=readonly",
            "--ServerApp.answer_yes=True",  # a signal stops it without asking
            f"--LabApp.user_settings_dir={self.home / 'settings'}",
            f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
            f"--config={self.home / 'jupyter_lab_config.json'}",
            # The kernel's ZeroMQ ports are TCP on 127.0.0.1: encrypt them (CurveZMQ, which the
            # kernelspec of ipykernel declares) rather than have each kernel warn that
            # everything it sends is plain text.
            "--KernelManager.transport_encryption=required",
        ]
        if _is_root():
            args.append("--ServerApp.allow_root=True")
        return args + self.extra_args

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop(HEADLESS_VARIABLE, None)
        env["JUPYTER_TOKEN"] = self.token  # not on the command line, where `ps` shows it
        env["JUPYTER_RUNTIME_DIR"] = str(self.home / "runtime")
        env["JUPYTER_PREFER_ENV_PATH"] = "1"  # this environment's python3 kernel first
        env.update(self.env)
        return env

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.ip in WILDCARD_IPS else self.ip
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.bound_port}"

    @property
    def url(self) -> str:
        """The address to open, with the token."""
        return f"{self.base_url}/lab?token={self.token}"

    def write_settings(self) -> None:
        """This lab's settings, where the user has not changed them yet, and its server
        configuration."""
        self.home.mkdir(parents=True, exist_ok=True)
        # jupyter_server's websocket pings (its timeout, 3 x the interval) make tornado warn
        # that a timeout cannot exceed the interval; on loopback they are not needed.
        server = {"ServerApp": {"tornado_settings": {"ws_ping_interval": 0}}}
        (self.home / "jupyter_lab_config.json").write_text(json.dumps(server, indent=2) + "\n",
                                                           encoding="utf-8")
        for name, values in self.settings.items():
            path = self.home / "settings" / name
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")

    def start(self, timeout: float = 90) -> Lab:
        """Start the server and wait until it answers with the token."""
        self.write_settings()
        self.trust_notebooks()
        runtime = self.home / "runtime"
        runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        output = None if self.log is None else self.log.open("ab")
        try:
            self.process = subprocess.Popen(
                self.argv(), env=self.environ(), cwd=self.root_dir, stdin=subprocess.DEVNULL,
                stdout=output, stderr=output, start_new_session=True)
        finally:
            if output is not None:
                output.close()
        info = runtime / f"jpserver-{self.process.pid}.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                where = "above" if self.log is None else f"in {self.log}"
                raise LabError(f"JupyterLab exited with status {self.process.returncode} "
                               f"before it was ready (its messages are {where})")
            if self.bound_port is None and info.is_file():
                try:
                    self.bound_port = int(json.loads(info.read_text(encoding="utf-8"))["port"])
                except (ValueError, KeyError):
                    pass  # being written
            if self.bound_port is not None and self._answers():
                return self
            time.sleep(0.2)
        self.stop()
        raise LabError(f"JupyterLab did not answer within {timeout:.0f} s")

    def trust_notebooks(self) -> None:
        """Sign the notebooks in root_dir as `jupyter trust` does: they are the project's own,
        and unsigned ones make the server warn, once per notebook opened."""
        notebooks = [str(path) for path in sorted(self.root_dir.glob("*.ipynb"))]
        if notebooks:
            signed = subprocess.run(
                [sys.executable, "-c", "from nbformat.sign import TrustNotebookApp;"
                 " TrustNotebookApp.launch_instance()", *notebooks],
                env=self.environ(), capture_output=True, text=True)
            if signed.returncode:
                raise LabError(f"could not mark the notebooks trusted: {signed.stderr.strip()}")

    def _answers(self) -> bool:
        request = urllib.request.Request(f"{self.base_url}/api/status",
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait(self) -> int:
        """Until the server stops; Ctrl-C stops it."""
        assert self.process is not None
        try:
            return self.process.wait()
        except KeyboardInterrupt:
            self.stop()
            return 0

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM: the server shuts its kernels down, then exits."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def can_open_browser() -> bool:
    """A desktop session to open a browser in: not a server without a display, not root (a
    browser started as root refuses to run, with noise)."""
    if sys.platform == "darwin":
        return True
    desktop = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    return bool(desktop) and not _is_root()


# JupyterLab's own language (its ja_JP language pack is in the lock), by notebook language
LAB_LOCALES = {"en": "en", "ja": "ja_JP"}


def workshop(root: Path, state: Path, ip: str = "127.0.0.1", port: int = 0,
             open_browser: bool = True, language: str = "en") -> Lab:
    """The lab of `aks-runbook lab`: the checkout's notebooks (notebooks/ja/ for Japanese, with
    JupyterLab itself in Japanese), settings kept in the state dir, apart per language."""
    if language not in LAB_LOCALES:
        raise LabError(f"language {language!r}: must be one of {', '.join(LAB_LOCALES)}")
    notebooks = root / "notebooks" if language == "en" else root / "notebooks" / language
    return Lab(root_dir=notebooks, home=state / ("lab" if language == "en" else f"lab-{language}"),
               ip=ip, port=port, open_browser=open_browser, settings=settings(language))


def settings(language: str) -> dict[str, dict]:
    """JupyterLab's user settings for a workshop in that language (its own language too)."""
    chosen = dict(SETTINGS)
    chosen["@jupyterlab/translation-extension/plugin.jupyterlab-settings"] = {
        "locale": LAB_LOCALES[language]}
    return chosen


def banner(lab: Lab) -> str:
    where = ("on every network interface (--ip asked for it)" if lab.ip in WILDCARD_IPS
             else f"on {lab.ip} only")
    return "\n".join([
        f"JupyterLab with the workshop's notebooks is listening {where}. Open:",
        f"    {lab.url}",
        "Stop it with Ctrl-C.",
    ])
