"""The codemod: remove exactly the reported nodes, keep every other byte, write atomically.

`RemoveNodes` deletes keyword arguments, dict entries and statements from a LibCST module.
Removing an element of a comma-separated list merges the whitespace around it so that the
result keeps its layout: the removed element's own line (and its trailing comment) goes,
comment lines before and after it stay, commas stay valid whether it was first, middle, last
or alone, and the closing bracket keeps its indentation. A statement whose block would become
empty is replaced by `pass`; comment lines above a removed statement move to the next one.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import libcst as cst

from timestamp_lint import tempfiles
from timestamp_lint.ftypes import Edit
from timestamp_lint.source import detect_encoding

Whitespace = cst.BaseParenthesizableWhitespace
NEWLINE_RE = re.compile(r"\r\n|\r|\n")
E = TypeVar("E", cst.Arg, cst.DictElement)


class FixError(Exception):
    """A fix could not be written; the message says why and the file is unchanged."""


def _has_comment(whitespace: Whitespace) -> bool:
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace.first_line.comment is not None or any(
            line.comment is not None for line in whitespace.empty_lines
        )
    return False


def merge(before: Whitespace, after: Whitespace) -> Whitespace:
    """The whitespace that replaces `before <removed element> after`, when an element follows.

    `before` keeps its own line end (the previous element's trailing comment); comment lines
    of both survive; when both break lines, `after` decides the indentation of what follows.
    """
    if isinstance(before, cst.ParenthesizedWhitespace):
        if isinstance(after, cst.ParenthesizedWhitespace):
            return before.with_changes(
                empty_lines=[*before.empty_lines, *after.empty_lines],
                indent=after.indent,
                last_line=after.last_line,
            )
        return before
    if isinstance(after, cst.ParenthesizedWhitespace):
        if any(line.comment is not None for line in after.empty_lines):
            return after.with_changes(first_line=cst.TrailingWhitespace())
        return before
    return min(before, after, key=lambda w: len(w.value))


def merge_closing(before: Whitespace, closing: Whitespace) -> Whitespace:
    """The whitespace that replaces `before <removed last element> closing` before a bracket."""
    if isinstance(closing, cst.ParenthesizedWhitespace):
        if isinstance(before, cst.ParenthesizedWhitespace):
            return merge(before, closing)
        return closing.with_changes(first_line=cst.TrailingWhitespace())
    return before if _has_comment(before) else closing


def _comma_after(element: cst.Arg | cst.DictElement) -> Whitespace | None:
    comma = element.comma
    return comma.whitespace_after if isinstance(comma, cst.Comma) else None


def remove_elements(
    elements: Sequence[E],
    drop: set[cst.CSTNode],
    lead: Whitespace,
    closing: Whitespace | None,
    trailing: Callable[[E], Whitespace | None],
) -> tuple[list[E], Whitespace, Whitespace | None]:
    """Remove `drop` from a bracketed, comma-separated list.

    `lead` is the whitespace after the opening bracket; `closing` the whitespace before the
    closing bracket when the bracket owns it (dicts), else None (calls: the last argument owns
    it). `trailing(e)` is the whitespace after a comma-less element that owns it (Arg), else
    None. Returns the new elements, lead and closing whitespace.
    """
    kept: list[E] = []
    for element in elements:
        if element not in drop:
            kept.append(element)
            continue
        after = _comma_after(element)
        if not kept:
            if after is not None:
                lead = merge(lead, after)
            elif closing is None:  # the last argument goes: what preceded it meets ")"
                lead = merge_closing(lead, trailing(element) or cst.SimpleWhitespace(""))
            else:  # the last dict entry goes: the bracket keeps its own whitespace
                lead = merge_closing(lead, closing)
                closing = cst.SimpleWhitespace("")
            continue
        previous = kept[-1]
        assert isinstance(previous.comma, cst.Comma)
        before = previous.comma.whitespace_after
        if after is not None:
            kept[-1] = previous.with_changes(
                comma=previous.comma.with_changes(whitespace_after=merge(before, after))
            )
        elif closing is None:  # last argument without trailing comma
            own = trailing(element) or cst.SimpleWhitespace("")
            kept[-1] = previous.with_changes(
                comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=merge_closing(before, own)
            )
        elif isinstance(before, cst.ParenthesizedWhitespace):
            # last dict entry without trailing comma in a multi-line dict: keep the previous
            # comma (and its comment), move the closing bracket's whitespace after it
            kept[-1] = previous.with_changes(
                comma=previous.comma.with_changes(whitespace_after=merge_closing(before, closing))
            )
            closing = cst.SimpleWhitespace("")
        else:
            kept[-1] = previous.with_changes(comma=cst.MaybeSentinel.DEFAULT)
    if not kept and not _has_comment(lead):
        lead = cst.SimpleWhitespace("")
        if closing is not None and not _has_comment(closing):
            closing = cst.SimpleWhitespace("")
    return kept, lead, closing


Rewrites = dict[cst.CSTNode, Callable[[cst.CSTNode], cst.CSTNode]]


class RemoveNodes(cst.CSTTransformer):
    """Remove the given Arg, DictElement and small-statement nodes (by identity), and
    replace each node of `rewrites` with what its function makes of it (a fix that changes
    a node rather than removing it, such as TSL004's filter of a mapping's keys)."""

    def __init__(self, nodes: set[cst.CSTNode], rewrites: Rewrites | None = None) -> None:
        super().__init__()
        self.rewrites = {n: r for n, r in (rewrites or {}).items() if n in nodes}
        self.nodes = set(nodes) - set(self.rewrites)

    def on_leave(self, original_node, updated_node):
        updated = super().on_leave(original_node, updated_node)
        rewrite = self.rewrites.get(original_node)
        if rewrite is not None and isinstance(updated, cst.CSTNode):
            return rewrite(updated)
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if not any(arg in self.nodes for arg in original.args):
            return updated
        drop = {u for o, u in zip(original.args, updated.args, strict=True) if o in self.nodes}
        args, lead, _ = remove_elements(
            updated.args, drop, updated.whitespace_before_args, None, _arg_trailing
        )
        return updated.with_changes(args=args, whitespace_before_args=lead)

    def leave_Dict(self, original: cst.Dict, updated: cst.Dict) -> cst.Dict:
        if not any(element in self.nodes for element in original.elements):
            return updated
        drop = {
            u for o, u in zip(original.elements, updated.elements, strict=True) if o in self.nodes
        }
        elements, lead, closing = remove_elements(
            updated.elements,
            drop,
            updated.lbrace.whitespace_after,
            updated.rbrace.whitespace_before,
            lambda element: None,
        )
        return updated.with_changes(
            elements=elements,
            lbrace=updated.lbrace.with_changes(whitespace_after=lead),
            rbrace=updated.rbrace.with_changes(whitespace_before=closing),
        )

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        body = [u for o, u in zip(original.body, updated.body, strict=True) if o not in self.nodes]
        if not body or len(body) == len(updated.body):
            return updated  # a line that loses every statement is dropped by its block
        if isinstance(body[-1].semicolon, cst.Semicolon):
            body[-1] = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(body=body)

    def _emptied(self, statement: cst.BaseStatement) -> bool:
        return isinstance(statement, cst.SimpleStatementLine) and all(
            small in self.nodes for small in statement.body
        )

    def leave_SimpleStatementSuite(
        self, original: cst.SimpleStatementSuite, updated: cst.SimpleStatementSuite
    ) -> cst.SimpleStatementSuite:
        """`if c: child.created_at = x` keeps a body: `if c: pass`."""
        if original.body and all(small in self.nodes for small in original.body):
            return updated.with_changes(body=[cst.Pass()])
        body = [u for o, u in zip(original.body, updated.body, strict=True) if o not in self.nodes]
        if len(body) != len(updated.body) and isinstance(body[-1].semicolon, cst.Semicolon):
            body[-1] = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(body=body)

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body, footer = self._drop_lines(original.body, updated.body, updated.footer)
        if not body:
            body = [cst.SimpleStatementLine([cst.Pass()], leading_lines=footer)]
            footer = []
        return updated.with_changes(body=body, footer=footer)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        body, footer = self._drop_lines(original.body, updated.body, updated.footer)
        return updated.with_changes(body=body, footer=footer)

    def _drop_lines(self, originals, statements, footer):
        """Drop lines whose every statement is removed; their comment lines move on."""
        kept: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []
        for original, statement in zip(originals, statements, strict=True):
            if self._emptied(original):
                carried.extend(statement.leading_lines)
                continue
            if carried:
                lines = [*carried, *statement.leading_lines]
                statement = statement.with_changes(leading_lines=lines)
                carried = []
            kept.append(statement)
        return kept, [*carried, *footer]


def _arg_trailing(arg: cst.Arg) -> Whitespace:
    return arg.whitespace_after_arg


def rewrites_for(nodes: Sequence[cst.CSTNode], violations: Sequence) -> Rewrites:
    """The rewrites of the violations (in the order of `nodes`, their nodes in the module
    being fixed) whose fix changes their node rather than removing it."""
    return {
        node: violation.rewrite
        for node, violation in zip(nodes, violations, strict=True)
        if getattr(violation, "rewrite", None) is not None
    }


def apply(
    module: cst.Module, nodes: set[cst.CSTNode], original: str, rewrites: Rewrites | None = None
) -> str:
    """`original` (the module's source) with `nodes` removed (those of `rewrites` rewritten).

    LibCST renders every byte it parsed, except a final lone carriage return, which it
    drops; that tail is put back. Any other difference between the unchanged rendering and
    the original would change bytes nobody asked to change: then nothing is fixed.
    """
    rendered = module.code
    if not original.startswith(rendered):
        raise FixError("not fixed: LibCST does not reproduce this file exactly")
    tail = original[len(rendered) :]
    fixed = module.visit(RemoveNodes(nodes, rewrites)).code if nodes else rendered
    return fixed + tail


def statement_edits(
    module: cst.Module,
    nodes: Sequence[cst.CSTNode],
    original: str,
    together: bool,
    rewrites: Rewrites | None = None,
) -> list[tuple[list[int], tuple[Edit, int, int] | None]]:
    """Edits that remove `nodes` from `original` (the module's source; those of `rewrites`
    are rewritten instead), each computed on the
    top-level statement that holds its nodes: with `together`, one per statement (all its
    nodes at once), else one per node. Each comes with the indices of its nodes, and the
    first and last line of the statement; None where it cannot be computed this way. The
    cost grows with the file once, not once per node."""
    rendered = module.code
    parts = [module.code_for_node(statement) for statement in module.body]
    header = "".join(module.code_for_node(line) for line in module.header)
    footer = "".join(module.code_for_node(line) for line in module.footer)
    if not original.startswith(rendered) or header + "".join(parts) + footer != rendered:
        return [([i], None) for i in range(len(nodes))]
    owner: dict[int, int] = {}
    wanted = {id(node) for node in nodes}
    for number, statement in enumerate(module.body):
        stack: list[cst.CSTNode] = [statement]
        while stack:
            node = stack.pop()
            if id(node) in wanted:
                owner[id(node)] = number
            stack.extend(node.children)
    groups: dict[object, list[int]] = {}
    for index, node in enumerate(nodes):
        number = owner.get(id(node))
        key = (number, index) if number is None or not together else number
        groups.setdefault(key, []).append(index)
    starts = []
    offset = len(header)
    for part in parts:
        starts.append(offset)
        offset += len(part)
    edits: list[tuple[list[int], tuple[Edit, int, int] | None]] = []
    for indices in groups.values():
        number = owner.get(id(nodes[indices[0]]))
        if number is None:
            edits.append((indices, None))
            continue
        statement = module.body[number]
        group = {nodes[i] for i in indices}
        own = {n: r for n, r in (rewrites or {}).items() if n in group}
        if isinstance(statement, cst.SimpleStatementLine) and all(
            small in group and small not in own for small in statement.body
        ):  # a module-level statement that goes entirely: its block decides
            edits.append((indices, None))
            continue
        before = parts[number]
        after = module.code_for_node(statement.visit(RemoveNodes(group, own)))
        start = 0
        limit = min(len(before), len(after))
        while start < limit and before[start] == after[start]:
            start += 1
        end_b, end_a = len(before), len(after)
        while end_b > start and end_a > start and before[end_b - 1] == after[end_a - 1]:
            end_b -= 1
            end_a -= 1
        base = starts[number]
        line, column = _position(original, base + start)
        end_line, end_column = _position(original, base + end_b)
        first = _position(original, base)[0]
        last = _position(original, base + max(len(before) - 1, 0))[0]
        edit = Edit(line, column, end_line, end_column, after[start:end_a])
        edits.append((indices, (edit, first, last)))
    return edits


def apply_edits(original: str, edits: Sequence[Edit]) -> str:
    """`original` with non-overlapping `edits` applied (lines end at \n, \r\n or \r)."""
    starts = [0, *(match.end() for match in NEWLINE_RE.finditer(original))]
    pieces = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.line, e.column)):
        begin = starts[edit.line - 1] + edit.column - 1
        end = starts[edit.end_line - 1] + edit.end_column - 1
        if begin < position:
            raise FixError("not fixed: overlapping edits")
        pieces.append(original[position:begin])
        pieces.append(edit.replacement)
        position = end
    pieces.append(original[position:])
    return "".join(pieces)


def _whole_edit(module: cst.Module, node: cst.CSTNode, original: str) -> Edit | None:
    try:
        return edit_between(original, apply(module, {node}, original))
    except FixError:
        return None


def edit_between(original: str, fixed: str) -> Edit:
    """One edit that turns `original` into `fixed` (common prefix and suffix kept)."""
    start = 0
    limit = min(len(original), len(fixed))
    while start < limit and original[start] == fixed[start]:
        start += 1
    end_o, end_f = len(original), len(fixed)
    while end_o > start and end_f > start and original[end_o - 1] == fixed[end_f - 1]:
        end_o -= 1
        end_f -= 1
    line, column = _position(original, start)
    end_line, end_column = _position(original, end_o)
    return Edit(line, column, end_line, end_column, fixed[start:end_f])


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset; lines end at \\n, \\r\\n or \\r."""
    before = text[:offset]
    line_start = max(before.rfind("\n"), before.rfind("\r")) + 1
    line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
    return line, offset - line_start + 1


# --------------------------------------------------------------------------- writing
#
# How a fixed file is written. A replacement (a temporary file in the same folder, renamed
# over the original) is atomic: a reader, a crash or a full disk sees the old file or the new
# one, never a mix. Writing in place under a lock would keep hard links, but a kill or a full
# disk in the middle of it leaves a truncated file, and an editor does not take our lock. So
# the fix is a replacement that gets the original's mode, owner and group (`fchown`; when
# that is not permitted the file is not fixed, rather than given to another user), and a file
# with more than one hard link is not fixed at all: replacing it would split it from its
# other names, and writing in place could damage it. Just before the rename the file's
# identity (device, inode, mtime, size) and content are checked again, under an advisory
# lock that concurrent timestamp-lint runs honour, so an edit saved while the fix was being
# written is never lost.

TEMPORARY_SUFFIX = tempfiles.FIX_SUFFIX


def remove_stale_temporaries(path: Path) -> None:
    """Delete what a killed earlier run left beside `path` (`.NAME.PID.XXXX.tsl-tmp`);
    files of runs that are still alive are left alone."""
    with contextlib.suppress(OSError):
        pattern = f".{glob.escape(path.name)}.*{TEMPORARY_SUFFIX}"
        tempfiles.remove_stale(path.parent.glob(pattern))


def encode(text: str, original: bytes) -> bytes:
    """Encode fixed text like the original: same codec (coding cookie), same BOM."""
    encoding = detect_encoding(original)
    data = text.encode(encoding.name)
    return b"\xef\xbb\xbf" + data if encoding.bom else data


def _identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)


def _open_unchanged(path: Path, original: bytes) -> tuple[int, os.stat_result]:
    """An open descriptor of `path` and its status, if it still holds `original`."""
    try:
        status = os.lstat(path)
    except OSError as exc:
        raise FixError(f"not fixed: {exc.strerror or exc}") from None
    if stat.S_ISLNK(status.st_mode):
        raise FixError("not fixed: the path is a symlink")
    if not stat.S_ISREG(status.st_mode):
        raise FixError("not fixed: not a regular file any more")
    if not status.st_mode & 0o222:
        raise FixError("not fixed: the file is read-only")
    if status.st_nlink > 1:
        raise FixError(
            f"not fixed: the file has {status.st_nlink} hard links, which replacing it would break"
        )
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FixError(f"not fixed: {exc.strerror or exc}") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or _read_all(fd) != original:
            raise FixError("not fixed: the file changed on disk while it was being linted")
    except OSError as exc:
        os.close(fd)
        raise FixError(f"not fixed: {exc.strerror or exc}") from None
    except FixError:
        os.close(fd)
        raise
    return fd, status


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _lock(fd: int) -> None:
    """An advisory lock on the original: two timestamp-lint runs fixing the same file check
    and replace it one after the other (the second then finds it changed)."""
    try:
        import fcntl
    except ImportError:  # not on this platform: the identity checks still apply
        return
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX)


