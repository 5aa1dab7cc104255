"""The hub's service that ends a torn-down attendee's hub session: whenever
training/logins.json changes or goes (checked every second; the hub's API is asked only then,
and every minute), it deletes from the hub every user whose login is gone (the trainer
excepted). Deleting a user stops their server (and kernels) and removes their cookies and API
tokens: a JupyterLab left open after `training teardown` stops working at once, not at its
next login. Run by the hub as a managed service (jupyterhub_config.py), with its API token in
its environment.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path


def _call(method: str, path: str) -> object:
    request = urllib.request.Request(
        os.environ["JUPYTERHUB_API_URL"].rstrip("/") + path, method=method,
        headers={"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = answer.read()
    return json.loads(body) if body else None


def attendees(logins_file: Path) -> set[str]:
    try:
        return set(json.loads(logins_file.read_text()).get("attendees", {}))
    except FileNotFoundError:
        return set()


def revoke_once(logins_file: Path, keep: set[str]) -> bool:
    """Delete every user whose login is gone; False if one could not be deleted yet."""
    allowed = attendees(logins_file) | keep
    done = True
    for name in [user["name"] for user in _call("GET", "/users")
                 if user["name"] not in allowed]:
        try:
            _call("DELETE", f"/users/{name}")
            print(f"revoked {name}: their login is gone (training teardown)", flush=True)
        except urllib.error.HTTPError as error:  # e.g. still starting or stopping
            print(f"could not revoke {name} yet: {error.code}", flush=True)
            done = False
    return done


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m aks_runbook.training.hub.revoker")
    parser.add_argument("--logins", type=Path, required=True)
    parser.add_argument("--keep", action="append", default=[], help="never revoked (trainer)")
    args = parser.parse_args()
    seen, asked = None, 0.0
    while True:
        try:
            stamp = args.logins.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp != seen or time.monotonic() - asked > 60:
            try:
                if revoke_once(args.logins, set(args.keep)):
                    seen, asked = stamp, time.monotonic()  # else: again in a second
            except (urllib.error.URLError, OSError, ValueError) as error:
                print(f"revoker: {error}", flush=True)
        time.sleep(1)


if __name__ == "__main__":
    main()
