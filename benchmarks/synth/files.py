"""One generator per kind of file. Each returns a `Module`; `layout()` lists every file.

Timestamp code is written on purpose here, in three flavours:

- mentions that are no finding: ordering, filters, durations, Pydantic fields, column
  declarations with defaults;
- copies that are right and must not be reported: DTOs (Pydantic, dataclasses, NamedTuple),
  event payloads, audit calls, updates of existing rows, serializers, backfills, migrations;
- the planted bugs (`bug_method`), each marked so the manifest knows its line and code.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from synth import body, vocab
from synth.project import PACKAGE, Bug, Column, Domain, Entity, Plan
from synth.writer import Module, camel, docstring, human, indent, module_doc, plural

# kind -> (Mapped annotation, SQLAlchemy type, Pydantic type, sample literal)
TYPES: dict[str, tuple[str, str, str, str]] = {
    "str": ("str", "String(120)", "str", '"{name}-1"'),
    "text": ("str | None", "Text", "str | None", '"Imported from the legacy system."'),
    "int": ("int", "Integer", "int", "3"),
    "bool": ("bool", "Boolean", "bool", "True"),
    "decimal": ("Decimal", "Numeric(12, 2)", "Decimal", 'Decimal("12.50")'),
    "float": ("float", "Float", "float", "0.5"),
    "json": ("dict[str, Any]", "JSON", "dict[str, Any]", "{}"),
    "dt": ("datetime | None", "DateTime(timezone=True)", "datetime | None", "None"),
    "date": ("date | None", "Date", "date | None", "None"),
    "currency": ("str", "String(3)", "str", '"EUR"'),
}
TYPE_IMPORTS = {
    "Decimal": ("decimal", "Decimal"),
    "datetime": ("datetime", "datetime"),
    "date": ("datetime", "date"),
    "Any": ("typing", "Any"),
}
STYLES = ("relative", "absolute", "direct", "registry", "module")
STYLE_WEIGHTS = (35, 25, 20, 10, 10)


def module_name(path: str) -> str:
    name = path[:-3].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def package_of(path: str) -> str:
    name = module_name(path)
    return name if path.endswith("__init__.py") else name.rpartition(".")[0]


def relative(path: str, target: str) -> str | None:
    """`target` as a relative import from the file at `path`, when both share a domain."""
    pkg = package_of(path).split(".")
    tgt = target.split(".")
    common = 0
    while common < min(len(pkg), len(tgt)) and pkg[common] == tgt[common]:
        common += 1
    if common < 2:
        return None
    return "." * (len(pkg) - common + 1) + ".".join(tgt[common:])


def type_imports(mod: Module, annotation: str) -> None:
    for word, (module, name) in TYPE_IMPORTS.items():
        if word in annotation.replace("[", " ").replace("]", " ").replace("|", " ").split():
            mod.imports.name(module, name)


@dataclass
class Ctx:
    plan: Plan
    domain: Domain | None = None

    # ----------------------------------------------------------------- references

    def style(self, rng: random.Random) -> str:
        return rng.choices(STYLES, STYLE_WEIGHTS)[0]

    def model_ref(self, mod: Module, entity: Entity, style: str) -> str:
        """Import `entity`'s model into `mod` in the given style; the name to use."""
        domain = self.plan.domains[self.domain_index(entity)]
        if style == "module":
            alias = f"{domain.name}_models" if mod.path.startswith("tests/") else "models"
            mod.imports.name(domain.pkg, f"models as {alias}" if alias != "models" else "models")
            return f"{alias}.{entity.name}"
        if style == "registry":
            mod.imports.name(f"{PACKAGE}.models", entity.name)
        elif style == "direct":
            target = domain.model_module(entity)
            mod.imports.name(relative(mod.path, target) or target, entity.name)
        elif style == "relative":
            target = f"{domain.pkg}.models"
            mod.imports.name(relative(mod.path, target) or target, entity.name)
        else:
            mod.imports.name(f"{domain.pkg}.models", entity.name)
        return entity.name

    def typeref(self, mod: Module, style: str) -> Callable[[Entity], str]:
        return lambda entity: self.model_ref(mod, entity, style)

    def domain_index(self, entity: Entity) -> int:
        if self.domain is not None and entity.domain == self.domain.name:
            return self.domain.index
        for domain in self.plan.domains:
            if domain.name == entity.domain:
                return domain.index
        raise KeyError(entity.domain)

    def schema_ref(self, mod: Module, entity: Entity, suffix: str) -> str:
        domain = self.plan.domains[self.domain_index(entity)]
        target = f"{domain.pkg}.schemas"
        mod.imports.name(relative(mod.path, target) or target, f"{entity.name}{suffix}")
        return f"{entity.name}{suffix}"


def sample(column: Column, entity: Entity) -> str:
    return TYPES[column.kind][3].format(name=entity.var)


def payload_columns(entity: Entity) -> list[Column]:
    return [c for c in entity.columns if c.kind in ("str", "int", "decimal", "bool", "currency")]


def new_module(path: str, seed: int, topic: str, domain: str = "platform") -> Module:
    rng = random.Random(f"file:{seed}:{path}")
    mod = Module(path, rng)
    if rng.random() < 0.85:
        mod.doc = module_doc(rng, topic, domain)
    mod.imports.name("__future__", "annotations")
    return mod


def fill(mod: Module, target: int, filler: Callable[[], list[str]]) -> None:
    guard = 0
    while mod.size < target and guard < 200:
        mod.add(filler())
        guard += 1


LINES_FACTOR = 1.1  # tunes the mean file length to ~230 lines


def target_lines(rng: random.Random, low: int, high: int) -> int:
    """A file length between low and high, skewed towards the shorter end like real code."""
    low, high = round(low * LINES_FACTOR), round(high * LINES_FACTOR)
    return round(rng.triangular(low, high, low + (high - low) * 0.3))


# ============================================================================ core


def core_db(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "database engine, sessions and the declarative base")
    mod.imports.name("collections.abc", "Iterator")
    mod.imports.name("contextlib", "contextmanager")
    mod.imports.name("sqlalchemy", "MetaData", "create_engine")
    mod.imports.name("sqlalchemy.orm", "DeclarativeBase", "Session", "sessionmaker")
    mod.imports.name(f"{PACKAGE}.core.config", "settings")
    mod.preamble += [
        "NAMING_CONVENTION = {",
        '    "ix": "ix_%(column_0_label)s",',
        '    "uq": "uq_%(table_name)s_%(column_0_name)s",',
        '    "ck": "ck_%(table_name)s_%(constraint_name)s",',
        '    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",',
        '    "pk": "pk_%(table_name)s",',
        "}",
    ]
    mod.add(
        [
            "class Base(DeclarativeBase):",
            '    """Declarative base of every model of the modern schema."""',
            "",
            "    metadata = MetaData(naming_convention=NAMING_CONVENTION)",
        ]
    )
    mod.add(
        [
            "engine = create_engine(",
            "    settings.database_url,",
            "    pool_pre_ping=True,",
            "    pool_size=settings.pool_size,",
            "    echo=settings.sql_echo,",
            ")",
            "SessionLocal = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)",
        ]
    )
    mod.add(
        [
            "@contextmanager",
            "def session_scope() -> Iterator[Session]:",
            '    """A session that commits on success and rolls back on any error."""',
            "    session = SessionLocal()",
            "    try:",
            "        yield session",
            "        session.commit()",
            "    except Exception:",
            "        session.rollback()",
            "        raise",
            "    finally:",
            "        session.close()",
        ]
    )
    mod.add(
        [
            "def get_session() -> Iterator[Session]:",
            '    """FastAPI dependency: one session per request."""',
            "    with session_scope() as session:",
            "        yield session",
        ]
    )
    return mod


def core_legacy_db(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "the declarative base of the pre-2.0 models")
    mod.imports.name("sqlalchemy.orm", "declarative_base")
    mod.imports.name("sqlalchemy", "MetaData")
    mod.add(
        [
            "# Tables created before the move to SQLAlchemy 2.0 keep their own metadata so",
            "# that alembic can tell the two schemas apart.",
            'legacy_metadata = MetaData(schema="legacy")',
            "LegacyBase = declarative_base(metadata=legacy_metadata)",
        ]
    )
    return mod


def core_mixins(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "column mixins shared by the models")
    mod.imports.name("datetime", "datetime")
    mod.imports.name("sqlalchemy", "Column", "DateTime", "ForeignKey", "Integer", "func")
    mod.imports.name("sqlalchemy.orm", "Mapped", "declared_attr", "mapped_column")
    mod.add(
        [
            "class TimestampMixin:",
            '    """`created_at` and `updated_at`, stamped by the database."""',
            "",
            "    created_at: Mapped[datetime] = mapped_column(",
            "        DateTime(timezone=True), server_default=func.now(), nullable=False",
            "    )",
            "    updated_at: Mapped[datetime] = mapped_column(",
            "        DateTime(timezone=True),",
            "        server_default=func.now(),",
            "        onupdate=func.now(),",
            "        nullable=False,",
            "    )",
        ]
    )
    mod.add(
        [
            "class AuditMixin(TimestampMixin):",
            '    """Timestamps plus the user who created the row."""',
            "",
            "    @declared_attr",
            "    def created_by_id(cls) -> Mapped[int | None]:",
            '        return mapped_column(ForeignKey("users.id"), nullable=True)',
        ]
    )
    mod.add(
        [
            "class SoftDeleteMixin:",
            '    """Rows are hidden instead of deleted; see `atlas.core.queries.visible`."""',
            "",
            "    deleted_at: Mapped[datetime | None] = mapped_column(",
            "        DateTime(timezone=True), nullable=True",
            "    )",
            "",
            "    @property",
            "    def is_deleted(self) -> bool:",
            "        return self.deleted_at is not None",
        ]
    )
    mod.add(
        [
            "class LegacyTimestampMixin:",
            '    """Timestamps of the legacy schema, stamped in Python (naive UTC)."""',
            "",
            "    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)",
            "    updated_at = Column(",
            "        DateTime, nullable=False, default=datetime.utcnow, onupdate=datetime.utcnow",
            "    )",
            "    version = Column(Integer, nullable=False, default=1)",
        ]
    )
    return mod


def core_clock(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "the one place that reads the clock")
    mod.imports.name("datetime", "date", "datetime", "timedelta", "timezone")
    mod.add(
        [
            "def utcnow() -> datetime:",
            '    """The current time, timezone-aware (UTC). Tests freeze this."""',
            "    return datetime.now(timezone.utc)",
        ]
    )
    mod.add(
        [
            "def today() -> date:",
            "    return utcnow().date()",
        ]
    )
    mod.add(
        [
            "def days_ago(days: int) -> datetime:",
            '    """Midnight UTC, `days` days ago."""',
            "    start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)",
            "    return start - timedelta(days=days)",
        ]
    )
    mod.add(
        [
            "def as_utc(value: datetime) -> datetime:",
            '    """Treat naive values (legacy columns) as UTC."""',
            "    if value.tzinfo is None:",
            "        return value.replace(tzinfo=timezone.utc)",
            "    return value.astimezone(timezone.utc)",
        ]
    )
    return mod


def core_audit(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "the audit trail: who did what, and when")
    mod.imports.name("dataclasses", "dataclass", "field")
    mod.imports.name("datetime", "datetime")
    mod.imports.name("typing", "Any")
    mod.imports.name(f"{PACKAGE}.core.clock", "utcnow")
    logger = mod.logger()
    mod.add(
        [
            "@dataclass",
            "class AuditLog:",
            '    """Writes audit entries to the log pipeline (not to the database)."""',
            "",
            '    channel: str = "audit"',
            "    entries: list[dict[str, Any]] = field(default_factory=list)",
            "",
            "    def record(",
            "        self,",
            "        *,",
            "        action: str,",
            "        entity: str,",
            "        entity_id: int | None,",
            "        created_at: datetime | None = None,",
            "        **details: Any,",
            "    ) -> dict[str, Any]:",
            "        entry = {",
            '            "action": action,',
            '            "entity": entity,',
            '            "entity_id": entity_id,',
            '            "created_at": (created_at or utcnow()).isoformat(),',
            '            "details": details,',
            "        }",
            "        self.entries.append(entry)",
            f'        {logger}.info("audit %s %s:%s", action, entity, entity_id)',
            "        return entry",
        ]
    )
    mod.add(["audit_log = AuditLog()"])
    return mod


def core_config(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "settings read from the environment")
    mod.imports.module("os")
    mod.imports.name("dataclasses", "dataclass")
    mod.imports.name("functools", "lru_cache")
    fields = [
        ("database_url", "str", '"postgresql+psycopg://atlas@localhost/atlas"'),
        ("pool_size", "int", "10"),
        ("sql_echo", "bool", "False"),
        ("redis_url", "str", '"redis://localhost:6379/0"'),
        ("broker_url", "str", '"redis://localhost:6379/1"'),
        ("environment", "str", '"development"'),
        ("sentry_dsn", "str", '""'),
        ("default_page_size", "int", "50"),
        ("request_timeout", "float", "10.0"),
    ]
    lines = ["@dataclass(frozen=True)", "class Settings:"]
    lines += [f"    {n}: {t} = {v}" for n, t, v in fields]
    mod.add(lines)
    read = [
        "@lru_cache",
        "def load_settings() -> Settings:",
        '    """Settings from `ATLAS_*` environment variables, with defaults for development."""',
        "    env = os.environ",
        "    return Settings(",
    ]
    for n, t, v in fields:
        key = f"ATLAS_{n.upper()}"
        if t == "bool":
            read.append(f'        {n}=env.get("{key}", "0") == "1",')
        elif t == "str":
            read.append(f'        {n}=env.get("{key}", {v}),')
        else:
            read.append(f'        {n}={t}(env.get("{key}", {v})),')
    read.append("    )")
    mod.add(read)
    mod.add(["settings = load_settings()"])
    return mod


