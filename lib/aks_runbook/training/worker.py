"""One attendee's notebooks, in a process of its own (run.py starts K of them at a time).

    python -m aks_runbook.training.worker ENV_FILE FOLDER [--only 01,02] [--directory DIR]

Reports on stdout, one JSON object a line: {"cell": 1} per finished cell, {"notebook": {...}}
per notebook, {"error": "..."} when the parameters are refused. It writes no HTML copies, and
forks no kernels of its own: the training run does both, in one process for every attendee
(run.py, run.kernel_service). SIGTERM stops it like Ctrl-C, so the kernel is shut down and the
executed notebook so far is kept.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from aks_runbook.params import ParameterError
from aks_runbook.run import kernel_service


def _emit(event: dict) -> None:
    print(json.dumps(event), flush=True)


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aks_runbook.training.worker")
    parser.add_argument("env_file")
    parser.add_argument("folder")
    parser.add_argument("--only")
    parser.add_argument("--directory")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    kernel_service.client()  # the training run forks this worker's kernels
    # Imported here, not at the top: a kernel forked by this worker's own fork server (when no
    # training run lends its kernel server) imports this module again as multiprocessing's
    # __mp_main__, and must not get the run's modules with it
    from aks_runbook.run import chapters as runs

    only = args.only.split(",") if args.only else None
    try:
        result = runs.run(args.env_file, only=only, folder=Path(args.folder),
                          directory=Path(args.directory) if args.directory else None,
                          on_cell=lambda: _emit({"cell": 1}),
                          on_notebook=lambda n: _emit({"notebook": vars(n)}), progress=False,
                          html_copies=False)
    except ParameterError as error:
        _emit({"error": str(error)})
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - a kernel that never starts, ...: report it
        _emit({"error": f"{type(error).__name__}: {error}"})
        raise
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