def write_atomic(path: Path, data: bytes, original: bytes) -> None:
    """Replace `path` with `data` unless it changed since it was read as `original`.

    The new content goes to a temporary file in the same folder, is flushed to disk, gets the
    original file's mode, owner and group, and is renamed over the original: readers see the
    old file or the new one, never a mix. Symlinks, hard-linked files and files that changed
    (checked again just before the rename) are never written.
    """
    fd, status = _open_unchanged(path, original)
    try:
        _replace(path, data, original, fd, status)
    finally:
        os.close(fd)


def _replace(path: Path, data: bytes, original: bytes, fd: int, status: os.stat_result) -> None:
    try:
        handle_fd, temporary = tempfiles.create(path.parent, f".{path.name}.", TEMPORARY_SUFFIX)
    except OSError as exc:
        raise FixError(f"not fixed: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle_fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if (status.st_uid, status.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(handle.fileno(), status.st_uid, status.st_gid)
                except PermissionError:
                    raise FixError(
                        "not fixed: a replacement could not keep the file's owner and group"
                    ) from None
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(status.st_mode))
        _lock(fd)
        # the last look before the rename: the same file, with the same content
        try:
            now = os.lstat(path)
        except OSError:
            now = None
        if now is None or _identity(now) != _identity(status) or _read_all(fd) != original:
            raise FixError("not fixed: the file changed on disk while the fix was being written")
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise FixError(f"not fixed: {exc.strerror or exc}") from None
        raise
