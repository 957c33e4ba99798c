"""Timestamp fields found by their declarations, whatever their names (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from timestamp_lint.api import Options, lint_paths
from timestamp_lint.config import load_config
from timestamp_lint.detect import field_names
from timestamp_lint.ftypes import UserError
from timestamp_lint.index import ProjectIndex
from timestamp_lint.prescreen import Prescreen

NO_CACHE = Options(cache=False)

MODELS = """
from datetime import datetime

from django.db import models as dj
from sqlalchemy import Boolean, Column, DateTime, Integer, func
from sqlalchemy.orm import Mapped, declarative_base, mapped_column
from sqlmodel import Field, SQLModel

Base = declarative_base()


class Project(Base):
    __tablename__ = "projects"
    id = Column(Integer, primary_key=True)
    created = Column(DateTime, default=datetime.utcnow)
    modified_at = Column(
        DateTime,
        onupdate=func.now(),
    )
    changed_on: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    due = Column(DateTime)


class Tag(Base):
    __tablename__ = "tags"
    id = Column(Integer, primary_key=True)
    created = Column(Boolean, default=False)


class Member(dj.Model):
    date_joined = dj.DateTimeField(auto_now_add=True)


class Hero(SQLModel, table=True):
    id: int = Field(primary_key=True)
    created_on: datetime = Field(default_factory=datetime.utcnow)
"""

COPIES = """
from app.models import Hero, Member, Project, Tag


def copies(p, t, m, h):
    Project(created=p.created)
    Project(modified_at=p.modified_at)
    Project(changed_on=p.changed_on)
    Project(due=p.due)
    Tag(created=t.created)
    Member.objects.create(date_joined=m.date_joined)
    Hero(created_on=h.created_on)
"""


def _found(root: Path) -> list[tuple[int, str, str | None]]:
    result = lint_paths([root], options=NO_CACHE)
    return [(f.line, f.code, f.field) for f in result.findings]


def test_columns_that_stamp_the_time_are_timestamp_fields(project) -> None:
    root = project({"app/__init__.py": "", "app/models.py": MODELS, "app/copies.py": COPIES})
    assert _found(root) == [
        (5, "TSL001", "created"),
        (6, "TSL001", "modified_at"),
        (7, "TSL001", "changed_on"),
        (10, "TSL001", "date_joined"),
        (11, "TSL001", "created_on"),
    ]
    index = ProjectIndex(load_config(root))
    assert field_names(index) == {
        "created_at",
        "updated_at",
        "created",
        "modified_at",
        "changed_on",
        "date_joined",
        "created_on",
    }


def test_messages_name_the_real_field(project) -> None:
    root = project({"app/__init__.py": "", "app/models.py": MODELS, "app/copies.py": COPIES})
    messages = [f.message for f in lint_paths([root], options=NO_CACHE).findings]
    assert messages[0] == (
        "Project(created=p.created) copies another record's 'created' timestamp into a new "
        "record; omit it so the column default (default=datetime.utcnow) stamps the current time"
    )
    assert "(see TSL003)" in messages[1]  # modified_at has an update hook, no insert default


def test_detection_can_be_turned_off(project) -> None:
    root = project(
        {"app/__init__.py": "", "app/models.py": MODELS, "app/copies.py": COPIES},
        config="detect-fields = false\n",
    )
    assert _found(root) == []
    assert field_names(ProjectIndex(load_config(root))) == {"created_at", "updated_at"}


def test_detect_fields_must_be_a_boolean(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.timestamp-lint]\ndetect-fields = "no"\n')
    with pytest.raises(UserError, match="key 'detect-fields' must be true or false"):
        load_config(tmp_path)


def test_detected_columns_are_not_judged_by_tsl003(project) -> None:
    # `modified_at` has an update hook and no insert default: not a configured field, so
    # TSL003 (about the configured fields) says nothing
    root = project({"app/__init__.py": "", "app/models.py": MODELS})
    assert _found(root) == []


def test_the_byte_scan_looks_for_the_declared_names(project) -> None:
    root = project({"app/__init__.py": "", "app/models.py": MODELS})
    config = load_config(root)
    prescreen = Prescreen(ProjectIndex(config), config)
    assert prescreen.scan(b"Project(created=p.created)\n").copy
    off = Prescreen(ProjectIndex(config.__class__(root=root, detect_fields=False)), config)
    assert not off.scan(b"Project(created=p.created)\n").copy


def test_single_file_run_knows_the_declared_names(project) -> None:
    root = project({"app/__init__.py": "", "app/models.py": MODELS, "app/copies.py": COPIES})
    single = lint_paths([root / "app" / "copies.py"], options=NO_CACHE)
    assert [f.line for f in single.findings] == [5, 6, 7, 10, 11]


CACHED_MODEL = """
from datetime import datetime

