"""Assembling one Python module: imports grouped like isort, blocks, and marked lines."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from synth import vocab

FIRST_PARTY = ("atlas", "tests")
THIRD_PARTY = frozenset(
    {
        "alembic",
        "celery",
        "click",
        "factory",
        "fastapi",
        "freezegun",
        "httpx",
        "pydantic",
        "pytest",
        "redis",
        "sqlalchemy",
        "structlog",
        "tenacity",
    }
)
LINE_LENGTH = 88  # ruff's and black's default


def snake(name: str) -> str:
    """`BillingStatement` -> `billing_statement`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camel(name: str) -> str:
    """`gift_cards` -> `GiftCards`."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def human(name: str) -> str:
    """`billing_statement` or `BillingStatement` -> `billing statement`."""
    return snake(name).replace("_", " ")


def indent(lines: Iterable[str], levels: int = 1) -> list[str]:
    pad = "    " * levels
    return [pad + line if line else "" for line in lines]


def _name_order(name: str) -> tuple[int, str]:
    """isort's order of imported names: CONSTANTS, Classes, functions."""
    if name.isupper() and len(name) > 1:
        return 0, name
    return (1 if name[:1].isupper() else 2), name


class Imports:
    """The imports of one module, rendered in isort order."""

    def __init__(self) -> None:
        self._plain: set[tuple[str, str | None]] = set()
        self._from: dict[str, set[tuple[str, str | None]]] = {}

    def module(self, module: str, alias: str | None = None) -> None:
        self._plain.add((module, alias))

    def name(self, module: str, *names: str) -> None:
        bucket = self._from.setdefault(module, set())
        for name in names:
            real, _, alias = name.partition(" as ")
            bucket.add((real, alias or None))

    def __contains__(self, module: str) -> bool:
        return module in self._from or any(m == module for m, _ in self._plain)

    @staticmethod
    def _section(module: str) -> int:
        if module == "__future__":
            return 0
        if module.startswith("."):
            return 4
        top = module.split(".")[0]
        if top in FIRST_PARTY:
            return 3
        if top in THIRD_PARTY:
            return 2
        return 1

    def render(self) -> list[str]:
        sections: list[list[tuple[tuple[int, int, str], list[str]]]] = [[] for _ in range(5)]
        for module, alias in self._plain:
            text = f"import {module}" + (f" as {alias}" if alias else "")
            sections[self._section(module)].append(((0, 0, module), [text]))
        for module, names in self._from.items():
            parts = sorted((f"{n} as {a}" if a else n for n, a in names), key=_name_order)
            one = f"from {module} import {', '.join(parts)}"
            if len(one) <= LINE_LENGTH:
                lines = [one]
            else:
                lines = [f"from {module} import (", *(f"    {p}," for p in parts), ")"]
            order = -(len(module) - len(module.lstrip(".")))
            sections[self._section(module)].append(((1, order, module.lstrip(".")), lines))
        out: list[str] = []
        for section in sections:
            if not section:
                continue
            if out:
                out.append("")
            for _, lines in sorted(section, key=lambda item: item[0]):
                out.extend(lines)
        return out


@dataclass
class Mark:
    """A line the benchmark expects a finding on: `block` index, `line` within it."""

    block: int
    line: int
    code: str


@dataclass
class Module:
    """One file being written. Blocks are top-level statements separated by two blank lines."""

    path: str
    rng: random.Random
    doc: list[str] = field(default_factory=list)
    imports: Imports = field(default_factory=Imports)
    preamble: list[str] = field(default_factory=list)
    blocks: list[list[str]] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    has_logger: bool = False

    @property
    def size(self) -> int:
        return len(self.doc) + len(self.preamble) + sum(len(b) + 2 for b in self.blocks) + 12

    def logger(self) -> str:
        if not self.has_logger:
            self.imports.module("logging")
            self.preamble.append("logger = logging.getLogger(__name__)")
            self.has_logger = True
        return "logger"

    def unique(self, base: str) -> str:
        name, n = base, 2
        while name in self.names:
            name = f"{base}_{n}" if not base[:1].isupper() else f"{base}{n}"
            n += 1
        self.names.add(name)
        return name

    def constant(self, name: str, value: str) -> str:
        if name not in self.names:
            self.names.add(name)
            self.preamble.append(f"{name} = {value}")
        return name

    def add(self, lines: Sequence[str], marks: Iterable[tuple[int, str]] = ()) -> None:
        index = len(self.blocks)
        self.blocks.append(list(lines))
        self.marks.extend(Mark(index, line, code) for line, code in marks)

    def render(self) -> tuple[str, list[tuple[int, str]]]:
        """The file's text and its marks as (1-based line, code)."""
        lines: list[str] = list(self.doc)
        imports = self.imports.render()
        if imports:
            if lines:
                lines.append("")
            lines.extend(imports)
        if self.preamble:
            if lines:
                lines.append("")
            for i, line in enumerate(self.preamble):
                if i and not line.startswith(" ") and self.preamble[i - 1].startswith(" "):
                    lines.append("")  # a blank line after an `if TYPE_CHECKING:` block
                lines.append(line)
        starts: list[int] = []
        for block in self.blocks:
            if lines:
                # isort: one blank line after the imports unless a def or class follows
                after_imports = len(starts) == 0 and not self.preamble and imports
                compound = block[0].startswith(("def ", "class ", "@", "async def "))
                lines.extend(["", ""] if compound or not after_imports else [""])
            starts.append(len(lines))
            lines.extend(block)
        marks = [(starts[m.block] + m.line + 1, m.code) for m in self.marks]
        if not lines:
            return "", marks
        return "\n".join(lines) + "\n", marks


