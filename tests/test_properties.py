"""Property-based tests: linting never raises, and --fix removes exactly what it reports.

Programs come from `hypothesmith` (random valid Python from the grammar, and from LibCST's
node types), from byte-level mutations of the fixture files, and from splicing generated model
constructions that copy timestamps (keyword arguments, dict entries, assignments after
construction, Core inserts, Django managers; one-line or multi-line, with comments, trailing
commas and noqa) into fixture files and generated programs. The properties:

- `Engine.lint_file` never raises, whatever the bytes;
- `--fix` output always parses; fixing twice equals fixing once;
- the AST of the fixed module equals the original AST minus exactly the reported nodes
  (keyword arguments, dict entries and statements; an emptied block gets `pass`).

Profiles: the default `fast` profile (40 examples per test, no deadline) keeps this module
under a minute for CI. The long run, thousands of examples per test:

    TSL_FUZZ=long pytest -q tests/test_properties.py

(`TSL_FUZZ_EXAMPLES=N` overrides the number of examples of either profile.)
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from timestamp_lint import api
from timestamp_lint.api import fix_paths, lint_paths, make_engine, resolve_config

from .conftest import FIXTURES, remove_reported

# hypothesmith compiles what it generates; CPython warns about code like `1()`
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "tsl-fast", max_examples=40, deadline=None, suppress_health_check=_SUPPRESSED, print_blob=True
)
settings.register_profile(
    "tsl-long", max_examples=3000, deadline=None, suppress_health_check=_SUPPRESSED, print_blob=True
)
PROFILE = settings.get_profile("tsl-long" if os.environ.get("TSL_FUZZ") == "long" else "tsl-fast")
if os.environ.get("TSL_FUZZ_EXAMPLES"):
    PROFILE = settings(PROFILE, max_examples=int(os.environ["TSL_FUZZ_EXAMPLES"]))

# Runs without the on-disk cache and worker processes, when this version has those options:
# every example rewrites the same file, and the properties are about the analysis.
_FIELDS = set(api.Options._fields) if hasattr(api, "Options") else set()
RUN = {"options": api.Options(cache=False, jobs=1)} if {"cache", "jobs"} <= _FIELDS else {}

IMPORTS = (
    "from sqlalchemy import insert\n"
    "from app.django_models import Event\n"
    "from app.models import Flow, Legacy\n"
    "from shop.models import Order, OrderLine\n"
)
HOSTS = sorted(
    [
        *(FIXTURES / "fixes" / "app" / "cases").glob("*.py"),
        *(FIXTURES / "sqlalchemy_app" / "shop" / "services").glob("*.py"),
    ]
)
HOST_TEXTS = [p.read_text(encoding="utf-8") for p in HOSTS if p.stat().st_size]


# --------------------------------------------------------------------------- project


@dataclasses.dataclass
class Project:
    root: Path
    target: Path
    engine: object
    config: object


@pytest.fixture(scope="module")
def proj(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The SQLAlchemy fixture project with the `fixes` models beside it; examples are written
    to `shop/services/fuzz_target.py` (relative imports there resolve)."""
    root = tmp_path_factory.mktemp("props") / "proj"
    shutil.copytree(FIXTURES / "sqlalchemy_app", root)
    shutil.copytree(FIXTURES / "fixes" / "app", root / "app")
    target = root / "shop" / "services" / "fuzz_target.py"
    target.write_text("")
    config = resolve_config([root])
    return Project(root, target, make_engine(config), config)


# --------------------------------------------------------------------------- strategies

VALUES = {
    "created_at": ["m.created_at", "m.created_at or now()", 'getattr(m, "created_at")', "ts"],
    "updated_at": ["m.updated_at", "m.updated_at + delta", 'm["updated_at"]', "other.updated_at"],
}
OTHER_ARGS = ["name=m.name", "id=None", "number=m.number", "order_id=m.id"]
MODELS = ["Flow", "Legacy", "Order", "OrderLine"]


@st.composite
def argument_list(draw, entries: list[str], bracket_indent: str) -> str:
    """`entries` laid out on one line or one per line, with comments and a trailing comma."""
    if draw(st.booleans()):
        return ", ".join(entries)
    inner = bracket_indent + "    "
    lines = []
    for entry in entries:
        if draw(st.integers(0, 5)) == 0:
            lines.append(f"{inner}# a comment line\n")
        comment = draw(st.sampled_from(["", "", "  # note", "  # noqa: TSL001"]))
        lines.append(f"{inner}{entry},{comment}\n")
    text = "".join(lines)
    if not draw(st.booleans()):  # no trailing comma after the last entry
        head, _, tail = text.rpartition(",")
        text = head + tail
    return "\n" + text + bracket_indent


