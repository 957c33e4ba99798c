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
from typing import TYPE_CHECKING

from timestamp_lint.cache import CACHE_DIR_NAME, Cache, Fingerprint, content_hash
from timestamp_lint.config import load_config
from timestamp_lint.discover import discover, walk_python_files
from timestamp_lint.engine import Engine, FileResult
from timestamp_lint.ftypes import PARSE_ERROR, UNRESOLVED, Applicability, Config, Finding
from timestamp_lint.globs import PathMatcher
from timestamp_lint.index import ProjectIndex
from timestamp_lint.report import display_path
from timestamp_lint.since import ChangedLines, filter_findings
from timestamp_lint.source import SourceError, read_source

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor


@dataclass(frozen=True)
class Options:
    """What a run does with each file, and how."""

    fix: bool = False  # apply fixes
    unsafe: bool = False  # unsafe fixes too
    diff: bool = False  # with fix: compute diffs, write nothing
    stdin: bytes | None = None  # lint these bytes instead of reading the (single) file
    jobs: int | None = None  # worker processes; None: one per CPU; 1: in this process
    cache: bool = True  # read and write the on-disk cache
    cache_dir: Path | None = None  # default: <project root>/.timestamp_lint_cache
    prefilter: bool = True  # False: analyse every file fully (tests prove nothing is lost)
    edits: bool = False  # fixes carry their text edits (SARIF output needs them)


@dataclass(frozen=True)
class FileOutcome:
    """What processing one file gave."""

    path: Path
    findings: tuple[Finding, ...] = ()
    fixed: int = 0
    diff: str | None = None
    error: str | None = None  # a fix that could not be written
    output: bytes | None = None  # fixed source (stdin mode)
    deps: dict[Path, Fingerprint] = field(default_factory=dict)  # for the cache
    listeners: str | None = None  # for the cache
    analyzed: bool = False


@dataclass(frozen=True)
class LintResult:
    findings: list[Finding]  # with --fix: what remains after fixing
    files_checked: int
    fixed: int = 0  # findings fixed (or, with diff, that would be fixed)
    diffs: tuple[str, ...] = ()  # unified diffs, when asked for
    errors: tuple[str, ...] = ()  # files that could not be written, one line each
    outputs: dict[Path, bytes] = field(default_factory=dict)  # fixed stdin source
    # creation sites not checked: their callee did not resolve (code UNRESOLVED)
    unresolved: tuple[Finding, ...] = ()


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


def process(
    engine: Engine,
    path: Path,
    options: Options,
    data: bytes | None = None,
    fingerprint: Fingerprint | None = None,
) -> FileOutcome:
    """Lint one file and, when asked, fix it. Files are written atomically; a file that
    changed on disk since it was read, or that is a symlink, is left alone (`error`)."""
    result = engine.lint_file(path, data, fingerprint)
    findings = tuple(result.findings)
    plain = FileOutcome(path, findings + tuple(result.unresolved), analyzed=result.analyzed)
    if options.cache:  # only the cache needs them
        plain = replace(plain, deps=result.deps, listeners=result.listeners)
    if not options.fix:
        return plain
    allowed = {Applicability.SAFE}
    if options.unsafe:
        allowed.add(Applicability.UNSAFE)
    if not any(f.fix is not None and f.fix.applicability in allowed for f in findings):
        return replace(plain, output=options.stdin)
    from timestamp_lint import fix as fixer  # LibCST: loaded by the analysis already

    chosen = [(f, v) for f, v in result.removals if f.fix.applicability in allowed]
    located = engine.removal_nodes(result, [v for _, v in chosen])
    if located is None:  # analyse the whole file again, as the fix will render it whole
        result = engine.lint_file(path, result.data, fingerprint, whole=True)
        findings = tuple(result.findings)
        chosen = [(f, v) for f, v in result.removals if f.fix.applicability in allowed]
        located = engine.removal_nodes(result, [v for _, v in chosen])
    if not chosen or located is None or result.text is None or result.data is None:
        return replace(plain, findings=findings, output=options.stdin)
    module, nodes = located
    try:
        text = fixer.apply(module, set(nodes), result.text)
    except fixer.FixError as exc:
        return FileOutcome(path, findings, error=f"{display_path(path)}: {exc}")
    done = {id(f) for f, _ in chosen}
    left = tuple(f for f in findings if id(f) not in done)
    if options.diff:
        return FileOutcome(path, left, len(chosen), diff=_diff(path, result.text, text))
    fixed = fixer.encode(text, result.data)
    if options.stdin is not None:
        again = tuple(engine.lint_file(path, fixed).findings)
        return FileOutcome(path, again, len(chosen), output=fixed)
    fixer.remove_stale_temporaries(path)
    try:
        fixer.write_atomic(path, fixed, result.data)
    except fixer.FixError as exc:
        return FileOutcome(path, findings, error=f"{display_path(path)}: {exc}")
    return FileOutcome(path, tuple(engine.lint_file(path, fixed).findings), len(chosen))