def core_generic(ctx: Ctx, path: str, topic: str) -> Module:
    mod = new_module(path, ctx.plan.seed, topic)
    rng = mod.rng
    fill(
        mod,
        target_lines(rng, 120, 520),
        lambda: body.function(mod, rng, [], lambda e: e.name),
    )
    return mod


def core_exceptions(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "exceptions shared by every package")
    mod.add(
        [
            "class AtlasError(Exception):",
            '    """Base class of the errors the API turns into problem responses."""',
            "",
            "    status_code = 500",
            '    code = "internal_error"',
            "",
            "    def __init__(self, message: str, **context: object) -> None:",
            "        super().__init__(message)",
            "        self.message = message",
            "        self.context = context",
        ]
    )
    for name, status, code in (
        ("NotFoundError", 404, "not_found"),
        ("ConflictError", 409, "conflict"),
        ("PermissionDeniedError", 403, "forbidden"),
        ("ValidationFailedError", 422, "invalid"),
        ("UpstreamError", 502, "upstream_error"),
    ):
        mod.add(
            [
                f"class {name}(AtlasError):",
                f"    status_code = {status}",
                f'    code = "{code}"',
            ]
        )
    return mod


def core_pagination(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "cursor pagination for list endpoints")
    mod.imports.module("base64")
    mod.imports.module("json")
    mod.imports.name("dataclasses", "dataclass")
    mod.imports.name("typing", "Any", "Generic", "TypeVar")
    mod.preamble.append('T = TypeVar("T")')
    mod.add(
        [
            "@dataclass(frozen=True)",
            "class Page(Generic[T]):",
            "    items: list[T]",
            "    next_cursor: str | None",
            "    total: int | None = None",
        ]
    )
    mod.add(
        [
            "def encode_cursor(values: dict[str, Any]) -> str:",
            '    raw = json.dumps(values, separators=(",", ":"), default=str).encode()',
            '    return base64.urlsafe_b64encode(raw).decode().rstrip("=")',
        ]
    )
    mod.add(
        [
            "def decode_cursor(cursor: str | None) -> dict[str, Any]:",
            "    if not cursor:",
            "        return {}",
            '    padded = cursor + "=" * (-len(cursor) % 4)',
            "    try:",
            "        return json.loads(base64.urlsafe_b64decode(padded))",
            "    except (ValueError, json.JSONDecodeError):",
            "        return {}",
        ]
    )
    return mod


# ============================================================================ models


def model_class(
    ctx: Ctx, mod: Module, domain: Domain, entity: Entity, siblings: set[str]
) -> list[str]:
    rng = mod.rng
    legacy = domain.legacy
    bases: list[str] = []
    if entity.timestamps in ("mixin", "audit", "explicit") and entity.timestamps != "explicit":
        if legacy:
            mixin = "LegacyTimestampMixin"
        else:
            mixin = "AuditMixin" if entity.timestamps == "audit" else "TimestampMixin"
        mod.imports.name(f"{PACKAGE}.core.mixins", mixin)
        bases.append(mixin)
    if rng.random() < 0.15 and not legacy:
        mod.imports.name(f"{PACKAGE}.core.mixins", "SoftDeleteMixin")
        bases.append("SoftDeleteMixin")
    base = "LegacyBase" if legacy else "Base"
    mod.imports.name(f"{PACKAGE}.core.{'legacy_db' if legacy else 'db'}", base)
    bases.append(base)
    lines = [f"class {entity.name}({', '.join(bases)}):"]
    lines += indent([f'"""{entity.human[:1].upper() + entity.human[1:]}."""', ""])
    lines.append(f'    __tablename__ = "{entity.table}"')
    if rng.random() < 0.4:
        mod.imports.name("sqlalchemy", "Index")
        lines.append(
            f'    __table_args__ = (Index("ix_{entity.table}_status", "status"),)'
            if len(entity.table) < 50
            else '    __table_args__ = (Index(None, "status"),)'
        )
    lines.append("")
    if legacy:
        mod.imports.name("sqlalchemy", "Column", "Integer", "String")
        lines.append("    id = Column(Integer, primary_key=True)")
        if entity.parent is not None:
            mod.imports.name("sqlalchemy", "ForeignKey")
            lines.append(
                f'    {entity.fk} = Column(Integer, ForeignKey("{entity.parent.table}.id"), '
                "nullable=False, index=True)"
            )
        lines.append(
            f'    status = Column(String(32), nullable=False, default="{entity.statuses[0]}")'
        )
        for column in entity.columns:
            sa_type = TYPES[column.kind][1].replace("(timezone=True)", "")
            mod.imports.name("sqlalchemy", sa_type.split("(")[0])
            nullable = "True" if column.kind in ("text", "dt", "date", "json") else "False"
            lines.append(f"    {column.name} = Column({sa_type}, nullable={nullable})")
        if entity.timestamps == "explicit":
            mod.imports.name("sqlalchemy", "DateTime")
            mod.imports.name("datetime", "datetime")
            lines += [
                "    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)",
                "    updated_at = Column(",
                "        DateTime,",
                "        nullable=False,",
                "        default=datetime.utcnow,",
                "        onupdate=datetime.utcnow,",
                "    )",
            ]
        if entity.parent is not None:
            mod.imports.name("sqlalchemy.orm", "relationship")
            lines += ["", f'    {entity.parent.var} = relationship("{entity.parent.name}")']
    else:
        mod.imports.name("sqlalchemy.orm", "Mapped", "mapped_column")
        mod.imports.name("sqlalchemy", "String")
        lines.append("    id: Mapped[int] = mapped_column(primary_key=True)")
        if entity.parent is not None:
            mod.imports.name("sqlalchemy", "ForeignKey")
            lines.append(
                f"    {entity.fk}: Mapped[int] = mapped_column("
                f'ForeignKey("{entity.parent.table}.id"), index=True)'
            )
        lines.append(
            f'    status: Mapped[str] = mapped_column(String(32), default="{entity.statuses[0]}")'
        )
        for column in entity.columns:
            annotation, sa_type, _, _ = TYPES[column.kind]
            type_imports(mod, annotation)
            mod.imports.name("sqlalchemy", sa_type.split("(")[0])
            lines.append(f"    {column.name}: Mapped[{annotation}] = mapped_column({sa_type})")
        if entity.timestamps == "explicit":
            mod.imports.name("sqlalchemy", "DateTime", "func")
            mod.imports.name("datetime", "datetime")
            lines += [
                "    created_at: Mapped[datetime] = mapped_column(",
                "        DateTime(timezone=True), server_default=func.now()",
                "    )",
                "    updated_at: Mapped[datetime] = mapped_column(",
                "        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()",
                "    )",
            ]
        if entity.parent is not None:
            mod.imports.name("sqlalchemy.orm", "relationship")
            parent = entity.parent.name
            if parent not in siblings:
                mod.imports.name("typing", "TYPE_CHECKING")
                target = domain.model_module(entity.parent)
                mod.preamble[:0] = [
                    "if TYPE_CHECKING:",
                    f"    from {relative(mod.path, target) or target} import {parent}",
                ]
            lines += ["", f"    {entity.parent.var}: Mapped[{parent}] = relationship()"]
    lines += ["", "    def __repr__(self) -> str:"]
    lines.append(f'        return f"<{entity.name} id={{self.id}} status={{self.status}}>"')
    columns = {c.name for c in entity.columns}
    for status in rng.sample(entity.statuses, rng.randint(1, len(entity.statuses))):
        if f"is_{status}" in columns:
            continue
        lines += [
            "",
            "    @property",
            f"    def is_{status}(self) -> bool:",
            f'        return self.status == "{status}"',
        ]
    if entity.has_timestamps and rng.random() < 0.3:
        mod.imports.name("datetime", "timedelta")
        mod.imports.name(f"{PACKAGE}.core.clock", "utcnow")
        now = "utcnow().replace(tzinfo=None)" if legacy else "utcnow()"
        lines += [
            "",
            "    @property",
            "    def age(self) -> timedelta:",
            '        """How long ago the row was inserted."""',
            f"        return {now} - self.created_at",
        ]
    if rng.random() < 0.6:
        target_status = entity.statuses[-1]
        lines += [
            "",
            f"    def mark_{target_status}(self) -> None:",
            f'        if self.status == "{target_status}":',
            "            return",
            f'        self.status = "{target_status}"',
        ]
    methods: set[str] = {line.split("(")[0].strip()[4:] for line in lines if "def " in line}
    methods |= {c.name for c in entity.columns}
    while len(lines) < rng.randint(40, 150):
        helper = body.function(mod, rng, [entity], lambda e: e.name, method=True, taken=methods)
        lines += ["", *indent(helper)]
    return lines


def models_file(ctx: Ctx, path: str, domain: Domain, entities: list[Entity]) -> Module:
    topic = f"{', '.join(e.human for e in entities)} models"
    if len(entities) > 2:
        topic = f"models of the {domain.human} domain"
    mod = new_module(path, ctx.plan.seed, topic, domain.name)
    mod.names.update(e.name for e in entities)
    siblings = {e.name for e in entities}
    for entity in entities:
        if mod.rng.random() < 0.5:
            mod.imports.module("enum")
            mod.add(
                [f"class {entity.status_enum}(str, enum.Enum):"]
                + [f'    {s.upper()} = "{s}"' for s in entity.statuses]
            )
        mod.add(model_class(ctx, mod, domain, entity, siblings))
    return mod


def models_init(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"models of the {domain.human} domain", domain.name)
    mod.doc = mod.doc[:1] if mod.doc and mod.doc[0].endswith('"""') else []
    for entity in domain.entities:
        mod.imports.name(f".{entity.stem}", entity.name)
    mod.add(
        ["__all__ = ["]
        + [f'    "{e.name}",' for e in sorted(domain.entities, key=lambda e: e.name)]
        + ["]"]
    )
    return mod


def registry_init(ctx: Ctx, path: str) -> Module:
    """`atlas.models`: every model, so alembic's autogenerate sees the whole schema."""
    mod = new_module(path, ctx.plan.seed, "every model of the project, for alembic")
    names: list[str] = []
    for domain in ctx.plan.domains:
        mod.imports.name(f"{domain.pkg}.models", *(e.name for e in domain.entities))
        names += [e.name for e in domain.entities]
    mod.add(["__all__ = ["] + [f'    "{n}",' for n in sorted(names)] + ["]"])
    return mod


# ============================================================================ schemas


def schema_file(ctx: Ctx, path: str, domain: Domain, entity: Entity) -> Module:
    mod = new_module(
        path, ctx.plan.seed, f"request and response schemas for {plural(entity.human)}", domain.name
    )
    rng = mod.rng
    mod.imports.name("pydantic", "BaseModel", "ConfigDict", "Field")
    name = entity.name
    base = [f"class {name}Base(BaseModel):"]
    for column in payload_columns(entity) or entity.columns[:2]:
        annotation = TYPES[column.kind][2]
        type_imports(mod, annotation)
        if column.kind == "str":
            base.append(f"    {column.name}: {annotation} = Field(min_length=1, max_length=120)")
        elif column.kind == "currency":
            base.append(
                f'    {column.name}: {annotation} = Field(default="EUR", pattern="^[A-Z]{{3}}$")'
            )
        elif column.kind == "decimal":
            base.append(f'    {column.name}: {annotation} = Field(default=Decimal("0"), ge=0)')
        elif column.kind == "bool":
            base.append(f"    {column.name}: {annotation} = False")
        else:
            base.append(f"    {column.name}: {annotation} = 0")
    mod.add(base)
    create = [f"class {name}Create({name}Base):"]
    if entity.fk:
        create.append(f"    {entity.fk}: int")
    else:
        create.append(f'    """Payload of `POST /{entity.table.replace("_", "-")}`."""')
    mod.add(create)
    update = [f"class {name}Update(BaseModel):"]
    update += [
        f"    {c.name}: {TYPES[c.kind][2].replace(' | None', '')} | None = None"
        for c in entity.columns[:4]
    ]
    for c in entity.columns[:4]:
        type_imports(mod, TYPES[c.kind][2])
    update.append("    status: str | None = None")
    mod.add(update)
    stamps = entity.exposes_timestamps
    read = [
        f"class {name}Read({name}Base):",
        "    model_config = ConfigDict(from_attributes=True)",
        "",
    ]
    read += ["    id: int", "    status: str"]
    if entity.fk:
        read.append(f"    {entity.fk}: int")
    if stamps:
        mod.imports.name("datetime", "datetime")
        read += ["    created_at: datetime", "    updated_at: datetime"]
        if rng.random() < 0.1:
            # A DTO copying a record's timestamps: right, and never a finding.
            args = ["id=record.id", "status=record.status"]
            args += [f"{c.name}=record.{c.name}" for c in payload_columns(entity)[:3]]
            if entity.fk:
                args.append(f"{entity.fk}=record.{entity.fk}")
            args += ["created_at=record.created_at", "updated_at=record.updated_at"]
            clash = domain.same_name_dto and entity is domain.entities[0]
            model = ctx.model_ref(mod, entity, "module" if clash else "relative")
            read += [
                "",
                "    @classmethod",
                f"    def from_record(cls, record: {model}) -> {name}Read:",
                "        return cls(",
                *[f"            {a}," for a in args],
                "        )",
            ]
    mod.add(read)
    if rng.random() < 0.6:
        mod.imports.name("pydantic", "field_validator")
        column = (entity.of_kind("str") or ["status"])[0]
        if column in [c.name for c in payload_columns(entity)]:
            mod.add(
                [
                    f"class {name}Filter(BaseModel):",
                    f"    {column}: str | None = None",
                    "    status: list[str] = Field(default_factory=list)",
                    "    limit: int = Field(default=50, ge=1, le=500)",
                    "",
                    f'    @field_validator("{column}")',
                    "    @classmethod",
                    "    def strip(cls, value: str | None) -> str | None:",
                    "        return value.strip() or None if value is not None else None",
                ]
            )
    mod.add(
        [
            f"class {name}Page(BaseModel):",
            f"    items: list[{name}Read]",
            "    next_cursor: str | None = None",
            "    total: int | None = None",
        ]
    )
    extras = [schema_bulk, schema_stats, schema_export, schema_import_row]
    rng.shuffle(extras)
    target = target_lines(rng, 60, 200)
    for extra in extras:
        if mod.size >= target:
            break
        mod.add(extra(mod, entity))
    if domain.same_name_dto and entity is domain.entities[0]:
        # Shares its name with the ORM model: resolution has to tell them apart.
        pub = [
            f"class {name}(BaseModel):",
            f'    """Public view of a {entity.human}."""',
            "",
            "    id: int",
            "    status: str",
        ]
        if entity.exposes_timestamps:
            mod.imports.name("datetime", "datetime")
            pub += ["    created_at: datetime", "    updated_at: datetime"]
        mod.add(pub)
    return mod


