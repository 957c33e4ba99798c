"""`timestamp-lint audit URL`: the click command; wires options to the audit's modules."""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import click

from timestamp_lint.audit.model import (
    CRITICAL,
    WARNING,
    AuditError,
    AuditReport,
    Thresholds,
    parse_duration,
    parse_rate,
)

FORMATS = ("text", "json", "prometheus")


@dataclass(frozen=True)
class Request:
    """What to audit and how, from the command line."""

    thresholds: Thresholds
    tables: tuple[str, ...]
    schema: str | None
    created: str
    updated: str
    links: list
    days: int
    skew: float
    timeout: float
    since: datetime | None
    export_keys: Path | None


EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def _rate(ctx: click.Context, param: click.Parameter, value: str) -> float:
    try:
        return parse_rate(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _links(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, tuple[str, ...], str, tuple[str, ...]]]:
    links = []
    for value in values:
        child, sep, parent = value.partition("=")
        child_table, dot, child_columns = child.strip().rpartition(".")
        parent_table, dot2, parent_columns = parent.strip().rpartition(".")
        if not (sep and dot and dot2 and child_table and parent_table):
            raise click.BadParameter(f"{value!r} is not CHILD.COLUMN=PARENT.COLUMN")
        links.append(
            (
                child_table,
                tuple(child_columns.split("+")),
                parent_table,
                tuple(parent_columns.split("+")),
            )
        )
    return links


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time like 2024-05-01T12:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def fail(message: str) -> None:
    click.echo(f"timestamp-lint audit: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


class Progress:
    """One self-overwriting line on stderr, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def __call__(self, number: int, total: int, table: str) -> None:
        if not self.enabled or total < 2:
            return
        width = 24
        done = int(width * (number - 1) / total)
        bar = "#" * done + "-" * (width - done)
        click.echo(f"\r[{bar}] {number}/{total} {table[:40]:<40}", nl=False, err=True)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r" + " " * 80 + "\r", nl=False, err=True)


def write_keys(path: Path, rows) -> int:
    """The affected keys as CSV (table,check,column,parent,key), written atomically."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise AuditError(f"--export-keys {path}: {exc.strerror or exc}") from None
    count = 0
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["table", "check", "column", "parent", "key"])
            for table, check, column, parent, key in rows:
                value = key[0] if len(key) == 1 else json.dumps(list(key), default=str)
                writer.writerow([table, check, column, parent, value])
                count += 1
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise AuditError(f"--export-keys {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def use_color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("url")
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text (a block per table), json, or prometheus (text exposition format).",
)
@click.option("--table", "tables", multiple=True, help="Audit only this table (repeatable).")
@click.option("--schema", help="PostgreSQL schema (default: the search path's first).")
@click.option("--created-column", default="created_at", show_default=True)
@click.option("--updated-column", default="updated_at", show_default=True)
@click.option(
    "--link",
    "links",
    multiple=True,
    callback=_links,
    metavar="CHILD.COL=PARENT.COL",
    help="A reference the schema does not declare as a foreign key (repeatable).",
)
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True)
@click.option("--warn", default="1%", callback=_rate, show_default=True)
@click.option("--warn-window", default="7d", callback=_duration, show_default=True)
@click.option("--critical", default="10%", callback=_rate, show_default=True)
@click.option("--critical-window", default="24h", callback=_duration, show_default=True)
@click.option(
    "--skew",
    default="5m",
    callback=_duration,
    show_default=True,
    help="Clock skew tolerated before a created_at counts as in the future.",
)
@click.option(
    "--timeout",
    default="300s",
    callback=_duration,
    show_default=True,
    help="Longest any single query may run.",
)
@click.option(
    "--since",
    callback=_since,
    metavar="TIME",
    help="Only rows created at or after TIME (ISO 8601; UTC without an offset), e.g. a deploy.",
)
@click.option(
    "--project",
    type=click.Path(path_type=Path, file_okay=False),
    help="Map tables to the project's models and name the code that copies into them.",
)
@click.option(
    "--export-keys",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the affected primary keys (CSV) for a repair migration.",
)
def audit(
    url: str,
    output_format: str,
    tables: tuple[str, ...],
    schema: str | None,
    created_column: str,
    updated_column: str,
    links: list,
    days: int,
    warn: float,
    warn_window: float,
    critical: float,
    critical_window: float,
    skew: float,
    timeout: float,
    since: datetime | None,
    project: Path | None,
    export_keys: Path | None,
) -> None:
    """Audit a database for the damage copied timestamps did: reversed stamps, child rows
    whose stamps equal their parent's, future stamps, NULLs and schema drift. Read-only.

    URL is a SQLAlchemy URL: sqlite:///app.db or postgresql://user:pass@host/db. Exit
    status: 0 below every threshold, 1 above one, 2 on errors.
    """
    from timestamp_lint.audit.connection import clean, parse

    target = None
    try:
        target = parse(url)
        models = None
        if project is not None:
            from timestamp_lint.audit import project as project_module

            models = project_module.load(project)
        request = Request(
            Thresholds(warn, warn_window, critical, critical_window),
            tables,
            schema,
            created_column,
            updated_column,
            links,
            days,
            skew,
            timeout,
            since,
            export_keys,
        )
        report, written = _run(target, request, models)
    except AuditError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as exc:
        fail(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))
    except Exception as exc:  # a bug of ours: one line, never a traceback
        detail = clean(f"{type(exc).__name__}: {exc}", target) if target else type(exc).__name__
        fail(f"internal error: {detail} (please report this)")
    from timestamp_lint.audit import jsonout, prometheus, text

    renderer = {"text": text.render, "json": jsonout.render, "prometheus": prometheus.render}
    sys.stdout.write(renderer[output_format](report, color=use_color()))
    if written is not None:
        for table in report.tables:
            if not table.key:
                click.echo(
                    f"timestamp-lint audit: warning: table {table.table!r} has no primary key:"
                    " its rows are not in the exported keys",
                    err=True,
                )
        click.echo(f"Wrote {written:,} affected keys to {export_keys}.", err=True)
    sys.exit(EXIT_FOUND if report.status in (WARNING, CRITICAL) else EXIT_CLEAN)


