"""Findings as JUnit XML, as Jenkins (junit step) and Azure DevOps (PublishTestResults, JUnit)
read it: one test suite per check, one test case per check and resource (classname: the check's
id, name: the resource), a failure element for a failing finding, skipped for a not-applicable
one; the counts on each suite and on the root."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from aks_runbook.i18n import _

NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """The text without the control characters XML 1.0 cannot hold."""
    return NOT_IN_XML.sub("", text)


def report(findings: Sequence[Any], name: str, case_names: Sequence[str] = ()) -> str:
    """`case_names`: each finding's test case name, when its resource alone does not tell the
    cases of one check apart."""
    root = ET.Element("testsuites", name=name)
    suites: dict[str, ET.Element] = {}
    for n, f in enumerate(findings):
        suite = suites.get(f.check)
        if suite is None:
            suite = suites[f.check] = ET.SubElement(root, "testsuite",
                                                    name=xml_text(f"{f.check} {f.title}"))
        case_name = case_names[n] if case_names else f.resource
        case = ET.SubElement(suite, "testcase", classname=f.check, name=xml_text(case_name),
                             time="0")
        if f.status == "fail":
            text = f.evidence
            if f.remediation:
                text += "\n" + _("fix: {fix}").format(fix=f.remediation)
            if f.public_ids:
                text += "\n" + _("controls: {ids}").format(ids=f.public_ids)
            failure = ET.SubElement(case, "failure", message=xml_text(f.evidence),
                                    type=f.severity)
            failure.text = xml_text(text)
        elif f.status != "pass":
            ET.SubElement(case, "skipped", message=xml_text(f"{f.status}: {f.evidence}"))
    for element in [*suites.values(), root]:
        cases = element.iter("testcase")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for case in cases:
            counts["tests"] += 1
            counts["failures"] += case.find("failure") is not None
            counts["skipped"] += case.find("skipped") is not None
        for key, value in counts.items():
            element.set(key, str(value))
        element.set("time", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
