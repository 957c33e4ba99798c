"""The rule a team would write in an afternoon with Fixit, for comparison with timestamp-lint.

It flags any call with a keyword argument named `created_at` or `updated_at` whose value is
an attribute of the same name (`f(created_at=x.created_at)`): no name resolution, so DTOs,
audit calls and allowlisted files are reported too, and copies through locals, dicts,
`insert().values()` or later assignments are missed. The benchmark times it, with

    PYTHONPATH=benchmarks/fixit_rule fixit --rules naive_timestamp_copy:NaiveTimestampCopy lint .

`fixit test naive_timestamp_copy` (with the same PYTHONPATH) runs the cases below.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst
from fixit import Invalid, LintRule, Valid

FIELDS = frozenset({"created_at", "updated_at"})


class NaiveTimestampCopy(LintRule):
    MESSAGE = "Timestamp copied from another object into a call; let the column default stamp it"

    VALID: ClassVar[list[Valid | str]] = [
        Valid("Flow(created_at=now)"),
        Valid("Flow(created_at=master.updated_at)"),
        Valid("Flow(flow_id=master.flow_id)"),
        Valid("select(Flow).where(Flow.created_at > since)"),
    ]
    INVALID: ClassVar[list[Invalid | str]] = [
        Invalid("Flow(created_at=master.created_at)"),
        Invalid("FlowResponse(id=flow.id, updated_at=flow.updated_at)"),
        Invalid("session.add(Flow(name=m.name, created_at=m.created_at))"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            keyword = arg.keyword
            if keyword is None or keyword.value not in FIELDS:
                continue
            value = arg.value
            if isinstance(value, cst.Attribute) and value.attr.value == keyword.value:
                self.report(arg)
