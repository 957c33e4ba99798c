"""Cache, worker processes and pre-filters change how fast results come, never the results."""

from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path

import pytest

from timestamp_lint import api
from timestamp_lint import cache as cache_module
from timestamp_lint.api import Options, lint_paths
from timestamp_lint.cache import CACHE_DIR_NAME

from .conftest import FIXTURES, modules_loaded_by_a_plain_run, run_cli

PROJECTS = sorted(p.parent.name for p in FIXTURES.glob("*/expected.txt"))


def _copy(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root, ignore=shutil.ignore_patterns(CACHE_DIR_NAME))
    if not (root / "pyproject.toml").exists() and not (root / "timestamp-lint.toml").exists():
        (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    return root


@pytest.mark.parametrize("name", PROJECTS)
def test_prefilters_lose_nothing(tmp_path: Path, name: str) -> None:
    root = _copy(tmp_path, name)
    filtered = lint_paths([root], options=Options(cache=False))
    unfiltered = lint_paths([root], options=Options(cache=False, prefilter=False))
    assert filtered.findings == unfiltered.findings


@pytest.mark.parametrize("name", PROJECTS)
def test_cached_runs_equal_uncached_runs(tmp_path: Path, name: str) -> None:
    root = _copy(tmp_path, name)
    uncached = lint_paths([root], options=Options(cache=False)).findings
    assert not (root / CACHE_DIR_NAME).exists()
    cold = lint_paths([root]).findings
    warm = lint_paths([root]).findings
    assert cold == warm == uncached
    assert (root / CACHE_DIR_NAME / ".gitignore").read_text().endswith("*\n")


MODELS_ORM = """
from sqlalchemy import Column, DateTime, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    created_at = Column(DateTime, server_default=func.now())
"""
MODELS_DTO = """
from datetime import datetime

from pydantic import BaseModel


class Flow(BaseModel):
    created_at: datetime
"""
USE = "from app.models import Flow\n\n\ndef f(m):\n    return Flow(created_at=m.created_at)\n"


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    (root / "app/__init__.py").write_text("")
    (root / "app/models.py").write_text(MODELS_ORM)
    (root / "app/one.py").write_text(USE)
    (root / "app/two.py").write_text(USE)
    return root


def _files(root: Path) -> list[str]:
    return [f.path.name for f in lint_paths([root]).findings]


def test_editing_a_model_rechecks_the_files_that_use_it(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert _files(root) == ["one.py", "two.py"]
    (root / "app/models.py").write_text(MODELS_DTO)  # Flow is no longer an ORM model
    assert _files(root) == []
    (root / "app/models.py").write_text(MODELS_ORM)
    assert _files(root) == ["one.py", "two.py"]


def test_adding_a_module_rechecks_resolution(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app/models.py").rename(root / "app/orm.py")
    assert _files(root) == []  # app.models does not exist: nothing resolves
    (root / "app/models.py").write_text("from app.orm import Flow\n")
    assert _files(root) == ["one.py", "two.py"]


def test_unchanged_files_are_not_read_on_a_warm_run(tmp_path: Path, monkeypatch) -> None:
    root = _project(tmp_path)
    lint_paths([root])
    reads: list[Path] = []
    real = api.read_source

    def counting(path: Path, **kwargs) -> bytes:
        if path.suffix == ".py":  # the cache file itself is read, of course
            reads.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(api, "read_source", counting)
    monkeypatch.setattr(cache_module, "read_source", counting)  # the listener check
    assert _files(root) == ["one.py", "two.py"]
    assert reads == []
    os.utime(root / "app/one.py")  # touched, same content: read and hashed, not analysed
    assert _files(root) == ["one.py", "two.py"]
    assert reads == [root / "app/one.py"]


def test_a_warm_run_stats_each_file_once(tmp_path: Path, monkeypatch) -> None:
    """Results that asked about listeners make a warm run check every project file's
    stat (`Cache.listeners`); a file's stat is then taken once, not again for its lookup."""
    root = _project(tmp_path)
    (root / "app/models.py").write_text(LEGACY)  # TSL003 asks about listeners
    (root / "app/hooks.py").write_text("X = 1\n")
    lint_paths([root])
    stats: list[str] = []
    real = os.stat

    def counting(path, *args, **kwargs):
        if str(path).endswith(".py") and str(path).startswith(str(root)):
            stats.append(os.path.relpath(path, root))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    assert _files(root) == ["models.py", "one.py", "two.py"]
    assert sorted(stats) == [f"app/{n}.py" for n in ("__init__", "hooks", "models", "one", "two")]


LEGACY = """
from sqlalchemy import Column, DateTime
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    created_at = Column(DateTime)
"""
LISTENER = """
from sqlalchemy import event

from app.models import Flow


@event.listens_for(Flow, "before_insert")
def stamp(mapper, connection, target):
    target.created_at = now()
"""


def test_a_listener_added_anywhere_rechecks_the_results_that_asked(tmp_path: Path) -> None:
    """Whether a column stamps itself can depend on a listener in any file, even one that
    never mentioned listeners before: cached results that asked about them are re-checked."""
    root = _project(tmp_path)
    (root / "app/models.py").write_text(LEGACY)
    (root / "app/hooks.py").write_text("X = 1\n")

    def run() -> list[tuple[str, str, str | None]]:
        findings = lint_paths([root]).findings
        return [(f.path.name, f.code, f.fix and f.fix.applicability.value) for f in findings]

    assert run() == [
        ("models.py", "TSL003", None),
        ("one.py", "TSL001", "unsafe"),
        ("two.py", "TSL001", "unsafe"),
    ]
    (root / "app/hooks.py").write_text(LISTENER)
    assert run() == [("one.py", "TSL001", "safe"), ("two.py", "TSL001", "safe")]
    (root / "app/hooks.py").unlink()
    assert run() == [
        ("models.py", "TSL003", None),
        ("one.py", "TSL001", "unsafe"),
        ("two.py", "TSL001", "unsafe"),
    ]
    cache_file = next((root / CACHE_DIR_NAME).glob("results-*.json"))
    assert "app/hooks.py" not in json.loads(cache_file.read_bytes())["listen"]  # forgotten


@pytest.mark.parametrize("cache", [True, False])
@pytest.mark.parametrize("detect", ["", "detect-fields = false\n"])
def test_a_listener_in_a_file_no_other_stage_reads_is_found(
    tmp_path: Path, cache: bool, detect: str
) -> None:
    """The files read for listeners are those the field detection's pass (or the cache's
    memory of it) found to mention a `listen` call, or every file when neither ran."""
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n" + detect)
    (root / "app/models.py").write_text(LEGACY)
    (root / "app/hooks.py").write_text(LISTENER)
    for _ in range(2):  # the second run from the cache's memory, when there is one
        findings = lint_paths([root / "app" / "models.py"], options=Options(cache=cache))
        assert [f.code for f in findings.findings] == []


def test_classifying_a_class_reads_mappings_not_listeners(tmp_path: Path) -> None:
    """Whether a class is a model asks only which classes are mapped imperatively: the
    files that only define listeners are parsed when a column asks for its listeners."""
    from timestamp_lint.config import load_config
    from timestamp_lint.index import Kind, ProjectIndex

    root = _project(tmp_path)
    (root / "app/hooks.py").write_text(LISTENER)
    (root / "app/mapped.py").write_text(
        "from sqlalchemy import Column, DateTime, MetaData, Table\n"
        "from sqlalchemy.orm import registry\n\n"
        "flows = Table('flows', MetaData(), Column('created_at', DateTime))\n\n\n"
        "class Flow:\n    pass\n\n\n"
        "registry().map_imperatively(Flow, flows)\n"
    )
    (root / "app/plain.py").write_text("class Plain:\n    pass\n")
    index = ProjectIndex(load_config(root))
    plain = index.summary(root / "app/plain.py").classes["Plain"]
    mapped = index.summary(root / "app/mapped.py").classes["Flow"]
    assert index.class_kind(plain) is Kind.NONE
    assert index.class_kind(mapped) is Kind.MODEL
    assert root / "app/hooks.py" not in index._summaries
    assert index._hook_map()  # the listener is found when asked for
    assert root / "app/hooks.py" in index._summaries


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"not json",
        b'{"format": 99}',
        b'{"format": 1, "entries": {"x": {"m": "no"}}}',
        b'{"format": 1, "project": "?", "entries": []}',
        b"\x80\x81",
    ],
)
def test_corrupt_or_foreign_cache_is_ignored_and_rebuilt(tmp_path: Path, garbage: bytes) -> None:
    root = _project(tmp_path)
    lint_paths([root])
    [cache_file] = (root / CACHE_DIR_NAME).glob("results-*.json")
    cache_file.write_bytes(garbage)
    assert _files(root) == ["one.py", "two.py"]
    assert json.loads(cache_file.read_bytes())["format"] == cache_module.FORMAT


def test_no_cache_and_cache_dir_options(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert run_cli("--no-cache", cwd=root).returncode == 1
    assert not (root / CACHE_DIR_NAME).exists()
    elsewhere = tmp_path / "cache"
    assert run_cli("--cache-dir", str(elsewhere), cwd=root).returncode == 1
    assert list(elsewhere.glob("results-*.json"))
    assert not (root / CACHE_DIR_NAME).exists()


def _many(tmp_path: Path, count: int) -> Path:
    root = _project(tmp_path)
    for index in range(count):
        # the others pass the byte pre-filter (the comment reads a field) and hold no finding
        body = USE if index % 7 == 0 else USE.replace("m.created_at)", "now)  # m.created_at")
        (root / f"app/service_{index:03}.py").write_text(body)
    return root


def test_workers_give_the_same_output_as_one_process(tmp_path: Path) -> None:
    root = _many(tmp_path, 3 * api.PARALLEL_MIN_FILES)
    serial = run_cli("--no-cache", "--jobs", "1", "--output-format", "json", cwd=root)
    parallel = run_cli("--no-cache", "--jobs", "2", "--output-format", "json", cwd=root)
    assert serial.returncode == parallel.returncode == 1
    assert serial.stdout == parallel.stdout
    assert len(json.loads(serial.stdout)) == 2 + len(range(0, 3 * api.PARALLEL_MIN_FILES, 7))


def crash_in_a_worker(monkeypatch, name: str) -> None:
    """The analysis of the file `name` kills its worker process (and must not run in this
    one): what a segfault in the native parser looks like from outside."""
    real = api.process
    main = os.getpid()

    def crashing(engine, path, options, *rest):
        if path.name == name:
            if os.getpid() == main:
                raise AssertionError(f"expected {name} to be analysed by a worker")
            os._exit(1)
        return real(engine, path, options, *rest)

    monkeypatch.setattr(api, "process", crashing)


def test_a_worker_that_dies_costs_only_its_file(tmp_path: Path, monkeypatch) -> None:
    root = _many(tmp_path, 2 * api.PARALLEL_MIN_FILES)
    crash_in_a_worker(monkeypatch, "service_007.py")
    findings = lint_paths([root], options=Options(cache=False, jobs=2)).findings
    by_file = {f.path.name: f.code for f in findings}
    assert by_file["service_007.py"] == "TSL999"
    assert by_file["service_014.py"] == "TSL001"
    assert by_file["one.py"] == "TSL001"


SHADOWED = """
from app.schemas import Flow


def f(m):
    from app.models import Flow

    return Flow(created_at=m.created_at)


def g(m):
    return Flow(created_at=m.created_at)
"""


def test_prefilter_respects_function_level_imports(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app/schemas.py").write_text(MODELS_DTO)
    (root / "app/one.py").write_text(SHADOWED)
    for prefilter in (True, False):
        findings = lint_paths([root / "app/one.py"], options=Options(prefilter=prefilter)).findings
        assert [f.line for f in findings] == [8]


ALIASED = """from app.models import Flow

Alias = Flow
STAMPS = [m.created_at for m in ()]


def f(m):
    return Alias(created_at=m.created_at)
"""
MODULE_LEVEL = """from app.models import Flow

master = load()
stamp = master.created_at
Flow(created_at=stamp)
"""


def test_module_level_values_are_left_out_only_where_no_rule_traces_them(
    tmp_path: Path,
) -> None:
    """LibCST sees `Alias = ...` (the binding, not the value) when every value is given
    inside a function; a value given at module level keeps every module-level value."""
    root = _project(tmp_path)
    (root / "app/aliased.py").write_text(ALIASED)
    (root / "app/module_level.py").write_text(MODULE_LEVEL)
    engine = api.make_engine(api.resolve_config([root]))
    for name, kept, left_out in [
        ("aliased.py", ["Alias = ...", "STAMPS = ..."], ["for m in"]),
        ("module_level.py", ["stamp = master.created_at", "master = load()"], []),
    ]:
        data = (root / "app" / name).read_bytes()
        text = data.decode()
        source, _ = engine.prescreen.focus(data, text, ast.parse(text))
        assert all(k in source for k in kept) and not any(x in source for x in left_out), source
    found = {}
    for prefilter in (True, False):
        findings = lint_paths([root], options=Options(cache=False, prefilter=prefilter)).findings
        found[prefilter] = [(f.path.name, f.line, f.code) for f in findings]
    assert found[True] == found[False]
    assert ("aliased.py", 8, "TSL001") in found[True]
    assert ("module_level.py", 5, "TSL001") in found[True]


def test_a_few_large_files_are_analysed_by_workers(tmp_path: Path, monkeypatch) -> None:
    """Workers start once the files to analyse reach `PARALLEL_MIN_BYTES`, however few."""
    root = _project(tmp_path)
    padding = "# " + "x" * 97 + "\n"
    for index in range(3):
        body = USE + padding * (api.PARALLEL_MIN_BYTES // 200)
        (root / f"app/large_{index}.py").write_text(body)
    real = api.process
    main = os.getpid()
    where = tmp_path / "analysed-in"

    def recording(engine, path, options, *rest):
        with where.open("a") as out:
            out.write(f"{path.name} {'worker' if os.getpid() != main else 'main'}\n")
        return real(engine, path, options, *rest)

    monkeypatch.setattr(api, "process", recording)
    findings = lint_paths([root], options=Options(cache=False, jobs=2)).findings
    assert {f.path.name for f in findings} >= {"large_0.py", "large_1.py", "large_2.py"}
    assert 3 < len(where.read_text().splitlines()) < api.PARALLEL_MIN_FILES
    assert set(where.read_text().split()[1::2]) == {"worker"}


def test_a_plain_run_imports_only_what_it_uses(tmp_path: Path) -> None:
    """Start-up is most of a run on a small tree: what only some runs need (`--since`'s git
    diff, `--diff`, a suggestion for a mistyped setting, temporary files, git outside a
    work tree) is imported when it is needed; the cache's hash is BLAKE2 alone, without
    the OpenSSL bindings that `hashlib` loads first."""
    loaded = modules_loaded_by_a_plain_run(tmp_path)
    assert "timestamp_lint.cli" in loaded
    wanted = {"difflib", "tempfile", "subprocess", "timestamp_lint.since", "hashlib", "_hashlib"}
    assert sorted(loaded & wanted) == []


def test_the_cache_knows_the_installed_libcst_without_importing_it(monkeypatch) -> None:
    """The cache's key names LibCST's file and its mtime, found as `import` would find
    it, and changes when the finders find another LibCST (an upgrade or reinstall)."""
    import importlib.util
    import sys

    spec = importlib.util.find_spec("libcst")
    key = cache_module._libcst_version()
    assert key == f"{spec.origin}:{os.stat(spec.origin).st_mtime_ns}"

    class Elsewhere:
        def find_spec(self, name, path):
            return (
                importlib.util.spec_from_file_location(name, __file__) if name == "libcst" else None
            )

    monkeypatch.setattr(sys, "meta_path", [Elsewhere(), *sys.meta_path])
    assert cache_module._libcst_version() == f"{__file__}:{os.stat(__file__).st_mtime_ns}"
    monkeypatch.setattr(sys, "meta_path", [])
    assert cache_module._libcst_version() == "?"


def test_a_warm_run_imports_no_analysis(tmp_path: Path) -> None:
    """A run whose every file has a valid cached result builds no project index or engine,
    and imports neither (nor the byte scan, the first pass or the column readers): they
    are most of the start-up that every warm and pre-commit run would pay."""
    analysis = {
        "timestamp_lint.engine",
        "timestamp_lint.index",
        "timestamp_lint.prescreen",
        "timestamp_lint.detect",
        "timestamp_lint.columns",
        "timestamp_lint.helpers",
        "timestamp_lint.prefilter",
    }
    cold = modules_loaded_by_a_plain_run(tmp_path)
    assert analysis <= cold  # the file needed them once
    warm = modules_loaded_by_a_plain_run(tmp_path, warm=True)
    assert "timestamp_lint.cli" in warm and "timestamp_lint.cache" in warm
    assert sorted(warm & analysis) == []


LEARNED = """
from sqlalchemy import Column, DateTime, Integer, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    stamped_on = Column(DateTime, server_default=func.now())


def child_of(master):
    return Flow(stamped_on=master.stamped_on)
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_module_read_for_its_summary_is_parsed_once(tmp_path: Path, monkeypatch, jobs) -> None:
    """The field detection reads the models module (`stamped_on` is no default field name)
    before it is linted: the engine lints the tree the summary was made from."""
    root = _many(tmp_path, api.PARALLEL_MIN_FILES if jobs > 1 else 0)
    models = root / "app/models.py"
    models.write_text(LEARNED)
    (root / "app/one.py").write_text(USE.replace("created_at", "stamped_on"))
    log = tmp_path / "parses"
    real = ast.parse

    def counting(source, filename="<unknown>", *args, **kwargs):
        if source == LEARNED:  # the whole module (a focused source is another text)
            with log.open("a") as out:
                out.write(f"{os.getpid()}\n")
        return real(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    findings = lint_paths([root], options=Options(cache=False, jobs=jobs)).findings
    assert {(f.path.name, f.line) for f in findings} >= {("models.py", 15), ("one.py", 5)}
    assert len(log.read_text().split()) == 1


def test_a_kept_tree_serves_only_the_bytes_it_was_parsed_from(tmp_path: Path) -> None:
    from timestamp_lint.config import load_config
    from timestamp_lint.index import KeptTrees, ProjectIndex

    root = _project(tmp_path)
    models = root / "app/models.py"
    data = models.read_bytes()
    index = ProjectIndex(load_config(root))
    assert index.summary(models) is not None
    assert index.trees.take(models, data + b"\n") is None  # edited since: parse again
    assert index.summary(models) is not None
    assert index.trees.take(models, data) is None  # forgotten once asked for
    index = ProjectIndex(load_config(root))
    index.summary(models)
    assert index.trees.peek(models) is index.trees.peek(models) is not None
    tree = index.trees.take(models, data)
    assert ast.dump(tree) == ast.dump(ast.parse(MODELS_ORM))
    assert index.trees.take(models, data) is None

    index = ProjectIndex(load_config(root))
    index.summary(models)
    index.add_tree(models, ast.parse(MODELS_DTO))  # e.g. an editor's buffer over the disk
    assert index.trees.peek(models) is None  # the disk's tree no longer matches the summary

    trees = KeptTrees(limit=10)
    trees.keep(Path("a.py"), b"x = 1\n", ast.parse("x = 1"))
    trees.keep(Path("b.py"), b"y = 22\n", ast.parse("y = 22"))  # over the limit: not kept
    trees.keep(Path("c.py"), b"z\n", ast.parse("z"))
    assert [trees.peek(Path(f"{n}.py")) is not None for n in "abc"] == [True, False, True]
    trees.prune(lambda path, data: path.name == "c.py")
    assert [trees.peek(Path(f"{n}.py")) is not None for n in "abc"] == [False, False, True]
    trees.keep(Path("a.py"), b"x = 1\n", ast.parse("x = 1"))  # room again
    assert trees.peek(Path("a.py")) is not None
    trees.stop()
    trees.keep(Path("d.py"), b"", ast.parse(""))
    assert trees.peek(Path("d.py")) is None and trees.peek(Path("c.py")) is not None
    trees.stop(forget=True)
    assert trees.peek(Path("c.py")) is None


MAPPED = """
from sqlalchemy import Column, DateTime, Integer, MetaData, Table
from sqlalchemy.orm import registry

metadata = MetaData()
mapper_registry = registry()
flows = Table("flows", metadata, Column("id", Integer), Column("created_at", DateTime))


class Flow:
    pass


def make_flow(**fields):
    return Flow(**fields)


mapper_registry.map_imperatively(Flow, flows)
"""


def _parses_of(source: str, monkeypatch) -> list[str]:
    """From now on, each `ast.parse` of the whole of `source`."""
    parses: list[str] = []
    real = ast.parse

    def counting(text, *args, **kwargs):
        if text == source:
            parses.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    return parses


def test_a_mapping_and_a_helper_are_read_from_the_summary_tree(tmp_path, monkeypatch) -> None:
    """The imperative mapping (`map_imperatively`) and a helper another file calls are read
    from the tree the module's summary was made from, not from a parse of their own."""
    root = _project(tmp_path)
    (root / "app/models.py").write_text(MAPPED)
    (root / "app/one.py").write_text(
        "from app.models import make_flow\n\n\ndef f(m):\n"
        "    return make_flow(created_at=m.created_at)\n"
    )
    (root / "app/two.py").unlink()
    parses = _parses_of(MAPPED, monkeypatch)
    findings = lint_paths([root], options=Options(cache=False, jobs=1)).findings
    assert [(f.path.name, f.code) for f in findings] == [("one.py", "TSL001")]
    assert len(parses) == 1


def _mapped_project(tmp_path: Path) -> Path:
    root = _project(tmp_path)
    (root / "app/models.py").write_text(MAPPED)
    (root / "app/one.py").write_text(
        "from app.models import Flow\n\n\ndef f(m):\n    return Flow(created_at=m.created_at)\n"
    )
    (root / "app/two.py").unlink()
    return root


def test_a_one_file_run_parses_no_mapping_module(tmp_path: Path, monkeypatch) -> None:
    """The calls that may map a class imperatively are kept with the module's summary in
    the cache: re-linting a file that asks whether a class is mapped parses none of the
    modules that map classes, and finds the same mapping."""
    root = _mapped_project(tmp_path)
    first = lint_paths([root], options=Options(jobs=1)).findings
    assert [(f.path.name, f.code) for f in first] == [("one.py", "TSL001")]
    one = root / "app/one.py"
    one.write_text(one.read_text() + "# edited\n")
    parses = _parses_of(MAPPED, monkeypatch)
    again = lint_paths([root], options=Options(jobs=1)).findings
    assert [(f.path.name, f.line, f.code) for f in again] == [
        (f.path.name, f.line, f.code) for f in first
    ]
    assert parses == []


def test_a_mapping_in_a_large_module_is_read_chunk_by_chunk(tmp_path: Path, monkeypatch) -> None:
    """A large module is summarized in chunks of top-level statements: the table and the
    mapping call, in different chunks, still make the class a model with the table's
    columns."""
    from timestamp_lint.config import load_config
    from timestamp_lint.index import Kind, ProjectIndex

    monkeypatch.setenv("TSL_TEST_LARGE_SOURCE", "100")
    monkeypatch.setenv("TSL_TEST_CHUNK_SIZE", "60")
    root = _mapped_project(tmp_path)
    index = ProjectIndex(load_config(root))
    summary = index.summary(root / "app/models.py")
    flow = summary.classes["Flow"]
    assert index.class_kind(flow) is Kind.MODEL
    mapped = index.mapping(flow)
    assert mapped is not None and set(mapped[1]) == {"created_at"}
    findings = lint_paths([root], options=Options(cache=False, jobs=1)).findings
    assert [(f.path.name, f.code) for f in findings] == [("one.py", "TSL001")]


LEARNED_MODELS = """
from sqlalchemy import Column, DateTime, func

from app.base import Base


class Flow(Base):
    __tablename__ = "flows"
    started = Column(DateTime, default=func.now())
"""
LEARNED_USE = "from app.models import Flow\n\n\ndef f(m):\n    return Flow(started=m.started)\n"


def _learned_project(tmp_path: Path) -> Path:
    """A model whose timestamp column is learned from its declaration (`started`), not
    configured, and a plain module that mentions no field."""
    root = tmp_path / "p"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    (root / "app/__init__.py").write_text("")
    (root / "app/base.py").write_text(
        "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n"
    )
    (root / "app/models.py").write_text(LEARNED_MODELS)
    (root / "app/plain.py").write_text("X = 1\n")
    return root


def _count_engine_builds(monkeypatch) -> list[Path]:
    """The roots of the engines (and project indexes) the runs from now on build."""
    built: list[Path] = []
    real = api.make_engine

    def counting(config, *args, **kwargs):
        built.append(config.root)
        return real(config, *args, **kwargs)

    monkeypatch.setattr(api, "make_engine", counting)
    return built


def test_an_edited_file_that_stops_at_its_bytes_builds_no_index(
    tmp_path: Path, monkeypatch
) -> None:
    """The cache remembers the field names the models declared: a run whose changed files
    all stop at the byte scan (an edit, a pre-commit run) scans them for those names
    without building the project index; a file that needs more builds it."""
    root = _learned_project(tmp_path)
    (root / "app/one.py").write_text(LEARNED_USE)
    assert [f.path.name for f in lint_paths([root], options=Options(jobs=1)).findings] == ["one.py"]
    built = _count_engine_builds(monkeypatch)
    with (root / "app/plain.py").open("a") as file:
        file.write("# edited\n")
    findings = lint_paths([root], options=Options(jobs=1)).findings
    assert [f.path.name for f in findings] == ["one.py"]  # from the cache
    assert built == []
    # the scan looks for the learned name too: this edit needs the analysis, and finds;
    # the engine built for it takes the remembered names, confirming none again
    from timestamp_lint import detect

    confirmations: list[object] = []
    real_declared = detect._declared

    def confirming(index):
        confirmations.append(index)
        return real_declared(index)

    monkeypatch.setattr(detect, "_declared", confirming)
    (root / "app/plain.py").write_text(LEARNED_USE)
    findings = lint_paths([root], options=Options(jobs=1)).findings
    assert [f.path.name for f in findings] == ["one.py", "plain.py"]
    assert len(built) == 1
    assert confirmations == []


def test_without_learned_fields_files_that_stop_at_their_bytes_build_no_index(
    tmp_path: Path, monkeypatch
) -> None:
    """With `detect-fields = false` the field names are the configured ones: even a cold
    run scans with them and builds the index only for a file that needs analysis."""
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\ndetect-fields = false\n")
    (root / "app/plain.py").write_text("X = 1\n")
    built = _count_engine_builds(monkeypatch)
    options = Options(cache=False, jobs=1)
    assert lint_paths([root / "app/plain.py"], options=options).findings == []
    assert built == []
    findings = lint_paths([root], options=options).findings
    assert [f.path.name for f in findings] == ["one.py", "two.py"]
    assert len(built) == 1


def test_the_field_names_are_confirmed_again_when_a_file_the_confirmation_read_changes(
    tmp_path: Path,
) -> None:
    """The confirmed field names serve a later run while the same files declare the same
    candidates and every file the confirmation read (the model's base too) is unchanged."""
    from timestamp_lint.cache import Cache
    from timestamp_lint.config import load_config

    root = _learned_project(tmp_path)

    def remembered() -> frozenset[str] | None:
        config = load_config(root)
        files = api.project_files_of(config)
        return Cache(root / CACHE_DIR_NAME, config, files, with_edits=False).field_names()

    assert remembered() is None  # nothing confirmed yet
    lint_paths([root], options=Options(jobs=1))
    assert remembered() == {"created_at", "updated_at", "started"}
    with (root / "app/plain.py").open("a") as file:  # neither a candidate nor read for one
        file.write("# edited\n")
    assert remembered() == {"created_at", "updated_at", "started"}
    (root / "app/base.py").write_text("class Base:\n    pass\n")  # no ORM model any more
    assert remembered() is None
    lint_paths([root], options=Options(jobs=1))
    assert remembered() == {"created_at", "updated_at"}
    with (root / "app/models.py").open("a") as file:  # a candidate's file changed
        file.write("# edited\n")
    assert remembered() is None
    # a candidate in a file that does not parse confirms nothing, and the confirmation
    # read nothing of it: once it parses, with the same candidate, it is confirmed
    (root / "app/base.py").write_text(
        "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n"
    )
    later = LEARNED_MODELS.replace("Flow", "Later").replace("started", "ended")
    (root / "app/later.py").write_text(later.replace('"flows"', '"later" +'))
    lint_paths([root], options=Options(jobs=1))
    assert remembered() == {"created_at", "updated_at", "started"}
    (root / "app/later.py").write_text(later.replace('"flows"', '"later"'))
    assert remembered() is None
    lint_paths([root], options=Options(jobs=1))
    assert remembered() == {"created_at", "updated_at", "started", "ended"}


def test_a_first_run_with_the_cache_reads_each_file_for_its_declarations_once(
    tmp_path: Path, monkeypatch
) -> None:
    """The field detection asks the cache for every file's declarations, which reads them
    all; the read loop that follows does not compute them again."""
    from timestamp_lint import prefilter

    root = _project(tmp_path)
    counted: list[bytes] = []
    real = prefilter.candidates_in

    def counting(data, configured):
        counted.append(data)
        return real(data, configured)

    monkeypatch.setattr(prefilter, "candidates_in", counting)
    findings = lint_paths([root], options=Options(jobs=1)).findings
    assert [f.path.name for f in findings] == ["one.py", "two.py"]
    files = [p for p in root.rglob("*.py")]
    assert len(counted) == len(files)


def test_a_worker_keeps_no_tree_of_its_own(tmp_path: Path, monkeypatch) -> None:
    """A worker lints the files it is given: a module it summarizes along the way is not
    kept for a lint that another process will do (each worker would hold its own copy)."""
    root = _many(tmp_path, api.PARALLEL_MIN_FILES)
    unused = root / "app/unused.py"
    unused.write_text("X = 1\n")
    real = api.process
    main = os.getpid()
    where = tmp_path / "kept"

    def recording(engine, path, options, *rest):
        if path.name == "service_007.py":
            assert engine.index.summary(unused) is not None
            kept = engine.index.trees.peek(unused) is not None
            with where.open("a") as out:
                out.write(f"{'worker' if os.getpid() != main else 'main'} {kept}\n")
        return real(engine, path, options, *rest)

    monkeypatch.setattr(api, "process", recording)
    lint_paths([root], options=Options(cache=False, jobs=2))
    lint_paths([root], options=Options(cache=False, jobs=1))
    assert where.read_text().splitlines() == ["worker False", "main True"]


def test_workers_inherit_only_the_trees_of_files_to_analyse(tmp_path, monkeypatch) -> None:
    """Before the workers fork, the trees kept for files that need no analysis are
    dropped: each worker would hold a copy of them for nothing."""
    root = _many(tmp_path, api.PARALLEL_MIN_FILES)
    # read by the field detection, nothing to report, scanned after the workers start
    models = root / "app/zz_learned.py"
    models.write_text(LEARNED.split("\n\ndef child_of")[0] + "\n")
    real = api.process
    where = tmp_path / "inherited"

    def recording(engine, path, options, *rest):
        if path.name == "service_007.py":
            with where.open("a") as out:
                out.write(f"{engine.index.trees.peek(models) is not None}\n")
        return real(engine, path, options, *rest)

    monkeypatch.setattr(api, "process", recording)
    from timestamp_lint.index import ProjectIndex

    kept: list[bool] = []
    summary = ProjectIndex.summary

    def summarized(self, path, data=None):
        found = summary(self, path, data)
        if path == models:
            kept.append(self.trees.peek(models) is not None)
        return found

    monkeypatch.setattr(ProjectIndex, "summary", summarized)
    lint_paths([root], options=Options(cache=False, jobs=2))
    assert kept and kept[0]  # kept when the field detection parsed it
    assert where.read_text().split() == ["False"]


def test_field_learning_parses_no_file_for_a_name_already_confirmed(tmp_path, monkeypatch):
    """The models module confirms `stamped_on` first (files named for models come first):
    the schemas that declare it too are not parsed to learn it again."""
    root = _project(tmp_path)
    (root / "app/models.py").write_text(LEARNED)
    schema = "from pydantic import BaseModel, Field\n\n\nclass S(BaseModel):\n"
    schema += "    stamped_on: str = Field(default_factory=now)\n"
    for name in ("a_schema.py", "b_schema.py"):
        (root / "app" / name).write_text(schema)
    parsed: list[str] = []
    real = ast.parse

    def counting(source, *args, **kwargs):
        parsed.append(kwargs.get("filename") or (args[0] if args else ""))
        return real(source, *args, **kwargs)

    from timestamp_lint import detect
    from timestamp_lint.config import load_config
    from timestamp_lint.index import ProjectIndex

    index = ProjectIndex(load_config(root))
    monkeypatch.setattr(ast, "parse", counting)
    assert "stamped_on" in detect.field_names(index)
    assert [Path(p).name for p in parsed if str(p).endswith(".py")] == ["models.py"]