def schema_bulk(mod: Module, entity: Entity) -> list[str]:
    mod.imports.name("typing", "Literal")
    actions = ", ".join(f'"{s}"' for s in entity.statuses[1:])
    return [
        f"class {entity.name}BulkAction(BaseModel):",
        f'    """Apply one transition to many {plural(entity.human)} at once."""',
        "",
        "    ids: list[int] = Field(min_length=1, max_length=500)",
        f"    action: Literal[{actions}]",
        "    reason: str | None = Field(default=None, max_length=500)",
        "    notify: bool = True",
    ]


def schema_stats(mod: Module, entity: Entity) -> list[str]:
    number = entity.number
    annotation = "Decimal" if number in entity.of_kind("decimal") else "float"
    type_imports(mod, annotation)
    return [
        f"class {entity.name}Stats(BaseModel):",
        "    status: str",
        "    count: int = 0",
        f"    total_{number}: {annotation} = 0",
        f"    average_{number}: float | None = None",
        "",
        "    @property",
        "    def is_empty(self) -> bool:",
        "        return self.count == 0",
    ]


def schema_export(mod: Module, entity: Entity) -> list[str]:
    mod.imports.name("typing", "Literal")
    mod.imports.name("pydantic", "model_validator")
    columns = ["id", "status"] + [c.name for c in entity.columns]
    quoted = ", ".join(f'"{c}"' for c in columns)
    return [
        f"EXPORTABLE_{entity.snake.upper()}_COLUMNS = frozenset(",
        f"    {{{quoted}}}",
        ")",
        "",
        "",
        f"class {entity.name}ExportRequest(BaseModel):",
        '    format: Literal["csv", "xlsx", "json"] = "csv"',
        '    columns: list[str] = Field(default_factory=lambda: ["id", "status"])',
        "    include_archived: bool = False",
        "",
        '    @model_validator(mode="after")',
        f"    def check_columns(self) -> {entity.name}ExportRequest:",
        f"        unknown = set(self.columns) - EXPORTABLE_{entity.snake.upper()}_COLUMNS",
        "        if unknown:",
        '            raise ValueError(f"unknown columns: {sorted(unknown)}")',
        "        return self",
    ]


def schema_import_row(mod: Module, entity: Entity) -> list[str]:
    lines = [
        f"class {entity.name}ImportRow(BaseModel):",
        f'    """One row of the {entity.human} CSV import; extra columns are ignored."""',
        "",
        '    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)',
        "",
        "    external_id: str",
    ]
    for column in payload_columns(entity)[:4]:
        if column.name == "external_id":
            continue
        annotation = TYPES[column.kind][2]
        type_imports(mod, annotation)
        lines.append(f"    {column.name}: {annotation} | None = None")
    return lines


def schemas_init(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"schemas of the {domain.human} API", domain.name)
    mod.doc = []
    names: list[str] = []
    for entity in domain.entities:
        parts = [f"{entity.name}{s}" for s in ("Base", "Create", "Update", "Read", "Page")]
        if domain.same_name_dto and entity is domain.entities[0]:
            parts.append(entity.name)
        mod.imports.name(f".{entity.stem}", *parts)
        names += parts
    mod.add(["__all__ = ["] + [f'    "{n}",' for n in sorted(names)] + ["]"])
    return mod


# ============================================================================ dto


def dto_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(
        path, ctx.plan.seed, "plain data objects passed between services and jobs", domain.name
    )
    rng = mod.rng
    style = ctx.style(rng)
    ref = ctx.typeref(mod, style)
    mod.imports.name("dataclasses", "dataclass")
    for entity in domain.entities:
        stamps = entity.exposes_timestamps
        cols = payload_columns(entity)[:4]
        kind = rng.choice(("dataclass", "dataclass", "namedtuple", "typeddict"))
        cls = f"{entity.name}Summary"
        fields = ["id: int", "status: str"]
        for c in cols:
            annotation = TYPES[c.kind][2]
            type_imports(mod, annotation)
            fields.append(f"{c.name}: {annotation}")
        if stamps:
            mod.imports.name("datetime", "datetime")
            fields += ["created_at: datetime", "updated_at: datetime"]
        if kind == "dataclass":
            head = ["@dataclass(frozen=True, slots=True)", f"class {cls}:"]
        elif kind == "namedtuple":
            mod.imports.name("typing", "NamedTuple")
            head = [f"class {cls}(NamedTuple):"]
        else:
            mod.imports.name("typing", "TypedDict")
            head = [f"class {cls}(TypedDict):"]
        mod.add(
            [
                *head,
                f'    """What the dashboard shows for a {entity.human}."""',
                "",
                *indent(fields),
            ]
        )
        args = ["id=record.id", "status=record.status"] + [
            f"{c.name}=record.{c.name}" for c in cols
        ]
        if stamps:
            args += ["created_at=record.created_at", "updated_at=record.updated_at"]
        single = mod.unique(f"summarize_{entity.var}")
        lines = [f"def {single}(record: {ref(entity)}) -> {cls}:"]
        lines += indent(docstring(rng, "the summary", f"a {entity.human}", 0.2))
        lines += [f"    return {cls}(", *[f"        {a}," for a in args], "    )"]
        mod.add(lines)
        if rng.random() < 0.5:
            fn = mod.unique(f"summarize_{entity.vars}")
            mod.imports.name("collections.abc", "Iterable")
            mod.add(
                [
                    f"def {fn}(records: Iterable[{ref(entity)}]) -> list[{cls}]:",
                    f"    return [{single}(record) for record in records]",
                ]
            )
    fill(mod, target_lines(rng, 120, 320), lambda: body.function(mod, rng, domain.entities, ref))
    return mod


# ============================================================================ services


def bug_method(
    kind: str, entity: Entity, model: str, models_alias: str | None
) -> tuple[list[str], int, str]:
    """A method of the service that copies a timestamp into a new record: (lines at
    indentation 0, index of the line the finding is on, expected code)."""
    label = entity.label
    first, last = entity.statuses[0], entity.statuses[-1]
    fk = entity.fk
    h = entity.human
    if kind == "kwarg":
        lines = [
            f"def reopen(self, previous: {model}) -> {model}:",
            f'    """Open a new {h} that continues `previous`."""',
            f"    {entity.var} = {model}(",
            *([f"        {fk}=previous.{fk},"] if fk else []),
            f"        {label}=previous.{label},",
            f'        status="{first}",',
            "        created_at=previous.created_at,",
            "    )",
            f"    self.session.add({entity.var})",
            "    self.session.flush()",
            f'    logger.info("reopened %s as %s", previous.id, {entity.var}.id)',
            f"    return {entity.var}",
        ]
        return lines, 6 if fk else 5, "TSL001"
    if kind == "assign":
        lines = [
            f"def retry(self, failed: {model}) -> {model}:",
            f'    """Queue another attempt of a failed {h}."""',
            f'    attempt = {model}({label}=failed.{label}, status="{first}")',
            "    # keep the attempt next to the failed one in the activity feed",
            "    attempt.updated_at = failed.updated_at",
            "    self.session.add(attempt)",
            "    return attempt",
        ]
        return lines, 4, "TSL002"
    if kind == "local":
        lines = [
            f"def split(self, original: {model}, parts: int = 2) -> list[{model}]:",
            f'    """Split `original` into `parts` new {plural(h)}."""',
            "    if parts < 2:",
            '        raise ValueError("split needs at least two parts")',
            "    opened = original.created_at",
            f"    pieces: list[{model}] = []",
            "    for index in range(parts):",
            f"        piece = {model}(",
            f'            {label}=f"{{original.{label}}}-{{index + 1}}",',
            "            status=original.status,",
            "            created_at=opened,",
            "        )",
            "        pieces.append(piece)",
            "    self.session.add_all(pieces)",
            "    return pieces",
        ]
        return lines, 10, "TSL001"
    if kind == "insert":
        lines = [
            f"def freeze(self, row: {model}) -> None:",
            '    """Keep a frozen copy of `row` before it is edited."""',
            "    self.session.execute(",
            f"        insert({model}).values(",
            f"            {label}=row.{label},",
            f'            status="{last}",',
            "            created_at=row.created_at,",
            "        )",
            "    )",
        ]
        return lines, 6, "TSL001"
    if kind == "dict":
        lines = [
            f"def fork(self, source: {model}, **changes: Any) -> {model}:",
            f'    """Create a {h} from `source` with `changes` applied."""',
            f"    forked = {model}(",
            "        **{",
            f'            "{label}": source.{label},',
            f'            "status": "{first}",',
            '            "updated_at": source.updated_at,',
            "        }",
            "    )",
            "    for key, value in changes.items():",
            "        setattr(forked, key, value)",
            "    self.session.add(forked)",
            "    return forked",
        ]
        return lines, 6, "TSL001"
    if kind == "setattr":
        lines = [
            f"def draft_from(self, source: {model}, keep_history: bool = False) -> {model}:",
            f'    """Start a draft {h} from `source`."""',
            f'    draft = {model}({label}=source.{label}, status="{first}")',
            "    if keep_history:",
            '        setattr(draft, "created_at", source.created_at)',
            "    self.session.add(draft)",
            "    return draft",
        ]
        return lines, 4, "TSL002"
    assert models_alias is not None
    qualified = f"{models_alias}.{entity.name}"
    lines = [
        f"def renew(self, current: {model}) -> {model}:",
        '    """Start the next period of `current`."""',
        f"    renewed = {qualified}(",
        *([f"        {fk}=current.{fk},"] if fk else []),
        f"        {label}=current.{label},",
        "        updated_at=current.updated_at,",
        "    )",
        f'    current.status = "{last}"',
        "    self.session.add(renewed)",
        "    return renewed",
    ]
    return lines, 5 if fk else 4, "TSL001"


def service_ts_methods(
    ctx: Ctx, mod: Module, domain: Domain, entity: Entity, model: str, rng: random.Random
) -> list[list[str]]:
    """Methods that read or pass timestamps without copying them into a new record: one to
    three of them, mostly reads (ordering, filters, durations), sometimes keyword arguments
    (bulk updates, audit calls, DTOs, records stamped from the clock)."""
    v, vs, label = entity.var, entity.vars, entity.label
    last = entity.statuses[-1]
    weights = {
        "recent": 4, "stale": 3, "durations": 2, "last_change": 2 if entity.fk else 0,
        "sync": 1, "touch": 1, "audit": 1, "start": 1, "dto": 1,
    }  # fmt: skip
    chosen: set[str] = set()
    for _ in range(rng.choice((1, 1, 2, 2, 3))):
        chosen.add(rng.choices(list(weights), list(weights.values()))[0])
    out: list[list[str]] = []
    if "recent" in chosen:
        mod.imports.name("datetime", "datetime")
        mod.imports.name("sqlalchemy", "select")
        out.append(
            [
                f"def recent(self, since: datetime, limit: int = 100) -> list[{model}]:",
                f'    """{plural(entity.human).capitalize()} created since `since`."""',
                "    stmt = (",
                f"        select({model})",
                f"        .where({model}.created_at >= since)",
                f"        .order_by({model}.created_at.desc())",
                "        .limit(limit)",
                "    )",
                "    return list(self.session.scalars(stmt))",
            ]
        )
    if "stale" in chosen:
        mod.imports.name("datetime", "timedelta")
        mod.imports.name("sqlalchemy", "select")
        mod.imports.name(f"{PACKAGE}.core.clock", "utcnow")
        out.append(
            [
                f"def stale(self, days: int = 30) -> list[{model}]:",
                f'    """{plural(entity.human).capitalize()} nobody touched for `days` days."""',
                "    cutoff = utcnow() - timedelta(days=days)",
                f"    stmt = select({model}).where(",
                f'        {model}.updated_at < cutoff, {model}.status != "{last}"',
                "    )",
                "    return list(self.session.scalars(stmt))",
            ]
        )
    if "touch" in chosen:
        mod.imports.name("collections.abc", "Sequence")
        mod.imports.name("sqlalchemy", "func", "update")
        out.append(
            [
                "def touch(self, ids: Sequence[int]) -> int:",
                '    """Mark rows as changed without editing them (cache invalidation)."""',
                "    if not ids:",
                "        return 0",
                "    result = self.session.execute(",
                f"        update({model}).where({model}.id.in_(ids)).values(updated_at=func.now())",
                "    )",
                "    return result.rowcount",
            ]
        )
    if "sync" in chosen:
        mod.imports.name("sqlalchemy", "select")
        out.append(
            [
                f"def sync_from(self, source: {model}) -> {model} | None:",
                '    """Mirror `source` onto the existing replica row with the same label."""',
                "    target = self.session.scalar(",
                f"        select({model}).where(",
                f"            {model}.{label} == source.{label}, {model}.id != source.id",
                "        )",
                "    )",
                "    if target is None:",
                "        return None",
                "    target.status = source.status",
                "    # updates a row that exists already: keeping the source's time is intended",
                "    target.updated_at = source.updated_at",
                "    return target",
            ]
        )
    if "audit" in chosen:
        out.append(
            [
                f"def audit_{last}(self, {v}: {model}) -> None:",
                "    self.audit.record(",
                f'        action="{domain.name}.{entity.stem}.{last}",',
                f'        entity="{entity.table}",',
                f"        entity_id={v}.id,",
                f"        created_at={v}.created_at,",
                "    )",
            ]
        )
    if "durations" in chosen:
        mod.imports.name("collections.abc", "Sequence")
        out.append(
            [
                f"def durations(self, {vs}: Sequence[{model}]) -> list[float]:",
                '    """Seconds between creation and the last update (latency dashboard)."""',
                f"    return [({v}.updated_at - {v}.created_at).total_seconds() for {v} in {vs}]",
            ]
        )
    if "start" in chosen:
        mod.imports.name(f"{PACKAGE}.core.clock", "utcnow")
        params = [f"{label}: str"] + ([f"{entity.fk}: int"] if entity.fk else [])
        args = [f"{label}={label}"] + ([f"{entity.fk}={entity.fk}"] if entity.fk else [])
        out.append(
            [
                f"def start(self, {', '.join(params)}) -> {model}:",
                f'    """Create a {entity.human} that is already in progress."""',
                "    now = utcnow()",
                f"    {v} = {model}(",
                *[f"        {a}," for a in args],
                f'        status="{entity.statuses[1]}",',
                "        created_at=now,",
                "        updated_at=now,",
                "    )",
                f"    self.session.add({v})",
                f"    return {v}",
            ]
        )
    if "last_change" in chosen:
        mod.imports.name("datetime", "datetime")
        mod.imports.name("sqlalchemy", "func", "select")
        parent = entity.parent.var if entity.parent else "parent"
        out.append(
            [
                f"def last_change_per_{parent}(self) -> dict[int, datetime]:",
                f"    stmt = select({model}.{entity.fk}, func.max({model}.updated_at)).group_by(",
                f"        {model}.{entity.fk}",
                "    )",
                "    return {key: changed for key, changed in self.session.execute(stmt)}",
            ]
        )
    if "dto" in chosen and domain.has("dto") and entity.exposes_timestamps:
        target = f"{domain.pkg}.dto"
        mod.imports.name(relative(mod.path, target) or target, f"{entity.name}Summary")
        cols = payload_columns(entity)[:4]
        args = [f"id={v}.id", f"status={v}.status"] + [f"{c.name}={v}.{c.name}" for c in cols]
        args += [f"created_at={v}.created_at", f"updated_at={v}.updated_at"]
        out.append(
            [
                f"def summary(self, {v}: {model}) -> {entity.name}Summary:",
                f"    return {entity.name}Summary(",
                *[f"        {a}," for a in args],
                "    )",
            ]
        )
    elif "dto" in chosen and entity.exposes_timestamps:
        read = ctx.schema_ref(mod, entity, "Read")
        cols = payload_columns(entity)
        args = [f"id={v}.id", f"status={v}.status"] + [f"{c.name}={v}.{c.name}" for c in cols]
        if entity.fk:
            args.append(f"{entity.fk}={v}.{entity.fk}")
        args += [f"created_at={v}.created_at", f"updated_at={v}.updated_at"]
        out.append(
            [
                f"def to_read(self, {v}: {model}) -> {read}:",
                f"    return {read}(",
                *[f"        {a}," for a in args],
                "    )",
            ]
        )
    return out


