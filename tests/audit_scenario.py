"""The demo project's code path run against a real database, with the application's clock
under control: test code for the audit tests (imports the demo's models, never the linter's
business)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .conftest import FIXTURES

AHEAD = 4.0  # seconds: how far ahead the clock of the host that stamped some masters runs

# Runs with the demo project as the current folder. argv: URL, number of masters 10 days
# old, number of masters stamped by a host whose clock runs AHEAD seconds ahead.
SCENARIO = """
import json, sys
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.db import Base
from app.models import DiscoveryFlow
from app.services.flows import complete_flow, create_child_flow

url, old, ahead, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
Base.metadata.create_all(engine)
now = datetime.now(timezone.utc)
made = {"masters": [], "children": [], "latest": now.isoformat()}
with Session(engine) as session:
    def spawn(stamp, name):
        # a master the application stamped itself, then the service's child-creation path
        master = DiscoveryFlow(flow_id=name, status="completed", created_at=stamp, updated_at=stamp)
        session.add(master)
        session.commit()
        child = create_child_flow(session, master)
        complete_flow(session, child)
        made["masters"].append(master.id)
        made["children"].append(child.id)
    stamp = now + timedelta(seconds=seconds)
    for number in range(ahead):
        spawn(stamp, f"ahead-{number}")
    made["latest"] = max(now, stamp).isoformat()
    for number in range(old):
        spawn(now - timedelta(days=10, minutes=number), f"old-{number}")
engine.dispose()
print(json.dumps(made))
"""


def demo_copy(folder: Path) -> Path:
    project = folder / "demo"
    shutil.copytree(FIXTURES / "demo", project)
    return project


def run_scenario(project: Path, url: str, old: int, ahead: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO, url, str(old), str(ahead), str(AHEAD)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_until_past(moment: str) -> datetime:
    """Sleep until the clock has passed `moment` and reached a whole second (bounded by
    AHEAD + 2 s); returns that second. Whole, because SQLite's CURRENT_TIMESTAMP has whole
    seconds: a row stamped later in the same second would read as earlier than the moment."""
    deadline = datetime.fromisoformat(moment)
    second = deadline.replace(microsecond=0) + timedelta(seconds=1)
    remaining = (second - datetime.now(timezone.utc)).total_seconds()
    assert remaining <= AHEAD + 2
    if remaining > 0:
        time.sleep(remaining + 0.05)
    return second


def audit(*args: str) -> tuple[int, str, str]:
    """Run `timestamp-lint audit ARGS` in this process: exit code, stdout, stderr."""
    from click.testing import CliRunner

    from timestamp_lint.audit.command import audit as audit_command

    try:  # click < 8.2 mixes stderr into stdout unless told not to
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps them apart and has no such option
        runner = CliRunner()
    result = runner.invoke(audit_command, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr
