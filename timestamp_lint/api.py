"""The library entry point: `lint_paths(...)` and `fix_paths(...)` return findings; formatting
is the caller's job.

Every run goes through `run()`: discover the files, process each one (`process()`: lint, and
with fixing, rewrite), then filter by changed lines. `process()` is a function of the file
and the options alone, which is what lets the results be cached and spread over processes.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from timestamp_lint import tempfiles
from timestamp_lint.cache import CACHE_DIR_NAME, Cache, Fingerprint, blake2b, content_hash
from timestamp_lint.config import (
    Overrides,
    Selection,
    check_selector,
    find_subprojects,
    git_root,
    is_selected,
    load_config,
    subproject_excludes,
)
from timestamp_lint.discover import (
    WalkNotes,
    discover,
    relative_to_root,
    unlistable_under,
    walk_python_files,
)
from timestamp_lint.ftypes import PARSE_ERROR, UNRESOLVED, Applicability, Config, Finding
from timestamp_lint.globs import GitIgnore, PathMatcher
from timestamp_lint.report import display_path
from timestamp_lint.source import SourceError, read_source

if TYPE_CHECKING:  # (`since` and `difflib` are imported where `--since` / `--diff` need them)
    from timestamp_lint.engine import Engine, FileResult
    from timestamp_lint.prefilter import ByteFilter
    from timestamp_lint.since import ChangedLines
    from timestamp_lint.workers import Workers


class Options(NamedTuple):
    """What a run does with each file, and how. (The records of this module are tuples: a
    frozen dataclass costs every run, warm ones too, about a millisecond to make at import.)"""

    fix: bool = False  # apply fixes
    unsafe: bool | None = None  # unsafe fixes too (None: as the configuration's `unsafe-fixes`)
    diff: bool = False  # with fix: compute diffs, write nothing
    stdin: bytes | None = None  # lint these bytes instead of reading the (single) file
    jobs: int | None = None  # worker processes; None: one per CPU; 1: in this process
    cache: bool = True  # read and write the on-disk cache
    cache_dir: Path | None = None  # default: <project root>/.timestamp_lint_cache
    prefilter: bool = True  # False: analyse every file fully (tests prove nothing is lost)
    edits: bool = False  # fixes carry their text edits (SARIF output needs them)


class FileOutcome(NamedTuple):
    """What processing one file gave (never compared: one per file of every run, warm ones
    too, made in a third of a frozen dataclass's time)."""

    path: Path
    findings: tuple[Finding, ...] = ()
    fixed: int = 0
    diff: str | None = None
    error: str | None = None  # a fix that could not be written
    output: bytes | None = None  # fixed source (stdin mode)
    deps: dict[Path, Fingerprint] | None = None  # for the cache (None: none)
    listeners: str | None = None  # for the cache
    analyzed: bool = False
    cached: bool = False  # taken from the cache


class LintResult(NamedTuple):
    """What a run found and did."""

    findings: list[Finding]  # with --fix: what remains after fixing
    files_checked: int
    fixed: int = 0  # findings fixed (or, with diff, that would be fixed)
    diffs: tuple[str, ...] = ()  # unified diffs, when asked for
    errors: tuple[str, ...] = ()  # files that could not be written, one line each
    outputs: Mapping[Path, bytes] = MappingProxyType({})  # fixed stdin source
    # creation sites not checked: their callee, or a base of its class, did not resolve
    # (code UNRESOLVED)
    unresolved: tuple[Finding, ...] = ()


def start_directory(paths: Sequence[Path]) -> Path:
    """The deepest folder holding every given path (where `resolve_config` looks)."""
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
    overrides: Overrides | None = None,
) -> Config:
    """The configuration of the project holding `paths` (the deepest folder holding them
    all); command-line codes are a layer over the file's, resolved as Ruff resolves them.
    A run over paths of several projects uses `plan_projects`, one configuration each."""
    if overrides is None:
        selection = Selection(
            select=None if select is None else tuple(check_selector(c, "select") for c in select),
            ignore=() if ignore is None else tuple(check_selector(c, "ignore") for c in ignore),
        )
        overrides = Overrides(config_file=config_file, selection=selection)
    config = load_config(start_directory(paths), overrides=overrides)
    if overrides.config_file is None:  # sub-projects are projects of their own
        inner = find_subprojects(config.root, config.exclude)
        config = replace(config, exclude=config.exclude + subproject_excludes(config.root, inner))
    return config


