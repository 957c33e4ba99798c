"""`timestamp-lint audit` on real SQLite files: the checks, thresholds and windows, exit codes,
every output format, --export-keys, --project, read-only access and bad input."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from click.testing import CliRunner

from timestamp_lint.audit.command import audit as audit_command

from .audit_scenario import audit, demo_copy, run_scenario, wait_until_past
from .conftest import run_cli

LINK = "--link=discovery_flows.master_id=discovery_flows.id"


def stamp(delta: timedelta) -> str:
    """A UTC time relative to now, as SQLAlchemy writes it into SQLite."""
    return (datetime.now(timezone.utc) + delta).strftime("%Y-%m-%d %H:%M:%S.%f")


def make_db(path: Path, rows: list[tuple], children: list[tuple] = ()) -> str:
    """flows(id, created_at, updated_at) and steps(id, flow_id -> flows, created_at, updated_at)."""
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE flows (
                id INTEGER PRIMARY KEY,
                created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
                updated_at DATETIME
            );
            CREATE TABLE steps (
                id INTEGER PRIMARY KEY,
                flow_id INTEGER NOT NULL REFERENCES flows (id),
                created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
                updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
            );
            CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT);
            """
        )
        db.executemany("INSERT INTO flows VALUES (?, ?, ?)", rows)
        db.executemany("INSERT INTO steps VALUES (?, ?, ?, ?)", children)
    db.close()
    return f"sqlite:///{path}"


def table(report: dict, name: str) -> dict:
    return next(t for t in report["tables"] if t["table"] == name)


# --------------------------------------------------------------------------- the checks


def test_reversed_copied_future_and_null_stamps_are_counted(tmp_path: Path) -> None:
    day = timedelta(days=1)
    rows = [
        (1, stamp(-3 * day), stamp(-3 * day)),  # clean
        (2, stamp(-2 * day), stamp(-3 * day)),  # reversed
        (3, stamp(timedelta(hours=2)), stamp(timedelta(hours=2))),  # in the future
        (4, stamp(-day / 2), None),  # NULL updated_at
        (5, stamp(timedelta(minutes=2)), stamp(timedelta(minutes=2))),  # within the skew
    ]
    children = [
        (10, 1, rows[0][1], stamp(-day)),  # created_at copied from flow 1
        (11, 1, stamp(-day), stamp(-day)),  # clean
        (12, 2, rows[1][1], rows[1][2]),  # both copied (and so reversed too)
    ]
    url = make_db(tmp_path / "app.db", rows, children)
    code, out, err = audit(url, "--output-format", "json")
    assert code == 1, err
    report = json.loads(out)
    assert [t["table"] for t in report["tables"]] == ["flows", "steps"]  # settings: no stamps
    flows = table(report, "flows")
    assert flows["rows"] == 5
    assert flows["reversed"]["count"] == 1 and flows["reversed"]["sample_keys"] == [2]
    assert flows["future"]["count"] == 1
    assert flows["nulls"] == {"created_at": 0, "updated_at": 1}
    steps = table(report, "steps")
    assert steps["reversed"]["count"] == 1 and steps["reversed"]["sample_keys"] == [12]
    created, updated = steps["copies"]
    assert (created["column"], created["parent"], created["via"]) == (
        "created_at",
        "flows",
        ["flow_id"],
    )
    assert created["linked"] == 3
    assert created["copied"]["count"] == 2 and created["sample_keys"] == [10, 12]
    assert created["same_transaction"] == 0  # SQLite stamps per statement: no shared now()
    assert updated["column"] == "updated_at" and updated["copied"]["count"] == 1
    assert updated["sample_keys"] == [12]


