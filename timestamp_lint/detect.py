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

import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

from timestamp_lint.cache import Fingerprint
from timestamp_lint.columns import ColumnInfo, is_timestamp, stamps_time
from timestamp_lint.index import ClassSummary, Kind, ProjectIndex
from timestamp_lint.prefilter import candidates_in, may_define_listeners
from timestamp_lint.source import SourceError, read_source

_known: weakref.WeakKeyDictionary[ProjectIndex, frozenset[str]] = weakref.WeakKeyDictionary()
_confirmed: weakref.WeakKeyDictionary[ProjectIndex, dict[Path, Fingerprint]] = (
    weakref.WeakKeyDictionary()
)
_sources: weakref.WeakKeyDictionary[ProjectIndex, Callable[[], Iterable[tuple[Path, str]]]] = (
    weakref.WeakKeyDictionary()
)


def field_names(index: ProjectIndex) -> frozenset[str]:
    """The configured fields and every name a class of the project declares as a column that
    stamps the current time (none when `detect-fields = false`)."""
    known = _known.get(index)
    if known is None:
        with index.tracking() as used:
            known = _known[index] = frozenset(index.config.fields) | _declared(index)
        _confirmed[index] = used.files
    return known


def confirmed(index: ProjectIndex) -> tuple[frozenset[str], dict[Path, Fingerprint]] | None:
    """The field names `field_names(index)` confirmed in this run, with the files (and their
    fingerprints) that the confirmation read: what the cache keeps for the next run. None
    when they were not confirmed here (not asked for, or known from the cache)."""
    files = _confirmed.get(index)
    return None if files is None else (_known[index], files)


def know(index: ProjectIndex, names: frozenset[str]) -> None:
    """Take `names` as `field_names(index)`: what an earlier run confirmed, still valid
    (`Cache.field_names`)."""
    _known[index] = names


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


def use_source(index: ProjectIndex, declared: Callable[[], Iterable[tuple[Path, str]]]) -> None:
    """Let `declared()` (the cache's per-file memory of `candidates_in`: each file with each
    of its names) give the candidates, instead of reading every project file."""
    _sources[index] = declared


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
