"""The diagram of a schema, read back as a contract, accepts that very schema: names, types, keys, relations."""

from __future__ import annotations

import pytest

from harness.diagram import camel_case, class_name, render_diagram
from harness.schema import types as schema_types
from harness.schema.compare import compare
from harness.schema.contract import parse_contract, snake_case, split_class_name
from harness.schema.model import Column, Constraint, Domain, Enum, SchemaModel, Store, Table, UserType


def col(name: str, type_: str, position: int = 0, **kw: object) -> Column:
    return Column(name=name, type=type_, position=position, **kw)  # type: ignore[arg-type]


def pk(table: str, *cols: str) -> Constraint:
    return Constraint(name=f"{table}_pkey", kind="primary_key", columns=cols)


def unique(table: str, *cols: str) -> Constraint:
    return Constraint(name=f"{table}_{'_'.join(cols)}_key", kind="unique", columns=cols)


def fk(table: str, cols: tuple[str, ...], ref: str, ref_cols: tuple[str, ...] = ("id",)) -> Constraint:
    return Constraint(
        name=f"{table}_{'_'.join(cols)}_fkey", kind="foreign_key", columns=cols, ref_table=ref, ref_columns=ref_cols
    )


# What format_type prints for the column types a migration may use (see the introspection tests).
PG_TYPES = [
    "integer", "bigint", "smallint", "text", "character varying(255)", "character varying", "character(3)",
    '"char"', "citext", "timestamp with time zone", "timestamp(3) without time zone", "date",
    "time without time zone", "time(6) with time zone", "interval", "interval year to month", "uuid",
    "numeric(12,2)", "numeric", "real", "double precision", "boolean", "json", "jsonb", "bytea", "inet", "cidr",
    "macaddr", "money", "bit(8)", "bit varying(5)", "tsvector", "xml", "hstore", "int4range", "point", "oid",
    "text[]", "integer[]", "character varying(10)[]", "numeric(5,2)[]", "jsonb[]", "timestamp with time zone[]",
    "bit varying[]", "mood", "mood[]", "posint", "pair",
]  # fmt: skip

# What system_schema.columns prints.
CASSANDRA_TYPES = [
    "ascii", "bigint", "blob", "boolean", "date", "decimal", "double", "duration", "float", "inet", "int",
    "smallint", "text", "time", "timestamp", "timeuuid", "tinyint", "uuid", "varint", "list<text>", "set<uuid>",
    "map<text, int>", "frozen<list<int>>", "frozen<set<timeuuid>>", "frozen<map<text, frozen<list<int>>>>",
    "list<frozen<map<text, int>>>", "frozen<tuple<int, text>>", "tuple<int, frozen<list<text>>>",
    "frozen<address>", "address", "vector<float, 3>", "map<frozen<address>, frozen<set<ascii>>>",
]  # fmt: skip


def _columns(types: list[str]) -> tuple[Column, ...]:
    return tuple(col(f"c{i}", t, i + 1) for i, t in enumerate(types))


@pytest.fixture
def pg() -> SchemaModel:
    """Every PostgreSQL column type, and foreign keys of every shape."""
    return SchemaModel(
        "postgres",
        tables=(
            Table("everything", (col("id", "bigint", 0), *_columns(PG_TYPES)), (pk("everything", "id"),)),
            Table("users", (col("id", "integer", 1), col("email", "text", 2)),
                  (pk("users", "id"), unique("users", "email"))),
            Table(
                "groups_users_user",
                (col("groups_id", "integer", 1), col("users_id", "integer", 2)),
                (
                    pk("groups_users_user", "groups_id", "users_id"),
                    fk("groups_users_user", ("groups_id",), "groups"),
                    fk("groups_users_user", ("users_id",), "users"),
                ),
            ),
            Table("groups", (col("id", "integer", 1), col("parent_id", "integer", 2)),
                  (pk("groups", "id"), fk("groups", ("parent_id",), "groups"))),
            Table("profiles", (col("user_id", "integer", 1), col("bio", "text", 2)),
                  (pk("profiles", "user_id"), fk("profiles", ("user_id",), "users"))),
            Table(
                "http_logs",
                (col("a", "integer", 1), col("b", "integer", 2), col("created_by", "integer", 3)),
                (
                    fk("http_logs", ("a", "b"), "groups_users_user", ("groups_id", "users_id")),
                    fk("http_logs", ("created_by",), "users"),
                ),
            ),
        ),
        enums=(Enum("mood", ("sad", "ok")),),
        domains=(Domain("posint", "integer"),),
        user_types=(UserType("pair", (("a", "integer"), ("b", "text"))),),
    )  # fmt: skip


