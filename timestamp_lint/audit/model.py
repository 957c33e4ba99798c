"""The audit's value types: what is checked (thresholds, windows) and what was found."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from timestamp_lint.ftypes import UserError

OK, WARNING, CRITICAL = "ok", "warning", "critical"
SEVERITY = {OK: 0, WARNING: 1, CRITICAL: 2}


class AuditError(UserError):
    """A problem reported as one line with exit status 2 (never carries a password)."""


_DURATION_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*")
_UNITS = {"s": 1, "": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """'24h', '7d', '30m', '90s', '2w' -> seconds."""
    match = _DURATION_RE.fullmatch(text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration like 24h, 7d, 30m or 90s")
    return float(match.group(1)) * _UNITS[match.group(2)]


def format_duration(seconds: float) -> str:
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size * (2 if unit == "d" else 1) and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"  # 7d, 24h, 30m
    return f"{seconds:g}s"


def parse_rate(text: str) -> float:
    """'1%' -> 0.01, '0.5%' -> 0.005, '0.02' -> 0.02."""
    value = text.strip()
    try:
        rate = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a rate like 1% or 0.01") from None
    if not 0 <= rate <= 1:
        raise ValueError(f"{text!r} is not a rate between 0% and 100%")
    return rate


@dataclass(frozen=True)
class Thresholds:
    warn: float = 0.01
    warn_window: float = 7 * 86400.0
    critical: float = 0.10
    critical_window: float = 86400.0

    def level(self, warn_rate: float, critical_rate: float) -> str:
        if critical_rate > self.critical:
            return CRITICAL
        if warn_rate > self.warn:
            return WARNING
        return OK


@dataclass(frozen=True)
class Count:
    """`count` rows of `total` (a rate with its parts)."""

    count: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.count / self.total if self.total else 0.0

    def __add__(self, other: Count) -> Count:
        return Count(self.count + other.count, self.total + other.total)


@dataclass(frozen=True)
class Day:
    day: str  # ISO date, UTC
    rows: int
    reversed: int


@dataclass(frozen=True)
class Copies:
    """Child rows whose `column` equals the parent's, through one foreign key."""

    parent: str
    columns: tuple[str, ...]  # the child's foreign-key columns
    column: str  # the timestamp field compared
    linked: int  # child rows that have a parent
    copied: Count  # equal, and written by another transaction (or no way to tell)
    same_transaction: int  # equal, written by the parent's own transaction (PostgreSQL now())
    warn_window: Count = Count()
    critical_window: Count = Count()
    samples: tuple[object, ...] = ()  # first and last affected keys
    status: str = OK


@dataclass(frozen=True)
class Note:
    """A schema observation: `drift` when the project's model says otherwise."""

    column: str
    problem: str  # "no-default", "no-update-trigger", "missing-column", "missing-table"
    message: str
    drift: bool = False


@dataclass(frozen=True)
class CodeSite:
    path: str
    line: int
    code: str
    model: str


@dataclass(frozen=True)
class TableReport:
    table: str
    key: tuple[str, ...]
    created: str
    updated: str | None
    rows: int
    reversed: Count = Count()
    warn_window: Count = Count()  # reversed among rows created in the warning window
    critical_window: Count = Count()
    days: tuple[Day, ...] = ()
    future: Count = Count()
    nulls: dict[str, int] = field(default_factory=dict)
    samples: tuple[object, ...] = ()  # first and last reversed keys
    copies: tuple[Copies, ...] = ()
    notes: tuple[Note, ...] = ()
    model: str | None = None
    code: tuple[CodeSite, ...] = ()
    status: str = OK
    reasons: tuple[str, ...] = ()  # why the status is not ok


@dataclass(frozen=True)
class AuditReport:
    database: str  # the URL, password masked
    dialect: str
    now: str  # the database's clock when the audit started, ISO 8601
    thresholds: Thresholds
    days: int
    skew: float
    tables: tuple[TableReport, ...]
    since: str | None = None  # only rows created at or after this time were audited
    duration: float = 0.0
    started: float = 0.0  # Unix time

    @property
    def status(self) -> str:
        worst = OK
        for table in self.tables:
            if SEVERITY[table.status] > SEVERITY[worst]:
                worst = table.status
        return worst
