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
from typing import NamedTuple

from timestamp_lint.index import (
    CALL,
    ClassSummary,
    ClassSym,
    ModuleSummary,
    ModuleSym,
    ProjectIndex,
    expr_parts,
)
from timestamp_lint.source import SourceError, decode_source, parse_python, read_source

DJANGO_MANAGERS = frozenset({"objects", "_default_manager"})  # `Model.objects.get(...)`

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
        self.forwards: dict[tuple, Forward | None] = {}
        self.current: tuple[Path, ast.Module] | None = None  # the file being linted


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
    if state.current is not None and state.current[0] == path:
        return state.current[1]  # a helper of the file being linted, as it is linted
    if path not in state.trees:
        try:  # the tree the summary was made from, if the index still keeps it
            state.trees[path] = index.trees.peek(path) or parse_python(
                decode_source(read_source(path)), path
            )
        except (SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
            state.trees[path] = None
    return state.trees[path]


def use_tree(index: ProjectIndex, path: Path, tree: ast.Module) -> None:
    """Let `module_tree` take `tree`, the whole tree of the file being linted at `path`,
    rather than parse that file again when the file calls a helper it defines."""
    _state(index).current = (path, tree)


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


def dict_method(name: str) -> bool:
    """`to_dict`, `as_dict`, `to_public_dict`: a method that may return the record's
    columns (the byte scan looks for `_dict(`)."""
    return name.endswith("_dict")


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


# --------------------------------------------------------------------------- forwarding


class Forward(NamedTuple):
    """A project function or method that creates a model record from its arguments."""

    model: ClassSummary
    label: str  # how messages name it: "create_flow", "FlowService.create"
    kwargs: bool  # its `**kwargs` reach the record
    params: dict[str, str]  # parameter -> field it sets
    positional: tuple[str, ...]  # its positional parameters, in order (self left out)


def _module_of(index: ProjectIndex, path: Path) -> ModuleSummary | None:
    return index.summary(path)


def function_at(
    index: ProjectIndex, module: ModuleSummary, parts: tuple[str, ...]
) -> tuple[ModuleSummary, ast.FunctionDef | ast.AsyncFunctionDef, ClassSummary | None] | None:
    """The project function a dotted callee written at the top level of `module` names:
    `create_flow` / `services.create_flow` (a module-level function, imported or not), or
    `FlowService().create` / `FlowService.create` (a method, looked up through the bases)."""
    if not parts or parts[-1] == CALL:
        return None
    *head, name = parts
    if not head:
        target: object = ModuleSym(module.path)
    else:
        owner_parts = tuple(head[:-1]) if head[-1] == CALL else tuple(head)
        target = index.resolve_expr(module, owner_parts) if owner_parts else None
    if isinstance(target, ClassSym):
        found = method_of(index, target.cls, name)
        if found is None:
            return None
        owner_module = _module_of(index, found[0].path)
        return (owner_module, found[1], target.cls) if owner_module else None
    if isinstance(target, ModuleSym):
        summary = _module_of(index, target.path)
        if summary is None:
            return None
        kind = summary.order.get(name)
        if kind == "import":
            dotted = summary.imports[name]
            mod, _, attr = dotted.rpartition(".")
            path = index.find_module(mod, summary.root) if mod else None
            if path is None or path == summary.path:
                return None
            target_summary = _module_of(index, path)
            return function_at(index, target_summary, (attr,)) if target_summary else None
        if kind != "function":
            return None  # a class, an alias, branches, or nothing: only a `def` is a helper
        tree = module_tree(index, summary.path)
        if tree is None:
            return None
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == name:
                return summary, stmt, None
    return None


def forwarding(
    index: ProjectIndex,
    module: ModuleSummary,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    owner: ClassSummary | None,
    depth: int = 0,
) -> Forward | None:
    """Whether `function` (defined in `module`; a method looked up on `owner`) passes its
    `**kwargs` or named parameters into a model constructor or `Model.objects.create(...)`,
    directly or through another such helper (`MAX_HELPER_DEPTH` deep). Cached per run."""
    state = _state(index)
    key = (module.path, function.lineno, owner.path if owner else None, owner.name if owner else "")
    if key in state.forwards:
        return state.forwards[key]
    state.forwards[key] = None  # a cycle sees no
    found = _forwarding(index, module, function, owner, depth)
    state.forwards[key] = found
    return found


def _forwarding(index, module, function, owner, depth) -> Forward | None:
    args = function.args
    params = [*args.posonlyargs, *args.args]
    is_method = owner is not None and not any(
        isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list
    )
    if is_method and params:
        params = params[1:]
    names = {p.arg for p in (*params, *args.kwonlyargs)}
    kwarg = args.kwarg.arg if args.kwarg is not None else None
    label = f"{owner.name}.{function.name}" if owner is not None else function.name
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        forwards_kwargs = kwarg is not None and any(
            k.arg is None and isinstance(k.value, ast.Name) and k.value.id == kwarg
            for k in node.keywords
        )
        named = {
            k.value.id: k.arg
            for k in node.keywords
            if k.arg is not None and isinstance(k.value, ast.Name) and k.value.id in names
        }
        if not (forwards_kwargs or named):
            continue
        model = _created_model(index, module, node.func, owner) or _inserted_model(
            index, module, node
        )
        if model is not None:
            return Forward(model, label, forwards_kwargs, named, tuple(p.arg for p in params))
        if depth < MAX_HELPER_DEPTH:
            parts = expr_parts(node.func)
            inner = None
            if parts is not None and parts[0] in ("self", "cls") and owner is not None:
                found = method_of(index, owner, parts[-1]) if len(parts) == 2 else None
                if found is not None and (m := _module_of(index, found[0].path)) is not None:
                    inner = forwarding(index, m, found[1], owner, depth + 1)
            elif parts is not None:
                target = function_at(index, module, parts)
                if target is not None:
                    inner = forwarding(index, target[0], target[1], target[2], depth + 1)
            if inner is not None and (forwards_kwargs and inner.kwargs):
                mapped = {p: inner.params.get(f, f) for p, f in named.items()}
                return Forward(inner.model, label, True, mapped, tuple(p.arg for p in params))
            if inner is not None and named:
                mapped = {p: inner.params[f] for p, f in named.items() if f in inner.params}
                if mapped:
                    return Forward(inner.model, label, False, mapped, tuple(p.arg for p in params))
    return None


def _created_model(
    index: ProjectIndex, module: ModuleSummary, func: ast.expr, owner: ClassSummary | None
) -> ClassSummary | None:
    """The model a call creates: `Model(...)`, `Model.objects.create(...)`,
    `self.model(...)` / `self.model_type(...)` / `cls.model(...)` bound by the class."""
    parts = expr_parts(func)
    if parts is None:
        return None
    if len(parts) >= 3 and parts[-2:] == ("objects", "create"):
        parts = parts[:-2]
    if parts[0] in ("self", "cls") and owner is not None and len(parts) == 2:
        return class_model(index, owner, parts[1])
    if parts[0] in ("self", "cls"):
        return None
    return index.model_class(index.resolve_expr(module, parts))


def _inserted_model(
    index: ProjectIndex, module: ModuleSummary, call: ast.Call
) -> ClassSummary | None:
    """The model of `insert(Model).values(...)` (SQLAlchemy's `insert`, any dialect)."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "values"):
        return None
    insert = func.value
    if not isinstance(insert, ast.Call) or not insert.args:
        return None
    parts = expr_parts(insert.func)
    name = index.resolve_expr(module, parts) if parts else None
    if not (isinstance(name, str) and name.startswith("sqlalchemy.") and name.endswith(".insert")):
        return None
    target = expr_parts(insert.args[0])
    return index.model_class(index.resolve_expr(module, target)) if target else None


def class_model(index: ProjectIndex, owner: ClassSummary, attribute: str) -> ClassSummary | None:
    """The model a class attribute such as `model` / `model_type` names for `owner`: an
    assignment in `owner` or the nearest base that has one (`model_type = Flow`), else the
    type argument `owner` gives its generic base (`class FlowService(CrudService[Flow])`)."""
    for current in (owner, *index.ancestors(owner)):
        node = class_def(index, current)
        module = _module_of(index, current.path)
        if node is None or module is None:
            continue
        for stmt in node.body:
            targets = (
                stmt.targets
                if isinstance(stmt, ast.Assign)
                else [stmt.target]
                if isinstance(stmt, ast.AnnAssign) and stmt.value is not None
                else []
            )
            value = getattr(stmt, "value", None)
            if value is None or not any(
                isinstance(t, ast.Name) and t.id == attribute for t in targets
            ):
                continue
            parts = expr_parts(value)
            return index.model_class(index.resolve_expr(module, parts)) if parts else None
    for current in (owner, *index.ancestors(owner)):
        node = class_def(index, current)
        module = _module_of(index, current.path)
        if node is None or module is None:
            continue
        for base in node.bases:
            if not isinstance(base, ast.Subscript):
                continue
            arguments = base.slice.elts if isinstance(base.slice, ast.Tuple) else [base.slice]
            for argument in arguments:
                parts = expr_parts(argument)
                model = index.model_class(index.resolve_expr(module, parts)) if parts else None
                if model is not None:
                    return model
    return None
