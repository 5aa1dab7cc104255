"""Validate az command lines offline with azure-cli's own code (see azure.offline for how).

Each line gets one of four statuses, saying exactly what was checked:

- ``valid (deep)``: parsed, validated, and run through the command's real handler up to the
  request it exists for (its first write to Azure, or the read a show/list/get command makes);
  lookups on the way answered from earlier lines of the same run or with placeholders;
- ``parsed``: azure-cli's parser and validators accepted it, and nothing more ran (only with
  ``deep=False``);
- ``invalid``: azure-cli (or an AKS rule azure-cli does not check, see azrules) rejected it;
  the message is azure-cli's, or names the rule and its docs page;
- ``not validated``: the check could not decide, and the message says why (an extension or an
  aks-preview flag, a call the offline answers cannot model, a local file that is missing, a
  command on this machine's az state, not an az line …).

Placeholders (``$VAR``, ``${VAR}``, ``$(...)``, ``<name>``) are replaced by plausible values
for the flag they are the value of, and the result lists them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shlex
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from aks_runbook.azure import cache as azcache

Status = Literal["valid (deep)", "parsed", "invalid", "not validated"]
STATUSES: tuple[Status, ...] = ("valid (deep)", "parsed", "invalid", "not validated")


@dataclass(frozen=True)
class Validation:
    line: str  # the az line as written (placeholders not filled in)
    status: Status
    command: str | None  # the az command azure-cli recognised, e.g. "aks create"
    message: str
    warnings: list[str] = field(default_factory=list)  # azure-cli's, e.g. deprecations
    placeholders: dict[str, str] = field(default_factory=dict)  # as written -> value used
    suggestion: str | None = None
    file: str | None = None
    line_number: int | None = None  # where the line starts in `file` (1-based)

    @property
    def ok(self) -> bool:
        """Accepted by what ran: the handler (deep) or, with deep=False, the parser."""
        return self.status in ("valid (deep)", "parsed")

    @property
    def depth(self) -> str:
        """How far azure-cli's code ran: "handler", "parser" or "none" (not decided)."""
        return {"valid (deep)": "handler", "parsed": "parser", "invalid": "handler"
                if self.command else "parser"}.get(self.status, "none")

    @property
    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line_number}" if self.line_number else self.file

    def describe(self) -> str:
        where = f"{self.location}  " if self.location else ""
        text = [f"[{self.status}] {where}{self.line}"]
        if self.status != "valid (deep)":
            text.append(f"    {self.message}")
        if self.suggestion:
            text.append(f"    did you mean: {self.suggestion}")
        text += [f"    warning: {w}" for w in self.warnings]
        if self.placeholders:
            filled = ", ".join(f"{k} -> {v}" for k, v in self.placeholders.items())
            text.append(f"    placeholders filled in: {filled}")
        return "\n".join(text)

    def to_json(self) -> dict:
        """The stable JSON shape of one result (see the README)."""
        return {"file": self.file, "line": self.line_number, "text": self.line,
                "command": self.command, "status": self.status, "message": self.message,
                "warnings": list(self.warnings), "placeholders": dict(self.placeholders),
                "suggestion": self.suggestion}


@dataclass(frozen=True)
class AzLine:
    """An az command line found in a file, with where it starts."""

    text: str
    file: str | None = None
    line_number: int | None = None


# ---- reading shell scripts and Markdown ---------------------------------------------------

SHELL_FENCES = {"bash", "sh", "shell", "zsh", "azurecli", "azurecli-interactive", "azure-cli",
                "console", "shell-session"}
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^\s`{]*)")
_HEREDOC = re.compile(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?")


def join_continuations(text: str) -> list[str]:
    """Lines of a script, with backslash continuations joined and blanks/comments dropped."""
    return [line for _, line in _logical_lines(list(enumerate(text.splitlines(), 1)))]


def _logical_lines(numbered: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """(start line, text) of each command, continuations joined, comments and heredocs out."""
    lines: list[tuple[int, str]] = []
    current, start, heredoc = "", 0, None
    for number, raw in numbered:
        if heredoc:
            if raw.strip() == heredoc:
                heredoc = None
            continue
        stripped = raw.rstrip()
        if not current:
            start = number
        if stripped.endswith("\\") and not stripped.endswith("\\\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        text = " ".join(current.split())
        if text and not text.startswith("#"):
            lines.append((start, text))
            if match := _HEREDOC.search(text):
                heredoc = match.group(1)
        current = ""
    if current.strip():
        lines.append((start, " ".join(current.split())))
    return lines


def _split_commands(line: str) -> list[str]:
    """The simple commands of a shell line: split at | && || ; outside quotes and $(...)."""
    parts, current, quote, depth, i = [], "", None, 0, 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                current += line[i:i + 2]
                i += 2
                continue
        elif c in "'\"":
            quote = c
        elif c == "\\":
            current += line[i:i + 2]
            i += 2
            continue
        elif line.startswith("$(", i):
            depth += 1
            current += "$("
            i += 2
            continue
        elif c == ")" and depth:
            depth -= 1
        elif c == "#" and (not current or current[-1] == " "):
            break  # a comment
        elif depth == 0 and c == "|" and (current.rfind("<") > current.rfind(">") or
                                          current.rfind("[") > current.rfind("]")):
            pass  # a choice inside a <a|b> or [a|b] placeholder, not a pipe
        elif depth == 0 and c in "|;&":
            parts.append(current)
            current = ""
            i += 2 if line[i:i + 2] in ("||", "&&") else 1
            continue
        elif depth == 0 and c == ">" and current.rfind("<") > current.rfind(">"):
            pass  # the end of a <placeholder, with spaces>
        elif depth == 0 and c == ">" and (not current or current[-1] in " 0123456789&"):
            parts.append(re.sub(r"\s[0-9&]+$", "", current))  # a redirection ends it
            current = ""
            break
        current += c
        i += 1
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def az_commands(line: str) -> list[str]:
    """The az commands in one logical shell line (also inside VAR=$(az ...))."""
    found = []
    for part in _split_commands(line):
        part = re.sub(r"^(?:(?:if|then|else|elif|do|while|until|time|sudo|!)\s+)+", "", part)
        inner = re.fullmatch(r"(?:(?:export|local|readonly|declare)\s+)?[A-Za-z_][A-Za-z0-9_]*="
                             r"[\"']?\$\((.*)\)[\"']?", part)
        if inner:
            found += az_commands(inner.group(1))
        elif part == "az" or part.startswith("az "):
            found.append(part)
    return found


def read_script(text: str, file: str | None = None,
                numbered: list[tuple[int, str]] | None = None) -> list[AzLine]:
    """The az lines of a shell script."""
    numbered = numbered if numbered is not None else list(enumerate(text.splitlines(), 1))
    return [AzLine(command, file, number) for number, line in _logical_lines(numbered)
            for command in az_commands(line)]


def read_markdown(text: str, file: str | None = None) -> list[AzLine]:
    """The az lines of a Markdown file's shell code blocks (```bash, ```azurecli, ```console …)."""
    found: list[AzLine] = []
    fence, language, indent, block = None, "", "", []
    for number, raw in enumerate(text.splitlines(), 1):
        match = _FENCE.match(raw)
        if fence is None:
            if match:
                indent, fence, language = match.group(1), match.group(2), match.group(3).lower()
                block = []
            continue
        if match and match.group(2).startswith(fence) and not raw.strip().strip(fence[0]):
            if language in SHELL_FENCES:
                found += read_script("", file, _console(block) if language in (
                    "console", "shell-session") else block)
            fence = None
            continue
        block.append((number, raw[len(indent):] if raw.startswith(indent) else raw.lstrip()))
    return found


def _console(block: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Commands of a console transcript: `$ ` lines and their continuations; output dropped."""
    kept, continuing = [], False
    for number, line in block:
        if line.startswith("$ "):
            kept.append((number, line[2:]))
        elif continuing:
            kept.append((number, line[2:] if line.startswith("> ") else line))
        else:
            continue
        continuing = line.rstrip().endswith("\\")
    return kept


def read_file(path: str | Path) -> list[AzLine]:
    """The az lines of a Markdown file (.md, .markdown) or a shell script (anything else)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".md", ".markdown"):
        return read_markdown(text, str(path))
    return read_script(text, str(path))


# ---- placeholders and local files ---------------------------------------------------------

ZERO = "00000000-0000-0000-0000-000000000000"
_RG = f"/subscriptions/{ZERO}/resourceGroups/demo1"
SUBNET_ID = f"{_RG}/providers/Microsoft.Network/virtualNetworks/demo1/subnets/demo1"
IDENTITY_ID = f"{_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/demo1"
GENERIC = "demo1"  # a short name that is valid for every Azure resource kind
PASSWORD = "Placeholder-Passw0rd!"


def fake_ssh_key() -> str:
    """A well-formed (never usable) ssh-rsa public key."""
    def chunk(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data
    blob = chunk(b"ssh-rsa") + chunk(b"\x01\x00\x01") + chunk(b"\x00" + b"\xc5" * 256)
    return f"ssh-rsa {base64.b64encode(blob).decode()} placeholder@aks-runbook"


# The value a placeholder gets, by the flag it is the value of.
FLAG_VALUES = {
    **dict.fromkeys(["--name", "-n", "--resource-group", "-g", "--cluster-name",
                     "--nodepool-name", "--vnet-name", "--subnet-name", "--vault-name",
                     "--registry", "--workspace-name", "--identity-name", "--route-table-name",
                     "--firewall-name", "--dns-name-prefix", "--node-resource-group",
                     "--account-name", "--public-ip-address", "--nsg", "--route-table",
                     "--display-name", "--namespace", "--subnet", "--vnet"], GENERIC),
    **dict.fromkeys(["--location", "-l"], "eastus"),
    **dict.fromkeys(["--vnet-subnet-id", "--pod-subnet-id", "--apiserver-subnet-id",
                     "--node-subnet-id", "--system-node-subnet-id", "--appgw-subnet-id"],
                    SUBNET_ID),
    **dict.fromkeys(["--assign-identity", "--assign-kubelet-identity"], IDENTITY_ID),
    "--scope": _RG,
    **dict.fromkeys(["--attach-acr", "--detach-acr"],
                    f"{_RG}/providers/Microsoft.ContainerRegistry/registries/demo1"),
    "--workspace-resource-id":
        f"{_RG}/providers/Microsoft.OperationalInsights/workspaces/demo1",
    "--azure-keyvault-kms-key-vault-resource-id":
        f"{_RG}/providers/Microsoft.KeyVault/vaults/demo1",
    "--azure-keyvault-kms-key-id":
        "https://demo1.vault.azure.net/keys/demo1/0123456789abcdef0123456789abcdef",
    **dict.fromkeys(["--aad-admin-group-object-ids", "--aad-tenant-id", "--assignee",
                     "--assignee-object-id", "--object-id", "--tenant", "--tenant-id",
                     "--subscription", "--client-id", "--app-id", "--id", "--spn"], ZERO),
    "--api-server-authorized-ip-ranges": "131.107.0.0/16",
    **dict.fromkeys(["--address-prefixes", "--address-prefix", "--subnet-prefixes",
                     "--vnet-address-prefix", "--source-addresses", "--destination-addresses",
                     "--source-address-prefixes", "--destination-address-prefixes"],
                    "10.1.0.0/16"),
    "--service-cidr": "10.0.0.0/16",
    "--ppg": f"{_RG}/providers/Microsoft.Compute/proximityPlacementGroups/demo1",
    "--azure-monitor-workspace-resource-id":
        f"{_RG}/providers/microsoft.monitor/accounts/demo1",
    "--grafana-resource-id": f"{_RG}/providers/microsoft.dashboard/grafana/demo1",
    **dict.fromkeys(["--remote-vnet", "--virtual-network", "-v"],
                    f"{_RG}/providers/Microsoft.Network/virtualNetworks/demo1"),
    "--pod-cidr": "10.244.0.0/16",
    "--dns-service-ip": "10.0.0.10",
    **dict.fromkeys(["--next-hop-ip-address", "--private-ip-address"], "10.1.0.4"),
    "--ip-address": "131.107.1.1",
    **dict.fromkeys(["--kubernetes-version", "-k"], "1.33"),
    **dict.fromkeys(["--node-count", "-c", "--count"], "3"),
    "--min-count": "1",
    "--max-count": "5",
    **dict.fromkeys(["--max-pods", "-m"], "30"),
    "--node-osdisk-size": "128",
    **dict.fromkeys(["--node-vm-size", "--size"], "Standard_D4ds_v5"),
    **dict.fromkeys(["--tags", "--nodepool-labels", "--labels", "--nodepool-tags"], "env=dev"),
    **dict.fromkeys(["--node-taints", "--nodepool-taints"], "sku=gpu:NoSchedule"),
    "--ssh-key-value": "<fake ssh key>",
    **dict.fromkeys(["--admin-password", "--windows-admin-password", "--password"], PASSWORD),
    **dict.fromkeys(["--admin-username", "--windows-admin-username", "-u"], "azureuser"),
    "--tier": "standard",
    "--network-plugin": "azure",
    "--network-plugin-mode": "overlay",
    "--network-policy": "azure",
    "--network-dataplane": "azure",
    "--outbound-type": "loadBalancer",
    "--os-sku": "AzureLinux",
    "--mode": "User",
    "--auto-upgrade-channel": "patch",
    "--node-os-upgrade-channel": "NodeImage",
    "--load-balancer-sku": "standard",
    "--role": "Reader",
    **dict.fromkeys(["--zones", "-z"], "1"),
    "--enable-addons": "azure-policy",
    "--query": "id",
    **dict.fromkeys(["--output", "-o"], "json"),
}
# Flags whose plausible value depends on the command: (command prefix, flag) -> value.
COMMAND_FLAG_VALUES = {
    ("acr", "--sku"): "Standard",
    ("aks", "--sku"): "base",
    ("keyvault", "--sku"): "standard",
    ("network public-ip", "--sku"): "Standard",
    ("aks", "-s"): "Standard_D4ds_v5",
    ("aks", "-a"): "azure-policy",
    ("netappfiles", "--size"): "4",
}
# When the flag says nothing, the placeholder's own name may (checked in order).
NAME_HINTS = [
    (r"SUBNET.*_?ID$", SUBNET_ID),
    (r"IDENTITY.*_?ID$", IDENTITY_ID),
    (r"^SUB(_?ID)?$|SUBSCRIPTION|TENANT|OBJECT_?ID|CLIENT_?ID|APP_?ID|PRINCIPAL|GROUP_?ID|"
     r"GUID", ZERO),
    (r"(^|_)KEY$", "cGxhY2Vob2xkZXIta2V5LW5vdC1hLXNlY3JldA=="),  # base64, as account keys are
    (r"LOCATION|REGION", "eastus"),
    (r"(^|_)IP$|_IP_|ADDRESS", "131.107.1.1"),
    (r"CIDR|RANGES?$", "10.1.0.0/16"),
    (r"VERSION", "1.33"),
    (r"(^|_)(COUNT|NUM)", "3"),
    (r"RESOURCE_?ID$", f"{_RG}/providers/Microsoft.Storage/storageAccounts/demo1"),
    (r"PASSWORD|SECRET", PASSWORD),
]

_DOLLAR = re.compile(r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?])")
_ANGLE = re.compile(r"<[A-Za-z0-9](?:[^<>\n]*[^<>\s])?>"
                    r"|\{[a-z][a-z0-9-]*\}"  # {resource-group}
                    r"|\[[A-Za-z0-9][\w.-]*(?:\|[\w.-]+)+\]"  # [system|none]
                    r"|\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b(?=[\s\"']|$)")  # KUBERNETES_VERSION
# docs notation for an optional argument: [--flag] or [--flag <value>]
_OPTIONAL = re.compile(r"\s\[--[A-Za-z][^\]\[]*\]"
                       # and the shell's ${VAR:+--flag value}: an argument only when VAR is set
                       r"|\s\$\{[A-Za-z_][A-Za-z0-9_]*:[+-](?:[^{}]|\$\{[^{}]*\})*\}")
_MARK = re.compile(r"@@PH(\d+)@@")


@dataclass
class Filled:
    """A line ready for the worker, and what was filled in or found missing on the way."""

    text: str
    placeholders: dict[str, str] = field(default_factory=dict)
    generic: dict[str, str] = field(default_factory=dict)  # placeholder -> flag, value guessed
    missing: dict[str, str] = field(default_factory=dict)  # local file -> flag
    files: list[str] = field(default_factory=list)  # local files the line reads


def _spans(text: str) -> list[tuple[int, int]]:
    """Where the placeholders are ($VAR, ${VAR}, $(...), `...`, <name>); not in '...'."""
    spans, i, quote = [], 0, None
    while i < len(text):
        c = text[i]
        starts = c == "<" or (quote is None and (c in "{[" or c.isupper()) and (
            i == 0 or text[i - 1] in " ="))
        angle = _ANGLE.match(text, i) if starts else None
        if angle:
            spans.append(angle.span())
            i = angle.end()
            continue
        if quote == "'":
            quote = None if c == "'" else quote
        elif c == "'" and quote is None:
            quote = "'"
        elif c == '"':
            quote = None if quote == '"' else '"'
        elif c == "\\":
            i += 1
        elif text.startswith("$(", i):
            depth, end = 0, i + 1
            while end < len(text):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
                end += 1
            spans.append((i, end + 1))
            i = end
        elif c == "`" and (end := text.find("`", i + 1)) > 0:
            spans.append((i, end + 1))
            i = end
        elif c == "$" and (dollar := _DOLLAR.match(text, i)):
            spans.append(dollar.span())
            i = dollar.end()
            continue
        i += 1
    return spans


def _hint(placeholder: str) -> str | None:
    name = re.sub(r"[^A-Za-z0-9_]", "_", placeholder).strip("_").upper()
    for pattern, value in NAME_HINTS:
        if re.search(pattern, name):
            return value
    return None


def _flag_value(command: str, flag: str | None) -> str | None:
    if flag is None:
        return None
    for (prefix, name), value in COMMAND_FLAG_VALUES.items():
        if name == flag and (command == prefix or command.startswith(prefix + " ")):
            return value
    value = FLAG_VALUES.get(flag)
    return fake_ssh_key() if value == "<fake ssh key>" else value


def fill(line: str) -> Filled:
    """The line with plausible values for its placeholders and missing local files."""
    optional = _OPTIONAL.findall(line)
    if optional:  # checked without the optional parts the docs show in brackets
        filled = fill(_OPTIONAL.sub("", line))
        filled.placeholders.update({o.strip(): "(left out)" for o in optional})
        return filled
    spans = _spans(line)
    originals = [line[a:b] for a, b in spans]
    marked = line
    for n, (a, b) in reversed(list(enumerate(spans))):
        marked = f"{marked[:a]}@@PH{n}@@{marked[b:]}"
    try:
        tokens = shlex.split(marked, comments=True)
    except ValueError:
        return Filled(line)
    command = " ".join(t for t in _words(tokens))
    filled = Filled(line)
    changed = bool(spans)
    for i, token in enumerate(tokens):
        flag, value = _flag_of(tokens, i)
        if _bare_name_for_an_id(flag, value):
            filled.placeholders[value] = _flag_value(command, flag) or GENERIC
            tokens[i] = filled.placeholders[value]
            changed = True
        elif _MARK.search(value):
            tokens[i] = token[: len(token) - len(value)] + _fill_value(
                value, flag, command, originals, filled)
        changed |= _local_file(tokens, i, flag, filled)
    if changed:
        filled.text = shlex.join(tokens)
    return filled


def _words(tokens: list[str]) -> list[str]:
    words = []
    for token in tokens[1:]:
        if token.startswith("-") or _MARK.search(token):
            break
        words.append(token)
    return words


def _flag_of(tokens: list[str], i: int) -> tuple[str | None, str]:
    """The flag token i is the value of (if any) and the value part of the token."""
    token = tokens[i]
    if token.startswith("--") and "=" in token:
        name, value = token.split("=", 1)
        return name, value
    previous = tokens[i - 1] if i else ""
    if re.fullmatch(r"--?[A-Za-z][A-Za-z0-9-]*", previous) and not token.startswith("-"):
        return previous, token
    return None, token


def _bare_name_for_an_id(flag: str | None, value: str) -> bool:
    """A docs placeholder written as a bare name where an id belongs (mySubnetIDResourceID)."""
    id_flag = (flag or "").endswith("-id") or flag in (
        "--assign-identity", "--assign-kubelet-identity", "--scope", "--ppg")
    named_so = re.fullmatch(r"(my|your)[A-Z]\w*|\w*(Id|ID|ResourceId|ResourceID)", value)
    return (id_flag and str(FLAG_VALUES.get(flag or "", "")).startswith("/subscriptions/")
            and named_so is not None)


def _fill_value(value: str, flag: str | None, command: str, originals: list[str],
                filled: Filled) -> str:
    whole = _MARK.fullmatch(value)
    for match in list(_MARK.finditer(value))[::-1]:
        original = originals[int(match.group(1))]
        choice = re.fullmatch(r"[<\[]([A-Za-z0-9][\w.-]*)\|[^<>]*[>\]]", original)  # <A|B>
        guess = choice.group(1) if choice else _flag_value(command, flag)
        if not whole:  # part of a value: an id's segment, an address before /32 …
            cidr = re.fullmatch(r"([\d.]+)/\d+", guess or "")
            before = value[: match.start()].lower()
            guess = (ZERO if before.endswith("/subscriptions/") else
                     GENERIC if before.startswith("/subscriptions/") else  # a name in an id
                     cidr.group(1).replace(".0", ".1") if cidr else None)
        guess = guess or _hint(original)
        if guess is None:
            guess = GENERIC
            filled.generic[original] = flag or "a positional argument"
        filled.placeholders.setdefault(original, guess)
        value = value[: match.start()] + guess + value[match.end():]
    return value


# Flags whose value is a local file azure-cli reads (besides any @file value).
FILE_FLAGS = {"--ssh-key-value", "--kubelet-config", "--linux-os-config", "--http-proxy-config",
              "--custom-ca-trust-certificates", "--template-file", "--config-file"}


def _local_file(tokens: list[str], i: int, flag: str | None, filled: Filled) -> bool:
    """Point ~ at the real home (the worker has its own) and note files missing here."""
    token = tokens[i]
    at = token.startswith("@") and len(token) > 1
    if not at and (flag not in FILE_FLAGS or token.startswith(("ssh-", "ecdsa-", "{", "["))):
        return False
    path = token[1:] if at else token
    real = os.path.expanduser(path)
    if os.path.exists(real):
        tokens[i] = ("@" if at else "") + real
        filled.files.append(real)
        return real != path
    filled.missing[path] = flag or token
    if flag == "--ssh-key-value":
        tokens[i] = fake_ssh_key()  # check the rest of the line with a well-formed key
        return True
    return False


def settle(raw: dict, source: AzLine, filled: Filled) -> Validation:
    """The worker's verdict, made honest about what was filled in or missing."""
    status, message = raw["status"], raw["message"]
    mentioned = [(ph, flag) for ph, flag in filled.generic.items()
                 if flag in message or filled.placeholders[ph] in message]
    mentioned += [(ph, "its value") for ph, value in filled.placeholders.items()
                  if (len(value) > 2 and (f"'{value}'" in message or f"'{ph}'" in message))
                  or (len(value) >= 8 and value in message)]
    if status == "invalid" and mentioned:
        ph, flag = mentioned[0]
        status = "not validated"
        message = (f"placeholder {ph} in {flag}: no plausible value is known for it, and "
                   f"azure-cli rejected the one tried ({filled.placeholders[ph]}): {message}")
    missing = ", ".join(filled.missing)
    if filled.missing and (status != "invalid" or any(
            p in message or f in message for p, f in filled.missing.items())):
        before = status
        status = "not validated"
        message = f"local file missing ({missing}): not found here. Without it the line is " \
                  f"{before}: {message}"
    return Validation(line=source.text, status=status, command=raw["command"],
                      message=message, warnings=raw["warnings"],
                      placeholders=filled.placeholders, suggestion=raw["suggestion"],
                      file=source.file, line_number=source.line_number)


