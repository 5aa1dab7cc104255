"""Who attends: a roster CSV (a `name` column, optionally `email`) or a number of attendees.

Every bad line is reported, with its number, before anything is created.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from aks_runbook.params import Environment
from aks_runbook.training import namespace_of

COLUMNS = ("name", "email")
TRAINER = "trainer"  # the hub's login for the trainer (training/hub): never an attendee's
MAX_COUNT = 99  # attendee01 .. attendee99: the longest name a prefix allows


def _prefix_rule() -> tuple[re.Pattern[str], str]:
    """An attendee's name is their `prefix` parameter: take its rule from params."""
    field = Environment.model_fields["prefix"]
    pattern = next(m.pattern for m in field.metadata if getattr(m, "pattern", None))
    return re.compile(pattern), "2-10 lower-case letters or digits, starting with a letter"


NAME, NAME_RULE = _prefix_rule()
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class RosterError(ValueError):
    """The roster has bad lines; the message names each one."""


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str = ""

    @property
    def namespace(self) -> str:
        return namespace_of(self.name)


def numbered(count: int) -> list[Attendee]:
    """`--attendees N`: attendee01 .. attendeeNN."""
    if not 1 <= count <= MAX_COUNT:
        raise RosterError(f"--attendees {count}: must be 1-{MAX_COUNT} (more attendees: use "
                          f"--roster FILE.csv with a name column)")
    return [Attendee(f"attendee{n:02d}") for n in range(1, count + 1)]


def read(path: str | Path) -> list[Attendee]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets write a byte-order mark
    except FileNotFoundError:
        raise RosterError(f"roster {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RosterError(f"roster {path}: cannot read it as UTF-8 text: {error}") from None
    return parse(text, str(path))


def parse(text: str, source: str = "roster") -> list[Attendee]:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise RosterError(f"{source} line 1: expected a header line naming the columns "
                          f"(name, and optionally email)")
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    if "name" not in header:
        raise RosterError(f"{source} line 1: no 'name' column in the header {lines[0]!r} "
                          f"(columns read: {', '.join(COLUMNS)}; others are ignored)")
    problems = []
    attendees: list[Attendee] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        where = f"{source} line {number}"
        if not line.strip():
            problems.append(f"{where}: empty line")
            continue
        fields = [f.strip() for f in next(csv.reader([line]))]
        if len(fields) != len(header):
            problems.append(f"{where}: {len(fields)} field(s), the header has {len(header)} "
                            f"({', '.join(header)})")
            continue
        row = dict(zip(header, fields, strict=True))
        name, email = row["name"], row.get("email", "")
        if not name:
            problems.append(f"{where}: empty name")
        elif not NAME.fullmatch(name):
            problems.append(f"{where}: name {name!r} cannot be used: it must be {NAME_RULE} "
                            f"(it becomes the prefix and the namespace {namespace_of('<name>')})")
        elif name == TRAINER:
            problems.append(f"{where}: name {name!r} is the trainer's login on the hub; "
                            f"give the attendee another name")
        elif name in seen:
            problems.append(f"{where}: name {name!r} is a duplicate of line {seen[name]}")
        else:
            seen[name] = number
        if email and not EMAIL.fullmatch(email):
            problems.append(f"{where}: email {email!r} is not an address")
        attendees.append(Attendee(name, email))
    if not problems and not attendees:
        problems.append(f"{source}: no attendees (only a header line)")
    if problems:
        raise RosterError(f"{len(problems)} bad line(s) in the roster; nothing was created:\n  "
                          + "\n  ".join(problems))
    return attendees
