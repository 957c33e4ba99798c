"""Installed packages: the environment is found as type checkers find it, and model bases in
its site-packages are followed statically (fake virtual environments made in tmp_path)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from timestamp_lint.api import Options, lint_paths
from timestamp_lint.environment import find_environment, site_packages

from .conftest import write_project

NO_CACHE = Options(cache=False, jobs=1)

FAKEORM = {
    "fakeorm/__init__.py": "from .tree import MP_Node\n",
    "fakeorm/tree.py": """
        from django.db import models


        class Node(models.Model):
            class Meta:
                abstract = True


        class MP_Node(Node):
            path = models.CharField(max_length=255)
        """,
}

PROJECT = {
    "pyproject.toml": "[tool.timestamp-lint]\n",
    "app/__init__.py": "",
    "app/models.py": """
        from django.db import models
        from fakeorm import MP_Node


        class Category(MP_Node):
            created_at = models.DateTimeField(auto_now_add=True)
        """,
    "app/copy.py": """
        from app.models import Category


        def copy(old):
            return Category.objects.create(created_at=old.created_at)
        """,
}


def make_venv(folder: Path, version: str = "3.12", files: dict[str, str] = FAKEORM) -> Path:
    """A virtual environment's layout: pyvenv.cfg and lib/pythonX.Y/site-packages."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {version}.1\n")
    site = folder / "lib" / f"python{version}" / "site-packages"
    write_project(site, files)
    return site


def codes(root: Path) -> list[tuple[str, int]]:
    result = lint_paths([root], options=NO_CACHE)
    return [(f.path.relative_to(root).as_posix(), f.line) for f in result.findings]


def test_virtual_env_variable_is_used(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "somewhere" / "env")
    assert site_packages(tmp_path, (), {"VIRTUAL_ENV": str(tmp_path / "somewhere" / "env")}) == (
        site,
    )


def test_project_venv_folder_is_found(tmp_path: Path) -> None:
    site = make_venv(tmp_path / ".venv", "3.11")
    assert find_environment(tmp_path, (), {}) == tmp_path / ".venv"
    assert site_packages(tmp_path, (), {}) == (site,)


def test_pre_commit_environment_gives_way_to_the_project_venv(tmp_path: Path) -> None:
    """pre-commit points VIRTUAL_ENV at its own hook environment (the one running us)."""
    make_venv(tmp_path / "venv")
    assert find_environment(tmp_path, (), {"VIRTUAL_ENV": sys.prefix}) == tmp_path / "venv"


def test_python_setting_wins_and_accepts_an_interpreter(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "tools" / "py")
    make_venv(tmp_path / ".venv")
    interpreter = tmp_path / "tools" / "py" / "bin" / "python"
    environ = {"VIRTUAL_ENV": str(tmp_path / ".venv")}
    assert site_packages(tmp_path, (interpreter,), environ) == (site,)


def test_layout_without_pyvenv_cfg_takes_the_newest_python(tmp_path: Path) -> None:
    for version in ("3.9", "3.12", "3.10"):
        (tmp_path / "prefix" / "lib" / f"python{version}" / "site-packages").mkdir(parents=True)
    found = site_packages(tmp_path, (tmp_path / "prefix",), {})
    assert [p.parent.name for p in found] == ["python3.12", "python3.10", "python3.9"]


def test_pth_folders_and_editable_finders_are_read(tmp_path: Path) -> None:
    site = make_venv(tmp_path / ".venv")
    linked = tmp_path / "checkout" / "src"
    mapped = tmp_path / "other" / "pkg"
    linked.mkdir(parents=True)
    mapped.mkdir(parents=True)
    (site / "linked.pth").write_text(f"# a comment\n{linked}\nimport os\n")
    (site / "__editable__.pkg-1.0.pth").write_text(
        "import __editable___pkg_1_0_finder; __editable___pkg_1_0_finder.install()\n"
    )
    (site / "__editable___pkg_1_0_finder.py").write_text(f"MAPPING = {{'pkg': {str(mapped)!r}}}\n")
    # in the order Python reads them: .pth files sorted by name
    assert site_packages(tmp_path, (), {}) == (site, mapped.parent, linked)


def test_installed_model_base_is_followed(tmp_path: Path, monkeypatch) -> None:
    root = write_project(tmp_path / "project", PROJECT)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    assert codes(root) == [], "fakeorm is not installed anywhere yet"
    make_venv(root / ".venv")
    assert codes(root) == [("app/copy.py", 5)]


def test_installed_model_base_through_virtual_env(tmp_path: Path, monkeypatch) -> None:
    root = write_project(tmp_path / "project", PROJECT)
    make_venv(tmp_path / "envs" / "project")
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "envs" / "project"))
    assert codes(root) == [("app/copy.py", 5)]
    # single-file mode, as pre-commit calls it, from another folder
    monkeypatch.chdir(tmp_path)
    result = lint_paths([root / "app" / "copy.py"], options=NO_CACHE)
    assert [f.line for f in result.findings] == [5]


