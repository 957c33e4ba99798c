from __future__ import annotations

import libcst as cst

from timestamp_lint.detect import is_field_of
from timestamp_lint.rules.base import Rule, default_advice, field_words, shorten
from timestamp_lint.semantics import CopySource, Semantics


def describe_copy(
    semantics: Semantics, value: cst.BaseExpression, source: CopySource
) -> tuple[str, str]:
    """How a message shows a copied value, and what it copies: ("ts", "creation time
    (master.created_at)"), or the origin alone when the value spans several lines."""
    origin_node = source.origin
    if origin_node.lpar:
        origin_node = origin_node.with_changes(lpar=(), rpar=())
    origin = shorten(semantics.code(origin_node))
    shown = semantics.code(value)
    record = f"another {source.model} record" if source.model else "another record"
    words = f"{record}'s {field_words(source.field)}"
    if "\n" in shown:
        return origin, words
    if source.via:
        return shorten(shown), f"{words} ({origin})"
    return shorten(shown), words


def _argument_with_entry(through: cst.Arg, entry: cst.CSTNode, shown: str) -> str:
    """`defaults={..., "created_at": x.created_at}`: the argument, showing only the entry."""
    prefix = f"{through.keyword.value}=" if through.keyword is not None else str(through.star)
    container = through.value
    elements = container.elements if isinstance(container, cst.Dict) else None
    if elements is None or entry not in elements:
        return f"{prefix}{{{shown}}}" if isinstance(entry, cst.DictElement) else shown
    position = list(elements).index(entry)
    before = "..., " if position > 0 else ""
    after = ", ..." if position < len(elements) - 1 else ""
    return f"{prefix}{{{before}{shown}{after}}}"


class CopiedTimestampInNewRecord(Rule):
    code = "TSL001"
    name = "copied-timestamp-in-new-record"
    summary = "A new ORM record is created with a timestamp copied from another record"
    doc = """\
## What it does
Checks for ORM records (SQLAlchemy, Flask-SQLAlchemy, SQLModel, Django) created with a
timestamp field such as `created_at` or `updated_at` taken from another object:
`Model(created_at=other.created_at)`, `Model(**{"created_at": ...})`,
`Model.objects.create(...)` and its `defaults=`, or `insert(Model).values(...)`.
Local variables are followed: `ts = master.created_at; Model(created_at=ts)` is reported too.

## Why is this bad?
The new record claims to have been created (or updated) when the other record was. Durations
computed from it go negative, `updated_at` ends up before `created_at`, and every metric
built on the timestamps is silently wrong. The column default stamps the current time on its
own when the argument is left out.

Data migrations, backfills and serializers copy timestamps on purpose; list them in `allow`
(migrations, alembic, backfill scripts and serializers are allowed by default, and so is an
Alembic revision script wherever it lives: a module that imports `alembic` and sets
`down_revision`, while the allowlist covers `alembic/versions/`). Response
DTOs (Pydantic, dataclasses, attrs, TypedDict, SQLModel without `table=True`) are not ORM
records and are never reported.

## Example
```python
child = DiscoveryFlow(
    flow_id=master.flow_id,
    created_at=master.created_at,
    updated_at=master.updated_at,
)
```

## Use instead
```python
child = DiscoveryFlow(flow_id=master.flow_id)
```

## Fix safety
Removing the argument is safe when the model's column has an insert default that stamps the
current time (`server_default=func.now()`, `default=datetime.now`, Django `auto_now_add`);
otherwise the fix is unsafe, because the new row would get NULL or fail a NOT NULL constraint.
"""

    def __init__(self, context) -> None:
        super().__init__(context)
        self._seen: set[cst.CSTNode] = set()

    def visit_Call(self, node: cst.Call) -> None:
        site = self.semantics.creation_site(node)
        if site is None:
            return
        if site.kind == "constructor" and only_signalled(self.semantics, node):
            return
        for value in site.values:
            if value.carrier in self._seen or not is_field_of(
                self.semantics.index, site.model, value.field
            ):
                continue
            source = self.semantics.copy_source(value.value)
            if source is None:
                continue
            self._seen.add(value.carrier)
            shown, copied = describe_copy(self.semantics, value.value, source)
            through = value.through
            shared = None
            if through is None or through is value.carrier:
                argument = f"{value.field}={shown}"
            elif self.semantics.contains(through, value.carrier):
                argument = _argument_with_entry(through, value.carrier, f'"{value.field}": {shown}')
            else:
                argument = shorten(self.semantics.code(through).strip(), 50)
                copied += f' ("{value.field}": {shown})'
                shared = "the dict is built apart from the call and may be used elsewhere too"
            if value.lookup:
                advice = (
                    f"a {site.label.rpartition('.')[2]} lookup also sets the field of the record "
                    "it creates; look the record up by other fields so the column default "
                    "stamps the current time"
                )
            else:
                advice = default_advice(self.semantics, site.model, value.field, "omit it")
            record = "a new record"
            if site.helper is not None:
                record = f"a new {site.model.name} record through {site.helper}"
            message = f"{site.label}({argument}) copies {copied} into {record}; {advice}"
            carrier = value.carrier
            start = carrier.keyword if isinstance(carrier, cst.Arg) else carrier.key
            if isinstance(carrier, cst.Arg) and carrier.keyword is None:
                start = carrier.value
            self.report(
                carrier,
                message,
                start_node=start,
                end_node=carrier,  # the whole value, closing parentheses included
                model=site.model,
                field=value.field,
                fixable=not (value.lookup or value.named),
                unsafe_reason=shared,
            )


def only_signalled(semantics: Semantics, call: cst.Call) -> bool:
    """`before = Model(..., created_at=old.created_at)` that is never saved: the local
    is only tested (`if before and ...`) and passed by keyword to a signal's `send()`
    (`changed.send(sender, before=before)`), an in-memory snapshot of the old state,
    not a new row."""
    statement = semantics.parents.get(call)
    if not isinstance(statement, cst.Assign) or len(statement.targets) != 1:
        return False
    target = statement.targets[0].target
    scope = semantics.scopes.get(target)
    if not isinstance(target, cst.Name) or scope is None:
        return False
    sent = False
    for access in scope.accesses[target.value]:
        node = access.node
        parent = semantics.parents.get(node)
        if isinstance(parent, cst.Arg) and parent.keyword is not None:
            caller = semantics.parents.get(parent)
            if not (
                isinstance(caller, cst.Call)
                and isinstance(caller.func, cst.Attribute)
                and caller.func.attr.value in ("send", "send_robust")
            ):
                return False
            sent = True
        elif isinstance(parent, cst.Attribute) and parent.value is node:
            holder = semantics.parents.get(parent)
            if isinstance(holder, cst.AssignTarget) or (
                isinstance(holder, cst.Call) and holder.func is parent
            ):
                return False  # `before.save()`, `before.x = ...`: used as a record
        elif not isinstance(parent, (cst.If, cst.BooleanOperation, cst.UnaryOperation)):
            return False
    return sent
