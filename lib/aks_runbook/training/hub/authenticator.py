"""The hub's logins: exactly the provisioned attendees, with the passwords of the handout, and
the trainer. Nothing else gets in.

This file imports only the standard library and JupyterHub, so the same class serves a hub on
AKS (Zero to JupyterHub ships it as a file: training/hub/values.py).

- `logins_file` (training/logins.json, written by `training provision`) is read at every login:
  a teardown (which deletes it) refuses every attendee from that moment, and users whose
  login is gone are logged out within `auth_refresh_age` seconds.
- Passwords are compared as scrypt hashes with `hmac.compare_digest`; an unknown name costs
  the same scrypt as a known one, so timing does not tell which names exist.
- Failed logins are rate-limited per name and per client address: after `max_failures`
  failures of one name within `lockout_seconds` (or `max_failures_per_address` from one
  address: a class behind one NAT shares it, so its limit is higher), that name (or address)
  is refused until the window has passed, even with the right password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import defaultdict, deque

from jupyterhub.auth import Authenticator
from traitlets import Dict, Integer, Unicode

# What an unknown name is checked against (so it costs one scrypt, like a known name).
_DECOY = {"n": 2**14, "r": 8, "p": 1, "salt": base64.b64encode(b"0" * 16).decode(),
          "hash": base64.b64encode(b"0" * 64).decode()}


def matches(password: str, entry: dict) -> bool:
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(entry["salt"]),
                            n=int(entry["n"]), r=int(entry["r"]), p=int(entry["p"]),
                            maxmem=64 * 2**20)
    return hmac.compare_digest(digest, base64.b64decode(entry["hash"]))


class RosterAuthenticator(Authenticator):
    logins_file = Unicode(config=True, help="training/logins.json: the attendees' password "
                                            "hashes (read at every login)"
                          ).tag(allow_config=True)  # it says who may log in
    admin_name = Unicode("trainer", config=True, help="the trainer's login name")
    admin_login = Dict(config=True, help="the trainer's password hash: n, r, p, salt, hash")
    max_failures = Integer(5, config=True, help="failed logins of a name before a lockout")
    max_failures_per_address = Integer(30, config=True,
                                       help="failed logins from an address before a lockout")
    lockout_seconds = Integer(60, config=True, help="the window and the lockout, in seconds")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _attendees(self) -> dict[str, dict]:
        try:
            with open(self.logins_file) as handle:
                return json.load(handle).get("attendees", {})
        except FileNotFoundError:
            return {}  # torn down, or not provisioned yet: no attendee logs in
        except (OSError, ValueError) as error:
            self.log.error("cannot read the logins %s: %s", self.logins_file, error)
            return {}

    def _entry(self, name: str) -> dict | None:
        if name == self.admin_name:
            return self.admin_login or None
        return self._attendees().get(name)

    def _locked(self, *keys: str) -> bool:
        now = time.monotonic()
        for key in keys:
            recent = self._failures[key]
            while recent and now - recent[0] > self.lockout_seconds:
                recent.popleft()
            limit = self.max_failures_per_address if key.startswith("address:") else \
                self.max_failures
            if len(recent) >= limit:
                return True
        return False

    async def authenticate(self, handler, data):
        name = str(data.get("username", "")).strip()
        password = str(data.get("password", ""))
        address = handler.request.remote_ip if handler is not None else ""
        keys = (f"name:{name}", f"address:{address}")
        entry = self._entry(name)
        # Always one scrypt, whatever the name, the lockout or the answer.
        good = matches(password, entry or _DECOY) and entry is not None
        if self._locked(*keys):
            self.log.warning("login refused for %r from %s: too many failures", name, address)
            return None
        if not good:
            for key in keys:
                self._failures[key].append(time.monotonic())
            self.log.warning("failed login for %r from %s", name, address)
            return None
        self._failures.pop(keys[0], None)
        return {"name": name, "admin": name == self.admin_name}

    def check_allowed(self, username, authentication=None):
        return username == self.admin_name or username in self._attendees()

    async def refresh_user(self, user, handler=None, **kwargs):
        """False (log out) once the user's login is gone, e.g. after a teardown."""
        return self.check_allowed(user.name)

