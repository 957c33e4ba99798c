"""`timestamp-lint server` end to end: a real LSP client (pytest-lsp) talks to the server
over stdin/stdout."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

FIX_ALL = "source.fixAll.timestamp-lint"
SERVER = [sys.executable, "-m", "timestamp_lint", "server", "--debounce", "5"]
WAIT = 30.0  # seconds: only a hung server comes near this

MODELS = """\
from sqlalchemy import Column, DateTime, Integer, String, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    flow_id = Column(String(64))
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime)
"""

CLEAN = """\
from app.models import Flow


def clone(master):
    return Flow(flow_id=master.flow_id)
"""

ONE_COPY = """\
from app.models import Flow


def clone(master):
    return Flow(
        flow_id=master.flow_id,
        created_at=master.created_at,
    )
"""

TWO_COPIES = """\
from app.models import Flow


def clone(master):
    child = Flow(
        flow_id=master.flow_id,
        created_at=master.created_at,  # keep this comment
        updated_at=master.updated_at,
    )
    other = Flow(flow_id="x", created_at=master.created_at)
    return child, other
"""


def make_project(root: Path, services: str = CLEAN) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.timestamp-lint]\nextend-fields = ["closed_at"]\n')
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    (root / "app" / "services.py").write_text(services)
    return root


def capabilities(pull: bool = False, resolve: bool = False) -> lsp.ClientCapabilities:
    """A client that takes pushed diagnostics (pull: one that pulls them; resolve: one that
    resolves the edits of code actions when they are chosen)."""
    caps = client_capabilities("neovim@v0.9.1")
    text = caps.text_document or lsp.TextDocumentClientCapabilities()
    action = text.code_action or lsp.CodeActionClientCapabilities()
    action.resolve_support = (
        lsp.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None
    )
    text.code_action = action
    text.publish_diagnostics = lsp.PublishDiagnosticsClientCapabilities(version_support=True)
    text.diagnostic = lsp.DiagnosticClientCapabilities() if pull else None
    caps.text_document = text
    workspace = caps.workspace or lsp.WorkspaceClientCapabilities()
    workspace.diagnostics = lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=pull)
    caps.workspace = workspace
    return caps


async def start(
    root: Path, pull: bool = False, folders: list[Path] | None = None, resolve: bool = False
):
    client = await ClientServerConfig(server_command=SERVER).start()
    folders = folders or [root]
    await client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(pull, resolve),
            root_uri=root.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders],
        )
    )
    return client


async def stop(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


def open_doc(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
        )
    )
    return uri


def replace_all(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def until(condition, what: str):
    """Wait until `condition()` holds (the server answers asynchronously)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def codes(client: LanguageClient, uri: str) -> list[tuple[str, int]] | None:
    """(code, 1-based line) of the diagnostics last published for `uri`."""
    found = client.diagnostics.get(uri)
    if found is None:
        return None
    return [(d.code, d.range.start.line + 1) for d in found]


def apply_edits(text: str, edit: lsp.WorkspaceEdit, uri: str) -> str:
    """What a client does with a workspace edit (ASCII text: characters are code units)."""
    if edit.document_changes:
        edits = [e for change in edit.document_changes for e in change.edits]
    else:
        edits = edit.changes[uri]
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: lsp.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        return starts[position.line] + position.character

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))[::-1]:
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


def cli_fix(root: Path, name: str, text: str, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "timestamp_lint", "--fix", *extra, "--stdin-filename", name, "-"],
        input=text.encode(),
        capture_output=True,
        cwd=root,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout.decode()


# --------------------------------------------------------------------------- diagnostics


