"""Resolution of the last real-world recall gaps (oracle R2, P7):

- an INSERT built by a project method (`db.queries.insert(db.Flow).values(...)`, prefect):
  the receiver's declared type, the method's summary (every `return` is SQLAlchemy's
  `insert(<param>)`), an abstract method's `Insert` annotation and its overrides;
- swappable-model loaders (`AccessToken = get_access_token_model()`, django-oauth-toolkit):
  `apps.get_model(<a setting>)`, the setting read through a settings object whose defaults
  hold `getattr(settings, "NAME", "app.Model")`."""

from __future__ import annotations

import ast
from pathlib import Path

from timestamp_lint.api import Options, lint_paths
from timestamp_lint.config import load_config
from timestamp_lint.index import ClassSym, InstanceSym, ProjectIndex, method_shapes, summarize

from .conftest import FIXTURES, cli, write_project
from .test_resolution_env import make_venv

NO_CACHE = Options(cache=False, jobs=1)
INSERTS = FIXTURES / "resolution_insert_method"


def _index(root: Path) -> ProjectIndex:
    return ProjectIndex(load_config(root))


def _class(index: ProjectIndex, module: str, name: str):
    summary = index.summary(index.find_module(module, None))
    symbol = index.lookup(summary, name)
    assert isinstance(symbol, ClassSym), symbol
    return symbol.cls


def _summary(source: str):
    tree = ast.parse(source)
    return summarize(Path("m.py"), "m", Path("."), False, tree, frozenset({"created_at"}))


def _found(root: Path, *paths: Path) -> list[tuple[str, int]]:
    result = lint_paths(list(paths) or [root], options=NO_CACHE)
    return sorted((f.path.relative_to(root).as_posix(), f.line) for f in result.findings)


# --------------------------------------------------------------------------- R2: inserts


def test_abstract_insert_with_forwarding_overrides_inserts_its_argument() -> None:
    index = _index(INSERTS)
    base = _class(index, "pkg.database.query_components", "BaseQueryComponents")
    assert index.insert_argument(base, "insert") == 0
    postgres = _class(index, "pkg.database.query_components", "PostgresQueryComponents")
    assert index.insert_argument(postgres, "insert") == 0


def test_an_override_inserting_another_model_is_no_insert_of_the_argument() -> None:
    index = _index(INSERTS)
    base = _class(index, "pkg.database.query_components", "BaseQueryComponents")
    assert index.insert_argument(base, "upsert") is None
    # the concrete Postgres override alone does insert its argument
    postgres = _class(index, "pkg.database.query_components", "PostgresQueryComponents")
    assert index.insert_argument(postgres, "upsert") == 0


def test_abstract_method_annotated_with_no_insert_class_is_no_insert() -> None:
    index = _index(INSERTS)
    base = _class(index, "pkg.database.query_components", "BaseQueryComponents")
    assert index.insert_argument(base, "statement") is None


def test_a_method_named_insert_building_no_insert_stays_silent() -> None:
    index = _index(INSERTS)
    outbox = _class(index, "pkg.database.query_components", "Outbox")
    assert index.insert_argument(outbox, "insert") is None
    assert index.insert_argument(outbox, "missing") is None


def test_attribute_assigned_from_an_annotated_init_parameter_has_its_type() -> None:
    index = _index(INSERTS)
    interface = _class(index, "pkg.database.interface", "DatabaseInterface")
    queries = index._instance_attribute(interface, "queries")
    assert isinstance(queries, InstanceSym) and queries.cls.name == "BaseQueryComponents"
    outbox = index._instance_attribute(interface, "outbox")  # a class-body annotation
    assert isinstance(outbox, InstanceSym) and outbox.cls.name == "Outbox"
    assert index._instance_attribute(interface, "orm") is None  # an unannotated parameter


def test_declared_attributes_as_a_type_checker_reads_them() -> None:
    summary = _summary(
        """
class Interface:
    size: int
    later: "Later"
    def __init__(self, a: A, b: B, c, *, d: D):
        self.a = a
        self.b = b
        self.b = c          # assigned twice: no single declared type
        self.c = c          # an unannotated parameter
        self.d: E = make(d)  # the written annotation wins
        other.x = a         # not an attribute of self
"""
    )
    declared = summary.classes["Interface"].declared
    assert declared == {
        "size": (False, ("int",)),
        "later": (False, ("Later",)),
        "a": (False, ("A",)),
        "d": (False, ("E",)),
    }


