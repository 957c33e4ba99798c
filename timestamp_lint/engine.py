"""Lint one file: read once, pre-filter the bytes, parse only when a finding is possible.

The stages, cheapest first, each able to end the work on a file:

1. `# timestamp-lint: skip-file`, or bytes that mention no field, or that neither read one
   and name one nor declare one (`Prescreen.scan`: `bytes.find`, then a look at each
   occurrence): done. This is where most files of a real project stop.
2. Decode (PEP 263, BOM) and `ast.parse` (CPython's parser, in C): a file that does not parse
   is a `TSL999`.
3. The cheap first pass (`prescreen`) asks, from the `ast` tree and the project index,
   whether any rule could report here; if not, done. Nesting too deep for LibCST is a
   `TSL999`, decided before LibCST (whose native parser can crash the interpreter on such
   input) ever sees the file.
4. LibCST (`analysis`, imported on first use) on the focused source: parse, metadata
   (scopes, positions, parents; qualified names on demand) and the rules. A fix renders the
   whole file: the nodes to remove are then found in the whole module by position.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from timestamp_lint.cache import Fingerprint
from timestamp_lint.discover import relative_to_root
from timestamp_lint.ftypes import PARSE_ERROR, UNRESOLVED, Config, Finding
from timestamp_lint.globs import PathMatcher
from timestamp_lint.index import ProjectIndex
from timestamp_lint.prescreen import Prescreen
from timestamp_lint.rules import RULES, RuleEntry
from timestamp_lint.source import (
    NotRegularFile,
    SourceError,
    decode_source,
    parse_python,
    read_source,
)

if TYPE_CHECKING:
    import libcst as cst

    from timestamp_lint.rules.base import Violation

SKIP_FILE_RE = re.compile(rb"#[ \t]*timestamp-lint:[ \t]*skip-file\b")
NOQA_RE = re.compile(
    r"#\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
NOQA_WORD_RE = re.compile("noqa", re.IGNORECASE)
CODE_SPLIT_RE = re.compile(r"[,\s]+")
# LibCST visits recursively, several Python frames per tree level: deeper trees are refused
# (as TSL999) rather than risking a RecursionError or a native stack overflow mid-run.
MAX_NESTING = 120
# LibCST needs about a second per 1,000 lines it analyses: beyond this (after functions that
# cannot matter are left out), a file is refused as TSL999 rather than stalling a commit.
MAX_ANALYSED_LINES = 20_000


@dataclass
class FileResult:
    path: Path
    findings: list[Finding] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    removals: list[tuple[Finding, Violation]] = field(default_factory=list)  # for --fix
    deps: dict[Path, Fingerprint] = field(default_factory=dict)  # files the analysis read
    listeners: str | None = None  # the project's listener digest, if the analysis asked
    analyzed: bool = False  # passed the byte pre-filter
    text: str | None = None
    data: bytes | None = None
    module: cst.Module | None = None
    focused: bool = False  # `module` holds only the parts of the file that matter
    unresolved: list[Finding] = field(default_factory=list)  # code UNRESOLVED: not checked


def is_selected(code: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    if code == PARSE_ERROR:
        return PARSE_ERROR not in ignore
    return any(code.startswith(s) for s in select) and not any(code.startswith(i) for i in ignore)


def max_depth(tree: ast.AST) -> int:
    """Deepest nesting of the syntax tree as LibCST will build it, computed without
    recursion: `a or b or c` is one node in `ast` but a chain in LibCST, as are comparisons."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 1
        elif isinstance(node, ast.Compare):
            depth += len(node.ops) - 1
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def code_lines(source: str) -> int:
    """Lines that are not blank: what LibCST's cost grows with."""
    return sum(1 for line in source.split("\n") if line.strip())


def noqa_lines(text: str) -> dict[int, frozenset[str] | None]:
    """Line -> codes suppressed by a `# noqa` comment there (None: all codes)."""
    found: dict[int, frozenset[str] | None] = {}
    if not NOQA_WORD_RE.search(text):
        return found  # tokenizing the whole file is not free
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = NOQA_RE.search(token.string)
            if match is None:
                continue
            codes = match.group("codes")
            found[token.start[0]] = (
                None if codes is None else frozenset(c.upper() for c in CODE_SPLIT_RE.split(codes))
            )
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def is_suppressed(violation: Violation, noqa: dict[int, frozenset[str] | None]) -> bool:
    for line in range(violation.start[0], violation.end[0] + 1):
        if line in noqa:
            codes = noqa[line]
            if codes is None or violation.code in codes:
                return True
    return False


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:]


