"""`source.walk` is the first pass's hand-written `ast.walk`: the same nodes in the same order,
without the expression contexts (`Load`, `Store`, `Del`), which nothing reads from the walk."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from timestamp_lint.source import child_nodes, walk

from .conftest import FIXTURES

EVERY_CONSTRUCT = """
import a.b as c
from .. import d as e
x: int = (y := 1) + -z ** 2
del x[0], x.y
f"{x!r:>{width}}", b"", ...
async def g(p, /, q=1, *r, s: int, **t) -> None:
    global u
    async with h() as (i, j), k:
        async for m in n:
            await o[p:q:r]
    yield [v async for v in w if v]
    return {k: v for k, v in {}.items()}, {*s}, (a for a in b)
@deco(1)
class C(B, metaclass=M):
    lambda_ = lambda a, *b, c=1, **d: (a, b, c, d)
    try:
        pass
    except* (E, F) as err:
        raise G from err
    else:
        assert x, "message"
    finally:
        nonlocal_ = not x and y or z if w else v
match command:
    case Point(x=0, y=[1, *rest]) | {"k": _, **kw} if rest:
        pass
    case str() as s:
        pass
while x < y <= z:
    continue
"""


def _expected(tree: ast.AST) -> list[ast.AST]:
    return [node for node in ast.walk(tree) if not isinstance(node, ast.expr_context)]


@pytest.mark.parametrize(
    "source",
    [EVERY_CONSTRUCT] + (["type Pair[T] = tuple[T, T]\n"] if sys.version_info >= (3, 12) else []),
)
def test_walk_is_ast_walk_without_contexts(source: str) -> None:
    tree = ast.parse(source)
    assert [id(n) for n in walk(tree)] == [id(n) for n in _expected(tree)]
    for node in walk(tree):
        expected = [c for c in ast.iter_child_nodes(node) if not isinstance(c, ast.expr_context)]
        assert child_nodes(node) == expected


def test_walk_agrees_on_every_fixture_file() -> None:
    files = sorted(Path(FIXTURES).rglob("*.py"))
    assert len(files) > 50
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue  # the fixtures of broken files
        assert [id(n) for n in walk(tree)] == [id(n) for n in _expected(tree)], path


@pytest.mark.parametrize("source", ["x = [\n" + "(1, 'a'),\n" * 20_000 + "]\n", "x = (\n"])
def test_no_collection_runs_while_a_tree_is_built(monkeypatch, source: str) -> None:
    """A tree holds no cycles: `parse_python` keeps the cyclic collector off while `ast`
    builds one (and on again after, a syntax error too)."""
    import gc

    from timestamp_lint.source import parse_python

    parsing = [False]
    during: list[bool] = []
    real = ast.parse

    def parse(*args, **kwargs):
        parsing[0] = True
        try:
            return real(*args, **kwargs)
        finally:
            parsing[0] = False

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            during.append(parsing[0])

    monkeypatch.setattr(ast, "parse", parse)
    gc.callbacks.append(record)
    threshold = gc.get_threshold()
    gc.set_threshold(10)
    try:
        try:
            tree = parse_python(source, Path("many.py"))
        except SyntaxError:
            tree = None
        assert gc.isenabled()
        [object() for _ in range(100)]  # allocations that set off a collection now
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(record)
    assert True not in during and False in during  # none while parsing; on again after
    assert tree is None or len(tree.body[0].value.elts) == 20_000