@pytest.mark.asyncio
async def test_diagnostics_come_from_the_buffer_update_on_change_and_clear(tmp_path):
    root = make_project(tmp_path)  # the file on disk is clean: the buffer is what counts
    client = await start(root)
    try:
        uri = open_doc(client, root / "app" / "services.py", ONE_COPY)
        await until(lambda: codes(client, uri) == [("TSL001", 7)], "the copy's diagnostic")
        diagnostic = client.diagnostics[uri][0]
        assert diagnostic.source == "timestamp-lint"
        assert diagnostic.severity == lsp.DiagnosticSeverity.Warning
        assert diagnostic.range == lsp.Range(lsp.Position(6, 8), lsp.Position(6, 36))
        assert "Flow(created_at=master.created_at)" in diagnostic.message
        assert diagnostic.code_description.href.endswith("#tsl001-copied-timestamp-in-new-record")

        replace_all(client, uri, TWO_COPIES, 2)
        await until(
            lambda: codes(client, uri) == [("TSL001", 7), ("TSL001", 8), ("TSL001", 10)],
            "three diagnostics after the change",
        )
        # an incremental change: delete the `created_at=...` line (line 7, 0-based 6)
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
                content_changes=[
                    lsp.TextDocumentContentChangePartial(
                        range=lsp.Range(lsp.Position(6, 0), lsp.Position(7, 0)), text=""
                    )
                ],
            )
        )
        await until(
            lambda: codes(client, uri) == [("TSL001", 7), ("TSL001", 9)], "the line removed"
        )
        replace_all(client, uri, CLEAN, 4)
        await until(lambda: codes(client, uri) == [], "diagnostics cleared")
        replace_all(client, uri, ONE_COPY, 5)
        await until(lambda: codes(client, uri) == [("TSL001", 7)], "the copy again")
        client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri=uri))
        )
        await until(lambda: codes(client, uri) == [], "diagnostics cleared on close")
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_a_model_edit_in_another_buffer_changes_the_diagnostics(tmp_path):
    root = make_project(tmp_path, ONE_COPY)
    client = await start(root)
    try:
        services = open_doc(client, root / "app" / "services.py", ONE_COPY)
        await until(lambda: codes(client, services) == [("TSL001", 7)], "the finding")
        models = open_doc(client, root / "app" / "models.py", MODELS)
        await until(lambda: codes(client, models) == [("TSL003", 12)], "updated_at has no hook")
        # unsaved: Flow stops being a model; services.py was not touched
        replace_all(client, models, MODELS.replace("class Flow(Base):", "class Flow:"), 2)
        await until(lambda: codes(client, services) == [], "no model, no finding")
        replace_all(client, models, MODELS, 3)
        await until(lambda: codes(client, services) == [("TSL001", 7)], "the model is back")
        # the column loses its default: the fix of the finding becomes unsafe
        no_default = MODELS.replace(", server_default=func.now())", ")")
        before = client.diagnostics[services][0].message
        replace_all(client, models, no_default, 4)
        await until(lambda: client.diagnostics[services][0].message != before, "a new message")
        assert "server_default" not in client.diagnostics[services][0].message
        # closing the model buffer: the file on disk counts again
        client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri=models))
        )
        await until(lambda: client.diagnostics[services][0].message == before, "disk again")
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_a_model_file_changed_on_disk_is_picked_up(tmp_path):
    root = make_project(tmp_path, ONE_COPY)
    client = await start(root)
    try:
        services = open_doc(client, root / "app" / "services.py", ONE_COPY)
        await until(lambda: codes(client, services) == [("TSL001", 7)], "the finding")
        models = root / "app" / "models.py"
        models.write_text(MODELS.replace("class Flow(Base):", "class Flow:"))
        client.workspace_did_change_watched_files(
            lsp.DidChangeWatchedFilesParams(
                changes=[lsp.FileEvent(uri=models.as_uri(), type=lsp.FileChangeType.Changed)]
            )
        )
        await until(lambda: codes(client, services) == [], "the model is gone")
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_a_save_notices_a_model_changed_on_disk_without_a_file_event(tmp_path):
    root = make_project(tmp_path, ONE_COPY)
    client = await start(root)
    try:
        services = open_doc(client, root / "app" / "services.py", ONE_COPY)
        await until(lambda: codes(client, services) == [("TSL001", 7)], "the finding")
        (root / "app" / "models.py").write_text(MODELS.replace("class Flow(Base):", "class Flow:"))
        client.text_document_did_save(
            lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri=services))
        )
        await until(lambda: codes(client, services) == [], "the model is gone")
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_a_saved_event_listener_makes_a_fix_safe(tmp_path):
    root = make_project(tmp_path)
    path = root / "app" / "hooks.py"
    path.write_text("x = 1\n")
    text = ONE_COPY.replace("created_at=master.created_at", "updated_at=master.updated_at")
    client = await start(root)
    try:
        services = open_doc(client, root / "app" / "services.py", text)
        await until(lambda: codes(client, services) == [("TSL001", 7)], "the finding")
        [unsafe] = await actions_at(client, services, 6)
        assert "unsafe" in unsafe.title
        assert "an insert listener" not in client.diagnostics[services][0].message
        hooks = open_doc(client, path, "x = 1\n")
        listener = (
            "from sqlalchemy import event, func\n\nfrom app.models import Flow\n\n\n"
            '@event.listens_for(Flow, "before_insert")\n'
            "def stamp(mapper, connection, target):\n"
            "    target.updated_at = func.now()\n"
        )
        replace_all(client, hooks, listener, 2)
        await actions_at(client, hooks, 0)  # a request: the change has been linted
        path.write_text(listener)  # the editor saves it
        client.text_document_did_save(
            lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri=hooks))
        )
        await until(
            lambda: "an insert listener" in client.diagnostics[services][0].message,
            "the listener stamps updated_at",
        )
        [safe] = await actions_at(client, services, 6, only=[lsp.CodeActionKind.QuickFix])
        assert "unsafe" not in safe.title and safe.is_preferred
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_a_broken_buffer_gets_a_syntax_error_not_stale_diagnostics(tmp_path):
    root = make_project(tmp_path)
    client = await start(root)
    try:
        uri = open_doc(client, root / "app" / "services.py", ONE_COPY)
        await until(lambda: codes(client, uri) == [("TSL001", 7)], "the finding")
        broken = ONE_COPY.replace("flow_id=master.flow_id,", "flow_id=master.flow_id,,")
        replace_all(client, uri, broken, 2)
        await until(lambda: codes(client, uri) == [("TSL999", 6)], "the syntax error")
        # bytes that cannot hold a finding: nothing to report, as with --stdin-filename
        replace_all(client, uri, "def broken(:\n", 3)
        await until(lambda: codes(client, uri) == [], "no stale diagnostics")
        replace_all(client, uri, ONE_COPY, 4)
        await until(lambda: codes(client, uri) == [("TSL001", 7)], "back to normal")
    finally:
        await stop(client)


