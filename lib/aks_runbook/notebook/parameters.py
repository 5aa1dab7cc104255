"""The parameters cell: which names it (and papermill's injected cell after it) assigned, read
from the kernel's input history, and the cell itself, generated from the environment model.
Unknown parameters are caught in `start` (papermill alone only warns)."""

from __future__ import annotations

import ast
import pprint
import types
from pathlib import Path
from typing import Any

import yaml

from aks_runbook import paths
from aks_runbook.params import fields, load

BASELINE = "_aks_runbook_names"
PARAMETERS_HEADER = "# Parameters"  # the parameters cell's first line, and papermill's


def begin(namespace: dict[str, Any]) -> None:
    """Remember the names that exist before the parameters cell (used outside IPython)."""
    namespace[BASELINE] = set(namespace) | {BASELINE}


def declared(namespace: dict[str, Any]) -> dict[str, Any]:
    """The parameters and their values: the names the last run of the parameters cell (and
    papermill's injected cell after it) assigned, read from the kernel's input history, so
    re-running cells in any order judges the parameters, not every name the kernel has seen.
    Without a history (plain Python), the names defined since `begin`."""
    names = parameter_names(namespace.get("In") or namespace.get("_ih") or [])
    if names is None:
        baseline = namespace.get(BASELINE, set())
        names = [k for k, v in namespace.items()
                 if k not in baseline and not k.startswith("_") and k not in ("In", "Out")
                 and not isinstance(v, types.ModuleType | types.FunctionType | type)]
    return {k: namespace[k] for k in names if k in namespace}


def parameter_names(history: list[str]) -> list[str] | None:
    """Names assigned by the latest parameters cell in the input history, plus papermill's
    injected cell when it ran after it; None when no parameters cell ran."""
    cells = []
    for source in reversed(history):
        first = source.lstrip().partition("\n")[0].rstrip()
        if not first.startswith(PARAMETERS_HEADER) or _assigned(source) is None:
            continue  # not a parameters cell, or one that did not run (a syntax error)
        cells.append(source)
        if first != PARAMETERS_HEADER:  # the author's cell; papermill's follows it, if any
            break
    if not cells:
        return None
    names: list[str] = []
    for source in reversed(cells):
        names += [n for n in _assigned(source) or [] if n not in names]
    return names


def _assigned(source: str) -> list[str] | None:
    """The top-level names a cell assigns (`x = 1`, `x: int = 1`, `x = y = 1`, `x, y = ...`)."""

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign) else []
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name) and leaf.id not in names:
                    names.append(leaf.id)
    return names


def parameters_cell(defaults_file: str | Path | None = None) -> str:
    """The `parameters` cell every notebook carries, generated from the environment model.

    Defaults come from environments/local.yaml, so a notebook opened in JupyterLab runs
    against the local cluster as it is.
    """
    defaults_file = defaults_file or paths.project_root() / "environments" / "local.yaml"
    defaults = yaml.safe_load(Path(defaults_file).read_text())
    env = load(defaults)
    values = env.model_dump(mode="json")
    lines = ["# Parameters: papermill injects an environment file's values after this cell.",
             "# Every name is validated by aks_runbook.params in the next cell."]
    for name, info in fields().items():
        value = defaults[name] if name in defaults else values[name]
        # papermill's parameter inspection reads simple annotations only (not `str | None`)
        kind = {dict: "dict", list: "list", bool: "bool", int: "int"}.get(type(value), "str")
        text = pprint.pformat(value, width=96 - len(name), sort_dicts=False)
        if "\n" in text:
            lines.append(f"# {info.description}")
            lines.append(f"{name}: {kind} = " + text.replace("\n", "\n" + " " * (len(name) +
                                                                               len(kind) + 5)))
        else:
            lines.append(f"{name}: {kind} = {text}  # {info.description}")
    return "\n".join(lines)
