"""Squawk's findings land on our file and line, per up section, with its configuration passed through.

These run the real Squawk binary (package squawk-cli, installed by the lint/verify extras): it needs no
database and answers in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lint import LintError, lint
from harness.lint.squawk import locate_squawk, setup

LICENSE = "-- Copyright the authors.\n-- SPDX-License-Identifier: Apache-2.0\n"
TIMEOUTS = "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\n"
OTHERS = "CREATE TABLE IF NOT EXISTS audit (id bigint PRIMARY KEY);\nSELECT 1;\n" * 10
# What the down section holds would fire several rules; it must never be linted.
DOWN = "\n-- migrate:down\nDROP TABLE users;\nCREATE INDEX users_nick_idx ON users (nick);\n"

# The five changes the issue names, each with the Squawk rule that must fire on its line.
CASES = {
    "index without CONCURRENTLY": (
        "CREATE INDEX users_email_idx ON users (email);",
        "require-concurrent-index-creation",
    ),
    "NOT NULL column without default": ("ALTER TABLE users ADD COLUMN nick text NOT NULL;", "adding-required-field"),
    "column type change": ("ALTER TABLE users ALTER COLUMN age TYPE bigint;", "changing-column-type"),
    "constraint without NOT VALID": (
        "ALTER TABLE users ADD CONSTRAINT users_age_positive CHECK (age > 0);",
        "constraint-missing-not-valid",
    ),
}


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def rules_at(directory: Path, **options: object) -> list[tuple[str, int, str]]:
    report = lint(directory, None, **options)  # type: ignore[arg-type]
    return [(f.path.name, f.line, f.rule) for f in report.findings]


def expected_line(*before: str) -> int:
    return sum(part.count("\n") for part in before) + 1


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule_fires_on_the_file_line_deep_in_a_file(tmp_path: Path, case: str) -> None:
    statement, rule = CASES[case]
    head = LICENSE + "-- migrate:up\n" + TIMEOUTS + OTHERS
    write(tmp_path, "20240101000000_change.sql", head + statement + "\n" + DOWN)
    line = expected_line(head)
    assert line == 26
    found = rules_at(tmp_path)
    assert ("20240101000000_change.sql", line, rule) in found
    assert {n for _, n, _ in found} == {line}, "only the statement under test may fire (never the down section)"


def test_missing_lock_and_statement_timeouts_fire_on_the_first_slow_statement(tmp_path: Path) -> None:
    head = LICENSE + "-- migrate:up\n" + OTHERS
    write(tmp_path, "20240101000000_change.sql", head + CASES["column type change"][0] + "\n" + DOWN)
    found = rules_at(tmp_path)
    line = expected_line(head)
    assert ("20240101000000_change.sql", line, "require-lock-timeout") in found
    assert ("20240101000000_change.sql", line, "require-statement-timeout") in found


def test_timeouts_set_first_silence_the_timeout_rules(tmp_path: Path) -> None:
    write(tmp_path, "1_change.sql", "-- migrate:up\n" + TIMEOUTS + CASES["column type change"][0] + DOWN)
    assert [rule for _, _, rule in rules_at(tmp_path)] == ["changing-column-type"]


def test_column_findings_land_on_the_column_line_with_a_character_column(tmp_path: Path) -> None:
    text = "-- migrate:up\nCREATE TABLE t (\n    /* é日本 */ id int PRIMARY KEY\n);\n-- migrate:down\n"
    write(tmp_path, "1_t.sql", text)
    report = lint(tmp_path, None)
    # `int` is the 18th character of its line (the 23rd byte: Squawk counts bytes).
    assert [(f.line, f.column, f.rule, f.source) for f in report.findings] == [
        (3, 18, "prefer-bigint-over-int", "squawk")
    ]
    assert report.findings[0].fix  # Squawk's help text becomes the fix


def test_transaction_false_section_is_linted_outside_a_transaction(tmp_path: Path) -> None:
    concurrent = "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n"
    write(tmp_path, "1_plain.sql", "-- migrate:up\n" + TIMEOUTS + concurrent + DOWN)
    write(tmp_path, "2_notx.sql", "-- migrate:up transaction:false\n" + TIMEOUTS + concurrent + DOWN)
    assert rules_at(tmp_path) == [("1_plain.sql", 4, "ban-concurrent-index-creation-in-transaction")]


def test_index_on_a_table_created_in_the_same_transaction_is_quiet(tmp_path: Path) -> None:
    up = "CREATE TABLE t (id bigint PRIMARY KEY, v text);\nCREATE INDEX t_v_idx ON t (v);\n"
    write(tmp_path, "1_t.sql", "-- migrate:up\n" + TIMEOUTS + up + "-- migrate:down\n")
    assert rules_at(tmp_path) == []


@pytest.mark.parametrize("header", ["", LICENSE])
def test_each_up_section_of_a_multi_section_file_maps_to_its_own_lines(tmp_path: Path, header: str) -> None:
    text = (
        header + "-- migrate:up\n" + TIMEOUTS + "ALTER TABLE users ADD COLUMN nick text;\n"
        "-- migrate:down\nALTER TABLE users DROP COLUMN nick;\n"
        "-- migrate:up transaction:false\n" + TIMEOUTS + CASES["index without CONCURRENTLY"][0] + "\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_nick_idx ON users (nick);\n"
        "-- migrate:down\nDROP INDEX users_email_idx;\n"
        "-- migrate:up\n" + TIMEOUTS + CASES["column type change"][0] + "\n"
        "-- migrate:down\nALTER TABLE users ALTER COLUMN age TYPE int;\n"
    )
    write(tmp_path, "1_three.sql", text)
    lines = text.split("\n")
    index_line = lines.index(CASES["index without CONCURRENTLY"][0]) + 1
    type_line = lines.index(CASES["column type change"][0]) + 1
    assert (index_line, type_line) == (10 + header.count("\n"), 17 + header.count("\n"))
    assert set(rules_at(tmp_path)) == {
        ("1_three.sql", index_line, "require-concurrent-index-creation"),
        ("1_three.sql", index_line, "prefer-robust-stmts"),  # outside a transaction Squawk asks for IF NOT EXISTS
        ("1_three.sql", type_line, "changing-column-type"),  # the third section has its own timeouts set
    }


def test_squawk_ignore_comments_keep_working(tmp_path: Path) -> None:
    index = CASES["index without CONCURRENTLY"][0]
    write(
        tmp_path,
        "1_line.sql",
        "-- migrate:up\n" + TIMEOUTS + "-- squawk-ignore require-concurrent-index-creation\n" + index + DOWN,
    )
    write(
        tmp_path,
        "2_file.sql",
        "-- squawk-ignore-file require-concurrent-index-creation\n-- migrate:up\n" + TIMEOUTS + index + DOWN,
    )
    assert rules_at(tmp_path) == []


def test_syntax_errors_are_findings_on_their_line(tmp_path: Path) -> None:
    write(tmp_path, "1_bad.sql", "-- migrate:up\nSELECT 1;\nCREATE TABLEE t (id bigint);\n-- migrate:down\n")
    found = rules_at(tmp_path)
    assert found and {(line, rule) for _, line, rule in found} == {(3, "syntax-error")}


INDEX_FILE = "-- migrate:up\n" + TIMEOUTS + CASES["index without CONCURRENTLY"][0] + DOWN


def test_squawk_config_is_found_above_the_migrations_directory(tmp_path: Path) -> None:
    migrations = tmp_path / "db" / "migrations"
    write(migrations, "1_idx.sql", INDEX_FILE)
    assert rules_at(migrations) == [("1_idx.sql", 4, "require-concurrent-index-creation")]
    write(tmp_path, ".squawk.toml", 'excluded_rules = ["require-concurrent-index-creation"]\n')
    assert rules_at(migrations) == []


def test_an_explicit_squawk_config_wins_over_the_one_found(tmp_path: Path) -> None:
    write(tmp_path, ".squawk.toml", 'excluded_rules = ["require-concurrent-index-creation"]\n')
    other = write(tmp_path / "ci", "strict.toml", "excluded_rules = []\n")
    write(tmp_path / "db", "1_idx.sql", INDEX_FILE)
    assert rules_at(tmp_path / "db", squawk_config=other) == [("1_idx.sql", 4, "require-concurrent-index-creation")]


def test_config_excluded_paths_skip_files_as_squawk_would(tmp_path: Path) -> None:
    write(tmp_path, ".squawk.toml", 'excluded_paths = ["*_legacy_*.sql"]\n')
    write(tmp_path / "db", "1_legacy_idx.sql", INDEX_FILE)
    write(tmp_path / "db", "2_idx.sql", INDEX_FILE)
    assert rules_at(tmp_path / "db") == [("2_idx.sql", 4, "require-concurrent-index-creation")]


@pytest.mark.parametrize(("version", "fires"), [("10", True), ("10.0", True), ("11", False), ("16.4", False)])
def test_postgres_version_is_passed_through_with_a_minor_part(tmp_path: Path, version: str, fires: bool) -> None:
    add = "ALTER TABLE users ADD COLUMN IF NOT EXISTS flag boolean DEFAULT false;"
    write(tmp_path / "db", "1_flag.sql", "-- migrate:up\n" + TIMEOUTS + add + DOWN)
    expected = [("1_flag.sql", 4, "adding-field-with-default")] if fires else []
    assert rules_at(tmp_path / "db", pg_version=version) == expected


@pytest.mark.parametrize("version", ["abc", "16.x", ""])
def test_a_malformed_postgres_version_cannot_run(tmp_path: Path, version: str) -> None:
    with pytest.raises(LintError, match="not a version"):
        setup(tmp_path, pg_version=version)


def test_a_broken_squawk_config_cannot_run_and_says_why(tmp_path: Path) -> None:
    write(tmp_path, ".squawk.toml", 'excluded_rules = ["no-such-rule"]\n')
    write(tmp_path / "db", "1_idx.sql", INDEX_FILE)
    with pytest.raises(LintError, match="no-such-rule"):
        lint(tmp_path / "db", None)


def test_an_unparsable_squawk_config_cannot_run(tmp_path: Path) -> None:
    write(tmp_path, ".squawk.toml", "excluded_paths = [\n")
    write(tmp_path / "db", "1_idx.sql", INDEX_FILE)
    with pytest.raises(LintError, match=r"\.squawk\.toml: cannot read Squawk's config"):
        lint(tmp_path / "db", None)


def test_a_missing_explicit_config_cannot_run(tmp_path: Path) -> None:
    write(tmp_path / "db", "1_idx.sql", INDEX_FILE)
    with pytest.raises(LintError, match="config file not found"):
        lint(tmp_path / "db", None, squawk_config=tmp_path / "nope.toml")


def test_squawk_is_found_beside_the_interpreter_then_on_path(tmp_path: Path) -> None:
    beside = locate_squawk()
    assert beside.name == "squawk"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    assert locate_squawk(python=str(fake_bin / "python"), path=str(beside.parent)) == beside


def test_no_squawk_anywhere_names_the_extra_that_installs_it(tmp_path: Path) -> None:
    with pytest.raises(LintError, match=r"harness\[lint\]") as info:
        locate_squawk(python=str(tmp_path / "bin" / "python"), path="")
    assert str(tmp_path / "bin") in str(info.value)


def test_a_squawk_path_that_does_not_exist_cannot_run(tmp_path: Path) -> None:
    write(tmp_path, "1_idx.sql", INDEX_FILE)
    with pytest.raises(LintError, match="no executable Squawk binary"):
        lint(tmp_path, None, squawk_binary=tmp_path / "no" / "squawk")


def test_squawk_is_not_needed_without_postgres_migrations(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    report = lint(tmp_path / "empty", None, squawk_binary=tmp_path / "no" / "squawk")
    assert report.findings == () and report.files == ()
