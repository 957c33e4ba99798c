"""What the names and values of one parsed file mean, answered with LibCST metadata.

Rules ask three questions here: *is this call creating an ORM record?* (`creation_site`),
*is this value another record's timestamp?* (`copy_source`), and *was this variable created
from a model?* (`created_model`). Local variables are followed through the assignments that
reach the use in the same function, found with LibCST's `ScopeProvider`.
"""

from __future__ import annotations

import ast
import re
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

from timestamp_lint.detect import field_names
from timestamp_lint.helpers import DJANGO_MANAGERS, dict_method
from timestamp_lint.index import (
    CALL,
    ClassSummary,
    ClassSym,
    InstanceSym,
    Kind,
    ModuleSummary,
    ProjectIndex,
    annotation,
    is_insert_function,
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
MAX_TRACE = 32  # local-variable hops followed before giving up


@dataclass(frozen=True)
class FieldValue:
    """A value given to one field of a new record, and the node that carries it."""

    field: str
    value: cst.BaseExpression
    carrier: cst.CSTNode  # the cst.Arg or cst.DictElement to report and remove
    through: cst.Arg | None = None  # the call argument that brings it (`defaults=d`, `**d`)
    lookup: bool = False  # a Django get_or_create/update_or_create lookup keyword
    named: bool = False  # a helper's named parameter: the call needs it, no fix


@dataclass(frozen=True)
class CreationSite:
    model: ClassSummary
    call: cst.Call
    kind: str  # "constructor", "manager" (objects.create and friends) or "insert"
    label: str  # how messages name the call: "Flow", "Flow.objects.create", "insert(Flow).values"
    values: tuple[FieldValue, ...]
    helper: str | None = None  # the project function that creates the record ("helper" kind)


@dataclass(frozen=True)
class CopySource:
    origin: cst.BaseExpression  # e.g. the `master.created_at` attribute
    field: str  # the field read from the other object
    via: tuple[str, ...] = field(default=())  # local names followed to reach it
    model: str | None = None  # the model of the record it is read from, when the code says


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
        self.configured = fields
        self.fields = fields | field_names(index)  # with those the models declare
        self._model_cache: dict[cst.CSTNode, ClassSummary | None] = {}
        self._clones: CloneSemantics | None = None

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

    def _annotated_parameter(
        self, node: cst.BaseExpression, installed: bool = False
    ) -> object | None:
        """`db.Flow` where `db` is a parameter annotated with a class of the module's names
        (`def f(db: DBInterface)`): resolved through the annotation, as a type checker
        would (see `ProjectIndex.annotated`; `installed`: an installed class too). None
        otherwise."""
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
        symbol = self.index.annotated(self.summary, named, installed)
        return self.index.attributes(self.summary, symbol, tuple(reversed(parts)))

    def class_named(self, node: cst.BaseExpression) -> ClassSummary | None:
        """The project class `node` (a class expression or an annotation) names."""
        node = _unwrap_annotation(node)
        if node is None:
            return None
        symbols = self._symbols(node)
        if not symbols or len(symbols) != 1 or not isinstance(symbols[0], ClassSym):
            return None
        return symbols[0].cls

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
            return self._helper_site(call)
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
        return self._helper_site(call)

    def _helper_site(self, call: cst.Call) -> CreationSite | None:
        """A call of a project function or method that passes its arguments on into a new
        record (`helpers.forwarding`): `create_flow(**kw)`, `FlowService().create(...)`,
        `self.repo_method(...)`, `service.create(...)` with `service = FlowService()`."""
        from timestamp_lint import helpers

        if not any(
            arg.star == "**" or (arg.keyword is not None and arg.keyword.value in self.fields)
            for arg in call.args
        ):
            return None  # nothing it could give a timestamp field
        parts = _cst_parts(call.func)
        if parts is None or parts[-1] == CALL:
            return None
        head = call.func
        while isinstance(head, (cst.Attribute, cst.Call)):
            head = head.value if isinstance(head, cst.Attribute) else head.func
        target = None
        if self._symbols(head):  # a module-level name: resolved as the index would
            target = helpers.function_at(self.index, self.summary, parts)
        elif isinstance(head, cst.Name) and len(parts) == 2:  # self.create, service.create
            if self._clones is None:
                self._clones = CloneSemantics(self)
            owner = self._clones.record_class(head)
            found = helpers.method_of(self.index, owner, parts[1]) if owner else None
            module = self.index.summary(found[0].path) if found else None
            if found is not None and module is not None:
                target = (module, found[1], owner)
        if target is None:
            return None
        forward = helpers.forwarding(self.index, *target)
        if forward is None:
            return None
        # keywords named like the field they set, and `**mappings`: what the byte scan and
        # the first pass look for (a parameter named otherwise, or a positional argument,
        # is not followed)
        values: list[FieldValue] = []
        for arg in call.args:
            if arg.star == "**":
                if forward.kwargs:
                    values.extend(self.dict_values(arg.value, arg))
            elif arg.keyword is not None:
                name = arg.keyword.value
                if forward.params.get(name) == name:
                    values.append(FieldValue(name, arg.value, arg, arg, named=True))
                elif forward.kwargs and name not in forward.params:
                    values.append(FieldValue(name, arg.value, arg, arg))
        label = self.code(call.func)
        return CreationSite(forward.model, call, "helper", label, tuple(values), forward.label)

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
            position = self._insert_method(func)
            if position is not None:  # db.queries.insert(db.Flow): a method building it
                given = node.args[: position + 1]
                if len(given) == position + 1 and all(
                    a.keyword is None and not a.star for a in given
                ):
                    return self.model_of(given[position].value)
                return None
            node = func.value  # insert(M).returning(...).values(...)
        return None

    def _insert_method(self, func: cst.Attribute) -> int | None:
        """The position of the argument a method call `receiver.method(...)` passes to
        SQLAlchemy's `insert()` (`ProjectIndex.insert_argument`), when the receiver is an
        instance of a known class: a module-level name bound to one, or a parameter whose
        annotation leads to one (`db: DBInterface` with `db.queries` declared a
        `QueryComponents`)."""
        receiver = func.value
        symbols = self._symbols(receiver)
        if symbols is None and isinstance(receiver, cst.Attribute | cst.Name):
            symbols = [self._annotated_parameter(receiver, installed=True)]
        if not symbols or len(symbols) != 1 or not isinstance(symbols[0], InstanceSym):
            return None
        return self.index.insert_argument(symbols[0].cls, func.attr.value)

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
                    source = self._source_class(node.value)
                    if source is None or self.index.class_kind(source) is Kind.MODEL:
                        model = source.name if source is not None else None
                        return CopySource(node, node.attr.value, via, model)
                    # else: a DTO's own data (a dataclass, a Pydantic model): not a record
            elif isinstance(node, cst.Subscript):
                # `row["created_at"]`: a configured name is a timestamp wherever it is read;
                # a name learned from one model's columns (`timestamp`, `date`) is a key of
                # any dict too (a webhook's `commit["timestamp"]`), so only an attribute of
                # a record says it
                key = _subscript_key(node)
                if key in self.configured:
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
                func = node.func
                if isinstance(func, cst.Attribute) and func.attr.value in self.fields:
                    # `timezone.now().date()`: a method called, not a field read (a column's
                    # value is never called); its receiver and arguments may still copy one
                    stack.extend(reversed([arg.value for arg in node.args]))
                    stack.append(func.value)
                    continue
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

    def _source_class(self, node: cst.BaseExpression) -> ClassSummary | None:
        """The project class of the object a field is read from, when the code says it (a
        parameter's annotation, a local assigned from a constructor or a query)."""
        if not isinstance(node, cst.Name):
            return None
        if self._clones is None:
            self._clones = CloneSemantics(self)
        return self._clones.record_class(node)

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
                # `Model.objects.create(...)` has stored the record already: assigning to it
                # afterwards updates a stored row, as an `update()` would
                if site is not None and site.kind == "constructor":
                    return site.model, target
        return None


@dataclass(frozen=True)
class Clone:
    """A mapping (or a copy) that carries all of another record's columns."""

    what: str  # how the message shows it: "vars(src)", "project.to_dict()"
    source: cst.BaseExpression | None  # the record copied, when known
    removed: frozenset[str] = frozenset()  # timestamp keys popped or excluded on the way
    name: cst.Name | None = None  # the local holding the mapping, when there is one


class CloneSemantics:
    """TSL004's questions, asked of a file's `Semantics`: does this mapping carry another
    record's columns? What model is this record? Kept apart from `Semantics` so that the
    first rules' code paths stay as they are."""

    def __init__(self, semantics: Semantics) -> None:
        self.s = semantics

    # -- which class a record is ---------------------------------------------------------

    def record_class(self, node: cst.BaseExpression, depth: int = 0) -> ClassSummary | None:
        """The project class of the object `node` evaluates to, when the code says it: a
        parameter's annotation, `self` in a method, a local assigned from a constructor, a
        manager or query (`Model.objects.get(...)`, `session.get(Model, ...)`,
        `Model.query.get(...)`, `session.query(Model)....first()`), or `copy.copy(x)`."""
        if depth > 8:
            return None
        if isinstance(node, cst.Name):
            scope = self.s.scopes.get(node)
            if scope is None:
                return None
            for assignment in scope[node.value]:
                if isinstance(assignment, Assignment) and isinstance(assignment.node, cst.Param):
                    param = assignment.node
                    if param.annotation is not None:
                        return self.s.class_named(param.annotation.annotation)
                    return self._self_class(param)
            for value in self.s.reaching_values(node):
                found = self.record_class(value, depth + 1)
                if found is not None:
                    return found
            return None
        if isinstance(node, cst.Call):
            func = node.func
            cls = self.s.class_named(func)
            if cls is not None:
                return cls
            if self.s.external_name(func) in ("copy.copy", "copy.deepcopy") and node.args:
                return self.record_class(node.args[0].value, depth + 1)
            if isinstance(func, cst.Attribute):
                method = func.attr.value
                if method in ("get", "get_or_404", "first_or_404", "one_or_404") and node.args:
                    first = node.args[0].value
                    model = self.s.model_of(first)
                    if model is not None:
                        return model
                if method == "query" and node.args:
                    model = self.s.model_of(node.args[0].value)
                    if model is not None:
                        return model
                return self._queried(func.value, depth)
        return None

    def _queried(self, node: cst.BaseExpression, depth: int) -> ClassSummary | None:
        """`Model.objects.filter(...)`, `Model.query.filter_by(...)`, `session.query(Model)
        .filter(...)`: the model a chain of query calls returns records of."""
        for _ in range(MAX_TRACE):
            if isinstance(node, cst.Attribute):
                if node.attr.value in DJANGO_MANAGERS or node.attr.value == "query":
                    return self.s.model_of(node.value)
                node = node.value
            elif isinstance(node, cst.Call):
                func = node.func
                if isinstance(func, cst.Attribute) and func.attr.value == "query" and node.args:
                    return self.s.model_of(node.args[0].value)
                node = func
            else:
                return None
        return None

    def _self_class(self, param: cst.Param) -> ClassSummary | None:
        """The class of `self` (the first parameter of a method of a module-level class)."""
        function = self.s.parents.get(self.s.parents.get(param))
        function = (
            self.s.parents.get(function) if not isinstance(function, cst.FunctionDef) else function
        )
        if not isinstance(function, cst.FunctionDef):
            return None
        params = function.params.params
        if not params or params[0] is not param:
            return None
        if any(_decorator_name(d) in ("staticmethod", "classmethod") for d in function.decorators):
            return None
        owner = self.s.parents.get(self.s.parents.get(function))
        if not isinstance(owner, cst.ClassDef) or self.s.parents.get(owner) is not self.s.module:
            return None
        return self.s.summary.classes.get(owner.name.value)

    def record_model(self, node: cst.BaseExpression) -> ClassSummary | None:
        """The ORM model of the record `node` evaluates to, when the code says it."""
        cls = self.record_class(node)
        if cls is not None and self.s.index.class_kind(cls) is Kind.MODEL:
            return cls
        return None

    # -- mappings that carry a record's columns -------------------------------------------

    def clone(self, node: cst.BaseExpression, columns_method, depth: int = 0) -> Clone | None:
        """Whether the mapping `node` carries all the columns of another record: `vars(x)`,
        `x.__dict__`, `model_to_dict(x)`, `x.to_dict()` (when `columns_method(x, "to_dict")`
        says the method returns the columns), a comprehension over a model's columns,
        through `dict(...)`, `{**...}`, `.copy()` and local names."""
        if depth > MAX_TRACE:
            return None
        s = self.s
        if isinstance(node, cst.Name):
            values = s.reaching_values(node)
            if not values:
                return None
            found = self.clone(values[0], columns_method, depth + 1)
            if found is None:
                return None
            removed = found.removed | self._popped(node)
            return Clone(found.what, found.source, removed, found.name or node)
        if isinstance(node, cst.Attribute) and node.attr.value == "__dict__":
            return Clone(s.code(node), node.value)
        if isinstance(node, cst.Dict) and len(node.elements) == 1:
            element = node.elements[0]
            if isinstance(element, cst.StarredDictElement):
                return self.clone(element.value, columns_method, depth + 1)
            return None
        if isinstance(node, cst.DictComp):
            return self._comprehension(node)
        if not isinstance(node, cst.Call):
            return None
        func = node.func
        args = [a for a in node.args if not a.keyword and not a.star]
        if isinstance(func, cst.Name) and func.value in ("vars", "dict") and s._is_builtin(func):
            if len(node.args) == 1 and len(args) == 1:
                if func.value == "vars":
                    return Clone(s.code(node), args[0].value)
                return self.clone(args[0].value, columns_method, depth + 1)
            return None
        name = s.external_name(func)
        if name is not None and name.endswith(".model_to_dict") and name.startswith("django."):
            if args and not any(a.keyword for a in node.args):  # exclude= / fields=: chosen
                return Clone(s.code(node), args[0].value)
            return None
        if name in ("copy.copy", "copy.deepcopy") and len(args) == 1:
            return self.clone(args[0].value, columns_method, depth + 1)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "copy" and not node.args:
                return self.clone(func.value, columns_method, depth + 1)
            if dict_method(method) and not node.args and columns_method(func.value, method):
                return Clone(s.code(node), func.value)
        return None

    def _comprehension(self, node: cst.DictComp) -> Clone | None:
        """`{c.name: getattr(src, c.name) for c in Model.__table__.columns}` with no `if`
        that may drop the timestamps."""
        comp = node.for_in
        if comp.inner_for_in is not None:
            return None
        conditions = [self.s.code(i.test) for i in comp.ifs]
        if not keeps_timestamps(conditions, self.s.fields):
            return None
        iterable = comp.iter
        if (
            isinstance(iterable, cst.Call)
            and isinstance(iterable.func, cst.Attribute)
            and iterable.func.attr.value == "items"
            and not iterable.args
        ):  # `{k: v for k, v in vars(src).items() if not k.startswith("_")}`
            inner = self.clone(iterable.func.value, lambda record, method: False)
            if inner is None:
                return None
            return Clone(shorten_code(self.s.code(node)), inner.source)
        if not columns_iterable(self.s.code(iterable)):
            return None
        source = None
        value = node.value
        if (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Name)
            and value.func.value == "getattr"
            and value.args
        ):
            source = value.args[0].value
        return Clone(shorten_code(self.s.code(node)), source)

    def _popped(self, name: cst.Name) -> frozenset[str]:
        """Keys removed from the local mapping `name` in its function, anywhere:
        `name.pop("created_at", ...)`, `del name["created_at"]`, or given a new value,
        `name["created_at"] = ...` / `name.update(created_at=...)`."""
        scope = self.s.scopes.get(name)
        if scope is None:
            return frozenset()
        removed: set[str] = set()
        for access in scope.accesses[name.value]:
            node = access.node
            parent = self.s.parents.get(node)
            if isinstance(parent, cst.Attribute) and parent.value is node:
                call = self.s.parents.get(parent)
                if isinstance(call, cst.Call) and call.func is parent:
                    method = parent.attr.value
                    if method in ("pop", "__delitem__") and call.args:
                        key = string_value(call.args[0].value)
                        if key is not None:
                            removed.add(key)
                    elif method == "update":
                        removed.update(a.keyword.value for a in call.args if a.keyword)
                        for arg in call.args:
                            if isinstance(arg.value, cst.Dict):
                                removed.update(
                                    k
                                    for e in arg.value.elements
                                    if isinstance(e, cst.DictElement)
                                    and (k := string_value(e.key)) is not None
                                )
            elif isinstance(parent, cst.Subscript) and parent.value is node:
                key = _subscript_key(parent)
                holder = self.s.parents.get(parent)
                if key is not None and isinstance(holder, (cst.Del, cst.AssignTarget)):
                    removed.add(key)
        return frozenset(removed)


