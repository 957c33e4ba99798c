"""The library entry point: `lint_paths(...)` and `fix_paths(...)` return findings; formatting
is the caller's job.

Every run goes through `run()`: discover the files, process each one (`process()`: lint, and
with fixing, rewrite), then filter by changed lines. `process()` is a function of the file
and the options alone, which is what lets the results be cached and spread over processes.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from timestamp_lint import fix as fixer
from timestamp_lint.config import load_config
from timestamp_lint.discover import discover, walk_python_files
from timestamp_lint.engine import Engine, FileResult
from timestamp_lint.ftypes import Applicability, Config, Finding
from timestamp_lint.globs import PathMatcher
from timestamp_lint.index import ProjectIndex
from timestamp_lint.report import display_path
from timestamp_lint.since import ChangedLines, filter_findings


@dataclass(frozen=True)
class Options:
    """What a run does with each file."""

    fix: bool = False  # apply fixes
    unsafe: bool = False  # unsafe fixes too
    diff: bool = False  # with fix: compute diffs, write nothing
    stdin: bytes | None = None  # lint these bytes instead of reading the (single) file


@dataclass(frozen=True)
class FileOutcome:
    """What processing one file gave."""

    path: Path
    findings: tuple[Finding, ...] = ()
    fixed: int = 0
    diff: str | None = None
    error: str | None = None  # a fix that could not be written
    output: bytes | None = None  # fixed source (stdin mode)


@dataclass(frozen=True)
class LintResult:
    findings: list[Finding]  # with --fix: what remains after fixing
    files_checked: int
    fixed: int = 0  # findings fixed (or, with diff, that would be fixed)
    diffs: tuple[str, ...] = ()  # unified diffs, when asked for
    errors: tuple[str, ...] = ()  # files that could not be written, one line each
    outputs: dict[Path, bytes] = field(default_factory=dict)  # fixed stdin source


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


def _diff(path: Path, before: str, after: str) -> str:
    name = display_path(path)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n" for line in lines)


def process(engine: Engine, path: Path, options: Options) -> FileOutcome:
    """Lint one file and, when asked, fix it. Files are written atomically; a file that
    changed on disk since it was read, or that is a symlink, is left alone (`error`)."""
    result = engine.lint_file(path, options.stdin)
    findings = tuple(result.findings)
    if not options.fix:
        return FileOutcome(path, findings)
    allowed = {Applicability.SAFE}
    if options.unsafe:
        allowed.add(Applicability.UNSAFE)
    chosen = [(f, node) for f, node in result.removals if f.fix.applicability in allowed]
    if not chosen or result.module is None or result.text is None or result.data is None:
        return FileOutcome(path, findings, output=options.stdin)
    text = fixer.apply(result.module, {node for _, node in chosen})
    done = {id(f) for f, _ in chosen}
    left = tuple(f for f in findings if id(f) not in done)
    if options.diff:
        return FileOutcome(path, left, len(chosen), diff=_diff(path, result.text, text))
    data = fixer.encode(text, result.data)
    if options.stdin is not None:
        return FileOutcome(
            path, tuple(engine.lint_file(path, data).findings), len(chosen), output=data
        )
    try:
        fixer.write_atomic(path, data, result.data)
    except fixer.FixError as exc:
        return FileOutcome(path, findings, error=f"{display_path(path)}: {exc}")
    return FileOutcome(path, tuple(engine.lint_file(path, data).findings), len(chosen))


def run(
    paths: Sequence[Path],
    config: Config,
    options: Options = Options(),
    since: ChangedLines | None = None,
) -> LintResult:
    """Process every file under `paths` (or the one stdin file) and collect the outcomes."""
    if options.stdin is not None:
        files = [Path(os.path.abspath(paths[0]))]
    else:
        files = discover(paths, config)
    if since is not None:
        files = [path for path in files if since.touches(path)]
    engine = make_engine(config)
    outcomes = [process(engine, path, options) for path in files]
    findings = sorted(f for outcome in outcomes for f in outcome.findings)
    if since is not None:
        findings = filter_findings(findings, since)
    return LintResult(
        findings=findings,
        files_checked=len(files),
        fixed=sum(o.fixed for o in outcomes),
        diffs=tuple(o.diff for o in outcomes if o.diff),
        errors=tuple(o.error for o in outcomes if o.error),
        outputs={o.path: o.output for o in outcomes if o.output is not None},
    )


def _prepare(paths: Sequence[Path | str], config: Config | None, config_file: Path | None):
    targets = [Path(p) for p in paths] or [Path(".")]
    return targets, config if config is not None else resolve_config(targets, config_file)


def lint_paths(
    paths: Sequence[Path | str] = (".",),
    *,
    config: Config | None = None,
    config_file: Path | None = None,
) -> LintResult:
    """Lint files and folders; raises `UserError` for a bad path or configuration."""
    targets, config = _prepare(paths, config, config_file)
    return run(targets, config)


def fix_paths(
    paths: Sequence[Path | str] = (".",),
    *,
    config: Config | None = None,
    config_file: Path | None = None,
    unsafe: bool = False,
    diff: bool = False,
) -> LintResult:
    """Apply safe fixes (and unsafe ones with `unsafe`); with `diff`, write nothing and return
    unified diffs instead. `errors` names files that could not be written."""
    targets, config = _prepare(paths, config, config_file)
    return run(targets, config, Options(fix=True, unsafe=unsafe, diff=diff))
