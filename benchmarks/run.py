"""Benchmark timestamp-lint against ruff and a naive Fixit rule on a generated project.

    python benchmarks/run.py [--scale S] [--runs N] [--workdir DIR] [--skip-fixit]

Generates (or reuses) the synthetic project of `benchmarks/generate.py`, then runs every tool
N times, round-robin, measuring wall time, CPU time (user + system of the process and every
process it waited for) and peak memory (the RSS of the process and all its descendants,
summed, sampled every 20 ms). Prints a Markdown report: the machine, one row per tool, the
ratios the project targets with PASS/MISS, and whether timestamp-lint reported exactly the
planted bugs (the exit status is 1 when it did not). Results are kept as JSON in the workdir;
a `--scale 10` run is compared with a `--scale 1` run found there.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import ensure_tree  # noqa: E402

CACHE_DIR = ".timestamp_lint_cache"
FIXIT_RULE = "naive_timestamp_copy:NaiveTimestampCopy"
SEMGREP_CONFIG = HERE / "semgrep" / "naive_timestamp_copy.yml"
POLL_SECONDS = 0.02

COLD = "timestamp-lint cold"
WARM = "timestamp-lint warm"
TOUCHED = "timestamp-lint 1 file touched"
FIX_DIFF = "timestamp-lint --fix --diff"
RUFF = "ruff check"
FIXIT = "fixit (naive rule)"
SEMGREP = "semgrep (naive pattern)"

# (name, numerator, denominator, comparison, target)
TARGETS = (
    ("cold / ruff", COLD, RUFF, "<=", 1.5),
    ("warm / cold", WARM, COLD, "<=", 0.3),
    ("touched / cold", TOUCHED, COLD, "<=", 0.4),
    ("fixit / cold", FIXIT, COLD, ">=", 30.0),
)


# --------------------------------------------------------------------------- measuring


@dataclass
class Sample:
    wall: float
    cpu: float
    peak_rss: int  # bytes
    returncode: int
    stdout: bytes = field(repr=False, default=b"")
    stderr: bytes = field(repr=False, default=b"")


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


def measure(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Sample:
    """Run `argv` to completion; wall, CPU and peak RSS of its whole process tree."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err)
        peak = 0
        done = threading.Event()

        def poll() -> None:
            nonlocal peak
            try:
                process = psutil.Process(proc.pid)
            except psutil.Error:
                return
            while not done.is_set():
                peak = max(peak, _tree_rss(process))
                done.wait(POLL_SECONDS)

        sampler = threading.Thread(target=poll, daemon=True)
        sampler.start()
        returncode = proc.wait()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out.seek(0)
        err.seek(0)
        return Sample(wall, cpu, peak, returncode, out.read(), err.read())


# --------------------------------------------------------------------------- environment


def find_tool(name: str) -> str | None:
    """`name` from this interpreter's environment first, then from PATH."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which(name, path=path)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    memory = psutil.virtual_memory().total
    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
    }


def version_of(tool: str | None, *args: str) -> str:
    if tool is None:
        return "not installed"
    try:
        done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"\d+(?:\.\d+)+\S*", done.stdout or done.stderr)
    return match.group(0) if match else "unknown"


def source_revision(package: str) -> str | None:
    """`<commit>[+dirty]` when `package` is imported from a git checkout (editable install):
    results taken while its code changes are not comparable."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def help_options(tool: str) -> set[str]:
    """The long options `tool --help` lists."""
    done = subprocess.run([tool, "--help"], capture_output=True, text=True, check=False)
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", done.stdout))


# --------------------------------------------------------------------------- the tools


@dataclass
class Tool:
    name: str
    argv: list[str]
    ok_codes: tuple[int, ...]
    env: dict[str, str] | None = None
    runs: int = 0
    before: Callable[[], None] | None = None
    after: Callable[[Sample], None] | None = None
    scale_factor: float = 1.0  # > 1 when run on a sample of the files (extrapolated)
    startup: Sample | None = None  # a run on two empty files: the part not extrapolated
    note: str = ""
    samples: list[Sample] = field(default_factory=list)
    findings: int | None = None