def _run(target, r: Request, models) -> tuple[AuditReport, int | None]:
    from timestamp_lint.audit import checks, reflect
    from timestamp_lint.audit.connection import read_only
    from timestamp_lint.audit.project import notes

    started = time.time()
    progress = Progress(sys.stderr.isatty())
    with read_only(target, r.timeout) as connection:
        specs, related = reflect.discover(
            connection, r.created, r.updated, r.tables, r.schema, r.links
        )
        if not specs:
            raise AuditError(f"{target.masked}: no table has a {r.created!r} date/time column")
        clock, reports, duration = checks.audit(
            connection, specs, related, r.thresholds, r.days, r.skew, progress, r.since
        )
        progress.clear()
        written = None
        if r.export_keys is not None:
            keys = checks.affected_keys(connection, specs, related, clock, r.skew, r.since)
            written = write_keys(r.export_keys, keys)
    finished = []
    for spec, table in zip(specs, reports, strict=True):
        model = models.models.get(spec.table) if models else None
        table = replace(table, notes=tuple(notes(spec, model)))
        if model is not None:
            sites = tuple(models.code.get(spec.table, ()))
            table = replace(table, model=model.qualname, code=sites)
        finished.append(table)
    report = AuditReport(
        database=target.masked,
        dialect=target.dialect,
        now=clock.now.isoformat().replace("+00:00", "Z"),
        thresholds=r.thresholds,
        days=r.days,
        skew=r.skew,
        since=r.since.isoformat().replace("+00:00", "Z") if r.since else None,
        tables=tuple(finished),
        duration=duration,
        started=started,
    )
    return report, written
