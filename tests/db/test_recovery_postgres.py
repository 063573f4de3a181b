"""kill -9 anywhere in a PostgreSQL migration, then a plain `up` finishes it: nothing repeated, nothing skipped.

Sections in a transaction commit with their progress row, so a kill leaves both or neither. A `transaction:false`
section is recorded as started first; a lone CREATE INDEX CONCURRENTLY is then read back from pg_index, anything
else stops with the two commands that settle it. "In the middle of a statement" is a real server-side statement
(pg_sleep, or an index build waiting for a lock) whose client is killed; `client_connection_check_interval` makes
the server notice the lost client and roll back, as it would for a crashed Job pod.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness.servers.base import PostgresServer
from harness.servers.janitor import fresh_database
from harness.stores.postgres.introspect import introspect_postgres
from tests.recovery_support import cli, kill_when, start, write

pytestmark = pytest.mark.postgres

SLEEP = "SELECT pg_sleep(coalesce(nullif(current_setting('killtest.{name}', true), ''), '0')::float);"
THREE = f"""
-- migrate:up
CREATE TABLE a (id int PRIMARY KEY, x int);
{SLEEP.format(name="sleep1")}
CREATE TABLE b (id int PRIMARY KEY);
-- migrate:down
DROP TABLE b;
DROP TABLE a;
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY a_x ON a (x);
-- migrate:down transaction:false
DROP INDEX CONCURRENTLY a_x;
-- migrate:up
ALTER TABLE b ADD COLUMN note text;
{SLEEP.format(name="sleep3")}
CREATE TABLE c (id int PRIMARY KEY);
-- migrate:down
DROP TABLE c;
ALTER TABLE b DROP COLUMN note;
"""
CHECK_CLIENT = "-c client_connection_check_interval=50"


def env_for(url: str, directory: Path, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": url, "DBMATE_MIGRATIONS_DIR": str(directory), **extra}


@pytest.fixture
def conn(pg_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def reference_url(postgres_server: PostgresServer, pg_template: str) -> Iterator[str]:
    with fresh_database(postgres_server.url, pg_template, "ref") as url:
        yield url


def snapshot(url: str) -> Any:
    with psycopg.connect(url, autocommit=True) as connection:
        return introspect_postgres(connection, "public", exclude_tables=("schema_migrations", "harness_migrations"))


def ledger(conn: psycopg.Connection[Any]) -> tuple[list[str], list[tuple[str, str, int]]]:
    dbmate = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    ours = [tuple(r) for r in conn.execute("SELECT version, status, done FROM harness_migrations ORDER BY 1")]
    return dbmate, ours


def backend_waiting(conn: psycopg.Connection[Any], event: str) -> bool:
    """A session of this database (not ours) waiting on ``event`` (PgSleep, or a lock for an index build)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND state = 'active' AND (wait_event = %s OR wait_event_type = %s)",
        (event, event),
    ).fetchone()
    return bool(row and row[0])


def backends_gone(conn: psycopg.Connection[Any], *, but: int = 0) -> None:
    """The killed applier's server session ends by itself (the server noticed its client is gone)."""
    for _ in range(200):
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend' AND pid <> %s",
            (but,),
        ).fetchone()
        if row and row[0] == 0:
            return
        conn.execute("SELECT pg_sleep(0.05)")
    raise AssertionError("the killed applier's session still runs on the server")


def test_kill_9_at_every_section_boundary_and_mid_statement_then_a_plain_up_reaches_the_uninterrupted_schema(
    pg_url, conn, reference_url, tmp_path
):
    directory = tmp_path / "migrations"
    directory.mkdir()
    write(directory, "001_three.sql", THREE)
    assert cli(env_for(reference_url, directory), "postgres", "up").code == 0
    env = env_for(pg_url, directory)
    log: list[str] = []

    def killed_at(point: dict[str, Any]) -> None:
        run = cli(env, "postgres", "up", kill={"store": "postgres", **point})
        assert run.killed, run
        log.append(run.out)

    def killed_in_sleep(name: str) -> None:
        proc = start({**env, "PGOPTIONS": f"-c killtest.{name}=60 {CHECK_CLIENT}"}, "postgres", "up")
        out, _err = kill_when(proc, lambda: backend_waiting(conn, "PgSleep"))
        log.append(out)
        backends_gone(conn)

    killed_at({"when": "before-section", "section": 1})
    killed_in_sleep("sleep1")  # mid section 1: nothing of it stays
    assert ledger(conn) == ([], [])
    killed_at({"when": "before-section", "section": 2})  # section 1 committed with its progress
    assert ledger(conn) == ([], [("001", "running", 1)])
    killed_at({"when": "before-body", "section": 2})  # recorded as started, the index build not sent
    assert ledger(conn) == ([], [("001", "started", 1)])
    killed_at({"when": "before-section", "section": 3})  # the index found absent: built again, section 2 recorded
    assert "CREATE INDEX CONCURRENTLY a_x) was running and did not take effect (no index a_x)" in log[-1]
    assert ledger(conn) == ([], [("001", "running", 2)])
    killed_in_sleep("sleep3")  # mid section 3
    assert "section 3 runs in a transaction, so nothing of it took effect" in log[-1]
    final = cli(env, "postgres", "up")

    assert final.code == 0, final
    assert "Resuming: 001_three.sql at section 3" in final.out
    assert snapshot(pg_url) == snapshot(reference_url)
    assert ledger(conn) == (["001"], [("001", "applied", 3)])


