"""Hostile configuration, and proof that the tool never runs project code.

A broken configuration stops the run with exit 2 and exactly one line on stderr that names
the file, never a traceback and never a hang (every run has a timeout). Cases already in
`test_config.py` (a missing `[`, a misspelt key, `fields = 3`, bad names and codes, a
2,000-character glob, a non-table `tool.timestamp-lint`, `--config` naming a folder or a
missing file) are not repeated.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .conftest import cli, write_project

MODELS = """
from sqlalchemy import Column, DateTime, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime, server_default=func.now(), onupdate=func.now())
"""
GOOD = "from app.models import Flow\n\n\ndef f(m):\n    return Flow(created_at=m.created_at)\n"


def project(root: Path, pyproject: bytes | str | None = None) -> Path:
    write_project(root, {"app/__init__.py": "", "app/models.py": MODELS, "app/good.py": GOOD})
    if pyproject is not None:
        data = pyproject.encode() if isinstance(pyproject, str) else pyproject
        (root / "pyproject.toml").write_bytes(data)
    return root


def assert_config_error(result: subprocess.CompletedProcess, config_name: str, needle: str):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("timestamp-lint: error: ")
    assert config_name in lines[0], lines[0]
    assert needle in lines[0], lines[0]


TABLE = "[tool.timestamp-lint]\n"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\x00\x01\x02\xff\xfe binary garbage", "invalid TOML"),
        (TABLE.encode() + b'fields = ["caf\xe9"]\n', "not UTF-8"),
        ("\ufeff" + TABLE, "invalid TOML"),  # a UTF-8 byte-order mark
        (TABLE + 'fields = ["a"]\nfields = ["b"]\n', "invalid TOML"),  # duplicate key
        (TABLE + "fields = [\n", "invalid TOML"),
        (TABLE + 'fields = """unterminated\n', "invalid TOML"),
        (TABLE + "[tool.timestamp-lint]\n", "invalid TOML"),  # the table twice
        (TABLE + "= 1\n", "invalid TOML"),  # a value without a key
    ],
    ids=[
        "binary",
        "latin-1",
        "bom",
        "duplicate-key",
        "open-array",
        "open-string",
        "twice",
        "no-key",
    ],
)
def test_invalid_toml(tmp_path: Path, content: bytes | str, needle: str) -> None:
    root = project(tmp_path, content)
    assert_config_error(cli(root), "pyproject.toml", needle)


def test_deeply_nested_toml(tmp_path: Path) -> None:
    depth = 100_000
    root = project(tmp_path, TABLE + "fields = " + "[" * depth + "]" * depth + "\n")
    assert_config_error(cli(root), "pyproject.toml", "TOML")


def test_huge_config_file(tmp_path: Path) -> None:
    """10 MB of comments and a valid table: read, not choked on."""
    root = project(
        tmp_path, ("# " + "x" * 98 + "\n") * 100_000 + TABLE + "extend-fields = ['done_at']\n"
    )
    result = cli(root, "--output-format", "json")
    assert result.returncode == 1, result.stderr
    assert [f["path"] for f in json.loads(result.stdout)] == ["app/good.py"]


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ("[tool.timestamp-lint.extra]\nx = 1\n", "unknown key 'extra'"),
        ("Fields = ['x']\n", "unknown key 'Fields'"),
        ("fields_ = ['x']\n", "unknown key 'fields_'"),
        ("'' = 1\n", "unknown key ''"),
        ('"\\u00e9" = 1\n', "unknown key"),
        ("line-length = 100\n", "unknown key 'line-length'"),
    ],
)
def test_unknown_keys(tmp_path: Path, table: str, needle: str) -> None:
    root = project(tmp_path, TABLE + table)
    assert_config_error(cli(root), "pyproject.toml", needle)


def test_unknown_key_in_a_dedicated_config_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "timestamp-lint.toml").write_text("[tool.timestamp-lint]\nfields = ['x']\n")
    # in timestamp-lint.toml the keys are top-level: a `tool` table is an unknown key
    assert_config_error(cli(root), "timestamp-lint.toml", "unknown key 'tool'")


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ('fields = "created_at"', "key 'fields' must be a list of strings, got a string"),
        ("fields = [1, 2]", "key 'fields' must be a list of strings"),
        ('fields = ["created_at", 3]', "key 'fields' must be a list of strings"),
        ('allow = [["x/**"]]', "key 'allow' must be a list of strings"),
        ("exclude = true", "key 'exclude' must be a list of strings, got a boolean"),
        ("src = 1.5", "key 'src' must be a list of strings, got a number"),
        ("select = 1979-05-27", "key 'select' must be a list of strings"),
        ("ignore = 07:32:00", "key 'ignore' must be a list of strings"),
        ("model-bases = {a = 1}", "key 'model-bases' must be a list of strings, got a table"),
        ("update-fields = [{}]", "key 'update-fields' must be a list of strings"),
        ('extend-fields = [""]', "'' is not a valid attribute name"),
        ('fields = ["created_at\\n"]', "is not a valid attribute name"),
        ('select = ["TSL\\n"]', "unknown rule code or prefix 'TSL\\n'"),
        ('exclude = [""]', "glob must have 1 to"),
        ('extend-exclude = ["' + "a" * 1025 + '"]', "glob must have 1 to"),
    ],
)
def test_wrong_types(tmp_path: Path, value: str, needle: str) -> None:
    root = project(tmp_path, TABLE + value + "\n")
    assert_config_error(cli(root), "pyproject.toml", needle)


