"""Speed of timestamp-lint on real trees, beside Ruff in the same run.

Each tree of `trees.json` is the installed source of real PyPI projects (the real-world
oracle's projects, plus large applications copied with all their dependencies), copied into a
project of its own (`.py` files only, a `pyproject.toml` with an empty `[tool.timestamp-lint]`
table, a git repository with everything committed). In every round, for every tree:

- ruff: `ruff check --no-cache --exit-zero .` (default rules);
- cold: `timestamp-lint . --output-format json --no-cache`;
- warm: the same without `--no-cache`, after an unmeasured run filled the cache;
- touched: warm, after appending a comment to one models file (restored afterwards).

Wall time, CPU time and peak RSS (summed over the process tree, polled with psutil) are
measured; tables show medians, ratios are against the issue's targets. Progress goes to stderr,
the Markdown report to stdout (and, with `--write-readme`, into benchmarks/README.md between the
realtree markers).

    python benchmarks/realtree/run.py                       # every tree, 3 rounds
    python benchmarks/realtree/run.py --only wagtail+deps --runs 1
    python benchmarks/realtree/run.py --linter OTHER/bin/timestamp-lint --label other
    python benchmarks/realtree/run.py --render results-default.json --write-readme

The linter is run as a black box: any executable path works, so a merged main can be
measured later with the same trees.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
START_MARK = "<!-- realtree:start -->"
END_MARK = "<!-- realtree:end -->"
POLL_SECONDS = 0.02
MODES = ("ruff", "cold", "warm", "touched")
BASE = "base cold"  # another linter's cold run, beside this one's in every round (`--base`)
# ratio name -> (numerator, denominator, target): numerator <= target x denominator
TARGETS = {
    "cold / ruff": ("cold", "ruff", 1.5),
    "warm / cold": ("warm", "cold", 0.3),
    "touched / cold": ("touched", "cold", 0.4),
}
TOUCH_LINE = b"\n# touched by benchmarks/realtree\n"
SKIP_TOP = {"__pycache__", "pip", "setuptools", "pkg_resources", "_distutils_hack"}


# --------------------------------------------------------------------------- pure logic


def median(values: Iterable[float]) -> float | None:
    """Median of `values`, None when there are none."""
    values = list(values)
    return statistics.median(values) if values else None


def ratio_rows(medians: dict[str, float | None]) -> list[dict[str, Any]]:
    """One row per target: the ratio of two median wall times and whether it is met."""
    rows = []
    for name, (top, bottom, target) in TARGETS.items():
        a, b = medians.get(top), medians.get(bottom)
        value = a / b if a is not None and b else None
        rows.append(
            {
                "ratio": name,
                "value": value,
                "target": target,
                "ok": None if value is None else value <= target,
            }
        )
    return rows


def summarize_tree(record: dict[str, Any]) -> dict[str, Any]:
    """Medians (wall, CPU), peak RSS (highest of the runs) and ratios of one tree's samples."""
    samples = record.get("samples", {})
    modes = (*MODES, BASE) if BASE in samples else MODES
    wall = {m: median(s["wall"] for s in samples.get(m, [])) for m in modes}
    cpu = {m: median(s["cpu"] for s in samples.get(m, [])) for m in modes}
    rss = {m: max((s["rss"] for s in samples.get(m, [])), default=None) for m in modes}
    failed = {m: sum(1 for s in samples.get(m, []) if s["returncode"] not in (0, 1)) for m in modes}
    return {"wall": wall, "cpu": cpu, "rss": rss, "failed": failed, "ratios": ratio_rows(wall)}


def finding_keys(stdout: bytes) -> list[str] | None:
    """The findings of a JSON run as sorted `path:line:column: CODE message` lines (what
    before/after comparisons check), None when the output is not the JSON array."""
    try:
        found = json.loads(stdout or b"[]")
        return sorted(
            f"{f['path']}:{f['line']}:{f['column']}: {f['code']} {f['message']}" for f in found
        )
    except (ValueError, TypeError, KeyError):
        return None


def pick_touch_file(paths: Sequence[str]) -> str | None:
    """A models module to touch: `models.py` or a module in a `models` package, shallowest
    first, then by name; any module when the tree has none."""

    def is_model(path: str) -> bool:
        parts = path.split("/")
        return parts[-1] in ("models.py", "orm_models.py") or (
            len(parts) > 1 and parts[-2] == "models" and parts[-1] != "__init__.py"
        )

    candidates = sorted((p for p in paths if is_model(p)), key=lambda p: (p.count("/"), p))
    if candidates:
        return candidates[0]
    rest = sorted(paths, key=lambda p: (p.count("/"), p))
    return rest[0] if rest else None


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f}"


