"""The server's memory of each project: its configuration, a warm engine and project index,
and which open buffers the index sees in place of the files on disk.

A project is a root with its configuration, found for each document as the command line
finds it for `--stdin-filename` (the nearest configuration file above it, else the git work
tree; else the workspace folder holding it, where the command line would use the current
folder). Its `Engine` and `ProjectIndex` live as long as the configuration does, so a change
to a buffer costs the analysis of that buffer alone.

The index memoizes what it worked out about classes (which are models, their columns). What
a module binds at its top level, its *shape* (imports, classes with their bases, columns and
decorators, values, listeners), is all those results depend on. After each lint the shape of
the buffer is compared with the one the index had: when it changed (a model gained a default,
an import moved), the index is built anew with every open buffer laid over the disk, and the
open documents whose last analysis read that module (`ProjectIndex.tracking()`, as the cache
uses it) are linted again. Edits inside function bodies, the usual typing, keep the shape.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from timestamp_lint.api import Options, process, project_files_of
from timestamp_lint.cache import Fingerprint, content_hash
from timestamp_lint.config import find_project_root, load_config
from timestamp_lint.engine import (
    MAX_ANALYSED_LINES,
    Engine,
    FileResult,
    code_lines,
)
from timestamp_lint.ftypes import PARSE_ERROR, Applicability, Config, Finding
from timestamp_lint.index import ModuleSummary, ProjectIndex, summarize
from timestamp_lint.prefilter import SKIP_FILE_RE, may_define_listeners
from timestamp_lint.server import incremental
from timestamp_lint.server.documents import to_bytes
from timestamp_lint.source import SourceError, decode_source, parse_python, read_source

CONFIG_NAMES = frozenset({"pyproject.toml", "timestamp-lint.toml", ".timestamp-lint.toml"})


def _fingerprint(data: bytes) -> Fingerprint:
    return (0, len(data), content_hash(data))


def _frozen(value: Any, skip: frozenset[str] = frozenset()) -> Any:
    """A comparable rendering of a summary: dataclasses (some compare by identity) become
    tuples of their fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple(
                _frozen(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if f.name not in skip
            ),
        )
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_frozen(v) for v in value]
        return tuple(sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items)
    return value


def shape(summary: ModuleSummary | None) -> Any:
    """What other modules' analysis can depend on in `summary`. A class's line is left out:
    no result depends on it, and typing above a class would otherwise rebuild the index."""
    if summary is None:
        return None
    summary = _functions_as_values(summary)
    classes = tuple(
        (name, _frozen(cls, frozenset({"line"}))) for name, cls in summary.classes.items()
    )
    rest = _frozen(summary, frozenset({"classes"}))
    return (rest, classes)


def _functions_as_values(summary: ModuleSummary) -> ModuleSummary:
    """`summary` with its module-level functions bound like opaque values, as the skeleton
    of the incremental lint binds them (`name = (...)`, keeping line numbers). What a
    function returns is left out with its body: an edit that changes the class a function
    returns (a base built by a factory) is seen by the next whole-file lint (open, save)."""
    bindings = {
        name: tuple(("value", None) if kind == "function" else (kind, p) for kind, p in options)
        for name, options in summary.bindings.items()
    }
    order = {name: "value" if kind == "function" else kind for name, kind in summary.order.items()}
    return dataclasses.replace(summary, bindings=bindings, order=order)


