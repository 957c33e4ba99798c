"""The README's install and pre-commit snippets, followed literally: each is taken out of
README.md and run, with the repository URL pointing at this checkout (no network here) and
the `rev` placeholder replaced by what it asks for, a commit sha of this repository."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, run_cli, write_project
from .test_pre_commit import MODELS, SERVICE

URL = "https://github.com/timestamp-lint/timestamp-lint"
README = (REPO / "README.md").read_text(encoding="utf-8")

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(),
    reason="needs git and this repository's git checkout",
)


def _section(title: str) -> str:
    return README.split(f"\n{title}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


def _head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")  # shared: one hook environment
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    env.pop("NO_COLOR", None)
    return env


def _project(root: Path, env: dict[str, str]) -> Path:
    write_project(
        root,
        {
            "pyproject.toml": "[tool.timestamp-lint]\n",
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/service.py": SERVICE,
            # an extensionless script with a Python shebang: a whole-tree run skips it,
            # and the hooks must too
            "bin/spawn": "#!/usr/bin/env python3\n" + SERVICE,
        },
    )
    (root / "bin/spawn").chmod(0o755)
    subprocess.run(["git", "-c", "init.defaultBranch=main", "init", "-q"], cwd=root, env=env)
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
    return root


def _findings(text: str) -> list[str]:
    return sorted(re.findall(r"^\S+:\d+:\d+: TSL\d{3}", text, re.MULTILINE))


def test_install_snippet(tmp_path: Path) -> None:
    (block,) = _blocks(_section("## Install"), "bash")
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands[0] == f"pip install git+{URL}"
    assert commands[1] == "pip install ."
    target = tmp_path / "site"
    # the first command, with this checkout's URL (and no dependencies: they are installed)
    line = commands[0].replace(URL, (REPO).as_uri())
    argv = [sys.executable, "-m", *shlex.split(line), "--no-deps", "--target", str(target)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    version = subprocess.run(
        [sys.executable, "-c", "import timestamp_lint; print(timestamp_lint.__file__)"],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert version.stdout.startswith(str(target)), version.stdout + version.stderr


def test_pre_commit_snippet_with_a_commit_sha(tmp_path: Path, env: dict[str, str]) -> None:
    section = _section("### pre-commit")
    config = next(b for b in _blocks(section, "yaml") if "repos:" in b)
    assert "rev: <a commit sha or tag of this repository>" in config
    config = config.replace(URL, str(REPO)).replace(
        "<a commit sha or tag of this repository>", _head()
    )
    project = _project(tmp_path / "project", env)
    (project / ".pre-commit-config.yaml").write_text(config)
    subprocess.run(["git", "add", "-A"], cwd=project, env=env, check=True)
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color=never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    whole_tree = run_cli("--no-cache", cwd=project)
    assert _findings(done.stdout) == _findings(whole_tree.stdout) == ["app/service.py:5:26: TSL001"]


def test_pre_commit_try_repo_snippet(tmp_path: Path, env: dict[str, str]) -> None:
    section = _section("### pre-commit")
    (block,) = _blocks(section, "bash")
    (line,) = [line for line in block.splitlines() if line.strip()]
    argv = shlex.split(line.replace("path/to/timestamp-lint", str(REPO)))
    assert argv[:2] == ["pre-commit", "try-repo"]
    project = _project(tmp_path / "project", env)
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", *argv[1:], "--color=never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert _findings(done.stdout) == ["app/service.py:5:26: TSL001"]  # not bin/spawn
