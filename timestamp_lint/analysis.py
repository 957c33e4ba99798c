"""The engine's last stage, the only one that needs LibCST: parse, resolve the metadata, run
the rules' visitors, describe the fix of each violation, and find the nodes a fix removes in
the whole module.

The engine imports this module when a file first gets this far, so a run that analyses no
file (a warm cache, most pre-commit runs) never loads LibCST.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from timestamp_lint import fix as fixer
from timestamp_lint.ftypes import Applicability, Config, Edit, Fix
from timestamp_lint.index import ModuleSummary, ProjectIndex
from timestamp_lint.rules.base import Rule, RuleContext, Violation
from timestamp_lint.semantics import PROVIDERS, Semantics


class AnalysisError(Exception):
    """LibCST could not analyse the source: a `TSL999` at `line`, `column`."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def run_rules(
    source: str,
    path: Path,
    config: Config,
    summary: ModuleSummary,
    index: ProjectIndex,
    rules: list[type[Rule]],
    line_map: Sequence[int] | None = None,
) -> tuple[cst.Module, list[Violation]]:
    """The violations every rule finds in `source`, in source order. `line_map`: the line of
    the file each line of `source` comes from, when `source` is a focused part of it."""
    try:
        module = cst.parse_module(source)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        metadata = wrapper.resolve_many(PROVIDERS)
        semantics = Semantics(module, metadata, summary, index, frozenset(config.fields), line_map)
        context = RuleContext(path, config, semantics)
        instances = [rule(context) for rule in rules]
        wrapper.visit_batched(instances)
    except cst.ParserSyntaxError as exc:
        # CPython parsed this file already: the limit is LibCST's, not a syntax error
        line = exc.raw_line
        if line_map and 1 <= line <= len(line_map):
            line = line_map[line - 1]
        raise AnalysisError(
            f"Cannot analyse file: LibCST cannot parse this valid Python ({exc.message})",
            line,
            exc.raw_column + 1,
        ) from None
    except RecursionError:
        raise AnalysisError("Cannot analyse file: nested too deeply") from None
    violations = sorted(
        (v for rule in instances for v in rule.violations), key=lambda v: (v.start, v.code)
    )
    return module, violations


def locate(text: str, violations: Sequence[Violation]) -> tuple[cst.Module, list] | None:
    """The whole module, parsed, and in it the node of each violation found in a focused
    part of it, matched by type and position. None unless each matches exactly one node.

    A fix renders the whole file; parsing it and computing positions costs a fraction of
    analysing it again whole."""
    try:
        module = cst.parse_module(text)
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    except (cst.ParserSyntaxError, RecursionError):
        return None
    wanted = {(type(v.node), v.node_span) for v in violations}
    found: dict[tuple, list[cst.CSTNode]] = {}
    for node, where in positions.items():
        key = (
            type(node),
            ((where.start.line, where.start.column), (where.end.line, where.end.column)),
        )
        if key in wanted:
            found.setdefault(key, []).append(node)
    nodes = []
    for violation in violations:
        matches = found.get((type(violation.node), violation.node_span), [])
        if len(matches) != 1:
            return None
        nodes.append(matches[0])
    return module, nodes


def fix_for(
    violation: Violation, module: cst.Module, text: str, index: ProjectIndex, with_edits: bool
) -> Fix | None:
    """Removing the node; safe when the model's column stamps the current time itself."""
    if violation.node is None or violation.model is None or violation.field is None:
        return None
    if violation.rewrite is not None:  # a fix that changes its node: always unsafe
        edits: tuple[Edit, ...] = ()
        if with_edits:
            rewrites = {violation.node: violation.rewrite}
            with contextlib.suppress(fixer.FixError):
                fixed = fixer.apply(module, {violation.node}, text, rewrites)
                edits = (fixer.edit_between(text, fixed),)
        message = violation.fix_message or "Rewrite the clone"
        reason = violation.unsafe_reason
        return Fix(
            Applicability.UNSAFE, f"{message} (unsafe: {reason})" if reason else message, edits
        )
    column = index.model_info(violation.model).columns.get(violation.field)
    node = violation.node
    if isinstance(node, cst.Arg):
        node = node.with_changes(
            comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=cst.SimpleWhitespace("")
        )
    elif isinstance(node, cst.DictElement):
        node = node.with_changes(comma=cst.MaybeSentinel.DEFAULT)
    removed = " ".join(module.code_for_node(node).split())
    if len(removed) > 60:
        removed = removed[:57] + "..."
    # the text edit (for SARIF) costs a whole-module transformation: only when asked for
    edits = ()
    if with_edits:
        with contextlib.suppress(fixer.FixError):
            edits = (fixer.edit_between(text, fixer.apply(module, {violation.node}, text)),)
    if column is not None and column.stamps_now and violation.unsafe_reason is None:
        return Fix(
            Applicability.SAFE,
            f"Remove `{removed}`; the column default ({column.insert_default}) stamps "
            "the current time",
            edits,
        )
    reason = violation.unsafe_reason or (
        f"{violation.model.name}.{violation.field} has no insert default that stamps the "
        "current time, so new records would get NULL"
    )
    return Fix(Applicability.UNSAFE, f"Remove `{removed}` (unsafe: {reason})", edits)