def make_engine(
    config: Config,
    project_files: list[Path] | None = None,
    options: Options | None = None,
    cache: Cache | None = None,
) -> Engine:
    """An engine with the project index of `config.root` (the module map is built now;
    modules are parsed on demand). Reuse it for several files of the same project. With a
    `cache`, the index keeps installed modules' summaries beside it and takes what it
    remembers of each file (listeners, declared fields) and the field names it confirmed
    last, while they hold."""
    from timestamp_lint.engine import Engine
    from timestamp_lint.index import ProjectIndex

    if project_files is None:
        project_files = project_files_of(config)
    options = options or Options()
    index = ProjectIndex(config, project_files)
    if cache is not None:
        index.use_store(cache.directory)  # summaries of installed modules, across runs
        index.use_listener_files(cache.listener_files)  # which files to read for listeners
        if config.detect_fields:  # the field names the models declare, as remembered
            from timestamp_lint import detect

            detect.use_source(index, cache.declared)
            names = cache.field_names()
            if names is not None:
                detect.know(index, names)
    return Engine(config, index, prefilter=options.prefilter, edits=options.edits)


def iter_results(paths: Sequence[Path], config: Config) -> Iterable[FileResult]:
    """Lint every file under `paths`, yielding one result per file in path order."""
    engine = make_engine(config)
    for path in discover(paths, config):
        yield engine.lint_file(path)


def with_unsafe(options: Options, config: Config) -> Options:
    """`options` deciding whether unsafe fixes apply: `--unsafe-fixes` /
    `--no-unsafe-fixes` when given, else the configuration's `unsafe-fixes`."""
    if options.unsafe is None:
        return options._replace(unsafe=config.unsafe_fixes)
    return options


def _to_fix(finding: Finding, options: Options, since: ChangedLines | None) -> bool:
    """Whether this run fixes `finding`: its fix is allowed, and with `--since` it is one
    of the findings `--since` reports."""
    if finding.fix is None:
        return False
    if finding.fix.applicability is not Applicability.SAFE and not options.unsafe:
        return False
    if since is None:
        return True
    from timestamp_lint.since import filter_findings

    return bool(filter_findings([finding], since))


def _diff(path: Path, before: str, after: str) -> str:
    import difflib

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
    since: ChangedLines | None = None,
) -> FileOutcome:
    """Lint one file and, when asked, fix it. Files are written atomically; a file that
    changed on disk since it was read, or that is a symlink, is left alone (`error`).
    With `since`, only the findings on changed lines (those `--since` reports) are fixed."""
    options = with_unsafe(options, engine.config)
    result = engine.lint_file(path, data, fingerprint)
    findings = tuple(result.findings)
    plain = FileOutcome(path, findings + tuple(result.unresolved), analyzed=result.analyzed)
    if options.cache:  # only the cache needs them
        plain = plain._replace(deps=result.deps, listeners=result.listeners)
    if not options.fix:
        return plain
    if not any(_to_fix(f, options, since) for f in findings):
        return plain._replace(output=options.stdin)
    from timestamp_lint import fix as fixer  # LibCST: loaded by the analysis already

    chosen = [(f, v) for f, v in result.removals if _to_fix(f, options, since)]
    # on the parts that were analysed: a large file is not parsed whole for its fixes
    text = engine.fixed_text(result, [v for _, v in chosen])
    located = None if text is not None else engine.removal_nodes(result, [v for _, v in chosen])
    if text is None and located is None:  # analyse it whole again, as the fix renders it
        result = engine.lint_file(path, result.data, fingerprint, whole=True)
        findings = tuple(result.findings)
        chosen = [(f, v) for f, v in result.removals if _to_fix(f, options, since)]
        located = engine.removal_nodes(result, [v for _, v in chosen])
    if not chosen or result.text is None or result.data is None:
        return plain._replace(findings=findings, output=options.stdin)
    if text is None:
        if located is None:
            return plain._replace(findings=findings, output=options.stdin)
        module, nodes = located
        try:
            rewrites = fixer.rewrites_for(nodes, [v for _, v in chosen])
            text = fixer.apply(module, set(nodes), result.text, rewrites)
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


# --------------------------------------------------------------------------- reading


class _Read(NamedTuple):
    """What reading one file told: its outcome (from the cache, or none to analyse), or the
    task of analysing it; with the cache, its fingerprint and what `Cache.observe` saw."""

    outcome: FileOutcome | None = None
    task: tuple[Path, bytes | None, Fingerprint | None] | None = None
    fingerprint: Fingerprint | None = None
    row: list | None = None


