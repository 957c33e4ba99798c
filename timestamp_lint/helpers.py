"""Summaries of project functions and methods, read with `ast` from the module that defines
them (never imported), cached for the run.

- `returns_columns`: whether a model method such as `to_dict()` returns the record's columns
  (a comprehension or loop over `__table__.columns` / `_meta.fields`, `vars(self)`,
  `self.__dict__`, or a dict literal whose keys include the timestamp fields), which makes
  `Model(**record.to_dict())` a clone (TSL004).
- `forwarding`: whether a function or method passes its `**kwargs` (or named parameters)
  on into a model constructor, `Model.objects.create(...)` or `insert(Model).values(...)`,
  which makes a call of it a creation site (TSL001).
"""

from __future__ import annotations

import ast
import re
import weakref
from pathlib import Path

from timestamp_lint.index import ClassSummary, ProjectIndex
from timestamp_lint.source import SourceError, decode_source, parse_python, read_source

MAX_HELPER_DEPTH = 3  # helpers calling helpers, followed this deep

_COLUMNS_RE = re.compile(
    r"(?:__table__\.(?:columns|c)|__mapper__\.(?:columns|column_attrs|attrs)"
    r"|_meta\.(?:fields|concrete_fields|local_fields|local_concrete_fields|get_fields\(\))"
    r"|\binspect\(.*\)\.(?:attrs|column_attrs|mapper\.(?:column_attrs|columns|attrs)))"
    r"(?:\.(?:keys|values)\(\))?$"
)


class _Trees:
    """Syntax trees of project modules, parsed once per run."""

    def __init__(self) -> None:
        self.trees: dict[Path, ast.Module | None] = {}
        self.columns: dict[tuple[Path, str, str], bool] = {}


_runs: weakref.WeakKeyDictionary[ProjectIndex, _Trees] = weakref.WeakKeyDictionary()


def _state(index: ProjectIndex) -> _Trees:
    state = _runs.get(index)
    if state is None:
        state = _runs[index] = _Trees()
    return state


def module_tree(index: ProjectIndex, path: Path) -> ast.Module | None:
    """The `ast` tree of a project module (its summary is touched, so a cached result that
    used it is checked against it)."""
    if index.summary(path) is None:
        return None
    state = _state(index)
    if path not in state.trees:
        try:
            state.trees[path] = parse_python(decode_source(read_source(path)), path)
        except (SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
            state.trees[path] = None
    return state.trees[path]


def class_def(index: ProjectIndex, cls: ClassSummary) -> ast.ClassDef | None:
    tree = module_tree(index, cls.path)
    if tree is None:
        return None
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.ClassDef) and stmt.name == cls.name and stmt.lineno == cls.line:
            return stmt
    return None


def method_of(
    index: ProjectIndex, cls: ClassSummary, name: str
) -> tuple[ClassSummary, ast.FunctionDef | ast.AsyncFunctionDef] | None:
    """The definition of method `name` that `cls` uses (its own or an ancestor's)."""
    for current in (cls, *index.ancestors(cls)):
        node = class_def(index, current)
        if node is None:
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == name:
                return current, stmt
    return None


def columns_text(node: ast.expr) -> bool:
    return _COLUMNS_RE.search(" ".join(ast.unparse(node).split())) is not None


def _keeps(ifs: list[ast.expr], fields: frozenset[str]) -> bool:
    texts = [ast.unparse(i) for i in ifs]
    return all(".startswith(" in t and not any(f in t for f in fields) for t in texts)


def returns_columns(
    index: ProjectIndex, cls: ClassSummary, method: str, fields: frozenset[str]
) -> bool:
    """Whether `cls().method()` returns a mapping holding the record's timestamp columns."""
    state = _state(index)
    key = (cls.path, cls.name, method)
    if key not in state.columns:
        state.columns[key] = False  # a cycle sees no
        found = method_of(index, cls, method)
        state.columns[key] = found is not None and _returns_columns(found[1], fields)
    return state.columns[key]


def _returns_columns(function: ast.FunctionDef | ast.AsyncFunctionDef, fields) -> bool:
    params = [*function.args.posonlyargs, *function.args.args]
    if not params:
        return False
    owner = params[0].arg
    filled = _filled_from_columns(function, fields)
    for node in ast.walk(function):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = node.value
        if _call_of(value, ("dict", "vars")) and len(value.args) == 1:
            value = value.args[0]
        if _call_of(value, ("copy",)) and not value.args:
            value = value.func.value
        if isinstance(value, ast.Name) and value.id in filled:
            return True
        if isinstance(value, ast.Name) and value.id == owner:
            return True  # vars(self)
        if isinstance(value, ast.Attribute) and value.attr == "__dict__":
            return True
        if isinstance(value, ast.DictComp):
            generator = value.generators[0]
            if len(value.generators) == 1 and columns_text(generator.iter):
                return _keeps(generator.ifs, fields)
        if isinstance(value, ast.Dict):
            keys = {k.value for k in value.keys if isinstance(k, ast.Constant)}
            if keys & fields and all(_reads_own(v, owner) for v in value.values):
                return True
    return False


def _call_of(node: ast.expr, names: tuple[str, ...]) -> bool:
    """`dict(...)` / `vars(...)` (a name) or `x.copy()` (a method) among `names`."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in names and func.id != "copy"
    return isinstance(func, ast.Attribute) and func.attr in names and func.attr == "copy"


def _reads_own(node: ast.expr, owner: str) -> bool:
    """Whether a value reads the record's own attribute (`self.created_at`, or a call on it:
    `self.created_at.isoformat()` is still the record's time)."""
    return any(
        isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == owner
        for n in ast.walk(node)
    )


def _filled_from_columns(function, fields) -> set[str]:
    """Locals filled in a loop over the columns: `for c in self.__table__.columns:
    data[c.name] = getattr(self, c.name)` with no `if` in the loop body."""
    names = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.For) or not columns_text(node.iter):
            continue
        if any(isinstance(n, ast.If | ast.Continue) for stmt in node.body for n in ast.walk(stmt)):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    names.add(target.value.id)
    return names
