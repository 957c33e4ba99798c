"""`--project`: the project's ORM models mapped to tables, and the code that copies into them.

Models and their declared columns come from the linter's project index (read with `ast`,
never imported); findings come from the public `lint_paths`. The table a model maps to is
read here from the class's own source: `__tablename__ = "..."` (SQLAlchemy), `class Meta:
db_table = "..."` or Django's default `<app label>_<model name>`, SQLModel's lower-cased
class name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from timestamp_lint.audit.model import AuditError, CodeSite, Note
from timestamp_lint.audit.reflect import TableSpec
from timestamp_lint.columns import ColumnInfo, ModelInfo

COPY_CODES = ("TSL001", "TSL002", "TSL004")


@dataclass
class ProjectModels:
    models: dict[str, ModelInfo] = field(default_factory=dict)  # table -> model
    code: dict[str, list[CodeSite]] = field(default_factory=dict)  # table -> copy sites


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _assigned(body: list[ast.stmt], name: str) -> str | None:
    for statement in body:
        if isinstance(statement, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
                return _string(statement.value)
        elif (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.target.id == name
        ):
            return _string(statement.value)
    return None


def table_name(path: Path, class_name: str, line: int, kinds: set[str]) -> str | None:
    """The table a model class maps to, read from its definition."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name and node.lineno == line:
            explicit = _assigned(node.body, "__tablename__")
            if explicit:
                return explicit
            for inner in node.body:
                if isinstance(inner, ast.ClassDef) and inner.name == "Meta":
                    db_table = _assigned(inner.body, "db_table")
                    if db_table:
                        return db_table
            if "django" in kinds:
                folder = path.parent  # app/models.py or app/models/flow.py: app
                if folder.name == "models":
                    folder = folder.parent
                return f"{folder.name}_{class_name.lower()}"
            if "sqlmodel" in kinds:
                return class_name.lower()
            return None
    return None


def load(root: Path) -> ProjectModels:
    """The project's models by table, and the copy findings by the table they write to."""
    from timestamp_lint.api import (
        Options,
        lint_paths,
        make_engine,
        project_files_of,
        resolve_config,
    )
    from timestamp_lint.index import ClassSym
    from timestamp_lint.report import display_path

    if not root.is_dir():
        raise AuditError(f"--project: {root} is not a folder")
    config = resolve_config([root])
    found = ProjectModels()
    by_qualname: dict[str, str] = {}
    try:
        index = make_engine(config).index
        for path in project_files_of(config):  # the command line's walk (`.gitignore` too)
            module = index.summary(path)
            if module is None:
                continue
            for cls in module.classes.values():
                if index.model_class(ClassSym(cls)) is None:
                    continue
                info = index.model_info(cls)
                kinds = {column.kind for column in info.columns.values()}
                name = table_name(cls.path, cls.name, cls.line, kinds)
                if name and name not in found.models:
                    found.models[name] = info
                    by_qualname[info.qualname] = name
        result = lint_paths([config.root], config=config, options=Options(cache=False, jobs=1))
    except AuditError:
        raise
    except Exception as exc:  # the index is the linter's; a failure there is one line too
        raise AuditError(f"--project: cannot read the project's models: {exc}") from None
    for finding in result.findings:
        if finding.code in COPY_CODES and finding.model in by_qualname:
            site = CodeSite(display_path(finding.path), finding.line, finding.code, finding.model)
            found.code.setdefault(by_qualname[finding.model], []).append(site)
    return found


def _declares_server_default(column: ColumnInfo) -> bool:
    text = column.insert_default or ""
    return text.startswith("server_default") or text.startswith("sa_column")


def _declares_server_update(column: ColumnInfo) -> bool:
    return (column.update_hook or "").startswith("server_onupdate")


def notes(spec: TableSpec, model: ModelInfo | None) -> list[Note]:
    """Schema observations for one table; with its model, disagreements are drift."""
    found: list[Note] = []
    columns = [spec.created] + ([spec.updated] if spec.updated else [])
    for column in columns:
        declared = model.columns.get(column.name) if model else None
        if column.default is None:
            if declared is not None and _declares_server_default(declared):
                found.append(
                    Note(
                        column.name,
                        "no-default",
                        f"the model declares {declared.insert_default}; the column has no"
                        " default in the database",
                        drift=True,
                    )
                )
            elif declared is None or not declared.stamps_now:
                found.append(Note(column.name, "no-default", "no database default"))
    if model is not None:
        for name, declared in sorted(model.columns.items()):
            if name not in spec.columns:
                found.append(
                    Note(
                        name,
                        "missing-column",
                        f"the model declares {name}; the table has no such column",
                        drift=True,
                    )
                )
            elif (
                spec.updated is not None
                and name == spec.updated.name
                and _declares_server_update(declared)
                and spec.update_trigger is False
            ):
                found.append(
                    Note(
                        name,
                        "no-update-trigger",
                        f"the model declares {declared.update_hook}; the table has no update"
                        " trigger",
                        drift=True,
                    )
                )
    return found
