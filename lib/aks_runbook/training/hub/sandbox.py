"""The bubblewrap command an attendee's JupyterLab and kernels run in.

What the sandbox sees, and nothing else of the machine:
- read-only: /usr (and the /bin, /lib ... links into it), a few files of /etc (CA
  certificates, passwd/group, hosts, time zone, MIME types), Python itself, the project's
  venv, and of the project only the package (lib/), the catalogs (locale/), the notebooks and
  environments/ (the project's .state/, training/, runs/ and the rest are not there);
- read-write: the attendee's home (workspace.py) at /home/<attendee>, a private /tmp, and the
  folder of the relays' sockets at /run/aks-runbook;
- its own user, pid, network, ipc, uts and cgroup namespaces: no other process of the machine,
  only its own 127.0.0.1, where relay.py forwards the API server's and the hub's ports; no
  capabilities; no new user namespaces; killed with the hub (--die-with-parent).
It runs as the hub's user: the namespaces, not file permissions, keep attendees apart (see
docs/local-cluster-security.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import aks_runbook

SOCKETS = Path("/run/aks-runbook")  # the relays' folder inside the sandbox
ETC = ["ssl", "ca-certificates", "passwd", "group", "nsswitch.conf", "hosts", "localtime",
       "mime.types", "ld.so.cache", "fonts", "alternatives"]
PROJECT_PARTS = ["lib", "locale", "notebooks", "environments", "pyproject.toml"]


def _under(path: Path, folders: list[Path]) -> bool:
    return any(path == folder or folder in path.parents for folder in folders)


def readable(project: Path) -> list[Path]:
    """What the sandbox may read (outside /usr): Python, the venv and parts of the project."""
    paths = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(aks_runbook.__file__).resolve().parents[1]]
    paths += [project / part for part in PROJECT_PARTS]
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not _under(path, [Path("/usr"), *kept]):
            kept.append(path)
    return kept


def command(home: Path, home_inside: Path, sockets: Path, project: Path,
            hidden: list[Path]) -> list[str]:
    """bwrap's argv up to (not including) the command run inside. `hidden`: folders that must
    not be seen even if they lie inside a readable one (the state, the training folder)."""
    argv = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--cap-drop", "ALL", "--hostname", "aks-runbook",
            "--ro-bind", "/usr", "/usr"]
    for top in ("bin", "lib", "lib64", "sbin"):
        link = Path("/") / top
        if link.is_symlink():
            argv += ["--symlink", str(link.readlink()), str(link)]
        elif link.is_dir():
            argv += ["--ro-bind", str(link), str(link)]
    for name in ETC:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    visible = readable(project)
    for path in visible:
        argv += ["--ro-bind-try", str(path), str(path)]
    for path in hidden:
        if _under(path.resolve(), visible):
            argv += ["--tmpfs", str(path.resolve())]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run",
             "--bind", str(sockets), str(SOCKETS),
             "--bind", str(home), str(home_inside), "--chdir", str(home_inside), "--"]
    return argv
