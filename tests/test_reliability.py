"""Reliability under concurrency and faults (issue 15): no edit lost, nothing skipped
silently, one result per file whatever the output, clean exits, bounded resources.

Each test injects one fault: an edit saved while `--fix` writes, a concurrent run, a killed
run's leftovers, an unreadable folder, a broken or full stdout, Ctrl-C with workers running,
an oversized cache. Cases that need a capability the machine lacks (root, an unprivileged
user, Linux's /proc) are skipped with the reason."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from timestamp_lint import fix as fixer
from timestamp_lint.api import Options, fix_paths, lint_paths

from .conftest import FIXTURES, cli, write_project
from .test_faults import NOBODY, _pythonpath, _unprivileged_python, make_tree

KWARGS = "app/cases/kwargs.py"


@pytest.fixture
def fixes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fixes"
    shutil.copytree(FIXTURES / "fixes", root)
    monkeypatch.chdir(root)
    return root


# --------------------------------------------------------------------------- --fix loses no edit


def _during_fsync(monkeypatch: pytest.MonkeyPatch, action) -> list[int]:
    """Run `action` once, while the first fixed file is being flushed to disk (after its
    content was checked, before the rename): an editor saving at the worst moment."""
    real_fsync = os.fsync
    calls: list[int] = []

    def fsync(fd: int) -> None:
        real_fsync(fd)
        calls.append(fd)
        if len(calls) == 1:
            action()

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


@pytest.mark.parametrize("how", ["in place", "rename", "same bytes, new file"])
def test_an_edit_saved_while_the_fix_is_written_is_never_lost(
    fixes: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    target = fixes / KWARGS
    original = target.read_bytes()
    edited = original + b"\n# saved by the editor\n" if how != "same bytes, new file" else original

    def save() -> None:
        if how == "in place":
            with open(target, "r+b") as handle:
                handle.write(edited)
        else:  # editors that write a new file and rename it over the old one
            new = target.with_name("kwargs.py.editor")
            new.write_bytes(edited)
            os.replace(new, target)

    calls = _during_fsync(monkeypatch, save)
    result = fix_paths([target])
    monkeypatch.undo()
    assert calls, "precondition: the fix reached its write"
    assert result.fixed == 0
    assert result.errors == (
        f"{KWARGS}: not fixed: the file changed on disk while the fix was being written",
    )
    assert target.read_bytes() == edited
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tsl-tmp")] == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_fix_as_root_keeps_owner_group_and_mode(fixes: Path) -> None:
    target = fixes / KWARGS
    os.chown(target, 65534, 65534)
    target.chmod(0o664)
    result = fix_paths([target])
    assert result.errors == () and result.fixed > 0
    status = target.stat()
    assert (status.st_uid, status.st_gid, status.st_mode & 0o7777) == (65534, 65534, 0o664)


def test_owner_that_cannot_be_kept_is_refused(fixes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not root, fixing another user's file that is writable to us: a replacement would be
    ours, so the file is not fixed."""
    target = fixes / KWARGS
    original = target.read_bytes()
    real_euid = os.geteuid()

    def fchown(fd, uid, gid):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "geteuid", lambda: real_euid + 1)  # the file is not ours
    monkeypatch.setattr(os, "fchown", fchown)
    result = fix_paths([target])
    monkeypatch.undo()
    assert result.fixed == 0
    assert result.errors == (
        f"{KWARGS}: not fixed: a replacement could not keep the file's owner and group",
    )
    assert target.read_bytes() == original


def test_hard_linked_file_is_not_fixed_and_its_links_survive(fixes: Path) -> None:
    target = fixes / KWARGS
    original = target.read_bytes()
    link = fixes / "elsewhere.py.bak"
    os.link(target, link)
    result = fix_paths([target])
    assert result.fixed == 0
    assert result.errors == (
        f"{KWARGS}: not fixed: the file has 2 hard links, which replacing it would break",
    )
    assert target.read_bytes() == original
    assert os.path.samefile(target, link)


def test_two_fixes_at_once_check_and_replace_one_after_the_other(
    fixes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second run that replaced the file while the first was writing its fix (a run with
    --unsafe-fixes, say): the first finds the file changed and leaves it alone."""
    target = fixes / KWARGS
    original = target.read_bytes()
    theirs = original.replace(b"name=m.name, ", b"", 1)

    def other_run() -> None:
        fixer.write_atomic(target, theirs, original)

    calls = _during_fsync(monkeypatch, other_run)
    result = fix_paths([target])
    monkeypatch.undo()
    assert len(calls) >= 2  # both runs wrote a temporary file
    assert result.fixed == 0 and len(result.errors) == 1
    assert target.read_bytes() == theirs


def test_since_with_fix_fixes_only_what_since_reports(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "fixes", repo)
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CEILING_DIRECTORIES": str(tmp_path),
    }

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("-c", "user.name=t", "-c", "user.email=t@e", "add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "first")
    target = repo / KWARGS
    before = target.read_text()
    added = "\n\ndef added(m):\n    return Flow(created_at=m.created_at)\n"
    target.write_text(before + added)
    report = cli(repo, "--since", "HEAD", "--no-cache", KWARGS)
    assert report.stdout.count(": TSL001") == 1, report.stdout
    done = cli(repo, "--since", "HEAD", "--fix", "--no-cache", KWARGS)
    assert "Traceback" not in done.stderr
    assert target.read_text() == before + "\n\ndef added(m):\n    return Flow()\n"


# --------------------------------------------------------------------------- temporary files


def _dead_pid() -> int:
    """The id of a process that has ended (and is not reused within the test)."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


@pytest.fixture
def live_pid():
    """The id of a process that stays alive during the test (another run, say)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process.pid
    process.kill()
    process.wait()


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_temporary_files_of_live_runs_are_kept_stale_ones_removed(
    fixes: Path, live_pid: int
) -> None:
    folder = fixes / "app" / "cases"
    live = folder / f".kwargs.py.{live_pid}.abcd1234.tsl-tmp"  # another --fix, mid-write
    dead = folder / f".kwargs.py.{_dead_pid()}.efgh5678.tsl-tmp"  # a killed one's
    elsewhere = fixes / "app" / f".models.py.{_dead_pid()}.ijkl9012.tsl-tmp"
    fresh_legacy = folder / ".dicts.py.mnop3456.tsl-tmp"  # an older version's, unknown pid
    old_legacy = folder / ".dicts.py.qrst7890.tsl-tmp"
    for path in (live, dead, elsewhere, fresh_legacy, old_legacy):
        path.write_bytes(b"partial")
    _age(old_legacy, 2 * 3600)
    result = fix_paths([fixes / KWARGS])
    assert result.errors == () and result.fixed > 0
    assert live.exists() and fresh_legacy.exists()
    assert not dead.exists() and not old_legacy.exists()
    # a plain check removes stale files anywhere in the project, not only beside a fix
    assert not elsewhere.exists()


def test_a_plain_check_removes_what_a_killed_fix_left(fixes: Path) -> None:
    stale = fixes / "app" / f".models.py.{_dead_pid()}.abcd1234.tsl-tmp"
    stale.write_bytes(b"partial")
    lint_paths([fixes / KWARGS], options=Options(cache=False))
    assert not stale.exists()


# --------------------------------------------------------------------------- the cache folder


def _cache(root: Path) -> Path:
    return root / ".timestamp_lint_cache"


def test_cache_temporaries_of_killed_runs_go_live_ones_stay(fixes: Path, live_pid: int) -> None:
    lint_paths(["."])
    cache = _cache(fixes)
    live = cache / f".results.{live_pid}.abcd1234.tmp"
    dead = cache / f".results.{_dead_pid()}.efgh5678.tmp"
    legacy = cache / ".results-ijkl9012.tmp"  # killed before this version named them
    for path in (live, dead, legacy):
        path.write_bytes(b'{"format": 2, "entr')
    _age(legacy, 2 * 3600)
    lint_paths(["."])  # a warm run: nothing to write, the folder is still tidied
    assert live.exists()
    assert not dead.exists() and not legacy.exists()


def test_an_empty_gitignore_in_the_cache_is_written_again(fixes: Path) -> None:
    lint_paths(["."])
    ignore = _cache(fixes) / ".gitignore"
    text = ignore.read_text()
    ignore.write_text("")  # what a full disk left
    lint_paths(["."])
    assert ignore.read_text() == text


def test_results_files_of_other_configurations_are_pruned(fixes: Path) -> None:
    lint_paths(["."])
    cache = _cache(fixes)
    (current,) = cache.glob("results-*.json")
    others = []
    for n in range(12):  # one per --select combination tried
        other = cache / f"results-{n:024x}.json"
        other.write_text("{}")
        _age(other, 60 * (n + 1))
        others.append(other)
    ancient = cache / f"results-{99:024x}.json"
    ancient.write_text("{}")
    _age(ancient, 90 * 24 * 3600)
    lint_paths(["."])
    left = sorted(p.name for p in cache.glob("results-*.json"))
    assert current.name in left
    assert len(left) == 8
    assert sorted(p.name for p in others[:7]) == sorted(n for n in left if n != current.name)


def test_an_oversized_cache_file_is_discarded_unread(fixes: Path) -> None:
    lint_paths(["."])
    (results,) = _cache(fixes).glob("results-*.json")
    data = json.loads(results.read_text())
    entry = data["entries"]["app/models.py"]
    planted = {**entry["f"][0], "m": "planted by a foreign cache"} if entry["f"] else None
    assert planted is not None
    entry["f"].append(planted)
    text = json.dumps(data)
    results.write_text(text)
    assert any("planted" in f.message for f in lint_paths(["."]).findings), "precondition"
    results.write_text(text + " " * (20 << 20))  # over any limit for ten files
    assert not any("planted" in f.message for f in lint_paths(["."]).findings)
    assert results.stat().st_size < 1 << 20  # and it was written again, small


@pytest.fixture
def full_disk(tmp_path: Path):
    """A tiny tmpfs filled to the last byte (root only: mounting needs the privilege)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root and mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    filler = mount_point / "filler"
    try:
        with open(filler, "wb", buffering=0) as handle, contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 4096)
        yield mount_point, filler
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_a_full_disk_never_leaves_an_empty_gitignore(fixes: Path, full_disk) -> None:
    disk, filler = full_disk
    cache = disk / "cache"
    options = Options(cache_dir=cache)
    lint_paths(["."], options=options)  # no space: nothing is cached, nothing breaks
    ignore = cache / ".gitignore"
    assert not ignore.exists() or ignore.read_text().endswith("*\n")
    assert [p.name for p in cache.iterdir() if p.name.endswith(".tmp")] == []
    filler.unlink()
    lint_paths(["."], options=options)
    assert ignore.read_text().endswith("*\n")
    assert list(cache.glob("results-*.json"))


