"""Both real servers answer, and each test gets a database or keyspace of its own."""

from __future__ import annotations

import pytest

from harness.errors import ServerError
from harness.servers.base import CassandraServer, PostgresServer
from harness.servers.janitor import KeyspaceDropper, unique_name

pytestmark = pytest.mark.smoke


def test_postgres_answers_with_the_version_the_provider_reported(pg_conn, postgres_server: PostgresServer):
    row = pg_conn.execute("SHOW server_version").fetchone()
    assert row[0] == postgres_server.version
    assert row[0].split(".")[0] == "15"


def test_cassandra_answers_with_the_version_the_provider_reported(cassandra_session, cassandra_server: CassandraServer):
    row = cassandra_session.execute("SELECT release_version FROM system.local").one()
    assert row.release_version == cassandra_server.version
    assert row.release_version.startswith("5.0")


def test_postgres_creates_writes_and_drops_a_table(pg_conn):
    pg_conn.execute("CREATE TABLE probe (id int PRIMARY KEY, note text NOT NULL)")
    pg_conn.execute("INSERT INTO probe VALUES (1, 'a')")
    assert pg_conn.execute("SELECT note FROM probe").fetchall() == [("a",)]
    pg_conn.execute("DROP TABLE probe")
    assert pg_conn.execute("SELECT to_regclass('probe')").fetchone() == (None,)


def test_cassandra_creates_writes_and_drops_a_table(cassandra_session):
    cassandra_session.execute("CREATE TABLE probe (id int PRIMARY KEY, note text)")
    cassandra_session.execute("INSERT INTO probe (id, note) VALUES (1, 'a')")
    assert [tuple(r) for r in cassandra_session.execute("SELECT id, note FROM probe")] == [(1, "a")]
    cassandra_session.execute("DROP TABLE probe")
    ks = cassandra_session.keyspace
    rows = cassandra_session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (ks,))
    assert list(rows) == []


@pytest.mark.parametrize("writer", ["first", "second"])
def test_each_test_gets_its_own_postgres_database(pg_conn, writer):
    pg_conn.execute("CREATE TABLE shared_name (writer text)")
    pg_conn.execute("INSERT INTO shared_name VALUES (%s)", (writer,))
    assert pg_conn.execute("SELECT writer FROM shared_name").fetchall() == [(writer,)]


@pytest.mark.parametrize("writer", ["first", "second"])
def test_each_test_gets_its_own_cassandra_keyspace(cassandra_session, writer):
    cassandra_session.execute("CREATE TABLE shared_name (k int PRIMARY KEY, writer text)")
    cassandra_session.execute("INSERT INTO shared_name (k, writer) VALUES (1, %s)", (writer,))
    assert [r.writer for r in cassandra_session.execute("SELECT writer FROM shared_name")] == [writer]


def _keyspace_names(session) -> set[str]:
    return {r.keyspace_name for r in session.execute("SELECT keyspace_name FROM system_schema.keyspaces")}


@pytest.mark.cassandra
def test_a_handed_over_keyspace_is_gone_once_the_dropper_has_waited(cassandra_server, cassandra_session):
    dropper = KeyspaceDropper(cassandra_server)
    first, second = unique_name("handed_over"), unique_name("handed_over")
    try:
        for name in (first, second):
            cassandra_session.execute(
                f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
            )
            cassandra_session.execute(f"CREATE TABLE {name}.t (k int PRIMARY KEY)")
        dropper.drop_later(first)
        dropper.drop_later(second)  # waits for the first: one drop in flight
        assert first not in _keyspace_names(cassandra_session)
        dropper.wait()
        assert not {first, second} & _keyspace_names(cassandra_session)
    finally:
        dropper.close()


@pytest.mark.cassandra
def test_a_drop_that_fails_in_the_background_is_raised_naming_the_keyspace(cassandra_server):
    dropper = KeyspaceDropper(cassandra_server)
    try:
        dropper.drop_later("system")  # Cassandra refuses to drop a system keyspace
        with pytest.raises(ServerError, match=r"dropping the test keyspace system failed"):
            dropper.wait()
        dropper.wait()  # reported once: nothing is in flight any more
    finally:
        dropper.close()
