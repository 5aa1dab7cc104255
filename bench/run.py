"""Run every benchmark (`make bench`). Pass --cold to include a cold build of the binaries."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent

if __name__ == "__main__":
    for script in sorted(HERE.glob("*.py")):
        if script.name != "run.py":
            print(f"== {script.stem}", flush=True)
            sys.argv = [str(script), *sys.argv[1:]]
            try:
                runpy.run_path(str(script), run_name="__main__")
            except SystemExit as done:
                if done.code:
                    sys.exit(done.code)
