"""Regenerate the notebooks' stored outputs from a run against the local cluster.

`make notebooks` runs this: each notebook's `parameters` cell is rewritten from the
environment model (the single source of truth), then the notebook is executed in place.
nbval later re-executes the notebooks and compares with these outputs.
"""

from __future__ import annotations

import os
import sys

import nbformat
from nbclient import NotebookClient

from aks_runbook.frontend import HEADLESS_ENV
from aks_runbook.notebook.parameters import parameters_cell
from aks_runbook.run.chapters import ipc_kernel_manager, notebooks_dir


def refresh_parameters(notebook: nbformat.NotebookNode) -> None:
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = parameters_cell()


def regenerate(names: list[str] | None = None) -> None:
    os.environ[HEADLESS_ENV] = "1"  # the kernels show widgets as text: comparable outputs
    for path in sorted(notebooks_dir().glob("[0-9][0-9]-*.ipynb")):
        if names and path.name[:2] not in names:
            continue
        print(f"executing {path.name}", flush=True)
        notebook = nbformat.read(path, as_version=4)
        refresh_parameters(notebook)
        NotebookClient(notebook, timeout=900, kernel_name="python3",
                       kernel_manager_class=ipc_kernel_manager(),
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        for cell in notebook.cells:
            cell.metadata.pop("execution", None)  # timings would churn every diff
        nbformat.write(notebook, path)


if __name__ == "__main__":
    regenerate(sys.argv[1:] or None)
