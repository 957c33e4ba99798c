"""A throwaway PostgreSQL server for the tests: `initdb` into a temporary folder, started on a
free loopback port, stopped and removed at the end of the session.

The server binaries come from the system (Debian's `postgresql` package puts them under
/usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as root: when the tests run as
root (CI), the cluster belongs to the `postgres` user and the commands run through
`runuser`. Without the binaries the tests that need a server are skipped, unless
`TSL_REQUIRE_POSTGRES=1` (CI), which makes that a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "postgres"
PASSWORD = "s3cret-Pa55"  # a throwaway cluster's superuser password, on 127.0.0.1 only


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    port: int
    socket_dir: Path

    def url(self, database: str = "postgres", user: str = SUPERUSER, password: str = PASSWORD):
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def sql(self, statements: str, database: str = "postgres") -> None:
        """Run SQL as the superuser (autocommit), through psycopg."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as connection:
            connection.execute(statements)

    def query(self, statement: str, database: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as connection:
            return connection.execute(statement).fetchall()

    def create_database(self, name: str) -> str:
        self.sql(f'DROP DATABASE IF EXISTS "{name}"')
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


@contextmanager
def running_server() -> Iterator[Server]:
    """Start a cluster; yields the server; stops it and removes its folder."""
    binaries = _binaries()
    if binaries is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if os.environ.get("TSL_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " and TSL_REQUIRE_POSTGRES=1")
        pytest.skip(message + "; apt-get install postgresql")
    owner = None
    if os.geteuid() == 0:
        owner = "postgres"
        try:
            pwd.getpwnam(owner)
        except KeyError:
            pytest.fail("running as root needs a 'postgres' user to own the test cluster")
    folder = Path(tempfile.mkdtemp(prefix="tsl-pg-"))
    data, log = folder / "data", folder / "server.log"
    password_file = folder / "password"
    password_file.write_text(PASSWORD + "\n")
    if owner:
        entry = pwd.getpwnam(owner)
        for path in (folder, password_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    started = False
    try:
        subprocess.run(
            _as_owner(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    SUPERUSER,
                    "--pwfile",
                    str(password_file),
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                owner,
            ),
            **run,
        )
        options = (
            f"-k {folder} -p {port} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            _as_owner(
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ],
                owner,
            ),
            **run,
        )
        started = True
        yield Server(port, folder)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:]
        log_tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
        pytest.fail(f"could not start PostgreSQL: {detail} {log_tail}")
    finally:
        if started:
            subprocess.run(
                _as_owner(
                    [str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], owner
                ),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(folder, ignore_errors=True)