def test_copies_are_compared_as_instants_not_as_text(tmp_path: Path) -> None:
    url = make_db(
        tmp_path / "app.db",
        [(1, "2024-03-01 10:00:00", "2024-03-01 10:00:00")],
        [(2, 1, "2024-03-01T10:00:00.000000", "2024-03-02 10:00:00")],
    )
    code, out, _ = audit(url, "--output-format", "json")
    assert code == 0  # counted, but in 2024: outside every threshold window
    assert table(json.loads(out), "steps")["copies"][0]["copied"]["count"] == 1


def test_per_day_figures_over_the_days_window(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    rows = []
    for number, (days_ago, reversed_) in enumerate([(1, True), (1, False), (2, False), (40, True)]):
        moment = now - timedelta(days=days_ago)
        created = moment.strftime("%Y-%m-%d %H:%M:%S")
        updated = (moment - timedelta(hours=1) if reversed_ else moment).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        rows.append((number + 1, created, updated))
    url = make_db(tmp_path / "app.db", rows)
    _, out, _ = audit(url, "--output-format", "json", "--table", "flows", "--days", "30")
    days = table(json.loads(out), "flows")["reversed"]["days"]
    one, two = ((now - timedelta(days=d)).date().isoformat() for d in (1, 2))
    assert days == [{"day": two, "rows": 1, "reversed": 0}, {"day": one, "rows": 2, "reversed": 1}]
    _, out, _ = audit(url, "--output-format", "json", "--table", "flows", "--days", "60")
    assert len(table(json.loads(out), "flows")["reversed"]["days"]) == 3


# --------------------------------------------------------------------------- thresholds


def _population(path: Path, old_total: int, old_bad: int, new_total: int, new_bad: int) -> str:
    """`old_*` rows created 3 days ago, `new_*` created 1 hour ago; `*_bad` of them reversed."""
    rows = []
    for total, bad, age in (
        (old_total, old_bad, timedelta(days=3)),
        (new_total, new_bad, timedelta(hours=1)),
    ):
        for number in range(total):
            created = stamp(-age)
            updated = stamp(-age - timedelta(minutes=5)) if number < bad else created
            rows.append((len(rows) + 1, created, updated))
    return make_db(path, rows)


def test_warning_threshold_in_the_warning_window(tmp_path: Path) -> None:
    url = _population(tmp_path / "a.db", 95, 5, 5, 0)  # 5% over 7 days, 0% in 24 hours
    code, out, _ = audit(url, "--table", "flows", "--output-format", "json")
    flows = table(json.loads(out), "flows")
    assert code == 1 and flows["status"] == "warning"
    assert flows["reversed"]["windows"]["7d"] == {"count": 5, "total": 100, "rate": 0.05}
    assert flows["reversed"]["windows"]["24h"] == {"count": 0, "total": 5, "rate": 0.0}
    assert flows["reasons"] == [
        "reversed: 5.0% of rows created in the last 7d (warning above 1.0%)"
    ]
    assert audit(url, "--table", "flows", "--warn", "5%")[0] == 0  # above, not at
    assert audit(url, "--table", "flows", "--warn", "4.9%")[0] == 1
    assert audit(url, "--table", "flows", "--warn-window", "2d")[0] == 0  # old rows left out


def test_critical_threshold_in_the_critical_window(tmp_path: Path) -> None:
    url = _population(tmp_path / "a.db", 90, 0, 10, 2)  # 2% over 7 days, 20% in 24 hours
    code, out, _ = audit(url, "--table", "flows", "--output-format", "json")
    flows = table(json.loads(out), "flows")
    assert code == 1 and flows["status"] == "critical"
    assert flows["reversed"]["windows"]["24h"]["rate"] == 0.2
    code, out, _ = audit(url, "--table", "flows", "--critical", "25%", "--output-format", "json")
    assert table(json.loads(out), "flows")["status"] == "warning"  # still 2% over 7 days
    code, out, _ = audit(
        url,
        "--table",
        "flows",
        "--critical-window",
        "30m",
        "--warn",
        "3%",
        "--output-format",
        "json",
    )
    assert code == 0 and table(json.loads(out), "flows")["status"] == "ok"


def test_clean_database_exits_zero(tmp_path: Path) -> None:
    url = _population(tmp_path / "a.db", 50, 0, 50, 0)
    code, out, err = audit(url)
    assert code == 0, out + err
    assert "flows: 100 rows, OK" in out


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--warn", "150%", "between 0% and 100%"),
        ("--warn", "lots", "is not a rate"),
        ("--critical-window", "soon", "is not a duration"),
        ("--since", "yesterday", "is not an ISO 8601 time"),
        ("--link", "flows=steps", "is not CHILD.COLUMN=PARENT.COLUMN"),
    ],
)
def test_bad_option_values_are_usage_errors(tmp_path: Path, option: str, value: str, message: str):
    url = _population(tmp_path / "a.db", 1, 0, 1, 0)
    code, _, err = audit(url, option, value)
    assert code == 2 and message in err


