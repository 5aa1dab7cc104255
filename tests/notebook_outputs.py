"""Small notebooks for a test to run, and an executed notebook's outputs read the way nbval
compares them."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat


def write_notebook(path: Path, *sources: str) -> None:
    """A notebook of these code cells, for the python3 kernel."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                       "display_name": "Python 3"}
    nbformat.write(notebook, path)


def outputs(path: Path) -> list[list[tuple]]:
    """Each code cell's outputs; consecutive stream chunks merged (as nbval does), images
    left out (a PNG's bytes are not stable across matplotlib runs)."""
    result = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        merged: list[tuple] = []
        for out in cell.get("outputs", []):
            if out.get("name") and merged and merged[-1][0] == out["name"]:
                merged[-1] = (out["name"], merged[-1][1] + out["text"], "{}")
                continue
            data = {k: v for k, v in (out.get("data") or {}).items() if k != "image/png"}
            merged.append((out.get("name"), out.get("text"), json.dumps(data, sort_keys=True)))
        result.append(merged)
    return result


def text_of(path: Path) -> str:
    return "\n".join(str(part) for cell in outputs(path) for out in cell for part in out)
