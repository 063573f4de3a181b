"""Contract vs hand-built schema models: exact messages, every finding, links by level."""

from __future__ import annotations

import pytest

from harness.schema import types as schema_types
from harness.schema.compare import Finding, compare, errors
from harness.schema.contract import parse_contract
from harness.schema.model import Column, Constraint, Domain, Enum, SchemaModel, Store, Table

DIAGRAM = """
```mermaid
classDiagram
class PG_Users {
    +int id
    +string email
    +timestamp created_at
}
class PG_Groups {
    +int id
    +string name
    +decimal budget
}
class PG_Activities {
    +int id
    +int group_id
    +int user_id
    +string status
}
class C_GroupMessages {
    +uuid group_id
    +timestamp created_at
    +uuid user_id
    +string content
}
PG_Users "1" --> "many" PG_Activities : performs
PG_Groups "1" --> "many" PG_Activities : hosts
C_GroupMessages ..> PG_Groups : group_id
C_GroupMessages ..> PG_Users : user_id
PG_Activities ..> C_GroupMessages : references
```
"""

CONTRACT = parse_contract(DIAGRAM)


def col(name: str, type_: str, position: int, **kw: object) -> Column:
    return Column(name=name, type=type_, position=position, **kw)  # type: ignore[arg-type]


def pk(table: str, *cols: str) -> Constraint:
    return Constraint(name=f"{table}_pkey", kind="primary_key", columns=cols)


def fk(table: str, column: str, ref: str) -> Constraint:
    return Constraint(
        name=f"{table}_{column}_fkey", kind="foreign_key", columns=(column,), ref_table=ref, ref_columns=("id",)
    )


def pg_model(*, drop_fk: str | None = None, **replace: Table) -> SchemaModel:
    tables = {
        "users": Table(
            "users",
            (
                col("id", "integer", 1),
                col("email", "character varying(255)", 2),
                col("created_at", "timestamp with time zone", 3),
            ),
            (pk("users", "id"),),
        ),
        "groups": Table(
            "groups",
            (col("id", "bigint", 1), col("name", "text", 2), col("budget", "numeric(12,2)", 3)),
            (pk("groups", "id"),),
        ),
        "activities": Table(
            "activities",
            (
                col("id", "integer", 1),
                col("group_id", "integer", 2),
                col("user_id", "integer", 3),
                col("status", "status_t", 4),
            ),
            tuple(
                c
                for c in (
                    pk("activities", "id"),
                    fk("activities", "group_id", "groups"),
                    fk("activities", "user_id", "users"),
                )
                if c.name != drop_fk
            ),
        ),
    }
    tables.update(replace)
    return SchemaModel("postgres", tables=tuple(tables.values()), enums=(Enum("status_t", ("a", "b")),))


def c_model(group_id_type: str = "uuid") -> SchemaModel:
    return SchemaModel(
        "cassandra",
        tables=(
            Table(
                "group_messages",
                (
                    col("group_id", group_id_type, 0, kind="partition_key", nullable=False),
                    col("created_at", "timestamp", 0, kind="clustering", clustering_order="desc", nullable=False),
                    col("user_id", "timeuuid", -1),
                    col("content", "text", -1),
                ),
            ),
        ),
    )


LINK_WARNINGS = [
    Finding(
        "warning",
        "link-type-mismatch",
        'C group_messages.group_id ..> PG groups.id: uuid vs bigint (link "group_id")',
    ),
    Finding(
        "warning",
        "link-type-mismatch",
        'C group_messages.user_id ..> PG users.id: timeuuid vs integer (link "user_id")',
    ),
    Finding(
        "warning",
        "link-unchecked",
        'PG activities ..> C group_messages: link "references" names no column of both tables, nor one '
        "of a table whose other end has a single-column primary key; types not compared",
    ),
]


def test_matching_schema_gives_only_the_cross_store_link_warnings() -> None:
    assert compare(CONTRACT, pg_model(), c_model()) == LINK_WARNINGS


def test_strict_links_turns_type_mismatches_into_errors() -> None:
    findings = compare(CONTRACT, pg_model(), c_model(), strict_links=True)
    assert [(f.level, f.code) for f in findings] == [
        ("error", "link-type-mismatch"),
        ("error", "link-type-mismatch"),
        ("warning", "link-unchecked"),
    ]
    assert len(errors(findings)) == 2