@pytest.fixture
def cs() -> SchemaModel:
    """Every Cassandra column type: native, collections (frozen or not), tuples, user types, vectors, counters."""
    return SchemaModel(
        "cassandra",
        tables=(
            Table(
                "everything",
                (
                    col("id", "uuid", 0, kind="partition_key"),
                    col("day", "date", 1, kind="partition_key"),
                    col("at", "timestamp", 0, kind="clustering", clustering_order="desc"),
                    col("seq", "int", 1, kind="clustering", clustering_order="asc"),
                    col("kind", "text", -1, kind="static"),
                    *(col(f"c{i}", t, -1) for i, t in enumerate(CASSANDRA_TYPES)),
                ),
            ),
            Table("page_views", (col("page", "text", 0, kind="partition_key"), col("views", "counter", -1))),
        ),
        user_types=(UserType("address", (("street", "text"), ("zip", "int"))),),
    )


def test_the_diagram_of_every_column_type_is_a_contract_the_schema_meets(pg: SchemaModel, cs: SchemaModel) -> None:
    diagram = render_diagram(pg, cs)
    contract = parse_contract(diagram)
    assert compare(contract, pg, cs) == []
    assert {c.table_name for c in contract.for_store("postgres")} == set(pg.table_names)
    assert {c.table_name for c in contract.for_store("cassandra")} == set(cs.table_names)
    assert sum(len(c.members) for c in contract.classes.values()) == sum(
        len(t.columns) for m in (pg, cs) for t in m.tables
    )


def test_the_diagram_is_a_contract_that_can_fail(pg: SchemaModel, cs: SchemaModel) -> None:
    """The proof above is not vacuous: the same diagram against a changed schema finds each change."""
    contract = parse_contract(render_diagram(pg, cs))
    users = pg.table("users")
    assert users is not None
    changed_users = Table("users", (col("id", "integer", 1), col("email", "integer", 2)), users.constraints)
    changed_gu = Table("groups_users_user", (col("groups_id", "integer", 1), col("users_id", "integer", 2)))
    kept = tuple(t for t in pg.tables if t.name not in ("users", "groups_users_user"))
    changed = SchemaModel("postgres", tables=(*kept, changed_users, changed_gu), enums=pg.enums, domains=pg.domains)
    cs_changed = SchemaModel(
        "cassandra", tables=(Table("page_views", (col("page", "text", 0, kind="partition_key"), col("views", "int"))),)
    )
    assert [f.message for f in compare(contract, changed, cs_changed)] == [
        "PG users.email: contract text, database integer",
        "C everything: table missing",
        "C page_views.views: contract type counter is not in the cassandra type table (known: bigint, bool, bytes, "
        "date, decimal, float, inet, int, json, smallint, string, text, time, timestamp, uuid), database int",
        'PG groups_users_user -> groups: no foreign key (relation "groups_id")',
        'PG groups_users_user -> users: no foreign key (relation "users_id")',
    ]


SMALL = SchemaModel(
    "postgres",
    tables=(
        Table("users", (col("id", "integer", 1), col("tags", "text[]", 2), col("flags", "bit varying(3)", 3)),
              (pk("users", "id"),)),
        Table("posts", (col("id", "bigint", 1), col("user_id", "integer", 2), col("at", "timestamp with time zone", 3)),
              (pk("posts", "id"), fk("posts", ("user_id",), "users"))),
    ),
)  # fmt: skip
SMALL_CS = SchemaModel(
    "cassandra",
    tables=(
        Table(
            "user_tags",
            (
                col("user_id", "uuid", 0, kind="partition_key"),
                col("at", "timestamp", 0, kind="clustering", clustering_order="desc"),
                col("tags", "set<text>", -1),
            ),
        ),
    ),
)


