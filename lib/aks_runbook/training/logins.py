"""The attendees' hub logins: `training/handout.csv` (name,password, for the trainer to hand
out) and `training/logins.json` (what the hub checks: a salted scrypt hash per attendee, each
with the parameters that made it, so the hub's authenticator needs nothing from this package).

Provisioning again keeps every password already handed out; an attendee whose handout line
is lost gets a new one. Teardown removes both files, which revokes every login at once.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import secrets
from pathlib import Path

from aks_runbook.training.credentials import write_private

HANDOUT = "handout.csv"
LOGINS = "logins.json"
# scrypt's parameters (RFC 7914): 16 MiB and about 50 ms per check on this project's machine,
# so guessing is slow and the hub still answers a login at once.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
PASSWORD_BYTES = 12  # 16 characters of base64url: 96 bits


def password_hash(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 2**20)


def entry(password: str) -> dict:
    """A login's salted hash, with the parameters that made it."""
    salt = secrets.token_bytes(16)
    digest = password_hash(password, salt, **SCRYPT)
    return {**SCRYPT, "salt": base64.b64encode(salt).decode(),
            "hash": base64.b64encode(digest).decode()}


def handout(folder: Path) -> dict[str, str]:
    """name -> password, as handed out (empty if there is no handout)."""
    try:
        text = (folder / HANDOUT).read_text()
    except FileNotFoundError:
        return {}
    return {row["name"]: row["password"] for row in csv.DictReader(io.StringIO(text))}


def read(folder: Path) -> dict:
    try:
        return json.loads((folder / LOGINS).read_text())
    except FileNotFoundError:
        return {"attendees": {}}


def ensure(folder: Path, names: list[str]) -> list[str]:
    """Give every named attendee a login (keeping those already handed out); returns the names
    that got a new password."""
    given, logins = handout(folder), read(folder)
    stored = logins["attendees"]
    new = [name for name in names if name not in given or name not in stored]
    if not new:
        return []
    for name in new:
        given[name] = secrets.token_urlsafe(PASSWORD_BYTES)
        stored[name] = entry(given[name])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "password"])
    writer.writerows(sorted(given.items()))
    # The hashes first: a handed-out password always works.
    write_private(folder / LOGINS, json.dumps({"attendees": stored}, indent=1,
                                              sort_keys=True) + "\n")
    write_private(folder / HANDOUT, out.getvalue())
    return new


def revoke(folder: Path) -> list[Path]:
    """Remove the logins (first, so the hub refuses them at once) and the handout."""
    removed = []
    for name in (LOGINS, HANDOUT):
        path = folder / name
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed
