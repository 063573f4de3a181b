"""dbmate's `create` and `drop`, for Cassandra: the keyspace itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.errors import StoreError
from harness.stores.base import Notify
from harness.stores.cassandra.conn import connect, endpoint
from harness.stores.cassandra.keyspace import Replication, quote

if TYPE_CHECKING:
    from harness.config import CassandraSettings


def _run(settings: CassandraSettings, cql: str, what: str) -> None:
    try:
        cluster, session = connect(endpoint(settings))
    except Exception as exc:
        raise StoreError(f"cannot connect to Cassandra to {what}: {exc}") from None
    try:
        session.execute(cql)
    except Exception as exc:
        raise StoreError(f"cannot {what}: {exc}") from None
    finally:
        cluster.shutdown()


def create_target(settings: CassandraSettings, notify: Notify) -> None:
    """CREATE KEYSPACE with the configured replication; an existing one is an error, as in dbmate."""
    replication = Replication.parse(settings.replication).cql()
    _run(settings, f"CREATE KEYSPACE {quote(settings.keyspace)} WITH replication = {replication}",
         f"create keyspace {settings.keyspace}")  # fmt: skip
    notify(f"Creating: {settings.keyspace}")


def drop_target(settings: CassandraSettings, notify: Notify) -> None:
    _run(settings, f"DROP KEYSPACE IF EXISTS {quote(settings.keyspace)}", f"drop keyspace {settings.keyspace}")
    notify(f"Dropping: {settings.keyspace}")
