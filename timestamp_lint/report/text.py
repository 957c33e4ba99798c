"""`path:line:col: CODE message`, one finding a line, like Ruff's concise output."""

from __future__ import annotations

from collections.abc import Sequence

from timestamp_lint.ftypes import Finding
from timestamp_lint.report import ReportContext, display_path


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return "".join(
        f"{display_path(f.path, context.cwd)}:{f.line}:{f.column}: {f.code} {f.message}\n"
        for f in findings
    )


def summary(findings: Sequence[Finding], files_checked: int) -> str:
    if not findings:
        noun = "file" if files_checked == 1 else "files"
        return f"All checks passed ({files_checked} {noun} checked)."
    noun = "finding" if len(findings) == 1 else "findings"
    return f"Found {len(findings)} {noun}."
