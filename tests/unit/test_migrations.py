"""Migration files of both stores: names, markers, options, sections, errors, discovery and `new`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from harness.cql import Statement
from harness.errors import ConfigError, MigrationFileError, MigrationSetError
from harness.migrations import Section, discover, new_migration, parse_migration
from harness.registry import StoreName as Store

PG_OK = "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nDROP TABLE a;\n"


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode())
    return path


def error_of(directory: Path, name: str, text: str | bytes, store: Store = "postgres") -> MigrationFileError:
    path = write(directory, name, text)
    with pytest.raises(MigrationFileError) as info:
        parse_migration(path, store)
    assert info.value.path == path
    assert str(info.value).startswith(str(path))
    return info.value


# --- file names ----------------------------------------------------------------------------------


def test_postgres_file_gives_version_description_name_path_and_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "20240101120000_create_users.sql", PG_OK)
    migration = parse_migration(path, "postgres")
    assert (migration.store, migration.version, migration.description) == ("postgres", "20240101120000", "create_users")
    assert (migration.filename, migration.path) == ("20240101120000_create_users.sql", path)
    assert migration.checksum == hashlib.sha256(PG_OK.encode()).hexdigest()


def test_cassandra_version_keeps_its_leading_zeros_as_written(tmp_path: Path) -> None:
    migration = parse_migration(
        write(tmp_path, "007_add_index.cql", "CREATE TABLE t (k int PRIMARY KEY);"), "cassandra"
    )
    assert (migration.version, migration.description) == ("007", "add_index")


@pytest.mark.parametrize(("name", "version", "description"), [("1.sql", "1", ""), ("12abc.sql", "12", "abc")])
def test_underscore_and_description_are_optional_as_in_dbmate(
    tmp_path: Path, name: str, version: str, description: str
) -> None:
    migration = parse_migration(write(tmp_path, name, PG_OK), "postgres")
    assert (migration.version, migration.description) == (version, description)


@pytest.mark.parametrize(("name", "store"), [("create_users.sql", "postgres"), ("v1_x.cql", "cassandra")])
def test_migration_file_whose_name_does_not_parse_is_an_error_saying_what_it_must_look_like(
    tmp_path: Path, name: str, store: Store
) -> None:
    error = error_of(tmp_path, name, PG_OK, store)
    assert "<digits>_<description>" in error.reason
    assert ("20240101120000_create_users.sql" if store == "postgres" else "001_create_users.cql") in error.reason


def test_parse_uses_given_bytes_instead_of_reading_the_file(tmp_path: Path) -> None:
    migration = parse_migration(tmp_path / "5_x.sql", "postgres", data=PG_OK.encode())
    assert migration.up.text == "CREATE TABLE a (id int);\n\n"


def test_unreadable_file_is_a_migration_file_error(tmp_path: Path) -> None:
    with pytest.raises(MigrationFileError, match="cannot read"):
        parse_migration(tmp_path / "5_missing.sql", "postgres")


# --- sections and options ------------------------------------------------------------------------


def test_postgres_sections_hold_raw_text_after_each_marker_and_the_line_it_starts_on(tmp_path: Path) -> None:
    text = "-- header comment\n\n-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n"
    migration = parse_migration(write(tmp_path, "1_a.sql", text), "postgres")
    assert migration.up == Section("CREATE TABLE a (id int);\n", 4)
    assert migration.down == Section("DROP TABLE a;\n", 6)
    assert migration.up.transaction and migration.up.statements == () and migration.reversible


def test_transaction_false_turns_the_transaction_off_for_that_section_only(tmp_path: Path) -> None:
    text = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON a (id);\n-- migrate:down\nDROP INDEX i;\n"
    migration = parse_migration(write(tmp_path, "1_a.sql", text), "postgres")
    assert dict(migration.up.options) == {"transaction": "false"} and not migration.up.transaction
    assert migration.down is not None and migration.down.transaction


def test_transaction_true_and_marker_without_space_are_accepted(tmp_path: Path) -> None:
    text = "--migrate:up transaction:true\nSELECT 1;\n--migrate:down   transaction:false  \nSELECT 2;\n"
    migration = parse_migration(write(tmp_path, "1_a.sql", text), "postgres")
    assert migration.up.transaction
    assert migration.down is not None and not migration.down.transaction


@pytest.mark.parametrize(
    ("marker", "needle"),
    [
        ("-- migrate:up timeout:5", "unknown option 'timeout'"),
        ("-- migrate:up transaction", "malformed option 'transaction'"),
        ("-- migrate:up a:b:c", "malformed option 'a:b:c'"),
        ("-- migrate:up transaction:FALSE", "must be true or false"),
        ("-- migrate:up transaction:false transaction:false", "given twice"),
    ],
)
def test_bad_options_on_the_marker_line_are_errors_naming_the_option_and_line(
    tmp_path: Path, marker: str, needle: str
) -> None:
    error = error_of(tmp_path, "1_a.sql", f"-- c\n{marker}\nSELECT 1;\n-- migrate:down\n")
    assert error.line == 2
    assert needle in error.reason


@pytest.mark.parametrize("value", ["false", "true"])
def test_transaction_option_on_cassandra_is_an_error_because_cql_cannot_roll_back(tmp_path: Path, value: str) -> None:
    error = error_of(
        tmp_path, "1_a.cql", f"-- migrate:up\nSELECT 1;\n-- migrate:down transaction:{value}\n", "cassandra"
    )
    assert error.line == 3
    assert "means nothing on Cassandra" in error.reason and "remove the option" in error.reason


def test_crlf_file_is_parsed_with_markers_found_and_text_kept_raw(tmp_path: Path) -> None:
    text = "-- migrate:up\r\nCREATE TABLE a (id int);\r\n-- migrate:down transaction:false\r\nDROP TABLE a;\r\n"
    migration = parse_migration(write(tmp_path, "1_a.sql", text), "postgres")
    assert migration.up == Section("CREATE TABLE a (id int);\r\n", 2)
    assert migration.down is not None and not migration.down.transaction and migration.down.line == 4


@pytest.mark.parametrize("store", ["postgres", "cassandra"])
def test_utf8_byte_order_mark_is_an_error_because_dbmate_then_misses_the_up_marker(
    tmp_path: Path, store: Store
) -> None:
    error = error_of(tmp_path, "1_a.sql" if store == "postgres" else "1_a.cql", b"\xef\xbb\xbf" + PG_OK.encode(), store)
    assert error.line == 1 and "byte order mark" in error.reason


def test_non_utf8_bytes_are_an_error_with_line_and_byte_offset(tmp_path: Path) -> None:
    data = b"-- migrate:up\nSELECT 1;\nSELECT '\xff';\n-- migrate:down\n"
    error = error_of(tmp_path, "1_a.sql", data)
    assert error.line == 3
    offset = data.index(b"\xff")
    assert "not valid UTF-8 (byte 0xff" in error.reason and f"byte offset {offset}" in error.reason


# --- marker rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["CREATE TABLE a (id int);\n", ""])
def test_postgres_file_without_up_marker_is_an_error(tmp_path: Path, text: str) -> None:
    error = error_of(tmp_path, "1_a.sql", text)
    assert error.line == 1 and "no '-- migrate:up' marker" in error.reason


def test_postgres_file_with_only_a_down_section_is_an_error_at_the_down_marker(tmp_path: Path) -> None:
    error = error_of(tmp_path, "1_a.sql", "-- migrate:down\nDROP TABLE a;\n")
    assert error.line == 1 and "'-- migrate:down' comes before any '-- migrate:up'" in error.reason


def test_postgres_file_without_down_marker_is_an_error_with_dbmates_rule(tmp_path: Path) -> None:
    error = error_of(tmp_path, "1_a.sql", "\n-- migrate:up\nCREATE TABLE a (id int);\n")
    assert error.line == 2
    assert "each migration must define a down block with '-- migrate:down'" in error.reason


def test_statement_before_the_up_marker_is_an_error_at_its_line(tmp_path: Path) -> None:
    error = error_of(
        tmp_path, "1_a.sql", "-- ok\n\nCREATE TYPE t AS ENUM ('a');\n-- migrate:up\nSELECT 1;\n-- migrate:down\n"
    )
    assert error.line == 3 and "only comments and blank lines may precede the up marker" in error.reason


def test_slash_comments_may_precede_the_up_marker_in_cassandra_but_not_in_postgres(tmp_path: Path) -> None:
    text = "// note\n-- migrate:up\nSELECT 1;\n-- migrate:down\n"
    assert parse_migration(write(tmp_path, "1_a.cql", text), "cassandra").up.line == 3
    assert error_of(tmp_path, "1_a.sql", text).line == 1


def test_down_before_up_is_an_error_at_the_down_marker(tmp_path: Path) -> None:
    error = error_of(tmp_path, "1_a.sql", "-- migrate:down\nDROP TABLE a;\n-- migrate:up\nCREATE TABLE a (id int);\n")
    assert error.line == 1 and "comes before any '-- migrate:up'" in error.reason


def test_a_second_down_for_one_up_section_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    error = error_of(tmp_path, "1_a.sql", "-- migrate:up\nA;\n-- migrate:down\nB;\n-- migrate:down\nC;\n")
    assert error.line == 5
    assert "second '-- migrate:down' for the up section on line 1 (its down is on line 3)" in error.reason


def test_a_postgres_up_section_without_its_own_down_is_an_error_with_dbmates_rule(tmp_path: Path) -> None:
    error = error_of(tmp_path, "1_a.sql", "-- migrate:up\nA;\n-- migrate:down\nB;\n-- migrate:up\nC;\n")
    assert error.line == 5 and "no '-- migrate:down' marker for this up section" in error.reason


def test_multi_section_files_keep_each_pair_with_its_own_lines_and_options(tmp_path: Path) -> None:
    text = (
        "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n"
        "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON a (id);\n"
        "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY i;\n"
    )
    migration = parse_migration(write(tmp_path, "1_a.sql", text), "postgres")
    assert [(u.text, u.line, u.transaction) for u in migration.ups] == [
        ("CREATE TABLE a (id int);\n", 2, True),
        ("CREATE INDEX CONCURRENTLY i ON a (id);\n", 6, False),
    ]
    assert [(d.text, d.line, d.transaction) for d in migration.downs if d is not None] == [
        ("DROP TABLE a;\n", 4, True),
        ("DROP INDEX CONCURRENTLY i;\n", 8, False),
    ]
    assert migration.has_down and migration.reversible and migration.up is migration.ups[0]


def test_a_cassandra_multi_section_file_applies_the_statements_of_every_up_in_order(tmp_path: Path) -> None:
    text = (
        "-- migrate:up\nCREATE TABLE a (k int PRIMARY KEY);\n-- migrate:down\nDROP TABLE a;\n"
        "-- migrate:up\nCREATE TABLE b (k int PRIMARY KEY);\n"
    )
    migration = parse_migration(write(tmp_path, "1_a.cql", text), "cassandra")
    assert [s.line for s in migration.up_statements] == [2, 6]
    assert not migration.has_down and not migration.reversible


@pytest.mark.parametrize("bad", ["-- Migrate:Up", "  -- migrate:up", "-- migrate : up", "-- MIGRATE:DOWN"])
def test_a_line_that_looks_like_a_marker_but_is_not_one_is_an_error(tmp_path: Path, bad: str) -> None:
    error = error_of(tmp_path, "1_a.sql", f"-- migrate:up\nSELECT 1;\n{bad}\n-- migrate:down\n")
    assert error.line == 3 and "looks like a section marker" in error.reason


@pytest.mark.parametrize("up", ["", "\n\n", "-- nothing yet\n", "/* a /* nested */ comment */\n;\n"])
def test_an_empty_up_section_is_a_no_op_that_dbmate_applies_and_records(tmp_path: Path, up: str) -> None:
    migration = parse_migration(
        write(tmp_path, "1_a.sql", f"\n-- migrate:up\n{up}-- migrate:down\nDROP TABLE a;\n"), "postgres"
    )
    assert migration.up.is_empty and migration.is_noop and migration.reversible and not migration.comment_only


def test_a_block_comment_before_the_up_marker_is_refused_on_postgres_as_dbmate_refuses_it(tmp_path: Path) -> None:
    error = error_of(tmp_path, "1_a.sql", "/* Licence: MIT */\n-- migrate:up\nSELECT 1;\n-- migrate:down\n")
    assert error.line == 1 and "dbmate refuses" in error.reason and "'--' lines" in error.reason


def test_a_block_comment_licence_header_may_precede_the_markers_in_cassandra(tmp_path: Path) -> None:
    text = "/*\n * Licensed under the Apache License\n */\n-- migrate:up\nCREATE TABLE a (k int PRIMARY KEY);\n"
    migration = parse_migration(write(tmp_path, "1_a.cql", text), "cassandra")
    assert [s.line for s in migration.up.statements] == [5]


def test_a_statement_hidden_after_a_block_comment_before_the_cassandra_marker_is_still_an_error(tmp_path: Path) -> None:
    text = "/* header */ CREATE TABLE x (k int PRIMARY KEY);\n-- migrate:up\nSELECT 1;\n"
    error = error_of(tmp_path, "1_a.cql", text, "cassandra")
    assert error.line == 1 and "statement before '-- migrate:up'" in error.reason


@pytest.mark.parametrize("down", ["", "\n", "-- cannot be undone\n", "/* no */\n"])
def test_empty_down_section_is_allowed_and_makes_the_migration_irreversible(tmp_path: Path, down: str) -> None:
    migration = parse_migration(
        write(tmp_path, "1_a.sql", f"-- migrate:up\nSELECT 1;\n-- migrate:down\n{down}"), "postgres"
    )
    assert migration.down is not None and migration.down.is_empty and not migration.reversible


def test_down_marker_on_the_last_line_without_newline_gives_an_empty_down(tmp_path: Path) -> None:
    migration = parse_migration(write(tmp_path, "1_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down"), "postgres")
    assert migration.down == Section("", 4)


def test_unterminated_postgres_block_comment_counts_as_content_so_the_database_reports_it(tmp_path: Path) -> None:
    migration = parse_migration(
        write(tmp_path, "1_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n/* x\n"), "postgres"
    )
    assert migration.reversible


# --- cassandra -----------------------------------------------------------------------------------


def test_cassandra_file_without_markers_is_up_only_with_statements_on_file_lines(tmp_path: Path) -> None:
    text = "// users\nCREATE TABLE u (id uuid PRIMARY KEY);\n\nCREATE INDEX ON u (id);\n"
    migration = parse_migration(write(tmp_path, "001_users.cql", text), "cassandra")
    assert migration.down is None and not migration.reversible
    assert migration.up.text == text and migration.up.line == 1
    assert migration.up.statements == (
        Statement("CREATE TABLE u (id uuid PRIMARY KEY)", 2),
        Statement("CREATE INDEX ON u (id)", 4),
    )


def test_cassandra_sections_are_split_with_file_line_numbers(tmp_path: Path) -> None:
    text = (
        "-- migrate:up\nCREATE TABLE a (k int PRIMARY KEY);\nCREATE TABLE b (k int PRIMARY KEY);\n"
        "-- migrate:down\n\nDROP TABLE b; DROP TABLE a;\n"
    )
    migration = parse_migration(write(tmp_path, "002_ab.cql", text), "cassandra")
    assert [(s.text, s.line) for s in migration.up.statements] == [
        ("CREATE TABLE a (k int PRIMARY KEY)", 2),
        ("CREATE TABLE b (k int PRIMARY KEY)", 3),
    ]
    assert migration.down is not None
    assert [(s.text, s.line) for s in migration.down.statements] == [("DROP TABLE b", 6), ("DROP TABLE a", 6)]
    assert migration.reversible and migration.up.transaction


def test_cassandra_down_marker_without_up_marker_is_an_error_that_offers_the_up_only_form(tmp_path: Path) -> None:
    error = error_of(
        tmp_path, "001_a.cql", "CREATE TABLE a (k int PRIMARY KEY);\n-- migrate:down\nDROP TABLE a;\n", "cassandra"
    )
    assert error.line == 2 and "comes before any '-- migrate:up'" in error.reason and "up-only" in error.reason


def test_cassandra_down_with_only_comments_is_irreversible(tmp_path: Path) -> None:
    text = "-- migrate:up\nCREATE TABLE a (k int PRIMARY KEY);\n-- migrate:down\n// keep the data\n/* ; */ ;\n"
    migration = parse_migration(write(tmp_path, "001_a.cql", text), "cassandra")
    assert migration.down is not None and migration.down.is_empty and not migration.reversible


@pytest.mark.parametrize("text", ["", "\n  \n"])
def test_an_empty_cassandra_file_is_an_error_asking_for_statements_or_a_comment(tmp_path: Path, text: str) -> None:
    error = error_of(tmp_path, "001_a.cql", text, "cassandra")
    assert error.line == 1 and "the file is empty" in error.reason and "no-op" in error.reason


@pytest.mark.parametrize("text", ["\n// placeholder: this version was skipped\n", "-- reserved\n/* for 2.1 */\n"])
def test_a_cassandra_file_of_only_comments_is_a_deliberate_no_op(tmp_path: Path, text: str) -> None:
    migration = parse_migration(write(tmp_path, "004_placeholder.cql", text), "cassandra")
    assert migration.comment_only and migration.is_noop and migration.up_statements == ()
    assert migration.down is None and not migration.has_down


def test_an_empty_cassandra_up_section_is_a_no_op_with_a_down(tmp_path: Path) -> None:
    migration = parse_migration(
        write(tmp_path, "001_a.cql", "-- migrate:up\n;\n-- migrate:down\nDROP TABLE a;"), "cassandra"
    )
    assert migration.is_noop and not migration.comment_only and migration.reversible


def test_cql_syntax_error_becomes_a_file_error_at_the_file_line(tmp_path: Path) -> None:
    text = (
        "-- migrate:up\nCREATE TABLE a (k int PRIMARY KEY);\n\n"
        "INSERT INTO a (k, v) VALUES (1, 'oops);\n-- migrate:down\nDROP TABLE a;\n"
    )
    error = error_of(tmp_path, "001_a.cql", text, "cassandra")
    assert error.line == 4 and "CQL syntax: unterminated string literal" in error.reason


# --- discover ------------------------------------------------------------------------------------


def test_discover_returns_migrations_sorted_by_numeric_version_and_ignores_other_files(tmp_path: Path) -> None:
    for name in ("10_c.cql", "2_b.cql", "001_a.cql"):
        write(tmp_path, name, "SELECT 1;")
    write(tmp_path, "README.md", "# notes")
    write(tmp_path, "1_x.sql", "not cassandra")
    (tmp_path / "3_dir.cql").mkdir()
    (tmp_path / "3_dir.cql" / "4_nested.cql").write_text("SELECT 1;")
    assert [m.filename for m in discover(tmp_path, "cassandra")] == ["001_a.cql", "2_b.cql", "10_c.cql"]


def test_discover_of_an_empty_directory_is_an_empty_list(tmp_path: Path) -> None:
    assert discover(tmp_path, "postgres") == []


def test_discover_reports_every_broken_file_at_once(tmp_path: Path) -> None:
    write(tmp_path, "20240101000000_ok.sql", PG_OK)
    write(tmp_path, "20240102000000_no_down.sql", "-- migrate:up\nSELECT 1;\n")
    write(tmp_path, "create_users.sql", PG_OK)
    write(tmp_path, "20240103000000_upper.SQL", PG_OK)
    with pytest.raises(MigrationSetError) as info:
        discover(tmp_path, "postgres")
    names = [e.path.name for e in info.value.errors]
    assert names == ["20240102000000_no_down.sql", "20240103000000_upper.SQL", "create_users.sql"]
    assert "3 migration file errors" in str(info.value) and "20240102000000_no_down.sql:1" in str(info.value)


@pytest.mark.parametrize(("first", "second"), [("001_a.cql", "1_b.cql"), ("5_a.cql", "5_b.cql")])
def test_numerically_equal_versions_are_an_error_naming_both_files(tmp_path: Path, first: str, second: str) -> None:
    write(tmp_path, first, "SELECT 1;")
    write(tmp_path, second, "SELECT 2;")
    with pytest.raises(MigrationSetError) as info:
        discover(tmp_path, "cassandra")
    [error] = info.value.errors
    assert error.path.name == second and f"also used by {first}" in error.reason


def test_duplicate_version_is_reported_even_when_one_of_the_files_is_broken(tmp_path: Path) -> None:
    write(tmp_path, "004_a.sql", PG_OK)
    write(tmp_path, "4_b.sql", "-- migrate:up\nSELECT 1;\n")
    with pytest.raises(MigrationSetError) as info:
        discover(tmp_path, "postgres")
    reasons = [(e.path.name, e.reason.split(":")[0]) for e in info.value.errors]
    assert sorted(reasons) == [
        ("4_b.sql", "no '-- migrate"),
        ("4_b.sql", "version 4 is also used by 004_a.sql (versions compare as numbers)"),
    ]


def test_discover_of_a_missing_directory_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="migrations directory does not exist") as info:
        discover(tmp_path / "nope", "postgres")
    assert str(tmp_path / "nope") in str(info.value)


def test_discover_of_a_file_instead_of_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        discover(write(tmp_path, "1_a.sql", PG_OK), "postgres")


def test_unknown_store_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown store 'mysql'"):
        discover(tmp_path, "mysql")


# --- new_migration -------------------------------------------------------------------------------

NOW = datetime(2024, 3, 5, 7, 8, 9, tzinfo=UTC)


def test_new_postgres_migration_is_named_by_utc_timestamp_and_holds_dbmates_template(tmp_path: Path) -> None:
    path = new_migration(tmp_path, "Create Users", "postgres", now=NOW)
    assert path == tmp_path / "20240305070809_create_users.sql"
    assert path.read_text() == "-- migrate:up\n\n\n-- migrate:down\n\n"


def test_new_postgres_migration_converts_local_time_to_utc_and_treats_naive_time_as_utc(tmp_path: Path) -> None:
    local = NOW.astimezone(timezone(timedelta(hours=2)))
    assert new_migration(tmp_path, "a", "postgres", now=local).name == "20240305070809_a.sql"
    naive = datetime(2024, 3, 5, 7, 8, 10)
    assert new_migration(tmp_path, "b", "postgres", now=naive).name == "20240305070810_b.sql"


def test_new_migration_becomes_valid_once_the_up_section_is_filled(tmp_path: Path) -> None:
    path = new_migration(tmp_path, "a", "postgres", now=NOW)
    path.write_text(path.read_text().replace("-- migrate:up\n", "-- migrate:up\nSELECT 1;\n"))
    [migration] = discover(tmp_path, "postgres")
    assert migration.up.text.strip() == "SELECT 1;" and not migration.reversible


def test_new_cassandra_migration_counts_up_from_the_highest_version(tmp_path: Path) -> None:
    assert new_migration(tmp_path, "first", "cassandra").name == "001_first.cql"
    write(tmp_path, "007_seventh.cql", "SELECT 1;")
    assert new_migration(tmp_path, "next one", "cassandra").name == "008_next_one.cql"


def test_new_migration_creates_a_missing_directory(tmp_path: Path) -> None:
    path = new_migration(tmp_path / "a" / "b", "x", "cassandra")
    assert path.parent == tmp_path / "a" / "b" and path.is_file()


@pytest.mark.parametrize("name", ["drop-table", "", "   ", "ünïcode", "a/b"])
def test_new_migration_rejects_names_outside_lowercase_letters_digits_and_underscores(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(ConfigError, match="may only contain"):
        new_migration(tmp_path, name, "postgres", now=NOW)
    assert list(tmp_path.iterdir()) == []


def test_new_migration_refuses_to_overwrite_an_existing_file(tmp_path: Path) -> None:
    path = new_migration(tmp_path, "a", "postgres", now=NOW)
    path.write_text(PG_OK)
    with pytest.raises(MigrationFileError, match="already exists; refusing to overwrite"):
        new_migration(tmp_path, "a", "postgres", now=NOW)
    assert path.read_text() == PG_OK


def test_new_migration_refuses_a_version_already_taken_by_another_file(tmp_path: Path) -> None:
    new_migration(tmp_path, "a", "postgres", now=NOW)
    with pytest.raises(MigrationFileError, match=r"already used by 20240305070809_a\.sql"):
        new_migration(tmp_path, "b", "postgres", now=NOW)


# --- files that must not be read ------------------------------------------------------------------


def test_a_symlink_leaving_the_migrations_directory_is_refused(tmp_path: Path) -> None:
    outside = write(tmp_path, "secret.sql", PG_OK)
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "1_a.sql").symlink_to(outside)
    with pytest.raises(MigrationSetError) as info:
        discover(migrations, "postgres")
    assert "symbolic link to" in str(info.value) and "outside the migrations directory" in str(info.value)


def test_a_symlink_to_a_file_inside_the_directory_is_followed(tmp_path: Path) -> None:
    write(tmp_path, "1_a.sql", PG_OK)
    (tmp_path / "2_b.sql").symlink_to(tmp_path / "1_a.sql")
    assert [m.filename for m in discover(tmp_path, "postgres")] == ["1_a.sql", "2_b.sql"]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read_naming_the_setting(tmp_path: Path) -> None:
    write(tmp_path, "1_a.sql", PG_OK + "-- " + "x" * 200 + "\n")
    with pytest.raises(MigrationSetError) as info:
        discover(tmp_path, "postgres", max_bytes=100, size_setting="--max-file-size")
    assert "over the limit of 100 bytes" in str(info.value) and "--max-file-size" in str(info.value)
