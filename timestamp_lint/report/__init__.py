"""Output formats. Each reporter is a pure function: findings and a context in, text out.

A reporter module defines `render(findings, context) -> str`; `REPORTERS` maps each
`--output-format` name to its module name here.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from timestamp_lint import __version__
from timestamp_lint.ftypes import Finding


@dataclass(frozen=True)
class ReportContext:
    """What reporters may know besides the findings."""

    root: Path  # the project root (SARIF and GitLab paths are relative to it)
    cwd: Path = field(default_factory=Path.cwd)  # displayed paths are relative to it
    version: str = __version__
    files_checked: int = 0


def display_path(path: Path, cwd: Path | None = None) -> str:
    """`path` relative to the current folder when under it, else absolute; '/' separators."""
    cwd = cwd or Path.cwd()
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return Path(os.path.abspath(path)).as_posix()


def root_path(path: Path, root: Path) -> str:
    """`path` relative to the project root when under it, else absolute; '/' separators."""
    return display_path(path, root)


Reporter = Callable[[Sequence[Finding], ReportContext], str]

REPORTERS = {
    "text": "text",
    "concise": "text",
    "json": "json",
}
FORMATS = tuple(REPORTERS)


def get_reporter(name: str) -> Reporter:
    module = importlib.import_module(f"timestamp_lint.report.{REPORTERS[name]}")
    return module.render