def test_method_summaries_take_only_the_forwarding_shape() -> None:
    summary = ast.parse(
        """
class Components:
    def insert(self, obj):
        if obj.big:
            return postgresql.insert(obj)
        return sqlite.insert(obj)
    def rebinds(self, obj):
        obj = obj.table
        return postgresql.insert(obj)
    def two(self, obj, other):
        return postgresql.insert(other)
    def mixed(self, obj, other):
        if obj:
            return postgresql.insert(obj)
        return postgresql.insert(other)
    def keyword(self, obj):
        return postgresql.insert(obj, inline=True)
    def through_self(self, obj):
        return self.insert(obj)
    def shadowed(self, obj):
        import other as postgresql
        return postgresql.insert(obj)
    @staticmethod
    def static(obj):
        return postgresql.insert(obj)
    @abstractmethod
    def abstract(self, obj) -> "Union[postgresql.Insert, sqlite.Insert]":
        '''doc'''
    def not_implemented(self, obj) -> postgresql.Insert | sqlite.Insert:
        raise NotImplementedError
    def unannotated(self, obj):
        ...
"""
    )
    cls = method_shapes(summary.body[0])
    assert cls.forwards == {
        "insert": (0, (("postgresql", "insert"), ("sqlite", "insert"))),
        "two": (1, (("postgresql", "insert"),)),
        "static": (0, (("postgresql", "insert"),)),
    }
    assert cls.abstract == {
        "abstract": (("postgresql", "Insert"), ("sqlite", "Insert")),
        "not_implemented": (("postgresql", "Insert"), ("sqlite", "Insert")),
    }


def test_explain_shows_the_insert_method() -> None:
    done = cli(INSERTS, "explain", "pkg/models/flows.py:9")
    assert done.returncode == 0, done.stderr
    assert "annotated BaseQueryComponents in pkg/database/interface.py" in done.stdout
    assert "BaseQueryComponents.insert(...) is an insert of argument 1" in done.stdout
    assert "creates pkg.database.orm_models.Flow records (insert(Flow).values)" in done.stdout


def test_explain_and_the_run_agree_on_an_annotated_method_parameter() -> None:
    """Oracle R2b (prefect `core_policy.py`): a constructor through an annotated parameter
    of a method, under an `if`, with `**` of a Union-annotated parameter's call."""
    done = cli(INSERTS, "explain", "pkg/models/flows.py:41")
    assert done.returncode == 0, done.stderr
    assert "creates pkg.database.orm_models.Flow records (Flow)" in done.stdout
    done = cli(INSERTS, "explain", "pkg/models/flows.py:42")
    assert "TSL001 at 42:48" in done.stdout
    assert ("pkg/models/flows.py", 42) in _found(INSERTS)


INSTALLED_COMPONENTS = {
    "dbkit/__init__.py": "",
    "dbkit/components.py": """
        from abc import ABC, abstractmethod

        from sqlalchemy.dialects import postgresql, sqlite


        class QueryComponents(ABC):
            @abstractmethod
            def insert(self, obj) -> "postgresql.Insert | sqlite.Insert":
                ...


        class PostgresComponents(QueryComponents):
            def insert(self, obj):
                return postgresql.insert(obj)
        """,
}

INSERT_PROJECT = {
    "pyproject.toml": "[tool.timestamp-lint]\n",
    "app/__init__.py": "",
    "app/models.py": """
        from sqlalchemy import Column, DateTime, Integer, func
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()


        class Flow(Base):
            __tablename__ = "flows"
            id = Column(Integer, primary_key=True)
            created_at = Column(DateTime, server_default=func.now())
        """,
    "app/copy.py": """
        from dbkit.components import QueryComponents

        from app.models import Flow


        def copy(queries: QueryComponents, session, old):
            session.execute(queries.insert(Flow).values(created_at=old.created_at))
        """,
}


def test_insert_method_of_an_installed_package(tmp_path: Path, monkeypatch) -> None:
    root = write_project(tmp_path / "project", INSERT_PROJECT)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.chdir(tmp_path)
    assert _found(root) == [], "dbkit is not installed anywhere yet"
    make_venv(root / ".venv", files=INSTALLED_COMPONENTS)
    assert _found(root) == [("app/copy.py", 7)]
    assert _found(root, root / "app" / "copy.py") == [("app/copy.py", 7)]  # single file


