from __future__ import annotations

import libcst as cst
from libcst.metadata import Scope

from timestamp_lint import helpers
from timestamp_lint.detect import is_field_of
from timestamp_lint.index import ClassSummary, Kind
from timestamp_lint.rules.base import Rule, shorten
from timestamp_lint.semantics import Clone, CloneSemantics, columns_iterable

MAKE_TRANSIENT = frozenset(
    {"sqlalchemy.orm.make_transient", "sqlalchemy.orm.session.make_transient"}
)
COPY = frozenset({"copy.copy", "copy.deepcopy"})
ADDS = frozenset({"add", "add_all", "merge", "bulk_save_objects"})


def _listed(fields: list[str]) -> str:
    quoted = [f"'{f}'" for f in fields]
    if len(quoted) == 1:
        return f"its {quoted[0]} timestamp"
    return f"its {', '.join(quoted[:-1])} and {quoted[-1]} timestamps"


class NewRecordCloned(Rule):
    code = "TSL004"
    name = "new-record-cloned-with-timestamps"
    summary = "A new record is cloned from another with the source's timestamps"
    doc = """\
## What it does
Checks for new ORM records built from *all* of another record's columns, timestamps
included:

- `Model(**data)` or `Model.objects.create(**data)` where the mapping is `vars(src)`,
  `src.__dict__`, Django's `model_to_dict(src)`, a model method such as `src.to_dict()`
  whose body returns the columns, or a comprehension over `Model.__table__.columns`,
  `__mapper__.columns`, `_meta.fields` or `inspect(src).attrs`;
- `for c in Model.__table__.columns: setattr(new, c.name, getattr(old, c.name))` on a
  record created in the same function;
- SQLAlchemy's `make_transient(obj)`, and `copy.copy(obj)` / `copy.deepcopy(obj)` added
  to a session or saved, which insert the old record's values as a new row;
- Django's `obj.pk = None` (or `obj.id = None`) followed by `obj.save()`.

Only the model's timestamp columns that the new row would really keep count: a mapping
whose timestamp keys are popped (`data.pop("created_at")`), deleted, given new values,
excluded (`model_to_dict(src, exclude=[...])`) or filtered out by the comprehension's `if`
is not reported, and neither are Django `auto_now` / `auto_now_add` fields, which Django
stamps on every insert whatever the instance holds.

## Why is this bad?
The clone claims to have been created (and last updated) when its source was. It is the
bug of TSL001 in its most common real form: nothing in the code names the timestamp, so
it is easy to miss in review.

## Example
```python
def duplicate(project: Project) -> Project:
    data = project.to_dict()
    data.pop("id")
    return Project(**data)
```

## Use instead
```python
def duplicate(project: Project) -> Project:
    data = project.to_dict()
    for key in ("id", "created_at", "updated_at"):
        data.pop(key, None)
    return Project(**data)
```

## Fix safety
Where leaving the timestamps out is unambiguous, `--fix --unsafe-fixes` does it, and
changes nothing else:

- `Model(**X)`, X a mapping of the record (`vars(src)`, `src.__dict__`,
  `model_to_dict(src)`, `src.to_dict()`, a local holding one):
  `Model(**{k: v for k, v in X.items() if k not in ("created_at", "updated_at")})`. The
  call gets the same pairs in the same order, minus those keys; X itself is not changed,
  so code that uses a local mapping afterwards still sees it whole;
- a comprehension over the columns (`{c.name: ... for c in Model.__table__.columns}`)
  gets `if c.name not in (...)` (or `and c.name not in (...)` after its own condition);
- a loop that only does `setattr(new, c.name, getattr(old, c.name))` gets
  `if c.name in (...): continue` before it.

The keys are the ones the message names, timestamp fields learned from the model's
columns included. The fix is unsafe: which keys a mapping holds is judged from how it is
built, and the new record stops receiving the source's values for them (a column without
an insert default that stamps the time then gets NULL; the fix message says so).

There is no fix for a local mapping bound on more than one path, a loop that does more than
copy, `make_transient`, `copy.copy` then `add`, or Django's `pk = None` then `save()`: where
the timestamps should be reset depends on the code around the copy, and the message says
what to do.
"""

    def __init__(self, context) -> None:
        super().__init__(context)
        self.clones = CloneSemantics(self.semantics)
        self.index = self.semantics.index

    # -- the model's columns a clone keeps --------------------------------------------------

    def _kept(self, model: ClassSummary, drop: frozenset[str] = frozenset()) -> list[str]:
        """The model's timestamp columns a new row built from a copy would keep."""
        columns = self.index.model_info(model).columns
        kept = []
        for name, info in columns.items():
            if name in drop or not is_field_of(self.index, model, name):
                continue
            if info.kind == "django" and info.insert_default in (
                "auto_now=True",
                "auto_now_add=True",
            ):
                continue  # Django stamps these on every insert
            kept.append(name)
        return sorted(kept)

    def _columns_method(self, model: ClassSummary):
        def returns_columns(record: cst.BaseExpression, method: str) -> bool:
            cls = self.clones.record_class(record) or model
            return helpers.returns_columns(self.index, cls, method, self.semantics.fields)

        return returns_columns

    # -- Model(**mapping) ---------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        site = self.semantics.creation_site(node)
        if site is not None:
            if site.kind == "constructor" or site.label.endswith(".create"):
                self._mapping_clone(node, site.model, site.label)
            return
        name = self.semantics.external_name(node.func)
        if name in MAKE_TRANSIENT and node.args:
            self._transient(node, node.args[0].value)
        elif name in COPY and len(node.args) == 1:
            self._copied(node, node.args[0].value, name)

    def _mapping_clone(self, call: cst.Call, model: ClassSummary, label: str) -> None:
        given = {a.keyword.value for a in call.args if a.keyword is not None}
        for arg in call.args:
            if arg.star != "**":
                continue
            clone = self.clones.clone(arg.value, self._columns_method(model))
            if clone is None:
                continue
            source = clone.source
            if source is not None:
                source_model = self.clones.record_class(source)
                if (
                    source_model is not None
                    and self.index.class_kind(source_model) is not Kind.MODEL
                ):
                    continue  # the data of a DTO, not of another record
            kept = self._kept(model, clone.removed | given)
            if not kept:
                continue
            shown = shorten(self.semantics.code(arg.value), 40)
            origin = "" if shown == clone.what else f" ({shorten(clone.what, 50)})"
            record = "another record"
            if source is not None and (of := self.clones.record_model(source)) is not None:
                record = f"another {of.name} record"
            if clone.name is not None:
                pops = ", ".join(f"{clone.name.value}.pop({k!r}, None)" for k in kept)
                advice = f"drop {'it' if len(kept) == 1 else 'them'} first ({pops})"
            else:
                advice = "build the mapping without them"
            rewrite, fix_message = self._mapping_fix(arg.value, kept, shown)
            self.report(
                arg,
                f"{label}(**{shown}) clones {record}{origin} with {_listed(kept)}; "
                f"{advice} so the column defaults stamp the current time",
                model=model,
                field=kept[0],
                rewrite=rewrite,
                fix_message=fix_message,
                unsafe_reason=self._unsafe_reason(model, kept, MAPPING_REASON),
            )

    def _mapping_fix(self, value: cst.BaseExpression, kept: list[str], shown: str):
        """The rewrite of `**value` that leaves the `kept` keys out, and its message; (None,
        None) where no rewrite is unambiguous."""
        if not _keys_writable(kept):
            return None, None
        names = _names(kept)
        if isinstance(value, cst.DictComp) and _filterable(value):
            key = _code(value.key)
            return (
                lambda arg: arg.with_changes(value=_filter_comprehension(arg.value, kept)),
                f"Leave {names} out with `{'and' if value.for_in.ifs else 'if'} "
                f"{_membership_code(key, kept, True)}` in the comprehension",
            )
        if not isinstance(value, WRAPPABLE):
            return None, None
        if isinstance(value, cst.Name) and len(self.semantics.reaching_values(value)) != 1:
            return None, None  # which mapping reaches the call depends on the path taken
        return (
            lambda arg: arg.with_changes(value=_filter_mapping(arg.value, kept)),
            f"Leave {names} out: `**{{k: v for k, v in {shorten(shown, 30)}.items() "
            f"if {_membership_code('k', kept, True)}}}`",
        )

    def _unsafe_reason(self, model: ClassSummary, kept: list[str], reason: str) -> str:
        """Why a TSL004 fix is unsafe: the keys are judged from how the copy is built, and a
        column without an insert default that stamps the time would get NULL."""
        columns = self.index.model_info(model).columns
        bare = [k for k in kept if not (k in columns and columns[k].stamps_now)]
        if bare:
            reason += (
                f"; {', '.join(f'{model.name}.{k}' for k in bare)} "
                f"{'has' if len(bare) == 1 else 'have'} no insert default that stamps the "
                "current time, so new records would get NULL"
            )
        return reason

    # -- make_transient(obj), copy.copy(obj) ----------------------------------------------

    def _uses(self, name: cst.Name) -> tuple[set[str], set[str], bool, bool]:
        """What the function does with local `name`: attributes it assigns, methods it calls
        on it, whether it is passed to `session.add(...)` & co, whether it sets
        `name._state.adding = True`."""
        assigned: set[str] = set()
        methods: set[str] = set()
        added = adding = False
        scope = self.semantics.scopes.get(name)
        if not isinstance(scope, Scope):
            return assigned, methods, added, adding
        parents = self.semantics.parents
        for access in scope.accesses[name.value]:
            node = access.node
            parent = parents.get(node)
            if isinstance(parent, cst.Attribute) and parent.value is node:
                holder = parents.get(parent)
                while isinstance(holder, (cst.Element, cst.Tuple, cst.List)):
                    holder = parents.get(holder)  # `del x.a, x.b`, `x.a, x.b = ...`
                if isinstance(holder, (cst.AssignTarget, cst.Del)):
                    assigned.add(parent.attr.value)
                elif isinstance(holder, cst.Call) and holder.func is parent:
                    methods.add(parent.attr.value)
                elif (
                    isinstance(holder, cst.Attribute)
                    and parent.attr.value == "_state"
                    and holder.attr.value == "adding"
                    and isinstance(parents.get(holder), cst.AssignTarget)
                ):
                    adding = True
            elif isinstance(parent, cst.Arg):
                call = parents.get(parent)
                if (
                    isinstance(call, cst.Call)
                    and isinstance(call.func, cst.Attribute)
                    and call.func.attr.value in ADDS
                ):
                    added = True
        return assigned, methods, added, adding

    def _transient(self, call: cst.Call, record: cst.BaseExpression) -> None:
        if not isinstance(record, cst.Name):
            return
        model = self.clones.record_model(record)
        if model is None:
            return
        assigned, _, _, _ = self._uses(record)
        kept = self._kept(model, frozenset(assigned))
        if not kept:
            return
        removals = ", ".join(f"del {record.value}.{k}" for k in kept)
        self.report(
            call,
            f"make_transient({record.value}) makes the {model.name} record a new one that "
            f"keeps {_listed(kept)}; remove them from it ({removals}) so the column defaults "
            "stamp the current time",
            model=model,
            field=kept[0],
        )

    def _copied(self, call: cst.Call, source: cst.BaseExpression, name: str) -> None:
        assign = self.semantics.parents.get(self.semantics.parents.get(call))
        target = None
        if isinstance(assign, cst.AssignTarget):
            target = assign.target
        elif isinstance(self.semantics.parents.get(call), cst.Assign):
            statement = self.semantics.parents.get(call)
            if len(statement.targets) == 1:
                target = statement.targets[0].target
        if not isinstance(target, cst.Name):
            return
        model = self.clones.record_model(source)
        if model is None:
            return
        assigned, methods, added, _ = self._uses(target)
        if not (added or "save" in methods):
            return
        kept = self._kept(model, frozenset(assigned))
        if not kept:
            return
        written = f"{self.semantics.code(call.func)}({shorten(self.semantics.code(source), 30)})"
        self.report(
            call,
            f"{target.value} = {written} stores a copy of a {model.name} record as a new one "
            f"with {_listed(kept)}; set them on the copy, or build a new record without them, "
            "so the column defaults stamp the current time",
            model=model,
            field=kept[0],
        )

    # -- obj.pk = None; obj.save() (Django) -----------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1 or not (
            isinstance(node.value, cst.Name) and node.value.value == "None"
        ):
            return
        target = node.targets[0].target
        if not (
            isinstance(target, cst.Attribute)
            and target.attr.value in ("pk", "id")
            and isinstance(target.value, cst.Name)
        ):
            return
        record = target.value
        model = self.clones.record_model(record)
        if model is None:
            return
        columns = self.index.model_info(model).columns
        if not any(info.kind == "django" for info in columns.values()):
            return
        assigned, methods, _, _ = self._uses(record)
        if "save" not in methods:
            return
        kept = self._kept(model, frozenset(assigned))
        if not kept:
            return
        self.report(
            node,
            f"{record.value}.{target.attr.value} = None and save() insert a copy of the "
            f"{model.name} record as a new row with {_listed(kept)} (only auto_now and "
            f"auto_now_add fields are stamped on insert); set them on {record.value} before "
            "save() so the new row gets the current time",
            model=model,
            field=kept[0],
        )

    # -- for c in Model.__table__.columns: setattr(new, c.name, getattr(old, c.name)) ----

    def visit_For(self, node: cst.For) -> None:
        if not columns_iterable(self.semantics.code(node.iter)):
            return
        # a one-line loop (`for c in cols: setattr(...)`) has one line: its suite
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else (node.body,)
        if any(isinstance(s, (cst.If, cst.Continue)) for s in _walk(node.body)):
            return
        for line in body:
            if not isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                continue
            for small in line.body:
                call = small.value if isinstance(small, cst.Expr) else None
                if not (
                    isinstance(call, cst.Call)
                    and isinstance(call.func, cst.Name)
                    and call.func.value == "setattr"
                    and len(call.args) == 3
                    and isinstance(call.args[0].value, cst.Name)
                ):
                    continue
                created = self.semantics.created_model(call.args[0].value)
                if created is None:
                    continue
                model, _ = created
                assigned, _, _, _ = self._uses(call.args[0].value)
                kept = self._kept(model, frozenset(assigned))
                if not kept:
                    continue
                columns = shorten(self.semantics.code(node.iter), 40)
                fix = {}
                key = call.args[1].value
                if (
                    isinstance(node.body, cst.IndentedBlock)
                    and len(body) == 1
                    and body[0] is line
                    and len(line.body) == 1
                    and _pure(key)
                    and _keys_writable(kept)
                ):  # the loop does nothing else: skipping the keys changes only them
                    guard = _membership_code(_code(key), kept, False)
                    fix = {
                        "rewrite": lambda block, kept=kept: _guard_loop(block, kept),
                        "fix_message": f"Skip {_names(kept)} with `if {guard}: continue`",
                        "unsafe_reason": self._unsafe_reason(model, kept, LOOP_REASON),
                    }
                self.report(
                    node.body if fix else small,
                    f"{shorten(self.semantics.code(call), 50)} over every column of {columns} "
                    f"copies {_listed(kept)} into the new {model.name} record; skip them in the "
                    "loop so the column defaults stamp the current time",
                    start_node=small,
                    end_node=small,
                    model=model,
                    field=kept[0],
                    **fix,
                )


