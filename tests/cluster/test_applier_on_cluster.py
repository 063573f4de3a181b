"""The applier on a real 3-node cluster in two datacenters (dc1: 127.0.0.1-2, dc2: 127.0.0.3), on keyspaces with
NetworkTopologyStrategy dc1=2, dc2=1: schema agreement on every node, a node that stops answering, a node down,
concurrent appliers through different nodes, kill -9, and a lease whose renewals stall.

One cluster for the whole lane (the plugin's session server, `tox -e cluster`); tests that pause nodes resume them
in a `finally` and wait until the cluster agrees again.
"""

from __future__ import annotations

import os
import re
import signal
import time
from typing import Any

import pytest

from harness import applier
from harness.config import CassandraSettings
from harness.errors import StoreError
from harness.migrations import discover
from harness.stores.cassandra.store import LEDGER, open_cassandra
from tests.cluster.conftest import (
    DCS,
    NTS,
    cluster_env,
    node_log,
    paused,
    schema_versions,
    seen_down,
    single_node_session,
    wait_until,
)
from tests.recovery_support import cli, start, write

pytestmark = [pytest.mark.cluster, pytest.mark.cassandra, pytest.mark.slow]


def settings(server: Any, keyspace: str, **extra: Any) -> CassandraSettings:
    return CassandraSettings(
        hosts=server.contact_points, port=server.port, keyspace=keyspace, local_dc="dc1", replication=NTS, **extra
    )


def tables_on_every_node(port: int, keyspace: str) -> dict[str, set[str]]:
    found = {}
    for address in DCS:
        cluster, session = single_node_session(address, port)
        try:
            rows = session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (keyspace,))
            found[address] = {r.table_name for r in rows}
        finally:
            cluster.shutdown()
    return found


def ledger(server: Any, keyspace: str) -> list[tuple[str, str, int]]:
    cluster, session = single_node_session("127.0.0.1", server.port)
    try:
        from cassandra import ConsistencyLevel
        from cassandra.query import SimpleStatement

        query = SimpleStatement(
            f'SELECT version, status, statements_done FROM "{keyspace}".{LEDGER}',
            consistency_level=ConsistencyLevel.QUORUM,
        )
        return sorted((r.version, r.status, r.statements_done) for r in session.execute(query))
    finally:
        cluster.shutdown()


TABLES = ("CREATE TYPE address (street text, zip int)",
          "CREATE TABLE users (id uuid PRIMARY KEY, name text, home frozen<address>)",
          "CREATE INDEX users_name ON users (name)",
          "CREATE TABLE events (user_id uuid, at timestamp, PRIMARY KEY (user_id, at))")  # fmt: skip


def test_every_node_has_the_new_schema_before_the_next_statement_runs(cluster, cassandra_keyspace, tmp_path):
    write(tmp_path, "001_schema.cql", "".join(f"{s};\n" for s in TABLES))
    store = open_cassandra(settings(cluster, cassandra_keyspace))
    sessions = {address: single_node_session(address, cluster.port) for address in DCS}
    seen: list[tuple[str, dict[str, str]]] = []
    wait = store.agreement.await_agreement

    def then_ask_every_node(where: str, what: str) -> None:
        wait(where, what)
        ask = "SELECT schema_version FROM system.local"
        seen.append((what, {a: str(s.execute(ask).one()[0]) for a, (_c, s) in sessions.items()}))

    store.agreement.await_agreement = then_ask_every_node  # type: ignore[method-assign]
    try:
        applier.up(store, discover(tmp_path, "cassandra"), lambda _m: None)
    finally:
        store.close()
        for cl, _s in sessions.values():
            cl.shutdown()
    assert [what for what, _v in seen if what in TABLES] == list(TABLES), "agreement after each schema statement"
    for what, versions in seen:
        assert len(set(versions.values())) == 1, f"after `{what}` the nodes report {versions}"


