"""`--since REV`: changed lines from real git repositories, and the finding filter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from timestamp_lint.ftypes import PARSE_ERROR, Finding, UserError
from timestamp_lint.since import ChangedLines, changed_lines, filter_findings, parse_diff

TEN_LINES = "".join(f"line_{n} = {n}\n" for n in range(1, 11))


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the user's git settings and any enclosing repository out of the tests."""
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def make_repo(path: Path, files: dict[str, str]) -> Path:
    """A repository at `path` whose first commit holds `files`."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test")
    git(path, "config", "user.email", "test@example.com")
    write(path, files)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "first")
    return path


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def finding(path: Path, line: int, end_line: int | None = None, code: str = "TSL001") -> Finding:
    return Finding(
        path=path,
        line=line,
        column=1,
        code=code,
        message="m",
        end_line=line if end_line is None else end_line,
        end_column=2,
    )


def kept_lines(findings: list[Finding], changed: ChangedLines) -> list[int]:
    return [f.line for f in filter_findings(findings, changed)]


def replace_lines(path: Path, edits: dict[int, str]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for number, text in edits.items():
        lines[number - 1] = text
    path.write_text("".join(lines), encoding="utf-8")


def test_modified_and_added_lines_are_kept_unchanged_dropped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": TEN_LINES})
    # line 2 modified, a line inserted after line 4 (so old 5..10 are now 6..11)
    replace_lines(repo / "app.py", {2: "line_2 = 'two'\n", 4: "line_4 = 4\nadded = True\n"})
    changed = changed_lines(repo, "HEAD")
    app = repo / "app.py"
    findings = [finding(app, n) for n in (1, 2, 3, 4, 5, 6, 11)]
    assert kept_lines(findings, changed) == [2, 5]
    # a finding spanning several lines is kept when any of them changed
    assert kept_lines([finding(app, 1, end_line=2), finding(app, 6, end_line=9)], changed) == [1]


def test_untracked_files_are_changed_throughout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": TEN_LINES, ".gitignore": "ignored.py\n"})
    write(repo, {"new/module.py": TEN_LINES, "ignored.py": TEN_LINES})
    changed = changed_lines(repo, "HEAD")
    new = repo / "new" / "module.py"
    assert kept_lines([finding(new, 1), finding(new, 10), finding(new, 500)], changed) == [
        1,
        10,
        500,
    ]
    assert kept_lines([finding(new, 3, code=PARSE_ERROR)], changed) == [3]
    assert kept_lines([finding(repo / "ignored.py", 1), finding(repo / "app.py", 1)], changed) == []


def test_staged_and_committed_changes_count(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": TEN_LINES, "b.py": TEN_LINES})
    first = git(repo, "rev-parse", "HEAD")
    replace_lines(repo / "a.py", {3: "line_3 = 'committed'\n"})
    git(repo, "commit", "-q", "-am", "second")
    replace_lines(repo / "b.py", {7: "line_7 = 'staged'\n"})
    write(repo, {"c.py": TEN_LINES})
    git(repo, "add", "b.py", "c.py")
    replace_lines(repo / "a.py", {9: "line_9 = 'unstaged'\n"})

    changed = changed_lines(repo, first)
    a, b, c = repo / "a.py", repo / "b.py", repo / "c.py"
    findings = [finding(a, n) for n in (1, 3, 9)] + [finding(b, n) for n in (6, 7)]
    assert [(f.path.name, f.line) for f in filter_findings(findings, changed)] == [
        ("a.py", 3),
        ("a.py", 9),
        ("b.py", 7),
    ]
    assert kept_lines([finding(c, 4)], changed) == [4]  # staged new file: all of it
    # relative to HEAD the committed change is no longer new
    assert kept_lines([finding(a, 3), finding(a, 9)], changed_lines(repo, "HEAD")) == [9]


def test_renamed_file_reports_only_its_edited_lines(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"old_name.py": TEN_LINES})
    git(repo, "mv", "old_name.py", "new_name.py")
    replace_lines(repo / "new_name.py", {5: "line_5 = 'edited'\n"})
    changed = changed_lines(repo, "HEAD")
    new = repo / "new_name.py"
    assert kept_lines([finding(new, n) for n in range(1, 11)], changed) == [5]
    assert not changed.touches(repo / "old_name.py")


def test_deleted_lines_and_files_leave_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": TEN_LINES, "gone.py": TEN_LINES})
    replace_lines(repo / "a.py", {4: ""})
    (repo / "gone.py").unlink()
    changed = changed_lines(repo, "HEAD")
    assert kept_lines([finding(repo / "a.py", n) for n in range(1, 10)], changed) == []
    assert not changed.touches(repo / "gone.py")


def test_root_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"backend/app/x.py": TEN_LINES, "other/y.py": TEN_LINES})
    replace_lines(repo / "backend/app/x.py", {2: "line_2 = 'x'\n"})
    replace_lines(repo / "other/y.py", {3: "line_3 = 'y'\n"})
    write(repo, {"backend/new.py": "n = 1\n"})
    changed = changed_lines(repo / "backend", "HEAD")
    x = repo / "backend" / "app" / "x.py"
    assert kept_lines([finding(x, 1), finding(x, 2)], changed) == [2]
    assert kept_lines([finding(repo / "backend" / "new.py", 1)], changed) == [1]
    assert changed.touches(repo / "other" / "y.py")  # git's paths are anchored at the top


def test_relative_and_unresolved_finding_paths_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo", {"pkg/a.py": TEN_LINES})
    replace_lines(repo / "pkg/a.py", {2: "line_2 = 'x'\n"})
    (tmp_path / "link").symlink_to(repo, target_is_directory=True)
    changed = changed_lines(tmp_path / "link" / "pkg", "HEAD")
    monkeypatch.chdir(repo / "pkg")
    assert kept_lines([finding(Path("a.py"), 2)], changed) == [2]
    assert kept_lines([finding(tmp_path / "link" / "pkg" / ".." / "pkg" / "a.py", 2)], changed) == [
        2
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="quotes and backslashes in file names")
def test_unusual_file_names(tmp_path: Path) -> None:
    names = ["my dir/a file.py", 'quote"d.py', "back\\slash.py", "caf\u00e9.py", "tab\tname.py"]
    repo = make_repo(tmp_path / "repo", dict.fromkeys(names, TEN_LINES))
    for name in names:
        replace_lines(repo / name, {4: "line_4 = 'changed'\n"})
    write(repo, {"new dir/b file.py": "b = 1\n"})
    changed = changed_lines(repo, "HEAD")
    for name in names:
        assert kept_lines([finding(repo / name, 3), finding(repo / name, 4)], changed) == [4], name
    assert changed.contains(repo / "new dir" / "b file.py", 1, 1)


def test_content_that_looks_like_diff_headers(tmp_path: Path) -> None:
    """Hunk bodies are skipped by count: an added line `++ b/x` shows as `+++ b/x`."""
    repo = make_repo(tmp_path / "repo", {"a.py": "one\ntwo", "b.py": TEN_LINES})
    (repo / "a.py").write_text("++ b/evil.py\n@@ -1 +1,100 @@\ndiff --git a/b.py b/b.py\ntwo\n")
    replace_lines(repo / "b.py", {6: "line_6 = 'x'\n"})
    changed = changed_lines(repo, "HEAD")
    assert set(changed.ranges) == {repo / "a.py", repo / "b.py"}
    assert changed.ranges[repo / "a.py"] == ((1, 4),)  # "two" gained its newline
    assert changed.ranges[repo / "b.py"] == ((6, 6),)


def test_parse_diff_handles_no_newline_markers_and_deletions() -> None:
    patch = (
        b"diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n"
        b"@@ -3 +3 @@\n-old\n\\ No newline at end of file\n+new\n\\ No newline at end of file\n"
        b"diff --git a/gone.py b/gone.py\ndeleted file mode 100644\n--- a/gone.py\n+++ /dev/null\n"
        b"@@ -1,2 +0,0 @@\n-a\n-b\n"
        b'diff --git "a/t\\tq" "b/t\\tq"\n--- "a/t\\tq"\n+++ "b/t\\tq"\n@@ -0,0 +1,2 @@\n+a\n+b\n'
    )
    assert parse_diff(patch) == {"x.py": ((3, 3),), "t\tq": ((1, 2),)}


def test_outside_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(UserError, match=r"^--since requires a git repository: .*plain is not"):
        changed_lines(tmp_path / "plain", "HEAD")


@pytest.mark.parametrize("rev", ["no-such-branch", "--output=/tmp/x", "", "HEAD~5"])
def test_unknown_revision(tmp_path: Path, rev: str) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": TEN_LINES})
    with pytest.raises(UserError) as caught:
        changed_lines(repo, rev)
    assert str(caught.value) == f"--since: unknown git revision {rev!r}"


def test_git_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(UserError, match=r"^--since requires git, which is not installed"):
        changed_lines(tmp_path, "HEAD")


def test_repository_settings_do_not_change_the_result(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"sub/a b.py": TEN_LINES})
    for key, value in {
        "diff.noprefix": "true",
        "diff.mnemonicPrefix": "true",
        "diff.relative": "true",
        "diff.interHunkContext": "10",
        "diff.context": "5",
        "diff.external": "false",
        "diff.renames": "false",
        "color.ui": "always",
        "color.diff": "always",
        "core.quotepath": "true",
    }.items():
        git(repo, "config", key, value)
    replace_lines(repo / "sub/a b.py", {2: "line_2 = 'x'\n", 8: "line_8 = 'y'\n"})
    changed = changed_lines(repo / "sub", "HEAD")
    assert changed.ranges == {repo / "sub" / "a b.py": ((2, 2), (8, 8))}
