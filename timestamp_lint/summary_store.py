"""Summaries of installed modules (and of the project's own), kept on disk across runs.

A module of site-packages is parsed only when a resolution reaches it; its summary is then
written as JSON under the cache folder (`installed/<hash of the path>.json`), with the
file's size, modification time and content hash, and read back while those stay the same.
JSON, decoded into our own dataclasses only: a cache folder is data, never code.

Project modules are kept the same way under `project/`, so a run that re-lints one file does
not parse again every module its resolution reads; a project summary also serves only while
the module keeps its name and root (a new `__init__.py` can change them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timestamp_lint import tempfiles
from timestamp_lint.cache import blake2b

if TYPE_CHECKING:  # imported where summaries are read or written: `tidy` needs neither
    from timestamp_lint.index import ClassSummary, ModuleSummary

FORMAT = 4  # 2: `X = None` bindings kept apart; 3: declared attributes, insert methods;
# 4: the calls that may map a class imperatively
MAX_BYTES = 8 * 1024 * 1024
FOLDERS = ("installed", "project")
TEMPORARY_PREFIX, TEMPORARY_SUFFIX = ".s.", ".tmp"  # `.s.PID.XXXXXXXX.tmp` (see tempfiles)
UNUSED_AGE = 30 * 24 * 3600  # seconds: a summary not served for this long is removed
TOUCH_AFTER = 24 * 3600  # seconds: a served summary is marked as used this often
TIDIED = ".tidied"  # in each store folder: its modification time is the last tidying


class Corrupt(Exception):
    pass


@functools.cache
def _types() -> dict[str, type]:
    """The tagged value types a summary holds, by tag."""
    from timestamp_lint.columns import ColumnDecl, HookDecl, Value

    return {"D": ColumnDecl, "V": Value, "H": HookDecl}


@functools.cache
def _summaries() -> tuple[type[ClassSummary], type[ModuleSummary]]:
    from timestamp_lint.index import ClassSummary, ModuleSummary

    return ClassSummary, ModuleSummary


@functools.cache
def _tags() -> dict[type, str]:
    return {cls: tag for tag, cls in _types().items()}


def _encode(value: Any, classes: dict[int, int]) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Path):
        return {"p": str(value)}
    if isinstance(value, tuple):
        return {"t": [_encode(v, classes) for v in value]}
    if isinstance(value, list):
        return [_encode(v, classes) for v in value]
    if isinstance(value, frozenset):
        return {"f": sorted(value)}
    if isinstance(value, dict):
        return {"d": [[k, _encode(v, classes)] for k, v in value.items()]}
    if isinstance(value, _summaries()[0]):
        return {"c": classes[id(value)]}
    tag = _tags().get(type(value))
    if tag is None:
        raise Corrupt(f"cannot store {type(value).__name__}")
    fields = {f.name: _encode(getattr(value, f.name), classes) for f in dataclasses.fields(value)}
    return {"o": tag, "v": fields}


def _decode(value: Any, classes: list[ClassSummary]) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        return [_decode(v, classes) for v in value]
    if not isinstance(value, dict) or len(value) not in (1, 2):
        raise Corrupt("unexpected value")
    if "p" in value:
        return Path(value["p"])
    if "t" in value:
        return tuple(_decode(v, classes) for v in value["t"])
    if "f" in value:
        return frozenset(value["f"])
    if "d" in value:
        return {str(k): _decode(v, classes) for k, v in value["d"]}
    if "c" in value:
        return classes[value["c"]]
    cls = _types().get(value.get("o"))
    if cls is None:
        raise Corrupt("unknown type")
    return cls(**{k: _decode(v, classes) for k, v in value["v"].items()})


def _class_fields(cls: ClassSummary) -> dict[str, Any]:
    return {f.name: getattr(cls, f.name) for f in dataclasses.fields(cls)}


def encode(summary: ModuleSummary) -> dict[str, Any]:
    ClassSummary = _summaries()[0]
    table: list[ClassSummary] = []
    classes: dict[int, int] = {}

    def collect(value: Any) -> None:
        if isinstance(value, ClassSummary) and id(value) not in classes:
            classes[id(value)] = len(table)
            table.append(value)
        elif isinstance(value, (tuple, list)):
            for item in value:
                collect(item)

    for cls in summary.classes.values():
        collect(cls)
    for options in (*summary.bindings.values(), *summary.typing.values()):
        collect(options)
    fields = {f.name: getattr(summary, f.name) for f in dataclasses.fields(summary)}
    return {
        "classes": [_encode(_class_fields(c), classes) for c in table],
        "module": {k: _encode(v, classes) for k, v in fields.items()},
    }


def decode(data: dict[str, Any]) -> ModuleSummary:
    ClassSummary, ModuleSummary = _summaries()
    classes: list[ClassSummary] = []
    for encoded in data["classes"]:
        classes.append(ClassSummary(**_decode(encoded, classes)))
    fields = {k: _decode(v, classes) for k, v in data["module"].items()}
    return ModuleSummary(**fields)


class SummaryStore:
    """The on-disk summaries of installed modules, under `directory`."""

    def __init__(self, directory: Path, fields: frozenset[str], folder: str = "installed") -> None:
        """`folder`: "installed" for site-packages modules, "project" for the project's own
        (whose module name and root are checked again on load: they come from the layout)."""
        self.directory = directory / folder
        self.key = blake2b(json.dumps([FORMAT, sorted(fields)]).encode(), digest_size=8).hexdigest()

    def _file(self, path: Path) -> Path:
        name = blake2b(os.fsencode(path), digest_size=16).hexdigest()
        return self.directory / f"{name}-{self.key}.json"

    def load(self, path: Path, stat: os.stat_result) -> tuple[ModuleSummary, str] | None:
        """The stored summary of `path` and its content hash, if `stat` still matches."""
        file = self._file(path)
        try:
            with open(file, "rb") as handle:
                data = json.loads(handle.read(MAX_BYTES))
                used = os.fstat(handle.fileno()).st_mtime
            if data["stat"] != [stat.st_mtime_ns, stat.st_size] or data["path"] != str(path):
                return None
            found = decode(data["summary"]), str(data["hash"])
            if time.time() - used > TOUCH_AFTER:  # in use: `tidy` keeps it
                with contextlib.suppress(OSError):
                    os.utime(file)
            return found
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, Corrupt):
            return None

    def save(self, summary: ModuleSummary, stat: os.stat_result, digest: str) -> None:
        """Write atomically; a summary that cannot be written is silently skipped."""
        try:
            encoded = encode(summary)
        except Corrupt:
            return
        data = json.dumps(
            {
                "path": str(summary.path),
                "stat": [stat.st_mtime_ns, stat.st_size],
                "hash": digest,
                "summary": encoded,
            },
            separators=(",", ":"),
        ).encode()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfiles.create(self.directory, TEMPORARY_PREFIX, TEMPORARY_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(temporary, self._file(summary.path))
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
        except OSError:
            pass


def tidy(directory: Path, now: float | None = None) -> None:
    """Keep the stores under the cache folder `directory` bounded, at most once a day each:
    temporary files of killed runs go (as the cache's own, by the process id in their
    name), and so do summaries not served for `UNUSED_AGE`: modules deleted or renamed,
    summaries of an older `FORMAT` or of field names no longer configured."""
    now = time.time() if now is None else now
    for folder in FOLDERS:
        store = directory / folder
        marker = store / TIDIED
        try:
            if now - os.stat(marker).st_mtime < TOUCH_AFTER:
                continue
        except FileNotFoundError:
            pass  # never tidied
        except OSError:
            continue
        try:
            entries = list(os.scandir(store))
        except OSError:
            continue  # no store yet
        temporaries = [
            Path(e.path)
            for e in entries
            if e.name.startswith(".s") and e.name.endswith(TEMPORARY_SUFFIX)
        ]
        tempfiles.remove_stale(temporaries, TEMPORARY_SUFFIX)
        for entry in entries:
            if entry.name.endswith(".json"):
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime > UNUSED_AGE:
                        os.unlink(entry.path)
        with contextlib.suppress(OSError):
            with open(marker, "wb"):
                pass
            os.utime(marker, (now, now))