def _from_cache(
    cache: Cache, path: Path, options: Options, since: ChangedLines | None
) -> tuple[FileOutcome | None, os.stat_result | None]:
    """The cached outcome of `path` if its mtime and size say it is unchanged (one stat,
    no read), and the stat."""
    stat = cache.stat(path)
    if stat is None:
        return None, None  # reading it tells what is wrong
    hit = cache.lookup(path, stat)
    if not _usable(hit, options, since):
        return None, stat
    return FileOutcome(path, tuple(hit), cached=True), stat


def _read(
    check: Callable[[], Engine | ByteFilter],
    path: Path,
    options: Options,
    since: ChangedLines | None,
    cache: Cache | None,
    cached: Cache | None,
    stat: os.stat_result | None = None,
) -> _Read:
    """Read `path` once: what `cached` results still serve it, or what the byte scan says
    it needs (`check()`: the engine, or a byte filter of the same judgement; `stat`: the
    file's, when the caller took it)."""
    if options.stdin is not None:
        return _Read(task=(path, options.stdin, None))
    data = None
    try:
        if cached is not None and stat is None:
            hit, stat = _from_cache(cached, path, options, since)
            if hit is not None:
                return _Read(hit)
        if cache is not None and stat is None:
            stat = os.stat(path)
        data = read_source(path)
    except (OSError, SourceError):
        return _Read(task=(path, data, None))  # the engine reports what is wrong with it
    fingerprint = row = None
    if cache is not None and stat is not None:  # the content hash only serves the cache
        fingerprint = (stat.st_mtime_ns, stat.st_size, content_hash(data))
        row = cache.observe(path, stat, data)
        if cached is not None and _usable(
            hit := cached.lookup(path, stat, fingerprint[2]), options, since
        ):
            return _Read(FileOutcome(path, tuple(hit), cached=True), row=row)
    if not check().needs_analysis(data, path):
        check().forget(path)
        return _Read(FileOutcome(path), fingerprint=fingerprint, row=row)
    return _Read(task=(path, data, fingerprint), fingerprint=fingerprint, row=row)


def _read_and_process(
    engine: Engine,
    path: Path,
    options: Options,
    since: ChangedLines | None,
    cache: Cache | None,
    stat: os.stat_result | None,
) -> _Read:
    """`_read`, then the analysis it asks for: the outcome of `path`, whatever it took."""
    read = _read(lambda: engine, path, options, since, cache, cache, stat)
    if read.task is None:
        return read
    _, data, fingerprint = read.task
    outcome = process(engine, path, options, data, fingerprint, since)
    return read._replace(outcome=outcome, task=None)


# --------------------------------------------------------------------------- parallelism

# Workers start when the files to analyse so far reach either size: fewer, and smaller, cost
# less than starting the workers (parsing and the first pass take about 0.4 s per MB)
PARALLEL_MIN_FILES = 48
PARALLEL_MIN_BYTES = 256 * 1024
# A run with this many files to read (the cache serving none of them), holding this many
# bytes, reads them across this process and its workers: the byte scan, which decides what
# to analyse, is most of the work on a large tree. (On fewer or smaller files, starting a
# worker costs more than it saves.) The workers take shards of files from the front, at most
# `SHARD_FILES` each and smaller as fewer are left (`SHARD_SHARE`), so that they finish
# about when this process, which reads one file at a time from the back, meets them.
SHARD_MIN_FILES = 400
SHARD_MIN_BYTES = 4 * 1024 * 1024
SHARD_FILES = 64
SHARD_SHARE = 4  # a shard is at most 1 / (SHARD_SHARE x processes) of the files left
SHARDS_AHEAD = 2  # shards given to each worker before it answers one
FILES_AHEAD = 4  # files to analyse sent to each worker before it answers
_worker_engine: Engine | None = None
_worker_since: ChangedLines | None = None  # inherited, like the engine: never pickled
_worker_cache: Cache | None = None  # (read only: what it observes goes back to the parent)


def _work(
    path: Path, data: bytes | None, fingerprint: Fingerprint | None, options: Options
) -> FileOutcome:
    assert _worker_engine is not None
    return process(_worker_engine, path, options, data, fingerprint, _worker_since)


def _work_shard(shard: list[tuple[Path, os.stat_result | None]], options: Options) -> list[_Read]:
    assert _worker_engine is not None
    return [
        _read_and_process(_worker_engine, path, options, _worker_since, _worker_cache, stat)
        for path, stat in shard
    ]


