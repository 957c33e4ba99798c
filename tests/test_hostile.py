"""Hostile input through the real command line, one case per test.

Every project here also holds one ordinary buggy file (`app/good.py`); whatever happens to the
hostile file, the run must end (each run has a timeout), exit with the right code, print no
traceback, and still report `app/good.py`'s finding. Cases already covered by
`test_bad_input.py` (syntax errors, NUL bytes, invalid UTF-8, genuine UTF-16, latin-1 and BOM
linting, unknown cookies, 3,000 nested parentheses, a 10,000-term sum, FIFO and directory named
`*.py` during a folder walk, symlink loops, empty files) are not repeated.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from .conftest import cli, write_project

MODELS = """
from sqlalchemy import Column, DateTime, Integer, String, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime, server_default=func.now(), onupdate=func.now())
"""
GOOD = "from app.models import Flow\n\n\ndef f(m):\n    return Flow(created_at=m.created_at)\n"
GOOD_FINDING = ("app/good.py", 5, "TSL001")
# A multi-line call; the fix removes exactly the `created_at=...` line.
MULTI = (
    "from app.models import Flow\n"
    "\n"
    "\n"
    "def f(m):\n"
    "    return Flow(\n"
    "        name=m.name,\n"
    "        created_at=m.created_at,\n"
    "    )\n"
)
MULTI_FIXED = MULTI.replace("        created_at=m.created_at,\n", "")


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "proj",
        {
            "pyproject.toml": "[tool.timestamp-lint]\n",
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/good.py": GOOD,
        },
    )


def lint_json(root: Path, *args: str, timeout: float = 60, script: str | None = None):
    """(exit code, [(path, line, code)], findings, stderr), after the checks every run needs."""
    result = cli(root, "--output-format", "json", *args, timeout=timeout, script=script)
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    findings = json.loads(result.stdout) if result.stdout.strip() else []
    places = [(f["path"], f["line"], f["code"]) for f in findings]
    return result.returncode, places, findings, result.stderr


def assert_good_reported(places: list) -> None:
    assert GOOD_FINDING in places, places


# --------------------------------------------------------------------------- newlines, tabs


def _fix_bytes(app: Path, name: str, data: bytes) -> bytes:
    path = app / "app" / name
    path.write_bytes(data)
    code, places, _, _ = lint_json(app)
    assert code == 1
    assert (f"app/{name}", 7, "TSL001") in places
    assert_good_reported(places)
    result = cli(app, "--fix")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return path.read_bytes()


def test_crlf_newlines_are_linted_and_kept_by_fix(app: Path) -> None:
    crlf = MULTI.replace("\n", "\r\n").encode()
    assert _fix_bytes(app, "crlf.py", crlf) == MULTI_FIXED.replace("\n", "\r\n").encode()


def test_lone_cr_newlines_are_linted_and_kept_by_fix(app: Path) -> None:
    cr = MULTI.replace("\n", "\r").encode()
    assert _fix_bytes(app, "cr.py", cr) == MULTI_FIXED.replace("\n", "\r").encode()


@pytest.mark.parametrize(("newline", "line"), [("\r", 6), ("\r\r\n", 7)])
def test_noqa_applies_to_its_line_after_lone_carriage_returns(
    app: Path, newline: str, line: int
) -> None:
    """A lone carriage return ends a line for the parsers: `# noqa` below one suppresses
    the finding on its own line, not the one above (found by the fix property test)."""
    source = (
        "from app.models import Flow\n"
        "# one" + newline + "# two\n"
        "def f(m):\n"
        "    return Flow(\n"
        "        updated_at=m.updated_at,\n"
        "        created_at=m.created_at,  # noqa: TSL001\n"
        "    )\n"
    )
    path = app / "app" / "cr_noqa.py"
    path.write_bytes(source.encode())
    _, places, _, _ = lint_json(app)
    assert [p for p in places if p[0] == "app/cr_noqa.py"] == [("app/cr_noqa.py", line, "TSL001")]


def test_mixed_newlines_are_kept_by_fix(app: Path) -> None:
    lines = MULTI.splitlines(keepends=True)
    endings = ["\r\n", "\n", "\r\n", "\n", "\r\n", "\n", "\r\n", "\n"]
    mixed = "".join(line[:-1] + end for line, end in zip(lines, endings, strict=True))
    fixed = "".join(
        line[:-1] + end
        for line, end in zip(lines, endings, strict=True)
        if "created_at=" not in line
    )
    assert _fix_bytes(app, "mixed.py", mixed.encode()) == fixed.encode()


def test_tab_indentation_is_linted_and_kept_by_fix(app: Path) -> None:
    tabs = MULTI.replace("        ", "\t\t").replace("    ", "\t")
    fixed = MULTI_FIXED.replace("        ", "\t\t").replace("    ", "\t")
    assert "\t\tcreated_at" in tabs
    assert _fix_bytes(app, "tabs.py", tabs.encode()) == fixed.encode()


def test_form_feeds_and_no_final_newline(app: Path) -> None:
    source = (
        b"from app.models import Flow\n\x0c\n"
        b"def f(m):\n\x0c    return Flow(name=1, created_at=m.created_at)"
    )
    path = app / "app" / "odd.py"
    path.write_bytes(source)
    code, places, _, _ = lint_json(app)
    assert code == 1
    assert ("app/odd.py", 4, "TSL001") in places
    assert_good_reported(places)
    assert cli(app, "--fix").returncode == 0
    assert path.read_bytes() == source.replace(b", created_at=m.created_at", b"")


# --------------------------------------------------------------------------- encodings


def test_latin1_cookie_fix_keeps_encoding_with_non_ascii_on_the_fixed_line(app: Path) -> None:
    source = (
        "# -*- coding: latin-1 -*-\n"
        "from app.models import Flow\n"
        "\n"
        "\n"
        "def f(m):\n"
        '    return Flow(name="caf\xe9 cr\xe8me", created_at=m.created_at)  # d\xe9j\xe0\n'
    )
    path = app / "app" / "latin.py"
    path.write_bytes(source.encode("latin-1"))
    code, places, _, _ = lint_json(app)
    assert code == 1
    assert ("app/latin.py", 6, "TSL001") in places
    assert_good_reported(places)
    result = cli(app, "--fix")
    assert result.returncode == 0, result.stderr
    expected = source.replace(", created_at=m.created_at", "")
    assert path.read_bytes() == expected.encode("latin-1")


def test_utf16_bom_before_ascii_text_is_tsl999(app: Path) -> None:
    # A UTF-16 byte-order mark in front of text that is really ASCII: the field names are
    # visible to the byte pre-filter, but Python cannot read such a file.
    (app / "app" / "wide.py").write_bytes(b"\xff\xfe" + GOOD.encode())
    code, places, findings, _ = lint_json(app)
    assert code == 1
    assert [p for p in places if p[0] == "app/wide.py"] == [("app/wide.py", 1, "TSL999")]
    assert "UTF-16" in next(f["message"] for f in findings if f["path"] == "app/wide.py")
    assert_good_reported(places)
    before = (app / "app" / "wide.py").read_bytes()
    assert cli(app, "--fix", "--unsafe-fixes").returncode == 1
    assert (app / "app" / "wide.py").read_bytes() == before


# --------------------------------------------------------------------------- size


# Each size case must end within a minute, with the right finding or a TSL999 for the file.


def test_5_mb_file(app: Path) -> None:
    """5 MB of code with one bug at its end, so the whole file is analysed."""
    line = "value_{0:07d} = row.created_at_copy + {0}  # padding padding padding padding\n"
    lines = []
    size = i = 0
    while size < 5_000_000:
        lines.append(line.format(i))
        size += len(lines[-1])
        i += 1
    header = "from app.models import Flow\n\n\n"
    tail = "\n\ndef f(m):\n    return Flow(created_at=m.created_at)\n"
    (app / "app" / "big.py").write_text(header + "".join(lines) + tail)
    bug_line = 3 + len(lines) + 4
    started = time.monotonic()
    code, places, _, _ = lint_json(app, timeout=60)
    assert code == 1
    assert_good_reported(places)
    big = [p for p in places if p[0] == "app/big.py"]
    assert big in ([("app/big.py", bug_line, "TSL001")], [("app/big.py", 1, "TSL999")])
    assert time.monotonic() - started < 60


def test_300000_line_file(app: Path) -> None:
    header = "from app.models import Flow\n\n\n"
    tail = "def f(m):\n    return Flow(created_at=m.created_at)\n"
    (app / "app" / "long.py").write_text(header + "x = 1\n" * 300_000 + tail)
    code, places, _, _ = lint_json(app, timeout=60)
    assert code == 1
    assert_good_reported(places)
    long = [p for p in places if p[0] == "app/long.py"]
    assert long in ([("app/long.py", 300_005, "TSL001")], [("app/long.py", 1, "TSL999")])


SIXTY_K = 60_000


@pytest.mark.parametrize(
    "shape",
    [
        "sum",
        "or",
        "concatenated strings",
    ],
)
def test_60000_term_expression_is_tsl999(app: Path, shape: str) -> None:
    terms = {
        "sum": " + ".join(["m.created_at"] * SIXTY_K),
        "or": " or ".join(["m.created_at"] * SIXTY_K),
        "concatenated strings": "m.created_at or " + " ".join(['"x"'] * SIXTY_K),
    }[shape]
    (app / "app" / "wide.py").write_text(f"from app.models import Flow\nFlow(created_at={terms})\n")
    code, places, _, _ = lint_json(app, timeout=60)
    assert code == 1
    assert_good_reported(places)
    assert [p[2] for p in places if p[0] == "app/wide.py"] == ["TSL999"]
    text = cli(app, "app/wide.py").stdout
    assert "SyntaxError" not in text, text  # valid Python: the message says whose limit it is
    if shape == "concatenated strings":  # CPython parses it, LibCST's parser does not
        assert "app/wide.py:2:" in text and "LibCST cannot parse" in text, text


# --------------------------------------------------------------------------- special files


def test_symlink_to_file_outside_project_is_reported_never_written(
    app: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(GOOD)
    (app / "app" / "linked.py").symlink_to(outside)
    code, places, _, _ = lint_json(app)
    assert code == 1
    assert ("app/linked.py", 5, "TSL001") in places
    assert_good_reported(places)
    result = cli(app, "--fix", "--unsafe-fixes")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "linked.py" in line]
    assert len(warnings) == 1 and "symlink" in warnings[0], result.stderr
    assert outside.read_text() == GOOD
    assert (app / "app" / "linked.py").is_symlink()
    assert "created_at" not in (app / "app" / "good.py").read_text()  # the rest is fixed


def test_file_symlink_loops_and_dangling_symlinks(app: Path) -> None:
    """(Folder symlink loops are in test_bad_input.py.) File symlinks that loop or point
    nowhere are skipped in a walk, with and without --fix; named explicitly, they are a
    usage error (exit 2, one line)."""
    folder = app / "app"
    (folder / "a.py").symlink_to(folder / "b.py")
    (folder / "b.py").symlink_to(folder / "a.py")
    (folder / "self.py").symlink_to(folder / "self.py")
    (folder / "dangling.py").symlink_to(folder / "missing.py")
    code, places, _, _ = lint_json(app)
    assert (code, places) == (1, [GOOD_FINDING])
    result = cli(app, "--fix")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "created_at" not in (folder / "good.py").read_text()
    for name in ("a.py", "self.py", "dangling.py"):
        result = cli(app, f"app/{name}", "app/good.py")
        assert result.returncode == 2, result.stdout
        assert len(result.stderr.splitlines()) == 1 and name in result.stderr, result.stderr


def test_fifo_named_py_is_never_opened_for_a_blocking_read(app: Path) -> None:
    # nobody ever writes to these FIFOs: a blocking open or read would hang the run
    os.mkfifo(app / "app" / "pipe.py")
    os.mkfifo(app / "app" / "models_pipe.py")
    (app / "app" / "pipe_link.py").symlink_to(app / "app" / "pipe.py")
    (app / "app" / "uses_pipe.py").write_text(GOOD.replace("app.models", "app.models_pipe"))
    for args in ([], ["app/pipe.py", "app/pipe_link.py", "app"], ["--fix", "--unsafe-fixes"]):
        result = cli(app, "--output-format", "json", *args, timeout=30)
        assert "Traceback" not in result.stderr
        if "--fix" in args:
            assert result.returncode == 0, result.stderr
            continue
        assert result.returncode == 1, result.stderr
        places = [(f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)]
        assert places == [GOOD_FINDING]


def test_directory_named_py_passed_explicitly_is_walked(app: Path) -> None:
    folder = app / "app" / "folder.py"
    folder.mkdir()
    (folder / "inner.py").write_text(GOOD)
    code, places, _, _ = lint_json(app, "app/folder.py", "app/good.py")
    assert code == 1
    assert places == [("app/folder.py/inner.py", 5, "TSL001"), GOOD_FINDING]


def test_non_python_files_passed_explicitly(app: Path) -> None:
    """A file named on the command line is read as Python whatever its name (as flake8 and
    black do): an extension-less script is linted, prose that could hold a finding is a
    TSL999, prose that only mentions a field and binary data are skipped by the byte scan."""
    write_project(
        app,
        {
            "bin/tool": "#!/usr/bin/env python3\n" + GOOD,
            "docs/notes.txt": "Never copy created_at from the master record.\n",
            "docs/howto.txt": "Write child.created_at = master.created_at never.\n",
        },
    )
    (app / "docs" / "logo.png").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    )
    code, places, _, _ = lint_json(
        app, "bin/tool", "docs/notes.txt", "docs/howto.txt", "docs/logo.png", "app/good.py"
    )
    assert code == 1
    assert places == [
        GOOD_FINDING,
        ("bin/tool", 6, "TSL001"),
        ("docs/howto.txt", 1, "TSL999"),
    ]
    # and in a folder walk, only `*.py` files are read
    code, places, _, _ = lint_json(app)
    assert places == [GOOD_FINDING]


def test_file_name_that_is_not_utf8(app: Path) -> None:
    name = os.fsdecode(b"bad\xffname.py")
    (app / "app" / name).write_text(GOOD)
    code, places, _, _ = lint_json(app)
    assert code == 1
    assert_good_reported(places)
    assert len([p for p in places if p[2] == "TSL001"]) == 2


def test_odd_but_valid_file_names(app: Path) -> None:
    for name in ("with space.py", "new\nline.py", "caf\u00e9.py", "-dash.py", "quote'\".py"):
        (app / "app" / name).write_text(GOOD)
    code, places, _, _ = lint_json(app)
    assert code == 1
    assert_good_reported(places)
    assert len(places) == 6
    assert ("app/new\nline.py", 5, "TSL001") in places


# --------------------------------------------------------------------------- races

# Runs the command line with `timestamp_lint.api.discover` wrapped: the real discovery, then
# ACTION on the victim file, as if another process changed it between discovery and reading.
RACE = """
import os, shutil, sys
from pathlib import Path
import timestamp_lint.api as api
from timestamp_lint.cli import main

