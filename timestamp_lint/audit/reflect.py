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
) -> tuple[list[TableSpec], dict[str, TableSpec]]:
    """Every table with a `created` column (or exactly `tables`, which must have it), and
    by name, those tables and every parent their foreign keys (and `extra_links`) refer to:
    parents are compared with, even when they are not audited themselves."""
    from sqlalchemy import inspect

    dialect = connection.dialect.name
    inspector = inspect(connection)
    names = inspector.get_table_names(schema=schema)
    where = f" in schema {schema!r}" if schema else ""

    def shown(table: str, table_schema: str | None = schema) -> str:
        return f"{table_schema}.{table}" if table_schema else table

    for child, child_columns, parent, referred in extra_links:
        for table, wanted in ((child, child_columns), (parent, referred)):
            if table not in names:
                raise AuditError(f"--link: no table {table!r}{where}")
            present = {c["name"] for c in inspector.get_columns(table, schema=schema)}
            for column in wanted:
                if column not in present:
                    raise AuditError(f"--link: table {table!r} has no column {column!r}")
    for wanted in tables:
        if wanted not in names:
            raise AuditError(f"no table {wanted!r}{where}")

    def build(table: str, required: bool) -> TableSpec | None:
        columns = {c["name"]: c for c in inspector.get_columns(table, schema=schema)}
        if created not in columns:
            if required:
                raise AuditError(f"table {table!r} has no column {created!r}")
            return None
        made: list[Column | None] = []
        for name in (created, updated):
            info = columns.get(name)
            kind = _kind(dialect, info) if info is not None else None
            if info is not None and kind is None and required:
                raise AuditError(f"{table}.{name} is not a date/time column ({info['type']})")
            made.append(
                Column(name, kind, bool(info["nullable"]), info.get("default"))
                if info is not None and kind is not None
                else None
            )
        if made[0] is None:
            return None
        key = tuple(
            inspector.get_pk_constraint(table, schema=schema).get("constrained_columns") or ()
        )
        links = []
        for fk in inspector.get_foreign_keys(table, schema=schema):
            parent_schema = fk.get("referred_schema") or schema
            links.append(
                Link(
                    shown(fk["referred_table"], parent_schema),
                    tuple(fk["constrained_columns"]),
                    tuple(fk["referred_columns"]),
                )
            )
        for child, child_columns, parent, referred in extra_links:
            if child == table:
                links.append(Link(shown(parent), child_columns, referred))
        return TableSpec(
            name=shown(table),
            schema=schema,
            table=table,
            key=key,
            created=made[0],
            updated=made[1],
            links=tuple(links),
            update_trigger=_triggers(connection, dialect, schema, table),
            columns=frozenset(columns),
        )

    specs = [
        spec
        for spec in (build(table, bool(tables)) for table in sorted(tables or names))
        if spec is not None
    ]
    related = {spec.name: spec for spec in specs}
    for spec in specs:
        for link in spec.links:
            if link.parent not in related and link.parent.rpartition(".")[2] in names:
                bare = link.parent.rpartition(".")[2]
                if shown(bare) == link.parent:
                    parent = build(bare, False)
                    if parent is not None:
                        related[parent.name] = parent
    return specs, related
