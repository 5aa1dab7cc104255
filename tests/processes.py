"""Looking at processes that may end while a test looks at them."""

from __future__ import annotations

import psutil


def command_line(process: psutil.Process) -> str:
    """The process's command line as one string, empty once it has ended (a child its parent
    has not reaped yet is a zombie, whose arguments can no longer be read)."""
    try:
        return " ".join(process.cmdline())
    except psutil.NoSuchProcess:  # ZombieProcess too
        return ""


def kernels(processes: list[psutil.Process]) -> list[psutil.Process]:
    """The kernels among these processes: started by jupyter_client (ipykernel_launcher), or
    forked by a kernel fork server (run.kernel_fork: the only processes it starts)."""
    servers = {p.pid for p in processes if "multiprocessing.forkserver" in command_line(p)}
    found = []
    for process in processes:
        try:
            forked = process.ppid() in servers
        except psutil.NoSuchProcess:
            continue
        if forked or "ipykernel_launcher" in command_line(process):
            found.append(process)
    return found