from sqlalchemy import Column, DateTime, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    born = Column(DateTime{default})
"""


def test_a_field_the_models_start_to_declare_rechecks_cached_results(tmp_path: Path) -> None:
    # The service never changes. Its cached result (no finding: `born` was no timestamp
    # field) must not survive the model's new clock default, and no file is read for the
    # names on a warm run.
    root = tmp_path / "p"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(CACHED_MODEL.format(default=""))
    (root / "app" / "svc.py").write_text(
        "from app.models import Flow\n\n\ndef spawn(master):\n    return Flow(born=master.born)\n"
    )
    cached = Options(cache_dir=tmp_path / "cache")
    assert lint_paths([root], options=cached).findings == []
    (root / "app" / "models.py").write_text(
        CACHED_MODEL.format(default=", default=datetime.utcnow")
    )
    found = lint_paths([root / "app" / "svc.py"], options=cached).findings  # as pre-commit
    assert [(f.code, f.line, f.field) for f in found] == [("TSL001", 5, "born")]
    whole = lint_paths([root], options=cached).findings
    assert [(f.code, f.field) for f in whole] == [("TSL001", "born")]


def test_names_are_learned_only_from_declarations_that_stamp_the_time(tmp_path: Path) -> None:
    from timestamp_lint.prefilter import candidates_in

    source = """
from sqlalchemy import Column, DateTime, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Run(Base):
    __tablename__ = "runs"
    created = Column(DateTime, default=datetime.utcnow)
    status = Column(String, default=State.unknown_now)  # the word, not the clock
