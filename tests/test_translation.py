"""The Japanese edition of the notebooks: built from the English source and locale/ja, never a
second copy that can drift."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from aks_runbook.notebook import translation
from aks_runbook.notebook.translation import Problem

SOURCES = translation.source_notebooks()


def test_every_markdown_cell_has_a_current_translation():
    problems = translation.problems("ja")
    assert not problems, "run `python -m aks_runbook.notebook.translation update ja`, translate, " \
                         "then `make notebooks`:\n" + "\n".join(map(str, problems))


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_the_japanese_notebook_is_the_english_one_with_translated_markdown(source):
    english = nbformat.read(source, as_version=4)
    japanese = nbformat.read(translation.edition_path(source, "ja"), as_version=4)
    assert [c.id for c in japanese.cells] == [c.id for c in english.cells]
    expected = translation.translated(source, "ja")
    for number, (en, ja, want) in enumerate(zip(english.cells, japanese.cells, expected.cells,
                                                strict=True), start=1):
        where = f"notebooks/ja/{source.name} cell {number} (id {en.id})"
        assert ja.cell_type == en.cell_type, where
        if en.cell_type == "markdown":
            assert ja.source == want.source, f"{where}: not the catalog's text (make notebooks)"
            assert ja.source != en.source, f"{where}: still English"
        elif "parameters" in en.metadata.get("tags", []):
            assert ja.source == translation.set_language(en.source, "ja"), where
            assert "language: str = 'ja'" in ja.source
        else:
            assert ja.source == en.source, f"{where}: code differs from the English notebook"
            assert ja.get("outputs") is not None


def _copy(tmp_path, monkeypatch, source):
    """The source notebook and its catalog in a scratch project."""
    monkeypatch.setattr(translation, "locale_dir", lambda: tmp_path / "locale")
    catalog = translation.catalog_path(source, "ja")
    catalog.parent.mkdir(parents=True)
    shutil.copy(translation.paths.project_root() / "locale" / "ja" / "LC_MESSAGES"
                / catalog.name, catalog)
    notebook = tmp_path / source.name
    shutil.copy(source, notebook)
    return notebook, catalog


def test_a_changed_english_cell_is_named_as_stale_until_translated_again(tmp_path, monkeypatch):
    source = SOURCES[0]
    notebook, catalog = _copy(tmp_path, monkeypatch, source)
    changed = nbformat.read(notebook, as_version=4)
    number, cell = next((n, c) for n, c in enumerate(changed.cells, start=1)
                        if c.cell_type == "markdown")
    old_english = cell.source
    cell.source += "\n\nOne more sentence."
    nbformat.write(changed, notebook)

    assert translation.problems("ja", [notebook]) == [
        Problem(source.name, number, cell.id, "stale")]
    assert "cell 1 (id" in str(translation.problems("ja", [notebook])[0])

    translation.update("ja", [notebook])  # what a translator runs: the old text kept, fuzzy
    text = catalog.read_text(encoding="utf-8")
    assert "#, fuzzy" in text and "#| msgid" in text
    assert translation.problems("ja", [notebook])[0].what == "stale"
    with pytest.raises(ValueError, match=f"cell {number} "):
        translation.check("ja", [notebook])

    # translated again: the fuzzy flag goes, and the problem with it
    from babel.messages.pofile import read_po, write_po
    with catalog.open("rb") as handle:
        po = read_po(handle, locale="ja")
    entry = next(m for m in po if m.context == cell.id)
    entry.string += "\n\nもう一文。"
    entry.flags.discard("fuzzy")
    entry.previous_id = []
    with catalog.open("wb") as handle:
        write_po(handle, po, width=100)
    assert translation.problems("ja", [notebook]) == []
    assert old_english not in catalog.read_text(encoding="utf-8")  # the previous msgid went


def test_a_new_english_cell_is_named_as_missing(tmp_path, monkeypatch):
    notebook, _ = _copy(tmp_path, monkeypatch, SOURCES[1])
    changed = nbformat.read(notebook, as_version=4)
    changed.cells.insert(1, nbformat.v4.new_markdown_cell("A new step."))
    nbformat.write(changed, notebook)
    problems = translation.problems("ja", [notebook])
    assert [(p.cell, p.what) for p in problems] == [(2, "missing")]
    assert str(problems[0]).startswith(f"notebooks/{SOURCES[1].name} cell 2 (id ")


def test_update_keeps_every_current_translation(tmp_path, monkeypatch):
    notebook, catalog = _copy(tmp_path, monkeypatch, SOURCES[2])
    before = catalog.read_text(encoding="utf-8")
    translation.update("ja", [notebook])
    assert catalog.read_text(encoding="utf-8") == before


def test_the_parameters_cell_must_carry_the_language():
    with pytest.raises(ValueError, match="language"):
        translation.set_language("environment: str = 'local'", "ja")
