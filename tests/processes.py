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
