"""The applier on a real PostgreSQL: every command, failures, locking, and bad files."""

from __future__ import annotations

import re
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from tests.db.applier_support import copy_migrations, harness, harness_process

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_env(pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    migrations = tmp_path / "migrations"
    monkeypatch.setenv("DBMATE_MIGRATIONS_DIR", str(migrations))
    return migrations


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def ledger(conn: psycopg.Connection) -> list[str]:
    if conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone() == (None,):
        return []
    return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()]


def test_new_up_status_down_work_as_the_readme_says(pg_env, pg_conn, capsys):
    created = harness(capsys, "postgres", "new", "Add Widgets")
    assert created.code == 0
    path = Path(created.out.split("Creating migration: ")[1].strip())
    assert re.fullmatch(r"\d{14}_add_widgets\.sql", path.name)
    path.write_text("-- migrate:up\nCREATE TABLE widgets (id int PRIMARY KEY);\n-- migrate:down\nDROP TABLE widgets;\n")

    pending = harness(capsys, "postgres", "status", "--exit-code")
    assert pending.code == 1
    assert f"[ ] {path.name}" in pending.out and "Pending: 1" in pending.out

    applied = harness(capsys, "postgres", "up")
    assert applied.code == 0, applied.err
    assert re.search(rf"Applying: {path.name}\nApplied: {path.name} in [\d.]+ms", applied.out)
    assert "widgets" in tables(pg_conn)
    status = harness(capsys, "postgres", "status", "--exit-code")
    assert status.code == 0 and f"[X] {path.name}" in status.out

    down = harness(capsys, "postgres", "down")
    assert down.code == 0 and f"Rolled back: {path.name}" in down.out
    assert "widgets" not in tables(pg_conn) and ledger(pg_conn) == []


def test_down_by_steps_to_version_and_all(pg_env, pg_conn, capsys):
    copy_migrations("postgres", pg_env)
    assert harness(capsys, "postgres", "up").code == 0
    versions = ledger(pg_conn)
    assert len(versions) == 5
    assert harness(capsys, "postgres", "down", "--steps", "2").code == 0
    assert ledger(pg_conn) == versions[:3]
    assert harness(capsys, "postgres", "down", "--to", versions[0]).code == 0
    assert ledger(pg_conn) == versions[:1]
    assert harness(capsys, "postgres", "up").code == 0
    assert harness(capsys, "postgres", "down", "--all").code == 0
    assert ledger(pg_conn) == [] and tables(pg_conn) == {"schema_migrations", "harness_migrations"}


def test_status_json_is_machine_readable(pg_env, capsys):
    import json

    copy_migrations("postgres", pg_env, 2)
    harness(capsys, "postgres", "up", "--to", sorted(p.name for p in pg_env.iterdir())[0][:14])
    data = json.loads(harness(capsys, "postgres", "status", "--json").out)
    assert [m["state"] for m in data["migrations"]] == ["applied", "pending"]
    assert data["applied"] == 1 and data["pending"] == 1


def test_reset_refuses_without_yes_and_empties_the_database_with_it(pg_env, pg_conn, capsys):
    copy_migrations("postgres", pg_env)
    harness(capsys, "postgres", "up")
    database = pg_conn.info.dbname
    for confirmation in ((), ("--yes",), ("--yes=postgres",)):
        refused = harness(capsys, "postgres", "reset", *confirmation)
        assert refused.code == 2 and f"--yes={database}" in refused.err
        assert "users" in tables(pg_conn)
    done = harness(capsys, "postgres", "reset", f"--yes={database}")
    assert done.code == 0, done.err
    assert tables(pg_conn) == set()


def test_wait_returns_when_the_database_answers(pg_env, capsys):
    result = harness(capsys, "postgres", "wait", "--wait-timeout", "10")
    assert result.code == 0 and result.out.startswith("Ready:")


def test_wait_gives_up_with_an_error_on_a_closed_port(monkeypatch, capsys):
    from harness.servers.ports import free_port

    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:s3cret-pw@127.0.0.1:{free_port()}/app")
    result = harness(capsys, "postgres", "wait", "--wait-timeout", "1")
    assert result.code == 2 and result.err.startswith("Error: postgres database not reachable after 1s")
    assert "s3cret-pw" not in result.err + result.out


