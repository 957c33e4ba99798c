"""The pure logic of benchmarks/realtree/run.py: medians, ratios against the targets, the
file a touched run edits, the report and its README markers. No network, no timing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "realtree" / "run.py"


def _load():
    spec = importlib.util.spec_from_file_location("realtree_run", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["realtree_run"] = module
    spec.loader.exec_module(module)
    return module


rt = _load()


def sample(wall: float, rss: int = 100 * 2**20, code: int = 0) -> dict:
    return {"wall": wall, "cpu": wall, "rss": rss, "returncode": code}


def record(name: str = "demo", **walls: list[float]) -> dict:
    return {
        "name": name,
        "files": 2500,
        "lines": 400000,
        "touch": "app/models.py",
        "loads": [3.0, 5.5],
        "samples": {mode: [sample(w) for w in values] for mode, values in walls.items()},
    }


def test_median_of_nothing_is_none():
    assert rt.median([]) is None
    assert rt.median([3.0, 1.0, 2.0]) == 2.0


def test_ratios_against_targets():
    rows = {
        r["ratio"]: r
        for r in rt.ratio_rows({"ruff": 2.0, "cold": 4.0, "warm": 1.0, "touched": 1.5})
    }
    assert rows["cold / ruff"]["value"] == pytest.approx(2.0)
    assert rows["cold / ruff"]["ok"] is False
    assert rows["warm / cold"]["value"] == pytest.approx(0.25)
    assert rows["warm / cold"]["ok"] is True
    assert rows["touched / cold"]["value"] == pytest.approx(0.375)
    assert rows["touched / cold"]["ok"] is True


def test_ratio_exactly_at_target_is_met():
    rows = rt.ratio_rows({"ruff": 2.0, "cold": 3.0, "warm": 0.9, "touched": 1.2})
    assert [r["ok"] for r in rows] == [True, True, True]


def test_missing_or_zero_denominator_gives_no_ratio():
    rows = rt.ratio_rows({"ruff": 0.0, "cold": None, "warm": 1.0, "touched": None})
    assert all(r["value"] is None and r["ok"] is None for r in rows)


def test_summary_uses_medians_and_highest_rss():
    rec = record(ruff=[1.0, 9.0, 2.0], cold=[3.0, 4.0, 30.0], warm=[1.0], touched=[1.0])
    rec["samples"]["cold"][1]["rss"] = 300 * 2**20
    summary = rt.summarize_tree(rec)
    assert summary["wall"]["ruff"] == 2.0
    assert summary["wall"]["cold"] == 4.0
    assert summary["rss"]["cold"] == 300 * 2**20
    assert summary["ratios"][0]["value"] == pytest.approx(2.0)


def test_failed_runs_are_counted():
    rec = record(ruff=[1.0], cold=[1.0], warm=[1.0], touched=[1.0])
    rec["samples"]["warm"].append(sample(1.0, code=2))
    assert rt.summarize_tree(rec)["failed"]["warm"] == 1
    assert rt.summarize_tree(rec)["failed"]["cold"] == 0


def test_pick_touch_file_prefers_shallow_models_module():
    paths = [
        "pkg/a/b/models.py",
        "pkg/api/views.py",
        "pkg/models/user.py",
        "pkg/models/__init__.py",
        "pkg/core/models.py",
    ]
    assert rt.pick_touch_file(paths) == "pkg/core/models.py"
    assert rt.pick_touch_file(["x/deep/y.py", "top.py"]) == "top.py"
    assert rt.pick_touch_file([]) is None


def test_markdown_report_rows_and_misses():
    results = {
        "meta": {
            "commit": "abc1234",
            "linter_version": "timestamp-lint 0.1",
            "ruff_version": "ruff 0.1",
            "runs": 3,
            "cores": 2,
            "python": "3.11",
            "load_before": 4.0,
            "load_after": 5.0,
            "command": "python benchmarks/realtree/run.py --runs 3",
        },
        "trees": [
            record("big", ruff=[2.0], cold=[5.0], warm=[1.0], touched=[1.0]),
            record("small", ruff=[1.0], cold=[1.0], warm=[0.2], touched=[0.3]),
        ],
    }
    results["trees"][1]["samples"]["cold"].append(sample(1.0, code=2))
    text = rt.markdown(results)
    assert "`abc1234`" in text
    assert "installed from a wheel" not in text
    results["meta"]["wheel"] = True
    assert "`abc1234` of timestamp-lint (timestamp-lint 0.1) installed from a wheel" in (
        rt.markdown(results)
    )
    assert "`python benchmarks/realtree/run.py --runs 3`" in text
    big = next(line for line in text.splitlines() if line.startswith("| big |"))
    assert "| 2,500 | 400,000 |" in big
    assert "2.50 **MISS**" in big
    assert "0.20 |" in big  # warm / cold met
    assert "3.0-5.5" in big
    small = next(line for line in text.splitlines() if line.startswith("| small |"))
    assert "**MISS**" not in small
    assert "- small: 1 cold run(s) exited with an error" in text


def test_replace_between_markers():
    text = f"# B\n\nbefore\n{rt.START_MARK}\nold\n{rt.END_MARK}\nafter\n"
    new = rt.replace_between_markers(text, "new table\n")
    assert new == f"# B\n\nbefore\n{rt.START_MARK}\nnew table\n{rt.END_MARK}\nafter\n"
    with pytest.raises(ValueError):
        rt.replace_between_markers("no markers", "x")


def test_top_level_skips_tooling_and_metadata(tmp_path):
    for name in ("django", "pip", "setuptools", "__pycache__", "foo-1.0.dist-info", "not-ident"):
        (tmp_path / name).mkdir()
    (tmp_path / "six.py").write_text("")
    (tmp_path / "x.pth").write_text("")
    assert rt.top_level(tmp_path, ["django"]) == ["six.py"]
    assert rt.top_level(tmp_path, []) == ["django", "six.py"]


def test_copy_py_copies_python_files_only(tmp_path):
    src = tmp_path / "src"
    (src / "pkg" / "__pycache__").mkdir(parents=True)
    (src / "pkg" / "a.py").write_text("x = 1\n")
    (src / "pkg" / "data.json").write_text("{}")
    (src / "pkg" / "__pycache__" / "a.py").write_text("")
    rt.copy_py(src, tmp_path / "out")
    copied = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*"))
    assert copied == ["pkg", "pkg/a.py"]


def test_finding_keys_are_sorted_lines_and_none_for_other_output():
    out = (
        b'[{"path": "b.py", "line": 2, "column": 5, "code": "TSL001", "message": "m"},'
        b' {"path": "a.py", "line": 9, "column": 1, "code": "TSL002", "message": "n"}]'
    )
    assert rt.finding_keys(out) == ["a.py:9:1: TSL002 n", "b.py:2:5: TSL001 m"]
    assert rt.finding_keys(b"") == []
    assert rt.finding_keys(b"Traceback ...") is None


def test_the_commit_of_a_checkout_and_whether_its_code_is_dirty(tmp_path):
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True)
        return done.stdout.strip()

    (tmp_path / "timestamp_lint").mkdir()
    (tmp_path / "timestamp_lint" / "x.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    head = git("rev-parse", "--short", "HEAD")
    code = tmp_path / "timestamp_lint"
    assert rt.git_commit(code) == head
    (tmp_path / "notes.txt").write_text("not the linter's code\n")
    assert rt.git_commit(code) == head
    (code / "x.py").write_text("x = 2\n")
    assert rt.git_commit(code) == head + "+dirty"
    assert rt.git_commit(tmp_path / "missing") is None


def test_a_base_linter_gets_its_own_table():
    results = {
        "meta": {"commit": "new1234", "base_commit": "old5678", "runs": 2},
        "trees": [
            record("big", ruff=[2.0], cold=[3.0, 3.2], **{"base cold": [4.0, 3.8]}),
            record("plain", ruff=[1.0], cold=[1.0]),  # measured without a base
        ],
    }
    summary = rt.summarize_tree(results["trees"][0])
    assert summary["wall"]["base cold"] == 3.9
    text = rt.markdown(results)
    assert "Against `old5678`" in text
    big = [line for line in text.splitlines() if line.startswith("| big |")]
    assert big[-1] == "| big | 3.10 | 3.90 | 0.79 | 0.79 |"
    assert not [line for line in text.splitlines()[-3:] if line.startswith("| plain |")]
    assert "Against" not in rt.markdown({**results, "trees": results["trees"][1:]})


def test_a_base_linter_runs_beside_the_cold_run_in_alternating_order(tmp_path, monkeypatch):
    runs: list[str] = []

    def measured(argv, cwd, env):
        runs.append(f"{argv[0]} {'cold' if '--no-cache' in argv else 'cached'}")
        return rt.Sample(wall=1.0, cpu=1.0, rss=0, returncode=0, stdout=b"[]")

    monkeypatch.setattr(rt, "measure", measured)
    monkeypatch.setattr(rt, "load1", lambda: 0.5)
    tree = tmp_path / "tree"
    (tree / "app").mkdir(parents=True)
    (tree / "app/models.py").write_text("x = 1\n")
    entry = {**record("t"), "samples": {}, "loads": []}
    rt.one_round(entry, "new", "ruff", tree, {}, "old", base_first=False)
    rt.one_round(entry, "new", "ruff", tree, {}, "old", base_first=True)
    cold = [run for run in runs if run.endswith(" cold")]
    assert cold == ["ruff cold", "new cold", "old cold", "ruff cold", "old cold", "new cold"]
    assert len(entry["samples"]["base cold"]) == 2 and len(entry["samples"]["cold"]) == 2
    assert "disagreements" not in entry  # the base's findings are its own
    rt.one_round(entry, "new", "ruff", tree, {})  # without a base: none of its runs
    assert len(entry["samples"]["base cold"]) == 2 and len(entry["samples"]["cold"]) == 3
