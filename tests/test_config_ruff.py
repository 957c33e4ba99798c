"""Rule selection, per-file-ignores, file discovery and exclusion, compared with Ruff's own
behaviour on the same tree: our TSL001 / TSL003 stand for Ruff's F401 / F841, our `TSL`
for Ruff's `F`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import run_cli, write_project

RUFF = shutil.which("ruff")
TSL = [sys.executable, "-m", "timestamp_lint"]
pytestmark = pytest.mark.skipif(RUFF is None, reason="needs ruff")

MODELS = """
from sqlalchemy import Column, DateTime, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime)  # TSL003


def unused():
    value = 1  # F841
"""
SERVICE = """
import os  # F401
from app.models import Flow


def spawn(master):
    return Flow(created_at=master.created_at)  # TSL001
"""
OURS = {"F401": "TSL001", "F841": "TSL003", "F": "TSL", "ALL": "ALL"}


def _tree(root: Path, ruff: str = "", ours: str = "") -> Path:
    return write_project(
        root,
        {
            "pyproject.toml": f"[tool.ruff.lint]\n{ruff}\n[tool.timestamp-lint]\n{ours}\n",
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/svc.py": SERVICE,
        },
    )


def _translate(text: str) -> str:
    for ruff, ours in sorted(OURS.items(), key=lambda item: -len(item[0])):
        text = text.replace(f"'{ruff}'", f"'{ours}'").replace(f"={ruff}", f"={ours}")
    return text


def ruff_codes(root: Path, *args: str) -> set[tuple[str, str]]:
    done = subprocess.run(
        [RUFF or "ruff", "check", "--no-cache", "--output-format", "json", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    return {
        (Path(i["filename"]).relative_to(root).as_posix(), OURS[i["code"]])
        for i in json.loads(done.stdout)
        if i["code"] in OURS  # `ALL` selects Ruff's other rules too
    }


def our_codes(root: Path, *args: str) -> set[tuple[str, str]]:
    done = run_cli("--output-format", "json", "--no-cache", *args, cwd=root)
    assert done.returncode in (0, 1), done.stderr
    return {(i["path"], i["code"]) for i in json.loads(done.stdout)}


SELECTION_CASES = [
    # (config lines, command-line options)
    ("ignore = ['F401']", ["--select=F401"]),  # the command line's select starts over
    ("select = ['F401']", ["--ignore=F401"]),
    ("", ["--select=ALL", "--ignore=F401"]),  # more specific wins
    ("", ["--ignore=ALL", "--select=F401"]),
    ("", ["--select=F", "--ignore=F"]),  # a tie: ignore wins
    ("select = ['F401']", ["--extend-select=F841"]),
    ("select = ['F']\nignore = ['F401']", ["--extend-select=F401"]),
    ("select = ['F']\nextend-ignore = ['F401']", []),
    ("select = ['F401']\nextend-select = ['F841']", []),
    ("select = ['F']\nignore = ['F401']", ["--select=F"]),  # config ignores are dropped
    ("select = ['F']\nignore = ['F401']", ["--ignore=F841"]),
    ("select = ['F401', 'F841']", ["--extend-ignore=F"]),
    ("", ["--select=F841", "--extend-select=F401", "--ignore=F841"]),
]


@pytest.mark.parametrize(("config", "args"), SELECTION_CASES)
def test_selection_precedence_as_in_ruff(tmp_path: Path, config: str, args: list[str]) -> None:
    ruff_root = _tree(tmp_path / "ruff", ruff=config)
    expected = ruff_codes(ruff_root, *args)
    our_root = _tree(tmp_path / "ours", ours=_translate(config))
    assert our_codes(our_root, *[_translate(a) for a in args]) == expected


def test_cli_select_beats_config_ignore(tmp_path: Path) -> None:
    root = _tree(tmp_path, ours="ignore = ['TSL003']")
    assert our_codes(root) == {("app/svc.py", "TSL001")}
    assert our_codes(root, "--select", "TSL003") == {("app/models.py", "TSL003")}


@pytest.mark.parametrize(
    ("ruff_table", "ours_table"),
    [
        ('"app/svc.py" = ["F401"]', '"app/svc.py" = ["TSL001"]'),
        ('"svc.py" = ["F401"]', '"svc.py" = ["TSL001"]'),
        ('"app/*.py" = ["F"]', '"app/*.py" = ["TSL"]'),
        ('"models.py" = ["ALL"]', '"models.py" = ["ALL"]'),
        ('"other/*.py" = ["F"]', '"other/*.py" = ["TSL"]'),
    ],
)
def test_per_file_ignores_as_in_ruff(tmp_path: Path, ruff_table: str, ours_table: str) -> None:
    ruff_root = _tree(
        tmp_path / "ruff", ruff=f"select = ['F']\n[tool.ruff.lint.per-file-ignores]\n{ruff_table}"
    )
    ours = f"[tool.timestamp-lint.per-file-ignores]\n{ours_table}"
    our_root = _tree(tmp_path / "ours")
    text = (our_root / "pyproject.toml").read_text() + ours + "\n"
    (our_root / "pyproject.toml").write_text(text)
    assert our_codes(our_root) == ruff_codes(ruff_root)


def test_extend_per_file_ignores_and_fix_leaves_ignored_findings(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        ours="per-file-ignores = { 'models.py' = ['TSL003'] }\n"
        "extend-per-file-ignores = { 'app/svc.py' = ['TSL001'] }",
    )
    assert our_codes(root) == set()
    done = run_cli("--fix", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "created_at=master.created_at" in (root / "app/svc.py").read_text()
    # globs are relative to the configuration file's folder, even via --config
    (root / "conf").mkdir()
    (root / "conf/tsl.toml").write_text("[per-file-ignores]\n'../app/svc.py' = ['TSL001']\n")
    assert our_codes(root, "--config", "conf/tsl.toml") == {("app/models.py", "TSL003")}
    (root / "conf/tsl.toml").write_text("[per-file-ignores]\n'app/svc.py' = ['TSL001']\n")
    assert ("app/svc.py", "TSL001") in our_codes(root, "--config", "conf/tsl.toml")


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--select", "TSL777", "--select: unknown rule code or prefix 'TSL777' (did you mean"),
        ("--select", "", "--select: empty rule code or prefix"),
        ("--ignore", "E501", "--ignore: unknown rule code or prefix 'E501'"),
        (
            "--extend-select",
            "TSL01",
            "unknown rule code or prefix 'TSL01' (did you mean 'TSL001'?)",
        ),
        ("--config", "select = ['TSL777']", "key 'select': unknown rule code or prefix 'TSL777'"),
        ("--config", "per-file-ignores = { 'a.py' = ['X1'] }", "unknown rule code or prefix 'X1'"),
    ],
)
def test_unknown_codes_are_one_line_errors(
    tmp_path: Path, option: str, value: str, needle: str
) -> None:
    root = _tree(tmp_path)
    done = run_cli(option, value, cwd=root)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("timestamp-lint: error: ")
    assert len(done.stderr.splitlines()) == 1
    assert needle in done.stderr
    # Ruff refuses unknown selectors too
    ruff = subprocess.run(
        [RUFF or "ruff", "check", "--select", "F777", "."],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ruff.returncode == 2


def test_unknown_code_in_a_config_file(tmp_path: Path) -> None:
    root = _tree(tmp_path, ours="select = ['TSL777']")
    done = run_cli(cwd=root)
    assert done.returncode == 2
    assert "pyproject.toml: key 'select': unknown rule code or prefix 'TSL777'" in done.stderr


def test_config_key_value_overrides(tmp_path: Path) -> None:
    root = _tree(tmp_path, ours="select = ['TSL001']")
    assert our_codes(root) == {("app/svc.py", "TSL001")}
    assert our_codes(root, "--config", "select = ['TSL003']") == {("app/models.py", "TSL003")}
    assert our_codes(root, "--config", "fields = ['updated_at']") == set()
    both = our_codes(root, "--config", "pyproject.toml", "--config", "extend-select = ['TSL003']")
    assert both == {("app/svc.py", "TSL001"), ("app/models.py", "TSL003")}
    done = run_cli("--config", "nonsense", cwd=root)
    assert done.returncode == 2 and "nonsense: configuration file does not exist" in done.stderr


# --------------------------------------------------------------------------- discovery


def _files(command: list[str], root: Path) -> list[str]:
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    shown = (Path(line).relative_to(root).as_posix() for line in done.stdout.splitlines())
    return sorted(name for name in shown if name != "pyproject.toml")  # Ruff lists it


def _git_tree(tmp_path: Path) -> Path:
    root = _tree(tmp_path / "t")
    write_project(
        root,
        {
            ".gitignore": "generated/\n*_pb2.py\n!keep_pb2.py\n",
            "generated/models.py": MODELS,
            "app/api_pb2.py": SERVICE,
            "app/keep_pb2.py": SERVICE,
            "app/sub/.gitignore": "local.py\n",
            "app/sub/local.py": SERVICE,
            "app/sub/other.py": SERVICE,
            "bin/script": "#!/usr/bin/env python3\n" + SERVICE,
        },
    )
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-f", "app/api_pb2.py"], cwd=root, check=True)  # tracked
    return root


def test_show_files_respects_gitignore_as_ruff_does(tmp_path: Path) -> None:
    root = _git_tree(tmp_path)
    ruff = _files([RUFF or "ruff", "check", "--show-files", "--no-cache"], root)
    ours = _files([*TSL, "--show-files"], root)
    assert ours == ruff
    assert "app/sub/other.py" in ours and "app/keep_pb2.py" in ours
    assert "generated/models.py" not in ours and "app/api_pb2.py" not in ours
    no_ruff = _files([RUFF or "ruff", "check", "--show-files", "--no-respect-gitignore"], root)
    no_ours = _files([*TSL, "--show-files", "--no-respect-gitignore"], root)
    assert no_ours == no_ruff
    assert "generated/models.py" in no_ours
    # files named on the command line are linted even when git ignores them, as in Ruff
    named = ["app/sub/local.py", "bin/script"]
    assert _files([RUFF or "ruff", "check", "--show-files", *named], root) == named
    assert _files([*TSL, "--show-files", *named], root) == named


def test_force_exclude_as_ruff_does(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t", ruff="extend-exclude = ['app/svc.py']")
    text = (root / "pyproject.toml").read_text().replace("[tool.ruff.lint]", "[tool.ruff]")
    (root / "pyproject.toml").write_text(text + "extend-exclude = ['app/svc.py']\n")
    for args in ([], ["--force-exclude"]):
        ruff = _files([RUFF or "ruff", "check", "--show-files", *args, "app/svc.py"], root)
        ours = _files([*TSL, "--show-files", *args, "app/svc.py"], root)
        assert ours == ruff, args
    # stdin obeys exclude with --force-exclude: nothing reported, a fix gives the input back
    source = (root / "app/svc.py").read_text()
    for extra in ([], ["--fix"]):
        done = run_cli(
            "--force-exclude", *extra, "--stdin-filename", "app/svc.py", "-", cwd=root, input=source
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == (source if extra else "")
    done = run_cli("--stdin-filename", "app/svc.py", "-", cwd=root, input=source)
    assert done.returncode == 1 and "TSL001" in done.stdout
    ruff = subprocess.run(
        [RUFF or "ruff", "check", "--fix", "--force-exclude", "--stdin-filename", "app/svc.py"],
        cwd=root,
        input=source,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ruff.returncode == 0 and ruff.stdout == source  # Ruff gives the input back too


def test_no_python_files_found_warning(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = run_cli("empty", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr == "timestamp-lint: warning: No Python files found under the given path(s)\n"


def test_show_settings_prints_the_resolved_selection_and_lints_nothing(tmp_path: Path) -> None:
    root = _tree(tmp_path, ours="select = ['TSL']\nignore = ['TSL003']")
    done = run_cli("--show-settings", "--extend-select", "TSL003", "--ignore", "TSL001", cwd=root)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == [
        f"Resolved settings for: {root}",
        f"Settings path: {root / 'pyproject.toml'}",
    ]
    assert 'select = ["TSL002", "TSL003", "TSL004"]' in lines
    assert "TSL001 " not in done.stdout and not (root / ".timestamp_lint_cache").exists()
