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
            "1 creation site with copied timestamps was not checked: their callee did not "
            "resolve; see --show-unresolved\n"
        ), (run, done.stdout)
    listed = cli(BRANCHES, "--cache-dir", cache, "--show-unresolved", ".")
    assert (
        "flows/services.py:16:13: not checked: Thing: Thing is bound on 2 branches: "
        "not resolved\n" in listed.stdout
    )
    # not a finding: machine-readable output and the exit status ignore it
    as_json = cli(BRANCHES, "--no-cache", "--output-format", "json", ".")
    assert "not checked" not in as_json.stdout and "unresolved" not in as_json.stdout


def test_no_unresolved_line_when_everything_resolved() -> None:
    done = cli(INSTALLED, "--no-cache", ".")
    assert "not checked" not in done.stdout