def test_stored_summaries_keep_declared_types(tmp_path: Path) -> None:
    from timestamp_lint.summary_store import decode, encode

    summary = _summary(
        "class Interface:\n    def __init__(self, q: Queries):\n        self.q = q\n"
    )
    again = decode(encode(summary))
    assert again.classes["Interface"].declared == {"q": (False, ("Queries",))}
    assert again.classes["Interface"].init_params == ("q",)


# --------------------------------------------------------------------------- P7: swappable

SWAPPABLE = FIXTURES / "resolution_swappable"


def _string(index: ProjectIndex, module: str, value: tuple[str, ...]) -> str | None:
    summary = index.summary(index.find_module(module, None))
    return index.string_value(summary, value)


def test_a_settings_object_attribute_is_its_default_setting() -> None:
    index = _index(SWAPPABLE)
    assert _string(index, "tokens.models", ("conf", "ACCESS_TOKEN_MODEL")) == "tokens.AccessToken"
    # a literal in the defaults mapping itself
    assert _string(index, "tokens.models", ("conf", "APPLICATION_MODEL")) == "tokens.Application"
    # the imported module-level setting
    assert _string(index, "tokens.validators", ("ACCESS_TOKEN_MODEL",)) == "tokens.AccessToken"


def test_the_projects_own_settings_override_the_swappable_default() -> None:
    index = _index(SWAPPABLE)
    assert _string(index, "tokens.models", ("conf", "REFRESH_TOKEN_MODEL")) == (
        "custom.RefreshToken"
    )
    assert _string(index, "tokens.validators", ("settings", "AUTH_USER_MODEL")) == "custom.User"


def test_a_setting_whose_default_is_no_literal_stays_unresolved_and_counted() -> None:
    index = _index(SWAPPABLE)
    assert _string(index, "tokens.models", ("conf", "GRANT_MODEL")) is None
    assert _string(index, "tokens.models", ("conf", "TOKEN_LENGTH")) is None  # not a string
    assert _string(index, "tokens.models", ("conf", "MISSING")) is None
    done = cli(SWAPPABLE, "--no-cache", "--show-unresolved", ".")
    assert done.returncode == 1, done.stderr
    assert (
        "tokens/validators.py:23:5: not checked: Grant: apps.get_model(conf.GRANT_MODEL):"
        " conf.GRANT_MODEL is no string literal or setting we can read"
    ) in done.stdout
    assert "1 creation site with copied timestamps was not checked" in done.stdout


def test_explain_follows_the_swappable_setting() -> None:
    done = cli(SWAPPABLE, "explain", "tokens/validators.py:22")
    assert done.returncode == 0, done.stderr
    assert (
        "tokens/settings.py: conf.REFRESH_TOKEN_MODEL is the default"
        " DEFAULTS['REFRESH_TOKEN_MODEL'] of a settings object (TokenSettings)"
    ) in done.stdout
    assert (
        "Django setting TOKENS_REFRESH_TOKEN_MODEL (default 'tokens.RefreshToken'):"
        " 'custom.RefreshToken'"
    ) in done.stdout
    assert "creates custom.models.RefreshToken records (RefreshToken)" in done.stdout


SETTINGS_SHAPES = {
    "pyproject.toml": "[tool.timestamp-lint]\n",
    "app/__init__.py": "",
    "app/models.py": """
        from django.db import models


        class Token(models.Model):
            created_at = models.DateTimeField(auto_now_add=True)
        """,
    "app/conf.py": """
        from django.conf import settings

        TOKEN_MODEL = getattr(settings, "APP_TOKEN_MODEL", "app.Token")
        DEFAULTS = {"TOKEN_MODEL": TOKEN_MODEL}


        class Plain:
            def __init__(self, defaults=None):
                self.defaults = defaults


        class Own:
            TOKEN_MODEL = "app.Other"

            def __init__(self, defaults=None):
                self.defaults = defaults

            def __getattr__(self, name):
                return self.defaults[name]


        class Positional:
            def __init__(self, user, defaults):
                self.user, self.defaults = user, defaults

            def __getattr__(self, name):
                return self.defaults[name]


        class Overrides:
            def __init__(self, overrides):
                self.overrides = overrides

            def __getattr__(self, name):
                return self.overrides[name]


        plain = Plain(DEFAULTS)
        own = Own(DEFAULTS)
        positional = Positional(None, DEFAULTS)
        keyword = Positional(user=None, defaults=DEFAULTS)
        overrides = Overrides(DEFAULTS)
        """,
}


