"""Large modules (issue 15): parsed in chunks of top-level statements with memory bounded by
a chunk, and analysed to exactly the findings of the whole-module path.

The chunked path is forced on small files by two settings meant for tests only
(`TSL_TEST_LARGE_SOURCE`: the size in characters above which a source is parsed in chunks;
`TSL_TEST_CHUNK_SIZE`: the size of a chunk), so that both paths run on the same input."""

from __future__ import annotations

import ast
import dataclasses
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from timestamp_lint.api import Options, fix_paths, lint_paths
from timestamp_lint.source import parse_chunks

from . import large_modules
from .conftest import FIXTURES, REPO

# Constructs a split must not cut: strings, brackets and continuations holding lines at
# column 0, decorators, the parts of compound statements, `global`, a listener, a noqa comment.
TRICKY = '''\
"""Module docstring.

def not_code():
x = 1
"""

from __future__ import annotations

import copy

from sqlalchemy import Column, DateTime, Integer, event

from app.models import Base, Flow

TEMPLATE = """
class Fake:
created_at = 1
@decorator
def f(): pass
"""

DATA = [
1,
2,
]
TOTAL = 1 + \\
2

if TOTAL:
    MODE = "a"
elif DATA:
    MODE = "b"
else:
    MODE = "c"

try:
    import json
except ImportError:
    json = None
finally:
    READY = True


class Stamp(Base):
    __tablename__ = "stamps"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime)


class Bare(Base):
    __tablename__ = "bare"
    id = Column(Integer, primary_key=True)
    updated_at = Column(DateTime)


@event.listens_for(Stamp, "before_insert")
def stamp(mapper, connection, target):
    target.created_at = None


def decorator(function):
    return function


@decorator
@decorator
def decorated(m):
    return Flow(created_at=m.created_at)


@decorator(
    1,
)
def decorated_call(m):
    return Flow(
created_at=m.created_at,
    )


LATEST = None


def set_latest(m):
    global LATEST
    LATEST = m.created_at


def uses_latest():
    return Flow(created_at=LATEST)


def cloned(m):
    twin = copy.copy(m)
    twin.id = None
    return twin


def saved(session, m):
    m.id = None
    m.save()


def suppressed(m):
    return Flow(created_at=m.created_at)  # noqa: TSL001


class Service:
    def make(self, m):
        return Flow(updated_at=m.updated_at)

    def plain(self):
        return 1
'''


def _key(finding) -> tuple:
    """Every field of a finding (`Finding` compares only some)."""
    return tuple(repr(value) for value in dataclasses.astuple(finding))


def _analyse(root: Path, paths: list[Path], monkeypatch, chunk: int | None) -> tuple:
    """Findings (every field), unresolved sites, SARIF edits and the --diff of a run; with
    `chunk`, every source is parsed in chunks of about `chunk` characters."""
    if chunk is None:
        monkeypatch.delenv("TSL_TEST_LARGE_SOURCE", raising=False)
        monkeypatch.delenv("TSL_TEST_CHUNK_SIZE", raising=False)
    else:
        monkeypatch.setenv("TSL_TEST_LARGE_SOURCE", "0")
        monkeypatch.setenv("TSL_TEST_CHUNK_SIZE", str(chunk))
    monkeypatch.chdir(root)
    plain = lint_paths(paths, options=Options(cache=False))
    edits = lint_paths(paths, options=Options(cache=False, edits=True))
    diff = fix_paths(paths, diff=True, options=Options(cache=False))
    return (
        [f.code for f in plain.findings],
        [_key(f) for f in plain.findings],
        [_key(f) for f in getattr(plain, "unresolved", ())],
        [_key(f) for f in edits.findings],
        diff.fixed,
    )


def _same_in_chunks(root: Path, paths: list[Path], monkeypatch) -> tuple:
    whole = _analyse(root, paths, monkeypatch, None)
    for chunk in (1, 3_000):
        assert _analyse(root, paths, monkeypatch, chunk) == whole, f"chunks of {chunk}"
    return whole


@pytest.mark.parametrize(
    "name", ["fixes", "sqlalchemy_app", "django_app", "clones_sqlalchemy", "resolution_branches"]
)
def test_fixture_projects_give_the_same_findings_in_chunks(name, monkeypatch) -> None:
    whole = _same_in_chunks(FIXTURES / name, [Path(".")], monkeypatch)
    assert whole[0], "a fixture project without findings proves nothing"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return large_modules.write_project(tmp_path / "project", {})


def test_tricky_module_gives_the_same_findings_in_chunks(project: Path, monkeypatch) -> None:
    target = project / "app" / "tricky.py"
    target.write_text(TRICKY)
    whole = _same_in_chunks(project, [target], monkeypatch)
    codes = whole[0]
    assert codes.count("TSL001") >= 3 and "TSL003" in codes


def test_generated_modules_give_the_same_findings_in_chunks(project: Path, monkeypatch) -> None:
    big = project / "app" / "big.py"
    big.write_text(large_modules.big_module(megabytes=0.05, copies=3))
    dense = project / "app" / "dense.py"
    dense.write_text(large_modules.dense_module(functions=60))
    whole = _same_in_chunks(project, [big, dense], monkeypatch)
    assert whole[0] == ["TSL001"] * 63


