"""TSL003's judgement of a class's timestamp columns, read from the project index alone
(no LibCST): the rule reports it, and the engine's first pass asks it before any LibCST parse."""

from __future__ import annotations

import ast

from timestamp_lint.columns import ColumnInfo
from timestamp_lint.index import ClassSummary, Kind, ProjectIndex

Problem = tuple[ColumnInfo, bool, bool]  # the column, no insert default, no update hook


def column_problems(
    index: ProjectIndex, cls: ClassSummary, update_fields: tuple[str, ...]
) -> dict[str, Problem]:
    """The timestamp columns `cls` declares that cannot stamp themselves, by field.

    SQLModel classes without table=True are DTOs; any other class (a model, a mixin) is
    checked, and only columns declared with an ORM construct are judged. Read from the
    project index alone (no LibCST), so the engine can ask before parsing with LibCST.
    """
    if not cls.columns or index.class_kind(cls) is Kind.SQLMODEL:
        return {}
    configured = index.config.fields
    if not any(name in configured for name in cls.columns):
        return {}
    problems: dict[str, Problem] = {}
    for name in cls.columns:
        if name not in configured:
            continue  # found by its default (`columns.stamps_time`): it stamps itself
        info = index.column_info(cls, name)
        if info is None:
            continue
        if info.kind == "sqlmodel" and index.class_kind(cls) is not Kind.MODEL:
            continue  # a SQLModel field in a plain mixin: only table classes have columns
        missing_default = info.insert_default is None
        missing_hook = name in update_fields and info.update_hook is None
        if missing_default or missing_hook:
            problems[name] = (info, missing_default, missing_hook)
    if problems and index.class_kind(cls) is not Kind.MODEL and _mapped_imperatively(index, cls):
        return {}  # its columns are a Table's, mapped onto the class: the Table decides
    return problems


def _mapped_imperatively(index: ProjectIndex, cls: ClassSummary) -> bool:
    """`registry.map_imperatively(Cls, table)` or classic `mapper(Cls, table)` in the
    class's own module: the class body's annotations only describe the Table's columns."""
    from timestamp_lint.helpers import module_tree

    tree = module_tree(index, cls.path)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        first = node.args[0]
        if (
            name in ("map_imperatively", "mapper")
            and isinstance(first, ast.Name)
            and first.id == cls.name
        ):
            return True
    return False
