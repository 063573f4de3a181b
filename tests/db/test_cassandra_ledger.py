"""The Cassandra ledger on a real server: writes carry the server's time whatever the client's clock says, a
ledger longer than a page is read page by page, whole, and only a check's throwaway keyspace skips the commit log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import applier
from harness.checks.target import Databases, Project, Target
from harness.migrations import discover
from harness.servers.base import CassandraServer
from harness.stores.cassandra.store import LEDGER, LOCK_NAME, LOCK_TABLE, CassandraStore
from tests.recovery_support import write

pytestmark = pytest.mark.cassandra
DAY_US = 86_400 * 1_000_000


@pytest.fixture
def store(cassandra_server: CassandraServer, cassandra_keyspace: str) -> Iterator[CassandraStore]:
    opened = CassandraStore(cassandra_server, cassandra_keyspace)
    yield opened
    opened.close()


def server_now_us(cql: Any) -> int:
    return int(cql.execute("SELECT toUnixTimestamp(now()) AS ms FROM system.local").one().ms) * 1000


def a_day_ahead() -> int:
    return int(time.time() * 1_000_000) + DAY_US


def test_ledger_and_lease_writes_take_the_servers_time_even_from_a_client_a_day_ahead(
    store, cql, cassandra_keyspace, tmp_path
):
    store.cluster.timestamp_generator = a_day_ahead  # what the driver would stamp writes with
    write(tmp_path, "001_a.cql", "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id int PRIMARY KEY);\n")
    lease_times = []

    def during(message: str) -> None:
        del message

    with store.lock(during):
        row = cql.execute(
            f'SELECT WRITETIME(owner) AS at FROM "{cassandra_keyspace}".{LOCK_TABLE} WHERE name = %s', (LOCK_NAME,)
        ).one()
        lease_times.append(row.at)
    applier.up(store, discover(tmp_path, "cassandra"), during)
    now = server_now_us(cql)

    ledger = cql.execute(
        f'SELECT WRITETIME(status) AS status_at, WRITETIME(statements_done) AS done_at FROM "{cassandra_keyspace}".'
        f"{LEDGER} WHERE version = '001'"
    ).one()
    for stamp in (ledger.status_at, ledger.done_at, *lease_times):
        assert abs(stamp - now) < 120 * 1_000_000, f"written at {stamp}, server time {now}: not the server's clock"


def test_the_client_stamp_would_have_been_a_day_ahead(cql, cassandra_keyspace):
    """The control case: a session that lets the client stamp writes gets the patched clock's time."""
    cql.execute(
        f"CREATE KEYSPACE \"{cassandra_keyspace}\" WITH replication = {{'class': 'SimpleStrategy', "
        "'replication_factor': 1}"
    )
    cql.execute(f'CREATE TABLE "{cassandra_keyspace}".t (id int PRIMARY KEY, v int)')
    cql.cluster.timestamp_generator = a_day_ahead
    cql.execute(f'INSERT INTO "{cassandra_keyspace}".t (id, v) VALUES (1, 1)')
    at = cql.execute(f'SELECT WRITETIME(v) AS at FROM "{cassandra_keyspace}".t WHERE id = 1').one().at
    assert at - server_now_us(cql) > DAY_US - 120 * 1_000_000


def test_a_ledger_longer_than_one_page_is_read_page_by_page_and_whole(
    cassandra_server, cassandra_keyspace, tmp_path: Path
):
    for i in range(1, 121):
        write(tmp_path, f"{i:03d}_t.cql", f"CREATE TABLE t{i} (id int PRIMARY KEY);\n")
    migrations = discover(tmp_path, "cassandra")
    paged = CassandraStore(cassandra_server, cassandra_keyspace, ledger_page=50)
    sizes: list[int] = []
    execute = paged.session.execute

    def counting(statement: Any, *args: Any, **kwargs: Any) -> Any:
        result = execute(statement, *args, **kwargs)
        if LEDGER in str(getattr(statement, "query_string", "")) and "SELECT version" in statement.query_string:
            sizes.append(len(result.current_rows))
        return result

    try:
        applier.baseline(paged, migrations, lambda _m: None, "120")
        paged.session.execute = counting
        versions = [r.version for r in paged.applied()]
    finally:
        paged.close()
    assert sorted(versions) == [f"{i:03d}" for i in range(1, 121)]
    assert sizes == [50], "the first page holds 50 rows; the rest came in further pages"


def _durable_writes(cql: Any, keyspace: str) -> bool:
    row = cql.execute("SELECT durable_writes FROM system_schema.keyspaces WHERE keyspace_name = %s", (keyspace,)).one()
    return bool(row.durable_writes)


def test_the_applier_creates_a_durable_keyspace_and_a_checks_throwaway_keyspace_skips_the_commit_log(
    cassandra_server, cql, harness_keyspace_dropper
):
    names = {"applier": f"durable_{time.monotonic_ns()}", "check": f"throwaway_{time.monotonic_ns()}"}
    check = Target(Project(migrations={}), Databases(cassandra=cassandra_server, keyspace=names["check"]))
    opened = {"applier": CassandraStore(cassandra_server, names["applier"]), "check": check.store("cassandra")}
    try:
        for store in opened.values():
            store.ensure_ledger()
        assert _durable_writes(cql, names["applier"]) is True
        assert _durable_writes(cql, names["check"]) is False
    finally:
        for name, store in opened.items():
            store.close()
            harness_keyspace_dropper.drop_later(names[name])