"""
    # the bytes suggest both; the declarations (as the index reads them) keep one
    assert candidates_in(source.encode(), frozenset({"created_at"})) == {"created", "status"}
    root = tmp_path / "p"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\nfields = ['created_at']\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(source)
    (root / "app" / "broken.py").write_text(source.replace("Run", "Old") + "\n  def broken(:\n")
    assert field_names(ProjectIndex(load_config(root))) == {"created_at", "created"}
    (root / "app" / "models.py").write_text(source.replace("Base):", "object):"))
    assert field_names(ProjectIndex(load_config(root))) == {"created_at"}  # no model


def test_names_are_learned_only_from_models(tmp_path: Path) -> None:
    # a Pydantic schema's clock default teaches nothing: `timestamp` is no field to look for
    root = tmp_path / "p"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(CACHED_MODEL.format(default=", default=datetime.now"))
    (root / "app" / "schemas.py").write_text(
        "from datetime import datetime\n\nfrom pydantic import BaseModel, Field\n\n\n"
        "class Event(BaseModel):\n    timestamp: datetime = Field(default_factory=datetime.now)\n"
    )
    index = ProjectIndex(load_config(root))
    assert field_names(index) == {"created_at", "updated_at", "born"}


@pytest.mark.parametrize(
    ("source", "names"),
    [
        # a migration's list of operations is no column, whatever it holds
        (
            "class Migration(migrations.Migration):\n"
            "    operations = [\n"
            "        migrations.AddField(field=models.DateTimeField(default=timezone.now)),\n"
            "    ]\n",
            set(),
        ),
        # the hook belongs to the statement it is inside, not to one ended above it
        (
            "class A(models.Model):\n"
            "    flag = True\n"
            "\n"
            "    @cached_property\n"
            "    def stamp(self):\n"
            "        return self.get(default=timezone.now)\n",
            set(),
        ),
        (
            "class A(Base):\n"
            "    born = Column(\n"
            "        type_ = DateTime,\n"
            "        default=func.now(),\n"
            "    )\n",
            {"born"},
        ),
        # a function's statement is no column of a class body
        (
            "class T(TestCase):\n"
            "    def test(self):\n"
            "        response = self.client.post(url, default=timezone.now)\n",
            set(),
        ),
        # what may be inside a string, or a class in a function, stays a candidate
        (
            'class A(Base):\n    """Doc.\ndef f():\n    """\n'
            "    born = Column(default=func.now())\n",
            {"born"},
        ),
        (
            "def make():\n    class A(Base):\n        born = Column(default=func.now())\n",
            {"born"},
        ),
    ],
)
def test_candidate_names_are_declarations_a_class_body_may_hold(source, names) -> None:
    from timestamp_lint.prefilter import candidates_in

    assert candidates_in(source.encode(), frozenset({"created_at"})) == names


def test_a_method_named_like_a_field_is_no_copy(project) -> None:
    """pretix's `Invoice(date=timezone.now().astimezone(tz).date())`: `date` is a column that
    stamps the day, and `.date()` a datetime's method, not another record's field."""
    models = (
        "from django.db import models\n"
        "from django.utils.timezone import now\n\n\n"
        "def today():\n"
        "    return now().date()\n\n\n"
        "class Invoice(models.Model):\n"
        "    date = models.DateField(default=today)\n"
    )
    copies = (
        "from django.utils import timezone\n\n"
        "from app.models import Invoice\n\n\n"
        "def invoice(order, old):\n"
        "    Invoice(date=timezone.now().astimezone(order.event.timezone).date())\n"
        "    Invoice(date=timezone.now().date())\n"
        "    Invoice(date=old.date)\n"
        "    Invoice(date=old.date.replace(day=1))\n"
        "    Invoice(date=max(old.date, timezone.now().date()))\n"
    )
    root = project({"app/__init__.py": "", "app/models.py": models, "app/copies.py": copies})
    assert _found(root) == [(9, "TSL001", "date"), (10, "TSL001", "date"), (11, "TSL001", "date")]


def test_explain_shows_the_values_of_declared_fields(project) -> None:
    from timestamp_lint.config import load_config as load
    from timestamp_lint.explain import explain_line

    root = project({"app/__init__.py": "", "app/models.py": MODELS, "app/copies.py": COPIES})
    text = explain_line(root / "app" / "copies.py", 5, load(root))
    assert "created: declared in app.models.Project; default=datetime.utcnow" in text, text
    assert "created=p.created: copies p.created" in text, text


def test_a_learned_name_read_from_a_dict_is_no_copy(project) -> None:
    """sentry's `Commit.objects.create(date_added=parse_date(commit["timestamp"]))`: a name
    learned from one model's columns is any dict's key too (a webhook payload's); only a
    configured name read from a dict is taken for another record's timestamp."""
    copies = (
        "from app.models import Member, Project\n\n\n"
        "def copies(p, payload, row):\n"
        '    Project(created=payload["created"])\n'
        '    Member.objects.create(date_joined=payload["date_joined"])\n'
        "    Project(created=p.created)\n"
        '    Project(created=row["created_at"])\n'
    )
    root = project({"app/__init__.py": "", "app/models.py": MODELS, "app/copies.py": copies})
    # a configured name (`created_at`) read from a dict still is, into any timestamp field
    assert _found(root) == [(7, "TSL001", "created"), (8, "TSL001", "created")]