def test_project_module_shadows_the_installed_one(tmp_path: Path, monkeypatch) -> None:
    files = dict(PROJECT)
    files["fakeorm/__init__.py"] = "class MP_Node:\n    pass\n"
    root = write_project(tmp_path / "project", files)
    make_venv(root / ".venv")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    assert codes(root) == []


def test_installed_class_that_is_no_model_stays_silent(tmp_path: Path, monkeypatch) -> None:
    root = write_project(tmp_path / "project", PROJECT)
    make_venv(root / ".venv", files={"fakeorm/__init__.py": "class MP_Node:\n    pass\n"})
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    assert codes(root) == []


def test_real_sqlalchemy_sources_are_not_parsed(tmp_path: Path, monkeypatch) -> None:
    """With the real SQLAlchemy installed in the running environment, a project's models
    resolve by name, and not one of SQLAlchemy's own files is read."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    from timestamp_lint.api import make_engine, resolve_config

    root = write_project(
        tmp_path / "project",
        {
            "pyproject.toml": "[tool.timestamp-lint]\n",
            "shop/__init__.py": "",
            "shop/models.py": """
                from sqlalchemy import Column, DateTime, Integer, func
                from sqlalchemy.orm import declarative_base

                Base = declarative_base()


                class Order(Base):
                    __tablename__ = "orders"
                    id = Column(Integer, primary_key=True)
                    created_at = Column(DateTime, server_default=func.now())
                """,
            "shop/copy.py": """
                from sqlalchemy import insert

                from shop.models import Order


                def copy(old, session):
                    session.add(Order(created_at=old.created_at))
                    session.execute(insert(Order).values(created_at=old.created_at))
                """,
        },
    )
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    config = resolve_config([root])
    installed = Path(sqlalchemy.__file__).resolve().parent.parent
    engine = make_engine(config)
    assert installed in engine.index._site
    result = engine.lint_file(root / "shop" / "copy.py")
    assert [f.line for f in result.findings] == [7, 8]
    assert not [p for p in engine.index._summaries if p.is_relative_to(installed)]


def test_packages_that_define_no_model_are_not_read(tmp_path: Path, monkeypatch) -> None:
    """A Pydantic schema is a DTO without reading Pydantic's (or typing_extensions')
    sources: those packages define no ORM model. Here their installed sources would not even
    parse, and the DTO stays silent while the model beside it is still judged."""
    from timestamp_lint.api import make_engine, resolve_config

    root = write_project(
        tmp_path / "project",
        {
            **PROJECT,
            "app/schemas.py": """
                from pydantic import BaseModel
                from typing_extensions import Self


                class CategoryOut(BaseModel):
                    created_at: str

                    def again(self) -> Self:
                        return CategoryOut(created_at=self.created_at)
                """,
        },
    )
    broken = "class BaseModel(:\n"
    site = make_venv(
        root / ".venv",
        files={**FAKEORM, "pydantic/__init__.py": broken, "typing_extensions.py": broken},
    )
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    engine = make_engine(resolve_config([root]))
    assert engine.lint_file(root / "app" / "schemas.py").findings == []
    assert [f.line for f in engine.lint_file(root / "app" / "copy.py").findings] == [5]
    assert not [p for p in engine.index._summaries if p.is_relative_to(site / "pydantic")]
    assert site / "typing_extensions.py" not in engine.index._summaries


def test_installed_summaries_are_kept_on_disk(tmp_path: Path, monkeypatch) -> None:
    """An installed module is parsed once; later runs read its summary back (while the file
    is unchanged), and results stay the same. A changed installed file is read again."""
    from timestamp_lint import index as index_module

    root = write_project(tmp_path / "project", PROJECT)
    site = make_venv(root / ".venv")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    parsed: list[Path] = []
    original = index_module.summarize

    def counting(path, *args, **kwargs):
        parsed.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(index_module, "summarize", counting)
    cache = tmp_path / "cache"
    options = Options(jobs=1, cache_dir=cache)
    first = lint_paths([root / "app" / "copy.py"], options=options)
    installed = [p for p in parsed if p.is_relative_to(site)]
    assert [f.line for f in first.findings] == [5]
    assert sorted(p.name for p in installed) == ["__init__.py", "tree.py"]
    assert list((cache / "installed").glob("*.json"))

    parsed.clear()
    (root / "app" / "copy.py").write_text((root / "app" / "copy.py").read_text() + "\n")
    again = lint_paths([root / "app" / "copy.py"], options=options)
    assert [f.line for f in again.findings] == [5]
    assert not [p for p in parsed if p.is_relative_to(site)], "read from the store"

    parsed.clear()
    tree = site / "fakeorm" / "tree.py"
    tree.write_text("class MP_Node:\n    pass\n")
    os.utime(tree, ns=(1, 1))
    changed = lint_paths([root / "app" / "copy.py"], options=options)
    assert changed.findings == []
    assert [p.name for p in parsed if p.is_relative_to(site)] == ["tree.py"]


def test_store_refuses_what_is_not_a_summary(tmp_path: Path) -> None:
    from timestamp_lint.summary_store import Corrupt, decode

    for bad in ({"classes": [], "module": {"path": {"o": "X", "v": {}}}}, {"classes": 3}, {}):
        with pytest.raises((Corrupt, KeyError, TypeError)):
            decode(bad)
