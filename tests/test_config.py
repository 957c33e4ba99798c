"""Configuration: discovery, keys, and one-line errors with exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from timestamp_lint.config import find_project_root, load_config
from timestamp_lint.ftypes import DEFAULT_ALLOW, UserError

from .conftest import run_cli, write_project

MODELS = """
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
"""

COPY = "from app.models import Flow\n\n\ndef f(m):\n    return Flow(created_at=m.created_at)\n"


def _lint_json(root: Path, *args: str) -> list[tuple[str, int, str]]:
    import json

    result = run_cli("--output-format", "json", *args, cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return [(f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[tool.timestamp-lint\n", "invalid TOML"),
        (
            '[tool.timestamp-lint]\nfeilds = ["x"]\n',
            "unknown key 'feilds' (did you mean 'fields'?)",
        ),
        ("[tool.timestamp-lint]\nfields = 3\n", "key 'fields' must be a list of strings"),
        ('[tool.timestamp-lint]\nfields = ["a-b"]\n', "'a-b' is not a valid attribute name"),
        ("[tool.timestamp-lint]\nfields = []\n", "must name at least one field"),
        ('[tool.timestamp-lint]\nselect = ["E1"]\n', "unknown rule code or prefix 'E1'"),
        ('[tool.timestamp-lint]\nmodel-bases = ["a b"]\n', "is not a dotted name"),
        ('[tool.timestamp-lint]\nallow = ["' + "*" * 2000 + '"]\n', "glob must have"),
        ("[tool]\ntimestamp-lint = 3\n", "[tool.timestamp-lint] must be a table"),
    ],
)
def test_bad_config_is_one_line_exit_2(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "a.py").write_text("x = 1\n")
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert needle in result.stderr
    assert "pyproject.toml" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_option_errors(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "confdir").mkdir()
    result = run_cli("--config", "confdir", cwd=tmp_path)
    assert result.returncode == 2
    assert "it is a directory" in result.stderr
    result = run_cli("--config", "missing.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "missing.toml: configuration file does not exist" in result.stderr


def test_project_root_discovery(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'x'\n",  # no table: not a config
            "svc/timestamp-lint.toml": "fields = ['born_at']\n",
            "svc/pkg/mod.py": "",
            "other/.timestamp-lint.toml": "",
            "plain/x.py": "",
        },
    )
    (tmp_path / ".git").mkdir()
    assert find_project_root(tmp_path / "svc" / "pkg") == (
        tmp_path / "svc",
        tmp_path / "svc" / "timestamp-lint.toml",
    )
    assert find_project_root(tmp_path / "other")[0] == tmp_path / "other"
    assert find_project_root(tmp_path / "plain") == (tmp_path, None)
    assert load_config(tmp_path / "svc").fields == ("born_at",)


def test_extend_keys_add_and_plain_keys_replace(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.timestamp-lint]\nextend-fields = ['closed_at']\nallow = ['x/**']\n"
        "extend-allow = ['y/**']\n"
    )
    config = load_config(tmp_path)
    assert config.fields == ("created_at", "updated_at", "closed_at")
    assert config.allow == ("x/**", "y/**")
    (tmp_path / "pyproject.toml").write_text("[tool.timestamp-lint]\nextend-allow = ['y/**']\n")
    assert load_config(tmp_path).allow == (*DEFAULT_ALLOW, "y/**")


def test_missing_config_file_raises(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        load_config(tmp_path, tmp_path / "nope.toml")


def _copying_project(root: Path, config: str) -> Path:
    return write_project(
        root,
        {
            "pyproject.toml": f"[tool.timestamp-lint]\n{config}\n",
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/service.py": (
                "from app.models import Flow\n\n\ndef f(m):\n"
                "    return Flow(created_at=m.created_at, born_at=m.born_at)\n"
            ),
            "app/migrations/__init__.py": "",
            "app/migrations/copy.py": COPY,
            "tools/replay.py": COPY,
            "vendor/lib.py": COPY,
        },
    )


def test_default_allowlist(tmp_path: Path) -> None:
    root = _copying_project(tmp_path, "")
    assert _lint_json(root) == [
        ("app/service.py", 5, "TSL001"),
        ("tools/replay.py", 5, "TSL001"),
        ("vendor/lib.py", 5, "TSL001"),
    ]


def test_allow_replaces_and_extend_allow_adds(tmp_path: Path) -> None:
    root = _copying_project(tmp_path, "allow = ['tools/*.py']")
    assert ("app/migrations/copy.py", 5, "TSL001") in _lint_json(root)
    assert ("tools/replay.py", 5, "TSL001") not in _lint_json(root)
    root = _copying_project(tmp_path, "extend-allow = ['**/replay.py']")
    assert [p for p, _, _ in _lint_json(root)] == ["app/service.py", "vendor/lib.py"]


def test_exclude_and_extend_exclude(tmp_path: Path) -> None:
    root = _copying_project(tmp_path, "extend-exclude = ['vendor']")
    assert [p for p, _, _ in _lint_json(root)] == ["app/service.py", "tools/replay.py"]
    # a file named explicitly is linted (as in Ruff) unless --force-exclude (the hooks' way)
    assert _lint_json(root, "vendor/lib.py") == [("vendor/lib.py", 5, "TSL001")]
    assert _lint_json(root, "--force-exclude", "vendor/lib.py") == []
    assert _lint_json(root, "--config", "force-exclude = true", "vendor/lib.py") == []


def test_extend_fields(tmp_path: Path) -> None:
    root = _copying_project(tmp_path, "extend-fields = ['born_at']")
    found = run_cli("--output-format", "json", "app/service.py", cwd=root).stdout
    assert '"field": "born_at"' in found
    assert '"field": "created_at"' in found


def test_fields_replace_defaults(tmp_path: Path) -> None:
    root = _copying_project(tmp_path, "fields = ['born_at']")
    found = run_cli("--output-format", "json", "app/service.py", cwd=root).stdout
    assert '"field": "born_at"' in found
    assert '"field": "created_at"' not in found


def test_explicit_config_file(tmp_path: Path) -> None:
    root = _copying_project(tmp_path, "")
    (root / "strict.toml").write_text("allow = []\n")
    found = _lint_json(root, "--config", "strict.toml")
    assert ("app/migrations/copy.py", 5, "TSL001") in found
