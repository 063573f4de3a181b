"""Generated rows that stay in the database: deterministic, foreign-key-closed draws that leave numbering to it."""

from __future__ import annotations

from harness.fuzz.generated import generate, sequence_fed
from harness.fuzz.plan import Ref, plan_tables
from harness.schema.model import Column, Constraint, SchemaModel, Table

AUTHORS = Table(
    "authors",
    columns=(
        Column("id", "integer", nullable=False, identity="by default", position=1),
        Column("email", "text", nullable=False, position=2),
        Column("bio", "text", position=3),
    ),
    constraints=(Constraint("authors_pkey", "primary_key", ("id",)), Constraint("authors_email", "unique", ("email",))),
)
POSTS = Table(
    "posts",
    columns=(
        Column("id", "bigint", nullable=False, default="nextval('posts_id_seq'::regclass)", position=1),
        Column("author_id", "integer", nullable=False, position=2),
        Column("state", "text", nullable=False, position=3),
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
    ),
)
POINTS = Table(
    "hits", columns=(Column("page", "text", nullable=False, position=1), Column("n", "point", False, position=2))
)
MODEL = SchemaModel("postgres", tables=(POSTS, AUTHORS, POINTS))
PLANS = plan_tables(MODEL)
TABLES = {t.name: t for t in MODEL.tables}


def test_the_same_seed_draws_the_same_rows_and_another_seed_others():
    wanted = {"authors": 3, "posts": 3}
    assert generate(PLANS, TABLES, wanted, 7) == generate(PLANS, TABLES, wanted, 7)
    assert generate(PLANS, TABLES, wanted, 7) != generate(PLANS, TABLES, wanted, 8)


def test_parents_come_first_and_children_reference_rows_of_the_same_draw():
    drawn = generate(PLANS, TABLES, {"posts": 3}, 1)
    tables = [name for name, _ in drawn]
    assert tables == ["authors", "posts", "posts", "posts"]  # an ancestor not asked for gets one row
    for _, row in drawn[1:]:
        assert row["author_id"] == Ref("authors", 0, "id") and row["state"] in ("draft", "live")


def test_numbered_columns_are_left_to_the_database_and_later_rows_hold_values():
    assert sequence_fed(AUTHORS) == {"id"} and sequence_fed(POSTS) == {"id"}
    drawn = generate(PLANS, TABLES, {"authors": 3}, 3)
    assert all("id" not in row for _, row in drawn)
    assert all(row["bio"] is not None for _, row in drawn[1:])
    assert len({row["email"] for _, row in drawn}) == 3  # unique within the draw


def test_a_table_the_generator_cannot_fill_is_left_out():
    assert next(p for p in PLANS if p.name == "hits").unsupported
    assert generate(PLANS, TABLES, {"hits": 3}, 1) == []
