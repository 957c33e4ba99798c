"""Helpers and generic repositories that pass their arguments on into a new record
(`timestamp_lint.helpers`): reported at the call, fixed like any keyword argument. The
fixture project `fixtures/helpers_app` holds every shape with its `# expect:` marker."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from timestamp_lint.api import Options, fix_paths, lint_paths

from .conftest import FIXTURES, remove_reported

NO_CACHE = Options(cache=False)

MODELS = """
from sqlalchemy import Column, DateTime, Integer, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, server_default=func.now())
"""


def _chain(depth: int) -> str:
    """`h0(**kw)` calls `h1(**kw)` ... calls `Flow(**kw)`."""
    lines = ["from app.models import Flow", ""]
    for level in range(depth):
        lines += [f"def h{level}(**kw):", f"    return h{level + 1}(**kw)", ""]
    lines += [f"def h{depth}(**kw):", "    return Flow(**kw)", ""]
    return "\n".join(lines)


@pytest.mark.parametrize(("depth", "reported"), [(0, True), (2, True), (3, True), (4, False)])
def test_helpers_are_followed_a_few_calls_deep(project, depth: int, reported: bool) -> None:
    root = project(
        {
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/helpers.py": _chain(depth),
            "app/work.py": "from app.helpers import h0\n\n\ndef f(m):\n"
            "    return h0(created_at=m.created_at)\n",
        }
    )
    findings = lint_paths([root], options=NO_CACHE).findings
    assert [(f.line, f.code) for f in findings] == ([(5, "TSL001")] if reported else [])


def test_a_helper_calling_itself_ends(project) -> None:
    root = project(
        {
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/helpers.py": "def h(**kw):\n    return h(**kw)\n",
            "app/work.py": "from app.helpers import h\n\n\ndef f(m):\n"
            "    return h(created_at=m.created_at)\n",
        }
    )
    assert lint_paths([root], options=NO_CACHE).findings == []


def test_the_message_names_the_helper_and_the_model() -> None:
    findings = lint_paths([FIXTURES / "helpers_app"], options=NO_CACHE).findings
    messages = {f.line: f.message for f in findings}
    assert messages[19] == (
        "FlowService(session).create(created_at=master.created_at) copies another Flow "
        "record's creation time into a new Flow record through FlowService.create; omit it "
        "so the column default (server_default=func.now()) stamps the current time"
    )
    by_line = {f.line: f for f in findings}
    assert by_line[28].model == "flows.models.Step"  # bound through CrudService[Step]
    assert by_line[15].fix is None  # a named parameter: the call needs the argument
    assert by_line[7].fix is not None


def test_fixing_removes_exactly_the_forwarded_arguments(tmp_path: Path) -> None:
    root = tmp_path / "helpers_app"
    shutil.copytree(FIXTURES / "helpers_app", root)
    path = root / "flows" / "services" / "copies.py"
    before = path.read_text(encoding="utf-8")
    reported = [f for f in lint_paths([root], options=NO_CACHE).findings if f.fix is not None]
    assert len(reported) == 7
    result = fix_paths([root], unsafe=True, options=NO_CACHE)
    assert result.fixed == len(reported)
    after = path.read_text(encoding="utf-8")
    expected = ast.parse(before)
    remove_reported(expected, {(f.line, f.column - 1) for f in reported})
    assert ast.dump(ast.parse(after)) == ast.dump(expected)
    assert fix_paths([root], unsafe=True, options=NO_CACHE).fixed == 0
    assert [f.line for f in lint_paths([root], options=NO_CACHE).findings] == [15]
