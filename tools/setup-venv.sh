#!/usr/bin/env bash
# Create or bring up to date the project's virtual environment with exactly the versions in
# requirements.lock (refresh the lock with `make lock`), then the project itself, editable.
# uv does it in seconds: pip installs the locked uv into the venv first. Where uv cannot be
# installed (or with AKS_RUNBOOK_NO_UV=1), plain pip installs the same lock, in a few minutes.
#   tools/setup-venv.sh [VENV]    (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
lock=requirements.lock
python=$venv/bin/python

[[ -x $python ]] || python3 -m venv "$venv"
uv_pin=$(grep -E '^uv==' "$lock")

if [[ ${AKS_RUNBOOK_NO_UV:-} != 1 ]] &&
    "$python" -m pip install --quiet --disable-pip-version-check "$uv_pin"; then
    echo "Installing the locked Python packages ($lock) with uv..."
    # The per-package lines (+ name==version) would be hundreds; keep uv's summary lines.
    # Bytecode is compiled now, once: where PYTHONDONTWRITEBYTECODE is set (as on the project's
    # machine) every process would otherwise compile azure-cli, pandas … from source again
    # (15 s for each az validation, seconds for each notebook kernel).
    "$venv/bin/uv" pip sync --compile-bytecode --python "$python" "$lock" 2>&1 |
        { grep -v '^ [-+~] ' || true; }
    "$venv/bin/uv" pip install --quiet --python "$python" --no-deps -e .
    "$venv/bin/uv" pip check --quiet --python "$python" ||
        { echo "error: $lock does not satisfy pyproject.toml; run: make lock" >&2; exit 1; }
else
    echo "uv unavailable: installing the locked Python packages ($lock) with pip" \
        "(2-3 minutes)..."
    "$python" -m pip install --disable-pip-version-check -r "$lock"
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
    "$python" -m pip check >/dev/null ||
        { echo "error: $lock does not satisfy pyproject.toml; run: make lock" >&2; exit 1; }
fi
