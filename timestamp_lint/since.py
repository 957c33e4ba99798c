"""`--since REV`: keep only findings on lines changed since a git revision.

"Changed" means what `git diff REV` shows against the work tree (commits since REV, staged
and unstaged edits) plus every untracked, not ignored file, so a review sees exactly the
findings its change introduces. Lines that were only deleted leave nothing to report on.

git is run as a program (no shell, fixed arguments, `LC_ALL=C`) and its patch output is read
as bytes: only hunk headers and `+++` file headers are parsed, and hunk bodies are skipped by
their line counts, so no file content can be mistaken for a header. Options that user or
repository configuration could change (prefixes, relative paths, context, external diff
drivers, text conversion, path quoting) are fixed on the command line.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from timestamp_lint.ftypes import PARSE_ERROR, Finding, UserError

GIT_TIMEOUT = 120  # seconds; a diff of a large repository against an old revision is slow
HUNK_RE = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
C_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("t"): 9,
    ord("n"): 10,
    ord("v"): 11,
    ord("f"): 12,
    ord("r"): 13,
    ord('"'): ord('"'),
    ord("\\"): ord("\\"),
}

LineRange = tuple[int, int]  # first and last line, 1-based, inclusive


@dataclass(frozen=True)
class ChangedLines:
    """The changed lines of a work tree, keyed by absolute path (folders resolved).

    `ranges` holds the added or modified lines of tracked files; `new_files` the untracked
    files, which count as changed throughout.
    """

    ranges: Mapping[Path, tuple[LineRange, ...]]
    new_files: frozenset[Path]

    def touches(self, path: Path) -> bool:
        """Whether the file has any changed line (or is untracked): worth linting at all."""
        key = _key(path)
        return key in self.new_files or key in self.ranges

    def contains(self, path: Path, line: int, end_line: int) -> bool:
        """Whether any line from `line` to `end_line` (inclusive) is changed."""
        key = _key(path)
        if key in self.new_files:
            return True
        return any(first <= end_line and line <= last for first, last in self.ranges.get(key, ()))


def filter_findings(findings: Iterable[Finding], changed: ChangedLines) -> list[Finding]:
    """The findings on changed lines. A file that cannot be read or parsed (`TSL999`) is
    reported whenever the file changed: its error position says nothing about the edit."""
    kept = []
    for finding in findings:
        if finding.code == PARSE_ERROR:
            keep = changed.touches(finding.path)
        else:
            keep = changed.contains(finding.path, finding.line, max(finding.line, finding.end_line))
        if keep:
            kept.append(finding)
    return kept


def changed_lines(root: Path, rev: str) -> ChangedLines:
    """The lines added or changed since `rev` in the git work tree holding `root`.

    Raises `UserError` when git is missing, `root` is not in a work tree or `rev` is unknown.
    """
    root = Path(os.path.abspath(root))
    if not root.is_dir():
        raise UserError(f"--since requires a git repository: {root} is not a folder")
    done = _git(["rev-parse", "--show-toplevel"], root)
    if done.returncode != 0:
        raise UserError(f"--since requires a git repository: {root} is not inside one")
    top = Path(os.fsdecode(done.stdout.rstrip(b"\n"))).resolve()
    # A revision starting with "-" would be read as an option; past this check only the
    # commit id it names reaches `git diff`.
    if rev.startswith("-") or not rev.strip():
        raise UserError(f"--since: unknown git revision {rev!r}")
    done = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top)
    if done.returncode != 0:
        raise UserError(f"--since: unknown git revision {rev!r}")
    commit = done.stdout.decode("ascii").strip()
    diff = _git(
        [
            "-c",
            "core.quotepath=off",
            "-c",
            "diff.relative=false",
            "diff",
            "--unified=0",
            "--inter-hunk-context=0",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--find-renames",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            commit,
            "--",
        ],
        top,
    )
    _check(diff, "git diff")
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], top)
    _check(untracked, "git ls-files")
    new_files = frozenset(top / os.fsdecode(name) for name in untracked.stdout.split(b"\0") if name)
    ranges = {top / name: spans for name, spans in parse_diff(diff.stdout).items()}
    return ChangedLines(ranges, new_files)


def parse_diff(patch: bytes) -> dict[str, tuple[LineRange, ...]]:
    """New-side line ranges per file (path relative to the repository, as git prints it)
    from `git diff --unified=0` output. Deleted files and hunks that only delete are absent."""
    found: dict[str, list[LineRange]] = {}
    current: str | None = None
    skip = 0  # hunk body lines still to pass over
    for raw in patch.split(b"\n"):
        if skip:
            if not raw.startswith(b"\\"):  # "\ No newline at end of file" is not counted
                skip -= 1
            continue
        if raw.startswith(b"diff "):
            current = None
        elif raw.startswith(b"+++ ") and current is None:
            current = _header_path(raw[4:])
        elif match := HUNK_RE.match(raw):
            old_count, start, new_count = match.groups()
            old_lines = 1 if old_count is None else int(old_count)
            new_lines = 1 if new_count is None else int(new_count)
            skip = old_lines + new_lines
            if current is not None and new_lines:
                first = int(start)
                found.setdefault(current, []).append((first, first + new_lines - 1))
    return {path: tuple(spans) for path, spans in found.items()}


def _header_path(text: bytes) -> str | None:
    """The path of a `+++ b/path` header: None for /dev/null. Git C-quotes unusual names
    and ends the line with a tab when the name holds a space."""
    text = _unquote(text) if text.startswith(b'"') else text.removesuffix(b"\t")
    if not text.startswith(b"b/"):
        return None  # /dev/null: the file was deleted
    return os.fsdecode(text[2:])


def _unquote(text: bytes) -> bytes:
    """Undo git's C-style quoting: `"b/a\\tb\\303\\251"` -> the name's bytes."""
    end = text.rfind(b'"')
    body = text[1:end] if end > 0 else text[1:]
    out = bytearray()
    i = 0
    while i < len(body):
        byte = body[i]
        if byte != ord("\\") or i + 1 == len(body):
            out.append(byte)
            i += 1
        elif body[i + 1 : i + 4].isdigit():
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(C_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
    return bytes(out)


def _key(path: Path) -> Path:
    """How paths are compared: absolute, folders resolved, the file name kept as is (git
    tracks a symlinked file under its own name)."""
    path = Path(os.path.abspath(path))
    return path.parent.resolve() / path.name


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=GIT_TIMEOUT,
            env={**os.environ, "LC_ALL": "C", "GIT_PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0"},
            check=False,
        )
    except FileNotFoundError:
        raise UserError("--since requires git, which is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"--since: git did not finish within {GIT_TIMEOUT} seconds") from None


def _check(done: subprocess.CompletedProcess[bytes], what: str) -> None:
    if done.returncode != 0:
        lines = os.fsdecode(done.stderr).strip().splitlines() or [f"exit status {done.returncode}"]
        raise UserError(f"--since: {what} failed: {lines[0]}")
