"""What the names and values of one parsed file mean, answered with LibCST metadata.

Rules ask three questions here: *is this call creating an ORM record?* (`creation_site`),
*is this value another record's timestamp?* (`copy_source`), and *was this variable created
from a model?* (`created_model`). Local variables are followed through the assignments that
reach the use in the same function, found with LibCST's `ScopeProvider`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import (
    Assignment,
    CodePosition,
    CodeRange,
    ComprehensionScope,
    PositionProvider,
    QualifiedNameSource,
    Scope,
    ScopeProvider,
    VisitorMetadataProvider,
)

from timestamp_lint.index import (
    CALL,
    ClassSummary,
    ClassSym,
    ModuleSummary,
    ProjectIndex,
    annotation,
    resolve_relative,
)


class ParentProvider(VisitorMetadataProvider[cst.CSTNode]):
    """Each node's parent, recorded on the way down one walk of the tree. (LibCST's own
    `ParentNodeProvider` lists every node's children, a second walk, and costs twice this.)"""

    def __init__(self) -> None:
        super().__init__()
        self._stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._stack:
            self.set_metadata(node, self._stack[-1])
        self._stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()


# Qualified names are asked of the scopes lazily, for the few nodes a rule needs, instead of
# computing them for every node (QualifiedNameProvider) up front.
PROVIDERS = (ScopeProvider, PositionProvider, ParentProvider)

DJANGO_CREATE = frozenset({"create", "get_or_create", "update_or_create"})
DJANGO_DEFAULTS = frozenset({"defaults", "create_defaults"})
DJANGO_MANAGERS = frozenset({"objects", "_default_manager"})
MAX_TRACE = 32  # local-variable hops followed before giving up


@dataclass(frozen=True)
class FieldValue:
    """A value given to one field of a new record, and the node that carries it."""

    field: str
    value: cst.BaseExpression
    carrier: cst.CSTNode  # the cst.Arg or cst.DictElement to report and remove
    through: cst.Arg | None = None  # the call argument that brings it (`defaults=d`, `**d`)
    lookup: bool = False  # a Django get_or_create/update_or_create lookup keyword


@dataclass(frozen=True)
class CreationSite:
    model: ClassSummary
    call: cst.Call
    kind: str  # "constructor", "manager" (objects.create and friends) or "insert"
    label: str  # how messages name the call: "Flow", "Flow.objects.create", "insert(Flow).values"
    values: tuple[FieldValue, ...]


@dataclass(frozen=True)
class CopySource:
    origin: cst.BaseExpression  # e.g. the `master.created_at` attribute
    field: str  # the field read from the other object
    via: tuple[str, ...] = field(default=())  # local names followed to reach it


def is_insert_function(dotted: str) -> bool:
    """`sqlalchemy.insert`, dialect inserts, and Flask-SQLAlchemy's `db.insert`."""
    if dotted.startswith("sqlalchemy."):
        return dotted.endswith(".insert")
    return dotted.startswith("flask_sqlalchemy.") and dotted.endswith(".SQLAlchemy().insert")


class LineMapped(Mapping[cst.CSTNode, CodeRange]):
    """Positions with their line numbers translated through a line map."""

    def __init__(self, positions: Mapping[cst.CSTNode, CodeRange], lines: Sequence[int]) -> None:
        self._positions = positions
        self._lines = lines

    def _line(self, number: int) -> int:
        if number <= len(self._lines):
            return self._lines[number - 1]
        return self._lines[-1] + number - len(self._lines) if self._lines else number

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        found = self._positions[node]
        return CodeRange(
            CodePosition(self._line(found.start.line), found.start.column),
            CodePosition(self._line(found.end.line), found.end.column),
        )

    def __iter__(self) -> Iterator[cst.CSTNode]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)


