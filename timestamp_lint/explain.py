"""`timestamp-lint explain PATH:LINE`: why a line is, or is not, reported.

For each call on the line: how its callee's name resolved, step by step (the resolution
trace the project index records, from the same resolution the rules use), the model's
classes up to the ORM root, its timestamp columns and their defaults, and what the rules
judged.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from timestamp_lint.detect import is_field_of
from timestamp_lint.ftypes import Config, UserError
from timestamp_lint.index import (
    ChoiceSym,
    ClassSummary,
    ClassSym,
    Kind,
    ProjectIndex,
    external_kind,
    show_expr,
)
from timestamp_lint.source import SourceError, decode_source, parse_python, read_source

if TYPE_CHECKING:
    import ast
    from collections.abc import Mapping

    import libcst as cst
    from libcst.metadata import CodeRange

    from timestamp_lint.engine import Engine
    from timestamp_lint.semantics import CreationSite, Semantics

MAX_CHAIN = 32


def parse_location(location: str) -> tuple[Path, int]:
    path_text, _, line_text = location.rpartition(":")
    if not path_text or not line_text.isdigit() or int(line_text) < 1:
        raise UserError(f"{location!r}: expected PATH:LINE, e.g. app/services.py:12")
    path = Path(path_text)
    if not path.is_file():
        raise UserError(f"{path_text}: no such file")
    return path, int(line_text)


def class_chain(index: ProjectIndex, cls: ClassSummary, depth: int = 0) -> list[str]:
    """`cls` and its bases up to the ORM root (or to where resolution stopped)."""
    pad = "  " * depth
    kind = index.class_kind(cls)
    kinds = {Kind.MODEL: "a model", Kind.SQLMODEL: "a SQLModel class, no table"}
    what = kinds.get(kind, "no model")
    lines = [f"{pad}class {cls.qualname} ({index.where(cls.path)}:{cls.line}): {what}"]
    module = index.summary(cls.path)
    if depth > MAX_CHAIN or module is None:
        return lines
    for base in cls.bases:
        named = index.base_stop(module, base)
        written = show_expr(base) if base is not None else "<expression>"
        if named.stop is not None:
            lines.append(f"{pad}  {named.stop}")
        elif named.model_free is not None:
            lines.append(f"{pad}  base {written} is {named.model_free}")
        else:
            lines.extend(_base_chain(index, written, named.symbol, depth))
    return lines


def _base_chain(index: ProjectIndex, written: str, symbol: object, depth: int) -> list[str]:
    pad = "  " * depth
    if isinstance(symbol, ClassSym):
        return class_chain(index, symbol.cls, depth + 1)
    if isinstance(symbol, str):
        known = external_kind(symbol, frozenset(index.config.model_bases))
        verdict = {Kind.MODEL: "an ORM root", Kind.SQLMODEL: "SQLModel"}.get(
            known, "not a known model base"
        )
        return [f"{pad}  base {written} is {symbol}: {verdict}"]
    if isinstance(symbol, ChoiceSym):
        count = len(symbol.options)
        lines = [f"{pad}  base {written} is bound on branches, one of {count}:"]
        for option in symbol.options:
            lines.extend(_base_chain(index, written, option, depth + 1))
        return lines
    return [f"{pad}  base {written} did not resolve"]


def explain_line(path: Path, line: int, config: Config) -> str:
    """The explanation of `line` of `path`, as text."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from timestamp_lint.api import make_engine
    from timestamp_lint.semantics import PROVIDERS, Semantics

    path = path.resolve()
    engine = make_engine(config)
    index = engine.index
    try:
        data = read_source(path)
        text = decode_source(data)
        tree = parse_python(text, path)
    except (SourceError, SyntaxError, ValueError) as exc:
        raise UserError(f"{path}: cannot parse: {exc}") from None
    count = len(text.splitlines())
    if line > count:
        raise UserError(f"{path}: line {line} is past the end of the file ({count} lines)")
    every = engine.lint_file(path, whole=True).findings
    summary = index.add_tree(path, tree, data=data)
    module = cst.parse_module(text)
    metadata = MetadataWrapper(module, unsafe_skip_copy=True).resolve_many(PROVIDERS)
    semantics = Semantics(module, metadata, summary, index, frozenset(config.fields))
    positions = metadata[PositionProvider]
    calls = _calls_at(positions, line)
    # what the rules reported on the line, and in the calls explained
    first = min((positions[c].start.line for c in calls), default=line)
    last = max((positions[c].end.line for c in calls), default=line)
    findings = [f for f in every if first <= f.line <= last]
    shown = index.where(path)
    out: list[str] = []
    if not calls:
        out.append(f"{shown}:{line}: no call on this line")
    for call in sorted(calls, key=lambda c: (positions[c].start.line, positions[c].start.column)):
        start = positions[call].start
        callee = module.code_for_node(call.func)
        out.append(f"{shown}:{start.line}:{start.column + 1}: {callee}(...)")
        with index.tracing() as trace:
            site = semantics.creation_site(call)
        out.append("  resolution:")
        for qualified in sorted(semantics.qualified_names(call.func), key=lambda q: q.name):
            source = qualified.source.name.lower()
            out.append(f"    {shown}: {callee} is {qualified.name} ({source})")
        out.extend(f"    {step}" for step in _dedupe(trace) or ["(no name to resolve)"])
        if site is None:
            out.append("  not a creation site: the callee is no model we could resolve")
            called = semantics.class_named(call.func)
            if called is not None:  # where its classification stopped, if it did
                out.extend(f"    {step}" for step in class_chain(index, called))
                why = index.unresolved_base(called)
                if why is not None:
                    out.append(f"    where it stopped: {why}")
            continue
        out.append(f"  creates {site.model.qualname} records ({site.label})")
        out.extend(f"    {step}" for step in class_chain(index, site.model))
        out.append("  timestamp columns:")
        columns = index.model_info(site.model).columns
        # the configured fields, and those the model declares as stamping the time
        values = [v for v in site.values if is_field_of(index, site.model, v.field)]
        for name in dict.fromkeys([*config.fields, *(v.field for v in values)]):
            info = columns.get(name)
            if info is None:
                out.append(f"    {name}: not declared (or not understood)")
                continue
            default = info.insert_default or "no insert default"
            stamps = ", stamps the current time" if info.stamps_now else ""
            hook = info.update_hook or "no update hook"
            out.append(f"    {name}: declared in {info.owner}; {default}{stamps}; {hook}")
        out.append("  timestamp values given:")
        for value in values:
            source = semantics.copy_source(value.value)
            copied = (
                f"copies {module.code_for_node(source.origin)}"
                if source is not None
                else "not another record's timestamp"
            )
            out.append(f"    {value.field}={module.code_for_node(value.value)}: {copied}")
            start = positions[value.carrier].start.line
            if source is not None and not any(
                f.code == "TSL001" and f.line == start and f.field == value.field for f in every
            ):
                why = _silence(engine, semantics, site, value.field, call, tree, data, start)
                out.append(f"      not reported: {why}")
        if not values:
            out.append("    (none)")
    out.append("rules:")
    for finding in findings:
        out.append(f"  {finding.code} at {finding.line}:{finding.column}: {finding.message}")
    if not findings:
        out.append("  nothing reported on this line")
    return "\n".join(out) + "\n"


