"""Regenerate the notebooks' stored outputs from a run against the local cluster.

`make notebooks` runs this: each notebook's `parameters` cell is rewritten from the
environment model (the single source of truth), then the notebook is executed in place; then
the Japanese edition is built (notebook/translation.py) and executed the same way.
nbval later re-executes the notebooks and compares with these outputs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from aks_runbook.frontend import HEADLESS_ENV
from aks_runbook.notebook import translation
from aks_runbook.notebook.parameters import parameters_cell
from aks_runbook.notebook.translation import set_language
from aks_runbook.run.chapters import notebooks_dir
from aks_runbook.run.kernels import ipc_kernel_manager


def refresh_parameters(notebook: nbformat.NotebookNode, language: str = "en") -> None:
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = set_language(parameters_cell(), language)


def regenerate(names: list[str] | None = None) -> None:
    """The English notebooks, then the Japanese edition built from them and locale/ja."""
    os.environ[HEADLESS_ENV] = "1"  # the kernels show widgets as text: comparable outputs
    _execute(notebooks_dir(), names, "en")
    translation.build("ja")
    _execute(notebooks_dir("ja"), names, "ja")


def _execute(directory: Path, names: list[str] | None, language: str) -> None:
    for path in sorted(directory.glob("[0-9][0-9]-*.ipynb")):
        if names and path.name[:2] not in names:
            continue
        print(f"executing {path.relative_to(directory.parent)}", flush=True)
        notebook = nbformat.read(path, as_version=4)
        refresh_parameters(notebook, language)
        NotebookClient(notebook, timeout=900, kernel_name="python3",
                       kernel_manager_class=ipc_kernel_manager(),
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        for cell in notebook.cells:
            cell.metadata.pop("execution", None)  # timings would churn every diff
        nbformat.write(notebook, path)


if __name__ == "__main__":
    regenerate(sys.argv[1:] or None)
