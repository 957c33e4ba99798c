"""Files we cannot read or parse become TSL999; everything else is still linted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import run_cli, write_project

MODELS = """
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
"""
BUG = "from app.models import Flow\n\n\ndef f(m):\n    return Flow(created_at=m.created_at)\n"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return write_project(
        tmp_path,
        {
            "pyproject.toml": "[tool.timestamp-lint]\n",
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/good.py": BUG,
        },
    )


def _lint(root: Path, *args: str) -> tuple[int, list[dict], str]:
    result = run_cli("--output-format", "json", *args, cwd=root)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout or "null"), result.stderr


def _codes(findings: list[dict]) -> list[tuple[str, str]]:
    return [(f["path"], f["code"]) for f in findings]


def test_only_files_that_can_hold_a_finding_are_parsed(app: Path) -> None:
    # no field is given a value here: the byte pre-filter skips the file unparsed
    (app / "app" / "query.py").write_text("def f(:\n    return x.created_at\n")
    _, findings, _ = _lint(app)
    assert _codes(findings) == [("app/good.py", "TSL001")]


def test_syntax_error(app: Path) -> None:
    (app / "app" / "broken.py").write_text("def f(:\n    created_at = x.created_at\n")
    code, findings, _ = _lint(app)
    assert code == 1
    assert _codes(findings) == [("app/broken.py", "TSL999"), ("app/good.py", "TSL001")]
    broken = findings[0]
    assert broken["line"] == 1 and broken["message"].startswith("SyntaxError: ")


def test_invalid_utf8(app: Path) -> None:
    (app / "app" / "bad.py").write_bytes(b"x = '\xff\xfe'\ny = Flow(created_at=m.created_at)\n")
    _, findings, _ = _lint(app)
    assert _codes(findings)[0] == ("app/bad.py", "TSL999")
    assert findings[0]["message"] == ("Cannot decode as utf-8: invalid byte 0xff on line 1")


def test_nul_bytes(app: Path) -> None:
    (app / "app" / "nul.py").write_bytes(b"x = 1\x00\ny = Flow(created_at=m.created_at)\n")
    _, findings, _ = _lint(app)
    assert _codes(findings)[1] == ("app/nul.py", "TSL999")


def test_utf16_with_bom(app: Path) -> None:
    (app / "app" / "wide.py").write_bytes(BUG.encode("utf-16"))
    code, findings, _ = _lint(app, "app/wide.py")
    # Python cannot run UTF-16 source; the field names are not even visible as bytes.
    assert code == 0 and findings == []


def test_latin1_cookie_and_utf8_bom_are_linted(app: Path) -> None:
    latin = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + BUG
    (app / "app" / "latin.py").write_bytes(latin.encode("latin-1"))
    (app / "app" / "bom.py").write_bytes(b"\xef\xbb\xbf" + BUG.encode())
    _, findings, _ = _lint(app)
    assert _codes(findings) == [
        ("app/bom.py", "TSL001"),
        ("app/good.py", "TSL001"),
        ("app/latin.py", "TSL001"),
    ]
    assert [f["line"] for f in findings] == [5, 5, 7]
    assert findings[0]["column"] == 17  # the BOM is not a column


def test_unknown_coding_cookie(app: Path) -> None:
    (app / "app" / "odd.py").write_bytes(b"# coding: klingon\nx = Flow(created_at=m.created_at)\n")
    _, findings, _ = _lint(app)
    assert _codes(findings)[1] == ("app/odd.py", "TSL999")


def test_deep_nesting_never_reaches_libcst(app: Path) -> None:
    # LibCST's native parser crashes the interpreter on ~3,000 nested parentheses.
    (app / "app" / "deep.py").write_text(
        "x = Flow(created_at=" + "(" * 3000 + "m.created_at" + ")" * 3000 + ")\n"
    )
    code, findings, _ = _lint(app)
    assert code == 1
    assert _codes(findings) == [("app/deep.py", "TSL999"), ("app/good.py", "TSL001")]


def test_huge_expression_is_refused_quickly(app: Path) -> None:
    # LibCST needs minutes for ~10,000 operands in one expression.
    terms = " + ".join(["m.created_at"] * 10_000)
    (app / "app" / "wide.py").write_text(f"from app.models import Flow\nFlow(created_at={terms})\n")
    _, findings, _ = _lint(app)
    assert _codes(findings) == [("app/good.py", "TSL001"), ("app/wide.py", "TSL999")]


def test_fifo_and_directory_named_py_are_skipped(app: Path) -> None:
    os.mkfifo(app / "app" / "pipe.py")
    (app / "app" / "folder.py").mkdir()
    (app / "app" / "folder.py" / "inner.py").write_text(BUG)
    code, findings, _ = _lint(app)
    assert _codes(findings) == [("app/folder.py/inner.py", "TSL001"), ("app/good.py", "TSL001")]
    code, findings, _ = _lint(app, "app/pipe.py")
    assert (code, findings) == (0, [])


def test_symlink_loop_ends(app: Path) -> None:
    (app / "app" / "loop").symlink_to(app / "app")
    _, findings, _ = _lint(app)
    assert _codes(findings) == [("app/good.py", "TSL001")]


def test_empty_file(app: Path) -> None:
    (app / "app" / "empty.py").write_text("")
    code, findings, _ = _lint(app, "app/empty.py")
    assert (code, findings) == (0, [])


def test_python_warnings_about_linted_code_stay_quiet(app: Path) -> None:
    import os
    import subprocess
    import sys

    # an invalid escape: CPython's tokenizer warns (DeprecationWarning up to 3.11, then
    # SyntaxWarning); shown here whatever the interpreter's defaults
    (app / "app" / "escapes.py").write_text('PATTERN = "\\d+"\n' + BUG)
    env = {**os.environ, "PYTHONWARNINGS": "always"}
    result = subprocess.run(
        [sys.executable, "-m", "timestamp_lint", "app/escapes.py"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == ""
