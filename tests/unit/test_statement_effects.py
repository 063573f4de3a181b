"""What a CQL statement does to the schema, and whether a snapshot shows it: the pure half of crash recovery."""

from __future__ import annotations

import pytest

from harness.migrations.effects import Effect, Rerun, effect_of, normal_type
from harness.migrations.effects_check import judge
from harness.schema.model import Column, Index, MaterializedView, SchemaModel, Table, UserType


def table(name: str, *columns: tuple[str, str, str], indexes: tuple[Index, ...] = ()) -> Table:
    return Table(name, tuple(Column(n, t, kind=k, position=i) for i, (n, t, k) in enumerate(columns)), indexes=indexes)


USERS = table("users", ("id", "uuid", "partition_key"), ("name", "text", "regular"), ("tags", "set<text>", "regular"))
EVENTS = table(
    "events",
    ("user_id", "uuid", "partition_key"),
    ("day", "date", "partition_key"),
    ("at", "timestamp", "clustering"),
    ("kind", "text", "static"),
    ("payload", "frozen<map<text, int>>", "regular"),
)


def schema(*tables: Table, types: tuple[UserType, ...] = (), views: tuple[MaterializedView, ...] = ()) -> SchemaModel:
    return SchemaModel(store="cassandra", tables=tables, user_types=types, materialized_views=views)


def verdict(statement: str, model: SchemaModel | None, *, others: dict[str, SchemaModel] | None = None) -> bool | None:
    effect = effect_of(statement)
    assert isinstance(effect, Effect), effect
    spaces = {"app": model, **(others or {})}
    return judge(effect, lambda ks: spaces.get(ks), "app").took_effect


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("VARCHAR", "text"),
        ("list< varchar >", "list<text>"),
        ("FROZEN<map<text, int>>", "map<text, int>"),
        ("frozen<app.address>", "frozen<address>"),
        ('frozen<"Address">', 'frozen<"Address">'),
        ("tuple<int, text>", "frozen<tuple<int, text>>"),
        ("vector<float, 3>", "vector<float, 3>"),
    ],
)
def test_a_type_compares_with_how_system_schema_spells_it(written: str, stored: str) -> None:
    assert normal_type(written) == normal_type(stored)


def test_frozen_and_plain_collections_of_different_elements_still_differ() -> None:
    assert normal_type("list<int>") != normal_type("frozen<list<text>>")


def test_create_table_reads_columns_keys_and_statics_in_every_spelling() -> None:
    inline = effect_of("CREATE TABLE IF NOT EXISTS app.Users (id uuid PRIMARY KEY, name varchar, tags set<text>)")
    assert inline == Effect(
        "create",
        "table",
        "app",
        "users",
        (("id", "uuid"), ("name", "text"), ("tags", "set<text>")),
        ("id",),
        if_clause=True,
    )
    composite = effect_of(
        "CREATE TABLE events (user_id uuid, day date, at timestamp, kind text STATIC, payload frozen<map<text,int>>,"
        " PRIMARY KEY ((user_id, day), at)) WITH CLUSTERING ORDER BY (at DESC)"
    )
    assert isinstance(composite, Effect)
    assert (composite.partition_key, composite.clustering, composite.static) == (("user_id", "day"), ("at",), ("kind",))


@pytest.mark.parametrize(
    ("statement", "model", "expected"),
    [
        ("CREATE TABLE users (id uuid PRIMARY KEY, name text, tags set<text>)", schema(USERS), True),
        ("CREATE TABLE users (id uuid PRIMARY KEY, name text, tags set<text>)", schema(), False),
        ("CREATE TABLE users (id uuid PRIMARY KEY, name int, tags set<text>)", schema(USERS), None),
        ("CREATE TABLE users (id uuid, name text, tags set<text>, PRIMARY KEY (id, name))", schema(USERS), None),
        ("CREATE TABLE IF NOT EXISTS users (id uuid PRIMARY KEY, name int)", schema(USERS), True),
        (
            "CREATE TABLE events (user_id uuid, day date, at timestamp, kind text STATIC, "
            "payload frozen<map<text, int>>, PRIMARY KEY ((user_id, day), at))",
            schema(EVENTS),
            True,
        ),
        ("DROP TABLE users", schema(USERS), False),
        ("DROP TABLE IF EXISTS users", schema(), True),
        ("DROP TABLE app.users", schema(), True),
    ],
)
def test_a_table_statement_took_effect_exactly_when_the_schema_shows_its_table(
    statement: str, model: SchemaModel, expected: bool | None
) -> None:
    assert verdict(statement, model) is expected


