"""Every CQL rule fires on its case, at the statement's file line, and stays quiet on the near miss."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lint import RULES, lint
from harness.lint.cql_rules import LARGE_DML

# The statement under test sits on line 4 of its file, below a comment and another statement.
HEAD = "-- migrate:up\n-- a comment\nCREATE TABLE IF NOT EXISTS other (k int PRIMARY KEY);\n"
TAIL = "\n-- migrate:down\nDROP TABLE IF EXISTS other;\n"

MV = "CREATE MATERIALIZED VIEW by_v AS SELECT * FROM t WHERE v IS NOT NULL AND k IS NOT NULL PRIMARY KEY (v, k);"
SASI = "CREATE CUSTOM INDEX t_v ON t (v) USING 'org.apache.cassandra.index.sasi.SASIIndex';"
SIMPLE = "CREATE KEYSPACE IF NOT EXISTS app WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3};"
NTS = "CREATE KEYSPACE IF NOT EXISTS app WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3};"

# rule id -> (statement that fires it, statement that does not)
CASES: dict[str, tuple[str, str]] = {
    "cql-drop-table": ("DROP TABLE IF EXISTS old_events;", "DROP INDEX IF EXISTS old_events_idx;"),
    "cql-drop-keyspace": ("DROP KEYSPACE old_app;", "DROP TYPE IF EXISTS old_address;"),
    "cql-truncate": ("TRUNCATE TABLE events;", "DELETE FROM events WHERE k = 1;"),
    "cql-alter-column-type": ("ALTER TABLE t ALTER v TYPE blob;", "ALTER TABLE t ADD w blob;"),
    "cql-materialized-view": (MV, "CREATE TABLE by_v (v int, k int, PRIMARY KEY (v, k));"),
    "cql-sasi-index": (SASI, "-- cardinality: high, one value per row\nCREATE INDEX t_v ON t (v) USING 'sai';"),
    "cql-index-cardinality": (
        "CREATE INDEX t_v ON t (v);",
        "-- Cardinality: about 20 states, always queried with the partition key.\nCREATE INDEX t_v ON t (v);",
    ),
    "cql-allow-filtering": (
        "SELECT * FROM t WHERE v = 1 ALLOW FILTERING;",
        "INSERT INTO notes (k, body) VALUES (1, 'never write ALLOW FILTERING');",
    ),
    "cql-simple-strategy": (SIMPLE, NTS),
    "cql-clustering-order": (
        "CREATE TABLE e (k uuid, at timestamp, id uuid, PRIMARY KEY ((k), at, id));",
        "CREATE TABLE e (k uuid, at timestamp, id uuid, PRIMARY KEY ((k), at, id)) WITH CLUSTERING ORDER BY "
        "(at DESC, id ASC);",
    ),
}


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def findings(directory: Path) -> list[tuple[str, int, str]]:
    report = lint(None, directory)
    return [(f.path.name, f.line, f.rule) for f in report.findings]


def test_every_rule_of_the_table_has_a_case_here() -> None:
    assert {rule.id for rule in RULES} == {*CASES, "cql-readd-column", "cql-mixed-ddl-dml"}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_the_line_of_its_statement(tmp_path: Path, rule: str) -> None:
    write(tmp_path, "001_case.cql", HEAD + CASES[rule][0] + TAIL)
    assert findings(tmp_path) == [("001_case.cql", 4, rule)]


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_stays_quiet_on_the_near_miss(tmp_path: Path, rule: str) -> None:
    write(tmp_path, "001_case.cql", HEAD + CASES[rule][1] + TAIL)
    assert findings(tmp_path) == []


@pytest.mark.parametrize("rule", ["cql-drop-table", "cql-drop-keyspace", "cql-truncate"])
def test_destructive_statements_in_a_down_section_are_its_job(tmp_path: Path, rule: str) -> None:
    write(
        tmp_path,
        "001_case.cql",
        "-- migrate:up\nCREATE TABLE t (k int PRIMARY KEY);\n-- migrate:down\n" + CASES[rule][0],
    )
    assert findings(tmp_path) == []


def test_truncate_without_the_table_keyword_fires_too(tmp_path: Path) -> None:
    write(tmp_path, "001_case.cql", "TRUNCATE events;\n")
    assert findings(tmp_path) == [("001_case.cql", 1, "cql-truncate")]


def test_a_file_without_markers_is_all_up_section(tmp_path: Path) -> None:
    write(tmp_path, "001_case.cql", "// old table\n\nDROP TABLE legacy;\n")
    assert findings(tmp_path) == [("001_case.cql", 3, "cql-drop-table")]


def test_keywords_are_case_insensitive_and_keyspace_names_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "001_case.cql", "drop table app.old_events;\n")
    assert findings(tmp_path) == [("001_case.cql", 1, "cql-drop-table")]


HISTORY = {
    "001_create.cql": "CREATE TABLE profiles (k uuid PRIMARY KEY, nick text, age int);\n",
    "002_drop_nick.cql": (
        "-- migrate:up\nALTER TABLE profiles DROP nick;\n-- migrate:down\nALTER TABLE profiles ADD nick text;\n"
    ),
}


def test_readd_column_with_another_type_fires_reading_earlier_migrations(tmp_path: Path) -> None:
    for name, text in HISTORY.items():
        write(tmp_path, name, text)
    write(tmp_path, "003_nick_again.cql", "-- migrate:up\n-- a number now\nALTER TABLE profiles ADD nick int;\n")
    report = lint(None, tmp_path)
    assert [(f.path.name, f.line, f.rule) for f in report.findings] == [("003_nick_again.cql", 3, "cql-readd-column")]
    assert "dropped as text (002_drop_nick.cql:2)" in report.findings[0].message


def test_readd_column_with_its_old_type_or_a_new_name_is_quiet(tmp_path: Path) -> None:
    for name, text in HISTORY.items():
        write(tmp_path, name, text)
    write(tmp_path, "003_nick_again.cql", "ALTER TABLE profiles ADD (nick varchar, nickname int);\n")
    assert findings(tmp_path) == []


def test_readd_column_in_the_same_migration_fires(tmp_path: Path) -> None:
    write(tmp_path, "001_create.cql", HISTORY["001_create.cql"])
    write(tmp_path, "002_flip.cql", "ALTER TABLE profiles DROP age;\nALTER TABLE profiles ADD age text;\n")
    assert findings(tmp_path) == [("002_flip.cql", 2, "cql-readd-column")]


def test_a_recreated_table_forgets_its_dropped_columns(tmp_path: Path) -> None:
    write(tmp_path, "001_create.cql", HISTORY["001_create.cql"])
    write(tmp_path, "002_drop_age.cql", "ALTER TABLE profiles DROP age;\n")
    write(
        tmp_path,
        "003_recreate.cql",
        "-- harness:allow cql-drop-table the table is empty in every environment\n\n"
        "DROP TABLE profiles;\nCREATE TABLE profiles (k uuid PRIMARY KEY);\nALTER TABLE profiles ADD age text;\n",
    )
    assert findings(tmp_path) == []


def test_sasi_index_is_not_also_asked_for_a_cardinality_note(tmp_path: Path) -> None:
    write(tmp_path, "001_case.cql", SASI + "\n")
    assert findings(tmp_path) == [("001_case.cql", 1, "cql-sasi-index")]


def test_cardinality_note_may_sit_inside_or_after_the_statement(tmp_path: Path) -> None:
    write(
        tmp_path,
        "001_case.cql",
        "CREATE INDEX a_v ON a (v); -- cardinality: high\nCREATE INDEX b_v\n  /* low cardinality */ ON b (v);\n",
    )
    assert findings(tmp_path) == []


def test_cardinality_note_must_be_directly_above(tmp_path: Path) -> None:
    write(tmp_path, "001_case.cql", "-- cardinality: high\n\nCREATE INDEX a_v ON a (v);\n")
    assert findings(tmp_path) == [("001_case.cql", 3, "cql-index-cardinality")]


def test_clustering_order_must_name_every_time_like_clustering_column(tmp_path: Path) -> None:
    write(
        tmp_path,
        "001_case.cql",
        "CREATE TABLE e (k int, day date, at timeuuid, PRIMARY KEY (k, day, at)) WITH CLUSTERING ORDER BY (day DESC);\n"
        "CREATE TABLE f (k int, seq int, PRIMARY KEY (k, seq));\n"
        "CREATE TABLE g (at timestamp PRIMARY KEY, v text);\n",
    )
    report = lint(None, tmp_path)
    assert [(f.line, f.rule) for f in report.findings] == [(1, "cql-clustering-order")]
    assert "clustering column at (timeuuid)" in report.findings[0].message


def _inserts(count: int) -> str:
    return "".join(f"INSERT INTO t (k, v) VALUES ({n}, 'x');\n" for n in range(count))


def test_schema_change_with_large_dml_fires_at_the_first_data_statement(tmp_path: Path) -> None:
    write(tmp_path, "001_case.cql", "CREATE TABLE t (k int PRIMARY KEY, v text);\n" + _inserts(LARGE_DML + 1))
    assert findings(tmp_path) == [("001_case.cql", 2, "cql-mixed-ddl-dml")]


def test_schema_change_with_a_few_rows_or_data_alone_is_quiet(tmp_path: Path) -> None:
    write(tmp_path, "001_case.cql", "CREATE TABLE t (k int PRIMARY KEY, v text);\n" + _inserts(LARGE_DML))
    write(tmp_path, "002_data.cql", _inserts(LARGE_DML * 3))
    assert findings(tmp_path) == []


def test_rows_inside_a_batch_count_one_by_one(tmp_path: Path) -> None:
    batch = "BEGIN BATCH\n" + _inserts(LARGE_DML + 1) + "APPLY BATCH;\n"
    write(tmp_path, "001_case.cql", "ALTER TABLE t ADD w text;\n" + batch)
    assert findings(tmp_path) == [("001_case.cql", 2, "cql-mixed-ddl-dml")]
