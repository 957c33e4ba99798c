"""The cheap first pass: decide from the `ast` tree and the project index whether the LibCST
analysis could report anything in a file.

A LibCST parse with scope and qualified-name metadata costs about a hundred times what
`ast.parse` does, and most files that mention a timestamp field hold no finding: DTO builders,
queries, routers. This pass mirrors what the rules look for, resolving callees through the same
index, and answers "no" only where the rules would provably find nothing:

- TSL003: the index already knows each class's columns; `column_problems` is the rule's own
  judgement.
- TSL001: a call whose callee may be a model (resolved like the rule resolves it: module-level
  names through the index; function-level imports count as maybe; parameters, local variables
  and builtins never resolve to a model class) and which gives a timestamp field a value that
  may be copied (it reads a field, or names a local the rule might trace).
- TSL002: a field assigned (or `setattr`) on a name that is bound to a call's result in the
  function (or class, or module) that holds the assignment, with a value that may be copied.

Names are followed through the assignments of the function (or class) that holds the call:
the rules trace a name within its own scope, which lies inside it.

The tests run every fixture project with and without this pass and compare.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator
from pathlib import Path

from timestamp_lint import helpers
from timestamp_lint.detect import field_names
from timestamp_lint.ftypes import Config
from timestamp_lint.helpers import columns_text
from timestamp_lint.index import (
    ClassSummary,
    ModuleSummary,
    ProjectIndex,
    annotation,
    expr_parts,
    resolve_relative,
    show_expr,
)
from timestamp_lint.prefilter import ByteScan, Scanner, import_aliases
from timestamp_lint.rules.column_check import column_problems
from timestamp_lint.source import child_nodes, walk

MANAGER_METHODS = frozenset({"create", "get_or_create", "update_or_create"})
DICT_KEYWORDS = frozenset({"defaults", "create_defaults"})
MAX_TRACE = 32  # as `semantics.MAX_TRACE` (which imports LibCST): hops the rule follows

# an import below the top level: on an indented line, or after `:` / `;` on a line
# (`def f(): from app.models import Flow`)
_NESTED_IMPORT = re.compile(rb"(?:^[ \t]+|[:;][ \t]*)(?:from|import)[ \t]", re.MULTILINE)


class Prescreen:
    def __init__(self, index: ProjectIndex, config: Config) -> None:
        self.index = index
        self.config = config
        self.fields = frozenset(config.fields)  # with the declared ones, at the first scan
        self._scanner: Scanner | None = None
        # the file at hand
        self._tree = ast.Module(body=[], type_ignores=[])
        self._scoped = True  # names can be looked up by region
        self._any_nested_import = False
        self._copy_aliases: tuple[bytes, ...] = ()  # (see `_begin`)
        self._copy_names = {"copy", "deepcopy"}
        self._dict_aliases: set[str] = set()
        self._package = ""  # the package of the file at hand, for its relative imports
        self._tree_path: Path | None = None
        self._facts: dict[int, _RegionFacts] = {}
        self._node: ast.AST = self._tree  # the node at hand, and the facts of its region
        self._region: _RegionFacts | None = None
        self._starts: tuple[ast.Module, dict[int, list[tuple[int, int]]]] = (self._tree, {})

    def prepare(self) -> None:
        """Learn the field names the scan looks for (once: it reads the project's models)."""
        if self._scanner is None:
            self.fields = field_names(self.index)
            self._scanner = Scanner(self.fields, self.config.fields)

    def scan(self, data: bytes) -> ByteScan:
        """The byte-level pre-filter for the project's field names (`Scanner.scan`),
        remembered for the file at hand, which later stages ask about again."""
        self.prepare()
        assert self._scanner is not None
        return self._scanner.scan(data)

    def worth_analysing(
        self, data: bytes, tree: ast.Module, summary: ModuleSummary, codes: set[str]
    ) -> bool:
        """Whether LibCST could report anything here (see the module docstring)."""
        scan = self.scan(data)
        if "TSL003" in codes and any(
            column_problems(self.index, cls, self.config.update_fields)
            for cls in summary.classes.values()
        ):
            return True
        if "TSL004" in codes and scan.clone and self._may_clone(data, tree, summary):
            return True
        if not codes & {"TSL001", "TSL002"} or not scan.copy:
            return False
        self._begin(data, tree, summary)
        for node in _nodes_on_lines(tree, self._give_lines(data)):
            self._node, self._region = node, None
            if "TSL001" in codes and self._creates_with_copy(node, summary):
                return True
            if "TSL002" in codes and self._assigns_copy(node, summary):
                return True
        return False

    def focus(self, data: bytes, text: str, tree: ast.Module) -> tuple[str, list[int] | None]:
        """The source with every function that cannot matter left out, for LibCST, and the
        line of the file each of its lines comes from (None: the source is the file).

        A function (method, nested or not) whose lines hold no place where a field may get a
        value, and that is not itself a field (`@declared_attr def created_at`), is replaced
        by a one-line `pass`, and module-level assignments of constants are left out. When
        no value is given at module level, module-level assignments keep their targets but
        not their values (`X = ...`): the rules trace a name only in its own scope, and
        resolve names through the project index, which reads the whole file. The
        lines that stay keep their columns, and the line map gives them back their numbers,
        so findings point at the same places while LibCST parses and analyses a fraction of
        a large file. Names are traced within a function, and a module-level `def` binds no
        value the rules follow, so the rules see what they would see in the whole file. Only
        for reporting: fixes are made on the whole file.
        """
        lines = self._give_lines(data)
        if lines is None:
            return text, None
        source = text.split("\n")
        keep = [True] * len(source)
        for first, last in _constant_assignments(tree, lines):
            keep[first - 1 : last] = [False] * (last - first + 1)
        for value in _module_values(tree, lines):
            first, last = value.lineno, value.end_lineno or value.lineno
            if not keep[first - 1]:
                continue
            head = _cut(source[first - 1], value.col_offset)
            tail = source[last - 1][len(_cut(source[last - 1], value.end_col_offset or 0)) :]
            source[first - 1] = head + "..." + tail
            keep[first:last] = [False] * (last - first)
        for function in _functions(tree):
            first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
            last = function.end_lineno or function.lineno
            index = bisect.bisect_left(lines, first)
            if (index < len(lines) and lines[index] <= last) or function.name in self.fields:
                continue
            head = source[first - 1]
            source[first - 1] = head[: len(head) - len(head.lstrip())] + "pass"
            keep[first:last] = [False] * (last - first)
        kept = [number for number, flag in enumerate(keep) if flag]
        return "\n".join(source[number] for number in kept), [number + 1 for number in kept]

    def give_lines(self, data: bytes) -> list[int] | None:
        """See `_give_lines` (the engine trims a large module's tree with them)."""
        return self._give_lines(data)

    def _give_lines(self, data: bytes) -> list[int] | None:
        """Sorted line numbers of the places where a field may get a value, or None to look
        everywhere (lone carriage returns: the parser would number lines differently)."""
        if data.count(b"\r") != data.count(b"\r\n"):
            return None
        lines: list[int] = []
        line, previous = 1, 0
        for offset in self.scan(data).gives:
            line += data.count(b"\n", previous, offset)
            previous = offset
            if not lines or lines[-1] != line:
                lines.append(line)
        return lines

    # -- facts about the region of the file a name can be bound in -------------------------

    def _begin(self, data: bytes, tree: ast.Module, summary: ModuleSummary) -> None:
        """Start looking at the file `data`, parsed as `tree`."""
        self._tree, self._facts, self._package = tree, {}, summary.package()
        self._tree_path = summary.path
        # `global` binds a module-level name inside a function: then the module is the region
        self._scoped = b"global" not in data
        self._any_nested_import = _NESTED_IMPORT.search(data) is not None
        # the names copies are called by: `copy`, `deepcopy`, and what an import binds them
        # to (`from copy import copy as dup`), as the rules resolve them
        self._copy_aliases = import_aliases(data, b"copy")
        self._copy_names = {"copy", "deepcopy", *(a.decode() for a in self._copy_aliases)}
        self._dict_aliases = {a.decode() for a in import_aliases(data, b"model_to_dict")}

    def _facts_here(self) -> _RegionFacts:
        """The facts of the region holding the node at hand: the body of the function
        (method, top-level function) that holds it, or of the class, or else the whole
        module. A name used in a function or class body is bound in a scope inside it;
        module-level names can be bound anywhere (`global`), and so can every name of a
        file that says `global`."""
        if self._region is not None:
            return self._region
        position = (self._node.lineno, self._node.col_offset)
        region: ast.AST = self._tree
        body = self._tree.body if self._scoped else []
        while body:
            index = bisect.bisect_right(self._starts_of(body), position) - 1
            if index < 0:
                break
            statement = body[index]
            if not isinstance(
                statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ) or not (
                (statement.body[0].lineno, statement.body[0].col_offset)
                <= position
                <= (statement.end_lineno or 0, statement.end_col_offset or 0)
            ):
                break
            region = statement
            body = statement.body if isinstance(statement, ast.ClassDef) else []
        facts = self._facts.get(id(region))
        if facts is None:
            facts = self._facts[id(region)] = _RegionFacts(
                region, self._any_nested_import, self._package
            )
        self._region = facts
        return facts

    def _starts_of(self, body: list[ast.stmt]) -> list[tuple[int, int]]:
        """Where each statement of `body` starts, remembered for the tree at hand (asked
        for every node looked at: building it each time was quadratic in a module's
        statements)."""
        if self._starts[0] is not self._tree:
            self._starts = (self._tree, {})
        starts = self._starts[1].get(id(body))
        if starts is None:
            starts = self._starts[1][id(body)] = [(s.lineno, s.col_offset) for s in body]
        return starts

    @property
    def local_imports(self) -> dict[str, set[str | None]]:
        """Names imported below the module's top level in the current region, with what
        they may be bound to (see `_nested_import_names`)."""
        return self._facts_here().local_imports

    @property
    def values(self) -> dict[str, list[ast.expr]]:
        """Every value bound to each name in the current region."""
        return self._facts_here().values

    def _may_be_created(self, name: str, summary: ModuleSummary) -> bool:
        """Whether `name` is bound somewhere in the file to what may be a new record."""
        created = self._facts_here().created
        known = created.get(name)
        if known is None:
            values = self.values.get(name, ())
            known = created[name] = any(self._may_construct(v, summary) for v in values)
        return known

    # -- TSL004 ------------------------------------------------------------------------

    def _may_clone(self, data: bytes, tree: ast.Module, summary: ModuleSummary) -> bool:
        """Whether the file may copy a whole record: a `**mapping` given to what may be a
        model, `make_transient(...)` / `copy(...)` / `deepcopy(...)`, `x.pk = None` or
        `x.id = None`, or a loop over a model's columns. Only the statements on lines that
        hold one of the words these are written with are looked at (a walk of a whole
        large module costs more than parsing it)."""
        self._begin(data, tree, summary)
        self._scoped = True
        self._any_nested_import = True
        transient_aliases = import_aliases(data, b"make_transient")
        transients = {"make_transient", *(a.decode() for a in transient_aliases)}
        words = (*_CLONE_LINE_WORDS, *self._copy_aliases, *transient_aliases)
        for node in _nodes_on_lines(tree, _lines_of(data, words)):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in transients:
                    self._node, self._region = node, None
                    if self._record_expr(_first_argument(node), summary):
                        return True
                    continue
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and _called_name(node.value.func) in self._copy_names
                and len(node.value.args) + len(node.value.keywords) == 1  # not `d.copy()`
            ):
                # `new = copy.copy(obj)` matters only when `new` is then saved or added, and
                # `obj` may be a record
                self._node, self._region = node, None
                stored = self._facts_here().stored
                if any(
                    isinstance(t, ast.Name) and t.id in stored for t in node.targets
                ) and self._record_expr(_first_argument(node.value), summary):
                    return True
                continue
            if isinstance(node, ast.Call):
                stars = [k.value for k in node.keywords if k.arg is None]
                if stars:
                    self._node, self._region = node, None
                    # the callee is resolved last: resolving reads other modules (and makes
                    # the file's cached result depend on them)
                    if any(
                        self._may_be_mapping_clone(v, set(), None, summary) for v in stars
                    ) and self._may_be_model(func, summary):
                        model = self._model_called(func, summary)
                        if any(self._may_be_mapping_clone(v, set(), model, summary) for v in stars):
                            return True
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and node.value.value is None
            ):
                # `obj.pk = None` matters only when `obj` is then saved
                keys = [
                    t.value.id
                    for t in node.targets
                    if isinstance(t, ast.Attribute)
                    and t.attr in ("pk", "id")
                    and isinstance(t.value, ast.Name)
                ]
                self._node, self._region = node, None
                if keys and any(
                    key in self._facts_here().stored and self._may_be_record(key, node, summary)
                    for key in keys
                ):
                    return True
            elif (
                isinstance(node, ast.For | ast.AsyncFor)
                and columns_text(node.iter)
                and self._sets_each_of_new_record(node, summary)
            ):
                return True
        return False

    def _may_be_record(self, name: str, node: ast.AST, summary: ModuleSummary) -> bool:
        """Whether the local `name`, used in `node`, may hold a record of a model."""
        self._node, self._region = node, None
        return self._record_expr(ast.Name(id=name), summary)

    def _record_expr(self, node: ast.expr | None, summary: ModuleSummary, depth: int = 0) -> bool:
        """Whether `node` may evaluate to a record of a model as the rule tells one
        (`CloneSemantics.record_class`): a parameter (annotated, or `self`), a call of what
        may be a model, `copy.copy(x)` of one, `<...>.get(Model, ...)`, `session.query(Model)`
        or a chain of query calls on a model's manager or `query`, or a local bound to one
        of these (the iterable of a `for` too). A name bound to nothing else (a loop over
        another object's relation, a function's result) holds none the rule knows."""
        if node is None or depth > 8:
            return node is not None
        if isinstance(node, ast.Name):
            if self._is_parameter(node.id):
                return True
            return any(
                self._record_expr(element, summary, depth + 1)
                for value in self.values.get(node.id, ())
                for element in _with_elements(value)
            )
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if self._may_be_model(func, summary):
            return True
        if _called_name(func) in self._copy_names and node.args:
            return self._record_expr(node.args[0], summary, depth + 1)
        if not isinstance(func, ast.Attribute):
            return False
        first = _first_argument(node)
        if func.attr in _RECORD_GETTERS and self._may_name_model(first, summary):
            return True
        return self._may_be_queried(func.value, summary)

    def _may_be_queried(self, node: ast.expr, summary: ModuleSummary) -> bool:
        """`Model.objects.filter(...)`, `Model.query.filter_by(...)`, `session.query(Model)
        .filter(...)`: a chain of query calls that may return records of a model."""
        for _ in range(MAX_TRACE):
            if isinstance(node, ast.Attribute):
                if node.attr in helpers.DJANGO_MANAGERS or node.attr == "query":
                    return self._may_name_model(node.value, summary)
                node = node.value
            elif isinstance(node, ast.Call):
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr == "query"
                    and (node.args or node.keywords)
                ):
                    return self._may_name_model(_first_argument(node), summary)
                node = func
            else:
                return False
        return True  # deeper than the rule follows: let it decide

    def _may_name_model(self, node: ast.expr | None, summary: ModuleSummary) -> bool:
        """Whether `node` may name a model class (the rule's `model_of`: only a name or an
        attribute can)."""
        return isinstance(node, ast.Name | ast.Attribute) and self._may_be_model(node, summary)

    def _is_parameter(self, name: str) -> bool:
        """Whether `name` is a parameter of a function (or lambda) of the region."""
        return name in self._facts_here().parameters

    def _sets_each_of_new_record(
        self, loop: ast.For | ast.AsyncFor, summary: ModuleSummary
    ) -> bool:
        """Whether a loop over the columns may copy each into a new record as the rule's
        column loop does: its own body calls `setattr(new, ...)` in a statement of its own,
        on a local that may hold a new record, and nothing in it skips a column (no `if`,
        no `continue`: a loop that only reads the columns, or picks them, copies no
        timestamps the rule can tell)."""
        if any(isinstance(n, ast.If | ast.Continue) for s in loop.body for n in ast.walk(s)):
            return False
        for stmt in loop.body:
            call = stmt.value if isinstance(stmt, ast.Expr) else None
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "setattr"
                and len(call.args) + len(call.keywords) == 3
                and call.args
                and isinstance(call.args[0], ast.Name)
            ):
                self._node, self._region = loop, None
                if self._may_be_created(call.args[0].id, summary):
                    return True
        return False

    def _may_be_mapping_clone(
        self, node: ast.expr, seen: set[str], model: ClassSummary | None, summary: ModuleSummary
    ) -> bool:
        """Whether a `**mapping` given to `model` (None: not known here) may be one
        `CloneSemantics.clone` accepts: `vars(x)`, `dict(...)`, `x.__dict__`,
        `model_to_dict(x)`, `x.copy()`, `copy(x)`, a dict comprehension, `{**...}`, a
        `*_dict` method called without arguments that may return the columns (see
        `_may_return_columns`), or a local bound to one of these."""
        if isinstance(node, ast.Name):
            if node.id in seen:
                return False
            seen.add(node.id)
            return any(
                self._may_be_mapping_clone(v, seen, model, summary)
                for v in self.values.get(node.id, ())
            )
        if isinstance(node, ast.Attribute):
            return node.attr == "__dict__"
        if isinstance(node, ast.DictComp):
            return True
        if isinstance(node, ast.Dict):
            return len(node.keys) == 1 and node.keys[0] is None
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if (
                isinstance(func, ast.Attribute)
                and helpers.dict_method(name)
                and not (name == "model_to_dict" and (node.args or node.keywords))
            ):  # (Django's `forms.model_to_dict(x)` is a clone by its own name)
                return self._may_return_columns(node, func, model, summary)
            return (
                "dict" in name
                or name == "vars"
                or name in self._copy_names
                or name in self._dict_aliases
            )
        return False

    def _may_return_columns(
        self,
        call: ast.Call,
        func: ast.Attribute,
        model: ClassSummary | None,
        summary: ModuleSummary,
    ) -> bool:
        """Whether `record.to_dict()` may be taken for the record's columns, as the rule
        takes it: only without arguments, and when the method of the record's class (the
        created model's when the rule cannot tell the record's class: a name bound to a
        function's result) returns them (`helpers.returns_columns`)."""
        if call.args or call.keywords:
            return False
        if model is None or self._record_expr(func.value, summary):
            return True  # a record of a class the rule may know, or no model known here
        return helpers.returns_columns(self.index, model, func.attr, self.fields)

    # -- TSL001 ------------------------------------------------------------------------

    def _creates_with_copy(self, call: ast.AST, summary: ModuleSummary) -> bool:
        if not isinstance(call, ast.Call):
            return False
        if (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "values"
            and self._may_be_insert(call.func.value, summary)
        ):
            # insert(Model).values(...): the rule follows the chain to the insert
            rows = [arg for arg in call.args if not isinstance(arg, ast.Starred)]
            return self._keywords_may_copy(call) or any(self._rows_may_copy(r) for r in rows)
        # anything else (`update(Model).values(...)` too) is a constructor, a manager or a
        # helper to the rule, as any call
        if not any(
            k.arg is None or k.arg in DICT_KEYWORDS or k.arg in self.fields for k in call.keywords
        ):
            return False
        model = self._may_be_model(call.func, summary)
        if model and not _is_manager_call(call.func) and self._only_signalled(call):
            model = False  # an in-memory snapshot handed to a signal: no new row
        return (model or self._may_be_helper(call.func, summary)) and self._keywords_may_copy(call)

    def _only_signalled(self, call: ast.Call) -> bool:
        """`before = Model(...)` in a function, where `before` is then only tested (`if
        before and ...`), read (`before.name`) and passed by keyword to a signal's `send()`,
        as the rule's `only_signalled` tells (a snapshot of the old state, not a new row).
        Said only where the rule says it too: no use of the name in a nested scope, no
        `del`, `+=`, `global` or `nonlocal`."""
        facts = self._facts_here()
        region = facts.region
        if not isinstance(region, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        parents = facts.parents
        statement = parents.get(call)
        if not (
            isinstance(statement, ast.Assign)
            and statement.value is call
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            return False
        target = statement.targets[0]
        name = target.id
        sent = False
        for node in facts.nodes:
            if isinstance(node, ast.Global | ast.Nonlocal) and name in node.names:
                return False
            if not isinstance(node, ast.Name) or node.id != name or node is target:
                continue
            parent = parents.get(node)
            if _in_nested_scope(node, region, parents) or isinstance(parent, ast.AugAssign):
                return False  # `before += ...` reads it too
            if isinstance(node.ctx, ast.Store):
                continue  # another binding (`before = None`) is no use of the record
            if not isinstance(node.ctx, ast.Load):
                return False
            if isinstance(parent, ast.keyword) and parent.arg is not None:
                caller = parents.get(parent)
                if not (
                    isinstance(caller, ast.Call)
                    and isinstance(caller.func, ast.Attribute)
                    and caller.func.attr in ("send", "send_robust")
                ):
                    return False
                sent = True
            elif isinstance(parent, ast.Attribute):
                holder = parents.get(parent)
                if not isinstance(parent.ctx, ast.Load) or (
                    isinstance(holder, ast.Call) and holder.func is parent
                ):
                    return False  # `before.save()`, `before.x = ...`: used as a record
            elif not (
                (isinstance(parent, ast.If) and parent.test is node)
                or isinstance(parent, ast.BoolOp | ast.UnaryOp)
            ):
                return False
        return sent

    def _may_be_insert(self, node: ast.expr, summary: ModuleSummary) -> bool:
        """Whether the receiver of a `.values(...)` may be an insert, as the rule follows it
        (`Semantics._insert_target`): a chain of method calls down to `<...>.insert(...)`,
        or to a call of a name that may be an insert function (`insert(Model)`, imported
        under any alias). A chain down to `update(Model)`, `select(...)` or a bare name is
        no insert."""
        for _ in range(MAX_TRACE):
            if not isinstance(node, ast.Call):
                return False
            func = node.func
            if isinstance(func, ast.Name):
                # `from sqlalchemy import update`: a module-level import of something else,
                # not bound again in the function, is no insert
                name = func.id
                dotted = summary.imports.get(name)
                return (
                    summary.order.get(name) != "import"
                    or dotted is None
                    or dotted.rpartition(".")[2] == "insert"
                    or name in self.local_imports
                    or name in self.values
                )
            if not isinstance(func, ast.Attribute):
                return True  # something unusual: let the rule decide
            if func.attr == "insert":
                return True
            node = func.value
        return True  # deeper than the rule follows: let it decide

    def _may_be_helper(self, func: ast.expr, summary: ModuleSummary) -> bool:
        """Whether a callee may be a project function or method that passes its arguments
        on into a new record (`helpers.forwarding`), resolved as the rule resolves it."""
        parts = expr_parts(func)
        if parts is None:
            return True
        if parts[0] not in summary.order and not summary.stars:
            if parts[0] in self.local_imports and not self._bound_locally(parts[0]):
                return False  # the rule looks a helper up at the module's top level only
            return len(parts) == 2  # `self.create(...)`, `service.create(...)`: the rule looks
        target = helpers.function_at(self.index, summary, parts)
        return target is not None and helpers.forwarding(self.index, *target) is not None

    def _may_construct(self, value: ast.expr, summary: ModuleSummary) -> bool:
        """Whether a bound value may be a new record: a call of something that may be a model
        (or its manager's `create`), also as an element of a tuple being unpacked."""
        calls = value.elts if isinstance(value, ast.Tuple | ast.List) else [value]
        return any(
            isinstance(call, ast.Call) and self._may_be_model(call.func, summary) for call in calls
        )

    def _may_be_model(self, func: ast.expr, summary: ModuleSummary) -> bool:
        parts = _callee_parts(func)
        if parts is None:
            return True  # something unusual: let the rule decide
        head = parts[0]
        # imported inside a function (or an `if` / `try` block): the rule resolves what the
        # import names; it may also shadow a module-level name
        if any(self._imported_model(d, parts[1:]) for d in self.local_imports.get(head, ())):
            return True
        if head not in summary.order and not summary.stars:
            # a parameter, a local variable or a builtin: never a model class, unless a
            # parameter's annotation leads to one (`db: DBInterface` with `db.Flow`)
            return self._annotated_model(parts, summary)
        return self.index.model_class(self.index.resolve_expr(summary, parts)) is not None

    def _model_called(self, func: ast.expr, summary: ModuleSummary) -> ClassSummary | None:
        """The model `func` creates a record of, when it is a module-level name the index
        resolves (`Model`, `models.Model`, `Model.objects.create`); None when it may be
        another (a name imported in a function, a parameter's annotation) or none."""
        parts = _callee_parts(func)
        if parts is None or parts[0] in self.local_imports:
            return None
        if parts[0] not in summary.order and not summary.stars:
            return None
        return self.index.model_class(self.index.resolve_expr(summary, parts))

    def _imported_model(self, dotted: str | None, rest: tuple[str, ...]) -> bool:
        """Whether `dotted` (what an import inside the file binds) followed by `rest` may be
        a model, resolved as the rule resolves an imported name."""
        if dotted is None:
            return True  # a relative import the rule cannot place either: let it decide
        qualified = ".".join((dotted, *rest))
        symbol = self.index.resolve_qualname(qualified, self._tree_path)
        return self.index.model_class(symbol) is not None

    def _bound_locally(self, name: str) -> bool:
        """Whether `name` is bound in the region by other than an import: an assignment or
        a parameter (of any function in it)."""
        return name in self.values or self._is_parameter(name)

    def _annotated_model(self, parts: tuple[str, ...], summary: ModuleSummary) -> bool:
        """Whether `parts` starts at a parameter of the function at hand whose annotation
        leads to a model, as the rule resolves it (`ProjectIndex.annotated`)."""
        region = self._facts_here().region
        if not isinstance(region, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        arguments = region.args
        for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
            if arg.arg == parts[0] and arg.annotation is not None:
                named = annotation(arg.annotation)
                if named is None:
                    return False
                symbol = self.index.annotated(summary, named)
                symbol = self.index.attributes(summary, symbol, parts[1:])
                return self.index.model_class(symbol) is not None
        return False

    def _keywords_may_copy(self, call: ast.Call, seen: set[str] | None = None) -> bool:
        for keyword in call.keywords:
            if keyword.arg is None or keyword.arg in DICT_KEYWORDS:
                if self._dict_may_copy(keyword.value, seen):
                    return True
            elif keyword.arg in self.fields and self._may_copy(keyword.value):
                return True
        return False

    def _rows_may_copy(self, node: ast.expr) -> bool:
        if isinstance(node, ast.List | ast.Tuple):
            return any(self._dict_may_copy(element) for element in node.elts)
        return self._dict_may_copy(node)

    def _dict_may_copy(self, node: ast.expr, seen: set[str] | None = None) -> bool:
        """Whether a `**` argument, `defaults=` or `values()` row may hold a copied field.
        A name is followed through the values bound to it in the region (the rule traces
        it to a dict literal or `dict(...)` assigned in its own scope, which lies inside):
        a parameter (`**kwargs`) or a name bound only to other values gives no field."""
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None and self._dict_may_copy(value, seen):
                    return True
                if (
                    isinstance(key, ast.Constant)
                    and key.value in self.fields
                    and self._may_copy(value)
                ):
                    return True
            return False
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id == "dict":
                if any(self._dict_may_copy(arg, seen) for arg in node.args):
                    return True
                return self._keywords_may_copy(node, seen)
            return False
        if isinstance(node, ast.Name):
            seen = set() if seen is None else seen
            if node.id in seen:
                return False
            seen.add(node.id)
            return any(
                self._dict_may_copy(value, seen)
                for bound in self.values.get(node.id, ())
                for value in _with_elements(bound)
            )
        return False

    def _may_copy(self, node: ast.expr, seen: set[str] | None = None) -> bool:
        """Whether a value may derive from another object's timestamp field, following the
        names it uses through every assignment to them in the file (scopes ignored, which
        can only say yes more often than the rule's own tracing)."""
        seen = set() if seen is None else seen
        for child in ast.walk(node):
            if isinstance(child, ast.Attribute) and child.attr in self.fields:
                return True
            if isinstance(child, ast.Constant) and child.value in self.fields:
                return True
            if isinstance(child, ast.Name) and child.id not in seen:
                seen.add(child.id)
                if any(self._may_copy(v, seen) for v in self.values.get(child.id, ())):
                    return True
        return False

    # -- TSL002 ------------------------------------------------------------------------

    def _assigns_copy(self, node: ast.AST, summary: ModuleSummary) -> bool:
        """`record.created_at = <copy>` or `setattr(record, "created_at", <copy>)` where
        `record` may have been created from a model."""
        if isinstance(node, ast.Call) and _is_setattr(node, self.fields):
            record, value = node.args[0], node.args[2]
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Attribute)
            and node.targets[0].attr in self.fields
        ):
            record, value = node.targets[0].value, node.value
        else:
            return False
        return (
            isinstance(record, ast.Name)
            and self._may_copy(value)
            and self._may_be_created(record.id, summary)
        )

    # -- blind spots (not a judgement: what the rules could not check) --------------------

    def unresolved_sites(
        self, data: bytes, tree: ast.Module, summary: ModuleSummary
    ) -> list[tuple[int, int, str, str]]:
        """Calls that may give a timestamp field another record's value but whose callee, a
        name of the module's top level, did not resolve (the rules cannot judge them):
        (line, column, callee, where resolution stopped)."""
        if not self.scan(data).copy:
            return []
        self._begin(data, tree, summary)
        found = []
        for node in _nodes_on_lines(tree, self._give_lines(data)):
            if not isinstance(node, ast.Call) or not any(
                k.arg in self.fields for k in node.keywords
            ):
                continue
            parts = expr_parts(node.func)
            if parts is None or parts[0] not in summary.order:
                continue  # a local name or a builtin: not a name the index resolves
            if len(parts) >= 3 and parts[-1] in MANAGER_METHODS:
                parts = parts[:-2]
            self._node, self._region = node, None
            if not self._keywords_may_copy(node):
                continue
            if parts[0] in self.local_imports or parts[0] in self.values:
                continue  # bound in the function too: not the module-level name
            why = self.index.unresolved_at(summary, parts)
            if why is not None:
                found.append((node.lineno, node.col_offset + 1, show_expr(parts), why))
        return found


_STORES = frozenset({"add", "add_all", "merge", "bulk_save_objects"})
# `<...>.get(Model, pk)`, `Model.query.get(pk)`, `session.query(Model)`: what a record is read by
_RECORD_GETTERS = frozenset({"get", "get_or_404", "first_or_404", "one_or_404", "query"})


def _is_manager_call(func: ast.expr) -> bool:
    """`Model.objects.create(...)` and its kin: no constructor."""
    parts = expr_parts(func)
    return parts is not None and len(parts) >= 3 and parts[-1] in MANAGER_METHODS


def _in_nested_scope(node: ast.AST, region: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether `node` lies in a function, lambda, class or comprehension inside `region`."""
    scopes = (
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.Lambda,
        ast.ClassDef,
        ast.ListComp,
        ast.SetComp,
        ast.DictComp,
        ast.GeneratorExp,
    )
    parent = parents.get(node)
    while parent is not None and parent is not region:
        if isinstance(parent, scopes):
            return True
        parent = parents.get(parent)
    return False


def _first_argument(call: ast.Call) -> ast.expr | None:
    """The value of the call's first argument, keyword or not (LibCST's `args[0]`)."""
    if call.args:
        return call.args[0]
    return call.keywords[0].value if call.keywords else None


def _with_elements(value: ast.expr) -> Iterator[ast.expr]:
    """A bound value and, in a tuple or list, its elements at any depth: `a, b = {...}, x`
    binds `a` to the element the rule picks (`_element_for`)."""
    stack = [value]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.Tuple | ast.List):
            stack.extend(e.value if isinstance(e, ast.Starred) else e for e in node.elts)


# the words on a line that `_may_clone` looks at: each thing it accepts has one of them on
# one of its lines, however spaced (`**`, the callee `make_transient`, `copy` / `deepcopy`,
# the `None` of `x.pk = None`, the columns a loop iterates)
_CLONE_LINE_WORDS = (b"**", b"make_transient", b"copy", b"None", b"__", b"_meta", b"inspect")


def _lines_of(data: bytes, words: tuple[bytes, ...]) -> list[int] | None:
    """Sorted numbers of the lines holding one of `words`; None (every line) when lone
    carriage returns would make the parser number lines differently."""
    if data.count(b"\r") != data.count(b"\r\n"):
        return None
    offsets = []
    for word in words:
        start = data.find(word)
        while start >= 0:
            offsets.append(start)
            start = data.find(b"\n", start + len(word))  # the rest of this line is in
            if start < 0:
                break
            start = data.find(word, start)
    lines: list[int] = []
    line, previous = 1, 0
    for offset in sorted(offsets):
        line += data.count(b"\n", previous, offset)
        previous = offset
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _callee_parts(func: ast.expr) -> tuple[str, ...] | None:
    """The dotted parts of a callee, the model's for a manager call (`Model.objects.create`
    -> `Model`); None for anything else than a dotted name."""
    parts = expr_parts(func)
    if parts is not None and len(parts) >= 3 and parts[-1] in MANAGER_METHODS:
        parts = parts[:-2]
    return parts


def _called_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _stored_names(nodes: list[ast.AST]) -> set[str]:
    """Local names saved (`x.save()`) or handed to `session.add(x)` & co among a region's
    `nodes`: what TSL004 asks of a copied record or of one whose key is set to None (in the
    same function: the region holds it)."""
    names: set[str] = set()
    for node in nodes:
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr == "save" and isinstance(node.func.value, ast.Name):
            names.add(node.func.value.id)
        elif node.func.attr in _STORES:
            names.update(a.id for a in node.args if isinstance(a, ast.Name))
    return names


class _RegionFacts:
    """What the first pass asks about the region of a file a name can be bound in, each
    computed on first use."""

    def __init__(self, region: ast.AST, any_nested_import: bool, package: str) -> None:
        self.region = region
        self._any_nested_import = any_nested_import
        self._package = package
        self._nodes: list[ast.AST] | None = None
        self._values: dict[str, list[ast.expr]] | None = None
        self._local_imports: dict[str, set[str | None]] | None = None
        self._stored: set[str] | None = None
        self._parameters: frozenset[str] | None = None
        self._parents: dict[ast.AST, ast.AST] | None = None
        self.created: dict[str, bool] = {}  # name -> may be bound to a new record

    @property
    def nodes(self) -> list[ast.AST]:
        """Every node of the region, walked once for all the questions below."""
        if self._nodes is None:
            self._nodes = walk(self.region)
        return self._nodes

    @property
    def values(self) -> dict[str, list[ast.expr]]:
        if self._values is None:
            self._values = _assigned_values(self.nodes)
        return self._values

    @property
    def local_imports(self) -> dict[str, set[str | None]]:
        if self._local_imports is None:
            self._local_imports = (
                _nested_import_names(self.region, self.nodes, self._package)
                if self._any_nested_import
                else {}
            )
        return self._local_imports

    @property
    def stored(self) -> set[str]:
        """Local names the region saves or hands to `session.add(...)` & co."""
        if self._stored is None:
            self._stored = _stored_names(self.nodes)
        return self._stored

    @property
    def parents(self) -> dict[ast.AST, ast.AST]:
        """Each node of the region (but the region) -> the node holding it."""
        if self._parents is None:
            self._parents = {child: node for node in self.nodes for child in child_nodes(node)}
        return self._parents

    @property
    def parameters(self) -> frozenset[str]:
        """The parameters of every function (and lambda) of the region."""
        if self._parameters is None:
            self._parameters = frozenset(n.arg for n in self.nodes if isinstance(n, ast.arg))
        return self._parameters


def _cut(line: str, byte_column: int) -> str:
    """The part of `line` before `ast`'s column (a UTF-8 byte offset)."""
    return line.encode("utf-8", "surrogatepass")[:byte_column].decode("utf-8", "surrogatepass")