# --------------------------------------------------------------------------- output formats


def test_text_output(tmp_path: Path) -> None:
    url = _population(tmp_path / "a.db", 0, 0, 10, 3)
    code, out, _ = audit(url, "--table", "flows")
    assert code == 1
    head, *blocks, summary = out.split("\n\n")
    assert head.startswith(f"{url}  (database clock ")
    lines = blocks[0].splitlines()
    assert lines[0] == "flows: 10 rows, CRITICAL"
    assert lines[1].split() == ["check", "all", "rows", "last", "7d", "last", "24h", "keys"]
    assert lines[2].split() == [
        "reversed", "(updated_at", "<", "created_at)", "3/10", "(30.0%)", "3/10", "(30.0%)",
        "3/10", "(30.0%)", "1", "..", "3",
    ]  # fmt: skip
    assert lines[3].split() == ["future", "created_at", "0/10", "(0.0%)"]
    assert "  ! reversed: 30.0% of rows created in the last 24h (critical above 10.0%)" in lines
    assert summary.startswith("Audited 1 table in ") and "1 critical, 0 warning" in summary
    assert "\x1b[" not in out  # no colour when stdout is not a terminal


def test_text_output_is_coloured_on_a_terminal_unless_no_color(monkeypatch) -> None:
    from timestamp_lint.audit import command, text
    from timestamp_lint.audit.model import AuditReport, TableReport, Thresholds

    monkeypatch.setattr(command.sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert command.use_color()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not command.use_color()
    tables = (TableReport("t", ("id",), "created_at", "updated_at", 0, status="critical"),)
    report = AuditReport("sqlite:///x", "sqlite", "now", Thresholds(), 30, 300, tables)
    assert "t: 0 rows, \x1b[1;31mCRITICAL\x1b[0m" in text.render(report, color=True)
    assert "t: 0 rows, CRITICAL" in text.render(report, color=False)


def test_prometheus_output_parses_with_the_reference_parser(tmp_path: Path) -> None:
    parser = pytest.importorskip("prometheus_client.parser")
    created = stamp(-timedelta(hours=2))  # one value: two calls may straddle a millisecond
    url = make_db(
        tmp_path / "app.db",
        [(1, created, stamp(-timedelta(hours=3))), (2, stamp(-timedelta(hours=1)), None)],
        [(3, 1, created, stamp(-timedelta(hours=1)))],  # created_at copied from flow 1
    )
    code, out, _ = audit(url, "--output-format", "prometheus")
    assert code == 1
    families = {f.name: f for f in parser.text_string_to_metric_families(out)}
    assert all(f.type == "gauge" for f in families.values())

    def value(name: str, **labels: str) -> float:
        samples = [
            s
            for s in families[name].samples
            if all(s.labels.get(k) == v for k, v in labels.items())
        ]
        assert len(samples) == 1, (name, labels, families[name].samples)
        return samples[0].value

    assert value("timestamp_lint_audit_status") == 2
    assert value("timestamp_lint_audit_rows", table="flows") == 2
    assert value("timestamp_lint_audit_reversed_rows", table="flows") == 1
    assert value("timestamp_lint_audit_reversed_ratio", table="flows", window="24h") == 0.5
    assert value("timestamp_lint_audit_null_rows", table="flows", column="updated_at") == 1
    labels = {"table": "steps", "parent": "flows", "column": "created_at", "via": "flow_id"}
    assert value("timestamp_lint_audit_copied_rows", **labels) == 1
    assert value("timestamp_lint_audit_copied_ratio", **labels, window="7d") == 1.0
    assert value("timestamp_lint_audit_same_transaction_rows", **labels) == 0
    assert (
        value("timestamp_lint_audit_table_status", table="settings") if "settings" in out else True
    )
    assert value("timestamp_lint_audit_last_run_timestamp_seconds") > 1.7e9


def test_prometheus_label_values_are_escaped(tmp_path: Path) -> None:
    parser = pytest.importorskip("prometheus_client.parser")
    path = tmp_path / "odd.db"
    with sqlite3.connect(path) as db:
        db.execute(
            'CREATE TABLE "we\\ird ""name""" (id INTEGER PRIMARY KEY, created_at TEXT,'
            " updated_at TEXT)"
        )
    db.close()
    code, out, _ = audit(f"sqlite:///{path}", "--output-format", "prometheus")
    assert code == 0
    tables = {
        s.labels["table"]
        for f in parser.text_string_to_metric_families(out)
        for s in f.samples
        if "table" in s.labels
    }
    assert tables == {'we\\ird "name"'}


def test_export_keys_writes_every_affected_key(tmp_path: Path) -> None:
    rows = [
        (
            n,
            stamp(-timedelta(days=1)),
            stamp(-timedelta(days=2) if n % 3 == 0 else -timedelta(hours=1)),
        )
        for n in range(1, 31)
    ]
    rows.append((31, stamp(timedelta(days=1)), stamp(timedelta(days=1))))
    children = [(100, 1, rows[0][1], stamp(timedelta()))]
    url = make_db(tmp_path / "app.db", rows, children)
    keys = tmp_path / "keys.csv"
    code, _, err = audit(url, "--export-keys", str(keys))
    assert code == 1
    with keys.open(newline="") as handle:
        found = list(csv.DictReader(handle))
    assert sorted((r["check"], int(r["key"])) for r in found if r["table"] == "flows") == sorted(
        [("reversed", n) for n in range(3, 31, 3)] + [("future", 31)]
    )
    assert [r for r in found if r["table"] == "steps"] == [
        {
            "table": "steps",
            "check": "copied",
            "column": "created_at",
            "parent": "flows",
            "key": "100",
        }
    ]
    assert f"Wrote {len(found)} affected keys to {keys}." in err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".keys.csv.")]


