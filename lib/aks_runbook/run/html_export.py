"""The HTML copy of an executed chapter: nbconvert's HTML exporter (the lab template), as
`jupyter nbconvert --to html` writes it.

nbconvert highlights every code cell with pygments and sanitizes every piece of HTML it
embeds (the highlighted code, rendered Markdown, HTML outputs) with bleach: about 40 % of an
export. A process that runs the chapters more than once (a training run's attendees, the
test session) exports the same cells again and again, so both filters remember their results:
each is a pure function of its arguments, and the page is the same byte for byte. Each thread
keeps its exporter, whose compiled templates are another tenth of an export.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

REMEMBERED = 2048  # cells and outputs per filter: a few runs' worth, a few MB
_exporters = threading.local()


@lru_cache(maxsize=REMEMBERED)
def _clean_html(element: str | bytes) -> str:
    from nbconvert.filters.strings import clean_html

    return clean_html(element)


@lru_cache(maxsize=REMEMBERED)
def _highlight(lexer: str, source: str, language: str | None, metadata: str) -> str:
    from nbconvert.filters.highlight import Highlight2HTML

    return Highlight2HTML(pygments_lexer=lexer)(source, language, json.loads(metadata))


class _RememberedHighlight:
    """nbconvert's `highlight_code` filter for one pygments lexer, remembering its results."""

    def __init__(self, lexer: str | None):
        self.lexer = lexer or "ipython3"  # Highlight2HTML's default

    def __call__(self, source: str, language: str | None = None, metadata=None) -> str:
        return _highlight(self.lexer, source, language, json.dumps(metadata, sort_keys=True))


def _exporter(lexer: str | None):
    """This thread's exporter for notebooks of this pygments lexer."""
    from nbconvert import HTMLExporter

    kept = _exporters.__dict__.setdefault("by_lexer", {})
    if lexer not in kept:
        # optimistic_validation: the notebook is validated once, after the preprocessors, not
        # after each of them (twelve, most of them disabled); the page is the same
        kept[lexer] = HTMLExporter(optimistic_validation=True,
                                   filters={"clean_html": _clean_html,
                                            "highlight_code": _RememberedHighlight(lexer)})
    return kept[lexer]


def export(executed: Path) -> None:
    """Write the executed notebook's HTML beside it (NAME.ipynb -> NAME.html)."""
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    info = notebook.metadata.get("language_info", {})
    lexer = info.get("pygments_lexer", info.get("name"))
    body, _ = _exporter(lexer).from_notebook_node(notebook)
    executed.with_suffix(".html").write_text(body)
