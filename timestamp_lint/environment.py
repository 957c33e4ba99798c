"""Where installed packages are: the site-packages folders of the project's environment.

Found as type checkers find it, without running any interpreter:

1. the `python` setting (an interpreter, or a virtual environment folder);
2. `VIRTUAL_ENV`, the active virtual environment - unless it is the environment this tool
   runs in while the project has its own `.venv`/`venv` (pre-commit runs hooks in an
   isolated environment and points `VIRTUAL_ENV` at it);
3. a `.venv` or `venv` folder in the project root;
4. the interpreter running this tool.

A virtual environment's site-packages is read from its layout (`pyvenv.cfg` names the Python
version: `lib/pythonX.Y/site-packages`, or `Lib/site-packages` on Windows); with
`include-system-site-packages = true` the base installation's folders follow. Folders that
`.pth` files add (editable installs) come after the site-packages folder that holds them.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

VENV_NAMES = (".venv", "venv")
_VERSION_RE = re.compile(r"^\s*version(?:_info)?\s*=\s*(\d+)\.(\d+)", re.MULTILINE)
_SYSTEM_RE = re.compile(r"^\s*include-system-site-packages\s*=\s*true\s*$", re.MULTILINE | re.I)
_HOME_RE = re.compile(r"^\s*home\s*=\s*(.+?)\s*$", re.MULTILINE)
_EDITABLE_RE = re.compile(r"^import (__editable__[\w.]*_finder)\b")
MAX_PTH_BYTES = 64 * 1024


def find_environment(
    root: Path, python: tuple[Path, ...] = (), environ: Mapping[str, str] | None = None
) -> Path | None:
    """The prefix folder of the project's environment, or None for this interpreter's."""
    environ = os.environ if environ is None else environ
    if python:
        return _prefix_of(python[0])
    active = environ.get("VIRTUAL_ENV")
    own = _same(Path(sys.prefix), Path(active)) if active else False
    if active and not own and os.path.isdir(active):
        return Path(active)
    for name in VENV_NAMES:
        candidate = root / name
        if (candidate / "pyvenv.cfg").is_file():
            return candidate
    if active and os.path.isdir(active):
        return Path(active)
    return None


def site_packages(
    root: Path, python: tuple[Path, ...] = (), environ: Mapping[str, str] | None = None
) -> tuple[Path, ...]:
    """The folders installed modules are imported from, in `sys.path` order."""
    return site_folders(find_environment(root, python, environ))


def site_folders(prefix: Path | None) -> tuple[Path, ...]:
    """The site-packages folders of the environment at `prefix` (None: this interpreter's),
    with the folders their `.pth` files add."""
    folders = _running_site_packages() if prefix is None else _prefix_site_packages(prefix)
    found: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in (folder, *_pth_folders(folder)):
            real = Path(os.path.realpath(path))
            if real not in found:
                found.append(real)
    return tuple(found)


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _prefix_of(setting: Path) -> Path:
    """`.venv/bin/python` -> `.venv`; `/usr/bin/python3` -> `/usr`; a folder as it is."""
    if setting.is_dir():
        return setting
    parent = setting.parent
    if parent.name.lower() in ("bin", "scripts"):
        return parent.parent
    return parent  # Windows: python.exe sits in the prefix itself


def _read_cfg(prefix: Path) -> str:
    try:
        with open(prefix / "pyvenv.cfg", encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_PTH_BYTES)
    except OSError:
        return ""


def _prefix_site_packages(prefix: Path, depth: int = 0) -> list[Path]:
    cfg = _read_cfg(prefix)
    match = _VERSION_RE.search(cfg)
    folders: list[Path] = [prefix / "Lib" / "site-packages"]
    for lib in ("lib", "lib64"):
        if match:
            folders.append(prefix / lib / f"python{match[1]}.{match[2]}" / "site-packages")
        else:  # no pyvenv.cfg: every Python 3 of the layout, newest first
            found = sorted(
                (prefix / lib).glob("python3.*/site-packages"), key=_version_key, reverse=True
            )
            folders.extend(found)
    folders.append(prefix / "lib" / "python3" / "dist-packages")  # Debian's system Python
    if cfg and _SYSTEM_RE.search(cfg) and depth == 0:
        home = _HOME_RE.search(cfg)
        if home:
            folders.extend(_prefix_site_packages(_prefix_of(Path(home[1]) / "python"), 1))
    return folders


def _version_key(path: Path) -> tuple[int, ...]:
    digits = path.parent.name.removeprefix("python").split(".")
    return tuple(int(d) if d.isdigit() else 0 for d in digits)


def _running_site_packages() -> list[Path]:
    import site
    import sysconfig

    folders = []
    if hasattr(site, "getsitepackages"):  # old virtualenv's site module has none
        folders.extend(Path(p) for p in site.getsitepackages())
    for key in ("purelib", "platlib"):
        folders.append(Path(sysconfig.get_paths()[key]))
    return folders


def _pth_folders(folder: Path) -> list[Path]:
    """Folders named by the `.pth` files of `folder` (lines that are paths, not code)."""
    found = []
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".pth"))
    except OSError:
        return found
    for name in names:
        try:
            with open(folder / name, encoding="utf-8", errors="replace") as handle:
                text = handle.read(MAX_PTH_BYTES)
        except OSError:
            continue
        for line in text.splitlines():
            line = line.strip()
            finder = _EDITABLE_RE.match(line)
            if finder:
                found.extend(_editable_folders(folder / f"{finder[1]}.py"))
                continue
            if not line or line.startswith(("#", "import ", "import\t")):
                continue
            path = Path(line) if os.path.isabs(line) else folder / line
            if path.is_dir():
                found.append(Path(os.path.abspath(path)))
    return found


def _editable_folders(finder: Path) -> list[Path]:
    """The folders holding the packages of a setuptools editable install, read from the
    `MAPPING = {"pkg": "/path/to/pkg"}` literal of its finder module (never imported)."""
    import ast

    try:
        tree = ast.parse(finder.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    for node in tree.body:
        if (
            isinstance(node, (ast.Assign, ast.AnnAssign))
            and any(
                isinstance(t, ast.Name) and t.id == "MAPPING"
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            )
            and isinstance(node.value, ast.Dict)
        ):
            values = [v.value for v in node.value.values if isinstance(v, ast.Constant)]
            return [Path(v).parent for v in values if isinstance(v, str) and os.path.isabs(v)]
    return []