ABSURD_GLOBS = [
    "*" * 500 + "a",
    "*a" * 300 + "b",
    "a*" * 300 + "b",
    "**/" * 300 + "x",
    "*/" * 300 + "b",
    "?" * 1000,
    "[a-z]*" * 150 + "!",
    "*[!a]" * 200 + "x",
    "[" * 1000,
    "[!" + "]" * 500,
    "\\" * 1000,
    "(" * 500 + ")" * 500,
    "{" * 1000,
    "**" + "/**" * 300,
]


@pytest.mark.parametrize("key", ["allow", "exclude", "extend-exclude"])
def test_absurd_globs_do_not_hang(tmp_path: Path, key: str) -> None:
    globs = json.dumps(ABSURD_GLOBS)
    root = project(tmp_path, f"{TABLE}{key} = {globs}\n")
    # long, repetitive path components, the worst case for backtracking matchers
    deep = root / "/".join(["a" * 60] * 12)
    deep.mkdir(parents=True)
    (deep / ("a" * 200 + ".py")).write_text(GOOD)
    result = cli(root, "--output-format", "json", timeout=30)
    assert result.returncode == 1, result.stderr
    paths = [f["path"] for f in json.loads(result.stdout)]
    assert "app/good.py" in paths
    # the first glob (no '/') matches any path component ending in "a", as the deep
    # folders do: the deep file is excluded, or allowed to copy (so not reported either)
    deep_file = (deep / ("a" * 200 + ".py")).relative_to(root).as_posix()
    assert deep_file not in paths


def test_many_globs(tmp_path: Path) -> None:
    globs = json.dumps([f"gen_{i}/**/*.py" for i in range(5000)])
    root = project(tmp_path, f"{TABLE}extend-exclude = {globs}\n")
    result = cli(root, "--output-format", "json", timeout=30)
    assert result.returncode == 1, result.stderr
    assert [f["path"] for f in json.loads(result.stdout)] == ["app/good.py"]


# --------------------------------------------------------------------------- config files


def test_config_file_that_is_a_directory_during_discovery(tmp_path: Path) -> None:
    """A folder named like a configuration file is not one: the next candidate is used."""
    root = project(tmp_path, TABLE + "extend-fields = ['done_at']\n")
    (root / "app" / "timestamp-lint.toml").mkdir()
    (root / "app" / ".timestamp-lint.toml").mkdir()
    (root / "app" / "pyproject.toml").mkdir()
    result = cli(root, "--output-format", "json", "app")
    assert result.returncode == 1, result.stderr
    assert [f["path"] for f in json.loads(result.stdout)] == ["app/good.py"]


def test_pyproject_that_is_a_fifo_is_not_read(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "timestamp-lint.toml").write_text("")
    os.mkfifo(root / "app" / "pyproject.toml")  # nobody writes: a read would block
    result = cli(root, "--output-format", "json", "app", timeout=20)
    assert result.returncode == 1, result.stderr
    assert [f["path"] for f in json.loads(result.stdout)] == ["app/good.py"]


def test_config_option_naming_a_fifo(tmp_path: Path) -> None:
    root = project(tmp_path)
    os.mkfifo(root / "conf.toml")
    assert_config_error(cli(root, "--config", "conf.toml", timeout=15), "conf.toml", "")


def test_config_option_naming_a_symlink_loop(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "loop.toml").symlink_to(root / "loop.toml")
    result = cli(root, "--config", "loop.toml")
    assert_config_error(result, "loop.toml", "")


def test_config_option_naming_a_device(tmp_path: Path) -> None:
    """A character device (here /dev/zero, endless) is not a configuration file: refused in
    one line, never read."""
    root = project(tmp_path)
    result = cli(root, "--config", "/dev/zero", timeout=15)
    assert_config_error(result, "/dev/zero", "not a regular file")


def test_config_file_outside_the_project(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "timestamp-lint.toml").write_text("extend-fields = ['done_at']\n")
    result = cli(root, "--output-format", "json", "--config", "../shared/timestamp-lint.toml")
    assert "Traceback" not in result.stderr
    assert [f["path"] for f in json.loads(result.stdout)] == ["app/good.py"]
    assert result.returncode == 1


# --------------------------------------------------------------------------- project code

SIDE_EFFECT = "import pathlib\npathlib.Path({marker!r}).write_text('imported')\n"


def test_project_code_is_never_executed(tmp_path: Path) -> None:
    """Models, packages and the modules they import write a marker file when imported; the
    marker must never appear, whatever the run does."""
    marker = tmp_path / "marker"
    effect = SIDE_EFFECT.format(marker=str(marker))
    root = tmp_path / "proj"
    write_project(
        root,
        {
            "pyproject.toml": TABLE + "model-bases = ['app.base.Model']\n",
            "app/__init__.py": effect,
            "app/base.py": effect + "\n\nclass Model:\n    pass\n",
            "app/models.py": effect + MODELS + "\n\nimport app.base\n\n\n"
            "class Custom(app.base.Model):\n    created_at = None\n",
            "app/good.py": effect + GOOD,
            "app/custom.py": "from app.models import Custom\n\n\ndef g(m):\n"
            "    return Custom(created_at=m.created_at)\n",
            "conftest.py": effect,
            "setup.py": effect,
            "app/__main__.py": effect,
        },
    )
    result = cli(root, "--output-format", "json")
    assert result.returncode == 1, result.stderr
    paths = {f["path"] for f in json.loads(result.stdout)}
    assert {"app/good.py", "app/custom.py"} <= paths
    assert cli(root, "--fix", "--unsafe-fixes").returncode in (0, 1)
    assert cli(root, "--diff").returncode in (0, 1)
    assert not marker.exists()
