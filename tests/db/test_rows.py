"""Rows through the store interface on real servers: written, read back by key, undone, and refusals as RowError.

Each test gets a database or keyspace of its own from the harness plugin; tables are made by DDL here and
described by the store's own introspection, as every caller of ``Store.rows()`` describes them.
"""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from harness.checks.target import cassandra_settings
from harness.config import PostgresSettings
from harness.fuzz.samples import SeededRows
from harness.schema.model import Table
from harness.stores.base import RowError
from harness.stores.cassandra.introspect import introspect_cassandra
from harness.stores.cassandra.rows import CassandraRows
from harness.stores.cassandra.store import open_cassandra
from harness.stores.postgres.introspect import introspect_postgres
from harness.stores.postgres.rows import PostgresRows
from harness.stores.postgres.store import open_postgres

ITEMS = """
CREATE TABLE items (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name varchar(5) NOT NULL,
    qty integer CONSTRAINT items_qty_check CHECK (qty >= 0),
    doc jsonb,
    at timestamptz
);
"""


def _pg_table(conn: Any, name: str) -> Table:
    table = introspect_postgres(conn).table(name)
    assert table is not None
    return table


# --- PostgreSQL ---------------------------------------------------------------------------------------------


def test_a_postgres_row_reads_back_by_its_primary_key_as_written(pg_conn: Any):
    pg_conn.execute(ITEMS)
    rows, items = PostgresRows(pg_conn), _pg_table(pg_conn, "items")
    at = datetime(2001, 2, 3, 4, 5, 6, 789654, tzinfo=UTC)
    stored = rows.insert(items, {"id": 7, "name": "abc", "qty": 2, "doc": {"k": [1, 2]}, "at": at})
    assert stored["id"] == 7  # an ALWAYS identity takes the given value (OVERRIDING SYSTEM VALUE)
    (found,) = rows.select(items, {"id": 7})
    assert (found["name"], found["qty"], found["doc"], found["at"]) == ("abc", 2, {"k": [1, 2]}, at)
    assert rows.exists(items, {"id": 7}) and not rows.exists(items, {"id": 8})
    assert rows.select(items, {"qty": None}) == []
    rows.delete(items, {"id": 7})
    assert rows.count(items) == 0


def test_a_refused_postgres_row_is_a_row_error_with_sqlstate_and_constraint(pg_conn: Any):
    pg_conn.execute(ITEMS)
    rows, items = PostgresRows(pg_conn), _pg_table(pg_conn, "items")
    with pytest.raises(RowError) as refused:
        rows.insert(items, {"name": "a", "qty": -1})
    error = refused.value
    assert (error.code, error.constraint, error.trouble) == ("23514", "items_qty_check", False)
    assert str(error) == f"{error.message} (23514)" and "items_qty_check" in error.message


def test_a_trial_is_undone_and_a_failed_batch_keeps_nothing(pg_conn: Any):
    pg_conn.execute(ITEMS)
    rows, items = PostgresRows(pg_conn), _pg_table(pg_conn, "items")
    with rows.trial():
        rows.insert(items, {"name": "a"})
        with rows.trial():
            rows.insert(items, {"name": "b"})
        assert rows.count(items) == 1  # the inner trial undid only its own row
    assert rows.count(items) == 0
    with pytest.raises(RowError), rows.batch():
        rows.insert(items, {"name": "c"})
        rows.insert(items, {"name": "toolong"})
    assert rows.count(items) == 0
    with rows.batch():
        rows.insert(items, {"name": "d"})
    assert [r["name"] for r in rows.select(items)] == ["d"]


def test_a_failed_batch_inside_a_trial_undoes_only_its_own_rows_and_the_trial_goes_on(pg_conn: Any):
    pg_conn.execute(ITEMS)
    rows, items = PostgresRows(pg_conn), _pg_table(pg_conn, "items")
    with rows.trial():
        rows.insert(items, {"name": "a"})
        with pytest.raises(RowError), rows.batch():  # a savepoint: the transaction is usable after the error
            rows.insert(items, {"name": "b"})
            rows.insert(items, {"name": "toolong"})
        with rows.batch():
            rows.insert(items, {"name": "c"})
        with pytest.raises(KeyError), rows.trial():  # any exception undoes the nested scope, not only RowError
            rows.insert(items, {"name": "d"})
            raise KeyError("d")
        assert sorted(str(r["name"]) for r in rows.select(items)) == ["a", "c"]
        assert pg_conn.execute("SHOW TimeZone").fetchone()[0] == "UTC"  # the outermost trial's settings hold
    assert rows.count(items) == 0