def _module_values(tree: ast.Module, lines: list[int]) -> Iterator[ast.expr]:
    """The values of module-level assignments, when no line where a field may get a value
    lies at module level: then no rule traces a module-level value (a use in a function
    or class body follows only that body's own assignments). A line in a function's or
    class's header (decorators, defaults, bases) counts as module level."""
    bodies = []  # (first, last) lines of function and class bodies below their headers
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            header = [stmt.lineno, *(n.end_lineno or 0 for n in _header_nodes(stmt))]
            if stmt.body[0].lineno > max(header):
                bodies.append((stmt.body[0].lineno, stmt.end_lineno or stmt.lineno))
    starts = [first for first, _ in bodies]  # in order, and bodies do not overlap
    for line in lines:
        index = bisect.bisect_right(starts, line) - 1
        if index < 0 or line > bodies[index][1]:
            return
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign) and stmt.value:
            yield stmt.value


def _header_nodes(stmt: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[ast.AST]:
    if isinstance(stmt, ast.ClassDef):
        return [*stmt.decorator_list, *stmt.bases, *stmt.keywords]
    args = stmt.args
    parts: list[ast.AST] = [*stmt.decorator_list, *args.defaults]
    parts += [d for d in args.kw_defaults if d is not None]
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    parts += [a.annotation for a in every if a is not None and a.annotation is not None]
    return [*parts, stmt.returns] if stmt.returns is not None else parts


def _constant_assignments(tree: ast.Module, lines: list[int]):
    """(first, last) lines of module-level assignments of constants (`MAX = 10`,
    `CODES = ("a", "b")`) that share no line with another statement and hold no candidate:
    they bind nothing a rule resolves or traces, and generated modules are made of them."""
    body = tree.body
    for position, stmt in enumerate(body):
        if not isinstance(stmt, ast.Assign | ast.AnnAssign) or stmt.value is None:
            continue
        first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
        if position > 0 and (body[position - 1].end_lineno or 0) >= first:
            continue
        if position + 1 < len(body) and body[position + 1].lineno <= last:
            continue
        index = bisect.bisect_left(lines, first)
        if index < len(lines) and lines[index] <= last:
            continue
        if all(isinstance(n, _CONSTANT_NODES) for n in ast.walk(stmt.value)):
            yield first, last


_CONSTANT_NODES = (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.expr_context)


def _functions(tree: ast.Module):
    """Functions defined at module level, in classes, or under module-level `if`/`try`/
    `with` (nested functions go with their enclosing function)."""
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node
        elif isinstance(node, ast.ClassDef | ast.If | ast.Try | ast.With):
            for name in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(reversed(getattr(node, name, [])))
        elif isinstance(node, ast.ExceptHandler):
            stack.extend(reversed(node.body))


def _is_setattr(call: ast.Call, fields: frozenset[str]) -> bool:
    """`setattr(x, "created_at", value)`."""
    return (
        isinstance(call.func, ast.Name)
        and call.func.id == "setattr"
        and len(call.args) == 3
        and isinstance(call.args[1], ast.Constant)
        and call.args[1].value in fields
    )


def _nodes_on_lines(tree: ast.Module, lines: list[int] | None):
    """The nodes whose line span holds one of `lines` (all nodes when `lines` is None),
    found without walking the subtrees that hold none."""
    if lines is None:
        yield from walk(tree)
        return
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        start = getattr(node, "lineno", None)
        if start is not None:
            index = bisect.bisect_left(lines, start)
            if index == len(lines) or lines[index] > (node.end_lineno or start):
                continue
        yield node
        stack.extend(child_nodes(node))


def _nested_import_names(
    region: ast.AST, nodes: list[ast.AST], package: str
) -> dict[str, set[str | None]]:
    """Names bound by imports below the module's top level (inside functions, classes,
    `if` or `try` blocks), each with the absolute dotted names it may be bound to, as
    LibCST's qualified names give them (`import a.b` binds `a` to `a`; `from .m import x`
    in package `p` binds `x` to `p.m.x`); None where a relative import leaves the package."""
    top = set(map(id, region.body)) if isinstance(region, ast.Module) else set()
    names: dict[str, set[str | None]] = {}
    for node in nodes:
        if isinstance(node, ast.Import) and id(node) not in top:
            for alias in node.names:
                name = alias.asname or alias.name.partition(".")[0]
                names.setdefault(name, set()).add(alias.name if alias.asname else name)
        elif isinstance(node, ast.ImportFrom) and id(node) not in top:
            source = resolve_relative(package, node.module, node.level)
            for alias in node.names:
                dotted = None if source is None else f"{source}.{alias.name}"
                names.setdefault(alias.asname or alias.name, set()).add(dotted)
    return names


_BINDERS = frozenset(
    {ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor}
    | {ast.comprehension, ast.withitem}
)


def _assigned_values(nodes: list[ast.AST]) -> dict[str, list[ast.expr]]:
    """Every value any assignment among a region's `nodes` binds to each name: `x = v`, `a, b = v`
    (both get all of v), `x: T = v`, `x += v`, `(x := v)`, `for x in v`, `with v as x`.
    Imports, parameters and definitions bind no value the rules could trace to a copy."""
    values: dict[str, list[ast.expr]] = {}

    def bind(target: ast.expr, value: ast.expr | None) -> None:
        if value is None:
            return
        if target.__class__ is ast.Name:  # most targets: no walk
            values.setdefault(target.id, []).append(value)  # type: ignore[attr-defined]
            return
        for node in walk(target):
            if isinstance(node, ast.Name):
                values.setdefault(node.id, []).append(value)

    for node in nodes:
        if node.__class__ not in _BINDERS:  # most nodes (trees from `ast.parse`: exact types)
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind(target, node.value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
            bind(node.target, node.value)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            bind(node.target, node.iter)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            bind(node.optional_vars, node.context_expr)
    return values
