"""The hub's Spawner: each attendee's JupyterLab in a sandbox of their own (sandbox.py), in their
home (workspace.py, made inside the sandbox), reached and reaching out only through relays
(relay.py).

A LocalProcessSpawner that starts no process as another account of the machine (attendees are
not accounts here: as root, the sandbox drops to a uid of the attendee's own) and wraps the
single-user server in bubblewrap. Its output goes to a log of its own in the hub's state, not
to the hub's log or terminal. Stopping the server kills the sandbox's first process, and with
it (its own pid namespace) every kernel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.spawner import LocalProcessSpawner
from jupyterhub.utils import random_port
from traitlets import List, Unicode

from aks_runbook.training.credentials import ClusterAccess, private_dir
from aks_runbook.training.hub import relay, sandbox, workspace
from aks_runbook.training.hub.authenticator import SANDBOX

SEEDS = ("kubeconfig", "environment.yaml")


def loopback_port(url: str, what: str) -> int:
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"{what} is {url}: the hub's sandboxes reach only a server on this "
                           f"machine (127.0.0.1); for a cluster elsewhere (AKS) use "
                           f"`aks-runbook training hub --values`")
    return parsed.port or (443 if parsed.scheme == "https" else 80)


def own(home: Path, uid: int) -> None:
    """Give the attendee's uid their home (links are changed, never followed)."""
    if home.lstat().st_uid == uid:
        return
    for folder, folders, files in os.walk(home):
        for name in [*folders, *files]:
            os.lchown(os.path.join(folder, name), uid, uid)
    os.lchown(home, uid, uid)


class SandboxSpawner(LocalProcessSpawner):
    training_folder = Unicode(config=True, help="the provisioned attendees' folder (training/)")
    project = Unicode(config=True, help="the project's checkout (its notebooks, lib, locale)")
    state = Unicode(config=True, help="the hub's own folder (uids, the servers' logs)")
    seccomp = Unicode("", config=True, help="the compiled seccomp filter ('' for none)")
    hidden = List(Unicode(), config=True,
                  help="folders never to be seen in a sandbox (the state, the training folder)")

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
        name = self.user.name
        attendee = Path(self.training_folder) / name
        if not all((attendee / seed).is_file() for seed in SEEDS):
            raise RuntimeError(f"{name} has no credentials in {attendee}: run `aks-runbook "
                               f"training provision` again")
        state = Path(self.state)
        uid = sandbox.attendee_uid(name, state / "uids.json")
        if uid is not None and not self.seccomp:
            raise RuntimeError("the attendees' sandboxes need the seccomp filter when the hub "
                               "runs as root (install libseccomp2)")
        home = private_dir(attendee / "home")
        if uid is not None:
            own(home, uid)
        self.port = random_port()
        env = self.get_env()
        api_port = loopback_port(ClusterAccess.from_kubeconfig(attendee / "kubeconfig").server,
                                 "the API server")
        hub_port = loopback_port(env["JUPYTERHUB_API_URL"], "the hub's API")
        self._sockets = Path(tempfile.mkdtemp(prefix="aks-runbook-hub-"))
        os.chmod(self._sockets, 0o711)  # the sandbox's uid may pass, and use its own sockets
        listening = {sock: relay.listening(self._sockets / sock, uid)
                     for sock in ("api.sock", "hub.sock", "server.sock")}
        self._relays = [await relay.unix_to_tcp(listening["api.sock"], api_port,
                                                limit=relay.API_CONNECTIONS),
                        # from an address of its own, which the authenticator refuses logins
                        # from: the sandbox needs the hub's API, never its login form
                        await relay.unix_to_tcp(listening["hub.sock"], hub_port,
                                                limit=relay.HUB_CONNECTIONS,
                                                source=SANDBOX),
                        await relay.tcp_to_unix(self.port, self._sockets / "server.sock")]
        server = listening["server.sock"]
        inside = sandbox.SOCKETS
        box = sandbox.Command(home, workspace.inside(name), self._sockets, Path(self.project),
                              [Path(p) for p in self.hidden],
                              {seed: attendee / seed for seed in SEEDS}, uid=uid,
                              seccomp=Path(self.seccomp) if self.seccomp else None)
        python = [sys.executable, "-m"]
        cmd = [*box.argv,
               *python, "aks_runbook.training.hub.workspace", str(sandbox.SEEDS),
               str(Path(self.project) / "notebooks"), "--",
               *python, "aks_runbook.training.hub.relay",
               f"--tcp={api_port}={inside / 'api.sock'}",
               f"--tcp={hub_port}={inside / 'hub.sock'}",
               f"--unix-fd={server.fileno()}={self.port}", "--",
               *self.cmd, *self.get_args()]
        logs = private_dir(state / "servers")
        self.log.info("Starting %s's server in a sandbox (log: %s)", name, logs / f"{name}.log")
        try:
            with open(logs / f"{name}.log", "ab") as log:
                self.proc = subprocess.Popen(cmd, env=env, start_new_session=True,
                                             stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT,
                                             pass_fds=[*box.fds, server.fileno()],
                                             preexec_fn=sandbox.in_child(uid))
        finally:
            box.close()
            server.close()  # the sandbox holds it now; the hub connects by its path
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
