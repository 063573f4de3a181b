"""The applier on a real Cassandra: every command, a failure at statement k and its resume, the lease lock."""

from __future__ import annotations

import re
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from harness.servers.base import CassandraServer
from harness.stores.cassandra.store import LOCK_NAME, LOCK_TABLE
from tests.db.applier_support import copy_migrations, harness, harness_process

pytestmark = pytest.mark.cassandra
ONE_REPLICA = "{'class': 'SimpleStrategy', 'replication_factor': 1}"


@pytest.fixture
def cs_env(cassandra_server: CassandraServer, cassandra_keyspace: str, monkeypatch, tmp_path) -> Path:
    env = cassandra_env(cassandra_server, cassandra_keyspace)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    directory: Path = tmp_path / "cql"
    directory.mkdir()
    return directory


def cassandra_env(server: CassandraServer, keyspace: str) -> dict[str, str]:
    return {
        "CASSANDRA_HOSTS": ",".join(server.contact_points),
        "CASSANDRA_PORT": str(server.port),
        "CASSANDRA_KEYSPACE": keyspace,
        "CASSANDRA_LOCAL_DC": server.local_datacenter,
    }


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def tables(session, keyspace: str) -> set[str]:
    rows = session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (keyspace,))
    return {r.table_name for r in rows}


def ledger(session, keyspace: str) -> dict[str, str]:
    if "schema_migrations" not in tables(session, keyspace):
        return {}
    rows = session.execute(f'SELECT version, status FROM "{keyspace}".schema_migrations')
    return {r.version: r.status for r in rows}


def test_up_status_down_and_reset_on_the_project_migrations(cs_env, cql, cassandra_keyspace, capsys):
    copy_migrations("cassandra", cs_env)
    args = ("--migrations-dir", str(cs_env))
    assert harness(capsys, "cassandra", "status", "--exit-code", *args).code == 1
    up = harness(capsys, "cassandra", "up", *args)
    assert up.code == 0, up.err
    assert "Applied: 004_create_user_session_events.cql in" in up.out
    assert {"group_messages", "user_notifications", "user_purchases", "user_session_events"} <= tables(
        cql, cassandra_keyspace
    )
    status = harness(capsys, "cassandra", "status", "--exit-code", *args)
    assert status.code == 0 and "[X] 001_create_group_messages.cql" in status.out and "Applied: 4" in status.out
    assert harness(capsys, "cassandra", "down", "--steps", "3", *args).code == 0
    assert set(ledger(cql, cassandra_keyspace)) == {"001"}
    assert "user_purchases" not in tables(cql, cassandra_keyspace)
    for confirmation in ("--yes", "--yes=other_keyspace"):
        refused = harness(capsys, "cassandra", "reset", confirmation, *args)
        assert refused.code == 2 and f"--yes={cassandra_keyspace}" in refused.err
        assert "group_messages" in tables(cql, cassandra_keyspace)
    reset = harness(capsys, "cassandra", "reset", f"--yes={cassandra_keyspace}", *args)
    assert reset.code == 0, reset.err
    assert tables(cql, cassandra_keyspace) == {LOCK_TABLE}, "the keyspace is emptied, its lock table kept"