def service_file(ctx: Ctx, path: str, domain: Domain, entity: Entity, bug: Bug | None) -> Module:
    mod = new_module(path, ctx.plan.seed, f"use cases around {plural(entity.human)}", domain.name)
    rng = mod.rng
    style = ctx.style(rng)
    if bug is not None and bug.kind == "module_attr":
        style = "module"
    model = ctx.model_ref(mod, entity, style)
    ref = ctx.typeref(mod, style)
    models_alias = model.rpartition(".")[0] or None
    logger = mod.logger()
    v, first = entity.var, entity.statuses[0]
    create = ctx.schema_ref(mod, entity, "Create")
    upd = ctx.schema_ref(mod, entity, "Update")
    mod.imports.name("sqlalchemy", "select")
    mod.imports.name("sqlalchemy.orm", "Session")
    mod.imports.name(f"{PACKAGE}.core.audit", "AuditLog", "audit_log")
    mod.imports.name(f"{PACKAGE}.core.exceptions", "ConflictError", "NotFoundError")
    statuses = entity.statuses
    transitions = ["TRANSITIONS: dict[str, tuple[str, ...]] = {"]
    for i, status in enumerate(statuses[:-1]):
        following = [f'"{s}"' for s in statuses[i + 1 : i + 3]]
        nxt = ", ".join(following) + ("," if len(following) == 1 else "")
        transitions.append(f'    "{status}": ({nxt}),')
    transitions.append("}")
    mod.add(transitions)
    cls = [
        f"class {entity.name}Service:",
        f'    """Use cases around {plural(entity.human)}; callers own the transaction."""',
        "",
        "    def __init__(self, session: Session, audit: AuditLog | None = None) -> None:",
        "        self.session = session",
        "        self.audit = audit or audit_log",
    ]
    methods: list[list[str]] = [
        [
            f"def get(self, {v}_id: int) -> {model} | None:",
            f"    return self.session.get({model}, {v}_id)",
        ],
        [
            f"def get_or_raise(self, {v}_id: int) -> {model}:",
            f"    {v} = self.get({v}_id)",
            f"    if {v} is None:",
            f'        raise NotFoundError(f"{entity.human} {{{v}_id}} not found", id={v}_id)',
            f"    return {v}",
        ],
        [
            "def search(",
            "    self, *, status: str | None = None, limit: int = 50, offset: int = 0",
            f") -> list[{model}]:",
            f"    stmt = select({model}).order_by({model}.id)",
            "    if status is not None:",
            f"        stmt = stmt.where({model}.status == status)",
            "    return list(self.session.scalars(stmt.limit(limit).offset(offset)))",
        ],
        [
            f"def create(self, payload: {create}) -> {model}:",
            f"    {v} = {model}(**payload.model_dump())",
            f"    self.session.add({v})",
            "    self.session.flush()",
            f'    {logger}.info("created {entity.human} %s", {v}.id)',
            f"    return {v}",
        ],
        [
            f"def update(self, {v}_id: int, payload: {upd}) -> {model}:",
            f"    {v} = self.get_or_raise({v}_id)",
            "    for key, value in payload.model_dump(exclude_unset=True).items():",
            f"        setattr({v}, key, value)",
            "    self.session.flush()",
            f"    return {v}",
        ],
        [
            f"def transition(self, {v}: {model}, status: str) -> {model}:",
            f"    allowed = TRANSITIONS.get({v}.status, ())",
            "    if status not in allowed:",
            "        raise ConflictError(",
            f'            f"cannot move {entity.human} {{{v}.id}} "',
            f'            f"from {{{v}.status}} to {{status}}"',
            "        )",
            f"    {v}.status = status",
            f"    return {v}",
        ],
    ]
    if rng.random() < 0.5:
        cols = [c.name for c in payload_columns(entity)][:4]
        args = ([f"{entity.fk}=source.{entity.fk}"] if entity.fk else []) + [
            f"{c}=source.{c}" for c in cols
        ]
        methods.append(
            [
                f"def duplicate(self, source: {model}) -> {model}:",
                '    """Copy `source` into a new draft; the copy gets its own timestamps."""',
                f"    copy = {model}(",
                *[f"        {a}," for a in args],
                f'        status="{first}",',
                "    )",
                "    self.session.add(copy)",
                "    self.session.flush()",
                "    return copy",
            ]
        )
    if entity.has_timestamps and rng.random() < 0.35:
        methods += service_ts_methods(ctx, mod, domain, entity, model, rng)
    rng.shuffle(methods)
    bug_lines: list[str] | None = None
    bug_mark = (0, "")
    if bug is not None:
        if bug.kind == "insert":
            mod.imports.name("sqlalchemy", "insert")
        if bug.kind == "dict":
            mod.imports.name("typing", "Any")
        bug_lines, line, code = bug_method(bug.kind, entity, model, models_alias)
        methods.insert(rng.randint(2, len(methods)), bug_lines)
        bug_mark = (line, code)
    marks: list[tuple[int, str]] = []
    names = {m[0].split("(")[0][4:] for m in methods}
    target = target_lines(rng, 260, 820)
    helpers = [e for e in domain.entities if e is entity or rng.random() < 0.3]
    for method in methods:
        cls.append("")
        if method is bug_lines:
            marks.append((len(cls) + bug_mark[0], bug_mark[1]))
        cls += indent(method)
    while len(cls) + mod.size < target * 0.8:
        extra = body.function(mod, rng, helpers, ref, method=True, taken=names)
        cls += ["", *indent(extra)]
    mod.add(cls, marks)
    fill(mod, target, lambda: body.function(mod, rng, helpers, ref))
    return mod


# ============================================================================ repositories


def repository_file(ctx: Ctx, path: str, domain: Domain, entity: Entity) -> Module:
    mod = new_module(path, ctx.plan.seed, f"queries for {plural(entity.human)}", domain.name)
    rng = mod.rng
    style = ctx.style(rng)
    model = ctx.model_ref(mod, entity, style)
    ref = ctx.typeref(mod, style)
    label = entity.label
    mod.imports.name("sqlalchemy", "func", "select")
    mod.imports.name("sqlalchemy.orm", "Session")
    mod.imports.name("collections.abc", "Sequence")
    methods: list[list[str]] = [
        [
            f"def by_ids(self, ids: Sequence[int]) -> list[{model}]:",
            "    if not ids:",
            "        return []",
            f"    stmt = select({model}).where({model}.id.in_(ids)).order_by({model}.id)",
            "    return list(self.session.scalars(stmt))",
        ],
        [
            f"def by_{label}(self, value: str) -> {model} | None:",
            f"    stmt = select({model}).where(func.lower({model}.{label}) == value.lower())",
            "    return self.session.scalars(stmt).first()",
        ],
        [
            "def count_by_status(self) -> dict[str, int]:",
            f"    stmt = select({model}.status, func.count()).group_by({model}.status)",
            "    return {status: count for status, count in self.session.execute(stmt)}",
        ],
        [
            f"def page_after(self, last_id: int | None, size: int = 100) -> list[{model}]:",
            f"    stmt = select({model}).order_by({model}.id).limit(size)",
            "    if last_id is not None:",
            f"        stmt = stmt.where({model}.id > last_id)",
            "    return list(self.session.scalars(stmt))",
        ],
    ]
    if entity.fk:
        parent = entity.parent.var if entity.parent else "parent"
        methods.append(
            [
                f"def for_{parent}(self, {entity.fk}: int) -> list[{model}]:",
                f"    stmt = select({model}).where({model}.{entity.fk} == {entity.fk})",
                "    return list(self.session.scalars(stmt))",
            ]
        )
    if entity.has_timestamps and rng.random() < 0.25:
        mod.imports.name("datetime", "datetime")
        methods.append(
            [
                f"def changed_between(self, start: datetime, end: datetime) -> list[{model}]:",
                '    """Rows updated in [start, end), oldest first (the sync job pages on it)."""',
                "    stmt = (",
                f"        select({model})",
                f"        .where({model}.updated_at >= start, {model}.updated_at < end)",
                f"        .order_by({model}.updated_at, {model}.id)",
                "    )",
                "    return list(self.session.scalars(stmt))",
            ]
        )
    cls = [
        f"class {entity.name}Repository:",
        f'    """Read access to {plural(entity.human)}."""',
        "",
        "    def __init__(self, session: Session) -> None:",
        "        self.session = session",
    ]
    for method in methods:
        cls += ["", *indent(method)]
    target = target_lines(rng, 130, 430)
    names = {m[0].split("(")[0][4:] for m in methods}
    while len(cls) + mod.size < target:
        extra = body.function(mod, rng, [entity], ref, method=True, taken=names)
        cls += ["", *indent(extra)]
    mod.add(cls)
    return mod


# ============================================================================ api


