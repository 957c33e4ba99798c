"""Which tables have timestamp columns, and what the database says about them: keys,
foreign keys, defaults, NOT NULL, update triggers. SQLAlchemy reflection, read-only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from timestamp_lint.audit.model import AuditError


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "timestamp" (a date/time type), "text" or "epoch" (SQLite storage)
    nullable: bool
    default: str | None  # the database-side default, as the database prints it


@dataclass(frozen=True)
class Link:
    """A foreign key from this table to `parent`."""

    parent: str  # the parent table's name (schema-qualified outside the default schema)
    columns: tuple[str, ...]  # in this table
    referred: tuple[str, ...]  # in the parent


@dataclass(frozen=True)
class TableSpec:
    name: str  # as shown: "schema.table" outside the default schema
    schema: str | None
    table: str
    key: tuple[str, ...]  # primary key columns (empty: none)
    created: Column
    updated: Column | None
    links: tuple[Link, ...]
    update_trigger: bool | None  # None: not known for this database
    columns: frozenset[str]


def _kind(dialect: str, column: dict[str, Any]) -> str | None:
    from sqlalchemy import types

    sa_type = column["type"]
    if isinstance(sa_type, (types.DateTime, types.Date)):
        return "timestamp"
    if dialect != "sqlite":
        return None  # PostgreSQL: only real date/time types are compared
    if isinstance(sa_type, (types.Integer, types.Float, types.Numeric)):
        return "epoch"
    return "text"  # SQLite has no date type: ISO 8601 text, which julianday() reads


def _triggers(connection: Any, dialect: str, schema: str | None, table: str) -> bool | None:
    from sqlalchemy import text

    if dialect == "postgresql":
        query = text(
            "SELECT count(*) FROM pg_catalog.pg_trigger t"
            " JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            " WHERE NOT t.tgisinternal AND c.relname = :table"
            " AND n.nspname = coalesce(:schema, current_schema())"
            " AND (t.tgtype & 16) <> 0 AND (t.tgtype & 1) <> 0"  # UPDATE, FOR EACH ROW
        )
        return bool(connection.execute(query, {"table": table, "schema": schema}).scalar())
    if dialect == "sqlite":
        rows = connection.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table},
        ).scalars()
        return any(" UPDATE" in (sql or "").upper() for sql in rows)
    return None


def discover(
    connection: Any,
    created: str,
    updated: str,
    tables: Sequence[str] = (),
    schema: str | None = None,
    extra_links: Sequence[tuple[str, tuple[str, ...], str, tuple[str, ...]]] = (),
) -> list[TableSpec]:
    """Every table with a `created` column (or exactly `tables`, which must have it)."""
    from sqlalchemy import inspect

    dialect = connection.dialect.name
    inspector = inspect(connection)
    names = inspector.get_table_names(schema=schema)
    if tables:
        for wanted in tables:
            if wanted not in names:
                where = f" in schema {schema!r}" if schema else ""
                raise AuditError(f"no table {wanted!r}{where}")
        names = list(tables)
    specs: list[TableSpec] = []
    for table in sorted(names):
        columns = {c["name"]: c for c in inspector.get_columns(table, schema=schema)}
        if created not in columns:
            if tables:
                raise AuditError(f"table {table!r} has no column {created!r}")
            continue
        made = []
        for name in (created, updated):
            info = columns.get(name)
            if info is None:
                made.append(None)
                continue
            kind = _kind(dialect, info)
            if kind is None:
                if tables:
                    raise AuditError(f"{table}.{name} is not a date/time column ({info['type']})")
                made.append(None)
                continue
            default = info.get("default")
            made.append(Column(name, kind, bool(info["nullable"]), default))
        if made[0] is None:
            continue
        key = tuple(
            inspector.get_pk_constraint(table, schema=schema).get("constrained_columns") or ()
        )
        links = []
        for fk in inspector.get_foreign_keys(table, schema=schema):
            parent = fk["referred_table"]
            if fk.get("referred_schema") and fk["referred_schema"] != schema:
                parent = f"{fk['referred_schema']}.{parent}"
            links.append(
                Link(parent, tuple(fk["constrained_columns"]), tuple(fk["referred_columns"]))
            )
        for child, child_columns, parent, referred in extra_links:
            if child == table:
                for column in child_columns:
                    if column not in columns:
                        raise AuditError(f"--link: table {table!r} has no column {column!r}")
                links.append(Link(parent, child_columns, referred))
        shown = f"{schema}.{table}" if schema else table
        specs.append(
            TableSpec(
                name=shown,
                schema=schema,
                table=table,
                key=key,
                created=made[0],
                updated=made[1],
                links=tuple(links),
                update_trigger=_triggers(connection, dialect, schema, table),
                columns=frozenset(columns),
            )
        )
    for child, _cols, parent, referred in extra_links:
        if child not in names:
            raise AuditError(f"--link: no table {child!r}")
        if parent not in names:
            raise AuditError(f"--link: no table {parent!r}")
        parent_columns = {c["name"] for c in inspector.get_columns(parent, schema=schema)}
        for column in referred:
            if column not in parent_columns:
                raise AuditError(f"--link: table {parent!r} has no column {column!r}")
    return specs
