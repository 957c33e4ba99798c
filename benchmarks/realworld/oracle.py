"""Pure logic of the real-world oracle: creation sites, injections, the probe, verdicts, tables.

Nothing here runs a subprocess or touches the network, so `tests/test_realworld_oracle.py`
checks it on small in-memory samples. `run.py` drives it; `truth.py` provides the runtime
truth (models, their timestamp columns, and which `module.attr` names bind to a model).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

OTHER = "_tsl_other"
CREATE_METHODS = ("create", "get_or_create", "update_or_create")
MANAGERS = ("objects", "_default_manager")
PROBE_MODULE = "tsl_oracle_probe"


@dataclass(frozen=True)
class Site:
    """A creation site of a runtime model found in a project file, and where to inject a copy."""

    path: str  # relative to the tree root, posix
    line: int  # 1-based line of the call
    kind: str  # "constructor", "objects.create", "insert.values"
    model: str  # runtime model id (module.qualname)
    callee: str  # source text of the callee, for people
    offset: int  # character offset in the file where the injected text goes
    text: str  # the text inserted there
    field: str  # the field the injection copies
    key_line: int = 0  # 1-based line of the injected key (filled by inject())
    key_column: int = 0  # 1-based column of the injected key, after every injection


def module_name(relpath: str) -> str:
    """The module name of a file at `relpath` (posix, relative to a root of sys.path)."""
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str | None:
    if level == 0:
        return name
    base = module.split(".") if module else []
    if not is_package:
        base = base[:-1]
    if level > 1:
        if level - 1 > len(base):
            return None
        base = base[: len(base) - (level - 1)]
    if name:
        base = [*base, name]
    return ".".join(base) if base else None


def _bind_imports(node: ast.AST, module: str, is_package: bool, names: dict[str, str]) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                names[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                names[top] = top
    elif isinstance(node, ast.ImportFrom):
        base = _absolute(module, is_package, node.level, node.module)
        if base is None:
            return
        for alias in node.names:
            if alias.name != "*":
                names[alias.asname or alias.name] = f"{base}.{alias.name}"


def _module_level(body: list[ast.stmt]):
    """Module-level statements in source order, into if/try/with blocks, not into functions
    or classes."""
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.Try | ast.With | ast.AsyncWith | ast.For | ast.While):
            for block in ("body", "orelse", "finalbody"):
                yield from _module_level(getattr(node, block, []) or [])
            for handler in getattr(node, "handlers", []) or []:
                yield from _module_level(handler.body)


def import_map(tree: ast.AST, module: str, is_package: bool) -> dict[str, str]:
    """Local name -> dotted name it binds to, from the file's import and class statements.

    Module-level imports and classes bind in source order, the last one winning (as at run
    time). A module-level assignment (`AccessToken = get_access_token_model()`) binds the
    module's own attribute, which the runtime truth then says is a model or not, but only
    where no import binds the name (so `models = LazyImport("pkg.models")` beside a
    TYPE_CHECKING import keeps the import); imports inside functions and classes fill in
    names no module-level statement binds. One flat map per file: an honest
    simplification, documented in the README.
    """
    names: dict[str, str] = {}
    body = tree.body if isinstance(tree, ast.Module) else []
    top_nodes = list(_module_level(body))
    assigned: dict[str, str] = {}
    for node in top_nodes:
        _bind_imports(node, module, is_package, names)
        if isinstance(node, ast.ClassDef):
            names[node.name] = f"{module}.{node.name}"
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, f"{module}.{target.id}")
    for key, value in assigned.items():
        names.setdefault(key, value)
    seen = {id(n) for n in top_nodes}
    inner: dict[str, str] = {}
    for node in ast.walk(tree):
        if id(node) not in seen and isinstance(node, ast.Import | ast.ImportFrom):
            local: dict[str, str] = {}
            _bind_imports(node, module, is_package, local)
            for key, value in local.items():
                inner.setdefault(key, value)
    for key, value in inner.items():
        names.setdefault(key, value)
    return names


def dotted(node: ast.expr) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def resolve_callee(node: ast.expr, names: dict[str, str], bindings: dict[str, str]) -> str | None:
    """The runtime model a callee expression binds to, by the file's imports, or None."""
    parts = dotted(node)
    if not parts or parts[0] not in names:
        return None
    full = ".".join([names[parts[0]], *parts[1:]])
    return bindings.get(full)


