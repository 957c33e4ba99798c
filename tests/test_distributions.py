"""Installed packages whose distributions require no ORM define no model: their sources are not
read to classify the classes a project derives from them (`distributions`), and what the
metadata proves is what a cached result is checked against."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from timestamp_lint.api import Options, lint_paths, make_engine, resolve_config
from timestamp_lint.distributions import Distributions

from .conftest import write_project
from .test_resolution_env import FAKEORM, PROJECT, make_venv


def dist(site: Path, name: str, version: str = "1.0", requires: tuple[str, ...] = (), **kw):
    """A `.dist-info` folder: METADATA with `requires`, RECORD listing `files`."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    headers = "".join(f"Requires-Dist: {r}\n" for r in requires)
    description = kw.get("description", "")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\n{headers}\n{description}")
    files = kw.get("files", (f"{name.lower()}/__init__.py",))
    (info / "RECORD").write_text("".join(f"{f},sha256=x,1\n" for f in files))
    if "top_level" in kw:
        (info / "top_level.txt").write_text(kw["top_level"])
    return info


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site-packages"
    dist(site, "webkit", requires=("markupkit>=2",))
    dist(site, "markupkit")
    dist(site, "ormkit", requires=("SQLAlchemy>=2",))
    dist(site, "midkit", requires=("ormkit",))
    dist(site, "extrakit", requires=('Flask_SQLAlchemy ; extra == "db"',))
    dist(site, "lonekit", requires=("notinstalled",))
    dist(site, "readmekit", description="Requires-Dist: Django\n")  # prose, not a header
    dist(site, "PyYAML", files=("yaml/__init__.py",))
    dist(site, "jinja2", files=("jinja2/__init__.py",), top_level="jinja2\n")
    dist(site, "wrongkit", files=("other/__init__.py",))
    dist(site, "eggdep", requires=("legacykit",))
    (site / "legacykit.egg-info").mkdir()
    return site


@pytest.mark.parametrize(
    ("package", "free"),
    [
        ("webkit", True),  # and what it requires requires no ORM
        ("jinja2", True),
        ("lonekit", True),  # a requirement that is not installed cannot be imported
        ("readmekit", True),
        ("ormkit", False),
        ("midkit", False),  # through ormkit
        ("extrakit", False),  # an extra counts: the package may import it
        ("eggdep", False),  # metadata we do not read
        ("yaml", False),  # not its distribution's name: not known
        ("wrongkit", False),  # its distribution does not install it
        ("nothing", False),
        ("protectedkit", False),
    ],
)
def test_what_the_metadata_proves(site: Path, package: str, free: bool) -> None:
    dist(site, "protectedkit")
    proof = Distributions([site], protected={"protectedkit"}).model_free(package)
    assert (proof is not None) is free
    if package == "webkit":
        assert sorted(p.parent.name for p in proof) == [
            "markupkit-1.0.dist-info",
            "webkit-1.0.dist-info",
        ]


BROKEN = "class Handler(:\n"  # what the linter would fail to read, if it read it


def _project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "project",
        {
            **PROJECT,
            "app/views.py": """
                from webkit import Handler


                class FlowHandler(Handler):
                    def get(self, old):
                        return FlowHandler(created_at=old.created_at)
                """,
        },
    )


def test_a_package_that_requires_no_orm_is_not_read(tmp_path: Path, monkeypatch) -> None:
    root = _project(tmp_path)
    site = make_venv(root / ".venv", files={**FAKEORM, "webkit/__init__.py": BROKEN})
    dist(site, "webkit")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    engine = make_engine(resolve_config([root]))
    assert engine.lint_file(root / "app" / "views.py").findings == []
    assert site / "webkit" / "__init__.py" not in engine.index._summaries
    # the installed model base beside it, with no metadata, is still followed
    assert [f.line for f in engine.lint_file(root / "app" / "copy.py").findings] == [5]


def test_a_model_base_of_a_package_that_requires_django_is_followed(
    tmp_path: Path, monkeypatch
) -> None:
    root = write_project(tmp_path / "project", PROJECT)
    site = make_venv(root / ".venv")
    dist(site, "fakeorm", requires=("Django>=4.2",))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    findings = lint_paths([root], options=Options(cache=False, jobs=1)).findings
    assert [(f.path.name, f.line) for f in findings] == [("copy.py", 5)]


def test_cached_results_depend_on_the_metadata(tmp_path: Path, monkeypatch) -> None:
    """A package that imports Django without saying so is taken at its word; once its
    metadata says so, cached results are judged again."""
    root = write_project(tmp_path / "project", PROJECT)
    site = make_venv(root / ".venv")
    info = dist(site, "fakeorm")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    options = Options(jobs=1)
    assert lint_paths([root], options=options).findings == []
    metadata = info / "METADATA"
    metadata.write_text(metadata.read_text().replace("\n\n", "\nRequires-Dist: Django\n\n", 1))
    os.utime(metadata, ns=(1, 1))
    findings = lint_paths([root], options=options).findings
    assert [(f.path.name, f.line) for f in findings] == [("copy.py", 5)]


def test_unreadable_metadata_is_no_proof(tmp_path: Path) -> None:
    """Metadata that cannot be decoded or read proves nothing, and stops nothing."""
    site = tmp_path / "site-packages"
    info = dist(site, "oddkit", top_level="oddkit\n")
    (info / "top_level.txt").write_bytes(b"\xff\xfe oddkit\n")
    (info / "METADATA").write_bytes(b"Metadata-Version: 2.1\nName: oddkit\nRequires-Dist: \xff\n\n")
    assert Distributions([site]).model_free("oddkit") is not None  # RECORD names it
    dist(site, "gonekit")
    (site / "gonekit-1.0.dist-info" / "METADATA").unlink()
    assert Distributions([site]).model_free("gonekit") is None
    assert Distributions([tmp_path / "missing"]).model_free("oddkit") is None
