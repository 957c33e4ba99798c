"""Hierarchical configuration: each file is judged with the nearest configuration above it,
each sub-project is its own project (index, cache), and a bare file is its own project.
Where Ruff has the same behaviour, the same tree is run through Ruff and compared."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import run_cli, write_project

MODELS = """
from sqlalchemy import Column, DateTime, Integer, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, server_default=func.now())
    born_at = Column(DateTime, server_default=func.now())
"""
# Both columns stamp the current time, so field detection (on by default) would make both
# timestamp fields everywhere: the configurations below turn it off to test `fields` alone.
# one TSL001 per configured field, and an unused import for Ruff's F401
SERVICE = """
import os
from app.models import Flow


def spawn(master):
    return Flow(born_at=master.born_at, created_at=master.created_at)
"""


def _service(root: Path, config: str) -> dict[str, str]:
    prefix = f"{root}/" if str(root) != "." else ""
    return {
        f"{prefix}pyproject.toml": config,
        f"{prefix}app/__init__.py": "",
        f"{prefix}app/models.py": MODELS,
        f"{prefix}app/svc.py": SERVICE,
    }


def _monorepo(tmp_path: Path) -> Path:
    root = tmp_path / "mono"
    write_project(
        root,
        {
            **_service(
                Path("svc1"), "[tool.timestamp-lint]\ndetect-fields = false\nfields = ['born_at']\n"
            ),
            **_service(
                Path("svc2"),
                "[tool.timestamp-lint]\ndetect-fields = false\nfields = ['created_at']\n",
            ),
        },
    )
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def _findings(root: Path, *args: str) -> list[tuple[str, int, int, str]]:
    result = run_cli("--output-format", "json", "--no-cache", *args, cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return [(f["path"], f["line"], f["column"], f["field"]) for f in json.loads(result.stdout)]


SVC1 = ("svc1/app/svc.py", 6, 17, "born_at")
SVC2 = ("svc2/app/svc.py", 6, 41, "created_at")


def test_each_file_keeps_its_own_projects_configuration(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    # pre-commit passes files of several sub-projects in one call
    assert _findings(root, "svc1/app/svc.py") == [SVC1]
    assert _findings(root, "svc2/app/svc.py") == [SVC2]
    assert _findings(root, "svc1/app/svc.py", "svc2/app/svc.py") == [SVC1, SVC2]
    assert _findings(root, "svc2/app/svc.py", "svc1/app/svc.py") == [SVC1, SVC2]
    # a whole-tree run from the repository root, and from inside a sub-project
    assert _findings(root) == [SVC1, SVC2]
    assert _findings(root / "svc1") == [("app/svc.py", 6, 17, "born_at")]
    assert _findings(root, "svc1", "svc2/app") == [SVC1, SVC2]


def test_each_sub_project_has_its_own_cache(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    result = run_cli(cwd=root)
    assert result.returncode == 1, result.stderr
    assert list((root / "svc1/.timestamp_lint_cache").glob("results-*.json"))
    assert list((root / "svc2/.timestamp_lint_cache").glob("results-*.json"))
    assert not (root / ".timestamp_lint_cache").exists()  # the root project has no files
    again = run_cli(cwd=root)  # served by the caches: the same output
    assert again.stdout == result.stdout
    # one --cache-dir for the run: a folder in it for each project
    shared = run_cli("--cache-dir", str(root / "shared"), cwd=root)
    assert shared.stdout == result.stdout
    assert len([p for p in (root / "shared").iterdir() if list(p.glob("results-*.json"))]) == 2


def test_a_sub_project_stays_out_of_the_enclosing_projects_index(tmp_path: Path) -> None:
    # The root project and svc1 both have a package `app`: if the root project's walk saw
    # svc1's files, `app.models` would have two candidate files and resolve to neither.
    root = _monorepo(tmp_path)
    write_project(
        root,
        _service(
            Path("."), "[tool.timestamp-lint]\ndetect-fields = false\nfields = ['created_at']\n"
        ),
    )
    root_finding = ("app/svc.py", 6, 41, "created_at")
    assert _findings(root, "app/svc.py") == [root_finding]
    assert _findings(root) == [root_finding, SVC1, SVC2]
    shown = run_cli("--show-files", cwd=root).stdout.splitlines()
    assert len(shown) == 9 and len(set(shown)) == 9


def test_a_bare_file_is_its_own_project(tmp_path: Path) -> None:
    # the current folder is a project whose `app.models` defines Flow; a file elsewhere,
    # outside any project, must not resolve its imports through it
    here = write_project(tmp_path / "here", _service(Path("."), "[tool.timestamp-lint]\n"))
    bare = write_project(tmp_path / "elsewhere", {"x.py": SERVICE})
    result = run_cli("--output-format", "json", str(bare / "x.py"), cwd=here)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []
    assert not (here / ".timestamp_lint_cache").exists()
    assert not (bare / ".timestamp_lint_cache").exists()  # outside any project: no cache
    shown = run_cli("--show-settings", str(bare / "x.py"), cwd=here).stdout
    assert shown.splitlines()[0] == f"Resolved settings for: {bare}"


def test_config_file_precedence_in_one_folder(tmp_path: Path) -> None:
    files = _service(
        Path("."), "[tool.timestamp-lint]\ndetect-fields = false\nfields = ['created_at']\n"
    )
    root = write_project(tmp_path / "p", files)
    assert _findings(root) == [("app/svc.py", 6, 41, "created_at")]
    (root / "timestamp-lint.toml").write_text("detect-fields = false\nfields = ['born_at']\n")
    assert _findings(root) == [("app/svc.py", 6, 17, "born_at")]
    (root / ".timestamp-lint.toml").write_text(
        "detect-fields = false\nfields = ['born_at', 'created_at']\n"
    )
    assert len(_findings(root)) == 2
    # an empty table in pyproject.toml does not beat timestamp-lint.toml beside it
    (root / ".timestamp-lint.toml").unlink()
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    assert _findings(root) == [("app/svc.py", 6, 17, "born_at")]


def test_config_option_takes_either_form(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    (root / "other.toml").write_text(
        "[tool.timestamp-lint]\ndetect-fields = false\nfields = ['created_at']\n"
    )
    (root / "plain.toml").write_text("detect-fields = false\nfields = ['created_at']\n")
    expected = [("svc1/app/svc.py", 6, 41, "created_at"), SVC2]
    assert _findings(root, "--config", "other.toml") == expected
    assert _findings(root, "--config", "plain.toml") == expected


# --------------------------------------------------------------------------- against Ruff

ruff_available = pytest.mark.skipif(shutil.which("ruff") is None, reason="needs ruff")


def _ruff_files(root: Path, *args: str) -> list[str]:
    done = subprocess.run(
        [shutil.which("ruff") or "ruff", "check", "--no-cache", "--output-format", "json", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    return sorted(
        Path(item["filename"]).relative_to(root).as_posix() for item in json.loads(done.stdout)
    )


def _our_files(root: Path, *args: str) -> list[str]:
    return sorted({path for path, *_ in _findings(root, *args)})


@ruff_available
def test_nearest_configuration_wins_as_in_ruff(tmp_path: Path) -> None:
    # root: F401 / TSL001 on; sub-project svc1: its own selection turns them off
    root = _monorepo(tmp_path)
    write_project(
        root,
        {
            **_service(
                Path("."),
                "[tool.ruff.lint]\nselect = ['F401']\n[tool.timestamp-lint]\nselect = ['TSL001']\n",
            ),
            "svc1/pyproject.toml": "[tool.ruff.lint]\nselect = ['E711']\n"
            "[tool.timestamp-lint]\nselect = ['TSL003']\n",
            "svc2/pyproject.toml": "[tool.ruff.lint]\nselect = ['F401']\n"
            "[tool.timestamp-lint]\nselect = ['TSL001']\n",
        },
    )
    files = ["app/svc.py", "svc1/app/svc.py", "svc2/app/svc.py"]
    assert _ruff_files(root) == ["app/svc.py", "svc2/app/svc.py"]
    assert _our_files(root) == _ruff_files(root)
    for args in (files, files[1:], files[::-1], ["svc1", "app"]):
        assert _our_files(root, *args) == _ruff_files(root, *args), args


@ruff_available
def test_config_file_precedence_as_in_ruff(tmp_path: Path) -> None:
    # the three files of one folder, each selecting a different rule; the winner is the
    # same position in Ruff's list and ours
    ruff_order = {
        "pyproject.toml": "[tool.ruff.lint]\nselect = ['F401']\n",
        "ruff.toml": "[lint]\nselect = ['E711']\n",
        ".ruff.toml": "[lint]\nselect = ['E712']\n",
    }
    our_order = ["pyproject.toml", "timestamp-lint.toml", ".timestamp-lint.toml"]
    root = write_project(tmp_path / "p", {"app/__init__.py": "", "app/svc.py": SERVICE})
    (root / "app/models.py").write_text(MODELS)
    for count in range(1, 4):
        for name in list(ruff_order)[1:count]:
            (root / name).write_text(ruff_order[name], encoding="utf-8")
        pyproject = (
            ruff_order["pyproject.toml"]
            + "[tool.timestamp-lint]\ndetect-fields = false\nfields = ['x0']\n"
        )
        (root / "pyproject.toml").write_text(pyproject)
        for i in range(1, count):
            (root / our_order[i]).write_text(f"detect-fields = false\nfields = ['x{i}']\n")
        ruff_winner = list(ruff_order)[count - 1]
        result = run_cli("--show-settings", cwd=root).stdout
        assert f"Settings path: {root / our_order[count - 1]}" in result
        ruff = subprocess.run(
            [shutil.which("ruff") or "ruff", "check", "--show-settings", "app/svc.py"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        assert f"Settings path: {root / ruff_winner}" in ruff.replace('"', "")
