"""Output formats. Each reporter is a pure function: findings and a context in, text out.

A reporter module defines `render(findings, context) -> str`; `REPORTERS` maps each
`--output-format` name to its module name here.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from timestamp_lint import __version__
from timestamp_lint.ftypes import Finding
from timestamp_lint.source import SourceError, decode_source, read_source


class ReportContext(NamedTuple):
    """What reporters may know besides the findings."""

    root: Path  # GitLab's paths are relative to it: the repository root (git's top level)
    cwd: Path  # every other format's paths are relative to it, SARIF's too
    version: str = __version__
    files_checked: int = 0
    color: bool = False  # whether `full` may use ANSI colours (the CLI decides: isatty, NO_COLOR)


def display_path(path: Path, cwd: Path | None = None) -> str:
    """`path` relative to the current folder when under it, else absolute; '/' separators.
    Bytes of a file name that are not UTF-8 are shown escaped (`bad\\xffname.py`)."""
    cwd = cwd or Path.cwd()
    try:
        text = path.relative_to(cwd).as_posix()
    except ValueError:
        text = Path(os.path.abspath(path)).as_posix()
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def root_path(path: Path, root: Path) -> str:
    """`path` relative to `root` when under it, else absolute; '/' separators."""
    return display_path(path, root)


def read_lines(path: Path) -> list[str] | None:
    """A source file's lines as the parser numbers them (decoded as Python would, else as
    UTF-8 with bad bytes replaced); None when it is not a readable regular file."""
    try:
        data = read_source(path)
    except SourceError:
        return None
    try:
        text = decode_source(data)
    except SourceError:
        text = data.decode("utf-8-sig", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


Reporter = Callable[[Sequence[Finding], ReportContext], str]

REPORTERS = {
    "text": "text",
    "concise": "text",
    "json": "json",
    "json-lines": "json_lines",
    "full": "full",
    "sarif": "sarif",
    "github": "github",
    "gitlab": "gitlab",
    "junit": "junit",
}
FORMATS = tuple(REPORTERS)


def get_reporter(name: str) -> Reporter:
    module = importlib.import_module(f"timestamp_lint.report.{REPORTERS[name]}")
    return module.render
