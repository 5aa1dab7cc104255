"""Mask secrets in everything the runbook writes or shows: by pattern and by known value."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

MASK = "***"
MEMO_SIZE = 200_000  # masked strings remembered: API listings repeat the same ones many times

# Environment variables whose values are secrets wherever they appear.
SECRET_ENV = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|_KEY$|KEY_DATA|CONNECTION_STRING|SAS)",
                        re.IGNORECASE)

# (pattern, replacement); group 1, where present, is kept so the reader sees what was masked.
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # PEM blocks: private keys and certificates.
    (re.compile(r"-----BEGIN ([A-Z ]*(?:PRIVATE KEY|CERTIFICATE))-----.*?-----END \1-----",
                re.DOTALL), r"-----BEGIN \1-----" + MASK + r"-----END \1-----"),
    # kubeconfig credentials, YAML or JSON.
    (re.compile(r"((?<![A-Za-z])(?:client-key-data|client-certificate-data|token|password|"
                r"id-token|refresh-token|access-token)\"?\s*[:=]\s*\"?)[^\s\",}]+",
                re.IGNORECASE),
     r"\1" + MASK),
    # HTTP authorization headers and bearer tokens.
    (re.compile(r"(Bearer\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE), r"\1" + MASK),
    # JSON Web Tokens (service-account tokens, Entra tokens) wherever they appear.
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), MASK),
    # Connection strings (storage, Service Bus, Event Hubs, SQL, Redis).
    (re.compile(r"((?<![A-Za-z])(?:AccountKey|SharedAccessKey|Password|Pwd|"
                r"SharedAccessSignature)\s*=\s*)[^;\s\"']+", re.IGNORECASE), r"\1" + MASK),
    # SAS tokens: the signature is the secret.
    (re.compile(r"([?&]sig=)[A-Za-z0-9%+/=]+", re.IGNORECASE), r"\1" + MASK),
    # Client secrets and passwords on command lines or in JSON/YAML.
    (re.compile(r"((?:--(?:password|client-secret|secret|sp-secret|service-principal-secret|"
                r"token|from-literal=[\w.-]*(?:password|secret|token|key)[\w.-]*)[ =]|"
                r"\"?(?:clientSecret|client_secret|secret|password|adminPassword)\"?\s*[:=]\s*\"?))"
                r"[^\s\",}]+", re.IGNORECASE), r"\1" + MASK),
    # `az login --service-principal -u APP -p SECRET`
    (re.compile(r"(\baz login\b.*?\s(?:-p|--password)[ =])\S+"), r"\1" + MASK),
    # Entra ID client secrets have a recognisable shape: 3 chars, 8Q~, then 31-34 more.
    (re.compile(r"\b[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}\b"), MASK),
]


class Redactor:
    """Masks known secret values and secret-shaped text."""

    def __init__(self, values: Iterable[str] = ()):
        self._values: set[str] = set()
        self._longest_first: list[str] = []
        self._memo: dict[str, str] = {}  # text -> masked text, for the values known now
        self.add(*values)
        self.add(*(v for k, v in os.environ.items() if SECRET_ENV.search(k)))

    def add(self, *values: str) -> None:
        """Register secret values; their base64 forms are masked too (kubeconfig data)."""
        for value in values:
            if value and len(value) >= 6:
                self._values.add(value)
                self._values.add(base64.b64encode(value.encode()).decode())
        self._longest_first = sorted(self._values, key=len, reverse=True)
        self._memo.clear()

    def add_kubeconfig(self, path: str | Path) -> None:
        """Register every credential in a kubeconfig: tokens, keys, certificates."""
        try:
            config = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError):
            return
        for user in config.get("users") or []:
            for key, value in (user.get("user") or {}).items():
                if isinstance(value, str) and key in {"token", "client-key-data", "password",
                                                      "client-certificate-data"}:
                    self.add(value)
                    if key.endswith("-data"):
                        try:
                            self.add(base64.b64decode(value).decode())
                        except ValueError:
                            pass

    def text(self, text: str) -> str:
        if not text:
            return text
        masked = self._memo.get(text)
        if masked is None:
            masked = self._mask(text)
            if len(self._memo) < MEMO_SIZE:
                self._memo[text] = masked
        return masked

    def _mask(self, text: str) -> str:
        for value in self._longest_first:
            text = text.replace(value, MASK)
        # Patterns can disagree on where a value ends next to a mask (`***}`), and each pass may
        # eat one more separator glued to it: apply them until the text stops changing, so
        # masking twice gives what masking once gave (bounded, in case patterns ever cycled).
        for _ in range(len(text) + 1):
            before = text
            for pattern, replacement in PATTERNS:
                text = pattern.sub(replacement, text)
            if text == before:
                break
        return _mask_secret_objects(text)

    def data(self, value: Any) -> Any:
        """Mask inside JSON-like data (API objects recorded in the transcript)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            secret_object = value.get("kind") == "Secret" or {"data", "type", "metadata"} <= set(
                value)
            return {k: (MASK if (_secret_key(k) and isinstance(v, str)) else
                        {dk: MASK for dk in v} if (secret_object and k in ("data", "stringData")
                                                   and isinstance(v, dict)) else self.data(v))
                    for k, v in value.items()}
        return value


_YAML_DATA = re.compile(r"^(?P<indent>[ \t]*)(?:data|stringData):[ \t]*\n"
                        r"(?P<body>(?:(?P=indent)[ \t]+\S[^\n]*\n?)+)", re.MULTILINE)
_JSON_DATA = re.compile(r"(\"(?:data|stringData)\":\s*\{)([^{}]*)(\})")


def _mask_secret_objects(text: str) -> str:
    """The values of a Secret's data/stringData, in kubectl's YAML or JSON output."""
    if not re.search(r"kind\"?:\s*\"?Secret\b", text):
        return text

    def yaml_block(match: re.Match) -> str:
        body = re.sub(r"^(\s+[^:\n]+:)[ \t]*\S.*$", r"\1 " + MASK, match.group("body"),
                      flags=re.MULTILINE)
        return match.group(0)[: match.start("body") - match.start(0)] + body

    text = _YAML_DATA.sub(yaml_block, text)
    return _JSON_DATA.sub(lambda m: m.group(1) + re.sub(r'(":\s*)"[^"]*"', r'\1"' + MASK + '"',
                                                       m.group(2)) + m.group(3), text)


def _secret_key(key: str) -> bool:
    return key.lower() in {"token", "password", "client-key-data", "clientsecret",
                           "client_secret", "secret", "access_token", "refresh_token"}
