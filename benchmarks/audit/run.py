"""Benchmark: `timestamp-lint audit` on a large PostgreSQL table beside the same checks
written by hand in psql (checks.sql).

    python benchmarks/audit/run.py --rows 1000000 --rows 10000000

Starts a throwaway PostgreSQL cluster (the tests' helper, tests/pg.py), or uses `--url`,
fills a table `flows` per size (ids, a self-referencing `master_id`, stamps spread over 90
days, 3% reversed, 1% of children with their master's `created_at`), warms the cache with
one scan, then times, in turn and alternating who goes first: psql running checks.sql, and
the audit (`--table flows --output-format json`), each end to end (processes started and
finished) and, for the audit, its checks alone (the report's `duration_seconds`: the
queries, without the interpreter start, imports and reflection). Prints a Markdown table;
the ratio's target is 1.3.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TARGET = 1.3

FILL = """
DROP TABLE IF EXISTS flows;
CREATE TABLE flows (
    id bigint PRIMARY KEY,
    master_id bigint REFERENCES flows (id),
    status text NOT NULL DEFAULT 'running',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- created(g) = start + g * step, spread over 90 days; every second row from id 1001 on is a
-- child of an earlier row; 3% of rows have updated_at one hour before created_at.
INSERT INTO flows (id, master_id, created_at, updated_at)
SELECT g,
       m,
       s + g * step,
       CASE WHEN g % 33 = 0 THEN s + g * step - interval '1 hour'
            ELSE s + g * step + interval '10 minutes' END
FROM (
    SELECT g,
           CASE WHEN g > 1000 AND g % 2 = 0 THEN g - 1 - (g % 997) END AS m,
           now() - interval '90 days' AS s,
           interval '90 days' / {rows} AS step
    FROM generate_series(1, {rows}) g
) AS gen;
-- In a later transaction (psql runs each statement of a script in its own): 1% of the
-- children get their master's created_at, as the buggy code path writes it.
UPDATE flows c SET created_at = p.created_at
FROM flows p WHERE p.id = c.master_id AND c.id % 100 = 0;
VACUUM ANALYZE flows;
"""


def psql(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, *args],
        capture_output=True,
        text=True,
        check=True,
    )


def timed(command: list[str], env: dict | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed: {done.stderr.strip()}")
    return elapsed, done.stdout


def measure(url: str, rows: int, runs: int) -> dict:
    print(f"filling flows with {rows:,} rows ...", file=sys.stderr)
    started = time.perf_counter()
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-f", "-"],
        input=FILL.format(rows=rows),
        capture_output=True,
        text=True,
        check=True,
    )
    fill = time.perf_counter() - started
    size = psql(url, "-At", "-c", "SELECT pg_size_pretty(pg_total_relation_size('flows'))")
    psql(url, "-c", "SELECT count(*) FROM flows")  # warm the caches for both contenders
    hand, tool, checks = [], [], []
    audit = [
        sys.executable,
        "-m",
        "timestamp_lint",
        "audit",
        url,
        "--table",
        "flows",
        "--output-format",
        "json",
        "--timeout",
        "3600s",
    ]
    report = {}
    hand_command = [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        url,
        "-f",
        str(HERE / "checks.sql"),
    ]
    for run in range(runs):  # alternate who goes first: the first may pay for a colder cache
        for contender in ("hand", "tool") if run % 2 == 0 else ("tool", "hand"):
            if contender == "hand":
                hand.append(timed(hand_command)[0])
            else:
                elapsed, out = timed(audit)
                tool.append(elapsed)
                report = json.loads(out)
                checks.append(report["duration_seconds"])
    flows = report["tables"][0]
    copies = {c["column"]: c["copied"]["count"] for c in flows["copies"]}
    # the two must agree: the hand-written totals (first row) and copies (last row)
    lines = psql(url, "-At", "-F", ",", "-f", str(HERE / "checks.sql")).stdout.split()
    totals, joined = lines[0].split(","), lines[-1].split(",")
    mine = (flows["rows"], flows["reversed"]["count"], copies.get("created_at", 0))
    hand_figures = (int(totals[0]), int(totals[1]), int(joined[1]))
    if mine != hand_figures:
        raise SystemExit(f"the audit found {mine} (rows, reversed, copied), psql {hand_figures}")
    return {
        "rows": rows,
        "size": size.stdout.strip(),
        "fill": fill,
        "hand": statistics.median(hand),
        "tool": statistics.median(tool),
        "checks": statistics.median(checks),
        "runs": runs,
        "samples": {"psql": hand, "audit": tool, "checks": checks},
        "reversed": flows["reversed"]["count"],
        "copied": copies.get("created_at", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="table sizes (repeatable)")
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs per contender for sizes up to 1,000,000 rows (larger sizes run once)",
    )
    parser.add_argument("--url", help="an existing PostgreSQL database (default: throwaway)")
    args = parser.parse_args()
    sizes = args.rows or [1_000_000]
    if shutil.which("psql") is None:
        raise SystemExit("psql not found (apt-get install postgresql-client)")
    with ExitStack() as stack:
        url = args.url
        if url is None:
            sys.path.insert(0, str(REPO))
            from tests.pg import running_server

            server = stack.enter_context(running_server())
            url = server.create_database("bench")
        os.chdir(REPO)
        results = [measure(url, rows, args.runs if rows <= 1_000_000 else 1) for rows in sizes]
    print(
        "| rows | table size | psql, checks.sql | audit, end to end | audit, checks only |"
        " end to end / psql | checks / psql | reversed | copied |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        e2e, only = r["tool"] / r["hand"], r["checks"] / r["hand"]
        mark = lambda ratio: f"{ratio:.2f}" + ("" if ratio <= TARGET else " **MISS**")  # noqa: E731
        print(
            f"| {r['rows']:,} | {r['size']} | {r['hand']:.2f} s | {r['tool']:.2f} s |"
            f" {r['checks']:.2f} s | {mark(e2e)} | {mark(only)} | {r['reversed']:,} |"
            f" {r['copied']:,} |"
        )
    print(f"\nmedians; target: ratio <= {TARGET}. Every run, in seconds:\n")
    for r in results:
        runs = "; ".join(
            f"{name} " + ", ".join(f"{x:.2f}" for x in values)
            for name, values in r["samples"].items()
        )
        print(f"- {r['rows']:,} rows ({r['runs']} run(s)): {runs}")


if __name__ == "__main__":
    main()
