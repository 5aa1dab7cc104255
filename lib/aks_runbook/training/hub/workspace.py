"""An attendee's home in the hub: training/<attendee>/home/ on the machine, /home/<attendee> in
their sandbox. It holds a copy of the notebooks with the attendee's parameters injected
(papermill's injected-parameters cell, so "Run All" works as provisioned), their kubeconfig and
an environment file pointing at it, and JupyterLab's settings.

Made inside the sandbox, as the attendee, at every start of their server
(`python -m aks_runbook.training.hub.workspace SEEDS NOTEBOOKS -- COMMAND`, then COMMAND): the
hub never writes into a folder the attendee controls, so a link they plant there leads
nowhere. The kubeconfig and the environment file are refreshed from the seeds (a `training
provision` the next morning renews the token); notebooks the attendee already has are left as
they are (their work).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import yaml
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from aks_runbook.notebook import lab
from aks_runbook.params import read_file
from aks_runbook.training.credentials import write_private


def inside(attendee: str) -> Path:
    """The home's path inside the sandbox."""
    return Path("/home") / attendee


def prepare(home: Path, seeds: Path, notebooks_root: Path) -> None:
    write_private(home / "kubeconfig", (seeds / "kubeconfig").read_text())
    values = read_file(seeds / "environment.yaml")
    values["kubeconfig"] = str(home / "kubeconfig")
    write_private(home / "environment.yaml",
                  "# Your parameters for this training (written by the hub).\n"
                  + yaml.safe_dump(values, sort_keys=False))
    language = values.get("language", "en")
    notebooks = notebooks_root if language == "en" else notebooks_root / language
    for source in sorted(notebooks.glob("[0-9][0-9]-*.ipynb")):
        copy = home / source.name
        if not os.path.lexists(copy):
            nbformat.write(parameterize_notebook(load_notebook_node(str(source)), values), copy)
    for name, value in lab.settings(language).items():
        path = home / ".jupyter" / "lab" / "user-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def main(argv: list[str]) -> None:
    seeds, notebooks, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: python -m aks_runbook.training.hub.workspace SEEDS "
                         "NOTEBOOKS -- COMMAND")
    prepare(Path.home(), Path(seeds), Path(notebooks))
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
