"""`discover.walk_python_files`: the files a walk yields, in sorted order, with `exclude`
matched by name on every component and by pattern on the whole relative path."""

from __future__ import annotations

from pathlib import Path

from timestamp_lint.discover import walk_python_files
from timestamp_lint.globs import PathMatcher

FILES = [
    "a-b.py",
    "a.py",
    "a/b/c.py",
    "a/z.py",
    "a/zz.py",
    "B.py",
    "b.py",
    "build/gen.py",
    "pkg/build/gen.py",
    "pkg/docs/conf.py",
    "pkg/m.py",
    "pkg/mod.txt",
    "z.py",
    "zz/a.py",
]


def _tree(root: Path) -> Path:
    for name in FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n")
    return root


def _walk(directory: Path, root: Path, *patterns: str) -> list[str]:
    found = walk_python_files(directory, root, PathMatcher(patterns))
    return [path.relative_to(root).as_posix() for path in found]


def test_a_walk_yields_its_files_in_sorted_order(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    walked = list(walk_python_files(root, root, PathMatcher([])))
    assert walked == sorted(walked)  # a folder's files and folders interleaved by name
    assert [p.relative_to(root).as_posix() for p in walked] == sorted(
        (n for n in FILES if n.endswith(".py")), key=lambda n: n.split("/")
    )


def test_exclude_by_name_and_by_path_in_a_walk(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert _walk(root, root, "build", "pkg/docs", "a/z*.py") == [
        "B.py",
        "a/b/c.py",  # the folder "a" sorts before "a-b.py", as paths sort
        "a-b.py",
        "a.py",
        "b.py",
        "pkg/m.py",
        "z.py",
        "zz/a.py",
    ]


def test_a_walk_below_the_root_matches_the_components_above_it(tmp_path: Path) -> None:
    """A bare pattern matching a folder above where the walk starts excludes all of it; a
    pattern with a slash matches the paths below, not the start itself."""
    root = _tree(tmp_path)
    assert _walk(root / "pkg" / "build", root, "build") == []
    assert _walk(root / "pkg" / "build", root, "pkg/build") == ["pkg/build/gen.py"]
    assert _walk(root / "pkg", root, "pkg/*/conf.py") == ["pkg/build/gen.py", "pkg/m.py"]
