from __future__ import annotations

import libcst as cst

from timestamp_lint.index import ClassSummary
from timestamp_lint.rules.base import Rule
from timestamp_lint.rules.column_check import Problem, column_problems

# How to add the missing part, by ORM: (insert default, update hook, both)
ADVICE = {
    "sqlalchemy": (
        "server_default=func.now()",
        "onupdate=func.now()",
        "server_default=func.now() and onupdate=func.now()",
    ),
    "mapped": (
        "= mapped_column(server_default=func.now())",
        "= mapped_column(onupdate=func.now())",
        "= mapped_column(server_default=func.now(), onupdate=func.now())",
    ),
    "sqlmodel": (
        "default_factory=datetime.utcnow (or sa_column_kwargs={'server_default': func.now()})",
        "sa_column_kwargs={'onupdate': func.now()}",
        "default_factory=datetime.utcnow and sa_column_kwargs={'onupdate': func.now()}",
    ),
    "django": ("auto_now_add=True", "auto_now=True", "auto_now=True"),
}


class TimestampColumnWithoutDefault(Rule):
    code = "TSL003"
    name = "timestamp-column-without-default"
    summary = "A model's timestamp column cannot stamp itself on insert or update"
    doc = """\
## What it does
Checks the timestamp columns that ORM models (and the mixins they use) declare: each
configured field needs an insert default that stamps the current time, and each field of
`update-fields` (default `updated_at`) also needs an update hook.

- SQLAlchemy `Column` / `db.Column` / `mapped_column`: `server_default` or `default`, and
  `onupdate` or `server_onupdate`; a bare `Mapped[datetime]` annotation has neither.
- SQLModel `Field`: `default_factory` / `default`, or a default in `sa_column` /
  `sa_column_kwargs`; the update hook through `sa_column_kwargs` or `sa_column`.
- Django `DateTimeField`: `auto_now_add`, `auto_now` or `default`; `auto_now` for updates.

An event listener that sets the field (`@event.listens_for(Model, "before_update",
propagate=True)` assigning `target.updated_at`) or a Django `save()` override that sets it
counts as an update hook.

## Why is this bad?
A column that cannot stamp itself forces every caller to pass a time, which is how records end
up with times copied from other records (TSL001). Without an update hook, `updated_at` keeps
its first value forever. And the TSL001/TSL002 fixes are only safe when the column stamps
itself.

## Example
```python
class Flow(Base):
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, server_default=func.now())
```

## Use instead
```python
class Flow(Base):
    created_at = Column(DateTime, nullable=False, server_default=func.now())
    updated_at = Column(DateTime, server_default=func.now(), onupdate=func.now())
```

## Fix safety
There is no automatic fix: the right default depends on the database and the model.
"""

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if not isinstance(self.semantics.parents.get(node), cst.Module):
            return False  # nested classes are not in the project index
        cls = self.semantics.summary.classes.get(node.name.value)
        if cls is None:
            return False
        problems = column_problems(self.semantics.index, cls, self.context.config.update_fields)
        for statement in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
            for target, small in _declarations(statement):
                if target in problems:
                    self._report(cls, problems.pop(target), small)
        return False

    def _report(self, cls: ClassSummary, problem: Problem, node: cst.CSTNode) -> None:
        info, missing_default, missing_hook = problem
        insert, update, both = ADVICE[info.kind]
        if missing_default and missing_hook:
            what = "has no insert default and no update hook"
            consequence = (
                "new records get NULL unless every caller passes a time, and it keeps its "
                "first value when the record changes"
            )
            advice = both
        elif missing_default:
            what = "has no insert default"
            consequence = "new records get NULL unless every caller passes a time"
            advice = insert
        else:
            what = "has no update hook"
            consequence = "it keeps its first value when the record changes"
            advice = update
        self.report(
            node,
            f"{cls.name}.{info.name} {what}, so {consequence}; add {advice}",
            model=cls,
            field=info.name,
        )


def _declarations(statement: cst.CSTNode):
    """(field name, node to report) for each name a class-body statement declares."""
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                if isinstance(target, cst.Name):
                    yield target.value, small
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                yield small.target.value, small
    elif isinstance(statement, cst.FunctionDef):
        yield statement.name.value, statement.name
