"""The rule registry: every rule class, by code."""

from __future__ import annotations

from timestamp_lint.rules.base import Rule, RuleContext, Violation
from timestamp_lint.rules.tsl001 import CopiedTimestampInNewRecord
from timestamp_lint.rules.tsl002 import CopiedTimestampAssigned
from timestamp_lint.rules.tsl003 import TimestampColumnWithoutDefault

RULES: dict[str, type[Rule]] = {
    rule.code: rule
    for rule in (CopiedTimestampInNewRecord, CopiedTimestampAssigned, TimestampColumnWithoutDefault)
}

__all__ = ["RULES", "Rule", "RuleContext", "Violation"]