def _parse(path: Path, data: bytes):
    try:
        return parse_python(decode_source(data), path)
    except (SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _in_git(start: Path) -> bool:
    return any((directory / ".git").exists() for directory in (start, *start.parents))


def config_for(path: Path, folders: Iterable[Path]) -> Config:
    """The configuration of the project `path` belongs to; raises `UserError`."""
    start = path.parent
    _, config_file = find_project_root(start)
    if config_file is None and not _in_git(start.resolve()):
        # the command line would take the current folder: the editor's is the workspace's
        holding = [f for f in folders if path.is_relative_to(f)]
        root = max(holding, key=lambda f: len(f.parts)) if holding else start
        return Config(root=root.resolve())
    return load_config(start)


class Project:
    """One project root: a warm engine, and the open buffers its index sees."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.files = project_files_of(config)  # the command line's walk (`.gitignore` too)
        self.buffers: dict[Path, bytes] = {}  # open documents, as the editor has them
        self.parsed: dict[Path, bytes] = {}  # the last content of each buffer that parsed
        self.deps: dict[Path, frozenset[Path]] = {}  # modules each open buffer's lint read
        self.prints: dict[Path, dict[Path, Fingerprint]] = {}  # and their fingerprints
        self.asked_listeners: set[Path] = set()  # open buffers whose lint asked for listeners
        self.unsynced: set[Path] = set()  # buffers whose summary the index has not taken yet
        self.layouts: dict[Path, incremental.Layout] = {}  # for edits inside one function
        self.builds = 0
        self._build()

    # -- the index -----------------------------------------------------------------------

    def _build(self) -> None:
        """A fresh engine and index, with every open buffer laid over the disk."""
        self.builds += 1
        self.engine = Engine(self.config, ProjectIndex(self.config, list(self.files)))
        # a server lints the buffers the editor sends: a tree kept from disk would only be
        # held for as long as it runs
        self.engine.index.trees.stop()
        self.shapes: dict[Path, Any] = {}
        for path, data in self.parsed.items():
            tree = _parse(path, data)
            if tree is not None:
                summary = self.engine.index.add_tree(path, tree, _fingerprint(data), data)
                self.shapes[path] = shape(summary)
        self.unsynced.clear()

    def _known_shape(self, path: Path) -> Any:
        if path not in self.shapes:
            self.shapes[path] = shape(self.engine.index.summary(path))
        return self.shapes[path]

    def _dependents(self, path: Path) -> set[Path]:
        return {p for p, deps in self.deps.items() if path in deps and p != path}

    def _sync(self, path: Path) -> bool:
        """Give the index the summary of buffer `path`; True when its shape changed."""
        self.unsynced.discard(path)
        data = self.buffers[path]
        tree = _parse(path, data)
        if tree is None:  # a broken buffer: the index keeps its last good summary
            return False
        self.parsed[path] = data
        before = self._known_shape(path)
        self.shapes[path] = shape(self.engine.index.add_tree(path, tree, _fingerprint(data), data))
        return self.shapes[path] != before

    def _sync_all(self) -> set[Path]:
        """Bring every unsynced buffer into the index; the buffers to lint again."""
        changed = [path for path in list(self.unsynced) if self._sync(path)]
        if not changed:
            return set()
        self._build()
        return {p for path in changed for p in (self._dependents(path) | {path})}

    # -- documents -----------------------------------------------------------------------

    def lint(
        self, path: Path, data: bytes, text: str | None = None, exact: bool = True
    ) -> tuple[FileResult, set[Path]]:
        """Lint buffer `path` as it is in the editor (`data`; `text`: the editor's text of
        it). Returns the result and the other open buffers whose results it may have changed
        (they read this module and its shape changed, or another buffer's pending shape
        change rebuilt the index). Unless `exact`, an edit inside one function analyses only
        that function (`incremental`)."""
        if text is not None and not exact:
            quick = self._incremental(path, data, text)
            if quick is not None:
                return quick, set()
        result, again = self._lint(path, data)
        self._layout(path, text, result)
        return result, again

    def _lint(self, path: Path, data: bytes) -> tuple[FileResult, set[Path]]:
        new_module = path not in self.buffers and path not in self.files
        self.buffers[path] = data
        self.unsynced.discard(path)
        again = self._sync_all()
        if new_module:  # a module the index did not know: imports may resolve differently
            self.files.append(path)
            again |= set(self.buffers)
        before = self._known_shape(path)
        index = self.engine.index
        held = index.summary(path)
        result = self.engine.lint_file(path, data, _fingerprint(data))
        if index.summary(path) is not held:  # the engine parsed it and gave the index its tree
            self.parsed[path] = data
            self.shapes[path] = shape(index.summary(path))
            changed = self.shapes[path] != before
        elif self._dependents(path) or new_module:
            changed = self._sync(path)
        else:  # nothing open reads this module: its summary can wait until something does
            self.unsynced.add(path)
            changed = False
        if changed or new_module:
            again |= self._dependents(path)
            self._build()
            result = self.engine.lint_file(path, data, _fingerprint(data))
        self.deps[path] = frozenset(result.deps)
        self.prints[path] = dict(result.deps)
        if result.listeners is not None:
            self.asked_listeners.add(path)
        else:
            self.asked_listeners.discard(path)
        again.discard(path)
        return result, again & set(self.buffers)

    def _layout(self, path: Path, text: str | None, result: FileResult) -> None:
        """After a whole lint: what an edit inside one function needs, when it can work."""
        self.layouts.pop(path, None)
        if (
            text is None
            or result.text != text
            or not result.analyzed
            or any(f.code == PARSE_ERROR for f in result.findings)
            or code_lines(text) > MAX_ANALYSED_LINES // 2
            or path not in self.shapes
        ):
            return
        try:
            tree = parse_python(text, path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        units = incremental.units_of(tree, text)
        if not units:
            return
        layout = incremental.Layout(text, units, self.shapes[path], self.builds, [], [])
        try:
            skeleton = parse_python(incremental.synthetic(text, layout.starts, units), path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        module = self.engine.index.module_id(path)
        fields = frozenset(self.config.fields)
        bare = summarize(path, module.name, module.root, module.is_package, skeleton, fields)
        if shape(bare) != layout.shape:
            return  # function bodies tell the index something (a save(), a listener)
        layout.inside, layout.outside = incremental.split_findings(result.findings, units)
        layout.deps = frozenset(result.deps)
        self.layouts[path] = layout

    def _incremental(self, path: Path, data: bytes, text: str) -> FileResult | None:
        """Lint an edit inside one function by analysing that function alone; None when
        the edit is not of that kind (the caller lints the whole buffer)."""
        layout = self.layouts.get(path)
        if layout is None or layout.build != self.builds or self.unsynced - {path}:
            return None
        if SKIP_FILE_RE.search(data):
            return None  # the whole file is skipped, wherever the comment is
        edit = incremental.locate_edit(layout, text)
        if edit is None:
            return None
        units = incremental.moved_units(layout, edit)
        source = incremental.synthetic(text, edit.starts, units, keep=edit.unit)
        partial = to_bytes(source)
        result = self.engine.lint_file(path, partial, _fingerprint(partial))
        if shape(self.engine.index.summary(path)) != layout.shape:
            self._build()  # what the index memoized from that text must go
            return None
        new = incremental.updated(layout, edit, units, text, result.findings)
        if new is None:
            return None
        new.deps = layout.deps | frozenset(result.deps)
        self.layouts[path] = new
        self.buffers[path] = self.parsed[path] = data
        self.unsynced.discard(path)
        self.deps[path] = new.deps
        self.prints[path] = {**self.prints.get(path, {}), **result.deps}
        if result.listeners is not None:
            self.asked_listeners.add(path)
        return FileResult(path, findings=new.findings(), analyzed=True, data=data, text=text)

    def close(self, path: Path) -> set[Path]:
        """The editor closed buffer `path`: the index goes back to the file on disk."""
        self.layouts.pop(path, None)
        data = self.buffers.pop(path, None)
        self.deps.pop(path, None)
        self.prints.pop(path, None)
        self.asked_listeners.discard(path)
        self.unsynced.discard(path)
        laid = self.parsed.pop(path, None)
        try:
            disk = read_source(path)
        except (SourceError, OSError):
            disk = None
        if disk is None and path in self.files and not os.path.exists(path):
            self.files.remove(path)
        if laid is None or laid == disk or data is None:
            return set()
        dependents = self._dependents(path)
        self._build()
        return dependents

    def disk_changed(self, path: Path, created: bool = False, deleted: bool = False) -> set[Path]:
        """A file of the project changed on disk (not through an open buffer): the open
        buffers to lint again."""
        if path in self.buffers:
            return set()  # the buffer is what counts
        if created or deleted:
            if created and path not in self.files:
                self.files.append(path)
            if deleted and path in self.files:
                self.files.remove(path)
            self._build()
            return set(self.buffers)
        try:
            data = read_source(path)
            status = os.stat(path)
        except (SourceError, OSError):
            data = None
        before = self._known_shape(path)
        tree = _parse(path, data) if data is not None else None
        after = None
        if tree is not None and data is not None:
            fingerprint = (status.st_mtime_ns, status.st_size, content_hash(data))
            after = shape(self.engine.index.add_tree(path, tree, fingerprint, data))
        listens = data is not None and may_define_listeners(data)
        if after == before and not listens:
            return set()
        self._build()
        found = self._dependents(path)
        if listens:
            found |= self.asked_listeners
        return found

    def saved(self, path: Path) -> set[Path]:
        """Buffer `path` was saved: the open buffers to lint again. The project's event
        listeners are found from the files on disk, so a saved file that may define one
        starts the index anew. And, for editors that do not report file changes, the
        modules the last lint of `path` read from disk that changed there since are handled
        as `disk_changed`."""
        again: set[Path] = set()
        data = self.buffers.get(path)
        if data is not None and may_define_listeners(data):
            self._build()
            again |= self.asked_listeners
        for dep, (mtime, size, _) in list(self.prints.get(path, {}).items()):
            if dep in self.buffers:
                continue
            try:
                status = os.stat(dep)
            except OSError:
                again |= self.disk_changed(dep, deleted=True)
                continue
            if (status.st_mtime_ns, status.st_size) != (mtime, size):
                again |= self.disk_changed(dep)
        return again

    # -- fixes -----------------------------------------------------------------------------

    def fix_all(self, path: Path, data: bytes) -> bytes:
        """What `timestamp-lint --fix --stdin-filename PATH -` prints for `data`."""
        options = Options(fix=True, stdin=data, cache=False, jobs=1)
        try:
            outcome = process(self.engine, path, options, data)
        finally:
            self._restore(path)
        return outcome.output if outcome.output is not None else data

    def fix_one(self, path: Path, data: bytes, finding: Finding) -> str | None:
        """The buffer's text with only `finding` fixed (the machinery of `--fix`), or None."""
        from timestamp_lint import fix as fixer

        try:
            for whole in (False, True):
                result = self.engine.lint_file(path, data, _fingerprint(data), whole=whole)
                chosen = [v for f, v in result.removals if _same(f, finding)]
                if len(chosen) != 1 or result.text is None:
                    return None
                located = self.engine.removal_nodes(result, chosen)
                if located is not None:
                    module, nodes = located
                    try:
                        rewrites = fixer.rewrites_for(nodes, chosen)
                        return fixer.apply(module, set(nodes), result.text, rewrites)
                    except fixer.FixError:
                        return None
            return None
        finally:
            self._restore(path)

    def _restore(self, path: Path) -> None:
        """A fix lints other text as `path`: give the index the buffer's summary back."""
        if path in self.buffers and shape(self.engine.index.summary(path)) != self.shapes.get(path):
            self.unsynced.add(path)
            if self._sync(path):
                self._build()


def _same(a: Finding, b: Finding) -> bool:
    return (a.line, a.column, a.end_line, a.end_column, a.code) == (
        b.line,
        b.column,
        b.end_line,
        b.end_column,
        b.code,
    )


def is_safe(finding: Finding) -> bool:
    return finding.fix is not None and finding.fix.applicability is Applicability.SAFE


def in_fix_all(finding: Finding, unsafe: bool) -> bool:
    """Whether fix-all applies the finding's fix: a safe one, or any with `unsafe-fixes`."""
    return finding.fix is not None and (unsafe or is_safe(finding))