def _shard_size(left: int, processes: int) -> int:
    """How many of the `left` files no process has taken a worker's next shard holds: at
    most `SHARD_FILES`, and at most 1 / (`SHARD_SHARE` x `processes`) of them, so that the
    last shards are small and the processes finish together; at least one."""
    return max(1, min(left, SHARD_FILES, -(-left // (SHARD_SHARE * processes))))


def _read_candidates(paths: list[Path]) -> tuple[list[tuple[Path, str]], list[Path]]:
    """A worker's part of the reading that learns the field names."""
    from timestamp_lint import detect

    assert _worker_engine is not None
    return detect.read_candidates(paths, frozenset(_worker_engine.config.fields))


def _fork_workers(count: int, ahead: int) -> Workers:
    """Worker processes forked from this one (imported here: most runs never need them)."""
    from timestamp_lint.workers import Workers

    return Workers(count, start=functools.partial(_worker_start, os.getpid()), ahead=ahead)


def _worker_start(parent: int) -> None:
    """A worker stops with its parent: Ctrl-C is the parent's to handle (it terminates the
    pool), and on Linux the kernel ends the worker if the parent dies any other way."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, ImportError):
        pass  # not Linux: Ctrl-C and errors still stop the pool
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(1)
    if _worker_engine is not None:  # the trees it inherited serve; its own would not
        _worker_engine.index.trees.stop()


def _crashed(path: Path) -> FileOutcome:
    message = "Cannot analyse file: the analysis crashed its worker process"
    return FileOutcome(path, (Finding(path, 1, 1, PARSE_ERROR, message, 1, 1),))


class _Analyser:
    """Processes files as the read loop finds them: in this process while there are few,
    in forked worker processes once there are enough to pay for them. The workers start at
    that moment, before the rest of the files are read, so they do not inherit those bytes.
    A worker that dies costs only the file it was on (a TSL999). A run with many files to
    read reads them in shards (`shards`), across this process and the workers."""

    def __init__(
        self, engine: Callable[[], Engine], options: Options, since: ChangedLines | None = None
    ) -> None:
        self._engine = engine  # built on first use
        self.options = options
        self.since = since
        jobs = options.jobs if options.jobs is not None else (os.cpu_count() or 1)
        self.jobs = jobs if hasattr(os, "fork") else 1
        self.tasks: list[tuple[Path, bytes | None, Fingerprint | None]] = []
        self.tickets: list[int] = []
        self.pool: Workers | None = None
        self.pending = 0  # bytes of the files added

    @property
    def engine(self) -> Engine:
        return self._engine()

    def add(self, path: Path, data: bytes | None, fingerprint: Fingerprint | None) -> None:
        self.tasks.append((path, data, fingerprint))
        self.pending += len(data or b"")
        if (
            self.pool is None
            and self.jobs > 1
            and (len(self.tasks) >= PARALLEL_MIN_FILES or self.pending >= PARALLEL_MIN_BYTES)
        ):
            global _worker_engine, _worker_since
            _worker_engine = self.engine  # inherited by the forked workers: no index rebuild
            _worker_since = self.since

            trees = self.engine.index.trees  # each worker inherits the ones still needed
            trees.prune(lambda path, data: self.engine.needs_analysis(data, path))
            self.pool = _fork_workers(self.jobs, FILES_AHEAD)
            self.tickets = [self.pool.submit(_work, *task, self.options) for task in self.tasks]
            trees.stop(forget=True)  # the workers lint from now on
        elif self.pool is not None:
            self.tickets.append(self.pool.submit(_work, path, data, fingerprint, self.options))

    def outcomes(self) -> list[FileOutcome]:
        """One outcome per added file, in the order they were added."""
        if self.pool is None:
            return [
                process(self.engine, p, self.options, d, f, self.since) for p, d, f in self.tasks
            ]
        from timestamp_lint.workers import WorkerLost

        global _worker_engine
        results: list[FileOutcome | None] = []
        try:
            for ticket in self.tickets:
                try:
                    results.append(self.pool.result(ticket))
                except WorkerLost:
                    results.append(None)
            self.pool.close()
        except BaseException:  # Ctrl-C, or worse: the workers stop now, not after the queue
            self.abort()
            raise
        self.pool = None
        _worker_engine = None
        lost = [index for index, result in enumerate(results) if result is None]
        # read again: a worker may have fixed the file before it died (nor is the old
        # fingerprint the file's then)
        again = self._recover(_work, [(self.tasks[i][0], None, None, self.options) for i in lost])
        for index, outcome in zip(lost, again, strict=True):
            results[index] = outcome if outcome is not None else _crashed(self.tasks[index][0])
        return results  # type: ignore[return-value]

    def abort(self) -> None:
        """Stop the workers at once (the run is interrupted): none outlives the run."""
        global _worker_engine, _worker_cache
        _worker_engine = _worker_cache = None
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.kill()

    def shards(
        self, todo: list[tuple[Path, os.stat_result | None]], cache: Cache | None
    ) -> list[_Read]:
        """Read, scan and analyse the files of `todo` (each with its stat, if taken): the
        workers take shards from the front, this process one file at a time from the back,
        until they meet. One outcome per file, in the order of `todo`. The files of a shard
        whose worker died are read again one at a time, each in a fresh worker."""
        from timestamp_lint import detect
        from timestamp_lint.workers import WorkerLost

        global _worker_engine, _worker_since, _worker_cache
        engine = self.engine
        _worker_engine, _worker_since, _worker_cache = engine, self.since, cache
        # The field names, which every file's scan needs, are learned from the project's
        # files before the workers fork, so that none learns them again; when that reads
        # every file, workers forked for that alone read their parts (`_learn`).
        if detect.reads_every_file(engine.index):
            self._learn()
        engine.prepare()
        engine.index.trees.prune(lambda path, data: engine.needs_analysis(data, path))
        workers = self.jobs - 1  # and this process
        front, back = 0, len(todo)  # the files no process has taken: todo[front:back]
        given: dict[int, tuple[int, int]] = {}  # ticket: the shard, as todo[start:end]
        results: list[_Read | None] = [None] * len(todo)
        try:
            pool = self.pool = _fork_workers(workers, SHARDS_AHEAD)

            def give() -> None:
                """Keep the workers `SHARDS_AHEAD` shards each ahead, taken from the front
                (asked after every file this process reads: a worker never waits long)."""
                nonlocal front
                pool.poll()
                while front < back and pool.alive and pool.unanswered < SHARDS_AHEAD * workers:
                    end = front + _shard_size(back - front, workers + 1)
                    ticket = pool.submit(_work_shard, todo[front:end], self.options)
                    given[ticket] = (front, end)
                    front = end

            give()
            engine.index.trees.stop()  # a tree parsed from now on may serve another process
            while front < back:  # this process reads from the back
                back -= 1
                path, stat = todo[back]
                results[back] = _read_and_process(
                    engine, path, self.options, self.since, cache, stat
                )
                give()
            for ticket, (start, end) in given.items():
                with contextlib.suppress(WorkerLost):  # read again below
                    results[start:end] = pool.result(ticket)
            pool.close()
        except BaseException:  # Ctrl-C, or worse: the workers stop now, not after the queue
            self.abort()
            raise
        self.pool = None
        lost = [n for n, read in enumerate(results) if read is None]
        # stat and read again: a worker may have fixed the file before it died
        again = self._recover(
            _work_shard, [([(todo[n][0], None)], self.options) for n in lost], cache
        )
        for n, reads in zip(lost, again, strict=True):
            results[n] = reads[0] if reads is not None else _Read(_crashed(todo[n][0]))
        _worker_engine = _worker_cache = None
        return results  # type: ignore[return-value]

    def _learn(self) -> None:
        """Read every project file for the field names (`detect.read_candidates`) in as
        many parts as processes: this one reads the first, workers forked for that the
        others (a part whose worker died, this one again); the names are learned here."""
        from timestamp_lint import detect
        from timestamp_lint.workers import WorkerLost

        files = self.engine.index.project_files()  # none, when the files linted are not
        size = max(1, -(-len(files) // self.jobs))  # the project's (excluded, given by name)
        parts = [files[i : i + size] for i in range(0, len(files), size)]
        configured = frozenset(self.engine.config.fields)
        found: list[tuple[Path, str]] = []
        listening: list[Path] = []
        pool = self.pool = _fork_workers(max(0, len(parts) - 1), 1)
        tickets = [pool.submit(_read_candidates, part) for part in parts[1:]]
        for number, part in enumerate(parts):
            reading = None
            if number:
                with contextlib.suppress(WorkerLost):
                    reading = pool.result(tickets[number - 1])
            if reading is None:  # this process's part, or one whose worker died
                reading = detect.read_candidates(part, configured)
            found.extend(reading[0])
            listening.extend(reading[1])
        pool.close()
        self.pool = None
        detect.use_reading(self.engine.index, found, listening)

    def _recover(self, work: Callable, tasks: list, cache: Cache | None = None) -> list:
        """`work(task)` for each task whose worker died, one at a time in a fresh worker
        (the same one until a task crashes it): None for each task that crashed its worker."""
        from timestamp_lint.workers import WorkerLost

        global _worker_engine, _worker_since, _worker_cache
        _worker_engine, _worker_since, _worker_cache = self.engine, self.since, cache
        results: list = []
        try:
            for task in tasks:
                if self.pool is None:
                    self.pool = _fork_workers(1, 1)
                try:
                    results.append(self.pool.result(self.pool.submit(work, *task)))
                except WorkerLost:
                    results.append(None)
                    self.pool.close()
                    self.pool = None
        except BaseException:
            self.abort()
            raise
        finally:
            _worker_engine = _worker_cache = None
        if self.pool is not None:
            self.pool.close()
            self.pool = None
        return results


# --------------------------------------------------------------------------- runs


def run(
    paths: Sequence[Path],
    config: Config,
    options: Options = Options(),
    since: ChangedLines | None = None,
) -> LintResult:
    """Process every file under `paths` (or the one stdin file) and collect the outcomes.

    Each file is stat-ed; an unchanged file with a valid cache entry is not even read. The
    others are read once and pre-filtered; only files that can hold a finding are analysed.
    Many files to read are read in shards, by this process and its workers; a few, here,
    the ones to analyse going to workers when there are many (`_Analyser`).
    """
    options = with_unsafe(options, config)
    notes = WalkNotes()
    project_files = project_files_of(config, notes)
    tempfiles.remove_stale(notes.temporaries)  # what killed `--fix` runs left
    if options.stdin is not None:
        files = [Path(os.path.abspath(paths[0]))]
    else:
        files = discover(paths, config, project_files, notes)
    if since is not None:
        files = [path for path in files if since.touches(path)]
    cache = None
    if options.cache and options.stdin is None:
        directory = options.cache_dir or config.root / CACHE_DIR_NAME
        cache = Cache(directory, config, project_files, with_edits=options.edits)
    built: list[Engine] = []
    light: list[ByteFilter] = []

    def engine() -> Engine:
        """The project index and the engine, built when a file first needs more than its
        cached result: a warm run neither builds nor imports them."""
        if not built:
            built.append(make_engine(config, project_files, options, cache))
        return built[0]

    def check() -> Engine | ByteFilter:
        """What tells whether a file read needs analysis: the engine once built; until then
        a byte filter of the field names when no model needs reading to know them (the
        cache remembers them, or none are learned), so that a run whose changed files all
        stop at their bytes (a file edited, a pre-commit run) builds no index."""
        if built or options.stdin is not None or not options.prefilter:
            return engine()
        if not light:
            names = frozenset(config.fields) if not config.detect_fields else None
            if names is None and cache is not None:
                names = cache.field_names()
            if names is None:
                return engine()
            from timestamp_lint.prefilter import ByteFilter, Scanner

            light.append(ByteFilter(config, Scanner(names, config.fields).scan))
        return light[0]

    outcomes: dict[Path, FileOutcome] = {}
    analyser = _Analyser(engine, options, since)

    def done(path: Path, read: _Read) -> None:
        outcome = read.outcome
        assert outcome is not None
        outcomes[path] = outcome
        # only a result that describes the file as it is on disk is worth keeping
        if (
            cache is not None
            and read.fingerprint is not None
            and not (outcome.cached or outcome.fixed or outcome.error)
        ):
            cache.store(
                path,
                read.fingerprint,
                outcome.findings,
                outcome.deps or {},
                outcome.analyzed,
                outcome.listeners,
            )

    def take(path: Path, cached: Cache | None, stat: os.stat_result | None = None) -> None:
        """Lint `path` (from `cached` results where they are still valid)."""
        read = _read(check, path, options, since, cache, cached, stat)
        if read.task is not None:
            analyser.add(*read.task)
        else:
            done(path, read)

    try:  # an interrupted run stops its workers
        todo: list[tuple[Path, os.stat_result | None]] = []
        for path in files:  # what the cache serves takes one stat
            hit, stat = (None, None) if cache is None else _from_cache(cache, path, options, since)
            if hit is not None:
                outcomes[path] = hit
            else:
                todo.append((path, stat))
        if analyser.jobs > 1 and options.stdin is None and _worth_sharding(todo):
            for (path, _), read in zip(todo, analyser.shards(todo, cache), strict=True):
                if cache is not None and read.row is not None:
                    cache.adopt(path, read.row)  # observed by a worker
                done(path, read)
        else:
            for path, stat in todo:
                take(path, cache, stat)
        # Cached results assume the timestamp field names the models declared when they
        # were written: when a model now declares another, every file is judged again.
        if cache is not None and config.detect_fields and cache.declarations_changed():
            for path in [p for p in files if outcomes.get(p, FileOutcome(p)).cached]:
                del outcomes[path]
                take(path, None)
    except BaseException:
        analyser.abort()
        raise
    for (path, _, fingerprint), outcome in zip(analyser.tasks, analyser.outcomes(), strict=True):
        done(path, _Read(outcome, fingerprint=fingerprint))
    if cache is not None:
        if built and (confirmed := _confirmed_fields(built[0])) is not None:
            cache.remember_fields(*confirmed)
        cache.save()
    ordered = [outcomes[path] for path in files]
    findings = sorted(f for outcome in ordered for f in outcome.findings)
    if since is not None:
        from timestamp_lint.since import filter_findings

        findings = filter_findings(findings, since)
    unresolved = tuple(f for f in findings if f.code == UNRESOLVED)
    if unresolved:
        findings = [f for f in findings if f.code != UNRESOLVED]
    if options.stdin is None and is_selected(PARSE_ERROR, config.select, config.ignore):
        # nothing is skipped silently
        findings = sorted([*findings, *_unlistable(notes, paths)])
    return LintResult(
        unresolved=unresolved,
        findings=findings,
        files_checked=len(files),
        fixed=sum(o.fixed for o in ordered),
        diffs=tuple(o.diff for o in ordered if o.diff),
        errors=tuple(o.error for o in ordered if o.error),
        outputs={o.path: o.output for o in ordered if o.output is not None},
    )


def _confirmed_fields(engine: Engine) -> tuple[frozenset[str], dict[Path, Fingerprint]] | None:
    """The field names `engine` confirmed in this run, with what they depended on."""
    if not engine.config.detect_fields:
        return None
    from timestamp_lint import detect

    return detect.confirmed(engine.index)


def _worth_sharding(todo: list[tuple[Path, os.stat_result | None]]) -> bool:
    """Whether the files of `todo` (with their stat, where the cache took it; the others
    are stat-ed now, up to `SHARD_MIN_BYTES`) are enough to read in shards."""
    if len(todo) < SHARD_MIN_FILES:
        return False
    size = 0
    for path, stat in todo:
        if stat is None:
            with contextlib.suppress(OSError):  # reading it tells what is wrong
                size += os.stat(path).st_size
        else:
            size += stat.st_size
        if size >= SHARD_MIN_BYTES:
            return True
    return False


def _unlistable(notes: WalkNotes, paths: Sequence[Path]) -> list[Finding]:
    """A TSL999 for each folder under `paths` that could not be listed (whatever changed
    since a revision: what it holds is unknown)."""
    return [
        Finding(folder, 1, 1, PARSE_ERROR, f"Cannot list folder: {reason}", 1, 1)
        for folder, reason in unlistable_under(notes, paths)
    ]


def _usable(hit: list[Finding] | None, options: Options, since: ChangedLines | None) -> bool:
    """A cached result serves unless this run must fix one of its findings."""
    if hit is None:
        return False
    return not options.fix or not any(_to_fix(f, options, since) for f in hit)


def _projects(
    paths: Sequence[Path | str], config: Config | None, config_file: Path | None
) -> list[Project]:
    targets = [Path(p) for p in paths] or [Path(".")]
    if config is not None:
        return [Project(config, tuple(targets))]
    return plan_projects(targets, Overrides(config_file=config_file))


def lint_paths(
    paths: Sequence[Path | str] = (".",),
    *,
    config: Config | None = None,
    config_file: Path | None = None,
    options: Options = Options(),
) -> LintResult:
    """Lint files and folders; raises `UserError` for a bad path or configuration. Without
    `config`, each file is judged with its own project's configuration."""
    return run_projects(_projects(paths, config, config_file), options)


def fix_paths(
    paths: Sequence[Path | str] = (".",),
    *,
    config: Config | None = None,
    config_file: Path | None = None,
    unsafe: bool | None = None,
    diff: bool = False,
    options: Options = Options(),
) -> LintResult:
    """Apply safe fixes (and unsafe ones with `unsafe`, by default as the configuration's
    `unsafe-fixes` says); with `diff`, write nothing and return
    unified diffs instead. `errors` names files that could not be written."""
    projects = _projects(paths, config, config_file)
    return run_projects(projects, options._replace(fix=True, unsafe=unsafe, diff=diff))


# --------------------------------------------------------------------------- projects


class Project(NamedTuple):
    """The paths of one run that belong to one project, and that project's configuration."""

    config: Config
    paths: tuple[Path, ...]
    cache: bool = True  # False outside any project (no configuration, no git work tree)


def plan_projects(paths: Sequence[Path], overrides: Overrides | None = None) -> list[Project]:
    """Group `paths` by the project each belongs to, as Ruff resolves configuration: every
    file is judged with the nearest configuration above it, whatever else is linted. A folder
    holding sub-projects (folders with their own configuration) is linted as several
    projects, and each project's walk leaves its sub-projects out. With `--config FILE`,
    that one configuration serves every path. Projects come sorted by root."""
    overrides = overrides or Overrides()
    targets = [Path(p) for p in paths] or [Path(".")]
    if overrides.config_file is not None:
        config = load_config(start_directory(targets), overrides=overrides)
        return [Project(config, tuple(targets))]
    by_folder: dict[Path, Config] = {}
    configs: dict[Path, Config] = {}
    grouped: dict[Path, list[Path]] = {}
    nested: dict[Path, list[Path]] = {}

    def config_of(folder: Path) -> Config:
        if folder not in by_folder:
            config = load_config(folder, overrides=overrides)
            by_folder[folder] = configs.setdefault(config.root, config)
        return by_folder[folder]

    def subprojects(config: Config) -> list[Path]:
        if config.root not in nested:
            outer = next((r for r in nested if config.root in nested[r]), None)
            if outer is not None:  # walked already, inside an enclosing project
                nested[config.root] = [p for p in nested[outer] if p.is_relative_to(config.root)]
            else:
                nested[config.root] = find_subprojects(config.root, config.exclude)
        return [p for p in nested[config.root] if p != config.root]

    for given in targets:
        path = Path(os.path.abspath(given))
        is_dir = path.is_dir()
        folder = path if is_dir else path.parent
        config = config_of(folder if folder.exists() else Path.cwd())
        grouped.setdefault(config.root, []).append(given)
        if is_dir:
            for sub in subprojects(config):
                if sub.is_relative_to(path):
                    grouped.setdefault(config_of(sub).root, []).append(sub)
    projects = []
    for root in sorted(grouped):
        config = configs[root]
        inner = subprojects(config)
        if inner:
            config = replace(config, exclude=config.exclude + subproject_excludes(root, inner))
        bare = config.config_file is None and git_root(root) is None
        projects.append(Project(config, tuple(dict.fromkeys(grouped[root])), cache=not bare))
    return projects


def run_projects(
    projects: Sequence[Project],
    options: Options = Options(),
    since: Callable[[Config], ChangedLines] | None = None,
) -> LintResult:
    """`run()` for each project with its own configuration, index and cache; the results
    merged into one, findings sorted as one list. `since` gives a project's changed lines."""
    results = []
    for project in projects:
        project_options = options
        if not project.cache:
            project_options = project_options._replace(cache=False)
        elif options.cache_dir is not None and len(projects) > 1:  # one folder per project
            key = blake2b(os.fsencode(project.config.root), digest_size=8).hexdigest()
            project_options = project_options._replace(cache_dir=options.cache_dir / key)
        changed = since(project.config) if since is not None else None
        results.append(run(project.paths, project.config, project_options, changed))
    if len(results) == 1:
        return results[0]
    outputs: dict[Path, bytes] = {}
    for result in results:
        outputs.update(result.outputs)
    return LintResult(
        findings=sorted(f for result in results for f in result.findings),
        files_checked=sum(result.files_checked for result in results),
        fixed=sum(result.fixed for result in results),
        diffs=tuple(sorted(d for result in results for d in result.diffs)),
        errors=tuple(sorted(e for result in results for e in result.errors)),
        outputs=outputs,
        unresolved=tuple(sorted(f for result in results for f in result.unresolved)),
    )


def project_files_of(config: Config, notes: WalkNotes | None = None) -> list[Path]:
    """The Python files of a project's walk: `exclude` applied, and (with
    `respect-gitignore`) the files git ignores left out. `notes` collects temporary files
    and folders that could not be listed."""
    if not config.respect_gitignore:
        return list(walk_python_files(config.root, config.root, PathMatcher(config.exclude), notes))
    with GitIgnore(config.root) as ignore:  # git starts while the walk runs
        exclude = PathMatcher(config.exclude)
        return ignore.filter(walk_python_files(config.root, config.root, exclude, notes))


def files_to_lint(projects: Sequence[Project]) -> list[Path]:
    """Every file a run over `projects` would lint (`--show-files`), sorted."""
    found: set[Path] = set()
    for project in projects:
        found.update(discover(project.paths, project.config, project_files_of(project.config)))
    return sorted(found)


def stdin_excluded(config: Config, path: Path) -> bool:
    """With `force-exclude`, whether the path stdin stands for is excluded (then, as in
    Ruff, nothing is reported and a fix gives the input back unchanged)."""
    if not config.force_exclude:
        return False
    relative = relative_to_root(Path(os.path.abspath(path)), config.root)
    return PathMatcher(config.exclude).match(relative)
