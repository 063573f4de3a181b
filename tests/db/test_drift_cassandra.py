"""`harness drift` on a real Cassandra: clean, a hand-added column and a deleted ledger row named, nothing
written (the keyspace before and after, and a role with SELECT only on a node with authentication), plus both
stores at once on this project's own migrations and contract.

The expected schema is built on the session's servers (HARNESS_CASSANDRA_HOSTS / HARNESS_PG_URL, as `harness
servers up` exports them), in keyspaces and databases of drift's own.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.servers.base import CassandraServer
from harness.servers.cassandra_local import LocalCassandra
from tests.db.applier_support import REPO, copy_migrations, harness, session_on

EVENTS = """\
-- migrate:up
CREATE TABLE events (id uuid, at timestamp, kind text, PRIMARY KEY ((id), at)) WITH CLUSTERING ORDER BY (at DESC);

-- migrate:down
DROP TABLE events;
"""
TAGS = """\
-- migrate:up
CREATE TYPE tag (name text, weight int);
CREATE TABLE tagged (id uuid PRIMARY KEY, tags set<frozen<tag>>);

-- migrate:down
DROP TABLE tagged;
DROP TYPE tag;
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def drift_env(live: CassandraServer, keyspace: str, directory: Path, scratch: CassandraServer) -> dict[str, str]:
    """The live keyspace as the store commands find it, and where drift builds the expected schema."""
    return {
        "CASSANDRA_HOSTS": ",".join(live.contact_points),
        "CASSANDRA_PORT": str(live.port),
        "CASSANDRA_KEYSPACE": keyspace,
        "CASSANDRA_LOCAL_DC": live.local_datacenter,
        "HARNESS_CASSANDRA_MIGRATIONS": str(directory),
        "HARNESS_CASSANDRA_HOSTS": ",".join(scratch.contact_points),
        "HARNESS_CASSANDRA_PORT": str(scratch.port),
    }


