"""Progress bars that stay readable both in a terminal and in a CI log or notebook output.

Inside a Jupyter kernel a bar is a widget (tqdm.notebook) that goes away when done; headless
(AKS_RUNBOOK_HEADLESS=1: papermill, nbval) it is off, so stored outputs carry no progress."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

from aks_runbook.frontend import headless, in_kernel


def bar(**kwargs) -> tqdm:
    """A tqdm bar: live in a terminal, a line every 30 s where stderr is a log file; in a
    notebook a widget, or nothing when headless."""
    if in_kernel():
        if headless():
            return tqdm(**{**kwargs, "disable": True})
        from tqdm.notebook import tqdm as notebook_bar

        kwargs.setdefault("leave", False)
        return notebook_bar(**{k: v for k, v in kwargs.items() if k != "file"})
    interactive = sys.stderr.isatty()
    kwargs.setdefault("mininterval", 0.5 if interactive else 30)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(**kwargs)


@contextmanager
def ticking(progress: tqdm) -> Iterator[tqdm]:
    """Keep the elapsed time moving while a long step prints nothing (a Go link, a wait)."""
    every = 1.0 if sys.stderr.isatty() or in_kernel() else 30.0
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every):
            progress.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield progress
    finally:
        stop.set()
        thread.join()