def _plain_ratio(top: float | None, bottom: float | None) -> str:
    return "-" if top is None or not bottom else f"{top / bottom:.2f}"


def _ratio(row: dict[str, Any]) -> str:
    if row["value"] is None:
        return "-"
    mark = "" if row["ok"] else " **MISS**"
    return f"{row['value']:.2f}{mark}"


def markdown(results: dict[str, Any]) -> str:
    """The report of one run's `results` (as written to results-<label>.json)."""
    meta = results["meta"]
    installed = " installed from a wheel, as users install it" if meta.get("wheel") else ""
    lines = [
        f"Commit `{meta.get('commit') or '?'}` of timestamp-lint ({meta.get('linter_version')})"
        f"{installed}, "
        f"{meta.get('ruff_version')}; {meta.get('runs')} round(s), round-robin, medians; "
        f"{meta.get('cores')} cores, Python {meta.get('python')}.",
        f"Load average (1 min) before / after: {meta.get('load_before')} / "
        f"{meta.get('load_after')}.",
        "",
        f"Reproduce: `{meta.get('command')}`",
        "",
        "| tree | files | lines | ruff s | cold s | warm s | touched s "
        "| cold / ruff (<= 1.5) | warm / cold (<= 0.3) | touched / cold (<= 0.4) "
        "| cold / ruff CPU | peak RSS cold MB | load |",
        "| --- " + "| ---: " * 12 + "|",
    ]
    notes = []
    for record in results["trees"]:
        summary = summarize_tree(record)
        wall, ratios = summary["wall"], summary["ratios"]
        loads = record.get("loads", [])
        load = f"{min(loads):.1f}-{max(loads):.1f}" if loads else "-"
        lines.append(
            f"| {record['name']} | {record['files']:,} | {record['lines']:,} "
            f"| {_seconds(wall['ruff'])} | {_seconds(wall['cold'])} | {_seconds(wall['warm'])} "
            f"| {_seconds(wall['touched'])} | "
            + " | ".join(_ratio(r) for r in ratios)
            + f" | {_plain_ratio(summary['cpu']['cold'], summary['cpu']['ruff'])}"
            + f" | {_mb(summary['rss']['cold'])} | {load} |"
        )
        for mode, count in summary["failed"].items():
            if count:
                notes.append(f"- {record['name']}: {count} {mode} run(s) exited with an error")
    lines.append("")
    lines.append(
        "Times are median wall seconds; `cold / ruff CPU` compares median user + system "
        "seconds of the whole process trees (Ruff's threads, timestamp-lint's workers), the "
        "fairer figure on a busy machine; every sample is in the results JSON. `load` is the "
        "range of the 1-minute load average at the start of each round."
    )
    if any(BASE in record.get("samples", {}) for record in results["trees"]):
        lines += _base_table(results)
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def _base_table(results: dict[str, Any]) -> list[str]:
    """This linter's cold runs against the base linter's (`--base`), run side by side in
    every round: how a change of the code shows through the machine's noise."""
    base = results["meta"].get("base_commit") or results["meta"].get("base_linter") or "?"
    lines = [
        "",
        f"Against `{base}`: its cold run beside this one's in every round, in alternating "
        "order (medians).",
        "",
        "| tree | cold s | base cold s | cold / base | CPU cold / base |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for record in results["trees"]:
        summary = summarize_tree(record)
        wall, cpu = summary["wall"], summary["cpu"]
        if wall.get(BASE) is None:
            continue
        lines.append(
            f"| {record['name']} | {_seconds(wall['cold'])} | {_seconds(wall[BASE])} "
            f"| {_plain_ratio(wall['cold'], wall[BASE])} | {_plain_ratio(cpu['cold'], cpu[BASE])} |"
        )
    return lines


def replace_between_markers(text: str, body: str) -> str:
    """`text` with what lies between the realtree markers replaced by `body`."""
    start, end = text.find(START_MARK), text.find(END_MARK)
    if start < 0 or end < start:
        raise ValueError(f"markers {START_MARK} ... {END_MARK} not found")
    return text[: start + len(START_MARK)] + "\n" + body + text[end:]


# --------------------------------------------------------------------------- measuring


@dataclass
class Sample:
    wall: float
    cpu: float
    rss: int
    returncode: int
    stdout: bytes = field(default=b"", repr=False)
    stderr: bytes = field(default=b"", repr=False)


def _tree_rss(process: Any) -> int:
    import psutil

    total = 0
    try:
        children = process.children(recursive=True)
    except psutil.Error:
        children = []
    for proc in [process, *children]:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def measure(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run `argv` to completion: wall, CPU (this and every waited-for descendant) and the peak
    of the RSS summed over its process tree."""
    import psutil

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = os.times()
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=out, stderr=err)
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
        code = proc.wait()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        after = os.times()
        cpu = (after.children_user - before.children_user) + (
            after.children_system - before.children_system
        )
        out.seek(0)
        err.seek(0)
        return Sample(wall, cpu, peak, code, out.read(), err.read())


# --------------------------------------------------------------------------- trees


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def site_packages(venv: Path) -> Path | None:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    return found[0] if found else None


def ensure_venv(tree: dict[str, Any], venv_dirs: Sequence[Path], workdir: Path) -> Path:
    """The virtualenv holding the tree's sources: an existing one (e.g. the real-world
    oracle's) when it has the packages, else a new one under `workdir` (needs PyPI)."""
    wanted = tree.get("packages", [])
    for base in venv_dirs:
        venv = base / tree["venv"]
        sp = site_packages(venv)
        if sp and all((sp / p).exists() or (sp / f"{p}.py").exists() for p in wanted):
            return venv
    venv = workdir / "venvs" / tree["venv"]
    if not site_packages(venv):
        log(f"[{tree['name']}] installing {' '.join(tree['spec'])} into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *tree["spec"]],
            check=True,
        )
    return venv


def copy_py(src: Path, dest: Path) -> None:
    """Copy the `.py` files below `src` (or `src` itself) to `dest`."""
    if src.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        return
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        rel = Path(root).relative_to(src)
        for name in files:
            if name.endswith(".py"):
                target = dest / rel / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(root) / name, target)


def top_level(sp: Path, exclude: Iterable[str]) -> list[str]:
    """Every importable top-level package or module of a site-packages folder."""
    skip = SKIP_TOP | set(exclude)
    names = []
    for entry in sorted(sp.iterdir()):
        if entry.name in skip or entry.name.endswith((".dist-info", ".egg-info", ".pth")):
            continue
        package = entry.is_dir() and entry.name.isidentifier()
        if package or (entry.suffix == ".py" and entry.stem.isidentifier()):
            names.append(entry.name)
    return names


def build_tree(tree: dict[str, Any], venv: Path, dest: Path) -> dict[str, Any]:
    """Copy the tree's sources into `dest` as a project of its own; its statistics."""
    sp = site_packages(venv)
    assert sp is not None
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    names = top_level(sp, tree.get("exclude", ())) if tree.get("site_packages") else None
    for name in names or tree["packages"]:
        copy_py(sp / name, dest / name)
    (dest / "pyproject.toml").write_text(
        f'[project]\nname = "realtree-{tree["name"].replace("+", "-")}"\n'
        'version = "0"\n\n[tool.timestamp-lint]\n'
    )
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=dest, check=True)
    (dest / ".gitignore").write_text(".timestamp_lint_cache/\n.ruff_cache/\n")
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "tree"], cwd=dest, check=True)
    paths = sorted(str(p.relative_to(dest)) for p in dest.rglob("*.py"))
    lines = 0
    for rel in paths:
        with open(dest / rel, "rb") as handle:
            lines += sum(1 for _ in handle)
    touch = tree.get("touch") or pick_touch_file(paths)
    if touch not in paths:
        touch = pick_touch_file(paths)
    return {"files": len(paths), "lines": lines, "touch": touch}


