"""The Language Server: pygls wiring over `documents` and `projects`.

Diagnostics are computed when a document opens, changes (debounced: the first change after a
pause is linted at once, changes that arrive within `debounce` seconds of each other are
linted once) and is saved. A client that can
pull diagnostics (`textDocument/diagnostic`) gets them that way, and a
`workspace/diagnostic/refresh` when a change elsewhere (a model, the configuration) changed
them; any other client gets them pushed (`textDocument/publishDiagnostics`).

Everything runs on the event loop's thread, one request at a time: the engines are not
shared between threads, and a lint is short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from timestamp_lint import __version__
from timestamp_lint.docs import all_codes, rule_doc, rule_text
from timestamp_lint.ftypes import PARSE_ERROR, Applicability, Config, Finding, UserError
from timestamp_lint.report.sarif import INFORMATION_URI
from timestamp_lint.server.documents import UTF16, Document, text_edits, to_bytes
from timestamp_lint.server.projects import CONFIG_NAMES, Project, config_for, in_fix_all
from timestamp_lint.source import SourceError, decode_source

logger = logging.getLogger("timestamp_lint.server")

FIX_ALL = "source.fixAll.timestamp-lint"
SOURCE = "timestamp-lint"
DEFAULT_DEBOUNCE = 0.01  # seconds


def doc_url(code: str) -> str:
    """The rule's section of the README (GitHub's anchor of its heading)."""
    if code not in all_codes():
        return INFORMATION_URI
    name = rule_doc(code)[0]
    return f"{INFORMATION_URI}#{code.lower()}-{re.sub(r'[^a-z0-9-]', '', name.lower())}"


@dataclass
class OpenDocument(Document):
    project: Project | None = None
    error: str | None = None  # a configuration or internal error, shown as a diagnostic
    findings: tuple[Finding, ...] = ()
    data: bytes | None = None  # the bytes the findings were computed from
    linted: tuple[int | None, str] | None = None  # (version, text) of the last lint
    timer: asyncio.TimerHandle | None = None
    changed_at: float = float("-inf")  # the event loop's time of the last change
    actions: dict[Any, str | None] = field(default_factory=dict)  # fixed texts, by finding
    result_id: int = 0  # bumped when the diagnostics change (pull model)
    reported: list[lsp.Diagnostic] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return self.linted == (self.version, self.text)


class TimestampLintServer(LanguageServer):
    def __init__(self, debounce: float = DEFAULT_DEBOUNCE) -> None:
        super().__init__(
            "timestamp-lint",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
        )
        self.debounce = debounce
        self.open: dict[str, OpenDocument] = {}
        self.projects: dict[Config, Project] = {}
        self.configs: dict[Path, Config | str] = {}  # folder -> its config, or the error
        self.folders: list[Path] = []
        self.pull = False
        self.refresh = False
        self.shutting_down = False
        self.exit_code = 1  # until a shutdown request came before exit
        self._register()

    # -- capabilities ----------------------------------------------------------------------

    def _register(self) -> None:
        def feature(method: str, options: Any = None):
            return lambda handler: self.feature(method, options)(_plain(handler))

        feature(lsp.INITIALIZE)(self.on_initialize)
        feature(lsp.INITIALIZED)(self.on_initialized)
        feature(lsp.SHUTDOWN)(self.on_shutdown)
        feature(lsp.EXIT)(self.on_exit)
        feature(lsp.TEXT_DOCUMENT_DID_OPEN)(self.on_open)
        feature(lsp.TEXT_DOCUMENT_DID_CHANGE)(self.on_change)
        feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))(self.on_save)
        feature(lsp.TEXT_DOCUMENT_DID_CLOSE)(self.on_close)
        feature(
            lsp.TEXT_DOCUMENT_DIAGNOSTIC,
            lsp.DiagnosticOptions(
                identifier=SOURCE, inter_file_dependencies=True, workspace_diagnostics=False
            ),
        )(self.on_diagnostic)
        feature(
            lsp.TEXT_DOCUMENT_CODE_ACTION,
            lsp.CodeActionOptions(
                code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=True
            ),
        )(self.on_code_action)
        feature(lsp.CODE_ACTION_RESOLVE)(self.on_resolve)
        feature(lsp.TEXT_DOCUMENT_HOVER)(self.on_hover)
        feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)(self.on_watched_files)
        feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)(self.on_configuration)
        feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(self.on_folders)

    @property
    def encoding(self) -> str:
        value = self.workspace.position_encoding
        return str(getattr(value, "value", value) or UTF16)

    def on_initialize(self, params: lsp.InitializeParams) -> None:
        capabilities = params.capabilities
        text = capabilities.text_document
        self.pull = text is not None and text.diagnostic is not None
        workspace = capabilities.workspace
        self.refresh = bool(
            workspace is not None
            and workspace.diagnostics is not None
            and workspace.diagnostics.refresh_support
        )
        folders = [f.uri for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [params.root_uri]
        elif not folders and params.root_path:
            folders = [from_fs_path(params.root_path) or ""]
        self.folders = [p for p in (_path_of(uri) for uri in folders) if p is not None]

    async def on_initialized(self, params: lsp.InitializedParams) -> None:
        workspace = self.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace is not None else None
        if watched is None or not watched.dynamic_registration:
            return
        patterns = ["**/*.py", *(f"**/{name}" for name in sorted(CONFIG_NAMES))]
        options = lsp.DidChangeWatchedFilesRegistrationOptions(
            watchers=[lsp.FileSystemWatcher(glob_pattern=p) for p in patterns]
        )
        registration = lsp.Registration(
            id="timestamp-lint-watched-files",
            method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=options,
        )
        with contextlib.suppress(Exception):  # a client that refuses: no file watching
            await self.client_register_capability_async(
                lsp.RegistrationParams(registrations=[registration])
            )

    def on_shutdown(self, params: None) -> None:
        self.shutting_down = True
        self.exit_code = 0
        for doc in self.open.values():
            _cancel(doc)

    def on_exit(self, params: None) -> None:
        if not self.shutting_down:
            self.exit_code = 1

    # -- documents ---------------------------------------------------------------------------

    def on_open(self, params: lsp.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        path = _path_of(item.uri)
        if path is None:
            return  # not a file: untitled buffers have no project
        doc = OpenDocument(item.uri, path, item.text, item.version)
        self.open[item.uri] = doc
        self.lint(doc)

    def on_change(self, params: lsp.DidChangeTextDocumentParams) -> None:
        doc = self.open.get(params.text_document.uri)
        if doc is None:
            return
        for change in params.content_changes:
            if isinstance(change, lsp.TextDocumentContentChangePartial):
                r = change.range
                span = (r.start.line, r.start.character, r.end.line, r.end.character)
                doc.apply(span, change.text, self.encoding)
            else:
                doc.apply(None, change.text, self.encoding)
        doc.version = params.text_document.version
        # the first change after a pause is linted at once; changes that follow it within
        # `debounce` seconds are linted once, when they stop
        loop = asyncio.get_running_loop()
        now = loop.time()
        idle = doc.timer is None and now - doc.changed_at >= self.debounce
        doc.changed_at = now
        _cancel(doc)
        doc.timer = loop.call_later(0 if idle else self.debounce, self._debounced, doc)

    def _debounced(self, doc: OpenDocument) -> None:
        doc.timer = None
        if not self.shutting_down and self.open.get(doc.uri) is doc:
            self.lint(doc, exact=False)

    def on_save(self, params: lsp.DidSaveTextDocumentParams) -> None:
        doc = self.open.get(params.text_document.uri)
        path = _path_of(params.text_document.uri)
        if path is not None and path.name in CONFIG_NAMES:
            self.reload()
        elif doc is not None:
            # a save lints again, as an editor's save hook would, and notices the modules
            # it depends on that changed on disk meanwhile (not every editor reports them)
            project = doc.project
            again = project.saved(doc.path) if project is not None else set()
            doc.linted = None
            self.lint(doc)
            self._lint_paths(project, again - {doc.path})

    def on_close(self, params: lsp.DidCloseTextDocumentParams) -> None:
        doc = self.open.pop(params.text_document.uri, None)
        if doc is None:
            return
        _cancel(doc)
        if not self.pull:
            self._publish(doc.uri, None, [])
        if doc.project is not None:
            again = doc.project.close(doc.path)
            self._lint_paths(doc.project, again)

    # -- projects ------------------------------------------------------------------------

    def _project_of(self, doc: OpenDocument) -> Project | str:
        folder = doc.path.parent
        config = self.configs.get(folder)
        if config is None:
            try:
                config = config_for(doc.path, self.folders)
            except UserError as exc:
                config = str(exc)
            except Exception as exc:  # a bug of ours: one line, never a traceback
                config = _internal(exc)
            self.configs[folder] = config
        if isinstance(config, str):
            return config
        project = self.projects.get(config)
        if project is None:
            project = self.projects[config] = Project(config)
        return project

    def reload(self) -> None:
        """Configuration files changed: every document finds its configuration again; a
        project whose configuration is unchanged keeps its warm index."""
        self.configs.clear()
        kept: dict[Config, Project] = {}
        for doc in self.open.values():
            found = self._project_of(doc)
            if isinstance(found, Project):
                kept[found.config] = found
            if doc.project is not None and doc.project is not found:
                doc.project.close(doc.path)
        self.projects = kept
        for doc in list(self.open.values()):
            doc.linted = None
            self.lint(doc, refresh=False)
        self._refresh()

    # -- linting -----------------------------------------------------------------------------

    def lint(self, doc: OpenDocument, refresh: bool = True, exact: bool = True) -> None:
        """Lint `doc` now, publish, and lint the documents that depend on it. Unless
        `exact`, an edit inside one function analyses that function alone."""
        if doc.current:
            return
        _cancel(doc)
        found = self._project_of(doc)
        again: set[Path] = set()
        doc.actions = {}
        doc.linted = (doc.version, doc.text)
        previous = (doc.error, doc.findings)
        if isinstance(found, str):
            doc.project, doc.error, doc.findings = None, found, ()
        else:
            if doc.project is not None and doc.project is not found:
                doc.project.close(doc.path)
            doc.project = found
            doc.data = to_bytes(doc.text)
            try:
                result, again = found.lint(doc.path, doc.data, doc.text, exact)
                doc.error, doc.findings = None, tuple(sorted(result.findings))
            except Exception as exc:  # never a crash, never stale diagnostics
                logger.exception("linting %s failed", doc.path)
                doc.error, doc.findings = _internal(exc), ()
        if (doc.error, doc.findings) != previous:
            doc.result_id += 1
        doc.reported = self._diagnostics(doc)
        if not self.pull:
            self._publish(doc.uri, doc.version, doc.reported)
        if again:
            self._lint_paths(doc.project, again, refresh=refresh)

    def _lint_paths(self, project: Project | None, paths: set[Path], refresh: bool = True):
        if not paths or project is None:
            return
        for doc in list(self.open.values()):
            if doc.project is project and doc.path in paths:
                doc.linted = None
                self.lint(doc, refresh=False)
        if refresh:
            self._refresh()

    def _refresh(self) -> None:
        """Tell a pulling client that diagnostics of other documents may have changed."""
        if self.pull and self.refresh and not self.shutting_down:
            with contextlib.suppress(Exception):
                self.workspace_diagnostic_refresh(None)

    def _publish(self, uri: str, version: int | None, items: list[lsp.Diagnostic]) -> None:
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=items, version=version)
        )

    def _range(self, doc: Document, line: int, column: int, end_line: int, end_column: int):
        encoding = self.encoding
        start = doc.position(doc.location(line, column), encoding)
        end = doc.position(
            max(doc.location(end_line, end_column), doc.location(line, column)), encoding
        )
        return lsp.Range(lsp.Position(*start), lsp.Position(*end))

    def _diagnostic(self, doc: OpenDocument, finding: Finding) -> lsp.Diagnostic:
        severity = (
            lsp.DiagnosticSeverity.Error
            if finding.code == PARSE_ERROR
            else lsp.DiagnosticSeverity.Warning
        )
        return lsp.Diagnostic(
            range=self._range(
                doc, finding.line, finding.column, finding.end_line, finding.end_column
            ),
            message=finding.message,
            severity=severity,
            code=finding.code,
            code_description=lsp.CodeDescription(href=doc_url(finding.code)),
            source=SOURCE,
        )

    def _diagnostics(self, doc: OpenDocument) -> list[lsp.Diagnostic]:
        if doc.error is not None:
            zero = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
            message = f"timestamp-lint: error: {doc.error}"
            return [
                lsp.Diagnostic(zero, message, severity=lsp.DiagnosticSeverity.Error, source=SOURCE)
            ]
        return [self._diagnostic(doc, f) for f in doc.findings]

    def _current(self, uri: str) -> OpenDocument | None:
        doc = self.open.get(uri)
        if doc is not None and not doc.current:
            self.lint(doc, exact=False)
        return doc

    # -- requests ------------------------------------------------------------------------------

    def on_diagnostic(self, params: lsp.DocumentDiagnosticParams):
        doc = self._current(params.text_document.uri)
        if doc is None:
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
        result_id = f"{id(doc)}-{doc.result_id}"
        if params.previous_result_id == result_id:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return lsp.RelatedFullDocumentDiagnosticReport(items=doc.reported, result_id=result_id)

    def on_hover(self, params: lsp.HoverParams) -> lsp.Hover | None:
        doc = self._current(params.text_document.uri)
        if doc is None:
            return None
        offset = doc.offset(params.position.line, params.position.character, self.encoding)
        codes: list[str] = []
        span = None
        for finding in doc.findings:
            start = doc.location(finding.line, finding.column)
            end = doc.location(finding.end_line, finding.end_column)
            if start <= offset <= end and finding.code not in codes:
                codes.append(finding.code)
                span = span or finding
        if span is None:
            return None
        text = "\n\n---\n\n".join(rule_text(code).rstrip() for code in codes)
        return lsp.Hover(
            contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
            range=self._range(doc, span.line, span.column, span.end_line, span.end_column),
        )

    @property
    def lazy_edits(self) -> bool:
        """The client resolves a code action's edit when it is chosen (`codeAction/resolve`):
        then fixes are computed for the chosen action only."""
        text = self.client_capabilities.text_document
        action = text.code_action if text is not None else None
        support = action.resolve_support if action is not None else None
        return support is not None and "edit" in support.properties

    def on_code_action(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        doc = self._current(params.text_document.uri)
        if doc is None or doc.project is None or doc.data is None:
            return None
        only = params.context.only
        actions: list[lsp.CodeAction] = []
        if _wanted(lsp.CodeActionKind.QuickFix, only):
            r = params.range
            first, last = r.start.line + 1, r.end.line + 1
            for finding in doc.findings:
                if finding.fix is None or finding.end_line < first or finding.line > last:
                    continue
                safe = finding.fix.applicability is Applicability.SAFE
                title = f"timestamp-lint ({finding.code}): {finding.fix.message}"
                if not safe and "unsafe" not in title.lower():
                    title += " (unsafe fix)"
                action = lsp.CodeAction(
                    title=title,
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[self._diagnostic(doc, finding)],
                    is_preferred=safe,
                )
                actions.append(action)
                self._attach(doc, action, [finding.line, finding.column, finding.code])
        unsafe = doc.project.config.unsafe_fixes  # fix-all applies what --fix would
        if _wanted(FIX_ALL, only) and any(in_fix_all(f, unsafe) for f in doc.findings):
            title = (
                "timestamp-lint: apply all fixes"
                if unsafe
                else "timestamp-lint: apply all safe fixes"
            )
            action = lsp.CodeAction(title=title, kind=FIX_ALL)
            actions.append(action)
            self._attach(doc, action, "all")
        if not self.lazy_edits:  # an action whose fix could not be computed is not offered
            actions = [a for a in actions if a.edit is not None]
        return actions

    def _attach(self, doc: OpenDocument, action: lsp.CodeAction, key: Any) -> None:
        """Give `action` its edit now, or what resolving it later needs."""
        if self.lazy_edits:
            action.data = {"uri": doc.uri, "version": doc.version, "key": key}
            return
        fixed = self._fixed(doc, key)
        if fixed is not None and fixed != doc.text:
            action.edit = self._edit(doc, fixed)

    def on_resolve(self, action: lsp.CodeAction) -> lsp.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        doc = self._current(str(data.get("uri", "")))
        if doc is None or doc.version != data.get("version") or doc.project is None:
            return action  # the document changed since: no edit
        key = data.get("key")
        fixed = self._fixed(doc, key if key == "all" else tuple(key or ()))
        if fixed is not None and fixed != doc.text:
            action.edit = self._edit(doc, fixed)
        return action

    def _compute(self, doc: OpenDocument, key: Any) -> str | None:
        """The buffer's text with the fix of finding `key` applied (`"all"`: the safe
        fixes, as `--fix` applies them)."""
        project, data = doc.project, doc.data
        if project is None or data is None:
            return None
        if key == "all":
            return _text_of(project.fix_all(doc.path, data))
        for finding in doc.findings:
            if (finding.line, finding.column, finding.code) == tuple(key):
                return project.fix_one(doc.path, data, finding)
        return None

    def _fixed(self, doc: OpenDocument, key: Any) -> str | None:
        """The fixed text for `key`, computed once per version of the document."""
        key = key if key == "all" else tuple(key)
        if key not in doc.actions:
            try:
                fixed = self._compute(doc, key)
            except Exception:
                logger.exception("fixing %s failed", doc.path)
                fixed = None
            if (
                fixed is not None
                and doc.text.startswith("\ufeff")
                and not fixed.startswith("\ufeff")
            ):
                fixed = "\ufeff" + fixed  # the editor holds the BOM as a character
            doc.actions[key] = fixed
        return doc.actions[key]

    def _edit(self, doc: OpenDocument, fixed: str) -> lsp.WorkspaceEdit:
        encoding = self.encoding
        edits = [
            lsp.TextEdit(
                range=lsp.Range(
                    lsp.Position(*doc.position(start, encoding)),
                    lsp.Position(*doc.position(end, encoding)),
                ),
                new_text=text,
            )
            for start, end, text in text_edits(doc.text, fixed)
        ]
        workspace = self.client_capabilities.workspace
        edit_caps = workspace.workspace_edit if workspace is not None else None
        if edit_caps is not None and edit_caps.document_changes:
            identifier = lsp.OptionalVersionedTextDocumentIdentifier(
                uri=doc.uri, version=doc.version
            )
            return lsp.WorkspaceEdit(
                document_changes=[lsp.TextDocumentEdit(text_document=identifier, edits=edits)]
            )
        return lsp.WorkspaceEdit(changes={doc.uri: edits})

    # -- the workspace -------------------------------------------------------------------

    def on_watched_files(self, params: lsp.DidChangeWatchedFilesParams) -> None:
        reload = False
        again: dict[int, tuple[Project, set[Path]]] = {}
        for change in params.changes:
            path = _path_of(change.uri)
            if path is None:
                continue
            if path.name in CONFIG_NAMES:
                reload = True
                continue
            if path.suffix != ".py":
                continue
            for project in list(self.projects.values()):
                if not path.is_relative_to(project.config.root):
                    continue
                found = project.disk_changed(
                    path,
                    created=change.type == lsp.FileChangeType.Created,
                    deleted=change.type == lsp.FileChangeType.Deleted,
                )
                again.setdefault(id(project), (project, set()))[1].update(found)
        if reload:
            self.reload()
            return
        for project, paths in again.values():
            self._lint_paths(project, paths)

    def on_configuration(self, params: lsp.DidChangeConfigurationParams) -> None:
        self.reload()

    def on_folders(self, params: lsp.DidChangeWorkspaceFoldersParams) -> None:
        removed = {p for p in (_path_of(f.uri) for f in params.event.removed) if p}
        added = [p for p in (_path_of(f.uri) for f in params.event.added) if p]
        self.folders = [f for f in self.folders if f not in removed] + added
        self.reload()


def _plain(handler):
    """A function calling the bound method `handler` (pygls registers functions)."""
    if asyncio.iscoroutinefunction(handler):

        async def run_async(params):
            return await handler(params)

        return run_async

    def run(params):
        return handler(params)

    return run


def _cancel(doc: OpenDocument) -> None:
    if doc.timer is not None:
        doc.timer.cancel()
        doc.timer = None


def _wanted(kind: str, only: list[str] | None) -> bool:
    return only is None or any(kind == o or kind.startswith(f"{o}.") for o in only)


def _text_of(data: bytes) -> str | None:
    try:
        return decode_source(data)
    except SourceError:
        return None


def _internal(exc: Exception) -> str:
    return f"internal error: {type(exc).__name__}: {exc} (please report this)"


def _path_of(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(os.path.realpath(path)) if path else None


def serve(debounce: float = DEFAULT_DEBOUNCE) -> int:
    """Serve over stdin/stdout until the client says exit; the exit status."""
    logging.basicConfig(level=logging.WARNING, format="timestamp-lint server: %(message)s")
    server = TimestampLintServer(debounce)
    server.start_io()
    return server.exit_code
