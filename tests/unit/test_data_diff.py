"""Rows before a migration step against the rows after it: matched by key, compared where the type stayed."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from harness.checks.data_diff import Loss, first_loss, shown
from harness.fuzz.plan import plan_tables
from harness.schema.model import Column, Constraint, SchemaModel, Table

USERS = Table(
    "users",
    columns=(
        Column("id", "integer", nullable=False, position=1),
        Column("email", "text", position=2),
        Column("age", "integer", position=3),
    ),
    constraints=(Constraint("users_pkey", "primary_key", ("id",)),),
)
LOG = Table("log", columns=(Column("line", "text", position=1), Column("n", "integer", position=2)))
EVENTS = Table(
    "events",
    columns=(
        Column("author", "uuid", kind="partition_key", position=0),
        Column("at", "timestamp", kind="clustering", position=0),
        Column("body", "text", position=-1),
    ),
)
BEFORE = [{"id": 2, "email": "b@x", "age": 30}, {"id": 1, "email": "a@x", "age": None}]


def plan(table: Table, store: str = "postgres"):
    [found] = plan_tables(SchemaModel(store, tables=(table,)))  # type: ignore[arg-type]
    return found


def with_columns(table: Table, *columns: Column) -> Table:
    return Table(table.name, columns=columns, constraints=table.constraints)


def test_rows_read_back_in_another_order_are_no_loss():
    assert first_loss(plan(USERS), USERS, BEFORE, list(reversed(BEFORE))) is None


def test_the_first_changed_row_in_key_order_names_its_key_and_the_column():
    after = [{"id": 1, "email": "A@X", "age": None}, {"id": 2, "email": "B@X", "age": 30}]
    assert first_loss(plan(USERS), USERS, BEFORE, after) == Loss("users", "id=1", "email", "a@x", "A@X")
    assert Loss("users", "id=1", "email", "a@x", "A@X").describe() == "users row (id=1): email was 'a@x', now 'A@X'"


def test_a_missing_row_is_gone():
    loss = first_loss(plan(USERS), USERS, BEFORE, BEFORE[:1])
    assert loss == Loss("users", "id=1") and loss.describe() == "users row (id=1) is gone"


def test_declared_columns_dropped_columns_and_retyped_columns_are_not_compared():
    after = [{"id": 1, "email": "changed", "age": "30"}, {"id": 2, "email": "changed", "age": "31"}]
    retyped = with_columns(USERS, USERS.columns[0], USERS.columns[1], Column("age", "text", position=3))
    assert first_loss(plan(USERS), retyped, BEFORE, after, skip=["email"]) is None
    dropped = with_columns(USERS, USERS.columns[0], USERS.columns[2])
    assert first_loss(plan(USERS), dropped, BEFORE, [{"id": 1, "age": None}, {"id": 2, "age": 30}]) is None


def test_a_declared_key_column_makes_the_rows_match_on_everything_else():
    after = [{"id": 11, "email": "a@x", "age": None}, {"id": 12, "email": "b@x", "age": 31}]
    loss = first_loss(plan(USERS), USERS, BEFORE, after, skip=["id"])
    assert loss is not None and loss.column is None and loss.row == "email='b@x', age=30"


def test_a_table_without_a_key_is_compared_as_a_multiset():
    before = [{"line": "x", "n": 1}, {"line": "x", "n": 1}]
    assert first_loss(plan(LOG), LOG, before, list(before)) is None
    assert first_loss(plan(LOG), LOG, before, before[:1]) == Loss("log", "line='x', n=1")


def test_cassandra_rows_match_on_partition_and_clustering_columns_at_millisecond_precision():
    author = UUID("6f1c2c1e-2b9a-4d3e-8f4a-1b2c3d4e5f60")
    at = datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
    before = [{"author": author, "at": at, "body": "hello"}]
    assert first_loss(plan(EVENTS, "cassandra"), EVENTS, before, [{**before[0], "at": at.replace(tzinfo=None)}]) is None
    loss = first_loss(plan(EVENTS, "cassandra"), EVENTS, before, [{**before[0], "body": None}])
    assert loss is not None and loss.describe() == (
        "events row (author=6f1c2c1e-2b9a-4d3e-8f4a-1b2c3d4e5f60, at=2001-02-03T04:05:06.789000+00:00): "
        "body was 'hello', now None"
    )


def test_long_values_are_cut_and_say_their_length():
    assert shown("x" * 50) == repr("x" * 40) + "… (length 50)"
