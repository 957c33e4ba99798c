"""Shared value types. Every other module imports these; this one imports nothing of ours."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FIELDS = ("created_at", "updated_at")
DEFAULT_UPDATE_FIELDS = ("updated_at",)
DEFAULT_ALLOW = (
    "**/migrations/**",
    "**/alembic/**",
    "**/*backfill*",
    "**/serializers.py",
    "**/serializers/**",
    "**/tests/**",
    "**/test_*.py",
    "**/*_test.py",
    "**/conftest.py",
    "**/seed*",
    "**/fixtures/**",
)
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".venv",
    "venv",
    ".env",
    ".tox",
    ".nox",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".timestamp_lint_cache",
    ".eggs",
    "*.egg-info",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "__pypackages__",
)

PARSE_ERROR = "TSL999"
# Not a rule: a creation site the rules could not check (its callee did not resolve). Carried
# with a file's findings (so the cache and the workers keep it), split off by `api.run`.
UNRESOLVED = "unresolved"


class Applicability(str, enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Edit:
    """Replace the text between two positions (1-based lines and columns, end exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int
    replacement: str = ""


@dataclass(frozen=True)
class Fix:
    """How a finding can be repaired automatically."""

    applicability: Applicability
    message: str
    edits: tuple[Edit, ...] = ()


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place. Lines and columns are 1-based; end_column is exclusive."""

    path: Path
    line: int
    column: int
    code: str
    message: str = dataclasses.field(compare=False)
    end_line: int = dataclasses.field(compare=False)
    end_column: int = dataclasses.field(compare=False)
    model: str | None = dataclasses.field(default=None, compare=False)
    field: str | None = dataclasses.field(default=None, compare=False)
    fix: Fix | None = dataclasses.field(default=None, compare=False)


@dataclass(frozen=True)
class Config:
    """Effective configuration for one run (defaults merged with the config file)."""

    root: Path
    config_file: Path | None = None
    fields: tuple[str, ...] = DEFAULT_FIELDS
    update_fields: tuple[str, ...] = DEFAULT_UPDATE_FIELDS
    model_bases: tuple[str, ...] = ()
    allow: tuple[str, ...] = DEFAULT_ALLOW
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    src: tuple[Path, ...] = ()
    select: tuple[str, ...] = ("TSL",)
    ignore: tuple[str, ...] = ()
    # (glob relative to the project root, codes or prefixes): codes not reported in matching files
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    respect_gitignore: bool = True  # discovery skips files git ignores
    force_exclude: bool = False  # `exclude` applies to paths named on the command line too
    # columns whose declaration stamps the current time are timestamp fields, whatever
    # their name (`created = Column(DateTime, default=datetime.utcnow)`)
    detect_fields: bool = True
    unsafe_fixes: bool = False  # --fix / --diff apply unsafe fixes too (Ruff's `unsafe-fixes`)
    python: tuple[Path, ...] = ()  # the project's interpreter or virtual environment
    environment: tuple[Path, ...] = ()  # the environment's prefix, found (empty: ours)


class UserError(Exception):
    """A problem the user can fix (bad path, bad config). Reported as one line, exit 2."""
