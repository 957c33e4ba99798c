"""The real pre-commit runs our hooks from this repository (`pre-commit try-repo`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, write_project

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(),
    reason="needs git and this repository's git checkout",
)

MODELS = """
from sqlalchemy import Column, DateTime, Integer, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, server_default=func.now())
"""
SERVICE = """
from app.models import Flow


def spawn(master):
    return Flow(id=None, created_at=master.created_at)
"""


def _run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_hooks_fail_then_fix_then_pass(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        {"app/__init__.py": "", "app/models.py": MODELS, "app/service.py": SERVICE},
    )
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    env.pop("NO_COLOR", None)
    git = ("git", "-c", "init.defaultBranch=main")
    _run(*git, "init", "-q", cwd=project, env=env)
    _run("git", "add", "-A", cwd=project, env=env)
    pre_commit = (sys.executable, "-m", "pre_commit", "try-repo", str(REPO))

    check = _run(
        *pre_commit, "timestamp-lint", "--all-files", "--color=never", cwd=project, env=env
    )
    assert check.returncode == 1, check.stdout + check.stderr
    assert "app/service.py:5:26: TSL001 Flow(created_at=master.created_at)" in check.stdout

    fix = _run(
        *pre_commit, "timestamp-lint-fix", "--all-files", "--color=never", cwd=project, env=env
    )
    assert "files were modified by this hook" in fix.stdout, fix.stdout + fix.stderr
    assert "created_at" not in (project / "app/service.py").read_text()

    _run("git", "add", "-A", cwd=project, env=env)
    again = _run(
        *pre_commit, "timestamp-lint", "--all-files", "--color=never", cwd=project, env=env
    )
    assert again.returncode == 0, again.stdout + again.stderr