@st.composite
def copied(draw) -> list[str]:
    """Keyword arguments that copy timestamps, mixed with ordinary ones."""
    fields = draw(st.lists(st.sampled_from(["created_at", "updated_at"]), min_size=1, unique=True))
    args = [f"{f}={draw(st.sampled_from(VALUES[f]))}" for f in fields]
    args += draw(st.lists(st.sampled_from(OTHER_ARGS), max_size=2, unique=True))
    return draw(st.permutations(args))


@st.composite
def creation(draw, name: str) -> str:
    """A function creating a record with copied timestamps, in one of many shapes, written as
    a plain function, a method, a nested function, with a function-level import of the model
    or through a module-level alias."""
    wrapper = draw(st.sampled_from(["plain", "method", "nested-def", "local-import", "alias"]))
    original = draw(st.sampled_from(MODELS))
    model = {"local-import": f"Local{original}", "alias": f"Alias_{name}"}.get(wrapper, original)
    args = draw(copied())
    shape = draw(
        st.sampled_from(
            [
                "kwargs",
                "dict-splat",
                "dict-variable",
                "dict-call",
                "dict-unpacked",
                "dict-through",
                "assign-after",
                "setattr",
                "semicolons",
                "block",
                "one-line-block",
                "insert",
                "insert-chain",
                "django-create",
                "django-defaults",
                "nested",
                "lambda",
            ]
        )
    )
    body = "    ts = m.created_at\n"
    pairs = [a.split("=", 1) for a in args]
    entries = [f'"{k}": {v}' for k, v in pairs]
    if shape == "kwargs":
        body += f"    return {model}({draw(argument_list(args, '    '))})\n"
    elif shape == "dict-splat":
        body += f"    return {model}(**{{{draw(argument_list(entries, '    '))}}})\n"
    elif shape == "dict-variable":
        body += f"    data = {{{draw(argument_list(entries, '    '))}}}\n"
        body += f"    return {model}(**data)\n"
    elif shape == "dict-call":
        body += f"    values = dict({draw(argument_list(args, '    '))})\n"
        body += f"    return {model}(**values)\n"
    elif shape == "dict-unpacked":
        body += f"    data, extra = {{{draw(argument_list(entries, '    '))}}}, {{}}\n"
        body += f"    return {model}(**data)\n"
    elif shape == "dict-through":
        body += f"    base = {{{draw(argument_list(entries, '    '))}}}\n"
        body += "    data = dict(base)\n"
        body += f"    return {model}(**data)\n"
    elif shape in ("assign-after", "setattr", "semicolons", "block", "one-line-block"):
        body += f"    child = {model}({draw(argument_list(args, '    '))})\n"
        for field, value in pairs:
            if field not in VALUES:
                continue
            if shape == "setattr":
                body += f'    setattr(child, "{field}", {value})\n'
            elif shape == "semicolons":
                body += f"    x = 1; child.{field} = {value}; y = 2\n"
            elif shape == "block":
                body += f"    if m:\n        child.{field} = {value}\n"
            elif shape == "one-line-block":
                body += f"    if m: child.{field} = {value}\n"
            else:
                body += f"    child.{field} = {value}  # comment\n"
        body += "    return child\n"
    elif shape == "insert":
        values = draw(st.sampled_from([args, None]))
        inner = (
            draw(argument_list(values, "    "))
            if values
            else "{" + draw(argument_list(entries, "    ")) + "}"
        )
        body += f"    session.execute(insert(Flow).values({inner}))\n"
    elif shape == "insert-chain":
        inner = draw(argument_list(args, "    "))
        body += f"    session.execute(insert(Flow).returning(Flow.id).values({inner}))\n"
    elif shape == "django-create":
        body += f"    return Event.objects.create({draw(argument_list(args, '    '))})\n"
    elif shape == "django-defaults":
        defaults = "{" + draw(argument_list(entries, "        ")) + "}"
        body += f"    return Event.objects.update_or_create(id=m.id, defaults={defaults})\n"
    elif shape == "nested":
        body += f"    return {model}(name={model}({', '.join(args)}).name, {', '.join(args)})\n"
    else:
        body += f"    make = lambda m: {model}({', '.join(args)})\n    return make(m)\n"
    signature = "(m, other, session, now, delta)"
    if wrapper == "local-import":
        package = "app.models" if original in ("Flow", "Legacy") else "shop.models"
        body = f"    from {package} import {original} as {model}\n" + body
    elif wrapper == "alias":
        return f"{model} = {original}\n\n\ndef {name}{signature}:\n{body}"
    elif wrapper == "method":
        return f"class C_{name}:\n    def {name}(self, {signature[1:]}:\n{_indent(body)}"
    elif wrapper == "nested-def":
        return f"def {name}{signature}:\n    def inner():\n{_indent(body)}    return inner()\n"
    return f"def {name}{signature}:\n{body}"


