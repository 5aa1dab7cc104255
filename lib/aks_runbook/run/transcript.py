"""The run's transcript: one JSON line per command or API read, already redacted.

A recording is replayed in order: each request takes the next unused entry with the same
command (or API call), so a presenter's replay shows exactly what the recorded run showed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aks_runbook import paths
from aks_runbook.params import ParameterError


class ReplayMissing(LookupError):
    """The replayed notebook asked for something the recording does not contain."""


class Transcript:
    """Appends entries to a JSONL file (or keeps them in memory when no path is given)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        self.entries: list[dict[str, Any]] = []
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, entry: dict[str, Any]) -> None:
        entry = {"seq": len(self.entries) + 1, **entry}
        self.entries.append(entry)
        if self.path:
            with self.path.open("a") as handle:
                handle.write(json.dumps(entry, sort_keys=True) + "\n")


class Recording:
    """A recorded transcript, served back in order. A run's transcript holds every notebook;
    `scope` (the chapter) keeps each notebook to its own entries."""

    def __init__(self, path: str | Path, scope: str | None = None):
        self.path = Path(path)
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            raise ReplayMissing(f"transcript not found: {self.path}") from None
        entries = [json.loads(line) for line in lines if line.strip()]
        self.entries = [e for e in entries if scope is None or e.get("scope") == scope]
        self._used: set[int] = set()

    def next(self, key: str) -> dict[str, Any]:
        for index, entry in enumerate(self.entries):
            if index not in self._used and entry.get("key") == key:
                self._used.add(index)
                return entry
        recorded = sorted({e.get("key", "") for e in self.entries})
        near = [k for k in recorded if k.split(" ")[:2] == key.split(" ")[:2]][:5]
        raise ReplayMissing(
            f"not in the recording {self.path}: {key}\n"
            + (f"recorded commands like it: {near}\n" if near else "")
            + "Record the run again with the same parameters (target local), or replay the "
              "notebooks the recording was made from."
        )


def resolve_transcript(path: str | None) -> Path:
    """A transcript path as given, else relative to the project (notebooks run in notebooks/)."""
    if not path:
        raise ParameterError("transcript = None: target 'replay' needs a recorded transcript")
    candidate = Path(path)
    if not candidate.is_absolute() and not candidate.exists():
        candidate = paths.project_root() / path
    if not candidate.is_file():
        raise ParameterError(f"transcript = {path!r}: no such file; give the transcript.jsonl "
                             f"of a recorded run (runs/<environment>/<timestamp>/)")
    return candidate
