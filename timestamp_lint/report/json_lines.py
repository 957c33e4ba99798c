"""One JSON object a line (JSON Lines), each shaped like an entry of the `json` format."""

from __future__ import annotations

import json
from collections.abc import Sequence

from timestamp_lint.ftypes import Finding
from timestamp_lint.report import ReportContext
from timestamp_lint.report.json import finding_dict


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return "".join(json.dumps(finding_dict(f, context.cwd)) + "\n" for f in findings)