def _char_offsets(source: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(source):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _offset(source: str, starts: list[int], lineno: int, col_bytes: int) -> int:
    begin = starts[lineno - 1]
    end = starts[lineno] if lineno < len(starts) else len(source)
    line = source[begin:end]
    return begin + len(line.encode("utf-8")[:col_bytes].decode("utf-8", "replace"))


def _keyword_injection(
    source: str, starts: list[int], call: ast.Call, field: str
) -> tuple[int, str] | None:
    items: list[ast.AST] = [*call.args, *call.keywords]
    if any(kw.arg == field for kw in call.keywords):
        return None
    if items:
        last = max(items, key=lambda n: (n.end_lineno, n.end_col_offset))
        off = _offset(source, starts, last.end_lineno, last.end_col_offset)
        return off, f", {field}={OTHER}.{field}"
    func_end = _offset(source, starts, call.func.end_lineno, call.func.end_col_offset)
    paren = source.find("(", func_end)
    if paren < 0:
        return None
    return paren + 1, f"{field}={OTHER}.{field}"


def _dict_injection(
    source: str, starts: list[int], node: ast.Dict, field: str
) -> tuple[int, str] | None:
    for key in node.keys:
        if isinstance(key, ast.Constant) and key.value == field:
            return None
    if node.values:
        last = node.values[-1]
        off = _offset(source, starts, last.end_lineno, last.end_col_offset)
        return off, f', "{field}": {OTHER}.{field}'
    off = _offset(source, starts, node.lineno, node.col_offset)
    return off + 1, f'"{field}": {OTHER}.{field}'


def _annotated_params(
    tree: ast.AST, names: dict[str, str], class_bindings: dict[str, str]
) -> dict[int, dict[str, str]]:
    """For each call inside a function: its parameters whose annotation names a class of
    `class_bindings` (parameter -> class id); an inner function's parameters shadow the outer
    ones."""
    env: dict[int, dict[str, str]] = {}
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = {}
        a = func.args
        every = {
            arg.arg for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if arg
        }
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]:
            ann = arg.annotation
            if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
                try:
                    ann = ast.parse(ann.value, mode="eval").body
                except SyntaxError:
                    continue
            parts = dotted(ann) if ann is not None else None
            if parts and parts[0] in names:
                full = ".".join([names[parts[0]], *parts[1:]])
                if full in class_bindings:
                    params[arg.arg] = class_bindings[full]
        for node in ast.walk(func):
            if isinstance(node, ast.Call):
                outer = {k: v for k, v in env.get(id(node), {}).items() if k not in every}
                env[id(node)] = {**outer, **params}
    return env


def _insert_target(call: ast.Call) -> ast.expr | None:
    """`insert(X).values(...)` -> X; `X.__table__.insert().values(...)` -> X."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "values"):
        return None
    inner = call.func.value
    if not isinstance(inner, ast.Call):
        return None
    if isinstance(inner.func, ast.Name) and inner.func.id == "insert" and inner.args:
        return inner.args[0]
    if isinstance(inner.func, ast.Attribute) and inner.func.attr == "insert":
        if isinstance(inner.func.value, ast.Name | ast.Attribute) and inner.args:
            return inner.args[0]
        table = inner.func.value
        if isinstance(table, ast.Attribute) and table.attr == "__table__":
            return table.value
    return None


def find_sites(
    path: str,
    source: str,
    bindings: dict[str, str],
    fields: tuple[str, ...] = ("created_at", "updated_at"),
    attr_bindings: dict[str, str] | None = None,
    class_bindings: dict[str, str] | None = None,
) -> list[Site]:
    """Creation sites of runtime models in one file, each with the injection it gets.

    A call is a site when its callee binds, through the file's imports or its own class
    statements, to a name that at runtime is a model class (`bindings`, from truth.py):
    `Model(...)`, `Model.objects.create/get_or_create/update_or_create(...)`,
    `insert(Model).values(...)`, `Model.__table__.insert().values(...)`. The injection copies
    the first of `fields` the call does not pass already (a call passing all is skipped).

    `attr_bindings` ({class id.attr: model id}: a class attribute or a property annotated
    `-> type[Model]`) and `class_bindings` ({module.attr: class id}) add the sites reached
    through a parameter annotation: `def f(db: DBInterface): db.Flow(...)` (Prefect). Their
    kind ends in " (annotation)".
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    module = module_name(path)
    names = import_map(tree, module, path.endswith("__init__.py"))
    starts = _char_offsets(source)
    env = _annotated_params(tree, names, class_bindings or {}) if attr_bindings else {}
    sites = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        kind, target = None, None
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in CREATE_METHODS
            and isinstance(func.value, ast.Attribute)
            and func.value.attr in MANAGERS
        ):
            kind, target = "objects.create", func.value.value
        elif (insert := _insert_target(node)) is not None:
            kind, target = "insert.values", insert
        else:
            kind, target = "constructor", func
        model = resolve_callee(target, names, bindings)
        if (
            model is None
            and isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and (owner := env.get(id(node), {}).get(target.value.id))
        ):
            model = (attr_bindings or {}).get(f"{owner}.{target.attr}")
            kind = f"{kind} (annotation)"
        if model is None:
            continue
        for fld in fields:
            one_dict = len(node.args) == 1 and isinstance(node.args[0], ast.Dict)
            if kind == "insert.values" and one_dict:
                inj = _dict_injection(source, starts, node.args[0], fld)
            elif kind == "insert.values" and node.args:
                inj = None  # a list of rows or a select: no single place for a copy
                break
            else:
                inj = _keyword_injection(source, starts, node, fld)
            if inj is not None:
                break
        if inj is None:
            continue
        sites.append(
            Site(
                path=path,
                line=node.lineno,
                kind=kind,
                model=model,
                callee=ast.get_source_segment(source, target) or "?",
                offset=inj[0],
                text=inj[1],
                field=fld,
            )
        )
    sites.sort(key=lambda s: s.offset)
    return sites