def test_chunks_are_the_whole_tree() -> None:
    text = TRICKY * 3 + large_modules.big_module(megabytes=0.1)
    whole = ast.parse(text)
    for size in (1, 500, 20_000):
        body = [s for tree in parse_chunks(text, Path("m.py"), size) for s in tree.body]
        merged = ast.Module(body=body, type_ignores=[])
        assert ast.dump(merged, include_attributes=True) == ast.dump(whole, include_attributes=True)


@pytest.mark.parametrize(
    "error",
    [
        "x = = 1\n",  # a real error in the middle of a chunk
        "y = (1,\n",  # a bracket never closed: every later chunk looks incomplete
        ")\n",  # a bracket never opened
        "  unindent = 1\n",  # an indentation that matches no outer level
        "else:\n    pass\n",  # not a place a split is made
        'z = """never closed\n',
    ],
)
def test_a_syntax_error_in_a_large_module_is_reported_once_where_it_is(
    project: Path, monkeypatch, error: str
) -> None:
    before = large_modules.big_module(megabytes=0.05, copies=2)
    text = before + error + large_modules.big_module(megabytes=0.05, copies=2)
    target = project / "app" / "broken.py"
    target.write_text(text)
    try:
        ast.parse(text)
    except SyntaxError as exc:
        expected = (exc.lineno, exc.offset, f"SyntaxError: {exc.msg}")
    monkeypatch.chdir(project)
    monkeypatch.setenv("TSL_TEST_LARGE_SOURCE", "0")
    for chunk in (1, 2_000, 30_000):
        monkeypatch.setenv("TSL_TEST_CHUNK_SIZE", str(chunk))
        findings = lint_paths([target], options=Options(cache=False)).findings
        assert [(f.line, f.column, f.message) for f in findings] == [expected]
        assert findings[0].code == "TSL999"


def _available_memory() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


LIMITED = textwrap.dedent(
    """\
    import resource, sys
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from timestamp_lint.cli import main
    sys.argv = ["timestamp-lint", "--no-cache", "--jobs", "1", "--output-format", "json",
                "app/big.py"]
    main()
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux's")
def test_a_20_mb_module_is_linted_within_1_5_gb_of_address_space(project: Path) -> None:
    """A bound, not a measurement: the whole-module parse alone needs about 3 GB here."""
    limit = 1536 * 1024 * 1024
    if _available_memory() < 2 * limit:
        pytest.skip("the machine has less than 3 GB of memory available")
    if resource.getrlimit(resource.RLIMIT_AS)[1] not in (resource.RLIM_INFINITY,) and (
        resource.getrlimit(resource.RLIMIT_AS)[1] < limit
    ):
        pytest.skip("the address space is already limited below 1.5 GB")
    (project / "app" / "big.py").write_text(
        large_modules.big_module(megabytes=20, copies=3, class_every=400)
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    environment.pop("TSL_TEST_LARGE_SOURCE", None)
    done = subprocess.run(
        [sys.executable, "-c", LIMITED, str(limit)],
        cwd=project,
        capture_output=True,
        text=True,
        env=environment,
        timeout=1200,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    import json

    codes = [f["code"] for f in json.loads(done.stdout)]
    assert codes == ["TSL001"] * 3, done.stdout[:2000]


def test_modules_in_parts_give_the_findings_of_the_whole(project: Path, monkeypatch) -> None:
    """Classes are shared among the parts like functions; a function naming a class of
    another part still resolves it (a stub line binds it)."""
    from timestamp_lint import engine

    files = {
        "models_big.py": large_modules.models_module(classes=45),
        "tricky.py": TRICKY,
        "dense.py": large_modules.dense_module(functions=60),
    }
    paths = []
    for name, text in files.items():
        (project / "app" / name).write_text(text)
        paths.append(project / "app" / name)
    whole = _analyse(project, paths, monkeypatch, None)
    parts: list[int] = []
    real_split = engine.split_module

    def split(*args):
        found = real_split(*args)
        parts.append(len(found or ()))
        return found

    monkeypatch.setattr(engine, "split_module", split)
    monkeypatch.setattr(engine, "MAX_ANALYSED_LINES", 150)
    monkeypatch.setattr(engine, "PART_LINES", 30)
    assert _analyse(project, paths, monkeypatch, None) == whole
    assert parts and min(parts) > 1, parts
    codes = whole[0]
    assert "TSL999" not in codes
    assert codes.count("TSL003") == 15 + 1 and codes.count("TSL001") >= 90 + 60


def test_running_out_of_memory_while_parsing_says_so(project: Path, monkeypatch) -> None:
    """It said 'nested too deeply' (the whole-module parse of a 20 MB file under a 1.5 GB
    limit did)."""
    from timestamp_lint import engine

    def parse(text: str, path: Path) -> ast.Module:
        raise MemoryError

    target = project / "app" / "copy.py"
    target.write_text(
        "from app.models import Flow\n\n\ndef f(m):\n    return Flow(created_at=m.created_at)\n"
    )
    monkeypatch.setattr(engine, "parse_python", parse)
    monkeypatch.chdir(project)
    findings = lint_paths([target], options=Options(cache=False)).findings
    assert [(f.code, f.message) for f in findings] == [
        ("TSL999", "Cannot parse file: not enough memory")
    ]
