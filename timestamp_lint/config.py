"""Find each file's project and read its configuration into a validated `Config`.

Configuration is hierarchical, as Ruff resolves it: a file is judged with the nearest
configuration file above it (in one folder `.timestamp-lint.toml` beats `timestamp-lint.toml`,
which beats a `pyproject.toml` holding a `[tool.timestamp-lint]` table; a `pyproject.toml`
without the table does not count). The folder of that file is the project root. Without one,
the git work-tree root is, and without that the folder of the linted path itself.

Rule selection is layered like Ruff's: the defaults, then the configuration file, then the
command line. A layer with `select` starts over from its own selection; one without only adds
(`extend-select`) and removes (`ignore`) rules. Within a layer, a more specific selector beats
a less specific one (`TSL001` beats `TSL`, which beats `ALL`), and `ignore` wins a tie.
"""

from __future__ import annotations

import functools
import glob
import os
import posixpath
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from timestamp_lint.ftypes import PARSE_ERROR, Config, UserError
from timestamp_lint.globs import PathMatcher
from timestamp_lint.rules import RULES
from timestamp_lint.source import SourceError, read_source

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# In one folder, the first of these that holds settings wins (pyproject.toml only with our table).
CONFIG_FILES = (".timestamp-lint.toml", "timestamp-lint.toml", "pyproject.toml")
TABLE = "timestamp-lint"
ALL = "ALL"
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
QUALNAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
MAX_GLOB_LENGTH = 1024

# key -> (Config attribute, validator kind, "extend" key adds to it instead of replacing)
_LIST_KEYS: dict[str, tuple[str, str, bool]] = {
    "fields": ("fields", "ident", False),
    "extend-fields": ("fields", "ident", True),
    "update-fields": ("update_fields", "ident", False),
    "model-bases": ("model_bases", "qualname", False),
    "allow": ("allow", "glob", False),
    "extend-allow": ("allow", "glob", True),
    "exclude": ("exclude", "glob", False),
    "extend-exclude": ("exclude", "glob", True),
    "src": ("src", "path", False),
    "python": ("python", "path", False),
}
_SELECTION_KEYS = ("select", "extend-select", "ignore", "extend-ignore")
_TABLE_KEYS = ("per-file-ignores", "extend-per-file-ignores")
_BOOL_KEYS = {
    "respect-gitignore": "respect_gitignore",
    "force-exclude": "force_exclude",
    "detect-fields": "detect_fields",
    "unsafe-fixes": "unsafe_fixes",
}
KNOWN_KEYS = (*_LIST_KEYS, *_SELECTION_KEYS, *_TABLE_KEYS, *_BOOL_KEYS)


# --------------------------------------------------------------------------- rule selection


def known_codes() -> tuple[str, ...]:
    return (*sorted(RULES), PARSE_ERROR)


def _prefixes() -> list[str]:
    found = {ALL}
    for code in known_codes():
        found.update(code[:n] for n in range(3, len(code) + 1))
    return sorted(found)


def check_selector(selector: str, where: str) -> str:
    """A rule code or prefix in its canonical form; `UserError` (with a suggestion) when it
    selects no rule: Ruff refuses unknown selectors too."""
    text = selector.upper()
    known = text[:3] == "TSL" and any(code.startswith(text) for code in known_codes())
    if text == ALL or known:
        return text
    if not text.strip():
        return _raise(f"{where}: empty rule code or prefix (codes look like 'TSL001')")
    import difflib  # for the error only

    hint = difflib.get_close_matches(text, [*known_codes(), ALL], n=1, cutoff=0.5)
    hint = hint or difflib.get_close_matches(text, _prefixes(), n=1, cutoff=0.5)
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    return _raise(f"{where}: unknown rule code or prefix {selector!r}{suggestion}")


def _raise(message: str) -> str:
    raise UserError(message)


def parse_selectors(value: str, where: str) -> tuple[str, ...]:
    """A comma-separated command-line list (`TSL001,TSL002`); an empty item is an error."""
    return tuple(check_selector(item.strip(), where) for item in value.split(","))


class Selection(NamedTuple):
    """One layer of rule selection (the configuration file's, or the command line's)."""

    select: tuple[str, ...] | None = None  # None: this layer does not start over
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def _specificity(selector: str) -> int:
    return 0 if selector == ALL else len(selector) - 2  # ALL < TSL < TSL0 < TSL00 < TSL001