def test_dump_writes_the_schema_and_the_ledger_like_dbmate(pg_env, capsys, tmp_path):
    copy_migrations("postgres", pg_env, 1)
    harness(capsys, "postgres", "up")
    target = tmp_path / "schema.sql"
    assert harness(capsys, "postgres", "dump", "--schema-file", str(target)).code == 0
    text = target.read_text()
    assert "CREATE TABLE public.users" in text
    # Names are quoted: `dbmate load` runs this file later.
    assert re.search(r'INSERT INTO "public"."schema_migrations" \(version\) VALUES\n    \(\'\d{14}\'\);', text)


def test_a_failing_statement_rolls_the_whole_migration_back(pg_env, pg_conn, capsys):
    write(pg_env, "1_ok.sql", "-- migrate:up\nCREATE TABLE ok (id int);\n-- migrate:down\nDROP TABLE ok;\n")
    bad = write(
        pg_env,
        "2_bad.sql",
        """
        -- migrate:up
        CREATE TABLE half (id int);
        INSERT INTO missing_table VALUES (1);
        -- migrate:down
        DROP TABLE half;
        """,
    )
    result = harness(capsys, "postgres", "up")
    assert result.code == 2
    assert f"Error: {bad}:3: up failed at statement 2 near `INSERT INTO missing_table VALUES (1);`" in result.err
    assert "(42P01)" in result.err
    assert "Applied: 1_ok.sql" in result.out and "Applied: 2_bad.sql" not in result.out
    assert tables(pg_conn) == {"ok", "schema_migrations", "harness_migrations"}
    assert ledger(pg_conn) == ["1"]


def test_a_failure_without_transaction_says_what_may_have_happened(pg_env, pg_conn, capsys):
    write(
        pg_env,
        "1_nontx.sql",
        """
        -- migrate:up transaction:false
        CREATE TABLE kept (id int);
        SELECT 1/0;
        -- migrate:down
        DROP TABLE kept;
        """,
    )
    result = harness(capsys, "postgres", "up")
    assert result.code == 2 and "division by zero" in result.err and "NOT" not in result.out
    assert "transaction:false" in result.err and "ledger was not changed" in result.err
    assert ledger(pg_conn) == []


def test_create_index_concurrently_runs_in_a_section_without_transaction(pg_env, pg_conn, capsys):
    write(pg_env, "1_t.sql", "-- migrate:up\nCREATE TABLE t (a int);\n-- migrate:down\nDROP TABLE t;\n")
    write(
        pg_env,
        "2_idx.sql",
        """
        -- migrate:up transaction:false
        CREATE INDEX CONCURRENTLY t_a_idx ON t (a);
        -- migrate:down transaction:false
        DROP INDEX CONCURRENTLY t_a_idx;
        """,
    )
    assert harness(capsys, "postgres", "up").code == 0
    assert pg_conn.execute("SELECT to_regclass('t_a_idx')").fetchone() != (None,)
    assert harness(capsys, "postgres", "down").code == 0
    assert pg_conn.execute("SELECT to_regclass('t_a_idx')").fetchone() == (None,)


def test_an_edited_applied_migration_is_reported_and_refused(pg_env, capsys):
    path = write(pg_env, "1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n")
    harness(capsys, "postgres", "up")
    path.write_text(path.read_text().replace("id int", "id bigint"))
    write(pg_env, "2_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n")
    status = harness(capsys, "postgres", "status")
    assert "[!] 1_a.sql  (changed: file edited after it was applied)" in status.out
    refused = harness(capsys, "postgres", "up")
    assert refused.code == 2 and "1_a.sql was edited after it was applied" in refused.err
    assert "Applying" not in refused.out
    assert harness(capsys, "postgres", "up", "--allow-changed").code == 0


def test_an_out_of_order_pending_migration_is_refused_unless_allowed(pg_env, pg_conn, capsys):
    write(pg_env, "2_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n")
    harness(capsys, "postgres", "up")
    write(pg_env, "1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n")
    refused = harness(capsys, "postgres", "up")
    assert refused.code == 2 and "1_a.sql is pending but older than the newest applied" in refused.err
    assert harness(capsys, "postgres", "up", "--allow-out-of-order").code == 0
    assert ledger(pg_conn) == ["1", "2"]


def test_a_ledger_row_without_a_file_is_reported_and_blocks_its_rollback(pg_env, pg_conn, capsys):
    path = write(pg_env, "1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n")
    harness(capsys, "postgres", "up")
    path.unlink()
    write(pg_env, "0_keep.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 1;\n")
    status = harness(capsys, "postgres", "status")
    assert "[?] 1_a.sql  (missing: applied, but no file has it)" in status.out
    refused = harness(capsys, "postgres", "down")
    assert refused.code == 2 and "version 1 is applied but its file is missing" in refused.err
    assert ledger(pg_conn) == ["1"]


