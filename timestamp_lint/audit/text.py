"""`--output-format text` (default): a table per audited table, coloured on a terminal."""

from __future__ import annotations

from timestamp_lint.audit.model import CRITICAL, OK, WARNING, AuditReport, Count, format_duration

COLORS = {OK: "32", WARNING: "33", CRITICAL: "31"}


def _rate(count: Count) -> str:
    return f"{count.count:,}/{count.total:,} ({count.rate * 100:.1f}%)"


def _keys(samples: tuple[object, ...]) -> str:
    return " .. ".join(str(k) for k in samples)


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def render(report: AuditReport, color: bool = False) -> str:
    def paint(status: str) -> str:
        word = status.upper()
        return f"\x1b[1;{COLORS[status]}m{word}\x1b[0m" if color else word

    t = report.thresholds
    warn_w, crit_w = format_duration(t.warn_window), format_duration(t.critical_window)
    since = f", rows created since {report.since}" if report.since else ""
    lines = [f"{report.database}  (database clock {report.now}{since})", ""]
    for table in report.tables:
        lines.append(f"{table.table}: {table.rows:,} rows, {paint(table.status)}")
        rows = [["check", "all rows", f"last {warn_w}", f"last {crit_w}", "keys"]]
        if table.updated:
            rows.append(
                [
                    f"reversed ({table.updated} < {table.created})",
                    _rate(table.reversed),
                    _rate(table.warn_window),
                    _rate(table.critical_window),
                    _keys(table.samples),
                ]
            )
        for c in table.copies:
            via = ",".join(c.columns)
            rows.append(
                [
                    f"{c.column} copied from {c.parent} ({via})",
                    _rate(c.copied),
                    _rate(c.warn_window),
                    _rate(c.critical_window),
                    _keys(c.samples),
                ]
            )
            if c.same_transaction:
                rows.append(
                    [f"  same transaction as {c.parent}", f"{c.same_transaction:,}", "", "", ""]
                )
        rows.append([f"future {table.created}", _rate(table.future), "", "", ""])
        for name, count in table.nulls.items():
            rows.append([f"NULL {name}", _rate(Count(count, table.rows)), "", "", ""])
        lines.extend(_grid(rows))
        if any(d.reversed for d in table.days):
            lines.append(f"  days with reversed rows (last {report.days}):")
            for day in (d for d in table.days if d.reversed):
                lines.append(f"    {day.day}  {_rate(Count(day.reversed, day.rows))}")
        for note in table.notes:
            label = "drift" if note.drift else "schema"
            lines.append(f"  {label}: {note.column}: {note.message}")
        if table.model:
            lines.append(f"  model: {table.model}")
        for site in table.code:
            lines.append(f"  code that copies into it: {site.path}:{site.line}: {site.code}")
        for reason in table.reasons:
            lines.append(f"  ! {reason}")
        lines.append("")
    counts = {s: sum(1 for x in report.tables if x.status == s) for s in (CRITICAL, WARNING)}
    noun = "table" if len(report.tables) == 1 else "tables"
    lines.append(
        f"Audited {len(report.tables)} {noun} in {report.duration:.2f} s:"
        f" {counts[CRITICAL]} critical, {counts[WARNING]} warning"
        f" (warning above {t.warn * 100:g}% of rows created in {warn_w},"
        f" critical above {t.critical * 100:g}% in {crit_w})."
    )
    return "\n".join(lines) + "\n"