class Engine:
    """Runs the selected rules over files of one project."""

    def __init__(
        self, config: Config, index: ProjectIndex, prefilter: bool = True, edits: bool = False
    ) -> None:
        """`prefilter=False` analyses every file fully: for tests that prove the cheap
        pre-filters never lose a finding. `edits`: give fixes their text edits (SARIF)."""
        self.config = config
        self.edits = edits
        self.prefilter = prefilter
        self.prescreen = Prescreen(index, config)
        self.index = index
        self.allow = PathMatcher(config.allow)
        self.rules = [
            rule for code, rule in RULES.items() if is_selected(code, config.select, config.ignore)
        ]
        self.report_errors = is_selected(PARSE_ERROR, config.select, config.ignore)

    def _error(self, result: FileResult, message: str, line: int = 1, column: int = 1) -> None:
        if self.report_errors:
            result.findings.append(
                Finding(
                    path=result.path,
                    line=line,
                    column=column,
                    code=PARSE_ERROR,
                    message=message,
                    end_line=line,
                    end_column=column,
                )
            )

    def needs_analysis(self, data: bytes, path: Path) -> bool:
        """The byte-level pre-filter: can this file (at `path`) hold a finding at all?"""
        if not self.rules:
            return False
        if not self.prefilter:
            return not SKIP_FILE_RE.search(data)
        scan = self.prescreen.scan(data)
        if not (scan.copy or scan.declares) or SKIP_FILE_RE.search(data):
            return False
        rules = self._rules_for(path)
        return (scan.copy and any(r.uses_copies for r in rules)) or (
            scan.declares and any(not r.uses_copies for r in rules)
        )

    def lint_file(
        self,
        path: Path,
        data: bytes | None = None,
        fingerprint: Fingerprint | None = None,
        whole: bool = False,
    ) -> FileResult:
        """Lint one file (`data`: its bytes, when the caller has read them already).
        `whole`: analyse the whole module, as fixes need, not only the functions that matter."""
        with self.index.tracking() as used:
            result = self._lint(path, data, fingerprint, whole)
        result.deps, result.listeners = used.files, used.listeners
        return result

    def _lint(
        self, path: Path, data: bytes | None, fingerprint: Fingerprint | None, whole: bool
    ) -> FileResult:
        result = FileResult(path)
        if data is None:
            try:
                data = read_source(path)
            except NotRegularFile:
                return result
            except SourceError as exc:
                self._error(result, _sentence(exc))
                return result
        result.data = data
        if not self.needs_analysis(data, path):
            return result
        result.analyzed = True
        try:
            text = decode_source(data)
        except SourceError as exc:
            self._error(result, _sentence(exc))
            return result
        result.text = text
        try:
            tree = parse_python(text, path)
        except SyntaxError as exc:
            message = exc.msg if exc.msg else "invalid syntax"
            self._error(result, f"SyntaxError: {message}", exc.lineno or 1, exc.offset or 1)
            return result
        except ValueError as exc:  # NUL bytes
            self._error(result, f"Cannot parse file: {exc}")
            return result
        except (RecursionError, MemoryError):
            self._error(result, "Cannot parse file: nested too deeply")
            return result
        summary = self.index.add_tree(path, tree, fingerprint)
        rules = self._rules_for(path)
        codes = {rule.code for rule in rules}
        if "TSL001" in codes:
            result.unresolved = [
                Finding(path, line, column, UNRESOLVED, f"{callee}: {why}", line, column)
                for line, column, callee, why in self.prescreen.unresolved_sites(
                    data, tree, summary
                )
            ]
        if self.prefilter and not self.prescreen.worth_analysing(data, tree, summary, codes):
            return result
        depth = max_depth(tree)
        if depth > MAX_NESTING:
            self._error(
                result,
                f"Cannot analyse file: syntax nested {depth} levels deep "
                f"(the limit is {MAX_NESTING})",
            )
            return result
        if not rules:
            return result
        whole = whole or self.edits or not self.prefilter
        source, line_map = (text, None) if whole else self.prescreen.focus(data, text, tree)
        size = code_lines(source)
        if size > MAX_ANALYSED_LINES:
            self._error(
                result,
                f"Cannot analyse file: {size} lines of code to analyse together "
                f"(the limit is {MAX_ANALYSED_LINES}); split the module",
            )
            return result
        from timestamp_lint import analysis  # LibCST loads only when a file gets this far

        try:
            module, violations = analysis.run_rules(
                source,
                path,
                self.config,
                summary,
                self.index,
                [r.load() for r in rules],
                line_map,
            )
        except analysis.AnalysisError as exc:
            self._error(result, exc.message, exc.line, exc.column)
            return result
        result.focused = line_map is not None
        result.module = module
        if violations:
            noqa = noqa_lines(text)
            violations = [v for v in violations if not is_suppressed(v, noqa)]
        result.violations = violations
        for violation in violations:
            fix = (
                analysis.fix_for(violation, module, text, self.index, self.edits)
                if violation.fixable
                else None
            )
            finding = Finding(
                path=path,
                line=violation.start[0],
                column=violation.start[1],
                code=violation.code,
                message=violation.message,
                end_line=violation.end[0],
                end_column=violation.end[1],
                model=violation.model.qualname if violation.model is not None else None,
                field=violation.field,
                fix=fix,
            )
            result.findings.append(finding)
            if fix is not None and violation.node is not None:
                result.removals.append((finding, violation))
        return result

    def removal_nodes(
        self, result: FileResult, violations: list[Violation]
    ) -> tuple[cst.Module, list[cst.CSTNode]] | None:
        """For a fix, which renders the whole file: the whole module and the node of each
        violation in it. None when that takes analysing the file again, whole."""
        if not result.focused:
            return (result.module, [v.node for v in violations]) if result.module else None
        text = result.text or ""
        if code_lines(text) > MAX_ANALYSED_LINES:
            return None
        from timestamp_lint import analysis

        return analysis.locate(text, violations)

    def _rules_for(self, path: Path) -> list[RuleEntry]:
        if self.allow and self.allow.match(relative_to_root(path, self.config.root)):
            return [rule for rule in self.rules if not rule.uses_copies]
        return self.rules
