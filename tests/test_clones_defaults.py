"""Issue 11's smaller pieces: the wider default allowlist, and assignments after
`objects.create(...)`, which update a stored record (not TSL002)."""

from __future__ import annotations

from pathlib import Path

import pytest

from timestamp_lint.api import Options, lint_paths

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

COPY = """
from app.models import Flow


def clone(master):
    return Flow(created_at=master.created_at)
"""


def _codes(root: Path) -> list[tuple[str, str]]:
    result = lint_paths([root], options=NO_CACHE)
    return sorted((f.path.relative_to(root).as_posix(), f.code) for f in result.findings)


@pytest.mark.parametrize(
    "name",
    [
        "tests/test_flows.py",
        "app/tests/helpers.py",
        "test_flows.py",
        "app/flows_test.py",
        "conftest.py",
        "app/tests/conftest.py",
        "seed.py",
        "scripts/seed_data.py",
        "app/seeds/flows.py",
        "fixtures/flows.py",
        "app/fixtures/load.py",
    ],
)
def test_tests_seeds_and_fixture_scripts_are_allowed_by_default(project, name: str) -> None:
    root = project({"app/__init__.py": "", "app/models.py": MODELS, name: COPY})
    assert _codes(root) == []


@pytest.mark.parametrize("name", ["app/services.py", "app/testing.py", "app/contest.py"])
def test_other_files_are_still_checked(project, name: str) -> None:
    root = project({"app/__init__.py": "", "app/models.py": MODELS, name: COPY})
    assert _codes(root) == [(name, "TSL001")]


def test_allow_replaces_the_default_list(project) -> None:
    root = project(
        {"app/__init__.py": "", "app/models.py": MODELS, "tests/test_flows.py": COPY},
        config='allow = ["scripts/**"]\n',
    )
    assert _codes(root) == [("tests/test_flows.py", "TSL001")]


REVISION = """
\"\"\"copy the flows

Revision ID: 4f2a
Revises: 9c1b
\"\"\"

import sqlalchemy as sa
from alembic import op

from app.models import Flow

revision = "4f2a"
down_revision: str | None = "9c1b"


def upgrade():
    for master in op.get_bind().execute(sa.select(Flow)):
        op.get_bind().add(Flow(created_at=master.created_at))
"""


@pytest.mark.parametrize("name", ["app/_migrations/versions/4f2a_copy.py", "app/schema/v2.py"])
def test_alembic_revision_scripts_are_migrations_wherever_they_live(project, name: str) -> None:
    root = project({"app/__init__.py": "", "app/models.py": MODELS, name: REVISION})
    assert _codes(root) == []


def test_a_module_naming_down_revision_without_alembic_is_checked(project) -> None:
    source = REVISION.replace("from alembic import op\n", "op = None\n")
    root = project({"app/__init__.py": "", "app/models.py": MODELS, "app/steps.py": source})
    assert _codes(root) == [("app/steps.py", "TSL001")]


def test_revision_scripts_are_checked_when_the_allowlist_leaves_alembic_out(project) -> None:
    root = project(
        {"app/__init__.py": "", "app/models.py": MODELS, "app/_migrations/v.py": REVISION},
        config='allow = ["scripts/**"]\n',
    )
    assert _codes(root) == [("app/_migrations/v.py", "TSL001")]


DJANGO_MODELS = """
from django.db import models


class Issue(models.Model):
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
"""


def test_assignment_after_objects_create_is_an_update(project) -> None:
    root = project(
        {
            "app/__init__.py": "",
            "app/models.py": DJANGO_MODELS,
            "app/services.py": """
                from app.models import Issue


                def stored(issue):
                    copy = Issue.objects.create(title=issue.title)
                    copy.created_at = issue.created_at
                    copy.save(update_fields=["created_at"])


                def built(issue):
                    copy = Issue(title=issue.title)
                    copy.created_at = issue.created_at
                    copy.save()
            """,
        }
    )
    result = lint_paths([root], options=NO_CACHE)
    assert [(f.line, f.code) for f in result.findings] == [(12, "TSL002")]


IMPERATIVE = """
import datetime

from sqlalchemy import Column, MetaData, Table, types
from sqlalchemy.orm import Mapped, registry

metadata = MetaData()
mapper_registry = registry(metadata=metadata)

api_token_table = Table(
    "api_token",
    metadata,
    Column("id", types.UnicodeText, primary_key=True),
    Column("created_at", types.DateTime, default=datetime.datetime.utcnow),
)


class ApiToken:
    created_at: Mapped[datetime.datetime]


class Unmapped:
    created_at: Mapped[datetime.datetime]


mapper_registry.map_imperatively(ApiToken, api_token_table)
"""


def test_imperatively_mapped_class_annotations_are_not_tsl003(project) -> None:
    # the Table holds the columns (and their defaults); the annotations only describe them
    root = project({"app/__init__.py": "", "app/models.py": IMPERATIVE})
    result = lint_paths([root], options=NO_CACHE)
    assert [(f.line, f.code) for f in result.findings] == [(22, "TSL003")]  # Unmapped only


def test_classic_mapper_under_another_name_maps_the_class(project) -> None:
    # `mapper` imported as another name is still found (the byte check looks for the import)
    source = IMPERATIVE.replace(
        "from sqlalchemy.orm import Mapped, registry",
        "from sqlalchemy.orm import Mapped, registry\nfrom sqlalchemy.orm import mapper as classic",
    ).replace("mapper_registry.map_imperatively(ApiToken", "classic(ApiToken")
    root = project({"app/__init__.py": "", "app/models.py": source})
    result = lint_paths([root], options=NO_CACHE)
    assert [(f.line, f.code) for f in result.findings] == [(23, "TSL003")]  # Unmapped only


def test_a_mapping_method_bound_to_another_name_maps_the_class(project) -> None:
    # calls are resolved only where they may be mappings: a name bound to one still is
    source = IMPERATIVE.replace(
        "mapper_registry.map_imperatively(ApiToken",
        "map_it = mapper_registry.map_imperatively\nmap_it(ApiToken",
    )
    root = project({"app/__init__.py": "", "app/models.py": source})
    result = lint_paths([root], options=NO_CACHE)
    assert [(f.line, f.code) for f in result.findings] == [(22, "TSL003")]  # Unmapped only
