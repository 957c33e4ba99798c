"""The forked worker processes (`timestamp_lint.workers`): answers, failures, dead workers,
large messages, and no process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from timestamp_lint.workers import WorkerLost, Workers

INHERITED: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _deadline():
    """A test that would hang (a worker holding another's pipe, a lost wake-up) fails."""

    def expired(*_):
        raise TimeoutError("the workers hung")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def work(task):
    kind, value = task  # one function for every kind: the tests read as a table
    if kind == "add":
        return value + INHERITED.get("offset", 0)
    if kind == "pid":
        time.sleep(0.01)
        return os.getpid()
    if kind == "raise":
        raise ValueError(value)
    if kind == "die":
        os._exit(3)
    if kind == "echo":
        return value
    if kind == "sleep":
        time.sleep(value)
        return value
    raise AssertionError(kind)


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_answers_come_back_by_ticket_with_inherited_state() -> None:
    INHERITED["offset"] = 1000  # set before the fork: the workers see it, no pickling
    try:
        pool = Workers(2, ahead=2)
        tickets = [pool.submit(work, ("add", n)) for n in range(50)]
        assert [pool.result(t) for t in reversed(tickets)] == [n + 1000 for n in range(49, -1, -1)]
        pool.close()
    finally:
        INHERITED.clear()


def test_the_tasks_are_spread_over_the_workers() -> None:
    pool = Workers(2, ahead=1)
    pids = {pool.result(t) for t in [pool.submit(work, ("pid", None)) for _ in range(8)]}
    pool.close()
    assert len(pids) == 2
    assert os.getpid() not in pids


def test_a_task_that_raises_raises_again_here_and_the_worker_goes_on() -> None:
    pool = Workers(1)
    failing = pool.submit(work, ("raise", "boom"))
    after = pool.submit(work, ("add", 1))
    with pytest.raises(ValueError, match="boom"):
        pool.result(failing)
    assert pool.result(after) == 1
    pool.close()


def test_a_worker_that_dies_loses_only_what_it_held() -> None:
    pool = Workers(2, ahead=1)
    pids = [worker.pid for worker in pool._workers]
    dying = pool.submit(work, ("die", None))
    rest = [pool.submit(work, ("add", n)) for n in range(20)]
    with pytest.raises(WorkerLost):
        pool.result(dying)
    assert [pool.result(t) for t in rest] == list(range(20))  # the other worker did them
    assert pool.alive == 1
    pool.close()
    assert all(_gone(pid) for pid in pids)


def test_when_every_worker_is_dead_the_queued_tasks_are_lost() -> None:
    pool = Workers(1, ahead=1)
    dying = pool.submit(work, ("die", None))
    queued = [pool.submit(work, ("add", n)) for n in range(3)]
    for ticket in [dying, *queued]:
        with pytest.raises(WorkerLost):
            pool.result(ticket)
    assert pool.alive == 0
    assert pool.done(queued[0])
    pool.close()


def test_large_messages_both_ways_do_not_block() -> None:
    """Several tasks and results far larger than a pipe's buffer, in flight at once: the
    main process writes and reads as the pipes allow, and never waits on a full one."""
    big = [bytes([n]) * (3 * 1024 * 1024) for n in range(6)]
    pool = Workers(2, ahead=3)
    tickets = [pool.submit(work, ("echo", payload)) for payload in big]
    assert [pool.result(t) for t in tickets] == big
    pool.close()


def test_poll_moves_work_while_this_process_does_its_own() -> None:
    pool = Workers(1, ahead=2)
    tickets = [pool.submit(work, ("add", n)) for n in range(4)]
    deadline = time.monotonic() + 30
    while not all(pool.done(t) for t in tickets) and time.monotonic() < deadline:
        pool.poll()  # what the main process does between two files of its own
        time.sleep(0.001)
    assert all(pool.done(t) for t in tickets)
    assert pool.unanswered == 0
    assert [pool.result(t) for t in tickets] == [0, 1, 2, 3]
    pool.close()


def test_close_reaps_every_worker_and_kill_stops_busy_ones() -> None:
    pool = Workers(2)
    pids = [worker.pid for worker in pool._workers]
    pool.result(pool.submit(work, ("add", 1)))
    pool.close()
    assert all(_gone(pid) for pid in pids)

    busy = Workers(2, ahead=1)
    pids = [worker.pid for worker in busy._workers]
    busy.submit(work, ("sleep", 30))
    busy.submit(work, ("sleep", 30))
    busy.poll(0.1)
    started = time.monotonic()
    busy.kill()
    assert time.monotonic() - started < 5
    assert all(_gone(pid) for pid in pids)


def test_a_run_with_workers_imports_no_multiprocessing(tmp_path: Path) -> None:
    """The pool is ours: a run on two processes does not pay for importing
    `multiprocessing` and `concurrent.futures` (tens of milliseconds)."""
    (tmp_path / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    for n in range(120):
        (tmp_path / f"m{n}.py").write_text(
            "from x import Flow\n\n\ndef f(m):\n    return Flow(created_at=m.created_at)\n"
        )
    script = (
        "import sys\n"
        "from timestamp_lint import api\n"
        "forked = []\n"
        "real = api._fork_workers\n"
        "api._fork_workers = lambda *a: forked.append(1) or real(*a)\n"
        f"api.lint_paths([{str(tmp_path)!r}], options=api.Options(cache=False, jobs=2))\n"
        "print(bool(forked), sorted(m for m in sys.modules"
        " if m.startswith(('multiprocessing', 'concurrent'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "True []", done.stdout