# -- the fixes ----------------------------------------------------------------------------
#
# A fix is offered only where leaving the keys out is unambiguous and changes nothing else:
#
# - `Model(**X)`, X a mapping built from the record (`vars(src)`, `src.__dict__`,
#   `model_to_dict(src)`, `src.to_dict()`, a local holding one of these, `{**...}`):
#   `Model(**{k: v for k, v in X.items() if k not in (...)})`. The comprehension evaluates X
#   where `**X` did and gives the call the same pairs in the same order, minus the keys; X
#   itself is not changed, so other uses of a local mapping keep seeing it whole (inserting
#   `data.pop(...)` lines would change them too). A local bound on several paths: no fix.
# - `Model(**{K: V for c in COLUMNS})` (a comprehension over the columns, K a name or an
#   attribute such as `c.name`): one more `if K not in (...)` clause, the same as `and`-ing
#   it onto the conditions it already has.
# - `for c in COLUMNS: setattr(new, K, getattr(old, K))` with nothing else in the loop body:
#   `if K in (...): continue` before it. With other statements in the loop, skipping the
#   iteration would skip them too: no fix.
#
# `make_transient`, `copy.copy` then `add`, and Django's `pk = None` then `save()` get no fix:
# where the timestamps should be reset (and to what) depends on code after the copy.
# Every fix is unsafe: which keys a mapping carries is judged from how it is built, and the
# new record stops receiving the source's values for them.

