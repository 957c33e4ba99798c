"""The project index: which module lives in which file, and which classes are ORM models.

It is demand-driven. Building it walks the project root once to map module names to files;
a module is parsed (with CPython's `ast`, never LibCST, never imported) only when a name is
resolved through it, and its summary is kept for the rest of the run.

Names resolve to *symbols*:

- `ModuleSym(path)`: a module of the project;
- `ClassSym(summary)`: a class defined in the project;
- `str`: a dotted path outside the project, where a call is written `()`, e.g.
  `"sqlalchemy.orm.declarative_base()"` or `"flask_sqlalchemy.SQLAlchemy().Model"`;
- `ChoiceSym(options)`: a name bound to different things on the branches of its module
  (`if/else`, `try/except`): one of them at run time, we cannot tell which. It is no class
  (a call through it names no model), but a class inheriting from it is a model when every
  option is one;
- `None`: anything we cannot follow (a local value, a function result, a missing module).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import enum
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple, TypeVar

from timestamp_lint.cache import Fingerprint, content_hash, listener_digest
from timestamp_lint.columns import (
    ColumnDecl,
    ColumnInfo,
    HookDecl,
    ModelInfo,
    assigned_fields,
    extract_columns,
    extract_hooks,
    interpret,
    table_columns,
)
from timestamp_lint.discover import walk_python_files
from timestamp_lint.ftypes import Config
from timestamp_lint.globs import PathMatcher
from timestamp_lint.prefilter import may_call_listen, may_define_listeners, may_map_imperatively
from timestamp_lint.source import (
    SourceError,
    decode_source,
    parse_trees,
    read_source,
    walk,
)

T = TypeVar("T")
CALL = "()"
Expr = tuple[str, ...]  # a dotted expression, calls written as "()" parts
# `mapper(Cls, table)` / `reg.map_imperatively(Cls, table)` as written: the callee, the
# class argument, and when the table is a module-level `table = Call(...)`, that call's
# callee and the timestamp columns it declares (`table_columns`); resolved when asked
MappingCall = tuple[Expr, Expr | None, Expr | None, dict[str, ColumnDecl]]
MAX_DEPTH = 64
MAX_LINEAGES = 16  # combinations of branch-bound bases followed for one class
# Source bytes whose trees `summary` keeps for the engine (`KeptTrees`): ~30 bytes of tree
# per byte of source, so at most ~15 MB.
KEPT_TREES_BYTES = 512 * 1024
ROOT_MARKERS = ("manage.py", "pyproject.toml", "setup.cfg")


# --------------------------------------------------------------------------- summaries


@dataclass(eq=False)  # compared and hashed by identity: one summary per class definition
class ClassSummary:
    module: str
    name: str
    path: Path
    bases: tuple[Expr | None, ...]
    keywords: dict[str, object]
    decorators: tuple[Expr | None, ...]
    line: int
    columns: dict[str, ColumnDecl] = field(default_factory=dict)  # timestamp fields declared
    save_fields: frozenset[str] = frozenset()  # fields a save() override assigns (Django)
    attributes: frozenset[str] = frozenset()  # names the class body binds
    strings: dict[str, str] = field(default_factory=dict)  # `label = "wagtailcore"` in its body
    # `@property def Flow(self) -> type[orm.Flow]`: name -> the annotation (see `annotation`)
    properties: dict[str, tuple[bool, Expr]] = field(default_factory=dict)
    # the declared type of an instance attribute: `queries: Components` in the body, or in
    # `__init__` `self.queries: Components = ...` / `self.queries = param` (`param: Components`)
    declared: dict[str, tuple[bool, Expr]] = field(default_factory=dict)
    init_params: tuple[str, ...] = ()  # the parameters of its `__init__`, `self` left out

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}" if self.module else self.name


Binding = tuple[str, object]  # ("import", dotted) | ("class", ClassSummary) | ("value", Expr)
NONE: Binding = ("none", None)  # `X = None`


@dataclass
class ModuleSummary:
    """What a module binds at its top level, read from its syntax tree."""

    path: Path
    name: str
    root: Path
    is_package: bool
    imports: dict[str, str] = field(default_factory=dict)  # local name -> absolute dotted path
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    values: dict[str, Expr | None] = field(default_factory=dict)  # name = <expr>
    order: dict[str, str] = field(default_factory=dict)  # name -> "import" | "class" | "value"
    stars: list[str] = field(default_factory=list)
    hooks: list[HookDecl] = field(default_factory=list)  # ORM event listeners
    # every binding a top-level name may have when the module has run (several: branches)
    bindings: dict[str, tuple[Binding, ...]] = field(default_factory=dict)
    typing: dict[str, tuple[Binding, ...]] = field(default_factory=dict)  # `if TYPE_CHECKING:`
    strings: dict[str, str] = field(default_factory=dict)  # `NAME = "text"` (settings)
    # `NAME = getattr(settings, "SETTING", "default")`: name -> (settings, "SETTING", default)
    settings: dict[str, tuple[Expr, str, str]] = field(default_factory=dict)
    # `DEFAULTS = {"KEY": NAME, "OTHER": "text", ...}`: name -> key -> a dotted name, a
    # string (a `str` value), or None for anything else
    mappings: dict[str, dict[str, Expr | str | None]] = field(default_factory=dict)
    # `conf = Settings(USER, DEFAULTS)` with a mapping above among the arguments: name ->
    # (callee, positional arguments, keyword arguments), dotted names or None
    calls: dict[str, tuple[Expr, tuple[Expr | None, ...], dict[str, Expr | None]]] = field(
        default_factory=dict
    )
    # the calls anywhere in the module that may map a class imperatively (`MappingCall`),
    # read only from a project module whose bytes may (`may_map_imperatively`): kept with
    # the summary, so a run that re-lints one file parses none of the mapping modules
    mapping_calls: tuple[MappingCall, ...] = ()

    def package(self) -> str:
        if self.is_package:
            return self.name
        return self.name.rpartition(".")[0]


def expr_parts(node: ast.AST) -> Expr | None:
    """`a.b().c` -> ("a", "b", "()", "c"); subscripts are looked through (`Generic[T]`)."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Name):
            parts.append(node.id)
            return tuple(reversed(parts))
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            parts.append(CALL)
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return None


def resolve_relative(package: str, module: str | None, level: int) -> str | None:
    """The absolute module of `from <level dots><module> import ...` inside `package`."""
    if level == 0:
        return module
    base = package.split(".") if package else []
    if level - 1 > len(base):
        return None
    base = base[: len(base) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base) if base else None