def test_compatible_link_types_give_no_mismatch() -> None:
    contract = parse_contract(
        "```mermaid\nclassDiagram\nclass PG_Users {\n+int id\n}\n"
        "class C_Events {\n+int user_id\n}\nC_Events ..> PG_Users : user_id\n```\n"
    )
    pg = SchemaModel("postgres", tables=(Table("users", (col("id", "integer", 1),), (pk("users", "id"),)),))
    cs = SchemaModel("cassandra", tables=(Table("events", (col("user_id", "bigint", 0, kind="partition_key"),)),))
    assert compare(contract, pg, cs) == []


def test_every_table_and_column_finding_with_exact_messages() -> None:
    users = Table(
        "users",
        (col("id", "integer", 1), col("email", "integer", 2), col("nickname", "text", 3)),
        (pk("users", "id"),),
    )
    pg = pg_model(users=users)
    pg = SchemaModel("postgres", tables=tuple(t for t in pg.tables if t.name != "groups"), enums=pg.enums)
    cs = SchemaModel(
        "cassandra",
        tables=(
            Table("group_messages", (col("group_id", "uuid", 0, kind="partition_key"), col("user_id", "uuid", -1))),
            Table("audit", (col("id", "uuid", 0, kind="partition_key"),)),
        ),
    )
    messages = [f.message for f in compare(CONTRACT, pg, cs)]
    assert messages[:8] == [
        "PG users.email: contract string, database integer",
        "PG users.created_at: column missing",
        "PG users.nickname: column not in contract",
        "PG groups: table missing",
        "C group_messages.created_at: column missing",
        "C group_messages.content: column missing",
        "C audit: table not in contract",
        'C group_messages ..> PG groups: PG groups missing (link "group_id")',
    ]
    levels = {f.message: f.level for f in compare(CONTRACT, pg, cs)}
    assert levels["C audit: table not in contract"] == "warning"
    assert levels["PG groups: table missing"] == "error"


def test_extra_tables_level_is_configurable() -> None:
    cs = SchemaModel("cassandra", tables=(*c_model().tables, Table("audit", (col("id", "uuid", 0),))))
    assert [f.code for f in compare(CONTRACT, None, cs, extra_tables=None)] == [
        "link-type-mismatch",
        "link-type-mismatch",
        "link-unchecked",
    ]
    found = compare(CONTRACT, None, cs, extra_tables="error")
    assert Finding("error", "table-extra", "C audit: table not in contract") in found


def test_relation_without_foreign_key() -> None:
    findings = compare(CONTRACT, pg_model(drop_fk="activities_group_id_fkey"), c_model())
    assert Finding("error", "foreign-key-missing", 'PG activities -> groups: no foreign key (relation "hosts")') in (
        findings
    )
    assert len(errors(findings)) == 1


def test_relation_direction_many_to_one_and_one_to_one() -> None:
    text = (
        "```mermaid\nclassDiagram\nclass PG_A {\n+int id\n}\nclass PG_B {\n+int id\n+int a_id\n}\n"
        'PG_B "many" --> "1" PG_A : belongs\nPG_A "1" -- "1" PG_B\n```\n'
    )
    contract = parse_contract(text)
    a = Table("a", (col("id", "integer", 1),), (pk("a", "id"),))
    b_without = Table("b", (col("id", "integer", 1), col("a_id", "integer", 2)), (pk("b", "id"),))
    b_with = Table("b", b_without.columns, (pk("b", "id"), fk("b", "a_id", "a")))
    assert compare(contract, SchemaModel("postgres", tables=(a, b_with)), None) == []
    assert [f.message for f in compare(contract, SchemaModel("postgres", tables=(a, b_without)), None)] == [
        'PG b -> a: no foreign key (relation "belongs")',
        "PG b <-> a: no foreign key (relation on line 11)",
    ]


def test_relation_across_stores_is_a_warning() -> None:
    text = (
        "```mermaid\nclassDiagram\nclass PG_A {\n+int id\n}\nclass C_B {\n+int a_id\n}\n"
        'PG_A "1" --> "many" C_B : feeds\n```\n'
    )
    findings = compare(parse_contract(text), None, None)
    assert [(f.level, f.code) for f in findings] == [("warning", "relation-cross-store")]
    assert findings[0].message.startswith('PG a -> C b: relation "feeds" crosses stores')


def test_store_not_introspected_is_skipped_but_links_use_contract_types() -> None:
    findings = compare(CONTRACT, None, None)
    assert [f.message for f in findings][:2] == [
        'C group_messages.group_id ..> PG groups.id: uuid vs int (link "group_id")',
        'C group_messages.user_id ..> PG users.id: uuid vs int (link "user_id")',
    ]