def _indent(text: str) -> str:
    return "".join("    " + line if line.strip() else line for line in text.splitlines(True))


def _statement_starts(text: str) -> list[int]:
    """0-based indexes of lines where a top-level statement (or its decorators) begins."""
    tree = ast.parse(text)
    starts = []
    for node in tree.body:
        decorators = getattr(node, "decorator_list", [])
        starts.append(min([node.lineno, *(d.lineno for d in decorators)]) - 1)
    return starts


@st.composite
def spliced_fixture(draw) -> str:
    """A fixture file with generated constructions spliced in between its top-level
    statements (after its imports), and the model imports added at the end of those."""
    host = draw(st.sampled_from(HOST_TEXTS))
    lines = host.splitlines(keepends=True)
    starts = _statement_starts(host)
    tree = ast.parse(host)
    first_code = next(
        (i for i, node in zip(starts, tree.body, strict=True) if not _is_header(node)),
        len(lines),
    )
    places = sorted({i for i in starts if i >= first_code} | {len(lines)})
    for number in range(draw(st.integers(1, 3))):
        at = draw(st.sampled_from(places))
        snippet = "\n\n" + draw(creation(f"spliced_{number}")) + "\n\n"
        lines.insert(at, snippet)
        places = [p + 1 if p >= at else p for p in places]
    lines.insert(first_code, IMPORTS)
    return "".join(lines)


def _is_header(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)  # docstring


GRAMMAR = hypothesmith.from_grammar()  # built once: building it compiles a grammar (~1 s)


@st.composite
def spliced_program(draw) -> str:
    """A random valid program from the grammar, followed by generated constructions."""
    program = draw(GRAMMAR)
    snippets = [draw(creation(f"generated_{i}")) for i in range(draw(st.integers(1, 2)))]
    text = program + "\n\n" + IMPORTS + "\n\n" + "\n\n".join(snippets)
    try:
        text.encode()
        with warnings.catch_warnings():  # "'int' object is not callable" and the like
            warnings.simplefilter("ignore", SyntaxWarning)
            compile(text, "<generated>", "exec")
    except (SyntaxError, ValueError, UnicodeEncodeError):
        assume(False)
    return text


TOKENS = [
    b"(",
    b")",
    b"[",
    b"{",
    b":",
    b",",
    b"\n",
    b"\r",
    b"\r\n",
    b"\t",
    b"    ",
    b"\\",
    b"#",
    b'"""',
    b"'",
    b"=",
    b"**",
    b"created_at",
    b"updated_at",
    b"m.created_at",
    b"Flow(",
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"# -*- coding: latin-1 -*-\n",
    b"lambda",
    b"async ",
    b"\x0c",
]


@st.composite
def mutated_fixture(draw) -> bytes:
    """A fixture file with a few byte-level edits: deletions, insertions of tokens or
    random bytes, duplicated or swapped ranges."""
    data = bytearray(draw(st.sampled_from(HOST_TEXTS)).encode())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["delete", "token", "bytes", "duplicate", "swap"]))
        if op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif op == "bytes":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
        else:
            end = min(len(data), at + draw(st.integers(1, 100)))
            other = draw(st.integers(0, len(data)))
            chunk = data[at:end]
            del data[at:end]
            data[min(other, len(data)) : min(other, len(data))] = chunk
    return bytes(data)


# --------------------------------------------------------------------------- invariants


