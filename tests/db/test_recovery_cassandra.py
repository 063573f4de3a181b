"""kill -9 anywhere in a Cassandra migration, then a plain `up` finishes it: nothing repeated, nothing skipped.

The applier is a real process killed with SIGKILL at exact points (tests.killpoints) or from outside; the next
plain `up` must read from the schema what the killed statement did and reach the schema of an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.migrations.effects import Effect, effect_of
from harness.migrations.effects_check import judge
from harness.servers.base import CassandraServer
from harness.servers.janitor import fresh_keyspace
from harness.stores.cassandra.introspect import cassandra_keyspace_exists, introspect_cassandra
from harness.stores.cassandra.store import LEDGER, LOCK_TABLE
from tests.recovery_support import cli, kill_when, start, write

pytestmark = pytest.mark.cassandra

STATEMENTS = (
    "CREATE TYPE address (street text, zip int)",
    "CREATE TABLE users (id uuid, at timestamp, name text, home frozen<address>, tags set<text>, PRIMARY KEY (id, at))",
    "ALTER TABLE users ADD email text",
    "CREATE INDEX users_email ON users (email)",
    "ALTER TABLE users RENAME at TO created_at",
    "ALTER TABLE users DROP tags",
)


def env_for(server: CassandraServer, keyspace: str, directory: Path) -> dict[str, str]:
    return {
        "CASSANDRA_HOSTS": ",".join(server.contact_points),
        "CASSANDRA_PORT": str(server.port),
        "CASSANDRA_KEYSPACE": keyspace,
        "CASSANDRA_LOCAL_DC": server.local_datacenter,
        "HARNESS_CASSANDRA_MIGRATIONS": str(directory),
    }


@pytest.fixture
def reference_keyspace(cassandra_server: CassandraServer) -> Iterator[str]:
    with fresh_keyspace(cassandra_server, "ref") as name:
        yield name


def snapshot(cql: Any, keyspace: str) -> Any:
    return introspect_cassandra(cql, keyspace, exclude_tables=(LEDGER, LOCK_TABLE))


def ledger_rows(cql: Any, keyspace: str) -> list[tuple[str, str, int]]:
    rows = cql.execute(f'SELECT version, status, statements_done FROM "{keyspace}".{LEDGER}')
    return sorted((r.version, r.status, r.statements_done) for r in rows)


def migration(directory: Path, statements: tuple[str, ...], name: str = "001_many.cql") -> Path:
    return write(directory, name, "".join(f"{s};\n" for s in statements))


def reference(server: CassandraServer, keyspace: str, statements: tuple[str, ...], tmp_path: Path) -> Path:
    """The same migration applied by one uninterrupted run, in a keyspace of its own."""
    directory = tmp_path / "reference"
    directory.mkdir()
    migration(directory, statements)
    run = cli(env_for(server, keyspace, directory), "cassandra", "up")
    assert run.code == 0, run
    return directory


def test_the_schema_shows_whether_each_kind_of_statement_took_effect(cql, cassandra_keyspace):
    """The statement readings against the real system_schema: absent before, present after, for every kind."""
    cql.execute(
        f"CREATE KEYSPACE \"{cassandra_keyspace}\" WITH replication = {{'class': 'SimpleStrategy', "
        "'replication_factor': 1}"
    )
    cql.set_keyspace(cassandra_keyspace)
    statements = (
        *STATEMENTS,
        "CREATE TABLE events (user_id uuid, day date, at timestamp, kind text STATIC, payload map<text, int>, "
        "note varchar, PRIMARY KEY ((user_id, day), at)) WITH CLUSTERING ORDER BY (at DESC)",
        "ALTER TYPE address ADD city text",
        "ALTER TYPE address RENAME zip TO postcode",
        "CREATE INDEX ON events (keys(payload))",
        "CREATE CUSTOM INDEX events_note ON events (note) USING 'StorageAttachedIndex'",
        "CREATE MATERIALIZED VIEW users_by_name AS SELECT * FROM users WHERE name IS NOT NULL AND id IS NOT NULL "
        "AND created_at IS NOT NULL PRIMARY KEY (name, id, created_at)",
        "ALTER TABLE users ADD (nick text, score int)",
        "DROP MATERIALIZED VIEW users_by_name",
        "DROP INDEX users_email",
        "DROP TYPE IF EXISTS nothing_here",
        "DROP TABLE events",
    )

    def lookup(keyspace: str) -> Any:
        return snapshot(cql, keyspace) if cassandra_keyspace_exists(cql, keyspace) else None

    for statement in statements:
        effect = effect_of(statement)
        assert isinstance(effect, Effect), statement
        before = judge(effect, lookup, cassandra_keyspace)
        cql.execute(statement)
        after = judge(effect, lookup, cassandra_keyspace)
        if effect.if_clause and effect.action == "drop":
            assert before.took_effect is after.took_effect is True, (statement, after.reason)
        else:
            assert (before.took_effect, after.took_effect) == (False, True), (statement, before, after)


def test_kill_9_at_every_statement_boundary_then_a_plain_up_reaches_the_uninterrupted_schema(
    cassandra_server, cassandra_keyspace, reference_keyspace, cql, tmp_path
):
    reference(cassandra_server, reference_keyspace, STATEMENTS, tmp_path)
    directory = tmp_path / "cql"
    directory.mkdir()
    migration(directory, STATEMENTS)
    env = env_for(cassandra_server, cassandra_keyspace, directory)
    points = [(when, k) for k in range(1, len(STATEMENTS) + 1) for when in ("before", "after")]
    runs = [cli(env, "cassandra", "up", kill={"store": "cassandra", "when": w, "statement": STATEMENTS[k - 1]})
            for w, k in points]  # fmt: skip
    final = cli(env, "cassandra", "up")

    assert all(run.killed for run in runs), [run for run in runs if not run.killed]
    assert final.code == 0, final
    for (when, k), after in zip(points, [*runs[1:], final], strict=True):
        told = "took effect" if when == "after" else "did not take effect"
        assert f"statement {k} (line {k}:" in after.out and f"was running and {told}" in after.out, (when, k, after)
    assert "every statement took effect, recording it as applied" in final.out
    assert snapshot(cql, cassandra_keyspace) == snapshot(cql, reference_keyspace)
    assert ledger_rows(cql, cassandra_keyspace) == [("001", "applied", len(STATEMENTS))]


def test_a_kill_in_the_middle_of_a_statement_is_resolved_whichever_way_it_went(
    cassandra_server, cassandra_keyspace, reference_keyspace, cql, tmp_path
):
    statements = STATEMENTS[:3]
    reference(cassandra_server, reference_keyspace, statements, tmp_path)
    directory = tmp_path / "cql"
    directory.mkdir()
    migration(directory, statements)
    env = env_for(cassandra_server, cassandra_keyspace, directory)
    for k in (1, 2, 3):
        assert cli(env, "cassandra", "up", kill={"store": "cassandra", "when": "sent", "statement": statements[k - 1]}
                   ).killed  # fmt: skip
    final = cli(env, "cassandra", "up")
    assert final.code == 0, final
    assert snapshot(cql, cassandra_keyspace) == snapshot(cql, reference_keyspace)


def test_a_kill_observed_only_from_outside_is_recovered(
    cassandra_server, cassandra_keyspace, reference_keyspace, cql, tmp_path
):
    """No hook at all: the plain CLI, killed once the ledger shows two statements done."""
    reference(cassandra_server, reference_keyspace, STATEMENTS, tmp_path)
    directory = tmp_path / "cql"
    directory.mkdir()
    migration(directory, STATEMENTS)
    env = env_for(cassandra_server, cassandra_keyspace, directory)

    def two_done() -> bool:
        if not cassandra_keyspace_exists(cql, cassandra_keyspace):
            return False
        try:
            return any(done >= 2 for _v, _s, done in ledger_rows(cql, cassandra_keyspace))
        except Exception:  # the ledger table is not there yet
            return False

    kill_when(start(env, "cassandra", "up"), two_done)
    final = cli(env, "cassandra", "up")
    assert final.code == 0, final
    assert "Recovering: 001_many.cql: statement" in final.out
    assert snapshot(cql, cassandra_keyspace) == snapshot(cql, reference_keyspace)


DATA = (
    "CREATE TABLE counts (id int PRIMARY KEY, n counter)",
    "UPDATE counts SET n = n + 1 WHERE id = 1",
    "CREATE TABLE after_data (id int PRIMARY KEY)",
)


@pytest.mark.parametrize("answer", ["done", "retry"])
def test_an_interrupted_data_change_stops_with_the_two_commands_and_either_one_finishes_it(
    cassandra_server, cassandra_keyspace, cql, tmp_path, answer
):
    directory = tmp_path / "cql"
    directory.mkdir()
    migration(directory, DATA)
    env = env_for(cassandra_server, cassandra_keyspace, directory)
    when = "after" if answer == "done" else "before"
    assert cli(env, "cassandra", "up", kill={"store": "cassandra", "when": when, "statement": DATA[1]}).killed

    stopped = cli(env, "cassandra", "up")
    assert stopped.code == 2, stopped
    assert "interrupted at statement 2, and whether it took effect cannot be read" in stopped.err
    assert "harness cassandra up --retry-failed" in stopped.err
    assert "harness cassandra resolve 001 --done" in stopped.err
    assert ledger_rows(cql, cassandra_keyspace) == [("001", "running", 1)], "nothing changed"

    if answer == "done":
        resolved = cli(env, "cassandra", "resolve", "001", "--done")
        assert resolved.code == 0 and "statement 2 took effect; up resumes at statement 3" in resolved.out, resolved
        finished = cli(env, "cassandra", "up")
    else:
        finished = cli(env, "cassandra", "up", "--retry-failed")
    assert finished.code == 0, finished
    assert f"Resuming: 001_many.cql at statement {3 if answer == 'done' else 2}" in finished.out
    count = cql.execute(f'SELECT n FROM "{cassandra_keyspace}".counts WHERE id = 1').one()
    assert count.n == 1, "the data change ran exactly once"
    assert ledger_rows(cql, cassandra_keyspace) == [("001", "applied", 3)]


def test_status_tells_an_interrupted_migration_from_a_failed_one(cassandra_server, cassandra_keyspace, tmp_path):
    directory = tmp_path / "cql"
    directory.mkdir()
    migration(directory, STATEMENTS[:2])
    env = env_for(cassandra_server, cassandra_keyspace, directory)
    assert cli(env, "cassandra", "up", kill={"store": "cassandra", "when": "after", "statement": STATEMENTS[1]}).killed
    status = cli(env, "cassandra", "status")
    expected = "[F] 001_many.cql  (failed: interrupted at statement 2: the applier stopped while it ran; up resumes it)"
    assert expected in status.out, status
