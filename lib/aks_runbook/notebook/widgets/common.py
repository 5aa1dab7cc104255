"""What every widget shares: the answer element, showing a widget or its text (headless: see
aks_runbook.frontend)."""

from __future__ import annotations

import html
from typing import Any

from aks_runbook.frontend import HEADLESS_ENV, headless, in_kernel  # noqa: F401 (re-exported)

ANSWER_CLASS = "aks-answer"


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
