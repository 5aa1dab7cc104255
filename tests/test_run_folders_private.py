"""Issue 17: run folders are owner-only like training/: runs/ and every folder below it 0700,
every file 0600, whoever writes it (papermill, the kernel, the summary). A run holds an
attendee's namespace listings and commands; on a shared machine no one else may read them.

A notebook of one cell (no cluster): what is checked is the folder the run leaves.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import nbformat

from aks_runbook.run import chapters as runs

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "environments" / "local.yaml"


def _notebook(directory: Path) -> Path:
    directory.mkdir()
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                   "display_name": "Python 3"}
    book.metadata["language_info"] = {"name": "python"}
    parameters = nbformat.v4.new_code_cell("environment = None")
    parameters.metadata["tags"] = ["parameters"]
    # the kernel writes a file of its own into the run folder, as a chapter's transcript does
    book.cells = [parameters, nbformat.v4.new_code_cell(
        "import os, pathlib\n"
        "pathlib.Path(os.environ['AKS_RUNBOOK_RUN_DIR'], 'kernel-wrote.txt').write_text('x')")]
    nbformat.write(book, directory / "01-tiny.ipynb")
    return directory


def _modes(top: Path) -> dict[str, int]:
    found = {}
    for root, dirs, files in os.walk(top):
        for entry in [root, *(os.path.join(root, name) for name in dirs + files)]:
            found[os.path.relpath(entry, top)] = stat.S_IMODE(os.lstat(entry).st_mode)
    return found


def test_a_run_folder_and_everything_in_it_is_owner_only(tmp_path):
    root = tmp_path / "runs"
    root.mkdir(mode=0o755)
    (root / "older").mkdir(mode=0o755)  # a run written before: hidden behind runs/ now
    umask = os.umask(0o022)  # a usual umask: files would be 0644 without the run's own
    try:
        result = runs.run(LOCAL, directory=_notebook(tmp_path / "books"), runs_root=root)
    finally:
        os.umask(umask)
    assert result.ok, runs.failure_message(result)
    assert os.environ.get("AKS_RUNBOOK_RUN_DIR") is None
    modes = _modes(root)
    files = {name for name in modes if os.path.isfile(root / name)}
    assert {f"local/{result.folder.name}/{name}" for name in (
        "parameters.json", "01-tiny.ipynb", "01-tiny.html", "kernel-wrote.txt",
        "summary.json")} <= files, files
    for name, mode in modes.items():
        if name == "older":
            continue
        wanted = 0o600 if name in files else 0o700
        assert mode == wanted, f"{name} is {oct(mode)}"
    assert os.umask(0o022) == 0o022, "the caller's umask is back"