# --------------------------------------------------------------------------- the demo


def test_demo_buggy_path_then_fix_on_sqlite(tmp_path: Path, monkeypatch) -> None:
    project = demo_copy(tmp_path)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    made = run_scenario(project, url, old=6, ahead=3)
    monkeypatch.chdir(project)
    code, out, err = audit(url, LINK, "--project", ".", "--output-format", "json")
    assert code == 1, err
    flows = table(json.loads(out), "discovery_flows")
    assert flows["status"] == "critical"
    assert flows["rows"] == 18
    # the children of masters stamped by a clock running ahead: copied and reversed
    assert flows["reversed"]["count"] == 3
    assert flows["reversed"]["sample_keys"] == [
        min(made["children"][:3]),
        max(made["children"][:3]),
    ]
    created = next(c for c in flows["copies"] if c["column"] == "created_at")
    assert created["linked"] == 9 and created["copied"]["count"] == 9
    assert created["sample_keys"] == [min(made["children"]), max(made["children"])]
    assert flows["model"] == "app.models.flow.DiscoveryFlow"
    assert [(c["path"], c["line"], c["code"]) for c in flows["code"]] == [
        ("app/services/flows.py", 14, "TSL001"),
        ("app/services/flows.py", 15, "TSL001"),
    ]
    assert flows["schema"] == []  # the table was created from the models: no drift
    code, out, _ = audit(url, LINK, "--project", ".")
    assert "  code that copies into it: app/services/flows.py:14: TSL001" in out.splitlines()

    deploy = wait_until_past(made["latest"])
    fixed = run_cli("--fix", ".", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    after = run_scenario(project, url, old=6, ahead=3)
    code, out, err = audit(
        url, LINK, "--project", ".", "--since", deploy.isoformat(), "--output-format", "json"
    )
    assert code == 0, out + err
    flows = table(json.loads(out), "discovery_flows")
    assert flows["rows"] == 12  # the new masters and children
    assert flows["reversed"]["windows"]["24h"] == {"count": 0, "total": 12, "rate": 0.0}
    created = next(c for c in flows["copies"] if c["column"] == "created_at")
    assert created["linked"] == 9 and created["copied"]["count"] == 0  # fixed children only
    assert flows["code"] == []
    # the whole table still shows the damage done before the fix
    code, out, _ = audit(url, LINK, "--output-format", "json")
    assert code == 1 and table(json.loads(out), "discovery_flows")["reversed"]["count"] == 3
    assert len(after["children"]) == 9


def test_schema_drift_against_the_project_models(tmp_path: Path, monkeypatch) -> None:
    project = demo_copy(tmp_path)
    path = tmp_path / "drift.db"
    with sqlite3.connect(path) as db:  # created by hand, without the models' defaults
        db.execute(
            "CREATE TABLE discovery_flows (id INTEGER PRIMARY KEY, flow_id TEXT, master_id INT,"
            " status TEXT, created_at DATETIME NOT NULL)"
        )
    db.close()
    monkeypatch.chdir(project)
    code, out, err = audit(f"sqlite:///{path}", "--project", ".", "--output-format", "json")
    assert code == 0, err
    notes = table(json.loads(out), "discovery_flows")["schema"]
    assert notes == [
        {
            "column": "created_at",
            "problem": "no-default",
            "message": "the model declares server_default=func.now(); the column has no default"
            " in the database",
            "drift": True,
        },
        {
            "column": "updated_at",
            "problem": "missing-column",
            "message": "the model declares updated_at; the table has no such column",
            "drift": True,
        },
    ]
    code, out, _ = audit(f"sqlite:///{path}", "--output-format", "json")
    assert table(json.loads(out), "discovery_flows")["schema"] == [
        {
            "column": "created_at",
            "problem": "no-default",
            "message": "no database default",
            "drift": False,
        }
    ]


# --------------------------------------------------------------------------- safety


def _digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_audit_never_writes_the_sqlite_file(tmp_path: Path) -> None:
    url = _population(tmp_path / "a.db", 10, 2, 10, 2)
    path = tmp_path / "a.db"
    before = _digest(path)
    siblings = sorted(p.name for p in tmp_path.iterdir())
    for output in ("text", "json", "prometheus"):
        assert (
            audit(url, "--output-format", output, "--export-keys", str(tmp_path / "k.csv"))[0] == 1
        )
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*siblings, "k.csv"])  # no journal