# ------------------------------------------------------------------------------------ prose

MODULE_DOCS: tuple[str, ...] = (
    "{Topic}.",
    "{Topic}: the pieces the rest of the {domain} package builds on.",
    "{Topic}.\n\nKept separate from the request handlers so workers can import it cheaply.",
    "{Topic}.\n\nEverything here is synchronous; the async wrappers live next to the routers.",
    "{Topic}.\n\nSee docs/{domain_slug}.md for the lifecycle these functions implement.",
    "{Topic}.\n\nThe functions are pure unless they take a session.",
    "{Topic} for the {domain} area.",
    "{Topic}.\n\nOwned by the {domain} team; ask in #team-{domain_slug} before changing it.",
)

FUNCTION_DOCS: tuple[str, ...] = (
    "Return the {thing} for {subject}.",
    "Build {thing} from {subject}.",
    "Compute {thing} for {subject}, ignoring archived rows.",
    "Resolve {thing} for {subject}; None when nothing matches.",
    "Normalize {thing} so that comparisons are stable.",
    "Collect {thing} from {subject} in a single query.",
    "Validate {thing} before it reaches the database.",
    "Group {thing} by their owner and keep the order of {subject}.",
    "Apply {thing} to {subject} and report what changed.",
    "Summarize {thing} for the dashboard.",
    "Split {thing} into pages the API can return.",
    "Refresh {thing} of {subject} from the upstream system.",
    "Check whether {subject} can be processed now.",
    "Prepare {thing} for export.",
    "Merge {thing} of {subject}, keeping the newest values.",
)

DETAIL_DOCS: tuple[str, ...] = (
    "The result is ordered by id so that repeated calls page consistently.",
    "Raises ValueError when the input cannot be interpreted.",
    "This is called from both the API and the nightly job.",
    "Rows that fail validation are logged and skipped rather than aborting the batch.",
    "Callers own the transaction; nothing is committed here.",
    "Amounts are kept as Decimal end to end.",
    "The lookup is case-insensitive.",
    "An empty input returns an empty result without touching the database.",
    "Keep this cheap: it runs once per request.",
)

COMMENTS: tuple[str, ...] = (
    "# Keep the order stable: {reason}.",
    "# Guard against partial data: {reason}.",
    "# TODO({who}): move this into the repository once {ticket} lands.",
    "# NOTE: {reason}, so this cannot be cached.",
    "# Batch the work; {reason}.",
    "# {ticket}: skip empty values, {reason}.",
    "# Fast path for the common case.",
    "# Defensive copy; callers reuse the list.",
    "# FIXME({who}): this double-counts when {reason}.",
)


def prose(rng: random.Random, templates: Sequence[str], **words: str) -> str:
    ticket = f"{rng.choice(vocab.TICKETS)}-{rng.randint(100, 9999)}"
    return rng.choice(templates).format(
        reason=rng.choice(vocab.REASONS), who=rng.choice(vocab.FIRST_NAMES), ticket=ticket, **words
    )


def comment(rng: random.Random) -> str:
    return prose(rng, COMMENTS)


def module_doc(rng: random.Random, topic: str, domain: str) -> list[str]:
    text = prose(
        rng,
        MODULE_DOCS,
        Topic=topic[:1].upper() + topic[1:],
        domain=domain.replace("_", " "),
        domain_slug=domain.replace("_", "-"),
    )
    lines = text.split("\n")
    if len(lines) == 1:
        return [f'"""{lines[0]}"""']
    return [f'"""{lines[0]}', *lines[1:], '"""']


def docstring(rng: random.Random, thing: str, subject: str, detail: float = 0.35) -> list[str]:
    first = prose(rng, FUNCTION_DOCS, thing=thing, subject=subject)
    if rng.random() < detail:
        return [f'"""{first}', "", rng.choice(DETAIL_DOCS), '"""']
    return [f'"""{first}"""']