def test_exact_text_in_the_contracts_format() -> None:
    assert render_diagram(SMALL, SMALL_CS) == (
        "```mermaid\n"
        "classDiagram\n"
        "\n"
        "%% === PostgreSQL Tables ===\n"
        "%% posts: primary key (id)\n"
        "class PG_Posts {\n"
        "    +bigint id\n"
        "    +int user_id\n"
        "    +timestamptz at\n"
        "}\n"
        "\n"
        "%% users: primary key (id)\n"
        "class PG_Users {\n"
        "    +int id\n"
        "    +List~text~ tags\n"
        "    +flags: bit varying\n"
        "}\n"
        "\n"
        "%% === Cassandra Tables ===\n"
        "%% user_tags: partition key (user_id); clustering at DESC\n"
        "class C_UserTags {\n"
        "    +uuid user_id\n"
        "    +timestamp at\n"
        "    +Set~text~ tags\n"
        "}\n"
        "\n"
        "%% === PostgreSQL Relationships ===\n"
        'PG_Users "1" --> "many" PG_Posts : user_id\n'
        "\n"
        "%% === Symbolic Cassandra Links ===\n"
        "%% No database records a reference across stores; draw each by hand: C_Table ..> PG_Table : column\n"
        "```\n"
    )


def test_output_is_stable_whatever_order_the_model_was_built_in() -> None:
    reordered = SchemaModel("postgres", tables=tuple(reversed(SMALL.tables)))
    assert render_diagram(reordered, None) == render_diagram(SMALL, None)


def test_relations_one_to_one_self_composite_and_to_tables_not_drawn(pg: SchemaModel) -> None:
    extra = Table(
        "Audit", (col("user_id", "integer", 1),), (fk("Audit", ("user_id",), "users"),)
    )  # a table no class can name
    outside = Table("notes", (col("id", "integer", 1),), (fk("notes", ("id",), "other.things"),))
    model = SchemaModel("postgres", tables=(*pg.tables, extra, outside), enums=pg.enums, domains=pg.domains)
    diagram = render_diagram(model, None)
    relations = [line for line in diagram.splitlines() if "-->" in line]
    assert relations == [
        'PG_Groups "1" --> "many" PG_Groups : parent_id',
        'PG_Groups "1" --> "many" PG_GroupsUsersUser : groups_id',
        'PG_GroupsUsersUser "1" --> "many" PG_HttpLogs : a, b',
        'PG_Users "1" --> "many" PG_GroupsUsersUser : users_id',
        'PG_Users "1" --> "many" PG_HttpLogs : created_by',
        'PG_Users "1" --> "0..1" PG_Profiles : user_id',
    ]
    assert "%% notes.id references other.things, which is not drawn" in diagram
    assert "%% table Audit is not drawn: no class name maps back to it" in diagram
    findings = compare(parse_contract(diagram), model, None)
    assert [(f.level, f.message) for f in findings] == [("warning", "PG Audit: table not in contract")]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("groups_users_user", "GroupsUsersUser"),
        ("http_logs", "HttpLogs"),
        ("a1_b2", "A1B2"),
        ("user_v2_events", "UserV2Events"),
        ("notification_states", "NotificationStates"),
        ("x_ray", "XRay"),
        ("users", "Users"),
        ("données", "Données"),
        ("a_b_c", "a_b_c"),  # ABC -> abc
        ("a_b_cd", "a_b_cd"),  # ABCd -> ab_cd
        ("a_1b", "a_1b"),  # A1b -> a1b
        ("v_2", "v_2"),  # V2 -> v2
        ("_staging", "_staging"),  # Staging -> staging
        ("trailing_", "trailing_"),
    ],
)
def test_class_names_map_back_to_their_table(table: str, expected: str) -> None:
    for store, prefix in (("postgres", "PG_"), ("cassandra", "C_")):
        name, note = class_name(store, table)  # type: ignore[arg-type]
        assert name == prefix + expected
        assert split_class_name(name) == (store, table)
        assert snake_case(name[len(prefix) :]) == table
        assert (note is not None) == (expected != camel_case(table))