class Semantics:
    def __init__(
        self,
        module: cst.Module,
        metadata: Mapping[type, Mapping[cst.CSTNode, object]],
        summary: ModuleSummary,
        index: ProjectIndex,
        fields: frozenset[str],
        line_map: Sequence[int] | None = None,
    ) -> None:
        """`line_map`: the file's line number of each line of `module`, when `module` is a
        focused part of the file; positions are given in the file's numbers."""
        self.module = module
        self.scopes = metadata[ScopeProvider]
        positions = metadata[PositionProvider]
        self.positions = positions if line_map is None else LineMapped(positions, line_map)
        self.parents = metadata[ParentProvider]
        self.summary = summary
        self.index = index
        self.fields = fields
        self._model_cache: dict[cst.CSTNode, ClassSummary | None] = {}

    # -- names -------------------------------------------------------------------------

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def qualified_names(self, node: cst.CSTNode) -> set:
        scope = self.scopes.get(node)
        if scope is None or not isinstance(node, cst.Name | cst.Attribute):
            return set()
        return scope.get_qualified_names_for(node)

    def _symbols(self, node: cst.BaseExpression) -> list[object] | None:
        names = self.qualified_names(node)
        if not names:
            return None
        symbols = []
        for qualified in names:
            name = qualified.name
            if "<locals>" in name and qualified.source is QualifiedNameSource.LOCAL:
                annotated = self._annotated_parameter(node)
                if isinstance(annotated, ClassSym):  # a class; an instance stays a local value
                    return [annotated]
            if "<locals>" in name or qualified.source is QualifiedNameSource.BUILTIN:
                return None
            if qualified.source is QualifiedNameSource.IMPORT:
                if name.startswith("."):
                    level = len(name) - len(name.lstrip("."))
                    absolute = resolve_relative(self.summary.package(), name[level:], level)
                    if absolute is None:
                        return None
                    name = absolute
                symbols.append(self.index.resolve_qualname(name, self.summary.path))
            else:
                symbols.append(self.index.resolve_expr(self.summary, tuple(name.split("."))))
        return symbols

    def _annotated_parameter(self, node: cst.BaseExpression) -> object | None:
        """`db.Flow` where `db` is a parameter annotated with a class of the module's names
        (`def f(db: DBInterface)`): resolved through the annotation, as a type checker
        would (see `ProjectIndex.annotated`). None otherwise."""
        parts: list[str] = []
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        scope = self.scopes.get(node)
        if not isinstance(node, cst.Name) or scope is None:
            return None
        assignments = list(scope[node.value])
        param = getattr(assignments[0], "node", None) if len(assignments) == 1 else None
        if not isinstance(param, cst.Param) or param.annotation is None:
            return None
        try:
            tree = ast.parse(self.code(param.annotation.annotation), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        named = annotation(tree.body)
        if named is None:
            return None
        symbol = self.index.annotated(self.summary, named)
        return self.index.attributes(self.summary, symbol, tuple(reversed(parts)))

    def model_of(self, node: cst.BaseExpression) -> ClassSummary | None:
        """The ORM model class `node` names, resolved through imports; None if not a model."""
        if node in self._model_cache:
            return self._model_cache[node]
        models = None
        symbols = self._symbols(node)
        if symbols:
            found = [self.index.model_class(s) for s in symbols]
            if all(found) and len({(m.path, m.name) for m in found}) == 1:
                models = found[0]
        self._model_cache[node] = models
        return models

    def external_name(self, node: cst.BaseExpression) -> str | None:
        """The dotted path outside the project that `node` names (e.g. `sqlalchemy.insert`)."""
        symbols = self._symbols(node)
        if symbols and len(symbols) == 1 and isinstance(symbols[0], str):
            return symbols[0]
        return None

    # -- creation sites ----------------------------------------------------------------

    def creation_site(self, call: cst.Call) -> CreationSite | None:
        func = call.func
        model = self.model_of(func)
        if model is not None:
            values = tuple(self._call_values(call, False))
            return CreationSite(model, call, "constructor", model.name, values)
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        target = func.value
        if (
            method in DJANGO_CREATE
            and isinstance(target, cst.Attribute)
            and target.attr.value in DJANGO_MANAGERS
        ):
            model = self.model_of(target.value)
            if model is not None:
                label = f"{model.name}.{target.attr.value}.{method}"
                values = self._call_values(call, method != "create")
                return CreationSite(model, call, "manager", label, tuple(values))
        if method == "values":
            model = self._insert_target(target)
            if model is not None:
                values = list(self._call_values(call, False))
                for arg in call.args:
                    if arg.keyword is None and not arg.star:
                        values.extend(self._insert_rows(arg))
                label = f"insert({model.name}).values"
                return CreationSite(model, call, "insert", label, tuple(values))
        return None

    def _insert_target(self, node: cst.BaseExpression) -> ClassSummary | None:
        """The model of `insert(Model)` (any dialect) or `Model.__table__.insert()`, through
        method chains like `insert(Model).returning(...)`."""
        for _ in range(MAX_TRACE):
            if not isinstance(node, cst.Call):
                return None
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value == "insert":
                table = func.value
                if isinstance(table, cst.Attribute) and table.attr.value == "__table__":
                    return self.model_of(table.value)
            name = self.external_name(func)
            if name is not None and is_insert_function(name):
                if node.args and node.args[0].keyword is None and not node.args[0].star:
                    return self.model_of(node.args[0].value)
                return None
            if not isinstance(func, cst.Attribute):
                return None
            node = func.value  # insert(M).returning(...).values(...)
        return None

    def _insert_rows(self, arg: cst.Arg) -> Iterator[FieldValue]:
        node = arg.value
        if isinstance(node, (cst.List, cst.Tuple)):
            for element in node.elements:
                if isinstance(element, cst.Element):
                    yield from self.dict_values(element.value, arg)
        else:
            yield from self.dict_values(node, arg)

    def _call_values(self, call: cst.Call, lookups: bool) -> Iterator[FieldValue]:
        """Field values given in a call: keywords (`lookups`: Django lookups), `**dicts`."""
        for arg in call.args:
            if arg.star == "**":
                yield from self.dict_values(arg.value, arg)
            elif arg.keyword is not None:
                name = arg.keyword.value
                if lookups and name in DJANGO_DEFAULTS:
                    yield from self.dict_values(arg.value, arg)
                elif not (lookups and "__" in name):
                    yield FieldValue(name, arg.value, arg, arg, lookup=lookups)

    def dict_values(
        self, node: cst.BaseExpression, through: cst.Arg | None, depth: int = 0
    ) -> Iterator[FieldValue]:
        """Entries of a dict literal, `dict(...)` call, or a local name assigned one."""
        if depth > MAX_TRACE:
            return
        if isinstance(node, cst.Dict):
            for element in node.elements:
                if isinstance(element, cst.StarredDictElement):
                    yield from self.dict_values(element.value, through, depth + 1)
                elif isinstance(element.key, cst.SimpleString):
                    key = string_value(element.key)
                    if key is not None:
                        yield FieldValue(key, element.value, element, through)
        elif isinstance(node, cst.Call):
            if self.external_name(node.func) == "builtins.dict" or (
                isinstance(node.func, cst.Name)
                and node.func.value == "dict"
                and self._is_builtin(node.func)
            ):
                for arg in node.args:
                    if arg.keyword is not None:
                        yield FieldValue(arg.keyword.value, arg.value, arg, through)
                    elif arg.star == "**" or (not arg.star and not arg.keyword):
                        yield from self.dict_values(arg.value, through, depth + 1)
        elif isinstance(node, cst.Name):
            for value in self.reaching_values(node):
                yield from self.dict_values(value, through, depth + 1)

    def _is_builtin(self, node: cst.Name) -> bool:
        names = self.qualified_names(node)
        return any(q.source is QualifiedNameSource.BUILTIN for q in names)

    # -- local variables ---------------------------------------------------------------

    def contains(self, outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
        """Whether `inner` lies inside `outer` in the source."""
        a, b = self.positions[outer], self.positions[inner]
        return (a.start.line, a.start.column) <= (b.start.line, b.start.column) and (
            b.end.line,
            b.end.column,
        ) <= (a.end.line, a.end.column)

    def _position(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.positions[node].start
        return (start.line, start.column)

    def _ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        while node in self.parents:
            node = self.parents[node]
            yield node

    def reaching_values(self, name: cst.Name) -> list[cst.BaseExpression]:
        """Values assigned to local `name` that can reach this use, nearest first."""
        return [value for value, _ in self._reaching(name)]

    def _reaching(self, name: cst.Name) -> list[tuple[cst.BaseExpression, cst.Name]]:
        scope = self.scopes.get(name)
        if scope is None:
            return []
        local_scopes: list[Scope] = [scope]
        while isinstance(local_scopes[-1], ComprehensionScope):
            local_scopes.append(local_scopes[-1].parent)
        use = self._position(name)
        candidates = []
        for assignment in scope[name.value]:
            if not isinstance(assignment, Assignment) or assignment.scope not in local_scopes:
                continue
            target = assignment.node
            if not isinstance(target, cst.Name) or target is name:
                continue
            in_comprehension = isinstance(assignment.scope, ComprehensionScope)
            if not in_comprehension and self._position(target) >= use:
                continue
            candidates.append((in_comprehension, self._position(target), target))
        candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
        ancestors = set(self._ancestors(name))
        found = []
        for _, _, target in candidates:
            value, statement = self._assigned_value(target)
            if value is not None:
                found.append((value, target))
            if statement is not None and self.parents.get(statement) in ancestors:
                break  # an unconditional assignment hides the ones before it
        return found

    def _assigned_value(
        self, target: cst.Name
    ) -> tuple[cst.BaseExpression | None, cst.CSTNode | None]:
        """The value bound to `target` and the statement binding it."""
        path: list[cst.CSTNode] = [target]
        for parent in self._ancestors(target):
            if isinstance(parent, cst.AssignTarget):
                assign = self.parents[parent]
                return _element_for(path, parent.target, assign.value), self._line_of(assign)
            if isinstance(parent, (cst.AnnAssign, cst.AugAssign)):
                return parent.value, self._line_of(parent)
            if isinstance(parent, cst.NamedExpr):
                return parent.value, None
            if isinstance(parent, (cst.For, cst.CompFor)):
                return parent.iter, None
            if isinstance(parent, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
                return None, None
            path.append(parent)
        return None, None

    def _line_of(self, small: cst.CSTNode) -> cst.CSTNode | None:
        """The statement line holding a small statement, whose parent is the enclosing block."""
        return self.parents.get(small)

    # -- copies ------------------------------------------------------------------------

    def copy_source(self, value: cst.BaseExpression) -> CopySource | None:
        """Where `value` takes another object's timestamp field from, or None if it doesn't."""
        return self._copy(value, (), set())

    def _copy(
        self, value: cst.BaseExpression, via: tuple[str, ...], seen: set[cst.Name]
    ) -> CopySource | None:
        if len(via) > MAX_TRACE:
            return None
        stack: list[cst.CSTNode] = [value]
        names: list[cst.Name] = []
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Attribute):
                if node.attr.value in self.fields and self._is_record(node.value):
                    return CopySource(node, node.attr.value, via)
            elif isinstance(node, cst.Subscript):
                key = _subscript_key(node)
                if key in self.fields:
                    return CopySource(node, key, via)
            elif isinstance(node, cst.Call):
                if (
                    isinstance(node.func, cst.Name)
                    and node.func.value == "getattr"
                    and self._is_builtin(node.func)
                    and len(node.args) >= 2
                    and isinstance(node.args[1].value, cst.SimpleString)
                    and string_value(node.args[1].value) in self.fields
                ):
                    return CopySource(node, string_value(node.args[1].value), via)
            elif isinstance(node, cst.Name):
                names.append(node)
                continue
            elif isinstance(node, (cst.Lambda, cst.FunctionDef, cst.ClassDef)):
                continue
            stack.extend(reversed(node.children))
        for name in names:
            for reached, target in self._reaching(name):
                if target in seen:
                    continue
                seen.add(target)
                found = self._copy(reached, (*via, target.value), seen)
                if found is not None:
                    return found
        return None

    def _is_record(self, node: cst.BaseExpression) -> bool:
        """Whether `x` in `x.created_at` can be a record rather than a class or an upsert's
        `excluded` row (`stmt.excluded.created_at` names the row being inserted)."""
        if isinstance(node, cst.Attribute) and node.attr.value == "excluded":
            return False
        if isinstance(node, cst.Name):
            if node.value == "excluded":
                return False
            symbols = self._symbols(node)
            if symbols and any(s is not None for s in symbols):
                return False  # a module, a class, or an imported name: not a record instance
        return True

    # -- created records (TSL002) ------------------------------------------------------

    def created_model(self, name: cst.Name) -> tuple[ClassSummary, cst.Name] | None:
        """The model a local variable was created from, with the assignment target."""
        for value, target in self._reaching(name):
            if isinstance(value, cst.Call):
                site = self.creation_site(value)
                creates_one = site is not None and (
                    site.kind == "constructor" or site.label.endswith(".create")
                )
                if creates_one:
                    return site.model, target
        return None


def _element_for(
    path: list[cst.CSTNode], target: cst.BaseExpression, value: cst.BaseExpression
) -> cst.BaseExpression:
    """In `a, b = x, y`, the value element matching the target element on `path`."""
    while isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)):
        if any(isinstance(e, cst.StarredElement) for e in target.elements):
            return value
        if len(target.elements) != len(value.elements):
            return value
        for index, element in enumerate(target.elements):
            if element in path:
                target = element.value
                value = value.elements[index].value
                break
        else:
            return value
    return value


def string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, str) else None
    return None


def _subscript_key(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1:
        return None
    element = node.slice[0].slice
    if isinstance(element, cst.Index):
        return string_value(element.value)
    return None


__all__ = ["CALL", "PROVIDERS", "CopySource", "CreationSite", "FieldValue", "Semantics"]
