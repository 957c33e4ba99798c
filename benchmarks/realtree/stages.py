"""Where one timestamp-lint run spends its time, stage by stage, with little overhead.

Run it with the Python of the timestamp-lint under test, in the tree, with the linter's
arguments after `--`:

    cd TREE && VENV/bin/python BENCH/realtree/stages.py -- . --no-cache -j1 -q

Coarse timers (wall and CPU of this process) wrap the engine's stages: the project walk,
the index, the byte scan, `ast.parse`, the prescreen, the focus, and LibCST (`run_rules`,
per file, with the number of lines it analysed). A stage this version does not have is left
out, so the script keeps working while the internals change. Use `-j1`: workers' CPU is not
counted. A profiler (cProfile, pyinstrument) inflates code made of many small calls;
these timers do not.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import importlib
import os
import sys
import time
from collections.abc import Callable
from typing import Any

STAGES = [  # (module, owner attribute or "", function, label)
    ("timestamp_lint.api", "", "project_files_of", "project walk + gitignore"),
    ("timestamp_lint.index", "ProjectIndex", "__init__", "project index"),
    ("timestamp_lint.engine", "Engine", "needs_analysis", "byte scan"),
    ("timestamp_lint.engine", "", "parse_python", "ast.parse"),
    ("timestamp_lint.prescreen", "Prescreen", "worth_analysing", "prescreen"),
    ("timestamp_lint.prescreen", "Prescreen", "focus", "focus"),
]

wall: dict[str, float] = collections.defaultdict(float)
cpu: dict[str, float] = collections.defaultdict(float)
calls: collections.Counter[str] = collections.Counter()
libcst_files: list[tuple[float, int, str]] = []
_active = [0]
imported = [0.0]  # CPU of importing timestamp_lint.analysis (LibCST), done before the run


def _timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _active[0]:  # nested stages are counted in the outer one
            return function(*args, **kwargs)
        _active[0] += 1
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            wall[label] += time.perf_counter() - start
            cpu[label] += time.process_time() - start_cpu
            calls[label] += 1
            _active[0] -= 1

    return wrapper


def install() -> list[str]:
    """Wrap every stage this version has; the labels of those it has not."""
    missing = []
    for module_name, owner_name, name, label in STAGES:
        try:
            module = importlib.import_module(module_name)
            owner = getattr(module, owner_name) if owner_name else module
            setattr(owner, name, _timed(label, getattr(owner, name)))
        except (ImportError, AttributeError):
            missing.append(label)
    try:
        start = time.process_time()
        analysis = importlib.import_module("timestamp_lint.analysis")
        imported[0] = time.process_time() - start
        run_rules = analysis.run_rules
    except (ImportError, AttributeError):
        missing.append("LibCST")
        return missing

    def timed_rules(source: str, path: Any, *args: Any, **kwargs: Any) -> Any:
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return run_rules(source, path, *args, **kwargs)
        finally:
            spent = time.process_time() - start_cpu
            wall["LibCST (run_rules)"] += time.perf_counter() - start
            cpu["LibCST (run_rules)"] += spent
            calls["LibCST (run_rules)"] += 1
            libcst_files.append((spent, source.count("\n") + 1, str(path)))

    analysis.run_rules = timed_rules
    return missing


def report(total_wall: float, total_cpu: float, missing: list[str]) -> str:
    lines = [
        f"{'stage':28} {'calls':>6} {'wall s':>8} {'CPU s':>7} {'CPU %':>6}",
        f"{'whole run (after start-up)':28} {'':>6} {total_wall:8.2f} {total_cpu:7.2f} {100:6.1f}",
    ]
    for label in wall:
        share = 100 * cpu[label] / total_cpu if total_cpu else 0.0
        lines.append(
            f"{label:28} {calls[label]:6} {wall[label]:8.2f} {cpu[label]:7.2f} {share:6.1f}"
        )
    for spent, count, path in sorted(libcst_files, reverse=True)[:10]:
        lines.append(f"  LibCST {spent:6.2f} s CPU, {count:6} lines analysed: {path}")
    lines.append(
        f"(not in the run above: importing timestamp_lint.analysis and LibCST, {imported[0]:.2f} s"
        " CPU, paid by a real run as soon as one file reaches LibCST)"
    )
    if missing:
        lines.append(f"(stages this version has not: {', '.join(missing)})")
    lines.append(f"load average (1 min): {os.getloadavg()[0]:.2f}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = argv[argv.index("--") + 1 :] if "--" in argv else argv
    from timestamp_lint import cli

    missing = install()
    if hasattr(cli, "GC_THRESHOLD"):  # as the console script sets it
        gc.set_threshold(cli.GC_THRESHOLD, 50, 100)
    start, start_cpu = time.perf_counter(), time.process_time()
    with contextlib.suppress(SystemExit):
        cli.main(args)
    print(
        report(time.perf_counter() - start, time.process_time() - start_cpu, missing),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
