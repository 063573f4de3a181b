"""PostgreSQL files as real projects write them: several sections, empty sections, deep failures, baselines."""

from __future__ import annotations

import psycopg
import pytest

from tests.db.applier_support import harness
from tests.db.test_postgres_applier import ledger, tables, write

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_env(pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", pg_url)
    migrations = tmp_path / "migrations"
    monkeypatch.setenv("DBMATE_MIGRATIONS_DIR", str(migrations))
    return migrations


THREE_SECTIONS = """
-- migrate:up
CREATE TABLE log (id int);
-- migrate:down
DROP TABLE log;
-- migrate:up
INSERT INTO log VALUES (1);
SELECT {divisor};
-- migrate:down
DELETE FROM log;
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY log_id ON log (id);
-- migrate:down transaction:false
DROP INDEX CONCURRENTLY log_id;
"""


def _indexes(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()}


def test_sections_run_in_order_each_with_its_own_transaction_option_and_roll_back_in_reverse(pg_env, pg_conn, capsys):
    write(pg_env, "1_log.sql", THREE_SECTIONS.format(divisor="1"))
    up = harness(capsys, "postgres", "up")
    assert up.code == 0, up.err
    assert "log" in tables(pg_conn) and "log_id" in _indexes(pg_conn)
    assert pg_conn.execute("SELECT count(*) FROM log").fetchone() == (1,)
    assert ledger(pg_conn) == ["1"]
    down = harness(capsys, "postgres", "down")
    assert down.code == 0, down.err
    assert "log" not in tables(pg_conn) and ledger(pg_conn) == []


def test_a_failure_in_section_two_is_recorded_there_never_as_applied_and_resumes_after_the_fix(pg_env, pg_conn, capsys):
    path = write(pg_env, "1_log.sql", THREE_SECTIONS.format(divisor="1/0"))
    failed = harness(capsys, "postgres", "up")
    assert failed.code == 2
    assert f"{path}:7: up section 2 failed at statement 2 near `SELECT 1/0`: division by zero (22012)" in failed.err
    assert "log" in tables(pg_conn), "section 1 committed on its own, as dbmate does"
    assert pg_conn.execute("SELECT count(*) FROM log").fetchone() == (0,), "section 2 rolled back whole"
    assert ledger(pg_conn) == [], "dbmate's ledger never says applied"
    status = harness(capsys, "postgres", "status", "--exit-code")
    assert status.code == 1 and "[F] 1_log.sql  (failed: failed at section 2:" in status.out
    refused = harness(capsys, "postgres", "up")
    assert refused.code == 2 and "the file is unchanged" in refused.err and "resumes at section 2" in refused.err
    path.write_text(path.read_text().replace("SELECT 1/0;", "SELECT 1;"))
    resumed = harness(capsys, "postgres", "up")
    # Section 1 (CREATE TABLE log, not idempotent) must not run again, or this would fail.
    assert resumed.code == 0, resumed.err
    assert "Resuming: 1_log.sql at section 2" in resumed.out
    assert ledger(pg_conn) == ["1"] and "log_id" in _indexes(pg_conn)


def test_an_error_without_a_position_names_the_failing_statement_deep_in_a_long_file(pg_env, capsys):
    body = "".join(f"CREATE TABLE t{i} (id int);\n" for i in range(600))
    text = f"-- migrate:up\n{body}INSERT INTO t5 VALUES (1);\nINSERT INTO t5 SELECT 1/0;\n-- migrate:down\n"
    path = write(pg_env, "1_long.sql", text)
    failed = harness(capsys, "postgres", "up")
    assert failed.code == 2
    # PostgreSQL gives no position for a division by zero: the line comes from the statement count.
    assert f"{path}:603: up failed at statement 602 near `INSERT INTO t5 SELECT 1/0`: division by zero" in failed.err


def test_an_empty_up_is_applied_and_recorded_and_an_empty_down_rolls_back_as_a_no_op(pg_env, pg_conn, capsys):
    write(pg_env, "1_nothing_yet.sql", "-- migrate:up\n-- to be written\n-- migrate:down\n")
    write(pg_env, "2_ext.sql", "-- migrate:up\nCREATE TABLE kept (id int);\n-- migrate:down\n")
    up = harness(capsys, "postgres", "up")
    assert up.code == 0, up.err
    assert "Applied: 1_nothing_yet.sql in" in up.out and "(no-op: the up section is empty)" in up.out
    assert ledger(pg_conn) == ["1", "2"]
    down = harness(capsys, "postgres", "down")
    assert down.code == 0 and "(no-op: the down section is empty)" in down.out
    assert ledger(pg_conn) == ["1"] and "kept" in tables(pg_conn)


def test_status_exit_code_is_one_for_a_failed_migration_even_with_nothing_pending(pg_env, pg_conn, capsys):
    write(pg_env, "1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\n"
          "-- migrate:up\nSELECT 1/0;\n-- migrate:down\n")  # fmt: skip
    assert harness(capsys, "postgres", "up").code == 2
    status = harness(capsys, "postgres", "status", "--exit-code")
    assert status.code == 1 and "Failed: 1" in status.out


def test_baseline_takes_over_a_database_another_tool_migrated(pg_env, pg_conn, capsys):
    pg_conn.execute("CREATE TABLE a (id int)")  # what the other tool made
    write(pg_env, "1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n")
    write(pg_env, "2_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n")
    done = harness(capsys, "postgres", "baseline", "--to", "1")
    assert done.code == 0, done.err
    assert ledger(pg_conn) == ["1"], "dbmate's ledger sees it as applied"
    assert "[B] 1_a.sql" in harness(capsys, "postgres", "status").out
    refused = harness(capsys, "postgres", "baseline", "--to", "2")
    assert refused.code == 2 and "--force" in refused.err
    up = harness(capsys, "postgres", "up")
    assert up.code == 0 and "Applied: 2_b.sql" in up.out and "Applying: 1_a.sql" not in up.out


def test_debug_is_accepted_after_the_subcommand(pg_env, capsys):
    write(pg_env, "1_a.sql", "-- migrate:up\nSELECT 1/0;\n-- migrate:down\n")
    failed = harness(capsys, "postgres", "up", "--debug")
    assert failed.code == 2 and "Traceback" in failed.err and "division by zero" in failed.err


def test_a_password_in_url_is_warned_about_and_never_printed(pg_url, tmp_path, capsys, monkeypatch):
    from urllib.parse import urlsplit

    monkeypatch.delenv("DATABASE_URL", raising=False)
    password = urlsplit(pg_url).password  # the throwaway server's random password
    assert password
    write(tmp_path, "1_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n")
    result = harness(capsys, "postgres", "up", "--url", pg_url, "--migrations-dir", str(tmp_path))
    assert result.code == 0, result.err
    assert "Warning: --url carries a password" in result.err
    assert password not in result.out + result.err


def test_the_throwaway_postgres_refuses_a_client_without_its_password(pg_url):
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(pg_url)
    anonymous = urlunsplit(parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}"))
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(anonymous, connect_timeout=5, sslmode="disable", passfile="/dev/null")


def test_malformed_urls_never_print_their_password(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql//app:S3cretPW@127.0.0.1:1/db")
    write(tmp_path, "1_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n")
    result = harness(capsys, "postgres", "status", "--migrations-dir", str(tmp_path))
    assert result.code == 2 and "S3cretPW" not in result.out + result.err


def test_reset_empties_exactly_its_schemas_and_keeps_owner_grants_and_other_schemas(pg_env, pg_conn, capsys):
    write(pg_env, "1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n")
    assert harness(capsys, "postgres", "up").code == 0
    pg_conn.execute("CREATE SCHEMA other; CREATE TABLE other.kept (id int); GRANT USAGE ON SCHEMA public TO PUBLIC")
    database = pg_conn.info.dbname
    done = harness(capsys, "postgres", "reset", f"--yes={database}")
    assert done.code == 0, done.err
    assert tables(pg_conn) == set()
    assert pg_conn.execute("SELECT to_regclass('other.kept') IS NOT NULL").fetchone() == (True,)
    acl = pg_conn.execute("SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'").fetchone()
    assert acl is not None and "=U/" in str(acl[0]), "PUBLIC keeps its USAGE on the recreated schema"


def test_reset_refuses_when_an_object_outside_depends_on_its_schema(pg_env, pg_conn, capsys):
    write(pg_env, "1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n")
    assert harness(capsys, "postgres", "up").code == 0
    pg_conn.execute("CREATE SCHEMA reports; CREATE VIEW reports.v AS SELECT id FROM public.a")
    refused = harness(capsys, "postgres", "reset", f"--yes={pg_conn.info.dbname}")
    assert refused.code == 2 and "view reports.v" in refused.err and "--schema" in refused.err
    assert "a" in tables(pg_conn)
    both = harness(capsys, "postgres", "reset", f"--yes={pg_conn.info.dbname}", "--schema", "reports")
    assert both.code == 0, both.err
    assert pg_conn.execute("SELECT to_regclass('reports.v')").fetchone() == (None,)


def test_reset_with_a_token_runs_once(pg_env, pg_conn, capsys):
    write(pg_env, "1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n")
    database = pg_conn.info.dbname
    assert harness(capsys, "postgres", "up").code == 0
    assert harness(capsys, "postgres", "reset", f"--yes={database}", "--once", "r-1").code == 0
    assert harness(capsys, "postgres", "up").code == 0
    again = harness(capsys, "postgres", "reset", f"--yes={database}", "--once", "r-1")
    assert again.code == 0 and "skipped, token r-1 was already used" in again.out
    assert "a" in tables(pg_conn)
