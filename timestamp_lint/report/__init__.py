"""Output formats. Each reporter is a pure function: findings in, text out."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from timestamp_lint.ftypes import Finding


def display_path(path: Path, cwd: Path | None = None) -> str:
    """`path` relative to the current folder when under it, else absolute; '/' separators."""
    cwd = cwd or Path.cwd()
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return Path(os.path.abspath(path)).as_posix()


Reporter = Callable[[Sequence[Finding]], str]


def get_reporter(name: str) -> Reporter:
    from timestamp_lint.report import json, text

    return {"text": text.render, "concise": text.render, "json": json.render}[name]


FORMATS = ("text", "concise", "json")
