"""`--output-format json`: the whole report as one JSON object."""

from __future__ import annotations

import json
from typing import Any

from timestamp_lint.audit.model import AuditReport, Count, format_duration


def _count(count: Count) -> dict[str, Any]:
    return {"count": count.count, "total": count.total, "rate": round(count.rate, 6)}


def _key(value: object) -> object:
    return value if isinstance(value, (int, float, str)) or value is None else str(value)


def as_dict(report: AuditReport) -> dict[str, Any]:
    t = report.thresholds
    windows = {
        "warning": format_duration(t.warn_window),
        "critical": format_duration(t.critical_window),
    }
    return {
        "database": report.database,
        "dialect": report.dialect,
        "now": report.now,
        "status": report.status,
        "thresholds": {
            "warning": t.warn,
            "warning_window": windows["warning"],
            "critical": t.critical,
            "critical_window": windows["critical"],
            "days": report.days,
            "skew": format_duration(report.skew),
            "since": report.since,
        },
        "duration_seconds": round(report.duration, 3),
        "tables": [
            {
                "table": table.table,
                "status": table.status,
                "reasons": list(table.reasons),
                "key": list(table.key),
                "created": table.created,
                "updated": table.updated,
                "rows": table.rows,
                "reversed": {
                    **_count(table.reversed),
                    "windows": {
                        windows["warning"]: _count(table.warn_window),
                        windows["critical"]: _count(table.critical_window),
                    },
                    "days": [
                        {"day": d.day, "rows": d.rows, "reversed": d.reversed} for d in table.days
                    ],
                    "sample_keys": [_key(k) for k in table.samples],
                },
                "future": _count(table.future),
                "nulls": dict(table.nulls),
                "copies": [
                    {
                        "parent": c.parent,
                        "via": list(c.columns),
                        "column": c.column,
                        "status": c.status,
                        "linked": c.linked,
                        "copied": _count(c.copied),
                        "same_transaction": c.same_transaction,
                        "windows": {
                            windows["warning"]: _count(c.warn_window),
                            windows["critical"]: _count(c.critical_window),
                        },
                        "sample_keys": [_key(k) for k in c.samples],
                    }
                    for c in table.copies
                ],
                "schema": [
                    {
                        "column": n.column,
                        "problem": n.problem,
                        "message": n.message,
                        "drift": n.drift,
                    }
                    for n in table.notes
                ],
                "model": table.model,
                "code": [
                    {"path": s.path, "line": s.line, "code": s.code, "model": s.model}
                    for s in table.code
                ],
            }
            for table in report.tables
        ],
    }


def render(report: AuditReport, color: bool = False) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"
