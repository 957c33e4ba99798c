"""Each finding with its source lines and a `^^^` marker under the span, like Ruff's full output."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from timestamp_lint.ftypes import Finding
from timestamp_lint.report import ReportContext, display_path, read_lines

BOLD, RED, BLUE, CYAN, RESET = "\x1b[1m", "\x1b[1;31m", "\x1b[1;34m", "\x1b[1;36m", "\x1b[0m"
MAX_SNIPPET_LINES = 4  # longer spans show their first and last lines around a `...` row
TAB = "    "


def _columns(text: str, start: int, end: int) -> tuple[int, int]:
    """Display offset and width (at least 1) of text[start:end] once tabs are expanded."""
    offset = len(text[:start].replace("\t", TAB))
    return offset, max(1, len(text[start:end].replace("\t", TAB)))


def _marked_lines(finding: Finding, lines: list[str]) -> list[tuple[int, str, int, int]]:
    """(number, shown text, marker offset, marker width) for every line of the span."""
    marked = []
    last = min(max(finding.end_line, finding.line), len(lines))
    for number in range(finding.line, last + 1):
        text = lines[number - 1]
        start = finding.column - 1 if number == finding.line else len(text) - len(text.lstrip())
        end = finding.end_column - 1 if number == finding.end_line else len(text)
        marked.append((number, text.replace("\t", TAB), *_columns(text, start, max(start, end))))
    if len(marked) > MAX_SNIPPET_LINES:
        marked = [*marked[: MAX_SNIPPET_LINES - 1], (0, "", 0, 0), marked[-1]]
    return marked


def _block(finding: Finding, cwd: Path, lines: list[str] | None, color: bool) -> str:
    def paint(style: str, text: str) -> str:
        return f"{style}{text}{RESET}" if color else text

    path = display_path(finding.path, cwd)
    out = [
        f"{paint(BOLD, path)}:{finding.line}:{finding.column}: "
        f"{paint(RED, finding.code)} {finding.message}"
    ]
    marked = _marked_lines(finding, lines) if lines and 1 <= finding.line <= len(lines) else []
    width = len(str(marked[-1][0])) if marked else 1
    blank = paint(BLUE, f"{'':>{width}} |")
    if marked:
        out.append(blank)
        for number, text, offset, span in marked:
            if not number:
                out.append(f"{blank} ...")
                continue
            out.append(f"{paint(BLUE, f'{number:>{width}} |')} {text}".rstrip())
            out.append(f"{blank} {' ' * offset}{paint(RED, '^' * span)}")
        out.append(blank)
    if finding.fix is not None:
        out.append(f"{' ' * width} {paint(BLUE, '=')} {paint(CYAN, 'help:')} {finding.fix.message}")
    return "\n".join(out) + "\n"


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    cache: dict[Path, list[str] | None] = {}
    blocks = []
    for finding in findings:
        if finding.path not in cache:
            cache[finding.path] = read_lines(finding.path)
        blocks.append(_block(finding, context.cwd, cache[finding.path], context.color))
    return "\n".join(blocks)