def api_file(ctx: Ctx, path: str, domain: Domain, entity: Entity) -> Module:
    mod = new_module(path, ctx.plan.seed, f"HTTP endpoints for {plural(entity.human)}", domain.name)
    rng = mod.rng
    v = entity.var
    route = "/" + entity.table.replace("_", "-")
    prefix = f"/{domain.name.replace('_', '-')}{route}"
    mod.imports.name("fastapi", "APIRouter", "Depends", "HTTPException", "status")
    mod.imports.name("sqlalchemy.orm", "Session")
    mod.imports.name(f"{PACKAGE}.core.db", "get_session")
    service = f"{entity.name}Service"
    target = f"{domain.pkg}.services.{entity.stem}"
    mod.imports.name(relative(mod.path, target) or target, service)
    create = ctx.schema_ref(mod, entity, "Create")
    upd = ctx.schema_ref(mod, entity, "Update")
    read = ctx.schema_ref(mod, entity, "Read")
    page = ctx.schema_ref(mod, entity, "Page")
    mod.preamble.append(f'router = APIRouter(prefix="{prefix}", tags=["{domain.name}"])')
    style = ctx.style(rng)
    explicit = entity.exposes_timestamps and rng.random() < 0.1
    if explicit:
        model = ctx.model_ref(mod, entity, style)
        cols = payload_columns(entity)
        args = [f"id={v}.id", f"status={v}.status"] + [f"{c.name}={v}.{c.name}" for c in cols]
        if entity.fk:
            args.append(f"{entity.fk}={v}.{entity.fk}")
        args += [f"created_at={v}.created_at", f"updated_at={v}.updated_at"]
        mod.add(
            [
                f"def _to_read({v}: {model}) -> {read}:",
                f"    return {read}(",
                *[f"        {a}," for a in args],
                "    )",
            ]
        )
        convert = "_to_read"
    else:
        convert = f"{read}.model_validate"
    mod.add(
        [
            f"def get_service(session: Session = Depends(get_session)) -> {service}:",
            f"    return {service}(session)",
        ]
    )
    mod.add(
        [
            f'@router.get("", response_model={page})',
            f"def list_{entity.vars}(",
            "    status_filter: str | None = None,",
            "    limit: int = 50,",
            "    offset: int = 0,",
            f"    service: {service} = Depends(get_service),",
            f") -> {page}:",
            "    rows = service.search(status=status_filter, limit=limit, offset=offset)",
            f"    return {page}(items=[{convert}(row) for row in rows], total=len(rows))",
        ]
    )
    mod.add(
        [
            f'@router.get("/{{{v}_id}}", response_model={read})',
            f"def get_{v}({v}_id: int, service: {service} = Depends(get_service)) -> {read}:",
            f"    {v} = service.get({v}_id)",
            f"    if {v} is None:",
            "        raise HTTPException(",
            f'            status.HTTP_404_NOT_FOUND, detail="{entity.human} not found"',
            "        )",
            f"    return {convert}({v})",
        ]
    )
    mod.add(
        [
            f'@router.post("", response_model={read}, status_code=status.HTTP_201_CREATED)',
            f"def create_{v}(",
            f"    payload: {create}, service: {service} = Depends(get_service)",
            f") -> {read}:",
            f"    return {convert}(service.create(payload))",
        ]
    )
    mod.add(
        [
            f'@router.patch("/{{{v}_id}}", response_model={read})',
            f"def update_{v}(",
            f"    {v}_id: int, payload: {upd}, service: {service} = Depends(get_service)",
            f") -> {read}:",
            f"    return {convert}(service.update({v}_id, payload))",
        ]
    )
    for status in rng.sample(entity.statuses[1:], rng.randint(1, len(entity.statuses) - 1)):
        mod.add(
            [
                f'@router.post("/{{{v}_id}}/{status.replace("_", "-")}", response_model={read})',
                f"def {status}_{v}(",
                f"    {v}_id: int, service: {service} = Depends(get_service)",
                f") -> {read}:",
                f"    {v} = service.get_or_raise({v}_id)",
                f'    return {convert}(service.transition({v}, "{status}"))',
            ]
        )
    if domain.same_name_dto and entity is domain.entities[0] and entity.exposes_timestamps:
        target_mod = f"{domain.pkg}"
        mod.imports.name(relative(mod.path, target_mod) or target_mod, "schemas")
        mod.add(
            [
                f'@router.get("/{{{v}_id}}/public")',
                f"def public_{v}(",
                f"    {v}_id: int, service: {service} = Depends(get_service)",
                f") -> schemas.{entity.name}:",
                f"    {v} = service.get_or_raise({v}_id)",
                f"    return schemas.{entity.name}(",
                f"        id={v}.id,",
                f"        status={v}.status,",
                f"        created_at={v}.created_at,",
                f"        updated_at={v}.updated_at,",
                "    )",
            ]
        )
    fill(
        mod,
        target_lines(rng, 150, 460),
        lambda: body.function(mod, rng, [entity], ctx.typeref(mod, style)),
    )
    return mod


# ============================================================================ serializers


def serializers_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    """Allowlisted (`**/serializers.py`): turning dumps back into rows keeps their times."""
    mod = new_module(path, ctx.plan.seed, "round-tripping records through JSON dumps", domain.name)
    rng = mod.rng
    style = ctx.style(rng)
    mod.imports.name("typing", "Any")
    for entity in domain.entities:
        model = ctx.model_ref(mod, entity, style)
        cols = [c.name for c in entity.columns]
        dump = [f"def dump_{entity.var}(record: {model}) -> dict[str, Any]:", "    return {"]
        dump += ['        "id": record.id,', '        "status": record.status,']
        dump += [f'        "{c}": record.{c},' for c in cols]
        if entity.has_timestamps:
            dump += ['        "created_at": record.created_at.isoformat(),']
            dump += ['        "updated_at": record.updated_at.isoformat(),']
        dump.append("    }")
        mod.add(dump)
        load = [f"def load_{entity.var}(data: dict[str, Any]) -> {model}:"]
        load += indent(docstring(rng, f"a {entity.human}", "a dump", 0.1))
        load += [f"    return {model}(", '        id=data["id"],', '        status=data["status"],']
        load += [f'        {c}=data.get("{c}"),' for c in cols]
        if entity.has_timestamps:
            mod.imports.name("datetime", "datetime")
            load += [
                '        created_at=datetime.fromisoformat(data["created_at"]),',
                '        updated_at=datetime.fromisoformat(data["updated_at"]),',
            ]
        load.append("    )")
        mod.add(load)
        if entity.has_timestamps and rng.random() < 0.5:
            mod.add(
                [
                    f"def restore_{entity.var}(archived: {model}) -> {model}:",
                    '    """Rebuild a row from the archive, exactly as it was."""',
                    f"    return {model}(",
                    "        **{",
                    f'            "{entity.label}": archived.{entity.label},',
                    '            "status": archived.status,',
                    '            "created_at": archived.created_at,',
                    '            "updated_at": archived.updated_at,',
                    "        }",
                    "    )",
                ]
            )
    fill(
        mod,
        target_lines(rng, 120, 320),
        lambda: body.function(mod, rng, domain.entities, ctx.typeref(mod, style)),
    )
    return mod


# ============================================================================ small modules


def exceptions_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"errors of the {domain.human} domain", domain.name)
    rng = mod.rng
    mod.imports.name(f"{PACKAGE}.core.exceptions", "AtlasError")
    root = f"{domain.camel}Error"
    mod.add([f"class {root}(AtlasError):", f'    code = "{domain.name}_error"'])
    for entity in domain.entities:
        base = rng.choice(("NotFoundError", "ConflictError", root))
        if base != root:
            mod.imports.name(f"{PACKAGE}.core.exceptions", base)
        suffix = {"NotFoundError": "NotFound", "ConflictError": "Conflict"}.get(base, "Invalid")
        lines = [f"class {entity.name}{suffix}Error({base}):"]
        if rng.random() < 0.5:
            lines += [
                f"    def __init__(self, {entity.var}_id: int) -> None:",
                "        super().__init__(",
                f'            f"{entity.human} {{{entity.var}_id}}", id={entity.var}_id',
                "        )",
            ]
        else:
            lines.append(f'    """Raised when a {entity.human} cannot be processed."""')
        mod.add(lines)
    return mod


def constants_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"constants of the {domain.human} domain", domain.name)
    rng = mod.rng
    for entity in domain.entities:
        name = f"{entity.snake.upper()}_STATUSES"
        mod.preamble.append(
            f"{name} = frozenset({{{', '.join(repr(s) for s in entity.statuses)}}})"
        )
    mod.preamble.append(f"DEFAULT_PAGE_SIZE = {rng.choice((25, 50, 100))}")
    mod.preamble.append(f"MAX_BATCH = {rng.choice((500, 1000, 5000))}")
    mod.preamble.append(f'CACHE_PREFIX = "{domain.name}:v{rng.randint(1, 4)}"')
    mod.preamble.append(
        f"RETRY_DELAYS = ({', '.join(str(2**i) for i in range(rng.randint(3, 6)))})"
    )
    mapping = [f"{domain.name.upper()}_LABELS: dict[str, str] = {{"]
    for entity in domain.entities:
        for s in entity.statuses:
            mapping.append(f'    "{entity.stem}.{s}": "{human(s).capitalize()}",')
    mapping.append("}")
    mod.add(mapping)
    return mod


def permissions_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"who may do what in {domain.human}", domain.name)
    rng = mod.rng
    mod.imports.module("enum")
    actions = ["VIEW", "CREATE", "EDIT", "APPROVE", "EXPORT", "DELETE"]
    mod.add(
        [f"class {domain.camel}Permission(str, enum.Enum):"]
        + [f'    {a} = "{domain.name}.{a.lower()}"' for a in actions]
    )
    roles = ["viewer", "editor", "admin"]
    grants = ["ROLE_GRANTS = {"]
    for i, role in enumerate(roles):
        allowed = ", ".join(f"{domain.camel}Permission.{a}" for a in actions[: 2 + i * 2])
        grants.append(f'    "{role}": frozenset({{{allowed}}}),')
    grants.append("}")
    mod.add(grants)
    mod.imports.name("collections.abc", "Iterable")
    mod.add(
        [
            f"def can(roles: Iterable[str], permission: {domain.camel}Permission) -> bool:",
            "    return any(permission in ROLE_GRANTS.get(role, frozenset()) for role in roles)",
        ]
    )
    fill(
        mod,
        target_lines(rng, 80, 220),
        lambda: body.function(mod, rng, domain.entities, ctx.typeref(mod, "relative")),
    )
    return mod


def generic_file(ctx: Ctx, path: str, domain: Domain, topic: str, low: int, high: int) -> Module:
    mod = new_module(path, ctx.plan.seed, topic, domain.name)
    rng = mod.rng
    style = ctx.style(rng)
    entities = rng.sample(domain.entities, min(2, len(domain.entities)))
    fill(
        mod,
        target_lines(rng, low, high),
        lambda: body.function(mod, rng, entities, ctx.typeref(mod, style)),
    )
    return mod


def tasks_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(
        path, ctx.plan.seed, f"background jobs of the {domain.human} domain", domain.name
    )
    rng = mod.rng
    style = ctx.style(rng)
    mod.imports.name("celery", "shared_task")
    mod.imports.name(f"{PACKAGE}.core.db", "session_scope")
    mod.imports.name("sqlalchemy", "select")
    logger = mod.logger()
    for entity in domain.entities:
        model = ctx.model_ref(mod, entity, style)
        last = entity.statuses[-1]
        lines = [
            f'@shared_task(name="{domain.name}.close_{entity.vars}", max_retries=3)',
            f"def close_{entity.vars}(limit: int = 500) -> int:",
        ]
        if entity.has_timestamps and rng.random() < 0.4:
            mod.imports.name("datetime", "timedelta")
            mod.imports.name(f"{PACKAGE}.core.clock", "utcnow")
            lines += [
                f"    cutoff = utcnow() - timedelta(days={rng.choice((7, 14, 30, 90))})",
                "    with session_scope() as session:",
                "        rows = session.scalars(",
                f"            select({model})",
                f'            .where({model}.status != "{last}", {model}.updated_at < cutoff)',
                "            .limit(limit)",
                "        ).all()",
            ]
        else:
            lines += [
                "    with session_scope() as session:",
                "        rows = session.scalars(",
                f"            select({model})",
                f'            .where({model}.status == "{entity.statuses[0]}")',
                "            .limit(limit)",
                "        ).all()",
            ]
        lines += [
            "        for row in rows:",
            f'            row.status = "{last}"',
            f'    {logger}.info("closed %d {plural(entity.human)}", len(rows))',
            "    return len(rows)",
        ]
        mod.add(lines)
    fill(
        mod,
        target_lines(rng, 120, 360),
        lambda: body.function(mod, rng, domain.entities[:2], ctx.typeref(mod, style)),
    )
    return mod


def events_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"domain events published by {domain.human}", domain.name)
    rng = mod.rng
    style = ctx.style(rng)
    mod.imports.name("dataclasses", "asdict", "dataclass")
    mod.imports.name("datetime", "datetime")
    logger = mod.logger()
    mod.add(
        [
            "def publish(event: object) -> None:",
            '    """Hand the event to the outbox; delivery is at least once."""',
            f'    {logger}.info("event %s %s", type(event).__name__, asdict(event))',
        ]
    )
    for entity in domain.entities:
        model = ctx.model_ref(mod, entity, style)
        stamps = entity.has_timestamps and rng.random() < 0.25
        when = "created_at" if stamps else "occurred_at"
        mod.add(
            [
                "@dataclass(frozen=True)",
                f"class {entity.name}Changed:",
                f"    {entity.var}_id: int",
                "    status: str",
                f"    {when}: datetime",
            ]
        )
        value = f"{entity.var}.created_at" if stamps else "utcnow()"
        if not stamps:
            mod.imports.name(f"{PACKAGE}.core.clock", "utcnow")
        mod.add(
            [
                f"def {entity.var}_changed({entity.var}: {model}) -> {entity.name}Changed:",
                f"    return {entity.name}Changed(",
                f"        {entity.var}_id={entity.var}.id,",
                f"        status={entity.var}.status,",
                f"        {when}={value},",
                "    )",
            ]
        )
    return mod


def listeners_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"ORM event listeners of {domain.human}", domain.name)
    rng = mod.rng
    style = ctx.style(rng)
    mod.imports.name("sqlalchemy", "event")
    mod.imports.name("typing", "Any")
    for entity in domain.entities[:3]:
        model = ctx.model_ref(mod, entity, style)
        label = entity.label
        mod.add(
            [
                f'@event.listens_for({model}, "before_insert")',
                f"def _normalize_{entity.var}(",
                f"    mapper: Any, connection: Any, target: {model}",
                ") -> None:",
                f"    if target.{label}:",
                f"        target.{label} = target.{label}.strip()",
            ]
        )
    fill(
        mod,
        target_lines(rng, 60, 180),
        lambda: body.function(mod, rng, domain.entities[:2], ctx.typeref(mod, style)),
    )
    return mod


def queries_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, "hand-written SQL for the reports", domain.name)
    rng = mod.rng
    mod.imports.name("sqlalchemy", "text")
    mod.imports.name("sqlalchemy.orm", "Session")
    mod.imports.name("typing", "Any")
    for entity in domain.entities:
        name = f"{entity.snake.upper()}_STATUS_COUNTS"
        mod.add(
            [
                f"{name} = text(",
                f'    "SELECT status, count(*) AS n FROM {entity.table} "',
                '    "WHERE tenant_id = :tenant GROUP BY status ORDER BY n DESC"',
                ")",
            ]
        )
        mod.add(
            [
                f"def {entity.var}_status_counts(",
                "    session: Session, tenant: int",
                ") -> list[dict[str, Any]]:",
                f'    rows = session.execute({name}, {{"tenant": tenant}})',
                "    return [dict(row._mapping) for row in rows]",
            ]
        )
    fill(
        mod,
        target_lines(rng, 100, 280),
        lambda: body.function(mod, rng, domain.entities[:2], ctx.typeref(mod, "absolute")),
    )
    return mod


