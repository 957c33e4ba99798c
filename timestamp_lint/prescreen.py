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
- TSL002: a field assigned (or `setattr`) on a name that is bound to a call's result somewhere
  in the file, with a value that may be copied.

The tests run every fixture project with and without this pass and compare.
"""

from __future__ import annotations

import ast

from timestamp_lint.ftypes import Config
from timestamp_lint.index import ModuleSummary, ProjectIndex, expr_parts
from timestamp_lint.rules.tsl003 import column_problems

MANAGER_METHODS = frozenset({"create", "get_or_create", "update_or_create"})
DICT_KEYWORDS = frozenset({"defaults", "create_defaults"})


class Prescreen:
    def __init__(self, index: ProjectIndex, config: Config) -> None:
        self.index = index
        self.config = config
        self.fields = frozenset(config.fields)
        self._values: dict[str, list[ast.expr]] = {}

    def worth_analysing(self, tree: ast.Module, summary: ModuleSummary, codes: set[str]) -> bool:
        if "TSL003" in codes and any(
            column_problems(self.index, cls, self.config.update_fields)
            for cls in summary.classes.values()
        ):
            return True
        if not codes & {"TSL001", "TSL002"}:
            return False
        local_imports = _nested_import_names(tree)
        self._values = _assigned_values(tree)
        created = {
            name
            for name, values in self._values.items()
            if any(self._may_construct(v, summary, local_imports) for v in values)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if "TSL001" in codes and self._creates_with_copy(node, summary, local_imports):
                    return True
                if "TSL002" in codes and self._setattr_copy(node, created):
                    return True
            elif (
                isinstance(node, ast.Assign)
                and "TSL002" in codes
                and any(self._created_field(t, created) for t in node.targets)
                and self._may_copy(node.value)
            ):
                return True
        return False

    # -- TSL001 ------------------------------------------------------------------------

    def _creates_with_copy(
        self, call: ast.Call, summary: ModuleSummary, local_imports: set[str]
    ) -> bool:
        if isinstance(call.func, ast.Attribute) and call.func.attr == "values":
            # insert(Model).values(...): the rule follows the chain to the insert
            rows = [arg for arg in call.args if not isinstance(arg, ast.Starred)]
            return self._keywords_may_copy(call) or any(self._rows_may_copy(r) for r in rows)
        if not self._keywords_may_copy(call):
            return False
        return self._may_be_model(call.func, summary, local_imports)

    def _may_construct(self, value: ast.expr, summary: ModuleSummary, local_imports) -> bool:
        """Whether a bound value may be a new record: a call of something that may be a model
        (or its manager's `create`), also as an element of a tuple being unpacked."""
        calls = value.elts if isinstance(value, ast.Tuple | ast.List) else [value]
        return any(
            isinstance(call, ast.Call) and self._may_be_model(call.func, summary, local_imports)
            for call in calls
        )

    def _may_be_model(self, func: ast.expr, summary: ModuleSummary, local_imports) -> bool:
        parts = expr_parts(func)
        if parts is None:
            return True  # something unusual: let the rule decide
        if len(parts) >= 3 and parts[-1] in MANAGER_METHODS:
            parts = parts[:-2]  # Model.objects.create -> Model
        head = parts[0]
        if head in local_imports:
            return True  # imported inside a function: may shadow a module-level name
        if head not in summary.order and not summary.stars:
            return False  # a parameter, a local variable or a builtin: never a model class
        return self.index.model_class(self.index.resolve_expr(summary, parts)) is not None

    def _keywords_may_copy(self, call: ast.Call) -> bool:
        for keyword in call.keywords:
            if keyword.arg is None or keyword.arg in DICT_KEYWORDS:
                if self._dict_may_copy(keyword.value):
                    return True
            elif keyword.arg in self.fields and self._may_copy(keyword.value):
                return True
        return False

    def _rows_may_copy(self, node: ast.expr) -> bool:
        if isinstance(node, ast.List | ast.Tuple):
            return any(self._dict_may_copy(element) for element in node.elts)
        return self._dict_may_copy(node)

    def _dict_may_copy(self, node: ast.expr) -> bool:
        """Whether a `**` argument, `defaults=` or `values()` row may hold a copied field."""
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None and self._dict_may_copy(value):
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
                if any(self._dict_may_copy(arg) for arg in node.args):
                    return True
                return self._keywords_may_copy(node)
            return False
        return isinstance(node, ast.Name)  # a dict built earlier: the rule traces it

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
                if any(self._may_copy(v, seen) for v in self._values.get(child.id, ())):
                    return True
        return False

    # -- TSL002 ------------------------------------------------------------------------

    def _created_field(self, target: ast.expr, created: set[str]) -> bool:
        return (
            isinstance(target, ast.Attribute)
            and target.attr in self.fields
            and isinstance(target.value, ast.Name)
            and target.value.id in created
        )

    def _setattr_copy(self, call: ast.Call, created: set[str]) -> bool:
        return (
            isinstance(call.func, ast.Name)
            and call.func.id == "setattr"
            and len(call.args) == 3
            and isinstance(call.args[0], ast.Name)
            and call.args[0].id in created
            and isinstance(call.args[1], ast.Constant)
            and call.args[1].value in self.fields
            and self._may_copy(call.args[2])
        )


def _nested_import_names(tree: ast.Module) -> set[str]:
    """Names bound by imports below the module's top level (inside functions, classes)."""
    top = set(map(id, tree.body))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top:
            for alias in node.names:
                names.add((alias.asname or alias.name).partition(".")[0])
    return names


def _assigned_values(tree: ast.Module) -> dict[str, list[ast.expr]]:
    """Every value any assignment in the file binds to each name: `x = v`, `a, b = v`
    (both get all of v), `x: T = v`, `x += v`, `(x := v)`, `for x in v`, `with v as x`.
    Imports, parameters and definitions bind no value the rules could trace to a copy."""
    values: dict[str, list[ast.expr]] = {}

    def bind(target: ast.expr, value: ast.expr | None) -> None:
        if value is None:
            return
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                values.setdefault(node.id, []).append(value)

    for node in ast.walk(tree):
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