# --------------------------------------------------------------------------- configuration


@pytest.mark.asyncio
async def test_a_changed_configuration_reloads(tmp_path):
    root = make_project(tmp_path)
    client = await start(root)
    try:
        uri = open_doc(client, root / "app" / "services.py", ONE_COPY)
        await until(lambda: codes(client, uri) == [("TSL001", 7)], "the finding")
        config = root / "pyproject.toml"
        config.write_text('[tool.timestamp-lint]\nignore = ["TSL001"]\n')
        event = lsp.FileEvent(uri=config.as_uri(), type=lsp.FileChangeType.Changed)
        client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams([event]))
        await until(lambda: codes(client, uri) == [], "TSL001 ignored")
        config.write_text("[tool.timestamp-lint]\nignore = 3\n")
        client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams([event]))
        await until(lambda: codes(client, uri) == [(None, 1)], "the configuration error")
        message = client.diagnostics[uri][0].message
        assert "key 'ignore' must be a list of strings" in message
        assert message.count("\n") == 0
        config.write_text("[tool.timestamp-lint]\n")
        client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={}))
        await until(lambda: codes(client, uri) == [("TSL001", 7)], "the finding again")
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_each_folder_of_a_multi_root_workspace_has_its_configuration(tmp_path):
    first = make_project(tmp_path / "first")
    second = make_project(tmp_path / "second")
    (second / "pyproject.toml").write_text('[tool.timestamp-lint]\nignore = ["TSL001"]\n')
    client = await start(first, folders=[first, second])
    try:
        one = open_doc(client, first / "app" / "services.py", ONE_COPY)
        two = open_doc(client, second / "app" / "services.py", ONE_COPY)
        await until(lambda: codes(client, one) == [("TSL001", 7)], "first: reported")
        await until(lambda: codes(client, two) == [], "second: ignored by its configuration")
    finally:
        await stop(client)


# --------------------------------------------------------------------------- pull model


@pytest.mark.asyncio
async def test_pull_diagnostics_and_refresh_after_a_model_edit(tmp_path):
    root = make_project(tmp_path)
    client = await start(root, pull=True)
    try:
        uri = open_doc(client, root / "app" / "services.py", ONE_COPY)
        ident = lsp.TextDocumentIdentifier(uri=uri)
        report = await client.text_document_diagnostic_async(
            lsp.DocumentDiagnosticParams(text_document=ident)
        )
        assert [(d.code, d.range.start.line) for d in report.items] == [("TSL001", 6)]
        again = await client.text_document_diagnostic_async(
            lsp.DocumentDiagnosticParams(text_document=ident, previous_result_id=report.result_id)
        )
        assert again.kind == "unchanged"
        assert uri not in client.diagnostics  # nothing pushed to a pulling client
        models = open_doc(client, root / "app" / "models.py", MODELS)
        await client.text_document_diagnostic_async(
            lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=models))
        )
        refreshes = client.diagnostic_refresh_count
        replace_all(client, models, MODELS.replace("class Flow(Base):", "class Flow:"), 2)
        await until(lambda: client.diagnostic_refresh_count > refreshes, "a refresh request")
        report = await client.text_document_diagnostic_async(
            lsp.DocumentDiagnosticParams(text_document=ident, previous_result_id=report.result_id)
        )
        assert report.kind == "full" and list(report.items) == []
    finally:
        await stop(client)