def test_a_table_in_another_keyspace_is_judged_there() -> None:
    statement = "CREATE TABLE other.users (id uuid PRIMARY KEY, name text, tags set<text>)"
    assert verdict(statement, schema(), others={"other": schema(USERS)}) is True
    assert verdict(statement, schema(USERS), others={"other": schema()}) is False


@pytest.mark.parametrize(
    ("statement", "model", "expected"),
    [
        (
            "ALTER TABLE users ADD email text",
            schema(table("users", ("id", "uuid", "partition_key"), ("email", "text", "regular"))),
            True,
        ),
        ("ALTER TABLE users ADD email text", schema(USERS), False),
        (
            "ALTER TABLE users ADD email int",
            schema(table("users", ("id", "uuid", "partition_key"), ("email", "text", "regular"))),
            None,
        ),
        (
            "ALTER TABLE users ADD (a int, b text)",
            schema(table("users", ("id", "uuid", "partition_key"), ("a", "int", "regular"))),
            None,
        ),
        ("ALTER TABLE users ADD IF NOT EXISTS name int", schema(USERS), True),
        ("ALTER TABLE users DROP name", schema(USERS), False),
        ("ALTER TABLE users DROP (name, tags)", schema(table("users", ("id", "uuid", "partition_key"))), True),
        (
            "ALTER TABLE users DROP name USING TIMESTAMP 5",
            schema(table("users", ("id", "uuid", "partition_key"))),
            True,
        ),
        ("ALTER TABLE users RENAME id TO user_id", schema(USERS), False),
        ("ALTER TABLE users RENAME id TO user_id", schema(table("users", ("user_id", "uuid", "partition_key"))), True),
        ("ALTER TABLE IF EXISTS missing ADD x int", schema(), True),
        ("ALTER TABLE missing ADD x int", schema(), None),
    ],
)
def test_a_column_change_took_effect_when_every_named_column_is_as_it_says(
    statement: str, model: SchemaModel, expected: bool | None
) -> None:
    assert verdict(statement, model) is expected


ADDRESS = UserType("address", (("street", "text"), ("zip", "int")))