@pytest.mark.parametrize("table", ["Users", "x__y", "my-table", "two words"])
def test_a_table_no_class_name_maps_back_to_is_left_out_with_a_note(table: str) -> None:
    name, note = class_name("postgres", table)
    assert name is None
    assert note == f"table {table} is not drawn: no class name maps back to it (the contract's names are snake_case)"


def test_a_column_the_contract_cannot_name_is_noted_and_then_reported() -> None:
    model = SchemaModel("postgres", tables=(Table("t", (col("id", "integer", 1), col("first name", "text", 2))),))
    diagram = render_diagram(model, None)
    assert "%% column 'first name' (text) cannot be written as a member" in diagram
    assert [f.message for f in compare(parse_contract(diagram), model, None)] == [
        "PG t.first name: column not in contract"
    ]


def test_custom_prefixes_and_missing_stores() -> None:
    prefixes: dict[str, Store] = {"pg_": "postgres", "cass_": "cassandra"}
    diagram = render_diagram(SMALL, SMALL_CS, prefixes=prefixes)
    contract = parse_contract(diagram, prefixes=prefixes)
    assert sorted(contract.classes) == ["cass_UserTags", "pg_Posts", "pg_Users"]
    assert compare(contract, SMALL, SMALL_CS) == []
    assert "cass_Table ..> pg_Table" in diagram
    only_cs = render_diagram(None, SMALL_CS)
    assert "PostgreSQL" not in only_cs and "Links" not in only_cs
    assert parse_contract(render_diagram(None, None)).classes == {}
    empty = render_diagram(SchemaModel("postgres"), None)
    assert "%% (no tables)" in empty and parse_contract(empty).classes == {}
    with pytest.raises(ValueError, match="no class prefix names the cassandra store"):
        render_diagram(None, SMALL_CS, prefixes={"pg_": "postgres"})


def test_a_model_of_the_wrong_store_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="postgres argument holds a cassandra model"):
        render_diagram(SMALL_CS, None)


# --- describe_type: the contract name of a store type -------------------------------------------------


@pytest.mark.parametrize(("store", "store_type"), [(s, t) for s in ("postgres", "cassandra") for t in
                                                    (PG_TYPES if s == "postgres" else CASSANDRA_TYPES)])  # fmt: skip
def test_every_described_type_is_accepted_for_its_store_type(store: Store, store_type: str) -> None:
    assert schema_types.compatible(store, schema_types.describe_type(store, store_type), store_type)


@pytest.mark.parametrize(
    ("store", "store_type", "contract"),
    [
        ("postgres", "timestamp(3) with time zone", "timestamptz"),
        ("postgres", "character varying(10)[]", "List~text~"),
        ("postgres", "hstore", "Map~string,string~"),
        ("postgres", "numeric(12,2)", "decimal"),
        ("postgres", "bit varying(5)", "bit varying"),
        ("postgres", "mood[]", "List~mood~"),
        ("cassandra", "frozen<map<text, frozen<list<int>>>>", "Map~text,List~int~~"),
        ("cassandra", "set<timeuuid>", "Set~uuid~"),
        ("cassandra", "frozen<tuple<int, ascii>>", "tuple~int,string~"),
        ("cassandra", "frozen<address>", "address"),
        ("cassandra", "vector<float, 3>", "vector~float,3~"),
        ("cassandra", "text", "text"),
    ],
)
def test_describe_type(store: Store, store_type: str, contract: str) -> None:
    assert schema_types.describe_type(store, store_type) == contract


def test_the_preferred_names_are_the_most_specific_ones() -> None:
    """No contract name of the type table accepts fewer store types (json on Cassandra is a documented exception)."""
    for store, preferred in schema_types.PREFERRED.items():
        table = schema_types.TYPE_MAPS[store]
        for store_type, contract in preferred.items():
            assert schema_types.compatible(store, contract, store_type), (store, store_type)
            if contract not in table:
                continue
            narrower = [
                name
                for name, accepted in table.items()
                if store_type in accepted and len(accepted) < len(table[contract])
                and not (store == "cassandra" and name == "json")
            ]  # fmt: skip
            assert narrower == [], (store, store_type, contract)
        covered = {t for accepted in table.values() for t in accepted}
        assert covered <= set(preferred), f"{store}: store types of the type table without a preferred name"
