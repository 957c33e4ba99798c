"""The server offers TSL004's unsafe fixes as quick fixes (saying they are unsafe, equal to
`--fix --unsafe-fixes`), and fix-all leaves them out unless `unsafe-fixes = true`."""

from __future__ import annotations

import pytest

pytest.importorskip("pygls")
pytest.importorskip("pytest_lsp")

from lsprotocol import types as lsp

from .test_server import (
    actions_at,
    apply_edits,
    cli_fix,
    codes,
    make_project,
    open_doc,
    start,
    stop,
    until,
)

CLONES = """\
from app.models import Flow


def clone(master: Flow):
    return Flow(**vars(master))


def copy(master):
    return Flow(flow_id=master.flow_id, created_at=master.created_at)
"""


@pytest.mark.asyncio
async def test_an_unsafe_clone_fix_is_a_quick_fix_but_not_in_fix_all(tmp_path):
    root = make_project(tmp_path, CLONES)
    client = await start(root)
    try:
        uri = open_doc(client, root / "app" / "services.py", CLONES)
        await until(lambda: codes(client, uri) == [("TSL004", 5), ("TSL001", 9)], "findings")
        [quick] = await actions_at(client, uri, 4, only=[lsp.CodeActionKind.QuickFix])
        assert "unsafe" in quick.title and not quick.is_preferred
        assert quick.diagnostics[0].code == "TSL004"
        fixed = apply_edits(CLONES, quick.edit, uri)
        assert "if k not in (" in fixed
        everything = cli_fix(root, "app/services.py", CLONES, "--unsafe-fixes")
        # the quick fix changes only its own finding: the TSL001 line stays
        assert fixed.splitlines()[:6] == everything.splitlines()[:6]
        assert fixed.splitlines()[8] == CLONES.splitlines()[8]
        [fix_all] = await actions_at(client, uri, 0, only=["source.fixAll"])
        assert fix_all.title == "timestamp-lint: apply all safe fixes"
        safe_only = apply_edits(CLONES, fix_all.edit, uri)
        assert safe_only == cli_fix(root, "app/services.py", CLONES)
        assert "**vars(master)" in safe_only and "created_at=" not in safe_only
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_fix_all_takes_unsafe_fixes_when_configured(tmp_path):
    root = make_project(tmp_path, CLONES)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "unsafe-fixes = true\n")
    client = await start(root)
    try:
        uri = open_doc(client, root / "app" / "services.py", CLONES)
        await until(lambda: len(codes(client, uri) or []) == 2, "two findings")
        [fix_all] = await actions_at(client, uri, 0, only=["source.fixAll"])
        assert fix_all.title == "timestamp-lint: apply all fixes"
        fixed = apply_edits(CLONES, fix_all.edit, uri)
        assert fixed == cli_fix(root, "app/services.py", CLONES)  # the setting applies there too
        assert "**vars(master)" not in fixed and "created_at=" not in fixed
    finally:
        await stop(client)
