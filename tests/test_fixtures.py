"""Fixture projects: every `# expect:` marker is found, nothing else is, output is stable.

Run with TSL_UPDATE_SNAPSHOTS=1 to rewrite the `expected.txt` snapshots after a deliberate
change of messages.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from timestamp_lint.api import Options, lint_paths
from timestamp_lint.report import ReportContext, text

from .conftest import FIXTURES, expected_markers

PROJECTS = sorted(p.parent.name for p in FIXTURES.glob("*/expected.txt"))
NO_CACHE = Options(cache=False)  # fixtures are checked from scratch; caching has its own tests
# The demo is what users read first: it has a snapshot but no `# expect:` markers.
MARKED = [name for name in PROJECTS if name != "demo"]


def _found(project: Path, findings) -> Counter:
    return Counter((f.path.relative_to(project).as_posix(), f.line, f.code) for f in findings)


@pytest.mark.parametrize("name", MARKED)
def test_markers_match_findings(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project = FIXTURES / name
    monkeypatch.chdir(project)
    result = lint_paths(["."], options=NO_CACHE)
    expected = expected_markers(project)
    found = _found(project, result.findings)
    assert found - expected == Counter(), "reported without an `# expect:` marker"
    assert expected - found == Counter(), "`# expect:` marker not reported"


@pytest.mark.parametrize("name", PROJECTS)
def test_output_snapshot(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project = FIXTURES / name
    monkeypatch.chdir(project)
    output = text.render(
        lint_paths(["."], options=NO_CACHE).findings, ReportContext(root=project, cwd=project)
    )
    snapshot = project / "expected.txt"
    if os.environ.get("TSL_UPDATE_SNAPSHOTS"):
        snapshot.write_text(output, encoding="utf-8")
    assert output == snapshot.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", PROJECTS)
def test_single_file_equals_whole_tree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """How pre-commit calls us: one file at a time, from the project root or elsewhere."""
    project = FIXTURES / name
    monkeypatch.chdir(project)
    whole = lint_paths(["."], options=NO_CACHE).findings
    files = sorted({f.path for f in whole})
    assert files, "fixture project without findings"
    monkeypatch.chdir(FIXTURES.parent)
    for file in files:
        single = lint_paths([file], options=NO_CACHE).findings
        assert single == [f for f in whole if f.path == file]
