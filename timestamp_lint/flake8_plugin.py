"""flake8 plugin: `flake8 --select TSL` reports what `timestamp-lint` reports, line for line.

flake8 hands plugins one file at a time, possibly in several worker processes, while our
rules need the whole project (models are resolved through imports). So each process keeps one
configuration per folder and one engine per configuration: the project index is built once
per process and reused for every file flake8 gives it.

The engine applies our own `# noqa` handling before flake8 applies its own; both read the
same `# noqa: TSL001` comments, so flake8 only differs where it is broader (a file-level
`# flake8: noqa`, or a `# noqa` after a multi-line string, which flake8 applies to every line
of that string's statement).
"""

from __future__ import annotations

import argparse
import ast
import io
import tokenize
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from timestamp_lint import __version__
from timestamp_lint.api import make_engine, resolve_config
from timestamp_lint.discover import relative_to_root
from timestamp_lint.engine import Engine
from timestamp_lint.ftypes import PARSE_ERROR, Config, UserError
from timestamp_lint.globs import PathMatcher

# flake8's names for standard input without `--stdin-display-name`: no location means no
# project to resolve models in, so nothing is reported for it.
STDIN_NAMES = frozenset({"stdin", "-"})

Result = tuple[int, int, str, type]

_configs: dict[Path, Config | str] = {}  # folder -> its configuration, or the error
_engines: dict[Config, tuple[Engine, PathMatcher]] = {}  # configuration -> engine, excludes


class TimestampLintPlugin:
    """A flake8 "tree" plugin (flake8 requires the `tree` parameter; the engine parses the
    file itself, with LibCST, so the tree is unused)."""

    name = "timestamp-lint"
    version = __version__
    # The display name flake8 gives standard input, when `-` is among its paths.
    stdin_name: ClassVar[str | None] = None

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        self.filename = filename
        self.lines = lines

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        filenames = getattr(options, "filenames", None) or ()
        cls.stdin_name = getattr(options, "stdin_display_name", None) if "-" in filenames else None

    def run(self) -> Iterator[Result]:
        if self.filename in STDIN_NAMES:
            return
        path = Path(self.filename).resolve()
        # An editor pipes its unsaved buffer with `--stdin-display-name path -`: lint that
        # buffer, not the (older) file on disk.
        data = _encode(self.lines) if self.filename == self.stdin_name else None
        found = _engine_for(path.parent)
        if isinstance(found, str):
            yield 1, 0, f"{PARSE_ERROR} {found}", type(self)
            return
        engine, exclude = found
        if exclude.match(relative_to_root(path, engine.config.root)):
            return  # as the command line: excluded files are never read
        for finding in engine.lint_file(path, data).findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)


def _engine_for(folder: Path) -> tuple[Engine, PathMatcher] | str:
    """The engine for files in `folder`, built on first use, or the configuration error (kept,
    so a bad configuration file is read once, and reported for every file it governs)."""
    config = _configs.get(folder)
    if config is None:
        try:
            config = resolve_config([folder])
        except UserError as exc:
            config = str(exc)
        _configs[folder] = config
    if isinstance(config, str):
        return config
    if config not in _engines:
        _engines[config] = (make_engine(config), PathMatcher(config.exclude))
    return _engines[config]


def _encode(lines: Sequence[str]) -> bytes:
    """Source bytes for flake8's decoded lines, in the encoding they declare (PEP 263), so the
    engine decodes them exactly as it decodes a file."""
    text = "".join(lines)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(text.encode("utf-8")).readline)
        return text.encode(encoding)
    except (SyntaxError, LookupError, UnicodeError):
        return text.encode("utf-8")
