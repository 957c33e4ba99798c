"""`timestamp-lint audit` against a real PostgreSQL server (started for the session; see
tests/pg.py): the demo's bug and its fix, the same-transaction `now()` trap, the read-only
guarantee, timeouts, drift and bad input."""

from __future__ import annotations

import json
import socket
import textwrap
import threading
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("psycopg")


from .audit_scenario import audit, demo_copy, run_scenario, wait_until_past
from .conftest import run_cli, write_project
from .pg import Server, running_server

LINK = "--link=discovery_flows.master_id=discovery_flows.id"


@pytest.fixture(scope="module")
def pg():
    with running_server() as server:
        yield server


def table(report: dict, name: str) -> dict:
    return next(t for t in report["tables"] if t["table"] == name)


def test_demo_buggy_path_then_fix_on_postgresql(pg: Server, tmp_path: Path, monkeypatch) -> None:
    url = pg.create_database("demo")
    project = demo_copy(tmp_path)
    made = run_scenario(project, url, old=5, ahead=3)
    monkeypatch.chdir(project)
    code, out, err = audit(url, LINK, "--project", ".", "--output-format", "json")
    assert code == 1, err
    report = json.loads(out)
    assert report["dialect"] == "postgresql"
    assert report["database"] == url.replace(":s3cret-Pa55@", ":***@")
    flows = table(report, "discovery_flows")
    assert flows["status"] == "critical" and flows["rows"] == 16
    assert flows["reversed"]["count"] == 3
    assert flows["reversed"]["sample_keys"] == [
        min(made["children"][:3]),
        max(made["children"][:3]),
    ]
    created = next(c for c in flows["copies"] if c["column"] == "created_at")
    # each master was committed before its child was made: other transactions, real copies
    assert (created["linked"], created["copied"]["count"], created["same_transaction"]) == (8, 8, 0)
    assert [(c["path"], c["line"]) for c in flows["code"]] == [
        ("app/services/flows.py", 14),
        ("app/services/flows.py", 15),
    ]
    assert flows["schema"] == []

    deploy = wait_until_past(made["latest"])
    fixed = run_cli("--fix", ".", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    run_scenario(project, url, old=5, ahead=3)
    code, out, err = audit(url, LINK, "--since", deploy.isoformat(), "--output-format", "json")
    assert code == 0, out + err
    flows = table(json.loads(out), "discovery_flows")
    assert flows["rows"] == 11  # 3 new masters and 8 new children
    assert flows["reversed"]["windows"]["24h"] == {"count": 0, "total": 11, "rate": 0.0}
    created = next(c for c in flows["copies"] if c["column"] == "created_at")
    assert created["linked"] == 8 and created["copied"]["count"] == 0


PAIRS = """
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE order_items (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


def test_one_transactions_shared_now_is_not_a_copy(pg: Server) -> None:
    url = pg.create_database("pairs")
    pg.sql(PAIRS, "pairs")
    # one transaction writes an order and its item: both stamps are that transaction's now()
    pg.sql(
        "BEGIN; INSERT INTO orders DEFAULT VALUES;"
        " INSERT INTO order_items (order_id) VALUES (1); COMMIT;",
        "pairs",
    )
    # later transactions: an item that copies its order's stamps, and one that does not
    pg.sql(
        "INSERT INTO order_items (order_id, created_at, updated_at)"
        " SELECT id, created_at, updated_at FROM orders WHERE id = 1",
        "pairs",
    )
    pg.sql("INSERT INTO order_items (order_id) VALUES (1)", "pairs")
    code, out, _ = audit(url, "--output-format", "json")
    items = table(json.loads(out), "order_items")
    created, updated = items["copies"]
    assert (created["column"], created["linked"]) == ("created_at", 3)
    assert created["copied"]["count"] == 1 and created["same_transaction"] == 1
    assert created["sample_keys"] == [2]
    assert updated["copied"]["count"] == 1 and updated["same_transaction"] == 1
    assert code == 1  # one copy in three linked rows, all created just now
    code, out, _ = audit(url)
    assert ["same", "transaction", "as", "orders", "1"] in [
        line.split() for line in out.splitlines()
    ]


WRITE_LOG = """
CREATE TABLE write_log (id serial PRIMARY KEY, tbl text, op text);
CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO write_log (tbl, op) VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$;
CREATE TRIGGER orders_log AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orders
    FOR EACH STATEMENT EXECUTE FUNCTION log_write();
CREATE TRIGGER items_log AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON order_items
    FOR EACH STATEMENT EXECUTE FUNCTION log_write();
CREATE ROLE auditor LOGIN PASSWORD 'aud1tor-pw';
GRANT SELECT ON orders, order_items TO auditor;
"""


def test_no_write_reaches_postgresql(pg: Server, tmp_path: Path) -> None:
    pg.create_database("ro")
    pg.sql("DROP ROLE IF EXISTS auditor")
    pg.sql(
        PAIRS + "INSERT INTO orders (created_at, updated_at) SELECT now() - g * interval"
        " '1 hour', now() - g * interval '2 hours' FROM generate_series(1, 50) g;",
        "ro",
    )
    # another transaction (one string of statements is one transaction: the same xmin)
    pg.sql("INSERT INTO order_items (order_id, created_at) SELECT id, created_at FROM orders", "ro")
    pg.sql(WRITE_LOG, "ro")
    url = pg.url("ro", user="auditor", password="aud1tor-pw")
    before = pg.query("SELECT count(*), sum(xmin::text::bigint) FROM orders", "ro")
    for output in ("text", "json", "prometheus"):
        code, _, err = audit(
            url, "--output-format", output, "--export-keys", str(tmp_path / "k.csv")
        )
        assert code == 1, err  # SELECT is all the audit needs
    assert pg.query("SELECT count(*) FROM write_log", "ro") == [(0,)]
    assert pg.query("SELECT count(*), sum(xmin::text::bigint) FROM orders", "ro") == before
    assert len((tmp_path / "k.csv").read_text().splitlines()) == 1 + 50 + 50


def test_the_postgresql_session_is_read_only_even_for_a_superuser(pg: Server) -> None:
    from sqlalchemy import exc, text

    from timestamp_lint.audit.connection import parse, read_only

    pg.create_database("ro2")
    pg.sql(PAIRS, "ro2")
    with read_only(parse(pg.url("ro2")), 10) as connection:
        assert connection.execute(text("SHOW transaction_read_only")).scalar() == "on"
        with pytest.raises(exc.InternalError, match="read-only transaction"):
            connection.execute(text("INSERT INTO orders DEFAULT VALUES"))
    assert pg.query("SELECT count(*) FROM orders", "ro2") == [(0,)]


def test_a_blocked_query_hits_the_timeout(pg: Server) -> None:
    import psycopg

    url = pg.create_database("locked")
    pg.sql(PAIRS, "locked")
    with psycopg.connect(pg.url("locked")) as holder:
        holder.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")  # held until rollback
        code, out, err = audit(url, "--timeout", "1s")
        holder.rollback()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "timeout" in err and "s3cret-Pa55" not in err


def test_unreachable_server_and_wrong_password(pg: Server) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    code, out, err = audit(f"postgresql://app:hunter2pw@127.0.0.1:{closed}/app", "--timeout", "5s")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "cannot connect" in err and "hunter2pw" not in err
    assert f"postgresql://app:***@127.0.0.1:{closed}/app" in err
    code, out, err = audit(pg.url(password="wrong-Secret-99"))
    assert code == 2 and err.count("\n") == 1
    assert "password authentication failed" in err and "wrong-Secret-99" not in err
    code, _, err = audit(pg.url(database="no_such_db"))
    assert code == 2 and 'database "no_such_db" does not exist' in err


def test_the_real_command_line_against_postgresql(pg: Server, tmp_path: Path) -> None:
    url = pg.create_database("cli")
    pg.sql(PAIRS + "INSERT INTO orders (updated_at) VALUES (now() - interval '1 day')", "cli")
    done = run_cli("audit", url, "--output-format", "prometheus", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert 'timestamp_lint_audit_reversed_rows{table="orders"} 1' in done.stdout


def test_schema_drift_update_trigger_and_schemas(pg: Server, tmp_path: Path, monkeypatch) -> None:
    url = pg.create_database("drift")
    pg.sql(
        "CREATE SCHEMA app;"
        "CREATE TABLE app.jobs (id serial PRIMARY KEY, created_at timestamp NOT NULL DEFAULT"
        " now(), updated_at timestamp NOT NULL DEFAULT now());"
        "CREATE TABLE app.runs (id serial PRIMARY KEY, created_at timestamp NOT NULL DEFAULT"
        " now(), updated_at timestamp DEFAULT now());"
        "CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN NEW.updated_at = now(); RETURN NEW; END $$;"
        "CREATE TRIGGER runs_touch BEFORE UPDATE ON app.runs FOR EACH ROW"
        " EXECUTE FUNCTION app.touch();",
        "drift",
    )
    project = write_project(
        tmp_path / "proj",
        {
            "pyproject.toml": "[tool.timestamp-lint]\n",
            "models.py": textwrap.dedent(
                """
                from sqlalchemy import Column, DateTime, FetchedValue, Integer, func
                from sqlalchemy.orm import declarative_base

                Base = declarative_base()


                class Job(Base):
                    __tablename__ = "jobs"
                    id = Column(Integer, primary_key=True)
                    created_at = Column(DateTime, server_default=func.now())
                    updated_at = Column(
                        DateTime, server_default=func.now(), server_onupdate=FetchedValue()
                    )


                class Run(Base):
                    __tablename__ = "runs"
                    id = Column(Integer, primary_key=True)
                    created_at = Column(DateTime, server_default=func.now())
                    updated_at = Column(
                        DateTime, server_default=func.now(), server_onupdate=FetchedValue()
                    )
                """
            ),
        },
    )
    monkeypatch.chdir(project)
    code, out, err = audit(url, "--schema", "app", "--project", ".", "--output-format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert [t["table"] for t in report["tables"]] == ["app.jobs", "app.runs"]
    assert table(report, "app.jobs")["model"] == "models.Job"
    assert table(report, "app.jobs")["schema"] == [
        {
            "column": "updated_at",
            "problem": "no-update-trigger",
            "message": "the model declares server_onupdate=FetchedValue(); the table has no"
            " update trigger",
            "drift": True,
        }
    ]
    assert table(report, "app.runs")["schema"] == []
    code, _, err = audit(url)  # the default schema has no such tables
    assert code == 2 and "no table has a 'created_at' date/time column" in err


def test_concurrent_writers_do_not_disturb_the_snapshot(pg: Server) -> None:
    """All checks read one snapshot: rows committed during the audit are not half-counted."""
    url = pg.create_database("snap")
    pg.sql(
        PAIRS + "INSERT INTO orders (created_at, updated_at) SELECT now(), now() - interval"
        " '1 minute' FROM generate_series(1, 20000)",
        "snap",
    )
    stop = threading.Event()

    def writer() -> None:
        import psycopg

        with psycopg.connect(pg.url("snap"), autocommit=True) as connection:
            while not stop.is_set():
                connection.execute("INSERT INTO order_items (order_id) VALUES (1)")

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        code, out, err = audit(url, "--output-format", "json")
    finally:
        stop.set()
        thread.join(30)
    assert code == 1, err
    report = json.loads(out)
    orders, items = table(report, "orders"), table(report, "order_items")
    assert orders["rows"] == 20000 and orders["reversed"]["count"] == 20000
    assert items["copies"][0]["linked"] == items["rows"]


def test_copies_inside_a_schema_and_timestamp_without_time_zone(pg: Server) -> None:
    url = pg.create_database("schemas")
    pg.sql(
        "CREATE SCHEMA crm;"
        "CREATE TABLE crm.accounts (id int PRIMARY KEY, created_at timestamp NOT NULL,"
        " updated_at timestamp NOT NULL);"
        "CREATE TABLE crm.contacts (id int PRIMARY KEY, account_id int REFERENCES crm.accounts,"
        " created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),"
        " updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'));"
        "INSERT INTO crm.accounts VALUES (1, (now() AT TIME ZONE 'UTC') - interval '2 hours',"
        " (now() AT TIME ZONE 'UTC') - interval '1 hour');",
        "schemas",
    )
    pg.sql(
        "INSERT INTO crm.contacts (id, account_id, created_at) SELECT 10, id, created_at"
        " FROM crm.accounts; INSERT INTO crm.contacts (id, account_id) VALUES (11, 1);",
        "schemas",
    )
    code, out, err = audit(url, "--schema", "crm", "--table", "contacts", "--output-format", "json")
    assert code == 1, err
    contacts = table(json.loads(out), "crm.contacts")
    created = contacts["copies"][0]
    assert (created["parent"], created["column"], created["linked"]) == (
        "crm.accounts",
        "created_at",
        2,
    )
    assert created["copied"]["count"] == 1 and created["sample_keys"] == [10]
    # naive UTC stamps compare with the database clock in UTC: 2 hours old, inside 24h
    assert created["windows"]["24h"] == {"count": 1, "total": 2, "rate": 0.5}
    assert contacts["future"]["count"] == 0


def test_a_table_the_role_may_not_read_is_one_line(pg: Server) -> None:
    pg.create_database("perm")
    pg.sql("DROP ROLE IF EXISTS reader")
    pg.sql(
        PAIRS + "CREATE ROLE reader LOGIN PASSWORD 'reader-pw'; GRANT SELECT ON orders TO reader;",
        "perm",
    )
    code, out, err = audit(pg.url("perm", user="reader", password="reader-pw"))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "permission denied for table order_items" in err and "reader-pw" not in err
    code, _, err = audit(pg.url("perm", user="reader", password="reader-pw"), "--table", "orders")
    assert code == 0, err