# --------------------------------------------------------------------------- running


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def version(tool: str) -> str:
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=60)
        return out.stdout.strip() or out.stderr.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def commit_of(linter: str) -> str | None:
    """The git commit of the checkout the linter runs from, when it is an editable install."""
    python = Path(linter).resolve().parent / "python"
    if not python.exists():
        return None
    try:
        out = subprocess.run(
            [
                str(python),
                "-c",
                "import timestamp_lint, os; print(os.path.dirname(timestamp_lint.__file__))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    src = out.stdout.strip()
    return git_commit(Path(src)) if src else None


def install_wheel(source: Path, workdir: Path, name: str = "linter-venv") -> str:
    """Install the checkout `source` into `workdir/<name>` as a regular (non-editable)
    package, as users install it (an editable install adds an import finder to every start),
    and return its `timestamp-lint`. The first install takes the dependencies from PyPI."""
    venv = workdir / name
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(source)], check=True)
    else:
        again = ["install", "-q", "--force-reinstall", "--no-deps", str(source)]
        subprocess.run([str(python), "-m", "pip", *again], check=True)
    return str(venv / "bin" / "timestamp-lint")


def git_commit(code: Path) -> str | None:
    """The short commit of the checkout holding the folder `code` (the linter's package),
    `+dirty` with uncommitted changes in that folder."""
    try:
        rev = subprocess.run(
            ["git", "-C", str(code), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(code), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        return (rev + ("+dirty" if dirty else "")) or None
    except (OSError, subprocess.SubprocessError):
        return None


def tree_env(venv: Path | None) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE would make every run compile the linter's modules again: an
    # installed linter has its bytecode, so the runs must too.
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
    return env


def one_round(
    record: dict[str, Any],
    linter: str,
    ruff: str,
    tree: Path,
    env: dict[str, str],
    base: str | None = None,
    base_first: bool = False,
) -> None:
    """Every mode once on `tree`; with `base`, that linter's cold run beside this one's
    (first when `base_first`: rounds alternate the order)."""
    samples = record["samples"]
    lint = [linter, ".", "--output-format", "json", *record.get("linter_args", [])]
    record["loads"].append(load1())

    def keep(mode: str, sample: Sample) -> None:
        samples.setdefault(mode, []).append(
            {
                "wall": sample.wall,
                "cpu": sample.cpu,
                "rss": sample.rss,
                "returncode": sample.returncode,
            }
        )
        if sample.returncode not in (0, 1):
            log(f"[{record['name']}] {mode} exited {sample.returncode}: {sample.stderr[-400:]!r}")
        if mode not in ("ruff", BASE):  # another commit may find otherwise
            keys = finding_keys(sample.stdout)
            if mode == "cold":
                record["findings"] = None if keys is None else len(keys)
                record["finding_keys"] = keys
            elif keys != record.get("finding_keys"):  # a cached run must say the same
                record.setdefault("disagreements", []).append(mode)
                log(f"[{record['name']}] {mode}: findings differ from the cold run's")
        log(
            f"[{record['name']}] {mode:8} {sample.wall:7.2f}s cpu {sample.cpu:7.2f}s "
            f"rss {sample.rss / 2**20:5.0f}MB"
        )

    keep("ruff", measure([ruff, "check", "--no-cache", "--exit-zero", "."], tree, env))
    base_lint = [base, *lint[1:], "--no-cache"] if base else None
    if base_lint and base_first:
        keep(BASE, measure(base_lint, tree, env))
    keep("cold", measure([*lint, "--no-cache"], tree, env))
    if base_lint and not base_first:
        keep(BASE, measure(base_lint, tree, env))
    measure(lint, tree, env)  # fill the cache, unmeasured
    keep("warm", measure(lint, tree, env))
    touched = tree / record["touch"]
    original = touched.read_bytes()
    try:
        touched.write_bytes(original + TOUCH_LINE)
        keep("touched", measure(lint, tree, env))
    finally:
        touched.write_bytes(original)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--linter", default=shutil.which("timestamp-lint"), help="timestamp-lint executable"
    )
    parser.add_argument(
        "--wheel",
        type=Path,
        metavar="CHECKOUT",
        help="install CHECKOUT (non-editable) into WORKDIR/linter-venv and measure that",
    )
    parser.add_argument(
        "--base", metavar="PATH", help="another timestamp-lint whose cold run goes beside ours"
    )
    parser.add_argument(
        "--base-wheel",
        type=Path,
        metavar="CHECKOUT",
        help="install CHECKOUT into WORKDIR/base-venv and use it as --base",
    )
    parser.add_argument("--ruff", default=shutil.which("ruff"), help="ruff executable")
    parser.add_argument("--trees", type=Path, default=HERE / "trees.json")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="trees to measure")
    parser.add_argument("--large", action="store_true", help="only the large trees")
    parser.add_argument("--runs", type=int, default=3, help="rounds (medians over them)")
    default_work = Path(tempfile.gettempdir()) / "timestamp-lint-realtree"
    parser.add_argument("--workdir", type=Path, default=default_work)
    parser.add_argument(
        "--venvs",
        type=Path,
        action="append",
        help="folder of existing virtualenvs named like the trees' `venv` "
        "(default: the real-world oracle's, $TMPDIR/timestamp-lint-realworld/venvs)",
    )
    parser.add_argument(
        "--no-venv", action="store_true", help="do not set VIRTUAL_ENV for the linter"
    )
    parser.add_argument("--linter-arg", action="append", default=[], help="extra linter argument")
    parser.add_argument("--label", default="default", help="names results-<label>.json")
    parser.add_argument("--render", type=Path, help="print the report of an earlier results file")
    parser.add_argument(
        "--write-readme", action="store_true", help="write the report into benchmarks/README.md"
    )
    args = parser.parse_args(argv)

    if args.render:
        results = json.loads(args.render.read_text())
    else:
        if args.wheel:
            log(f"installing {args.wheel} into {args.workdir / 'linter-venv'}")
            args.linter = install_wheel(args.wheel.resolve(), args.workdir)
        if args.base_wheel:
            log(f"installing {args.base_wheel} into {args.workdir / 'base-venv'}")
            args.base = install_wheel(args.base_wheel.resolve(), args.workdir, "base-venv")
        if not args.linter or not args.ruff:
            parser.error("timestamp-lint or ruff not found: pass --linter / --ruff")
        venv_dirs = args.venvs or [
            Path(tempfile.gettempdir()) / "timestamp-lint-realworld" / "venvs"
        ]
        spec = json.loads(args.trees.read_text())["trees"]
        if args.only:
            unknown = set(args.only) - {t["name"] for t in spec}
            if unknown:
                parser.error(f"unknown tree(s): {', '.join(sorted(unknown))}")
            spec = [t for t in spec if t["name"] in args.only]
        if args.large:
            spec = [t for t in spec if t.get("large")]
        records, places = [], []
        for tree in spec:
            venv = ensure_venv(tree, venv_dirs, args.workdir)
            dest = args.workdir / "trees" / tree["name"]
            log(f"[{tree['name']}] copying from {venv}")
            stats = build_tree(tree, venv, dest)
            log(
                f"[{tree['name']}] {stats['files']} files, {stats['lines']} lines, "
                f"touch {stats['touch']}"
            )
            records.append(
                {
                    "name": tree["name"],
                    **stats,
                    "samples": {},
                    "loads": [],
                    "linter_args": args.linter_arg,
                }
            )
            places.append((dest, tree_env(None if args.no_venv else venv)))
        command = "python benchmarks/realtree/run.py " + " ".join(
            [f"--runs {args.runs}"]
            + ([f"--only {' '.join(args.only)}"] if args.only else [])
            + (["--large"] if args.large else [])
            + [f"--linter-arg={a}" for a in args.linter_arg]
            + (["--wheel ."] if args.wheel else [])
            # the base by a placeholder: its path is this machine's
            + (["--base-wheel BASE"] if args.base_wheel else [])
            + (["--base BASE"] if args.base and not args.base_wheel else [])
        )
        meta = {
            "commit": git_commit(args.wheel / "timestamp_lint")
            if args.wheel
            else commit_of(args.linter),
            "wheel": bool(args.wheel),
            "base_linter": args.base,
            "base_commit": (
                git_commit(args.base_wheel / "timestamp_lint")
                if args.base_wheel
                else commit_of(args.base)
                if args.base
                else None
            ),
            "linter": args.linter,
            "linter_version": version(args.linter),
            "ruff_version": version(args.ruff),
            "runs": args.runs,
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": load1(),
            "command": command,
            "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        log("warm-up: one unmeasured cold run per tree (bytecode, page cache)")
        for dest, env in places:
            for linter in (args.linter, args.base) if args.base else (args.linter,):
                measure([linter, ".", "--no-cache", *args.linter_arg], dest, env)
        for round_no in range(args.runs):
            log(f"round {round_no + 1}/{args.runs}")
            for record, (dest, env) in zip(records, places, strict=True):
                one_round(record, args.linter, args.ruff, dest, env, args.base, round_no % 2 == 1)
        meta["load_after"] = load1()
        results = {"meta": meta, "trees": records}
        args.workdir.mkdir(parents=True, exist_ok=True)
        out = args.workdir / f"results-{args.label}.json"
        out.write_text(json.dumps(results, indent=1))
        log(f"results: {out}")
    report = markdown(results)
    print(report)
    if args.write_readme:
        README.write_text(replace_between_markers(README.read_text(), report))
        paths = ("linter", "base_linter")  # of this machine: not for the project's files
        public = {**results, "meta": {k: v for k, v in results["meta"].items() if k not in paths}}
        (HERE / "results.json").write_text(json.dumps(public, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
