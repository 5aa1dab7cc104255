"""Validate az command lines offline with azure-cli's own code (see azoffline for how)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Literal

Status = Literal["valid", "invalid", "not-validated"]


@dataclass(frozen=True)
class Validation:
    line: str
    status: Status
    command: str | None
    message: str
    depth: str  # "parser" (parser + validators) or "deep" (aks create's real handler too)
    suggestion: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    def describe(self) -> str:
        mark = {"valid": "valid", "invalid": "INVALID", "not-validated": "not validated"}
        text = f"[{mark[self.status]}{' (deep)' if self.ok and self.depth == 'deep' else ''}] "
        text += self.line
        if not self.ok:
            text += f"\n    {self.message}"
            if self.suggestion:
                text += f"\n    did you mean: {self.suggestion}"
        return text


def join_continuations(text: str) -> list[str]:
    """Lines of a script, with backslash continuations joined and blanks/comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current.strip() and not current.lstrip().startswith("#"):
            lines.append(" ".join(current.split()))
        current = ""
    if current.strip():
        lines.append(" ".join(current.split()))
    return lines


def validate(lines: list[str], deep: bool = True, timeout: float = 600) -> list[Validation]:
    """Validate each line in a child process running azure-cli's parser; order is kept."""
    if not lines:
        return []
    proc = subprocess.run([sys.executable, "-m", "aks_runbook.azoffline"],
                          input=json.dumps({"lines": lines, "deep": deep}),
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"the az validator failed to run (exit {proc.returncode}):\n"
                           f"{proc.stderr.strip()[-2000:]}")
    return [Validation(**item) for item in json.loads(proc.stdout)]
