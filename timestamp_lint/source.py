"""Reading and decoding source files: one read per file, PEP 263 cookies and BOMs honoured."""

from __future__ import annotations

import ast
import codecs
import contextlib
import gc
import io
import os
import re
import stat
import tokenize
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple


class SourceError(Exception):
    """The file cannot be read or decoded; the message names the cause, and `position`
    (1-based line and column) where in the file it is, when that is known."""

    def __init__(self, message: str, position: tuple[int, int] = (1, 1)) -> None:
        super().__init__(message)
        self.position = position


class NotRegularFile(SourceError):
    """The path is no longer a regular file (it became a FIFO, device or folder)."""


def read_source(path: Path, limit: int | None = None) -> bytes:
    """Read a whole regular file without ever blocking on a FIFO or device. With `limit`, a
    file larger than that many bytes is refused (`SourceError`) without being read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise SourceError("file disappeared before it could be read") from None
    except IsADirectoryError:
        raise NotRegularFile("is a directory") from None
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise NotRegularFile("not a regular file")
        if limit is not None and status.st_size > limit:
            raise SourceError(f"file larger than {limit} bytes")
        # one read when the file is as large as fstat said (one byte more proves the end)
        chunks = [os.read(fd, status.st_size + 1)]
        if len(chunks[0]) > status.st_size:
            size = len(chunks[0])
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
                size += len(chunk)
                if limit is not None and size > limit:  # it grew while being read
                    raise SourceError(f"file larger than {limit} bytes")
        return b"".join(chunks)
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


class Encoding(NamedTuple):
    name: str  # a Python codec name
    bom: bool


def detect_encoding(data: bytes) -> Encoding:
    """The encoding Python would use for `data` (BOM, then coding cookie, then UTF-8)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)):
        raise SourceError("cannot decode: UTF-16/UTF-32 source files are not valid Python")
    try:
        name, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise _bad_byte("utf-8", data, bad.start) from None
        raise SourceError(f"cannot decode: {exc.msg}") from None
    bom = name == "utf-8-sig"
    return Encoding("utf-8" if bom else name, bom)


