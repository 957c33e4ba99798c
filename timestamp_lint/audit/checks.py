"""The checks, as SQL: one grouped scan per table, one join per foreign key.

Per table, a single pass grouped by day (UTC) counts rows, reversed stamps
(`updated_at < created_at`), rows in the warning and critical windows and their reversed
share, future stamps and NULLs; the per-day figures, the windows and the totals are all sums
of those groups, so no check costs a second scan and nothing is sorted but the few day groups.
Per foreign key whose tables both have the timestamp field, one join counts child rows whose
value equals the parent's; on PostgreSQL the join also compares the rows' `xmin` (the
transaction that wrote them) to set apart pairs that one transaction wrote, where `now()`,
the transaction's start, is legitimately shared.

SQLite has no date type: stamps are ISO 8601 text (or Unix seconds in numeric columns) and
are compared through `julianday()`, so `2024-01-01 10:00:00` and `2024-01-01T10:00:00.000000`
are the same instant.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from timestamp_lint.audit.model import (
    CRITICAL,
    OK,
    SEVERITY,
    WARNING,
    Copies,
    Count,
    Day,
    TableReport,
    Thresholds,
    format_duration,
)
from timestamp_lint.audit.reflect import Column, Link, TableSpec


@dataclass(frozen=True)
class Clock:
    """The database's clock at the start of the audit, and the cut-offs derived from it."""

    now: datetime  # UTC, aware
    dialect: str

    def value(self, offset: float) -> Any:
        """A bound value for `now + offset seconds`, comparable with `Sql.ts()`."""
        return self.at(self.now + timedelta(seconds=offset))

    def at(self, moment: datetime) -> Any:
        """A bound value for `moment` (aware), comparable with `Sql.ts()`."""
        if self.dialect == "sqlite":
            return moment.timestamp() / 86400.0 + 2440587.5  # julian day
        return moment


def read_clock(connection: Any) -> Clock:
    from sqlalchemy import text

    dialect = connection.dialect.name
    if dialect == "sqlite":
        julian = connection.execute(text("SELECT julianday('now')")).scalar()
        now = datetime.fromtimestamp((julian - 2440587.5) * 86400.0, tz=timezone.utc)
    else:
        now = connection.execute(text("SELECT CURRENT_TIMESTAMP")).scalar()
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        now = now.astimezone(timezone.utc)
    return Clock(now, dialect)


class Sql:
    """SQL fragments for one connection's dialect."""

    def __init__(self, connection: Any) -> None:
        self.dialect = connection.dialect.name
        self._quote = connection.dialect.identifier_preparer.quote

    def q(self, name: str) -> str:
        return self._quote(name)

    def table(self, spec: TableSpec) -> str:
        name = self.q(spec.table)
        return f"{self.q(spec.schema)}.{name}" if spec.schema else name

    def ts(self, alias: str, column: Column) -> str:
        ref = f"{alias}.{self.q(column.name)}"
        if self.dialect != "sqlite":
            return ref
        if column.kind == "epoch":
            return f"julianday({ref}, 'unixepoch')"
        return f"julianday({ref})"

    def day(self, alias: str, column: Column) -> str:
        if self.dialect == "sqlite":
            return f"date({self.ts(alias, column)})"
        return f"CAST({self.ts(alias, column)} AS DATE)"

    def key(self, alias: str, spec: TableSpec) -> str | None:
        """The single-column primary key (samples need one value per row)."""
        return f"{alias}.{self.q(spec.key[0])}" if len(spec.key) == 1 else None


def _count(condition: str) -> str:
    return f"count(CASE WHEN {condition} THEN 1 END)"


def _level(thresholds: Thresholds, warn: Count, critical: Count) -> str:
    return thresholds.level(warn.rate, critical.rate)


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _worse(a: str, b: str) -> str:
    return a if SEVERITY[a] >= SEVERITY[b] else b


def _sample(low: Any, high: Any) -> tuple[object, ...]:
    if low is None:
        return ()
    return (low,) if low == high else (low, high)