def _examples(file: str | None) -> bool:
    """A Markdown page's code blocks are examples, not one script run top to bottom."""
    return bool(file) and Path(file).suffix.lower() in (".md", ".markdown")


def validate(lines: list[str | AzLine], deep: bool = True, timeout: float = 600,
             plain: bool = False, cached: bool = True) -> list[Validation]:
    """Validate each line in one child process running azure-cli's code; order is kept.

    The lines form one run: a resource that an earlier line creates (the body of the request
    its handler reached) answers the lookups of later lines, e.g. a plan's `az aks create`
    answers the GET of a later `az aks update`.

    `plain` reports azure-cli's own verdict, without this project's tables of extension
    commands and aks-preview flags (the tests use it to check those tables). With `cached`
    (and AKS_RUNBOOK_NO_CACHE unset) a run seen before is answered from azure.cache."""
    if not lines:
        return []
    sources = [line if isinstance(line, AzLine) else AzLine(line) for line in lines]
    filled = [fill(source.text) for source in sources]
    # Lines of one file form one run; a line whose values are placeholders stays out of it
    # (two different docs placeholders would otherwise name the same made-up resource).
    request = {"lines": [f.text for f in filled], "deep": deep, "plain": plain,
               "scopes": [s.file for s in sources],
               "examples": [_examples(s.file) for s in sources],
               "isolated": [bool(f.placeholders) for f in filled]}
    entry = (azcache.key(request, [name for f in filled for name in f.files])
             if cached and azcache.enabled() else None)
    verdicts = azcache.load(entry) if entry else None
    if verdicts is None:
        verdicts = _run_worker(request, timeout)
        if entry:
            azcache.store(entry, verdicts)
    return [settle(raw, source, f)
            for raw, source, f in zip(verdicts, sources, filled, strict=True)]