CONCURRENT = """
-- migrate:up
CREATE TABLE a (id int PRIMARY KEY, x int);
-- migrate:down
DROP TABLE a;
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY a_x ON a (x);
-- migrate:down transaction:false
DROP INDEX CONCURRENTLY a_x;
"""


def index_state(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('a_x')").fetchone()
    return "absent" if row is None else "valid" if row[0] else "invalid"


def test_an_index_build_killed_half_way_is_dropped_and_built_again_and_a_finished_one_is_kept(
    pg_url, conn, reference_url, tmp_path
):
    directory = tmp_path / "migrations"
    directory.mkdir()
    write(directory, "001_index.sql", CONCURRENT)
    assert cli(env_for(reference_url, directory), "postgres", "up").code == 0
    env = env_for(pg_url, directory)
    assert cli(env, "postgres", "up", kill={"store": "postgres", "when": "before-section", "section": 2}).killed

    with psycopg.connect(pg_url) as blocker:  # an open writer: the build waits for it after creating the index
        blocker.execute("INSERT INTO a VALUES (1, 1)")
        proc = start({**env, "PGOPTIONS": CHECK_CLIENT}, "postgres", "up")
        kill_when(proc, lambda: backend_waiting(conn, "Lock"))
        backends_gone(conn, but=blocker.info.backend_pid)
        blocker.rollback()
    assert index_state(conn) == "invalid", "the killed build left its index behind"

    rebuilt = cli(env, "postgres", "up", kill={"store": "postgres", "when": "after-body", "section": 2})
    assert rebuilt.killed
    assert "was interrupted while building: dropped the invalid index a_x; it runs again" in rebuilt.out
    assert index_state(conn) == "valid"
    final = cli(env, "postgres", "up")
    assert final.code == 0, final
    assert "was running and took effect (index a_x exists and is valid)" in final.out
    assert "every section took effect, recording it as applied" in final.out
    assert snapshot(pg_url) == snapshot(reference_url)
    assert ledger(conn) == (["001"], [("001", "applied", 2)])


UNREADABLE = """
-- migrate:up
CREATE TABLE t (id int PRIMARY KEY);
-- migrate:down
DROP TABLE t;
-- migrate:up transaction:false
INSERT INTO t VALUES (1);
-- migrate:down transaction:false
DELETE FROM t;
"""


@pytest.mark.parametrize("answer", ["done", "retry"])
def test_a_section_without_a_transaction_killed_mid_way_stops_with_the_two_commands(pg_url, conn, tmp_path, answer):
    directory = tmp_path / "migrations"
    directory.mkdir()
    write(directory, "001_data.sql", UNREADABLE)
    env = env_for(pg_url, directory)
    when = "after-body" if answer == "done" else "before-body"
    assert cli(env, "postgres", "up", kill={"store": "postgres", "when": when, "section": 2}).killed

    stopped = cli(env, "postgres", "up")
    assert stopped.code == 2, stopped
    assert "interrupted at section 2, and whether it took effect cannot be read from the database" in stopped.err
    assert "runs without a transaction (transaction:false) and was sent" in stopped.err
    assert "harness postgres up --retry-failed" in stopped.err and "harness postgres resolve 001 --done" in stopped.err
    assert ledger(conn) == ([], [("001", "started", 1)]), "the refusal changed nothing"

    if answer == "done":
        resolved = cli(env, "postgres", "resolve", "001", "--done")
        assert resolved.code == 0, resolved
        assert "section 2 took effect, which was the last: recorded as applied" in resolved.out
        finished = cli(env, "postgres", "up")
        assert finished.code == 0 and "No pending migrations" in finished.out, finished
    else:
        finished = cli(env, "postgres", "up", "--retry-failed")
        assert finished.code == 0 and "Resuming: 001_data.sql at section 2" in finished.out, finished
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,), "the insert ran exactly once"
    assert ledger(conn) == (["001"], [("001", "applied", 2)])
