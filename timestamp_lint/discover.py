"""Expand the paths given on the command line into the Python files to lint."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from timestamp_lint.ftypes import Config, UserError
from timestamp_lint.globs import PathMatcher

PYTHON_SUFFIXES = (".py",)
TEMPORARY_SUFFIX = ".tsl-tmp"  # what `--fix` writes beside a file (see `tempfiles`)


class WalkNotes:
    """What a walk saw besides Python files: temporary files of `--fix` runs (a later run
    removes the stale ones), and folders it could not list, with the reason."""

    __slots__ = ("temporaries", "unlistable")

    def __init__(self) -> None:
        self.temporaries: list[Path] = []
        self.unlistable: list[tuple[Path, str]] = []


def relative_to_root(path: Path, root: Path) -> str:
    """`path` relative to `root` with '/' separators, or its absolute form if outside.
    String work, not `Path.relative_to`: it runs for every project file on every run."""
    text, base = str(path), str(root)
    if text == base:
        return "."
    prefix = base if base.endswith(os.sep) else base + os.sep
    if text.startswith(prefix):
        relative = text[len(prefix) :]
        return relative if os.sep == "/" else relative.replace(os.sep, "/")
    return path.as_posix()


def walk_python_files(
    directory: Path, root: Path, exclude: PathMatcher, notes: WalkNotes | None = None
) -> Iterator[Path]:
    """Regular `.py` files under `directory`, skipping excluded paths, in sorted order (as
    `sorted` orders paths: a folder's entries by name, a folder's files among them), so that
    sorting a walk costs one comparison per file.

    Symlinked folders are not entered (so a symlink loop cannot trap the walk); symlinked
    files are yielded when they point at regular files. FIFOs, sockets and devices are skipped
    without being opened. `notes`, when given, collects temporary files and the folders that
    could not be listed.
    """
    start = relative_to_root(directory, root)
    if start != "." and any(exclude.match_name(part) for part in start.split("/")):
        return  # every path below matches by that component's name
    # What is left to visit, the next last: a path, its path relative to the root (a
    # folder's with a "/" at its end), and whether it is a folder to list.
    pending = [(str(directory), "" if start == "." else start + "/", True)]
    while pending:
        current, relative, folder = pending.pop()
        if not folder:
            yield Path(current)
            continue
        try:
            with os.scandir(current) as entries:
                children = sorted(entries, key=_name, reverse=True)
        except OSError as exc:
            if notes is not None and not isinstance(exc, FileNotFoundError):
                notes.unlistable.append((Path(current), exc.strerror or str(exc)))
            continue
        # Each component was matched by name where the walk met it: a path is left to
        # match only the patterns with a slash.
        for entry in children:
            if exclude.match_name(entry.name):
                continue
            child = relative + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not exclude.match_path(child):
                        pending.append((entry.path, child + "/", True))
                    continue
                if not entry.name.endswith(PYTHON_SUFFIXES):
                    if notes is not None and entry.name.endswith(TEMPORARY_SUFFIX):
                        notes.temporaries.append(Path(entry.path))
                    continue
                if not entry.is_file():
                    continue
            except OSError:
                continue
            if not exclude.match_path(child):
                pending.append((entry.path, child, False))


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def discover(
    paths: Iterable[Path],
    config: Config,
    project_files: list[Path] | None = None,
    notes: WalkNotes | None = None,
) -> list[Path]:
    """The files to lint, sorted and without duplicates. A missing path is a `UserError`.

    `project_files`, the walk of the project root, spares walking folders inside it again
    (`notes`, that walk's notes, then gets those of the other walks)."""
    exclude = PathMatcher(config.exclude)
    found: dict[Path, None] = {}
    for given in paths:
        path = Path(os.path.abspath(given))
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise UserError(f"{given}: no such file or directory") from None
        except OSError as exc:
            raise UserError(f"{given}: cannot access: {exc.strerror or exc}") from None
        if stat.S_ISDIR(mode):
            if project_files is not None and path.is_relative_to(config.root):
                inside = (
                    project_files
                    if path == config.root
                    else (f for f in project_files if f.is_relative_to(path))
                )
                if not exclude.match(relative_to_root(path, config.root)) or path == config.root:
                    for file in inside:
                        found.setdefault(file)
                continue
            for file in walk_python_files(path, config.root, exclude, notes):
                found.setdefault(file)
        elif stat.S_ISREG(mode) and not (
            config.force_exclude and exclude.match(relative_to_root(path, config.root))
        ):  # a file named on the command line obeys `exclude` only with --force-exclude
            found.setdefault(path)
        # anything else (FIFO, socket, device) is skipped without being opened
    return sorted(found)


def unlistable_under(notes: WalkNotes, paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """The folders a walk could not list that lie in (or are) one of the given folders:
    their files would be missing from the run without a word."""
    folders = [Path(os.path.abspath(p)) for p in paths]
    seen: dict[Path, str] = {}
    for folder, reason in notes.unlistable:
        if any(folder == given or folder.is_relative_to(given) for given in folders):
            seen.setdefault(folder, reason)
    return sorted(seen.items())
