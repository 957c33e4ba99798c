"""The plan of the synthetic project: domains, their models, and which files exist."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from synth import vocab
from synth.writer import camel, human, plural, singular, snake

PACKAGE = "atlas"
FILES_PER_SCALE = 3000
BUGS_PER_SCALE = 4


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # str, text, int, bool, decimal, float, json, dt, date, currency


@dataclass
class Entity:
    name: str  # class name: BillingStatement
    noun: str  # Statement
    domain: str  # billing
    stem: str  # file stem of its models/schemas/services module: statement
    columns: list[Column]
    parent: Entity | None
    timestamps: str  # mixin, audit, explicit, none
    statuses: tuple[str, ...]
    exposes_timestamps: bool = False  # its Read schema (and DTO builders) carry the times

    @property
    def snake(self) -> str:
        return snake(self.name)

    @property
    def var(self) -> str:
        """A local variable name for one record: `statement`."""
        return snake(self.noun)

    @property
    def vars(self) -> str:
        return plural(self.var)

    @property
    def human(self) -> str:
        return human(self.name)

    @property
    def table(self) -> str:
        return plural(self.snake)

    @property
    def status_enum(self) -> str:
        return f"{self.name}Status"

    @property
    def has_timestamps(self) -> bool:
        return self.timestamps != "none"

    def of_kind(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    @property
    def number(self) -> str:
        return (self.of_kind("decimal", "int", "float") or ["id"])[0]

    @property
    def label(self) -> str:
        return (self.of_kind("str") or ["status"])[0]

    @property
    def fk(self) -> str | None:
        return f"{self.parent.var}_id" if self.parent is not None else None


@dataclass
class Domain:
    name: str
    index: int
    legacy: bool  # declarative_base() and Column(...) instead of DeclarativeBase/mapped_column
    models_package: bool
    entities: list[Entity]
    utils: list[str]
    clients: list[str]
    optional: set[str] = field(default_factory=set)  # dto, serializers, tasks, ...
    same_name_dto: bool = False

    @property
    def pkg(self) -> str:
        return f"{PACKAGE}.{self.name}"

    @property
    def path(self) -> str:
        return f"{PACKAGE}/{self.name}"

    @property
    def camel(self) -> str:
        return camel(self.name)

    @property
    def human(self) -> str:
        return self.name.replace("_", " ")

    def model_module(self, entity: Entity) -> str:
        if self.models_package:
            return f"{self.pkg}.models.{entity.stem}"
        return f"{self.pkg}.models"

    def has(self, part: str) -> bool:
        return part in self.optional


@dataclass(frozen=True)
class Bug:
    """A planted finding: the service of `entity` in `domain` gets a method of `kind`."""

    domain: int
    entity: int
    kind: str


BUG_KINDS = (
    "kwarg",  # Model(..., created_at=source.created_at)
    "assign",  # child = Model(...); child.updated_at = source.updated_at   (TSL002)
    "local",  # started = source.created_at; ...; Model(created_at=started)
    "insert",  # insert(Model).values(..., created_at=row.created_at)
    "dict",  # Model(**{..., "updated_at": source.updated_at})
    "setattr",  # setattr(child, "created_at", source.created_at)   (TSL002)
    "module_attr",  # models.Model(..., updated_at=source.updated_at)
)


@dataclass
class Plan:
    scale: float
    seed: int
    domains: list[Domain]
    lib_modules: list[str]
    scripts: int
    migrations: int
    bugs: list[Bug]

    @property
    def entities(self) -> list[Entity]:
        return [e for d in self.domains for e in d.entities]


def _domain_names(count: int, rng: random.Random) -> list[str]:
    names = list(vocab.DOMAINS)
    rng.shuffle(names)
    extra = [f"{q}_{d}" for q in vocab.QUALIFIERS for d in vocab.DOMAINS]
    rng.shuffle(extra)
    names += extra
    n = 2
    while len(names) < count:
        names += [f"{d}_v{n}" for d in vocab.DOMAINS]
        n += 1
    return names[:count]


def _columns(rng: random.Random) -> list[Column]:
    pool = list(vocab.COLUMNS)
    chosen = rng.sample(pool, rng.randint(4, 9))
    kinds = {kind for _, kind in chosen}
    if "str" not in kinds:
        chosen.append(("name", "str"))
    if not kinds & {"decimal", "int", "float"}:
        chosen.append(("quantity", "int"))
    seen: set[str] = set()
    columns = []
    for name, kind in chosen:
        if name not in seen:
            seen.add(name)
            columns.append(Column(name, kind))
    return columns


def _entities(domain: str, rng: random.Random, taken: set[str]) -> list[Entity]:
    prefix = camel(singular(domain.split("_v")[0]))
    count = rng.choices((2, 3, 4, 5, 6, 7), weights=(1, 3, 4, 4, 2, 1))[0]
    nouns = rng.sample(vocab.NOUNS, count)
    entities: list[Entity] = []
    for i, noun in enumerate(nouns):
        name = f"{prefix}{noun}"
        n = 2
        while name in taken:
            name = f"{prefix}{noun}{n}"
            n += 1
        taken.add(name)
        parent = entities[0] if i > 0 and rng.random() < 0.6 else None
        timestamps = rng.choices(("mixin", "audit", "explicit", "none"), (60, 15, 15, 10))[0]
        if i == 0:
            timestamps = rng.choice(("mixin", "audit", "explicit"))
        entities.append(
            Entity(
                name=name,
                noun=noun,
                domain=domain,
                stem=snake(noun),
                columns=_columns(rng),
                parent=parent,
                timestamps=timestamps,
                statuses=rng.choice(vocab.STATUSES),
                exposes_timestamps=timestamps != "none" and rng.random() < 0.6,
            )
        )
    return entities


OPTIONAL_PARTS = {
    "dto": 0.5,
    "serializers": 0.3,
    "tasks": 0.6,
    "events": 0.5,
    "exceptions": 0.9,
    "constants": 0.7,
    "permissions": 0.4,
    "validators": 0.5,
    "admin": 0.3,
    "listeners": 0.2,
    "queries": 0.3,
    "cache": 0.2,
}


def domain_files(domain: Domain) -> int:
    """How many files the domain package and its tests hold (must match `files.py`)."""
    e = len(domain.entities)
    n = 1  # __init__
    n += 1 + e if domain.models_package else 1
    n += 1 + e  # schemas package
    n += 1 + e  # services package
    n += 1 + e  # repositories package
    n += 1 + e  # api package
    n += len(domain.optional)
    n += 1 + len(domain.utils)
    n += 1 + len(domain.clients) if domain.clients else 0
    n += 3 + 2 * e  # tests: __init__, conftest, factories, test_<stem>_service, test_<stem>_api
    n += 1 if domain.has("validators") else 0
    n += len(domain.utils)
    return n


def plan(scale: float, seed: int) -> Plan:
    rng = random.Random(f"plan:{seed}")
    target = max(60, round(FILES_PER_SCALE * scale))
    migrations = max(4, round(target * 0.05))
    scripts = max(4, round(target * 0.025))
    lib_modules = max(6, round(target * 0.01))
    shared = 30  # core, models registry, api app, workers, top-level tests, alembic env
    budget = target - migrations - scripts - lib_modules - shared
    names = _domain_names(max(4, budget // 20), rng)
    domains: list[Domain] = []
    taken: set[str] = set()
    total = 0
    for index, name in enumerate(names):
        drng = random.Random(f"domain:{seed}:{name}")
        entities = _entities(name, drng, taken)
        domain = Domain(
            name=name,
            index=index,
            legacy=drng.random() < 0.2,
            models_package=len(entities) > 2 and drng.random() < 0.75,
            entities=entities,
            utils=drng.sample(vocab.UTIL_MODULES, drng.randint(1, 4)),
            clients=drng.sample(vocab.CLIENTS, drng.randint(1, 2)) if drng.random() < 0.3 else [],
            optional={part for part, p in OPTIONAL_PARTS.items() if drng.random() < p},
            same_name_dto=drng.random() < 0.25,
        )
        domains.append(domain)
        total += domain_files(domain)
        if total >= budget:
            break
    libs = list(vocab.LIB_MODULES)
    group = 2
    while len(libs) < lib_modules:
        libs += [f"v{group}/{m}" for m in vocab.LIB_MODULES]
        group += 1
    bugs = _bugs(domains, max(2, round(BUGS_PER_SCALE * scale)), rng)
    return Plan(scale, seed, domains, libs[:lib_modules], scripts, migrations, bugs)


def _bugs(domains: list[Domain], count: int, rng: random.Random) -> list[Bug]:
    kinds = list(BUG_KINDS)
    rng.shuffle(kinds)
    # both rules are always represented
    kinds.sort(key=lambda k: k not in ("kwarg", "assign"))
    order = list(range(len(domains)))
    rng.shuffle(order)
    bugs: list[Bug] = []
    used: set[tuple[int, int]] = set()
    i = 0
    while len(bugs) < count:
        domain = domains[order[i % len(order)]]
        candidates = [
            n
            for n, e in enumerate(domain.entities)
            if e.has_timestamps and (domain.index, n) not in used
        ]
        i += 1
        if not candidates:
            continue
        entity = rng.choice(candidates)
        used.add((domain.index, entity))
        bugs.append(Bug(domain.index, entity, kinds[len(bugs) % len(kinds)]))
    return bugs
