"""Function bodies built from small statement templates over typed local variables.

Nothing here mentions a linted timestamp field: these are the bulk of the code that the
pre-filter should skip cheaply. Timestamp code lives in `files.py`, where it is placed on
purpose.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from synth import vocab
from synth.project import Entity
from synth.writer import Module, comment, docstring, indent, plural

TypeRef = Callable[[Entity], str]

EMPTY = "<empty>"  # early returns, filled in once the function's return type is known
GENERIC_ATTRS = ("name", "status", "kind", "value", "key", "label", "owner_id", "region")
NUMERIC_GENERIC = ("count", "size", "weight", "score", "total")


@dataclass
class Var:
    name: str
    kind: str  # obj, seq, num, str, map, flag, ids
    entity: Entity | None = None
    param: bool = False
    used: bool = False


class Body:
    """Statements of one function body, appended at indentation 0 (the caller indents)."""

    def __init__(
        self, mod: Module, rng: random.Random, typeref: TypeRef, returns: str = "any"
    ) -> None:
        self.mod = mod
        self.rng = rng
        self.typeref = typeref
        self.vars: list[Var] = []
        self.lines: list[str] = []
        self.taken: set[str] = {"self", "session", "logger", "start", "chunk", "position"}
        self.returns = returns

    # -------------------------------------------------------------------- variables

    def fresh(self, base: str) -> str:
        name, n = base, 2
        while name in self.taken:
            name = f"{base}_{n}"
            n += 1
        self.taken.add(name)
        return name

    def add_var(
        self, name: str, kind: str, entity: Entity | None = None, param: bool = False
    ) -> Var:
        self.taken.add(name)
        var = Var(name, kind, entity, param)
        self.vars.append(var)
        return var

    def pick(self, *kinds: str) -> Var | None:
        """A variable of one of `kinds`, preferring one nothing has read yet."""
        found = [v for v in self.vars if v.kind in kinds]
        if not found:
            return None
        unused = [v for v in found if not v.used]
        var = self.rng.choice(unused if unused and self.rng.random() < 0.8 else found)
        var.used = True
        return var

    def attr(self, var: Var, *kinds: str) -> str:
        if var.entity is not None:
            names = var.entity.of_kind(*kinds) if kinds else [c.name for c in var.entity.columns]
            if names:
                return self.rng.choice(names)
            if kinds and set(kinds) & {"int", "decimal", "float"}:
                return "id"
            return "status"
        if kinds and set(kinds) & {"int", "decimal", "float"}:
            return self.rng.choice(NUMERIC_GENERIC)
        return self.rng.choice(GENERIC_ATTRS)

    def item(self, seq: Var, loop: bool = False) -> str:
        """A name for one element of `seq`; `loop` for a `for` statement, whose variable
        outlives the loop (comprehension variables do not)."""
        if seq.entity is not None:
            first = seq.entity.var
        else:
            first = seq.name[:-1] if seq.name.endswith("s") and len(seq.name) > 3 else "item"
        for name in (first, "row", "entry", "element", "current"):
            if name not in self.taken:
                if loop:
                    self.taken.add(name)
                return name
        return self.fresh(first)

    # -------------------------------------------------------------------- templates

    def t_guard(self) -> bool:
        var = self.pick("obj", "str")
        if var is None:
            return False
        if var.kind == "obj" and self.rng.random() < 0.5:
            self.lines += [
                f"if {var.name} is None:",
                f'    raise LookupError("{var.name.replace("_", " ")} not found")',
            ]
        else:
            self.lines += [f"if not {var.name}:", f"    return {EMPTY}"]
        return True

    def t_filter(self) -> bool:
        seq = self.pick("seq")
        if seq is None:
            return False
        it = self.item(seq)
        new = self.fresh(self.rng.choice(vocab.ADJECTIVES) + "_" + plural(it.split("_")[0]))
        flags = seq.entity.of_kind("bool") if seq.entity else []
        if flags and self.rng.random() < 0.6:
            cond = f"{it}.{self.rng.choice(flags)}"
        elif seq.entity is not None and self.rng.random() < 0.5:
            status = self.rng.choice(seq.entity.statuses)
            cond = f'{it}.status != "{status}"'
        else:
            cond = f"{it}.{self.attr(seq, 'int', 'decimal', 'float')} > {self.rng.randint(0, 9)}"
        self.lines.append(f"{new} = [{it} for {it} in {seq.name} if {cond}]")
        self.add_var(new, "seq", seq.entity)
        return True

    def t_group(self) -> bool:
        seq = self.pick("seq")
        if seq is None:
            return False
        self.mod.imports.name("collections", "defaultdict")
        it = self.item(seq, loop=True)
        key = self.attr(seq, "str")
        new = self.fresh(f"by_{key}")
        element = self.typeref(seq.entity) if seq.entity else "Any"
        if element == "Any":
            self.mod.imports.name("typing", "Any")
        self.lines += [
            f"{new}: dict[str, list[{element}]] = defaultdict(list)",
            f"for {it} in {seq.name}:",
            f"    {new}[{it}.{key}].append({it})",
        ]
        self.add_var(new, "map", seq.entity)
        return True

    def t_sum(self) -> bool:
        seq = self.pick("seq")
        if seq is None:
            return False
        it = self.item(seq)
        attr = self.attr(seq, "decimal", "int", "float")
        new = self.fresh(f"total_{attr}" if not attr.startswith("total") else attr)
        if seq.entity is not None and attr in seq.entity.of_kind("decimal"):
            self.mod.imports.name("decimal", "Decimal")
            expr = f'sum(({it}.{attr} for {it} in {seq.name}), start=Decimal("0"))'
        else:
            expr = f"sum({it}.{attr} for {it} in {seq.name})"
        self.lines.append(f"{new} = {expr}")
        self.add_var(new, "num")
        return True

    def t_index(self) -> bool:
        seq = self.pick("seq")
        if seq is None:
            return False
        it = self.item(seq)
        new = self.fresh(f"{it}_by_id")
        self.lines.append(f"{new} = {{{it}.id: {it} for {it} in {seq.name}}}")
        self.add_var(new, "map", seq.entity)
        return True

    def t_log(self) -> bool:
        logger = self.mod.logger()
        var = self.pick("seq", "obj", "num", "str")
        if var is None:
            return False
        verb = self.rng.choice(vocab.VERBS)
        level = self.rng.choice(("debug", "debug", "info", "warning"))
        if var.kind == "seq":
            noun = var.entity.human if var.entity else var.name.replace("_", " ")
            self.lines.append(f'{logger}.{level}("{verb} %d {noun}(s)", len({var.name}))')
        elif var.kind == "obj":
            self.lines.append(f'{logger}.{level}("{verb} %s", {var.name}.id)')
        else:
            self.lines.append(f'{logger}.{level}("{verb}: %s", {var.name})')
        return True

    def t_parse(self) -> bool:
        var = self.pick("str")
        if var is None:
            return False
        new = self.fresh(f"parsed_{var.name}" if len(var.name) < 12 else "parsed")
        logger = self.mod.logger()
        if self.rng.random() < 0.5:
            self.mod.imports.module("json")
            self.lines += [
                "try:",
                f"    {new} = json.loads({var.name})",
                "except json.JSONDecodeError as exc:",
                f'    {logger}.warning("could not decode %r: %s", {var.name}, exc)',
                f"    {new} = {{}}",
            ]
            self.add_var(new, "map")
        else:
            self.lines += [
                "try:",
                f"    {new} = int({var.name})",
                "except (TypeError, ValueError):",
                f'    {logger}.info("ignoring malformed value %r", {var.name})',
                f"    {new} = 0",
            ]
            self.add_var(new, "num")
        return True

    def t_sort(self) -> bool:
        seq = self.pick("seq")
        if seq is None:
            return False
        it = self.item(seq)
        attr = self.attr(seq)
        new = self.fresh(f"ordered_{seq.name}" if len(seq.name) < 16 else "ordered")
        reverse = ", reverse=True" if self.rng.random() < 0.3 else ""
        self.lines.append(
            f"{new} = sorted({seq.name}, key=lambda {it}: ({it}.{attr}, {it}.id){reverse})"
        )
        self.add_var(new, "seq", seq.entity)
        return True

    def t_collect(self) -> bool:
        seq = self.pick("seq")
        if seq is None:
            return False
        it = self.item(seq, loop=True)
        attr = self.attr(seq, "str")
        new = self.fresh(plural(attr) if not attr.endswith("s") else f"{attr}_values")
        self.lines += [
            f"{new}: list[str] = []",
            f"for {it} in {seq.name}:",
            f"    if {it}.{attr} is None:",
            "        continue",
            f"    {new}.append(str({it}.{attr}).strip())",
        ]
        self.add_var(new, "seq")
        return True

    def t_mapping(self) -> bool:
        var = self.pick("obj")
        if var is None:
            return False
        new = self.fresh(f"{var.name}_data" if len(var.name) < 14 else "data")
        attrs = [c.name for c in var.entity.columns] if var.entity else list(GENERIC_ATTRS)
        chosen = self.rng.sample(attrs, min(len(attrs), self.rng.randint(2, 5)))
        self.lines.append(f"{new} = {{")
        self.lines.append(f'    "id": {var.name}.id,')
        self.lines += [f'    "{a}": {var.name}.{a},' for a in chosen if a != "id"]
        self.lines.append("}")
        self.add_var(new, "map")
        return True

    def t_branch(self) -> bool:
        flag = self.pick("flag")
        num = self.pick("num")
        if flag is None or num is None:
            return False
        new = self.fresh("adjusted")
        factor = self.rng.choice(("2", "3", "10", "100"))
        self.lines += [
            f"if {flag.name}:",
            f"    {new} = {num.name} * {factor}",
            "else:",
            f"    {new} = {num.name}",
        ]
        self.add_var(new, "num")
        return True

    def t_chunks(self) -> bool:
        seq = self.pick("seq")
        if seq is None or "chunk" in [v.name for v in self.vars]:
            return False
        size = self.mod.constant("BATCH_SIZE", str(self.rng.choice((100, 200, 250, 500, 1000))))
        logger = self.mod.logger()
        self.lines += [
            f"for start in range(0, len({seq.name}), {size}):",
            f"    chunk = {seq.name}[start : start + {size}]",
            f'    {logger}.debug("processing %d-%d", start, start + len(chunk))',
        ]
        return True

    def t_ids(self) -> bool:
        seq = self.pick("seq")
        if seq is None or seq.entity is None:
            return False
        it = self.item(seq)
        new = self.fresh(f"{seq.entity.var}_ids")
        self.lines.append(f"{new} = {{{it}.id for {it} in {seq.name}}}")
        self.add_var(new, "ids", seq.entity)
        return True

    def t_counter(self) -> bool:
        seq = self.pick("seq")
        if seq is None:
            return False
        self.mod.imports.name("collections", "Counter")
        it = self.item(seq)
        attr = self.attr(seq, "str")
        new = self.fresh(f"{attr}_counts")
        self.lines.append(f"{new} = Counter({it}.{attr} for {it} in {seq.name})")
        self.add_var(new, "map")
        return True

    def t_extreme(self) -> bool:
        seq = self.pick("seq")
        if seq is None:
            return False
        it = self.item(seq)
        attr = self.attr(seq, "int", "decimal", "float")
        fn = self.rng.choice(("max", "min"))
        new = self.fresh(f"{'highest' if fn == 'max' else 'lowest'}_{attr}")
        self.lines.append(f"{new} = {fn}(({it}.{attr} for {it} in {seq.name}), default=0)")
        self.add_var(new, "num")
        return True

    def t_format(self) -> bool:
        var = self.pick("obj")
        if var is None:
            return False
        attr = self.attr(var, "str")
        prefix = var.entity.snake if var.entity else "item"
        new = self.fresh("cache_key" if self.rng.random() < 0.5 else "label")
        self.lines.append(f'{new} = f"{prefix}:{{{var.name}.id}}:{{{var.name}.{attr}}}"')
        self.add_var(new, "str")
        return True

    def t_comment(self) -> bool:
        if self.lines and self.lines[-1].lstrip().startswith("#"):
            return False
        self.lines.append(comment(self.rng))
        return True

    def t_check(self) -> bool:
        num = self.pick("num")
        if num is None:
            return False
        self.lines += [
            f"if {num.name} < 0:",
            f'    raise ValueError(f"{num.name} must not be negative, got {{{num.name}}}")',
        ]
        return True

    def t_suppress(self) -> bool:
        var = self.pick("map")
        if var is None or var.entity is not None:
            return False
        self.mod.imports.name("contextlib", "suppress")
        key = self.rng.choice(GENERIC_ATTRS)
        self.lines += ["with suppress(KeyError):", f'    del {var.name}["{key}"]']
        return True

    def t_match(self) -> bool:
        var = self.pick("obj")
        if var is None or var.entity is None:
            return False
        statuses = var.entity.statuses
        first = " | ".join(f'"{s}"' for s in statuses[:2])
        new = self.fresh("is_open")
        self.lines += [
            f"match {var.name}.status:",
            f"    case {first}:",
            f"        {new} = True",
            f'    case "{statuses[-1]}":',
            f"        {new} = False",
            "    case _:",
            f"        {new} = {var.name}.id is not None",
        ]
        self.add_var(new, "flag")
        return True

    def t_any(self) -> bool:
        seq = self.pick("seq")
        if seq is None:
            return False
        it = self.item(seq)
        flags = seq.entity.of_kind("bool") if seq.entity else []
        fn = self.rng.choice(("any", "all"))
        cond = f"{it}.{flags[0]}" if flags else f"{it}.{self.attr(seq)} is not None"
        new = self.fresh(f"{fn}_ready" if fn == "all" else "has_pending")
        self.lines.append(f"{new} = {fn}({cond} for {it} in {seq.name})")
        self.add_var(new, "flag")
        return True

    def t_enumerate(self) -> bool:
        seq = self.pick("seq")
        if seq is None or seq.entity is None or "position" not in seq.entity.of_kind("int"):
            return False
        it = self.item(seq, loop=True)
        self.lines += [
            f"for position, {it} in enumerate({seq.name}, start=1):",
            f"    {it}.position = position",
        ]
        return True

    TEMPLATES = (
        "t_guard",
        "t_filter",
        "t_group",
        "t_sum",
        "t_index",
        "t_log",
        "t_parse",
        "t_sort",
        "t_collect",
        "t_mapping",
        "t_branch",
        "t_chunks",
        "t_ids",
        "t_counter",
        "t_extreme",
        "t_format",
        "t_comment",
        "t_check",
        "t_suppress",
        "t_match",
        "t_any",
        "t_enumerate",
    )

    def statements(self, count: int) -> None:
        done = tries = 0
        while done < count and tries < count * 6:
            tries += 1
            before = [v.used for v in self.vars]
            if getattr(self, self.rng.choice(self.TEMPLATES))():
                done += 1
            else:  # nothing written: the variables it looked at are not used after all
                for var, used in zip(self.vars, before, strict=False):
                    var.used = used

    # -------------------------------------------------------------------- returns

    def _empty_for(self, annotation: str) -> str:
        """What an early return gives for a function annotated `annotation`."""
        if annotation.endswith("| None") or annotation == "object":
            return " None"
        if annotation == "None":
            return ""
        for prefix, value in (("list[", "[]"), ("dict[", "{}"), ("set[", "set()")):
            if annotation.startswith(prefix):
                return f" {value}"
        return " " + {"int": "0", "str": '""', "bool": "False"}.get(annotation, "None")

    def finish(self) -> str:
        """Append the return statement; returns the annotation for the function. Results
        nothing read are returned, so that no variable is left unused."""
        annotation = self._finish()
        empty = self._empty_for(annotation)
        self.lines = [line.replace(f" {EMPTY}", empty) for line in self.lines]
        return annotation

    def _finish(self) -> str:
        unused = [v for v in self.vars if not v.used and not v.param]
        if len(unused) > 1:
            self.mod.imports.name("typing", "Any")
            self.lines.append("return {")
            self.lines += [f'    "{v.name}": {v.name},' for v in unused]
            self.lines.append("}")
            return "dict[str, Any]"
        if unused:
            self.lines.append(f"return {unused[0].name}")
            return self.annotation(unused[0])
        want = self.returns
        var = self.pick(want) if want != "any" else None
        if want == "any":
            var = self.vars[-1] if self.vars else None
            want = var.kind if var else "none"
            self.returns = want
        if var is None and want != "none":
            var = self._make(want)
        if var is None:
            if all(line.lstrip().startswith("#") for line in self.lines):
                self.lines.append("return None")
            return "None"
        self.lines.append(f"return {var.name}")
        return self.annotation(var)

    def _make(self, kind: str) -> Var | None:
        seq = self.pick("seq")
        if kind == "seq" and seq is not None:
            return seq
        if kind == "num" and seq is not None:
            new = self.fresh("count")
            self.lines.append(f"{new} = len({seq.name})")
            return self.add_var(new, "num")
        if kind == "flag":
            new = self.fresh("ok")
            source = seq.name if seq else (self.vars[0].name if self.vars else "None")
            self.lines.append(f"{new} = bool({source})")
            return self.add_var(new, "flag")
        if kind == "map" and seq is not None:
            return self._index(seq)
        if kind == "str":
            new = self.fresh("summary")
            parts = ", ".join(v.name for v in self.vars[:2]) or '""'
            self.lines.append(f'{new} = " ".join(str(part) for part in ({parts},))')
            return self.add_var(new, "str")
        return self.pick("obj")

    def _index(self, seq: Var) -> Var:
        it = self.item(seq)
        new = self.fresh(f"{it}_by_id")
        self.lines.append(f"{new} = {{{it}.id: {it} for {it} in {seq.name}}}")
        return self.add_var(new, "map", seq.entity)

    def annotation(self, var: Var) -> str:
        entity = self.typeref(var.entity) if var.entity else None
        if var.kind == "seq":
            if entity:
                return f"list[{entity}]"
            self.mod.imports.name("typing", "Any")
            return "list[Any]"
        if var.kind == "map":
            self.mod.imports.name("typing", "Any")
            return "dict[Any, Any]"
        if var.kind == "ids":
            return "set[int]"
        if var.kind == "obj":
            return f"{entity} | None" if entity else "object"
        return {"num": "int", "str": "str", "flag": "bool"}.get(var.kind, "None")


# ------------------------------------------------------------------------ functions

PARAM_CHOICES = ("seq", "seq", "obj", "limit", "strict", "label", "options")


def parameters(
    body: Body, entities: list[Entity], count: int, rng: random.Random, kind: str = ""
) -> list[str]:
    params: list[str] = []
    for _ in range(count):
        choice = kind or rng.choice(PARAM_CHOICES)
        entity = rng.choice(entities) if entities else None
        if choice == "seq":
            if entity is not None:
                name = entity.vars
                if name in body.taken:
                    name = body.fresh(f"{rng.choice(vocab.ADJECTIVES)}_{entity.vars}")
                body.taken.add(name)
                body.mod.imports.name("collections.abc", "Sequence")
                params.append(f"{name}: Sequence[{body.typeref(entity)}]")
            else:
                name = body.fresh(rng.choice(("items", "rows", "entries", "records")))
                body.mod.imports.name("typing", "Any")
                params.append(f"{name}: list[Any]")
            body.add_var(name, "seq", entity, param=True)
        elif choice == "obj" and entity is not None:
            name = entity.var
            if name in body.taken:
                name = body.fresh(f"{rng.choice(('other', 'previous', 'target'))}_{entity.var}")
            body.taken.add(name)
            params.append(f"{name}: {body.typeref(entity)}")
            body.add_var(name, "obj", entity, param=True)
        elif choice == "label":
            name = body.fresh(rng.choice(("label", "raw_value", "token", "region")))
            params.append(f"{name}: str")
            body.add_var(name, "str", param=True)
        elif choice == "options" and "options" not in body.taken:
            name = body.fresh("options")
            body.mod.imports.name("collections.abc", "Mapping")
            body.mod.imports.name("typing", "Any")
            params.append(f"{name}: Mapping[str, Any] | None = None")
        elif choice == "strict":
            name = body.fresh(rng.choice(("strict", "dry_run", "include_archived")))
            params.append(f"{name}: bool = False")
            body.add_var(name, "flag", param=True)
        else:
            name = body.fresh(rng.choice(("limit", "threshold", "max_items")))
            params.append(f"{name}: int = {rng.choice((10, 50, 100, 500))}")
            body.add_var(name, "num", param=True)
    # defaults last
    return sorted(params, key=lambda p: "=" in p)


def function(
    mod: Module,
    rng: random.Random,
    entities: list[Entity],
    typeref: TypeRef,
    *,
    name: str | None = None,
    method: bool = False,
    size: int | None = None,
    taken: set[str] | None = None,
) -> list[str]:
    """A helper function (or method) with a docstring and a body of generic statements."""
    body = Body(mod, rng, typeref, returns=rng.choice(("any", "seq", "map", "num", "flag")))
    params = parameters(body, entities, rng.randint(1, 3), rng)
    if not any(v.kind in ("seq", "obj") for v in body.vars):
        params += parameters(body, entities, 1, rng, kind="seq")
        params.sort(key=lambda p: "=" in p)
    body.statements(size or rng.randint(3, 9))
    annotation = body.finish()
    subject = entities[0].human if entities else "the input"
    topic = rng.choice(vocab.TOPICS)
    if name is None:
        verb = rng.choice(vocab.VERBS)
        base = f"{verb}_{entities[0].var}_{topic}" if entities and rng.random() < 0.6 else None
        name = mod.unique(base or f"{verb}_{topic}") if not method else base or f"{verb}_{topic}"
    if taken is not None:
        base, n = name, 2
        while name in taken:
            name = f"{base}_{n}"
            n += 1
        taken.add(name)
    if method:
        params.insert(0, "self")
    signature = f"def {name}({', '.join(params)}) -> {annotation}:"
    if len(signature) > 99:
        inner = indent([f"{p}," for p in params], 1)
        head = [f"def {name}(", *inner, f") -> {annotation}:"]
    else:
        head = [signature]
    doc = docstring(rng, topic, subject) if rng.random() < 0.75 else []
    return head + indent(doc + body.lines)
