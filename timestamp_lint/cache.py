"""The on-disk cache: per-file results, valid while the file and what it depends on are unchanged.

One JSON file per (tool version, configuration) under `<project root>/.timestamp_lint_cache/`.
An entry holds a file's fingerprint (mtime, size, content hash), its findings, and the
fingerprints of the project modules its analysis read (the models it resolved through), so
editing a model re-checks the files that use it and nothing else. A file whose mtime and size
are unchanged is not even read. Adding or removing a project file (which can change how imports
resolve) re-checks every file that needed the model index. A result that asked which event
listeners the project has (they can make a column stamp itself) also records which files may
define listeners; a file that starts or stops mentioning them re-checks such results. Which
files mention them is remembered by mtime and size, so a warm run reads none of them.

The cache is JSON, never pickle: a foreign or corrupt file is ignored and rebuilt, never
executed. It is written atomically (temporary file and rename), so concurrent runs (pre-commit
splitting work, CI jobs sharing a workspace) can only lose each other's updates, never corrupt
the file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

try:  # BLAKE2 alone: `hashlib` loads OpenSSL first, ~3 ms of every run's start
    from _blake2 import blake2b
except ImportError:  # an interpreter that does not build it apart
    from hashlib import blake2b

from timestamp_lint import __version__, tempfiles
from timestamp_lint.discover import relative_to_root
from timestamp_lint.ftypes import Applicability, Config, Edit, Finding, Fix
from timestamp_lint.source import SourceError, read_source

CACHE_DIR_NAME = ".timestamp_lint_cache"
# 8: a site whose class has a base that did not resolve is unresolved; 9: `x.date()` is no copy;
# 10: a learned field name read from a dict is no copy
FORMAT = 10
Fingerprint = tuple[int, int, str]  # mtime in ns, size, content hash
# A results file larger than this is discarded unread (memory stays bounded whatever the
# folder holds): a generous allowance per project file, as entries grow with the project.
MAX_BYTES = 16 << 20
MAX_BYTES_PER_FILE = 4 << 10
# Results files of other configurations (one per `--select` combination, tool version...):
# the most recently used are kept, the others go, and none unused for this long survives.
KEEP_RESULT_FILES = 8
RESULT_FILE_AGE = 30 * 24 * 3600  # seconds
TOUCH_AFTER = 24 * 3600  # seconds: a results file in use is marked as used this often
TEMPORARY_SUFFIX = ".tmp"
IGNORE_TEXT = "# created by timestamp-lint\n*\n"


def content_hash(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


def config_key(config: Config) -> str:
    """What results depend on besides the files: tool, Python, LibCST, and settings."""
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    settings = {k: [str(v) for v in vs] for k, vs in values.items() if isinstance(vs, tuple)}
    settings.update((k, v) for k, v in values.items() if isinstance(v, bool))
    material = json.dumps(
        [FORMAT, __version__, sys.version_info[:2], _libcst_version(), settings],
        sort_keys=True,
    )
    return blake2b(material.encode(), digest_size=12).hexdigest()


def listener_digest(paths: Iterable[Path], root: Path) -> str:
    """Names the set of project files that may define event listeners: a result that asked
    about listeners stays valid while this set, and each of those files, are unchanged."""
    names = sorted(relative_to_root(p, root) for p in paths)
    material = "\0".join(names).encode("utf-8", "surrogateescape")
    return blake2b(material, digest_size=12).hexdigest()


def _libcst_version() -> str:
    """What identifies the installed LibCST, without importing it (that costs more than a
    warm run): where it is and when its package was written. An upgrade or reinstall
    rewrites it, and starts a new cache. The finders are asked as `import` asks them
    (`importlib.util.find_spec` would do the same, but importing it costs a warm run ~3 ms)."""
    try:
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            spec = find_spec("libcst", None) if find_spec is not None else None
            if spec is not None:
                break
        else:
            return "?"
        origin = spec.origin
        return f"{origin}:{os.stat(origin).st_mtime_ns}" if origin else "?"
    except (ImportError, OSError, ValueError):
        return "?"


def finding_to_json(finding: Finding, root: Path) -> dict[str, Any]:
    data = {
        "p": relative_to_root(finding.path, root),
        "pos": [finding.line, finding.column, finding.end_line, finding.end_column],
        "c": finding.code,
        "m": finding.message,
        "model": finding.model,
        "field": finding.field,
        "fix": None,
    }
    if finding.fix is not None:
        data["fix"] = [
            finding.fix.applicability.value,
            finding.fix.message,
            [list(dataclasses.astuple(edit)) for edit in finding.fix.edits],
        ]
    return data


def finding_from_json(data: dict[str, Any], root: Path) -> Finding:
    line, column, end_line, end_column = (int(n) for n in data["pos"])
    fix = None
    if data["fix"] is not None:
        applicability, message, edits = data["fix"]
        fix = Fix(
            Applicability(applicability),
            str(message),
            tuple(Edit(*(int(n) for n in e[:4]), str(e[4])) for e in edits),
        )
    return Finding(
        path=root / data["p"],
        line=line,
        column=column,
        code=str(data["c"]),
        message=str(data["m"]),
        end_line=end_line,
        end_column=end_column,
        model=None if data["model"] is None else str(data["model"]),
        field=None if data["field"] is None else str(data["field"]),
        fix=fix,
    )


class Cache:
    """Results of one project for one configuration."""

    def __init__(
        self, directory: Path, config: Config, project_files: list[Path], with_edits: bool
    ) -> None:
        """`with_edits`: this run needs fixes with their text edits; entries written by a
        run that did not compute them do not serve it."""
        self.root = config.root
        self.with_edits = with_edits
        self.directory = directory
        self.file = directory / f"results-{config_key(config)}.json"
        self._names = {p: relative_to_root(p, self.root) for p in project_files}
        names = sorted(self._names.values())
        self.names = frozenset(names)
        self.project = blake2b(
            "\0".join(names).encode("utf-8", "surrogateescape"), digest_size=12
        ).hexdigest()
        self.entries: dict[str, dict[str, Any]] = {}
        self.project_files = project_files
        # per project file, by mtime and size: whether it may define listeners, and the
        # timestamp fields its classes declare (`detect`): name -> [mtime, size, flag, names]
        self.listen: dict[str, list] = {}
        self.fields = frozenset(config.fields)
        # the declared timestamp columns the entries assume ("path:Class.field")
        self.learned: list[str] | None = None
        # the field names last confirmed (`detect.field_names`): those candidates, the names,
        # and the files the confirmation read, as `[name, mtime, size, hash]`
        self._fields: dict[str, list] | None = None
        self._fields_now: tuple[frozenset[str] | None] | None = None  # once per run
        self._declared: list[tuple[Path, str]] | None = None
        self._listeners: str | None = None  # the project's listener digest, once computed
        self.dirty = False
        self._stats: dict[str, os.stat_result | None] = {}
        self._observed: set[str] = set()  # the files `observe` read in this run
        self._changed: set[str] = set()  # those of them whose mtime or size changed
        self._root_text = str(self.root)
        self._rows_now: list[tuple[Path, list]] | None = None
        self._hashes: dict[str, str | None] = {}
        self._load()

    def _load(self) -> None:
        limit = MAX_BYTES + MAX_BYTES_PER_FILE * len(self.project_files)
        try:
            # never blocks on a FIFO; a file over the limit is not read at all
            data = json.loads(read_source(self.file, limit=limit))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                return
            entries = data["entries"]
            if not isinstance(entries, dict):
                return
            same_project = data.get("project") == self.project
        except (SourceError, OSError, ValueError, KeyError, TypeError, RecursionError):
            return  # missing, corrupt, oversized or foreign: start over
        self._mark_used()
        for name, entry in entries.items():
            if _valid_entry(entry) and (same_project or (not entry["deps"] and not entry["a"])):
                self.entries[name] = entry
        learned = data.get("learned")
        if isinstance(learned, list) and all(isinstance(name, str) for name in learned):
            self.learned = learned
        fields = data.get("fields")
        if same_project and _valid_fields(fields):  # (other files: other imports, maybe)
            self._fields = fields
        listen = data.get("listen")
        if isinstance(listen, dict):
            self.listen = {
                name: row
                for name, row in listen.items()
                if isinstance(row, list)
                and len(row) == 4
                and isinstance(row[0], int)
                and isinstance(row[1], int)
                and isinstance(row[2], bool)
                and isinstance(row[3], list)
                and all(isinstance(name, str) for name in row[3])
            }

    # -- lookups -----------------------------------------------------------------------

    def stat(self, path: Path) -> os.stat_result | None:
        """`path`'s stat (None if it cannot be taken), once per run: the listener check
        (which stats every project file) or an earlier file's dependencies may have taken
        it already."""
        return self._stat(self._name(path))

    def _stat(self, name: str) -> os.stat_result | None:
        if name not in self._stats:
            try:
                self._stats[name] = os.stat(os.path.join(self._root_text, name))
            except OSError:
                self._stats[name] = None
        return self._stats[name]

    def _unchanged(self, name: str, mtime: int, size: int, digest: str) -> bool:
        """Whether a file still has the content it had: same mtime and size, or same hash."""
        stat = self._stat(name)
        if stat is None:
            return False
        if (stat.st_mtime_ns, stat.st_size) == (mtime, size):
            return True
        if name not in self._hashes:
            try:
                self._hashes[name] = content_hash((self.root / name).read_bytes())
            except OSError:
                self._hashes[name] = None
        return self._hashes[name] == digest

    def lookup(self, path: Path, stat: os.stat_result, digest: str | None = None) -> list | None:
        """Cached findings of `path` if it (by mtime and size, or by `digest`) and its
        dependencies are unchanged; else None."""
        name = self._name(path)
        self._stats.setdefault(name, stat)  # the listener check may stat it again
        entry = self.entries.get(name)
        if entry is None:
            return None
        same_stat = (entry["m"], entry["s"]) == (stat.st_mtime_ns, stat.st_size)
        if not same_stat and digest != entry["h"]:
            return None
        if self.with_edits and not entry.get("e", False):
            return None
        if not all(self._unchanged(*dep) for dep in entry["deps"]):
            return None
        if entry["l"] is not None and entry["l"] != self.listeners():
            return None
        try:
            return [finding_from_json(f, self.root) for f in entry["f"]]
        except (KeyError, TypeError, ValueError):
            return None

    def _rows(self) -> list[tuple[Path, list]]:
        """Each project file with what is remembered of it (`observe`), as it is now: by
        mtime and size, so only files changed since are read again (once per run)."""
        if self._rows_now is None:
            self._rows_now = list(self._current_rows())
        return self._rows_now

    def _current_rows(self) -> Iterator[tuple[Path, list]]:
        for path in self.project_files:
            name = self._name(path)
            stat = self._stat(name)
            if stat is None:
                continue
            row = self.listen.get(name)
            if row is None or (row[0], row[1]) != (stat.st_mtime_ns, stat.st_size):
                try:
                    data = read_source(path)
                except SourceError:
                    continue
                row = self.observe(path, stat, data)
            yield path, row

    def declared(self) -> list[tuple[Path, str]]:
        """Each project file with the names its classes may declare as timestamp columns
        (`prefilter.candidates_in`), as remembered: only files changed since are read again."""
        if self._declared is None:
            self._declared = [(path, entry) for path, row in self._rows() for entry in row[3]]
        return self._declared

    def _learned_now(self) -> list[str]:
        return sorted(f"{self._name(path)}:{e}" for path, e in self.declared())

    def field_names(self) -> frozenset[str] | None:
        """The field names an earlier run confirmed, if that still holds: the same candidate
        declarations (`declared`), none of the files that hold one changed, and every file
        the confirmation read unchanged. None: confirm them again (`remember_fields`)."""
        if self._fields_now is None:
            self._fields_now = (self._valid_field_names(),)
        return self._fields_now[0]

    def _valid_field_names(self) -> frozenset[str] | None:
        stored = self._fields
        if stored is None or stored["learned"] != self._learned_now():
            return None
        if any(self._name(path) in self._changed for path, _ in self.declared()):
            return None  # changed since (its candidates the same, or not)
        if not all(self._unchanged(*dep) for dep in stored["deps"]):
            return None
        return frozenset(stored["names"])

    def remember_fields(self, names: frozenset[str], deps: dict[Path, Fingerprint]) -> None:
        """Keep the field names this run confirmed, with the files the confirmation read."""
        fields = {
            "learned": self._learned_now(),
            "names": sorted(names),
            "deps": sorted([self._name(p), *fp] for p, fp in deps.items()),
        }
        if fields != self._fields:
            self._fields = fields
            self.dirty = True

    def declarations_changed(self) -> bool:
        """Whether the columns the project's classes declare as stamping the time differ
        from those the cached results were computed with: then those results are not valid
        (a file that never mentioned a new field name may now copy it). Recorded for the
        next run."""
        now = self._learned_now()
        if self.learned == now:
            return False
        stale = bool(self.entries)  # computed with other (or unrecorded) declarations
        self.learned = now
        if stale or now:  # a project with no declarations and no results writes nothing
            self.dirty = True
        return stale

    def listeners(self) -> str:
        """The project's listener digest as it is now. Which files may define listeners is
        remembered by mtime and size, so only files changed since are read again."""
        if self._listeners is None:
            self._listeners = listener_digest(self.listener_files(), self.root)
        return self._listeners

    def listener_files(self) -> list[Path]:
        """The project files that may define listeners (`prefilter.may_define_listeners`),
        as remembered."""
        return [path for path, row in self._rows() if row[2]]

    # -- updates -----------------------------------------------------------------------

    def _name(self, path: Path) -> str:
        """`path` relative to the root, as entries are keyed (known for project files)."""
        name = self._names.get(path)
        return name if name is not None else relative_to_root(path, self.root)

    def observe(self, path: Path, stat: os.stat_result, data: bytes) -> list:
        """Remember whether `path`, as `stat` describes it, may define listeners, and which
        timestamp fields its classes declare."""
        name = self._name(path)
        seen = self.listen.get(name) if name in self._observed else None
        if seen is not None and (seen[0], seen[1]) == (stat.st_mtime_ns, stat.st_size):
            return seen  # read for the listener check or the fields already (`_rows`)
        from timestamp_lint import prefilter  # (a warm run reads no file)

        declared = sorted(prefilter.candidates_in(data, self.fields))
        row = [stat.st_mtime_ns, stat.st_size, prefilter.may_define_listeners(data), declared]
        self.adopt(path, row)
        return row

    def adopt(self, path: Path, row: list) -> None:
        """Remember `row`, what `observe` told of `path` (in a worker process, maybe)."""
        name = self._name(path)
        self._observed.add(name)
        old = self.listen.get(name)
        if old != row:
            if old is None or (old[0], old[1]) != (row[0], row[1]):
                self._changed.add(name)
            self.listen[name] = row
            self.dirty = True

    def store(
        self,
        path: Path,
        fingerprint: Fingerprint,
        findings: list[Finding] | tuple[Finding, ...],
        deps: dict[Path, Fingerprint],
        analyzed: bool,
        listeners: str | None = None,
    ) -> None:
        name = self._name(path)
        self.entries[name] = {
            "m": fingerprint[0],
            "s": fingerprint[1],
            "h": fingerprint[2],
            "a": analyzed,
            "e": self.with_edits,
            "l": listeners,
            "deps": sorted([self._name(p), *fp] for p, fp in deps.items() if p != path),
            "f": [finding_to_json(f, self.root) for f in findings],
        }
        self.dirty = True

    def save(self) -> None:
        """Write atomically; a cache that cannot be written is silently skipped."""
        if not self.dirty:
            self.tidy()
            return
        # what is known of files no longer in the project is forgotten
        self.listen = {n: row for n, row in self.listen.items() if n in self.names}
        data = json.dumps(
            {
                "format": FORMAT,
                "project": self.project,
                "entries": self.entries,
                "listen": self.listen,
                "learned": self.learned,
                "fields": self._fields,
            },
            separators=(",", ":"),
        ).encode()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.tidy()  # the .gitignore first: the results never show as untracked
            self._write(self.file, data)
        except OSError:
            pass

    def tidy(self) -> None:
        """Keep the cache folder in order, whether or not this run wrote to it: a
        `.gitignore` that is missing or empty (a full disk) is written again; temporary
        files of killed runs, results files of configurations no longer used, and module
        summaries no longer served (`summary_store.tidy`) go."""
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        with contextlib.suppress(OSError):
            ignore = self.directory / ".gitignore"
            if not any(e.name == ".gitignore" for e in entries) or ignore.stat().st_size == 0:
                self._write(ignore, IGNORE_TEXT.encode())
        temporaries = [
            Path(e.path)
            for e in entries
            if e.name.startswith((".results", ".gitignore.")) and e.name.endswith(".tmp")
        ]
        tempfiles.remove_stale(temporaries, TEMPORARY_SUFFIX)
        others = []
        for entry in entries:
            name = entry.name
            if name.startswith("results-") and name.endswith(".json") and name != self.file.name:
                with contextlib.suppress(OSError):
                    others.append((entry.stat().st_mtime, entry.path))
        others.sort(reverse=True)
        now = time.time()
        for rank, (mtime, path) in enumerate(others):
            if rank >= KEEP_RESULT_FILES - 1 or now - mtime > RESULT_FILE_AGE:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        from timestamp_lint import summary_store  # it needs the index, which needs us

        summary_store.tidy(self.directory, now)

    def _mark_used(self) -> None:
        """A results file read but not rewritten (a warm run) still counts as in use."""
        with contextlib.suppress(OSError):
            if time.time() - os.stat(self.file).st_mtime > TOUCH_AFTER:
                os.utime(self.file)

    def _write(self, target: Path, data: bytes) -> None:
        """Write atomically: a temporary file named after this process, then a rename. A
        full disk leaves the old file (or none), never a truncated one."""
        prefix = ".results." if target == self.file else f"{target.name}."
        fd, temporary = tempfiles.create(self.directory, prefix, TEMPORARY_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _valid_dependency(dep: Any) -> bool:
    return (
        isinstance(dep, list)
        and len(dep) == 4
        and isinstance(dep[0], str)
        and isinstance(dep[1], int)
        and isinstance(dep[2], int)
        and isinstance(dep[3], str)
    )


def _valid_fields(fields: Any) -> bool:
    return (
        isinstance(fields, dict)
        and all(
            isinstance(fields.get(key), list) and all(isinstance(n, str) for n in fields[key])
            for key in ("learned", "names")
        )
        and isinstance(fields.get("deps"), list)
        and all(_valid_dependency(dep) for dep in fields["deps"])
    )


def _valid_entry(entry: Any) -> bool:
    try:
        return (
            isinstance(entry["m"], int)
            and isinstance(entry["s"], int)
            and isinstance(entry["h"], str)
            and isinstance(entry["a"], bool)
            and (entry["l"] is None or isinstance(entry["l"], str))
            and isinstance(entry["f"], list)
            and all(_valid_dependency(d) for d in entry["deps"])
        )
    except (KeyError, TypeError):
        return False
