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
        return self.match_path(relpath)

    def match_path(self, relpath: str) -> bool:
        """Whether a '/'-separated relative path is matched by a pattern with a slash: for a
        walk, which has matched each of the path's components by name as it met them."""
        if self._path is None:
            return False
        return bool(self._path.match(relpath) or self._path.match("/" + relpath))


GIT_TIMEOUT = 60  # seconds
SEND_BYTES = 4096  # names are sent to git in writes of about this size


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

    def filter(self, files: Iterable[Path]) -> list[Path]:
        """`files` minus those git ignores (git is asked once, about one list). `files` may
        be a walk: each name goes to git as the walk yields it, so that git matches while
        the walk goes on instead of after it."""
        git, self._git = self._git, None
        if git is None:
            return list(files)
        try:
            files, names, rest = self._send(git, files)
        except BaseException:  # the walk failed
            _stop(git)
            raise
        if not files:
            _stop(git)
            return files
        import subprocess

        try:
            out, _ = git.communicate(rest, timeout=GIT_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired):
            _stop(git)
            return files
        if git.returncode not in (0, 1):  # not a work tree after all, a submodule path, ...
            return files
        ignored = {name for name in out.split(b"\0") if name}
        return [f for f, name in zip(files, names, strict=True) if name not in ignored]

    def _send(
        self, git: subprocess.Popen[bytes], files: Iterable[Path]
    ) -> tuple[list[Path], list[bytes], bytes]:
        """The files, each one's name for git, and the names not yet sent: they are written
        as the files come, as far as the pipe takes them without waiting (git may itself
        wait for its output to be read, which happens only once the walk is over)."""
        assert git.stdin is not None
        pipe = git.stdin.fileno()
        os.set_blocking(pipe, False)
        base = os.path.join(str(self.root), "")
        kept, names, rest = [], [], bytearray()
        for file in files:
            name = _relative_name(file, base, self.root)
            kept.append(file)
            names.append(name)
            rest += name + b"\0"
            if len(rest) >= SEND_BYTES and pipe >= 0:
                try:
                    del rest[: os.write(pipe, rest)]
                except BlockingIOError:
                    pass  # the pipe is full: what is left goes later
                except OSError:
                    pipe = -1  # git is gone: its exit status tells
        os.set_blocking(git.stdin.fileno(), True)
        return kept, names, bytes(rest)

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


def _relative_name(file: Path, base: str, root: Path) -> bytes:
    """`file`'s path relative to `root` (`base`: its text with a separator at its end), for
    git. String work for a file under `root` as given (every file of a walk):
    `os.path.relpath` for thousands of files is a tenth of a warm run; it stays the way for
    any other spelling of a path."""
    text = str(file)
    relative = text[len(base) :] if text.startswith(base) else os.path.relpath(text, root)
    return os.fsencode(relative)
