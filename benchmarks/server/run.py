"""How long an editor waits for `timestamp-lint server`'s diagnostics after a keystroke.

    python benchmarks/server/run.py [--scale 0.1] [--edits 200] [--lines 2000] [--debounce MS]

Generates the benchmark project (`benchmarks/generate.py`, reused when present), adds a
service module of `--lines` lines (about 80 functions, 4 of them copying a model's
timestamps) and starts the server over stdio like an editor. After opening the file and a
few edits to warm up, each of `--edits` edits types one character into a function body (an
incremental `didChange`, as editors send them) and waits for the `publishDiagnostics` of that
version; the time between the two is one sample. The next keystroke follows `--gap` ms later
(100: typing at about ten keys a second; 0: back to back, every change lands in the debounce
window of the one before). Then the model's module is edited (a column
loses its default and gets it back), which must re-publish the big file's diagnostics: the
time until they arrive is the dependent re-check. Prints a Markdown report; exits with 1 when
a diagnostic count is wrong (never for speed).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOAL_P95_MS = 50.0
FINDINGS = 4

HEADER = '''\
"""Bulk operations on bookings (benchmark file for the language server)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from atlas.bookings.models import BookingCycle, BookingFlow
from atlas.bookings.schemas import BookingFlowRead

logger = logging.getLogger(__name__)
'''

PLAIN = '''

def process_batch_{n}(session, items, *, dry_run=False):
    """Process batch {n} of booking items and report what changed."""
    done = []
    skipped = 0
    for item in items:
        # note: batch {n}
        if item.status == "cancelled":
            skipped += 1
            continue
        record = BookingCycle(
            status="queued",
            position=item.position + {n},
            labels={{"batch": "{n}", "source": item.source}},
            locale=item.locale,
        )
        if not dry_run:
            session.add(record)
        done.append(record.position)
    logger.info("batch %s: %d done, %d skipped", {n}, len(done), skipped)
    summary = {{"batch": {n}, "done": len(done), "skipped": skipped}}
    summary["finished"] = datetime.now(timezone.utc).isoformat()
    return summary
'''

DTO = '''

def describe_flow_{n}(flow):
    """A response for flow {n}: copying timestamps into a DTO is right."""
    # note: dto {n}
    return BookingFlowRead(
        id=flow.id,
        status=flow.status,
        created_at=flow.created_at,
        updated_at=flow.updated_at,
    )
'''

COPY = '''

def clone_flow_{n}(session, master):
    """Clone a flow (the bug: the clone claims the master's creation time)."""
    # note: clone {n}
    child = BookingFlow(
        status=master.status,
        created_at=master.created_at,
    )
    session.add(child)
    return child
