"""Open documents as the server holds them: text, version, and LSP positions.

Lines end at `\\n`, `\\r\\n` or `\\r`, as they do for Python's tokenizer, LibCST and the
Language Server Protocol (and not at form feeds or `\\u2028`, where `str.splitlines` would
break them). Columns of findings count code points; positions sent to the client count the
units of the negotiated position encoding (UTF-16 unless the client chose otherwise).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from timestamp_lint.source import SourceError, detect_encoding

NEWLINE_RE = re.compile(r"\r\n|\r|\n")
UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def units(text: str, encoding: str) -> int:
    """The length of `text` in code units of `encoding`."""
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def line_starts(text: str) -> list[int]:
    """The offset at which each line of `text` starts."""
    return [0, *(match.end() for match in NEWLINE_RE.finditer(text))]


def split_lines(text: str) -> list[str]:
    """The lines of `text`, each with its line end."""
    starts = line_starts(text)
    ends = [*starts[1:], len(text)]
    return [text[s:e] for s, e in zip(starts, ends, strict=True) if s < e]


def to_bytes(text: str) -> bytes:
    """The bytes a buffer would have on disk: UTF-8, or the codec its coding cookie names
    when the text can be written in it (as the editor would save it)."""
    data = text.encode("utf-8", "surrogateescape")
    try:
        encoding = detect_encoding(data)
    except SourceError:
        return data
    if encoding.name.replace("_", "-").lower() in ("utf-8", "utf8"):
        return data
    try:
        return text.encode(encoding.name)
    except (UnicodeError, LookupError):
        return data


@dataclass
class Document:
    uri: str
    path: Path
    text: str
    version: int | None = None
    _starts: list[int] | None = field(default=None, repr=False)

    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = line_starts(self.text)
        return self._starts

    def _line_end(self, line: int) -> int:
        """The offset of the end of `line`'s text (before its line end)."""
        starts = self.starts()
        if line + 1 < len(starts):
            end = starts[line + 1]
            return end - (2 if self.text.startswith("\r\n", end - 2) else 1)
        return len(self.text)

    def offset(self, line: int, character: int, encoding: str) -> int:
        """The offset of an LSP position (clamped to the document, as the protocol says)."""
        starts = self.starts()
        if line < 0:
            return 0
        if line >= len(starts):
            return len(self.text)
        start, end = starts[line], self._line_end(line)
        if encoding == UTF32:
            return min(start + max(character, 0), end)
        counted = 0
        offset = start
        while offset < end and counted < character:
            counted += units(self.text[offset], encoding)
            offset += 1
        return offset

    def position(self, offset: int, encoding: str) -> tuple[int, int]:
        """The LSP (line, character) of an offset."""
        starts = self.starts()
        offset = max(0, min(offset, len(self.text)))
        line = _bisect(starts, offset)
        return line, units(self.text[starts[line] : offset], encoding)

    def location(self, line: int, column: int) -> int:
        """The offset of a 1-based line and 1-based code-point column (a finding's)."""
        starts = self.starts()
        if line < 1:
            return 0
        if line > len(starts):
            return len(self.text)
        return min(starts[line - 1] + max(column - 1, 0), self._line_end(line - 1))

    def apply(self, change_range: tuple[int, int, int, int] | None, text: str, encoding: str):
        """Apply one content change: the whole text (`change_range` None) or a range."""
        if change_range is None:
            self.text = text
        else:
            start = self.offset(change_range[0], change_range[1], encoding)
            end = max(start, self.offset(change_range[2], change_range[3], encoding))
            self.text = self.text[:start] + text + self.text[end:]
        self._starts = None


def _bisect(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low


def text_edits(before: str, after: str) -> list[tuple[int, int, str]]:
    """Edits (start offset, end offset in `before`, new text) that turn `before` into
    `after`, line by line, in document order."""
    old, new = split_lines(before), split_lines(after)
    old_starts = [0]
    for line in old:
        old_starts.append(old_starts[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append((old_starts[i1], old_starts[i2], "".join(new[j1:j2])))
    return edits
