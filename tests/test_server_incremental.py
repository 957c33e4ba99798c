"""An edit inside one function re-analyses that function alone: the findings must be exactly
those of linting the whole buffer, whatever the edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from timestamp_lint.config import load_config
from timestamp_lint.server.projects import Project

MODELS = """\
from sqlalchemy import Column, DateTime, Integer, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime)
"""

SERVICE = '''\
"""Services."""

from app.models import Flow


def first(master):
    """Copies one timestamp."""
    return Flow(created_at=master.created_at)


class Cloner:
    def clone(self, master):
        child = Flow(id=1)
        child.updated_at = master.updated_at
        return child

    def plain(self, master):
        return Flow(id=master.id)


async def second(master):
    data = {"created_at": master.created_at}
    return Flow(**data)


def third(items):
    total = 0
    for item in items:
        total += item
    return total
'''

EDITS = [
    # (old, new): each applied to the text the previous edits left
    ("total = 0", "total = 1"),  # inside a function without findings
    ("    total = 1\n", "    total = 1\n    extra = Flow(created_at=items.created_at)\n"),
    ("Flow(id=master.id)", "Flow(id=master.id, created_at=master.created_at)"),
    ('    """Copies one timestamp."""\n', '    """Copies one timestamp."""\n\n\n'),  # lines added
    ("return Flow(created_at=master.created_at)", "return Flow(id=2)"),  # a finding goes
    ("child.updated_at = master.updated_at", "child.updated_at = master.updated_at  # noqa"),
    ("    data = {", "    data = {{"),  # broken: TSL999, then back
    ("    data = {{", "    data = {"),
    ("def third(items):", "def third(items, flow=Flow):"),  # the header: whole lint
    ("    return total\n", "    return total\nprint(third)\n"),  # module level: whole lint
    ("    total = 1\n", "    total = 1  # timestamp-lint: skip-file\n"),  # nothing at all
    ("    total = 1  # timestamp-lint: skip-file\n", "    total = 1\n"),
    # a dedented line: no longer one method
    ("        child = Flow(id=1)\n", "        child = Flow(id=1)\n    x = 1\n"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text(MODELS)
    (tmp_path / "app" / "services.py").write_text(SERVICE)
    return tmp_path


def test_incremental_findings_equal_whole_file_findings(project: Path):
    path = project / "app" / "services.py"
    config = load_config(path.parent)
    warm = Project(config)
    text = SERVICE
    warm.lint(path, text.encode(), text)
    assert path in warm.layouts
    quick = 0
    for old, new in EDITS:
        assert old in text, old
        text = text.replace(old, new, 1)
        before = warm.engine
        found, _ = warm.lint(path, text.encode(), text, exact=False)
        quick += found.module is None and warm.engine is before  # no LibCST module kept
        whole, _ = Project(config).lint(path, text.encode(), text)
        assert sorted(found.findings) == sorted(whole.findings), (old, new)
        assert [f.message for f in sorted(found.findings)] == [
            f.message for f in sorted(whole.findings)
        ]
    assert quick >= 5  # most of the edits took the incremental path


def test_a_body_that_tells_the_index_something_is_always_linted_whole(project: Path):
    path = project / "app" / "services.py"
    text = SERVICE.replace(
        "    def plain(self, master):",
        "    def save(self):\n        self.updated_at = 1\n\n    def plain(self, master):",
    )
    warm = Project(load_config(path.parent))
    warm.lint(path, text.encode(), text)
    assert path not in warm.layouts  # a save() override: its body is in the module summary


def test_the_server_keeps_no_tree_from_disk(project: Path):
    """A long-running server lints what the editor sends: the index keeps no tree it parsed
    from disk for a summary (it would be held for as long as the server runs)."""
    path = project / "app" / "services.py"
    warm = Project(load_config(path.parent))
    warm.lint(path, SERVICE.encode(), SERVICE)
    models = project / "app" / "models.py"
    assert warm.engine.index.summary(models) is not None  # read to resolve `Flow`
    assert warm.engine.index.trees.peek(models) is None
