"""Real-world oracle: timestamp-lint, as a black box, against the runtime truth of real projects.

    python benchmarks/realworld/run.py [--linter PATH] [--ruff PATH] [--workdir DIR]
                                       [--only NAME ...] [--runs N] [--write-readme]

For each project of `projects.json` (pinned PyPI releases that define ORM models):

1. installs it into its own virtualenv under the workdir (once; reused while the spec is the same);
2. runs `truth.py` with that virtualenv's python: every module of the package is imported
   (failures are counted), the mapped classes are read from SQLAlchemy's registries and Django's
   app registry, with their timestamp columns' real defaults, and every `module.attr` bound to
   a model;
3. copies the package sources into a tree of their own and runs the linter there, with
   VIRTUAL_ENV set to the project's virtualenv: on the untouched tree (findings, TSL003 verdicts,
   wall time beside `ruff check`), then on a copy with a probe module that builds every runtime
   model with a copied timestamp, and with a copy injected into each of the project's own
   creation sites of those models.

Prints a Markdown table, writes every detail as JSON in the workdir (and, with
`--write-readme`, the table into benchmarks/README.md and the results into
benchmarks/realworld/results.json). Needs the network to PyPI for the first run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import oracle  # noqa: E402

REPO = HERE.parent.parent
README = HERE.parent / "README.md"
START, END = "<!-- realworld:start -->", "<!-- realworld:end -->"
FIELDS = ("created_at", "updated_at")


def log(msg: str) -> None:
    print(f"[realworld] {msg}", file=sys.stderr, flush=True)


def ensure_venv(workdir: Path, project: dict) -> Path:
    venv = workdir / "venvs" / project["name"]
    marker = venv / ".oracle-installed"
    if marker.exists() and marker.read_text().strip() == project["spec"]:
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    log(f"{project['name']}: installing {project['spec']}")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", project["spec"]],
        check=True,
        timeout=1800,
    )
    marker.write_text(project["spec"] + "\n")
    return venv


def runtime_truth(workdir: Path, venv: Path, project: dict, label: str) -> dict:
    out = workdir / f"truth-{label}" / f"{project['name']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "packages": project["packages"],
        "kind": project["kind"],
        "django": project.get("django"),
        "skip_modules": project.get("skip_modules", []),
        "fields": list(FIELDS),
    }
    cfg = out.with_suffix(".config.json")
    cfg.write_text(json.dumps(config))
    with tempfile.TemporaryDirectory() as cwd:  # nothing on sys.path but the venv
        subprocess.run(
            [str(venv / "bin" / "python"), str(HERE / "truth.py"), str(cfg), str(out)],
            cwd=cwd,
            check=True,
            timeout=900,
            env={**os.environ, "VIRTUAL_ENV": str(venv), "PYTHONDONTWRITEBYTECODE": "1"},
            stdout=subprocess.DEVNULL,
        )
    return json.loads(out.read_text())


def _copy_sources(src: Path, dst: Path) -> None:
    def ignore(folder: str, names: list[str]) -> list[str]:
        return [
            n
            for n in names
            if n == "__pycache__"
            or (not (Path(folder) / n).is_dir() and not n.endswith((".py", ".pyi")))
        ]

    shutil.copytree(src, dst, ignore=ignore, symlinks=False)


def make_tree(workdir: Path, project: dict, truth: dict, which: str, run_label: str) -> Path:
    tree = workdir / f"trees-{run_label}" / project["name"] / which
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    for top, dirs in truth["package_dirs"].items():
        for d in dirs:
            _copy_sources(Path(d), tree / top)
    return tree


def python_files(tree: Path) -> list[str]:
    return sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.py") if p.is_file())


def linter_env(venv: Path) -> dict[str, str]:
    """The environment the linter runs in: the tree's virtualenv, as a developer's shell."""
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    return env


def run_linter(linter: str, tree: Path, venv: Path) -> tuple[list[dict], float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [linter, ".", "--output-format", "json", "--no-cache"],
        cwd=tree,
        env=linter_env(venv),
        capture_output=True,
        text=True,
        timeout=900,
    )
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        return [], wall, (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    try:
        return json.loads(done.stdout or "[]"), wall, ""
    except json.JSONDecodeError:
        return [], wall, "unparseable JSON output"


def why_silent(linter: str, tree: Path, venv: Path, path: str, line: int) -> str:
    """What `timestamp-lint explain` says of a site it did not report ("" if nothing)."""
    done = subprocess.run(
        [linter, "explain", f"{path}:{line}"],
        cwd=tree,
        env=linter_env(venv),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    reasons = [
        text.strip().removeprefix("not reported:").strip()
        for text in done.stdout.splitlines()
        if text.strip().startswith("not reported:")
    ]
    return "; ".join(dict.fromkeys(reasons))


def time_ruff(ruff: str, tree: Path) -> float | None:
    if not ruff:
        return None
    start = time.perf_counter()
    done = subprocess.run(
        [ruff, "check", "--no-cache", "--isolated", "--exit-zero", "."],
        cwd=tree,
        capture_output=True,
        timeout=900,
    )
    wall = time.perf_counter() - start
    return wall if done.returncode == 0 else None


def measure(project: dict, args: argparse.Namespace) -> dict:
    workdir: Path = args.workdir
    venv = ensure_venv(workdir, project)
    log(f"{project['name']}: runtime truth")
    truth = runtime_truth(workdir, venv, project, args.label)
    models = truth["models"]
    bindings = truth["bindings"]

    # (c), (d), (e): the untouched tree.
    log(f"{project['name']}: {len(models)} runtime models; linting the untouched tree")
    tree = make_tree(workdir, project, truth, "untouched", args.label)
    files = python_files(tree)
    untouched, _, error = run_linter(args.linter, tree, venv)
    tsl_times, ruff_times = [], []
    for _ in range(args.runs):
        tsl_times.append(run_linter(args.linter, tree, venv)[1])
        ruff_time = time_ruff(args.ruff, tree)
        if ruff_time is not None:
            ruff_times.append(ruff_time)
    verdicts = oracle.tsl003_verdicts(models, untouched, FIELDS)

    # (a), (b): the probe and the injected creation sites.
    injected_tree = make_tree(workdir, project, truth, "injected", args.label)
    sites_all, skipped_files, broken = [], [], []
    for rel in files:
        path = injected_tree / rel
        source = path.read_text(encoding="utf-8", errors="surrogateescape")
        sites = oracle.find_sites(
            rel, source, bindings, FIELDS, truth["attr_bindings"], truth["class_bindings"]
        )
        if not sites:
            continue
        if oracle.allowed_by_default(rel, source):
            skipped_files.append({"path": rel, "sites": len(sites)})
            continue
        new, placed = oracle.inject(source, sites)
        try:
            compile(new, rel, "exec", dont_inherit=True, flags=0x400)  # PyCF_ONLY_AST
        except SyntaxError as exc:
            broken.append({"path": rel, "error": str(exc)})
            continue
        path.write_text(new, encoding="utf-8", errors="surrogateescape")
        sites_all.extend(placed)
    probe_pkg = project["packages"][0]
    probe_rel = f"{probe_pkg}/{oracle.PROBE_MODULE}.py"
    probe_text, probe_lines = oracle.probe_source(models)
    (injected_tree / probe_rel).write_text(probe_text, encoding="utf-8")
    injected, _, inj_error = run_linter(args.linter, injected_tree, venv)

    probe_hits = {
        model: oracle.reported_at(injected, probe_rel, line) for line, model in probe_lines.items()
    }
    per_line = Counter((s.path, s.key_line) for s in sites_all)
    site_rows = []
    for s in sites_all:
        column = s.key_column if per_line[(s.path, s.key_line)] > 1 else None
        hit = oracle.reported_at(injected, s.path, s.key_line, column, s.field, untouched)
        site_rows.append(
            {
                "path": s.path,
                "line": s.key_line,
                "kind": s.kind,
                "callee": s.callee,
                "model": s.model,
                "field": s.field,
                "model_recognised": probe_hits.get(s.model),
                "reported": hit,
            }
        )
        if not hit and probe_hits.get(s.model):  # the linter's own word on why
            site_rows[-1]["why"] = why_silent(args.linter, injected_tree, venv, s.path, s.key_line)
    by_code = Counter(f["code"] for f in untouched)
    return {
        "name": project["name"],
        "version": project["spec"].split("==")[-1],
        "spec": project["spec"],
        "orm": project["orm"],
        "files": len(files),
        "lines": sum((tree / f).read_bytes().count(b"\n") for f in files),
        "imports": {
            "imported": truth["imports"]["imported"],
            "failed": len(truth["imports"]["failed"]),
            "failed_modules": truth["imports"]["failed"],
        },
        "setup_error": truth.get("setup_error"),
        "linter_error": error or inj_error or None,
        "probe": {
            "total": len(probe_lines),
            "not_importable": [m["id"] for m in models if not m.get("importable")],
            "reported": sum(probe_hits.values()),
            "missed": sorted(
                [
                    {"model": m, "file": _model_file(models, m)}
                    for m, hit in probe_hits.items()
                    if not hit
                ],
                key=lambda x: x["model"],
            ),
        },
        "sites": {
            "total": len(site_rows),
            "reported": sum(r["reported"] for r in site_rows),
            "by_annotation": sum(r["kind"].endswith("(annotation)") for r in site_rows),
            "by_annotation_reported": sum(
                r["reported"] for r in site_rows if r["kind"].endswith("(annotation)")
            ),
            "rows": site_rows,
            "skipped_allowlisted": skipped_files,
            "unparseable_after_injection": broken,
        },
        "untouched": {
            "total": len(untouched),
            "by_code": dict(sorted(by_code.items())),
            "findings": [
                {
                    "code": f["code"],
                    "where": f"{f['path']}:{f['line']}",
                    "model": f.get("model"),
                    "field": f.get("field"),
                    "message": f["message"],
                }
                for f in untouched
            ],
        },
        "tsl003": {
            "total": len(verdicts),
            "agree": sum(v["agree"] for v in verdicts),
            "verdicts": verdicts,
        },
        "timing": {
            "tsl": statistics.median(tsl_times) if tsl_times else None,
            "ruff": statistics.median(ruff_times) if ruff_times else None,
            "runs": args.runs,
        },
        "models": [
            {"id": m["id"], "file": m["file"], "line": m["line"], "columns": m["columns"]}
            for m in models
        ],
    }


def _model_file(models: list[dict], model_id: str) -> str | None:
    for m in models:
        if m["id"] == model_id:
            return f"{m['file']}:{m['line']}"
    return None


def linter_version(linter: str) -> str:
    done = subprocess.run([linter, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or done.stderr.strip()


def linter_source(linter: str) -> Path | None:
    """Where the linter's package lives (to name its git commit)."""
    python = Path(linter).resolve().parent / "python"
    done = subprocess.run(
        [str(python), "-c", "import timestamp_lint; print(timestamp_lint.__file__)"],
        cwd=tempfile.gettempdir(),  # not the current folder, which may hold another checkout
        capture_output=True,
        text=True,
        check=False,
    )
    return Path(done.stdout.strip()).parent.parent if done.returncode == 0 else None


