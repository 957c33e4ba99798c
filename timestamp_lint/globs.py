"""Path globs for `allow` and `exclude`, matched against paths relative to the project root.

A pattern without a slash matches any single path component (`build`, `*.egg-info`).
A pattern with a slash matches the whole relative path, `**/` also matching no folder at all,
so `**/migrations/**` matches `migrations/0001.py` as well as `app/migrations/0001.py`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable


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
