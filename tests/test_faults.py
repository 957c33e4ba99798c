"""Faults during --fix: the process killed at random moments, files and folders that cannot
be written, a full disk. A file is always either exactly as it was or exactly fixed."""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import pytest

from timestamp_lint.api import fix_paths

from .conftest import FIXTURES, REPO

TEMPLATES = [
    # four safe fixes: two keyword arguments, a multi-line argument and an assignment
    """from app.models import Flow


def make_{i}(m):
    child = Flow(name=m.name, created_at=m.created_at, updated_at=m.updated_at)
    other = Flow(
        name=m.name,
        created_at=m.created_at,  # copied
    )
    child.updated_at = m.updated_at
    return child, other
""",
    # three safe fixes: dict entries and a setattr
    """from app.models import Flow


def make_{i}(m):
    child = Flow(**{{"name": m.name, "created_at": m.created_at, "updated_at": m.updated_at}})
    setattr(child, "created_at", m.created_at)
    return child
""",
    # three safe fixes in a Django call and a Core insert
    """from sqlalchemy import insert

from app.django_models import Event
from app.models import Flow


def make_{i}(session, m):
    Event.objects.create(name=m.name, created_at=m.created_at, updated_at=m.updated_at)
    session.execute(insert(Flow).values(name=m.name, created_at=m.created_at))
""",
]
FILES = 300


def make_tree(root: Path) -> Path:
    shutil.copytree(FIXTURES / "fixes", root)
    bulk = root / "app" / "bulk"
    bulk.mkdir()
    (bulk / "__init__.py").write_text("")
    for i in range(FILES):
        text = TEMPLATES[i % len(TEMPLATES)].format(i=i)
        (bulk / f"m{i:03d}.py").write_text(text)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.py"))
        if ".timestamp_lint_cache" not in p.parts
    }


def temp_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.tsl-tmp"))


