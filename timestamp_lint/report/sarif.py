"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers. Stable for the same input."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from timestamp_lint.docs import all_codes, rule_doc
from timestamp_lint.ftypes import Finding
from timestamp_lint.report import ReportContext

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/timestamp-lint/timestamp-lint"
SRCROOT = "%SRCROOT%"


def _what_it_does(doc: str, default: str) -> str:
    """The "What it does" section of a rule's doc as one paragraph."""
    match = re.search(r"^## What it does\n(.*?)(?:\n\n|\n##|\Z)", doc, re.DOTALL | re.MULTILINE)
    return " ".join(match.group(1).split()) if match else default


def _rule_metadata() -> list[dict[str, str]]:
    rules = []
    for code in sorted(all_codes()):
        name, summary, doc = rule_doc(code)
        rules.append({"code": code, "name": name, "summary": summary, "doc": doc})
    return rules


def _rule(meta: dict[str, str]) -> dict[str, Any]:
    doc = meta["doc"].strip()
    return {
        "id": meta["code"],
        "name": meta["name"],
        "shortDescription": {"text": meta["summary"]},
        "fullDescription": {"text": _what_it_does(doc, meta["summary"])},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": "error"},
    }


def _artifact(path: Path, root: Path) -> dict[str, str]:
    """A URI relative to %SRCROOT% when `path` is under it, else an absolute file URI."""
    try:
        return {"uri": quote(path.relative_to(root).as_posix()), "uriBaseId": SRCROOT}
    except ValueError:
        return {"uri": Path(os.path.abspath(path)).as_uri()}


def _region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _result(finding: Finding, root: Path, rule_index: dict[str, int]) -> dict[str, Any]:
    artifact = _artifact(finding.path, root)
    result: dict[str, Any] = {"ruleId": finding.code}
    if finding.code in rule_index:
        result["ruleIndex"] = rule_index[finding.code]
    result["level"] = "error"
    result["message"] = {"text": finding.message}
    result["locations"] = [
        {
            "physicalLocation": {
                "artifactLocation": artifact,
                "region": _region(
                    finding.line, finding.column, finding.end_line, finding.end_column
                ),
            }
        }
    ]
    fix = finding.fix
    if fix is not None and fix.edits:
        replacements = [
            {
                "deletedRegion": _region(e.line, e.column, e.end_line, e.end_column),
                "insertedContent": {"text": e.replacement},
            }
            for e in fix.edits
        ]
        result["fixes"] = [
            {
                "description": {"text": fix.message},
                "artifactChanges": [{"artifactLocation": artifact, "replacements": replacements}],
                "properties": {"applicability": fix.applicability.value},
            }
        ]
    return result


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    # URIs relative to the current folder (where CI runs, as every other format), resolved
    # through %SRCROOT%, which `originalUriBaseIds` maps to that folder's absolute URI
    root = Path(os.path.abspath(context.cwd))
    root_uri = root.as_uri()
    rules = _rule_metadata()
    rule_index = {meta["code"]: index for index, meta in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "timestamp-lint",
                "version": context.version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(meta) for meta in rules],
            }
        },
        "originalUriBaseIds": {
            SRCROOT: {"uri": root_uri if root_uri.endswith("/") else root_uri + "/"}
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, root, rule_index) for f in findings],
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"
