"""Schema model equality, JSON round trip and diff_models messages (pure, no database)."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.schema.diff import diff_models
from harness.schema.model import (
    Column,
    Constraint,
    Domain,
    Enum,
    Extension,
    Function,
    Index,
    MaterializedView,
    SchemaModel,
    Sequence,
    Table,
    Trigger,
    UserType,
    View,
)


def users(*, age_type: str = "integer", extra_index: bool = False) -> Table:
    indexes = [Index("users_pkey", "users", "btree", ("id",), unique=True, primary=True)]
    if extra_index:
        indexes.append(Index("users_email_idx", "users", "btree", ("email",)))
    return Table(
        "users",
        (
            Column("id", "integer", nullable=False, default="nextval('users_id_seq'::regclass)", position=1),
            Column("email", "character varying(255)", nullable=False, position=2),
            Column("age", age_type, position=3),
        ),
        (Constraint("users_pkey", "primary_key", ("id",), definition="PRIMARY KEY (id)"),),
        tuple(indexes),
    )


def full_model() -> SchemaModel:
    """One of every kind, so the JSON round trip covers every field type."""
    return SchemaModel(
        "postgres",
        tables=(
            users(),
            Table(
                "posts",
                (Column("id", "bigint", position=1), Column("user_id", "integer", position=2)),
                (
                    Constraint(
                        "posts_user_id_fkey",
                        "foreign_key",
                        ("user_id",),
                        "users",
                        ("id",),
                        "cascade",
                        "no action",
                        "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
                    ),
                ),
                (Index("posts_user_idx", "posts", "btree", ("user_id",), predicate="user_id > 0"),),
                (("partition_by", "RANGE (id)"),),
            ),
        ),
        sequences=(Sequence("users_id_seq", "integer", 1, 1, 1, 2147483647, 1, False, "users.id"),),
        enums=(Enum("mood", ("sad", "ok")),),
        views=(View("v", "SELECT 1", (Column("x", "integer", position=1),)),),
        materialized_views=(
            MaterializedView("mv", "SELECT 1", (Column("x", "integer", position=1),), (Index("mv_x", "mv"),)),
        ),
        functions=(Function("f", "a integer", "integer", "function", "sql", "CREATE FUNCTION f ..."),),
        triggers=(Trigger("t", "users", "CREATE TRIGGER t ...", "O"),),
        extensions=(Extension("citext", "1.6", "public"),),
        user_types=(UserType("pair", (("a", "integer"), ("b", "text"))),),
        domains=(Domain("posint", "integer", False, "1", ("CHECK (VALUE > 0)",)),),
        options=(("k", "v"),),
    )


def test_equal_models_have_no_diff_and_equal_hashes() -> None:
    assert diff_models(full_model(), full_model()) == []
    assert hash(full_model()) == hash(full_model())


def test_construction_order_does_not_matter() -> None:
    a = full_model()
    shuffled = dataclasses.replace(
        a,
        tables=tuple(
            dataclasses.replace(t, columns=t.columns[::-1], indexes=t.indexes[::-1]) for t in reversed(a.tables)
        ),
    )
    assert shuffled == a
    assert [c.name for c in shuffled.table("users").columns] == ["id", "email", "age"]  # type: ignore[union-attr]


def test_json_round_trip_through_text() -> None:
    model = full_model()
    text = json.dumps(model.to_json())
    assert SchemaModel.from_json(json.loads(text)) == model


def test_index_left_behind() -> None:
    before = SchemaModel("postgres", tables=(users(),))
    after = SchemaModel("postgres", tables=(users(extra_index=True),))
    assert diff_models(before, after) == ["index users_email_idx on users: present after, absent before"]
    assert diff_models(after, before) == ["index users_email_idx on users: absent after"]


def test_column_type_change() -> None:
    before = SchemaModel("postgres", tables=(users(),))
    after = SchemaModel("postgres", tables=(users(age_type="bigint"),))
    assert diff_models(before, after) == ["column users.age: type integer -> bigint"]


def test_sequence_lost_and_table_added() -> None:
    before = full_model()
    after = dataclasses.replace(
        before, sequences=(), tables=(*before.tables, Table("extra", (Column("id", "integer", position=1),)))
    )
    assert diff_models(before, after) == [
        "table extra: present after, absent before",
        "sequence users_id_seq: absent after",
    ]


def test_every_attribute_change_is_named() -> None:
    before = full_model()
    users_before = before.table("users")
    assert users_before is not None
    changed_users = dataclasses.replace(
        users_before,
        columns=(
            dataclasses.replace(users_before.columns[0], default=None),
            dataclasses.replace(users_before.columns[1], nullable=True),
            users_before.columns[2],
        ),
        constraints=(
            dataclasses.replace(users_before.constraints[0], definition="PRIMARY KEY (id, email)"),
            Constraint("users_age_check", "check", ("age",), definition="CHECK (age > 0)"),
        ),
        options=(("row_security", "enabled"),),
    )
    after = dataclasses.replace(
        before,
        tables=(changed_users, *(t for t in before.tables if t.name != "users")),
        enums=(Enum("mood", ("sad", "ok", "happy")),),
        functions=(dataclasses.replace(before.functions[0], definition="CREATE FUNCTION f ... v2"),),
        triggers=(dataclasses.replace(before.triggers[0], enabled="D"),),
        extensions=(Extension("citext", "1.7", "public"),),
        options=(("k", "w"),),
    )
    assert diff_models(before, after) == [
        "column users.id: default nextval('users_id_seq'::regclass) -> (none)",
        "column users.email: nullable false -> true",
        "constraint users_pkey on users: definition PRIMARY KEY (id) -> PRIMARY KEY (id, email)",
        "constraint users_age_check on users: present after, absent before",
        "table users option row_security: (none) -> enabled",
        "enum mood: labels (sad, ok) -> (sad, ok, happy)",
        "function f(a integer): definition CREATE FUNCTION f ... -> CREATE FUNCTION f ... v2",
        "trigger t on users: enabled O -> D",
        "extension citext: version 1.6 -> 1.7",
        "schema option k: v -> w",
    ]


def test_cassandra_columns_and_options() -> None:
    def events(order: str, ttl: str) -> SchemaModel:
        return SchemaModel(
            "cassandra",
            tables=(
                Table(
                    "events",
                    (
                        Column("user_id", "uuid", False, kind="partition_key", position=0),
                        Column("at", "timestamp", False, kind="clustering", position=0, clustering_order=order),
                        Column("body", "text", kind="regular", position=-1),
                    ),
                    options=(("default_time_to_live", ttl), ("gc_grace_seconds", "864000")),
                ),
            ),
        )

    model = events("desc", "0")
    assert [c.name for c in model.tables[0].columns] == ["user_id", "at", "body"]
    assert model.tables[0].primary_key == ("user_id",)
    assert diff_models(events("desc", "0"), events("asc", "3600")) == [
        "column events.at: clustering order desc -> asc",
        "table events option default_time_to_live: 0 -> 3600",
    ]


def test_store_change() -> None:
    assert diff_models(SchemaModel("postgres"), SchemaModel("cassandra")) == ["store: postgres -> cassandra"]


_names = st.sampled_from(["a", "b", "c"])
_columns = st.lists(
    st.builds(Column, name=_names, type=st.sampled_from(["integer", "text"]), nullable=st.booleans()),
    unique_by=lambda c: c.name,
    max_size=3,
)
_tables = st.lists(
    st.builds(
        Table,
        name=_names,
        columns=_columns.map(tuple),
        indexes=st.lists(st.builds(Index, name=_names, table=st.just("t")), unique_by=lambda i: i.name).map(tuple),
    ),
    unique_by=lambda t: t.name,
    max_size=3,
)
_models = st.builds(
    SchemaModel,
    store=st.just("postgres"),
    tables=_tables.map(tuple),
    sequences=st.lists(st.builds(Sequence, name=_names), unique_by=lambda s: s.name).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(_models, _models)
def test_diff_is_empty_exactly_when_equal(a: SchemaModel, b: SchemaModel) -> None:
    assert (diff_models(a, b) == []) == (a == b)
    assert SchemaModel.from_json(json.loads(json.dumps(a.to_json()))) == a
