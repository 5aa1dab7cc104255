"""Severity from a base score, in kubescape's bands; shared by the checks and the analyses."""

from __future__ import annotations

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
SEVERITIES = tuple(sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__))  # worst first


def severity(score: float) -> str:
    """kubescape's bands for a base score: 1-3 low, 4-6 medium, 7-8 high, 9+ critical."""
    if score >= 9:
        return "critical"
    if score >= 7:
        return "high"
    if score >= 4:
        return "medium"
    return "low"
