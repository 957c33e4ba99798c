from __future__ import annotations

import libcst as cst

from timestamp_lint.detect import is_field_of
from timestamp_lint.rules.base import Rule, default_advice
from timestamp_lint.rules.tsl001 import describe_copy
from timestamp_lint.semantics import string_value


class CopiedTimestampAssigned(Rule):
    code = "TSL002"
    name = "copied-timestamp-assigned-to-new-record"
    summary = "A timestamp copied from another record is assigned to a newly created record"
    doc = """\
## What it does
Checks for assignments of another object's timestamp to a record created earlier in the same
function: `child.created_at = master.created_at` or
`setattr(child, "created_at", master.created_at)`, where `child = Model(...)`.

## Why is this bad?
It is the same bug as TSL001 written in two steps: the new record claims the other record's
creation or update time, and durations and metrics built on it are wrong.

## Example
```python
child = DiscoveryFlow(flow_id=master.flow_id)
child.created_at = master.created_at
```

## Use instead
```python
child = DiscoveryFlow(flow_id=master.flow_id)
```

## Fix safety
Deleting the statement is safe when the column has an insert default that stamps the current
time, unsafe otherwise.
"""

    def _check(self, statement: cst.CSTNode, record: cst.BaseExpression, field: str, value) -> None:
        if field not in self.semantics.fields or not isinstance(record, cst.Name):
            return
        created = self.semantics.created_model(record)
        if created is None:
            return
        model, target = created
        if not is_field_of(self.semantics.index, model, field):
            return
        source = self.semantics.copy_source(value)
        if source is None:
            return
        line = self.semantics.positions[target].start.line
        shown, copied = describe_copy(self.semantics, value, source)
        if isinstance(statement, cst.Assign):
            written, what = f"{record.value}.{field} = {shown}", "assignment"
        else:
            written, what = f'setattr({record.value}, "{field}", {shown})', "call"
        self.report(
            statement,
            f"{written} copies {copied} into the new {model.name} record created on line "
            f"{line}; {default_advice(self.semantics, model, field, f'delete the {what}')}",
            model=model,
            field=field,
            fixable=True,
        )

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if isinstance(target, cst.Attribute):
            self._check(node, target.value, target.attr.value, node.value)

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if not (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Name)
            and call.func.value == "setattr"
            and len(call.args) == 3
            and not any(arg.keyword or arg.star for arg in call.args)
        ):
            return
        field = string_value(call.args[1].value)
        if field is not None:
            self._check(node, call.args[0].value, field, call.args[2].value)