real_discover = api.discover


def discover(*args, **kwargs):
    files = real_discover(*args, **kwargs)
    victim = Path("app/victim.py")
    assert victim.resolve() in files
    ACTION
    return files


api.discover = discover
main(sys.argv[1:])
"""
ACTIONS = {
    "deleted": "victim.unlink()",
    "replaced by a FIFO": "victim.unlink(); os.mkfifo(victim)",
    "replaced by a folder": "victim.unlink(); victim.mkdir()",
    "replaced by a symlink loop": "victim.unlink(); victim.symlink_to(victim)",
    "replaced by binary data": "victim.write_bytes(b'a.created_at=b.created_at\\x00\\xff' * 999)",
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_file_changed_between_discovery_and_reading(app: Path, action: str) -> None:
    (app / "app" / "victim.py").write_text(GOOD)
    script = RACE.replace("ACTION", ACTIONS[action])
    for args in ([], ["--fix"]):
        if args:
            victim_path = app / "app" / "victim.py"
            if victim_path.is_dir() and not victim_path.is_symlink():
                victim_path.rmdir()
            victim_path.unlink(missing_ok=True)
            victim_path.write_text(GOOD)
            (app / "app" / "good.py").write_text(GOOD)
        code, places, findings, stderr = lint_json(app, *args, script=script, timeout=30)
        victim = [f for f in findings if f["path"] == "app/victim.py"]
        if args:
            assert code == (1 if victim else 0), stderr
            assert "created_at" not in (app / "app" / "good.py").read_text()
        else:
            assert code == 1, stderr
            assert_good_reported(places)
        if action == "replaced by binary data":
            assert [f["code"] for f in victim] == ["TSL999"]
        else:  # gone, or not a regular file: skipped, or reported as unreadable
            assert all(f["code"] == "TSL999" for f in victim), victim
            assert len(victim) <= 1


# Between reading and writing: the file is edited right before --fix replaces it.
EDIT_BEFORE_WRITE = """
import sys
from pathlib import Path
import timestamp_lint.fix as fixer
from timestamp_lint.cli import main

