"""Worker processes forked from this one, for the tasks of one run.

A forked worker inherits what the run has built (the engine, its index and summaries), so a
task names its work and carries little. `multiprocessing` and `concurrent.futures` would do
the job, at a price a linter pays on every run that has workers: importing them takes about
as long as reading a thousand files, and the pool's threads take the interpreter's lock from
the main process, which does its share of the work. Here there are no threads: each worker
has a pipe for its tasks and one for its results, and the main process moves the messages
when it asks (`poll`, between two files of its own, or while it waits for a result).

A task is a function of this module's caller and its arguments, pickled (the function by its
name, as `pickle` does). A worker that dies (a crash in a native parser, a kill) loses the
tasks it held, and only those: their tickets resolve to `WorkerLost`. The tasks no worker
held yet go to the others.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

_HEADER = struct.Struct("!Q")  # the length of the pickle that follows
_READ_SIZE = 1 << 16


class WorkerLost(Exception):
    """The worker that held a task died before it answered."""


class _Worker:
    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid = pid
        self.tasks: int | None = tasks  # the write end of its task pipe (None once closed)
        self.results: int | None = results  # the read end of its result pipe (None at EOF)
        self.outbox = bytearray()  # what is not written to its task pipe yet
        self.inbox = bytearray()
        self.held: set[int] = set()  # the tickets it was sent and has not answered


class Workers:
    """`count` processes forked now, each running the tasks sent to it, in the order sent;
    `start()` runs first in each. A task goes to the worker that holds the fewest, once it
    holds fewer than `ahead` (until then it waits here). What a task reads besides its
    arguments, it inherited."""

    def __init__(self, count: int, start: Callable[[], None] | None = None, ahead: int = 2) -> None:
        self.ahead = ahead
        self._workers: list[_Worker] = []
        self._queue: deque[tuple[int, Any]] = deque()
        self._answers: dict[int, tuple[bool, Any]] = {}
        self._tickets = 0
        for stream in (sys.stdout, sys.stderr):  # what a child could otherwise write twice
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        try:
            for _ in range(count):
                self._fork(start)
        except BaseException:
            self.kill()
            raise

    def _fork(self, start: Callable[[], None] | None) -> None:
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: it never returns into the caller's code
            status = 1
            try:
                for worker in self._workers:  # the others' pipes: they must see their EOF
                    for fd in (worker.tasks, worker.results):
                        if fd is not None:
                            os.close(fd)
                os.close(task_write)
                os.close(result_read)
                if start is not None:
                    start()
                _serve(task_read, result_write)
                status = 0
            finally:
                os._exit(status)
        os.close(task_read)
        os.close(result_write)
        os.set_blocking(task_write, False)
        os.set_blocking(result_read, False)
        self._workers.append(_Worker(pid, task_write, result_read))

    # ------------------------------------------------------------------ the main process

    @property
    def alive(self) -> int:
        """How many workers may still answer."""
        return sum(worker.results is not None for worker in self._workers)

    def submit(self, function: Callable[..., Any], *arguments: Any) -> int:
        """Queue the task `function(*arguments)`; its ticket, for `done` and `result`."""
        ticket = self._tickets
        self._tickets += 1
        self._queue.append((ticket, (function, arguments)))
        self.poll()
        return ticket

    def done(self, ticket: int) -> bool:
        """Whether `result(ticket)` would not wait."""
        return ticket in self._answers or not self.alive

    def result(self, ticket: int) -> Any:
        """What the task returned (waiting for it); its exception is raised again here, and
        `WorkerLost` if its worker died first."""
        while ticket not in self._answers and self.alive:
            self.poll(None)
        if ticket not in self._answers:
            raise WorkerLost
        ok, value = self._answers.pop(ticket)
        if ok:
            return value
        raise value

    def poll(self, timeout: float | None = 0) -> None:
        """Move what the pipes can take and give, waiting up to `timeout` seconds (None: until
        something moves) for either."""
        self._hand_out()
        waiting = select.poll()
        by_fd: dict[int, _Worker] = {}
        for worker in self._workers:
            if worker.results is None:
                continue
            waiting.register(worker.results, select.POLLIN)
            by_fd[worker.results] = worker
            if worker.outbox and worker.tasks is not None:
                waiting.register(worker.tasks, select.POLLOUT)
                by_fd[worker.tasks] = worker
        if not by_fd:
            return
        for fd, _ in waiting.poll(None if timeout is None else timeout * 1000):
            worker = by_fd[fd]
            if fd == worker.tasks:
                self._write(worker)
            elif fd == worker.results:
                self._read(worker)
        self._hand_out()

    @property
    def unanswered(self) -> int:
        """Tasks submitted and not answered yet (queued here, or held by a worker)."""
        return len(self._queue) + sum(len(worker.held) for worker in self._workers)

    def _hand_out(self) -> None:
        while self._queue:
            live = [w for w in self._workers if w.results is not None and len(w.held) < self.ahead]
            if not live:
                if not self.alive:  # nobody is left to do them
                    while self._queue:
                        self._answers[self._queue.popleft()[0]] = (False, WorkerLost())
                return
            worker = min(live, key=lambda w: len(w.held))
            ticket, task = self._queue.popleft()
            worker.held.add(ticket)
            worker.outbox += _message((ticket, task))
            self._write(worker)

    def _write(self, worker: _Worker) -> None:
        if worker.tasks is None:
            return
        try:
            written = os.write(worker.tasks, worker.outbox)
        except BlockingIOError:
            return
        except OSError:  # its reader is gone: it died, and its results will tell
            worker.outbox.clear()
            return
        del worker.outbox[:written]

    def _read(self, worker: _Worker) -> None:
        assert worker.results is not None
        try:
            chunk = os.read(worker.results, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # it exited: what it held is lost
            self._lost(worker)
            return
        worker.inbox += chunk
        while len(worker.inbox) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(worker.inbox)
            end = _HEADER.size + size
            if len(worker.inbox) < end:
                break
            ticket, ok, value = pickle.loads(worker.inbox[_HEADER.size : end])
            del worker.inbox[:end]
            worker.held.discard(ticket)
            self._answers[ticket] = (ok, value)

    def _lost(self, worker: _Worker) -> None:
        for fd in (worker.tasks, worker.results):
            if fd is not None:
                os.close(fd)
        worker.tasks = worker.results = None
        worker.outbox.clear()
        for ticket in worker.held:
            self._answers[ticket] = (False, WorkerLost())
        worker.held.clear()
        _reap(worker.pid, wait=True)

    def close(self) -> None:
        """No more tasks: each worker ends once it has answered what it holds (the answers
        are kept); then it is reaped. Tasks still queued are lost."""
        while any(w.outbox and w.results is not None for w in self._workers):
            self.poll(None)
        while self._queue:
            self._answers[self._queue.popleft()[0]] = (False, WorkerLost())
        for worker in self._workers:
            if worker.tasks is not None:
                os.close(worker.tasks)
                worker.tasks = None
        while self.alive:
            self.poll(None)

    def kill(self) -> None:
        """End every worker at once (the run is interrupted): none outlives it."""
        for worker in self._workers:
            if worker.results is None:
                continue
            with contextlib.suppress(OSError):
                os.kill(worker.pid, signal.SIGTERM)
        for worker in self._workers:
            for fd in (worker.tasks, worker.results):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            if worker.results is not None:
                _reap(worker.pid, wait=False)
            worker.tasks = worker.results = None
            worker.held.clear()


def _reap(pid: int, wait: bool) -> None:
    """Collect the exit status of worker `pid`, killing it if it is still there after a
    second (`wait`) or at once."""
    deadline = time.monotonic() + (1.0 if wait else 0.0)
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        if time.monotonic() >= deadline:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
            return
        time.sleep(0.001)


# ------------------------------------------------------------------ the worker


def _message(value: Any) -> bytes:
    payload = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


def _serve(tasks: int, results: int) -> None:
    """Answer each task read from `tasks` on `results`, until the task pipe closes."""
    while True:
        header = _read_exactly(tasks, _HEADER.size)
        if header is None:
            return
        (size,) = _HEADER.unpack(header)
        payload = _read_exactly(tasks, size)
        if payload is None:
            return
        ticket, (function, arguments) = pickle.loads(payload)
        try:
            answer = _message((ticket, True, function(*arguments)))
        except BaseException as exc:  # the task's own failure: the caller raises it again
            try:
                answer = _message((ticket, False, exc))
            except Exception:  # an exception that does not pickle
                answer = _message((ticket, False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        view = memoryview(answer)
        while view:
            view = view[os.write(results, view) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes from `fd`, or None at its end."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, _READ_SIZE * 16))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
