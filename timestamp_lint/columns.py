"""Timestamp column declarations, read from class bodies with `ast`, and what they mean.

`extract_columns` and `extract_hooks` record what the source says (callee, keywords, values) as
plain data, so summaries stay cheap and cacheable. `interpret` decides, with names resolved by
the index, whether a column has an insert default that stamps the current time and an update
hook: the facts TSL003 reports on and fix safety depends on.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# The two value types of what the index learns about models. They live here, with the
# engine, rather than in `ftypes`: a warm run needs neither, and creating a frozen
# dataclass costs ~1 ms of start-up.


@dataclass(frozen=True)
class ColumnInfo:
    """How a model declares one timestamp column, hooks found elsewhere included."""

    name: str
    owner: str  # qualified name of the class whose body declares it
    kind: str  # "sqlalchemy", "mapped" (a bare Mapped[...] annotation), "sqlmodel", "django"
    insert_default: str | None  # e.g. "server_default=func.now()"; None when absent
    stamps_now: bool  # the insert default yields the current time
    update_hook: str | None  # e.g. "onupdate=func.now()"; None when absent


@dataclass(frozen=True)
class ModelInfo:
    """An ORM model class and its timestamp columns, inherited ones included."""

    qualname: str
    path: Path
    columns: dict[str, ColumnInfo]


Expr = tuple[str, ...]

# SQL functions that yield the current time when the row is written.
SQL_NOW = frozenset(
    {
        "now",
        "current_timestamp",
        "localtimestamp",
        "localtime",
        "utc_timestamp",
        "sysdate",
        "getdate",
        "getutcdate",
        "sysdatetime",
        "statement_timestamp",
        "transaction_timestamp",
        "clock_timestamp",
    }
)
NOW_WORDS = ("now", "current_timestamp", "localtimestamp", "getdate", "sysdate", "getutcdate")


@dataclass(frozen=True)
class Value:
    """A keyword value as written: enough to judge it without the syntax tree."""

    text: str
    parts: Expr | None = None  # `datetime.utcnow` -> ("datetime", "utcnow"); calls: their callee
    is_call: bool = False
    is_lambda: bool = False
    is_none: bool = False
    strings: tuple[str, ...] = ()  # string constants in it: `text("now()")` -> ("now()",)
    column: ColumnDecl | None = None  # `sa_column=Column(...)`
    entries: dict[str, Value] | None = None  # `sa_column_kwargs={...}`


@dataclass(frozen=True)
class ColumnDecl:
    field: str
    callee: Expr | None  # Column, mapped_column, Field, models.DateTimeField, ...
    annotation: Expr | None  # `Mapped[datetime]` -> ("Mapped",)
    keywords: dict[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class HookDecl:
    """`@event.listens_for(Target, "before_update", propagate=True)` on a function that
    assigns `target.updated_at`, or `event.listen(Target, "before_update", fn)`."""

    target: Expr
    event: str
    fields: frozenset[str]
    propagate: bool


def _parts(node: ast.AST) -> Expr | None:
    from timestamp_lint.index import expr_parts

    return expr_parts(node)


def _value(node: ast.expr, fields: frozenset[str]) -> Value:
    text = ast.unparse(node)
    if len(text) > 80:
        text = text[:77] + "..."
    if isinstance(node, ast.Constant):
        strings = (node.value,) if isinstance(node.value, str) else ()
        return Value(text, is_none=node.value is None, strings=strings)
    if isinstance(node, ast.Lambda):
        return Value(text, is_lambda=True)
    if isinstance(node, ast.Dict):
        entries = {
            k.value: _value(v, fields)
            for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant) and isinstance(k.value, str)
        }
        return Value(text, entries=entries)
    if isinstance(node, ast.Call):
        strings = tuple(
            n.value
            for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        )
        return Value(text, _parts(node.func), is_call=True, strings=strings)
    return Value(text, _parts(node))


def _column(name: str, value: ast.expr | None, annotation: ast.expr | None, fields) -> ColumnDecl:
    keywords: dict[str, Value] = {}
    callee = None
    if isinstance(value, ast.Call):
        callee = _parts(value.func)
        for keyword in value.keywords:
            if keyword.arg == "sa_column" and isinstance(keyword.value, ast.Call):
                text = ast.unparse(keyword.value)[:80]
                column = _column(name, keyword.value, None, fields)
                keywords[keyword.arg] = Value(text, column=column)
            elif keyword.arg:
                keywords[keyword.arg] = _value(keyword.value, fields)
    return ColumnDecl(
        name, callee, _parts(annotation) if annotation is not None else None, keywords
    )


def declares_field(node: ast.ClassDef, fields: frozenset[str]) -> bool:
    """Whether a class body assigns, annotates or defines one of `fields` (cheap check)."""
    for stmt in node.body:
        if isinstance(stmt, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id in fields for t in stmt.targets):
                return True
        elif isinstance(stmt, ast.AnnAssign):
            if isinstance(stmt.target, ast.Name) and stmt.target.id in fields:
                return True
        elif isinstance(stmt, ast.FunctionDef) and stmt.name in fields:
            return True
    return False


def extract_columns(node: ast.ClassDef, fields: frozenset[str]) -> dict[str, ColumnDecl]:
    """The timestamp fields a class body declares, by field name: the configured `fields`,
    and any other column whose declaration stamps the current time (`stamps_time`)."""
    found: dict[str, ColumnDecl] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                if target.id in fields:
                    found[target.id] = _column(target.id, stmt.value, None, fields)
                elif _may_stamp(stmt.value):
                    decl = _column(target.id, stmt.value, None, fields)
                    if stamps_time(decl):
                        found[target.id] = decl
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if stmt.target.id in fields:
                found[stmt.target.id] = _column(stmt.target.id, stmt.value, stmt.annotation, fields)
            elif _may_stamp(stmt.value):
                decl = _column(stmt.target.id, stmt.value, stmt.annotation, fields)
                if stamps_time(decl):
                    found[stmt.target.id] = decl
        elif isinstance(stmt, ast.FunctionDef) and stmt.name in fields:
            # @declared_attr def created_at(cls): return Column(...)
            returned = [n.value for n in ast.walk(stmt) if isinstance(n, ast.Return) and n.value]
            if returned and any(_is_declared_attr(d) for d in stmt.decorator_list):
                found[stmt.name] = _column(stmt.name, returned[0], None, fields)
    return found


# keywords through which a column declaration stamps the current time, by ORM
_TIME_KEYWORDS = (
    "default",
    "server_default",
    "insert_default",
    "onupdate",
    "server_onupdate",
    "default_factory",
)
_CLOCK_NAMES = frozenset({"now", "utcnow", "today", *SQL_NOW})


def _names_clock(value: Value) -> bool:
    """`datetime.utcnow`, `timezone.now`, `func.now()`, `text("CURRENT_TIMESTAMP")`, a lambda
    calling one: the value, as written, reads the clock."""
    if value.parts and value.parts[-1].lower() in _CLOCK_NAMES:
        return True
    if any(w in s.lower() for s in value.strings for w in NOW_WORDS):
        return True
    return value.is_lambda and any(w in value.text for w in ("now(", "utcnow(", "today("))


_TIME_ARGUMENTS = frozenset(
    {*_TIME_KEYWORDS, "auto_now", "auto_now_add", "sa_column", "sa_column_kwargs"}
)


def _may_stamp(value: ast.expr | None) -> bool:
    """A call with a keyword through which a column may stamp the time (cheap, before the
    declaration is recorded and judged by `stamps_time`)."""
    return isinstance(value, ast.Call) and any(k.arg in _TIME_ARGUMENTS for k in value.keywords)


def stamps_time(decl: ColumnDecl) -> bool:
    """Whether a column declaration, whatever its name, stamps the current time on insert
    or update: Django `auto_now` / `auto_now_add`, or a default, server default, update hook
    or SQLModel `default_factory` that reads the clock (in `sa_column` and
    `sa_column_kwargs` too). Only the syntax is judged here; `interpret` decides with the
    names resolved."""
    if decl.callee is None:
        return False
    keywords = decl.keywords
    for key in ("auto_now", "auto_now_add"):
        if key in keywords and keywords[key].text == "True":
            return True
    if any(key in keywords and _names_clock(keywords[key]) for key in _TIME_KEYWORDS):
        return True
    column = keywords.get("sa_column")
    if column is not None and column.column is not None and stamps_time(column.column):
        return True
    extra = keywords.get("sa_column_kwargs")
    return bool(
        extra is not None
        and extra.entries
        and any(k in extra.entries and _names_clock(extra.entries[k]) for k in _TIME_KEYWORDS)
    )


def is_timestamp(info: ColumnInfo | None) -> bool:
    """Whether a column, as interpreted, stamps the current time on insert or update."""
    return info is not None and (info.stamps_now or info.update_hook is not None)


def _is_declared_attr(node: ast.expr) -> bool:
    """`@declared_attr`, `@sa.orm.declared_attr`, `@declared_attr.directive`."""
    parts = _parts(node)
    return parts is not None and "declared_attr" in parts


def assigned_fields(function: ast.FunctionDef | ast.AsyncFunctionDef, owner: str, fields) -> set:
    """Fields assigned as `<owner>.field = ...` (or `setattr(owner, "field", ...)`) inside."""
    found = set()
    for node in ast.walk(function):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr in fields
                and isinstance(target.value, ast.Name)
                and target.value.id == owner
            ):
                found.add(target.attr)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == owner
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in fields
        ):
            found.add(node.args[1].value)
    return found


def _first_param(function: ast.FunctionDef | ast.AsyncFunctionDef, index: int) -> str | None:
    params = [*function.args.posonlyargs, *function.args.args]
    return params[index].arg if len(params) > index else None


def extract_hooks(tree: ast.Module, fields: frozenset[str]) -> list[HookDecl]:
    """SQLAlchemy event listeners at module level that assign timestamp fields."""
    hooks: list[HookDecl] = []
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            functions[stmt.name] = stmt
            for decorator in stmt.decorator_list:
                hook = _listener(decorator, stmt, fields)
                if hook is not None:
                    hooks.append(hook)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            parts = _parts(call.func)
            if parts and parts[-1] == "listen" and len(call.args) >= 3:
                function = call.args[2]
                if isinstance(function, ast.Name) and function.id in functions:
                    hook = _listener(call, functions[function.id], fields)
                    if hook is not None:
                        hooks.append(hook)
    return hooks


def _listener(call: ast.expr, function, fields) -> HookDecl | None:
    if not isinstance(call, ast.Call) or len(call.args) < 2:
        return None
    parts = _parts(call.func)
    if not parts or parts[-1] not in ("listens_for", "listen"):
        return None
    target = _parts(call.args[0])
    event = call.args[1]
    if target is None or not isinstance(event, ast.Constant) or not isinstance(event.value, str):
        return None
    # mapper events pass (mapper, connection, target); attribute-free session events are ignored
    owner = _first_param(function, 2)
    if owner is None:
        return None
    assigned = assigned_fields(function, owner, fields)
    if not assigned:
        return None
    propagate = any(
        k.arg == "propagate" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in call.keywords
    )
    return HookDecl(target, event.value, frozenset(assigned), propagate)


# --------------------------------------------------------------------------- interpretation

Resolver = Callable[[Expr], object]  # resolves an expression of the declaring module


def column_kind(decl: ColumnDecl, resolve: Resolver, sqlmodel_class: bool) -> str | None:
    """Which ORM declares the column, or None when it is not a column we understand."""
    if decl.callee is not None:
        name = resolve(decl.callee)
        if not isinstance(name, str):
            return None
        if name.startswith("sqlalchemy.") and name.endswith((".Column", ".mapped_column")):
            return "sqlalchemy"
        if name.startswith("flask_sqlalchemy.") and name.endswith(
            (".SQLAlchemy().Column", ".SQLAlchemy().mapped_column")
        ):
            return "sqlalchemy"
        if name in ("sqlmodel.Field", "sqlmodel.main.Field"):
            return "sqlmodel"
        if name.startswith("django.db.models.") and name.endswith("Field"):
            return "django"
        return None
    if decl.annotation is not None:
        name = resolve(decl.annotation)
        if isinstance(name, str) and name.startswith("sqlalchemy.") and name.endswith(".Mapped"):
            return "mapped"
        if sqlmodel_class:
            return "sqlmodel"
    return None


def _is_sql_now(value: Value, resolve: Resolver) -> bool:
    """`func.now()`, `sa.func.current_timestamp()`, `text("now()")`, `"CURRENT_TIMESTAMP"`."""
    mentions_now = any(w in s.lower() for s in value.strings for w in NOW_WORDS)
    sql_text = not value.is_call or (value.parts and value.parts[-1] in ("text", "literal_column"))
    if mentions_now and sql_text:
        return True
    if value.is_call and value.parts and value.parts[-1] in SQL_NOW:
        name = resolve(value.parts)
        return isinstance(name, str) and (
            name.startswith("sqlalchemy.") or ".SQLAlchemy().func." in name
        )
    return False


def _is_python_now(value: Value, resolve: Resolver) -> bool:
    """A callable default: `datetime.utcnow`, `timezone.now`, a lambda, `partial(...)`."""
    if value.is_none:
        return False
    if value.is_lambda:
        return True
    if value.is_call:
        if _is_sql_now(value, resolve):
            return True
        return bool(value.parts) and value.parts[-1] == "partial"
    return value.parts is not None  # a reference to a function, called per insert


@dataclass
class _Facts:
    insert_default: str | None = None
    stamps_now: bool = False
    update_hook: str | None = None

    def default(self, text: str, stamps: bool) -> None:
        if self.insert_default is None or (stamps and not self.stamps_now):
            self.insert_default, self.stamps_now = text, stamps


def _sqlalchemy_facts(keywords: dict[str, Value], resolve: Resolver, facts: _Facts) -> None:
    for key in ("server_default", "default", "insert_default"):
        value = keywords.get(key)
        if value is None:
            continue
        if value.is_none:  # an explicit `default=None`: NULL until set, on purpose
            facts.default(f"{key}=None", False)
            continue
        if key == "server_default":
            stamps = _is_sql_now(value, resolve)
        else:
            stamps = _is_python_now(value, resolve)
        facts.default(f"{key}={value.text}", stamps)
    for key in ("onupdate", "server_onupdate"):
        value = keywords.get(key)
        if value is not None and not value.is_none and facts.update_hook is None:
            facts.update_hook = f"{key}={value.text}"


def interpret(
    decl: ColumnDecl, owner: str, resolve: Resolver, sqlmodel_class: bool
) -> ColumnInfo | None:
    kind = column_kind(decl, resolve, sqlmodel_class)
    if kind is None:
        return None
    facts = _Facts()
    keywords = decl.keywords
    if kind == "sqlalchemy":
        _sqlalchemy_facts(keywords, resolve, facts)
    elif kind == "sqlmodel":
        factory = keywords.get("default_factory")
        if factory is not None and not factory.is_none:
            facts.default(f"default_factory={factory.text}", _is_python_now(factory, resolve))
        default = keywords.get("default")
        if default is not None and not default.is_none and default.text != "...":
            facts.default(f"default={default.text}", _is_python_now(default, resolve))
        column = keywords.get("sa_column")
        if column is not None and column.column is not None:
            _sqlalchemy_facts(column.column.keywords, resolve, facts)
        extra = keywords.get("sa_column_kwargs")
        if extra is not None and extra.entries:
            _sqlalchemy_facts(extra.entries, resolve, facts)
    elif kind == "django":
        for key in ("auto_now", "auto_now_add"):
            value = keywords.get(key)
            if value is not None and value.text == "True":
                facts.default(f"{key}=True", True)
                if key == "auto_now":
                    facts.update_hook = "auto_now=True"
        default = keywords.get("default")
        if default is not None:
            facts.default(f"default={default.text}", _is_python_now(default, resolve))
    return ColumnInfo(
        name=decl.field,
        owner=owner,
        kind=kind,
        insert_default=facts.insert_default,
        stamps_now=facts.stamps_now,
        update_hook=facts.update_hook,
    )


def table_columns(call: ast.Call, fields: frozenset[str]) -> dict[str, ColumnDecl]:
    """The timestamp columns of `Table("name", metadata, Column("created_at", ...), ...)`,
    by field name, declared as a class body would declare them."""
    found: dict[str, ColumnDecl] = {}
    for arg in call.args:
        if (
            isinstance(arg, ast.Call)
            and arg.args
            and isinstance(arg.args[0], ast.Constant)
            and arg.args[0].value in fields
        ):
            found[arg.args[0].value] = _column(arg.args[0].value, arg, None, fields)
    return found
