"""The command line: exit codes, formats, options, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import FIXTURES, run_cli

MODELS = """
from sqlalchemy import Column, DateTime, Integer, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime, server_default=func.now(), onupdate=func.now())
"""
SERVICE = """
from app.models import Flow


def spawn(master):
    return Flow(created_at=master.created_at, updated_at=master.updated_at)
"""
CLEAN = """
from app.models import Flow


def spawn(master):
    return Flow()
"""


def _app(project, service: str = SERVICE, config: str = "") -> Path:
    return project(
        {"app/__init__.py": "", "app/models.py": MODELS, "app/service.py": service}, config
    )


def test_findings_exit_1_with_text_output(project) -> None:
    root = _app(project)
    result = run_cli(cwd=root)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("app/service.py:5:17: TSL001 Flow(created_at=master.created_at)")
    assert lines[1].startswith("app/service.py:5:47: TSL001 Flow(updated_at=master.updated_at)")
    assert lines[-2:] == ["Found 2 findings.", "2 fixes available with `--fix`."]
    assert result.stderr == ""


def test_clean_exit_0(project) -> None:
    root = _app(project, CLEAN)
    result = run_cli(".", cwd=root)
    assert result.returncode == 0
    assert result.stdout == "All checks passed (3 files checked).\n"


def test_exit_zero_and_quiet(project) -> None:
    root = _app(project)
    result = run_cli("--exit-zero", "--quiet", cwd=root)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 2
    assert "Found" not in result.stdout


def test_json_output_shape_and_determinism(project) -> None:
    root = _app(project)
    first = run_cli("--output-format", "json", cwd=root)
    second = run_cli("--output-format", "json", cwd=root)
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert data[0] == {
        "code": "TSL001",
        "message": data[0]["message"],
        "path": "app/service.py",
        "line": 5,
        "column": 17,
        "end_line": 5,
        "end_column": 45,
        "model": "app.models.Flow",
        "field": "created_at",
        "fix": data[0]["fix"],
    }
    assert first.returncode == 1


def test_json_clean_is_empty_array(project) -> None:
    root = _app(project, CLEAN)
    result = run_cli("--output-format", "json", cwd=root)
    assert result.stdout == "[]\n"
    assert result.returncode == 0


def test_path_outside_cwd_is_absolute(project, tmp_path: Path) -> None:
    root = _app(project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli("--output-format", "json", str(root / "app"), cwd=elsewhere)
    paths = {f["path"] for f in json.loads(result.stdout)}
    assert paths == {(root / "app" / "service.py").as_posix()}


def test_select_and_ignore(project) -> None:
    root = _app(project)
    assert run_cli("--select", "TSL002", cwd=root).returncode == 0
    assert run_cli("--ignore", "TSL001", cwd=root).returncode == 0
    assert run_cli("--select", "TSL", cwd=root).returncode == 1
    assert run_cli("--select", "tsl001", "--ignore", "TSL002", cwd=root).returncode == 1


def test_select_from_config(project) -> None:
    root = _app(project, config='ignore = ["TSL001"]')
    assert run_cli(cwd=root).returncode == 0


def test_bad_select_code_is_usage_error(project) -> None:
    root = _app(project)
    result = run_cli("--select", "E501", cwd=root)
    assert result.returncode == 2
    assert "--select: unknown rule code or prefix 'E501'" in result.stderr


def test_missing_path_is_one_line_exit_2(project) -> None:
    root = _app(project)
    result = run_cli("nope.py", cwd=root)
    assert result.returncode == 2
    assert result.stderr == "timestamp-lint: error: nope.py: no such file or directory\n"
    assert result.stdout == ""


def test_version_and_help(project) -> None:
    root = _app(project)
    assert run_cli("--version", cwd=root).stdout.startswith("timestamp-lint, version ")
    help_text = run_cli("--help", cwd=root).stdout
    for option in ("--output-format", "--config", "--select", "--ignore", "--exit-zero"):
        assert option in help_text


def test_module_and_console_script_agree(project) -> None:
    import shutil
    import subprocess

    root = _app(project)
    script = shutil.which("timestamp-lint")
    assert script is not None
    via_script = subprocess.run([script], cwd=root, capture_output=True, text=True)
    assert via_script.stdout == run_cli(cwd=root).stdout
    assert via_script.returncode == 1


def test_demo_reports_the_bug() -> None:
    result = run_cli("fixtures/demo", cwd=FIXTURES.parent)
    assert result.returncode == 1
    assert "fixtures/demo/app/services/flows.py:14:9: TSL001 DiscoveryFlow(created_at=" in (
        result.stdout
    )
    assert "schemas" not in result.stdout and "backfill" not in result.stdout
