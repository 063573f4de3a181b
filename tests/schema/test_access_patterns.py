"""Our Cassandra tables serve their intended queries: by partition key, without ALLOW FILTERING, newest first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from harness import applier
from harness.checks.target import cassandra_settings
from harness.migrations import discover
from harness.stores.cassandra.store import open_cassandra
from tests.db.applier_support import REPO

pytestmark = pytest.mark.cassandra

BASE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def migrated(cassandra_server, cassandra_session, cassandra_keyspace):
    store = open_cassandra(cassandra_settings(cassandra_server, cassandra_keyspace))
    try:
        applier.up(store, discover(REPO / "migrations" / "cassandra", "cassandra"), lambda _m: None)
    finally:
        store.close()
    return cassandra_session


def times(n: int) -> list[datetime]:
    """Inserted oldest first on purpose, so the order read back comes from the clustering order."""
    return [BASE + timedelta(minutes=i) for i in range(n)]


def naive_ms(ts: datetime) -> datetime:
    return ts.replace(tzinfo=None)


# table, partition key, clustering column, insert taking (key, time, *extra uuids)
LATEST_FIRST = [
    (
        "group_messages",
        "group_id",
        "created_at",
        "INSERT INTO group_messages (group_id, created_at, message_id, user_id, content) VALUES (%s, %s, %s, %s, 'hi')",
    ),
    (
        "user_notifications",
        "user_id",
        "notification_time",
        "INSERT INTO user_notifications (user_id, notification_time, notification_id, content, state, modified_at)"
        " VALUES (%s, %s, %s, 'c', 'unread', toTimestamp(now()))",
    ),
    (
        "user_purchases",
        "user_id",
        "purchase_time",
        "INSERT INTO user_purchases (user_id, purchase_time, purchase_id, product_type, amount, currency)"
        " VALUES (%s, %s, %s, 'book', 12.50, 'EUR')",
    ),
    (
        "user_session_events",
        "user_id",
        "event_time",
        "INSERT INTO user_session_events (user_id, event_time, session_id, event_type) VALUES (%s, %s, %s, 'login')",
    ),
]


@pytest.mark.parametrize(("table", "key", "clustering", "insert"), LATEST_FIRST, ids=[c[0] for c in LATEST_FIRST])
def test_the_latest_rows_of_a_partition_come_first_without_filtering(migrated, table, key, clustering, insert):
    session = migrated
    mine, other = uuid.uuid4(), uuid.uuid4()
    extra = insert.count("%s") - 2
    for owner in (mine, other):
        for ts in times(5):
            session.execute(insert, [owner, ts, *(uuid.uuid4() for _ in range(extra))])
    rows = list(session.execute(f"SELECT {key}, {clustering} FROM {table} WHERE {key} = %s LIMIT 3", (mine,)))
    assert [getattr(r, key) for r in rows] == [mine] * 3
    assert [getattr(r, clustering) for r in rows] == [naive_ms(t) for t in reversed(times(5))][:3]


def test_a_time_range_of_a_partition_needs_no_filtering(migrated):
    session = migrated
    user = uuid.uuid4()
    for ts in times(6):
        session.execute(
            "INSERT INTO user_purchases (user_id, purchase_time, purchase_id, product_type, amount, currency)"
            " VALUES (%s, %s, %s, 'book', %s, 'EUR')",
            (user, ts, uuid.uuid4(), Decimal("9.99")),
        )
    start, end = BASE + timedelta(minutes=1), BASE + timedelta(minutes=3)
    rows = list(
        session.execute(
            "SELECT purchase_time FROM user_purchases"
            " WHERE user_id = %s AND purchase_time >= %s AND purchase_time <= %s",
            (user, start, end),
        )
    )
    assert [r.purchase_time for r in rows] == [naive_ms(end), naive_ms(end - timedelta(minutes=1)), naive_ms(start)]


def test_querying_by_a_non_key_column_is_refused_without_allow_filtering(migrated):
    from cassandra import InvalidRequest

    with pytest.raises(InvalidRequest, match="ALLOW FILTERING"):
        migrated.execute("SELECT * FROM user_notifications WHERE state = 'unread'")
