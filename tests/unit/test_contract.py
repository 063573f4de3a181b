"""The mermaid contract parser: every accepted form, and an error with file and line for each bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.schema.contract import (
    ContractError,
    Link,
    Relation,
    load_contract,
    parse_contract,
    snake_case,
    split_class_name,
)

SEED = """# Database Migrations Module

Some text.

```mermaid
classDiagram

%% === PostgreSQL Tables ===
class PG_Users {
    +int id
    +string first_name
    +string email
    +timestamp created_at
}

class PG_Groups {
    +int id
    +string name
}

class PG_GroupsUsersUser {
    +int groups_id
    +int users_id
}

class PG_NotificationStates {
    +int id
    +int user_id
}

%% === Cassandra Tables ===
class C_UserNotifications {
    +uuid user_id
    +timestamp notification_time
    +decimal amount
}

%% === PostgreSQL Relationships ===
PG_Users "1" --> "many" PG_GroupsUsersUser : participates
PG_Groups "1" --> "many" PG_GroupsUsersUser : contains
PG_Users "1" --> "many" PG_NotificationStates : receives

%% === Symbolic Cassandra Links ===
C_UserNotifications ..> PG_Users : user_id
PG_NotificationStates ..> C_UserNotifications : references
```

## Usage
"""


def block(body: str) -> str:
    return f"# t\n\n```mermaid\nclassDiagram\n{body}\n```\n"


def test_seed_shape_classes_relations_links() -> None:
    c = parse_contract(SEED, path="README.md")
    assert list(c.classes) == [
        "PG_Users",
        "PG_Groups",
        "PG_GroupsUsersUser",
        "PG_NotificationStates",
        "C_UserNotifications",
    ]
    users = c.classes["PG_Users"]
    assert (users.store, users.table_name, users.line) == ("postgres", "users", 9)
    assert [(m.name, m.type, m.line) for m in users.members] == [
        ("id", "int", 10),
        ("first_name", "string", 11),
        ("email", "string", 12),
        ("created_at", "timestamp", 13),
    ]
    assert c.classes["PG_GroupsUsersUser"].table_name == "groups_users_user"
    assert c.classes["PG_NotificationStates"].table_name == "notification_states"
    assert c.classes["C_UserNotifications"].store == "cassandra"
    assert c.relations[0] == Relation("PG_Users", "PG_GroupsUsersUser", "1", "many", "participates", 39, "-->")
    assert len(c.relations) == 3
    assert c.links == (
        Link("C_UserNotifications", "PG_Users", "user_id", 44),
        Link("PG_NotificationStates", "C_UserNotifications", "references", 45),
    )
    assert c.path == "README.md"
    assert [k.name for k in c.for_store("cassandra")] == ["C_UserNotifications"]


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("GroupsUsersUser", "groups_users_user"),
        ("NotificationStates", "notification_states"),
        ("Users", "users"),
        ("HTTPLogs", "http_logs"),
        ("UserV2Events", "user_v2_events"),
        ("already_snake", "already_snake"),
    ],
)
def test_snake_case(camel: str, snake: str) -> None:
    assert snake_case(camel) == snake


def test_member_forms_visibility_and_class_braces() -> None:
    c = parse_contract(
        block(
            "class PG_A{\n  +int id\n  -string secret\n  #timestamp at\n  ~uuid ref\n  amount: decimal\n"
            "  name : string\n  <<entity>>\n}\n"
            "class PG_B {\n}\nclass PG_C\nclass PG_D { }\nPG_C : +int id\nPG_C : label: string"
        )
    )
    assert [(m.name, m.type) for m in c.classes["PG_A"].members] == [
        ("id", "int"),
        ("secret", "string"),
        ("at", "timestamp"),
        ("ref", "uuid"),
        ("amount", "decimal"),
        ("name", "string"),
    ]
    assert c.classes["PG_B"].members == ()
    assert c.classes["PG_D"].members == ()
    assert [(m.name, m.type) for m in c.classes["PG_C"].members] == [("id", "int"), ("label", "string")]


def test_relation_and_link_variants() -> None:
    c = parse_contract(
        block(
            "class PG_A {\n+int id\n}\nclass PG_B {\n+int a_id\n}\nclass C_X {\n+uuid id\n}\n"
            "PG_A --> PG_B\n"
            'PG_A "1"-->"*" PG_B:owns\n'
            'PG_B "many" <-- "1" PG_A : reversed\n'
            "C_X ..> PG_A\n"
            "PG_A <.. C_X : back\n"
            "%% a comment --> not a relation\n"
        )
    )
    assert c.relations == (
        Relation("PG_A", "PG_B", None, None, None, 14, "-->"),
        Relation("PG_A", "PG_B", "1", "*", "owns", 15, "-->"),
        Relation("PG_A", "PG_B", "1", "many", "reversed", 16, "<--"),
    )
    assert c.links == (Link("C_X", "PG_A", None, 17), Link("C_X", "PG_A", "back", 18))


def test_first_mermaid_block_with_class_diagram_is_used() -> None:
    text = (
        "```mermaid\nflowchart LR\n  a --> b\n```\n\n"
        "```python\nclassDiagram\n```\n"
        "```mermaid\nclassDiagram\nclass PG_First {\n+int id\n}\n```\n"
        "```mermaid\nclassDiagram\nclass PG_Second {\n+int id\n}\n```\n"
    )
    c = parse_contract(text)
    assert list(c.classes) == ["PG_First"]
    assert c.classes["PG_First"].line == 11


def test_configurable_prefixes() -> None:
    c = parse_contract(
        block("class pg_Users {\n+int id\n}\nclass cass_Events {\n+uuid id\n}"),
        prefixes={"pg_": "postgres", "cass_": "cassandra"},
    )
    assert {n: (k.store, k.table_name) for n, k in c.classes.items()} == {
        "pg_Users": ("postgres", "users"),
        "cass_Events": ("cassandra", "events"),
    }
    assert split_class_name("Users") is None


def errors_of(text: str, path: str = "contract.md") -> list[tuple[int | None, str]]:
    with pytest.raises(ContractError) as info:
        parse_contract(text, path=path)
    assert isinstance(info.value, HarnessError)
    return info.value.problems


def test_unclosed_class_names_its_line() -> None:
    problems = errors_of(block("class PG_A {\n+int id\nclass PG_B {\n+int id\n}"))
    assert problems == [(5, "class PG_A is not closed ('}') before line 7")]
    problems = errors_of(block("class PG_A {\n+int id"))
    assert problems == [(5, "class PG_A is not closed ('}') before the block ends")]


def test_unknown_line_shape() -> None:
    problems = errors_of(block("class PG_A {\n+int id\n}\nPG_A ==> PG_A"))
    assert problems == [(8, "unrecognised line 'PG_A ==> PG_A'; expected a class, a member, a relation or '%%'")]


def test_member_without_type_and_method() -> None:
    problems = errors_of(block("class PG_A {\n+id\n+save()\n+int x y\n}"))
    assert [line for line, _ in problems] == [6, 7, 8]
    assert "member 'id' has no type" in problems[0][1]
    assert "is a method" in problems[1][1]
    assert "cannot read member" in problems[2][1]


def test_relation_to_unknown_class() -> None:
    problems = errors_of(block('class PG_A {\n+int id\n}\nPG_A "1" --> "many" PG_Missing : x'))
    assert problems == [(8, "relation to unknown class PG_Missing; declare it with 'class PG_Missing { ... }'")]


def test_duplicate_class_and_member() -> None:
    problems = errors_of(block("class PG_A {\n+int id\n+string id\n}\nclass PG_A {\n}"))
    assert problems == [
        (7, "class PG_A: duplicate member id (first on line 6)"),
        (9, "duplicate class PG_A (first declared on line 5)"),
    ]


def test_class_without_known_prefix() -> None:
    problems = errors_of(block("class Users {\n+int id\n}"))
    assert problems == [(5, "class Users has no store prefix; start its name with one of C_, PG_")]


def test_two_classes_for_one_table() -> None:
    problems = errors_of(block("class PG_UserLogs {\n}\nclass PG_user_logs {\n}"))
    assert problems == [(7, "classes PG_UserLogs and PG_user_logs both name table user_logs")]


def test_every_error_is_reported_with_file_and_line() -> None:
    with pytest.raises(ContractError) as info:
        parse_contract(block("class Users {\n+id\n}\n}\nPG_X --> PG_Y"), path="docs/README.md")
    message = str(info.value)
    assert message.startswith("5 contract errors:\n")
    for where in ("docs/README.md:5:", "docs/README.md:6:", "docs/README.md:8:", "docs/README.md:9:"):
        assert where in message
    assert info.value.line == 5


def test_no_diagram() -> None:
    with pytest.raises(ContractError, match=r"^x\.md: no ```mermaid block with a classDiagram"):
        parse_contract("# nothing here\n```mermaid\nflowchart\n```\n", path="x.md")


def test_load_contract(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text(SEED, encoding="utf-8")
    assert load_contract(path).path == str(path)
    with pytest.raises(ContractError, match="cannot read the contract"):
        load_contract(tmp_path / "missing.md")


# --- mermaid generics ---------------------------------------------------------------------------------


def test_generic_member_types_are_read_and_normalised() -> None:
    c = parse_contract(
        block(
            "class C_UserTags {\n"
            "  +List~string~ tags\n"
            "  ids: Set~uuid~\n"
            "  +Map~string,int~ counts\n"
            "  +Map~string, int~ spaced\n"
            "  -list~text~ lower\n"
            "  ~List~Map~string,int~~ nested\n"
            "  deep : Map~string,List~Set~uuid~~~\n"
            "  at: timestamp with time zone\n"
            "  +frozen~tuple~int,text~~ pair\n"
            "}\n"
            "C_UserTags : +Set~int~ outside"
        )
    )
    assert [(m.name, m.type) for m in c.classes["C_UserTags"].members] == [
        ("tags", "List~string~"),
        ("ids", "Set~uuid~"),
        ("counts", "Map~string,int~"),
        ("spaced", "Map~string,int~"),
        ("lower", "List~text~"),
        ("nested", "List~Map~string,int~~"),
        ("deep", "Map~string,List~Set~uuid~~~"),
        ("at", "timestamp with time zone"),
        ("pair", "frozen~tuple~int,text~~"),
        ("outside", "Set~int~"),
    ]


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("+List~~ tags", "member tags: 'List~' opens type arguments but names none; write List~type~"),
        ("+Map~string~ counts",
         "member counts: Map takes 2 type arguments (Map~K,V~), 'Map~string~' has 1 type argument"),
        ("tags: List~string,int~",
         "member tags: List takes 1 type argument (List~T~), 'List~string,int~' has 2 type arguments"),
        ("+List tags", "member tags: List takes 1 type argument (List~T~), 'List' has no type argument"),
        ("+List~string tags", "member tags: 'List~' is not closed with '~' in 'List~string'"),
        ("tags: List~string", "member tags: 'List~' is not closed with '~' in 'List~string'"),
        ("+List~string~~ tags", "member tags: unexpected '~' in type 'List~string~~'"),
        ("counts: Map~string,~", "member counts: expected a type name, found '~' in 'Map~string,~'"),
        ("+Set~uuid~ x y", "cannot read member '+Set~uuid~ x y'; write '+type name' or 'name: type'"),
    ],
)  # fmt: skip
def test_malformed_generic_names_its_line_and_cause(member: str, reason: str) -> None:
    problems = errors_of(block(f"class C_T {{\n+uuid id\n{member}\n}}"))
    assert problems == [(7, f"class C_T: {reason}")]


def test_malformed_generic_error_message_names_file_and_line() -> None:
    with pytest.raises(ContractError, match=r"^docs/README\.md:6: class PG_A: member m: Map takes 2 type arguments"):
        parse_contract(block("class PG_A {\n+Map~string~ m\n}"), path="docs/README.md")