def test_the_postgres_probe_names_the_value_its_column_type_refuses(pg_conn: Any):
    pg_conn.execute(ITEMS)
    rows, items = PostgresRows(pg_conn), _pg_table(pg_conn, "items")
    row = {"name": "sixsix", "qty": -1}
    name, error = rows.probe(items, row) or (None, None)
    assert name == "name" and error is not None and error.code == "22001"  # the CHECK is not in the copy
    assert rows.probe(items, {"name": "ok", "qty": -1}) is None
    assert rows.count(items) == 0


def test_the_postgres_store_hands_out_rows_on_its_connection(pg_url: str, pg_conn: Any):
    pg_conn.execute(ITEMS)
    store = open_postgres(PostgresSettings(url=pg_url))
    try:
        rows = store.rows()
        rows.insert(_pg_table(pg_conn, "items"), {"name": "e"})
    finally:
        store.close()
    assert pg_conn.execute("SELECT name FROM items").fetchall() == [("e",)]


# --- Cassandra ----------------------------------------------------------------------------------------------

EVENTS = (
    "CREATE TABLE events (day text, at timestamp, id uuid, note ascii, tags set<text>, origin inet,"
    " amount decimal, PRIMARY KEY ((day), at, id))"
)


def _cassandra_table(session: Any, name: str) -> Table:
    table = introspect_cassandra(session, session.keyspace).table(name)
    assert table is not None
    return table


def test_a_cassandra_row_reads_back_by_its_primary_key_as_written(cassandra_session: Any):
    cassandra_session.execute(EVENTS)
    rows = CassandraRows(cassandra_session, cassandra_session.keyspace)
    events = _cassandra_table(cassandra_session, "events")
    at = datetime(2001, 2, 3, 4, 5, 6, 789000)
    key: dict[str, object] = {"day": "d1", "at": at, "id": uuid.uuid4()}
    values: dict[str, object] = {"note": "hi", "tags": frozenset({"a", "b"}),
                                 "origin": ipaddress.ip_address("10.0.0.1"), "amount": Decimal("1.50")}  # fmt: skip
    found: dict[str, Any] = rows.insert(events, {**key, **values}, read_back=True)
    assert (found["note"], set(found["tags"]), found["origin"], found["amount"]) == (
        "hi", {"a", "b"}, "10.0.0.1", Decimal("1.50"),
    )  # fmt: skip
    assert found["at"] == at  # naive UTC, milliseconds
    assert rows.exists(events, {"day": "d1"}) and not rows.exists(events, {"day": "d2"})
    assert rows.count(events) == 1
    rows.delete(events, {"day": "d1"})
    assert rows.select(events) == []


def test_a_cassandra_row_without_its_partition_key_is_an_invalid_request(cassandra_session: Any):
    cassandra_session.execute(EVENTS)
    rows = CassandraRows(cassandra_session, cassandra_session.keyspace)
    events = _cassandra_table(cassandra_session, "events")
    with pytest.raises(RowError) as refused:
        rows.insert(events, {"at": datetime(2001, 1, 1), "id": uuid.uuid4()})
    assert refused.value.code == "InvalidRequest" and not refused.value.trouble
    assert str(refused.value).startswith("InvalidRequest: ")


def test_the_cassandra_probe_names_the_value_refused_and_leaves_nothing(cassandra_session: Any):
    cassandra_session.execute(EVENTS)
    rows = CassandraRows(cassandra_session, cassandra_session.keyspace)
    events = _cassandra_table(cassandra_session, "events")
    row = {"day": "d1", "at": datetime(2001, 1, 1), "id": uuid.uuid4(), "note": "é"}
    name, error = rows.probe(events, row) or (None, None)
    assert name == "note" and error is not None and error.code
    assert rows.count(events) == 0


def test_cassandra_refuses_a_trial_it_cannot_undo(cassandra_server: Any, cassandra_keyspace: str):
    store = open_cassandra(cassandra_settings(cassandra_server, cassandra_keyspace))
    try:
        with pytest.raises(RowError, match="no transactions"):
            store.rows().trial()
    finally:
        store.close()


def test_a_seeded_cassandra_row_that_disappears_is_reported_by_its_table(cassandra_session: Any):
    cassandra_session.execute(EVENTS)
    model = introspect_cassandra(cassandra_session, cassandra_session.keyspace)
    notes: list[str] = []
    seeded = SeededRows(CassandraRows(cassandra_session, cassandra_session.keyspace), None, notes, "C")
    seeded.seed(model)
    assert notes == [] and seeded.lost(model, {"events"}) == []
    cassandra_session.execute("TRUNCATE events")
    (lost,) = seeded.lost(model, {"events"})
    assert lost.startswith("C events: row {") and lost.endswith(" is gone or changed"), lost
