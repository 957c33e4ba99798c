"""Editor and CI features of the command line: stdin, --since, --statistics, rule docs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import FIXTURES, run_cli


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", root)
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    return root


def test_stdin_lints_as_if_at_the_given_path(demo: Path) -> None:
    source = (demo / "app/services/flows.py").read_text()
    (demo / "app/services/flows.py").write_text("")  # what is on disk does not matter
    result = run_cli("--stdin-filename", "app/services/flows.py", "-", cwd=demo, input=source)
    assert result.returncode == 1
    assert result.stdout.startswith("app/services/flows.py:14:9: TSL001 DiscoveryFlow(")


def test_stdin_respects_the_allowlist(demo: Path) -> None:
    source = (demo / "app/services/flows.py").read_text()
    result = run_cli("--stdin-filename", "scripts/backfill_x.py", "-", cwd=demo, input=source)
    assert result.returncode == 0


def test_stdin_fix_writes_fixed_source_to_stdout(demo: Path) -> None:
    path = demo / "app/services/flows.py"
    source = path.read_text()
    result = run_cli("--fix", "--stdin-filename", str(path), "-", cwd=demo, input=source)
    assert result.returncode == 0
    assert "created_at=master" not in result.stdout
    assert result.stdout == source.replace(
        "        created_at=master.created_at,  # copied from the master: the bug\n"
        "        updated_at=master.updated_at,\n",
        "",
    )
    assert path.read_text() == source  # nothing written


def test_dash_without_stdin_filename_is_a_usage_error(demo: Path) -> None:
    result = run_cli("-", cwd=demo, input="")
    assert result.returncode == 2
    assert "needs --stdin-filename" in result.stderr


def test_statistics(demo: Path) -> None:
    result = run_cli("--statistics", cwd=demo)
    assert result.returncode == 1
    assert result.stdout == "    2  TSL001  copied-timestamp-in-new-record  (2 fixable)\n"
    data = json.loads(run_cli("--statistics", "--output-format", "json", cwd=demo).stdout)
    assert data == [
        {"code": "TSL001", "name": "copied-timestamp-in-new-record", "count": 2, "fixable": 2}
    ]


def test_rule_docs() -> None:
    result = run_cli("rule", "tsl001", cwd=FIXTURES)
    assert result.returncode == 0
    assert result.stdout.startswith("# TSL001 (copied-timestamp-in-new-record)")
    for heading in ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety"):
        assert f"## {heading}" in result.stdout
    listing = run_cli("rule", "--all", cwd=FIXTURES).stdout.splitlines()
    assert [line.split()[0] for line in listing] == [
        "TSL001",
        "TSL002",
        "TSL003",
        "TSL004",
        "TSL999",
    ]
    unknown = run_cli("rule", "TSL123", cwd=FIXTURES)
    assert unknown.returncode == 2 and "unknown rule 'TSL123'" in unknown.stderr


def test_full_format_has_no_colour_when_piped(demo: Path) -> None:
    result = run_cli("--output-format", "full", cwd=demo)
    assert "\x1b[" not in result.stdout
    assert "^" in result.stdout and "help: Remove `created_at=master.created_at`" in result.stdout
    assert result.stdout.rstrip().endswith("2 fixes available with `--fix`.")


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_since_reports_only_changed_lines(demo: Path) -> None:
    _git(demo, "init", "-q", "-b", "main")
    _git(demo, "add", "-A")
    _git(demo, "commit", "-q", "-m", "legacy code with the bug")
    assert run_cli("--since", "HEAD", cwd=demo).returncode == 0  # legacy findings are hidden
    service = demo / "app/services/flows.py"
    service.write_text(
        service.read_text()
        + "\n\ndef again(master):\n    return DiscoveryFlow(created_at=master.created_at)\n"
    )
    result = run_cli("--since", "HEAD", "-q", cwd=demo)
    assert result.returncode == 1
    assert [line.split(":")[1] for line in result.stdout.splitlines()] == ["49"]
    (demo / "app/new.py").write_text(
        "from app.models import DiscoveryFlow\nDiscoveryFlow(created_at=x.created_at)\n"
    )
    assert "app/new.py:2:" in run_cli("--since", "HEAD", "-q", cwd=demo).stdout


def test_since_outside_git_is_a_usage_error(demo: Path) -> None:
    result = run_cli("--since", "HEAD", cwd=demo)
    assert result.returncode == 2
    assert "--since requires a git repository" in result.stderr


def test_sarif_fixes_survive_a_cache_written_without_edits(demo: Path) -> None:
    assert run_cli("--output-format", "json", cwd=demo).returncode == 1  # fills the cache
    sarif = json.loads(run_cli("--output-format", "sarif", cwd=demo).stdout)
    results = sarif["runs"][0]["results"]
    assert len(results) == 2
    for result in results:
        [change] = result["fixes"][0]["artifactChanges"]
        assert change["artifactLocation"]["uri"] == "app/services/flows.py"
        [replacement] = change["replacements"]
        assert replacement["deletedRegion"]["startLine"] in (14, 15)