BAD_FILES: dict[str, tuple[str, str | bytes, str]] = {
    "name": ("create_users.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n", "create_users.sql"),
    "duplicate": ("1_again.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n", "1_again.sql"),
    "no-up-marker": ("3_x.sql", "CREATE TABLE x (id int);\n", "3_x.sql"),
    "before-up": ("3_x.sql", "SELECT 1;\n-- migrate:up\nSELECT 1;\n-- migrate:down\n", "3_x.sql:1"),
    "unknown-option": ("3_x.sql", "-- migrate:up fast:yes\nSELECT 1;\n-- migrate:down\n", "3_x.sql:1"),
    "block-comment-before-up": ("3_x.sql", "/* licence */\n-- migrate:up\nSELECT 1;\n-- migrate:down\n", "3_x.sql:1"),
    "not-utf8": ("3_x.sql", b"-- migrate:up\nSELECT '\xff';\n-- migrate:down\n", "3_x.sql:2"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_reported_by_name_and_line_and_nothing_touches_the_database(pg_env, pg_conn, capsys, case):
    write(pg_env, "1_first.sql", "-- migrate:up\nCREATE TABLE first (id int);\n-- migrate:down\nDROP TABLE first;\n")
    name, content, expected = BAD_FILES[case]
    path = pg_env / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = harness(capsys, "postgres", "up")
    assert result.code == 2
    assert result.err.startswith("Error: ") and expected in result.err
    assert result.out == ""
    assert tables(pg_conn) == set(), "a bad file must stop the run before any database change"


def test_eight_concurrent_appliers_apply_each_migration_exactly_once(pg_env, pg_conn, pg_url):
    for i in range(1, 7):
        # Not idempotent on purpose: a second application would fail and be seen.
        write(
            pg_env,
            f"{i}_m.sql",
            f"""
            -- migrate:up
            CREATE TABLE t{i} (id int);
            SELECT pg_sleep(0.05);
            -- migrate:down
            DROP TABLE t{i};
            """,
        )
    env = {"DATABASE_URL": pg_url, "DBMATE_MIGRATIONS_DIR": str(pg_env)}
    procs = [harness_process(env, "postgres", "up") for _ in range(8)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [o[1] for o in outs]
    applied = [line for out, _ in outs for line in out.splitlines() if line.startswith("Applied:")]
    assert len(applied) == 6
    assert ledger(pg_conn) == [str(i) for i in range(1, 7)]


def test_a_lost_connection_mid_migration_leaves_it_unapplied_and_says_so(pg_env, pg_conn, pg_url):
    write(
        pg_env,
        "1_slow.sql",
        """
        -- migrate:up
        CREATE TABLE slow (id int);
        SELECT pg_sleep(30);
        -- migrate:down
        DROP TABLE slow;
        """,
    )
    proc = harness_process({"DATABASE_URL": pg_url, "DBMATE_MIGRATIONS_DIR": str(pg_env)}, "postgres", "up")
    deadline = time.monotonic() + 30
    killed = 0
    while not killed and time.monotonic() < deadline:
        row = pg_conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()"
        ).fetchone()
        killed = row[0] if row else 0
        time.sleep(0.1)
    out, err = proc.communicate(timeout=60)
    assert killed == 1
    assert proc.returncode == 2 and err.startswith("Error: ") and "1_slow.sql" in err
    assert "Applied" not in out
    assert "slow" not in tables(pg_conn) and ledger(pg_conn) == []


def test_the_ledger_follows_the_urls_search_path_like_dbmate(pg_env, pg_conn, pg_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"{pg_url}?search_path=app")
    write(pg_env, "1_t.sql", "-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n")
    assert harness(capsys, "postgres", "up").code == 0
    again = harness(capsys, "postgres", "up")
    assert again.code == 0 and "No pending migrations" in again.out
    assert pg_conn.execute("SELECT version FROM app.schema_migrations").fetchall() == [("1",)]
    assert pg_conn.execute("SELECT to_regclass('app.t')").fetchone() != (None,)


def test_a_password_given_on_the_command_line_is_never_printed(monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = harness(capsys, "--debug", "postgres", "status", "--url", "postgres://app:pa%zzsecret@127.0.0.1:1/app")
    assert result.code == 2 and result.err.rstrip().splitlines()[-1].startswith("Error: ")
    assert "pa%zzsecret" not in result.err + result.out
