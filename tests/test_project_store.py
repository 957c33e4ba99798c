"""Project module summaries kept on disk (`summary_store`, folder `project/`): a run that
re-lints one file reads the summaries of the modules its resolution needs instead of parsing
them again, and a stored summary never outlives the file or the module name it was made for."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from timestamp_lint import source as source_module
from timestamp_lint.api import Options, lint_paths
from timestamp_lint.cache import CACHE_DIR_NAME
from timestamp_lint.ftypes import Config
from timestamp_lint.index import ProjectIndex

MODELS = """
from sqlalchemy import Column, DateTime, Integer, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, server_default=func.now())
    started = Column(DateTime, default=func.now())
"""

SERVICE = """
from app.models import Flow


def clone(master):
    return Flow(created_at=master.created_at, started=master.started)
"""


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    (root / "app" / "api.py").write_text(SERVICE)  # linted before models.py
    return root


def _findings(root: Path, cache: bool = True) -> list[tuple[str, str, int]]:
    found = lint_paths([root], options=Options(cache=cache, jobs=1)).findings
    return sorted((f.path.name, f.code, f.line) for f in found)


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    original = source_module.parse_python  # what the index's summaries parse with

    def counting(text: str, path: Path):
        parsed.append(Path(path).name)
        return original(text, path)

    monkeypatch.setattr(source_module, "parse_python", counting)
    return parsed


def test_a_touched_file_is_relinted_without_parsing_its_models_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    expected = _findings(root, cache=False)
    assert [code for _, code, _ in expected] == ["TSL001", "TSL001"]
    assert _findings(root) == expected  # fills the cache and the summaries
    assert list((root / CACHE_DIR_NAME / "project").glob("*.json"))
    service = root / "app" / "api.py"
    service.write_text(SERVICE + "\n# touched\n")
    parsed = _counting_parses(monkeypatch)
    assert _findings(root) == expected
    assert "models.py" not in parsed  # its stored summary served the resolution


def test_an_edited_module_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    _findings(root)
    models = root / "app" / "models.py"
    models.write_text(MODELS.replace("default=func.now()", "default=None"))
    stat = models.stat()
    os.utime(models, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    (root / "app" / "api.py").write_text(SERVICE + "\n# touched\n")
    parsed = _counting_parses(monkeypatch)
    # `started` no longer stamps the time: only the configured field is a finding
    assert _findings(root) == _findings(root, cache=False)
    assert [code for _, code, _ in _findings(root)] == ["TSL001"]
    assert "models.py" in parsed


def test_a_stored_summary_serves_only_the_module_name_it_was_made_for(tmp_path: Path) -> None:
    root = _project(tmp_path)
    store = tmp_path / "store"
    models = root / "app" / "models.py"
    first = ProjectIndex(Config(root=root), [models])
    first.use_store(store)
    assert first.summary(models).name == "app.models"
    assert list((store / "project").glob("*.json"))
    # the same file, unchanged, in another layout is another module: not the stored summary
    (root / "app" / "__init__.py").unlink()
    second = ProjectIndex(Config(root=root / "app"), [models])
    second.use_store(store)
    assert second.summary(models).name == "models"


def _age(path: Path, days: float) -> None:
    when = path.stat().st_mtime - days * 24 * 3600
    os.utime(path, (when, when))


def test_summaries_no_longer_served_are_removed_and_served_ones_kept(tmp_path: Path) -> None:
    from timestamp_lint import summary_store

    root = _project(tmp_path)
    _findings(root)
    cache = root / CACHE_DIR_NAME
    stored = sorted((cache / "project").glob("*.json"))
    assert stored
    # a summary of a module deleted long ago, another of an older format, a write killed
    # long ago, and a write of a run that is still going
    gone = cache / "project" / ("0" * 32 + "-" + "1" * 16 + ".json")
    gone.write_text("{}")
    killed = cache / "project" / ".s.999999999.abcdefgh.tmp"
    killed.write_text("{")
    live = cache / "project" / f".s.{os.getpid()}.abcdefgh.tmp"
    live.write_text("{")
    for path in (*stored, gone):
        _age(path, 40)
    (cache / "project" / summary_store.TIDIED).unlink(missing_ok=True)
    # a warm run serves the summaries it needs again: they are marked as used, and kept
    (root / "app" / "api.py").write_text(SERVICE + "\n# touched\n")
    _findings(root)
    left = set((cache / "project").iterdir())
    assert gone not in left and killed not in left
    assert live in left  # another run's write in progress is never touched
    served = [p for p in stored if json.loads(p.read_text())["path"].endswith("models.py")]
    assert served and served[0] in left  # models.py's summary was served: kept
    assert cache / "project" / summary_store.TIDIED in left


def test_stores_are_tidied_at_most_once_a_day(tmp_path: Path) -> None:
    from timestamp_lint import summary_store

    folder = tmp_path / "cache" / "installed"
    folder.mkdir(parents=True)
    old = folder / ("a" * 32 + "-" + "b" * 16 + ".json")
    old.write_text("{}")
    _age(old, 40)
    now = old.stat().st_mtime + 40 * 24 * 3600
    (folder / summary_store.TIDIED).write_text("")
    os.utime(folder / summary_store.TIDIED, (now - 3600, now - 3600))  # tidied an hour ago
    summary_store.tidy(tmp_path / "cache", now)
    assert old.exists()
    summary_store.tidy(tmp_path / "cache", now + 24 * 3600)  # a day later
    assert not old.exists()
