"""JUnit XML: a test suite per file with findings, a failed test case per finding."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from timestamp_lint.ftypes import Finding
from timestamp_lint.report import ReportContext, display_path

NAME = "timestamp-lint"
# Characters XML 1.0 cannot hold at all, even escaped.
INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return INVALID_XML.sub("\ufffd", text)


def _suite(parent: ET.Element, name: str, tests: int, failures: int) -> ET.Element:
    attrib = {"name": name, "tests": str(tests), "failures": str(failures)}
    return ET.SubElement(parent, "testsuite", attrib)


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(_clean(display_path(finding.path, context.cwd)), []).append(finding)
    tests = max(1, len(findings))
    root = ET.Element("testsuites", name=NAME, tests=str(tests), failures=str(len(findings)))
    for path, file_findings in by_file.items():
        suite = _suite(root, path, len(file_findings), len(file_findings))
        for f in file_findings:
            case = ET.SubElement(
                suite, "testcase", name=f"{f.code} {f.line}:{f.column}", classname=path
            )
            failure = ET.SubElement(case, "failure", message=_clean(f.message), type=f.code)
            failure.text = _clean(f"{path}:{f.line}:{f.column}: {f.code} {f.message}")
    if not findings:
        suite = _suite(root, NAME, 1, 0)
        ET.SubElement(suite, "testcase", name="No findings", classname=NAME)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
