"""Reading and decoding source files: one read per file, PEP 263 cookies and BOMs honoured."""

from __future__ import annotations

import ast
import codecs
import io
import os
import stat
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path


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


@dataclass(frozen=True)
class Encoding:
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
    prints for the linted code: they are not ours to report."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=str(path))