def table_query(sql: Sql, spec: TableSpec, since: bool = False) -> str:
    c = sql.ts("t", spec.created)
    u = sql.ts("t", spec.updated) if spec.updated else None
    reversed_ = f"{u} < {c}" if u else "1 = 0"
    key = sql.key("t", spec)
    parts = [
        f"{sql.day('t', spec.created)} AS day",
        "count(*) AS n_rows",
        f"{_count(reversed_)} AS reversed",
        f"{_count(f'{c} >= :warn_from')} AS warn_rows",
        f"{_count(f'{c} >= :warn_from AND {reversed_}')} AS warn_reversed",
        f"{_count(f'{c} >= :critical_from')} AS critical_rows",
        f"{_count(f'{c} >= :critical_from AND {reversed_}')} AS critical_reversed",
        f"{_count(f'{c} > :future_from')} AS future",
        f"{_count(f'{u} IS NULL') if u else '0'} AS updated_nulls",
    ]
    if key and u:
        parts.append(f"min(CASE WHEN {reversed_} THEN {key} END) AS first_key")
        parts.append(f"max(CASE WHEN {reversed_} THEN {key} END) AS last_key")
    else:
        parts.append("NULL AS first_key")
        parts.append("NULL AS last_key")
    where = f" WHERE {c} >= :since" if since else ""
    return f"SELECT {', '.join(parts)} FROM {sql.table(spec)} t{where} GROUP BY 1"


def _pairs(sql: Sql, child: TableSpec, link: Link, parent: TableSpec, since: bool = False) -> str:
    joins = " AND ".join(
        f"c.{sql.q(a)} = p.{sql.q(b)}" for a, b in zip(link.columns, link.referred, strict=True)
    )
    query = f"{sql.table(child)} c JOIN {sql.table(parent)} p ON {joins}"
    conditions = []
    if child.name == parent.name and child.key:  # a row that references itself copies nothing
        same = " AND ".join(f"c.{sql.q(k)} = p.{sql.q(k)}" for k in child.key)
        conditions.append(f"NOT ({same})")
    if since:
        conditions.append(f"{sql.ts('c', child.created)} >= :since")
    if conditions:
        query += " WHERE " + " AND ".join(conditions)
    return query


def compared_fields(child: TableSpec, parent: TableSpec) -> list[tuple[Column, Column]]:
    pairs = [(child.created, parent.created)] if child.created.name == parent.created.name else []
    if child.updated and parent.updated and child.updated.name == parent.updated.name:
        pairs.append((child.updated, parent.updated))
    return pairs


def _equal(sql: Sql, mine: Column, theirs: Column) -> str:
    return f"{sql.ts('c', mine)} = {sql.ts('p', theirs)}"


def _same_transaction(sql: Sql) -> str | None:
    return "c.xmin = p.xmin" if sql.dialect == "postgresql" else None


def _copied(sql: Sql, mine: Column, theirs: Column) -> str:
    condition = _equal(sql, mine, theirs)
    same = _same_transaction(sql)
    return f"{condition} AND NOT ({same})" if same else condition


def copies_query(
    sql: Sql, child: TableSpec, link: Link, parent: TableSpec, since: bool = False
) -> str:
    c = sql.ts("c", child.created)
    key = sql.key("c", child)
    parts = [
        "count(*) AS linked",
        f"{_count(f'{c} >= :warn_from')} AS warn_linked",
        f"{_count(f'{c} >= :critical_from')} AS critical_linked",
    ]
    same = _same_transaction(sql)
    for index, (mine, theirs) in enumerate(compared_fields(child, parent)):
        copied = _copied(sql, mine, theirs)
        parts.append(f"{_count(copied)} AS copied_{index}")
        if same:
            parts.append(f"{_count(f'{_equal(sql, mine, theirs)} AND {same}')} AS same_{index}")
        else:
            parts.append(f"0 AS same_{index}")
        parts.append(f"{_count(f'{c} >= :warn_from AND {copied}')} AS warn_{index}")
        parts.append(f"{_count(f'{c} >= :critical_from AND {copied}')} AS critical_{index}")
        if key:
            parts.append(f"min(CASE WHEN {copied} THEN {key} END) AS first_{index}")
            parts.append(f"max(CASE WHEN {copied} THEN {key} END) AS last_{index}")
        else:
            parts.append(f"NULL AS first_{index}")
            parts.append(f"NULL AS last_{index}")
    return f"SELECT {', '.join(parts)} FROM {_pairs(sql, child, link, parent, since)}"