def test_the_sqlite_connection_refuses_writes(tmp_path: Path) -> None:
    from sqlalchemy import exc, text

    from timestamp_lint.audit.connection import parse, read_only

    url = _population(tmp_path / "a.db", 1, 0, 1, 0)
    with (
        read_only(parse(url), 10) as connection,
        pytest.raises(exc.OperationalError, match="readonly"),
    ):
        connection.execute(text("DELETE FROM flows"))
    with read_only(parse(url), 10) as connection:
        connection.exec_driver_sql("PRAGMA query_only = OFF")  # even so: the file is read-only
        with pytest.raises(exc.OperationalError, match="readonly"):
            connection.execute(text("INSERT INTO flows (id) VALUES (99)"))
    assert sqlite3.connect(tmp_path / "a.db").execute("SELECT count(*) FROM flows").fetchone() == (
        2,
    )


def test_the_sqlite_statement_timeout(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE flows (id INTEGER PRIMARY KEY, created_at TEXT, updated_at TEXT)")
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)"
            " INSERT INTO flows SELECT i, datetime('now', '-' || (i % 50) || ' days'),"
            " datetime('now') FROM n"
        )
    db.close()
    code, out, err = audit(f"sqlite:///{path}", "--timeout", "0.001s")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "longer than the 0.001 s statement timeout" in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://app:hunter2pw@db/app", "unsupported database 'mysql'"),
        (
            "postgresql+psycopg2://app:hunter2pw@127.0.0.1:9/app",
            "driver 'psycopg2' is not installed",
        ),
        ("sqlite://", "an in-memory database has nothing to audit"),
        ("sqlite:///no/such/file.db", "no such database file"),
    ],
)
def test_bad_urls_get_one_line_and_exit_2(url: str, message: str) -> None:
    code, out, err = audit(url)
    assert code == 2 and out == ""
    assert err.startswith("timestamp-lint audit: error: ") and err.count("\n") == 1
    assert message in err and "hunter2pw" not in err


