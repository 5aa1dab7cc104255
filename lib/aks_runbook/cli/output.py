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


def shorten(text: str, width: int, keep_end: bool = True) -> str:
    """The text in `width` characters: its middle cut (names end in what tells them apart),
    or its end when `keep_end` is false."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if not keep_end:
        return text[:width - 1] + "…"
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


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
        widths = [max([len(h)] + [len(r.cells[n]) for r in rows])
                  for n, h in enumerate(self.header)]
        if width is None:
            return widths
        least = {n: max(len(self.header[n]), 8) for group in self.shrink for n in group}
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
                padded = text if n == last else text.ljust(widths[n] + GAP)
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
                    found.extend(textwrap.wrap(
                        paragraph, width, initial_indent=" " * INDENT,
                        subsequent_indent=" " * INDENT, break_on_hyphens=False) or [""])
        return found


def print_table(table: Table, summary: str, args: argparse.Namespace, stream: TextIO) -> None:
    """The table, when it has rows, then the summary line."""
    wide = args.format == "wide"
    width = width_for(wide, stream)
    if any(rows for _, rows in table.sections):
        for text in table.lines(width, not wide, colour_on(args.color, stream)):
            stream.write(text + "\n")
    stream.write("\n".join(textwrap.wrap(summary, width, subsequent_indent=" " * INDENT,
                                         break_on_hyphens=False)) + "\n")
