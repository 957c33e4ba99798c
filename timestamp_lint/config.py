"""Find the project root and read `[tool.timestamp-lint]` into a validated `Config`."""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from timestamp_lint.ftypes import Config, UserError
from timestamp_lint.source import SourceError, read_source

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_FILES = ("timestamp-lint.toml", ".timestamp-lint.toml")
CODE_RE = re.compile(r"^TSL\d{0,3}$")
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
    "select": ("select", "code", False),
    "ignore": ("ignore", "code", False),
    "python": ("python", "path", False),
}
KNOWN_KEYS = tuple(_LIST_KEYS)


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


def _table_of(path: Path, document: dict[str, Any]) -> dict[str, Any] | None:
    """The timestamp-lint settings of a config file, or None if it holds none."""
    if path.name == "pyproject.toml":
        table = document.get("tool", {})
        if not isinstance(table, dict):
            return None
        table = table.get("timestamp-lint")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise UserError(f"{path}: [tool.timestamp-lint] must be a table")
        return table
    return document


def find_project_root(start: Path) -> tuple[Path, Path | None]:
    """Return (project root, config file or None), searching upwards from `start`."""
    start = start.resolve()
    for directory in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = directory / name
            if candidate.is_file():
                return directory, candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _table_of(pyproject, _read_toml(pyproject)) is not None:
            return directory, pyproject
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory, None
    return Path.cwd().resolve(), None


def _check_list(path: Path, key: str, value: Any, kind: str) -> tuple[str, ...]:
    where = f"{path}: key '{key}'"
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UserError(f"{where} must be a list of strings, got {_type_name(value)}")
    for item in value:
        if kind == "ident" and not IDENT_RE.fullmatch(item):
            raise UserError(f"{where}: {item!r} is not a valid attribute name")
        if kind == "qualname" and not QUALNAME_RE.fullmatch(item):
            raise UserError(f"{where}: {item!r} is not a dotted name like 'pkg.module.Base'")
        if kind == "code" and not CODE_RE.fullmatch(item.upper()):
            raise UserError(f"{where}: {item!r} is not a rule code or prefix like 'TSL001'")
        if kind == "glob" and (not item or len(item) > MAX_GLOB_LENGTH):
            raise UserError(f"{where}: glob must have 1 to {MAX_GLOB_LENGTH} characters")
    if kind == "code":
        return tuple(item.upper() for item in value)
    return tuple(value)


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return "a list with non-string items"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        type(value), "a table" if isinstance(value, dict) else type(value).__name__
    )


def settings_from_table(path: Path, table: dict[str, Any], base: Config) -> Config:
    """Apply one config table on top of `base`, validating every key."""
    changes: dict[str, Any] = {}
    extends: list[tuple[str, tuple[str, ...]]] = []
    for key, value in table.items():
        if key not in _LIST_KEYS:
            hint = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise UserError(f"{path}: unknown key '{key}'{suggestion}")
        attribute, kind, extend = _LIST_KEYS[key]
        if key == "python" and isinstance(value, str):  # one interpreter or venv folder
            value = [value]
        items = _check_list(path, key, value, kind)
        if kind == "path":
            items = tuple((path.parent / item).resolve() for item in items)
        if extend:
            extends.append((attribute, items))
        else:
            changes[attribute] = items
    config = replace(base, **changes)
    for attribute, items in extends:
        config = replace(config, **{attribute: getattr(config, attribute) + items})
    if not config.fields:
        raise UserError(f"{path}: key 'fields' must name at least one field")
    return config


def _load_config(start: Path, config_file: Path | None = None) -> Config:
    """Build the effective configuration for a run whose paths live under `start`."""
    if config_file is not None:
        config_file = config_file.resolve()
        if not config_file.exists():
            raise UserError(f"{config_file}: configuration file does not exist")
        table = _table_of(config_file, _read_toml(config_file)) or {}
        # the project is where the linted paths are; the file's folder when they are in it
        root = config_file.parent
        if not start.resolve().is_relative_to(root):
            root = find_project_root(start)[0]
    else:
        root, config_file = find_project_root(start)
        table = {} if config_file is None else _table_of(config_file, _read_toml(config_file))
    base = Config(root=root, config_file=config_file)
    if config_file is None:
        return base
    return settings_from_table(config_file, table or {}, base)


def load_config(start: Path, config_file: Path | None = None) -> Config:
    """Build the effective configuration for a run whose paths live under `start`, with
    the project's environment (see `environment`)."""
    from timestamp_lint.environment import find_environment

    config = _load_config(start, config_file)
    prefix = find_environment(config.root, config.python)
    return replace(config, environment=(prefix,) if prefix is not None else ())