'''


def big_module(lines: int) -> str:
    parts = [HEADER]
    n = 0
    while sum(p.count("\n") for p in parts) < lines:
        n += 1
        template = COPY if n % 20 == 10 and n <= 80 else DTO if n % 7 == 3 else PLAIN
        parts.append(template.format(n=n))
    return "".join(parts)


class Client:
    """A minimal LSP client over the server's stdin and stdout."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=cwd
        )
        self.inbox: queue.Queue = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self.inbox.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(stream.read(length or 0))
            self.inbox.put((time.perf_counter(), message))

    def send(self, message: dict) -> float:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        sent = time.perf_counter()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()
        return sent

    def request(self, method: str, params: dict | None) -> dict:
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        while True:
            _, message = self.receive()
            if message.get("id") == ident and "method" not in message:
                return message
            if "method" in message and "id" in message:  # a request of the server's
                self.send({"id": message["id"], "result": None})

    def notify(self, method: str, params: dict) -> float:
        return self.send({"method": method, "params": params})

    def receive(self, timeout: float = 120.0) -> tuple[float, dict]:
        item = self.inbox.get(timeout=timeout)
        if item is None:
            raise RuntimeError("the server closed its output")
        return item

    def diagnostics(self, uri: str, version: int | None = None) -> tuple[float, list]:
        """Wait for the diagnostics of `uri` (at `version`, when given)."""
        while True:
            when, message = self.receive()
            if "id" in message and "method" in message:
                self.send({"id": message["id"], "result": None})
                continue
            if message.get("method") != "textDocument/publishDiagnostics":
                continue
            params = message["params"]
            if params["uri"] == uri and (version is None or params.get("version") == version):
                return when, params["diagnostics"]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--model-edits", type=int, default=20)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--debounce", type=int, help="the server's --debounce (ms)")
    parser.add_argument(
        "--gap", type=float, default=100.0, help="ms between a publish and the next keystroke"
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "timestamp-lint-bench"
    )
    args = parser.parse_args()

    tree = args.workdir / f"tree-scale{args.scale:g}-seed{args.seed}"
    generate = [sys.executable, str(HERE.parent / "generate.py"), str(tree)]
    subprocess.run(
        [*generate, "--scale", str(args.scale), "--seed", str(args.seed)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    big = tree / "atlas" / "bookings" / "services" / "bulk_bench.py"
    text = big_module(args.lines)
    big.write_text(text)
    model = tree / "atlas" / "bookings" / "models" / "flow.py"  # BookingFlow's own columns
    model_text = model.read_text()
    files = sum(1 for _ in tree.rglob("*.py"))

    command = [sys.executable, "-m", "timestamp_lint", "server"]
    if args.debounce is not None:
        command += ["--debounce", str(args.debounce)]
    client = Client(command, tree)
    capabilities = {
        "textDocument": {"publishDiagnostics": {"versionSupport": True}},
        "general": {"positionEncodings": ["utf-16"]},
    }
    started = time.perf_counter()
    client.request(
        "initialize",
        {"processId": os.getpid(), "rootUri": tree.as_uri(), "capabilities": capabilities},
    )
    client.notify("initialized", {})
    uri = big.as_uri()
    item = {"uri": uri, "languageId": "python", "version": 0, "text": text}
    sent = client.notify("textDocument/didOpen", {"textDocument": item})
    when, found = client.diagnostics(uri, 0)
    first_open = (when - sent) * 1000
    ok = len(found) == FINDINGS

    lines = text.split("\n")
    notes = [i for i, line in enumerate(lines) if "# note:" in line]
    samples = []
    warmup = 20
    for version in range(1, warmup + args.edits + 1):
        line = notes[(version * 7) % len(notes)]
        column = len(lines[line])
        lines[line] += "x"
        change = {
            "range": {
                "start": {"line": line, "character": column},
                "end": {"line": line, "character": column},
            },
            "text": "x",
        }
        sent = client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
        when, found = client.diagnostics(uri, version)
        ok = ok and len(found) == FINDINGS
        if version > warmup:
            samples.append((when - sent) * 1000)
        time.sleep(args.gap / 1000)  # typing at ~10 keys a second

    # a model edit re-checks the open file that depends on it
    model_uri = model.as_uri()
    item = {"uri": model_uri, "languageId": "python", "version": 0, "text": model_text}
    client.notify("textDocument/didOpen", {"textDocument": item})
    client.diagnostics(model_uri, 0)
    stamped = "DateTime(timezone=True), server_default=func.now()\n    )\n    updated_at"
    assert stamped in model_text
    dependent = []
    messages = set()
    for version in range(1, args.model_edits + 1):
        edited = model_text
        if version % 2:  # created_at loses its default: the big file's fixes become unsafe
            edited = model_text.replace(stamped, "DateTime(timezone=True)\n    )\n    updated_at")
        sent = client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": model_uri, "version": version},
                "contentChanges": [{"text": edited}],
            },
        )
        when, found = client.diagnostics(uri)
        dependent.append((when - sent) * 1000)
        ok = ok and len(found) == FINDINGS
        messages.add(found[0]["message"] if found else "")
    ok = ok and (args.model_edits < 2 or len(messages) == 2)  # safe and unsafe wording

    client.request("shutdown", None)
    client.notify("exit", {})
    status = client.process.wait(timeout=60)
    total = time.perf_counter() - started

    p50, p95 = statistics.median(samples), percentile(samples, 0.95)
    print(f"## Language server: didChange -> publishDiagnostics (`{' '.join(command[1:])}`)\n")
    print(f"- workspace: generated project at scale {args.scale:g}, {files} Python files")
    print(f"- edited file: {len(text.splitlines())} lines, {FINDINGS} findings")
    print(f"- keystrokes {args.gap:g} ms after the previous diagnostics arrived")
    print(f"- first diagnostics after didOpen (index cold): {first_open:.0f} ms")
    print(f"- session: {total:.1f} s, server exit status {status}\n")
    print("| measure | samples | p50 ms | p95 ms | max ms | goal |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    verdict = "met" if p95 <= GOAL_P95_MS else "**MISS**"
    print(
        f"| keystroke in the file | {len(samples)} | {p50:.1f} | {p95:.1f} | "
        f"{max(samples):.1f} | p95 <= {GOAL_P95_MS:.0f} ms: {verdict} |"
    )
    if dependent:
        print(
            f"| model edit, dependent file re-published | {len(dependent)} | "
            f"{statistics.median(dependent):.1f} | {percentile(dependent, 0.95):.1f} | "
            f"{max(dependent):.1f} | |"
        )
    if not ok or status != 0:
        print("\nwrong diagnostics count or exit status", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