# --------------------------------------------------------------------------- unreadable paths

MODELS = """from sqlalchemy import Column, DateTime, Integer, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime, server_default=func.now(), onupdate=func.now())
"""
COPY = "from app.models import Flow\n\n\ndef f(m):\n    return Flow(created_at=m.created_at)\n"


def _as_unprivileged(base: Path, files: dict[str, str], config: str = ""):
    """A project that an unprivileged user runs timestamp-lint in (permissions do not stop
    root): returns (root, run), `run(*args)` giving the completed process."""
    runner, user = [sys.executable, "-m", "timestamp_lint"], {}
    if os.geteuid() == 0:
        found = _unprivileged_python()
        if found is None:
            pytest.skip("running as root and no Python can run timestamp_lint as `nobody`")
        runner, user = found, {"user": NOBODY, "group": NOBODY, "extra_groups": []}
    base.chmod(0o755)
    root = write_project(base / "proj", {"pyproject.toml": f"[tool.timestamp-lint]\n{config}"})
    write_project(root, files)
    if user:
        for path in [base, *base.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*runner, "--no-cache", *args],
            cwd=root,
            env={**os.environ, "PYTHONPATH": _pythonpath()},
            capture_output=True,
            text=True,
            timeout=120,
            **user,
        )

    return root, run


@pytest.fixture
def reachable():
    """A folder every user can reach (pytest's own are private to their owner)."""
    base = Path(tempfile.mkdtemp(prefix="tsl-unprivileged-"))
    yield base
    for path in [base, *base.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(base)


@pytest.fixture
def blind_folder(reachable: Path):
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/hidden/__init__.py": "",
        "app/hidden/copy.py": COPY,
    }
    root, run = _as_unprivileged(reachable, files)
    (root / "app" / "hidden").chmod(0)
    return root, run