def client_file(ctx: Ctx, path: str, domain: Domain, client: str) -> Module:
    mod = new_module(
        path, ctx.plan.seed, f"a thin client for the {client.capitalize()} API", domain.name
    )
    rng = mod.rng
    mod.imports.module("httpx")
    mod.imports.name("typing", "Any")
    mod.imports.name(f"{PACKAGE}.core.exceptions", "UpstreamError")
    logger = mod.logger()
    cls_name = f"{camel(client)}Client"
    lines = [
        f"class {cls_name}:",
        f'    """Calls {client.capitalize()} with retries on 5xx and timeouts."""',
        "",
        "    def __init__(",
        "        self,",
        "        token: str,",
        f'        base_url: str = "https://api.{client}.com/v1",',
        "        timeout: float = 10.0,",
        "    ) -> None:",
        "        self._http = httpx.Client(",
        "            base_url=base_url,",
        '            headers={"Authorization": f"Bearer {token}"},',
        "            timeout=timeout,",
        "        )",
        "",
        "    def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:",
        f"        for attempt in range({rng.randint(2, 5)}):",
        "            try:",
        "                response = self._http.request(method, url, **kwargs)",
        "            except httpx.TransportError as exc:",
        f'                {logger}.warning("{client} %s %s failed: %s", method, url, exc)',
        "                continue",
        "            if response.status_code >= 500:",
        f"                {logger}.warning(",
        f'                    "{client} %s %s: %s", method, url, response.status_code',
        "                )",
        "                continue",
        "            response.raise_for_status()",
        "            return response.json()",
        "        raise UpstreamError(",
        f'            f"{client} {{method}} {{url}} kept failing", attempt=attempt',
        "        )",
    ]
    for entity in rng.sample(domain.entities, min(3, len(domain.entities))):
        resource = entity.table.replace("_", "-")
        lines += [
            "",
            f"    def get_{entity.var}(self, external_id: str) -> dict[str, Any]:",
            f'        return self._request("GET", f"/{resource}/{{external_id}}")',
            "",
            f"    def list_{entity.vars}(self, cursor: str | None = None) -> dict[str, Any]:",
            '        params = {"cursor": cursor} if cursor else {}',
            f'        return self._request("GET", "/{resource}", params=params)',
        ]
    mod.add(lines)
    fill(mod, target_lines(rng, 150, 460), lambda: body.function(mod, rng, [], lambda e: e.name))
    return mod


def admin_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, "admin screens configuration", domain.name)
    rng = mod.rng
    style = ctx.style(rng)
    mod.imports.name("dataclasses", "dataclass", "field")
    mod.add(
        [
            "@dataclass(frozen=True)",
            "class AdminView:",
            "    model: type",
            "    columns: tuple[str, ...]",
            "    searchable: tuple[str, ...] = ()",
            "    sortable: tuple[str, ...] = field(default_factory=tuple)",
        ]
    )
    views = ["VIEWS = ["]
    for entity in domain.entities:
        model = ctx.model_ref(mod, entity, style)
        cols = ", ".join(f'"{c.name}"' for c in entity.columns[:4])
        sortable = '"id", "created_at"' if entity.has_timestamps and rng.random() < 0.3 else '"id"'
        views += [
            "    AdminView(",
            f"        model={model},",
            f'        columns=("id", "status", {cols}),',
            f'        searchable=("{entity.label}",),',
            f"        sortable=({sortable},),",
            "    ),",
        ]
    views.append("]")
    mod.add(views)
    return mod


def cache_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, "read-through caching of hot lookups", domain.name)
    rng = mod.rng
    mod.imports.module("json")
    mod.imports.name("typing", "Any")
    mod.imports.name("redis", "Redis")
    mod.preamble.append(f"TTL_SECONDS = {rng.choice((60, 300, 900, 3600))}")
    mod.add(
        [
            "class Cache:",
            "    def __init__(self, client: Redis, prefix: str) -> None:",
            "        self.client = client",
            "        self.prefix = prefix",
            "",
            "    def get(self, key: str) -> Any | None:",
            '        raw = self.client.get(f"{self.prefix}:{key}")',
            "        return json.loads(raw) if raw is not None else None",
            "",
            "    def set(self, key: str, value: Any, ttl: int = TTL_SECONDS) -> None:",
            "        self.client.set(",
            '            f"{self.prefix}:{key}", json.dumps(value, default=str), ex=ttl',
            "        )",
            "",
            "    def forget(self, key: str) -> None:",
            '        self.client.delete(f"{self.prefix}:{key}")',
        ]
    )
    fill(
        mod,
        target_lines(rng, 80, 220),
        lambda: body.function(mod, rng, domain.entities[:1], ctx.typeref(mod, "absolute")),
    )
    return mod


def validators_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"input validation for {domain.human}", domain.name)
    rng = mod.rng
    mod.imports.module("re")
    mod.imports.name("typing", "Any")
    mod.preamble.append(r'CODE_RE = re.compile(r"^[A-Z][A-Z0-9_-]{2,31}$")')
    for entity in domain.entities:
        lines = [
            f"def validate_{entity.var}(data: dict[str, Any]) -> list[str]:",
            f'    """Problems with a {entity.human} payload, empty when it is valid."""',
            "    problems: list[str] = []",
        ]
        for column in payload_columns(entity)[:4]:
            if column.kind == "str":
                lines += [
                    f'    {column.name} = str(data.get("{column.name}") or "").strip()',
                    f"    if not {column.name}:",
                    f'        problems.append("{column.name} is required")',
                    f"    elif len({column.name}) > 120:",
                    f'        problems.append("{column.name} is too long")',
                ]
            elif column.kind in ("int", "decimal"):
                lines += [
                    f'    if data.get("{column.name}") is not None and data["{column.name}"] < 0:',
                    f'        problems.append("{column.name} must not be negative")',
                ]
        lines += [
            '    status = data.get("status")',
            f"    if status is not None and status not in {tuple(entity.statuses)!r}:",
            '        problems.append(f"unknown status {status!r}")',
            "    return problems",
        ]
        mod.add(lines)
    fill(
        mod,
        target_lines(rng, 120, 360),
        lambda: body.function(mod, rng, domain.entities[:2], ctx.typeref(mod, "relative")),
    )
    return mod


# ============================================================================ tests


def factories_file(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"test factories for {domain.human}", domain.name)
    mod.imports.name("typing", "Any")
    mod.imports.name("sqlalchemy.orm", "Session")
    mod.imports.module("itertools")
    mod.preamble.append("_sequence = itertools.count(1)")
    for entity in domain.entities:
        model = ctx.model_ref(mod, entity, "absolute")
        data = [f'        "status": "{entity.statuses[0]}",']
        for column in payload_columns(entity):
            value = TYPES[column.kind][3].format(name=entity.var)
            if column.kind == "str":
                value = f'f"{entity.var}-{{n}}"'
            type_imports(mod, TYPES[column.kind][0])
            data.append(f'        "{column.name}": {value},')
        if entity.fk and entity.parent is not None:
            data += [
                f'        "{entity.fk}": overrides.pop("{entity.fk}", None)',
                f"        or make_{entity.parent.var}(session).id,",
            ]
        mod.add(
            [
                f"def make_{entity.var}(session: Session, **overrides: Any) -> {model}:",
                "    n = next(_sequence)",
                "    data: dict[str, Any] = {",
                *data,
                "    }",
                "    data.update(overrides)",
                f"    {entity.var} = {model}(**data)",
                f"    session.add({entity.var})",
                "    session.flush()",
                f"    return {entity.var}",
            ]
        )
    return mod


def test_service_file(ctx: Ctx, path: str, domain: Domain, entity: Entity) -> Module:
    mod = new_module(path, ctx.plan.seed, f"tests of {entity.name}Service", domain.name)
    rng = mod.rng
    v = entity.var
    service = f"{entity.name}Service"
    mod.imports.module("pytest")
    mod.imports.name("sqlalchemy.orm", "Session")
    mod.imports.name(f"{domain.pkg}.services.{entity.stem}", service)
    mod.imports.name(f"{domain.pkg}.schemas", f"{entity.name}Create", f"{entity.name}Update")
    mod.imports.name(f"{PACKAGE}.core.exceptions", "ConflictError", "NotFoundError")
    factory = f"make_{v}"
    mod.imports.name(f"tests.{domain.name}.factories", factory)
    mod.add(
        [
            "@pytest.fixture",
            f"def service(session: Session) -> {service}:",
            f"    return {service}(session)",
        ]
    )
    cols = payload_columns(entity)
    payload = []
    for column in cols:
        type_imports(mod, TYPES[column.kind][0])
        payload.append(f"{column.name}={sample(column, entity)}")
    if entity.fk and entity.parent is not None:
        mod.imports.name(f"tests.{domain.name}.factories", f"make_{entity.parent.var}")
        payload.append(f"{entity.fk}=make_{entity.parent.var}(session).id")
    mod.add(
        [
            f"def test_create_sets_initial_status(service: {service}, session: Session) -> None:",
            f"    {v} = service.create({entity.name}Create({', '.join(payload)}))",
            f"    assert {v}.id is not None",
            f'    assert {v}.status == "{entity.statuses[0]}"',
        ]
    )
    mod.add(
        [
            f"def test_get_or_raise_unknown_id(service: {service}) -> None:",
            "    with pytest.raises(NotFoundError):",
            f"        service.get_or_raise({rng.randint(10_000, 99_999)})",
        ]
    )
    pairs = [(entity.statuses[i], entity.statuses[i + 1]) for i in range(len(entity.statuses) - 1)]
    mod.add(
        [
            '@pytest.mark.parametrize(("start", "target"), [',
            *[f'    ("{a}", "{b}"),' for a, b in pairs],
            "])",
            "def test_transition_allowed(",
            f"    service: {service}, session: Session, start: str, target: str",
            ") -> None:",
            f"    {v} = {factory}(session, status=start)",
            f"    assert service.transition({v}, target).status == target",
        ]
    )
    mod.add(
        [
            f"def test_transition_rejected(service: {service}, session: Session) -> None:",
            f'    {v} = {factory}(session, status="{entity.statuses[-1]}")',
            "    with pytest.raises(ConflictError):",
            f'        service.transition({v}, "{entity.statuses[0]}")',
        ]
    )
    if cols:
        col = cols[0]
        mod.add(
            [
                "def test_update_changes_only_given_fields(",
                f"    service: {service}, session: Session",
                ") -> None:",
                f"    {v} = {factory}(session)",
                f"    before = {v}.status",
                f"    changes = {entity.name}Update({col.name}={sample(col, entity)})",
                f"    service.update({v}.id, changes)",
                f"    assert {v}.{col.name} == {sample(col, entity)}",
                f"    assert {v}.status == before",
            ]
        )
    if entity.has_timestamps and rng.random() < 0.12:
        mod.add(
            [
                f"def test_rows_are_stamped(service: {service}, session: Session) -> None:",
                f"    {v} = {factory}(session)",
                f"    session.refresh({v})",
                f"    assert {v}.created_at is not None",
                f"    assert {v}.updated_at >= {v}.created_at",
            ]
        )
    if entity.has_timestamps and rng.random() < 0.06:
        # The factory is a plain function: passing another row's time to it is no finding.
        mod.add(
            [
                "def test_search_order_is_stable_for_equal_times(",
                f"    service: {service}, session: Session",
                ") -> None:",
                f"    first = {factory}(session)",
                f"    second = {factory}(session, created_at=first.created_at)",
                "    ids = [row.id for row in service.search(limit=10)]",
                "    assert ids.index(first.id) < ids.index(second.id)",
            ]
        )
    fill(
        mod, target_lines(rng, 200, 700), lambda: test_function(mod, rng, entity, factory, service)
    )
    return mod


def test_function(
    mod: Module, rng: random.Random, entity: Entity, factory: str, service: str
) -> list[str]:
    v = entity.var
    verb = rng.choice(vocab.VERBS)
    topic = rng.choice(vocab.TOPICS)
    name = mod.unique(f"test_{verb}_{topic}")
    cols = payload_columns(entity) or entity.columns[:1]
    col = rng.choice(cols)
    kind = rng.random()
    if kind < 0.3:
        values = [
            sample(col, entity),
            {
                "int": "0",
                "decimal": 'Decimal("0")',
                "bool": "False",
                "str": '"x"',
                "currency": '"USD"',
            }.get(col.kind, "None"),
        ]
        type_imports(mod, TYPES[col.kind][0])
        return [
            f'@pytest.mark.parametrize("value", [{", ".join(values)}])',
            f"def {name}(session: Session, value: object) -> None:",
            f"    {v} = {factory}(session, {col.name}=value)",
            f"    assert {v}.{col.name} == value",
        ]
    if kind < 0.55:
        count = rng.randint(2, 6)
        return [
            f"def {name}(service: {service}, session: Session) -> None:",
            f"    created = [{factory}(session) for _ in range({count})]",
            "    found = service.search(limit=100)",
            "    assert {row.id for row in created} <= {row.id for row in found}",
            f"    assert len(found) >= {count}",
        ]
    if kind < 0.75:
        status = rng.choice(entity.statuses)
        return [
            f"def {name}(service: {service}, session: Session) -> None:",
            f'    {factory}(session, status="{status}")',
            f'    rows = service.search(status="{status}")',
            f'    assert all(row.status == "{status}" for row in rows)',
        ]
    return [
        f"def {name}(session: Session) -> None:",
        f"    {v} = {factory}(session)",
        f"    {v}_id = {v}.id",
        "    session.expire_all()",
        f"    assert session.get(type({v}), {v}_id) is not None",
    ]


