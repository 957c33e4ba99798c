"""The bug and its fix against a real database: SQLAlchemy on SQLite, with the demo project."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from .conftest import FIXTURES, run_cli

pytest.importorskip("sqlalchemy")

SCENARIO = """
import json
from datetime import datetime

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.db import Base
from app.models import DiscoveryFlow
from app.services.flows import complete_flow, create_child_flow

engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
with Session(engine) as session:
    old = datetime(2020, 1, 1, 12, 0, 0)
    master = DiscoveryFlow(flow_id="f-1", status="completed", created_at=old, updated_at=old)
    session.add(master)
    session.commit()
    child = create_child_flow(session, master)
    session.refresh(child)
    created = child.created_at
    complete_flow(session, child)
    session.refresh(child)
    print(json.dumps({
        "master": master.created_at.isoformat(),
        "child_created": created.isoformat(),
        "child_updated": child.updated_at.isoformat(),
    }))
"""


def _utcnow() -> datetime:
    """Naive UTC, as SQLite's CURRENT_TIMESTAMP comes back."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _run_scenario(project: Path) -> dict[str, datetime]:
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {k: datetime.fromisoformat(v) for k, v in json.loads(done.stdout).items()}


def test_fix_makes_child_flows_stamp_the_current_time(tmp_path: Path) -> None:
    project = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", project)

    buggy = _run_scenario(project)
    assert buggy["child_created"] == buggy["master"]  # the child claims the master's age

    fixed_run = run_cli("--fix", ".", cwd=project)
    assert fixed_run.returncode == 0, fixed_run.stdout + fixed_run.stderr
    assert "Fixed 2 findings (0 remaining)." in fixed_run.stdout

    started = _utcnow().replace(microsecond=0)
    fixed = _run_scenario(project)
    assert started - timedelta(seconds=5) <= fixed["child_created"]
    assert fixed["child_created"] <= _utcnow() + timedelta(seconds=5)
    assert fixed["child_created"] != fixed["master"]
    assert fixed["child_updated"] >= fixed["child_created"]
