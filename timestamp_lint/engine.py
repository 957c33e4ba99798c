"""Lint one file: read once, pre-filter the bytes, parse only when a finding is possible.

The stages, cheapest first, each able to end the work on a file:

1. `# timestamp-lint: skip-file`, or bytes that mention no field, or that neither read one
   and name one nor declare one (`prefilter.Scanner`: `bytes.find`, then a look at each
   occurrence): done. This is where most files of a real project stop.
2. Decode (PEP 263, BOM) and `ast.parse` (CPython's parser, in C): a file that does not parse
   is a `TSL999`. A large file is parsed in chunks, trimmed as they come (see "large
   modules" below), so that memory stays bounded.
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
import bisect
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from timestamp_lint import helpers
from timestamp_lint.cache import Fingerprint
from timestamp_lint.config import ignored_codes, is_selected
from timestamp_lint.ftypes import PARSE_ERROR, UNRESOLVED, Config, Edit, Finding
from timestamp_lint.index import ModuleSummary, ProjectIndex
from timestamp_lint.prefilter import ByteFilter
from timestamp_lint.prescreen import Prescreen
from timestamp_lint.source import (
    NotRegularFile,
    SourceError,
    decode_source,
    is_large,
    parse_chunks,
    parse_python,
    read_source,
)

if TYPE_CHECKING:
    import libcst as cst

    from timestamp_lint.rules.base import Violation

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
    # what was analysed: (module, its source, its line map or None), and for each violation
    # (by id) the index of its part; fixes are computed on these, not on the whole file
    parts: list[tuple[cst.Module, str, list[int] | None]] = field(default_factory=list)
    part_of: dict[int, int] = field(default_factory=dict)
    unresolved: list[Finding] = field(default_factory=list)  # code UNRESOLVED: not checked


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
    if "\r" in text:  # a lone carriage return ends a line for the parsers, not for
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # `tokenize`'s readline
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
        self.filter = ByteFilter(config, self.prescreen.scan, prefilter)
        self.rules = self.filter.rules
        self.index = index
        self.report_errors = is_selected(PARSE_ERROR, config.select, config.ignore)

    def _error(self, result: FileResult, message: str, line: int = 1, column: int = 1) -> None:
        if self.report_errors and PARSE_ERROR not in ignored_codes(self.config, result.path):
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

    def prepare(self) -> None:
        """Do now what every file's analysis shares and computes once (the field names the
        models declare): before worker processes fork, so that none computes it again."""
        self.prescreen.prepare()

    def needs_analysis(self, data: bytes, path: Path) -> bool:
        """The byte-level pre-filter (`ByteFilter`): can this file hold a finding at all?"""
        return self.filter.needs_analysis(data, path)

    def forget(self, path: Path) -> None:
        """`path` needs no analysis: a tree the index kept of it for that is not needed."""
        self.index.trees.forget(path)

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
                self._error(result, _sentence(exc), *exc.position)
                return result
        result.data = data
        if not self.needs_analysis(data, path):
            return result
        result.analyzed = True
        try:
            text = decode_source(data)
        except SourceError as exc:
            self._error(result, _sentence(exc), *exc.position)
            return result
        result.text = text
        large = is_large(text)
        kept = None if large else self.index.trees.take(path, data)  # parsed for its summary
        try:
            if large:  # parsed in chunks, summarized and trimmed one by one
                tree, whole_depth, summary = self._parse_large(
                    data, text, path, fingerprint, whole or not self.prefilter
                )
            else:
                tree = kept or parse_python(text, path)
                helpers.use_tree(self.index, path, tree)
        except SyntaxError as exc:
            message = exc.msg if exc.msg else "invalid syntax"
            self._error(result, f"SyntaxError: {message}", exc.lineno or 1, exc.offset or 1)
            return result
        except ValueError as exc:  # NUL bytes
            self._error(result, f"Cannot parse file: {exc}")
            return result
        except RecursionError:
            self._error(result, "Cannot parse file: nested too deeply")
            return result
        except MemoryError:
            self._error(result, "Cannot parse file: not enough memory")
            return result
        if not large:
            summary = self.index.summary(path) if kept else None
            summary = summary or self.index.add_tree(path, tree, fingerprint, data)
            whole_depth = 0  # computed when needed
        rules = self.filter.rules_for(path, data)
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
        if not rules:
            return result
        whole = whole or not self.prefilter
        source, line_map = (text, None) if whole else self.prescreen.focus(data, text, tree)
        if line_map is not None:
            source, line_map = collapse_stubs(source, line_map)
        focused_tree, depth = (tree, 0) if line_map is None else _parse_or_none(source, path)
        if focused_tree is None or line_map is None:  # of what LibCST will see
            focused_tree = tree
            depth = whole_depth or max_depth(tree)
        if depth > MAX_NESTING:
            self._error(
                result,
                f"Cannot analyse file: syntax nested {depth} levels deep "
                f"(the limit is {MAX_NESTING})",
            )
            return result
        parts = [(source, line_map)]
        size = code_lines(source)
        if size > MAX_ANALYSED_LINES:
            parts = split_module(source, line_map, focused_tree) or []
            if not parts:
                self._error(
                    result,
                    f"Cannot analyse file: {size} lines of code to analyse together "
                    f"(the limit is {MAX_ANALYSED_LINES}, and module-level code alone "
                    "exceeds it); split the module",
                )
                return result
        from timestamp_lint import analysis  # LibCST loads only when a file gets this far

        noqa = noqa_lines(text)
        seen: set[tuple] = set()
        loaded = [r.load() for r in rules]
        for part, part_map in parts:
            try:
                module, violations = analysis.run_rules(
                    part, path, self.config, summary, self.index, loaded, part_map
                )
            except analysis.AnalysisError as exc:
                result.findings, result.violations, result.removals = [], [], []
                self._error(result, exc.message, exc.line, exc.column)
                return result
            result.focused = part_map is not None
            result.module = module if len(parts) == 1 else None
            result.parts.append((module, part, part_map))
            for violation in violations:
                key = (violation.code, violation.start, violation.end, violation.message)
                if key in seen or is_suppressed(violation, noqa):
                    continue  # module-level code is analysed with every part
                seen.add(key)
                result.part_of[id(violation)] = len(result.parts) - 1
                self._record(result, violation, module, text)
        if self.edits and result.removals:
            self._add_edits(result)
        return result

    def _parse_large(
        self, data: bytes, text: str, path: Path, fingerprint: Fingerprint | None, whole: bool
    ) -> tuple[ast.Module, int, ModuleSummary]:
        """A large module's tree, parsed in chunks of top-level statements, each summarized
        for the index and then trimmed (see `trim_functions`) before the next is parsed:
        the tree later stages see, the depth of the whole tree (0 unless LibCST will see
        the whole file: `whole`, or no place is known where a field gets a value), and the
        module summary."""
        lines = self.prescreen.give_lines(data)
        whole = whole or lines is None
        keep = keep_lines(text, self.prescreen.fields) if lines is not None else []
        body: list[ast.stmt] = []
        depth = 0

        def chunks() -> Iterator[ast.Module]:
            nonlocal depth
            for chunk in parse_chunks(text, path):
                if whole:
                    depth = max(depth, max_depth(chunk))
                yield chunk  # summarized, then
                if lines is not None:
                    trim_functions(chunk.body, lines, keep)
                body.extend(chunk.body)

        summary = self.index.add_tree(path, chunks(), fingerprint, data)
        return ast.Module(body=body, type_ignores=[]), depth, summary

    def _record(self, result: FileResult, violation: Violation, module, text: str) -> None:
        from timestamp_lint import analysis

        result.violations.append(violation)
        fix = (
            analysis.fix_for(violation, module, text, self.index, False)
            if violation.fixable
            else None
        )
        finding = Finding(
            path=result.path,
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

    def _add_edits(self, result: FileResult) -> None:
        """Give each fix its text edit (SARIF): the edit of removing that one node."""
        violations = [v for _, v in result.removals]
        edits: list = self.part_edits(result, violations, together=False) or []
        if not edits or None in edits:  # the whole file, parsed again
            from timestamp_lint import fix as fixer

            located = self.removal_nodes(result, violations)
            if located is None or result.text is None:
                return
            module, nodes = located
            rewrites = fixer.rewrites_for(nodes, violations)
            fixed = [fixer.apply(module, {n}, result.text, rewrites) for n in nodes]
            whole = [([i], (fixer.edit_between(result.text, f),)) for i, f in enumerate(fixed)]
            edits = [entry[1][0] for entry in whole]
        replaced = {}
        for (finding, _), edit in zip(result.removals, edits, strict=True):
            if edit is not None and finding.fix is not None:
                replaced[id(finding)] = replace(finding, fix=replace(finding.fix, edits=(edit,)))
        result.findings = [replaced.get(id(f), f) for f in result.findings]
        result.removals = [(replaced.get(id(f), f), v) for f, v in result.removals]

    def part_edits(
        self, result: FileResult, violations: list[Violation], together: bool
    ) -> list | None:
        """Edits in the whole file that remove the violations' nodes, computed on the parts
        that were analysed (a large file is never parsed whole for its fixes): with
        `together` a list of edits to apply at once, else one edit (or None) per violation.
        None when the parts cannot give them (the caller then parses the whole file)."""
        from timestamp_lint import fix as fixer

        text = result.text
        if text is None or not result.parts or text.count("\r") != text.count("\r\n"):
            return None
        whole_lines = text.split("\n")
        by_part: dict[int, list[int]] = {}
        for index, violation in enumerate(violations):
            part = result.part_of.get(id(violation))
            if part is None or violation.node is None:
                return None
            by_part.setdefault(part, []).append(index)
        found: list[Edit | None] = [None] * len(violations)
        combined: list[Edit] = []
        for part, indices in by_part.items():
            module, source, line_map = result.parts[part]
            nodes = [violations[i].node for i in indices]
            source_lines = source.split("\n")
            rewrites = fixer.rewrites_for(nodes, [violations[i] for i in indices])
            for members, entry in fixer.statement_edits(module, nodes, source, together, rewrites):
                if entry is None:
                    if together:
                        return None
                    continue
                edit, first, last = entry
                shift = 0
                if line_map is not None:
                    start = line_map[first - 1]
                    for k in range(first, last + 1):
                        number = line_map[k - 1]
                        if number != start + k - first or source_lines[k - 1] != (
                            whole_lines[number - 1] if number <= len(whole_lines) else None
                        ):
                            edit = None  # the statement is not the file's, verbatim
                            break
                    shift = start - first
                if edit is None:
                    if together:
                        return None
                    continue
                moved = replace(edit, line=edit.line + shift, end_line=edit.end_line + shift)
                combined.append(moved)
                for member in members:
                    found[indices[member]] = moved
        return combined if together else found

    def fixed_text(self, result: FileResult, violations: list[Violation]) -> str | None:
        """The whole file with the violations' nodes removed, computed on the analysed
        parts; None when that takes the whole file."""
        from timestamp_lint import fix as fixer

        edits = self.part_edits(result, violations, together=True)
        if edits is None or result.text is None:
            return None
        try:
            return fixer.apply_edits(result.text, edits)
        except fixer.FixError:
            return None

    def removal_nodes(
        self, result: FileResult, violations: list[Violation]
    ) -> tuple[cst.Module, list[cst.CSTNode]] | None:
        """For a fix, which renders the whole file: the whole module and the node of each
        violation in it. None when that takes analysing the file again, whole."""
        if not result.focused and result.module is not None:
            return result.module, [v.node for v in violations]
        text = result.text or ""
        from timestamp_lint import analysis  # a parse of the whole file, not an analysis

        return analysis.locate(text, violations)


# --------------------------------------------------------------------------- large modules
#
# LibCST's cost grows with the code it analyses (about a second per 1,000 lines), so a large
# module is analysed in parts: the module-level code that is not a definition (imports,
# assignments) with a share of its top-level functions and classes each, and a stub line
# binding the other parts' classes it names. A definition binds no value the rules follow
# (only its name, which the stub binds too), and each rule traces names within one
# function or class body, so every part sees what the whole module would show for its
# definitions; findings in module-level code, seen by every part, are kept once. Time and
# memory grow with the code that can matter, not with its square.
#
# Before that, a source over `source.LARGE_SOURCE` characters is parsed by `ast` in chunks
# of top-level statements (CPython's parser peaks at about 150 bytes per byte of source),
# each chunk summarized for the index and then trimmed of the function bodies no later
# stage reads (`trim_functions`): the tree the prescreen and the focus see holds the
# module-level code and the functions that can matter.

PART_LINES = 4_000  # lines of definitions per part, besides the module-level code


def collapse_stubs(source: str, line_map: list[int]) -> tuple[str, list[int]]:
    """The focused source without the `pass` lines that stand for left-out functions
    where they are not needed (at module level, and after an identical `pass` line), and
    without the blank lines that follow a blank line: LibCST's cost grows with both, and
    neither changes what the rules see."""
    lines = source.split("\n")
    kept: list[str] = []
    numbers: list[int] = []
    for line, number in zip(lines, line_map, strict=True):
        if line == "pass" or (line.lstrip() == "pass" and kept and kept[-1] == line):
            continue
        if kept and not line.strip() and not kept[-1].strip():
            continue
        kept.append(line)
        numbers.append(number)
    if len(kept) == len(lines):
        return source, line_map
    return "\n".join(kept), numbers


def _parse_or_none(source: str, path: Path) -> tuple[ast.Module | None, int]:
    """The tree of a focused source, and its depth; a large one is parsed in chunks and
    keeps only what `split_module` asks of it: its top-level statements, bodies left out."""
    try:
        if not is_large(source):
            tree = parse_python(source, path)
            return tree, max_depth(tree)
        body: list[ast.stmt] = []
        depth = 0
        for chunk in parse_chunks(source, path):
            depth = max(depth, max_depth(chunk))
            for statement in chunk.body:
                if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    statement.body = [_stub(statement.body)]
                    body.append(statement)
                else:
                    body.append(_stub([statement]))
        return ast.Module(body=body, type_ignores=[]), depth
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, 0


# What a function's text holds when a trimmed tree must keep its body: the prescreen reads
# the bodies of functions that hold no candidate only for these (TSL004's clone words and
# the names saved anywhere, `global` and nested imports that widen a region's bindings).
# Found as plain substrings: a word inside a longer one keeps a body it need not keep.
_KEEP_WORDS = (
    "**", "save", "add", "merge", "global", "nonlocal", "import", "copy", "make_transient",
    "setattr", "__dict__", "__table__", "__mapper__", "vars(", "_dict", "_meta", "inspect(",
    ".values", "defaults", ".pk", ".id",
)  # fmt: skip
_NAME = re.compile(r"[^\W\d]\w*")  # an identifier


def keep_lines(text: str, fields: frozenset[str]) -> list[int]:
    """Sorted numbers of the lines that hold a field's name or one of `_KEEP_WORDS`."""
    offsets = []
    for word in (*fields, *_KEEP_WORDS):
        start = text.find(word)
        while start >= 0:
            offsets.append(start)
            start = text.find(word, start + len(word))
    lines: list[int] = []
    line, previous = 1, 0
    for offset in sorted(offsets):
        line += text.count("\n", previous, offset)
        previous = offset
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


