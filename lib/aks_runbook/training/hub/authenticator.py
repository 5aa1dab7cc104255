"""The hub's logins: exactly the provisioned attendees, with the passwords of the handout, and
the trainer. Nothing else gets in.

This file imports only the standard library and JupyterHub, so the same class serves a hub on
AKS (Zero to JupyterHub ships it as a file: training/hub/values.py).

- `logins_file` (training/logins.json, written by `training provision`) is read at every login:
  a teardown (which deletes it) refuses every attendee from that moment, and users whose
  login is gone are logged out within `auth_refresh_age` seconds.
- Passwords are compared as scrypt hashes with `hmac.compare_digest`; an unknown name costs
  the same scrypt as a known one, so timing does not tell which names exist. The scrypt runs
  in a thread, two at a time, so a flood of logins does not stop the hub answering.
- Failed logins are rate-limited per name and client address, and per address: after
  `max_failures` failures of one name from one address within `lockout_seconds` (or
  `max_failures_per_address` from one address, higher: a class behind one NAT shares it),
  that pair (or address) is refused until the window has passed, even with the right
  password, and without a scrypt. Per pair, not per name: a stranger cannot lock the trainer
  or an attendee out from elsewhere (and 96-bit passwords make guessing one name hopeless).
  The address is the proxy's (the last X-Forwarded-For entry, trusted only on a connection
  from the proxy's own address), not a header the client sets; an attendee's sandbox reaches
  the hub from an address of its own, which never logs in.
- The trainer is no JupyterHub admin: jupyterhub_config.py gives them a role that sees and
  starts or stops every server, without access to any (an attendee's server is theirs).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import time
from collections import defaultdict, deque

from jupyterhub.auth import Authenticator
from traitlets import Dict, Integer, List, Unicode

# The trainer's role: the admin page, every user and server seen, started and stopped; no
# access to an attendee's server (JupyterHub's admin role would include it).
TRAINER_SCOPES = ["admin-ui", "list:users", "read:users", "servers"]

SANDBOX = "127.0.0.2"  # the address attendees' sandboxes reach the hub from (relay.py)

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
    proxy_networks = List(Unicode(), ["127.0.0.1/32", "::1/128"], config=True,
                          help="where the proxy connects from: only its X-Forwarded-For is "
                               "believed (on Kubernetes, the cluster's pod addresses)")
    max_failures = Integer(5, config=True, help="failed logins of a name before a lockout")
    max_failures_per_address = Integer(30, config=True,
                                       help="failed logins from an address before a lockout")
    lockout_seconds = Integer(60, config=True, help="the window and the lockout, in seconds")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._hashing = asyncio.Semaphore(2)

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
        locked = False
        for key in keys:
            recent = self._failures.get(key)
            while recent and now - recent[0] > self.lockout_seconds:
                recent.popleft()
            if recent is not None and not recent:
                del self._failures[key]  # nothing is kept for names tried once long ago
                continue
            limit = self.max_failures_per_address if key.startswith("address:") else \
                self.max_failures
            locked = locked or len(recent or ()) >= limit
        return locked

    def client_address(self, handler) -> str:
        """Who is logging in. Through the proxy (a connection from 127.0.0.1 or ::1), the
        address it appended to X-Forwarded-For; else the connection's own address. X-Real-Ip
        and the rest of X-Forwarded-For come from the client and are ignored."""
        if handler is None:
            return ""
        address = getattr(handler.request.connection.context, "address", None)
        peer = address[0] if isinstance(address, tuple) else handler.request.remote_ip
        try:
            from_proxy = any(ipaddress.ip_address(peer) in ipaddress.ip_network(network)
                             for network in self.proxy_networks)
        except ValueError:
            from_proxy = False
        if not from_proxy:
            return peer
        forwarded = handler.request.headers.get("X-Forwarded-For", "")
        return forwarded.split(",")[-1].strip() or peer

    async def authenticate(self, handler, data):
        name = str(data.get("username", "")).strip()
        password = str(data.get("password", ""))
        address = self.client_address(handler)
        if address == SANDBOX:  # an attendee's sandbox reaches the hub's API, never a login
            self.log.warning("login refused for %r from an attendee's sandbox", name)
            return None
        keys = (f"name:{name}@{address}", f"address:{address}")
        if self._locked(*keys):
            self.log.warning("login refused for %r from %s: too many failures", name, address)
            return None
        entry = self._entry(name)
        async with self._hashing:  # one scrypt, whatever the name or the answer
            good = await asyncio.to_thread(matches, password, entry or _DECOY)
        if not good or entry is None:
            for key in keys:
                self._failures[key].append(time.monotonic())
            self.log.warning("failed login for %r from %s", name, address)
            return None
        self._failures.pop(keys[0], None)
        return {"name": name}

    def check_allowed(self, username, authentication=None):
        return username == self.admin_name or username in self._attendees()

    async def refresh_user(self, user, handler=None, **kwargs):
        """False (log out) once the user's login is gone, e.g. after a teardown."""
        return self.check_allowed(user.name)