def test_a_folder_that_cannot_be_listed_is_reported(blind_folder) -> None:
    _, run = blind_folder
    done = run()
    assert "Traceback" not in done.stderr and done.stdout, done.stderr
    assert done.stdout.splitlines()[0] == "app/hidden:1:1: TSL999 Cannot list folder: " + (
        os.strerror(13)
    )
    assert done.returncode == 1
    as_json = json.loads(run("--output-format", "json").stdout)
    assert [f["path"] for f in as_json] == ["app/hidden"]


def test_a_folder_that_cannot_be_listed_is_fine_when_excluded(blind_folder) -> None:
    root, run = blind_folder
    done = run("--config", str(root / "excluded.toml"))
    assert done.returncode == 2  # precondition: no such file
    (root / "excluded.toml").write_text('extend-exclude = ["app/hidden"]\n')
    done = run("--config", "excluded.toml")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "All checks passed (2 files checked).\n",
        "",
    )


def test_a_file_inside_a_folder_that_cannot_be_searched_is_one_line(blind_folder) -> None:
    _, run = blind_folder
    done = run("app/hidden/copy.py")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "timestamp-lint: error: app/hidden/copy.py: " + os.strerror(13)
    ]


def test_a_file_that_cannot_be_read_is_reported(reachable: Path) -> None:
    root, run = _as_unprivileged(reachable, {"app/models.py": MODELS, "app/copy.py": COPY})
    (root / "app" / "copy.py").chmod(0)
    done = run()
    assert done.stdout.splitlines()[0] == "app/copy.py:1:1: TSL999 Cannot read file: " + (
        os.strerror(13)
    )
    assert done.returncode == 1


