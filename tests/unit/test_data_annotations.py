"""`-- harness:transforms` and `-- harness:lossy-down` in a migration's header: parsed, placed, and refused when
malformed (a typo must not pass for a declaration)."""

from __future__ import annotations

import pytest

from harness.errors import MigrationFileError
from harness.migrations.annotations import DataAnnotations, Transform, parse_annotations

BODY = "-- migrate:up\nUPDATE users SET email = lower(email);\n-- migrate:down\n"


def parse(text: str, store: str = "postgres") -> DataAnnotations:
    return parse_annotations("1_m.sql" if store == "postgres" else "001_m.cql", text, store)


def refused(text: str, store: str = "postgres") -> str:
    with pytest.raises(MigrationFileError) as error:
        parse(text, store)
    return str(error.value)


def test_a_file_without_annotations_declares_nothing():
    assert parse(BODY) == DataAnnotations()


def test_transforms_name_columns_and_whole_tables_over_several_lines():
    found = parse("-- why: emails are kept lowercase\n-- harness:transforms users.email, Users.Name\n"
                  "-- harness:transforms audit_log orders.*\n" + BODY)  # fmt: skip
    assert found.transforms == (
        Transform("users", "email", 2),
        Transform("users", "name", 2),
        Transform("audit_log", None, 3),
        Transform("orders", None, 3),
    )
    assert found.transforms_column("users", "EMAIL") and not found.transforms_column("users", "id")
    assert found.transforms_table("audit_log") and found.transforms_column("orders", "total")
    assert not found.transforms_table("users") and found.lossy_down is None


def test_a_lossy_down_keeps_its_reason():
    assert parse("-- harness:lossy-down the original case is gone\n" + BODY).lossy_down == "the original case is gone"


def test_a_lossy_down_without_a_reason_is_refused_with_its_line():
    assert refused("-- a note\n-- harness:lossy-down\n" + BODY) == (
        "1_m.sql:2: harness:lossy-down gives no reason: write '-- harness:lossy-down <why it may lose data>'"
    )


def test_a_second_lossy_down_is_refused():
    assert "given twice" in refused("-- harness:lossy-down a\n-- harness:lossy-down b\n" + BODY)


@pytest.mark.parametrize("targets", ["", "  ", "users.email.x", "'users'.email", "users.e-mail"])
def test_transforms_naming_nothing_or_no_column_are_refused(targets):
    assert refused(f"-- harness:transforms {targets}\n" + BODY).startswith("1_m.sql:1: harness:transforms ")


def test_an_annotation_below_the_up_marker_must_move_to_the_header():
    text = "-- migrate:up\nUPDATE users SET email = lower(email);\n-- migrate:down\n-- harness:lossy-down gone\n"
    assert refused(text) == (
        "1_m.sql:4: harness:lossy-down must be in the file's header (above '-- migrate:up'): move it there"
    )


@pytest.mark.parametrize(("written", "meant"), [("transform", "transforms"), ("lossy_down", "lossy-down"),
                                                  ("lossydown", "lossy-down")])  # fmt: skip
def test_a_misspelt_directive_is_refused_with_the_right_spelling(written, meant):
    assert refused(f"-- harness:{written} users.email\n" + BODY) == (
        f"1_m.sql:1: unknown directive harness:{written}: did you mean harness:{meant}?"
    )


def test_the_lints_own_directive_is_left_to_the_lint():
    text = "-- harness:allow changing-column-type users has ten rows\n-- harness:transforms users.email\n" + BODY
    assert parse(text).transforms == (Transform("users", "email", 2),)


def test_a_plain_cql_file_takes_its_leading_comments_as_the_header():
    text = "/* licence\n   header */\n// harness:transforms events.content\n\nALTER TABLE events DROP content;\n"
    assert parse(text, "cassandra").transforms == (Transform("events", "content", 3),)
    below = "ALTER TABLE events DROP content;\n-- harness:lossy-down gone for good\n"
    assert refused(below, "cassandra").startswith("001_m.cql:2: harness:lossy-down must be in the file's header")