def test_reset_empties_only_its_keyspace_and_a_token_makes_it_one_shot(cs_env, cql, cassandra_keyspace, capsys):
    write(
        cs_env,
        "001_a.cql",
        "CREATE TYPE addr (street text);\nCREATE TABLE a (id int PRIMARY KEY, home frozen<addr>);\n",
    )
    args = ("--migrations-dir", str(cs_env))
    assert harness(capsys, "cassandra", "up", *args).code == 0
    cql.execute(f"CREATE KEYSPACE IF NOT EXISTS bystander_ks WITH replication = {ONE_REPLICA}")
    cql.execute("CREATE TABLE IF NOT EXISTS bystander_ks.kept (id int PRIMARY KEY)")
    try:
        first = harness(capsys, "cassandra", "reset", f"--yes={cassandra_keyspace}", "--once", "deploy-7", *args)
        assert first.code == 0, first.err
        assert tables(cql, cassandra_keyspace) == {LOCK_TABLE, "schema_migrations_resets"}
        types = cql.execute("SELECT type_name FROM system_schema.types WHERE keyspace_name = %s", (cassandra_keyspace,))
        assert list(types) == []
        assert "kept" in tables(cql, "bystander_ks")
        assert harness(capsys, "cassandra", "up", *args).code == 0
        again = harness(capsys, "cassandra", "reset", f"--yes={cassandra_keyspace}", "--once", "deploy-7", *args)
        assert again.code == 0 and "skipped, token deploy-7 was already used" in again.out
        assert "a" in tables(cql, cassandra_keyspace), "a retried Job must not reset twice"
    finally:
        cql.execute("DROP KEYSPACE IF EXISTS bystander_ks")


