"""`--output-format text` (default): a block per table, coloured on a terminal."""

from __future__ import annotations

from timestamp_lint.audit.model import CRITICAL, OK, WARNING, AuditReport, Count, format_duration

COLORS = {OK: "32", WARNING: "33", CRITICAL: "31"}


def _rate(count: Count) -> str:
    return f"{count.count:,} of {count.total:,} ({count.rate * 100:.1f}%)"


def _keys(samples: tuple[object, ...]) -> str:
    if not samples:
        return ""
    return "   keys " + " .. ".join(str(k) for k in samples)


def render(report: AuditReport, color: bool = False) -> str:
    def paint(status: str) -> str:
        word = status.upper()
        return f"\x1b[1;{COLORS[status]}m{word}\x1b[0m" if color else word

    t = report.thresholds
    warn_w, crit_w = format_duration(t.warn_window), format_duration(t.critical_window)
    since = f", rows created since {report.since}" if report.since else ""
    lines = [f"{report.database}  (database clock {report.now}{since})", ""]
    for table in report.tables:
        lines.append(f"{table.table}  {table.rows:,} rows  {paint(table.status)}")
        if table.updated:
            lines.append(
                f"  reversed    {_rate(table.reversed)}   last {warn_w}: {_rate(table.warn_window)}"
                f"   last {crit_w}: {_rate(table.critical_window)}{_keys(table.samples)}"
            )
        for c in table.copies:
            via = ",".join(c.columns)
            lines.append(
                f"  copied      {c.column} = {c.parent}.{c.column} via {via}: {_rate(c.copied)}"
                f"   last {warn_w}: {_rate(c.warn_window)}"
                f"   last {crit_w}: {_rate(c.critical_window)}{_keys(c.samples)}"
            )
            if c.same_transaction:
                lines.append(
                    f"  same txn    {c.column} = {c.parent}.{c.column} via {via}:"
                    f" {c.same_transaction:,} rows written in the parent's own transaction"
                    " (shared now(), not copies)"
                )
        lines.append(f"  future      {_rate(table.future)}")
        nulls = [f"{name} {count:,}" for name, count in table.nulls.items() if count]
        lines.append(f"  nulls       {', '.join(nulls) if nulls else 'none'}")
        shown = [d for d in table.days if d.reversed] or table.days[-3:]
        if table.days:
            lines.append(f"  days        last {report.days} days, days with reversed rows:")
            for day in shown:
                rate = day.reversed / day.rows * 100 if day.rows else 0.0
                lines.append(
                    f"    {day.day} {day.rows:>10,} rows {day.reversed:>10,} reversed ({rate:.1f}%)"
                )
        for note in table.notes:
            label = "drift" if note.drift else "schema"
            lines.append(f"  {label:<10}  {note.column}: {note.message}")
        if table.model:
            lines.append(f"  model       {table.model}")
        for site in table.code:
            lines.append(
                f"  code        {site.path}:{site.line}: {site.code} copies into {site.model}"
            )
        for reason in table.reasons:
            lines.append(f"  ! {reason}")
        lines.append("")
    counts = {s: sum(1 for x in report.tables if x.status == s) for s in (CRITICAL, WARNING)}
    noun = "table" if len(report.tables) == 1 else "tables"
    lines.append(
        f"Audited {len(report.tables)} {noun} in {report.duration:.2f} s:"
        f" {counts[CRITICAL]} critical, {counts[WARNING]} warning."
        f" Thresholds: warning above {t.warn * 100:g}% in {warn_w},"
        f" critical above {t.critical * 100:g}% in {crit_w}."
    )
    return "\n".join(lines) + "\n"
