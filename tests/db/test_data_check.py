"""The data check on real databases: what a migration declares about its data decides what it must keep."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.checks.data import PER_TABLE, check_data
from harness.checks.target import CheckFailure, Databases, Project, Target
from harness.config import load_settings

EXAMPLE = Path(__file__).parent / "backfill_example"
BACKFILL = "2_backfill_display_names.sql"


def project(tmp_path: Path, **settings: object) -> Project:
    copy = tmp_path / "project"
    shutil.copytree(EXAMPLE, copy)
    flags = {"postgres_migrations": copy / "postgres", "cassandra_migrations": copy / "cassandra", **settings}
    return Project.load(load_settings(flags=flags, cwd=copy, env={}))


def rewrite(loaded: Project, name: str, *edits: tuple[str, str]) -> Project:
    """The project with one migration file edited (the files are read again)."""
    path = next(m.path for m in loaded.migrations["postgres"] if m.filename == name)
    text = path.read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    assert loaded.settings is not None
    return Project.load(loaded.settings)


# Every generated email changes (lower() leaves one without an ASCII capital as it is).
EVERY_EMAIL = ("email = lower(email)", "email = email || '.'")


def postgres(loaded: Project, pg_url: str) -> Target:
    return Target(loaded, Databases(postgres_url=pg_url))


def failure(target: Target) -> str:
    with pytest.raises(CheckFailure) as raised:
        check_data(target, "postgres")
    return str(raised.value)


@pytest.mark.postgres
def test_a_backfill_that_declares_what_it_changes_and_loses_passes(pg_url, tmp_path):
    assert check_data(postgres(project(tmp_path), pg_url), "postgres") == []


@pytest.mark.cassandra
def test_a_cassandra_column_added_and_dropped_again_keeps_every_other_value(
    cassandra_server, cassandra_keyspace, tmp_path
):
    databases = Databases(cassandra=cassandra_server, keyspace=cassandra_keyspace)
    assert check_data(Target(project(tmp_path), databases), "cassandra") == []


@pytest.mark.postgres
def test_an_undeclared_rewrite_names_the_migration_the_row_and_the_column(pg_url, tmp_path):
    loaded = rewrite(project(tmp_path), BACKFILL, ("-- harness:transforms users.email\n", ""), EVERY_EMAIL)
    message = failure(postgres(loaded, pg_url))
    assert f"PG {BACKFILL}: after up, users row (id=" in message
    assert "): email was " in message and "-- harness:transforms users.email" in message


@pytest.mark.postgres
def test_a_down_that_cannot_give_values_back_must_say_so(pg_url, tmp_path):
    lossy = ("-- harness:lossy-down the case an email was written in is not kept\n", "")
    loaded = rewrite(project(tmp_path), BACKFILL, lossy, EVERY_EMAIL)
    message = failure(postgres(loaded, pg_url))
    assert f"PG {BACKFILL}: after down, users row (id=" in message and "): email was " in message
    assert "-- harness:lossy-down <reason>" in message and "after up" not in message


@pytest.mark.postgres
def test_a_lossy_down_without_a_reason_is_a_finding_with_its_line(pg_url, tmp_path):
    reason = "-- harness:lossy-down the case an email was written in is not kept"
    loaded = rewrite(project(tmp_path), BACKFILL, (reason, "-- harness:lossy-down"))
    message = failure(postgres(loaded, pg_url))
    assert f"{BACKFILL}:3: harness:lossy-down gives no reason" in message


@pytest.mark.postgres
def test_declaring_a_column_that_does_not_exist_is_a_finding(pg_url, tmp_path):
    loaded = rewrite(project(tmp_path), BACKFILL, ("users.email\n", "users.email, users.mail\n"))
    message = failure(postgres(loaded, pg_url))
    assert f"PG {BACKFILL}:2: harness:transforms users.mail names no column of the schema before it" in message


@pytest.mark.postgres
def test_an_up_that_fails_on_rows_the_old_schema_accepts_is_a_finding(pg_url, tmp_path):
    add = "ALTER TABLE users ADD COLUMN display_name text;\n"
    check = "ALTER TABLE users ADD CONSTRAINT users_email_at CHECK (email LIKE '%@%');\n"
    loaded = rewrite(project(tmp_path), BACKFILL, (add, add + check))
    message = failure(postgres(loaded, pg_url))
    assert f"PG {BACKFILL}: up failed on rows the schema before it accepts: " in message
    assert "users_email_at" in message


@pytest.mark.postgres
def test_an_irreversible_backfill_gets_the_proof_after_up_only(pg_url, tmp_path):
    lossy = ("-- harness:lossy-down the case an email was written in is not kept\n", "")
    empty_down = ("ALTER TABLE users DROP COLUMN display_name;\n", "")
    loaded = rewrite(project(tmp_path), BACKFILL, lossy, empty_down, EVERY_EMAIL)
    assert not loaded.migrations["postgres"][1].reversible
    # Run, its no-op down would keep the changed emails, undeclared; it is not run (the roundtrip judges it).
    assert check_data(postgres(loaded, pg_url), "postgres") == []


def history(tmp_path: Path, last_up: str | None = None) -> Project:
    """Table ``a`` made first, then five migrations that make other tables, then optionally one more up on ``a``."""
    root = tmp_path / "history"
    root.mkdir()
    (root / "1_a.sql").write_text(
        "-- migrate:up\nCREATE TABLE a (id integer PRIMARY KEY, v text NOT NULL);\n-- migrate:down\nDROP TABLE a;\n"
    )
    for n in range(2, 7):
        (root / f"{n}_b{n}.sql").write_text(
            f"-- migrate:up\nCREATE TABLE b{n} (id integer PRIMARY KEY);\n-- migrate:down\nDROP TABLE b{n};\n"
        )
    if last_up is not None:
        (root / "7_touch_a.sql").write_text(f"-- migrate:up\n{last_up}\n-- migrate:down\nSELECT 1;\n")
    return Project.load(load_settings(flags={"postgres_migrations": root}, cwd=tmp_path, env={}))


@pytest.mark.postgres
def test_rows_are_drawn_for_a_table_once_while_its_shape_stays_the_same(pg_url, tmp_path):
    import psycopg

    assert check_data(postgres(history(tmp_path), pg_url), "postgres") == []
    with psycopg.connect(pg_url) as conn:
        count = conn.execute("SELECT count(*) FROM a").fetchone()
    assert count is not None and 0 < count[0] <= PER_TABLE  # one draw, not one per later migration


@pytest.mark.postgres
def test_rows_drawn_many_migrations_earlier_still_catch_an_undeclared_rewrite(pg_url, tmp_path):
    message = failure(postgres(history(tmp_path, "UPDATE a SET v = v || '.';"), pg_url))
    assert "PG 7_touch_a.sql: after up, a row (id=" in message and "): v was " in message