def test_new_numbers_cassandra_migrations(cs_env, capsys):
    write(cs_env, "001_a.cql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    result = harness(capsys, "cassandra", "new", "add b", "--migrations-dir", str(cs_env))
    assert result.code == 0 and result.out.strip().endswith("002_add_b.cql")


def test_a_network_topology_keyspace_is_created_from_configuration(cs_env, cql, cassandra_keyspace, capsys):
    write(cs_env, "001_a.cql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    result = harness(
        capsys,
        "cassandra",
        "up",
        "--migrations-dir",
        str(cs_env),
        "--replication",
        "NetworkTopologyStrategy:datacenter1=1",
    )
    assert result.code == 0, result.err
    row = cql.execute(
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s", (cassandra_keyspace,)
    ).one()
    assert row.replication["class"].endswith("NetworkTopologyStrategy")
    assert row.replication["datacenter1"] == "1"


def test_a_failure_at_statement_k_is_recorded_refused_then_resumed_after_the_fix(
    cs_env, cql, cassandra_keyspace, capsys
):
    args = ("--migrations-dir", str(cs_env))
    path = write(
        cs_env,
        "001_three.cql",
        """
        -- migrate:up
        CREATE TABLE one (id int PRIMARY KEY);
        CREATE TABLE two (id int PRIMARY KEY, note txt);
        CREATE TABLE three (id int PRIMARY KEY);
        -- migrate:down
        DROP TABLE three;
        DROP TABLE two;
        DROP TABLE one;
        """,
    )
    failed = harness(capsys, "cassandra", "up", *args)
    assert failed.code == 2
    assert f"{path}:3: up statement 2 failed" in failed.err and "fix statement 2" in failed.err
    assert ledger(cql, cassandra_keyspace) == {"001": "failed"}
    assert "one" in tables(cql, cassandra_keyspace) and "two" not in tables(cql, cassandra_keyspace)

    status = harness(capsys, "cassandra", "status", *args)
    assert "[F] 001_three.cql  (failed: failed at statement 2:" in status.out

    again = harness(capsys, "cassandra", "up", *args)
    assert again.code == 2 and "the file is unchanged" in again.err and "resumes at statement 2" in again.err

    path.write_text(path.read_text().replace("note txt", "note text"))
    resumed = harness(capsys, "cassandra", "up", *args)
    # Statement 1 (CREATE TABLE one, not idempotent) must not run again, or this would fail.
    assert resumed.code == 0, resumed.err
    assert "Resuming: 001_three.cql at statement 2" in resumed.out
    assert {"one", "two", "three"} <= tables(cql, cassandra_keyspace)
    assert ledger(cql, cassandra_keyspace) == {"001": "applied"}


def test_a_fix_that_rewrites_statements_already_run_is_refused(cs_env, cql, cassandra_keyspace, capsys):
    args = ("--migrations-dir", str(cs_env))
    path = write(
        cs_env,
        "001_two.cql",
        """
        CREATE TABLE one (id int PRIMARY KEY);
        CREATE TABLE two (id int PRIMARY KEY, note txt);
        """,
    )
    assert harness(capsys, "cassandra", "up", *args).code == 2
    path.write_text("CREATE TABLE one_renamed (id int PRIMARY KEY);\nCREATE TABLE two (id int PRIMARY KEY);\n")
    refused = harness(capsys, "cassandra", "up", *args)
    assert refused.code == 2 and "statement 1 already ran, but the file now changes it" in refused.err


def test_an_irreversible_migration_refuses_down_and_changes_nothing(cs_env, cql, cassandra_keyspace, capsys):
    args = ("--migrations-dir", str(cs_env))
    write(cs_env, "001_upto.cql", "CREATE TABLE kept (id int PRIMARY KEY);\n")
    assert harness(capsys, "cassandra", "up", *args).code == 0
    refused = harness(capsys, "cassandra", "down", *args)
    assert refused.code == 2 and "001_upto.cql is irreversible" in refused.err
    assert "kept" in tables(cql, cassandra_keyspace)


@pytest.mark.parametrize(
    "content",
    [
        "-- migrate:down\nDROP TABLE a;\n",
        "-- migrate:up\nCREATE TABLE a (id int PRIMARY KEY, s text);\nINSERT INTO a (id, s) VALUES (1, 'open);\n",
        b"CREATE TABLE a (id int PRIMARY KEY, s text); -- \xff\n",
        "-- migrate:up transaction:false\nCREATE TABLE a (id int PRIMARY KEY);\n",
    ],
    ids=["down-without-up", "unterminated-string", "not-utf8", "transaction-option"],
)
def test_a_bad_file_leaves_the_keyspace_uncreated(cs_env, cql, cassandra_keyspace, capsys, content):
    write(cs_env, "001_good.cql", "CREATE TABLE good (id int PRIMARY KEY);\n")
    bad = cs_env / "002_bad.cql"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = harness(capsys, "cassandra", "up", "--migrations-dir", str(cs_env))
    assert result.code == 2 and f"{bad}:" in result.err
    rows = cql.execute(
        "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = %s", (cassandra_keyspace,)
    )
    assert list(rows) == []


def test_eight_concurrent_appliers_apply_each_migration_exactly_once(cs_env, cql, cassandra_keyspace, cassandra_server):
    write(cs_env, "000_log.cql", "CREATE TABLE applied_log (version text PRIMARY KEY, runs counter);\n")
    for i in range(1, 5):
        write(
            cs_env,
            f"00{i}_t.cql",
            f"""
            CREATE TABLE t{i} (id int PRIMARY KEY);
            UPDATE applied_log SET runs = runs + 1 WHERE version = '00{i}';
            """,
        )
    env = {**cassandra_env(cassandra_server, cassandra_keyspace)}
    procs = [harness_process(env, "cassandra", "up", "--migrations-dir", str(cs_env)) for _ in range(8)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [o[1] for o in outs]
    applied = [line for out, _ in outs for line in out.splitlines() if line.startswith("Applied:")]
    assert len(applied) == 5
    runs = {r.version: r.runs for r in cql.execute(f'SELECT version, runs FROM "{cassandra_keyspace}".applied_log')}
    assert runs == {f"00{i}": 1 for i in range(1, 5)}


def test_a_lease_left_by_a_dead_applier_is_taken_over_after_it_expires(cs_env, cql, cassandra_keyspace, capsys):
    args = ("--migrations-dir", str(cs_env), "--lock-ttl", "3")
    write(cs_env, "001_a.cql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    assert harness(capsys, "cassandra", "status", *args).code == 0  # creates nothing
    write(cs_env, "000_none.cql", "CREATE TABLE z (id int PRIMARY KEY);\n")
    assert harness(capsys, "cassandra", "up", "--to", "000", *args).code == 0
    # A holder that died without releasing: its row stays until the lease (TTL) runs out.
    cql.execute(
        f'INSERT INTO "{cassandra_keyspace}".{LOCK_TABLE} (name, owner, acquired_at) '
        "VALUES (%s, 'dead-host:1', toTimestamp(now())) USING TTL 3",
        (LOCK_NAME,),
    )
    started = time.monotonic()
    result = harness(capsys, "cassandra", "up", *args)
    waited = time.monotonic() - started
    assert result.code == 0, result.err
    assert re.search(
        r"Waiting: the migration lock is held by dead-host:1 \(its lease runs out in [0-3]s unless renewed", result.out
    ), result.out
    assert "Applied: 001_a.cql" in result.out
    assert waited >= 1.0, "it must have waited for the lease to expire"


def test_a_held_lease_makes_a_second_applier_give_up_with_a_clear_error(cs_env, cql, cassandra_keyspace, capsys):
    args = ("--migrations-dir", str(cs_env), "--lock-timeout", "1")
    write(cs_env, "001_a.cql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    assert harness(capsys, "cassandra", "up", "--to", "000", *args).code == 0
    cql.execute(
        f'INSERT INTO "{cassandra_keyspace}".{LOCK_TABLE} (name, owner, acquired_at) '
        "VALUES (%s, 'busy-host:2', toTimestamp(now())) USING TTL 60",
        (LOCK_NAME,),
    )
    result = harness(capsys, "cassandra", "up", *args)
    assert result.code == 2 and "held by busy-host:2" in result.err and "nothing was applied" in result.err
    assert "a" not in tables(cql, cassandra_keyspace)


def test_a_lease_renewed_past_its_ttl_keeps_its_owner_and_is_released(
    cs_env, cassandra_server, cassandra_keyspace, cql
):
    from harness.stores.cassandra.store import CassandraStore

    holder = CassandraStore(cassandra_server, cassandra_keyspace, lock_ttl=3)
    try:
        with holder.lock(lambda _m: None):
            time.sleep(4.5)  # longer than the lease: only renewals keep it
            row = cql.execute(
                f'SELECT owner FROM "{cassandra_keyspace}".{LOCK_TABLE} WHERE name = %s', (LOCK_NAME,)
            ).one()
            assert row is not None and row.owner == holder.lease.owner
            assert holder.lease.held
    finally:
        holder.close()
    left = cql.execute(f'SELECT owner FROM "{cassandra_keyspace}".{LOCK_TABLE} WHERE name = %s', (LOCK_NAME,)).one()
    assert left is None, "the release must delete the whole row"


@pytest.mark.parametrize("renewals", ["stalled", "on time"])
def test_a_ledger_write_failing_after_the_lease_ran_out_reports_the_lost_lease_with_the_write_error(
    cs_env, cassandra_server, cassandra_keyspace, cql, renewals
):
    """A cluster that stalls during a ledger write stalls the renewals too: the lost lease is the report (the write's
    error its detail), whichever of the two the applier sees first; with the lease held, the write's error alone."""
    from harness.errors import LockError, StoreError
    from harness.migrations import discover
    from harness.stores.cassandra.store import LEDGER, CassandraStore

    write(cs_env, "001_a.cql", "-- migrate:up\nCREATE TABLE a (id int PRIMARY KEY);\n-- migrate:down\nDROP TABLE a;\n")
    (migration,) = discover(cs_env, "cassandra")
    store = CassandraStore(cassandra_server, cassandra_keyspace, lock_ttl=3)
    now = [time.monotonic()]
    store.lease._clock = lambda: now[0]  # the lease's own time: it sees its renewals stall when this moves on
    real_exec = store._exec

    def ledger_write_across_a_stall(cql_text: str, params: Any = None) -> Any:
        if renewals == "stalled" and cql_text.startswith("UPDATE"):
            now[0] += 60
            assert not store.lease.held
        return real_exec(cql_text, params)

    try:
        store.ensure_ledger()
        with store.lock(lambda _m: None):
            cql.execute(f'DROP TABLE "{cassandra_keyspace}".{LEDGER}')  # the real server refuses the write
            store._exec = ledger_write_across_a_stall  # type: ignore[method-assign,assignment]
            expected: tuple[type[Exception], str] = (
                (LockError, r"lost the migration lock before recording 001_a\.cql was done \(the write failed: ")
                if renewals == "stalled"
                else (StoreError, r"schema_migrations")
            )
            with pytest.raises(expected[0], match=expected[1]) as raised:
                store._record(migration, "running", 0)
            assert renewals == "stalled" or not isinstance(raised.value, LockError)
    finally:
        store.close()


def test_a_lease_shorter_than_three_seconds_is_refused(cassandra_server, cassandra_keyspace):
    from harness.errors import ConfigError
    from harness.stores.cassandra.store import CassandraStore

    with pytest.raises(ConfigError, match="at least 3 seconds"):
        CassandraStore(cassandra_server, cassandra_keyspace, lock_ttl=0)


def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_over_at_once(cs_env, cql, cassandra_keyspace, capsys):
    import socket
    import subprocess
    import sys

    args = ("--migrations-dir", str(cs_env), "--lock-ttl", "60")
    write(cs_env, "001_a.cql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    assert harness(capsys, "cassandra", "up", "--to", "000", *args).code == 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{socket.gethostname()}:{gone.stdout.strip()}:0f0e"
    cql.execute(
        f'INSERT INTO "{cassandra_keyspace}".{LOCK_TABLE} (name, owner, acquired_at) '
        "VALUES (%s, %s, toTimestamp(now())) USING TTL 60",
        (LOCK_NAME, dead),
    )
    started = time.monotonic()
    result = harness(capsys, "cassandra", "up", *args)
    assert result.code == 0, result.err
    assert "Applied: 001_a.cql" in result.out and "Waiting" not in result.out
    assert time.monotonic() - started < 30, "a provably dead holder must not cost its 60 s lease"


def test_a_comment_only_file_is_applied_as_a_recorded_no_op_and_says_so(cs_env, cql, cassandra_keyspace, capsys):
    write(cs_env, "001_a.cql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    write(
        cs_env, "002_placeholder.cql", "// This version was used by a reverted change; kept so numbers stay stable.\n"
    )
    write(cs_env, "003_b.cql", "/* Licensed to you under the MIT licence. */\nCREATE TABLE b (id int PRIMARY KEY);\n")
    result = harness(capsys, "cassandra", "up", "--migrations-dir", str(cs_env))
    assert result.code == 0, result.err
    assert "Applied: 002_placeholder.cql in" in result.out and "(no-op: the file holds only comments)" in result.out
    assert ledger(cql, cassandra_keyspace) == {"001": "applied", "002": "applied", "003": "applied"}


def test_baseline_records_without_running_and_refuses_a_ledger_with_rows(cs_env, cql, cassandra_keyspace, capsys):
    cql.execute(f'CREATE KEYSPACE "{cassandra_keyspace}" WITH replication = {ONE_REPLICA}')
    cql.execute(f'CREATE TABLE "{cassandra_keyspace}".a (id int PRIMARY KEY)')  # made by another tool
    write(cs_env, "001_a.cql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    write(cs_env, "002_b.cql", "CREATE TABLE b (id int PRIMARY KEY);\n")
    args = ("--migrations-dir", str(cs_env))
    done = harness(capsys, "cassandra", "baseline", "--to", "001", *args)
    assert done.code == 0, done.err
    assert ledger(cql, cassandra_keyspace) == {"001": "baselined"}
    status = harness(capsys, "cassandra", "status", *args)
    assert "[B] 001_a.cql" in status.out and "[ ] 002_b.cql" in status.out
    again = harness(capsys, "cassandra", "baseline", "--to", "002", *args)
    assert again.code == 2 and "the ledger already has 1 row(s)" in again.err and "--force" in again.err
    up = harness(capsys, "cassandra", "up", *args)
    assert up.code == 0 and "Applied: 002_b.cql" in up.out and "001_a.cql" not in up.out