def _codes_of(selector: str, ignoring: bool) -> list[str]:
    """The codes a selector names. TSL999 (a file that cannot be read or parsed) is always
    reported, as Ruff always reports syntax errors, unless ignored by its own code."""
    if ignoring and PARSE_ERROR.startswith(selector) and selector != PARSE_ERROR:
        return [code for code in sorted(RULES) if selector == ALL or code.startswith(selector)]
    return [code for code in known_codes() if selector == ALL or code.startswith(selector)]


def resolve_selection(layers: Iterable[Selection]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(selected rule codes, ignored codes) for `Config.select` / `Config.ignore` after
    applying `layers` in order over the default selection (every rule)."""
    enabled = set(known_codes())
    for layer in layers:
        updates: dict[str, bool] = {}
        selecting = (*(layer.select or ()), *layer.extend_select)
        for level in range(6):
            for selector in selecting:
                if _specificity(selector) == level:
                    updates.update(dict.fromkeys(_codes_of(selector, False), True))
            for selector in layer.ignore:
                if _specificity(selector) == level:
                    updates.update(dict.fromkeys(_codes_of(selector, True), False))
        if layer.select is not None:  # start over from this layer's selection
            keep = PARSE_ERROR in enabled and updates.get(PARSE_ERROR, True)
            enabled = {code for code, on in updates.items() if on}
            if keep:
                enabled.add(PARSE_ERROR)
        else:
            for code, on in updates.items():
                (enabled.add if on else enabled.discard)(code)
    select = tuple(code for code in sorted(RULES) if code in enabled)
    return select, () if PARSE_ERROR in enabled else (PARSE_ERROR,)


# --------------------------------------------------------------------------- files


def _read_toml(path: Path) -> dict[str, Any]:
    if path == Path(os.devnull):  # `--config /dev/null`: no settings at all
        return {}
    if path.is_dir():
        raise UserError(f"{path}: cannot read configuration: it is a directory")
    try:
        data = read_source(path)  # never blocks on a FIFO; refuses what is not a file
    except SourceError as exc:
        raise UserError(f"{path}: cannot read configuration: {exc}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{path}: invalid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise UserError(f"{path}: invalid TOML: nested too deeply") from None


def _tool_table(path: Path, document: dict[str, Any]) -> dict[str, Any] | None:
    table = document.get("tool", {})
    if not isinstance(table, dict):
        return None
    table = table.get(TABLE)
    if table is None:
        return None
    if not isinstance(table, dict):
        raise UserError(f"{path}: [tool.{TABLE}] must be a table")
    return table


def _table_of(path: Path, document: dict[str, Any]) -> dict[str, Any] | None:
    """The timestamp-lint settings of a config file, or None if it holds none."""
    if path.name == "pyproject.toml":
        return _tool_table(path, document)
    return document


def _explicit_table(path: Path, document: dict[str, Any]) -> dict[str, Any]:
    """`--config FILE` takes either form: our keys at the top level, or a
    `[tool.timestamp-lint]` table (then other `[tool.*]` tables are someone else's)."""
    table = _tool_table(path, document)
    if table is not None:
        return table
    if path.name == "pyproject.toml":
        return {}
    return document


def config_file_in(directory: Path) -> Path | None:
    """The configuration file of a folder, if it has one."""
    for name in CONFIG_FILES:
        candidate = directory / name
        if not candidate.is_file():
            continue
        if name != "pyproject.toml" or _table_of(candidate, _read_toml(candidate)) is not None:
            return candidate
    return None


def git_root(start: Path) -> Path | None:
    """The git work tree holding `start` (a `.git` folder or file above it), if any."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def find_project_root(start: Path) -> tuple[Path, Path | None]:
    """Return (project root, config file or None), searching upwards from the folder `start`:
    the nearest configuration's folder, else the git work tree, else `start` itself."""
    start = start.resolve()
    for directory in (start, *start.parents):
        found = config_file_in(directory)
        if found is not None:
            return directory, found
    return git_root(start) or start, None


def find_subprojects(root: Path, exclude: Sequence[str]) -> list[Path]:
    """Folders under `root` (not `root` itself) that hold their own configuration file,
    sorted; excluded folders and symlinks are not entered. One `scandir` per folder: a
    folder's own listing says whether it holds a candidate file."""
    matcher = PathMatcher(exclude)
    names = frozenset(CONFIG_FILES)
    found: list[Path] = []
    stack = [(str(root), "")]
    while stack:
        current, prefix = stack.pop()
        try:
            with os.scandir(current) as entries:
                listing = list(entries)
        except OSError:
            continue
        if prefix and any(entry.name in names for entry in listing):
            try:
                if config_file_in(Path(current)) is not None:
                    found.append(Path(current))
            except UserError:
                found.append(Path(current))  # its own (broken) project: reported when linted
        for entry in listing:
            try:
                if not entry.is_dir(follow_symlinks=False):
                    continue
            except OSError:
                continue
            relative = prefix + entry.name
            if not (matcher.match_name(entry.name) or matcher.match_path(relative)):
                stack.append((entry.path, relative + "/"))
    return sorted(found)


def subproject_excludes(root: Path, subprojects: Iterable[Path]) -> tuple[str, ...]:
    """Globs that keep each sub-project's files out of the enclosing project."""
    globs = []
    for path in subprojects:
        if path != root and path.is_relative_to(root):
            globs.append("/" + glob.escape(path.relative_to(root).as_posix()))
    return tuple(globs)


# --------------------------------------------------------------------------- settings


def _check_list(where: str, value: Any, kind: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UserError(f"{where} must be a list of strings, got {_type_name(value)}")
    for item in value:
        if kind == "ident" and not IDENT_RE.fullmatch(item):
            raise UserError(f"{where}: {item!r} is not a valid attribute name")
        if kind == "qualname" and not QUALNAME_RE.fullmatch(item):
            raise UserError(f"{where}: {item!r} is not a dotted name like 'pkg.module.Base'")
        if kind == "glob" and (not item or len(item) > MAX_GLOB_LENGTH):
            raise UserError(f"{where}: glob must have 1 to {MAX_GLOB_LENGTH} characters")
    if kind == "code":
        return tuple(check_selector(item, where) for item in value)
    return tuple(value)


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return "a list with non-string items"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        type(value), "a table" if isinstance(value, dict) else type(value).__name__
    )


def _per_file_ignores(where: str, value: Any, prefix: str) -> tuple[tuple[str, tuple[str, ...]]]:
    if not isinstance(value, dict):
        raise UserError(f"{where} must be a table of glob = [codes], got {_type_name(value)}")
    entries = []
    for pattern, codes in value.items():
        if not pattern or len(pattern) > MAX_GLOB_LENGTH:
            raise UserError(f"{where}: glob must have 1 to {MAX_GLOB_LENGTH} characters")
        codes = _check_list(f"{where}: '{pattern}'", codes, "code")
        if prefix and "/" in pattern.strip().strip("/"):  # relative to the config's folder
            pattern = posixpath.normpath(prefix + pattern.strip())
        entries.append((pattern, codes))
    return tuple(entries)


def settings_from_table(
    path: Path, table: dict[str, Any], base: Config, where: str | None = None
) -> tuple[Config, Selection]:
    """Apply one config table on top of `base`, validating every key. Rule selection is
    returned as a layer, for `resolve_selection` to apply after the command line's."""
    changes: dict[str, Any] = {}
    extends: list[tuple[str, tuple[str, ...]]] = []
    selection: dict[str, tuple[str, ...]] = {}
    # per-file-ignores globs are relative to the configuration file's folder
    folder = path.parent.resolve() if path != Path(os.devnull) else base.root
    prefix = ""
    if folder != base.root and folder.is_relative_to(base.root):
        prefix = folder.relative_to(base.root).as_posix() + "/"
    for key, value in table.items():
        at = f"{where or path}: key '{key}'"
        if key in _SELECTION_KEYS:
            selection[key] = _check_list(at, value, "code")
        elif key in _TABLE_KEYS:
            changes[key] = _per_file_ignores(at, value, prefix)
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise UserError(f"{at} must be true or false, got {_type_name(value)}")
            changes[_BOOL_KEYS[key]] = value
        elif key in _LIST_KEYS:
            attribute, kind, extend = _LIST_KEYS[key]
            if key == "python" and isinstance(value, str):  # one interpreter or venv folder
                value = [value]
            items = _check_list(at, value, kind)
            if kind == "path":
                items = tuple((folder / item).resolve() for item in items)
            if extend:
                extends.append((attribute, items))
            else:
                changes[attribute] = items
        else:
            import difflib  # for the error only

            hint = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise UserError(f"{where or path}: unknown key '{key}'{suggestion}")
    per_file = changes.pop("per-file-ignores", base.per_file_ignores)
    per_file += changes.pop("extend-per-file-ignores", ())
    config = replace(base, per_file_ignores=per_file, **changes)
    for attribute, items in extends:
        config = replace(config, **{attribute: getattr(config, attribute) + items})
    if not config.fields:
        raise UserError(f"{where or path}: key 'fields' must name at least one field")
    layer = Selection(
        select=selection.get("select"),
        extend_select=selection.get("extend-select", ()),
        ignore=selection.get("ignore", ()) + selection.get("extend-ignore", ()),
    )
    return config, layer


def parse_override(text: str) -> dict[str, Any]:
    """`--config KEY=VALUE`: one setting in TOML syntax (`"extend-fields = ['closed_at']"`)."""
    try:
        table = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        raise UserError(
            f"--config {text!r}: neither an existing file nor a TOML 'key = value' setting"
        ) from None
    tool = table.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get(TABLE), dict) and len(table) == 1:
        table = tool[TABLE]
    return table


class Overrides(NamedTuple):
    """What the command line says about configuration, applied to every project."""

    config_file: Path | None = None  # `--config FILE`: this file for every linted file
    settings: tuple[str, ...] = ()  # `--config KEY=VALUE` settings, in order
    selection: Selection = Selection()  # --select / --extend-select / --ignore / --extend-ignore
    respect_gitignore: bool | None = None
    force_exclude: bool | None = None


def load_config(
    start: Path, config_file: Path | None = None, overrides: Overrides | None = None
) -> Config:
    """Build the effective configuration for files under the folder `start`."""
    overrides = overrides or Overrides()
    config_file = config_file or overrides.config_file
    if config_file is not None:
        config_file = Path(os.path.abspath(config_file))
        if not config_file.exists():
            raise UserError(f"{config_file}: configuration file does not exist")
        table = _explicit_table(config_file, _read_toml(config_file))
        # the project is where the linted paths are; the file's folder when they are in it
        root = config_file.parent.resolve()
        if not start.resolve().is_relative_to(root):
            root = find_project_root(start)[0]
    else:
        root, config_file = find_project_root(start)
        table = {} if config_file is None else _table_of(config_file, _read_toml(config_file))
    config = Config(root=root, config_file=config_file)
    layers = []
    if config_file is not None:
        config, layer = settings_from_table(config_file, table or {}, config)
        layers.append(layer)
    for text in overrides.settings:
        config, layer = settings_from_table(
            Path(os.devnull), parse_override(text), config, where=f"--config {text!r}"
        )
        layers.append(layer)
    layers.append(overrides.selection)
    select, ignore = resolve_selection(layers)
    config = replace(config, select=select, ignore=ignore)
    if overrides.respect_gitignore is not None:
        config = replace(config, respect_gitignore=overrides.respect_gitignore)
    if overrides.force_exclude is not None:
        config = replace(config, force_exclude=overrides.force_exclude)
    return with_environment(config)


def with_environment(config: Config) -> Config:
    """`config` with the project's environment (see `environment`), found once."""
    from timestamp_lint.environment import find_environment

    prefix = find_environment(config.root, config.python)
    return replace(config, environment=(prefix,) if prefix is not None else ())


def is_selected(code: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    """Whether findings of `code` are reported under `select` and `ignore` (prefixes)."""
    if code == PARSE_ERROR:
        return PARSE_ERROR not in ignore
    return any(code.startswith(s) for s in select) and not any(code.startswith(i) for i in ignore)


def ignored_codes(config: Config, path: Path) -> frozenset[str]:
    """Codes that `per-file-ignores` turn off for `path` (relative to the project root)."""
    if not config.per_file_ignores:
        return frozenset()
    from timestamp_lint.discover import relative_to_root

    relative = relative_to_root(path, config.root)
    codes: set[str] = set()
    for matcher, selected in _per_file_matchers(config.per_file_ignores):
        if matcher.match(relative):
            codes.update(selected)
    return frozenset(codes)


@functools.lru_cache(maxsize=64)
def _per_file_matchers(
    entries: tuple[tuple[str, tuple[str, ...]], ...],
) -> list[tuple[PathMatcher, frozenset[str]]]:
    matchers = []
    for pattern, selectors in entries:
        codes = {c for s in selectors for c in known_codes() if s == ALL or c.startswith(s)}
        matchers.append((PathMatcher([pattern]), frozenset(codes)))
    return matchers
