"""The pure logic of the real-world oracle (benchmarks/realworld/oracle.py), without network."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks" / "realworld"))

import oracle

BINDINGS = {
    "shop.models.Order": "shop.models.Order",
    "shop.models.Line": "shop.models.Line",
    "shop.Order": "shop.models.Order",  # a re-export in shop/__init__.py
}

SERVICE = """\
from typing import TYPE_CHECKING

from . import models
from .models import Line as L
from shop import Order

if TYPE_CHECKING:
    from shop import models as lazy
else:
    lazy = LazyImport("shop.models")


def place(prev, rows):
    order = Order(number=1)
    models.Order.objects.create(number=2, created_at=prev.created_at)
    L(order=order, qty=L(qty=1))
    lazy.Line()
    session.execute(insert(models.Line).values({"qty": 3}))
    session.execute(insert(L).values(rows))
    models.Order.__table__.insert().values(number=4)
    Order.objects.filter(number=5)
    Serializer(number=6)
    return [Order(created_at=a, updated_at=b) for a, b in rows]
"""


def test_module_names():
    assert oracle.module_name("shop/models.py") == "shop.models"
    assert oracle.module_name("shop/__init__.py") == "shop"
    assert oracle.module_name("shop/sub/__init__.py") == "shop.sub"


def test_import_map_follows_relative_imports_and_keeps_the_typed_import():
    tree = ast.parse(SERVICE)
    names = oracle.import_map(tree, "shop.services", is_package=False)
    assert names["models"] == "shop.models"
    assert names["L"] == "shop.models.Line"
    assert names["Order"] == "shop.Order"
    assert names["lazy"] == "shop.models"
    pkg = oracle.import_map(ast.parse("from .models import Order\n"), "shop", is_package=True)
    assert pkg["Order"] == "shop.models.Order"


def test_import_map_binds_module_level_assignments_where_no_import_does():
    source = "from a import models\nmodels = Lazy('a')\nToken = get_token_model()\n"
    names = oracle.import_map(ast.parse(source), "m", is_package=False)
    assert names == {"models": "a.models", "Token": "m.Token"}
    site = "Token._default_manager.create(a=1)\nToken.objects.filter(a=1)\n"
    found = oracle.find_sites("m.py", source + site, {"m.Token": "app.models.Token"})
    assert [(s.line, s.kind) for s in found] == [(4, "objects.create")]


def test_import_map_last_module_level_binding_wins():
    source = "from a import Page\nfrom b import Page\ndef f():\n    from c import Other\n"
    names = oracle.import_map(ast.parse(source), "m", is_package=False)
    assert names["Page"] == "b.Page"
    assert names["Other"] == "c.Other"


def _sites(source: str = SERVICE) -> list[oracle.Site]:
    return oracle.find_sites("shop/services.py", source, BINDINGS)


def test_find_sites_kinds_and_models():
    found = [(s.line, s.kind, s.model, s.field) for s in _sites()]
    assert found == [
        (14, "constructor", "shop.models.Order", "created_at"),
        (15, "objects.create", "shop.models.Order", "updated_at"),
        (16, "constructor", "shop.models.Line", "created_at"),
        (16, "constructor", "shop.models.Line", "created_at"),
        (17, "constructor", "shop.models.Line", "created_at"),
        (18, "insert.values", "shop.models.Line", "created_at"),
        (20, "insert.values", "shop.models.Order", "created_at"),
    ]
    # The list of rows (line 19), the filter (21), the non-model (22) and the call passing
    # both fields (23) are not sites.


def test_find_sites_through_a_parameter_annotation():
    source = (
        "from shop.db import DB\n"
        "def f(db: DB, other, typed: 'DB'):\n"
        "    db.Order(number=1)\n"
        "    other.Order()\n"
        "    typed.Line()\n"
        "    db.Unknown()\n"
        "    insert(db.Line).values(qty=1)\n"
        "    def inner(db, x: DB):\n"
        "        db.Order()\n"
        "        x.Order()\n"
        "        typed.Order()\n"
    )
    attrs = {"shop.db.DB.Order": "shop.models.Order", "shop.db.DB.Line": "shop.models.Line"}
    classes = {"shop.db.DB": "shop.db.DB"}
    found = oracle.find_sites("x.py", source, BINDINGS, attr_bindings=attrs, class_bindings=classes)
    assert [(s.line, s.kind, s.model) for s in found] == [
        (3, "constructor (annotation)", "shop.models.Order"),
        (5, "constructor (annotation)", "shop.models.Line"),
        (7, "insert.values (annotation)", "shop.models.Line"),
        (10, "constructor (annotation)", "shop.models.Order"),
        (11, "constructor (annotation)", "shop.models.Order"),
    ]
    assert oracle.find_sites("x.py", source, BINDINGS) == []


def test_inject_places_each_key_where_reported_and_stays_valid_python():
    sites = _sites()
    new, placed = oracle.inject(SERVICE, sites)
    ast.parse(new)
    lines = new.splitlines()
    for site in placed:
        text = lines[site.key_line - 1][site.key_column - 1 :]
        assert text.startswith(site.field) or text.startswith(f'"{site.field}"'), site
    assert "Order(number=1, created_at=_tsl_other.created_at)" in new
    assert "created_at=prev.created_at, updated_at=_tsl_other.updated_at" in new
    assert "L(order=order, qty=L(qty=1, created_at=_tsl_other.created_at), created_at=" in new
    assert "lazy.Line(created_at=_tsl_other.created_at)" in new
    assert '.values({"qty": 3, "created_at": _tsl_other.created_at})' in new
    assert ".values(number=4, created_at=_tsl_other.created_at)" in new
    # Every line except the injected ones is unchanged.
    changed = {s.key_line for s in placed}
    old_lines = SERVICE.splitlines()
    assert len(lines) == len(old_lines)
    assert all(lines[i] == old_lines[i] for i in range(len(lines)) if i + 1 not in changed)


def test_inject_handles_trailing_commas_and_multiline_calls():
    source = "from shop.models import Order\nOrder(\n    number=1,  # one\n)\nOrder(\n)\n"
    new, placed = oracle.inject(source, oracle.find_sites("x.py", source, BINDINGS))
    ast.parse(new)
    assert "number=1, created_at=_tsl_other.created_at,  # one" in new
    assert [(s.key_line, s.key_column) for s in placed] == [(3, 15), (5, 7)]


def test_inject_rejects_two_insertions_at_one_offset():
    site = _sites()[0]
    with pytest.raises(ValueError):
        oracle.inject(SERVICE, [site, site])


def test_probe_imports_each_model_through_its_module_one_call_per_line():
    models = [
        {
            "id": "shop.models.Order",
            "module": "shop.models",
            "qualname": "Order",
            "importable": True,
        },
        {"id": "shop.x.A.B", "module": "shop.x", "qualname": "A.B", "importable": True},
        {"id": "shop.y.C", "module": "shop.y", "qualname": "f.<locals>.C", "importable": False},
    ]
    source, where = oracle.probe_source(models)
    ast.parse(source)
    lines = source.splitlines()
    assert "from shop.models import Order as _M0_Order" in lines
    assert "from shop.x import A as _M1_A" in lines
    assert sorted(where.values()) == ["shop.models.Order", "shop.x.A.B"]
    for line, model in where.items():
        assert "created_at=_tsl_other.created_at" in lines[line - 1]
        assert lines[line - 1].strip().startswith("_M0_Order(" if "Order" in model else "_M1_A.B(")


def test_reported_at_matches_new_tsl001_by_path_line_column_and_field():
    findings = [
        {"code": "TSL001", "path": "a.py", "line": 3, "column": 9, "field": "created_at"},
        {"code": "TSL003", "path": "b.py", "line": 4, "column": 1, "field": "created_at"},
    ]
    assert oracle.reported_at(findings, "a.py", 3)
    assert oracle.reported_at(findings, "a.py", 3, 9)
    assert oracle.reported_at(findings, "a.py", 3, 9, "created_at")
    assert not oracle.reported_at(findings, "a.py", 3, 9, "updated_at")
    assert not oracle.reported_at(findings, "a.py", 3, 10)
    assert not oracle.reported_at(findings, "b.py", 4)
    # A finding the untouched code had already does not count for the injection.
    assert not oracle.reported_at(findings, "a.py", 3, None, "created_at", before=findings[:1])


def test_tsl003_verdicts_compare_runtime_defaults_with_findings():
    models = [
        {
            "id": "m.Flow",
            "mro": ["m.Flow", "m.Stamped", "builtins.object"],
            "columns": [
                {"name": "created_at", "insert_default": True, "update_hook": False},
                {"name": "updated_at", "insert_default": True, "update_hook": False},
                {"name": "started", "insert_default": False, "update_hook": False},
            ],
        },
        {
            "id": "m.Ok",
            "columns": [{"name": "updated_at", "insert_default": True, "update_hook": True}],
        },
    ]
    findings = [{"code": "TSL003", "model": "m.Stamped", "field": "updated_at"}]
    verdicts = oracle.tsl003_verdicts(models, findings)
    assert [(v["model"], v["field"], v["runtime_missing"], v["agree"]) for v in verdicts] == [
        ("m.Flow", "created_at", [], True),
        ("m.Flow", "updated_at", ["update hook"], True),
        ("m.Ok", "updated_at", [], True),
    ]
    assert not oracle.tsl003_verdicts(models, [])[1]["agree"]


def _result(name: str, models: int, recognised: int, sites: int, recalled: int) -> dict:
    return {
        "name": name,
        "version": "1.0",
        "orm": "Django",
        "probe": {"total": models, "reported": recognised},
        "sites": {"total": sites, "reported": recalled, "by_annotation": 1 if sites else 0},
        "untouched": {"total": 2, "by_code": {"TSL001": 1, "TSL004": 1}},
        "tsl003": {"agree": 1, "total": 2},
        "timing": {"tsl": 0.5, "ruff": 0.25},
    }


def test_build_table_rows_and_totals():
    table = oracle.build_table([_result("a", 4, 3, 10, 10), _result("b", 1, 1, 0, 0)])
    rows = table.splitlines()
    assert rows[0].startswith("| project | ORM | runtime models | recognised |")
    assert "TSL004" in rows[0]
    assert rows[2] == (
        "| a 1.0 | Django | 4 | 3 (75%) | 10 (1 via annotation) | 10 (100%) | 2 | 1 | 1/2 "
        "| 0.50 s / 0.25 s |"
    )
    assert "| 0 | 0 (n/a) |" in rows[3]
    assert rows[4] == "| **all** | | 5 | 4 (80%) | 10 | 10 (100%) | 4 | 2 | 2/4 | |"


def test_replace_section_replaces_only_between_markers():
    text = "intro\n<!-- s -->\nold\n<!-- e -->\noutro\n"
    assert oracle.replace_section(text, "new", "<!-- s -->", "<!-- e -->") == (
        "intro\n<!-- s -->\nnew\n<!-- e -->\noutro\n"
    )
    assert oracle.replace_section("intro\n", "new", "<!-- s -->", "<!-- e -->") == (
        "intro\n\n<!-- s -->\nnew\n<!-- e -->\n"
    )


def test_allowed_by_default_mirrors_the_default_allow_globs():
    assert oracle.allowed_by_default("app/migrations/0001_initial.py")
    assert oracle.allowed_by_default("app/alembic/versions/x.py")
    assert oracle.allowed_by_default("app/scripts/backfill_users.py")
    assert oracle.allowed_by_default("app/serializers.py")
    assert oracle.allowed_by_default("app/tests/test_views.py")
    assert oracle.allowed_by_default("app/conftest.py")
    assert not oracle.allowed_by_default("app/services.py")
    assert not oracle.allowed_by_default("app/testing.py")
    revision = 'from alembic import op\nrevision = "b"\ndown_revision = "a"\n'
    assert oracle.allowed_by_default("app/_migrations/versions/b.py", revision)
    assert not oracle.allowed_by_default("app/_migrations/versions/b.py", "x = 1\n")


SAMPLE_MODELS = """\
from sqlalchemy import Column, DateTime, Integer, event, func
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Flow(Base):
    __tablename__ = "flow"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime, server_default=func.now())


