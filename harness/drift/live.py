"""Read a live database without writing to it: its ledger and its schema, nothing else.

The store is opened read-only (see the stores' ``read_only``): no migration lock (on Cassandra the lease is a
write), no database, keyspace or ledger creation, and on PostgreSQL a session in which the server itself refuses
every write. Reading the ledger and introspecting the schema are SELECTs only, so a role with nothing but read
rights is enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.config import CassandraSettings, PostgresSettings, Settings
from harness.errors import HarnessError
from harness.registry import factory
from harness.schema.model import SchemaModel
from harness.stores.base import AppliedMigration, Store


class Unreachable(HarnessError):
    """The live database cannot be read: drift cannot be checked (exit 2)."""


@dataclass(frozen=True)
class Live:
    """What a live store holds: where it is (no secrets), its ledger and its schema."""

    store: str
    where: str
    ledger: tuple[AppliedMigration, ...]
    model: SchemaModel


def live_connection(
    settings: Settings, store: str, *, url: str | None, hosts: str | None
) -> PostgresSettings | CassandraSettings:
    """The live target of ``store``, as its store commands find it (DATABASE_URL, PG*, CASSANDRA_*), with
    ``--url`` / ``--hosts`` winning."""
    flags: dict[str, dict[str, str | None]] = {"postgres": {"url": url}, "cassandra": {"hosts": hosts}}
    connection: PostgresSettings | CassandraSettings = settings.connection(store, **flags.get(store, {}))
    return connection.require()


def _quiet(_message: str) -> None:
    """The stores say nothing worth showing while reading."""


def read_live(store: str, connection: PostgresSettings | CassandraSettings) -> Live:
    """The ledger and the schema of one live store, read-only. Any failure to read is :class:`Unreachable`."""
    try:
        opened: Store = factory(store)(connection, create=False, notify=_quiet, read_only=True)
    except HarnessError as exc:
        raise Unreachable(first_line(exc)) from None
    try:
        return Live(store, opened.describe(), tuple(opened.applied()), opened.snapshot())
    except Exception as exc:  # a driver error while reading (permissions, a lost connection): one line
        raise Unreachable(f"{opened.describe()}: {_error_text(exc)}") from None
    finally:
        opened.close()


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _error_text(exc: BaseException) -> str:
    text = first_line(exc)
    return text if isinstance(exc, HarnessError) else f"{type(exc).__name__}: {text}"
