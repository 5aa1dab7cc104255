"""Where aks-runbook keeps its cache (built binaries) and its state (the local cluster)."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout this package was installed from (editable install, as the README does)."""
    return Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """Shared across checkouts: builds are keyed by version, so every clone reuses them."""
    if "AKS_RUNBOOK_CACHE" in os.environ:
        return Path(os.environ["AKS_RUNBOOK_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aks-runbook"


def state_dir() -> Path:
    """Per checkout, so two clones never drive each other's cluster."""
    if "AKS_RUNBOOK_STATE" in os.environ:
        return Path(os.environ["AKS_RUNBOOK_STATE"]).expanduser()
    return project_root() / ".state"
