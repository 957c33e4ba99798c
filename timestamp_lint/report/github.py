"""GitHub Actions workflow commands: one `::error ...::message` annotation a line."""

from __future__ import annotations

from collections.abc import Sequence

from timestamp_lint.ftypes import Finding
from timestamp_lint.report import ReportContext, display_path


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(finding: Finding, context: ReportContext) -> str:
    properties = {
        "file": display_path(finding.path, context.cwd),
        "line": finding.line,
        "col": finding.column,
        "endLine": finding.end_line,
        "endColumn": finding.end_column,
        "title": finding.code,
    }
    joined = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::error {joined}::{escape_data(finding.message)}\n"


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return "".join(_annotation(f, context) for f in findings)
