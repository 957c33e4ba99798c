"""The rule registry.

Each rule is a LibCST visitor in its own module, with its documentation. The registry knows
what the engine must know before any parse (the codes, and which rules the allowlist turns
off) without importing them, so a run that analyses no file never loads LibCST.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from timestamp_lint.rules.base import Rule


class RuleEntry(NamedTuple):  # a tuple: ten times cheaper to create than a dataclass
    code: str
    module: str  # under timestamp_lint.rules
    class_name: str
    uses_copies: bool  # about copied values: off in allowlisted files

    def load(self) -> type[Rule]:
        module = importlib.import_module(f"timestamp_lint.rules.{self.module}")
        return getattr(module, self.class_name)


RULES: dict[str, RuleEntry] = {
    entry.code: entry
    for entry in (
        RuleEntry("TSL001", "tsl001", "CopiedTimestampInNewRecord", uses_copies=True),
        RuleEntry("TSL002", "tsl002", "CopiedTimestampAssigned", uses_copies=True),
        RuleEntry("TSL003", "tsl003", "TimestampColumnWithoutDefault", uses_copies=False),
        RuleEntry("TSL004", "tsl004", "NewRecordCloned", uses_copies=True),
    )
}

__all__ = ["RULES", "RuleEntry"]
