"""The pure parts of the fuzz data generator: CHECK parsing, plans in foreign-key order, value domains.

No database: the CHECK definitions below are verbatim pg_get_constraintdef output (PostgreSQL 15, both
the pretty form the introspection asks for and the plain form), and the schema models are built by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.fuzz import checkexpr, kinds, samples, strategies
from harness.fuzz import plan as planning
from harness.fuzz.checkexpr import CheckRule
from harness.fuzz.compare import same
from harness.fuzz.kinds import CONTRACT_KINDS, Kind
from harness.fuzz.plan import Ref
from harness.schema.contract import parse_contract
from harness.schema.model import Column, Constraint, Domain, Enum, Index, SchemaModel, Table

FAST = settings(max_examples=60, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- CHECK parsing -----------------------------------------------------------------------------------------

VOCABULARIES = [
    # plain pg_get_constraintdef(oid)
    ("CHECK ((status = ANY (ARRAY['a'::text, 'b'::text])))", "status", ("a", "b")),
    (
        "CHECK (((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))",
        "status",
        ("a", "b"),
    ),
    # pretty pg_get_constraintdef(oid, true), as harness.stores.postgres.introspect stores it
    (
        "CHECK (activity_type = ANY (ARRAY['event'::text, 'meeting'::text, 'sport'::text, 'study'::text, "
        "'social'::text, 'other'::text]))",
        "activity_type",
        ("event", "meeting", "sport", "study", "social", "other"),
    ),
    ("CHECK (b::text = ANY (ARRAY['p'::character varying, 'q'::character varying]::text[]))", "b", ("p", "q")),
    ("CHECK (c = ANY (ARRAY[1, 2, '-3'::integer]))", "c", ("1", "2", "-3")),
    ("CHECK (g = 'only'::text)", "g", ("only",)),
    ("CHECK (\"Q w\" = 'a''b'::text)", "Q w", ("a'b",)),
]


@pytest.mark.parametrize(("definition", "column", "values"), VOCABULARIES)
def test_a_vocabulary_is_read_from_the_servers_own_text(definition, column, values):
    parsed = checkexpr.parse_check("c", definition)
    assert parsed.known
    assert checkexpr.vocabulary(parsed.rules, column) == values


COMPARISONS = [
    ("CHECK (d > '-1'::integer)", [("d", ">", ("-1",), False)]),
    ("CHECK (e > 0.5 AND e <= 100::numeric)", [("e", ">", ("0.5",), False), ("e", "<=", ("100",), False)]),
    ("CHECK ((price > (0)::numeric))", [("price", ">", ("0",), False)]),
    ("CHECK (h >= 1 AND h <= 9)", [("h", ">=", ("1",), False), ("h", "<=", ("9",), False)]),
    ("CHECK (length(f) <= 5)", [("f", "<=", ("5",), True)]),
    ("CHECK (char_length(i) >= 2 AND char_length(i) <= 4)", [("i", ">=", ("2",), True), ("i", "<=", ("4",), True)]),
    ("CHECK (j <> ''::text)", [("j", "<>", ("",), False)]),
    ("CHECK (k >= 0) NOT VALID", [("k", ">=", ("0",), False)]),
    ("CHECK ((0 < qty))", [("qty", ">", ("0",), False)]),
]


@pytest.mark.parametrize(("definition", "expected"), COMPARISONS)
def test_simple_comparisons_are_read(definition, expected):
    parsed = checkexpr.parse_check("c", definition)
    assert parsed.known
    assert [(r.column, r.op, r.values, r.on_length) for r in parsed.rules] == expected


@pytest.mark.parametrize(
    "definition",
    [
        "CHECK (l)",
        "CHECK ((a < b))",
        "CHECK (((a > 1) OR (a < 0)))",
        "CHECK ((lower(email) = email))",
        "CHECK ((email ~~ '%@%'::text))",
        "CHECK ((status IS NOT NULL))",
        "UNIQUE (a)",
    ],
)
def test_other_checks_are_unknown_not_guessed(definition):
    assert checkexpr.parse_check("c", definition) == checkexpr.ParsedCheck("c", (), False)


def test_a_domain_check_applies_to_the_column_typed_with_it():
    parsed = checkexpr.parse_check("posint_check", "CHECK (VALUE > 0)", value_name="qty")
    assert [(r.column, r.op) for r in parsed.rules] == [("qty", ">")]


def test_literals_are_coerced_to_the_column_kind():
    rule = CheckRule("c", "x", ">=", ("-3",))
    assert checkexpr.satisfies(rule, Kind("int"), -3) and not checkexpr.satisfies(rule, Kind("int"), -4)
    assert checkexpr.satisfies(rule, Kind("int"), None)  # NULL passes every CHECK
    with pytest.raises(ValueError):
        checkexpr.coerce(Kind("int"), "abc")


# --- kinds of store types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("store_type", "kind"),
    [
        ("integer", Kind("int", -(2**31), 2**31 - 1)),
        ("smallint", Kind("int", -(2**15), 2**15 - 1)),
        ("character varying(10)", Kind("text", max_length=10)),
        ("character(3)", Kind("text", max_length=3, fixed_length=True)),
        ("numeric(12,2)", Kind("decimal", precision=12, scale=2)),
        ("timestamp(3) with time zone", Kind("timestamp", tz=True, time_precision=3)),
        ("timestamp without time zone", Kind("timestamp", tz=False)),
        ("integer[]", Kind("list", element=Kind("int", -(2**31), 2**31 - 1))),
        ("tsvector", None),
    ],
)
def test_postgres_types_map_onto_kinds(store_type, kind):
    assert kinds.postgres_kind(store_type) == kind


def test_enums_and_domains_resolve_through_the_model():
    model = SchemaModel(
        "postgres", enums=(Enum("mood", ("sad", "ok")),), domains=(Domain("short", "character varying(4)"),)
    )
    assert kinds.postgres_kind("mood", model) == Kind("enum", labels=("sad", "ok"))
    assert kinds.postgres_kind("short", model) == Kind("text", max_length=4)


@pytest.mark.parametrize(
    ("store_type", "name"),
    [("timeuuid", "uuid"), ("ascii", "text"), ("frozen<list<int>>", "list"), ("map<text, int>", "map"),
     ("set<timestamp>", "set"), ("duration", None)],
)  # fmt: skip
def test_cassandra_types_map_onto_kinds(store_type, name):
    kind = kinds.cassandra_kind(store_type)
    assert (kind.name if kind else None) == name


# --- a model like a real project's (built by hand) ------------------------------------------------------------

CONTRACT = parse_contract(
    """