def test_unknown_contract_type() -> None:
    contract = parse_contract("```mermaid\nclassDiagram\nclass PG_A {\n+money price\n+jsonb doc\n}\n```\n")
    pg = SchemaModel("postgres", tables=(Table("a", (col("price", "numeric", 1), col("doc", "jsonb", 2))),))
    [finding] = compare(contract, pg, None)
    assert finding.code == "unknown-type"
    assert finding.message.startswith("PG a.price: contract type money is not in the postgres type table")


def test_domain_and_enum_resolve() -> None:
    contract = parse_contract("```mermaid\nclassDiagram\nclass PG_A {\n+int n\n+string s\n}\n```\n")
    pg = SchemaModel(
        "postgres",
        tables=(Table("a", (col("n", "posint", 1), col("s", "mood", 2))),),
        enums=(Enum("mood", ("x",)),),
        domains=(Domain("posint", "integer"),),
    )
    assert compare(contract, pg, None) == []


def test_wrong_model_for_store_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="postgres argument holds a cassandra model"):
        compare(CONTRACT, c_model(), None)


@pytest.mark.parametrize(
    ("store", "contract", "db", "ok"),
    [
        ("postgres", "int", "integer", True),
        ("postgres", "int", "bigint", True),
        ("postgres", "int", "smallint", True),
        ("postgres", "int", "text", False),
        ("postgres", "string", "character varying(255)", True),
        ("postgres", "String", "character(3)", True),
        ("postgres", "string", "citext", True),
        ("postgres", "string", "text[]", False),
        ("postgres", "timestamp", "timestamp with time zone", True),
        ("postgres", "timestamp", "timestamp(3) without time zone", True),
        ("postgres", "timestamp", "date", False),
        ("postgres", "uuid", "uuid", True),
        ("postgres", "decimal", "numeric(12,2)", True),
        ("postgres", "decimal", "numeric", True),
        ("postgres", "bool", "boolean", True),
        ("postgres", "jsonb", "jsonb", True),
        ("cassandra", "int", "varint", True),
        ("cassandra", "string", "ascii", True),
        ("cassandra", "string", "varchar", True),
        ("cassandra", "timestamp", "timestamp", True),
        ("cassandra", "uuid", "timeuuid", True),
        ("cassandra", "uuid", "text", False),
        ("cassandra", "decimal", "decimal", True),
        ("cassandra", "decimal", "double", False),
    ],
)
def test_type_table(store: Store, contract: str, db: str, ok: bool) -> None:
    assert schema_types.compatible(store, contract, db) is ok


def test_families_for_cross_store_links() -> None:
    assert schema_types.families("postgres", "integer") == {"int"}
    assert schema_types.families("cassandra", "timeuuid") == {"uuid"}
    assert schema_types.families("cassandra", "frozen<list<text>>") == frozenset()
    assert schema_types.contract_families("bigint") == {"int"}
    assert schema_types.base_type("timestamp(3) with time zone") == "timestamp with time zone"


