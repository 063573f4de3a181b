"""`harness drift` on real databases: clean, each kind of hand-made drift named, cannot-check cases, and proof
that it writes nothing (a PostgreSQL role with read rights only; the Cassandra keyspace before and after).

The live database is the test's own; the expected schema is built on the session's servers (given to drift as
HARNESS_PG_URL / HARNESS_CASSANDRA_HOSTS, as `harness servers up` would), in databases of drift's own.
"""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from harness.servers.base import PostgresServer
from harness.stores.postgres.introspect import introspect_postgres
from tests.db.applier_support import harness

USERS = """\
-- migrate:up
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);
CREATE INDEX users_email_idx ON users (email);

-- migrate:down
DROP TABLE users;
"""
POSTS = """\
-- migrate:up
CREATE TYPE post_state AS ENUM ('draft', 'published');
CREATE TABLE posts (
    id integer PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    state post_state NOT NULL DEFAULT 'draft'
);

-- migrate:down
DROP TABLE posts;
DROP TYPE post_state;
"""
CONTRACT = """\
# Contract

```mermaid
classDiagram
class PG_Users {
    +int id
    +string email
}
class PG_Posts {
    +int id
    +int user_id
    +string state
}
PG_Users "1" --> "many" PG_Posts : writes
```
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def pg_project(pg_url: str, postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A PostgreSQL project (two files and a contract) applied to the test's database by `harness postgres up`."""
    monkeypatch.chdir(tmp_path)  # no configuration file above: only what the test sets
    directory = tmp_path / "db" / "migrations"
    write(directory, "1_users.sql", USERS)
    write(directory, "2_posts.sql", POSTS)
    write(tmp_path, "CONTRACT.md", CONTRACT)
    for name, value in {
        "DATABASE_URL": pg_url,
        "HARNESS_POSTGRES_MIGRATIONS": str(directory),
        "HARNESS_CONTRACT": str(tmp_path / "CONTRACT.md"),
        "HARNESS_PG_URL": postgres_server.url,  # where drift builds the expected schema
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("HARNESS_CASSANDRA_MIGRATIONS", "HARNESS_CASSANDRA_HOSTS", "CASSANDRA_KEYSPACE"):
        monkeypatch.delenv(name, raising=False)
    return directory


@pytest.fixture
def pg_applied(pg_project: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    applied = harness(capsys, "postgres", "up")
    assert applied.code == 0, applied.err
    return pg_project


@pytest.mark.postgres
def test_a_database_migrated_by_up_has_no_drift(pg_applied, capsys):
    result = harness(capsys, "drift")
    assert result.code == 0, result.out + result.err
    for part in ("ledger    postgres   ok", "schema    postgres   ok", "contract  all stores ok"):
        assert part in result.out
    assert "no drift: 3 parts checked" in result.out


@pytest.mark.postgres
def test_the_expected_schema_is_built_in_the_live_urls_search_path(pg_project, pg_url, pg_conn, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"{pg_url}?search_path=app")
    assert harness(capsys, "postgres", "up").code == 0
    clean = harness(capsys, "drift")
    assert clean.code == 0, clean.out + clean.err
    pg_conn.execute("DROP INDEX app.users_email_idx")
    drifted = harness(capsys, "drift")
    assert drifted.code == 1
    assert "PG index users_email_idx on users: in the migrations, not in the database (missing)" in drifted.out


def _edit_applied_file(directory: Path, _conn: Any) -> None:
    write(directory, "2_posts.sql", POSTS.replace("    state post_state", "    title text,\n    state post_state"))


DRIFTS: dict[str, tuple[Any, list[str]]] = {
    "column added by hand": (
        lambda _d, conn: conn.execute("ALTER TABLE users ADD COLUMN nickname text"),
        [
            "PG column users.nickname: in the database, not in the migrations (extra)",
            "PG users.nickname: column not in contract",
        ],
    ),
    "index dropped": (
        lambda _d, conn: conn.execute("DROP INDEX users_email_idx"),
        ["PG index users_email_idx on users: in the migrations, not in the database (missing)"],
    ),
    "applied file edited": (
        _edit_applied_file,
        [
            "PG 2_posts.sql: applied file edited (checksum differs)",
            "PG column posts.title: in the migrations, not in the database (missing)",
        ],
    ),
    "ledger row deleted": (
        lambda _d, conn: conn.execute("DELETE FROM schema_migrations WHERE version = '2'"),
        ["PG 2_posts.sql: not applied (pending)"],
    ),
    "ledger row without a file": (
        lambda _d, conn: conn.execute("INSERT INTO schema_migrations (version) VALUES ('3')"),
        ["PG version 3: ledger row without a file"],
    ),
    "column type altered": (
        lambda _d, conn: conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(200)"),
        ["PG column users.email: type text -> character varying(200) (altered: migrations -> database)"],
    ),
}


@pytest.mark.postgres
@pytest.mark.parametrize("case", sorted(DRIFTS))
def test_hand_made_drift_exits_one_naming_it(pg_applied, pg_conn, capsys, case):
    make, expected = DRIFTS[case]
    make(pg_applied, pg_conn)
    result = harness(capsys, "drift")
    assert result.code == 1, result.out + result.err
    findings = result.out.split("\ndrift:\n", 1)[1]
    for line in expected:
        assert f"  {line}\n" in findings
    assert "DRIFT:" in result.out.splitlines()[-1]


@pytest.mark.postgres
def test_json_output_lists_each_finding_with_its_part_kind_and_object(pg_applied, pg_conn, capsys):
    pg_conn.execute("DROP INDEX users_email_idx")
    result = harness(capsys, "drift", "--format", "json")
    assert result.code == 1, result.err
    report = json.loads(result.out)  # stdout holds the JSON alone; progress went to stderr
    assert report["drift"] is True and report["exit_code"] == 1
    schema = next(p for p in report["parts"] if p["part"] == "schema")
    assert schema["ok"] is False
    assert [(f["kind"], f["subject"]) for f in schema["findings"]] == [("missing", "index users_email_idx on users")]


@pytest.mark.postgres
def test_an_unreachable_database_exits_two_with_one_line_and_no_password(pg_project, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:s3cr3t-pw@127.0.0.1:1/app")
    started = time.monotonic()
    result = harness(capsys, "drift")
    assert result.code == 2
    assert result.err.startswith("Error: cannot connect to postgres 127.0.0.1:1/app") and result.err.count("\n") == 1
    assert "s3cr3t-pw" not in result.out + result.err
    assert "building the expected schema" not in result.out, "no throwaway server for an unreachable database"
    assert time.monotonic() - started < 30


@pytest.mark.postgres
def test_exits_two_when_the_expected_schema_cannot_be_built(pg_applied, capsys):
    write(pg_applied, "3_broken.sql", "-- migrate:up\nCREATE TABLE broken (id no_such_type);\n-- migrate:down\n")
    result = harness(capsys, "drift")
    assert result.code == 2
    assert result.err.startswith("Error: cannot build the expected postgres schema on a fresh database: ")
    assert "3_broken.sql" in result.err and result.err.count("\n") == 1


@pytest.mark.postgres
def test_exits_two_without_a_server_for_the_expected_schema(pg_applied, monkeypatch, capsys):
    monkeypatch.delenv("HARNESS_PG_URL")
    result = harness(capsys, "drift", "--provider", "external")
    assert result.code == 2
    assert result.err.startswith("Error: no postgres server to build the expected schema on: ")


# -- read-only: a role with read rights only ----------------------------------------------------------------


@pytest.fixture
def reader_url(pg_url: str, pg_conn: psycopg.Connection) -> Any:
    """The test database's URL as a new role that may connect and SELECT, nothing else (no TEMP, no CREATE)."""
    role = f"drift_reader_{uuid.uuid4().hex[:12]}"
    database = urlsplit(pg_url).path.lstrip("/")
    names = {"role": sql.Identifier(role), "db": sql.Identifier(database)}
    for statement in (
        "CREATE ROLE {role} LOGIN PASSWORD 'reader-pw'",
        "REVOKE ALL ON DATABASE {db} FROM PUBLIC",  # PUBLIC may create temporary tables by default
        "GRANT CONNECT ON DATABASE {db} TO {role}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
    ):
        pg_conn.execute(sql.SQL(statement).format(**names))
    parts = urlsplit(pg_url)
    yield urlunsplit(parts._replace(netloc=f"{role}:reader-pw@{parts.hostname}:{parts.port}")), role
    pg_conn.execute(sql.SQL("DROP OWNED BY {role}").format(**names))
    pg_conn.execute(sql.SQL("DROP ROLE {role}").format(**names))


def _written_tuples(conn: psycopg.Connection, role: str) -> tuple[int, int, int]:
    """The insert/update/delete counters of the database's own tables, once every session's statistics are in:
    ours are flushed now, and the role's sessions are gone (a backend flushes its statistics before it leaves
    pg_stat_activity). Not the whole database's: autovacuum's analyze updates catalog rows when it likes (16 of them
    once, in the docker lane); the catalog is compared by _database_state."""
    conn.execute("SELECT pg_stat_force_next_flush()")  # flushed when this session goes idle, right after
    deadline = time.monotonic() + 30
    while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,)).fetchone() != (0,):
        assert time.monotonic() < deadline, f"{role} still connected"
        time.sleep(0.1)
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(
        "SELECT coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_del), 0)"
        " FROM pg_stat_user_tables"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _table_digest(conn: psycopg.Connection, table: str) -> Any:
    query = sql.SQL("SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {} t")
    return conn.execute(query.format(sql.Identifier(table))).fetchone()


def _database_state(conn: psycopg.Connection) -> dict[str, Any]:
    """Schema model, ledger rows, every table's contents and the catalog's namespaces and relations."""
    tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return {
        "model": introspect_postgres(conn, exclude_tables=()),
        "contents": {table: _table_digest(conn, table) for table in tables},
        "namespaces": conn.execute("SELECT oid, nspname FROM pg_namespace ORDER BY oid").fetchall(),
        "relations": conn.execute("SELECT oid, relname, relkind FROM pg_class ORDER BY oid").fetchall(),
    }


@pytest.mark.postgres
def test_drift_runs_as_a_read_only_role_and_changes_nothing(pg_applied, pg_conn, reader_url, monkeypatch, capsys):
    url, role = reader_url
    pg_conn.execute("INSERT INTO users VALUES (1, 'a@example.org')")
    pg_conn.execute("ALTER TABLE users ADD COLUMN nickname text")  # drift to report, not to repair
    with psycopg.connect(url, autocommit=True) as reader:  # the role really has read rights only
        for statement in ("CREATE TEMP TABLE t (id int)", "CREATE TABLE t (id int)", "DELETE FROM users"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)
    before, counters = _database_state(pg_conn), _written_tuples(pg_conn, role)
    monkeypatch.setenv("DATABASE_URL", url)
    result = harness(capsys, "drift")
    assert result.code == 1, result.out + result.err
    assert "PG column users.nickname: in the database, not in the migrations (extra)" in result.out
    assert _written_tuples(pg_conn, role) == counters
    assert _database_state(pg_conn) == before


@pytest.mark.postgres
def test_a_read_only_store_takes_no_lock_and_the_server_refuses_its_writes(pg_applied, pg_conn):
    from harness.config import load_settings
    from harness.registry import factory
    from harness.stores.postgres.store import ADVISORY_LOCK_KEY

    store = factory("postgres")(load_settings().connection("postgres").require(), read_only=True)
    try:
        assert [r.version for r in store.applied()] == ["1", "2"]
        with store.lock(lambda _m: None):
            # advisory locks are per database, and other workers' tests lock theirs on the same server
            locks = pg_conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND "
                                    "database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                                    (ADVISORY_LOCK_KEY,)).fetchone()  # fmt: skip
            assert locks == (0,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            store.ensure_ledger()
    finally:
        store.close()
