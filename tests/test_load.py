"""Load: a generated project of 30,000 small files.

Most files never mention a timestamp field, a few hundred read one (DTOs, filters, plain
reads), and a handful copy one into a new record. The run must end, report exactly the
handful, stay under 300 MB of peak RSS (`ru_maxrss` of the finished command, measured by a
wrapper process so nothing else the test session ran is counted), and print byte-identical
output on every run: cold cache, warm cache, without the cache, and (when the command line
has `--jobs`) with one worker and with two.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import run_cli

FILES = 30_000
PACKAGES = 300
BUGS = [(7, 3), (42, 0), (99, 98), (150, 50), (211, 7), (256, 64), (299, 98)]
READERS_EVERY = 97  # about 300 files mention a field without copying it
PEAK_RSS_LIMIT_MB = 300

MODELS = """from sqlalchemy import Column, DateTime, Integer, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime, server_default=func.now(), onupdate=func.now())
"""
SCHEMAS = """from datetime import datetime

from pydantic import BaseModel


class FlowOut(BaseModel):
    id: int
    created_at: datetime
"""
PLAIN = "def f_{n}(x):\n    y = x * {n}\n    return y + 1\n"
READERS = [
    "from app.schemas import FlowOut\n\n\ndef out_{n}(flow):\n"
    "    return FlowOut(id=flow.id, created_at=flow.created_at)\n",
    "from app.models import Flow\n\n\ndef recent_{n}(session, since):\n"
    "    return session.query(Flow).filter(Flow.created_at > since).all()\n",
    "def age_{n}(flow, now):\n    return now - flow.created_at\n",
    "from app.models import Flow\n\n\ndef fresh_{n}(m):\n    return Flow(id=m.id)\n",
]
BUG = (
    "from app.models import Flow\n\n\ndef copy_{n}(m):\n"
    "    return Flow(id=m.id, created_at=m.created_at)\n"
)

CLI = (sys.executable, "-m", "timestamp_lint")
# Runs a command and reports its exit code and peak RSS (KiB on Linux) as JSON.
MEASURE = """
import json, resource, subprocess, sys

out, err, *command = sys.argv[1:]
with open(out, "wb") as stdout, open(err, "wb") as stderr:
    code = subprocess.run(command, stdout=stdout, stderr=stderr).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "maxrss_kib": usage.ru_maxrss}))
"""


def generate(root: Path, packages: int = PACKAGES) -> list[str]:
    """Write the project; returns the expected findings as 'path:line:col: CODE'."""
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    app = root / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(MODELS)
    (app / "schemas.py").write_text(SCHEMAS)
    bugs = set(BUGS)
    expected = []
    n = 0
    column = BUG.splitlines()[4].index("created_at=") + 1
    for p in range(packages):
        package = app / f"pkg{p:03d}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        for f in range(FILES // PACKAGES - 1):
            n += 1
            if (p, f) in bugs:
                text = BUG.format(n=n)
                expected.append(f"app/pkg{p:03d}/mod{f:03d}.py:5:{column}: TSL001")
            elif n % READERS_EVERY == 0:
                text = READERS[n // READERS_EVERY % len(READERS)].format(n=n)
            else:
                text = PLAIN.format(n=n)
            (package / f"mod{f:03d}.py").write_text(text)
    return sorted(expected)


def measured(root: Path, *args: str, name: str) -> tuple[int, float, bytes, str, float]:
    """Run the command line under the measuring wrapper: (exit code, peak RSS in MB,
    stdout, stderr, seconds)."""
    out, err = root.parent / f"{name}.out", root.parent / f"{name}.err"
    started = time.monotonic()
    wrapper = subprocess.run(
        [sys.executable, "-c", MEASURE, str(out), str(err), *CLI, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.monotonic() - started
    assert wrapper.returncode == 0, wrapper.stderr
    report = json.loads(wrapper.stdout)
    return (
        report["code"],
        report["maxrss_kib"] / 1024,
        out.read_bytes(),
        err.read_text(errors="replace"),
        seconds,
    )


def test_30000_files(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    started = time.monotonic()
    expected = generate(root)
    generation = time.monotonic() - started
    assert len(list(root.rglob("*.py"))) == FILES + 3
    assert generation < 30, f"generating the tree took {generation:.1f} s"

    options = run_cli("--help", cwd=root).stdout
    runs = [("cold", ()), ("warm", ())]
    if "--no-cache" in options:
        runs.append(("no-cache", ("--no-cache",)))
    if "--jobs" in options:
        runs += [
            ("jobs-1", ("--no-cache", "--jobs", "1")),
            ("jobs-2", ("--no-cache", "--jobs", "2")),
        ]
    outputs = {}
    timings = {}
    peaks = {}
    for name, extra in runs:
        code, rss_mb, stdout, stderr, seconds = measured(
            root, "--output-format", "concise", "-q", *extra, name=name
        )
        assert code == 1, stderr
        assert "Traceback" not in stderr
        assert rss_mb < PEAK_RSS_LIMIT_MB, f"{name}: peak RSS {rss_mb:.0f} MB"
        outputs[name] = stdout
        timings[name] = round(seconds, 1)
        peaks[name] = round(rss_mb)
    found = [" ".join(line.split(" ")[:2]) for line in outputs["cold"].decode().splitlines()]
    assert found == expected
    for name, stdout in outputs.items():
        assert stdout == outputs["cold"], f"{name} output differs from the first run"
    print(f"generation {generation:.1f} s; seconds {timings}; peak RSS MB {peaks}")


@pytest.mark.parametrize("output_format", ["json", "sarif"])
def test_30000_files_structured_output_is_deterministic(tmp_path: Path, output_format: str) -> None:
    """Structured formats too are byte-identical from run to run (here on a tenth of the
    tree: the big run above covers scale)."""
    root = tmp_path / "mid"
    root.mkdir()
    generate(root, packages=PACKAGES // 10)
    first = run_cli("--output-format", output_format, "--no-cache", cwd=root)
    second = run_cli("--output-format", output_format, cwd=root)
    third = run_cli("--output-format", output_format, cwd=root)
    assert first.returncode == second.returncode == third.returncode == 1, first.stderr
    assert first.stdout == second.stdout == third.stdout
