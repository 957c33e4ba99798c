"""`timestamp-lint explain PATH:LINE`: the resolution trace, the model, the rules' verdicts."""

from __future__ import annotations

from .conftest import FIXTURES, cli

BRANCHES = FIXTURES / "resolution_branches"
INSTALLED = FIXTURES / "resolution_installed"


def test_explains_a_reported_line_step_by_step() -> None:
    done = cli(BRANCHES, "explain", "flows/services.py:11")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    steps = [
        "flows/services.py:11:13: models.Flow(...)",
        "flows/lazy.py: models = LazyImport('flows.models')",
        "models is opaque at run time; its `if TYPE_CHECKING:` binding:",
        "flows/lazy.py: models is imported from flows.models",
        "flows/models.py:6: class flows.models.Flow",
        "creates flows.models.Flow records (Flow)",
        "base Base is sqlalchemy.ext.declarative.declarative_base(): an ORM root",
        "created_at: declared in flows.models.Flow; server_default=func.now(), stamps the "
        "current time; no update hook",
        "created_at=master.created_at: copies master.created_at",
        "TSL001 at 11:25: Flow(created_at=master.created_at) copies",
    ]
    positions = [out.find(step) for step in steps]
    assert -1 not in positions, out
    assert positions == sorted(positions), out


def test_explains_where_resolution_stopped() -> None:
    done = cli(BRANCHES, "explain", "flows/services.py:16")
    assert done.returncode == 0, done.stderr
    assert "Thing is bound on 2 branches: not resolved" in done.stdout
    assert "not a creation site" in done.stdout
    assert "nothing reported on this line" in done.stdout


def test_explains_bases_from_installed_packages() -> None:
    done = cli(INSTALLED, "explain", "app/services.py:7")
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()]
    chain = [line for line in lines if line.startswith(("class ", "base "))]
    assert [c.split(" (")[0] for c in chain] == [
        "class app.models.Category",
        "class fakeorm.tree.MP_Node",
        "class fakeorm.tree.Node",
        "base models.Model is django.db.models.Model: an ORM root",
    ]
    assert "site-packages/fakeorm/tree.py:9" in chain[1]


def test_bad_locations_are_one_line_errors() -> None:
    for location, message in [
        ("app/services.py", "expected PATH:LINE"),
        ("missing.py:3", "missing.py: no such file"),
        ("app/services.py:500", "line 500 is past the end of the file"),
    ]:
        done = cli(INSTALLED, "explain", location)
        assert done.returncode == 2, (location, done.stdout)
        assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_unresolved_sites_are_counted_and_listed(tmp_path) -> None:
    cache = str(tmp_path / "cache")
    for run in ("cold", "warm"):  # the cache keeps them
        done = cli(BRANCHES, "--cache-dir", cache, ".")
        assert done.returncode == 1, done.stderr
        assert done.stdout.endswith(
            "2 creation sites with copied timestamps were not checked: their callee, or a base "
            "of its class, did not resolve; see --show-unresolved\n"
        ), (run, done.stdout)
    listed = cli(BRANCHES, "--cache-dir", cache, "--show-unresolved", ".")
    assert (
        "flows/reruns.py:8:14: not checked: Report: flows.runs.Report: base ReportBase is "
        "bound to different classes on branches\n"
        "flows/services.py:16:13: not checked: Thing: Thing is bound on 2 branches: "
        "not resolved\n" in listed.stdout
    ), listed.stdout
    # not a finding: machine-readable output and the exit status ignore it
    as_json = cli(BRANCHES, "--no-cache", "--output-format", "json", ".")
    assert "not checked" not in as_json.stdout and "unresolved" not in as_json.stdout


def test_no_unresolved_line_when_everything_resolved() -> None:
    done = cli(INSTALLED, "--no-cache", ".")
    assert "not checked" not in done.stdout


SILENT_MODELS = """\
from sqlalchemy import Column, DateTime, Integer, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, server_default=func.now())
"""

SILENT_SERVICES = """\
from app.models import Flow
from app.signals import changed


def rerun(master):
    child = Flow(
        id=master.id,
        created_at=master.created_at,
    )
    quiet = Flow(created_at=master.created_at)  # noqa: TSL001
    before = Flow(created_at=master.created_at)
    if before:
        changed.send(Flow, before=before)
    return child, quiet
"""


def _silent_project(root):
    (root / "app").mkdir()
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "signals.py").write_text("changed = None\n")
    (root / "app" / "models.py").write_text(SILENT_MODELS)
    (root / "app" / "services.py").write_text(SILENT_SERVICES)
    (root / "app" / "backfill_flows.py").write_text(SILENT_SERVICES)
    return root


def test_a_copy_left_unreported_says_why(tmp_path) -> None:
    root = _silent_project(tmp_path)
    reasons = {
        10: "not reported: a `# noqa` comment on line 10",
        11: "not reported: the record is an in-memory snapshot, never saved: it is only "
        "tested and passed to a signal's send()",
    }
    for line, reason in reasons.items():
        done = cli(root, "explain", f"app/services.py:{line}")
        assert done.returncode == 0, done.stderr
        assert "created_at=master.created_at: copies master.created_at\n      " + reason in (
            done.stdout
        ), done.stdout
        assert "nothing reported on this line" in done.stdout
    allowed = cli(root, "explain", "app/backfill_flows.py:11")
    assert "not reported: the file is on the allowlist" in allowed.stdout, allowed.stdout
    revision = "import alembic\ndown_revision = 'a1'\n" + SILENT_SERVICES
    (root / "app" / "rerun_flows.py").write_text(revision)
    script = cli(root, "explain", "app/rerun_flows.py:13")
    assert "not reported: the file is an Alembic revision script" in script.stdout, script.stdout
    (root / "ignored.toml").write_text('ignore = ["TSL001"]\n')
    (root / "per-file.toml").write_text('[per-file-ignores]\n"app/services.py" = ["TSL00"]\n')
    for config, reason in [
        ("ignored.toml", "TSL001 is not selected"),
        ("per-file.toml", "TSL001 is off for this file (`per-file-ignores`)"),
    ]:
        done = cli(root, "explain", "--config", config, "app/services.py:11")
        assert done.returncode == 0, done.stderr
        assert f"not reported: {reason}" in done.stdout, done.stdout


def test_a_call_over_several_lines_shows_what_its_arguments_got(tmp_path) -> None:
    """The call starts on line 6; the reported argument is on line 8: a finding's line
    explains the call around it."""
    root = _silent_project(tmp_path)
    for line in (6, 8):
        done = cli(root, "explain", f"app/services.py:{line}")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("app/services.py:6:13: Flow(...)\n"), done.stdout
        assert "TSL001 at 8:9: Flow(created_at=master.created_at) copies" in done.stdout
        assert "not reported" not in done.stdout
    # a line whose own calls are no creation sites, inside one that is
    (root / "app" / "stamps.py").write_text(
        "from app.models import Flow\n\n\n"
        "def rerun(master, now):\n"
        "    return Flow(\n"
        "        id=master.id,\n"
        "        created_at=now().replace(microsecond=0),\n"
        "    )\n"
    )
    inner = cli(root, "explain", "app/stamps.py:7").stdout
    assert inner.startswith("app/stamps.py:5:12: Flow(...)\n"), inner
    assert "app/stamps.py:7:20: now().replace(...)" in inner, inner
    assert "created_at=now().replace(microsecond=0): not another record's timestamp" in inner
    blank = cli(root, "explain", "app/services.py:3")
    assert blank.stdout.startswith("app/services.py:3: no call on this line\n"), blank.stdout


BASES_MODELS = """\
import typing
from typing import NamedTuple

from missingpkg.models import CoreBase


class Thing(CoreBase):
    __tablename__ = "things"


class Sub(Thing):
    pass


class Row(NamedTuple):
    created_at: int


class Err(Exception):
    pass


class Hint(typing.NamedTuple):
    created_at: int
"""

BASES_SERVICES = """\
from app.models import Err, Hint, Row, Sub, Thing


def rerun(old):
    a = Thing(created_at=old.created_at)
    b = Sub(created_at=old.created_at)
    c = Row(created_at=old.created_at)
    d = Err(created_at=old.created_at)
    e = Hint(created_at=old.created_at)
    return a, b, c, d, e
"""


def _bases_project(root):
    (root / "app").mkdir()
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(BASES_MODELS)
    (root / "app" / "services.py").write_text(BASES_SERVICES)
    return root


def test_a_class_whose_base_did_not_resolve_is_not_checked_and_says_so(tmp_path) -> None:
    """`Thing`'s base comes from a package missing from the environment: its copies are
    counted as not checked, with the base named; a base from the standard library or the
    builtins (no ORM model there) stops nothing."""
    root = _bases_project(tmp_path)
    reason = (
        "app.models.Thing: base CoreBase is missingpkg.models.CoreBase, in no installed package"
    )
    listed = cli(root, "--no-cache", "--show-unresolved", ".")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1:] == [
        f"app/services.py:5:9: not checked: Thing: {reason}",
        f"app/services.py:6:9: not checked: Sub: {reason}",
        "2 creation sites with copied timestamps were not checked: their callee, or a base "
        "of its class, did not resolve",
    ], listed.stdout
    explained = cli(root, "explain", "app/services.py:6").stdout
    chain = [
        "class app.models.Sub (app/models.py:11): no model",
        "class app.models.Thing (app/models.py:7): no model",
        "base CoreBase is missingpkg.models.CoreBase, in no installed package",
        f"where it stopped: {reason}",
    ]
    positions = [explained.find(step) for step in chain]
    assert -1 not in positions and positions == sorted(positions), explained
    row = cli(root, "explain", "app/services.py:7").stdout
    assert "base NamedTuple is typing.NamedTuple: the standard library, no model" in row
    assert "where it stopped" not in row
    assert (
        "base Exception is a builtin: no model" in cli(root, "explain", "app/services.py:8").stdout
    )
