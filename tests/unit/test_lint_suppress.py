"""`-- harness:allow <rule> <reason>`: silences with a reason, is a finding without one, reaches one statement."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lint import lint
from harness.lint.spans import sql_spans

TIMEOUTS = "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\n"
INDEX = "CREATE INDEX users_email_idx ON users (email);\n"


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def pg(tmp_path: Path, text: str) -> list[tuple[int, str]]:
    write(tmp_path, "1_m.sql", text)
    return [(f.line, f.rule) for f in lint(tmp_path, None).findings]


def cql(tmp_path: Path, text: str) -> list[tuple[int, str]]:
    write(tmp_path, "001_m.cql", text)
    return [(f.line, f.rule) for f in lint(None, tmp_path).findings]


def test_allow_with_a_reason_on_the_line_before_silences_the_statement(tmp_path: Path) -> None:
    allow = "-- harness:allow require-concurrent-index-creation users has 40 rows in every environment\n"
    assert pg(tmp_path, "-- migrate:up\n" + TIMEOUTS + allow + INDEX + "-- migrate:down\n") == []


def test_allow_without_a_reason_is_itself_a_finding(tmp_path: Path) -> None:
    allow = "-- harness:allow require-concurrent-index-creation\n"
    found = pg(tmp_path, "-- migrate:up\n" + TIMEOUTS + allow + INDEX + "-- migrate:down\n")
    assert found == [(4, "allow-without-reason")]


def test_allow_naming_no_rule_is_a_finding_and_silences_nothing(tmp_path: Path) -> None:
    found = pg(tmp_path, "-- migrate:up\n" + TIMEOUTS + "-- harness:allow\n" + INDEX + "-- migrate:down\n")
    assert found == [(4, "allow-without-reason"), (5, "require-concurrent-index-creation")]


def test_allow_reaches_only_the_next_statement(tmp_path: Path) -> None:
    allow = "-- harness:allow require-concurrent-index-creation tiny table\n"
    second = "CREATE INDEX users_nick_idx ON users (nick);\n"
    found = pg(tmp_path, "-- migrate:up\n" + TIMEOUTS + allow + INDEX + second + "-- migrate:down\n")
    assert found == [(6, "require-concurrent-index-creation")]


def test_allow_for_another_rule_does_not_silence_and_is_reported_unused(tmp_path: Path) -> None:
    allow = "-- harness:allow changing-column-type wrong rule for this statement\n"
    found = pg(tmp_path, "-- migrate:up\n" + TIMEOUTS + allow + INDEX + "-- migrate:down\n")
    assert found == [(4, "allow-unused"), (5, "require-concurrent-index-creation")]


def test_allow_above_a_multi_line_statement_reaches_its_inner_lines(tmp_path: Path) -> None:
    text = (
        "-- migrate:up\n"
        "-- harness:allow prefer-bigint-over-int ids stay small\n"
        "-- a description of the table\n"
        "CREATE TABLE t (\n    id int PRIMARY KEY,\n    n int\n);\n"
        "CREATE TABLE u (id int PRIMARY KEY);\n"
        "-- migrate:down\n"
    )
    assert pg(tmp_path, text) == [(8, "prefer-bigint-over-int")]


def test_allow_in_the_header_covers_the_whole_file(tmp_path: Path) -> None:
    text = (
        "-- harness:allow require-concurrent-index-creation,prefer-bigint-over-int staging-only tables\n"
        "-- migrate:up\n" + TIMEOUTS + INDEX + "CREATE TABLE t (id int PRIMARY KEY);\n" + INDEX + "-- migrate:down\n"
    )
    assert pg(tmp_path, text) == []


def test_squawk_alias_for_both_timeout_rules_is_understood(tmp_path: Path) -> None:
    alter = "ALTER TABLE users ALTER COLUMN age TYPE bigint;\n"
    allow = "-- harness:allow require-timeout-settings,changing-column-type empty table, no traffic yet\n"
    assert pg(tmp_path, allow + "-- migrate:up\n" + alter + "-- migrate:down\n") == []


def test_allow_in_the_down_section_is_not_read(tmp_path: Path) -> None:
    text = (
        "-- migrate:up\n" + TIMEOUTS + INDEX + "-- migrate:down\n-- harness:allow require-concurrent-index-creation x\n"
    )
    assert pg(tmp_path, text) == [(4, "require-concurrent-index-creation")]


def test_cql_allow_with_slash_comments_and_in_a_header_block(tmp_path: Path) -> None:
    text = (
        "// harness:allow cql-truncate the table holds a cache that refills itself\n"
        "\n"
        "TRUNCATE cache;\n"
        "// harness:allow cql-drop-table replaced by events_v2 in release 12, read by nothing since\n"
        "DROP TABLE events;\n"
        "DROP TABLE events_old;\n"
    )
    assert cql(tmp_path, text) == [(6, "cql-drop-table")]


def test_cql_header_block_reaches_statements_far_below_it(tmp_path: Path) -> None:
    text = (
        "-- harness:allow cql-truncate caches only\n\nCREATE TABLE c (k int PRIMARY KEY);\nTRUNCATE c;\n"
        + "TRUNCATE d;\n"
    )
    assert cql(tmp_path, text) == []


def test_cql_comment_block_touching_the_first_statement_is_not_a_header(tmp_path: Path) -> None:
    text = "// harness:allow cql-truncate refills itself\nTRUNCATE cache;\nTRUNCATE cache2;\n"
    assert cql(tmp_path, text) == [(3, "cql-truncate")]


@pytest.mark.parametrize("reason", ["", "   ", "-", "--"])
def test_a_reason_needs_a_word(tmp_path: Path, reason: str) -> None:
    text = f"-- migrate:up\n-- harness:allow cql-drop-table {reason}\nDROP TABLE t;\n"
    assert cql(tmp_path, text) == [(2, "allow-without-reason")]


def test_sql_spans_skip_semicolons_in_literals_and_comments() -> None:
    text = (
        "CREATE TABLE a (\n  x int, -- ;\n  y text DEFAULT 'a;b'\n);\n"
        "/* ; /* nested ; */ */ SELECT $f$ ; $f$, E'it\\'s;', \"q;\"\n"
        "; DO $$ BEGIN ; END $$;\n\nSELECT 1"
    )
    assert sql_spans(text, 5) == [(5, 8), (9, 9), (10, 10), (12, 12)]
