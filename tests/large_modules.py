"""Generators of large modules, for the reliability tests and for measuring by hand:

    python -m tests.large_modules OUT_DIR [--megabytes 20] [--functions 34673]

writes a small project into OUT_DIR (`app/models.py`, `pyproject.toml`) with two stress
modules: `app/big.py`, a module of ordinary code (classes, methods, services, constants,
long literals) of about `--megabytes` MB with a few timestamp copies among it, and
`app/dense.py`, `--functions` small functions that each copy a timestamp (about 2 MB for
34,673). Both are deterministic. Never commit their output."""

from __future__ import annotations

import argparse
from pathlib import Path

MODELS = """\
from sqlalchemy import Column, DateTime, Integer, String, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime, server_default=func.now(), onupdate=func.now())
"""

PYPROJECT = '[project]\nname = "app"\nversion = "0"\n\n[tool.timestamp-lint]\n'

HEADER = """\
\"\"\"A generated module of ordinary code.\"\"\"

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import Column, DateTime, Integer, String

from app.models import Base, Flow

log = logging.getLogger(__name__)


"""

# One block of ordinary code; {n} makes each copy's names unique. Module-level code
# (classes, constants) comes in `CLASSES`, once every `CLASS_EVERY` blocks: a module of
# thousands of classes is more module-level code than LibCST analyses in one part.
CLASS_EVERY = 40
CLASSES = '''\
LIMIT_{n} = {n}
NAMES_{n} = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


@dataclass
class Record{n}:
    """A plain value object."""

    key: str
    value: int = 0

    def total(self, other: Record{n}) -> int:
        return self.value + other.value

    def describe(self) -> str:
        parts = [self.key, str(self.value)]
        for name in NAMES_{n}:
            if name.startswith(self.key[:1]):
                parts.append(name)
        return ", ".join(parts)


class Table{n}(Base):
    __tablename__ = "table_{n}"
    id = Column(Integer, primary_key=True)
    label = Column(String)


def rename_{n}(flow: Flow, name: str) -> Flow:
    return Flow(name=name, updated_at=None)


'''

BLOCK = """\
def load_{n}(payload: str) -> dict:
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("expected an object")
    result = {{key: value for key, value in data.items() if key in NAMES_{c}}}
    log.debug("loaded %d keys", len(result))
    return result


async def fetch_{n}(client, ident: int) -> Record{c} | None:
    response = await client.get(f"/records/{{ident}}", timeout=LIMIT_{c})
    if response.status != 200:
        return None
    body = response.json()
    return Record{c}(key=body["key"], value=int(body.get("value", 0)))


"""

COPY = """\
def clone_{n}(source: Flow) -> Flow:
    return Flow(name=source.name, created_at=source.created_at)


"""


def big_module(megabytes: float = 20.0, copies: int = 20, class_every: int = CLASS_EVERY) -> str:
    """A module of about `megabytes` MB of ordinary code with `copies` timestamp copies
    (TSL001) spread through it, and classes once every `class_every` blocks."""
    target = int(megabytes * 1_000_000)
    block = len(BLOCK.format(n=0, c=0)) + len(CLASSES.format(n=0)) / class_every
    blocks = max(int(target // block), 1)
    every = max(blocks // max(copies, 1), 1)
    out = [HEADER]
    for n in range(blocks):
        c = n - n % class_every
        if n == c:
            out.append(CLASSES.format(n=c))
        out.append(BLOCK.format(n=n, c=c))
        if copies and n % every == every // 2 and n // every < copies:
            out.append(COPY.format(n=n))
    return "".join(out)


def dense_module(functions: int = 34_673) -> str:
    """`functions` small functions, each copying a timestamp into a new record."""
    out = ["from app.models import Flow\n\n\n"]
    out.extend(
        f"def c{n}(m):\n    return Flow(created_at=m.created_at)\n\n\n" for n in range(functions)
    )
    return "".join(out)


def models_module(classes: int = 200) -> str:
    """A generated models module: `classes` model classes (every third one's `created_at`
    stamps nothing: TSL003), each followed by a function creating a record of a class
    defined far away with a copied timestamp, and methods that copy one too."""
    out = [
        "from sqlalchemy import Column, DateTime, Integer, func\n\n"
        "from app.models import Base\n\n\n"
    ]
    for n in range(classes):
        default = "" if n % 3 == 0 else ", server_default=func.now()"
        other = (n * 7 + 3) % classes
        out.append(
            f"class M{n}(Base):\n"
            f'    __tablename__ = "m{n}"\n'
            "    id = Column(Integer, primary_key=True)\n"
            f"    created_at = Column(DateTime{default})\n\n"
            "    def twin(self):\n"
            f"        return M{n}(created_at=self.created_at)\n\n\n"
            f"def make_{n}(m):\n"
            f"    return M{other}(created_at=m.created_at)\n\n\n"
        )
    out.append("LAST = M0(created_at=M1().created_at)\n")
    return "".join(out)


def write_project(root: Path, files: dict[str, str]) -> Path:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    for name, text in files.items():
        (root / "app" / name).write_text(text)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--functions", type=int, default=34_673)
    args = parser.parse_args()
    write_project(
        args.out,
        {"big.py": big_module(args.megabytes), "dense.py": dense_module(args.functions)},
    )


if __name__ == "__main__":
    main()