class CacheState:
    """Whether timestamp-lint's cache holds the tree exactly as it is on disk now."""

    def __init__(self, tree: Path, tsl: str, extra: list[str]) -> None:
        self.tree = tree
        self.prime_argv = [tsl, ".", "--output-format", "json", *extra]
        self.fresh = False

    def clear(self) -> None:
        shutil.rmtree(self.tree / CACHE_DIR, ignore_errors=True)
        self.fresh = False

    def prime(self) -> None:
        if not self.fresh:
            done = subprocess.run(self.prime_argv, cwd=self.tree, capture_output=True)
            if done.returncode not in (0, 1):
                sys.exit(f"priming the cache failed:\n{done.stderr.decode(errors='replace')}")
            self.fresh = True


def finding_keys(stdout: bytes) -> Counter[tuple[str, int, str]]:
    findings = json.loads(stdout)
    return Counter((f["path"], f["line"], f["code"]) for f in findings)


def build_tools(
    args: argparse.Namespace, tree: Path, manifest: dict[str, Any]
) -> tuple[list[Tool], Callable[[], None]]:
    """The tools to run, and a function that undoes any change to the tree."""
    tsl = find_tool("timestamp-lint")
    if tsl is None:
        sys.exit("timestamp-lint is not installed (pip install -e '.[bench]')")
    options = help_options(tsl)
    no_cache = "--no-cache" in options
    extra = list(args.tsl_arg)
    cache = CacheState(tree, tsl, extra)
    lint = [tsl, ".", "--output-format", "json", *extra]
    touch_file = tree / manifest["touch_file"]
    original = touch_file.read_bytes()
    touches = 0

    def cold_before() -> None:
        if not no_cache:
            cache.clear()

    def cold_after(sample: Sample) -> None:
        if not no_cache:  # the run started from an empty cache and wrote it
            cache.fresh = True

    def diff_after(sample: Sample) -> None:
        if not no_cache:  # whether --diff writes the cache is not ours to assume
            cache.fresh = False

    def touch() -> None:
        nonlocal touches
        cache.prime()
        touches += 1
        touch_file.write_bytes(original + f"# benchmark touch {touches}\n".encode())
        cache.fresh = False

    def untouch(sample: Sample | None = None) -> None:
        if touch_file.read_bytes() != original:
            touch_file.write_bytes(original)
            cache.fresh = False  # the cache saw the touched content

    def warm_after(sample: Sample) -> None:
        cache.fresh = True

    cold_note = "`--no-cache`" if no_cache else f"`{CACHE_DIR}` deleted first"
    tools = [
        Tool(
            COLD,
            lint + (["--no-cache"] if no_cache else []),
            (1,),
            runs=args.runs,
            before=cold_before,
            after=cold_after,
            note=cold_note,
        ),
        Tool(
            WARM,
            lint,
            (1,),
            runs=args.runs,
            before=cache.prime,
            after=warm_after,
            note="cache primed, nothing changed",
        ),
        Tool(
            TOUCHED,
            lint,
            (1,),
            runs=args.runs,
            before=touch,
            after=untouch,
            note=f"comment appended to `{manifest['touch_file']}`",
        ),
        Tool(
            FIX_DIFF,
            [tsl, ".", "--fix", "--diff", *extra] + (["--no-cache"] if no_cache else []),
            (1,),
            runs=args.runs,
            before=cold_before,
            after=diff_after,
            note=f"read-only, {cold_note}",
        ),
    ]
    ruff = find_tool("ruff")
    if ruff is None:
        print("ruff is not installed: skipped", file=sys.stderr)
    else:
        tools.append(
            Tool(
                RUFF,
                [ruff, "check", "--no-cache", "--exit-zero", "--isolated", "."],
                (0,),
                runs=args.runs,
                note="default rules, `--isolated --no-cache`",
            )
        )
    fixit = find_tool("fixit")
    if args.skip_fixit:
        pass
    elif fixit is None:
        print("fixit is not installed: skipped", file=sys.stderr)
    else:
        python_path = [str(HERE / "fixit_rule"), os.environ.get("PYTHONPATH", "")]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in python_path if p))
        argv = [fixit, "--rules", FIXIT_RULE, "lint"]
        paths, factor, note, startup = ["."], 1.0, "only the naive rule", None
        if args.fixit_sample:
            paths, factor = sample_files(tree, args.fixit_sample, args.seed)
            note = (
                f"**extrapolated** from {len(paths)} sampled files: startup + "
                f"(run - startup) x {factor:.1f} (total lines / sampled lines)"
            )
            empty = sorted(str(p.relative_to(tree)) for p in tree.rglob("__init__.py"))
            empty = [p for p in empty if (tree / p).stat().st_size == 0][:2]
            startup = measure([*argv, *empty], tree, env)
        tools.append(
            Tool(
                FIXIT,
                [*argv, *paths],
                (0, 1),
                env=env,
                runs=min(args.fixit_runs, args.runs),
                scale_factor=factor,
                startup=startup,
                note=note,
            )
        )
    semgrep = find_tool("semgrep")
    if semgrep is not None:
        argv = [
            semgrep,
            "scan",
            "--config",
            str(SEMGREP_CONFIG),
            "--metrics=off",
            "--json",
            "--quiet",
            ".",
        ]
        tools.append(Tool(SEMGREP, argv, (0, 1), runs=args.runs, note="same naive pattern"))
    return tools, untouch


