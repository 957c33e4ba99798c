"""Database URLs and read-only connections.

Every message that can name the database goes through `mask()`: the password never reaches
the terminal, a log or a report. Connections are read-only twice over: SQLite files are
opened with `mode=ro` (the library itself refuses writes) and `PRAGMA query_only`;
PostgreSQL sessions start with `default_transaction_read_only=on` and the audit runs in one
`REPEATABLE READ READ ONLY` transaction (one snapshot for every check). Each statement has a
time limit: PostgreSQL's `statement_timeout`, SQLite's progress handler.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from timestamp_lint.audit.model import AuditError

_PASSWORD_RE = re.compile(r"(://[^:/@\s]*:)([^@\s]*)(@)")
SUPPORTED = ("sqlite", "postgresql")
DRIVERS = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "pysqlite": None}


def mask(url: str) -> str:
    """The URL with its password replaced by ***."""
    return _PASSWORD_RE.sub(r"\1***\3", url)


def require_sqlalchemy() -> None:
    if importlib.util.find_spec("sqlalchemy") is None:
        raise AuditError("the audit needs SQLAlchemy: pip install 'timestamp-lint[audit]'")


@dataclass(frozen=True)
class Target:
    """A parsed database URL."""

    raw: str
    masked: str
    dialect: str  # "sqlite" or "postgresql"
    driver: str
    password: str | None
    path: Path | None = None  # SQLite


def parse(url: str) -> Target:
    require_sqlalchemy()
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    masked = mask(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        detail = str(exc).replace(url, masked)
        raise AuditError(f"{masked}: not a database URL ({mask(detail)})") from None
    backend = parsed.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend not in SUPPORTED:
        raise AuditError(
            f"{masked}: unsupported database {backend!r} (supported: sqlite, postgresql)"
        )
    driver = parsed.get_driver_name() if "+" in parsed.drivername else ""
    if backend == "postgresql":
        driver = driver or "psycopg"
    else:
        driver = driver or "pysqlite"
        if driver != "pysqlite":
            raise AuditError(f"{masked}: unsupported SQLite driver {driver!r} (use sqlite:///)")
    path = None
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise AuditError(f"{masked}: an in-memory database has nothing to audit")
        path = Path(parsed.database)
        if not path.is_file():
            raise AuditError(f"{masked}: no such database file: {path}")
    return Target(url, masked, backend, driver, parsed.password, path)


def clean(message: str, target: Target) -> str:
    """One line, no password."""
    text = " ".join(str(message).split())
    if target.password:
        text = text.replace(target.password, "***")
        text = text.replace(quote(target.password, safe=""), "***")
    return mask(text)


def _driver_missing(target: Target) -> AuditError:
    package = DRIVERS.get(target.driver) or target.driver
    return AuditError(
        f"{target.masked}: the database driver {target.driver!r} is not installed "
        f"(pip install '{package}', or pip install 'timestamp-lint[audit]')"
    )


def _sqlite_engine(target: Target, timeout: float) -> Any:
    import sqlite3

    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    assert target.path is not None
    uri = "file:" + quote(str(target.path.resolve())) + "?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    engine = create_engine("sqlite+pysqlite://", creator=connect, poolclass=NullPool)
    deadline = [time.monotonic() + timeout]

    @event.listens_for(engine, "connect")
    def _setup(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")
        dbapi_connection.set_progress_handler(
            lambda: 1 if time.monotonic() > deadline[0] else 0, 10_000
        )

    @event.listens_for(engine, "before_cursor_execute")
    def _start(*_args: object) -> None:
        deadline[0] = time.monotonic() + timeout

    return engine


def _postgresql_engine(target: Target, timeout: float) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    url = make_url(target.raw).set(drivername=f"postgresql+{target.driver}")
    milliseconds = max(1, int(timeout * 1000))
    options = (
        "-c default_transaction_read_only=on"
        f" -c statement_timeout={milliseconds}"
        f" -c lock_timeout={milliseconds}"
        " -c idle_in_transaction_session_timeout=0"
        " -c TimeZone=UTC"
    )
    connect_args = {
        "options": options,
        "connect_timeout": max(1, min(int(timeout), 30)),
        "application_name": "timestamp-lint audit",
    }
    try:
        return create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except ModuleNotFoundError:
        raise _driver_missing(target) from None


@contextmanager
def read_only(target: Target, timeout: float) -> Iterator[Any]:
    """A SQLAlchemy connection inside one read-only transaction; rolled back at the end."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    if target.dialect == "sqlite":
        engine = _sqlite_engine(target, timeout)
    else:
        engine = _postgresql_engine(target, timeout)
    try:
        connection = engine.connect()
    except ModuleNotFoundError:
        raise _driver_missing(target) from None
    except sa_exc.DBAPIError as exc:
        detail = clean(getattr(exc, "orig", exc) or exc, target)
        raise AuditError(f"{target.masked}: cannot connect: {detail}") from None
    try:
        if target.dialect == "postgresql":
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            state = connection.execute(text("SHOW transaction_read_only")).scalar()
            if state != "on":  # never audit through a session that could write
                raise AuditError(f"{target.masked}: could not start a read-only transaction")
        else:
            connection.execute(text("SELECT 1"))
        yield connection
    except sa_exc.OperationalError as exc:
        detail = clean(getattr(exc, "orig", exc) or exc, target)
        if "interrupted" in detail or "statement timeout" in detail:
            detail = f"a query ran longer than the {timeout:g} s statement timeout ({detail})"
        raise AuditError(f"{target.masked}: {detail}") from None
    except sa_exc.DBAPIError as exc:
        detail = clean(getattr(exc, "orig", exc) or exc, target)
        raise AuditError(f"{target.masked}: {detail}") from None
    finally:
        try:
            connection.rollback()
            connection.close()
        except sa_exc.SQLAlchemyError:
            pass
        engine.dispose()