def test_a_node_that_stops_answering_fails_agreement_by_name_and_up_resumes_once_it_is_back(
    cluster, node_pids, cassandra_keyspace, tmp_path
):
    write(tmp_path, "001_three.cql", "".join(f"{s};\n" for s in TABLES[:2]) + f"{TABLES[3]};\n")
    store = open_cassandra(settings(cluster, cassandra_keyspace, agreement_timeout=5))
    send = store._send
    first = TABLES[0]

    def pause_node_3_before_the_first_statement(cql: str, *args: Any, **kwargs: Any) -> Any:
        if cql == first:  # the run is under way (lock held, ledger read, progress recorded): node 3 stops now
            os.kill(node_pids["127.0.0.3"], signal.SIGSTOP)
        return send(cql, *args, **kwargs)

    store._send = pause_node_3_before_the_first_statement  # type: ignore[method-assign]
    messages: list[str] = []
    try:
        with paused(node_pids, "127.0.0.3", port=cluster.port, later=True), pytest.raises(StoreError) as stopped:
            applier.up(store, discover(tmp_path, "cassandra"), messages.append)
        error = str(stopped.value)
    finally:
        store.close()
    assert ledger(cluster, cassandra_keyspace) == [("001", "stopped", 1)], f"statement 1 took effect: {error}"
    assert "schema agreement not reached within 5s after `CREATE TYPE address" in error
    assert "127.0.0.3 (dc2) answered when this run began but does not answer now" in error
    assert "statement 1 took effect and is recorded; once every node answers, run up again" in error

    resumed = cli(cluster_env(cluster, cassandra_keyspace, tmp_path), "cassandra", "up")
    assert resumed.code == 0, resumed
    assert "Resuming: 001_three.cql at statement 2" in resumed.out
    assert ledger(cluster, cassandra_keyspace)[0][1:] == ("applied", 3)
    for address, names in tables_on_every_node(cluster.port, cassandra_keyspace).items():
        assert {"users", "events"} <= names, address