def sample_files(tree: Path, count: int, seed: int) -> tuple[list[str], float]:
    """A deterministic sample of the tree's files and total lines / sampled lines."""
    files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*.py") if CACHE_DIR not in p.parts)
    chosen = sorted(random.Random(seed).sample(files, min(count, len(files))))

    def lines(paths: list[str]) -> int:
        return sum((tree / p).read_bytes().count(b"\n") for p in paths)

    return chosen, lines(files) / max(lines(chosen), 1)


def count_findings(tool: Tool, sample: Sample) -> int | None:
    if tool.name in (COLD, WARM, TOUCHED):
        return sum(finding_keys(sample.stdout).values())
    if tool.name == FIX_DIFF:
        return sample.stdout.count(b"\n+++ b/") + sample.stdout.startswith(b"+++ b/")
    if tool.name == FIXIT:
        return len(re.findall(rb"@\d+:\d+ NaiveTimestampCopy:", sample.stdout))
    if tool.name == SEMGREP:
        try:
            return len(json.loads(sample.stdout).get("results", []))
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------- checks


def snippet(tree: Path, path: str, line: int) -> str:
    try:
        lines = (tree / path).read_text().splitlines()
    except OSError:
        return "    (file not readable)"
    start, end = max(line - 4, 0), min(line + 2, len(lines))
    return "\n".join(
        f"    {'>' if n + 1 == line else ' '} {n + 1:5d} | {lines[n]}" for n in range(start, end)
    )


