from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
EXPECT_RE = re.compile(r"#\s*expect:\s*((?:TSL\d{3}\s*)+)")


def expected_markers(project: Path) -> Counter:
    """(path, line, code) for every `# expect: TSL001 [TSL001 ...]` marker under `project`."""
    found: Counter = Counter()
    for path in sorted(project.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = EXPECT_RE.search(line)
            if match:
                for code in match.group(1).split():
                    found[(path.relative_to(project).as_posix(), number, code)] += 1
    return found


def cli(root: Path, *args: str, timeout: float = 60, script: str | None = None):
    """Run the command line (or `script`, a Python program that ends by calling it) in its
    own process group; the whole group is killed and the test fails if it outlives
    `timeout` seconds."""
    runner = ["-c", script] if script else ["-m", "timestamp_lint"]
    command = [sys.executable, *runner, *args]
    process = subprocess.Popen(
        command,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"timestamp-lint {' '.join(args)} did not end within {timeout} s")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Create files (dedented) under `root`; returns `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def run_cli(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "timestamp_lint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path):
    """Write a small project: `project({"pkg/models.py": "..."})`; it gets its own config."""

    def make(files: dict[str, str], config: str = "") -> Path:
        files = {"pyproject.toml": f"[tool.timestamp-lint]\n{config}", **files}
        return write_project(tmp_path, files)

    return make


def remove_reported(tree: ast.Module, spots: set[tuple[int, int]]) -> None:
    """Delete from `tree` the keyword arguments, dict entries and statements that start at
    `spots` ((line, UTF-8 byte column), as `ast` counts); an emptied block gets `pass`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            node.keywords = [k for k in node.keywords if (k.lineno, k.col_offset) not in spots]
        elif isinstance(node, ast.Dict):
            pairs = [
                (k, v)
                for k, v in zip(node.keys, node.values, strict=True)
                if k is None or (k.lineno, k.col_offset) not in spots
            ]
            node.keys = [k for k, _ in pairs]
            node.values = [v for _, v in pairs]
        for name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                kept = [s for s in value if (s.lineno, s.col_offset) not in spots]
                if not kept and not isinstance(node, ast.Module):
                    kept = [ast.Pass()]
                setattr(node, name, kept)


def modules_loaded_by_a_plain_run(tmp_path: Path, warm: bool = False) -> set[str]:
    """The modules a fresh interpreter has loaded after linting one file that holds no
    finding (`tmp_path/plain.py`, outside any git work tree): without the cache, or (`warm`)
    with the cache an earlier run filled."""
    (tmp_path / "plain.py").write_text("def f(x):\n    return x.created_at\n")
    options = "" if warm else ", '--no-cache'"
    if warm:  # a project (a folder without one is never cached)
        (tmp_path / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    code = (
        "import sys\n"
        "from timestamp_lint.cli import main\n"
        "try:\n"
        f"    main([{str(tmp_path)!r}{options}])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    for _ in range(2 if warm else 1):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return set(done.stdout.strip().splitlines()[-1].split())
