"""A content-addressed cache of the az validator's verdicts.

A verdict is a pure function of what the worker is given (the lines as filled in, with their
files and modes), the contents of the local files those lines name, azure-cli's version and
the worker's own code. The key hashes all of these, so a changed line, file, azure-cli or
worker is a miss, never a stale verdict. Entries live under the project's cache directory
(shared by notebooks, plans, training attendees and tests), readable by their owner only:
a line can hold a value that is nobody else's business.

Set AKS_RUNBOOK_NO_CACHE=1 (or pass `--no-cache` to the commands) to validate afresh; the
validator's own tests always do.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

from aks_runbook import paths

NO_CACHE_ENV = "AKS_RUNBOOK_NO_CACHE"
WORKER_MODULES = ("offline.py", "answers.py", "rules.py", "preview.py")


def enabled() -> bool:
    return os.environ.get(NO_CACHE_ENV, "") in ("", "0")


def folder() -> Path:
    return paths.cache_dir() / "az-validation"


@cache
def _worker_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("azure-cli", "azure-cli-core"):
        digest.update(f"{name}=={metadata.version(name)}\n".encode())
    digest.update(sys.version.encode())
    here = Path(__file__).parent
    for module in WORKER_MODULES:
        digest.update((here / module).read_bytes())
    return digest.hexdigest()


def key(request: dict, files: list[str]) -> str | None:
    """The cache key of one worker request and the local files its lines read (None when a
    file cannot be read: such a run is not cached)."""
    digest = hashlib.sha256(_worker_fingerprint().encode())
    digest.update(json.dumps(request, sort_keys=True).encode())
    try:
        for name in sorted(set(files)):
            digest.update(name.encode() + b"\0")
            digest.update(hashlib.sha256(Path(name).read_bytes()).digest())
    except OSError:
        return None
    return digest.hexdigest()


def load(entry: str) -> list[dict] | None:
    try:
        return json.loads((folder() / entry[:2] / f"{entry}.json").read_text())
    except (OSError, ValueError):
        return None


def store(entry: str, verdicts: list[dict]) -> None:
    """Write atomically (attendees validating side by side may store the same entry)."""
    place = folder() / entry[:2]
    try:
        place.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder(), 0o700)
        handle, temporary = tempfile.mkstemp(dir=place, suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump(verdicts, out)
        os.replace(temporary, place / f"{entry}.json")
    except OSError:
        pass  # a cache that cannot be written only costs time