class Step(Base):
    __tablename__ = "step"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime)
    updated_at = Column(DateTime, default=func.now(), onupdate=func.now())


class Hooked(Base):
    __tablename__ = "hooked"
    id = Column(Integer, primary_key=True)
    updated_at = Column(DateTime, default=func.now())


@event.listens_for(Hooked, "before_update")
def _stamp(mapper, connection, target):
    target.updated_at = func.now()


class DB:
    @property
    def Flow(self) -> type[Flow]:
        return Flow
"""


def test_truth_script_reads_models_columns_hooks_and_bindings(tmp_path):
    """truth.py end to end on a tiny SQLAlchemy package (no network, this interpreter)."""
    import json
    import subprocess

    pytest.importorskip("sqlalchemy")
    pkg = tmp_path / "oracle_sample"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .models import Flow\n")
    (pkg / "models.py").write_text(SAMPLE_MODELS)
    (pkg / "broken.py").write_text("import not_a_module_anywhere_xyz\n")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"packages": ["oracle_sample"], "kind": "sqlalchemy"}))
    out = tmp_path / "out.json"
    truth = Path(__file__).resolve().parent.parent / "benchmarks" / "realworld" / "truth.py"
    subprocess.run(
        [sys.executable, str(truth), str(config), str(out)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True,
        timeout=120,
    )
    result = json.loads(out.read_text())
    assert result["imports"]["imported"] == 2
    assert list(result["imports"]["failed"]) == ["oracle_sample.broken"]
    models = {m["id"]: m for m in result["models"]}
    assert sorted(models) == [
        "oracle_sample.models.Flow",
        "oracle_sample.models.Hooked",
        "oracle_sample.models.Step",
    ]
    assert models["oracle_sample.models.Flow"]["file"] == "oracle_sample/models.py"
    cols = {
        (mid, c["name"]): (c["insert_default"], c["update_hook"])
        for mid, m in models.items()
        for c in m["columns"]
    }
    assert cols[("oracle_sample.models.Flow", "updated_at")] == (True, False)
    assert cols[("oracle_sample.models.Step", "created_at")] == (False, False)
    assert cols[("oracle_sample.models.Step", "updated_at")] == (True, True)
    assert cols[("oracle_sample.models.Hooked", "updated_at")] == (True, True)  # the listener
    assert result["bindings"]["oracle_sample.Flow"] == "oracle_sample.models.Flow"
    assert result["attr_bindings"] == {"oracle_sample.models.DB.Flow": "oracle_sample.models.Flow"}
    assert result["class_bindings"] == {"oracle_sample.models.DB": "oracle_sample.models.DB"}
    verdicts = oracle.tsl003_verdicts(result["models"], [])
    assert [
        (v["model"].rsplit(".", 1)[-1], v["field"], v["runtime_missing"]) for v in verdicts
    ] == [
        ("Flow", "created_at", []),
        ("Flow", "updated_at", ["update hook"]),
        ("Hooked", "updated_at", []),
        ("Step", "created_at", ["insert default"]),
        ("Step", "updated_at", []),
    ]


def test_a_missed_site_carries_the_linters_own_reason(tmp_path) -> None:
    """The report names why `explain` says a recognised model's site is not reported."""
    import importlib.util
    import shutil

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "realworld" / "run.py"
    spec = importlib.util.spec_from_file_location("realworld_run", script)
    assert spec and spec.loader
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    linter = shutil.which("timestamp-lint")
    assert linter is not None
    (tmp_path / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    (tmp_path / "models.py").write_text(
        "from sqlalchemy import Column, DateTime, Integer, func\n"
        "from sqlalchemy.orm import declarative_base\n\n"
        "Base = declarative_base()\n\n\n"
        "class Flow(Base):\n"
        '    __tablename__ = "flows"\n'
        "    id = Column(Integer, primary_key=True)\n"
        "    created_at = Column(DateTime, server_default=func.now())\n"
    )
    (tmp_path / "services.py").write_text(
        "from models import Flow\n\n\n"
        "def snapshot(old, changed):\n"
        "    before = Flow(\n"
        "        created_at=old.created_at,\n"
        "    )\n"
        "    if before:\n"
        "        changed.send(Flow, before=before)\n"
        "    return Flow(created_at=old.created_at)  # noqa\n"
    )
    venv = Path(sys.prefix)
    assert run.why_silent(linter, tmp_path, venv, "services.py", 6) == (
        "the record is an in-memory snapshot, never saved: it is only tested and passed to "
        "a signal's send()"
    )
    assert run.why_silent(linter, tmp_path, venv, "services.py", 10) == (
        "a `# noqa` comment on line 10"
    )
    assert run.why_silent(linter, tmp_path, venv, "services.py", 1) == ""