```mermaid
classDiagram
class PG_Authors {
    +int id
    +string name
}
class PG_Posts {
    +int id
    +int author_id
    +string state
    +timestamp created_at
    +decimal price
}
class PG_Tags {
    +int post_id
    +string label
}
PG_Authors "1" --> "many" PG_Posts : writes
```
"""
)


def _model() -> SchemaModel:
    ident = {"nullable": False, "identity": "by default"}
    return SchemaModel(
        "postgres",
        tables=(
            Table(  # listed child first on purpose: the plan must reorder
                "tags",
                columns=(
                    Column("post_id", "integer", nullable=False, position=1),
                    Column("label", "character varying(12)", nullable=False, position=2),
                ),
                constraints=(
                    Constraint("tags_pkey", "primary_key", ("post_id", "label")),
                    Constraint("tags_post_id_fkey", "foreign_key", ("post_id",), "posts", ("id",)),
                    Constraint("tags_label_check", "check", ("label",), definition="CHECK (length(label::text) >= 1)"),
                ),
            ),
            Table(
                "posts",
                columns=(
                    Column("id", "integer", position=1, **ident),  # type: ignore[arg-type]
                    Column("author_id", "integer", nullable=False, position=2),
                    Column("state", "text", nullable=False, default="'draft'::text", position=3),
                    Column("created_at", "timestamp with time zone", nullable=False, default="now()", position=4),
                    Column("price", "numeric", position=5),
                    Column("extra", "smallint", position=6),
                ),
                constraints=(
                    Constraint("posts_pkey", "primary_key", ("id",)),
                    Constraint("posts_author_id_fkey", "foreign_key", ("author_id",), "authors", ("id",)),
                    Constraint(
                        "posts_state_check",
                        "check",
                        ("state",),
                        definition="CHECK (state = ANY (ARRAY['draft'::text, 'live'::text]))",
                    ),
                    Constraint("posts_price_check", "check", ("price",), definition="CHECK (price >= 0::numeric)"),
                    Constraint("posts_odd_check", "check", (), definition="CHECK (lower(state) = state)"),
                ),
            ),
            Table(
                "authors",
                columns=(
                    Column("id", "integer", position=1, **ident),  # type: ignore[arg-type]
                    Column("name", "text", nullable=False, position=2),
                    Column("manager_id", "integer", position=3),
                ),
                constraints=(
                    Constraint("authors_pkey", "primary_key", ("id",)),
                    Constraint("authors_manager_fkey", "foreign_key", ("manager_id",), "authors", ("id",)),
                ),
                indexes=(Index("authors_name_idx", "authors", columns=("name",), unique=True),),
            ),
        ),
    )


def _plans() -> dict[str, planning.TablePlan]:
    return {p.name: p for p in planning.plan_tables(_model(), CONTRACT)}


def test_plans_come_parents_first_and_self_references_stay_null():
    plans = planning.plan_tables(_model(), CONTRACT)
    assert [p.name for p in plans] == ["authors", "posts", "tags"]
    authors = plans[0]
    assert [fk.name for fk in authors.null_foreign_keys] == ["authors_manager_fkey"]
    assert authors.unique == (("authors_pkey", ("id",)), ("authors_name_idx", ("name",)))
    assert planning.ancestors({p.name: p for p in plans}, "tags") == ["authors", "posts"]


def test_a_cycle_of_not_null_foreign_keys_is_reported_unsupported():
    def table(name: str, other: str) -> Table:
        return Table(
            name,
            columns=(
                Column("id", "integer", nullable=False, position=1),
                Column("other", "integer", nullable=False, position=2),
            ),
            constraints=(Constraint(f"{name}_fk", "foreign_key", ("other",), other, ("id",)),),
        )

    plans = planning.plan_tables(SchemaModel("postgres", tables=(table("a", "b"), table("b", "a"))))
    assert [p.unsupported for p in plans] == [
        "foreign key a_fk to b cannot be satisfied (cycle or unsupported)",
        "foreign key b_fk to a cannot be satisfied (cycle or unsupported)",
    ]


def test_columns_take_the_contract_domain_and_constraints_narrow_it():
    posts = _plans()["posts"]
    assert posts.column("author_id").domain == CONTRACT_KINDS["int"]
    assert posts.column("extra").contract_type is None  # not in the contract: its store type decides
    assert posts.column("state").rules[0].values == ("draft", "live")
    assert posts.unknown_checks == ("posts_odd_check",)
    assert posts.column("state").defaulted and posts.column("id").defaulted
    kinds = [(r.kind, r.name) for r in planning.breakable_rules(posts)]
    assert kinds == [
        ("not_null", "author_id"),
        ("unique", "posts_pkey"),
        ("foreign_key", "posts_author_id_fkey"),
        ("check", "posts_price_check"),
        ("check", "posts_state_check"),
    ]


# --- value domains ------------------------------------------------------------------------------------------------


def _col(plan: str, name: str) -> planning.ColumnPlan:
    return _plans()[plan].column(name)


@FAST
@given(st.data())
def test_contract_domains_hold(data):
    name = data.draw(strategies.value_strategy(_col("authors", "name")))
    assert isinstance(name, str) and len(name) <= 200 and "\x00" not in name
    author = data.draw(strategies.value_strategy(_col("posts", "author_id")))
    assert -(2**31) <= author < 2**31
    ts = data.draw(strategies.value_strategy(_col("posts", "created_at")))
    assert ts.tzinfo is not None and datetime(1899, 12, 31, tzinfo=UTC) < ts < datetime(2201, 1, 2, tzinfo=UTC)
    price = data.draw(strategies.value_strategy(_col("posts", "price")))
    if price is not None:
        assert price >= 0 and len(price.as_tuple().digits) <= 18 and -price.as_tuple().exponent <= 6
    assert data.draw(strategies.value_strategy(_col("posts", "state"))) in ("draft", "live")
    extra = data.draw(strategies.value_strategy(_col("posts", "extra")))
    assert extra is None or -(2**15) <= extra < 2**15


@FAST
@given(st.data())
def test_breaking_values_break_exactly_the_rule_and_fit_the_column(data):
    state = _col("posts", "state")
    assert state.kind is not None
    value = data.draw(strategies.breaking(state.kind, state.rules[0], []))
    assert value not in ("draft", "live")
    price = _col("posts", "price")
    assert price.kind is not None
    assert data.draw(strategies.breaking(price.kind, price.rules[0], [])) < 0
    label = _col("tags", "label")
    assert data.draw(strategies.store_strategy(label)) != ""  # length(label) >= 1 holds
    assert len(data.draw(strategies.store_strategy(label))) <= 12  # varchar(12)


@FAST
@given(strategies.example_strategy(_plans(), "tags", max_rows=3))
def test_examples_are_foreign_key_closed_parents_first_and_unique(example):
    seen: dict[str, list[dict[str, object]]] = {}
    for table, row in example:
        for value in row.values():
            if isinstance(value, Ref):
                assert value.index < len(seen[value.table])  # the parent row exists and came first
        seen.setdefault(table, []).append(row)
    assert set(seen) == {"authors", "posts", "tags"}
    names = [r["name"] for r in seen["authors"]]
    assert len(names) == len(set(names))  # the unique index holds within the example
    keys = [(r["post_id"], r["label"]) for r in seen["tags"]]
    assert len(keys) == len(set(keys))
    for row in seen["authors"]:
        assert row["manager_id"] is None  # a self reference is never generated


def test_sample_rows_are_deterministic_valid_and_linked():
    rows = samples.sample_rows(_model(), CONTRACT)
    assert rows == samples.sample_rows(_model(), CONTRACT)
    assert [t for t, _ in rows] == ["authors", "posts", "tags"]
    by: dict[str, dict[str, Any]] = dict(rows)
    assert by["posts"]["author_id"] == by["authors"]["id"]
    assert by["tags"]["post_id"] == by["posts"]["id"]
    assert by["posts"]["state"] in ("draft", "live") and by["posts"]["price"] >= 0
    assert 1 <= len(str(by["tags"]["label"])) <= 12


def test_sample_rows_of_a_cassandra_model_have_non_empty_keys():
    model = SchemaModel(
        "cassandra",
        tables=(
            Table(
                "events",
                columns=(
                    Column("day", "text", nullable=False, kind="partition_key", position=0),
                    Column("at", "timestamp", nullable=False, kind="clustering", position=0),
                    Column("note", "ascii", position=-1),
                ),
            ),
        ),
    )
    ((table, row),) = samples.sample_rows(model)
    assert table == "events" and row["day"] != "" and isinstance(row["at"], datetime)


# --- comparing at the store's precision ---------------------------------------------------------------------


def test_read_back_values_compare_at_the_stores_precision():
    written = datetime(2001, 2, 3, 4, 5, 6, 789654, tzinfo=UTC)
    cassandra = datetime(2001, 2, 3, 4, 5, 6, 789000)  # the driver hands back naive UTC, milliseconds
    assert same(Kind("timestamp"), written, cassandra, millis=True)
    assert not same(Kind("timestamp"), written, cassandra)
    assert same(Kind("text", fixed_length=True), "ab", "ab   ")
    assert not same(Kind("text"), "ab", "ab ")
    assert same(Kind("decimal"), Decimal("1.50"), Decimal("1.5"))
    assert same(Kind("list", element=Kind("int")), [], None)
