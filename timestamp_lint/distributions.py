"""Which installed packages may define ORM models, told by their distributions' metadata.

A class of an installed package can be an ORM model only if the package can import an ORM:
its distribution requires one (`Requires-Dist`, extras included), directly or through the
distributions it requires, or it is an ORM. The classes of the others (tornado's request
handlers, traitlets' configurables, jinja2's environments) are no models, and the index does
not read their sources to classify them (`ProjectIndex._follows_installed`).

Only what the metadata proves is used. A package is taken for model-free when a
`.dist-info` folder in the site-packages folders has its name (`jinja2` ->
`Jinja2-3.1.4.dist-info`) and lists the package among its files (`RECORD`,
`top_level.txt`), and when every distribution it requires, transitively, is installed with
readable metadata (a requirement that is not installed cannot be imported). Anything else
(no metadata, an `.egg-info`, a package that is not its distribution's name, a package
named by a configured model base) is read as before.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

# the distributions our model classification understands (`index.external_kind`)
ORM_DISTRIBUTIONS = frozenset({"sqlalchemy", "django", "sqlmodel", "flask-sqlalchemy"})
_REQUIRES = re.compile(r"^Requires-Dist:[ \t]*([A-Za-z0-9][A-Za-z0-9._-]*)", re.MULTILINE)


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them: `Flask_SQLAlchemy` -> `flask-sqlalchemy`."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Distributions:
    """The distributions installed in `folders` (site-packages), read on first use."""

    def __init__(self, folders: Iterable[Path], protected: Iterable[str] = ()) -> None:
        self._folders = tuple(folders)
        self._protected = frozenset(protected)  # packages of configured model bases
        self._infos: dict[str, Path] | None = None  # normalized name -> .dist-info folder
        self._eggs: set[str] = set()  # normalized names with only .egg-info metadata
        self._requires: dict[str, tuple[str, ...] | None] = {}
        self._free: dict[str, tuple[Path, ...] | None] = {}

    def model_free(self, package: str) -> tuple[Path, ...] | None:
        """The metadata files proving that top-level package `package` cannot define an ORM
        model (what a cached result must be checked against), or None when that is not
        proved."""
        if package not in self._free:
            self._free[package] = self._prove_free(package)
        return self._free[package]

    def _prove_free(self, package: str) -> tuple[Path, ...] | None:
        if package in self._protected:
            return None
        name = normalized(package)
        info = self._dist_infos().get(name)
        if info is None or not _provides(info, package):
            return None
        read: list[Path] = []
        pending, seen = [name], {name}
        while pending:
            current = pending.pop()
            if current in ORM_DISTRIBUTIONS or current in self._eggs:
                return None  # an ORM, or metadata we do not read
            requires = self._requirements(current)
            if requires is None:
                if current == name:
                    return None
                continue  # required but not installed: it cannot be imported
            read.append(self._dist_infos()[current] / "METADATA")
            for required in requires:
                if required not in seen:
                    seen.add(required)
                    pending.append(required)
        return tuple(read)

    def _requirements(self, name: str) -> tuple[str, ...] | None:
        """The normalized names distribution `name` requires (extras too); None when it is
        not installed or its metadata cannot be read."""
        if name not in self._requires:
            info = self._dist_infos().get(name)
            found = None
            if info is not None:
                try:
                    text = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
                except OSError:
                    text = None
                if text is not None:
                    headers = text.split("\n\n", 1)[0]
                    found = tuple(normalized(m) for m in _REQUIRES.findall(headers))
            self._requires[name] = found
        return self._requires[name]

    def _dist_infos(self) -> dict[str, Path]:
        if self._infos is None:
            self._infos = {}
            for folder in self._folders:
                try:
                    entries = list(os.scandir(folder))
                except OSError:
                    continue
                for entry in entries:
                    stem, dot, suffix = entry.name.rpartition(".")
                    if not dot or suffix not in ("dist-info", "egg-info"):
                        continue
                    name = normalized(stem.split("-", 1)[0])
                    if suffix == "egg-info":
                        self._eggs.add(name)
                    else:
                        self._infos.setdefault(name, Path(entry.path))
        return self._infos


def _provides(info: Path, package: str) -> bool:
    """Whether the distribution at `info` installs top-level package (or module) `package`."""
    try:
        tops = (info / "top_level.txt").read_text(encoding="utf-8", errors="replace").split()
        if package in tops:
            return True
    except OSError:
        pass
    try:
        record = (info / "RECORD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.startswith((f"{package}/", f"{package}.py,")) for line in record.splitlines())
