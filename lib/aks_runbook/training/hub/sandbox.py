"""The bubblewrap command an attendee's JupyterLab and kernels run in.

What the sandbox sees, and nothing else of the machine:
- read-only: /usr (and the /bin, /lib ... links into it), a few files of /etc (CA
  certificates, passwd/group, hosts, time zone, MIME types), Python itself, the project's
  venv, and of the project only the package (lib/), the catalogs (locale/), the notebooks and
  environments/ (the project's .state/, training/, runs/ and the rest are not there); the
  attendee's kubeconfig and environment file (copies, in /run/aks-runbook-seed); the relays'
  sockets (/run/aks-runbook); /proc/sys (kernel settings are machine-wide);
- read-write: the attendee's home (workspace.py) at /home/<attendee> and a private /tmp;
- its own pid, network, ipc, uts and cgroup namespaces: no other process of the machine, only
  its own 127.0.0.1, where relay.py forwards the API server's and the hub's ports; no
  capabilities; killed with the hub (--die-with-parent);
- the seccomp filter of the `kubectl exec` sandbox (targets/exec_seccomp.py: no new
  namespaces, mounts, kernel keyrings, BPF, ptrace ...), where libseccomp is available.
When the hub runs as root, bubblewrap mounts as root and the attendee's processes then run as
a uid of their own (attendee_uid: no account of the machine has it), with no capabilities and
no way back (`setpriv`: bounding set cleared, no_new_privs): never as root. Otherwise the
sandbox runs as the hub's user in a user namespace of its own, with no new user namespaces.
See docs/local-cluster-security.md.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import aks_runbook
from aks_runbook.targets.local import uid_free

SOCKETS = Path("/run/aks-runbook")  # the relays' folder inside the sandbox
SEEDS = Path("/run/aks-runbook-seed")  # the attendee's kubeconfig and environment file
ETC = ["ssl", "ca-certificates", "passwd", "group", "nsswitch.conf", "hosts", "localtime",
       "mime.types", "ld.so.cache", "fonts", "alternatives"]
PROJECT_PARTS = ["lib", "locale", "notebooks", "environments", "pyproject.toml"]
FIRST_UID = 63999  # attendees' uids count down from here (the exec sandbox's are above)
MAX_PROCESSES = 512  # per attendee (their uid's processes): a fork bomb stops there


def _under(path: Path, folders: list[Path]) -> bool:
    return any(path == folder or folder in path.parents for folder in folders)


def readable(project: Path) -> list[Path]:
    """What the sandbox may read (outside /usr): Python, the venv and parts of the project."""
    paths = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(aks_runbook.__file__).resolve().parents[1]]
    paths += [project / part for part in PROJECT_PARTS]
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if path.exists() and not _under(path, [Path("/usr"), *kept]):
            kept.append(path)
    return kept


class Command:
    """bwrap's argv up to (not including) the command run inside, and the file descriptors it
    mounts from (pass them with Popen(pass_fds=...), close them after)."""

    def __init__(self, home: Path, home_inside: Path, sockets: Path, project: Path,
                 hidden: list[Path], seeds: dict[str, Path], uid: int | None = None,
                 seccomp: Path | None = None):
        self.fds: list[int] = []
        if uid is None:  # the hub's own user: a user namespace, and no new ones in it
            argv = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns",
                    "--cap-drop", "ALL"]
        else:  # root: no user namespace (the uid must be real), setpriv below drops to it
            argv = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                    "--unshare-cgroup-try", "--cap-drop", "ALL", "--cap-add", "CAP_SETUID",
                    "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
        argv += ["--die-with-parent", "--new-session", "--hostname", "aks-runbook",
                 "--ro-bind", "/usr", "/usr"]
        for top in ("bin", "lib", "lib64", "sbin"):
            link = Path("/") / top
            if link.is_symlink():
                argv += ["--symlink", str(link.readlink()), str(link)]
            elif link.is_dir():
                argv += ["--ro-bind", str(link), str(link)]
        argv += ["--perms", "0755", "--dir", "/etc"]  # bubblewrap makes it 0700 otherwise
        for name in ETC:
            argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        visible = readable(project)
        # the folders around them, made traversable (bubblewrap copies a parent's mode: Python
        # under root's 0700 home would be out of the attendee's reach)
        for parent in sorted({p for path in visible for p in path.parents if p != Path("/")},
                             key=lambda p: len(p.parts)):
            argv += ["--perms", "0755", "--dir", str(parent)]
        for path in visible:
            argv += ["--ro-bind-fd", self._open(path, os.O_PATH), str(path)]
        for path in hidden:
            if _under(path.resolve(), visible):
                argv += ["--tmpfs", str(path.resolve())]
        # bwrap makes /proc/sys read-only only when its own write test fails, which it does
        # not as root: kernel settings are machine-wide (core_pattern runs a program as root).
        argv += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev",
                 "--perms", "1777", "--tmpfs", "/dev/shm",
                 "--perms", "1777", "--tmpfs", "/tmp", "--tmpfs", "/run",
                 "--ro-bind-fd", self._open(sockets, os.O_PATH), str(SOCKETS)]
        for name, path in seeds.items():
            argv += ["--perms", "0444", "--ro-bind-data", self._open(path, os.O_RDONLY),
                     str(SEEDS / name)]
        argv += ["--perms", "0755", "--dir", str(home_inside.parent),
                 "--bind-fd", self._open(home, os.O_PATH), str(home_inside)]
        if uid is None:
            argv += ["--chdir", str(home_inside)]
        if seccomp is not None:
            argv += ["--seccomp", self._open(seccomp, os.O_RDONLY)]
        argv.append("--")
        if uid is not None:
            argv += [_setpriv(), f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
                     # the home is the attendee's (0700): entered as them, not by bubblewrap
                     "/usr/bin/env", f"--chdir={home_inside}", "--"]
        self.argv = argv

    def _open(self, path: Path, flags: int) -> str:
        self.fds.append(os.open(path, flags | os.O_CLOEXEC))
        return str(self.fds[-1])

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = []


def _setpriv() -> str:
    for folder in ("/usr/bin", "/bin"):
        if os.access(f"{folder}/setpriv", os.X_OK):
            return f"{folder}/setpriv"
    raise FileNotFoundError("setpriv (util-linux) is not installed")


def in_child(uid: int | None):
    """Popen's preexec_fn: a session keyring of its own (not the hub's), and, for an attendee's
    own uid, at most MAX_PROCESSES processes of it (root, bubblewrap, is not limited)."""
    import ctypes
    import platform
    import resource
    libc = ctypes.CDLL(None, use_errno=True)
    keyctl = {"x86_64": 250, "aarch64": 219}.get(platform.machine())

    def prepare() -> None:
        if keyctl is not None:  # keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL): a new one
            libc.syscall(keyctl, 1, None)
        if uid is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    return prepare


def attendee_uid(name: str, table: Path) -> int | None:
    """The attendee's uid when the hub runs as root (kept in `table`, the hub's state), None
    otherwise: a user of the machine cannot give others a uid."""
    if os.geteuid() != 0:
        return None
    uids = json.loads(table.read_text()) if table.is_file() else {}
    if name not in uids:
        uid = min([FIRST_UID + 1, *uids.values()]) - 1
        while not uid_free(uid):
            uid -= 1
        uids[name] = uid
        table.write_text(json.dumps(uids, indent=1, sort_keys=True))
    return uids[name]