@pytest.fixture
def cs_project(cassandra_server, cassandra_keyspace, monkeypatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no configuration file above: only what the test sets
    directory = tmp_path / "cql"
    write(directory, "001_events.cql", EVENTS)
    write(directory, "002_tags.cql", TAGS)
    for name, value in drift_env(cassandra_server, cassandra_keyspace, directory, cassandra_server).items():
        monkeypatch.setenv(name, value)
    for name in ("HARNESS_POSTGRES_MIGRATIONS", "DBMATE_MIGRATIONS_DIR", "HARNESS_CONTRACT"):
        monkeypatch.delenv(name, raising=False)
    return directory


@pytest.fixture
def cs_applied(cs_project: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    applied = harness(capsys, "cassandra", "up")
    assert applied.code == 0, applied.err
    return cs_project


def _schema_rows(session: Any, table: str, keyspace: str) -> list[str]:
    rows = session.execute(f"SELECT * FROM system_schema.{table} WHERE keyspace_name = %s", (keyspace,))
    return sorted(map(repr, rows))


def keyspace_state(session: Any, keyspace: str) -> dict[str, Any]:
    """system_schema rows of the keyspace, every keyspace's name, and the ledger, lock and data rows with the
    time each value was written (a rewrite of the same value changes it)."""
    kinds = ("keyspaces", "tables", "columns", "indexes", "types", "views", "functions", "triggers")
    state: dict[str, Any] = {kind: _schema_rows(session, kind, keyspace) for kind in kinds}
    writes = session.execute("SELECT table_name, count FROM system_views.local_write_latency WHERE keyspace_name = %s",
                             (keyspace,))  # fmt: skip
    state["writes per table"] = sorted((r.table_name, r.count) for r in writes)  # every mutation, LWT and delete too
    # Other xdist workers create and drop keyspaces of their own on this shared server: only the system keyspaces
    # and this one are this test's concern (drift must create none of those, nor change them).
    names = (r.keyspace_name for r in session.execute("SELECT * FROM system_schema.keyspaces"))
    state["all keyspaces"] = sorted(n for n in names if n == keyspace or n.startswith("system"))
    queries = {
        "ledger": "SELECT version, checksum, status, writetime(status) AS at FROM {}.schema_migrations",
        "lock": "SELECT name, owner, writetime(owner) AS at FROM {}.schema_migrations_lock",
        "events": "SELECT id, at, kind, writetime(kind) AS written FROM {}.events",
    }
    for name, query in queries.items():
        state[name] = sorted(map(repr, session.execute(query.format(f'"{keyspace}"'))))
    return state


@pytest.mark.cassandra
def test_clean_then_a_hand_added_column_and_a_deleted_ledger_row_are_named(cs_applied, cql, cassandra_keyspace, capsys):
    clean = harness(capsys, "drift")
    assert clean.code == 0, clean.out + clean.err
    assert "ledger    cassandra  ok" in clean.out and "schema    cassandra  ok" in clean.out

    cql.execute(f'ALTER TABLE "{cassandra_keyspace}".events ADD note text')
    cql.execute(f"DELETE FROM \"{cassandra_keyspace}\".schema_migrations WHERE version = '002'")
    drifted = harness(capsys, "drift")
    assert drifted.code == 1, drifted.out + drifted.err
    assert "  C column events.note: in the database, not in the migrations (extra)\n" in drifted.out
    assert "  C 002_tags.cql: not applied (pending)\n" in drifted.out


@pytest.mark.cassandra
def test_drift_writes_nothing_to_the_keyspace(cs_applied, cql, cassandra_keyspace, capsys):
    cql.execute(f"INSERT INTO \"{cassandra_keyspace}\".events (id, at, kind) VALUES (uuid(), '2025-01-01', 'x')")
    cql.execute(f'ALTER TABLE "{cassandra_keyspace}".events ADD note text')
    before = keyspace_state(cql, cassandra_keyspace)
    assert before["ledger"] and before["events"]
    result = harness(capsys, "drift")
    assert result.code == 1, result.out + result.err
    assert keyspace_state(cql, cassandra_keyspace) == before


@pytest.mark.cassandra
def test_a_missing_keyspace_is_reported_not_created(cs_project, cql, monkeypatch, capsys):
    result = harness(capsys, "drift")
    assert result.code == 1, result.out + result.err
    assert "  C 001_events.cql: not applied (pending)\n" in result.out
    assert "  C table events: in the migrations, not in the database (missing)\n" in result.out
    keyspace = os.environ["CASSANDRA_KEYSPACE"]
    assert not list(cql.execute("SELECT * FROM system_schema.keyspaces WHERE keyspace_name = %s", (keyspace,)))


@pytest.mark.cassandra
def test_a_read_only_store_refuses_every_write(cs_applied, capsys):
    from harness.config import load_settings
    from harness.errors import StoreError
    from harness.registry import factory

    connection = load_settings().connection("cassandra").require()
    store = factory("cassandra")(connection, read_only=True)
    try:
        assert store.applied(), "reading works"
        with pytest.raises(StoreError, match="opened read-only, refusing `CREATE TABLE IF NOT EXISTS"):
            store.ensure_ledger()
        with store.lock(lambda _m: None):
            pass  # no lease is taken: the lease is a write
    finally:
        store.close()


@pytest.mark.cassandra
def test_an_unreachable_cassandra_exits_two_with_one_line(cs_applied, monkeypatch, capsys):
    monkeypatch.setenv("CASSANDRA_PORT", "1")
    result = harness(capsys, "drift")
    assert result.code == 2
    assert result.err.startswith("Error: cannot connect to cassandra 127.0.0.1:1/") and result.err.count("\n") == 1


# -- a node with authentication: drift as a role that may only SELECT ----------------------------------------


@pytest.fixture(scope="module")
def auth_node() -> Iterator[CassandraServer]:
    """A node of its own with PasswordAuthenticator (the session's server runs without authentication)."""
    with LocalCassandra(auth=True) as server:
        yield server


@pytest.mark.cassandra
@pytest.mark.slow
def test_drift_runs_as_a_role_with_select_only_and_changes_nothing(
    auth_node, cassandra_server, monkeypatch, tmp_path, capsys
):
    keyspace, reader, password = "drift_auth", "drift_reader", "reader-s3cret"
    directory = write(tmp_path / "cql", "001_events.cql", EVENTS).parent
    monkeypatch.chdir(tmp_path)
    for name, value in {
        **drift_env(auth_node, keyspace, directory, cassandra_server),
        "CASSANDRA_USERNAME": str(auth_node.username),
        "CASSANDRA_PASSWORD": str(auth_node.password),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HARNESS_POSTGRES_MIGRATIONS", raising=False)
    assert harness(capsys, "cassandra", "up").code == 0
    with session_on(auth_node) as session:
        session.execute(f"CREATE ROLE {reader} WITH LOGIN = true AND PASSWORD = '{password}'")
        session.execute(f"GRANT SELECT ON KEYSPACE {keyspace} TO {reader}")
        session.execute(f"INSERT INTO {keyspace}.events (id, at, kind) VALUES (uuid(), '2025-01-01', 'x')")
        session.execute(f"ALTER TABLE {keyspace}.events ADD note text")  # drift to report, not to repair
        reader_server = CassandraServer(**{**auth_node.__dict__, "username": reader, "password": password})
        with session_on(reader_server) as as_reader, pytest.raises(Exception, match="has no MODIFY permission"):
            as_reader.execute(f"DELETE FROM {keyspace}.schema_migrations WHERE version = '001'")
        before = keyspace_state(session, keyspace)
        monkeypatch.setenv("CASSANDRA_USERNAME", reader)
        monkeypatch.setenv("CASSANDRA_PASSWORD", password)
        result = harness(capsys, "drift")
        assert result.code == 1, result.out + result.err
        assert "  C column events.note: in the database, not in the migrations (extra)\n" in result.out
        assert password not in result.out + result.err
        assert keyspace_state(session, keyspace) == before


# -- both stores: this project's own migrations and contract -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.cassandra
def test_this_projects_migrations_and_contract_show_no_drift(
    pg_url, postgres_server, cassandra_server, cassandra_keyspace, monkeypatch, tmp_path, capsys
):
    monkeypatch.chdir(tmp_path)
    pg_dir = copy_migrations("postgres", tmp_path / "postgres")
    cs_dir = copy_migrations("cassandra", tmp_path / "cassandra")
    for name, value in {
        **drift_env(cassandra_server, cassandra_keyspace, cs_dir, cassandra_server),
        "DATABASE_URL": pg_url,
        "HARNESS_POSTGRES_MIGRATIONS": str(pg_dir),
        "HARNESS_CONTRACT": str(REPO / "migrations" / "README.md"),
        "HARNESS_PG_URL": postgres_server.url,
    }.items():
        monkeypatch.setenv(name, value)
    assert harness(capsys, "postgres", "up").code == 0
    assert harness(capsys, "cassandra", "up").code == 0
    result = harness(capsys, "drift")
    assert result.code == 0, result.out + result.err
    assert "no drift: 5 parts checked" in result.out
    assert os.path.relpath(REPO / "migrations" / "README.md") in result.out
