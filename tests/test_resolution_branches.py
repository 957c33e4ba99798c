"""Names bound differently on a module's branches (`if/elif/else`, `try/except`): a class
whose base is a model on every branch is a model; its inherited columns are known only
where every branch declares them alike."""

from __future__ import annotations

import shutil
from pathlib import Path

from timestamp_lint.config import load_config
from timestamp_lint.index import ChoiceSym, ClassSym, Kind, ProjectIndex

from .conftest import FIXTURES, cli

BRANCHES = FIXTURES / "resolution_branches"


def _index() -> ProjectIndex:
    return ProjectIndex(load_config(BRANCHES))


def _class(index: ProjectIndex, module: str, name: str):
    summary = index.summary(index.find_module(module, None))
    symbol = index.lookup(summary, name)
    assert isinstance(symbol, ClassSym), symbol
    return symbol.cls


def test_a_base_bound_to_a_different_model_per_branch_makes_a_model() -> None:
    index = _index()
    summary = index.summary(index.find_module("flows.runs", None))
    base = index.lookup(summary, "RunBase")  # the `RunBase = None` branch is dropped
    assert isinstance(base, ChoiceSym)
    assert [o.cls.name for o in base.options] == ["PostgresRunBase", "SQLiteRunBase"]
    assert index.model_class(base) is None  # a call through it names no single model
    assert index.class_kind(_class(index, "flows.runs", "Run")) is Kind.MODEL


def test_a_model_on_one_branch_only_is_no_model_base() -> None:
    index = _index()
    assert index.class_kind(_class(index, "flows.runs", "Report")) is Kind.NONE


def test_inherited_columns_are_those_every_branch_declares_alike() -> None:
    index = _index()
    columns = index.model_info(_class(index, "flows.runs", "Run")).columns
    assert set(columns) == {"created_at"}  # updated_at stamps on one branch only
    assert columns["created_at"].stamps_now
    assert columns["created_at"].owner == "flows.runs.PostgresRunBase or flows.runs.SQLiteRunBase"


def test_explain_shows_each_branch_of_a_base() -> None:
    done = cli(BRANCHES, "explain", "flows/reruns.py:7")
    assert done.returncode == 0, done.stderr
    assert "base RunBase is bound on branches, one of 2:" in done.stdout
    assert "class flows.runs.SQLiteRunBase (flows/runs.py:20): a model" in done.stdout


def test_only_the_column_every_branch_stamps_is_fixed(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(BRANCHES, copy)
    done = cli(copy, "--no-cache", "--fix", "flows/reruns.py")
    assert done.returncode == 1, done.stderr  # the unsafe fix stays a finding
    fixed = (copy / "flows" / "reruns.py").read_text()
    assert "run = Run(updated_at=old.updated_at)" in fixed, fixed