# --------------------------------------------------------------------------- code actions


async def actions_at(client, uri, line, only=None) -> list[lsp.CodeAction]:
    found = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(lsp.Position(line, 0), lsp.Position(line, 0)),
            context=lsp.CodeActionContext(diagnostics=[], only=only),
        )
    )
    return found or []


@pytest.mark.asyncio
async def test_a_quick_fix_gives_what_fix_gives(tmp_path):
    root = make_project(tmp_path)
    client = await start(root)
    try:
        uri = open_doc(client, root / "app" / "services.py", ONE_COPY)
        await until(lambda: codes(client, uri) == [("TSL001", 7)], "the finding")
        quick = [lsp.CodeActionKind.QuickFix]
        assert list(await actions_at(client, uri, 0, only=quick)) == []  # nothing on line 1
        [action] = await actions_at(client, uri, 6, only=quick)
        assert action.kind == lsp.CodeActionKind.QuickFix
        assert action.is_preferred is True
        assert "unsafe" not in action.title
        assert "created_at=master.created_at" in action.title
        assert action.diagnostics[0].code == "TSL001"
        fixed = apply_edits(ONE_COPY, action.edit, uri)
        assert fixed == cli_fix(root, "app/services.py", ONE_COPY)
        assert "created_at" not in fixed
        # applied in the buffer, the finding goes
        replace_all(client, uri, fixed, 2)
        await until(lambda: codes(client, uri) == [], "no finding after the fix")
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_an_unsafe_quick_fix_says_so_and_equals_unsafe_fixes(tmp_path):
    root = make_project(tmp_path)
    text = ONE_COPY.replace("created_at=master.created_at", "updated_at=master.updated_at")
    client = await start(root)
    try:
        uri = open_doc(client, root / "app" / "services.py", text)
        await until(lambda: codes(client, uri) == [("TSL001", 7)], "the finding")
        [action] = await actions_at(client, uri, 6)  # no fix-all: no safe fix
        assert "unsafe" in action.title
        assert not action.is_preferred
        fixed = apply_edits(text, action.edit, uri)
        assert fixed == cli_fix(root, "app/services.py", text, "--unsafe-fixes")
        assert cli_fix(root, "app/services.py", text) == text  # --fix alone leaves it
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_fix_all_gives_what_fix_gives(tmp_path):
    root = make_project(tmp_path)
    client = await start(root)
    try:
        uri = open_doc(client, root / "app" / "services.py", TWO_COPIES)
        await until(lambda: len(codes(client, uri) or []) == 3, "three findings")
        [action] = await actions_at(client, uri, 0, only=["source.fixAll"])
        assert action.kind == "source.fixAll.timestamp-lint"
        fixed = apply_edits(TWO_COPIES, action.edit, uri)
        expected = cli_fix(root, "app/services.py", TWO_COPIES)
        assert fixed == expected
        assert "# keep this comment" not in fixed  # the removed line's comment goes with it
        assert fixed.count("updated_at=master.updated_at") == 1  # unsafe: left alone
        # one quick fix per finding on a line, fix-all offered beside them
        on_line = await actions_at(client, uri, 9)
        assert [a.kind for a in on_line] == [lsp.CodeActionKind.QuickFix, action.kind]
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_a_client_that_resolves_gets_the_edit_when_it_asks(tmp_path):
    root = make_project(tmp_path)
    client = await start(root, resolve=True)
    try:
        uri = open_doc(client, root / "app" / "services.py", TWO_COPIES)
        await until(lambda: len(codes(client, uri) or []) == 3, "three findings")
        actions = await actions_at(client, uri, 6)
        assert [a.kind for a in actions] == [lsp.CodeActionKind.QuickFix, FIX_ALL]
        assert all(a.edit is None for a in actions)  # nothing computed yet
        quick = await client.code_action_resolve_async(actions[0])
        fixed = apply_edits(TWO_COPIES, quick.edit, uri)
        assert "created_at=master.created_at,  # keep" not in fixed
        assert fixed.count("created_at=master.created_at") == 1  # the other finding stays
        everything = await client.code_action_resolve_async(actions[1])
        assert apply_edits(TWO_COPIES, everything.edit, uri) == cli_fix(
            root, "app/services.py", TWO_COPIES
        )
        replace_all(client, uri, CLEAN, 2)
        await until(lambda: codes(client, uri) == [], "no findings")
        stale = await client.code_action_resolve_async(actions[1])
        assert stale.edit is None  # made for a version the buffer no longer has
    finally:
        await stop(client)