@pytest.mark.parametrize(
    ("statement", "model", "expected"),
    [
        ("CREATE TYPE address (street text, zip int)", schema(types=(ADDRESS,)), True),
        ("CREATE TYPE address (street text, zip int)", schema(), False),
        ("CREATE TYPE address (street text, zip text)", schema(types=(ADDRESS,)), None),
        ("ALTER TYPE address ADD city text", schema(types=(ADDRESS,)), False),
        (
            "ALTER TYPE address RENAME zip TO postcode",
            schema(types=(UserType("address", (("street", "text"), ("postcode", "int"))),)),
            True,
        ),
        ("DROP TYPE address", schema(types=(ADDRESS,)), False),
        ("CREATE INDEX users_name ON users (name)", schema(USERS), False),
        (
            "CREATE INDEX users_name ON users (name)",
            schema(
                table(
                    "users",
                    ("id", "uuid", "partition_key"),
                    ("name", "text", "regular"),
                    indexes=(Index("users_name", "users", columns=("name",)),),
                )
            ),
            True,
        ),
        (
            "CREATE INDEX ON users (tags)",
            schema(
                table(
                    "users",
                    ("id", "uuid", "partition_key"),
                    ("tags", "set<text>", "regular"),
                    indexes=(Index("users_tags_idx", "users", columns=("values(tags)",)),),
                )
            ),
            True,
        ),
        (
            "CREATE INDEX users_name ON users (keys(name))",
            schema(
                table(
                    "users", ("id", "uuid", "partition_key"), indexes=(Index("users_name", "users", columns=("name",)),)
                )
            ),
            None,
        ),
        ("CREATE CUSTOM INDEX IF NOT EXISTS ON users (name) USING 'StorageAttachedIndex'", schema(USERS), False),
        ("DROP INDEX users_name", schema(USERS), True),
        (
            "CREATE MATERIALIZED VIEW by_name AS SELECT * FROM users WHERE name IS NOT NULL AND id IS NOT NULL "
            "PRIMARY KEY (name, id)",
            schema(USERS, views=(MaterializedView("by_name", base_table="users"),)),
            True,
        ),
        (
            "CREATE MATERIALIZED VIEW by_name AS SELECT * FROM users WHERE name IS NOT NULL AND id IS NOT NULL "
            "PRIMARY KEY (name, id)",
            schema(USERS),
            False,
        ),
        ("DROP MATERIALIZED VIEW by_name", schema(USERS), True),
    ],
)
def test_types_indexes_and_views_are_judged_from_the_snapshot(
    statement: str, model: SchemaModel, expected: bool | None
) -> None:
    assert verdict(statement, model) is expected


def test_a_keyspace_is_judged_by_its_existence() -> None:
    assert (
        verdict(
            "CREATE KEYSPACE other WITH replication = {'class': 'SimpleStrategy'}", schema(), others={"other": schema()}
        )
        is True
    )
    assert verdict("DROP KEYSPACE IF EXISTS other", schema()) is True


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE users WITH gc_grace_seconds = 3600",
        "CREATE OR REPLACE FUNCTION f (a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return a;'",
        "CREATE FUNCTION IF NOT EXISTS f (a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return a;'",
        "DROP FUNCTION IF EXISTS f",
        "ALTER KEYSPACE app WITH durable_writes = true",
        "ALTER MATERIALIZED VIEW by_name WITH comment = 'x'",
    ],
)
def test_statements_that_leave_the_same_schema_however_often_they_run_are_rerun(statement: str) -> None:
    assert isinstance(effect_of(statement), Rerun)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO users (id, name) VALUES (uuid(), 'a')",
        "UPDATE users SET name = 'b' WHERE id = 5b6962dd-3f90-4c93-8f61-eabfa4a803e2",
        "DELETE FROM users WHERE id = 5b6962dd-3f90-4c93-8f61-eabfa4a803e2",
        "BEGIN BATCH INSERT INTO users (id) VALUES (uuid()); APPLY BATCH",
        "TRUNCATE users",
        "GRANT SELECT ON KEYSPACE app TO reader",
        "CREATE ROLE reader WITH LOGIN = true",
        "CREATE FUNCTION f (a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return a;'",
        "ALTER TABLE users ALTER name TYPE text",
        "CREATE TABLE broken",
        "ALTER TYPE address DROP zip",
    ],
)
def test_data_changes_grants_and_unknown_shapes_cannot_be_read_from_the_schema(statement: str) -> None:
    assert effect_of(statement) is None


def test_quoted_names_keep_their_case_and_unquoted_ones_are_lowered() -> None:
    effect = effect_of('CREATE TABLE "Mixed" ("Id" int PRIMARY KEY, Other text)')
    assert isinstance(effect, Effect)
    assert (effect.name, effect.items) == ("Mixed", (("Id", "int"), ("other", "text")))


def test_comments_and_string_literals_do_not_confuse_the_reading() -> None:
    effect = effect_of("-- DROP TABLE users\nCREATE TABLE t (id int PRIMARY KEY, note text) WITH comment = 'DROP x'")
    assert isinstance(effect, Effect) and (effect.action, effect.name) == ("create", "t")