MAPPING_REASON = (
    "the new record stops receiving the source's values for these keys, and which keys the "
    "mapping holds is judged from how it is built"
)
LOOP_REASON = "the new record stops receiving the source's values for these columns"
# mappings whose `.items()` can be called as they are written (primaries)
WRAPPABLE = (cst.Name, cst.Attribute, cst.Call, cst.Dict, cst.DictComp, cst.Subscript)


def _names(kept: list[str]) -> str:
    quoted = [f"'{k}'" for k in kept]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def _keys_writable(kept: list[str]) -> bool:
    return bool(kept) and all(k.isidentifier() for k in kept)


def _pure(node: cst.BaseExpression) -> bool:
    """A name or a chain of attributes of one (`c.name`): evaluating it twice is harmless."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _filterable(comp: cst.DictComp) -> bool:
    return comp.for_in.inner_for_in is None and _pure(comp.key)


def _membership_code(key: str, kept: list[str], negate: bool) -> str:
    if len(kept) == 1:
        return f'{key} {"!=" if negate else "=="} "{kept[0]}"'
    listed = ", ".join(f'"{k}"' for k in kept)
    return f"{key} {'not in' if negate else 'in'} ({listed})"


def _membership(key: cst.BaseExpression, kept: list[str], negate: bool) -> cst.BaseExpression:
    """`key not in ("a", "b")` (`key != "a"` for one key); `in` / `==` unless `negate`."""
    test = cst.parse_expression(_membership_code("_", kept, negate))
    assert isinstance(test, cst.Comparison)
    return test.with_changes(left=key.deep_clone())


def _filter_mapping(value: cst.BaseExpression, kept: list[str]) -> cst.DictComp:
    """`{k: v for k, v in value.items() if k not in (...)}`."""
    template = cst.parse_expression(
        f"{{k: v for k, v in _.items() if {_membership_code('k', kept, True)}}}"
    )
    assert isinstance(template, cst.DictComp)
    items = template.for_in.iter
    assert isinstance(items, cst.Call) and isinstance(items.func, cst.Attribute)
    call = items.with_changes(func=items.func.with_changes(value=value))
    return template.with_changes(for_in=template.for_in.with_changes(iter=call))


def _filter_comprehension(comp: cst.BaseExpression, kept: list[str]) -> cst.BaseExpression:
    """The comprehension with one more `if key not in (...)` clause."""
    if not (isinstance(comp, cst.DictComp) and _filterable(comp)):
        return comp  # not the node the finding saw: leave it
    test = _membership(comp.key, kept, True)
    ifs = list(comp.for_in.ifs)
    if not ifs:
        ifs.append(cst.CompIf(test=test))
    else:  # `if A` -> `if A and key not in (...)`, A in parentheses where `and` needs it
        last = ifs[-1].test
        if not last.lpar and (
            isinstance(last, (cst.IfExp, cst.Lambda, cst.NamedExpr))
            or (isinstance(last, cst.BooleanOperation) and isinstance(last.operator, cst.Or))
        ):
            last = last.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        ifs[-1] = ifs[-1].with_changes(
            test=cst.BooleanOperation(left=last, operator=cst.And(), right=test)
        )
    return comp.with_changes(for_in=comp.for_in.with_changes(ifs=ifs))


def _guard_loop(block: cst.CSTNode, kept: list[str]) -> cst.CSTNode:
    """The loop body with `if key in (...): continue` first (the key setattr sets)."""
    if not (isinstance(block, cst.IndentedBlock) and len(block.body) == 1):
        return block
    line = block.body[0]
    call = line.body[0].value if isinstance(line, cst.SimpleStatementLine) else None
    if not isinstance(call, cst.Call) or len(call.args) != 3:
        return block
    guard = cst.If(
        test=_membership(call.args[1].value, kept, False),
        body=cst.IndentedBlock([cst.SimpleStatementLine([cst.Continue()])], indent=block.indent),
        leading_lines=line.leading_lines,
    )
    return block.with_changes(body=[guard, line.with_changes(leading_lines=[])])


def _walk(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


__all__ = ["Clone", "NewRecordCloned"]