_NO_ARGUMENTS = ast.arguments(
    posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
)


def _touches(lines: list[int], first: int, last: int) -> bool:
    index = bisect.bisect_left(lines, first)
    return index < len(lines) and lines[index] <= last


def _stub(statements: list[ast.stmt]) -> ast.Pass:
    """A `pass` spanning `statements`: what stands for a body left out of a tree."""
    first, last = statements[0], statements[-1]
    return ast.Pass(
        lineno=first.lineno,
        col_offset=first.col_offset,
        end_lineno=last.end_lineno,
        end_col_offset=last.end_col_offset,
    )


def trim_functions(statements: list[ast.stmt], lines: list[int], keep: list[int]) -> None:
    """Leave out, in place, the bodies of the functions (methods, functions under `if`,
    `try`, `with`) of a chunk of a large module that the later stages never read: no line
    where a field may get a value (`lines`) lies in them, and none of the lines that hold a
    word the prescreen looks for elsewhere (`keep`, see `keep_lines`). The function keeps
    its name, position, decorators and the place of its body (a `pass` spanning it), which
    is what the prescreen and the focus ask of it (its signature, which holds no candidate,
    goes too); the module summary was made from the untrimmed chunk. A large module's tree
    is thus mostly module-level code, and memory grows with the code that can matter."""
    stack = list(statements)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            last = node.end_lineno or node.lineno
            if not _touches(lines, first, last) and not _touches(keep, first, last):
                node.body = [_stub(node.body)]
                node.args, node.returns = _NO_ARGUMENTS, None  # nor its signature
        elif isinstance(node, ast.ClassDef | ast.If | ast.Try | ast.With | ast.AsyncWith):
            for name in ("body", "orelse", "finalbody"):
                stack.extend(getattr(node, name, ()))
            for handler in getattr(node, "handlers", ()):
                stack.extend(handler.body)


