"""The byte-level pre-filter: what a file's bytes tell before any parse.

Most files of a real project cost one read and this: `bytes.find` for the field names (and
for the few words a whole-record copy is written with), then a look at each occurrence
(`Scanner.scan`); `ByteFilter` adds what the configuration turns off. The same bytes tell
the cache what it remembers of each file: whether it may define event listeners or map a
class imperatively (`may_define_listeners`), and which names its classes may declare as
columns that stamp the current time (`candidates_in`). Nothing here needs the project index,
nor imports it: a run whose changed files all stop here never builds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from timestamp_lint.config import ignored_codes, is_selected
from timestamp_lint.discover import relative_to_root
from timestamp_lint.ftypes import Config
from timestamp_lint.globs import PathMatcher
from timestamp_lint.rules import RULES, RuleEntry

SKIP_FILE_RE = re.compile(rb"#[ \t]*timestamp-lint:[ \t]*skip-file\b")


# An Alembic revision script: it imports alembic and names its parent revision at its top
_IMPORTS_ALEMBIC = re.compile(rb"^(?:from|import)[ \t]+alembic\b", re.MULTILINE)
_DOWN_REVISION = re.compile(rb"^down_revision\b[^=\n]*=", re.MULTILINE)
REVISION_PLACE = "alembic/versions/revision.py"  # where `alembic init` puts revision scripts


def is_revision_script(data: bytes) -> bool:
    """Whether `data` is an Alembic revision script (a migration, whatever its folder)."""
    return b"down_revision" in data and bool(
        _DOWN_REVISION.search(data) and _IMPORTS_ALEMBIC.search(data)
    )


# --------------------------------------------------------------------------- listeners

# the bytes of an ASCII name (what `\w` matches in a bytes pattern)
NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# a call of `listen` or `listens_for` (`extract_hooks` reads no other name), parenthesized
# or not: not `listener`, `listening`, `_listen`, nor "listen for" in prose
_LISTEN_AFTER = re.compile(rb"(?:s_for)?[\s\\]*[()]")
# SQLAlchemy 1.x's `mapper(Cls, table)` called by that name, or imported under another
# one (`import mapper as m`); not `class_mapper(`, `object_mapper(`, `self._mapper(`
_MAPPER_AFTER = re.compile(rb"\(|\s+as\b")


def _word_followed(data: bytes, word: bytes, after: re.Pattern[bytes]) -> bool:
    """Whether `word` stands in `data` as a name of its own (no letter, digit or `_`
    before it) followed by what `after` matches: `bytes.find` then a look, far cheaper on
    a large file than a regular expression that starts with a word boundary."""
    start = data.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or data[start - 1] not in NAME_BYTES) and after.match(data, end):
            return True
        start = data.find(word, end)
    return False


def may_map_imperatively(data: bytes) -> bool:
    """Whether a file's bytes could hold an imperative mapping: `map_imperatively`, or the
    classic `mapper(Cls, table)` (only such files are searched for one)."""
    return b"map_imperatively" in data or _word_followed(data, b"mapper", _MAPPER_AFTER)


def may_call_listen(data: bytes) -> bool:
    """Whether a file's bytes could hold an event listener: a call of `listen(` or
    `listens_for(` (a word such as `listener` or `listening` does not count)."""
    return _word_followed(data, b"listen", _LISTEN_AFTER)


def may_define_listeners(data: bytes) -> bool:
    """Whether a file's bytes could hold an event listener or an imperative mapping: only
    such files are parsed to find them."""
    return may_map_imperatively(data) or may_call_listen(data)


# --------------------------------------------------------------------------- candidate fields

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


# --------------------------------------------------------------------------- the scan


class ByteScan(NamedTuple):
    """What one pass over a file's bytes says it may hold (a tuple: one per file scanned, and
    its class is made on every run that scans one)."""

    copy: bool  # reads a field from something and gives a field a value (TSL001, TSL002)
    declares: bool  # declares a field in a class body (TSL003)
    gives: tuple[int, ...] = ()  # offsets of the places a field may get a value, or a
    # whole record be copied
    clone: bool = False  # may copy a whole record (TSL004): `__dict__`, `vars(`, ...


NOTHING = ByteScan(False, False)
# what a whole-record copy (TSL004) cannot be written without: one of these words
CLONE_WORDS = (b"vars(", b"inspect(")
# Django's column lists, as the rules' iterables of columns write them (`COLUMNS_RE`), looked
# for after `_meta.` (`_meta` alone is in most Django modules)
_META_LISTS = (
    b"fields",
    b"concrete_fields",
    b"local_fields",
    b"local_concrete_fields",
    b"get_fields",
)
_DUNDER = re.compile(rb"__(?:dict|table|mapper)__")
# the mappings of a record's columns TSL004 takes from a call: `x.to_dict()` (a `*_dict`
# method called without arguments) or Django's `model_to_dict(x)`
_DICT_CLONE = re.compile(rb"_dict[ \t]*\([\s\\]*\)|model_to_dict[ \t]*\(")
# a call that stores a record, as TSL004 asks of a copy: `x.save()`, `session.add(x)`, ...
_SAVE_CALL = re.compile(rb"\.save[\s\\]*\(")
_STORE_CALL = re.compile(rb"\.(?:save|add|add_all|merge|bulk_save_objects)[\s\\]*\(")
# before a copy called at the end of the search: `name = ` (one target, a name), then line
# breaks, parentheses or comments, then the dotted head of the callee (`copy.`)
_ASSIGNED_BEFORE = re.compile(
    rb"(?<![\w.\x80-\xff])([A-Za-z_\x80-\xff][\w\x80-\xff]*)[ \t]*=(?:[\s\\(]|#[^\n]*\n)*[\w.]*\Z"
)
_ASSIGNED_WINDOW = 2000  # bytes before a copy call searched for its assignment
# `<word> as NAME` in an import, for each word whose aliases count (`import_aliases`)
_ALIASED = {
    word: re.compile(re.escape(word) + rb"[ \t]+as[ \t]+([A-Za-z_][A-Za-z0-9_]*)")
    for word in (b"copy", b"make_transient", b"model_to_dict")
}
# what follows the name of a copy for the rule to count it as saved or handed to a call
_SAVED_AFTER = re.compile(rb"[\s\\)]*\.[\s\\]*save")
_ARGUMENT_AFTER = re.compile(rb"[ \t]*[,)\r\n#\\]")
_ARGUMENT_BEFORE = frozenset(b"(,=*\r\n")
# after `__dict__`: a subscript, or the name of a method called on it
_DICT_ATTRIBUTE_AFTER = re.compile(rb"[\s\\]*(?:\[|\.[\s\\]*([A-Za-z_]\w*))")
_PK_NONE_AFTER = re.compile(rb"[ \t]*=[ \t]*None(?![A-Za-z0-9_])")  # after `.pk` / `.id`
_WORD = NAME_BYTES
_QUOTES = frozenset(b"'\"")
_WORD_OR_DOT = _WORD | {0x2E}
_NAME = _WORD | frozenset(range(0x80, 0x100))  # what a (non-ASCII too) identifier holds
_NAME_OR_DOT = _NAME | {0x2E}
_BLANKS = frozenset(b" \t")
_BLANKS_AND_BREAKS = frozenset(b" \t\r\n\\")
_STRING_PREFIX = frozenset(b"rRuUbBfF")
_CALLEE_END = _WORD | frozenset(b")]")  # what a call's `(` follows: `f(`, `f()(`, `x[0](`
_STRING_NAMING = frozenset(b"[,")  # what opens a string the rules read a name from
_ASSIGN_AFTER = re.compile(rb"\s*=(?!=)")  # `created_at =`, not `created_at ==`
_DECLARE_AFTER = re.compile(rb"\s*[:=]")
_KEY_AFTER = re.compile(rb"['\"]+\s*:")  # after a quoted name: a dict key
# places where a dict may reach a new record, or a field be set by name: a word, whether
# it must start a name, and what must follow it
_OTHER_GIVES = (
    (b"**", False, re.compile(b"")),
    (b"setattr", True, re.compile(rb"\s*\(")),
    (b".values", False, re.compile(rb"\s*\(")),
    (b"defaults", True, re.compile(rb"\s*=")),
)
_CLASS = re.compile(rb"^[ \t]*class[ \t]", re.MULTILINE)


class Scanner:
    """The scan of files' bytes for the field names `fields`, of which TSL003 judges the
    `configured` ones only (a learned name is one a model declares with a default)."""

    def __init__(self, fields: frozenset[str], configured: Iterable[str]) -> None:
        self.fields = fields
        self._field_bytes = tuple(sorted(f.encode() for f in fields))
        self._declared_bytes = frozenset(f.encode() for f in configured)
        self._scanned: tuple[bytes | None, ByteScan] = (None, NOTHING)

    def scan(self, data: bytes) -> ByteScan:
        """The byte-level pre-filter (remembered for the file at hand, which later stages
        ask about again). Most files mention no field at all, which `bytes.find` tells at
        memory speed; the occurrences of the others are classified where they stand:

        - read: `.created_at`, or a string `"created_at"` that is no dict key and that the
          rules may read a name from: a subscript's or a later argument's
          (`x["created_at"]`, `getattr(x, "created_at")`, see `_names_by_string`);
        - named: a field is given a value by name, which the rules read from a keyword
          (`created_at=`), an assignment (`x.created_at =`) or a string literal (a dict key,
          `setattr`): `created_at =`, a dict key `"created_at":`, or a string as above;
        - declare: `created_at` first on an indented line, followed by `:` or `=`, in a file
          with a `class` statement, or `def created_at`; a configured field only, the ones
          TSL003 judges (a learned one is declared with a default somewhere).

        A file may copy when it reads a field in one place and names one in another (one
        string, `x["created_at"]`, is not both). Where a value may be given
        (`gives`, for the first pass) is wider: a named field, or `**`, `setattr(`,
        `.values(`, `defaults=`, through which a dict built elsewhere reaches a record.
        """
        if data is self._scanned[0]:
            return self._scanned[1]
        found = self._scan(data)
        self._scanned = (data, found)
        return found

    def _scan(self, data: bytes) -> ByteScan:
        declares = False
        reads: list[int] = []
        gives: list[int] = []
        has_class: bool | None = None
        size = len(data)
        for name in self._field_bytes or ():
            start = data.find(name)
            while start >= 0:
                end = start + len(name)
                before = data[start - 1] if start else 0x0A
                after = data[end] if end < size else 0x0A
                if before in _WORD or after in _WORD:  # part of a longer name
                    start = data.find(name, start + 1)
                    continue
                if before in _QUOTES and after in _QUOTES:
                    if _KEY_AFTER.match(data, end):  # `"created_at":` gives a value
                        gives.append(start)
                    elif _names_by_string(data, start - 1):  # x["created_at"], getattr
                        reads.append(start)
                        gives.append(start)
                else:
                    if before == 0x2E:  # `.created_at`
                        reads.append(start)
                    if _ASSIGN_AFTER.match(data, end):
                        gives.append(start)
                if not declares and name in self._declared_bytes:
                    if _declares_at(data, start, end):
                        if has_class is None:
                            has_class = _CLASS.search(data) is not None
                        declares = has_class
                    if not declares and _defined_at(data, start):
                        declares = True
                    if declares and _in_function(data, start):
                        declares = False  # a local name: TSL003 judges class bodies
                start = data.find(name, end)
        # a copy reads a field in one place and gives one in another: one string alone
        # (`x["created_at"]`) is not both
        copy = bool(reads) and bool(gives) and len({*reads, *gives}) > 1
        clones = list(_clone_words(data))
        clone = bool(clones)
        if not (copy or declares or clone):
            return NOTHING
        if copy:
            gives.extend(_other_gives(data))
        else:
            gives = []
        gives.extend(clones)  # where a whole-record copy may be written
        return ByteScan(copy, declares, tuple(sorted(gives)), clone)


def _clone_words(data: bytes) -> Iterator[int]:
    """Offsets of the words a whole-record copy (TSL004) is written with, in a file that
    can reach the database with them; a handful of searches for most files, which hold none:

    - with `**` or `setattr`: `__dict__` (handed on, see `_dict_attribute_may_clone`),
      `__table__`, `__mapper__`, `vars(`, `_dict()` (a method called without arguments,
      `to_dict()`) or `model_to_dict(`, `_meta.fields` (and Django's other column lists),
      `inspect(` followed by a list of columns (`Model(**vars(src))`, loops over the
      columns);
    - `make_transient`;
    - `deepcopy(`, `copy.copy(` or a bare `copy(`, with a call of
      `.save(`, `.add(`, `.add_all(`, `.merge(` or `.bulk_save_objects(`, the copy assigned
      to a name that is saved or handed on (`_copy_may_be_stored`);
    - with a call of `.save(`: `.pk = None` / `.id = None`.

    Names an import binds these functions (or the `copy` module) to count as they do:
    `from copy import copy as dup` (`dup(x)`), `import copy as cp` (`cp.copy(x)`),
    `make_transient as detach`, `model_to_dict as m2d`.
    """
    if b"**" in data or b"setattr" in data:
        for match in _DUNDER.finditer(data):
            start = match.start()
            if data[start + 2] != 0x64 or _dict_attribute_may_clone(data, start):  # `d`
                yield start
        for word in CLONE_WORDS:
            start = data.find(word)
            while start >= 0:
                if word != b"inspect(" or _inspect_may_list_columns(data, start):
                    yield start
                start = data.find(word, start + 1)
        start = data.find(b"_meta.")
        while start >= 0:
            if data.startswith(_META_LISTS, start + 6):
                yield start
            start = data.find(b"_meta.", start + 1)
        if b"_dict" in data:
            yield from (match.start() for match in _DICT_CLONE.finditer(data))
            for alias in import_aliases(data, b"model_to_dict"):  # `model_to_dict as m2d`
                yield from _calls_of(data, alias)
    start = data.find(b"make_transient")
    if start >= 0:  # an alias is imported by this word too: `make_transient as detach`
        for alias in import_aliases(data, b"make_transient"):
            yield from _calls_of(data, alias)
    while start >= 0:
        yield start
        start = data.find(b"make_transient", start + 1)
    copies = []
    if b"copy" in data:  # deepcopy(...), copy.copy(...), copy(...) from copy, or an alias
        start = data.find(b"copy(")
        while start >= 0:
            before = data[start - 1] if start else 0x0A
            if before not in _WORD_OR_DOT or (start >= 5 and data[start - 5 : start] == b"copy."):
                copies.append(start)
            elif start >= 4 and data[start - 4 : start] == b"deep":
                copies.append(start - 4)
            start = data.find(b"copy(", start + 1)
        for alias in import_aliases(data, b"copy"):  # `import copy as cp`, `... as dup`
            copies.extend(_calls_of(data, alias))
            copies.extend(_calls_of(data, alias + b".copy"))
    if copies and _STORE_CALL.search(data):
        yield from (offset for offset in copies if _copy_may_be_stored(data, offset))
    if b".save" in data and _SAVE_CALL.search(data):
        for word in (b".pk", b".id"):
            start = data.find(word)
            while start >= 0:
                end = start + 3
                if (end == len(data) or data[end] not in _WORD) and _PK_NONE_AFTER.match(data, end):
                    yield start
                start = data.find(word, end)


def _calls_of(data: bytes, name: bytes) -> Iterator[int]:
    """Offsets of `name(`, `name` a name of its own (not `x.name(`, not `rename(`)."""
    start = data.find(name + b"(")
    while start >= 0:
        if start == 0 or data[start - 1] not in _WORD_OR_DOT:
            yield start
        start = data.find(name + b"(", start + 1)


def import_aliases(data: bytes, word: bytes) -> tuple[bytes, ...]:
    """The names the file's imports bind `word` (a function, or the `copy` module) to:
    `import copy as cp`, `from copy import copy as dup, deepcopy as dc`, `make_transient
    as detach` (any `<word> as NAME`: a name too many only widens the search)."""
    if word not in data:
        return ()
    return tuple(dict.fromkeys(_ALIASED[word].findall(data)))


def _dict_attribute_may_clone(data: bytes, start: int) -> bool:
    """Whether the `__dict__` at `start` may be a record's mapping as the rule takes it
    (`CloneSemantics.clone`): an attribute (`x.__dict__`, not `"__dict__"`), not
    subscripted, with no method called on it but `.copy()` or `.items()`, and handed on:
    after `**`, `(` (`dict(...)`, `copy(...)`) or `=` (a local, followed by the rule), or,
    as `.items()`, the iterable of a comprehension. Not `self.__dict__.update(state)`,
    `name in cls.__dict__`, `return self.__dict__` or `for k, v in x.__dict__.items():`."""
    before = start - 1
    while before >= 0 and data[before] in _BLANKS_AND_BREAKS:
        before -= 1
    if before < 0 or data[before] != 0x2E:  # `.`
        return False
    after = _DICT_ATTRIBUTE_AFTER.match(data, start + 8)
    method = None if after is None else after.group(1)
    if after is not None and method not in (b"copy", b"items"):
        return False
    at = before - 1  # the end of the object
    while at >= 0 and data[at] in _BLANKS_AND_BREAKS:
        at -= 1
    if at >= 0 and data[at] in b")]":
        return True  # `f().__dict__`, `rows[0].__dict__`: the rule may follow it
    word_end = at
    while at >= 0 and data[at] in _WORD_OR_DOT:
        at -= 1
    if at == word_end:  # no object before the dot: its blanks are walked over again
        at = before - 1
    while at >= 0 and data[at] in _BLANKS_AND_BREAKS:
        if data[at] == 0x0A and b"#" in data[data.rfind(b"\n", 0, at) + 1 : at]:
            return True  # a comment on a line walked over: not known
        at -= 1
    if at < 0:
        return False
    if data[at] in b"(*" or (data[at] == 0x3D and (at == 0 or data[at - 1] not in b"=!<>")):
        return True  # `**x.__dict__`, `dict(x.__dict__)`, `d = x.__dict__`
    if (
        method == b"items"
        and data[at - 1 : at + 1] == b"in"
        and (at < 2 or data[at - 2] not in _NAME)
    ):
        return not _for_statement(data, at, start)
    return False


def _for_statement(data: bytes, keyword: int, start: int) -> bool:
    """Whether the `in` at `keyword`, with `start` later on its line, is a `for`
    statement's (the line begins with `for` and ends with `:`), not a comprehension's."""
    line = data.rfind(b"\n", 0, keyword) + 1
    head = data[line:keyword].lstrip(b" \t")
    if not (head.startswith((b"for ", b"for\t", b"async "))):
        return False
    end = data.find(b"\n", start)
    rest = data[start : end if end >= 0 else len(data)].partition(b"#")[0]
    return rest.rstrip(b" \t\r\\").endswith(b":")


def _inspect_may_list_columns(data: bytes, start: int) -> bool:
    """Whether the `inspect(` at `start` may begin an iterable of columns as the rules
    write one (`inspect(x).attrs`, `.column_attrs`, `.mapper.columns`): a name of its own
    (not `_inspect(`), followed somewhere by `attrs` or `.columns`."""
    if start and data[start - 1] in _WORD:
        return False
    return data.find(b"attrs", start) >= 0 or data.find(b".columns", start) >= 0


def _copy_may_be_stored(data: bytes, offset: int) -> bool:
    """Whether the copy called at `offset` (`copy.copy(`, `deepcopy(`, ...) may be what the
    rule reports: the whole value of an assignment to one name (`new = copy.copy(obj)`),
    and that name saved (`new.save(`) or handed as such to a call other than the copy
    (`session.add(new)`; `_STORE_CALL` tells that the file has one)."""
    assigned = _ASSIGNED_BEFORE.search(data, max(0, offset - _ASSIGNED_WINDOW), offset)
    if assigned is None:
        return False
    name = assigned.group(1)
    # the copy's own arguments, up to the first `)`, hand the name to no store
    arguments = range(offset, data.find(b")", offset) % (len(data) + 1))
    size, start = len(data), data.find(name)
    while start >= 0:
        end = start + len(name)
        if (
            (start == 0 or data[start - 1] not in _NAME_OR_DOT)
            and (end == size or data[end] not in _NAME)
            and start not in arguments
        ):
            if _SAVED_AFTER.match(data, end):
                return True
            before = start - 1
            while before >= 0 and data[before] in _BLANKS:
                before -= 1
            if (before < 0 or data[before] in _ARGUMENT_BEFORE) and _ARGUMENT_AFTER.match(
                data, end
            ):
                return True
        start = data.find(name, start + 1)
    return False


def _other_gives(data: bytes) -> Iterator[int]:
    """Offsets of `**`, `setattr(`, `.values(` and `defaults=`."""
    for word, starts_name, rest in _OTHER_GIVES:
        start = data.find(word)
        while start >= 0:
            end = start + len(word)
            if (not starts_name or not start or data[start - 1] not in _WORD) and rest.match(
                data, end
            ):
                yield start
            start = data.find(word, end)


def _names_by_string(data: bytes, quote: int) -> bool:
    """Whether the string literal whose last opening quote is at `quote` may name a field
    as the rules read a string: a subscript (`x["created_at"]`) or a later argument
    (`getattr(x, "created_at")`, `setattr(x, "created_at", v)`), parenthesized or not.
    What opens it is found by walking back over its quotes and prefix, blanks and the
    parentheses of expressions: `[` or `,` may name one; a call's first argument
    (`Column("created_at")`, `d.get("created_at")`), an operand or a statement's value does
    not. A comment on a line walked over leaves it unknown: then it may."""
    at = quote
    while at >= 0 and data[at] in _QUOTES:
        at -= 1
    for _ in range(2):  # r"...", rb"..."
        if at >= 0 and data[at] in _STRING_PREFIX:
            at -= 1
    while at >= 0:
        byte = data[at]
        if byte in _BLANKS_AND_BREAKS:
            if byte == 0x0A and data.find(b"#", data.rfind(b"\n", 0, at) + 1, at) >= 0:
                return True
            at -= 1
        elif byte == 0x28:  # `(`: a call's, or an expression's
            left = at - 1
            while left >= 0 and data[left] in _BLANKS:
                left -= 1
            if left >= 0 and data[left] in _CALLEE_END:
                return False  # the first argument of a call
            at -= 1
        else:
            return byte in _STRING_NAMING
    return False


def _declares_at(data: bytes, start: int, end: int) -> bool:
    """The field at `start` is first on an indented line and followed by `:` or `=`."""
    line_start = start
    while line_start and data[line_start - 1] in _BLANKS:
        line_start -= 1
    return (
        line_start < start
        and (line_start == 0 or data[line_start - 1] == 0x0A)
        and _DECLARE_AFTER.match(data, end) is not None
    )


_BLOCK_LINES = 400  # lines `_in_function` reads above a declaration at most
_DEF_LINE = re.compile(rb"(?:async[ \t]+)?def[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*[(\[]")


def _in_function(data: bytes, offset: int) -> bool:
    """Whether the line holding `offset` is certainly in a function body: a `def` line
    starts one of the blocks it is in (the lines above with less indentation). A class
    there is in the function too: `summarize` reads the module's top level, so TSL003 never
    judges it. Strings or a continued line on the way make it "not known" (False), and so
    does a block that begins more than `_BLOCK_LINES` lines above (the walk stays short)."""
    line = data.rfind(b"\n", 0, offset) + 1
    indent = indent_of(data, line)
    end = line - 1
    budget = _BLOCK_LINES
    while end > 0 and indent > 0:
        budget -= 1
        if budget < 0:
            return False
        start = data.rfind(b"\n", 0, end) + 1
        text = data[start:end]
        if b'"""' in text or b"'''" in text:
            return False  # perhaps inside a string
        stripped = text.lstrip(b" \t")
        if stripped.rstrip(b"\r") and not stripped.startswith(b"#"):
            here = len(text) - len(stripped)
            if here < indent:
                before = start - 2  # the last byte of the line above
                if before >= 0 and data[before] == 0x0D:  # `\r\n`
                    before -= 1
                if before >= 0 and data[before] == 0x5C:  # `\`
                    return False  # a continued line
                if _DEF_LINE.match(stripped):
                    return True
                indent = here
        end = start - 1
    return False


def _defined_at(data: bytes, start: int) -> bool:
    """The field at `start` is the name in `def created_at`."""
    keyword_end = start
    while keyword_end and data[keyword_end - 1] in _BLANKS:
        keyword_end -= 1
    return (
        3 <= keyword_end < start
        and data[keyword_end - 3 : keyword_end] == b"def"
        and (keyword_end == 3 or data[keyword_end - 4] not in _WORD)
    )


# --------------------------------------------------------------------------- the filter


class ByteFilter:
    """Whether a file can hold a finding at all, told by its bytes: the rules selected for
    it (the allowlist and per-file ignores turn some off), `# timestamp-lint: skip-file`,
    and what `scan` finds (`Scanner.scan` for the project's field names). `prefilter=False`
    sends every file on (for the tests that prove the pre-filters never lose a finding)."""

    def __init__(
        self, config: Config, scan: Callable[[bytes], ByteScan], prefilter: bool = True
    ) -> None:
        self.config = config
        self.scan = scan
        self.prefilter = prefilter
        self.allow = PathMatcher(config.allow)
        # an Alembic revision script is allowed wherever it lives when the allowlist covers
        # Alembic's own folder (the default does): `_migrations/versions/...` too
        self.allow_revisions = self.allow.match(REVISION_PLACE)
        self.rules = [
            rule for code, rule in RULES.items() if is_selected(code, config.select, config.ignore)
        ]

    def needs_analysis(self, data: bytes, path: Path) -> bool:
        """The byte-level pre-filter: can this file (at `path`) hold a finding at all?"""
        if not self.rules:
            return False
        if not self.prefilter:
            return not SKIP_FILE_RE.search(data)
        scan = self.scan(data)
        if not (scan.copy or scan.declares or scan.clone) or SKIP_FILE_RE.search(data):
            return False
        rules = self.rules_for(path, data)
        clones = scan.clone and any(r.code == "TSL004" for r in rules)
        return (
            clones
            or (scan.copy and any(r.uses_copies for r in rules))
            or (scan.declares and any(not r.uses_copies for r in rules))
        )

    def forget(self, path: Path) -> None:
        """`path` needs no analysis (nothing is kept of it here)."""

    def rules_for(self, path: Path, data: bytes) -> list[RuleEntry]:
        """The rules that judge the file at `path`, whose bytes are `data`."""
        rules = self.rules
        if off := ignored_codes(self.config, path):  # per-file-ignores
            rules = [rule for rule in rules if rule.code not in off]
        if self.allow and (
            self.allow.match(relative_to_root(path, self.config.root))
            or (self.allow_revisions and is_revision_script(data))
        ):
            return [rule for rule in rules if not rule.uses_copies]
        return rules
