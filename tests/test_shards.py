"""A run with many files to read reads them in shards, across the main process and its
workers (`api._Analyser.shards`): the results are those of one process, whatever the split."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from timestamp_lint import api, detect
from timestamp_lint.api import Options, fix_paths, lint_paths
from timestamp_lint.cache import CACHE_DIR_NAME

from . import test_speed_features as speed
from .conftest import FIXTURES, expected_markers
from .test_fixtures import MARKED, NO_CACHE, _found
from .test_speed_features import LEARNED, USE, _many

FILES = 60  # above the lowered threshold below: 15 shards of 4 files


@pytest.fixture(autouse=True)
def _small_shards(monkeypatch) -> None:
    monkeypatch.setattr(api, "SHARD_MIN_FILES", 20)
    monkeypatch.setattr(api, "SHARD_MIN_BYTES", 2_000)
    monkeypatch.setattr(api, "SHARD_FILES", 4)


def _findings(root: Path, jobs: int, cache: bool = False) -> list[tuple[str, int, str]]:
    result = lint_paths([root], options=Options(cache=cache, jobs=jobs))
    return [(f.path.name, f.line, f.code) for f in result.findings]


def _recording(monkeypatch, where: Path) -> None:
    """Record which process analyses each file (`process` runs where the file is read)."""
    real = api.process

    def recording(engine, path, options, *rest):
        with where.open("a") as out:
            out.write(f"{os.getpid()} {path.name}\n")
        return real(engine, path, options, *rest)

    monkeypatch.setattr(api, "process", recording)


def test_shards_give_the_results_of_one_process(tmp_path: Path, monkeypatch) -> None:
    root = _many(tmp_path, FILES)
    (root / "app/zz_learned.py").write_text(LEARNED)  # a learned field, read by both
    where = tmp_path / "where"
    _recording(monkeypatch, where)
    serial = _findings(root, jobs=1)
    assert {line.split()[0] for line in where.read_text().splitlines()} == {str(os.getpid())}
    where.unlink()
    reading = tmp_path / "reading"
    real = detect.read_candidates

    def recorded(paths, configured):
        paths = list(paths)
        with reading.open("a") as out:
            out.write("".join(f"{os.getpid()} {path.name}\n" for path in paths))
        return real(paths, configured)

    monkeypatch.setattr(detect, "read_candidates", recorded)
    assert _findings(root, jobs=2) == serial
    # the field names were learned from one reading of every file, shared by both processes
    read = [line.split() for line in reading.read_text().splitlines()]
    assert sorted(name for _, name in read) == sorted(p.name for p in root.rglob("*.py"))
    assert len({pid for pid, _ in read}) == 2
    assert ("zz_learned.py", 15, "TSL001") in serial
    assert len(serial) == 3 + len(range(0, FILES, 7))
    analysed = [line.split() for line in where.read_text().splitlines()]
    assert sorted(name for _, name in analysed) == sorted({name for _, name in analysed})
    # the main process reads the last shards, a worker the first ones
    mine = {name for pid, name in analysed if pid == str(os.getpid())}
    theirs = {name for pid, name in analysed if pid != str(os.getpid())}
    assert "zz_learned.py" in mine and "service_000.py" in theirs


@pytest.mark.parametrize("count, min_bytes", [(10, 2_000), (FILES, 100_000)])
def test_a_few_or_small_files_are_not_sharded(
    tmp_path: Path, monkeypatch, count: int, min_bytes: int
) -> None:
    root = _many(tmp_path, count)
    monkeypatch.setattr(api, "SHARD_MIN_BYTES", min_bytes)  # FILES files: ~5,000 bytes

    def sharding(*args: object) -> None:
        raise AssertionError("read in shards")

    monkeypatch.setattr(api._Analyser, "shards", sharding)
    assert len(_findings(root, jobs=2)) == 2 + len(range(0, count, 7))


def test_a_shard_worker_that_dies_costs_only_its_file(tmp_path: Path, monkeypatch) -> None:
    root = _many(tmp_path, FILES)
    speed.crash_in_a_worker(monkeypatch, "service_000.py")  # in the first shard: a worker's
    findings = lint_paths([root], options=Options(cache=False, jobs=2)).findings
    by_file = {f.path.name: f.code for f in findings}
    assert by_file["service_000.py"] == "TSL999"
    assert by_file["service_007.py"] == by_file["service_056.py"] == "TSL001"
    assert by_file["one.py"] == "TSL001"
    assert len(findings) == 2 + len(range(0, FILES, 7))


@pytest.mark.parametrize("detect", [True, False])
def test_a_sharded_run_fills_the_cache_for_the_next_one(
    tmp_path: Path, monkeypatch, detect: bool
) -> None:
    """What the workers saw of each file (its results, whether it may define listeners,
    which fields it declares) reaches the cache: the next run reads no file. (Without the
    field detection, no file is read for its declarations before the shards.)"""
    root = _many(tmp_path, FILES)
    if not detect:
        (root / "pyproject.toml").write_text("[tool.timestamp-lint]\ndetect-fields = false\n")
    (root / "app/zz_learned.py").write_text(LEARNED)
    expected = _findings(root, jobs=1)
    assert _findings(root, jobs=2, cache=True) == expected
    saved = json.loads(next((root / CACHE_DIR_NAME).glob("results-*.json")).read_text())
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    assert sorted(saved["listen"]) == names  # what each file told, wherever it was read
    read: list[Path] = []
    real = api.read_source

    def counting(path: Path, **kwargs) -> bytes:
        read.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(api, "read_source", counting)
    from timestamp_lint import cache as cache_module

    monkeypatch.setattr(cache_module, "read_source", counting)
    assert _findings(root, jobs=2, cache=True) == expected
    assert [p.name for p in read if p.suffix == ".py"] == []


def test_fixes_in_shards_are_those_of_one_process(tmp_path: Path) -> None:
    serial, sharded = _many(tmp_path / "a", FILES), _many(tmp_path / "b", FILES)
    one = fix_paths([serial], options=Options(cache=False, jobs=1))
    two = fix_paths([sharded], options=Options(cache=False, jobs=2))
    assert one.fixed == two.fixed == 2 + len(range(0, FILES, 7))
    assert not one.findings and not two.findings
    for path in sorted(serial.rglob("*.py")):
        assert path.read_bytes() == (sharded / path.relative_to(serial)).read_bytes()
    assert USE not in (sharded / "app/service_007.py").read_text()


@pytest.mark.parametrize("shards", [True, False], ids=["shards", "workers"])
def test_a_file_fixed_by_a_worker_that_then_died_is_read_again(
    tmp_path: Path, monkeypatch, shards: bool
) -> None:
    """The worker wrote its fix, then died before its result came back: the file is read
    again from disk (already fixed), not fixed again from the bytes read before."""
    root = _many(tmp_path, FILES)
    if not shards:
        monkeypatch.setattr(api, "SHARD_MIN_FILES", 10 * FILES)
    real = api.process
    main = os.getpid()
    died = tmp_path / "died"

    def dying(engine, path, options, *rest):
        outcome = real(engine, path, options, *rest)
        if path.name == "service_007.py" and os.getpid() != main and not died.exists():
            died.touch()
            os._exit(1)  # fixed on disk, the outcome lost
        return outcome

    monkeypatch.setattr(api, "process", dying)
    result = fix_paths([root], options=Options(cache=False, jobs=2))
    assert died.exists()
    assert result.errors == ()
    assert USE not in (root / "app/service_007.py").read_text()
    assert (root / "app/service_014.py").read_text() != USE


def _everything_in_shards(monkeypatch) -> list[int]:
    """Read every run's files in shards of 2 on two processes; the list counts the runs."""
    monkeypatch.setattr(api, "SHARD_MIN_FILES", 1)
    monkeypatch.setattr(api, "SHARD_MIN_BYTES", 1)
    monkeypatch.setattr(api, "SHARD_FILES", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    runs: list[int] = []
    real = api._Analyser.shards

    def counted(self, *args):
        runs.append(1)
        return real(self, *args)

    monkeypatch.setattr(api._Analyser, "shards", counted)
    return runs


def test_shards_shrink_as_fewer_files_are_left(monkeypatch) -> None:
    monkeypatch.setattr(api, "SHARD_FILES", 64)
    assert api._shard_size(5000, 2) == 64  # plenty left: full shards
    assert api._shard_size(400, 2) == 50  # an eighth of what is left, on two processes
    assert api._shard_size(40, 2) == 5
    assert api._shard_size(40, 4) == 3  # more processes, smaller shards
    assert api._shard_size(3, 2) == 1
    assert api._shard_size(1, 2) == 1  # never empty, never past what is left
    sizes, left = [], 300
    while left:
        sizes.append(api._shard_size(left, 2))
        left -= sizes[-1]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1


def test_files_named_outside_the_project_walk_are_read_in_shards(
    tmp_path: Path, monkeypatch
) -> None:
    """Files given by name in an excluded folder are linted, and may be read in shards
    while the project's walk holds no file to learn field names from."""
    runs = _everything_in_shards(monkeypatch)
    (tmp_path / "pyproject.toml").write_text('[tool.timestamp-lint]\nexclude = ["vendor"]\n')
    (tmp_path / "vendor").mkdir()
    for n in range(12):
        (tmp_path / f"vendor/m{n}.py").write_text(USE)
    monkeypatch.chdir(tmp_path)
    named = [f"vendor/m{n}.py" for n in range(12)]
    sharded = lint_paths(named, options=Options(cache=False, jobs=2))
    assert runs
    alone = lint_paths(named, options=Options(cache=False, jobs=1))
    assert sharded.files_checked == alone.files_checked == 12
    assert (sharded.findings, sharded.unresolved) == (alone.findings, alone.unresolved)


@pytest.mark.parametrize("name", MARKED)
def test_fixture_markers_in_shards(name: str, monkeypatch) -> None:
    runs = _everything_in_shards(monkeypatch)
    project = FIXTURES / name
    monkeypatch.chdir(project)
    found = _found(project, lint_paths(["."], options=NO_CACHE).findings)
    assert found == expected_markers(project)
    assert runs


@pytest.mark.parametrize(
    "test",
    [
        speed.test_editing_a_model_rechecks_the_files_that_use_it,
        speed.test_adding_a_module_rechecks_resolution,
        speed.test_a_listener_added_anywhere_rechecks_the_results_that_asked,
    ],
    ids=lambda test: test.__name__.removeprefix("test_"),
)
def test_cached_runs_in_shards(test, tmp_path: Path, monkeypatch) -> None:
    """The cache's tests, every file read in shards: results stay right across edits."""
    runs = _everything_in_shards(monkeypatch)
    test(tmp_path)
    assert runs