def split_module(
    source: str, line_map: list[int] | None, tree: ast.Module | None
) -> list[tuple[str, list[int]]] | None:
    """`source` in parts of at most `MAX_ANALYSED_LINES` lines of code, with their line
    maps: each part is the module-level code that is not a definition, and a share of the
    top-level functions and classes, in order; a class of another part that the part names
    is bound by one stub line (`A = B = ...`) so that names resolve as in the whole module.
    None when the module-level code or one definition alone is too large."""
    if tree is None:
        return None
    lines = source.split("\n")
    numbers = line_map if line_map is not None else list(range(1, len(lines) + 1))
    prologue: list[int] = []  # line indices (0-based) of module-level code
    units: list[tuple[list[int], str | None]] = []  # definitions: lines, and a class's name
    for statement in tree.body:
        decorators = getattr(statement, "decorator_list", [])
        first = min([statement.lineno, *(d.lineno for d in decorators)])
        span = list(range(first - 1, statement.end_lineno or statement.lineno))
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            units.append((span, None))
        elif isinstance(statement, ast.ClassDef):
            units.append((span, statement.name))
        else:
            prologue.extend(span)
    prologue_size = sum(1 for i in prologue if lines[i].strip())
    if prologue_size > MAX_ANALYSED_LINES // 2 or not units:
        return None
    budget = min(PART_LINES, MAX_ANALYSED_LINES - prologue_size)
    groups: list[list[tuple[list[int], str | None]]] = [[]]
    size = 0
    for unit in units:
        lines_of_code = sum(1 for i in unit[0] if lines[i].strip())
        if prologue_size + lines_of_code > MAX_ANALYSED_LINES:
            return None
        if groups[-1] and size + lines_of_code > budget:
            groups.append([])
            size = 0
        groups[-1].append(unit)
        size += lines_of_code
    classes = {name for _, name in units if name is not None}
    parts = []
    for group in groups:
        chosen = sorted({*prologue, *(i for span, _ in group for i in span)})
        text = "\n".join(lines[i] for i in chosen) + "\n"
        part_map = [numbers[i] for i in chosen]
        if len(groups) > 1 and classes:
            own = {name for _, name in group if name is not None}
            named = (classes - own) & set(_NAME.findall(text))
            if named:  # bound where the part ends, numbered as its last line
                text += " = ".join(sorted(named)) + " = ...\n"
                part_map.append(part_map[-1])
        parts.append((text, [*part_map, numbers[chosen[-1]] + 1]))
    return parts
