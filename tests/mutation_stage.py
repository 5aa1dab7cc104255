"""Prepare the folder `make mutate` runs mutmut in (see [tool.mutmut] in pyproject.toml).

mutmut names modules after their path below src/ (this project keeps its code in lib/), and it
never mutates a decorated function: the posture checks (@check), the parameter rules (pydantic
validators) and properties would go untested. So the folder gets src/, a copy of lib/ in which
each decorated function in the files to mutate becomes a plain function `<name>_undecorated`
(mutated) called by a decorated wrapper of the original name (not mutated). Behaviour is
unchanged; the tests, environments, docs and conftest.py are linked, not copied.

    python tests/mutation_stage.py mutants/.stage
"""

from __future__ import annotations

import ast
import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEPT = {"staticmethod", "classmethod"}  # decorators mutmut handles itself


def _name(decorator: ast.expr) -> str:
    return decorator.id if isinstance(decorator, ast.Name) else ""


def _wrapper(node: ast.FunctionDef, lines: list[str], method: bool) -> list[str]:
    """The decorated original, reduced to a call of the undecorated copy."""
    indent = " " * node.col_offset
    first = node.decorator_list[0].lineno - 1
    decorators = lines[first:node.lineno - 1]
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args]
    receiver = names[0] + "." if method else ""
    call = names[1:] if method else names
    call += [f"*{args.vararg.arg}"] if args.vararg else []
    call += [f"{a.arg}={a.arg}" for a in args.kwonlyargs]
    call += [f"**{args.kwarg.arg}"] if args.kwarg else []
    return [*decorators,
            f"{indent}def {node.name}({ast.unparse(args)}):\n",
            f"{indent}    return {receiver}{node.name}_undecorated({', '.join(call)})\n"]


def undecorate(source: str) -> str:
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    edits = []  # (first line, last line, replacement), applied bottom-up
    for parent in [tree, *(n for n in tree.body if isinstance(n, ast.ClassDef))]:
        for node in parent.body:
            if not isinstance(node, ast.FunctionDef) or not node.decorator_list:
                continue
            if all(_name(d) in KEPT for d in node.decorator_list):
                continue
            kept = [d for d in node.decorator_list if _name(d) in KEPT]
            indent = " " * node.col_offset
            body = lines[node.lineno - 1:node.end_lineno]
            body[0] = body[0].replace(f"def {node.name}(", f"def {node.name}_undecorated(", 1)
            helper = [f"{indent}@{_name(d)}\n" for d in kept] + body
            method = parent is not tree and not any(_name(d) == "staticmethod" for d in kept)
            edits.append((node.decorator_list[0].lineno - 1, node.end_lineno,
                          _wrapper(node, lines, method) + helper))
    for first, last, replacement in sorted(edits, reverse=True):
        lines[first:last] = replacement
    return "".join(lines)


def stage(folder: Path) -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    mutated = {Path(p).relative_to("src") for p in config["only_mutate"]}
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "src").is_symlink():  # never write through a link into lib/
        (folder / "src").unlink()
    shutil.copy2(ROOT / "pyproject.toml", folder / "pyproject.toml")
    for name in ("tests", "environments", "docs", "conftest.py"):
        link = folder / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name)
    for path in sorted((ROOT / "lib").rglob("*")):
        relative = path.relative_to(ROOT / "lib")
        target = folder / "src" / relative
        if path.is_dir() or "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative in mutated:
            text = undecorate(path.read_text())
            if not target.exists() or target.read_text() != text:  # keep mutmut's cache valid
                target.write_text(text)
        elif not target.exists() or target.stat().st_mtime != path.stat().st_mtime:
            shutil.copy2(path, target)


if __name__ == "__main__":
    stage(Path(sys.argv[1]).resolve())