# --------------------------------------------------------------------------- parallelism

PARALLEL_MIN_FILES = 48  # fewer files to analyse than this: a worker's start-up costs more
_worker_engine: Engine | None = None


def _work(task: tuple[Path, bytes | None, Fingerprint | None, Options]) -> FileOutcome:
    path, data, fingerprint, options = task
    assert _worker_engine is not None
    return process(_worker_engine, path, options, data, fingerprint)


def _fork_pool(jobs: int) -> ProcessPoolExecutor:
    """Worker processes forked from this one (imported here: most runs never need them)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))


def _crashed(path: Path) -> FileOutcome:
    message = "Cannot analyse file: the analysis crashed its worker process"
    return FileOutcome(path, (Finding(path, 1, 1, PARSE_ERROR, message, 1, 1),))


class _Analyser:
    """Processes files as the read loop finds them: in this process while there are few,
    in forked worker processes once there are enough to pay for them. The workers start at
    that moment, before the rest of the files are read, so they do not inherit those bytes.
    A worker that dies costs only the file it was on (a TSL999)."""

    def __init__(self, engine: Engine, options: Options) -> None:
        self.engine = engine
        self.options = options
        jobs = options.jobs if options.jobs is not None else (os.cpu_count() or 1)
        self.jobs = jobs if hasattr(os, "fork") else 1
        self.tasks: list[tuple[Path, bytes | None, Fingerprint | None]] = []
        self.futures: list[Future] = []
        self.pool: ProcessPoolExecutor | None = None

    def add(self, path: Path, data: bytes | None, fingerprint: Fingerprint | None) -> None:
        self.tasks.append((path, data, fingerprint))
        if self.pool is None and self.jobs > 1 and len(self.tasks) == PARALLEL_MIN_FILES:
            global _worker_engine
            _worker_engine = self.engine  # inherited by the forked workers: no index rebuild

            self.pool = _fork_pool(self.jobs)
            self.futures = [self.pool.submit(_work, (*task, self.options)) for task in self.tasks]
        elif self.pool is not None:
            self.futures.append(self.pool.submit(_work, (path, data, fingerprint, self.options)))

    def outcomes(self) -> list[FileOutcome]:
        """One outcome per added file, in the order they were added."""
        if self.pool is None:
            return [process(self.engine, p, self.options, d, f) for p, d, f in self.tasks]
        from concurrent.futures.process import BrokenProcessPool

        global _worker_engine
        results: list[FileOutcome | None] = []
        try:
            for future in self.futures:
                try:
                    results.append(future.result())
                except BrokenProcessPool:
                    results.append(None)
        finally:
            self.pool.shutdown()
            _worker_engine = None
        for index, result in enumerate(results):
            if result is None:  # one at a time, each in a fresh worker
                results[index] = self._alone(self.tasks[index])
        return results  # type: ignore[return-value]

    def _alone(self, task: tuple[Path, bytes | None, Fingerprint | None]) -> FileOutcome:
        from concurrent.futures.process import BrokenProcessPool

        global _worker_engine
        _worker_engine = self.engine
        try:
            with _fork_pool(1) as pool:
                return pool.submit(_work, (*task, self.options)).result()
        except BrokenProcessPool:
            return _crashed(task[0])
        finally:
            _worker_engine = None


# --------------------------------------------------------------------------- runs


def run(
    paths: Sequence[Path],
    config: Config,
    options: Options = Options(),
    since: ChangedLines | None = None,
) -> LintResult:
    """Process every file under `paths` (or the one stdin file) and collect the outcomes.

    Each file is stat-ed; an unchanged file with a valid cache entry is not even read. The
    others are read once and pre-filtered here; only files that can hold a finding are
    analysed (in worker processes when there are many).
    """
    project_files = list(walk_python_files(config.root, config.root, PathMatcher(config.exclude)))
    index = ProjectIndex(config, project_files)
    engine = Engine(config, index, prefilter=options.prefilter, edits=options.edits)
    if options.stdin is not None:
        files = [Path(os.path.abspath(paths[0]))]
    else:
        files = discover(paths, config, project_files)
    if since is not None:
        files = [path for path in files if since.touches(path)]
    cache = None
    if options.cache and options.stdin is None:
        directory = options.cache_dir or config.root / CACHE_DIR_NAME
        cache = Cache(directory, config, project_files, with_edits=options.edits)
        index.use_store(directory)  # summaries of installed modules, across runs
    outcomes: dict[Path, FileOutcome] = {}
    analyser = _Analyser(engine, options)
    for path in files:
        if options.stdin is not None:
            analyser.add(path, options.stdin, None)
            continue
        data = None
        try:
            if cache is not None:
                stat = os.stat(path)
                if _usable(hit := cache.lookup(path, stat), options):
                    outcomes[path] = FileOutcome(path, tuple(hit))
                    continue
            data = read_source(path)
        except (OSError, SourceError):
            analyser.add(path, data, None)  # the engine reports what is wrong with it
            continue
        fingerprint = None
        if cache is not None:  # the content hash only serves the cache
            fingerprint = (stat.st_mtime_ns, stat.st_size, content_hash(data))
            cache.observe(path, stat, data)
            if _usable(hit := cache.lookup(path, stat, fingerprint[2]), options):
                outcomes[path] = FileOutcome(path, tuple(hit))
                continue
        if not engine.needs_analysis(data, path):
            outcomes[path] = FileOutcome(path)
            if cache is not None and fingerprint is not None:
                cache.store(path, fingerprint, (), {}, analyzed=False)
        else:
            analyser.add(path, data, fingerprint)
    for (path, _, fingerprint), outcome in zip(analyser.tasks, analyser.outcomes(), strict=True):
        outcomes[path] = outcome
        # only a result that describes the file as it is on disk is worth keeping
        if cache is not None and fingerprint is not None and not (outcome.fixed or outcome.error):
            cache.store(
                path,
                fingerprint,
                outcome.findings,
                outcome.deps,
                outcome.analyzed,
                outcome.listeners,
            )
    if cache is not None:
        cache.save()
    ordered = [outcomes[path] for path in files]
    findings = sorted(f for outcome in ordered for f in outcome.findings)
    if since is not None:
        findings = filter_findings(findings, since)
    unresolved = tuple(f for f in findings if f.code == UNRESOLVED)
    if unresolved:
        findings = [f for f in findings if f.code != UNRESOLVED]
    return LintResult(
        unresolved=unresolved,
        findings=findings,
        files_checked=len(files),
        fixed=sum(o.fixed for o in ordered),
        diffs=tuple(o.diff for o in ordered if o.diff),
        errors=tuple(o.error for o in ordered if o.error),
        outputs={o.path: o.output for o in ordered if o.output is not None},
    )


def _usable(hit: list[Finding] | None, options: Options) -> bool:
    """A cached result serves unless this run must fix one of its findings."""
    if hit is None:
        return False
    if not options.fix:
        return True
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if options.unsafe else {Applicability.SAFE}
    return not any(f.fix is not None and f.fix.applicability in allowed for f in hit)


def _prepare(paths: Sequence[Path | str], config: Config | None, config_file: Path | None):
    targets = [Path(p) for p in paths] or [Path(".")]
    return targets, config if config is not None else resolve_config(targets, config_file)


def lint_paths(
    paths: Sequence[Path | str] = (".",),
    *,
    config: Config | None = None,
    config_file: Path | None = None,
    options: Options = Options(),
) -> LintResult:
    """Lint files and folders; raises `UserError` for a bad path or configuration."""
    targets, config = _prepare(paths, config, config_file)
    return run(targets, config, options)


def fix_paths(
    paths: Sequence[Path | str] = (".",),
    *,
    config: Config | None = None,
    config_file: Path | None = None,
    unsafe: bool = False,
    diff: bool = False,
    options: Options = Options(),
) -> LintResult:
    """Apply safe fixes (and unsafe ones with `unsafe`); with `diff`, write nothing and return
    unified diffs instead. `errors` names files that could not be written."""
    targets, config = _prepare(paths, config, config_file)
    return run(targets, config, replace(options, fix=True, unsafe=unsafe, diff=diff))
