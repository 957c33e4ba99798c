"""`timestamp-lint audit URL`: find, in a database, the corruption copied timestamps left.

Read-only from end to end. The stages, one module each:

- `connection`: parse the URL, mask its password, open a read-only connection with a
  statement timeout (SQLite in `mode=ro`, PostgreSQL in a read-only transaction);
- `reflect`: which tables have timestamp columns, their keys, foreign keys, defaults and
  triggers (SQLAlchemy reflection);
- `checks`: the checks as SQL, one scan per table and one join per foreign key;
- `project`: with `--project`, the project's models mapped to tables, and the findings in
  code that write to them;
- `text`, `jsonout`, `prometheus`: one reporter per output format, pure functions of the
  `AuditReport`;
- `command`: the click command, which wires options to the above.

SQLAlchemy and psycopg come with the `audit` extra and are imported only by this package.
"""