def test_only_settings_objects_reading_their_defaults_are_followed(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", SETTINGS_SHAPES)
    index = _index(root)
    assert _string(index, "app.conf", ("positional", "TOKEN_MODEL")) == "app.Token"
    assert _string(index, "app.conf", ("keyword", "TOKEN_MODEL")) == "app.Token"
    assert _string(index, "app.conf", ("plain", "TOKEN_MODEL")) is None  # no __getattr__
    assert _string(index, "app.conf", ("own", "TOKEN_MODEL")) is None  # its class sets it
    assert _string(index, "app.conf", ("overrides", "TOKEN_MODEL")) is None  # no `defaults`


def test_project_settings_that_disagree_or_compute_leave_the_setting_unknown(
    tmp_path: Path,
) -> None:
    files = dict(SETTINGS_SHAPES)
    files["site/settings/base.py"] = 'APP_TOKEN_MODEL = "app.Token"\n'
    files["site/settings/dev.py"] = 'APP_TOKEN_MODEL = "app.DevToken"\n'
    index = _index(write_project(tmp_path / "disagree", files))
    assert _string(index, "app.conf", ("TOKEN_MODEL",)) is None
    files.pop("site/settings/dev.py")
    files["site/settings/base.py"] = 'import os\nAPP_TOKEN_MODEL = os.environ["MODEL"]\n'
    index = _index(write_project(tmp_path / "computed", files))
    assert _string(index, "app.conf", ("TOKEN_MODEL",)) is None
    files["site/settings/base.py"] = (
        "from django.conf import settings\n"
        'APP_TOKEN_MODEL = getattr(settings, "APP_TOKEN_MODEL", "app.Other")\n'
    )  # an app reading the setting does not set it
    index = _index(write_project(tmp_path / "reads", files))
    assert _string(index, "app.conf", ("TOKEN_MODEL",)) == "app.Token"


INSTALLED_TOKENS = {
    "tokenapp/__init__.py": "",
    "tokenapp/settings.py": """
        from django.conf import settings

        ACCESS_TOKEN_MODEL = getattr(settings, "TOKENAPP_TOKEN_MODEL", "tokenapp.AccessToken")
        DEFAULTS = {"ACCESS_TOKEN_MODEL": ACCESS_TOKEN_MODEL}


        class Settings:
            def __init__(self, user_settings=None, defaults=None):
                self.defaults = defaults

            def __getattr__(self, name):
                return self.defaults[name]


        tokenapp_settings = Settings(None, DEFAULTS)
        """,
    "tokenapp/models.py": """
        from django.apps import apps
        from django.db import models

        from tokenapp.settings import tokenapp_settings


        class AccessToken(models.Model):
            created_at = models.DateTimeField(auto_now_add=True)


        def get_access_token_model():
            return apps.get_model(tokenapp_settings.ACCESS_TOKEN_MODEL)
        """,
}

TOKEN_PROJECT = {
    "pyproject.toml": "[tool.timestamp-lint]\n",
    "app/__init__.py": "",
    "app/views.py": """
        from tokenapp.models import get_access_token_model

        AccessToken = get_access_token_model()


        def refresh(old):
            return AccessToken.objects.create(created_at=old.created_at)
        """,
}


def test_swappable_loader_of_an_installed_app(tmp_path: Path, monkeypatch) -> None:
    root = write_project(tmp_path / "project", TOKEN_PROJECT)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.chdir(tmp_path)
    assert _found(root) == [], "tokenapp is not installed anywhere yet"
    make_venv(root / ".venv", files=INSTALLED_TOKENS)
    assert _found(root) == [("app/views.py", 7)]
    assert _found(root, root / "app" / "views.py") == [("app/views.py", 7)]  # single file
    # relabelled by its AppConfig: `tokenapp.AccessToken` is no model of the registry
    site = next((root / ".venv" / "lib").glob("python*/site-packages"))
    (site / "tokenapp" / "apps.py").write_text(
        "from django.apps import AppConfig\n\n\nclass TokenConfig(AppConfig):\n"
        '    name = "tokenapp"\n    label = "tokens"\n'
    )
    assert _found(root) == []
