"""The hub's Spawner: each attendee's JupyterLab in a sandbox of their own (sandbox.py), in their
home (workspace.py), reached and reaching out only through relays (relay.py).

A LocalProcessSpawner that starts no process as another Unix user (attendees are not accounts
of this machine) and wraps the single-user server in bubblewrap. Stopping the server kills the
sandbox's first process, and with it (its own pid namespace) every kernel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import yaml
from jupyterhub.spawner import LocalProcessSpawner
from jupyterhub.utils import random_port
from traitlets import List, Unicode

from aks_runbook.training.hub import relay, sandbox, workspace


def loopback_port(url: str, what: str) -> int:
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"{what} is {url}: the hub's sandboxes reach only a server on this "
                           f"machine (127.0.0.1); for a cluster elsewhere (AKS) use "
                           f"`aks-runbook training hub --values`")
    return parsed.port or (443 if parsed.scheme == "https" else 80)


def api_server(kubeconfig: Path) -> str:
    return yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]


class SandboxSpawner(LocalProcessSpawner):
    training_folder = Unicode(config=True, help="the provisioned attendees' folder (training/)")
    project = Unicode(config=True, help="the project's checkout (its notebooks, lib, locale)")
    hidden = List(Unicode(), config=True,
                  help="folders never to be seen in a sandbox (the state, the training folder)")

    def make_preexec_fn(self, name):
        return None  # the hub's user: no setuid to an account the attendee does not have

    def user_env(self, env):
        home = workspace.inside(self.user.name)
        env.update(USER=self.user.name, HOME=str(home), SHELL="/bin/bash",
                   KUBECONFIG=str(home / "kubeconfig"),
                   AKS_RUNBOOK_STATE=str(home / ".local" / "state" / "aks-runbook"),
                   AKS_RUNBOOK_CACHE=str(home / ".cache" / "aks-runbook"))
        return env

    async def move_certs(self, paths):
        return paths

    async def start(self):
        attendee_folder = Path(self.training_folder) / self.user.name
        if not (attendee_folder / "kubeconfig").is_file():
            raise RuntimeError(f"{self.user.name} has no credentials in {attendee_folder}: "
                               f"run `aks-runbook training provision` again")
        home = workspace.prepare(attendee_folder, Path(self.project) / "notebooks")
        self.port = random_port()
        env = self.get_env()
        api_port = loopback_port(api_server(home / "kubeconfig"), "the API server")
        hub_port = loopback_port(env["JUPYTERHUB_API_URL"], "the hub's API")
        self._sockets = Path(tempfile.mkdtemp(prefix="aks-runbook-hub-"))
        self._relays = [
            await relay.unix_to_tcp(self._sockets / "api.sock", api_port),
            await relay.unix_to_tcp(self._sockets / "hub.sock", hub_port),
            await relay.tcp_to_unix(self.port, self._sockets / "server.sock"),
        ]
        inside = sandbox.SOCKETS
        cmd = sandbox.command(home, workspace.inside(self.user.name), self._sockets,
                              Path(self.project), [Path(p) for p in self.hidden])
        cmd += [sys.executable, "-m", "aks_runbook.training.hub.relay",
                f"--tcp={api_port}={inside / 'api.sock'}",
                f"--tcp={hub_port}={inside / 'hub.sock'}",
                f"--unix={inside / 'server.sock'}={self.port}", "--",
                *self.cmd, *self.get_args()]
        self.log.info("Starting %s's server in a sandbox", self.user.name)
        self.proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        self.pid = self.proc.pid
        return ("127.0.0.1", self.port)

    async def stop(self, now=False):
        await super().stop(now=now)
        for server in getattr(self, "_relays", []):
            server.close()
        self._relays = []
        if getattr(self, "_sockets", None):
            shutil.rmtree(self._sockets, ignore_errors=True)
            self._sockets = None
