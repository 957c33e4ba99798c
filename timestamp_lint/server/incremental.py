"""Keystrokes inside one function: analyse that function, keep the findings of the others.

The rules trace names within a function, and a function body binds nothing at module level
that they follow (the engine's own focusing, `Prescreen.focus`, relies on the same). So when
an edit stays inside the body of one function or method, the findings of every other
function are those of the last lint, moved by the lines the edit added or removed. Only a
*synthetic* version of the buffer is analysed: the same lines, with the body of every other
function blanked (empty lines and a final `...`, so line and column numbers stay), which the
engine parses and analyses in a fraction of the time of the whole file.

A `Layout` is what the last lint of a buffer knew: its text, its functions (`Unit`), and the
findings inside each. It is made after a full lint, only when blanking every body leaves the
module's summary (what the project index knows of it) unchanged; each incremental lint checks
that the synthetic text still gives that summary, that the edited function still parses as
one function of the same extent, and that no finding fell outside the expected places;
anything else is linted whole. Saving, opening, a dependency or configuration change: whole.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timestamp_lint.ftypes import PARSE_ERROR, Finding
from timestamp_lint.server.documents import NEWLINE_RE, line_starts

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
LINE_REF_RE = re.compile(r"\bline \d")


@dataclass(frozen=True)
class Unit:
    """A top-level function or a method of a top-level class (1-based lines)."""

    start: int  # its first line (decorators included)
    body: int  # the first line of its body: blanked from here
    end: int  # its last line
    indent: str  # the body's indentation
    method: bool
    name: str


@dataclass
class Layout:
    text: str
    units: list[Unit]
    shape: Any  # the module summary's shape, with or without the bodies
    build: int  # the project index it was computed with
    inside: list[list[Finding]]  # findings within each unit
    outside: list[Finding]  # findings at module or class level
    deps: frozenset[Path] = frozenset()
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.starts:
            self.starts = line_starts(self.text)

    def findings(self) -> list[Finding]:
        return sorted([*self.outside, *(f for group in self.inside for f in group)])


def _unit(node: ast.stmt, lines: list[str], method: bool) -> Unit | None:
    if not isinstance(node, FUNCTIONS) or not node.body or node.end_lineno is None:
        return None
    first = node.body[0]
    line = lines[first.lineno - 1]
    prefix = line.encode("utf-8")[: first.col_offset].decode("utf-8", "replace")
    if prefix.strip() or first.lineno <= node.lineno:
        return None  # the body starts on the `def` line: not blankable
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return Unit(start, first.lineno, node.end_lineno, prefix, method, node.name)


def units_of(tree: ast.Module, text: str) -> list[Unit]:
    lines = NEWLINE_RE.split(text)
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            found.extend(u for u in (_unit(n, lines, True) for n in node.body) if u is not None)
        else:
            unit = _unit(node, lines, False)
            if unit is not None:
                found.append(unit)
    return found


def _segments(text: str, starts: list[int], units: list[Unit], keep: int | None) -> Iterator[str]:
    """A method's body becomes empty lines and a final `...` (the method still ends where it
    did, so the engine's focusing leaves all of it out); a top-level function becomes
    `name = (...)` over all its lines, which binds its name as a `def` does for the index
    and which the focusing leaves out as a constant. Every line keeps its number."""
    position = 0
    for number, unit in enumerate(units):
        if number == keep:
            continue
        first = unit.body if unit.method else unit.start
        last = unit.end
        if not unit.method:  # the empty lines after it too, which LibCST would visit
            limit = units[number + 1].start - 1 if number + 1 < len(units) else len(starts) - 1
            while last < limit and not text[starts[last] : starts[last + 1]].strip():
                last += 1
        begin = starts[first - 1]
        end = starts[last] if last < len(starts) else len(text)
        yield text[position:begin]
        breaks = NEWLINE_RE.findall(text, begin, end)
        count = last - first + 1
        if unit.method:
            yield "".join(breaks[: count - 1]) + unit.indent + "..." + "".join(breaks[count - 1 :])
        else:
            middle = "".join(breaks[: count - 1])
            yield f"{unit.name} = (" + middle + "...)" + "".join(breaks[count - 1 :])
        position = end
    yield text[position:]


def synthetic(text: str, starts: list[int], units: list[Unit], keep: int | None = None) -> str:
    """`text` with the body of every unit but `keep` blanked."""
    return "".join(_segments(text, starts, units, keep))


def split_findings(
    findings: list[Finding], units: list[Unit]
) -> tuple[list[list[Finding]], list[Finding]]:
    inside: list[list[Finding]] = [[] for _ in units]
    outside = []
    for finding in findings:
        for number, unit in enumerate(units):
            if unit.start <= finding.line <= unit.end:
                inside[number].append(finding)
                break
        else:
            outside.append(finding)
    return inside, outside


def _common_prefix(a: str, b: str) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:  # binary search with C-speed slice comparisons
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle :] == b[len(b) - middle :]:
            low = middle
        else:
            high = middle - 1
    return low


def _line_of(starts: list[int], offset: int) -> int:
    """1-based line of an offset."""
    low, high = 0, len(starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low + 1


@dataclass(frozen=True)
class Edit:
    """An edit confined to one unit's body."""

    unit: int  # its index
    new: Unit  # the unit in the new text
    delta: int  # lines added (negative: removed)
    starts: list[int]  # line starts of the new text