# --- collections (mermaid generics) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("store", "contract", "db", "ok"),
    [
        ("cassandra", "List~string~", "list<text>", True),
        ("cassandra", "List~string~", "frozen<list<text>>", True),
        ("cassandra", "List~string~", "set<text>", False),
        ("cassandra", "List~int~", "list<text>", False),
        ("cassandra", "Set~uuid~", "set<uuid>", True),
        ("cassandra", "Set~uuid~", "set<timeuuid>", True),
        ("cassandra", "Set~uuid~", "list<uuid>", False),
        ("cassandra", "Map~string,int~", "map<text, int>", True),
        ("cassandra", "Map~string, int~", "frozen<map<text, bigint>>", True),
        ("cassandra", "Map~string,int~", "map<int, text>", False),
        ("cassandra", "Map~string,int~", "text", False),
        ("cassandra", "List~Map~string,int~~", "list<frozen<map<text, int>>>", True),
        ("cassandra", "Map~uuid,Set~string~~", "map<uuid, frozen<set<ascii>>>", True),
        ("cassandra", "Map~uuid,Set~string~~", "map<uuid, frozen<list<text>>>", False),
        ("cassandra", "string", "list<text>", False),
        ("cassandra", "json", "map<text, text>", False),
        ("cassandra", "tuple~int,string~", "frozen<tuple<int, text>>", True),
        ("cassandra", "tuple~int,string~", "frozen<tuple<int, int>>", False),
        ("cassandra", "vector~float,3~", "vector<float, 3>", True),
        ("cassandra", "vector~float,3~", "vector<float, 4>", False),
        ("cassandra", "address", "frozen<address>", True),
        ("postgres", "List~string~", "text[]", True),
        ("postgres", "List~string~", "character varying(20)[]", True),
        ("postgres", "List~int~", "text[]", False),
        ("postgres", "List~string~", "text", False),
        ("postgres", "Set~uuid~", "uuid[]", True),
        ("postgres", "Set~uuid~", "integer[]", False),
        ("postgres", "List~List~int~~", "integer[]", True),
        ("postgres", "List~timestamptz~", "timestamp(3) with time zone[]", True),
        ("postgres", "Map~string,int~", "jsonb", True),
        ("postgres", "Map~string,int~", "json", True),
        ("postgres", "Map~string,string~", "hstore", True),
        ("postgres", "Map~string,int~", "hstore", False),
        ("postgres", "Map~string,int~", "text", False),
        ("postgres", "Map~string,int~", "jsonb[]", False),
        ("postgres", "List~Map~string,int~~", "jsonb[]", True),
        ("postgres", "json", "text[]", False),
        ("postgres", "int", "integer[]", False),
        ("postgres", "text[]", "text[]", True),
    ],
)
def test_collection_type_table(store: Store, contract: str, db: str, ok: bool) -> None:
    assert schema_types.compatible(store, contract, db) is ok


def _one_table(store: Store, name: str, *columns: Column) -> SchemaModel:
    return SchemaModel(store, tables=(Table(name, columns),))


def test_collection_mismatches_read_like_scalar_ones_both_ways() -> None:
    contract = parse_contract(
        "```mermaid\nclassDiagram\nclass C_UserTags {\n+uuid user_id\n+List~string~ tags\n+string note\n}\n"
        "class PG_Docs {\n+int id\n+Map~string,int~ counts\n+Set~uuid~ refs\n+string title\n}\n```\n"
    )
    cs = _one_table(
        "cassandra",
        "user_tags",
        col("user_id", "uuid", 0, kind="partition_key"),
        col("tags", "set<text>", -1),
        col("note", "list<text>", -1),
    )
    pg = _one_table(
        "postgres",
        "docs",
        col("id", "integer", 1),
        col("counts", "hstore", 2),
        col("refs", "text[]", 3),
        col("title", "text[]", 4),
    )
    assert [(f.code, f.message) for f in compare(contract, pg, cs)] == [
        ("type-mismatch", "C user_tags.tags: contract List~string~, database set<text>"),
        ("type-mismatch", "C user_tags.note: contract string, database list<text>"),
        ("type-mismatch", "PG docs.counts: contract Map~string,int~, database hstore"),
        ("type-mismatch", "PG docs.refs: contract Set~uuid~, database text[]"),
        ("type-mismatch", "PG docs.title: contract string, database text[]"),
    ]


def test_matching_collections_give_no_findings() -> None:
    contract = parse_contract(
        "```mermaid\nclassDiagram\nclass C_UserTags {\n+uuid user_id\n+List~string~ tags\n"
        "+Map~string,int~ counts\n}\nclass PG_Docs {\n+int id\n+Set~mood~ moods\n+List~string~ labels\n}\n```\n"
    )
    cs = _one_table(
        "cassandra",
        "user_tags",
        col("user_id", "uuid", 0, kind="partition_key"),
        col("tags", "frozen<list<text>>", -1),
        col("counts", "map<text, int>", -1),
    )
    pg = SchemaModel(
        "postgres",
        tables=(Table("docs", (col("id", "integer", 1), col("moods", "mood[]", 2), col("labels", "mood[]", 3))),),
        enums=(Enum("mood", ("ok",)),),
    )
    assert compare(contract, pg, cs) == []


def test_collection_of_an_unknown_type_is_reported_as_unknown() -> None:
    contract = parse_contract("```mermaid\nclassDiagram\nclass PG_A {\n+List~money~ prices\n}\n```\n")
    pg = _one_table("postgres", "a", col("prices", "numeric[]", 1))
    [finding] = compare(contract, pg, None)
    assert finding.code == "unknown-type"
    assert finding.message.startswith("PG a.prices: contract type List~money~ is not in the postgres type table")
    assert schema_types.is_known("postgres", "List~Map~string,int~~")
    assert not schema_types.is_known("postgres", "tuple~int,int~")
