"""Paths in every output format (relative to the current folder, as Ruff prints them; GitLab's
from the repository root), --output-file, --statistics and one-line usage errors."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import run_cli
from .test_monorepo import _monorepo

FORMAT_PATHS = {
    "text": lambda out: re.findall(r"^(\S+?):\d+:\d+: ", out, re.MULTILINE),
    "full": lambda out: re.findall(r"^(\S+?):\d+:\d+: ", out, re.MULTILINE),
    "json": lambda out: [f["path"] for f in json.loads(out)],
    "json-lines": lambda out: [json.loads(line)["path"] for line in out.splitlines()],
    "github": lambda out: re.findall(r"file=([^,]+),", out),
    "junit": lambda out: [s.get("name") for s in ET.fromstring(out).iter("testsuite")],
    "gitlab": lambda out: [i["location"]["path"] for i in json.loads(out)],
}


def _sarif_paths(out: str, cwd: Path) -> list[str]:
    (run,) = json.loads(out)["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": cwd.as_uri() + "/"}}
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    # under the current folder: relative to %SRCROOT%; elsewhere an absolute file URI
    assert all(loc.get("uriBaseId") == "%SRCROOT%" or "://" in loc["uri"] for loc in locations)
    assert locations[0]["uriBaseId"] == "%SRCROOT%"
    return [loc["uri"] for loc in locations]


@pytest.mark.parametrize("output_format", [*FORMAT_PATHS, "sarif"])
def test_paths_are_relative_to_the_current_folder(tmp_path: Path, output_format: str) -> None:
    root = _monorepo(tmp_path)
    for cwd, expected in (
        (root, ["svc1/app/svc.py", "svc2/app/svc.py"]),
        (root / "svc1", ["app/svc.py", "../svc2/app/svc.py"]),
    ):
        done = run_cli("--output-format", output_format, "--no-cache", str(root), cwd=cwd)
        assert done.returncode == 1, done.stderr
        if output_format == "sarif":
            paths = _sarif_paths(done.stdout, cwd)
        else:
            paths = FORMAT_PATHS[output_format](done.stdout)
        if output_format == "gitlab":  # from the repository root, wherever it runs
            assert paths == ["svc1/app/svc.py", "svc2/app/svc.py"]
        elif cwd == root:
            assert paths == expected
        else:  # outside the current folder: absolute, as before
            assert paths[0] == expected[0]
            assert paths[1] in (str(root / "svc2/app/svc.py"), (root / "svc2/app/svc.py").as_uri())


def test_output_file(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    done = run_cli("--output-file", "out.json", "--output-format", "json", cwd=root)
    assert done.returncode == 1
    assert done.stdout == ""
    assert [f["path"] for f in json.loads((root / "out.json").read_text())] == [
        "svc1/app/svc.py",
        "svc2/app/svc.py",
    ]
    done = run_cli("-o", "out.txt", cwd=root)
    assert (
        (root / "out.txt")
        .read_text()
        .endswith("Found 2 findings.\n2 fixes available with `--fix`.\n")
    )
    bad = run_cli("-o", "missing/dir/out.txt", cwd=root)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1


UNSAFE_MODELS = """
from sqlalchemy import Column, DateTime, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime)
"""


def test_statistics_count_unsafe_fixes_only_with_unsafe_fixes(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    (root / "svc2/app/models.py").write_text(UNSAFE_MODELS)  # its fix is unsafe now
    (root / "svc2/pyproject.toml").write_text(
        "[tool.timestamp-lint]\nfields = ['created_at']\nselect = ['TSL001']\n"
    )
    done = run_cli("--statistics", "--output-format", "json", "--no-cache", cwd=root)
    assert json.loads(done.stdout)[0]["count"] == 2
    assert json.loads(done.stdout)[0]["fixable"] == 1
    done = run_cli("--statistics", "--unsafe-fixes", "--output-format", "json", cwd=root)
    assert json.loads(done.stdout)[0]["fixable"] == 2
    text = run_cli("--statistics", cwd=root).stdout
    assert "(1 fixable)" in text


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus"],
        ["--output-format", "nope"],
        ["--jobs", "0"],
        ["--select"],
        ["rule", "--bogus"],
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str]) -> None:
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("timestamp-lint: error: ")


def test_gitlab_paths_from_the_repository_root_of_a_sub_project(tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    done = run_cli("--output-format", "gitlab", cwd=root / "svc1")
    assert [i["location"]["path"] for i in json.loads(done.stdout)] == ["svc1/app/svc.py"]
    done = run_cli("--output-format", "json", cwd=root / "svc1")
    assert [i["path"] for i in json.loads(done.stdout)] == ["app/svc.py"]


def _positions(root: Path) -> dict[str, tuple[int, int, int, int, str]]:
    done = run_cli("--output-format", "json", "--no-cache", cwd=root)
    return {
        f["path"]: (f["line"], f["column"], f["end_line"], f["end_column"], f["message"])
        for f in json.loads(done.stdout)
    }


def test_positions_of_a_bad_byte_and_a_parenthesised_value(tmp_path: Path) -> None:
    root = _monorepo(tmp_path) / "svc2"
    (root / "app/bad.py").write_bytes(
        b"from app.models import Flow\nx = '\xe9\xff'\n\n\ndef f(m):\n"
        b"    return Flow(created_at=m.created_at)\n"
    )
    (root / "app/multi.py").write_text(
        "from app.models import Flow\n\n\ndef f(m):\n    return Flow(\n"
        "        created_at=(\n            m.created_at\n        ),\n    )\n"
    )
    found = _positions(root)
    line, column, *_, message = found["app/bad.py"]
    assert message.endswith("invalid byte 0xe9 on line 2")
    assert (line, column) == (2, 6)  # where the message says: line 2, after `x = '`
    # the span runs to the closing parenthesis of the value, on line 8
    assert found["app/multi.py"][:4] == (6, 9, 8, 10)
    lines = (root / "app/multi.py").read_text().splitlines()
    assert lines[7][:9] == "        )"
