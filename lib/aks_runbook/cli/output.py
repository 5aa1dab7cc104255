"""What the analysis commands print for people in a terminal.

A table has one line per row that fits WIDTH columns (the widest columns shortened with …),
the long text of a row wrapped below it, indented; `-o wide` keeps every column whole and
wraps at WIDE. Colour only on a terminal, never when NO_COLOR is set (https://no-color.org);
`--color always|never` overrides both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import textwrap
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

WIDTH = 120
WIDE = 160
INDENT = 6
NARROWEST = 60  # a smaller terminal still gets this many columns
GAP = 2
COLOURS = {"critical": "1;31", "high": "31", "medium": "33", "low": "36", "info": "2",
           "fail": "31", "pass": "32", "not-applicable": "2",
           "allow": "32", "deny": "2", "unknown": "33", "heading": "1"}


def colour_on(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    return stream.isatty() and not os.environ.get("NO_COLOR")


def width_for(wide: bool, stream: TextIO) -> int:
    width = WIDE if wide else WIDTH
    if stream.isatty():
        width = max(NARROWEST, min(width, shutil.get_terminal_size((width, 24)).columns))
    return width


def counted(values: Iterable[str], order: Iterable[str]) -> str:
    """"2 critical, 1 low" in the given order, leaving out what does not occur."""
    counts = Counter(values)
    return ", ".join(f"{counts[v]} {v}" for v in order if counts[v])


def columns(text: str) -> int:
    """The terminal columns text takes: two for a wide (e.g. Japanese) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int, from_end: bool = False) -> str:
    """As many characters as fit in `width` columns, from the start (or the end)."""
    taken, used = [], 0
    for ch in (reversed(text) if from_end else text):
        used += columns(ch)
        if used > width:
            break
        taken.append(ch)
    return "".join(reversed(taken) if from_end else taken)


def shorten(text: str, width: int, keep_end: bool = True) -> str:
    """The text in `width` columns: its middle cut (names end in what tells them apart),
    or its end when `keep_end` is false."""
    if columns(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if not keep_end:
        return _fit(text, width - 1) + "…"
    head = (width - 1) // 2
    return _fit(text, head) + "…" + _fit(text, width - 1 - head, from_end=True)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - columns(text))


def _tokens(text: str) -> Iterable[str]:
    """Words of narrow characters, and each space and wide character on its own."""
    word = ""
    for ch in text:
        if ch.isspace() or columns(ch) == 2:
            if word:
                yield word
            word = ""
            yield ch
        else:
            word += ch
    if word:
        yield word


def wrap(text: str, width: int, indent: str = "", subsequent: str | None = None) -> list[str]:
    """textwrap.wrap for text with wide characters too: lines of at most `width` columns,
    broken at spaces or between wide characters (Japanese has no spaces between words)."""
    subsequent = indent if subsequent is None else subsequent
    if columns(text) == len(text):  # narrow only: exactly what textwrap does
        return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=subsequent,
                             break_on_hyphens=False)
    lines, line = [], indent
    for token in _tokens(" ".join(text.split())):
        if columns(line) + columns(token) > width and line.strip():
            lines.append(line.rstrip())
            line = subsequent
            if token.isspace():
                continue
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


@dataclass
class Row:
    cells: list[str]
    colours: list[str | None] = field(default_factory=list)  # a COLOURS key per cell
    details: list[str] = field(default_factory=list)  # paragraphs wrapped below the row


@dataclass
class Table:
    header: list[str]
    # the columns that give way when a line is too wide: group by group, the widest of a
    # group first
    shrink: list[list[int]]
    keep_end: set[int] = field(default_factory=set)  # cut these columns' middle, not their end
    sections: list[tuple[str | None, list[Row]]] = field(default_factory=list)

    def widths(self, width: int | None) -> list[int]:
        rows = [row for _, rows in self.sections for row in rows]
        widths = [max([columns(h)] + [columns(r.cells[n]) for r in rows])
                  for n, h in enumerate(self.header)]
        if width is None:
            return widths
        least = {n: max(columns(self.header[n]), 8) for group in self.shrink for n in group}
        for group in self.shrink:
            while sum(widths) + GAP * (len(widths) - 1) > width:
                n = max(group, key=lambda n: widths[n])
                if widths[n] <= least[n]:
                    break
                widths[n] -= 1
        return widths

    def lines(self, width: int, fit: bool, colour: bool) -> list[str]:
        widths = self.widths(width if fit else None)
        last = len(widths) - 1

        def line(cells: list[str], colours: list[str | None]) -> str:
            out = []
            for n, text in enumerate(cells):
                text = shorten(text, widths[n], n in self.keep_end)
                padded = text if n == last else pad(text, widths[n] + GAP)
                key = colours[n] if n < len(colours) else None
                if colour and key in COLOURS:
                    padded = f"\033[{COLOURS[key]}m{text}\033[0m" + padded[len(text):]
                out.append(padded)
            return "".join(out).rstrip()

        found = [line([h.upper() for h in self.header], [])]
        for heading, rows in self.sections:
            if heading is not None:
                found.append(f"\033[{COLOURS['heading']}m{heading}\033[0m" if colour
                             else heading)
            for row in rows:
                found.append(line(row.cells, row.colours))
                for paragraph in row.details:
                    found.extend(wrap(paragraph, width, " " * INDENT) or [""])
        return found


def print_table(table: Table, summary: str, args: argparse.Namespace, stream: TextIO) -> None:
    """The table, when it has rows, then the summary line."""
    wide = args.format == "wide"
    width = width_for(wide, stream)
    if any(rows for _, rows in table.sections):
        for text in table.lines(width, not wide, colour_on(args.color, stream)):
            stream.write(text + "\n")
    stream.write("\n".join(wrap(summary, width, "", " " * INDENT)) + "\n")
