"""GitLab Code Quality report: a JSON array of issues with fingerprints that survive edits
elsewhere in the file (they hash the finding's source text, not its line number)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from timestamp_lint.ftypes import PARSE_ERROR, Finding
from timestamp_lint.report import ReportContext, read_lines, root_path


def fingerprint(path: str, code: str, message: str, source_line: str, occurrence: int) -> str:
    key = "\0".join((path, code, message, source_line.strip(), str(occurrence)))
    return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    cache: dict[Path, list[str] | None] = {}
    seen: Counter[tuple[str, str, str, str]] = Counter()
    issues: list[dict[str, Any]] = []
    for finding in findings:
        if finding.path not in cache:
            cache[finding.path] = read_lines(finding.path)
        lines = cache[finding.path] or []
        source_line = lines[finding.line - 1] if 1 <= finding.line <= len(lines) else ""
        path = root_path(finding.path, context.root)
        key = (path, finding.code, finding.message, source_line.strip())
        seen[key] += 1
        issues.append(
            {
                "description": f"{finding.code} {finding.message}",
                "check_name": finding.code,
                "fingerprint": fingerprint(*key, seen[key]),
                "severity": "critical" if finding.code == PARSE_ERROR else "major",
                "location": {
                    "path": path,
                    "lines": {"begin": finding.line, "end": finding.end_line},
                },
            }
        )
    return json.dumps(issues, indent=2) + "\n"
