"""Views of objects for the check tests: as listed from a cluster, or loaded from files."""

from __future__ import annotations

import json

from aks_runbook.cluster.objects import LISTS, PLURALS, load_files


def cluster_view(*objects: dict) -> dict[str, list[dict]]:
    """A view listed from a cluster: every kind listed, these objects in it."""
    found: dict[str, list[dict]] = {kind: [] for kind in LISTS}
    for obj in objects:
        found[PLURALS[obj["kind"]]].append(obj)
    return found


def files_view(tmp_path, *objects: dict) -> dict[str, list[dict]]:
    """The same objects written to a manifest file and loaded back, as --from-files does."""
    (tmp_path / "objects.json").write_text(json.dumps({"kind": "List", "items": list(objects)}))
    return load_files([tmp_path]).objects