def _is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:`"""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def summarize(
    path: Path,
    name: str,
    root: Path,
    is_package: bool,
    tree: ast.Module | Iterable[ast.Module],
    fields: frozenset[str],
    mapping_calls: bool = False,
) -> ModuleSummary:
    """Read what the module's top level binds, following its branches as Python would run
    them: a `try` body wins over its handlers (`except ImportError:` fallbacks), both
    branches of an `if` may run (a name keeps every binding its branches give it, see
    `ChoiceSym`), `if TYPE_CHECKING:` bindings are kept apart as the types a
    checker would see, and `with` blocks run their body. A branch binding `X = None` is
    dropped when another binds X: a use of X as a base, a callee or a module runs only
    where X is something else (`None` has no attributes we follow and cannot be called).

    `tree` may be the module's trees in chunks of top-level statements, in order (a large
    module, see `source.parse_chunks`): each is read before the next is asked for. An event
    listener registered with `event.listen(...)` in another chunk than its function is then
    not seen. With `mapping_calls`, the calls that may map a class imperatively are read
    from every chunk too (`MappingCall`)."""
    summary = ModuleSummary(path=path, name=name, root=root, is_package=is_package)
    package = summary.package()
    Env = dict[str, tuple[Binding, ...]]

    def bind(env: Env, local: str, binding: Binding) -> None:
        env[local] = (binding,)

    def merge(*envs: Env) -> Env:
        merged: Env = {}
        for env in envs:
            for local, options in env.items():
                known = merged.get(local, ())
                merged[local] = known + tuple(o for o in options if o not in known)
        return merged

    def visit(statements: list[ast.stmt], env: Env) -> Env:
        for stmt in statements:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        bind(env, alias.asname, ("import", alias.name))
                    else:
                        top = alias.name.partition(".")[0]
                        bind(env, top, ("import", top))
            elif isinstance(stmt, ast.ImportFrom):
                source = resolve_relative(package, stmt.module, stmt.level)
                if source is None:
                    continue
                for alias in stmt.names:
                    if alias.name == "*":
                        if source not in summary.stars:
                            summary.stars.append(source)
                        continue
                    bind(env, alias.asname or alias.name, ("import", f"{source}.{alias.name}"))
            elif isinstance(stmt, ast.ClassDef):
                cls = ClassSummary(
                    module=name,
                    name=stmt.name,
                    path=path,
                    bases=tuple(expr_parts(b) for b in stmt.bases),
                    keywords={
                        kw.arg: kw.value.value if isinstance(kw.value, ast.Constant) else None
                        for kw in stmt.keywords
                        if kw.arg
                    },
                    decorators=tuple(expr_parts(d) for d in stmt.decorator_list),
                    line=stmt.lineno,
                    columns=extract_columns(stmt, fields),
                    save_fields=_save_fields(stmt, fields),
                    attributes=_body_names(stmt),
                    strings=_string_constants(stmt.body),
                    properties=_properties(stmt),
                    declared=_declared(stmt),
                    init_params=_init_params(stmt),
                )
                summary.classes[stmt.name] = cls
                bind(env, stmt.name, ("class", cls))
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                value = expr_parts(stmt.value) if stmt.value is not None else None
                if value is not None and value[0] in targets_names(targets):
                    value = None  # `x = x.y`: not followed
                loader = _literal_call(stmt.value) if stmt.value is not None else None
                binding: Binding = ("loader", loader) if loader else ("value", value)
                if isinstance(stmt.value, ast.Constant) and stmt.value.value is None:
                    binding = NONE
                for target in targets:
                    if isinstance(target, ast.Name):
                        bind(env, target.id, binding)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bind(env, stmt.name, ("function", (stmt.name, *_returns(stmt))))
            elif isinstance(stmt, ast.If):
                if _is_type_checking(stmt.test):
                    summary.typing.update(
                        {k: v for k, v in visit(stmt.body, {}).items() if len(v) == 1}
                    )
                    env = visit(stmt.orelse, env)
                else:
                    env = merge(visit(stmt.body, dict(env)), visit(stmt.orelse, dict(env)))
            elif isinstance(stmt, ast.Try):
                body = visit(stmt.body, dict(env))
                fallbacks = []
                for handler in stmt.handlers:
                    handled = visit(handler.body, dict(env))
                    # what the try body binds wins; names only a handler binds may come from
                    # either path
                    fallbacks.append({k: v for k, v in handled.items() if k not in body})
                env = merge(body, *fallbacks)
                env = visit(stmt.orelse, env)
                env = visit(stmt.finalbody, env)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                env = visit(stmt.body, env)
        return env

    env: Env = {}
    tables: dict[str, tuple[Expr, dict[str, ColumnDecl]]] = {}
    calls: list[tuple[Expr, Expr | None, Expr | None]] = []
    for chunk in (tree,) if isinstance(tree, ast.Module) else tree:
        summary.hooks.extend(extract_hooks(chunk, fields))
        summary.strings.update(_string_constants(chunk.body))
        _settings_values(summary, chunk.body)
        env = visit(chunk.body, env)
        if mapping_calls:
            _two_argument_calls(chunk, fields, tables, calls)
    for local, options in env.items():
        options = tuple(o for o in options if o != NONE) or (("value", None),)
        summary.bindings[local] = options
        if len(options) > 1:
            summary.order[local] = "branches"
            continue
        kind, payload = options[0]
        summary.order[local] = kind
        if kind == "import":
            summary.imports[local] = payload
        elif kind in ("value", "loader", "function"):
            summary.values[local] = payload if kind == "value" else None
    for local in summary.typing:
        summary.order.setdefault(local, "typing")
    for table in (summary.strings, summary.settings, summary.mappings, summary.calls):
        for local in [n for n in table if len(summary.bindings.get(n, ())) != 1]:
            del table[local]  # bound on several branches: no one value
    if calls:
        aliases = _mapper_aliases(summary)
        found: list[MappingCall] = []
        for callee, target, table in calls:
            if callee[-1] in _MAPPING_NAMES or callee[0] in aliases:
                named = table is not None and len(table) == 1 and table[0] in tables
                table_callee, columns = tables[table[0]] if named else (None, {})  # type: ignore[index]
                found.append((callee, target, table_callee, columns))
        summary.mapping_calls = tuple(found)
    return summary


def _two_argument_calls(
    chunk: ast.Module,
    fields: frozenset[str],
    tables: dict[str, tuple[Expr, dict[str, ColumnDecl]]],
    calls: list[tuple[Expr, Expr | None, Expr | None]],
) -> None:
    """Of one chunk: each module-level `name = Call(...)` (a possible `Table(...)`: its
    callee and timestamp columns), and each call with two arguments or more anywhere (a
    possible mapping: its callee and first two arguments), in `ast.walk`'s order."""
    for stmt in chunk.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            for name in targets_names(stmt.targets):
                callee = expr_parts(stmt.value.func) or ("",)
                tables[name] = (callee, table_columns(stmt.value, fields))
    for node in walk(chunk):
        if isinstance(node, ast.Call) and len(node.args) >= 2:
            callee = expr_parts(node.func)
            if callee is not None:
                calls.append((callee, expr_parts(node.args[0]), expr_parts(node.args[1])))


def _dotted_or_text(node: ast.expr) -> Expr | str | None:
    """A string literal as a `str`, a dotted name (`NAME`, `mod.NAME`) as its parts."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    return expr_parts(node) if isinstance(node, (ast.Name, ast.Attribute)) else None


def _settings_values(summary: ModuleSummary, statements: list[ast.stmt]) -> None:
    """Fill `settings`, `mappings` and `calls` of `summary` (see `ModuleSummary`) from the
    module's top-level assignments to one name."""
    for stmt in statements:
        if not (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            continue
        name, value = stmt.targets[0].id, stmt.value
        if isinstance(value, ast.Dict):
            summary.mappings[name] = {
                key.value: _dotted_or_text(item)
                for key, item in zip(value.keys, value.values, strict=True)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            }
        elif not isinstance(value, ast.Call) or any(isinstance(a, ast.Starred) for a in value.args):
            continue
        elif (
            isinstance(value.func, ast.Name)
            and value.func.id == "getattr"
            and len(value.args) == 3
            and not value.keywords
        ):
            holder, setting, default = value.args
            holder_parts = (
                expr_parts(holder) if isinstance(holder, ast.Name | ast.Attribute) else None
            )
            if (
                holder_parts is not None
                and isinstance(setting, ast.Constant)
                and isinstance(setting.value, str)
                and isinstance(default, ast.Constant)
                and isinstance(default.value, str)
            ):
                summary.settings[name] = (holder_parts, setting.value, default.value)
        else:
            callee = expr_parts(value.func)
            args = tuple(
                expr_parts(a) if isinstance(a, ast.Name | ast.Attribute) else None
                for a in value.args
            )
            keywords = {
                k.arg: expr_parts(k.value)
                if isinstance(k.value, ast.Name | ast.Attribute)
                else None
                for k in value.keywords
                if k.arg is not None
            }
            given = [*args, *keywords.values()]
            if callee is not None and any(
                a is not None and len(a) == 1 and a[0] in summary.mappings for a in given
            ):
                summary.calls[name] = (callee, args, keywords)


def targets_names(targets: list[ast.expr]) -> set[str]:
    return {t.id for t in targets if isinstance(t, ast.Name)}


def _string_constants(statements: list[ast.stmt]) -> dict[str, str]:
    """`NAME = "text"` assignments of a block (settings, AppConfig labels)."""
    found = {}
    for stmt in statements:
        if (
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        ):
            for name in targets_names(stmt.targets):
                found[name] = stmt.value.value
    return found


def _literal_call(node: ast.expr) -> tuple[Expr, tuple[str | Expr, ...]] | None:
    """`load_model("app", "Model")`, `get_model(settings.TOKEN_MODEL)`: the callee and its
    arguments (one or two, nothing else), each a string literal (a `str`) or a dotted name
    (its parts: a setting, see `ProjectIndex.string_value`), or None."""
    if not isinstance(node, ast.Call) or node.keywords or not 1 <= len(node.args) <= 2:
        return None
    args = tuple(_dotted_or_text(a) for a in node.args)
    if None in args:
        return None
    callee = expr_parts(node.func)
    return (callee, args) if callee is not None else None


def _returns(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
) -> tuple[tuple[Expr | None, ...], tuple[tuple[Expr, tuple[str | Expr, ...]] | None, ...]]:
    """What each `return` of a module-level function gives, as module-level expressions:
    None for a return of a local name (a parameter, an assigned name) or of anything else;
    and, for each, the loader call it is (`apps.get_model(settings.MODEL)`, see
    `_literal_call`; its names module-level ones), else None.
    Statements only are walked (expressions are most of a body; their own bindings, `:=`,
    are not seen): it runs for every function of every module summarized."""
    arguments = node.args
    local = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    local |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    found: list[ast.expr | None] = []
    stack: list[ast.stmt] = list(node.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.Return):
            found.append(stmt.value)
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local.add(stmt.name)  # their returns are not this function's
            continue
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                local |= _target_names(target)
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
            local |= _target_names(stmt.target)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            local |= {(a.asname or a.name).partition(".")[0] for a in stmt.names}
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            local |= _target_names(stmt.target)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    local |= _target_names(item.optional_vars)
        elif isinstance(stmt, ast.Try):
            local |= {h.name for h in stmt.handlers if h.name}
            for handler in stmt.handlers:
                stack.extend(handler.body)
        for block in ("body", "orelse", "finalbody"):
            stack.extend(getattr(stmt, block, ()))
    exprs = [expr_parts(value) if value is not None else None for value in found]
    returns = tuple(None if e is None or e[0] in local else e for e in exprs) or (None,)
    loaders = []
    for value, expr in zip(found, returns, strict=False):
        loader = _literal_call(value) if value is not None and expr is not None else None
        if loader is not None and any(not isinstance(a, str) and a[0] in local for a in loader[1]):
            loader = None
        loaders.append(loader)
    return returns, tuple(loaders) if any(loaders) else ()


def _target_names(target: ast.expr) -> set[str]:
    """Every name in an assignment target, as `ast.walk` finds them (`a, (b, c)`; for
    `x[i]`, `x` and `i`), without a walk for a plain name."""
    if target.__class__ is ast.Name:
        return {target.id}  # type: ignore[attr-defined]
    return {n.id for n in walk(target) if isinstance(n, ast.Name)}


def annotation(node: ast.expr | None) -> tuple[bool, Expr] | None:
    """What an annotation names: `X` -> (False, X parts): an instance of X; `type[X]` /
    `Type[X]` -> (True, X parts): the class X itself; a string annotation is read as code.
    None for anything else (unions, generics we do not follow)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    if isinstance(node, ast.Subscript):
        head = expr_parts(node.value)
        if head is not None and head[-1] in ("type", "Type"):
            inner = annotation(node.slice)
            return (True, inner[1]) if inner is not None and not inner[0] else None
        return None
    parts = expr_parts(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    return (False, parts) if parts is not None else None


def _properties(node: ast.ClassDef) -> dict[str, tuple[bool, Expr]]:
    found = {}
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            expr_parts(d) in (("property",), ("functools", "cached_property"), ("cached_property",))
            for d in stmt.decorator_list
        ):
            named = annotation(stmt.returns)
            if named is not None:
                found[stmt.name] = named
    return found


def _declared(node: ast.ClassDef) -> dict[str, tuple[bool, Expr]]:
    """The declared types of instance attributes, as a type checker reads them: annotations
    in the class body (`queries: Components`), and in `__init__` an annotated assignment to
    `self.x`, or `self.x = param` where `param` is annotated (each attribute assigned once)."""
    found: dict[str, tuple[bool, Expr]] = {}
    init = None
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            named = annotation(stmt.annotation)
            if named is not None:
                found[stmt.target.id] = named
        elif isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
            init = stmt
    arguments = init.args.posonlyargs + init.args.args if init is not None else []
    if len(arguments) < 2:
        return found
    owner = arguments[0].arg
    params = {a.arg: a.annotation for a in (*arguments[1:], *init.args.kwonlyargs)}
    seen: dict[str, tuple[bool, Expr] | None] = {}
    stack: list[ast.stmt] = list(init.body)
    while stack:  # statements only (cheap: it runs for every class summarized)
        stmt = stack.pop()
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for block in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(getattr(stmt, block, ()))
        if isinstance(stmt, ast.Assign):
            targets, value, written = stmt.targets, stmt.value, None
        elif isinstance(stmt, ast.AnnAssign):
            targets, value, written = [stmt.target], stmt.value, stmt.annotation
        elif isinstance(stmt, ast.AugAssign):
            targets, value, written = [stmt.target], None, None
        else:
            continue
        for target in targets:
            if not (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == owner
            ):
                continue
            if written is None and isinstance(value, ast.Name) and value.id in params:
                written = params[value.id]
            named = annotation(written) if written is not None else None
            seen[target.attr] = None if target.attr in seen else named
    for name, named in seen.items():
        if named is not None and name not in found:
            found[name] = named
    return found


def _init_params(node: ast.ClassDef) -> tuple[str, ...]:
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
            arguments = stmt.args
            names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)][1:]
            return (*names, *(a.arg for a in arguments.kwonlyargs))
    return ()


def _is_abstract_body(body: list[ast.stmt]) -> bool:
    """A docstring, `...`, `pass` or `raise NotImplementedError(...)` only."""
    for stmt in body:
        if isinstance(stmt, ast.Pass) or (
            isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        ):
            continue
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            raised = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if isinstance(raised, ast.Name) and raised.id == "NotImplementedError":
                continue
        return False
    return True


def _union_members(node: ast.expr | None) -> tuple[Expr, ...] | None:
    """`A`, `Union[A, B]`, `A | B`, as strings too: the dotted classes named, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _union_members(node.left), _union_members(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.Subscript):
        head = expr_parts(node.value)
        if head is None or head[-1] != "Union":
            return None
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        members: tuple[Expr, ...] = ()
        for element in elements:
            found = _union_members(element)
            if found is None:
                return None
            members += found
        return members
    parts = expr_parts(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    return (parts,) if parts is not None else None


class MethodShapes(NamedTuple):
    """What the methods of a class return, for `ProjectIndex.insert_argument`."""

    # methods whose every `return` is `callee(<positional parameter>)`: name -> (the
    # parameter's position, `self` left out; each return's callee)
    forwards: dict[str, tuple[int, tuple[Expr, ...]]]
    # abstract methods (a docstring, `...`, `pass` or `raise NotImplementedError` only) with a
    # return annotation: name -> the classes it names (each member of a `Union` / `|`)
    abstract: dict[str, tuple[Expr, ...]]


def method_shapes(node: ast.ClassDef) -> MethodShapes:
    """The `MethodShapes` of a class definition."""
    forwards: dict[str, tuple[int, tuple[Expr, ...]]] = {}
    abstract: dict[str, tuple[Expr, ...]] = {}
    for stmt in node.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        static = any(expr_parts(d) == ("staticmethod",) for d in stmt.decorator_list)
        params = [a.arg for a in (*stmt.args.posonlyargs, *stmt.args.args)]
        params = params if static else params[1:]
        if _is_abstract_body(stmt.body):
            members = _union_members(stmt.returns) if stmt.returns is not None else None
            if members:
                abstract[stmt.name] = members
            continue
        forwarded = _forwarded_param(stmt, params)
        if forwarded is not None:
            forwards[stmt.name] = forwarded
    return MethodShapes(forwards, abstract)


def _forwarded_param(
    function: ast.FunctionDef | ast.AsyncFunctionDef, params: list[str]
) -> tuple[int, tuple[Expr, ...]] | None:
    """(position, callees) when every `return` of `function` is `callee(<param>)`, the same
    positional parameter given alone, never re-bound, to a callee no local name shadows."""
    returns: list[ast.Return] = []
    stack: list[ast.stmt] = list(function.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.Return):
            returns.append(stmt)
        elif not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for block in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(getattr(stmt, block, ()))
    position, callees = None, []
    for stmt in sorted(returns, key=lambda r: (r.lineno, r.col_offset)):
        value = stmt.value
        if not (
            isinstance(value, ast.Call)
            and len(value.args) == 1
            and not value.keywords
            and isinstance(value.args[0], ast.Name)
            and value.args[0].id in params
        ):
            return None
        found = params.index(value.args[0].id)
        callee = expr_parts(value.func)
        if callee is None or CALL in callee or (position is not None and found != position):
            return None
        if callee[0] in {a.arg for a in (*function.args.posonlyargs, *function.args.args)}:
            return None  # `self.insert(obj)`, `fn(obj)`: not a module-level callee
        position = found
        callees.append(callee)
    if position is None:
        return None
    bound = {params[position], *(c[0] for c in callees)}
    arguments = function.args
    if any(a.arg in bound for a in (*arguments.kwonlyargs, arguments.vararg, arguments.kwarg) if a):
        return None
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id in bound and not isinstance(node.ctx, ast.Load):
            return None
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (a.asname or a.name).partition(".")[0] in bound for a in node.names
        ):
            return None
    return position, tuple(callees)


def _body_names(node: ast.ClassDef) -> frozenset[str]:
    names = set()
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names |= targets_names(targets)
    return frozenset(names)


def _save_fields(node: ast.ClassDef, fields: frozenset[str]) -> frozenset[str]:
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "save":
            return frozenset(assigned_fields(stmt, "self", fields))
    return frozenset()


def agreed_columns(versions: list[dict[str, ColumnInfo]]) -> dict[str, ColumnInfo]:
    """The columns every version declares alike (one version per branch a model's bases
    may take); declared in different classes alike, the owner names them all."""
    first, *others = versions
    agreed: dict[str, ColumnInfo] = {}
    for name, info in first.items():
        owners = [info.owner]
        for other in others:
            found = other.get(name)
            if found is None or replace(found, owner=info.owner) != info:
                break
            if found.owner not in owners:
                owners.append(found.owner)
        else:
            agreed[name] = replace(info, owner=" or ".join(owners))
    return agreed


# --------------------------------------------------------------------------- symbols


@dataclass(frozen=True)
class ModuleSym:
    path: Path


@dataclass(frozen=True)
class NamespaceSym:
    name: str  # a namespace package of the project (a folder without `__init__.py`)


@dataclass(frozen=True)
class ClassSym:
    cls: ClassSummary


@dataclass(frozen=True)
class FunctionSym:
    path: Path  # the module defining it
    name: str
    returns: tuple[Expr | None, ...]  # what each `return` gives (None: not followed)
    # each `return`'s loader call (`apps.get_model(conf.MODEL)`), when it is one (or empty)
    loaders: tuple[tuple[Expr, tuple[str | Expr, ...]] | None, ...] = ()


@dataclass(frozen=True)
class InstanceSym:
    cls: ClassSummary  # an instance of a class of the project or of an installed package


@dataclass(frozen=True)
class ChoiceSym:
    """One of `options` (two or more, none None), in the order the branches bind them."""

    options: tuple[ModuleSym | NamespaceSym | ClassSym | FunctionSym | InstanceSym | str, ...]


Symbol = ModuleSym | NamespaceSym | ClassSym | FunctionSym | InstanceSym | ChoiceSym | str | None


def one_of(found: list[Symbol]) -> Symbol:
    """What a name bound to each of `found` (one per branch) is: the symbol when every
    branch gives the same, a `ChoiceSym` when they differ, None when one is unknown."""
    options: list[Symbol] = []
    for symbol in found:
        for option in symbol.options if isinstance(symbol, ChoiceSym) else (symbol,):
            if option not in options:
                options.append(option)
    if None in options or not options:
        return None
    return options[0] if len(options) == 1 else ChoiceSym(tuple(options))


# Calls that return the model Django's app registry holds under string literals.
MODEL_LOADERS = frozenset(
    {
        "django.apps.apps.get_model",
        "django.apps.registry.apps.get_model",
        "django.db.models.loading.get_model",
        "swapper.load_model",
    }
)
USER_MODEL_CALLS = frozenset({"django.contrib.auth.get_user_model()"})
DJANGO_SETTINGS = frozenset({"django.conf.settings"})
DJANGO_DEFAULTS = {"AUTH_USER_MODEL": "auth.User"}  # Django's global defaults we follow


_MAPPING_NAMES = frozenset({"map_imperatively", "mapper"})


def _mapper_aliases(module: ModuleSummary) -> set[str]:
    """Module-level names that may stand for a mapping call under another name (`from
    sqlalchemy.orm import mapper as classic_mapper`, `map_it = reg.map_imperatively`)."""
    found = {n for n, d in module.imports.items() if d.rpartition(".")[2] in _MAPPING_NAMES}
    for name, value in module.values.items():
        if value is None or any(part in _MAPPING_NAMES for part in value):
            found.add(name)
    return found


def _is_mapping_call(dotted: str) -> bool:
    """`registry().map_imperatively`, `mapper` of sqlalchemy.orm (1.x)."""
    return dotted.startswith("sqlalchemy.") and dotted.endswith(
        (".registry().map_imperatively", ".orm.mapper", ".orm.mapperlib.mapper")
    )


def _app_model(args: tuple[str, ...]) -> tuple[str | None, str | None]:
    """`("app", "Model")` or `("app.Model",)` -> ("app", "Model")."""
    if len(args) == 2:
        return args[0], args[1]
    label, _, name = args[0].rpartition(".")
    return (label, name) if label and name else (None, None)


def is_insert_function(dotted: str) -> bool:
    """`sqlalchemy.insert`, dialect inserts, and Flask-SQLAlchemy's `db.insert`."""
    if dotted.startswith("sqlalchemy."):
        return dotted.endswith(".insert")
    return dotted.startswith("flask_sqlalchemy.") and dotted.endswith(".SQLAlchemy().insert")


def _is_insert_class(dotted: str) -> bool:
    """SQLAlchemy's `Insert` statement class, of any dialect (`sqlalchemy.Insert`,
    `sqlalchemy.dialects.postgresql.Insert`, `sqlalchemy.sql.dml.Insert`...)."""
    return dotted.startswith("sqlalchemy.") and dotted.endswith(".Insert")


def show_expr(parts: Expr) -> str:
    """`("a", "b", "()", "c")` -> `a.b(...).c`"""
    text = ""
    for part in parts:
        text += "(...)" if part == CALL else f".{part}" if text else part
    return text


def split_dotted(dotted: str) -> Expr:
    """`"a.b().c"` -> ("a", "b", "()", "c"): the parts of an external symbol."""
    parts: list[str] = []
    for piece in dotted.split("."):
        calls = 0
        while piece.endswith(CALL):
            piece = piece[: -len(CALL)]
            calls += 1
        parts.append(piece)
        parts.extend([CALL] * calls)
    return tuple(parts)


class Kind(enum.Enum):
    NONE = "none"
    MODEL = "model"  # an ORM model (or an abstract model / declarative base)
    SQLMODEL = "sqlmodel"  # a SQLModel class without table=True: a DTO unless a subclass says table


DJANGO_MODELS = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
SQLMODEL_BASES = frozenset({"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"})
# Packages whose names we understand without reading them: their sources are never followed.
MODELLED_PACKAGES = ("sqlalchemy.", "sqlmodel.", "flask_sqlalchemy.", "django.db.")
# installed packages that define no ORM model: typing constructs, validation and
# serialization models (Pydantic's, attrs', marshmallow's), so their names are not followed
# into their sources (typing_extensions alone is a 4,000-line module)
MODEL_FREE_PACKAGES = (
    "typing_extensions.",
    "pydantic.",
    "pydantic_core.",
    "attr.",
    "attrs.",
    "marshmallow.",
)

BUILTIN_NAMES = frozenset(dir(builtins))  # `object`, `Exception`, `dict`: no model among them


class BaseNamed(NamedTuple):
    """What a base class expression names, as `ProjectIndex.base_stop` tells it."""

    symbol: Symbol
    stop: str | None = None  # why it names nothing we can read
    model_free: str | None = None  # why it stops nothing: a builtin, the standard library


def _fingerprint_of(path: Path) -> Fingerprint:
    """A file's fingerprint as the cache checks it (a file that cannot be read: one that
    never matches)."""
    try:
        stat = os.stat(path)
        data = path.read_bytes()
    except OSError:
        return (0, -1, "")
    return (stat.st_mtime_ns, stat.st_size, content_hash(data))


def external_kind(dotted: str, model_bases: frozenset[str]) -> Kind:
    """Classify a base class that lives outside the project."""
    if dotted in model_bases or dotted in DJANGO_MODELS:
        return Kind.MODEL
    if dotted in SQLMODEL_BASES:
        return Kind.SQLMODEL
    if dotted.startswith("sqlalchemy.") and dotted.endswith(
        (".declarative_base()", ".DeclarativeBase", ".DeclarativeBaseNoMeta", ".generate_base()")
    ):
        return Kind.MODEL
    if dotted.startswith("flask_sqlalchemy.") and dotted.endswith(".SQLAlchemy().Model"):
        return Kind.MODEL
    return Kind.NONE


def decorator_kind(dotted: str) -> Kind:
    if dotted.startswith("sqlalchemy.") and dotted.endswith(
        (
            ".as_declarative",
            ".as_declarative()",
            ".registry().mapped",
            ".registry().mapped()",
            ".registry().mapped_as_dataclass",
            ".registry().mapped_as_dataclass()",
            ".registry().as_declarative_base()",
        )
    ):
        return Kind.MODEL
    return Kind.NONE


# --------------------------------------------------------------------------- the index

# Tracked like a file: the analysis asked which event listeners the project has. (Set through
# `_memoized` like files, so a model's columns, computed once, carry it to every user.)
_LISTENERS = Path("\0listeners")


@dataclass
class Dependencies:
    """What one file's analysis depended on besides the file itself."""

    files: dict[Path, Fingerprint] = field(default_factory=dict)  # modules it read
    listeners: str | None = None  # `listener_digest` of the project, when it asked


class ModuleId(NamedTuple):
    """A name a file is imported by (a tuple: one per project file, made on every cold run)."""

    name: str
    root: Path  # the folder the module name is relative to
    is_package: bool


def _stem(name: str) -> str:
    """`Path(name).stem`."""
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


class KeptTrees:
    """The trees of project modules that `ProjectIndex.summary` parsed, kept (up to `limit`
    bytes of source) so that a module is parsed once: a models module is read for its
    summary (by the field detection, or to resolve a name) before it is linted, searched for
    imperative mappings, or read for a helper. The engine takes a file's tree once; the trees
    of files that need no analysis are forgotten."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._trees: dict[Path, tuple[bytes, ast.Module]] = {}
        self._size = 0

    def keep(self, path: Path, data: bytes, tree: ast.Module) -> None:
        if self._size + len(data) <= self.limit:
            self._trees[path] = (data, tree)
            self._size += len(data)

    def peek(self, path: Path) -> ast.Module | None:
        kept = self._trees.get(path)
        return kept[1] if kept is not None else None

    def take(self, path: Path, data: bytes) -> ast.Module | None:
        """The tree of `path`, if `data` is still what was parsed; forgotten either way."""
        kept = self._trees.get(path)
        self.forget(path)
        return kept[1] if kept is not None and kept[0] == data else None

    def forget(self, path: Path) -> None:
        kept = self._trees.pop(path, None)
        if kept is not None:
            self._size -= len(kept[0])

    def prune(self, needed: Callable[[Path, bytes], bool]) -> None:
        """Forget the trees of the files `needed(path, data)` rejects (no analysis)."""
        for path, (data, _) in list(self._trees.items()):
            if not needed(path, data):
                self.forget(path)

    def stop(self, forget: bool = False) -> None:
        """Keep no more trees (and, with `forget`, none of those kept)."""
        self.limit = 0
        if forget:
            self._trees.clear()
            self._size = 0


class ProjectIndex:
    """Module map of a project root plus lazily parsed module summaries."""

    def __init__(self, config: Config, files: list[Path] | None = None) -> None:
        self.config = config
        self._model_bases = frozenset(config.model_bases)
        self._fields = frozenset(config.fields)
        self._files: list[Path] = []
        self._hooks: dict[tuple[Path, str], list[HookDecl]] | None = None
        self._hook_files: list[Path] = []  # the files that may define listeners
        self._mapped_found = False  # `_mappings` has run
        self._listen_files: list[Path] = []  # of those, the ones that may call `listen(`
        # what tells those files without reading every project file (`use_listener_files`)
        self._listener_files: Callable[[], list[Path]] | None = None
        self._listener_digest = ""
        self._fingerprints: dict[Path, Fingerprint] = {}
        self._tracking: set[Path] | None = None
        self._models: dict[tuple[Path, str], tuple[ModelInfo, frozenset[Path]]] = {}
        self._src = sorted(config.src, key=lambda p: len(p.parts), reverse=True)
        self._package_dirs: dict[str, tuple[tuple[str, ...], Path]] = {}
        self._ids: dict[Path, ModuleId] = {}
        self._modules: dict[str, list[tuple[Path, Path]]] = {}  # name -> (file, its root)
        self._prefixes: set[str] = set()  # packages of module names (namespace folders)
        self._all_names = False  # the names of every root registered (`_all_module_names`)
        self._registered_files: set[Path] = set()
        self._root_dirs: dict[str, bool] = {}
        self._site_folders: tuple[Path, ...] | None = None  # `_site`, found on first use
        self._distributions = None  # what installed distributions require (`_model_free`)
        self._installed_modules: dict[str, Path | None] = {}
        self._installed_files: set[Path] = set()
        self._trace: list[str] | None = None  # resolution steps, while `tracing()`
        self._store = None  # summaries of installed modules on disk (`use_store`)
        self._registered: dict[tuple[str, str], Symbol] = {}
        # classes mapped imperatively -> (the module of the mapping, the table's columns)
        self._mapped: dict[tuple[Path, str], tuple[ModuleSummary, dict[str, ColumnDecl]]] = {}
        self._by_mapping: set[tuple[Path, str]] = set()  # models because mapped imperatively
        self._labels: dict[str, str] | None = None
        self._summaries: dict[Path, ModuleSummary | None] = {}
        self.trees = KeptTrees(KEPT_TREES_BYTES)  # what `summary` parsed, for the engine
        self._kinds: dict[tuple[Path, str], tuple[Kind, frozenset[Path]]] = {}
        self._settings: dict[str, str | None] = {}
        self._method_shapes: dict[tuple[Path, str, int], MethodShapes] = {}
        self._inserts: dict[tuple[Path, str, str], tuple[int | None, frozenset[Path]]] = {}
        if files is None:
            files = list(walk_python_files(config.root, config.root, PathMatcher(config.exclude)))
        self._files = files  # their module names are registered on the first lookup by name

    # -- module names ------------------------------------------------------------------

    def _package_of(self, directory: str) -> tuple[tuple[str, ...], Path]:
        """The dotted parts of the package `directory` is (empty if it is no package), and
        the folder those parts are relative to. Computed once per folder; string work, as
        in `module_id`."""
        known = self._package_dirs.get(directory)
        if known is None:
            parent, name = os.path.split(directory)
            parent = parent or os.curdir
            if parent != directory and os.path.isfile(os.path.join(directory, "__init__.py")):
                parts, root = self._package_of(parent)
                known = ((*parts, name), root)
            else:
                known = ((), Path(directory))
            self._package_dirs[directory] = known
        return known

    def module_id(self, path: Path) -> ModuleId:
        """The name `path` is imported by, from the package folders above it (or a `src`
        root). String work, not `Path` parents: it runs for every project file."""
        known = self._ids.get(path)
        if known is not None:
            return known
        directory, name = os.path.split(str(path))
        is_package = name == "__init__.py"
        for src in self._src:
            if path.is_relative_to(src):
                parts = list(path.relative_to(src).with_suffix("").parts)
                root = src
                break
        else:
            package, root = self._package_of(directory or os.curdir)
            parts = list(package) if is_package else [*package, _stem(name)]
        if is_package and parts and parts[-1] == "__init__":
            parts.pop()
        module = ModuleId(".".join(parts), root, is_package)
        self._ids[path] = module
        return module

    def _is_root(self, directory: str) -> bool:
        """A folder Python code is run from or installed out of: one holding `manage.py`,
        `pyproject.toml` or `setup.cfg`, or the `src` folder beside them."""
        known = self._root_dirs.get(directory)
        if known is None:
            known = any(os.path.isfile(os.path.join(directory, m)) for m in ROOT_MARKERS) or (
                os.path.basename(directory) == "src" and self._is_root(os.path.dirname(directory))
            )
            self._root_dirs[directory] = known
        return known

    def module_ids(self, path: Path) -> list[ModuleId]:
        """Every name `path` can be imported by: the one `module_id` gives, and its name
        relative to each module root above it up to the project root (the project root
        itself, folders with `manage.py`/`pyproject.toml`/`setup.cfg`, their `src`),
        through namespace folders (PEP 420) on the way. (String work: it runs for every
        project file on every run.)"""
        primary = self.module_id(path)
        found = [primary]
        if self._src and any(path.is_relative_to(src) for src in self._src):
            return found
        root = str(self.config.root)
        prefix = root if root.endswith(os.sep) else root + os.sep
        text = str(path)
        if not text.startswith(prefix):
            return found
        *dirs, name = text[len(prefix) :].split(os.sep)
        parts = dirs if primary.is_package else [*dirs, name.rpartition(".")[0]]
        primary_root = str(primary.root)
        for size in range(len(dirs) + 1):  # the root is the project root and `size` folders
            rest = parts[size:]
            directory = prefix + os.sep.join(dirs[:size]) if size else root
            if (
                rest
                and directory != primary_root
                and (size == 0 or self._is_root(directory))
                and all(part.isidentifier() for part in rest)
            ):
                found.append(ModuleId(".".join(rest), Path(directory), primary.is_package))
        return found

    def _register(self, path: Path) -> ModuleId:
        """Map the module names of `path` to it: the primary one now, the others (see
        `module_ids`) once a module is first looked up by name (a warm run never does)."""
        if not self._all_names:
            if path not in self._registered_files:
                self._registered_files.add(path)
                self._add_names(path, [self.module_id(path)])
            return self.module_id(path)
        ids = self.module_ids(path)
        self._add_names(path, ids)
        return ids[0]

    def _all_module_names(self) -> None:
        """Register every project file's module names (a warm run, which looks up no module
        by name, never does)."""
        if not self._all_names:
            for path in self._files:
                self._register(path)
            self._all_names = True
            for path in self._registered_files:
                self._add_names(path, self.module_ids(path)[1:])

    def _add_names(self, path: Path, ids: list[ModuleId]) -> None:
        for module in ids:
            entries = self._modules.setdefault(module.name, [])
            if all(p != path or r != module.root for p, r in entries):
                entries.append((path, module.root))
            parts = module.name.split(".")
            for size in range(1, len(parts)):
                self._prefixes.add(".".join(parts[:size]))

    def find_module(self, name: str, near: Path | None) -> Path | None:
        """The file of module `name`. As on `sys.path`, a package (`x/__init__.py`) wins
        over a module `x.py` beside it. With several candidate files, the one whose module
        root holds `near` (the importing file, or its root); still several: None."""
        self._all_module_names()
        entries = self._modules.get(name)
        if not entries:
            return None
        packages = {(r, p.parent.parent) for p, r in entries if p.name == "__init__.py"}
        entries = [
            (p, r) for p, r in entries if p.name == "__init__.py" or (r, p.parent) not in packages
        ]
        paths = {p for p, _ in entries}
        if len(paths) == 1:
            return next(iter(paths))
        if near is not None:
            # as on `sys.path`, the importing file's own root comes first: the deepest root
            # holding it (the project root holds every file)
            holding = [(len(r.parts), p) for p, r in entries if near.is_relative_to(r)]
            deepest = max((depth for depth, _ in holding), default=None)
            near_paths = {p for depth, p in holding if depth == deepest}
            if len(near_paths) == 1:
                return next(iter(near_paths))
        if self._trace is not None:
            files = ", ".join(sorted(self.where(p) for p in paths))
            self._trace.append(f"module {name} is several files ({files}): not resolved")
        return None  # ambiguous: precision first

    def is_namespace(self, name: str) -> bool:
        """`name` is a folder of the project that only holds modules (PEP 420)."""
        self._all_module_names()
        return name in self._prefixes and name not in self._modules

    # -- summaries ---------------------------------------------------------------------

    @contextlib.contextmanager
    def tracking(self) -> Iterator[Dependencies]:
        """Collect what the analysis inside the block depended on: the files (with their
        fingerprints) whose content it read, and whether it asked about event listeners.
        What a cached result must be checked against. Inside another such block, what the
        inner one collects counts for the outer one too."""
        outer, self._tracking = self._tracking, set()
        found = Dependencies()
        try:
            yield found
        finally:
            for path in self._tracking:
                if path in self._fingerprints:
                    found.files[path] = self._fingerprints[path]
            if _LISTENERS in self._tracking:
                found.listeners = self._listener_digest
            if outer is not None:
                outer |= self._tracking
            self._tracking = outer

    @contextlib.contextmanager
    def tracing(self) -> Iterator[list[str]]:
        """Record, in the list given, each step the resolutions inside the block take: the
        binding a name has, the file a module is, where and why a resolution stopped.
        (What `explain` shows; off otherwise, and then costs nothing.)"""
        outer, self._trace = self._trace, []
        try:
            yield self._trace
        finally:
            self._trace = outer

    def where(self, path: Path) -> str:
        """A path as messages show it: relative to the project root or its site-packages."""
        for base in (self.config.root, *self._site):
            if path.is_relative_to(base):
                relative = path.relative_to(base).as_posix()
                return relative if base == self.config.root else f"<site-packages>/{relative}"
        return path.as_posix()

    @property
    def _site(self) -> tuple[Path, ...]:
        """The environment's site-packages folders (see `environment`), found when a name
        first needs them."""
        if self._site_folders is None:
            from timestamp_lint.environment import site_folders

            prefix = self.config.environment[0] if self.config.environment else None
            self._site_folders = site_folders(prefix)
        return self._site_folders

    def _touch(self, path: Path) -> None:
        if self._tracking is not None:
            self._tracking.add(path)

    def add_tree(
        self,
        path: Path,
        tree: ast.Module | Iterable[ast.Module],
        fingerprint: Fingerprint | None = None,
        data: bytes | None = None,
    ) -> ModuleSummary:
        """Record the syntax tree of a file the caller has already parsed (or its trees in
        chunks, see `summarize`), whose bytes are `data` (None: not known)."""
        if fingerprint is not None:
            self._fingerprints[path] = fingerprint
        installed = path in self._installed_files
        module = self._ids[path] if installed else self._register(path)
        # what `_mappings` searches: the project files that may map a class imperatively
        # (which may define listeners too, `may_define_listeners`)
        mapping_calls = not installed and (data is None or may_map_imperatively(data))
        summary = summarize(
            path, module.name, module.root, module.is_package, tree, self._fields, mapping_calls
        )
        self._summaries[path] = summary
        self.trees.forget(path)  # a tree kept for the summary this one replaces
        return summary

    def use_store(self, directory: Path) -> None:
        """Keep the summaries of installed modules under `directory` across runs (the store
        is loaded when an installed module is first read: most runs never read one)."""
        self._store = directory

    def _summary_store(self):
        if isinstance(self._store, Path):
            from timestamp_lint.summary_store import SummaryStore

            self._project_store = SummaryStore(self._store, self._fields, "project")
            self._store = SummaryStore(self._store, self._fields)
        return self._store

    def _store_for(self, path: Path):
        """The on-disk store of `path`'s summary: installed modules', or the project's."""
        store = self._summary_store()
        if store is None or path in self._installed_files:
            return store
        return getattr(self, "_project_store", None)

    def _stored_project_summary(self, path: Path, summary: ModuleSummary) -> bool:
        """Whether a stored project summary still names the module as the layout does."""
        if path in self._installed_files:
            return True
        module = self._register(path)
        return (summary.name, summary.root, summary.is_package) == (
            module.name,
            module.root,
            module.is_package,
        )

    def summary(self, path: Path, data: bytes | None = None) -> ModuleSummary | None:
        """The summary of a module, parsed with `ast` on first use (an installed module's
        read back from the on-disk store while the file is unchanged)."""
        self._touch(path)
        if path in self._summaries:
            return self._summaries[path]
        self._summaries[path] = None  # guards against re-entry while parsing
        store = self._store_for(path)
        try:
            stat = os.stat(path)
            stored = store.load(path, stat) if store is not None else None
            if stored is not None and self._stored_project_summary(path, stored[0]):
                summary, digest = stored
                self._fingerprints[path] = (stat.st_mtime_ns, stat.st_size, digest)
                self._summaries[path] = summary
                return summary
            if data is None:
                data = read_source(path)
            fingerprint = (stat.st_mtime_ns, stat.st_size, content_hash(data))
            text = decode_source(data)
            # a large module is summarized chunk by chunk: memory stays bounded
            trees = parse_trees(text, path)
            summary = self.add_tree(path, trees, fingerprint, data)
            if isinstance(trees, tuple) and path not in self._installed_files:
                self.trees.keep(path, data, trees[0])
        except (SourceError, OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        if store is not None:
            store.save(summary, stat, fingerprint[2])
        return summary

    # -- resolution --------------------------------------------------------------------

    def resolve_qualname(self, dotted: str, prefer_root: Path | None, depth: int = 0) -> Symbol:
        """Resolve an absolute dotted name, as written in an import."""
        parts = dotted.split(".")
        for size in range(len(parts), 0, -1):  # the longest prefix that is a project module
            prefix = ".".join(parts[:size])
            path = self.find_module(prefix, prefer_root)
            if path is not None:
                symbol: Symbol = ModuleSym(path)
                if self._trace is not None:
                    self._trace.append(f"module {prefix} is {self.where(path)}")
                break
            if self.is_namespace(prefix):
                symbol = NamespaceSym(prefix)
                if self._trace is not None:
                    self._trace.append(f"{prefix} is a namespace package of the project")
                break
        else:
            if self._trace is not None:
                self._trace.append(f"{dotted} is outside the project")
            return dotted
        prefix = ".".join(parts[:size])
        for part in parts[size:]:
            prefix = f"{prefix}.{part}"
            symbol = self._attribute(symbol, part, prefix, prefer_root, depth + 1)
            if symbol is None:
                return None
        return symbol

    def annotated(
        self, module: ModuleSummary, named: tuple[bool, Expr], installed: bool = False
    ) -> Symbol:
        """What a value annotated in `module` is (see `annotation`): the class for
        `type[X]`, an instance of the class for `X` (as a type checker takes it).
        `installed`: a class of an installed package too (read from its sources; off where
        any annotated parameter is followed: `request: Request` would read web frameworks)."""
        is_type, parts = named
        symbol = self.resolve_expr(module, parts)
        if installed:
            symbol = self._followed(symbol)
        if self._trace is not None:
            shown = f"type[{show_expr(parts)}]" if is_type else show_expr(parts)
            self._trace.append(f"annotated {shown} in {self.where(module.path)}")
        if is_type or not isinstance(symbol, ClassSym):
            return symbol if is_type else None
        return InstanceSym(symbol.cls)

    def attributes(self, module: ModuleSummary, symbol: Symbol, parts: Expr) -> Symbol:
        """`symbol` followed through the attributes `parts`, as written in `module`."""
        for part in parts:
            if symbol is None:
                return None
            symbol = self._attribute(symbol, part, None, module.path, 1)
        return symbol

    def unresolved_at(self, module: ModuleSummary, parts: Expr) -> str | None:
        """Where resolving `parts` (a callee written at the top level of `module`) stopped,
        when it stopped at a name or a module attribute, or at a base of the class it names
        (`unresolved_base`); None when it resolved, or reached a class, an instance or an
        outside name before its last part (then the rest is a method, not a name)."""
        with self.tracing() as trace:
            symbol = self.lookup(module, parts[0])
            rest = len(parts) - 1
            for part in parts[1:]:
                if symbol is None or isinstance(symbol, (ClassSym, InstanceSym, ChoiceSym, str)):
                    break
                symbol = self._attribute(symbol, part, None, module.path, 1)
                rest -= 1
        if isinstance(symbol, ClassSym) and not rest:
            return self.unresolved_base(symbol.cls)
        if symbol is not None and not isinstance(symbol, ChoiceSym):
            return None
        return trace[-1] if trace else "not resolved"

    def unresolved_base(self, cls: ClassSummary, depth: int = 0) -> str | None:
        """Where classifying `cls` stopped short, when that alone leaves it no model: the
        first base up its chain that names nothing we can read (`base_stop`). None when the
        kind of `cls` is known."""
        if depth > MAX_DEPTH or self.class_kind(cls) is not Kind.NONE:
            return None
        module = self.summary(cls.path)
        if module is None:
            return None
        for base in cls.bases:
            named = self.base_stop(module, base)
            if named.stop is not None:
                return f"{cls.qualname}: {named.stop}"
            if isinstance(named.symbol, ClassSym):
                found = self.unresolved_base(named.symbol.cls, depth + 1)
                if found is not None:
                    return found
        return None

    def base_stop(self, module: ModuleSummary, base: Expr | None) -> BaseNamed:
        """What a base class expression of `module` names (installed classes followed) and,
        when that is nothing we can read, why (`stop`): a package missing from the
        environment, a name bound to different classes on branches, an expression. The
        standard library and the builtins define no ORM model: a base of theirs stops
        nothing (`model_free` says which it is)."""
        if base is None:
            return BaseNamed(None, stop="a base is an expression the index does not follow")
        shown = show_expr(base)
        raw = self.resolve_expr(module, base)
        if raw is None:
            if base[0] not in module.bindings and base[0] in BUILTIN_NAMES:
                return BaseNamed(None, model_free="a builtin: no model")
            return BaseNamed(None, stop=f"base {shown} did not resolve")
        if isinstance(raw, str) and raw.partition(".")[0] in sys.stdlib_module_names:
            return BaseNamed(raw, model_free=f"{raw}: the standard library, no model")
        symbol = self._followed(raw)
        if symbol is None:
            return BaseNamed(None, stop=f"base {shown} is {raw}, in no installed package")
        if isinstance(symbol, ChoiceSym) and len(set(map(self._base_kind, symbol.options))) > 1:
            return BaseNamed(symbol, stop=f"base {shown} is bound to different classes on branches")
        return BaseNamed(symbol)

    def resolve_expr(self, module: ModuleSummary, parts: Expr, depth: int = 0) -> Symbol:
        """Resolve a dotted expression written at the top level of `module`."""
        if depth > MAX_DEPTH:
            return None
        symbol = self.lookup(module, parts[0], depth + 1)
        for part in parts[1:]:
            if symbol is None:
                return None
            symbol = self._attribute(symbol, part, None, module.path, depth + 1)
        return symbol

    def lookup(self, module: ModuleSummary, name: str, depth: int = 0) -> Symbol:
        """What a top-level `name` of `module` refers to. A name bound on several branches
        resolves when every branch gives the same symbol, else to a `ChoiceSym`; when the
        runtime binding is opaque (a lazy proxy, or differs per branch), an
        `if TYPE_CHECKING:` import gives the type."""
        if depth > MAX_DEPTH:
            return None
        trace = self._trace
        options = module.bindings.get(name)
        if options is not None:
            symbol = one_of([self._binding(module, name, b, depth + 1) for b in options])
            if trace is not None and len(options) > 1:
                resolved = symbol is not None and not isinstance(symbol, ChoiceSym)
                verdict = "the same on each" if resolved else "not resolved"
                trace.append(f"{name} is bound on {len(options)} branches: {verdict}")
            # a lazy proxy, or a different thing per branch
            opaque = symbol is None or isinstance(symbol, (InstanceSym, ChoiceSym))
            if not opaque or name not in module.typing:
                return symbol
            if trace is not None:
                trace.append(f"{name} is opaque at run time; its `if TYPE_CHECKING:` binding:")
        typed = module.typing.get(name)
        if typed is not None:
            return self._binding(module, name, typed[0], depth + 1)
        for star in module.stars:
            path = self._find(star, module.path)
            if path is None or path == module.path:
                continue
            target = self.summary(path)
            if target is not None and name in target.order:
                if trace is not None:
                    trace.append(f"{name} comes from `from {star} import *`")
                return self.lookup(target, name, depth + 1)
        if trace is not None:
            trace.append(f"{name} is not bound at the top level of {self.where(module.path)}")
        return None

    def _binding(self, module: ModuleSummary, name: str, binding: Binding, depth: int) -> Symbol:
        kind, payload = binding
        if self._trace is not None:
            where = self.where(module.path)
            if kind == "import":
                self._trace.append(f"{where}: {name} is imported from {payload}")
            elif kind == "class":
                self._trace.append(f"{where}:{payload.line}: class {payload.qualname}")
            elif kind == "function":
                self._trace.append(f"{where}: {name} is a function")
            elif kind == "loader":
                args = ", ".join(
                    repr(a) if isinstance(a, str) else show_expr(a) for a in payload[1]
                )
                self._trace.append(f"{where}: {name} = {show_expr(payload[0])}({args})")
            elif payload is None:
                self._trace.append(f"{where}: {name} is a value not followed")
            else:
                self._trace.append(f"{where}: {name} = {show_expr(payload)}")
        if kind == "import":
            return self.resolve_qualname(payload, module.path, depth + 1)
        if kind == "class":
            return ClassSym(payload)
        if kind == "function":
            return FunctionSym(module.path, *payload)
        if kind == "loader":
            return self._loader(module, payload, depth)
        if payload is None:
            return None
        symbol = self.resolve_expr(module, payload, depth + 1)
        if symbol in USER_MODEL_CALLS:
            return self.registered_model(*self.user_model_label())
        return symbol

    def _attribute(
        self, symbol: Symbol, part: str, dotted: str | None, prefer_root: Path | None, depth: int
    ) -> Symbol:
        if depth > MAX_DEPTH:
            return None
        if isinstance(symbol, ChoiceSym):
            options = symbol.options
            return one_of([self._attribute(o, part, dotted, prefer_root, depth) for o in options])
        if isinstance(symbol, str):
            return symbol + part if part == CALL else f"{symbol}.{part}"
        if isinstance(symbol, NamespaceSym):
            if part == CALL:
                return None
            name = f"{symbol.name}.{part}"
            submodule = self.find_module(name, prefer_root)
            if submodule is not None:
                return ModuleSym(submodule)
            return NamespaceSym(name) if self.is_namespace(name) else None
        if isinstance(symbol, ModuleSym):
            if part == CALL:
                return None
            summary = self.summary(symbol.path)
            if summary is not None and (part in summary.order or summary.stars):
                found = self.lookup(summary, part, depth + 1)
                if found is not None or part in summary.order:
                    return found
            if summary is not None:
                submodule = self._find(f"{summary.name}.{part}", summary.path)
            else:
                submodule = self.find_module(dotted, prefer_root) if dotted else None
            if submodule is None and self._trace is not None:
                self._trace.append(f"{self.where(symbol.path)} has no {part}")
            return ModuleSym(submodule) if submodule is not None else None
        if isinstance(symbol, FunctionSym):
            return self._call_function(symbol, depth) if part == CALL else None
        if isinstance(symbol, ClassSym):
            if part == CALL:
                return InstanceSym(symbol.cls)
            if self._trace is not None:
                self._trace.append(f"{symbol.cls.name}.{part}: class attributes are not followed")
            return None
        if isinstance(symbol, InstanceSym) and part != CALL:
            return self._instance_attribute(symbol.cls, part)
        return None

    def _call_function(self, function: FunctionSym, depth: int) -> Symbol:
        """What calling a module-level function gives: what all its `return`s name
        (`MP_Node = get_tree_base()`), one of them (a `ChoiceSym`) when they differ."""
        module = self.summary(function.path)
        if module is None:
            return None
        loaders = function.loaders or (None,) * len(function.returns)
        symbol = one_of(
            [
                self._loader(module, loader, depth)
                if loader is not None
                else self.resolve_expr(module, e, depth + 1)
                if e is not None
                else None
                for e, loader in zip(function.returns, loaders, strict=True)
            ]
        )
        count = len(function.returns)
        if self._trace is not None and (symbol is not None or count > 1):
            # (one return not resolved: the step before says why)
            resolved = symbol is not None and not isinstance(symbol, ChoiceSym)
            verdict = "the same on each" if resolved else "not all the same thing"
            self._trace.append(f"{function.name}() has {count} return(s): {verdict}")
        return symbol

    # -- models registered at run time (Django's app registry) --------------------------

    def registered_model(self, label: str | None, name: str | None) -> Symbol:
        """The model Django's app registry holds as `label.name`: the class `name` of the
        `models` module of the app labelled `label` (its AppConfig's `label`, else the last
        part of the app's package), found in the project, else (`auth`, `contenttypes`...)
        in `django.contrib` as installed. None unless exactly one class matches."""
        if label is None or name is None:
            return None
        key = (label, name)
        if key in self._registered:
            result = self._registered[key]
            if self._trace is not None:
                what = result.cls.qualname if isinstance(result, ClassSym) else "not resolved"
                self._trace.append(f"the app registry's {label}.{name} is {what}")
            return result
        self._registered[key] = None
        self._all_module_names()
        labels = self._app_labels()
        packages = [p for p, lab in labels.items() if lab == label]
        found: set[Symbol] = set()
        for module_name in self._modules:
            package, _, last = module_name.rpartition(".")
            default = package.rpartition(".")[2] == label
            if last != "models" or (package not in packages and not default):
                continue
            if package in labels and labels[package] != label:
                continue  # relabelled by its AppConfig
            path = self.find_module(module_name, None)
            summary = self.summary(path) if path is not None else None
            if summary is not None and name in summary.order:
                symbol = self.lookup(summary, name)
                if self.model_class(symbol) is not None:
                    found.add(symbol)
        if not found and label.isidentifier() and not self._relabelled_installed(label):
            # an installed app whose package is the label (`oauth2_provider.AccessToken`)
            symbol = self.installed(f"{label}.models.{name}")
            if self.model_class(symbol) is not None:
                found.add(symbol)
        if not found:
            symbol = self.installed(f"django.contrib.{label}.models.{name}")
            found.add(symbol if isinstance(symbol, ClassSym) else None)
        result = found.pop() if len(found) == 1 else None
        if self._trace is not None:
            what = result.cls.qualname if isinstance(result, ClassSym) else "not resolved"
            self._trace.append(f"the app registry's {label}.{name} is {what}")
        self._registered[key] = result
        return result

    def _relabelled_installed(self, package: str) -> bool:
        """Whether the installed app `package` gives itself another label (an AppConfig
        of its `apps` module says `label = "..."`)."""
        path = self.find_installed(f"{package}.apps")
        summary = self.summary(path) if path is not None else None
        return summary is not None and any(
            cls.strings.get("label", package) != package for cls in summary.classes.values()
        )

    def _app_labels(self) -> dict[str, str]:
        """App package -> label, from the AppConfig classes of `apps` modules that say
        `name = "..."` and `label = "..."`."""
        if self._labels is None:
            self._all_module_names()
            self._labels = {}
            for module_name in self._modules:
                if module_name != "apps" and not module_name.endswith(".apps"):
                    continue
                path = self.find_module(module_name, None)
                summary = self.summary(path) if path is not None else None
                for cls in summary.classes.values() if summary is not None else ():
                    if "label" in cls.strings and "name" in cls.strings:
                        self._labels[cls.strings["name"]] = cls.strings["label"]
        return self._labels

    def user_model_label(self) -> tuple[str | None, str | None]:
        """`AUTH_USER_MODEL` of the project's settings modules (all that set it must
        agree), else Django's default `auth.User`."""
        value = self.django_setting("AUTH_USER_MODEL", "auth.User")
        return _app_model((value,)) if value is not None else (None, None)

    def django_setting(self, name: str, default: str | None) -> str | None:
        """The value of Django setting `name`, as `django.conf.settings` gives it: the
        string literal the project's settings modules (modules named `settings` or inside
        a `settings` package) assign it, all that set it agreeing; `default` when none sets
        it. None when they disagree or one assigns it something else than a literal."""
        if name in self._settings:
            return self._settings[name]
        values: set[str | None] = set()
        self._all_module_names()
        for module_name in self._modules:
            if "settings" not in module_name.split("."):
                continue
            path = self.find_module(module_name, None)
            summary = self.summary(path) if path is not None else None
            if summary is None or name not in summary.order:
                continue
            read = summary.settings.get(name)
            if read is None or read[1] != name:  # not `NAME = getattr(settings, "NAME", ...)`
                values.add(summary.strings.get(name))
        value = values.pop() if len(values) == 1 else default if not values else None
        self._settings[name] = value
        return value

    def _loader(
        self, module: ModuleSummary, loader: tuple[Expr, tuple[str | Expr, ...]], depth: int
    ) -> Symbol:
        """What a call `callee(args)` written in `module` gives: the model Django's app
        registry holds under the label its arguments name, for a model loader
        (`apps.get_model(...)`, `swapper.load_model(...)`), each argument a literal or a
        setting (`string_value`); else the call's result as any call's."""
        callee, args = loader
        symbol = self.resolve_expr(module, callee, depth + 1)
        if isinstance(symbol, str) and symbol in MODEL_LOADERS:
            values = tuple(self.string_value(module, a, depth + 1) for a in args)
            if None in values:
                if self._trace is not None:
                    unknown = show_expr(args[values.index(None)])
                    self._trace.append(
                        f"{show_expr(callee)}({unknown}): {unknown} is no string literal or"
                        " setting we can read"
                    )
                return None
            return self.registered_model(*_app_model(values))
        return (
            symbol + CALL
            if isinstance(symbol, str)
            else self._attribute(symbol, CALL, None, module.path, depth + 1)
        )

    def string_value(self, module: ModuleSummary, value: str | Expr, depth: int = 0) -> str | None:
        """The string a loader argument written in `module` is at run time: a literal; a
        module-level `NAME = "text"` (imported too); a Django setting, `settings.NAME` or
        `NAME = getattr(settings, "SETTING", "app.Model")` (the project's value, else the
        default literal, as Django gives it, see `django_setting`); or an attribute of a
        settings object, `conf.NAME` where `conf = Settings(..., DEFAULTS, ...)` is an
        instance of a class with `__getattr__` that takes the mapping as its `defaults`
        and `DEFAULTS = {"NAME": <one of these>}` (the default, when the project's
        settings do not override it). None otherwise."""
        if isinstance(value, str):
            return value
        if depth > MAX_DEPTH:
            return None
        found = self._defined_at(module, value[:-1], value[-1], depth + 1)
        if found is None:
            if len(value) > 1:
                holder = self.resolve_expr(module, value[:-1], depth + 1)
                if holder in DJANGO_SETTINGS:
                    return self._traced_setting(value[-1], DJANGO_DEFAULTS.get(value[-1]))
                return self._settings_object(module, value, depth + 1)
            return None
        where, name = found
        if name in where.strings:
            return where.strings[name]
        if name in where.settings:
            holder, setting, default = where.settings[name]
            if self.resolve_expr(where, holder, depth + 1) in DJANGO_SETTINGS:
                return self._traced_setting(setting, default)
        if self._trace is not None:
            self._trace.append(f"{self.where(where.path)}: {name} is no string we know")
        return None

    def _traced_setting(self, name: str, default: str | None) -> str | None:
        value = self.django_setting(name, default)
        if self._trace is not None:
            given = repr(value) if value is not None else "not known"
            self._trace.append(f"Django setting {name} (default {default!r}): {given}")
        return value

    def _defined_at(
        self, module: ModuleSummary, head: Expr, name: str, depth: int
    ) -> tuple[ModuleSummary, str] | None:
        """The module and the name a module-level `head.name` (or `name` alone) is bound
        by, imports followed: where its value is written. None when `head` is no module
        or the name is not bound there by an assignment."""
        if depth > MAX_DEPTH:
            return None
        if head:
            symbol = self.resolve_expr(module, head, depth + 1)
            if not isinstance(symbol, ModuleSym):
                return None
            module = self.summary(symbol.path)
            if module is None:
                return None
        options = module.bindings.get(name, ())
        if len(options) != 1:
            return None
        kind, payload = options[0]
        if kind == "import":
            target, _, attribute = payload.rpartition(".")
            path = self._find(target, module.path) if target else None
            found = self.summary(path) if path is not None else None
            return self._defined_at(found, (), attribute, depth + 1) if found else None
        return (module, name) if kind in ("value", "loader") else None

    def _settings_object(self, module: ModuleSummary, value: Expr, depth: int) -> str | None:
        """`conf.NAME`, `conf` a settings object (see `string_value`): its default."""
        if len(value) != 2:
            return None
        found = self._defined_at(module, (), value[0], depth + 1)
        if found is None or found[1] not in found[0].calls:
            return None
        where, holder = found
        callee, args, keywords = where.calls[holder]
        cls = self.resolve_expr(where, callee, depth + 1)
        if not isinstance(cls, ClassSym):
            return None
        owners = (cls.cls, *self.ancestors(cls.cls))
        if not any("__getattr__" in c.attributes for c in owners) or any(
            value[1] in c.attributes or value[1] in c.declared for c in owners
        ):
            return None  # no settings object, or one that defines the name itself
        params = next((c.init_params for c in owners if "__init__" in c.attributes), ())
        given = keywords.get("defaults")
        if given is None and "defaults" in params and params.index("defaults") < len(args):
            given = args[params.index("defaults")]
        defaults = where.mappings.get(given[0]) if given is not None and len(given) == 1 else None
        if defaults is None or defaults.get(value[1]) is None:
            return None
        if self._trace is not None:
            self._trace.append(
                f"{self.where(where.path)}: {holder}.{value[1]} is the default"
                f" {given[0]}[{value[1]!r}] of a settings object ({cls.cls.name})"
            )
        return self.string_value(where, defaults[value[1]], depth + 1)

    def _instance_attribute(self, cls: ClassSummary, part: str) -> Symbol:
        """`part` of an instance of `cls`, when no class of the project or of an installed
        package on the way defines it: the attribute of the external base it comes from,
        e.g. `AppSQLAlchemy().Model` is `flask_sqlalchemy.SQLAlchemy().Model`."""
        for current in (cls, *self.ancestors(cls)):
            declared = current.properties.get(part) or current.declared.get(part)
            if declared is not None:
                module = self.summary(current.path)
                return self.annotated(module, declared) if module else None
            if part in current.attributes:
                return None
        for current in (cls, *self.ancestors(cls)):
            module = self.summary(current.path)
            if module is None:
                return None
            for base in current.bases:
                symbol = self.resolve_expr(module, base) if base is not None else None
                if isinstance(symbol, str) and not self._follows_installed(symbol):
                    return f"{symbol}{CALL}.{part}"
        return None

    # -- methods that build an INSERT of their argument --------------------------------

    def insert_argument(self, cls: ClassSummary, method: str) -> int | None:
        """The position of the argument that `<instance of cls>.method(...)` passes to
        SQLAlchemy's `insert()` (any dialect), so that `db.queries.insert(db.Flow)` is an
        insert of `Flow`: the method `cls` uses (its own or an ancestor's) returns
        `insert(<that parameter>)` on every `return`; or it is abstract, its return
        annotation names SQLAlchemy `Insert` classes only (`Union[postgresql.Insert,
        sqlite.Insert]`), and every override of it in its module does so (at least one).
        None otherwise, or when the method is not found."""
        found = self._memoized(
            self._inserts,
            (cls.path, cls.name, method),
            lambda: self._insert_argument(cls, method),
            None,
        )
        if self._trace is not None:
            verdict = f"argument {found + 1}" if found is not None else "no argument we know"
            self._trace.append(f"{cls.name}.{method}(...) is an insert of {verdict}")
        return found

    def _insert_argument(self, cls: ClassSummary, method: str) -> int | None:
        for current in (cls, *self.ancestors(cls)):
            if method not in current.attributes:
                continue
            shapes = self._shapes(current)
            if method in shapes.forwards:
                return self._forwarded_insert(current, method)
            if method in shapes.abstract:
                return self._abstract_insert(current, method)
            return None
        return None

    def _shapes(self, cls: ClassSummary) -> MethodShapes:
        """The `MethodShapes` of `cls`, read from its module's syntax tree on first use
        (a few classes need them: they are not part of every summary)."""
        key = (cls.path, cls.name, cls.line)
        known = self._method_shapes.get(key)
        if known is None:
            from timestamp_lint.helpers import class_def

            node = class_def(self, cls)
            known = method_shapes(node) if node is not None else MethodShapes({}, {})
            self._method_shapes[key] = known
        else:
            self._touch(cls.path)
        return known

    def _forwarded_insert(self, cls: ClassSummary, method: str) -> int | None:
        position, callees = self._shapes(cls).forwards[method]
        module = self.summary(cls.path)
        if module is None:
            return None
        for callee in callees:
            symbol = self.resolve_expr(module, callee)
            if not (isinstance(symbol, str) and is_insert_function(symbol)):
                if self._trace is not None:
                    self._trace.append(
                        f"{cls.name}.{method} returns {show_expr(callee)}(...):"
                        " no SQLAlchemy insert"
                    )
                return None
        if self._trace is not None:
            shown = ", ".join(sorted({show_expr(c) for c in callees}))
            self._trace.append(
                f"{self.where(cls.path)}: {cls.name}.{method} returns {shown}(<argument"
                f" {position + 1}>): an insert of that argument"
            )
        return position

    def _abstract_insert(self, cls: ClassSummary, method: str) -> int | None:
        module = self.summary(cls.path)
        if module is None:
            return None
        members = self._shapes(cls).abstract[method]
        for member in members:
            symbol = self.resolve_expr(module, member)
            if not (isinstance(symbol, str) and _is_insert_class(symbol)):
                if self._trace is not None:
                    self._trace.append(
                        f"{cls.name}.{method} is abstract and returns {show_expr(member)}:"
                        " no SQLAlchemy Insert"
                    )
                return None
        overrides = [
            other
            for other in module.classes.values()
            if other is not cls and method in other.attributes and cls in self.ancestors(other)
        ]
        positions = {
            self._forwarded_insert(o, method) if method in self._shapes(o).forwards else None
            for o in overrides
        }
        found = positions.pop() if len(positions) == 1 else None
        if self._trace is not None:
            names = ", ".join(o.name for o in overrides) or "none"
            verdict = "each an insert of the same argument" if found is not None else "not all"
            self._trace.append(
                f"{self.where(cls.path)}: {cls.name}.{method} is abstract, returns SQLAlchemy"
                f" Insert; its overrides in the module ({names}): {verdict}"
            )
        return found

    # -- installed packages ----------------------------------------------------------

    def _find(self, name: str, near: Path | None) -> Path | None:
        """A module file by name: the project's first (it comes first on `sys.path`), then,
        from a module of an installed package, the installed packages'."""
        found = self.find_module(name, near)
        if found is None and near in self._installed_files:
            found = self.find_installed(name)
        return found

    def find_installed(self, name: str) -> Path | None:
        """The source file of module `name` in the environment's site-packages folders:
        the first folder that has it; a package (`x/__init__.py`) over a module `x.py`."""
        if name in self._installed_modules:
            return self._installed_modules[name]
        found = None
        parts = name.split(".")
        if all(part.isidentifier() for part in parts):
            for folder in self._site:
                package = folder.joinpath(*parts, "__init__.py")
                module = folder.joinpath(*parts[:-1], f"{parts[-1]}.py")
                for path in (package, module):
                    if os.path.isfile(path):
                        found = path
                        self._ids[path] = ModuleId(name, folder, path is package)
                        self._installed_files.add(path)
                        break
                if found is not None:
                    break
        self._installed_modules[name] = found
        return found

    def _follows_installed(self, dotted: str) -> bool:
        """Whether `dotted`, a name outside the project, is worth reading installed
        sources for: not when we know what it is already (an ORM root, a package that
        defines no model, by name or by its distribution's metadata)."""
        return (
            bool(self._site)
            and not dotted.startswith(MODELLED_PACKAGES)
            and not dotted.startswith(MODEL_FREE_PACKAGES)
            and external_kind(dotted, self._model_bases) is Kind.NONE
            and not self._model_free(dotted)
        )

    def _model_free(self, dotted: str) -> bool:
        """Whether the installed package of `dotted` cannot define an ORM model: its
        distribution requires no ORM (`distributions`). The metadata read for that counts
        among the files a cached result depends on."""
        if self._distributions is None:
            from timestamp_lint.distributions import Distributions

            protected = {base.partition(".")[0] for base in self._model_bases}
            self._distributions = Distributions(self._site, protected)
        proof = self._distributions.model_free(dotted.partition(".")[0])
        if proof is None:
            return False
        for path in proof:
            self._touch(path)
            if path not in self._fingerprints:
                self._fingerprints[path] = _fingerprint_of(path)
        if self._trace is not None:
            self._trace.append(
                f"{dotted}: its installed distribution requires no ORM; not read (no model)"
            )
        return True

    def installed(self, dotted: str, depth: int = 0) -> Symbol:
        """Follow a name outside the project into the sources of the installed packages,
        statically, as the project's own modules are. Names we know (ORM roots) stay
        dotted strings; what cannot be followed is None."""
        if not self._follows_installed(dotted):
            return dotted
        if depth > MAX_DEPTH:
            return None
        parts = split_dotted(dotted)
        for size in range(len(parts), 0, -1):
            if CALL in parts[:size]:
                continue
            path = self.find_installed(".".join(parts[:size]))
            if path is not None:
                break
        else:
            if self._trace is not None:
                self._trace.append(f"{dotted} is in no installed package's source")
            return None
        if self._trace is not None:
            self._trace.append(f"{dotted}: reading the installed {self.where(path)}")
        symbol: Symbol = ModuleSym(path)
        for part in parts[size:]:
            symbol = self._attribute(symbol, part, None, path, depth + 1)
            if symbol is None:
                return None
        if isinstance(symbol, str):
            return None if symbol == dotted else self.installed(symbol, depth + 1)
        return symbol

    def _base(self, module: ModuleSummary, base: Expr | None) -> Symbol:
        """What a base class expression names, installed classes followed."""
        if base is None:
            return None
        return self._followed(self.resolve_expr(module, base))

    def _followed(self, symbol: Symbol) -> Symbol:
        """`symbol` with names of installed packages followed into their sources."""
        if isinstance(symbol, ChoiceSym):
            return one_of([self._followed(o) for o in symbol.options])
        if isinstance(symbol, str) and self._follows_installed(symbol):
            return self.installed(symbol)
        return symbol

    def bases_of(self, cls: ClassSummary) -> list[tuple[Expr | None, Symbol]]:
        """Each base class expression of `cls` with what it names (installed classes
        followed), as the classification sees them."""
        module = self.summary(cls.path)
        if module is None:
            return []
        return [(base, self._base(module, base)) for base in cls.bases]

    # -- classification ----------------------------------------------------------------

    def _memoized(self, table: dict, key: object, compute: Callable[[], T], guard: T) -> T:
        """`compute()` once per run; later calls also report the files the first one read,
        so every file's cached result knows all the modules its analysis depended on."""
        if key in table:
            value, deps = table[key]
            if self._tracking is not None:
                self._tracking |= deps
            return value
        table[key] = (guard, frozenset())  # a cycle sees the guard
        outer, self._tracking = self._tracking, set()
        try:
            value = compute()
        finally:
            deps, self._tracking = frozenset(self._tracking), outer
            if outer is not None:
                outer |= deps
        table[key] = (value, deps)
        return value

    def class_kind(self, cls: ClassSummary) -> Kind:
        return self._memoized(
            self._kinds, (cls.path, cls.name), lambda: self._classify(cls), Kind.NONE
        )

    def _classify(self, cls: ClassSummary) -> Kind:
        if cls.qualname in self._model_bases:
            return Kind.MODEL
        if cls.path in self._installed_files:
            known = external_kind(cls.qualname, self._model_bases)
            if known is not Kind.NONE:
                return known
        module = self.summary(cls.path)
        if module is None:
            return Kind.NONE
        for decorator in cls.decorators:
            if decorator is not None:
                symbol = self.resolve_expr(module, decorator)
                if isinstance(symbol, str) and decorator_kind(symbol) is Kind.MODEL:
                    return Kind.MODEL
        kinds = {self._base_kind(self._base(module, base)) for base in cls.bases}
        if Kind.MODEL in kinds:
            return Kind.MODEL
        self._mappings()
        if (cls.path, cls.name) in self._mapped:
            self._by_mapping.add((cls.path, cls.name))
            return Kind.MODEL  # mapped imperatively
        if Kind.SQLMODEL in kinds:
            return Kind.MODEL if cls.keywords.get("table") is True else Kind.SQLMODEL
        return Kind.NONE

    def _base_kind(self, symbol: Symbol) -> Kind:
        """What a base class (resolved, installed names followed) makes its subclasses; a
        base bound differently on each branch, what every option makes them, else NONE."""
        if isinstance(symbol, str):
            return external_kind(symbol, self._model_bases)
        if isinstance(symbol, ClassSym):
            return self.class_kind(symbol.cls)
        if isinstance(symbol, ChoiceSym):
            kinds = {self._base_kind(o) for o in symbol.options}
            return kinds.pop() if len(kinds) == 1 else Kind.NONE
        return Kind.NONE

    def model_class(self, symbol: Symbol) -> ClassSummary | None:
        """The class behind `symbol` if it is an ORM model, else None."""
        if isinstance(symbol, str) and self._follows_installed(symbol):
            symbol = self.installed(symbol)
        if isinstance(symbol, ClassSym) and self.class_kind(symbol.cls) is Kind.MODEL:
            return symbol.cls
        return None

    # -- columns -----------------------------------------------------------------------

    def ancestors(self, cls: ClassSummary) -> list[ClassSummary]:
        """Project classes `cls` inherits from, nearest first (depth-first, left to right):
        those it inherits from whichever branch binds its bases."""
        lines = self.lineages(cls)
        if len(lines) <= 1:
            return lines[0] if lines else []
        return [c for c in lines[0] if all(c in line for line in lines[1:])]

    def lineages(self, cls: ClassSummary) -> list[list[ClassSummary]]:
        """The project classes `cls` may inherit from at run time (nearest first,
        depth-first, left to right): one list per combination of the options of its bases
        bound differently on branches (`ChoiceSym`), one list when none is; [] past
        MAX_LINEAGES combinations (nothing inherited is then known)."""
        done: list[list[ClassSummary]] = []
        pending: list[tuple[list[ClassSummary], list[ClassSummary]]] = [([], [cls])]
        while pending:
            found, stack = pending.pop()
            if not stack:
                done.append(found)
                continue
            current, stack = stack[-1], stack[:-1]
            module = self.summary(current.path)
            alternatives: list[list[ClassSummary | None]] = []
            for base in current.bases if module is not None else ():
                symbol = self._base(module, base)
                options = symbol.options if isinstance(symbol, ChoiceSym) else (symbol,)
                alternatives.append([o.cls if isinstance(o, ClassSym) else None for o in options])
            combos = list(itertools.product(*alternatives))
            if len(done) + len(pending) + len(combos) > MAX_LINEAGES:
                return []
            for combo in reversed(combos):
                seen = {id(cls), *map(id, found)}
                bases: list[ClassSummary] = []
                for base_cls in combo:
                    if base_cls is not None and id(base_cls) not in seen:
                        seen.add(id(base_cls))
                        bases.append(base_cls)
                pending.append((found + bases, stack + bases[::-1]))
        return done

    def derives_from(self, cls: ClassSummary, externals: frozenset[str]) -> bool:
        for current in (cls, *self.ancestors(cls)):
            module = self.summary(current.path)
            if module is None:
                continue
            for base in current.bases:
                if base is not None and self.resolve_expr(module, base) in externals:
                    return True
        return False

    def _hook_map(self) -> dict[tuple[Path, str], list[HookDecl]]:
        """Event listeners anywhere in the project, by the class they listen on (and the
        imperative mappings, `_mappings`). Only files whose bytes may call `listen` are
        parsed."""
        self._mappings()
        if self._hooks is not None:
            return self._hooks
        self._hooks = {}
        for path in self._listen_files:
            module = self.summary(path)
            if module is None:
                continue
            for hook in module.hooks:
                symbol = self.resolve_expr(module, hook.target)
                if isinstance(symbol, ClassSym):
                    self._hooks.setdefault((symbol.cls.path, symbol.cls.name), []).append(hook)
        return self._hooks

    def _mappings(self) -> None:
        """Find the imperative mappings anywhere in the project (`_mapped`), which is what
        classifying a class asks of the files that may define listeners: only those that may
        map a class are parsed here. Results that ask depend on all those files (the
        listener digest): the listeners themselves are parsed when a column asks
        (`_hook_map`)."""
        self._touch(_LISTENERS)
        if self._mapped_found:
            for path in self._hook_files:
                self._touch(path)
            return
        self._mapped_found = True
        known = self._listener_files() if self._listener_files is not None else None
        for path in self._files if known is None else known:
            try:
                data = read_source(path)
            except SourceError:
                continue
            if not may_define_listeners(data):
                continue
            self._hook_files.append(path)
            self._touch(path)
            if may_call_listen(data):
                self._listen_files.append(path)
            if may_map_imperatively(data):
                module = self.summary(path, data)
                if module is not None:
                    self._find_mappings(module)
        self._listener_digest = listener_digest(self._hook_files, self.config.root)

    def _find_mappings(self, module: ModuleSummary) -> None:
        """SQLAlchemy imperative mappings anywhere in `module` (often in a function such as
        `start_mappers()`): `registry.map_imperatively(Cls, table)`, `mapper(Cls, table)`,
        with `Cls` and `table` names of the module's top level. The calls were read with
        its summary (`ModuleSummary.mapping_calls`): no parse here."""
        for callee_parts, target, table_callee, declared in module.mapping_calls:
            callee = self.resolve_expr(module, callee_parts)
            if not (isinstance(callee, str) and _is_mapping_call(callee)):
                continue
            symbol = self.resolve_expr(module, target) if target else None
            if not isinstance(symbol, ClassSym):
                continue
            columns: dict[str, ColumnDecl] = {}
            if table_callee is not None:  # the table is a module-level `name = Call(...)`
                kind = self.resolve_expr(module, table_callee)
                if (
                    isinstance(kind, str)
                    and kind.startswith("sqlalchemy.")
                    and kind.endswith(".Table")
                ):
                    columns = declared
            self._mapped[(symbol.cls.path, symbol.cls.name)] = (module, columns)

    def mapping(self, cls: ClassSummary) -> tuple[ModuleSummary, dict[str, ColumnDecl]] | None:
        """The imperative mapping of `cls` (the mapping's module, the table's timestamp
        columns), or None. Never for a model by its bases (SQLAlchemy maps a class once):
        their results need not depend on the files that may map classes."""
        if self.class_kind(cls) is Kind.MODEL and (cls.path, cls.name) not in self._by_mapping:
            return None
        self._mappings()
        return self._mapped.get((cls.path, cls.name))

    def _hooked_fields(self, cls: ClassSummary, event: str) -> set[str]:
        """Fields assigned by listeners for `event` on `cls` (or on an ancestor, propagated),
        or by a `save()` override of the class or an ancestor."""
        fields: set[str] = set()
        hook_map = self._hook_map()
        for depth, current in enumerate((cls, *self.ancestors(cls))):
            fields |= current.save_fields
            for hook in hook_map.get((current.path, current.name), ()):
                if hook.event == event and (depth == 0 or hook.propagate):
                    fields |= hook.fields
        return fields

    def column_info(self, cls: ClassSummary, name: str, model: ClassSummary | None = None):
        """What the declaration of `name` in `cls` body provides, with event listeners and
        save() overrides of `model` (the class being created; default `cls`) taken into
        account. None when `cls` declares no such column we understand."""
        decl = cls.columns.get(name)
        module = self.summary(cls.path)
        if decl is None or module is None:
            return None
        mapped = self.mapping(cls)
        if mapped is not None and name in mapped[1]:  # the mapped Table's column wins
            mapping_module, table = mapped
            resolve = lambda e: self.resolve_expr(mapping_module, e)  # noqa: E731
            info = interpret(table[name], cls.qualname, resolve, False)
            return self._hooked(info, name, model or cls) if info is not None else None
        sqlmodel = self.derives_from(cls, SQLMODEL_BASES)
        info = interpret(decl, cls.qualname, lambda e: self.resolve_expr(module, e), sqlmodel)
        if info is None:
            return None
        return self._hooked(info, name, model or cls)

    def _hooked(self, info: ColumnInfo, name: str, subject: ClassSummary) -> ColumnInfo:
        """`info` with the listeners and save() overrides of `subject` taken into account."""
        if (
            info.update_hook is None
            and name in self.config.update_fields
            and name in self._hooked_fields(subject, "before_update")
        ):
            info = replace(info, update_hook="an update listener or save() override")
        if not info.stamps_now and name in self._hooked_fields(subject, "before_insert"):
            info = replace(info, insert_default="an insert listener", stamps_now=True)
        return info

    def model_info(self, cls: ClassSummary) -> ModelInfo:
        """A model's timestamp columns, inherited ones included (nearest declaration wins)."""
        empty = ModelInfo(cls.qualname, cls.path, {})
        return self._memoized(self._models, (cls.path, cls.name), lambda: self._model(cls), empty)

    def _model(self, cls: ClassSummary) -> ModelInfo:
        """A column inherited through a base bound differently on branches is known only
        when every branch declares it alike (a fix must be safe whichever branch runs)."""
        mapped_columns: dict[str, ColumnInfo] = {}
        mapped = self.mapping(cls)
        if mapped is not None:
            module, table = mapped
            for name, decl in table.items():
                info = interpret(decl, cls.qualname, lambda e: self.resolve_expr(module, e), False)
                if info is not None:
                    mapped_columns[name] = self._hooked(info, name, cls)
        versions = []
        for line in self.lineages(cls) or [[]]:
            columns = dict(mapped_columns)
            for current in (cls, *line):
                for name in current.columns:
                    if name not in columns:
                        info = self.column_info(current, name, cls)
                        if info is not None:
                            columns[name] = info
            versions.append(columns)
        return ModelInfo(cls.qualname, cls.path, agreed_columns(versions))

    # -- for other modules (additive) ---------------------------------------------------

    def use_listener_files(self, files: Callable[[], list[Path]]) -> None:
        """Let `files()` tell the project files whose bytes may define listeners or map
        classes imperatively (`prefilter.may_define_listeners`), as a pass that reads every
        file anyway (the field detection's, the cache's memory) found them: only those are
        read again for the listener map."""
        self._listener_files = files

    def project_files(self) -> list[Path]:
        """Every Python file of the project root (after `exclude`)."""
        return self._files
