"""An attendee's home in the hub: training/<attendee>/home/, seen in their sandbox as
/home/<attendee>. It holds a copy of the notebooks with the attendee's parameters injected
(papermill's injected-parameters cell, so "Run All" works as provisioned), a copy of their
kubeconfig and an environment file pointing at it, and JupyterLab's settings.

Made at every start of the attendee's server: the kubeconfig and the environment file are
refreshed (a `training provision` the next morning renews the token), notebooks the attendee
already has are left as they are (their work).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import yaml
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from aks_runbook.notebook.lab import LAB_LOCALES, SETTINGS
from aks_runbook.params import read_file
from aks_runbook.training.credentials import private_dir, write_private


def inside(attendee: str) -> Path:
    """The home's path inside the sandbox."""
    return Path("/home") / attendee


def prepare(attendee_folder: Path, notebooks_root: Path) -> Path:
    """Create or refresh the home; returns its path on this machine."""
    attendee = attendee_folder.name
    home = private_dir(attendee_folder / "home")
    there = inside(attendee)
    write_private(home / "kubeconfig", (attendee_folder / "kubeconfig").read_text())
    values = read_file(attendee_folder / "environment.yaml")
    values["kubeconfig"] = str(there / "kubeconfig")
    write_private(home / "environment.yaml",
                  "# Your parameters for this training (written by the hub).\n"
                  + yaml.safe_dump(values, sort_keys=False))
    language = values.get("language", "en")
    notebooks = notebooks_root if language == "en" else notebooks_root / language
    for source in sorted(notebooks.glob("[0-9][0-9]-*.ipynb")):
        copy = home / source.name
        if not copy.exists():
            notebook = parameterize_notebook(load_notebook_node(str(source)), values)
            nbformat.write(notebook, copy)
    _settings(home, language)
    return home


def _settings(home: Path, language: str) -> None:
    settings = dict(SETTINGS)
    settings["@jupyterlab/translation-extension/plugin.jupyterlab-settings"] = {
        "locale": LAB_LOCALES[language]}
    folder = home / ".jupyter" / "lab" / "user-settings"
    for name, value in settings.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def remove(attendee_folder: Path) -> None:
    shutil.rmtree(attendee_folder / "home", ignore_errors=True)