def check_findings(
    tools: list[Tool], manifest: dict[str, Any], tree: Path
) -> tuple[bool, list[str]]:
    """Exactly the planted findings, from every lint run (cold, warm and touched)."""
    expected = Counter((f["path"], f["line"], f["code"]) for f in manifest["findings"])
    report: list[str] = []
    ok = True
    seen: dict[tuple[tuple[Any, ...], ...], str] = {}
    for tool in tools:
        if tool.name not in (COLD, WARM, TOUCHED):
            continue
        for n, sample in enumerate(tool.samples, 1):
            got = finding_keys(sample.stdout)
            if got == expected:
                continue
            ok = False
            missed = expected - got
            extra = got - expected
            label = f"{tool.name}, run {n}"
            key = (tuple(sorted(missed.elements())), tuple(sorted(extra.elements())))
            if key in seen:
                report.append(f"**{label}**: the same as {seen[key]}")
                continue
            seen[key] = label
            report.append(f"**{label}**: {len(missed)} missed, {len(extra)} extra")
            for label, keys in (("missed", missed), ("extra", extra)):
                for path, line, code in sorted(keys):
                    report.append(f"- {label} {code} at `{path}:{line}`:")
                    report += ["", "  ```python", snippet(tree, path, line), "  ```", ""]
    diff = next((t for t in tools if t.name == FIX_DIFF), None)
    if diff is not None and diff.samples:
        fixed = {m.group(1) for m in re.finditer(rb"^\+\+\+ b/(\S+)", diff.samples[0].stdout, re.M)}
        files = {f["path"].encode() for f in manifest["findings"]}
        if fixed != files:
            ok = False
            report.append(
                f"**{FIX_DIFF}**: diffs for {sorted(f.decode() for f in fixed)}, "
                f"expected {sorted(f.decode() for f in files)}"
            )
    return ok, report


# --------------------------------------------------------------------------- report


def summarize(tool: Tool) -> dict[str, Any]:
    base_wall = tool.startup.wall if tool.startup else 0.0
    base_cpu = tool.startup.cpu if tool.startup else 0.0
    factor = tool.scale_factor
    walls = [base_wall + max(s.wall - base_wall, 0.0) * factor for s in tool.samples]
    cpus = [base_cpu + max(s.cpu - base_cpu, 0.0) * factor for s in tool.samples]
    return {
        "runs": len(tool.samples),
        "median_wall_s": statistics.median(walls),
        "median_cpu_s": statistics.median(cpus),
        "min_wall_s": min(walls),
        "max_wall_s": max(walls),
        "peak_rss_mb": max(s.peak_rss for s in tool.samples) / 2**20,
        "findings": tool.findings,
        "extrapolated": tool.scale_factor != 1.0,
        "scale_factor": tool.scale_factor,
        "startup": None
        if tool.startup is None
        else {"wall_s": tool.startup.wall, "cpu_s": tool.startup.cpu},
        "note": tool.note,
        "samples": [
            {
                "wall_s": s.wall,
                "cpu_s": s.cpu,
                "peak_rss_mb": s.peak_rss / 2**20,
                "returncode": s.returncode,
            }
            for s in tool.samples
        ],
    }


