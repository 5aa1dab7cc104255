"""The HTML copy of an executed chapter is nbconvert's page, byte for byte, however often the
process has exported the same cells before."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from aks_runbook.run import html_export

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def nbconverts_page(notebook: Path) -> str:
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    return body


def test_the_page_is_nbconverts_the_first_time_and_when_remembered(tmp_path):
    """A chapter's stored outputs: code, Markdown, HTML tables and a chart."""
    expected = nbconverts_page(NOTEBOOKS / "02-network.ipynb")
    for attempt in ("first", "again"):
        copy = tmp_path / attempt / "chapter.ipynb"
        copy.parent.mkdir()
        shutil.copy(NOTEBOOKS / "02-network.ipynb", copy)
        html_export.export(copy)
        assert copy.with_suffix(".html").read_text() == expected, attempt
    assert html_export._highlight.cache_info().hits > 0
    assert html_export._clean_html.cache_info().hits > 0


def test_a_cell_that_changed_is_highlighted_and_cleaned_anew(tmp_path):
    notebook = nbformat.v4.new_notebook(metadata={"language_info": {"name": "python",
                                                                    "pygments_lexer": "ipython3"}})
    code = nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output(
        "display_data", {"text/html": "<b>one</b>"})])
    notebook.cells = [nbformat.v4.new_markdown_cell("# Step"), code]
    for source in ("x = 1", "x = 1\nprint('one more line')"):
        code.source = source
        path = tmp_path / "chapter.ipynb"
        nbformat.write(notebook, path)
        html_export.export(path)
        assert path.with_suffix(".html").read_text() == nbconverts_page(path)
    page = path.with_suffix(".html").read_text()
    assert "one more line" in page and "<b>one</b>" in page
