"""The notebooks in another language, built from one source.

The English notebooks are the source. A translation lives in a gettext catalog per notebook,
`locale/<language>/LC_MESSAGES/<notebook>.po`, one entry per markdown cell: its context is the
cell's id, its msgid the English text (as Sphinx's gettext builder keys by source text). When an
English cell changes, `update` keeps the old translation but marks it fuzzy with the previous
English beside it (`#| msgid`), which translators' tools show as stale; `problems` lists every
missing or stale translation, naming the notebook and the cell; `build` writes
`notebooks/<language>/`: the same code cells, the translated markdown, and the parameters cell
set to that language.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from aks_runbook import paths

TRANSLATED = ("ja",)


def locale_dir() -> Path:
    return paths.project_root() / "locale"


def source_notebooks() -> list[Path]:
    return sorted((paths.project_root() / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def catalog_path(notebook: Path, language: str) -> Path:
    return locale_dir() / language / "LC_MESSAGES" / f"{notebook.stem}.po"


def edition_path(notebook: Path, language: str) -> Path:
    return notebook.parent / language / notebook.name


@dataclass(frozen=True)
class Problem:
    notebook: str
    cell: int  # 1-based, as JupyterLab counts
    cell_id: str
    what: str  # "missing" | "stale"

    def __str__(self) -> str:
        return (f"notebooks/{self.notebook} cell {self.cell} (id {self.cell_id}): translation "
                + ("missing" if self.what == "missing" else
                   "stale, the English text changed since it was translated"))


def _markdown_cells(notebook: nbformat.NotebookNode):
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "markdown":
            yield number, cell


def _read_catalog(path: Path, language: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=language)
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _entries(catalog: Catalog) -> dict[str, object]:
    return {message.context: message for message in catalog if message.id and message.context}


def update(language: str, notebooks: list[Path] | None = None) -> list[Path]:
    """Bring each notebook's catalog in line with its English cells; return those written."""
    written = []
    for path in notebooks or source_notebooks():
        notebook = nbformat.read(path, as_version=4)
        target = catalog_path(path, language)
        catalog = _read_catalog(target, language)
        old, old_date = _entries(catalog), catalog.creation_date  # no churn in the header
        new = Catalog(locale=language, project="aks-runbook", version="",
                      domain=path.stem, fuzzy=False, creation_date=old_date,
                      header_comment=f"# {path.name}: its markdown cells, in {language}.")
        for number, cell in _markdown_cells(notebook):
            before = old.get(cell.id)
            string, flags, previous = "", (), ()
            if before is not None and before.string:
                string = before.string
                if before.id != cell.source:
                    flags, previous = ("fuzzy",), (before.previous_id or [before.id])
                elif before.fuzzy:
                    flags, previous = ("fuzzy",), before.previous_id
            new.add(cell.source, string, locations=[(f"notebooks/{path.name}", number)],
                    flags=flags, context=cell.id, previous_id=previous)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            write_po(handle, new, width=100, include_previous=True, sort_output=False)
        written.append(target)
    return written


def problems(language: str, notebooks: list[Path] | None = None) -> list[Problem]:
    found = []
    for path in notebooks or source_notebooks():
        entries = _entries(_read_catalog(catalog_path(path, language), language))
        for number, cell in _markdown_cells(nbformat.read(path, as_version=4)):
            entry = entries.get(cell.id)
            if entry is None or not entry.string:
                found.append(Problem(path.name, number, cell.id, "missing"))
            elif entry.fuzzy or entry.id != cell.source:
                found.append(Problem(path.name, number, cell.id, "stale"))
    return found


def translated(path: Path, language: str) -> nbformat.NotebookNode:
    """The notebook in `language`: code cells as in English (the parameters cell set to the
    language), markdown from the catalog, outputs kept from the edition already built."""
    notebook = nbformat.read(path, as_version=4)
    entries = _entries(_read_catalog(catalog_path(path, language), language))
    built = edition_path(path, language)
    outputs = {}
    if built.exists():
        for cell in nbformat.read(built, as_version=4).cells:
            if cell.cell_type == "code":
                outputs[cell.id] = (cell.outputs, cell.execution_count)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = entries[cell.id].string
        elif cell.id in outputs:
            cell.outputs, cell.execution_count = outputs[cell.id]
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = set_language(cell.source, language)
    return notebook


def set_language(parameters_source: str, language: str) -> str:
    """The parameters cell with its `language` default set (the rest unchanged)."""
    pattern = re.compile(r"^(language: str = )'[a-z]{2}'", re.MULTILINE)
    if not pattern.search(parameters_source):
        raise ValueError("the parameters cell has no `language: str = '..'` line")
    return pattern.sub(lambda m: f"{m.group(1)}{language!r}", parameters_source, count=1)


def check(language: str, notebooks: list[Path] | None = None) -> None:
    """Raise, naming every notebook and cell, while a translation is missing or stale."""
    wrong = problems(language, notebooks)
    if wrong:
        raise ValueError(f"the {language} notebooks cannot be built:\n"
                         + "\n".join(f"  {problem}" for problem in wrong))


def build(language: str) -> list[Path]:
    """Write notebooks/<language>/ from the English notebooks and the catalogs; refuse while
    any translation is missing or stale."""
    check(language)
    written = []
    for path in source_notebooks():
        target = edition_path(path, language)
        target.parent.mkdir(exist_ok=True)
        nbformat.write(translated(path, language), target)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    """`python -m aks_runbook.notebook.translation update|check|build [ja [01 02 …]]`"""
    command = argv[0] if argv else ""
    language, only = (argv[1] if len(argv) > 1 else "ja"), argv[2:]
    chosen = [p for p in source_notebooks() if not only or p.name[:2] in only]
    if command == "update":
        for path in update(language, chosen):
            print(f"updated {path.relative_to(paths.project_root())}")
        return 0
    if command in ("check", "build"):
        wrong = problems(language, chosen)
        for problem in wrong:
            print(problem, file=sys.stderr)
        if wrong:
            return 1
        if command == "build":
            for path in build(language):
                print(f"built {path.relative_to(paths.project_root())}")
        return 0
    print("usage: python -m aks_runbook.notebook.translation update|check|build [ja [01 …]]",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
