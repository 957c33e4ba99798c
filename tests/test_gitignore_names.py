"""`globs.GitIgnore` asks git about each file by its path relative to the root, however the
files and the root are spelled."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from pathlib import Path

import pytest

from timestamp_lint.globs import GitIgnore, _relative_name

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def without_gitignored(files: list[Path], root: Path) -> list[Path]:
    with GitIgnore(root) as ignore:
        return ignore.filter(files)


def _repo(root: Path) -> list[Path]:
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / ".gitignore").write_text("ignored.py\nsub/gen/\n")
    paths = ["keep.py", "ignored.py", "sub/gen/a.py", "sub/ok.py", "sub/ignored.py"]
    for rel in paths:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")
    return [root / rel for rel in paths]


def test_absolute_files_under_absolute_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    files = _repo(root)
    kept = without_gitignored(files, root)
    assert kept == [root / "keep.py", root / "sub" / "ok.py"]


def test_relative_root_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _repo(tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo" / "sub")
    root = Path("..")
    relative = [Path(os.path.relpath(f)) for f in files]
    assert without_gitignored(relative, root) == [Path("../keep.py"), Path("ok.py")]


def test_names_are_relative_to_the_root_only() -> None:
    root = Path("/srv/app")
    files = [Path("/srv/app/pkg/m.py"), Path("/srv/application/x.py"), Path("/srv/app")]
    names = [_relative_name(file, "/srv/app/", root) for file in files]
    assert names == [b"pkg/m.py", b"../application/x.py", b"."]
    assert _relative_name(Path("/a.py"), "/", Path("/")) == b"a.py"


def test_git_starts_before_the_walk_and_stops_when_it_fails(tmp_path: Path) -> None:
    """git is started before the files are known (the walk runs while it starts); a walk
    that fails leaves no git process behind, and an empty walk asks git nothing."""
    root = tmp_path / "repo"
    files = _repo(root)
    with GitIgnore(root) as ignore:
        assert ignore._git is not None and ignore._git.poll() is None  # started, waiting
        assert ignore.filter(files) == [root / "keep.py", root / "sub" / "ok.py"]
        assert ignore.filter(files) == files  # asked once
    with pytest.raises(RuntimeError), GitIgnore(root) as ignore:
        git = ignore._git
        raise RuntimeError("the walk failed")
    assert git is not None and git.returncode is not None  # stopped and reaped
    with GitIgnore(root) as ignore:
        assert ignore.filter([]) == []


def test_names_go_to_git_while_the_walk_runs(tmp_path: Path) -> None:
    """A walk given to `filter` sends each name as it comes: git has matched (and written
    out) the first names before the walk ends. Thousands of ignored names, more than a pipe
    holds both ways, neither block the walk nor hang the run."""
    root = tmp_path / "repo"
    _repo(root)
    names = [f"pkg/module_{i:05}.{'gen' if i % 3 else 'src'}.py" for i in range(6000)]
    (root / ".gitignore").write_text("*.gen.py\n")
    answered: list[bool] = []

    with GitIgnore(root) as ignore:
        git = ignore._git
        assert git is not None and git.stdout is not None

        def walk():
            for name in names[:-1]:
                yield root / name
            readable, _, _ = select.select([git.stdout], [], [], 30)
            answered.append(bool(readable))
            yield root / names[-1]

        kept = ignore.filter(walk())
    assert answered == [True]
    assert kept == [root / name for name in names if name.endswith(".src.py")]


def test_a_walk_that_fails_while_names_are_sent_stops_git(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _repo(root)

    def walk():
        for i in range(2000):
            yield root / f"m{i}.py"
        raise RuntimeError("the walk failed")

    with GitIgnore(root) as ignore:
        git = ignore._git
        with pytest.raises(RuntimeError):
            ignore.filter(walk())
    assert git is not None and git.returncode is not None  # stopped and reaped