def _calls_at(positions: Mapping[cst.CSTNode, CodeRange], line: int) -> list[cst.Call]:
    """The calls that start on `line`, and the innermost call around it that starts above
    (a finding's line is its argument's: `date=timezone.now().date(),` inside a `Model(`
    call of several lines)."""
    import libcst as cst

    calls = [n for n in positions if isinstance(n, cst.Call)]
    starting = [c for c in calls if positions[c].start.line == line]
    around = [c for c in calls if positions[c].start.line < line <= positions[c].end.line]
    if around:
        innermost = max(around, key=lambda c: (positions[c].start.line, positions[c].start.column))
        return [innermost, *starting]
    return starting


def _silence(
    engine: Engine,
    semantics: Semantics,
    site: CreationSite,
    field: str,
    call: cst.Call,
    tree: ast.Module,
    data: bytes,
    line: int,
) -> str:
    """Why TSL001 says nothing of a creation site that copies `field` from another record
    (its value starts on `line`; `tree`, `data`: its file's): the reasons the rule and the
    run have, in their order."""
    from timestamp_lint.config import ignored_codes, is_selected
    from timestamp_lint.discover import relative_to_root
    from timestamp_lint.engine import noqa_lines
    from timestamp_lint.prefilter import SKIP_FILE_RE
    from timestamp_lint.rules.tsl001 import only_signalled

    config, path = engine.config, semantics.summary.path
    rules = engine.filter.rules_for(path, data)
    if not is_selected("TSL001", config.select, config.ignore):
        return "TSL001 is not selected (`select` / `ignore`)"
    if "TSL001" in ignored_codes(config, path):
        return "TSL001 is off for this file (`per-file-ignores`)"
    if not any(rule.code == "TSL001" for rule in rules):
        if not engine.filter.allow.match(relative_to_root(path, config.root)):
            return "the file is an Alembic revision script (allowed wherever it lives)"
        return "the file is on the allowlist (`allow`: migrations, backfills, tests...)"
    if SKIP_FILE_RE.search(data):
        return "the file says `# timestamp-lint: skip-file`"
    noqa = noqa_lines(semantics.module.code).get(line, frozenset())
    if noqa is None or "TSL001" in noqa:
        return f"a `# noqa` comment on line {line}"
    if not is_field_of(engine.index, site.model, field):
        return f"{field} is not a timestamp field of {site.model.name}"
    if site.kind == "constructor" and only_signalled(semantics, call):
        return (
            "the record is an in-memory snapshot, never saved: it is only tested and passed "
            "to a signal's send()"
        )
    if not engine.needs_analysis(data, path):
        return "the byte pre-filter passed the file over (a bug: please report it)"
    codes = {rule.code for rule in rules}
    if not engine.prescreen.worth_analysing(data, tree, semantics.summary, codes):
        return "the pre-screen passed the file over (a bug: please report it)"
    return "no reason known (a bug: please report it)"


def _dedupe(steps: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for step in steps:
        if step not in seen:
            seen.add(step)
            kept.append(step)
    return kept


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("location", metavar="PATH:LINE")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Use this configuration file.",
)
def explain(location: str, config_file: Path | None) -> None:
    """Explain how the calls on a line resolved and what the rules judged."""
    from timestamp_lint.api import resolve_config
    from timestamp_lint.cli import fail

    try:
        path, line = parse_location(location)
        config = resolve_config([path], config_file)
        click.echo(explain_line(path, line, config), nl=False)
    except UserError as exc:
        fail(str(exc))
    except Exception as exc:  # a bug of ours: one line, never a traceback
        fail(f"internal error: {type(exc).__name__}: {exc} (please report this)")
