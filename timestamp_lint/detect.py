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

from timestamp_lint.columns import is_timestamp
from timestamp_lint.ftypes import ColumnInfo
from timestamp_lint.index import ClassSummary, ProjectIndex
from timestamp_lint.source import SourceError, read_source

# a file can declare such a column only if it holds a class and `auto_now`, or a default or
# update hook whose value (on the same line) names the clock, as `columns.stamps_time` asks
_KEYWORDS = (b"default", b"onupdate")
_CLOCK_VALUE = re.compile(
    rb"(?:default|onupdate)[\"']?[ \t]*[:=][^,)\n]*?"
    rb"(?:now|today|current_timestamp|localtime|sysdate|getdate|getutcdate|utc_timestamp"
    rb"|statement_timestamp|transaction_timestamp|clock_timestamp)",
    re.IGNORECASE,
)

_known: weakref.WeakKeyDictionary[ProjectIndex, frozenset[str]] = weakref.WeakKeyDictionary()


def field_names(index: ProjectIndex) -> frozenset[str]:
    """The configured fields and every name a class of the project declares as a column that
    stamps the current time (none when `detect-fields = false`)."""
    known = _known.get(index)
    if known is None:
        known = _known[index] = frozenset(index.config.fields) | _declared(index)
    return known


def _declared(index: ProjectIndex) -> frozenset[str]:
    if not index.config.detect_fields:
        return frozenset()
    configured = frozenset(index.config.fields)
    names: set[str] = set()
    for path in index.project_files():
        try:
            data = read_source(path)
        except SourceError:
            continue
        if b"class" not in data or not (
            b"auto_now" in data
            or (any(word in data for word in _KEYWORDS) and _CLOCK_VALUE.search(data))
        ):
            continue
        summary = index.summary(path, data)
        if summary is None:
            continue
        for cls in summary.classes.values():
            names.update(name for name in cls.columns if name not in configured)
    return frozenset(names)


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