def _params(
    clock: Clock, thresholds: Thresholds, skew: float, since: datetime | None
) -> dict[str, Any]:
    params = {
        "warn_from": clock.value(-thresholds.warn_window),
        "critical_from": clock.value(-thresholds.critical_window),
        "future_from": clock.value(skew),
    }
    if since is not None:
        params["since"] = clock.at(since)
    return params


def audit_table(
    connection: Any,
    spec: TableSpec,
    specs: dict[str, TableSpec],
    clock: Clock,
    thresholds: Thresholds,
    days: int,
    skew: float,
    since: datetime | None = None,
) -> TableReport:
    from sqlalchemy import text

    sql = Sql(connection)
    params = _params(clock, thresholds, skew, since)
    query = table_query(sql, spec, since is not None)
    groups = connection.execute(text(query), params).mappings().all()
    first_day = (clock.now - timedelta(days=days - 1)).date().isoformat()
    rows = reversed_ = 0
    warn = critical = future = Count()
    nulls = {spec.created.name: 0}
    if spec.updated:
        nulls[spec.updated.name] = 0
    day_list: list[Day] = []
    keys: list[Any] = []
    for group in groups:
        rows += group["n_rows"]
        reversed_ += group["reversed"]
        warn += Count(group["warn_reversed"], group["warn_rows"])
        critical += Count(group["critical_reversed"], group["critical_rows"])
        future += Count(group["future"], 0)
        if spec.updated:
            nulls[spec.updated.name] += group["updated_nulls"]
        day = group["day"]
        if day is None:
            nulls[spec.created.name] += group["n_rows"]
        else:
            day = day if isinstance(day, str) else day.isoformat()
            if day >= first_day:
                day_list.append(Day(day, group["n_rows"], group["reversed"]))
        keys.extend(k for k in (group["first_key"], group["last_key"]) if k is not None)
    future = Count(future.count, rows)
    report = TableReport(
        table=spec.name,
        key=spec.key,
        created=spec.created.name,
        updated=spec.updated.name if spec.updated else None,
        rows=rows,
        reversed=Count(reversed_, rows),
        warn_window=warn,
        critical_window=critical,
        days=tuple(sorted(day_list, key=lambda d: d.day)),
        future=future,
        nulls=nulls,
        samples=_sample(min(keys), max(keys)) if keys else (),
    )
    copies = []
    for link in spec.links:
        parent = specs.get(link.parent)
        if parent is None:
            continue
        fields = compared_fields(spec, parent)
        if not fields:
            continue
        query = copies_query(sql, spec, link, parent, since is not None)
        found = connection.execute(text(query), params)
        result = found.mappings().one()
        for index, (mine, _theirs) in enumerate(fields):
            each = Copies(
                parent=parent.name,
                columns=link.columns,
                column=mine.name,
                linked=result["linked"],
                copied=Count(result[f"copied_{index}"], result["linked"]),
                same_transaction=result[f"same_{index}"],
                warn_window=Count(result[f"warn_{index}"], result["warn_linked"]),
                critical_window=Count(result[f"critical_{index}"], result["critical_linked"]),
                samples=_sample(result[f"first_{index}"], result[f"last_{index}"]),
            )
            copies.append(
                replace(each, status=_level(thresholds, each.warn_window, each.critical_window))
            )
    return judge(replace(report, copies=tuple(copies)), thresholds)


