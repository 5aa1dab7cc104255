"""What every widget shares: headless or not, the answer element, showing a widget.

Headless is explicit: AKS_RUNBOOK_HEADLESS=1 (`make notebooks`, the test session's papermill
and nbval kernels) gives text and tables, so stored outputs hold no widget ids and compare run
to run; =0 forces widgets. Unset: text in an `aks-runbook run` (its kernels get
AKS_RUNBOOK_RUN_DIR), widgets in any other Jupyter kernel, text outside one. Whether a widget
front end is attached is not guessed: nothing tells a kernel reliably (the front end opens its
control comm on its own schedule).
"""

from __future__ import annotations

import html
import os
from typing import Any

HEADLESS_ENV = "AKS_RUNBOOK_HEADLESS"
RUN_DIR_ENV = "AKS_RUNBOOK_RUN_DIR"  # notebook.RUN_DIR_ENV: set for the kernels of a run
ANSWER_CLASS = "aks-answer"


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


def answer_widget(text: str = ""):
    """The element that shows the current answer (class aks-answer: the browser test reads it)."""
    import ipywidgets

    widget = ipywidgets.HTML(value=as_html(text))
    widget.add_class(ANSWER_CLASS)
    return widget


def as_html(text: str) -> str:
    return f"<pre style='margin: 0'>{html.escape(text)}</pre>"


def text_of(widget) -> str:
    """The plain text an answer widget shows (for tests and headless checks)."""
    return html.unescape(widget.value.removeprefix("<pre style='margin: 0'>")
                         .removesuffix("</pre>"))


def show(widget, fallback: str) -> None:
    """Display a widget; its text/plain is the headless text (for nbconvert and viewers
    without the widget state)."""
    from IPython.display import display

    bundle = widget._repr_mimebundle_()
    bundle["text/plain"] = fallback
    display(bundle, raw=True)


def show_text(text: str, table: Any = None) -> None:
    """The headless form: text, then a table if any."""
    from IPython.display import display

    print(text)
    if table is not None:
        display(table)