def _cst_parts(node: cst.BaseExpression) -> tuple[str, ...] | None:
    """`a.b().c` -> ("a", "b", "()", "c"), as `index.expr_parts` writes it."""
    parts: list[str] = []
    while True:
        if isinstance(node, cst.Name):
            parts.append(node.value)
            return tuple(reversed(parts))
        if isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        elif isinstance(node, cst.Call):
            parts.append(CALL)
            node = node.func
        else:
            return None


def shorten_code(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _decorator_name(decorator: cst.Decorator) -> str | None:
    node = decorator.decorator
    return node.value if isinstance(node, cst.Name) else None


def _unwrap_annotation(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """`Foo`, `mod.Foo`, `Optional[Foo]`, `Foo | None`: the class named."""
    if isinstance(node, cst.Subscript):
        head = node.value
        if (
            isinstance(head, (cst.Name, cst.Attribute))
            and (head.value if isinstance(head, cst.Name) else head.attr.value) == "Optional"
            and len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
        ):
            return _unwrap_annotation(node.slice[0].slice.value)
        return None
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        left, right = node.left, node.right
        if isinstance(right, cst.Name) and right.value == "None":
            return _unwrap_annotation(left)
        if isinstance(left, cst.Name) and left.value == "None":
            return _unwrap_annotation(right)
        return None
    if isinstance(node, (cst.Name, cst.Attribute)):
        return node
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


# What an iterable of a model's columns looks like, as written: `Model.__table__.columns`,
# `.__table__.c`, `.__mapper__.columns` / `.column_attrs` / `.attrs`, Django
# `._meta.fields` / `.concrete_fields` / `.get_fields()`, `inspect(x).attrs`,
# `inspect(x).mapper.column_attrs`, with `.keys()` / `.values()` or not.
COLUMNS_RE = re.compile(
    r"(?:__table__\.(?:columns|c)|__mapper__\.(?:columns|column_attrs|attrs)"
    r"|_meta\.(?:fields|concrete_fields|local_fields|local_concrete_fields|get_fields\(\))"
    r"|\binspect\(.*\)\.(?:attrs|column_attrs|mapper\.(?:column_attrs|columns|attrs)))"
    r"(?:\.(?:keys|values)\(\))?$"
)


def columns_iterable(text: str) -> bool:
    """Whether an iterable, as written, yields the columns of a model."""
    return COLUMNS_RE.search(" ".join(text.split())) is not None


def keeps_timestamps(conditions: Sequence[str], fields: frozenset[str]) -> bool:
    """Whether the `if` clauses of a comprehension or loop over columns keep the timestamp
    columns: only `startswith` tests that name no field (`not k.startswith("_")`) are known
    to; any other condition may be the filter that drops them (`k not in ("id", ...)`)."""
    return all(".startswith(" in c and not any(f in c for f in fields) for c in conditions)


__all__ = [
    "CALL",
    "PROVIDERS",
    "Clone",
    "CloneSemantics",
    "CopySource",
    "CreationSite",
    "FieldValue",
    "Semantics",
]