def commit_of(folder: Path | None) -> str:
    """The last commit that changed the linter's code in its source checkout (an editable
    install), with a note when that code has uncommitted changes."""
    if folder is None:
        return "unknown"
    paths = ["--", "timestamp_lint", "pyproject.toml"]
    done = subprocess.run(
        ["git", "-C", str(folder), "log", "-1", "--format=%h (%s)", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        return "not a git checkout"
    dirty = subprocess.run(
        ["git", "-C", str(folder), "status", "--porcelain", *paths],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return done.stdout.strip() + (" plus uncommitted changes" if dirty else "")


def report(results: list[dict], meta: dict) -> str:
    lines = [
        f"Measured {meta['date']} with timestamp-lint {meta['version']}, code of commit "
        f"{meta['commit']}, Python {meta['python']}, {meta['ruff']}; wall times are medians of "
        f"{meta['runs']} runs of `timestamp-lint . --no-cache` and `ruff check --no-cache "
        f"--isolated .` on the same copied tree (1-minute load average before / after the "
        f"run: {meta['load']}, on {os.cpu_count()} CPUs).",
        "",
        oracle.build_table(results),
        "",
    ]
    for r in results:
        bits = []
        if r["probe"]["missed"]:
            bits.append(
                "models not recognised: "
                + ", ".join(f"`{m['model']}`" for m in r["probe"]["missed"][:12])
                + (" ..." if len(r["probe"]["missed"]) > 12 else "")
            )
        rows = r["sites"].get("rows", r["sites"].get("missed_rows", []))
        missed_sites = [s for s in rows if not s["reported"] and s.get("model_recognised")]
        if missed_sites:
            bits.append(
                f"{len(missed_sites)} sites missed although the probe recognises their model: "
                + ", ".join(
                    f"`{s['path']}:{s['line']}` ({s['callee']}"
                    + (f"; `explain`: {s['why']}" if s.get("why") else "")
                    + ")"
                    for s in missed_sites[:8]
                )
                + (" ..." if len(missed_sites) > 8 else "")
            )
        if r["untouched"]["findings"]:
            bits.append(
                "findings on untouched code: "
                + ", ".join(f"`{f['where']}` {f['code']}" for f in r["untouched"]["findings"][:10])
                + (" ..." if len(r["untouched"]["findings"]) > 10 else "")
            )
        disagree = [v for v in r["tsl003"]["verdicts"] if not v["agree"]]
        if disagree:
            bits.append(
                "TSL003 disagreements: "
                + ", ".join(
                    f"`{v['model']}.{v['field']}` (runtime: "
                    + (
                        "missing " + " and ".join(v["runtime_missing"])
                        if v["runtime_missing"]
                        else "ok"
                    )
                    + f", TSL003 {'reported' if v['linter_tsl003'] else 'not reported'})"
                    for v in disagree[:6]
                )
            )
        if r.get("linter_error"):
            bits.append(f"linter error: {r['linter_error']}")
        if bits:
            lines.append(f"- **{r['name']}**: " + "; ".join(bits) + ".")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--linter", default=shutil.which("timestamp-lint") or "timestamp-lint")
    parser.add_argument("--ruff", default=shutil.which("ruff") or "")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "timestamp-lint-realworld",
    )
    parser.add_argument("--only", nargs="*", default=None, help="project names to measure")
    parser.add_argument("--runs", type=int, default=3, help="timing runs per tool")
    parser.add_argument("--projects", type=Path, default=HERE / "projects.json")
    parser.add_argument(
        "--label",
        default="default",
        help="name of this run's trees and results in the workdir (runs with different labels "
        "can share the workdir's virtualenvs at the same time)",
    )
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS",
        help="measure nothing: print (and with --write-readme, write) the report of a "
        "results-<label>.json of an earlier run",
    )
    args = parser.parse_args(argv)
    if args.render:
        payload = json.loads(args.render.read_text())
        text = report(payload["results"], payload["meta"])
        print(text)
        if args.write_readme:
            write_readme(payload, text)
        return 0
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.linter = str(Path(args.linter).absolute()) if os.sep in args.linter else args.linter
    projects = json.loads(args.projects.read_text())["projects"]
    if args.only:
        projects = [p for p in projects if p["name"] in args.only]
    load_before = os.getloadavg()[0]
    results = []
    for project in projects:
        try:
            results.append(measure(project, args))
        except (subprocess.SubprocessError, OSError) as exc:
            log(f"{project['name']}: skipped ({type(exc).__name__}: {exc})")
    ruff_version = ""
    if args.ruff:
        ruff_version = subprocess.run(
            [args.ruff, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "version": linter_version(args.linter).split()[-1] if linter_version(args.linter) else "?",
        "commit": commit_of(linter_source(args.linter)),
        "python": sys.version.split()[0],
        "ruff": ruff_version or "ruff not found",
        "runs": args.runs,
        "load": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
        "command": "python benchmarks/realworld/run.py --write-readme",
    }
    text = report(results, meta)
    print(text)
    payload = json.loads(
        json.dumps({"meta": meta, "results": results}).replace(str(args.workdir), "<workdir>")
    )
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]
    out = args.workdir / f"results-{args.label}.json"
    out.write_text(json.dumps(payload, indent=1, sort_keys=True))
    log(f"results: {out} ({digest})")
    if args.write_readme:
        write_readme(payload, text)
    return 0


def write_readme(payload: dict, text: str) -> None:
    """The report between the README's markers; realworld/results.json gets the details, less
    the reported sites and the import failures' messages (the workdir's copy has them all)."""
    compact = json.loads(json.dumps(payload))
    for r in compact["results"]:
        r["sites"]["missed_rows"] = [row for row in r["sites"].pop("rows") if not row["reported"]]
        r["imports"].pop("failed_modules", None)
    (HERE / "results.json").write_text(json.dumps(compact, indent=1, sort_keys=True) + "\n")
    body = (
        "Reproduce: `pip install -e '.[bench]' && python benchmarks/realworld/run.py "
        "--write-readme` (first run: a few minutes of installs from PyPI; every site, miss and "
        "verdict is in `benchmarks/realworld/results.json`).\n\n" + text
    )
    README.write_text(oracle.replace_section(README.read_text(), body, START, END))


if __name__ == "__main__":
    sys.exit(main())