@pytest.mark.asyncio
async def test_hover_on_a_diagnostic_shows_the_rule(tmp_path):
    root = make_project(tmp_path)
    client = await start(root)
    try:
        uri = open_doc(client, root / "app" / "services.py", ONE_COPY)
        await until(lambda: codes(client, uri) == [("TSL001", 7)], "the finding")
        hover = await client.text_document_hover_async(
            lsp.HoverParams(lsp.TextDocumentIdentifier(uri=uri), lsp.Position(6, 12))
        )
        assert hover.contents.kind == lsp.MarkupKind.Markdown
        assert hover.contents.value.startswith("# TSL001 (copied-timestamp-in-new-record)")
        assert "## Fix safety" in hover.contents.value
        nothing = await client.text_document_hover_async(
            lsp.HoverParams(lsp.TextDocumentIdentifier(uri=uri), lsp.Position(0, 2))
        )
        assert nothing is None
    finally:
        await stop(client)


# --------------------------------------------------------------------------- lifecycle


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize(("shutdown", "status"), [(True, 0), (False, 1)])
def test_exit_status_follows_the_protocol(tmp_path, shutdown, status):
    """`exit` after `shutdown` ends with 0, without it with 1 (as the protocol says), and
    nothing but protocol messages reach stdout."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
    ]
    if shutdown:
        messages.append({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    messages.append({"jsonrpc": "2.0", "method": "exit"})
    done = subprocess.run(
        SERVER,
        input=b"".join(_frame(m) for m in messages),
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == status, done.stderr
    assert b"Traceback" not in done.stderr
    replies = [json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in _split(done.stdout)]
    assert replies[0]["id"] == 1
    assert replies[0]["result"]["serverInfo"]["name"] == "timestamp-lint"
    assert replies[0]["result"]["capabilities"]["codeActionProvider"]["codeActionKinds"] == [
        "quickfix",
        "source.fixAll.timestamp-lint",
    ]
    if shutdown:
        assert replies[1] == {"jsonrpc": "2.0", "id": 2, "result": None}


def _split(stream: bytes) -> list[bytes]:
    parts = []
    while stream:
        header, _, rest = stream.partition(b"\r\n\r\n")
        fields = dict(line.split(b": ", 1) for line in header.split(b"\r\n"))
        length = int(fields[b"Content-Length"])
        parts.append(header + b"\r\n\r\n" + rest[:length])
        stream = rest[length:]
    return parts


def test_documents_positions_count_utf16_units_and_python_lines():
    from timestamp_lint.server.documents import Document, text_edits

    text = 'a = "😋"; b = 1\r\nc = 2\x0cd\rx = 3\n'
    doc = Document("file:///x.py", Path("/x.py"), text)
    # a form feed does not end a line; \r\n and a lone \r do
    assert doc.position(doc.location(3, 1), "utf-16") == (2, 0)
    assert doc.position(doc.location(1, 10), "utf-16") == (0, 10)  # the emoji is 2 units
    assert doc.position(doc.location(1, 10), "utf-32") == (0, 9)
    assert doc.position(doc.location(1, 10), "utf-8") == (0, 12)
    assert doc.offset(0, 10, "utf-16") == text.index("b")
    doc.apply((1, 0, 1, 1), "C", "utf-16")
    assert doc.text.splitlines()[1].startswith("C = 2")
    assert doc.position(len(doc.text), "utf-16") == (3, 0)
    before, after = "a\nb\nc\n", "a\nc\n"
    assert text_edits(before, after) == [(2, 4, "")]


def test_without_the_extra_the_command_says_what_to_install(tmp_path):
    script = (
        "import sys; sys.modules['pygls'] = None\n"  # as if pygls were not installed
        "from timestamp_lint.cli import main; main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "server"],
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == b""
    [line] = done.stderr.decode().splitlines()
    assert "pip install 'timestamp-lint[server]'" in line