def locate_edit(layout: Layout, text: str) -> Edit | None:
    """The unit whose body alone the change from `layout.text` to `text` touched, when it
    still parses as one function of its own, else None."""
    old = layout.text
    if old == text:
        return None
    prefix = _common_prefix(old, text)
    suffix = _common_suffix(old, text, min(len(old), len(text)) - prefix)
    begin, end = prefix, len(old) - suffix  # the replaced part of the old text
    first = _line_of(layout.starts, begin)
    last = _line_of(layout.starts, max(begin, end - 1))
    number = next(
        (n for n, u in enumerate(layout.units) if u.body <= first and last <= u.end), None
    )
    if number is None:
        return None
    unit = layout.units[number]
    starts = line_starts(text)
    delta = len(starts) - len(layout.starts)
    stop = unit.end + delta
    if stop < unit.body:
        return None
    source = text[starts[unit.start - 1] : starts[stop] if stop < len(starts) else len(text)]
    try:
        tree = ast.parse(("class _:\n" if unit.method else "") + source.rstrip("\r\n") + "\n")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    nodes = tree.body[0].body if unit.method and tree.body else tree.body
    offset = (1 if unit.method else 0) - unit.start + 1  # from file lines to `source` lines
    if len(tree.body) != 1 or len(nodes) != 1 or not isinstance(nodes[0], FUNCTIONS):
        return None
    lines = NEWLINE_RE.split(text)
    shifted = ast.increment_lineno(nodes[0], -offset)
    new = _unit(shifted, lines, unit.method)
    if new is None or new.start != unit.start or new.end != stop:
        return None
    return Edit(number, new, delta, starts)


def moved_units(layout: Layout, edit: Edit) -> list[Unit]:
    """The units of the new text: the edited one, and those after it moved."""
    units = list(layout.units)
    units[edit.unit] = edit.new
    delta = edit.delta
    for number in range(edit.unit + 1, len(units)):
        unit = units[number]
        units[number] = dataclasses.replace(
            unit, start=unit.start + delta, body=unit.body + delta, end=unit.end + delta
        )
    return units


def updated(
    layout: Layout, edit: Edit, units: list[Unit], text: str, fresh: list[Finding]
) -> Layout | None:
    """The layout after `edit` (`units`: `moved_units`), with `fresh` the findings of the
    synthetic lint (the edited unit's and those outside every unit). None when they are not
    where they can be."""

    def moved(f: Finding) -> Finding:
        return dataclasses.replace(f, line=f.line + edit.delta, end_line=f.end_line + edit.delta)

    if any(f.code == PARSE_ERROR for f in fresh):
        return None
    inside, outside = split_findings(fresh, units)
    if any(group for number, group in enumerate(inside) if number != edit.unit):
        return None  # a finding in a blanked body: impossible unless the layout is wrong
    if edit.delta and any(
        LINE_REF_RE.search(f.message) for group in layout.inside[edit.unit + 1 :] for f in group
    ):
        return None  # a message that names a line ("created on line 13") would be stale
    inside = [
        inside[number]
        if number == edit.unit
        else group
        if number < edit.unit or not edit.delta
        else [moved(f) for f in group]
        for number, group in enumerate(layout.inside)
    ]
    return Layout(
        text, units, layout.shape, layout.build, inside, outside, layout.deps, edit.starts
    )