class _Validator:
    """This process's az validator: `python -m aks_runbook.azure.offline --serve`, started on
    first use and kept, so azure-cli is imported once per process (a notebook kernel, a CLI
    command, a test session) instead of once per validation run; each run is still a fresh
    fork of it (see offline.serve). It ends with this process (its stdin closes)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.errors = None

    def ask(self, request: dict, timeout: float) -> list[dict]:
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                self._start()
            assert self.process and self.process.stdin and self.process.stdout
            try:
                self.process.stdin.write(json.dumps(request) + "\n")
                self.process.stdin.flush()
                ready, _, _ = select.select([self.process.stdout], [], [], timeout)
                line = self.process.stdout.readline() if ready else None
            except BrokenPipeError:
                line = ""
            if line is None:
                self.stop()
                raise subprocess.TimeoutExpired("az validator", timeout)
            if not line:
                code, detail = self.process.wait(), self._stderr()
                self.process = None
                raise RuntimeError(f"the az validator failed to run (exit {code}):\n{detail}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"the az validator failed to run:\n{reply['error']}")
        return reply["results"]

    def _start(self) -> None:
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aks_runbook.azure.offline", "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, text=True)

    def _stderr(self) -> str:
        if self.errors is None:
            return ""
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace").strip()[-2000:]

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


VALIDATOR = _Validator()


def _run_worker(request: dict, timeout: float) -> list[dict]:
    return VALIDATOR.ask(request, timeout)


def counts(results: list[Validation]) -> dict[str, int]:
    return {status: sum(r.status == status for r in results) for status in STATUSES}
