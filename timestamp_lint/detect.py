"""Timestamp fields learned from the project's own model declarations.

Besides the configured `fields`, a column whose declaration stamps the current time is a
timestamp field whatever its name: `created = Column(DateTime, default=datetime.utcnow)`,
`modified_at = mapped_column(onupdate=func.now())`, Django `date_joined =
DateTimeField(auto_now_add=True)`, SQLModel `Field(default_factory=datetime.utcnow)`.

The byte scan, the first pass and the rules all ask `field_names(index)`, computed once per
run, so the cheap stages look for exactly the names the rules judge. Which model has which
of these columns is the index's business (`ProjectIndex.model_info`); a copy of such a name
is reported only into a model that has the column (`detected_column`).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

from timestamp_lint.columns import ColumnInfo, is_timestamp, may_define_listeners, stamps_time
from timestamp_lint.index import ClassSummary, Kind, ProjectIndex
from timestamp_lint.source import SourceError, read_source

# A column that stamps the time has a default or update hook whose value names the clock,
# on one line (`server_default=func.now()`, `"onupdate": text("now()")`), or Django's
# `auto_now`; the name it is bound to starts the statement, on that line or a few above.
_HOOKS = (b"default", b"onupdate", b"auto_now")
# what follows `default` / `onupdate` when its value, on the same line, names the clock
_CLOCK_AFTER = re.compile(
    rb"(?:_factory)?[\"']?[ \t]*[:=][^,)\n]*?"
    rb"(?:now|today|current_timestamp|localtime|sysdate|getdate|getutcdate|utc_timestamp"
    rb"|statement_timestamp|transaction_timestamp|clock_timestamp)",
    re.IGNORECASE,
)
# `name = ...` or `name: T = ...`, spaced as class bodies are (a keyword argument on a line
# of its own, `server_default=...,`, is not a declaration)
_DECLARATION = re.compile(rb"[ \t]+([A-Za-z_][A-Za-z0-9_]*)(?:[ \t]*:[^=\n]*=|[ \t]+=)(?!=)")
_LINES_UP = 8  # how far above the default a declaration's first line may be

_known: weakref.WeakKeyDictionary[ProjectIndex, frozenset[str]] = weakref.WeakKeyDictionary()
_sources: weakref.WeakKeyDictionary[ProjectIndex, Callable[[], Iterable[tuple[Path, str]]]] = (
    weakref.WeakKeyDictionary()
)


def field_names(index: ProjectIndex) -> frozenset[str]:
    """The configured fields and every name a class of the project declares as a column that
    stamps the current time (none when `detect-fields = false`)."""
    known = _known.get(index)
    if known is None:
        known = _known[index] = frozenset(index.config.fields) | _declared(index)
    return known


def _declared(index: ProjectIndex) -> frozenset[str]:
    """Names that a model class of the project declares as columns stamping the current
    time. The bytes of each file name the candidates (`candidates_in`: no parse for most
    files); the index's summary of the file (the one parse, shared with every later use)
    tells which of its classes declares them as such, and which of those are models: a
    Pydantic schema's `timestamp: datetime = Field(default_factory=now)` teaches nothing.
    A file is parsed only for a name no file before it confirmed (`_model_first`)."""
    if not index.config.detect_fields:
        return frozenset()
    source = _sources.get(index)
    if source is not None:
        found = source()
    else:  # one read of every file, which also tells the index where listeners may be
        found, listening = read_candidates(index.project_files(), frozenset(index.config.fields))
        index.use_listener_files(lambda: listening)
    names: set[str] = set()
    for path, name in sorted(found, key=_model_first):
        if name in names:
            continue
        summary = index.summary(path)
        for cls in summary.classes.values() if summary is not None else ():
            column = cls.columns.get(name)
            if column is not None and stamps_time(column) and index.class_kind(cls) is Kind.MODEL:
                names.add(name)
                break
    return frozenset(names)


def read_candidates(
    paths: Iterable[Path], configured: frozenset[str]
) -> tuple[list[tuple[Path, str]], list[Path]]:
    """The reading `field_names` does when nothing remembers it: each file of `paths` read
    once, for its candidate names (`candidates_in`, each with its file) and for whether it
    may define listeners (the files that may, in the order of `paths`)."""
    found: list[tuple[Path, str]] = []
    listening: list[Path] = []
    for path in paths:
        try:
            data = read_source(path)
        except SourceError:
            continue
        if may_define_listeners(data):
            listening.append(path)
        found.extend((path, name) for name in candidates_in(data, configured))
    return found, listening


def reads_every_file(index: ProjectIndex) -> bool:
    """Whether `field_names(index)` is still to learn and would read every project file for
    it: what a run with workers shares out (`read_candidates`, then `use_reading`)."""
    return index.config.detect_fields and index not in _known and index not in _sources


def use_reading(index: ProjectIndex, found: list[tuple[Path, str]], listening: list[Path]) -> None:
    """Take what `read_candidates` read of every project file, in their order (in parts,
    by several processes), instead of reading them again."""
    _sources[index] = lambda: found
    index.use_listener_files(lambda: listening)


def _model_first(candidate: tuple[Path, str]) -> bool:
    """Files named for models first (`models.py`, `orm_models.py`, `models/`): a name one of
    their models confirms needs no parse of the schemas that declare it too. The order
    changes which files are parsed, never the names found."""
    return "model" not in candidate[0].as_posix().lower()


def candidates_in(data: bytes, configured: frozenset[str]) -> frozenset[str]:
    """The names one file's classes may declare as columns stamping the current time,
    besides the `configured` fields, told by the bytes alone: for each default or update
    hook that names the clock, the name that starts its statement. (The cache keeps this
    per file, so warm runs read no file for it; the index's summary confirms it.)"""
    if b"class" not in data:
        return frozenset()
    names: set[str] = set()
    for hook in _HOOKS:
        start = data.find(hook)
        while start >= 0:
            end = start + len(hook)
            if hook == b"auto_now" or _CLOCK_AFTER.match(data, end):
                name = _declared_name(data, start)
                if name is not None and name not in configured:
                    names.add(name)
            start = data.find(hook, end)
    return frozenset(names)


def use_source(index: ProjectIndex, declared: Callable[[], Iterable[tuple[Path, str]]]) -> None:
    """Let `declared()` (the cache's per-file memory of `candidates_in`: each file with each
    of its names) give the candidates, instead of reading every project file."""
    _sources[index] = declared


def _declared_name(data: bytes, offset: int) -> str | None:
    """The name the statement holding `offset` assigns, when an indented line at or up to
    `_LINES_UP` lines above starts with `name =` or `name: T =` and may be a column of a
    class body that the hook at `offset` is a keyword of (`_may_be_column`)."""
    end = offset
    for _ in range(_LINES_UP + 1):
        start = data.rfind(b"\n", 0, end) + 1
        match = _DECLARATION.match(data, start)
        if (
            match is not None
            and match.end() <= offset + 1
            and _may_be_column(data, start, match.end(), offset)
        ):
            return match.group(1).decode("ascii")
        if start == 0:
            return None
        end = start - 1
    return None


def _may_be_column(data: bytes, line: int, value: int, hook: int) -> bool:
    """Whether the declaration on the line at `line`, whose value starts after `value`,
    may be a column whose call the hook at `hook` is a keyword of, as `extract_columns`
    reads one: the value is no list, dict, string or number; the hook lies inside its
    brackets; and the statement is no function's (the nearest line above with less
    indentation is no `def`). Strings and comments on the way make it "maybe"."""
    first = value
    while first < len(data) and data[first] in b" \t":
        first += 1
    if first < len(data) and data[first] in _NO_CALL_START:
        return False  # `operations = [...]`, `label = "..."`: no call, no column
    between = data[value:hook]
    if not _UNKNOWN.search(between) and _ends_before(between):
        return False  # the statement ends before the hook: the hook is another's
    indent = indent_of(data, line)
    end = line - 1
    while end > 0:
        start = data.rfind(b"\n", 0, end) + 1
        text = data[start:end]
        if b'"""' in text or b"'''" in text:
            return True  # perhaps inside a string: not known
        stripped = text.lstrip(b" \t")
        if stripped and not stripped.startswith(b"#") and indent_of(data, start) < indent:
            return not stripped.startswith((b"def ", b"async def "))
        end = start - 1
    return True


def _ends_before(code: bytes) -> bool:
    """Whether a statement's `code` (no strings, no comments) ends a line outside brackets
    and without a backslash: the statement ends there."""
    depth = 0
    for index, byte in enumerate(code):
        if byte in b"([{":
            depth += 1
        elif byte in b")]}":
            depth -= 1
        elif byte == 0x0A and depth <= 0 and not code[:index].rstrip(b"\r").endswith(b"\\"):
            return True
    return False


_NO_CALL_START = frozenset(b"[{'\"0123456789")
_UNKNOWN = re.compile(rb"['\"#]")  # strings and comments may hold brackets


def indent_of(data: bytes, line: int) -> int:
    """The width in bytes of the blanks that begin the line starting at `line`."""
    at = line
    while at < len(data) and data[at] in b" \t":
        at += 1
    return at - line


def detected_column(index: ProjectIndex, model: ClassSummary, field: str) -> ColumnInfo | None:
    """The column `field` of `model` when it is a timestamp field by its declaration (not
    by configuration): it stamps the current time on insert or update."""
    if field in index.config.fields or not index.config.detect_fields:
        return None
    column = index.model_info(model).columns.get(field)
    return column if is_timestamp(column) else None


def is_field_of(index: ProjectIndex, model: ClassSummary, field: str) -> bool:
    """Whether a copy of `field` into a new `model` record is a copied timestamp: a
    configured field, or a column of the model found by its declaration."""
    return field in index.config.fields or detected_column(index, model, field) is not None