def start(root: Path, *args: str, script: str | None = None, **kwargs) -> subprocess.Popen:
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "timestamp_lint"]
    return subprocess.Popen(
        [*command, *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # the run and any worker processes it forks: one group
        **kwargs,
    )


def kill_group(process: subprocess.Popen) -> None:
    with_group = True
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        with_group = False
    process.communicate(timeout=60)
    if with_group:  # workers are gone too: nothing writes after this point
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            pytest.fail("processes of the killed run are still alive")


def complete(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    process = start(root, "--fix", *args)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        pytest.fail("--fix did not end")
    assert b"Traceback" not in stderr, stderr.decode()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict, float]:
    """The original tree, its files, the files after one uninterrupted --fix, and how long
    that run took."""
    base = tmp_path_factory.mktemp("faults")
    original = make_tree(base / "original")
    fixed = base / "fixed"
    shutil.copytree(original, fixed)
    started = time.monotonic()
    result = complete(fixed)
    duration = time.monotonic() - started
    assert result.returncode == 1  # the unsafe and lookup findings remain
    before, after = snapshot(original), snapshot(fixed)
    changed = [name for name in before if before[name] != after[name]]
    assert len(changed) >= FILES, "every generated file has safe fixes"
    assert temp_files(fixed) == []
    return original, before, after, duration


def test_sigkill_at_random_moments_never_leaves_a_partial_file(
    trees: tuple[Path, dict, dict, float], tmp_path: Path
) -> None:
    original, before, after, duration = trees
    work = tmp_path / "work"
    shutil.copytree(original, work)
    rng = random.Random(20240607)
    to_fix = sum(1 for name in before if before[name] != after[name])
    progress = []  # files fixed after each kill
    leftovers: set[str] = set()
    for _ in range(6):
        process = start(work, "--fix")
        time.sleep(rng.uniform(0.05, 0.3) * duration)
        kill_group(process)
        now = snapshot(work)
        assert now.keys() == before.keys()
        partial = [n for n in now if now[n] not in (before[n], after[n])]
        assert partial == [], f"files neither original nor fixed: {partial[:5]}"
        progress.append(sum(1 for n in now if now[n] == after[n] != before[n]))
        leftovers.update(temp_files(work))
    print(f"files fixed after each kill: {progress} of {to_fix}")
    assert any(0 < done < to_fix for done in progress), (
        f"no kill landed while files were being fixed: {progress} of {to_fix}"
    )
    result = complete(work)
    assert result.returncode == 1
    assert snapshot(work) == after
    # the complete run itself leaves no temporary file behind (cleaning up those of killed
    # runs is test_temporary_files_of_a_killed_run_are_cleaned_up)
    assert set(temp_files(work)) <= leftovers


# Runs the command line with the analysis of `poison.py` crashing its process, as a crash in
# native code (LibCST's parser, say) would.
POISON = """
import os, signal, sys
from pathlib import Path
from timestamp_lint import engine
from timestamp_lint.cli import main

real_lint_file = engine.Engine.lint_file


def lint_file(self, path, *args, **kwargs):
    if Path(path).name == "poison.py":
        os.kill(os.getpid(), signal.SIGSEGV)
    return real_lint_file(self, path, *args, **kwargs)


engine.Engine.lint_file = lint_file
main(sys.argv[1:])
"""


@pytest.mark.parametrize("fix", [False, True], ids=["lint", "fix"])
def test_a_worker_crash_costs_only_its_file(
    trees: tuple[Path, dict, dict, float], tmp_path: Path, fix: bool
) -> None:
    original, before, after, _ = trees
    work = tmp_path / "work"
    shutil.copytree(original, work)
    poison = work / "app" / "bulk" / "poison.py"
    poison.write_text(TEMPLATES[0].format(i="poison"))
    args = ["--output-format", "concise", "--jobs", "2", "--no-cache"]
    process = start(work, *args, *(["--fix"] if fix else []), script=POISON, text=True)
    try:
        stdout, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        kill_group(process)
        pytest.fail("the run did not end")
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert stderr == "", "no file is reported as unwritable"
    poisoned = [line for line in stdout.splitlines() if "poison.py" in line]
    assert poisoned == [
        "app/bulk/poison.py:1:1: TSL999 Cannot analyse file: the analysis "
        "crashed its worker process"
    ]
    assert poison.read_text() == TEMPLATES[0].format(i="poison")
    now = snapshot(work)
    del now["app/bulk/poison.py"]
    if fix:
        assert now == after
    else:
        assert now == before
        reported = {line.split(":")[0] for line in stdout.splitlines() if ": TSL" in line}
        assert {f"app/bulk/m{i:03d}.py" for i in range(FILES)} <= reported


# Runs the command line with os.fsync stalled: the first temporary file is written but never
# renamed; the marker file says so, and the test kills the run right then.
STALLED_FSYNC = """
import os, sys, time
from pathlib import Path


def fsync(fd):
    Path(os.environ["TSL_MARKER"]).touch()
    time.sleep(600)


os.fsync = fsync
from timestamp_lint.cli import main

main(sys.argv[1:])
"""


def _killed_in_the_middle_of_a_write(root: Path) -> None:
    marker = root.parent / "stalled"
    process = start(
        root, "--fix", script=STALLED_FSYNC, env={**os.environ, "TSL_MARKER": str(marker)}
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            kill_group(process)
            pytest.fail("the run never reached a write")
        time.sleep(0.02)
    kill_group(process)


def test_temporary_files_of_a_killed_run_are_cleaned_up(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shutil.copytree(FIXTURES / "fixes", root)
    before = snapshot(root)
    _killed_in_the_middle_of_a_write(root)
    if not temp_files(root):
        pytest.fail("precondition: the killed run should have left a temporary file")
    assert snapshot(root) == before  # nothing was renamed over a source file
    result = complete(root)
    assert result.returncode == 1
    assert temp_files(root) == []


# --------------------------------------------------------------------------- full disk


class _FailingWrites:
    """A file object whose writes fail like a full disk."""

    def __init__(self, handle) -> None:
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str):
        return getattr(self.handle, name)


def _fail(code: int):
    def boom(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return boom


FAULTS = {
    "mkstemp: no space": (tempfile, "mkstemp", errno.ENOSPC),
    "write: no space": (os, "fdopen", errno.ENOSPC),
    "fsync: no space": (os, "fsync", errno.ENOSPC),
    "fsync: I/O error": (os, "fsync", errno.EIO),
    "chmod: not permitted": (os, "chmod", errno.EPERM),
    "replace: read-only file system": (os, "replace", errno.EROFS),
    "mkstemp: permission denied (read-only folder)": (tempfile, "mkstemp", errno.EACCES),
}


@pytest.fixture
def fixes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fixes"
    shutil.copytree(FIXTURES / "fixes", root)
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize("fault", list(FAULTS))
def test_write_fault_is_one_error_line_and_the_file_is_unchanged(
    fixes: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    module, name, code = FAULTS[fault]
    target = fixes / "app" / "cases" / "kwargs.py"
    other = fixes / "app" / "cases" / "statements.py"
    original = target.read_bytes()
    if name == "fdopen":
        real_fdopen = os.fdopen
        monkeypatch.setattr(os, "fdopen", lambda *a, **k: _FailingWrites(real_fdopen(*a, **k)))
    else:
        monkeypatch.setattr(module, name, _fail(code))
    result = fix_paths([target, other])  # the disk is full for the cache too: no crash
    monkeypatch.undo()
    assert len(result.errors) == 2, result.errors
    error = result.errors[0]
    assert error.startswith("app/cases/kwargs.py: ") and "\n" not in error
    assert os.strerror(code) in error
    assert target.read_bytes() == original
    assert result.fixed == 0
    assert {f.path.name for f in result.findings} == {"kwargs.py", "statements.py"}
    assert temp_files(fixes) == []
    assert fix_paths([target]).fixed > 0  # space again: it is fixed normally


DISK_FULL = """
import errno, os, sys


def fsync(fd):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


os.fsync = fsync
from timestamp_lint.cli import main

main(sys.argv[1:])
"""


def test_disk_full_on_the_command_line(fixes: Path) -> None:
    before = snapshot(fixes)
    process = start(fixes, "--fix", script=DISK_FULL, text=True)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert lines, "each file that could not be written is named on stderr"
    assert all(line.startswith("timestamp-lint: ") for line in lines), stderr
    assert all(os.strerror(errno.ENOSPC) in line for line in lines), stderr
    named = {line.split(": ")[2] for line in lines}
    assert "app/cases/kwargs.py" in named and len(named) == len(lines)
    assert snapshot(fixes) == before
    assert "TSL001" in stdout


# --------------------------------------------------------------------------- read-only

NOBODY = 65534


def _pythonpath() -> str:
    """This checkout and this environment's packages, for an interpreter outside it."""
    return os.pathsep.join([str(REPO), sysconfig.get_paths()["purelib"]])


def _unprivileged_python() -> list[str] | None:
    """A command that runs this Python version's timestamp_lint as user `nobody`, when the
    tests run as root (for whom chmod does not stop writes); None when not possible."""
    env_path = _pythonpath()
    for candidate in (sys.executable, os.path.realpath(sys.executable), "/usr/bin/python3"):
        try:
            probe = subprocess.run(
                [candidate, "-c", "import sys, timestamp_lint.cli; print(sys.version_info[:2])"],
                env={**os.environ, "PYTHONPATH": env_path},
                user=NOBODY,
                group=NOBODY,
                extra_groups=[],
                cwd="/",
                capture_output=True,
                text=True,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0 and probe.stdout.strip() == str(sys.version_info[:2]):
            return [candidate, "-m", "timestamp_lint"]
    return None


def _readonly_run(case: str) -> tuple[subprocess.CompletedProcess, Path, dict, dict]:
    if os.geteuid() != 0:
        runner, user = [sys.executable, "-m", "timestamp_lint"], {}
    else:
        found = _unprivileged_python()
        if found is None:
            pytest.skip(
                "running as root, where chmod does not stop writes, and no Python for this "
                "version can run timestamp_lint as an unprivileged user"
            )
        runner, user = found, {"user": NOBODY, "group": NOBODY, "extra_groups": []}
    base = Path(tempfile.mkdtemp(prefix="tsl-readonly-"))
    base.chmod(0o755)
    root = base / "proj"
    shutil.copytree(FIXTURES / "fixes", root)
    cases = root / "app" / "cases"
    if user:
        for path in [root, *root.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    if case == "file":
        (cases / "kwargs.py").chmod(0o444)
    elif case == "folder":
        cases.chmod(0o555)
    else:  # the whole project, the cache folder's parent included
        for path in sorted(root.rglob("*"), reverse=True):
            path.chmod(0o555 if path.is_dir() else 0o444)
        root.chmod(0o555)
    before = snapshot(root)
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*.py")}
    result = subprocess.run(
        [*runner, "--fix"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": _pythonpath()},
        capture_output=True,
        text=True,
        timeout=120,
        **user,
    )
    return result, root, before, modes


def _cleanup(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(root.parent)


@pytest.mark.parametrize(
    "case",
    [
        "file",
        "folder",
        "project",
    ],
)
def test_read_only_is_reported_and_never_written(case: str) -> None:
    result, root, before, modes = _readonly_run(case)
    try:
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 1
        warnings = [line for line in result.stderr.splitlines() if "kwargs.py" in line]
        assert len(warnings) == 1, result.stderr
        assert warnings[0].startswith("timestamp-lint: ")
        now = snapshot(root)
        assert now["app/cases/kwargs.py"] == before["app/cases/kwargs.py"]
        if case != "file":  # the other files of the read-only folder are untouched too
            cases = [n for n in now if n.startswith("app/cases/")]
            assert all(now[n] == before[n] for n in cases)
        assert {p: stat.S_IMODE(p.stat().st_mode) for p in modes} == modes
        assert temp_files(root) == []
        assert "app/cases/kwargs.py:5:30: TSL001" in result.stdout
    finally:
        _cleanup(root)