# --------------------------------------------------------------------------- clean exits


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(n) for n in path.read_text().split()]
    except OSError:
        return []


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _running(pid: int) -> bool:
    """Whether a process exists and is not a zombie (ended, waiting to be reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def _start_with_workers(root: Path) -> subprocess.Popen:
    """The command line over `root`, once it has forked its worker processes."""
    if not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists():
        pytest.skip("needs Linux's /proc/PID/task/PID/children to see the workers start")
    process = subprocess.Popen(
        [sys.executable, "-m", "timestamp_lint", "--jobs", "2", "--no-cache"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not _children(process.pid):
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail("precondition: the run should have started worker processes")
        time.sleep(0.005)
    time.sleep(0.2)  # the workers are busy
    return process


@pytest.mark.parametrize("target", ["parent", "group"])
def test_ctrl_c_with_workers_running_exits_130_and_leaves_no_process(
    tmp_path: Path, target: str
) -> None:
    process = _start_with_workers(make_tree(tmp_path / "tree"))
    try:
        if target == "parent":  # `kill -INT`
            os.kill(process.pid, signal.SIGINT)
        else:  # Ctrl-C in a terminal signals the whole foreground group
            os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = _group_alive(process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    assert (process.returncode, stderr) == (130, "timestamp-lint: interrupted\n")
    assert not survivors, "a worker outlived the interrupted run"


def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux's")
    process = _start_with_workers(make_tree(tmp_path / "tree"))
    workers = _children(process.pid)
    try:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(map(_running, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [pid for pid in workers if _running(pid)]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    assert workers and survivors == []


OUTPUTS = {
    "text": [],
    "sarif": ["--output-format", "sarif"],
    "json": ["--output-format", "json"],
    "diff": ["--diff"],
    "statistics": ["--statistics"],
    "exit-zero": ["--exit-zero"],
    "rule": ["rule", "TSL001"],
}


def _broken_stdout(root: Path, args: list[str], stdout) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "timestamp_lint", *args],
        cwd=root,
        stdout=stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=120,
    )
    return done


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_stdout_on_a_full_disk_is_one_line_and_exit_2(fixes: Path, output: str) -> None:
    args = OUTPUTS[output] if output == "rule" else ["--no-cache", *OUTPUTS[output]]
    with open("/dev/full", "w") as full:
        done = _broken_stdout(fixes, args, full)
    assert (done.returncode, done.stderr) == (
        2,
        "timestamp-lint: error: cannot write the output: No space left on device\n",
    )


@pytest.mark.parametrize("output", ["text", "sarif", "diff", "exit-zero"])
def test_stdout_to_a_closed_pipe_is_one_line_and_exit_2(fixes: Path, output: str) -> None:
    read, write = os.pipe()
    os.close(read)  # `| head -c0`: the reader is gone before anything is written
    try:
        done = _broken_stdout(fixes, ["--no-cache", *OUTPUTS[output]], write)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (
        2,
        "timestamp-lint: error: cannot write the output: Broken pipe\n",
    )


# --------------------------------------------------------------------------- large modules


def _large_module(functions: int, copies: int) -> str:
    """A module of `functions` small functions that cannot matter, and `copies` that copy
    a timestamp, spread among them, and a model class with a column that cannot stamp
    itself (a finding in module-level code)."""
    parts = [
        "from sqlalchemy import Column, DateTime, Integer\n\n"
        "from app.models import Flow\n\n\n"
        "class Stamp(Flow):\n"
        "    stamped_at = Column(DateTime)\n"
        "    created_at = Column(DateTime)  # no default: TSL003\n\n\n"
    ]
    every = max(functions // max(copies, 1), 1)
    made = 0
    for i in range(functions):
        if made < copies and i % every == 0:
            parts.append(
                f"def copy_{i}(m):\n    return Flow(name=m.name, created_at=m.created_at)\n\n\n"
            )
            made += 1
        parts.append(f"def plain_{i}(a, b):\n    x = a + b\n    return x * {i}\n\n\n")
    return "".join(parts)


def _formats_agree(root: Path, target: Path) -> list:
    """The findings of a plain run, and checks that a SARIF run (fixes with edits), --diff
    and --fix report the same findings and fix every fixable one."""
    plain = lint_paths([target], options=Options(cache=False)).findings
    with_edits = lint_paths([target], options=Options(cache=False, edits=True)).findings
    key = [(f.code, f.line, f.column, f.fix is not None) for f in plain]
    assert [(f.code, f.line, f.column, f.fix is not None) for f in with_edits] == key
    assert all(f.fix.edits for f in with_edits if f.fix is not None)
    fixable = sum(1 for f in plain if f.fix is not None)
    assert fixable and fix_paths([target], diff=True, options=Options(cache=False)).fixed == fixable
    before = target.read_text()
    fixed = fix_paths([target], options=Options(cache=False))
    assert fixed.fixed == fixable and fixed.errors == ()
    after = target.read_text()
    # the SARIF edits, applied one by one from the end, give the same file
    text = before
    for finding in sorted(with_edits, key=lambda f: (f.line, f.column), reverse=True):
        if finding.fix is not None:
            text = fixer.apply_edits(text, finding.fix.edits)
    assert text == after
    assert "created_at=m.created_at" not in after
    return plain


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A low limit on lines analysed together, so that a test module is 'large'."""
    from timestamp_lint import engine

    monkeypatch.setattr(engine, "MAX_ANALYSED_LINES", 300)


def test_a_large_module_gets_one_result_whatever_the_output(fixes: Path, small_limit) -> None:
    target = fixes / "app" / "large.py"
    target.write_text(_large_module(functions=400, copies=1))  # 1,600 lines, 1 copy
    findings = _formats_agree(fixes, target)
    assert [f.code for f in findings] == ["TSL003", "TSL001"]


def test_a_large_module_where_everything_matters_is_analysed_in_parts(
    fixes: Path, small_limit
) -> None:
    target = fixes / "app" / "dense.py"
    target.write_text(_large_module(functions=100, copies=100))  # 200 copies' worth of code
    findings = _formats_agree(fixes, target)
    assert [f.code for f in findings].count("TSL001") == 100
    assert [f.code for f in findings].count("TSL003") == 1  # module-level code: once
    assert "TSL999" not in {f.code for f in findings}


def test_module_level_code_too_large_for_parts_is_one_tsl999_everywhere(
    fixes: Path, small_limit
) -> None:
    target = fixes / "app" / "flat.py"
    lines = [f"VALUE_{i} = compute({i})\n" for i in range(400)]
    target.write_text(
        "from app.models import Flow\n\n"
        + "".join(lines)
        + "child = Flow(created_at=m.created_at)\n"
    )
    for options in (Options(cache=False), Options(cache=False, edits=True)):
        codes = [f.code for f in lint_paths([target], options=options).findings]
        assert codes == ["TSL999"]
    assert fix_paths([target], options=Options(cache=False)).fixed == 0
