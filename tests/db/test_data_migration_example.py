"""How a team tests a data migration with the ``migration_runner`` fixture: rows written before it, checked after it.

The project here is ``backfill_example/``: a PostgreSQL users table whose second migration backfills a display name
and lowercases emails (declared in its header, so the data check accepts it), and a Cassandra table that gains a
column. In a team's repository the fixture works on the project's own migrations; this module points it at the
example by overriding ``harness_project``.
"""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from harness.checks.target import Project
from harness.config import load_settings
from harness.runner import MigrationRunner, RunnerError

EXAMPLE = Path(__file__).parent / "backfill_example"


@pytest.fixture(scope="session")
def harness_project() -> Project:
    flags = {"postgres_migrations": EXAMPLE / "postgres", "cassandra_migrations": EXAMPLE / "cassandra"}
    return Project.load(load_settings(flags=flags, cwd=EXAMPLE, env={}))


@pytest.mark.postgres
def test_the_backfill_gives_every_user_a_display_name_and_a_lowercase_email(migration_runner: MigrationRunner):
    migration_runner.migrate_to("postgres", "1")
    ada, alan = migration_runner.insert(
        "postgres",
        "users",
        [{"name": "Ada Lovelace", "email": "Ada@Example.org"}, {"name": "Alan Turing", "email": "alan@example.org"}],
    )

    assert migration_runner.up_one("postgres") == "2"

    after = {row["id"]: row for row in migration_runner.rows("postgres", "users")}
    assert after[ada["id"]] == {"id": ada["id"], "name": "Ada Lovelace", "email": "ada@example.org",
                                "display_name": "Ada Lovelace"}  # fmt: skip
    assert after[alan["id"]]["display_name"] == "Alan Turing"


@pytest.mark.postgres
def test_generated_users_keep_their_names_through_the_backfill_and_its_rollback(migration_runner: MigrationRunner):
    migration_runner.migrate_to("postgres", "1")
    written = migration_runner.insert("postgres", "users", migration_runner.generate("postgres", "users", n=5))
    assert len(written) == 5

    migration_runner.up_one("postgres")
    for row in written:
        [now] = migration_runner.rows("postgres", "users", where={"id": row["id"]})
        assert (now["name"], now["display_name"]) == (row["name"], row["name"])
        assert now["email"].casefold() == row["email"].casefold()  # the database lowercases by its own locale

    assert migration_runner.down_one("postgres") == "2"
    back = {row["id"]: row["name"] for row in migration_runner.rows("postgres", "users")}
    assert back == {row["id"]: row["name"] for row in written}


@pytest.mark.postgres
def test_a_failing_insert_names_the_store_the_version_and_the_statement(migration_runner: MigrationRunner):
    migration_runner.migrate_to("postgres", "2")
    with pytest.raises(RunnerError) as error:
        migration_runner.insert("postgres", "users", [{"name": "Grace Hopper", "email": "grace@example.org"}])
    message = str(error.value)
    assert message.startswith("postgres at version 2: INSERT INTO users (name, email) failed for row 1 ")
    assert "display_name" in message and "23502" in message  # the NOT NULL the backfill added


@pytest.mark.cassandra
def test_profiles_written_before_the_new_column_keep_their_values(migration_runner: MigrationRunner):
    migration_runner.migrate_to("cassandra", "001")
    written = migration_runner.generate("cassandra", "user_profiles", n=3)
    written += [{"user_id": UUID(int=7), "name": "Ada", "languages": {"en", "fr"}}]
    migration_runner.insert("cassandra", "user_profiles", written)

    migration_runner.up_one("cassandra")

    for row in written:
        [now] = migration_runner.rows("cassandra", "user_profiles", where={"user_id": row["user_id"]})
        assert now["name"] == row["name"] and now["theme"] is None
        assert set(now["languages"] or ()) == set(row["languages"] or ())