def test_tables_without_the_columns(tmp_path: Path) -> None:
    url = make_db(tmp_path / "a.db", [])
    code, _, err = audit(url, "--table", "settings")
    assert code == 2 and "table 'settings' has no column 'created_at'" in err
    code, _, err = audit(url, "--table", "nope")
    assert code == 2 and "no table 'nope'" in err
    code, _, err = audit(url, "--created-column", "born_at")
    assert code == 2 and "no table has a 'born_at' date/time column" in err
    code, _, err = audit(url, "--link", "steps.nope=flows.id")
    assert code == 2 and "--link: table 'steps' has no column 'nope'" in err


def test_the_real_command_line_without_a_traceback(tmp_path: Path) -> None:
    url = _population(tmp_path / "a.db", 0, 0, 4, 1)
    done = run_cli("audit", url, "--output-format", "json", cwd=tmp_path)
    assert done.returncode == 1 and json.loads(done.stdout)["status"] == "critical"
    done = run_cli("audit", "postgresql://app:hunter2pw@127.0.0.1:9/app", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "hunter2pw" not in done.stderr and "postgresql://app:***@127.0.0.1:9/app" in done.stderr


def test_mask_hides_passwords() -> None:
    from timestamp_lint.audit.connection import mask

    assert mask("postgresql://app:p%40ss@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert mask("see postgresql+psycopg://u:pw@h/x and sqlite:///a.db") == (
        "see postgresql+psycopg://u:***@h/x and sqlite:///a.db"
    )
    assert mask("postgresql://app@db/x") == "postgresql://app@db/x"


def test_no_sqlalchemy_is_one_line(monkeypatch) -> None:
    import importlib.util

    from timestamp_lint.audit import connection

    real = importlib.util.find_spec
    monkeypatch.setattr(
        connection.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "sqlalchemy" else real(name, *a),
    )
    code, _, err = audit("sqlite:///x.db")
    assert code == 2 and "pip install 'timestamp-lint[audit]'" in err


def test_progress_line_only_on_a_terminal(capsys) -> None:
    from timestamp_lint.audit.command import Progress

    quiet = Progress(enabled=False)
    quiet(1, 5, "flows")
    quiet.clear()
    assert capsys.readouterr().err == ""
    shown = Progress(enabled=True)
    shown(1, 1, "flows")  # a single table: nothing to show
    assert capsys.readouterr().err == ""
    shown(3, 4, "discovery_flows")
    err = capsys.readouterr().err
    assert err.startswith("\r[############------------] 3/4 discovery_flows")
    shown.clear()
    assert capsys.readouterr().err.strip() == ""


def test_a_parent_outside_the_audited_tables_is_still_compared(tmp_path: Path) -> None:
    url = make_db(
        tmp_path / "app.db",
        [(1, stamp(-timedelta(hours=3)), stamp(-timedelta(hours=3)))],
        [(2, 1, stamp(-timedelta(hours=4)), stamp(-timedelta(hours=1)))],  # copied below
    )
    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("UPDATE steps SET created_at = (SELECT created_at FROM flows)")
    db.close()
    code, out, _ = audit(url, "--table", "steps", "--output-format", "json")
    report = json.loads(out)
    assert [t["table"] for t in report["tables"]] == ["steps"]
    assert report["tables"][0]["copies"][0]["copied"]["count"] == 1 and code == 1


def test_composite_keys_and_tables_without_a_key(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    old, older = stamp(-timedelta(hours=1)), stamp(-timedelta(hours=2))
    with sqlite3.connect(path) as db:
        db.executescript(
            f"""
            CREATE TABLE events (tenant TEXT, seq INT, created_at TEXT, updated_at TEXT,
                                 PRIMARY KEY (tenant, seq));
            INSERT INTO events VALUES ('a', 1, '{old}', '{older}'), ('b', 7, '{old}', '{old}');
            CREATE TABLE log (created_at TEXT, updated_at TEXT);
            INSERT INTO log VALUES ('{old}', '{older}');
            """
        )
    db.close()
    keys = tmp_path / "keys.csv"
    code, out, err = audit(
        f"sqlite:///{path}", "--output-format", "json", "--export-keys", str(keys)
    )
    assert code == 1
    assert "warning: table 'log' has no primary key: its rows are not in the exported keys" in err
    report = json.loads(out)
    assert table(report, "events")["reversed"]["count"] == 1
    assert table(report, "events")["reversed"]["sample_keys"] == []  # no single-column key
    assert table(report, "log")["reversed"]["count"] == 1 and table(report, "log")["key"] == []
    assert keys.read_text().splitlines() == [
        "table,check,column,parent,key",
        'events,reversed,updated_at,,"[""a"", 1]"',
    ]


def test_readme_audit_section_names_real_options_and_formats() -> None:
    import re

    from .conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Auditing a database\n")[1].split("\n## ")[0]
    help_text = CliRunner().invoke(audit_command, ["--help"]).output
    options = set(re.findall(r"(--[a-z][a-z-]+)", section)) - {"--fix", "--data-binary"}
    assert len(options) > 10
    for option in options:
        assert option in help_text, option
    for name in re.findall(r"--output-format ([a-z-]+)", section):
        assert name in ("text", "json", "prometheus"), name


def test_unix_seconds_in_numeric_sqlite_columns(tmp_path: Path) -> None:
    path = tmp_path / "epoch.db"
    now = int(datetime.now(timezone.utc).timestamp())
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY, created_at INTEGER, updated_at REAL)"
        )
        db.executemany(
            "INSERT INTO jobs VALUES (?, ?, ?)",
            [
                (1, now - 3600, now - 60.5),
                (2, now - 3600, now - 7200.0),
                (3, now + 86400, now + 86400),
            ],
        )
    db.close()
    code, out, _ = audit(f"sqlite:///{path}", "--output-format", "json")
    jobs = table(json.loads(out), "jobs")
    assert code == 1
    assert jobs["reversed"]["count"] == 1 and jobs["reversed"]["sample_keys"] == [2]
    assert jobs["future"]["count"] == 1
    today = datetime.fromtimestamp(now - 3600, timezone.utc).date().isoformat()
    assert {"day": today, "rows": 2, "reversed": 1} in jobs["reversed"]["days"]


def test_export_keys_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    url = _population(tmp_path / "a.db", 0, 0, 2, 1)
    target = tmp_path / "no" / "keys.csv"
    code, out, err = audit(url, "--export-keys", str(target))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"--export-keys {target}: No such file or directory" in err
