"""The package's layering (README, "How it fits together"): no cycle between its parts, and the
lower parts never import the upper ones. Read from the source, so a new import that breaks it
fails here before anyone has to untangle it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lib" / "aks_runbook"
# what each part may never import (directly or through another part)
NEVER = {
    "analysis": {"checks", "notebook", "run", "cli", "training", "azure", "cluster", "targets"},
    "azure": {"checks", "notebook", "run", "cli", "training", "cluster", "targets"},
    "cluster": {"checks", "notebook", "run", "cli", "training", "azure", "analysis"},
    "checks": {"notebook", "run", "cli", "training"},
    "run": {"notebook", "cli", "training"},
}


def part(module: str) -> str:
    """`aks_runbook.azure.plan` -> azure; `aks_runbook.params` -> params."""
    return module.split(".")[1]


def imports() -> dict[str, set[str]]:
    """part -> the parts it imports."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(p for p in relative.parts if p != "__init__")
        if name == "aks_runbook":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aks_runbook"):
                targets = ([f"aks_runbook.{a.name}" for a in node.names]
                           if node.module == "aks_runbook" else [node.module])
                for target in targets:
                    if part(target) != part(name):
                        found.setdefault(part(name), set()).add(part(target))
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_part_of_the_package_reaches_itself_through_another():
    graph = imports()
    assert {p for p in graph if p in reachable(graph, p)} == set()


@pytest.mark.parametrize("lower", sorted(NEVER))
def test_lower_parts_never_reach_the_upper_ones(lower):
    assert reachable(imports(), lower) & NEVER[lower] == set()


def test_at_most_twelve_modules_sit_at_the_top_of_the_package():
    modules = [p.name for p in PACKAGE.glob("*.py")]
    assert len(modules) <= 12, modules
