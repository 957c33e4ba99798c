"""Temporary files that concurrent runs recognise as live, and that later runs remove once
they are provably stale.

A temporary file is named `<prefix><pid>.<random><suffix>`: the process that writes it is
in its name. It is stale when that process no longer exists (killed during a write), or, as
process ids are reused, when it is older than a day. A file of this shape without a process
id (written by an earlier version) is stale after an hour. A live run's files are never
touched, so two `--fix` runs, or two cache writes, at once do not delete each other's work.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path

FIX_SUFFIX = ".tsl-tmp"  # beside a file being fixed: `.NAME.PID.XXXXXXXX.tsl-tmp`
MAX_AGE = 24 * 3600  # seconds: older than this, a file is stale even if its pid is in use
LEGACY_AGE = 3600  # seconds: files without a process id in their name


def create(directory: Path, prefix: str, suffix: str) -> tuple[int, str]:
    """A new temporary file in `directory`, named after this process: (fd, path)."""
    import tempfile  # (most runs make none)

    return tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=suffix, dir=directory)


def owner(name: str, suffix: str) -> int | None:
    """The process id in a temporary file's name, or None if it holds none."""
    if not name.endswith(suffix):
        return None
    head, _, _random = name[: len(name) - len(suffix)].rpartition(".")
    pid = head.rpartition(".")[2]
    return int(pid) if pid.isdigit() and pid[0] != "0" else None


def alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists, as another user's process (or we cannot tell)
    return True


def is_stale(path: Path, suffix: str, now: float | None = None) -> bool:
    try:
        age = (time.time() if now is None else now) - os.lstat(path).st_mtime
    except OSError:
        return False
    pid = owner(path.name, suffix)
    if pid is None:
        return age > LEGACY_AGE
    return age > MAX_AGE or not alive(pid)


def remove_stale(paths: Iterable[Path], suffix: str = FIX_SUFFIX) -> int:
    """Delete the stale ones among `paths`; returns how many were deleted."""
    removed = 0
    for path in paths:
        if is_stale(path, suffix):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed
