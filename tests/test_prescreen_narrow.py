"""The first pass (`prescreen`) lets a file through to LibCST only where a rule could report:
code that cannot give a new record a copied field stops before LibCST, and code that can
still reaches it. Each case is judged with and without the pre-filters (same findings)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from timestamp_lint.api import Options, lint_paths, make_engine, resolve_config

MODELS = """
from sqlalchemy import Column, DateTime, Integer, String, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime, server_default=func.now(), onupdate=func.now())

    def to_dict(self):
        return {"name": self.name, "created_at": self.created_at}

    def as_summary_dict(self):
        return {"name": self.name}
"""

SCHEMAS = """
class FlowOut:
    def __init__(self, **fields):
        self.fields = fields


def run_task(**options):
    return options
"""

HEAD = """
import copy

import sqlalchemy as sa
from sqlalchemy import insert, update
from sqlalchemy import insert as ins
from sqlalchemy.orm import make_transient

from app.models import Flow
"""

# code the first pass now stops (no rule can report it), each with a field read and a give
NOTHING_TO_REPORT = {
    "kwargs-parameter": """
        def forward(service, m, **kwargs):
            stamp = m.created_at
            return service.create(name="x", **kwargs)
        """,
    "module-level-dict-in-function": """
        PLACEHOLDERS = {"created_at": "{created_at}"}

        def render(template, m):
            print(m.created_at)
            return template.format(**PLACEHOLDERS)
        """,
    "update-values": """
        def touch(session, m):
            stmt = sa.update(Flow).where(Flow.id == m.id).values(updated_at=m.updated_at)
            session.execute(stmt)
        """,
    "update-values-splat": """
        def touch(session, m):
            values = {"updated_at": m.updated_at}
            session.execute(update(Flow).where(Flow.id == m.id).values(**values))
        """,
    # the rule takes `x.<...>_dict()` for x's columns only without arguments, and when the
    # method of x's class (the created model's, when x's class is not known) returns them
    "dict-method-the-model-returns-no-columns-from": """
        def register(storage, name):
            info = storage.upload(name)
            return Flow(name=name, **info.as_summary_dict())
        """,
    "dict-method-the-model-lacks": """
        def register(storage, name):
            info = storage.upload(name)
            return Flow(name=name, **info.as_dict())
        """,
    "dict-method-with-arguments": """
        def register(storage, name):
            info = storage.upload(name)
            return Flow(name=name, **info.to_dict(exclude={"id"}))
        """,
    "dict-method-copy": """
        def snapshot(obj, m):
            state = obj.__dict__.copy()
            state["created_at"] = m.created_at
            obj.save()
            return state
        """,
    "columns-loop-that-reads": """
        def describe(src, m):
            for column in Flow.__table__.columns:
                print(column.name, getattr(src, column.name), m.created_at)
        """,
    "columns-loop-that-skips": """
        def refresh(self, fresh, skipped):
            for column in Flow.__table__.columns:
                if column.name in skipped:
                    continue
                setattr(self, column.name, getattr(fresh, column.name))
        """,
    "columns-loop-into-an-existing-record": """
        def refresh(target, fresh):
            for column in Flow.__table__.columns:
                setattr(target, column.name, getattr(fresh, column.name))
        """,
    # an in-memory snapshot of the old state, only tested, read and handed to a signal
    "snapshot-sent-to-a-signal": """
        def touch(session, flow, changed):
            before = None
            if flow.name:
                before = Flow(name=flow.name, created_at=flow.created_at)
                flow.name = "new"
            if before and not before.name.startswith("x"):
                changed.send(sender=Flow, before=before, after=flow)
        """,
    # a whole-record copy of something the rule cannot tell is a record
    "pk-none-on-a-relation-loop": """
        def duplicate(page):
            for revision in page.revisions.all():
                revision.pk = None
                revision.save()
        """,
    "copy-of-an-unknown-object": """
        def duplicate(session, payload):
            new = copy.copy(payload.options())
            session.add(new)
        """,
    # an import inside the function is resolved as the rule resolves it: no model
    "function-import-of-a-dto": """
        def respond(m):
            from app.schemas import FlowOut

            return FlowOut(created_at=m.created_at)
        """,
    "function-relative-import-of-a-dto": """
        def respond(m):
            from .schemas import FlowOut as Out

            return Out(name=m.name, created_at=m.created_at)
        """,
    "function-import-of-a-function": """
        def submit(m):
            from app.schemas import run_task

            return run_task(**vars(m))
        """,
}

# code that still reaches LibCST, and what the rules report there
STILL_REPORTED = {
    "dict-variable": (
        """
        def clone(m):
            data = {"name": m.name, "created_at": m.created_at}
            return Flow(**data)
        """,
        ["TSL001"],
    ),
    "dict-unpacked": (
        """
        def clone(m):
            data, other = {"created_at": m.created_at}, {}
            return Flow(**data)
        """,
        ["TSL001"],
    ),
    "dict-through-dict": (
        """
        def clone(m):
            base = {"created_at": m.created_at}
            data = dict(base)
            return Flow(**data)
        """,
        ["TSL001"],
    ),
    "insert-chain": (
        """
        def clone(session, m):
            session.execute(insert(Flow).returning(Flow.id).values(created_at=m.created_at))
        """,
        ["TSL001"],
    ),
    "insert-alias": (
        """
        def clone(session, m):
            session.execute(ins(Flow).values(**{"created_at": m.created_at}))
        """,
        ["TSL001"],
    ),
    "table-insert": (
        """
        def clone(session, m):
            session.execute(Flow.__table__.insert().values(updated_at=m.updated_at))
        """,
        ["TSL001"],
    ),
    "columns-loop-setattr": (
        """
        def clone(session, src):
            new = Flow()
            for column in Flow.__table__.columns:
                setattr(new, column.name, getattr(src, column.name))
            session.add(new)
        """,
        ["TSL004"],
    ),
    "snapshot-sent-then-saved": (
        """
        def touch(session, flow, changed):
            before = Flow(name=flow.name, created_at=flow.created_at)
            changed.send(sender=Flow, before=before)
            session.add(before)
        """,
        ["TSL001"],
    ),
    "snapshot-sent-positionally": (
        """
        def touch(flow, changed):
            before = Flow(name=flow.name, created_at=flow.created_at)
            changed.send(Flow, before)
        """,
        ["TSL001"],
    ),
    "snapshot-used-in-a-nested-function": (
        """
        def touch(flow, changed):
            before = Flow(name=flow.name, created_at=flow.created_at)
            changed.send(sender=Flow, before=before)
            return lambda: before
        """,
        None,
    ),
    "columns-loop-setattr-one-line": (
        """
        def clone(session, src):
            new = Flow(name="copy")
            for c in Flow.__table__.columns: setattr(new, c.name, getattr(src, c.name))
            session.add(new)
        """,
        ["TSL004"],
    ),
    "make-transient-of-a-queried-record": (
        """
        def clone(session, key):
            record = session.query(Flow).filter(Flow.id == key).first()
            make_transient(record)
            session.add(record)
        """,
        ["TSL004"],
    ),
    "copy-of-a-record-got-by-key": (
        """
        def clone(session, key):
            twin = copy.copy(session.get(Flow, key))
            session.add(twin)
        """,
        ["TSL004"],
    ),
    "pk-none-on-a-record-parameter": (
        """
        def clone(flow: Flow):
            flow.pk = None
            flow.save()
        """,
        None,  # a Django idiom on an SQLAlchemy model: whatever the rule says, the same
    ),
    "function-import-of-a-model": (
        """
        def clone(m):
            from app.models import Flow as Record

            return Record(name=m.name, created_at=m.created_at)
        """,
        ["TSL001"],
    ),
    "function-import-on-the-def-line": (
        """
        def clone(m): from app.models import Flow as Record; return Record(created_at=m.created_at)
        """,
        ["TSL001"],
    ),
    "function-relative-import-of-a-model": (
        """
        def clone(m):
            from . import models

            return models.Flow(**vars(m))
        """,
        ["TSL004"],
    ),
    "function-import-of-a-function-and-a-model": (
        """
        def clone(m, fast):
            if fast:
                from app.schemas import run_task as make
            else:
                from app.models import Flow as make
            return make(created_at=m.created_at)
        """,
        None,
    ),
    "dict-method-the-model-returns-columns-from": (
        """
        def register(storage, name):
            info = storage.upload(name)
            return Flow(name=name, **info.to_dict())
        """,
        ["TSL004"],
    ),
    "dict-method-of-a-record": (
        """
        def clone(src: Flow):
            data = src.to_dict()
            return Flow(**data)
        """,
        ["TSL004"],
    ),
    # what an import binds a copy, `make_transient` or `model_to_dict` to (the rule
    # resolves the names): the byte scan and the first pass take it as they take the name
    "copy-by-an-alias": (
        """
        from copy import copy as dup

        def clone(session, src: Flow):
            new = dup(src)
            session.add(new)
        """,
        ["TSL004"],
    ),
    "deepcopy-by-an-alias-in-the-function": (
        """
        def clone(session, src: Flow):
            from copy import deepcopy as twin

            new = twin(src)
            session.add(new)
        """,
        ["TSL004"],
    ),
    "copy-through-a-module-alias": (
        """
        import copy as cp

        def clone(session, src: Flow):
            new = cp.copy(src)
            session.add(new)
        """,
        ["TSL004"],
    ),
    "make-transient-by-an-alias": (
        """
        from sqlalchemy.orm import make_transient as detach

        def clone(session, key):
            record = session.get(Flow, key)
            detach(record)
            session.add(record)
        """,
        ["TSL004"],
    ),
    "copy-then-add": (
        """
        def clone(session, src: Flow):
            new = copy.copy(src)
            session.add(new)
        """,
        None,  # whatever the rules say: the same with and without the first pass
    ),
}


def _project(tmp_path: Path, body: str) -> tuple[Path, Path]:
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    (root / "app" / "schemas.py").write_text(SCHEMAS)
    target = root / "app" / "services.py"
    target.write_text(HEAD + "\n\n" + textwrap.dedent(body))
    return root, target


def _reaches_libcst(root: Path, target: Path) -> bool:
    engine = make_engine(resolve_config([root]))
    return engine.lint_file(target).module is not None


def _codes(root: Path, prefilter: bool) -> list[tuple[str, int]]:
    options = Options(cache=False, jobs=1, prefilter=prefilter)
    found = lint_paths([root], options=options).findings
    return sorted((f.code, f.line) for f in found if f.path.name == "services.py")


@pytest.mark.parametrize("name", sorted(NOTHING_TO_REPORT))
def test_the_first_pass_stops_what_no_rule_reports(tmp_path: Path, name: str) -> None:
    root, target = _project(tmp_path, NOTHING_TO_REPORT[name])
    assert not _reaches_libcst(root, target)
    assert _codes(root, prefilter=False) == []


@pytest.mark.parametrize("name", sorted(STILL_REPORTED))
def test_what_a_rule_reports_still_reaches_libcst(tmp_path: Path, name: str) -> None:
    body, expected = STILL_REPORTED[name]
    root, target = _project(tmp_path, body)
    unfiltered = _codes(root, prefilter=False)
    assert _codes(root, prefilter=True) == unfiltered
    if expected is not None:
        assert [code for code, _ in unfiltered] == expected
        assert _reaches_libcst(root, target)


@pytest.mark.parametrize(
    ("data", "listens"),
    [
        (b'event.listen(Flow, "before_insert", stamp)\n', True),
        (b'@event.listens_for(Flow, "before_insert")\n', True),
        (b'(event.listen)(Flow, "before_insert", stamp)\n', True),
        (b"registry.map_imperatively(Flow, flows)\n", True),
        (b"mapper(Flow, flows)\n", True),
        (b"orm.mapper(Flow, flows)\n", True),
        (b"from sqlalchemy.orm import mapper as classic_mapper\n", True),
        (b"mapper = class_mapper(Flow)\nobject_mapper(flow)\nself._mapper(x)\n", False),
        (b"self.listener = make_listener()  # listening on a socket\n", False),
        (b"server._listen(port)\n", False),
        (b"# TODO: listen for state changes instead of polling\n", False),
        (b"event.listen \\\n    (Flow, 'before_insert', stamp)\n", True),
    ],
)
def test_only_files_that_may_call_listen_are_parsed_for_listeners(
    data: bytes, listens: bool
) -> None:
    from timestamp_lint.prefilter import may_define_listeners

    assert may_define_listeners(data) is listens


def test_a_helper_of_the_file_at_hand_is_read_from_its_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first pass and the rule look up a helper the file defines in the tree the
    engine parsed for it, not in a second parse of the file."""
    from timestamp_lint import helpers

    root, target = _project(
        tmp_path,
        """
        def make_flow(**fields):
            return Flow(**fields)


        def clone(m):
            return make_flow(name=m.name, created_at=m.created_at)
        """,
    )
    parsed: list[Path] = []
    parse = helpers.parse_python
    monkeypatch.setattr(
        helpers, "parse_python", lambda text, path: parsed.append(path) or parse(text, path)
    )
    assert [code for code, _ in _codes(root, prefilter=True)] == ["TSL001"]
    assert target not in parsed


def test_a_splat_that_is_no_clone_leaves_its_callee_unresolved(tmp_path: Path) -> None:
    """The first pass resolves the callee of a `**mapping` call only when the mapping may
    be a record's columns: resolving reads the callee's module, and the file's cached
    result would then be checked again whenever that module changes."""
    root, target = _project(
        tmp_path,
        """
        def build(config, **options):
            settings = vars(config)
            return Flow(name=settings["name"], **options)
        """,
    )
    engine = make_engine(resolve_config([root]))
    result = engine.lint_file(target)
    assert result.analyzed and result.module is None
    assert root / "app" / "models.py" not in result.deps


def test_a_learned_field_declared_alone_needs_no_analysis(tmp_path: Path) -> None:
    """TSL003 judges the configured fields only: a name the field detection learned is one
    a model declares with a default, so a class declaring it (a schema, another model) gives
    the file no reason to be parsed; a configured field declared without one still does."""
    root, _ = _project(tmp_path, "")
    models = root / "app" / "models.py"
    models.write_text(MODELS + "    stamped_on = Column(DateTime, server_default=func.now())\n")
    schema = root / "app" / "schemas.py"
    schema.write_text("class FlowOut:\n    stamped_on: str = ''\n")
    plain = root / "app" / "legacy.py"
    plain.write_text("class Legacy(Base):\n    stamped_on = Column(DateTime)\n")
    unstamped = root / "app" / "unstamped.py"
    unstamped.write_text(
        "from app.models import Base\nfrom sqlalchemy import Column, DateTime\n\n\n"
        "class Old(Base):\n    __tablename__ = 'old'\n    created_at = Column(DateTime)\n"
    )
    engine = make_engine(resolve_config([root]))
    assert engine.prescreen.scan(models.read_bytes()).declares  # it learned `stamped_on`
    assert "stamped_on" in engine.prescreen.fields
    assert not engine.needs_analysis(schema.read_bytes(), schema)
    assert not engine.needs_analysis(plain.read_bytes(), plain)
    assert engine.needs_analysis(unstamped.read_bytes(), unstamped)
    found = lint_paths([root], options=Options(cache=False, jobs=1, prefilter=False)).findings
    assert sorted((f.path.name, f.code) for f in found) == [("unstamped.py", "TSL003")]


LOCAL_NAMES = {
    "a local variable of a test method": (
        "class FlowTests:\n    def test_order(self):\n        updated_at = page.find('th')\n"
    ),
    "a model class defined in a function": (
        "def make():\n    class Old(Base):\n        created_at = Column(DateTime)\n    return Old\n"
    ),
    "an async function": "class C:\n    async def f(self):\n        created_at: int = 1\n",
    "a keyword of a call in a function": (
        "class Flow:\n    pass\n\n\ndef f():\n    x = dict(\n        created_at=1,\n    )\n"
    ),
}
CLASS_BODIES = {
    "after a method": (
        "class Old(Base):\n    def f(self):\n        pass\n\n    created_at = Column(DateTime)\n"
    ),
    "after a one-line method": "class Old(Base):\n    def f(self): pass\n    created_at = 1\n",
    "under an if of the class body": "class Old(Base):\n    if X:\n        created_at = 1\n",
    "a property": "class Old(Base):\n    @property\n    def created_at(self):\n        return 1\n",
    "after a string that may hold a def": (
        'class Old(Base):\n    """\ndef f(x):\n    """\n    created_at = 1\n'
    ),
    "after a continued line": "class Old(Base):\n    x = 'a\\\ndef f(y)'\n    created_at = 1\n",
    "after a comment at the margin": "class Old(Base):\n# def f(x):\n    created_at = 1\n",
    # a function too long to read up to its `def` counts as not known
    "deep in a very long function": (
        "class A:\n    pass\n\n\ndef f():\n" + "    x = 1\n" * 500 + "    created_at = 1\n"
    ),
}


@pytest.mark.parametrize("name", sorted(LOCAL_NAMES))
def test_a_field_name_bound_in_a_function_is_no_declaration(tmp_path: Path, name: str) -> None:
    """TSL003 judges the classes of the module's top level: a field bound in a function
    body (a test's local, a class built in a function) gives no reason to parse the file."""
    root, _ = _project(tmp_path, "")
    path = root / "app" / "local.py"
    path.write_text(LOCAL_NAMES[name])
    engine = make_engine(resolve_config([root]))
    assert not engine.prescreen.scan(path.read_bytes()).declares


@pytest.mark.parametrize("name", sorted(CLASS_BODIES))
def test_a_field_declared_in_a_class_body_still_counts(tmp_path: Path, name: str) -> None:
    root, _ = _project(tmp_path, "")
    path = root / "app" / "body.py"
    path.write_text(CLASS_BODIES[name])
    engine = make_engine(resolve_config([root]))
    assert engine.prescreen.scan(path.read_bytes()).declares