real_write = fixer.write_atomic


def write_atomic(path, *args, **kwargs):
    if Path(path).name == "victim.py":
        with open(path, "a") as handle:
            handle.write("# edited meanwhile\\n")
    return real_write(path, *args, **kwargs)


fixer.write_atomic = write_atomic
main(sys.argv[1:])
"""


def test_file_edited_between_reading_and_writing_is_not_overwritten(app: Path) -> None:
    (app / "app" / "victim.py").write_text(GOOD)
    result = cli(app, "--fix", script=EDIT_BEFORE_WRITE, timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "victim.py" in line]
    assert len(warnings) == 1 and "changed on disk" in warnings[0], result.stderr
    assert (app / "app" / "victim.py").read_text() == GOOD + "# edited meanwhile\n"
    assert "created_at" not in (app / "app" / "good.py").read_text()
    assert "app/victim.py:5:17: TSL001" in result.stdout


# --------------------------------------------------------------------------- the cache


def _cache_file(app: Path) -> Path:
    """Run once so the cache exists; its results file."""
    code, places, _, _ = lint_json(app)
    assert code == 1
    assert_good_reported(places)
    (found,) = (app / ".timestamp_lint_cache").glob("results-*.json")
    return found


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff garbage",
        b"[]",
        b'{"format": 1, "project": 3, "entries": []}',
        b'{"format": 1, "entries": {"app/good.py": {"m": 0, "s": 0, "h": "", "a": false,'
        b' "f": [], "deps": []}}}',
        b'{"format": 1, "entries": {"app/good.py": {"m": "x", "s": null, "h": 1, "a": 2,'
        b' "f": [{"p": "../../etc/passwd"}], "deps": [[1, 2]]}}}',
        b"{" * 100_000,
    ],
    ids=["binary", "list", "wrong-types", "forged-empty-entry", "broken-entry", "deep"],
)
def test_corrupt_cache_is_ignored(app: Path, content: bytes) -> None:
    _cache_file(app).write_bytes(content)
    code, places, _, stderr = lint_json(app)
    assert (code, places) == (1, [GOOD_FINDING]), stderr


def test_cache_folder_that_is_a_file(app: Path) -> None:
    (app / ".timestamp_lint_cache").write_text("not a folder\n")
    for _ in range(2):
        code, places, _, stderr = lint_json(app)
        assert (code, places) == (1, [GOOD_FINDING]), stderr


def test_cache_file_that_is_a_fifo(app: Path) -> None:
    cache = _cache_file(app)
    cache.unlink()
    os.mkfifo(cache)  # nobody writes: a blocking open or read never returns
    code, places, _, stderr = lint_json(app, timeout=20)
    assert (code, places) == (1, [GOOD_FINDING]), stderr