def lint_bytes(proj: Project, data: bytes):
    """Lint `data` as the target file with the shared engine; it must never raise."""
    return proj.engine.lint_file(proj.target, data)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def check_fix(proj: Project, source: str) -> None:
    """Write `source`, fix it (unsafe fixes too), and check every fix property."""
    data = source.encode()
    proj.target.write_bytes(data)
    lines = _LINE_BREAK.split(source)
    reported = lint_paths([proj.target], config=proj.config, **RUN)
    fixable = [f for f in reported.findings if f.fix is not None]
    result = fix_paths([proj.target], config=proj.config, unsafe=True, **RUN)
    fixed = proj.target.read_bytes()
    assert result.errors == ()
    assert result.fixed == len(fixable)
    if not fixable:
        assert fixed == data
    # the output parses, and is the original minus exactly the reported nodes
    after = ast.parse(fixed)
    expected = ast.parse(data)
    spots = {(f.line, len(lines[f.line - 1][: f.column - 1].encode())) for f in fixable}
    remove_reported(expected, spots)
    assert ast.dump(after) == ast.dump(expected)
    # fixing twice is fixing once
    again = fix_paths([proj.target], config=proj.config, unsafe=True, **RUN)
    assert again.fixed == 0
    assert proj.target.read_bytes() == fixed
    assert not [f for f in again.findings if f.fix is not None]


# --------------------------------------------------------------------------- properties


@PROFILE
@given(source=GRAMMAR)
def test_lint_never_raises_on_grammar_programs(proj: Project, source: str) -> None:
    lint_bytes(proj, source.encode("utf-8", "surrogatepass"))
    lint_bytes(proj, (source + "\n\n" + IMPORTS + "x = Flow(created_at=m.created_at)\n").encode())


@PROFILE
@given(source=hypothesmith.from_node())
def test_lint_never_raises_on_libcst_node_programs(proj: Project, source: str) -> None:
    lint_bytes(proj, source.encode("utf-8", "surrogatepass"))


@PROFILE
@given(data=mutated_fixture())
def test_lint_never_raises_on_mutated_fixtures(proj: Project, data: bytes) -> None:
    result = lint_bytes(proj, data)
    for finding in result.findings:
        assert finding.line >= 1 and finding.column >= 1


@PROFILE
@given(data=st.binary(max_size=2000))
def test_lint_never_raises_on_random_bytes(proj: Project, data: bytes) -> None:
    lint_bytes(proj, b"created_at = m.created_at\n" + data)


@PROFILE
@given(source=spliced_fixture())
@example(source=HOST_TEXTS[0])
def test_fix_properties_on_spliced_fixtures(proj: Project, source: str) -> None:
    check_fix(proj, source)


@PROFILE
@given(source=spliced_program())
def test_fix_properties_on_spliced_programs(proj: Project, source: str) -> None:
    check_fix(proj, source)


def findings(proj: Project, **changes) -> list[tuple]:
    options = RUN["options"]._replace(**changes)
    result = lint_paths([proj.target], config=proj.config, options=options)
    return [
        (f.line, f.column, f.code, f.message, f.fix and f.fix.applicability)
        for f in result.findings
    ]


@pytest.mark.skipif(
    not RUN or "prefilter" not in _FIELDS, reason="this version has no Options.prefilter"
)
@PROFILE
@given(source=st.one_of(spliced_fixture(), spliced_program()))
def test_prefilters_lose_nothing(proj: Project, source: str) -> None:
    """The byte pre-filter, the ast prescreen and the blanking of functions that cannot
    matter change how much is analysed, never what is found."""
    proj.target.write_text(source)
    assert findings(proj, prefilter=True) == findings(proj, prefilter=False)


# --------------------------------------------------------------------------- the cache

CACHE_FILES: dict[str, dict[str, str | None]] = {
    "app/models.py": {
        "nullable": "created_at = Column(DateTime, nullable=False)",
        "server-default": "created_at = Column(DateTime, server_default=func.now())",
        "from-mixin": None,  # the column comes from StampMixin
        "dto": "DTO",
    },
    "app/mixins.py": {
        "stamps": "created_at = Column(DateTime, server_default=func.now())",
        "plain": "created_at = Column(DateTime)",
    },
    "app/hooks.py": {
        "none": "x = 1\n",
        "insert-listener": "@event.listens_for(Legacy, 'before_insert')\n"
        "def stamp(mapper, connection, target):\n    target.created_at = datetime.now()\n",
        "other-listener": "@event.listens_for(Legacy, 'before_update')\n"
        "def touch(mapper, connection, target):\n    target.name = 'x'\n",
    },
    "app/svc.py": {
        "direct": "from app.models import Legacy\n",
        "via-extra": "from app.extra import Legacy\n",
        "none": None,
    },
    "app/extra.py": {"re-export": "from app.models import Legacy\n", "absent": None},
    "app/pkg/__init__.py": {"package": "", "namespace": None},
}
CACHE_START = {
    "app/models.py": "nullable",
    "app/mixins.py": "stamps",
    "app/hooks.py": "none",
    "app/svc.py": "direct",
    "app/extra.py": "re-export",
    "app/pkg/__init__.py": "package",
}
COPY = "\n\ndef make(m):\n    return Legacy(id=m.id, created_at=m.created_at)\n"


def cache_file_text(name: str, variant: str) -> str | None:
    value = CACHE_FILES[name][variant]
    if name == "app/models.py":
        head = (
            "from sqlalchemy import Column, DateTime, Integer, func\n"
            "from sqlalchemy.orm import declarative_base\n"
            "from pydantic import BaseModel\n\nfrom app.mixins import StampMixin\n\n"
            "Base = declarative_base()\n\n\n"
        )
        if value == "DTO":
            return head + "class Legacy(BaseModel):\n    id: int\n    created_at: int\n"
        bases = "StampMixin, Base" if value is None else "Base"
        column = "" if value is None else f"    {value}\n"
        return head + (
            f"class Legacy({bases}):\n    __tablename__ = 'legacy'\n"
            f"    id = Column(Integer, primary_key=True)\n{column}"
        )
    if name == "app/mixins.py":
        head = "from sqlalchemy import Column, DateTime, func\n\n\n"
        return f"{head}class StampMixin:\n    {value}\n"
    if name == "app/hooks.py":
        return (
            "from datetime import datetime\n\nfrom sqlalchemy import event\n\n"
            "from app.models import Legacy\n\n\n" + value
        )
    if name == "app/svc.py":
        return "x = 1\n" if value is None else value + COPY
    return value


def write_cache_project(root: Path, state: dict[str, str], stamp: list[int]) -> None:
    """Write the files of `state`; each written file gets a new, later mtime (so that
    mtime granularity never hides an edit: that trade-off is documented)."""
    for name, variant in state.items():
        path = root / name
        text = cache_file_text(name, variant)
        if text is None:
            path.unlink(missing_ok=True)
            continue
        if path.exists() and path.read_text() == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        stamp[0] += 10**9
        os.utime(path, ns=(stamp[0], stamp[0]))


def cache_findings(root: Path, cache: bool) -> list[tuple]:
    options = RUN["options"]._replace(cache=cache)
    result = lint_paths([root], config=resolve_config([root]), options=options)
    return [
        (f.path.relative_to(root).as_posix(), f.line, f.column, f.code, f.message, f.fix)
        for f in result.findings
    ]


@pytest.mark.skipif(not RUN, reason="this version has no Options.cache")
@settings(PROFILE, max_examples=max(10, PROFILE.max_examples // 3))
@example(edits=[("app/hooks.py", "insert-listener")])
@given(
    edits=st.lists(
        st.sampled_from([(name, v) for name, variants in CACHE_FILES.items() for v in variants]),
        min_size=1,
        max_size=4,
    )
)
def test_cache_never_serves_stale_results(edits: list[tuple[str, str]]) -> None:
    """After any sequence of edits to models, mixins, event listeners, re-exports and
    packages, a run that uses the cache finds exactly what a run without it finds."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
        (root / "app" / "pkg").mkdir(parents=True)
        (root / "app" / "__init__.py").write_text("")
        (root / "app" / "pkg" / "svc.py").write_text("from ..models import Legacy\n" + COPY)
        state = dict(CACHE_START)
        stamp = [time.time_ns()]
        write_cache_project(root, state, stamp)
        cache_findings(root, cache=True)  # fill the cache
        for name, variant in edits:
            state[name] = variant
            write_cache_project(root, state, stamp)
            assert cache_findings(root, cache=True) == cache_findings(root, cache=False), (
                f"after {name} -> {variant}"
            )


# --------------------------------------------------------------------------- examples

# One-line block bodies of every kind (the generator above only writes `if m: ...`).
ONE_LINE_BODIES = {
    "if": "    if m: child.created_at = m.created_at\n",
    "else": "    if m: pass\n    else: child.created_at = m.created_at\n",
    "while": '    while m: setattr(child, "created_at", m.created_at)\n',
    "for": "    for x in m: child.created_at = m.created_at\n",
    "with": "    with m: child.created_at = m.created_at\n",
    "try": "    try: child.created_at = m.created_at\n    except Exception: pass\n",
    "two statements": "    if m: child.created_at = m.created_at; x = 1\n",
}


@pytest.mark.parametrize("shape", list(ONE_LINE_BODIES))
def test_fix_in_one_line_block_bodies(proj: Project, shape: str) -> None:
    source = (
        IMPORTS
        + "\n\ndef f(m):\n    child = Flow(name=m.name)\n"
        + ONE_LINE_BODIES[shape]
        + "    return child\n"
    )
    check_fix(proj, source)
