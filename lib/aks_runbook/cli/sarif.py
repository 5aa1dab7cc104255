"""Findings as SARIF 2.1.0, as GitHub code scanning and Azure DevOps read it: one rule per
check (its help: the fix and the controls it cites), one result per failing resource.

A result from manifest files points at the file (relative to the current folder, where CI runs
from the repository's root) and the line its document starts on; on a live cluster, or for a
resource no file defines, it names the resource as a logical location (kind/namespace/name).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aks_runbook.i18n import _

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
ROOT = "%SRCROOT%"


def control_tags(public_ids: str) -> list[str]:
    """"kubescape C-0046; checkov CKV_K8S_25, CKV_K8S_37; CIS AKS 4.2.7, 4.2.8" -> one tag per
    id, each with its source ("CIS AKS 4.2.8"). An id in parentheses ("CIS 4.4.2 (kubescape
    C-0206)") is one more; other remarks in parentheses are left out."""
    def ids(match: re.Match) -> str:
        inner = match.group(1)
        return f"; {inner}" if re.search(r"C-\d{4}|CKV|CIS ", inner) else ""

    tags = []
    for group in re.sub(r"\s*\(([^)]*)\)", ids, public_ids).split(";"):
        prefix = ""
        for part in (p.strip() for p in group.split(",")):
            if not part:
                continue
            if " " in part:
                prefix = part.rsplit(" ", 1)[0]
                tags.append(part)
            else:
                tags.append(f"{prefix} {part}".strip())
    return tags


def rule(check: Any) -> dict:
    help_text = check.remediation
    if check.public_ids:
        help_text += "\n\n" + _("Cited controls: {ids}.").format(ids=check.public_ids)
    if check.differs:
        help_text += "\n\n" + _("How this check differs from them: {differs}").format(
            differs=check.differs)
    return {
        "id": check.id,
        "name": check.title,
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": f"{check.title} ({check.severity}; cites "
                                    f"{check.public_ids or 'no public control'})"},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": LEVELS[check.severity]},
        "properties": {"tags": ["security", "kubernetes", *control_tags(check.public_ids)],
                       "security-severity": f"{check.score:.1f}",
                       "severity": check.severity},
    }


def location(resource: str, source: Any | None) -> dict:
    kind, *rest = resource.split("/")
    logical = {"name": rest[-1] if rest else kind, "fullyQualifiedName": resource,
               "kind": "resource"}
    found: dict[str, Any] = {"logicalLocations": [logical]}
    if source is not None:
        found["physicalLocation"] = {"artifactLocation": artifact(Path(source.path)),
                                     "region": {"startLine": source.line}}
    return found


def artifact(path: Path) -> dict:
    """Relative to the current folder when the file is below it, else an absolute file URI."""
    absolute = path.resolve()
    try:
        return {"uri": absolute.relative_to(Path.cwd().resolve()).as_posix(), "uriBaseId": ROOT}
    except ValueError:
        return {"uri": absolute.as_uri()}


def log(findings: Sequence[Any], checks: Sequence[Any], locate: Callable[[str], Any | None]
        ) -> str:
    """The SARIF log: `checks` are the rules (every check that was run), `locate(resource)`
    the Source a resource was read from, or None."""
    version = _version()
    by_id = {c.id: c for c in checks}
    ran = sorted({f.check for f in findings})
    index = {check_id: n for n, check_id in enumerate(ran)}
    results = [{
        "ruleId": f.check,
        "ruleIndex": index[f.check],
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": f"{f.resource}: {f.evidence}"},
        "locations": [location(f.resource, locate(f.resource))],
        "properties": {"severity": f.severity, "resource": f.resource},
    } for f in findings if f.status == "fail"]
    run = {
        "tool": {"driver": {"name": "aks-runbook", "version": version,
                            "semanticVersion": version,
                            "rules": [rule(by_id[check_id]) for check_id in ran]}},
        "originalUriBaseIds": {ROOT: {"uri": Path.cwd().resolve().as_uri() + "/"}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aks-runbook")
    except PackageNotFoundError:
        return "0.0.0"