def judge(report: TableReport, thresholds: Thresholds) -> TableReport:
    """The table's status and the reasons for it."""
    status, reasons = OK, []
    warn_w, crit_w = (
        format_duration(thresholds.warn_window),
        format_duration(thresholds.critical_window),
    )

    def check(what: str, warn: Count, critical: Count) -> None:
        nonlocal status
        level = _level(thresholds, warn, critical)
        if level == CRITICAL:
            reasons.append(
                f"{what}: {_percent(critical.rate)} of rows created in the last {crit_w}"
                f" (critical above {_percent(thresholds.critical)})"
            )
        elif level == WARNING:
            reasons.append(
                f"{what}: {_percent(warn.rate)} of rows created in the last {warn_w}"
                f" (warning above {_percent(thresholds.warn)})"
            )
        status = _worse(status, level)

    if report.updated:
        check("reversed", report.warn_window, report.critical_window)
    for copies in report.copies:
        check(
            f"{copies.column} copied from {copies.parent}",
            copies.warn_window,
            copies.critical_window,
        )
    overall = [("future stamps", report.future)]
    overall += [(f"NULL {name}", Count(n, report.rows)) for name, n in report.nulls.items()]
    for what, count in overall:
        level = thresholds.level(count.rate, count.rate)
        if level != OK:
            limit = thresholds.critical if level == CRITICAL else thresholds.warn
            reasons.append(
                f"{what}: {_percent(count.rate)} of all rows ({level} above {_percent(limit)})"
            )
        status = _worse(status, level)
    return replace(report, status=status, reasons=tuple(reasons))


def audit(
    connection: Any,
    specs: list[TableSpec],
    related: dict[str, TableSpec],
    thresholds: Thresholds,
    days: int,
    skew: float,
    progress: Callable[[int, int, str], None] | None = None,
    since: datetime | None = None,
) -> tuple[Clock, list[TableReport], float]:
    """Audit `specs`, comparing children with the parents in `related` (by name)."""
    clock = read_clock(connection)
    started = time.perf_counter()
    by_name = related
    reports = []
    for number, spec in enumerate(specs, 1):
        if progress is not None:
            progress(number, len(specs), spec.name)
        report = audit_table(connection, spec, by_name, clock, thresholds, days, skew, since)
        reports.append(report)
    return clock, reports, time.perf_counter() - started


# --------------------------------------------------------------------------- keys


def affected_keys(
    connection: Any,
    specs: list[TableSpec],
    related: dict[str, TableSpec],
    clock: Clock,
    skew: float,
    since: datetime | None = None,
) -> Iterator[tuple[str, str, str, str, tuple[Any, ...]]]:
    """(table, check, column, parent, key) for every affected row: streamed, never sorted."""
    from sqlalchemy import text

    sql = Sql(connection)
    streaming = connection.execution_options(stream_results=True, max_row_buffer=10_000)
    by_name = related
    params = {"future_from": clock.value(skew)}
    if since is not None:
        params["since"] = clock.at(since)
    for spec in specs:
        if not spec.key:
            continue
        keys = ", ".join(f"t.{sql.q(k)}" for k in spec.key)
        c = sql.ts("t", spec.created)
        checks = []
        if spec.updated:
            checks.append(("reversed", spec.updated.name, f"{sql.ts('t', spec.updated)} < {c}"))
        checks.append(("future", spec.created.name, f"{c} > :future_from"))
        checks.append(("null", spec.created.name, f"t.{sql.q(spec.created.name)} IS NULL"))
        if spec.updated:
            checks.append(("null", spec.updated.name, f"t.{sql.q(spec.updated.name)} IS NULL"))
        window = f" AND {c} >= :since" if since is not None else ""
        for check, column, condition in checks:
            query = f"SELECT {keys} FROM {sql.table(spec)} t WHERE ({condition}){window}"
            for row in streaming.execute(text(query), params):
                yield spec.name, check, column, "", tuple(row)
        for link in spec.links:
            parent = by_name.get(link.parent)
            if parent is None:
                continue
            child_keys = ", ".join(f"c.{sql.q(k)}" for k in spec.key)
            for mine, theirs in compared_fields(spec, parent):
                condition = _copied(sql, mine, theirs)
                pairs = _pairs(sql, spec, link, parent, since is not None)
                glue = " AND " if " WHERE " in pairs else " WHERE "
                query = f"SELECT {child_keys} FROM {pairs}{glue}{condition}"
                for row in streaming.execute(text(query), params):
                    yield spec.name, "copied", mine.name, parent.name, tuple(row)
