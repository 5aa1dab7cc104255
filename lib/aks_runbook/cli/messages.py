"""`python -m aks_runbook.cli.messages update|check [ja]`: the package's message catalog
(locale/<language>/LC_MESSAGES/aks_runbook.po) kept in line with its messages: the check
catalog's titles, remediation and differs, and every string marked _() or N_() in the source."""

from __future__ import annotations

import sys


def extra() -> list[tuple[str, str]]:
    from aks_runbook import checks

    return checks.messages()


def main(argv: list[str]) -> int:
    from aks_runbook import i18n, paths

    command = argv[0] if argv else ""
    lang = argv[1] if len(argv) > 1 else "ja"
    if command == "update":
        path = i18n.update(lang, extra())
        print(f"updated {path.relative_to(paths.project_root())}")
        return 0
    if command == "check":
        wrong = i18n.problems(lang, extra())
        for problem in wrong:
            print(problem, file=sys.stderr)
        return 1 if wrong else 0
    print("usage: python -m aks_runbook.cli.messages update|check [ja]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