def test_api_file(ctx: Ctx, path: str, domain: Domain, entity: Entity) -> Module:
    mod = new_module(path, ctx.plan.seed, f"API tests for {plural(entity.human)}", domain.name)
    rng = mod.rng
    v = entity.var
    url = f"/{domain.name.replace('_', '-')}/{entity.table.replace('_', '-')}"
    mod.imports.name("fastapi.testclient", "TestClient")
    mod.imports.name("sqlalchemy.orm", "Session")
    factory = f"make_{v}"
    mod.imports.name(f"tests.{domain.name}.factories", factory)
    mod.add(
        [
            "def test_list_returns_a_page(client: TestClient) -> None:",
            f'    response = client.get("{url}")',
            "    assert response.status_code == 200",
            '    assert "items" in response.json()',
        ]
    )
    mod.add(
        [
            f"def test_get_unknown_{v}_is_404(client: TestClient) -> None:",
            f'    response = client.get("{url}/{rng.randint(10_000, 99_999)}")',
            "    assert response.status_code == 404",
        ]
    )
    mod.add(
        [
            f"def test_get_{v}(client: TestClient, session: Session) -> None:",
            f"    {v} = {factory}(session)",
            f'    response = client.get(f"{url}/{{{v}.id}}")',
            "    assert response.status_code == 200",
            "    body = response.json()",
            f'    assert body["id"] == {v}.id',
            f'    assert body["status"] == "{entity.statuses[0]}"',
            *(
                [f'    assert body["created_at"] == {v}.created_at.isoformat()']
                if entity.exposes_timestamps and rng.random() < 0.15
                else []
            ),
        ]
    )
    for status in entity.statuses[1:]:
        if rng.random() < 0.5:
            continue
        mod.add(
            [
                f"def test_{status}_{v}(client: TestClient, session: Session) -> None:",
                f"    {v} = {factory}(session)",
                f'    response = client.post(f"{url}/{{{v}.id}}/{status.replace("_", "-")}")',
                "    assert response.status_code in (200, 409)",
            ]
        )
    i = 0

    def more() -> list[str]:
        nonlocal i
        i += 1
        limit = rng.choice((1, 5, 10, 50))
        return [
            f"def test_list_limit_{limit}_{i}(client: TestClient, session: Session) -> None:",
            f"    for _ in range({rng.randint(1, 4)}):",
            f"        {factory}(session)",
            f'    response = client.get("{url}", params={{"limit": {limit}}})',
            "    assert response.status_code == 200",
            f'    assert len(response.json()["items"]) <= {limit}',
        ]

    fill(mod, target_lines(rng, 140, 460), more)
    return mod


def test_generic_file(ctx: Ctx, path: str, domain: Domain, target: str) -> Module:
    mod = new_module(path, ctx.plan.seed, f"tests of {target}", domain.name)
    rng = mod.rng
    mod.imports.module("pytest")
    i = 0

    def case() -> list[str]:
        nonlocal i
        i += 1
        a, b = rng.randint(0, 50), rng.randint(51, 500)
        word = rng.choice(vocab.TOPICS)
        return [
            f'@pytest.mark.parametrize(("low", "high"), [({a}, {b}), ({b}, {b}), (0, {a + 1})])',
            f"def test_{word}_bounds_{i}(low: int, high: int) -> None:",
            "    assert low <= high",
            f'    assert "{word}"[: high - low] or high == low',
        ]

    fill(mod, target_lines(rng, 120, 380), case)
    return mod


# ============================================================================ alembic


def alembic_env(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "alembic environment")
    mod.imports.name("alembic", "context")
    mod.imports.name("sqlalchemy", "engine_from_config", "pool")
    mod.imports.name(f"{PACKAGE}.core.db", "Base")
    mod.imports.name(f"{PACKAGE}.core.legacy_db", "legacy_metadata")
    mod.imports.module(f"{PACKAGE}.models")
    mod.preamble += [
        "config = context.config",
        "target_metadata = [Base.metadata, legacy_metadata]",
    ]
    mod.add(
        [
            "def run_migrations_offline() -> None:",
            "    context.configure(",
            '        url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata',
            "    )",
            "    with context.begin_transaction():",
            "        context.run_migrations()",
        ]
    )
    mod.add(
        [
            "def run_migrations_online() -> None:",
            "    connectable = engine_from_config(",
            "        config.get_section(config.config_ini_section, {}),",
            '        prefix="sqlalchemy.",',
            "        poolclass=pool.NullPool,",
            "    )",
            "    with connectable.connect() as connection:",
            "        context.configure(connection=connection, target_metadata=target_metadata)",
            "        with context.begin_transaction():",
            "            context.run_migrations()",
        ]
    )
    mod.add(
        [
            "if context.is_offline_mode():",
            "    run_migrations_offline()",
            "else:",
            "    run_migrations_online()",
        ]
    )
    return mod


def revision_id(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(12))


def migration_file(
    ctx: Ctx, path: str, entity: Entity, kind: str, rev: str, down: str | None, when: str
) -> Module:
    rng = random.Random(f"file:{ctx.plan.seed}:{path}")
    mod = Module(path, rng)
    title = {
        "create": f"create {entity.table}",
        "column": f"add column to {entity.table}",
        "index": f"index {entity.table} by status",
        "data": f"archive closed {entity.table}",
        "orm": f"copy {entity.table} into the new schema",
    }[kind]
    mod.doc = [
        f'"""{title}',
        "",
        f"Revision ID: {rev}",
        f"Revises: {down or ''}",
        f"Create Date: {when}",
        "",
        '"""',
    ]
    mod.imports.module("sqlalchemy", "sa")
    mod.imports.name("alembic", "op")
    mod.preamble += [
        f'revision = "{rev}"',
        "down_revision = " + (f'"{down}"' if down else "None"),
        "branch_labels = None",
        "depends_on = None",
    ]
    t = entity.table
    if kind == "create":
        cols = ['        sa.Column("id", sa.Integer(), primary_key=True),']
        if entity.fk and entity.parent is not None:
            cols += [
                "        sa.Column(",
                f'            "{entity.fk}",',
                "            sa.Integer(),",
                f'            sa.ForeignKey("{entity.parent.table}.id"),',
                "            nullable=False,",
                "        ),",
            ]
        cols.append('        sa.Column("status", sa.String(length=32), nullable=False),')
        for column in entity.columns:
            sa_type = TYPES[column.kind][1].replace("String(120)", "String(length=120)")
            sa_type = sa_type if "(" in sa_type else f"{sa_type}()"
            cols.append(f'        sa.Column("{column.name}", sa.{sa_type}, nullable=True),')
        if entity.has_timestamps:
            cols += [
                *[
                    line
                    for name in ("created_at", "updated_at")
                    for line in (
                        "        sa.Column(",
                        f'            "{name}",',
                        "            sa.DateTime(timezone=True),",
                        '            server_default=sa.text("now()"),',
                        "            nullable=False,",
                        "        ),",
                    )
                ],
            ]
        up = ["    op.create_table(", f'        "{t}",', *cols, "    )"]
        up.append(f'    op.create_index("ix_{t}_status", "{t}", ["status"])')
        down_lines = [
            f'    op.drop_index("ix_{t}_status", table_name="{t}")',
            f'    op.drop_table("{t}")',
        ]
    elif kind == "column":
        name = rng.choice(
            ("external_ref", "priority_hint", "source_system", "risk_level", "locale_hint")
        )
        up = [f'    op.add_column("{t}", sa.Column("{name}", sa.String(length=64), nullable=True))']
        if rng.random() < 0.5:
            up.append(f"    op.execute(\"UPDATE {t} SET {name} = 'unknown' WHERE {name} IS NULL\")")
        down_lines = [f'    op.drop_column("{t}", "{name}")']
    elif kind == "index":
        up = [f'    op.create_index("ix_{t}_status_id", "{t}", ["status", "id"], unique=False)']
        down_lines = [f'    op.drop_index("ix_{t}_status_id", table_name="{t}")']
    elif kind == "data":
        names = ["id", "status"] + (["created_at", "updated_at"] if entity.has_timestamps else [])
        values = [f"{n}=row.{n}" for n in names]

        def table(name: str) -> list[str]:
            return [f'        "{name}",', *(f'        sa.column("{n}"),' for n in names)]

        up = [
            "    source = sa.table(",
            *table(t),
            "    )",
            "    archive = sa.table(",
            *table(f"{t}_archive"),
            "    )",
            "    connection = op.get_bind()",
            f'    closed = sa.select(source).where(source.c.status == "{entity.statuses[-1]}")',
            "    rows = connection.execute(closed).all()",
            "    for row in rows:",
            "        connection.execute(",
            "            sa.insert(archive).values(",
            *(f"                {v}," for v in values),
            "            )",
            "        )",
            "    ids = [row.id for row in rows]",
            "    connection.execute(sa.delete(source).where(source.c.id.in_(ids)))",
        ]
        down_lines = ["    pass  # archived rows stay archived"]
    else:  # orm: a data migration through the models (copies are intended here)
        domain = ctx.plan.domains[ctx.domain_index(entity)]
        mod.imports.name(f"{domain.pkg}.models", entity.name)
        mod.imports.name("sqlalchemy.orm", "Session")
        label = entity.label
        up = [
            "    session = Session(bind=op.get_bind())",
            "    legacy = sa.table(",
            f'        "legacy_{t}",',
            f'        sa.column("{label}"),',
            '        sa.column("created_at"),',
            '        sa.column("updated_at"),',
            "    )",
            "    for row in session.execute(sa.select(legacy)):",
            "        session.add(",
            f"            {entity.name}(",
            f"                {label}=row.{label},",
            f'                status="{entity.statuses[0]}",',
            "                created_at=row.created_at,",
            "                updated_at=row.updated_at,",
            "            )",
            "        )",
            "    session.flush()",
        ]
        down_lines = [f'    op.execute("DELETE FROM {t}")']
    mod.add(["def upgrade() -> None:", *up])
    mod.add(["def downgrade() -> None:", *down_lines])
    return mod


# ============================================================================ scripts


def script_main(mod: Module, description: str, call: str) -> list[str]:
    mod.imports.module("argparse")
    mod.imports.module("sys")
    return [
        "def main(argv: list[str] | None = None) -> int:",
        f'    parser = argparse.ArgumentParser(description="{description}")',
        '    parser.add_argument("--dry-run", action="store_true")',
        '    parser.add_argument("--limit", type=int, default=1000)',
        "    args = parser.parse_args(argv)",
        f"    count = {call}",
        '    print(f"done: {count} rows", file=sys.stderr)',
        "    return 0",
    ]


def backfill_script(ctx: Ctx, path: str, entity: Entity) -> Module:
    """Allowlisted (`**/*backfill*`): re-creating rows with their original times is the point."""
    mod = new_module(
        path,
        ctx.plan.seed,
        f"backfill {plural(entity.human)} from the archive (one-off)",
        entity.domain,
    )
    rng = mod.rng
    model = ctx.model_ref(mod, entity, rng.choice(("absolute", "registry", "direct")))
    mod.imports.name(f"{PACKAGE}.core.db", "session_scope")
    mod.imports.name("sqlalchemy.orm", "Session")
    mod.imports.name("collections.abc", "Iterable")
    mod.imports.name("typing", "Any")
    label = entity.label
    mod.add(
        [
            "def restore(session: Session, archived: Iterable[Any], dry_run: bool = False) -> int:",
            '    """Insert archived rows again, keeping their original timestamps."""',
            "    count = 0",
            "    for row in archived:",
            f"        {entity.var} = {model}(",
            f"            {label}=row.{label},",
            "            status=row.status,",
            "            created_at=row.created_at,",
            "            updated_at=row.updated_at,",
            "        )",
            "        if not dry_run:",
            f"            session.add({entity.var})",
            "        count += 1",
            "    return count",
        ]
    )
    if rng.random() < 0.5:
        mod.imports.name("datetime", "datetime")
        mod.add(
            [
                f"def from_csv_row(row: dict[str, str]) -> {model}:",
                f"    return {model}(",
                f'        {label}=row["{label}"],',
                '        status=row["status"],',
                '        created_at=datetime.fromisoformat(row["created_at"]),',
                "    )",
            ]
        )
    mod.add(
        [
            "def run(dry_run: bool, limit: int) -> int:",
            "    with session_scope() as session:",
            f'        query = sa_text("SELECT * FROM archive.{entity.table} LIMIT :n")',
            '        archived = session.execute(query, {"n": limit})',
            "        return restore(session, archived, dry_run=dry_run)",
        ]
    )
    mod.imports.name("sqlalchemy", "text as sa_text")
    mod.add(script_main(mod, f"Backfill {entity.table}", "run(args.dry_run, args.limit)"))
    mod.add(['if __name__ == "__main__":', "    raise SystemExit(main())"])
    return mod


def plain_script(ctx: Ctx, path: str, entity: Entity, kind: str) -> Module:
    mod = new_module(path, ctx.plan.seed, f"{kind} {plural(entity.human)}", entity.domain)
    rng = mod.rng
    model = ctx.model_ref(mod, entity, "absolute")
    mod.imports.name(f"{PACKAGE}.core.db", "session_scope")
    mod.imports.name("sqlalchemy", "select")
    logger = mod.logger()
    if kind == "export":
        mod.imports.module("csv")
        mod.imports.name("pathlib", "Path")
        cols = [c.name for c in entity.columns[:4]]
        header = ["id", "status", *cols] + (["created_at"] if entity.has_timestamps else [])
        row = [f"row.{c}" for c in ["id", "status", *cols]]
        if entity.has_timestamps:
            row.append("row.created_at.isoformat()")
        mod.add(
            [
                "def export(path: Path, limit: int) -> int:",
                "    count = 0",
                '    with path.open("w", newline="") as handle, session_scope() as session:',
                "        writer = csv.writer(handle)",
                f"        writer.writerow({header!r})",
                f"        query = select({model}).order_by({model}.id).limit(limit)",
                "        for row in session.scalars(query):",
                f"            writer.writerow([{', '.join(row)}])",
                "            count += 1",
                "    return count",
            ]
        )
        call = f'export(Path("{entity.table}.csv"), args.limit)'
    elif kind == "cleanup" and entity.has_timestamps:
        mod.imports.name("datetime", "timedelta")
        mod.imports.name(f"{PACKAGE}.core.clock", "utcnow")
        mod.imports.name("sqlalchemy", "delete")
        mod.add(
            [
                "def cleanup(dry_run: bool, days: int = 180) -> int:",
                "    cutoff = utcnow() - timedelta(days=days)",
                "    with session_scope() as session:",
                f"        stmt = select({model}.id).where(",
                f'            {model}.status == "{entity.statuses[-1]}",',
                f"            {model}.updated_at < cutoff,",
                "        )",
                "        ids = list(session.scalars(stmt))",
                f'        {logger}.info("%d rows to delete", len(ids))',
                "        if not dry_run and ids:",
                f"            session.execute(delete({model}).where({model}.id.in_(ids)))",
                "    return len(ids)",
            ]
        )
        call = "cleanup(args.dry_run)"
    else:
        mod.add(
            [
                "def check(limit: int) -> int:",
                "    problems = 0",
                "    with session_scope() as session:",
                f"        for row in session.scalars(select({model}).limit(limit)):",
                f"            if row.status not in {tuple(entity.statuses)!r}:",
                f"                {logger}.warning(",
                '                    "row %s has unknown status %r", row.id, row.status',
                "                )",
                "                problems += 1",
                "    return problems",
            ]
        )
        call = "check(args.limit)"
    fill(
        mod,
        target_lines(rng, 100, 360),
        lambda: body.function(mod, rng, [entity], ctx.typeref(mod, "absolute")),
    )
    mod.add(script_main(mod, f"{kind.capitalize()} {entity.table}", call))
    mod.add(['if __name__ == "__main__":', "    raise SystemExit(main())"])
    return mod


