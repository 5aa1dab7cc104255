"""Where notebook output goes: a Jupyter kernel with a widget front end, or headless.

Headless is explicit: AKS_RUNBOOK_HEADLESS=1 (`make notebooks`, the test session's papermill
and nbval kernels) gives text and tables, so stored outputs hold no widget ids and compare run
to run; =0 forces widgets. Unset: text in an `aks-runbook run` (its kernels get
AKS_RUNBOOK_RUN_DIR), widgets in any other Jupyter kernel, text outside one. Whether a widget
front end is attached is not guessed: nothing tells a kernel reliably (the front end opens its
control comm on its own schedule).
"""

from __future__ import annotations

import os

HEADLESS_ENV = "AKS_RUNBOOK_HEADLESS"
RUN_DIR_ENV = "AKS_RUNBOOK_RUN_DIR"  # set for the kernels of a run (run.chapters)


def headless() -> bool:
    value = os.environ.get(HEADLESS_ENV, "").strip().lower()
    if value:
        return value not in ("0", "false", "no")
    return bool(os.environ.get(RUN_DIR_ENV)) or not in_kernel()


def in_kernel() -> bool:
    """True inside a Jupyter kernel (ipykernel), where a front end may render widgets."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