def inject(source: str, sites: list[Site]) -> tuple[str, list[Site]]:
    """Insert every site's text; return the new source and the sites with the final positions
    (1-based line and column) of each injected key. Insertions never add a newline, so lines
    stay where they were; columns shift by the text inserted before them on the same line."""
    ordered = sorted(sites, key=lambda s: s.offset)
    if len({s.offset for s in ordered}) != len(ordered):
        raise ValueError("two injections at one offset")
    starts = _char_offsets(source)
    out, placed, shift_line, shift = [], [], 0, 0
    prev = 0
    for site in ordered:
        out.append(source[prev : site.offset])
        line = _line_of(starts, site.offset)
        if line != shift_line:
            shift_line, shift = line, 0
        lead = len(site.text) - len(site.text.lstrip(", "))
        column = site.offset - starts[line - 1] + shift + lead + 1
        placed.append(_replace(site, key_line=line, key_column=column))
        shift += len(site.text)
        out.append(site.text)
        prev = site.offset
    out.append(source[prev:])
    return "".join(out), placed


def _line_of(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1


def _replace(site: Site, **changes) -> Site:
    values = {f: getattr(site, f) for f in site.__dataclass_fields__}
    values.update(changes)
    return Site(**values)


def probe_source(models: Iterable[dict], field: str = "created_at") -> tuple[str, dict[int, str]]:
    """A module that imports every importable runtime model through its real module path and
    builds each with a copied timestamp, one call per line. Returns the source and a map of
    call line -> model id."""
    models = [m for m in models if m.get("importable")]
    lines = ['"""Generated by the real-world oracle: a copied timestamp per runtime model."""', ""]
    aliases = []
    for i, model in enumerate(models):
        top = model["qualname"].split(".")[0]
        alias = f"_M{i}_{top}"
        lines.append(f"from {model['module']} import {top} as {alias}")
        aliases.append(".".join([alias, *model["qualname"].split(".")[1:]]))
    lines += ["", "", f"def probe({OTHER}):"]
    where = {}
    for model, alias in zip(models, aliases, strict=True):
        lines.append(f"    {alias}({field}={OTHER}.{field})")
        where[len(lines)] = model["id"]
    if not models:
        lines.append("    pass")
    return "\n".join(lines) + "\n", where


def reported_at(
    findings: list[dict],
    path: str,
    line: int,
    column: int | None = None,
    field: str | None = None,
    before: Iterable[dict] = (),
) -> bool:
    """Is there a TSL001 finding at path:line (and column, and for `field`, when given) that
    the untouched run (`before`) did not have already?"""
    old = {(f.get("path"), f.get("line"), f.get("column"), f.get("field")) for f in before}
    for f in findings:
        if f.get("code") != "TSL001" or f.get("path") != path or f.get("line") != line:
            continue
        if column is not None and f.get("column") != column:
            continue
        if field is not None and f.get("field") != field:
            continue
        if (f.get("path"), f.get("line"), f.get("column"), f.get("field")) in old:
            continue
        return True
    return False


def tsl003_verdicts(
    models: list[dict],
    findings: list[dict],
    fields: tuple[str, ...] = ("created_at", "updated_at"),
    update_fields: tuple[str, ...] = ("updated_at",),
) -> list[dict]:
    """For each runtime model column named like a timestamp field: does runtime say it cannot
    stamp itself (no insert default that stamps the time, or no update hook for an update
    field), and does the linter report TSL003 for it (on the model or any class of its MRO)?"""
    reported = {(f.get("model"), f.get("field")) for f in findings if f.get("code") == "TSL003"}
    out = []
    for model in models:
        for col in model["columns"]:
            if col["name"] not in fields:
                continue
            missing = []
            if not col["insert_default"]:
                missing.append("insert default")
            if col["name"] in update_fields and not col["update_hook"]:
                missing.append("update hook")
            runtime_bad = bool(missing)
            lint_bad = any((c, col["name"]) in reported for c in model.get("mro", [model["id"]]))
            out.append(
                {
                    "model": model["id"],
                    "field": col["name"],
                    "runtime_missing": missing,
                    "hooks": model.get("hooks", 0),
                    "linter_tsl003": lint_bad,
                    "agree": runtime_bad == lint_bad,
                }
            )
    return out


def pct(num: int, den: int) -> str:
    return "n/a" if den == 0 else f"{100.0 * num / den:.0f}%"


TABLE_HEADER = (
    "| project | ORM | runtime models | recognised | real sites | recall | "
    "untouched findings | TSL004 (untouched) | TSL003 agree | timestamp-lint / ruff |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def table_row(r: dict) -> str:
    probe = r["probe"]
    sites = r["sites"]
    untouched = r["untouched"]
    t3 = r["tsl003"]
    timing = r["timing"]
    ratio = (
        f"{timing['tsl']:.2f} s / {timing['ruff']:.2f} s"
        if timing.get("tsl") is not None and timing.get("ruff") is not None
        else "n/a"
    )
    return (
        f"| {r['name']} {r['version']} | {r['orm']} | {probe['total']} | "
        f"{probe['reported']} ({pct(probe['reported'], probe['total'])}) | {sites['total']}"
        f"{f' ({n} via annotation)' if (n := sites.get('by_annotation', 0)) else ''} | "
        f"{sites['reported']} ({pct(sites['reported'], sites['total'])}) | "
        f"{untouched['total']} | {untouched['by_code'].get('TSL004', 0)} | "
        f"{t3['agree']}/{t3['total']} | {ratio} |"
    )


def build_table(results: list[dict]) -> str:
    rows = [TABLE_HEADER, *(table_row(r) for r in results)]
    tot = {
        "models": sum(r["probe"]["total"] for r in results),
        "recognised": sum(r["probe"]["reported"] for r in results),
        "sites": sum(r["sites"]["total"] for r in results),
        "recalled": sum(r["sites"]["reported"] for r in results),
        "untouched": sum(r["untouched"]["total"] for r in results),
        "tsl004": sum(r["untouched"]["by_code"].get("TSL004", 0) for r in results),
        "agree": sum(r["tsl003"]["agree"] for r in results),
        "t3": sum(r["tsl003"]["total"] for r in results),
    }
    rows.append(
        f"| **all** | | {tot['models']} | {tot['recognised']} "
        f"({pct(tot['recognised'], tot['models'])}) | {tot['sites']} | {tot['recalled']} "
        f"({pct(tot['recalled'], tot['sites'])}) | {tot['untouched']} | {tot['tsl004']} | "
        f"{tot['agree']}/{tot['t3']} | |"
    )
    return "\n".join(rows)


def replace_section(text: str, body: str, start: str, end: str) -> str:
    """Replace what lies between the `start` and `end` markers (appending both if absent)."""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        return f"{head}{start}\n{body.strip()}\n{end}{tail}"
    return f"{text.rstrip()}\n\n{start}\n{body.strip()}\n{end}\n"


def allowed_by_default(path: str, source: str = "") -> bool:
    """Files the linter's default allowlist covers (no TSL001 there by design: migrations,
    backfills, serializers, tests, seed and fixture-data scripts, and Alembic revision
    scripts wherever they live): their sites are counted apart, not as misses. The globs
    and the revision test are the linter's own, so the two cannot drift apart."""
    from timestamp_lint.ftypes import DEFAULT_ALLOW
    from timestamp_lint.globs import PathMatcher
    from timestamp_lint.prefilter import is_revision_script

    data = source.encode("utf-8", "surrogateescape")
    return PathMatcher(DEFAULT_ALLOW).match(path) or is_revision_script(data)


__all__ = [
    "OTHER",
    "PROBE_MODULE",
    "Site",
    "allowed_by_default",
    "build_table",
    "find_sites",
    "import_map",
    "inject",
    "module_name",
    "pct",
    "probe_source",
    "replace_section",
    "reported_at",
    "resolve_callee",
    "tsl003_verdicts",
]
