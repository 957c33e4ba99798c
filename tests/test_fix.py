"""--fix: golden before/after files, and the invariants every fix must keep."""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import stat
import tokenize
from collections import Counter
from pathlib import Path

import pytest

from timestamp_lint import analysis
from timestamp_lint import fix as fixer
from timestamp_lint.api import Options, fix_paths, lint_paths

from .conftest import FIXTURES, remove_reported, run_cli

CASES = FIXTURES / "fixes" / "app" / "cases"
EDITS = Options(edits=True)  # fixes with their text edits, as SARIF output asks for
NAMES = sorted(p.name for p in CASES.glob("*.py") if p.name != "__init__.py")


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fixes"
    shutil.copytree(FIXTURES / "fixes", root)
    monkeypatch.chdir(root)
    return root


def _golden(name: str) -> Path:
    return CASES / f"{name}.fixed"


@pytest.mark.parametrize("path", ["located", "analysed whole"])
def test_golden_files(copy: Path, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Safe fixes first (unsafe.py must not change), then unsafe ones. The nodes to remove
    are found in the whole module by position (after a focused analysis), or, when that
    fails, by analysing the whole file again: both give the same files."""
    if path == "analysed whole":
        monkeypatch.setattr(analysis, "locate", lambda text, violations: None)
    safe = fix_paths(["."], options=Options(cache=False))
    assert (copy / "app/cases/unsafe.py").read_bytes() == (CASES / "unsafe.py").read_bytes()
    assert safe.fixed > 0 and not safe.errors
    fix_paths(["."], unsafe=True, options=Options(cache=False))
    for name in NAMES:
        fixed = (copy / "app/cases" / name).read_text(encoding="utf-8")
        if os.environ.get("TSL_UPDATE_SNAPSHOTS"):
            _golden(name).write_text(fixed, encoding="utf-8")
        assert fixed == _golden(name).read_text(encoding="utf-8"), name


@pytest.mark.parametrize("name", NAMES)
def test_fix_invariants(copy: Path, name: str) -> None:
    path = copy / "app/cases" / name
    before = path.read_text(encoding="utf-8")
    reported = [f for f in lint_paths([path], options=EDITS).findings if f.fix is not None]
    assert reported, "a case without fixable findings"
    result = fix_paths([path], unsafe=True)
    after = path.read_text(encoding="utf-8")
    assert result.fixed == len(reported)
    # the result parses, and its AST is the original's minus exactly the reported nodes
    expected = ast.parse(before)
    remove_reported(expected, {(f.line, f.column - 1) for f in reported})
    assert ast.dump(ast.parse(after)) == ast.dump(expected)
    # a second --fix changes nothing; re-linting shows none of the fixed findings
    assert fix_paths([path], unsafe=True).fixed == 0
    assert path.read_text(encoding="utf-8") == after
    assert [f for f in lint_paths([path]).findings if f.fix is not None] == []
    # every comment outside the removed text is still there, in order; none is new
    edits = [edit for f in reported for edit in f.fix.edits]

    def removed(line: int, column: int) -> bool:
        return any(
            (e.line, e.column) <= (line, column + 1) < (e.end_line, e.end_column) for e in edits
        )

    outside = [c for line, column, c in _comments_at(before) if not removed(line, column)]
    survivors = iter(_comments(after))
    assert all(any(c == s for s in survivors) for c in outside)
    assert not Counter(_comments(after)) - Counter(_comments(before))


def _comments_at(text: str) -> list[tuple[int, int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [(*t.start, t.string) for t in tokens if t.type == tokenize.COMMENT]


def _comments(text: str) -> list[str]:
    return [comment for _, _, comment in _comments_at(text)]


def test_fix_objects_in_json(copy: Path) -> None:
    findings = json.loads(run_cli("--output-format", "json", cwd=copy).stdout)
    by_place = {(f["path"], f["line"]): f["fix"] for f in findings}
    assert by_place[("app/cases/kwargs.py", 9)]["applicability"] == "safe"
    assert "server_default=func.now()" in by_place[("app/cases/kwargs.py", 9)]["message"]
    assert by_place[("app/cases/unsafe.py", 5)]["applicability"] == "unsafe"
    shared = by_place[("app/cases/dicts.py", 11)]
    assert shared["applicability"] == "unsafe" and "may be used elsewhere" in shared["message"]
    assert by_place[("app/cases/django_calls.py", 17)] is None  # a lookup: no automatic fix
    assert by_place[("app/models.py", 20)] is None  # TSL003


SOURCE = (
    "# -*- coding: {coding} -*-\n"
    "# caf\u00e9\n"
    "from app.models import Flow\n"
    "\n"
    "\n"
    "def f(m):\n"
    "    return Flow(\n"
    "        name=m.name,\n"
    "        created_at=m.created_at,\n"
    "    )\n"
)
FIXED = SOURCE.replace("        created_at=m.created_at,\n", "")


@pytest.mark.parametrize(
    ("coding", "newline", "bom"),
    [
        ("utf-8", "\n", False),
        ("utf-8", "\r\n", False),
        ("utf-8", "\n", True),
        ("latin-1", "\n", False),
    ],
)
def test_encoding_newlines_and_mode_are_kept(
    copy: Path, coding: str, newline: str, bom: bool
) -> None:
    path = copy / "app" / "encoded.py"

    def encoded(text: str) -> bytes:
        data = text.format(coding=coding).replace("\n", newline).encode(coding)
        return b"\xef\xbb\xbf" + data if bom else data

    path.write_bytes(encoded(SOURCE))
    path.chmod(0o640)
    result = fix_paths([path])
    assert result.fixed == 1 and not result.errors
    assert path.read_bytes() == encoded(FIXED)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tsl-tmp")] == []


def test_unparseable_file_is_never_rewritten(copy: Path) -> None:
    path = copy / "app" / "broken.py"
    data = b"from app.models import Flow\nFlow(created_at=m.created_at\n"
    path.write_bytes(data)
    result = fix_paths([path], unsafe=True)
    assert [f.code for f in result.findings] == ["TSL999"]
    assert path.read_bytes() == data


def test_file_changed_on_disk_is_not_overwritten(copy: Path) -> None:
    path = copy / "app/cases/unsafe.py"
    original = path.read_bytes()
    path.write_bytes(original + b"# edited meanwhile\n")
    with pytest.raises(fixer.FixError, match="changed on disk"):
        fixer.write_atomic(path, b"x = 1\n", original)
    assert path.read_bytes() == original + b"# edited meanwhile\n"


def test_symlink_is_reported_not_written(copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    shutil.copy(CASES / "kwargs.py", outside)
    link = copy / "app" / "linked.py"
    link.symlink_to(outside)
    result = fix_paths([link])
    assert result.errors == ("app/linked.py: not fixed: the path is a symlink",)
    assert outside.read_bytes() == (CASES / "kwargs.py").read_bytes()
    assert link.is_symlink()


def test_cli_diff_writes_nothing(copy: Path) -> None:
    before = (copy / "app/cases/kwargs.py").read_bytes()
    result = run_cli("--diff", cwd=copy)
    assert result.returncode == 1
    assert "--- a/app/cases/kwargs.py\n+++ b/app/cases/kwargs.py\n" in result.stdout
    assert "-    return Flow(created_at=m.created_at)  # expect: TSL001\n" in result.stdout
    assert result.stderr.startswith("Would fix ")
    assert (copy / "app/cases/kwargs.py").read_bytes() == before
    clean = run_cli("--diff", "app/models.py", cwd=copy)
    assert (clean.returncode, clean.stdout) == (0, "")


def test_cli_fix_summary_and_exit_status(copy: Path) -> None:
    result = run_cli("--fix", cwd=copy)
    # unsafe: Legacy has no default, and entries of dicts built apart from the call
    assert result.returncode == 1
    assert result.stdout.splitlines()[-2:] == [
        "Fixed 19 findings (6 remaining).",
        "4 hidden fixes can be enabled with the `--unsafe-fixes` option.",
    ]
    result = run_cli("--fix", "--unsafe-fixes", cwd=copy)
    assert result.stdout.splitlines()[-1] == "Fixed 4 findings (2 remaining)."  # lookup, TSL003
    result = run_cli("--fix", "app/cases/kwargs.py", cwd=copy)
    assert (result.returncode, result.stdout) == (0, "Fixed 0 findings (0 remaining).\n")


def _apply_edits(text: str, edits) -> str:
    """Apply non-overlapping edits (1-based, end exclusive), last first."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    for edit in sorted(edits, key=lambda e: (e.line, e.column), reverse=True):
        start, end = offset(edit.line, edit.column), offset(edit.end_line, edit.end_column)
        text = text[:start] + edit.replacement + text[end:]
    return text


@pytest.mark.parametrize("name", NAMES)
def test_each_findings_edit_removes_exactly_its_node(copy: Path, name: str) -> None:
    """The edit in a finding's `fix` (JSON, SARIF) stands alone: applied by itself to the
    original it gives valid code whose AST is the original's minus that one node."""
    path = copy / "app/cases" / name
    before = path.read_text(encoding="utf-8")
    fixable = [f for f in lint_paths([path], options=EDITS).findings if f.fix]
    assert fixable
    for finding in fixable:
        expected = ast.parse(before)
        remove_reported(expected, {(finding.line, finding.column - 1)})
        after = _apply_edits(before, finding.fix.edits)
        assert ast.dump(ast.parse(after)) == ast.dump(expected), finding
