"""The rule base class: a LibCST visitor that reports `Violation`s and knows no output format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import libcst as cst

from timestamp_lint.ftypes import Config
from timestamp_lint.index import ClassSummary
from timestamp_lint.semantics import Semantics

FIELD_WORDS = {"created_at": "creation time", "updated_at": "update time"}


@dataclass(frozen=True)
class Violation:
    """A finding still tied to its syntax: `node` is what the fix removes."""

    code: str
    message: str
    start: tuple[int, int]  # 1-based line, 1-based column
    end: tuple[int, int]  # 1-based line, exclusive 1-based column
    model: ClassSummary | None
    field: str | None
    node: cst.CSTNode | None
    fixable: bool = False  # removing `node` repairs it (whether safely is decided later)
    unsafe_reason: str | None = None  # why removing it may change more than this record
    # where `node` is in the file: ((line, column), (end line, end column)), 0-based columns
    node_span: tuple[tuple[int, int], tuple[int, int]] | None = None
    # a fix that rewrites `node` instead of removing it: `rewrite(node)` replaces it (the
    # function is given the node of the module being fixed, and builds on it alone), with
    # `fix_message` saying what it does; such a fix is unsafe (`unsafe_reason` says why)
    rewrite: Callable[[cst.CSTNode], cst.CSTNode] | None = None
    fix_message: str | None = None


@dataclass(frozen=True)
class RuleContext:
    path: Path
    config: Config
    semantics: Semantics


class Rule(cst.BatchableCSTVisitor):
    """One lint rule. Subclasses set `code`, `name`, `summary` and a Ruff-style `doc`."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    doc: ClassVar[str]

    def __init__(self, context: RuleContext) -> None:
        super().__init__()
        self.context = context
        self.semantics = context.semantics
        self.fields = frozenset(context.config.fields)
        self.violations: list[Violation] = []

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
        model: ClassSummary | None = None,
        field: str | None = None,
        fixable: bool = False,
        unsafe_reason: str | None = None,
        rewrite: Callable[[cst.CSTNode], cst.CSTNode] | None = None,
        fix_message: str | None = None,
    ) -> None:
        positions = self.semantics.positions
        start = positions[start_node or node].start
        end = positions[end_node or node].end
        span = positions[node]
        self.violations.append(
            Violation(
                code=self.code,
                message=message,
                start=(start.line, start.column + 1),
                end=(end.line, end.column + 1),
                model=model,
                field=field,
                node=node,
                fixable=fixable or rewrite is not None,
                unsafe_reason=unsafe_reason,
                node_span=(
                    (span.start.line, span.start.column),
                    (span.end.line, span.end.column),
                ),
                rewrite=rewrite,
                fix_message=fix_message,
            )
        )


def default_advice(semantics: Semantics, model: ClassSummary, field: str, verb: str) -> str:
    """ "omit it so the column default (server_default=func.now()) stamps the current time",
    or, when the column has no such default, what to do instead."""
    column = semantics.index.model_info(model).columns.get(field)
    if column is not None and column.stamps_now:
        return f"{verb} so the column default ({column.insert_default}) stamps the current time"
    return f"{verb} and give the column a default that stamps the current time (see TSL003)"


def field_words(field: str) -> str:
    """How a message names a timestamp field: "creation time", or "`field` timestamp"."""
    return FIELD_WORDS.get(field, f"'{field}' timestamp")


def shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
