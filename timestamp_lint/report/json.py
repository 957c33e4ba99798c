"""One JSON array of finding objects (`[]` when clean), stable for the same input."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from timestamp_lint.ftypes import Finding
from timestamp_lint.report import ReportContext, display_path


def finding_dict(finding: Finding, cwd: Path) -> dict[str, Any]:
    return {
        "code": finding.code,
        "message": finding.message,
        "path": display_path(finding.path, cwd),
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "model": finding.model,
        "field": finding.field,
        "fix": None
        if finding.fix is None
        else {"applicability": finding.fix.applicability.value, "message": finding.fix.message},
    }


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return json.dumps([finding_dict(f, context.cwd) for f in findings], indent=2) + "\n"