def ratios(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name, top, bottom, op, target in TARGETS:
        if top not in results or bottom not in results:
            rows.append(
                {"ratio": name, "value": None, "target": f"{op} {target:g}", "status": "n/a"}
            )
            continue
        value = results[top]["median_wall_s"] / results[bottom]["median_wall_s"]
        met = value <= target if op == "<=" else value >= target
        estimated = results[top]["extrapolated"] or results[bottom]["extrapolated"]
        rows.append(
            {
                "ratio": name,
                "value": value,
                "target": f"{op} {target:g}",
                "status": "PASS" if met else "MISS",
                "extrapolated": estimated,
            }
        )
    return rows


def results_path(workdir: Path, scale: float, seed: int) -> Path:
    return workdir / f"results-scale{scale:g}-seed{seed}.json"


def markdown(
    data: dict[str, Any], other: dict[str, Any] | None, check: tuple[bool, list[str]]
) -> str:
    m = data["machine"]
    stats = data["tree"]
    load = data["load_average_1_5_15"]["before"]
    after = data["load_average_1_5_15"]["after"]
    # before the run nothing of ours ran: a load above ~0.5 is someone else's work
    busy = load[0] > 0.5
    out = [
        f"## timestamp-lint benchmark (scale {data['scale']:g}, seed {data['seed']})",
        "",
        f"- Machine: {m['cpu']}, {m['logical_cores']} logical / {m['physical_cores']} "
        f"physical cores, {m['memory_gb']} GB, {m['os']}",
        f"- Load average (1/5/15 min) before: {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}, "
        f"after: {after[0]:.2f}/{after[1]:.2f}/{after[2]:.2f}"
        + (" (**the machine was already busy: timings are noisy**)" if busy else ""),
        f"- Python {m['python']} ({m['implementation']}); "
        + "; ".join(f"{k} {v}" for k, v in data["versions"].items()),
        f"- Tree: {stats['files']:,} files, {stats['lines']:,} lines "
        f"({stats['mean_lines_per_file']} per file); "
        f"{stats['files_mentioning_a_field_pct']}% mention a timestamp field, "
        f"{stats['files_passing_a_field_as_keyword_pct']}% pass one as a keyword; "
        f"{len(data['expected'])} planted findings",
        f"- timestamp-lint options detected: {', '.join(data['tsl_options']) or 'none'}",
        "",
        "| tool | runs | median wall s | median CPU s | peak RSS MB | findings | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, r in data["results"].items():
        star = " *(est.)*" if r["extrapolated"] else ""
        findings = "" if r["findings"] is None else str(r["findings"])
        out.append(
            f"| {name} | {r['runs']} | {r['median_wall_s']:.2f}{star} | "
            f"{r['median_cpu_s']:.2f}{star} | {r['peak_rss_mb']:.0f} | {findings} | {r['note']} |"
        )
    out += ["", "| ratio (median wall) | value | target | status |", "| --- | ---: | ---: | --- |"]
    for row in data["ratios"]:
        value = "-" if row["value"] is None else f"{row['value']:.2f}"
        if row.get("extrapolated"):
            value += " *(est.)*"
        out.append(f"| {row['ratio']} | {value} | {row['target']} | **{row['status']}** |")
    if other is not None:
        small, big = (other, data) if other["scale"] < data["scale"] else (data, other)
        revisions = tuple(
            r.get("timestamp_lint_revision") or "an unknown revision" for r in (small, big)
        )
        if revisions[0] != revisions[1] or (revisions[0] or "").endswith("+dirty"):
            out += [
                "",
                f"Note: the x{small['scale']:g} and x{big['scale']:g} results were taken with "
                f"timestamp-lint {revisions[0]} and {revisions[1]}; unless both are the same "
                "clean commit, the timestamp-lint rows compare different code.",
            ]
        out += [
            "",
            f"Scaling x{small['scale']:g} → x{big['scale']:g} "
            f"({small['tree']['files']:,} → {big['tree']['files']:,} files; "
            f"linear would be {big['tree']['lines'] / small['tree']['lines']:.1f}):",
            "",
            f"| tool | x{small['scale']:g} wall s | x{big['scale']:g} wall s | ratio |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, r in big["results"].items():
            if name in small["results"]:
                a, b = small["results"][name]["median_wall_s"], r["median_wall_s"]
                out.append(f"| {name} | {a:.2f} | {b:.2f} | {b / a:.1f} |")
    ok, report = check
    out.append("")
    if ok:
        out.append(
            f"Findings check: **OK**, every timestamp-lint run reported exactly the "
            f"{len(data['expected'])} planted findings (and `--fix --diff` fixed their files)."
        )
    else:
        out.append(
            "Findings check: **FAILED**, timestamp-lint did not report exactly the "
            "planted findings:"
        )
        out += ["", *report]
    return "\n".join(out) + "\n"


def run_rounds(tools: list[Tool], tree: Path) -> None:
    """Run every tool once per round, so that a slow spell of the machine hits all alike."""
    rounds = max(t.runs for t in tools)
    for n in range(rounds):
        for tool in tools:
            if n >= tool.runs:
                continue
            if tool.before is not None:
                tool.before()
            print(f"[{n + 1}/{rounds}] {tool.name} ...", file=sys.stderr, end=" ", flush=True)
            sample = measure(tool.argv, tree, tool.env)
            if tool.after is not None:
                tool.after(sample)
            print(f"{sample.wall:.2f}s", file=sys.stderr)
            if sample.returncode not in tool.ok_codes:
                sys.stderr.write(sample.stderr.decode(errors="replace")[-4000:])
                sys.exit(f"{tool.name} exited with {sample.returncode}: {tool.argv}")
            tool.findings = count_findings(tool, sample)
            if tool.name not in (COLD, WARM, TOUCHED, FIX_DIFF):
                sample.stdout = b""  # keep memory low; only the linter's output is checked
            tool.samples.append(sample)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = ~3,000 files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=3, help="runs per tool (default 3)")
    parser.add_argument(
        "--fixit-runs", type=int, default=1, help="runs of Fixit, which is slow (default 1)"
    )
    parser.add_argument(
        "--fixit-sample",
        type=int,
        metavar="N",
        help="run Fixit on N sampled files and extrapolate by line count (for large scales)",
    )
    parser.add_argument("--skip-fixit", action="store_true")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "timestamp-lint-bench",
        help="generated trees and results (default: %(default)s)",
    )
    parser.add_argument(
        "--tsl-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for every timestamp-lint run, e.g. --tsl-arg=--jobs=1",
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.runs < 1:
        parser.error("--scale must be positive and --runs at least 1")

    args.workdir.mkdir(parents=True, exist_ok=True)
    tree = args.workdir / f"tree-scale{args.scale:g}-seed{args.seed}"
    print(f"Generating or reusing {tree} ...", file=sys.stderr)
    manifest = ensure_tree(tree, args.scale, args.seed)
    shutil.rmtree(tree / CACHE_DIR, ignore_errors=True)

    tools, restore = build_tools(args, tree, manifest)
    load_before = os.getloadavg()
    revision_before = source_revision("timestamp_lint")
    try:
        run_rounds(tools, tree)
    finally:
        restore()
        shutil.rmtree(tree / CACHE_DIR, ignore_errors=True)

    tsl = find_tool("timestamp-lint")
    versions = {
        "timestamp-lint": version_of(tsl, "--version"),
        "ruff": version_of(find_tool("ruff"), "--version"),
        "fixit": version_of(find_tool("fixit"), "--version"),
    }
    revision = source_revision("timestamp_lint")
    if revision_before:
        versions["timestamp-lint"] += f" (git {revision_before})"
        if revision != revision_before:
            versions["timestamp-lint"] += f", **changed to {revision} during the run**"
    if find_tool("semgrep"):
        versions["semgrep"] = version_of(find_tool("semgrep"), "--version")
    results = {t.name: summarize(t) for t in tools}
    load = {"before": load_before, "after": os.getloadavg()}
    data = {
        "scale": args.scale,
        "seed": args.seed,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "load_average_1_5_15": load,
        "versions": versions,
        "timestamp_lint_revision": revision_before,
        "tsl_options": sorted(help_options(tsl) & {"--no-cache", "--cache-dir", "--jobs"})
        if tsl
        else [],
        "tsl_args": args.tsl_arg,
        "tree": manifest["stats"],
        "expected": manifest["findings"],
        "results": results,
        "ratios": ratios(results),
    }
    check = check_findings(tools, manifest, tree)
    data["findings_ok"] = check[0]
    data["findings_report"] = check[1]
    results_path(args.workdir, args.scale, args.seed).write_text(json.dumps(data, indent=2) + "\n")
    other = None
    partner = {1.0: 10.0, 10.0: 1.0}.get(args.scale)
    if partner is not None and results_path(args.workdir, partner, args.seed).exists():
        other = json.loads(results_path(args.workdir, partner, args.seed).read_text())
    report = markdown(data, other, check)
    print(report)
    if args.output is not None:
        args.output.write_text(report)
    return 0 if check[0] else 1


if __name__ == "__main__":
    sys.exit(main())
