"""The flake8 plugin reports what the command line reports: same files, lines, columns, text."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from .conftest import FIXTURES, run_cli

LINE_RE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<msg>.*)$")

Row = tuple[str, int, int, str, str]


def parse(output: str) -> set[Row]:
    """`path:line:col: CODE message` lines as tuples, paths without flake8's leading `./`."""
    rows = set()
    for text in output.splitlines():
        match = LINE_RE.match(text)
        assert match, f"unexpected output line: {text!r}"
        path = match["path"].removeprefix("./")
        rows.add((path, int(match["line"]), int(match["col"]), match["code"], match["msg"]))
    return rows


def run_flake8(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess:
    # --isolated: no flake8 configuration from the machine or the folder
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "TSL", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )


def flake8_rows(*args: str, cwd: Path) -> set[Row]:
    done = run_flake8(*args, cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return parse(done.stdout)


def cli_rows(*args: str, cwd: Path) -> set[Row]:
    done = run_cli("--quiet", *args, cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return parse(done.stdout)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A copy of the SQLAlchemy fixture project, plus a copy of its findings in `build/`,
    which the project's default `exclude` skips and flake8 alone would not."""
    project = shutil.copytree(FIXTURES / "sqlalchemy_app", tmp_path / "app")
    (project / "build").mkdir()
    shutil.copy(project / "shop/services/orders.py", project / "build/orders.py")
    return project


def test_whole_tree_matches_cli(app: Path) -> None:
    expected = cli_rows(".", cwd=app)
    assert len(expected) > 20
    assert not any(path.startswith("build/") for path, *_ in expected)
    assert flake8_rows(".", cwd=app) == expected


def test_single_files_match_the_whole_tree(app: Path) -> None:
    """How pre-commit and editors call flake8: one file at a time."""
    by_file: defaultdict[str, set[Row]] = defaultdict(set)
    for row in flake8_rows(".", cwd=app):
        by_file[row[0]].add(row)
    assert len(by_file) > 3
    for path, rows in by_file.items():
        assert flake8_rows(path, cwd=app) == rows, path
    # from another folder too, with flake8's paths relative to it
    rows = flake8_rows("app/shop/services/orders.py", cwd=app.parent)
    orders = by_file["shop/services/orders.py"]
    assert {(p.removeprefix("app/"), *rest) for p, *rest in rows} == orders


def test_noqa_comments_agree(app: Path) -> None:
    """flake8 applies `# noqa` itself as well; both must leave exactly the same findings."""
    suppressed = app / "shop/services/suppressed.py"
    text = suppressed.read_text(encoding="utf-8")
    variants = [
        "#noqa:TSL001",  # ours only: flake8 needs one space after the hash
        "# noqa:tsl001",
        "# noqa: TSL",
        "# noqa: E501,TSL001",
        "# noqa: TSL002 TSL003",
        "# flake8: noqa: E501",
    ]
    text += "\n\ndef more(master):\n" + "".join(
        f"    Order(created_at=master.created_at)  {comment}\n" for comment in variants
    )
    suppressed.write_text(text, encoding="utf-8")
    expected = cli_rows("shop/services/suppressed.py", cwd=app)
    assert {line for _, line, *_ in expected} == {8, 9, 12, 21, 22}
    assert flake8_rows("shop/services/suppressed.py", cwd=app) == expected


def test_stdin_with_a_display_name_lints_the_buffer(app: Path) -> None:
    """Editors pipe the unsaved buffer: its lines are reported, not the file's on disk."""
    name = "shop/services/suppressed.py"
    buffer = "\n\n" + (app / name).read_text(encoding="utf-8")  # two lines further down
    done = run_flake8("--stdin-display-name", name, "-", cwd=app, input=buffer)
    on_disk = cli_rows(name, cwd=app)
    assert parse(done.stdout) == {(p, line + 2, *rest) for p, line, *rest in on_disk}


def test_stdin_without_a_name_is_not_linted(app: Path) -> None:
    """Without a location there is no project to resolve models in."""
    text = (app / "shop/services/suppressed.py").read_text(encoding="utf-8")
    done = run_flake8("-", cwd=app, input=text)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_bad_configuration_is_reported_not_raised(app: Path) -> None:
    (app / "pyproject.toml").write_text("[tool.timestamp-lint]\nfeilds = ['x']\n")
    done = run_flake8("shop/models/order.py", "shop/services/orders.py", cwd=app)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    message = f"{app / 'pyproject.toml'}: unknown key 'feilds' (did you mean 'fields'?)"
    assert parse(done.stdout) == {
        ("shop/models/order.py", 1, 1, "TSL999", message),
        ("shop/services/orders.py", 1, 1, "TSL999", message),
    }