# ============================================================================ app wiring


def domain_init(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"the {domain.human} domain", domain.name)
    mod.imports = type(mod.imports)()
    if mod.rng.random() < 0.6:
        mod.doc = []
    return mod


def api_init(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"routers of {domain.human}", domain.name)
    mod.imports.name("fastapi", "APIRouter")
    lines = ["router = APIRouter()"]
    for entity in domain.entities:
        mod.imports.name(f".{entity.stem}", f"router as {entity.stem}_router")
        lines.append(f"router.include_router({entity.stem}_router)")
    mod.add(lines)
    return mod


def package_init(ctx: Ctx, path: str, domain: Domain | None = None) -> Module:
    rng = random.Random(f"file:{ctx.plan.seed}:{path}")
    return Module(path, rng)


def app_file(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "the FastAPI application")
    mod.imports.name("fastapi", "FastAPI", "Request")
    mod.imports.name("fastapi.responses", "JSONResponse")
    mod.imports.name(f"{PACKAGE}.core.exceptions", "AtlasError")
    lines = ["def create_app() -> FastAPI:", '    app = FastAPI(title="Atlas")']
    for domain in ctx.plan.domains:
        mod.imports.name(f"{domain.pkg}.api", f"router as {domain.name}_router")
        lines.append(f"    app.include_router({domain.name}_router)")
    lines += [
        "",
        "    @app.exception_handler(AtlasError)",
        "    async def atlas_error(request: Request, exc: AtlasError) -> JSONResponse:",
        "        return JSONResponse(",
        "            status_code=exc.status_code,",
        '            content={"code": exc.code, "message": exc.message},',
        "        )",
        "",
        "    return app",
    ]
    mod.add(lines)
    mod.add(["app = create_app()"])
    return mod


def celery_file(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "the Celery application")
    mod.imports.name("celery", "Celery")
    mod.imports.name(f"{PACKAGE}.core.config", "settings")
    mod.add(
        [
            'celery_app = Celery("atlas", broker=settings.broker_url)',
            "celery_app.autodiscover_tasks([",
        ]
        + [f'    "{d.pkg}",' for d in ctx.plan.domains if d.has("tasks")]
        + ["])"]
    )
    return mod


def root_conftest(ctx: Ctx, path: str) -> Module:
    mod = new_module(path, ctx.plan.seed, "fixtures shared by every test")
    mod.imports.module("pytest")
    mod.imports.name("collections.abc", "Iterator")
    mod.imports.name("fastapi.testclient", "TestClient")
    mod.imports.name("sqlalchemy", "create_engine")
    mod.imports.name("sqlalchemy.orm", "Session")
    mod.imports.name(f"{PACKAGE}.api.app", "create_app")
    mod.imports.name(f"{PACKAGE}.core.db", "Base", "get_session")
    mod.add(
        [
            '@pytest.fixture(scope="session")',
            "def engine():",
            '    engine = create_engine("sqlite+pysqlite:///:memory:")',
            "    Base.metadata.create_all(engine)",
            "    return engine",
        ]
    )
    mod.add(
        [
            "@pytest.fixture",
            "def session(engine) -> Iterator[Session]:",
            "    connection = engine.connect()",
            "    transaction = connection.begin()",
            "    session = Session(bind=connection)",
            "    yield session",
            "    session.close()",
            "    transaction.rollback()",
            "    connection.close()",
        ]
    )
    mod.add(
        [
            "@pytest.fixture",
            "def client(session: Session) -> TestClient:",
            "    app = create_app()",
            "    app.dependency_overrides[get_session] = lambda: session",
            "    return TestClient(app)",
        ]
    )
    return mod


def lib_file(ctx: Ctx, path: str, topic: str) -> Module:
    return core_generic(ctx, path, f"helpers for {human(topic)}")


# ============================================================================ layout


@dataclass(frozen=True)
class FileSpec:
    path: str
    kind: str
    build: Callable[[], Module]


def domain_conftest(ctx: Ctx, path: str, domain: Domain) -> Module:
    mod = new_module(path, ctx.plan.seed, f"fixtures for the {domain.human} tests", domain.name)
    mod.imports.module("pytest")
    mod.imports.name("sqlalchemy.orm", "Session")
    for entity in domain.entities[:3]:
        model = ctx.model_ref(mod, entity, "absolute")
        mod.imports.name(f"tests.{domain.name}.factories", f"make_{entity.var}")
        mod.add(
            [
                "@pytest.fixture",
                f"def {entity.var}(session: Session) -> {model}:",
                f"    return make_{entity.var}(session)",
            ]
        )
    return mod


def layout(plan: Plan) -> Iterator[FileSpec]:
    """Every file of the project, in a stable order."""
    ctx = Ctx(plan)
    bugs = {(b.domain, b.entity): b for b in plan.bugs}

    def spec(path: str, kind: str, fn: Callable[..., Module], *args: object) -> FileSpec:
        return FileSpec(path, kind, lambda: fn(ctx, path, *args))

    p = PACKAGE
    yield spec(f"{p}/__init__.py", "init", package_init)
    yield spec(f"{p}/core/__init__.py", "init", package_init)
    yield spec(f"{p}/core/db.py", "core", core_db)
    yield spec(f"{p}/core/legacy_db.py", "core", core_legacy_db)
    yield spec(f"{p}/core/mixins.py", "core", core_mixins)
    yield spec(f"{p}/core/clock.py", "core", core_clock)
    yield spec(f"{p}/core/audit.py", "core", core_audit)
    yield spec(f"{p}/core/config.py", "core", core_config)
    yield spec(f"{p}/core/exceptions.py", "core", core_exceptions)
    yield spec(f"{p}/core/pagination.py", "core", core_pagination)
    for name in ("security", "log_setup", "tracing", "feature_flags", "cache"):
        yield spec(f"{p}/core/{name}.py", "core", core_generic, human(name))
    yield spec(f"{p}/models/__init__.py", "models", registry_init)
    yield spec(f"{p}/api/__init__.py", "init", package_init)
    yield spec(f"{p}/api/app.py", "api", app_file)
    yield spec(f"{p}/api/deps.py", "api", core_generic, "request dependencies")
    yield spec(f"{p}/api/middleware.py", "api", core_generic, "HTTP middleware")
    yield spec(f"{p}/workers/__init__.py", "init", package_init)
    yield spec(f"{p}/workers/celery_app.py", "tasks", celery_file)
    yield spec(f"{p}/lib/__init__.py", "init", package_init)
    groups: set[str] = set()
    for name in plan.lib_modules:
        group, _, _ = name.rpartition("/")
        if group and group not in groups:
            groups.add(group)
            yield spec(f"{p}/lib/{group}/__init__.py", "init", package_init)
        yield spec(f"{p}/lib/{name}.py", "lib", lib_file, name.rpartition("/")[2])
    yield spec("tests/__init__.py", "init", package_init)
    yield spec("tests/conftest.py", "test", root_conftest)

    for domain in plan.domains:
        ctx_domain = Ctx(plan, domain)

        def dspec(
            path: str, kind: str, fn: Callable[..., Module], *args: object, ctx: Ctx = ctx_domain
        ) -> FileSpec:
            return FileSpec(path, kind, lambda: fn(ctx, path, *args))

        d, es = domain.path, domain.entities
        yield dspec(f"{d}/__init__.py", "init", domain_init, domain)
        if domain.models_package:
            yield dspec(f"{d}/models/__init__.py", "models", models_init, domain)
            for e in es:
                yield dspec(f"{d}/models/{e.stem}.py", "models", models_file, domain, [e])
        else:
            yield dspec(f"{d}/models.py", "models", models_file, domain, es)
        yield dspec(f"{d}/schemas/__init__.py", "schemas", schemas_init, domain)
        for e in es:
            yield dspec(f"{d}/schemas/{e.stem}.py", "schemas", schema_file, domain, e)
        yield dspec(f"{d}/services/__init__.py", "init", package_init)
        for n, e in enumerate(es):
            bug = bugs.get((domain.index, n))
            yield dspec(f"{d}/services/{e.stem}.py", "services", service_file, domain, e, bug)
        yield dspec(f"{d}/repositories/__init__.py", "init", package_init)
        for e in es:
            yield dspec(f"{d}/repositories/{e.stem}.py", "repositories", repository_file, domain, e)
        yield dspec(f"{d}/api/__init__.py", "api", api_init, domain)
        for e in es:
            yield dspec(f"{d}/api/{e.stem}.py", "api", api_file, domain, e)
        optional: dict[str, tuple[Callable[..., Module], tuple[object, ...]]] = {
            "dto": (dto_file, (domain,)),
            "serializers": (serializers_file, (domain,)),
            "tasks": (tasks_file, (domain,)),
            "events": (events_file, (domain,)),
            "exceptions": (exceptions_file, (domain,)),
            "constants": (constants_file, (domain,)),
            "permissions": (permissions_file, (domain,)),
            "validators": (validators_file, (domain,)),
            "admin": (admin_file, (domain,)),
            "listeners": (listeners_file, (domain,)),
            "queries": (queries_file, (domain,)),
            "cache": (cache_file, (domain,)),
        }
        for part, (fn, args) in optional.items():
            if domain.has(part):
                yield dspec(f"{d}/{part}.py", part, fn, *args)
        yield dspec(f"{d}/utils/__init__.py", "init", package_init)
        for topic in domain.utils:
            yield dspec(
                f"{d}/utils/{topic}.py",
                "utils",
                generic_file,
                domain,
                f"{human(topic)} helpers",
                120,
                620,
            )
        if domain.clients:
            yield dspec(f"{d}/clients/__init__.py", "init", package_init)
            for client in domain.clients:
                yield dspec(f"{d}/clients/{client}.py", "clients", client_file, domain, client)
        t = f"tests/{domain.name}"
        yield dspec(f"{t}/__init__.py", "init", package_init)
        yield dspec(f"{t}/conftest.py", "test", domain_conftest, domain)
        yield dspec(f"{t}/factories.py", "test", factories_file, domain)
        for e in es:
            yield dspec(f"{t}/test_{e.stem}_service.py", "test", test_service_file, domain, e)
            yield dspec(f"{t}/test_{e.stem}_api.py", "test", test_api_file, domain, e)
        if domain.has("validators"):
            yield dspec(f"{t}/test_validators.py", "test", test_generic_file, domain, "validators")
        for topic in domain.utils:
            yield dspec(
                f"{t}/test_{topic}.py", "test", test_generic_file, domain, f"{topic} helpers"
            )

    # alembic: one linear history
    rng = random.Random(f"migrations:{plan.seed}")
    entities = plan.entities
    stamped = [e for e in entities if e.has_timestamps]
    yield spec("alembic/env.py", "migrations", alembic_env)
    down: str | None = None
    day = 0
    for n in range(plan.migrations):
        kind = rng.choices(("create", "column", "index", "data", "orm"), (35, 32, 23, 6, 4))[0]
        entity = rng.choice(stamped if kind in ("data", "orm") else entities)
        rev = revision_id(rng)
        day += rng.randint(1, 9)
        year, rest = 2019 + day // 365, day % 365
        clock = (rng.randint(8, 19), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999999))
        when = (
            f"{year}-{rest // 31 + 1:02d}-{rest % 28 + 1:02d} "
            + "{:02d}:{:02d}:{:02d}.{:06d}".format(*clock)
        )
        slug = {
            "create": "create",
            "column": "add_column",
            "index": "index",
            "data": "archive",
            "orm": "copy",
        }[kind]
        path = f"alembic/versions/{n + 1:04d}_{rev}_{slug}_{entity.table}.py"
        yield FileSpec(
            path,
            "migrations",
            lambda path=path, entity=entity, kind=kind, rev=rev, down=down, when=when: (
                migration_file(ctx, path, entity, kind, rev, down, when)
            ),
        )
        down = rev

    # scripts: a third are backfills (allowlisted), the rest ordinary ops scripts
    rng = random.Random(f"scripts:{plan.seed}")
    seen: set[str] = set()
    for n in range(plan.scripts):
        entity = rng.choice(stamped if n % 4 == 0 else entities)
        if n % 4 == 0:
            path = f"scripts/backfill_{entity.table}.py"
            if path in seen:
                path = f"scripts/backfill_{entity.table}_{n}.py"
            seen.add(path)
            yield FileSpec(
                path, "scripts", lambda path=path, entity=entity: backfill_script(ctx, path, entity)
            )
        else:
            kind = rng.choice(("export", "cleanup", "check"))
            folder = "scripts/ops" if rng.random() < 0.4 else "scripts"
            path = f"{folder}/{kind}_{entity.table}.py"
            if path in seen:
                path = f"{folder}/{kind}_{entity.table}_{n}.py"
            seen.add(path)
            yield FileSpec(
                path,
                "scripts",
                lambda path=path, entity=entity, kind=kind: plain_script(ctx, path, entity, kind),
            )
