"""The library entry point: `lint_paths(...)` returns findings; formatting is the caller's job."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from timestamp_lint import fix as fixer
from timestamp_lint.config import load_config
from timestamp_lint.discover import discover, walk_python_files
from timestamp_lint.engine import Engine, FileResult
from timestamp_lint.ftypes import Applicability, Config, Finding
from timestamp_lint.globs import PathMatcher
from timestamp_lint.index import ProjectIndex
from timestamp_lint.report import display_path


@dataclass(frozen=True)
class LintResult:
    findings: list[Finding]  # with --fix: what remains after fixing
    files_checked: int
    fixed: int = 0  # findings fixed (or, with diff, that would be fixed)
    diffs: tuple[str, ...] = ()  # unified diffs, when asked for
    errors: tuple[str, ...] = ()  # files that could not be written, one line each


def start_directory(paths: Sequence[Path]) -> Path:
    """Where project-root discovery starts: the deepest folder holding every given path."""
    if not paths:
        return Path.cwd()
    folders = []
    for path in paths:
        path = Path(os.path.abspath(path))
        folders.append(path if path.is_dir() else path.parent)
    return Path(os.path.commonpath(folders))


def resolve_config(
    paths: Sequence[Path],
    config_file: Path | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> Config:
    """Load the configuration for a run over `paths`; command-line codes override it."""
    config = load_config(start_directory(paths), config_file)
    if select is not None:
        config = replace(config, select=tuple(c.upper() for c in select))
    if ignore is not None:
        config = replace(config, ignore=config.ignore + tuple(c.upper() for c in ignore))
    return config


def make_engine(config: Config) -> Engine:
    """An engine with the project index of `config.root` (the module map is built now;
    modules are parsed on demand). Reuse it for several files of the same project."""
    project_files = list(walk_python_files(config.root, config.root, PathMatcher(config.exclude)))
    return Engine(config, ProjectIndex(config, project_files))


def iter_results(paths: Sequence[Path], config: Config) -> Iterable[FileResult]:
    """Lint every file under `paths`, yielding one result per file in path order."""
    engine = make_engine(config)
    for path in discover(paths, config):
        yield engine.lint_file(path)


def lint_paths(
    paths: Sequence[Path | str] = (".",),
    *,
    config: Config | None = None,
    config_file: Path | None = None,
) -> LintResult:
    """Lint files and folders; raises `UserError` for a bad path or configuration."""
    paths = [Path(p) for p in paths] or [Path(".")]
    if config is None:
        config = resolve_config(paths, config_file)
    findings: list[Finding] = []
    checked = 0
    for result in iter_results(paths, config):
        checked += 1
        findings.extend(result.findings)
    findings.sort()
    return LintResult(findings, checked)


def _diff(path: Path, before: str, after: str) -> str:
    name = display_path(path)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n" for line in lines)


def fix_paths(
    paths: Sequence[Path | str] = (".",),
    *,
    config: Config | None = None,
    config_file: Path | None = None,
    unsafe: bool = False,
    diff: bool = False,
) -> LintResult:
    """Apply safe fixes (and unsafe ones with `unsafe`); with `diff`, write nothing and return
    unified diffs instead. Files are written atomically; a file that changed on disk since it
    was read, or that is a symlink, is left alone and named in `errors`."""
    paths = [Path(p) for p in paths] or [Path(".")]
    if config is None:
        config = resolve_config(paths, config_file)
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
    engine = make_engine(config)
    findings: list[Finding] = []
    diffs: list[str] = []
    errors: list[str] = []
    checked = fixed = 0
    for path in discover(paths, config):
        checked += 1
        result = engine.lint_file(path)
        chosen = [(f, n) for f, n in result.removals if f.fix.applicability in allowed]
        if not chosen or result.module is None or result.text is None or result.data is None:
            findings.extend(result.findings)
            continue
        text = fixer.apply(result.module, {node for _, node in chosen})
        if diff:
            diffs.append(_diff(path, result.text, text))
            done = {id(f) for f, _ in chosen}
            findings.extend(f for f in result.findings if id(f) not in done)
            fixed += len(chosen)
            continue
        data = fixer.encode(text, result.data)
        try:
            fixer.write_atomic(path, data, result.data)
        except fixer.FixError as exc:
            errors.append(f"{display_path(path)}: {exc}")
            findings.extend(result.findings)
            continue
        fixed += len(chosen)
        findings.extend(engine.lint_file(path, data).findings)
    findings.sort()
    return LintResult(findings, checked, fixed, tuple(diffs), tuple(errors))