def test_with_a_node_down_up_works_where_quorum_allows_and_names_it(cluster, node_pids, cassandra_keyspace, tmp_path):
    write(tmp_path, "001_a.cql", "CREATE TABLE a (id int PRIMARY KEY, v int);\nCREATE INDEX a_v ON a (v);\n")
    env = cluster_env(cluster, cassandra_keyspace, tmp_path)
    logs = {a: node_log(node_pids[a]).stat().st_size for a in DCS}
    with paused(node_pids, "127.0.0.2", port=cluster.port):
        # The others convict it (as for a crashed node); dc1 then has one replica of two: LOCAL_QUORUM would fail.
        others = ("127.0.0.1", "127.0.0.3")
        assert wait_until(lambda: all(seen_down(node_pids, "127.0.0.2", by, logs[by]) for by in others), 60)
        one_down = cli(env, "cassandra", "up")
        assert one_down.code == 0, one_down
        assert re.search(r"Note: Cassandra node\(s\) 127\.0\.0\.2 \(dc1\) does not answer", one_down.out)
        assert "Applied: 001_a.cql" in one_down.out

        write(tmp_path, "002_b.cql", "CREATE TABLE b (id int PRIMARY KEY);\n")
        with paused(node_pids, "127.0.0.3", port=cluster.port, wait=False):
            no_quorum = cli(env, "cassandra", "up")
        assert no_quorum.code == 2, no_quorum
        assert "127.0.0.2 (dc1), 127.0.0.3 (dc2) do not answer" in no_quorum.out
        errors = [line for line in no_quorum.err.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and "need a quorum of the keyspace's replicas" in errors[0], no_quorum.err
    assert "b" not in tables_on_every_node(cluster.port, cassandra_keyspace)["127.0.0.1"]
    assert tables_on_every_node(cluster.port, cassandra_keyspace)["127.0.0.2"] >= {"a"}, "it caught up once back"


def test_four_concurrent_appliers_through_different_nodes_apply_each_migration_once(
    cluster, cassandra_keyspace, tmp_path
):
    write(tmp_path, "000_log.cql", "CREATE TABLE applied_log (version text PRIMARY KEY, runs counter);\n")
    for i in range(1, 4):
        count = f"UPDATE applied_log SET runs = runs + 1 WHERE version = '00{i}';\n"
        write(tmp_path, f"00{i}_t.cql", f"CREATE TABLE t{i} (id int PRIMARY KEY);\n{count}")
    contact = [("127.0.0.1", "dc1"), ("127.0.0.2", "dc1"), ("127.0.0.3", "dc2"), ("127.0.0.3,127.0.0.1", "dc2")]
    procs = [
        start(
            cluster_env(cluster, cassandra_keyspace, tmp_path, CASSANDRA_HOSTS=hosts, CASSANDRA_LOCAL_DC=dc),
            "cassandra",
            "up",
        )
        for hosts, dc in contact
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outs
    applying = [line for out, _e in outs for line in out.splitlines() if line.startswith("Applying:")]
    assert sorted(applying) == [f"Applying: 00{i}_{'log' if i == 0 else 't'}.cql" for i in range(4)]
    cl, session = single_node_session("127.0.0.3", cluster.port)
    try:
        rows = session.execute(f'SELECT version, runs FROM "{cassandra_keyspace}".applied_log')
        assert {r.version: r.runs for r in rows} == {f"00{i}": 1 for i in range(1, 4)}
    finally:
        cl.shutdown()


KILLED = ("CREATE TABLE users (id uuid, at timestamp, name text, PRIMARY KEY (id, at))",
          "ALTER TABLE users ADD email text",
          "CREATE INDEX users_email ON users (email)",
          "ALTER TABLE users RENAME at TO created_at")  # fmt: skip


def test_kill_9_at_statement_boundaries_on_the_cluster_then_a_plain_up_finishes(cluster, cassandra_keyspace, tmp_path):
    write(tmp_path, "001_users.cql", "".join(f"{s};\n" for s in KILLED))
    env = cluster_env(cluster, cassandra_keyspace, tmp_path)
    points = [("after", 1), ("before", 2), ("after", 3), ("sent", 4)]
    for when, k in points:
        run = cli(env, "cassandra", "up", kill={"store": "cassandra", "when": when, "statement": KILLED[k - 1]})
        assert run.killed, run
    final = cli(env, "cassandra", "up")
    assert final.code == 0, final
    assert ledger(cluster, cassandra_keyspace) == [("001", "applied", 4)]
    versions = schema_versions(cluster.port)
    assert len(set(versions.values())) == 1, versions
    cl, session = single_node_session("127.0.0.3", cluster.port)
    try:
        columns = session.execute(
            "SELECT column_name FROM system_schema.columns WHERE keyspace_name = %s AND table_name = 'users'",
            (cassandra_keyspace,),
        )
        assert {r.column_name for r in columns} == {"id", "created_at", "name", "email"}
    finally:
        cl.shutdown()


def test_a_lease_whose_renewals_stall_past_its_ttl_stops_the_applier_and_a_second_one_finishes(
    cluster, node_pids, cassandra_keyspace, tmp_path
):
    statements = [f"CREATE TABLE t{i} (id int PRIMARY KEY)" for i in range(1, 6)]
    write(tmp_path, "001_five.cql", "".join(f"{s};\n" for s in statements))
    env = cluster_env(cluster, cassandra_keyspace, tmp_path)
    first = start(env, "cassandra", "up", "--lock-ttl", "3")

    def one_done() -> bool:
        try:
            return any(done >= 1 for _v, _s, done in ledger(cluster, cassandra_keyspace))
        except Exception:  # no keyspace or ledger yet
            return False

    try:
        assert wait_until(one_done, 60), "the first applier never got going"
        with paused(node_pids, *DCS, port=cluster.port):
            time.sleep(4)  # every renewal stalls: the 3 s lease is older than 2/3 of its TTL
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGKILL)
            first.wait()
    assert first.returncode == 2, (out, err)
    assert "lost the migration lock before" in err
    stopped_at = ledger(cluster, cassandra_keyspace)
    assert stopped_at[0][1] == "running" and stopped_at[0][2] < 5, stopped_at

    second = cli(env, "cassandra", "up")
    assert second.code == 0, second
    assert ledger(cluster, cassandra_keyspace) == [("001", "applied", 5)]
    assert {f"t{i}" for i in range(1, 6)} <= tables_on_every_node(cluster.port, cassandra_keyspace)["127.0.0.2"]
