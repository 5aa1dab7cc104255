"""Benchmark: 400 az lines through one offline validator call (goal: <= 15 s), then the same
lines answered from the validation cache (azure.cache)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from aks_runbook.azure.validate import AzLine, counts, read_file, validate

GOAL_SECONDS = 15.0
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "az-corpus.md"


def lines(total: int = 400) -> list[AzLine]:
    """The corpus, again and again with other names, plus unknown commands."""
    corpus = read_file(CORPUS)
    out: list[AzLine] = []
    for round_ in range(total):
        if round_ % 10 == 9:
            out.append(AzLine(f"az aks frobnicate{round_} -g rg -n aks"))
        elif round_ % 10 == 4:
            out.append(AzLine(f"az nosuchgroup{round_} list"))
        else:
            line = corpus[round_ % len(corpus)]
            out.append(AzLine(line.text.replace("-g rg ", f"-g rg{round_} "), line.file,
                              line.line_number))
        if len(out) == total:
            break
    return out


def main() -> bool:
    batch = lines()
    started = time.perf_counter()
    results = validate(batch, cached=False)
    elapsed = time.perf_counter() - started
    validate(batch)  # fills the cache (a worker run) unless an earlier run did
    again = time.perf_counter()
    cached = validate(batch)
    print(f"the same {len(batch)} lines from the cache: {time.perf_counter() - again:.2f} s"
          + ("" if cached == results else " (DIFFERENT verdicts)"))
    summary = ", ".join(f"{n} {status}" for status, n in counts(results).items())
    print(f"{len(batch)} az lines in one worker call: {elapsed:.1f} s "
          f"({1000 * elapsed / len(batch):.0f} ms a line; {summary}); goal <= {GOAL_SECONDS} s: "
          + ("met" if elapsed <= GOAL_SECONDS else "NOT met"))
    return elapsed <= GOAL_SECONDS


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
