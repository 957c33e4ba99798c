"""Path globs for `allow`, `exclude` and `per-file-ignores`, matched against paths relative to
the project root; and git's ignore rules, for `respect-gitignore`.

A pattern without a slash matches any single path component (`build`, `*.egg-info`).
A pattern with a slash matches the whole relative path, `**/` also matching no folder at all,
so `**/migrations/**` matches `migrations/0001.py` as well as `app/migrations/0001.py`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess


class PathMatcher:
    def __init__(self, patterns: Iterable[str]) -> None:
        names: list[str] = []
        paths: list[str] = []
        for pattern in patterns:
            pattern = pattern.strip()
            while pattern.startswith("./"):
                pattern = pattern[2:]
            pattern = pattern.rstrip("/")
            if not pattern:
                continue
            if "/" in pattern:
                paths.append(fnmatch.translate(pattern))
            else:
                names.append(fnmatch.translate(pattern))
        self._name = re.compile("|".join(names)) if names else None
        self._path = re.compile("|".join(paths)) if paths else None

    def __bool__(self) -> bool:
        return self._name is not None or self._path is not None

    def match_name(self, name: str) -> bool:
        """Whether one path component (a folder or file name) is matched by a bare pattern."""
        return self._name is not None and self._name.match(name) is not None

    def match(self, relpath: str) -> bool:
        """Whether a '/'-separated path, relative to the project root, is matched."""
        if self._name is not None and any(self._name.match(p) for p in relpath.split("/")):
            return True
        if self._path is None:
            return False
        return bool(self._path.match(relpath) or self._path.match("/" + relpath))


GIT_TIMEOUT = 60  # seconds


class GitIgnore:
    """git's ignore rules (`.gitignore` files, `.git/info/exclude`, `core.excludesFile`) for
    files under `root`, as Ruff's `respect-gitignore` applies them: by pattern, tracked or
    not. git is asked (`git check-ignore --no-index`), so its own matching rules apply
    exactly; outside a work tree, or without git, nothing is left out. git starts when this
    is made, so that a walk runs while it starts (a few milliseconds of every run)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._git: subprocess.Popen[bytes] | None = None
        if not any((d / ".git").exists() for d in (root, *root.parents)):
            return
        import subprocess  # (only in a git work tree)

        with contextlib.suppress(OSError):  # no git
            self._git = subprocess.Popen(
                ["git", "check-ignore", "--no-index", "--stdin", "-z"],
                cwd=root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"},
            )

    def filter(self, files: list[Path]) -> list[Path]:
        """`files` minus those git ignores (once: git is asked about one list)."""
        git, self._git = self._git, None
        if git is None:
            return files
        if not files:
            _stop(git)
            return files
        import subprocess

        names = _relative_names(files, self.root)
        try:
            out, _ = git.communicate(b"\0".join(names) + b"\0", timeout=GIT_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired):
            _stop(git)
            return files
        if git.returncode not in (0, 1):  # not a work tree after all, a submodule path, ...
            return files
        ignored = {name for name in out.split(b"\0") if name}
        return [f for f, name in zip(files, names, strict=True) if name not in ignored]

    def __enter__(self) -> GitIgnore:
        return self

    def __exit__(self, *_: object) -> None:
        """A git that was never asked (the walk failed) is stopped."""
        if self._git is not None:
            _stop(self._git)
            self._git = None


def _stop(git: subprocess.Popen[bytes]) -> None:
    git.kill()
    git.communicate()


def _relative_names(files: list[Path], root: Path) -> list[bytes]:
    """Each file's path relative to `root`, for git. String work for the files under `root`
    as given (every file of a walk): `os.path.relpath` for thousands of files is a tenth of
    a warm run; it stays the way for any other spelling of a path."""
    base = os.path.join(str(root), "")
    names = []
    for file in files:
        text = str(file)
        relative = text[len(base) :] if text.startswith(base) else os.path.relpath(text, root)
        names.append(os.fsencode(relative))
    return names