def _bad_byte(encoding: str, data: bytes, offset: int) -> SourceError:
    """The error for an undecodable byte, placed where it is: its line, and its column in
    characters (what precedes it on the line decoded, bad bytes counting as one each)."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode(encoding, errors="replace")) + 1
    message = f"cannot decode as {encoding}: invalid byte 0x{data[offset]:02x} on line {line}"
    return SourceError(message, (line, column))


def decode_source(data: bytes) -> str:
    """Decode source bytes to text, keeping newlines exactly as they are."""
    encoding = detect_encoding(data)
    if encoding.bom:
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode(encoding.name)
    except UnicodeDecodeError as exc:
        raise _bad_byte(encoding.name, data, exc.start) from None
    except LookupError:
        raise SourceError(f"cannot decode: unknown encoding {encoding.name!r}") from None


def parse_python(text: str, path: Path) -> ast.Module:
    """`ast.parse`, without the SyntaxWarnings (invalid escapes and the like) that CPython
    prints for the linted code (they are not ours to report), and without collections."""
    with warnings.catch_warnings(), _no_collection():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=str(path))


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """No cyclic garbage collection while a tree is built: a tree holds no cycles, and the
    collections its nodes set off walk every object the run keeps (summaries, kept trees):
    a fifth of `ast.parse`'s time on prefect's 40 largest modules, even at the CLI's
    thresholds, 70% at the default ones."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def walk(root: ast.AST) -> list[ast.AST]:
    """Every node under `root`, itself first, in `ast.walk`'s order; about twice as fast
    (the list grows while it is read: no generator and no list per node)."""
    found = [root]
    append = found.append
    for node in found:
        _add_children(node, append)
    return found


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes(node)` as a list, without its generators, and without the
    `Load` / `Store` / `Del` contexts (read as `node.ctx` where they matter)."""
    found: list[ast.AST] = []
    _add_children(node, found.append)
    return found


def _add_children(node: ast.AST, add: Callable[[ast.AST], object]) -> None:
    fields = _NODE_FIELDS.get(node.__class__)
    if fields is None:
        fields = _NODE_FIELDS[node.__class__] = _node_fields(node.__class__)
    for name in fields:
        value = getattr(node, name, None)
        if value.__class__ is list:
            for item in value:
                if isinstance(item, ast.AST):
                    add(item)
        elif isinstance(value, ast.AST):
            add(value)


# fields that never hold a node: names, numbers, flags, and the expression contexts (not
# `name`: a `type X = ...` statement's is a node)
_SCALAR_FIELDS = frozenset(
    {"ctx", "id", "attr", "arg", "asname", "module", "level", "kind", "conversion"}
    | {"is_async", "type_comment", "simple", "tag"}
)
_NODE_FIELDS: dict[type, tuple[str, ...]] = {ast.Constant: ()}  # a constant's value is data


def _node_fields(cls: type) -> tuple[str, ...]:
    """The fields of node class `cls` that may hold nodes, in their order."""
    return tuple(name for name in cls._fields if name not in _SCALAR_FIELDS)


# --------------------------------------------------------------------------- large sources
#
# CPython's parser needs about 150 bytes of memory per byte of source at its peak (a 20 MB
# module: 3 GB), and its tree about 70. A large source is therefore parsed in chunks of
# top-level statements, each chunk's tree handed to the caller and released before the next
# is parsed; line numbers are those of the whole file.

LARGE_SOURCE = 2_000_000  # characters: above this, parse in chunks
CHUNK_SIZE = 500_000  # characters per chunk, about
# `compile` flag that makes input cut short raise "incomplete input" rather than a real error
# (Python 3.11+, what `codeop` uses); 0 elsewhere: every error is then taken as possibly
# incomplete, and a chunk grows until it parses or reaches the end of the file
_INCOMPLETE = getattr(__import__("codeop"), "PyCF_ALLOW_INCOMPLETE_INPUT", 0)
_CUT_SHORT = ("incomplete input", "unterminated", "'(' was never", "'[' was never", "'{' was never")
# a line that may begin a top-level statement: a name, keyword, decorator, string or number
# at column 0; `else`, `elif`, `except`, `finally` continue the statement before them
_STATEMENT_START = re.compile(
    r"^(?!(?:else|elif|except|finally)\b)[A-Za-z_@\"'0-9\[(\{\-~]", re.MULTILINE
)


def _setting(name: str, default: int) -> int:
    """A size the tests set low to run the chunked path on small files (not an option)."""
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else default


def is_large(text: str) -> bool:
    return len(text) > _setting("TSL_TEST_LARGE_SOURCE", LARGE_SOURCE)


def _chunk_size() -> int:
    return max(_setting("TSL_TEST_CHUNK_SIZE", CHUNK_SIZE), 1)


def _boundaries(text: str, size: int) -> Iterator[tuple[int, int]]:
    """(character offset, line number) of lines, about `size` characters apart, that may
    begin a top-level statement. A candidate inside a string or brackets makes the chunk
    before it incomplete, which the parse tells, and the chunk then grows to the next one."""
    line, previous = 1, 0
    target = size
    for match in _STATEMENT_START.finditer(text):
        offset = match.start()
        if offset < target or offset == 0:
            continue
        if text.startswith("@", text.rfind("\n", 0, offset - 1) + 1):
            continue  # the decorated `def`: the decorators begin the statement
        line += text.count("\n", previous, offset)
        previous = offset
        yield offset, line
        target = offset + size


def _parse_chunk(chunk: str, path: Path, first_line: int, final: bool) -> ast.Module | None:
    """The tree of one chunk, with the file's line numbers (the chunk is parsed after as
    many empty lines as precede it: cheaper than renumbering its tree); None when the chunk
    stops short of the end of a statement and is not the last. A real syntax error is
    raised as `ast.parse` would raise it."""
    flags = ast.PyCF_ONLY_AST | (0 if final else _INCOMPLETE)
    try:
        with warnings.catch_warnings(), _no_collection():
            warnings.simplefilter("ignore")
            return compile(
                "\n" * (first_line - 1) + chunk, str(path), "exec", flags, dont_inherit=True
            )
    except SyntaxError as exc:
        if not final and (not _INCOMPLETE or exc.msg.startswith(_CUT_SHORT)):
            return None  # a string or bracket may go on in the next chunk
        raise


def parse_chunks(text: str, path: Path, size: int | None = None) -> Iterator[ast.Module]:
    """The trees of `text` in chunks of top-level statements, about `size` characters each,
    in order, with the file's line numbers (`SyntaxError` as `ast.parse` raises it, at the
    file's line). Drop each tree before asking for the next to keep memory bounded."""
    size = size or _chunk_size()
    start, start_line = 0, 1
    grow = size
    for offset, line in _boundaries(text, size):
        if offset - start < grow:
            continue
        tree = _parse_chunk(text[start:offset], path, start_line, final=False)
        if tree is None:
            grow *= 2  # a long statement: try again when the chunk is twice as large
            continue
        yield tree
        del tree
        start, start_line, grow = offset, line, size
    yield _parse_chunk(text[start:], path, start_line, final=True)  # type: ignore[misc]


def parse_trees(text: str, path: Path) -> Iterable[ast.Module]:
    """The module's tree, or its trees in chunks when the source is large (`is_large`):
    what `index.summarize` and the field detection read, in bounded memory."""
    return parse_chunks(text, path) if is_large(text) else (parse_python(text, path),)
