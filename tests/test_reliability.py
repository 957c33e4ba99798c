"""Reliability under concurrency and faults (issue 15): no edit lost, nothing skipped
silently, one result per file whatever the output, clean exits, bounded resources.

Each test injects one fault: an edit saved while `--fix` writes, a concurrent run, a killed
run's leftovers, an unreadable folder, a broken or full stdout, Ctrl-C with workers running,
an oversized cache. Cases that need a capability the machine lacks (root, an unprivileged
user, Linux's /proc) are skipped with the reason."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from timestamp_lint import fix as fixer
from timestamp_lint.api import fix_paths

from .conftest import FIXTURES, cli

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
