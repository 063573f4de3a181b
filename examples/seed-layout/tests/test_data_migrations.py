"""Data through a migration, with the harness's ``migration_runner`` fixture: rows written at the version before a
migration are read back after it.

The fixture gives fresh databases with nothing applied. ``migrate_to`` moves a store to a version, ``insert`` writes
rows (and returns them with what the database filled in), ``generate`` makes rows that fit a table as it is now
(writing the parent rows their foreign keys need), ``up_one`` / ``down_one`` step through the migrations and
``rows`` reads a table back.
"""

from datetime import UTC, datetime
from uuid import UUID

import pytest

BEFORE_SEARCH = "20250101120400"  # the version before 20250102090000_search_activities.sql


@pytest.mark.postgres
def test_activities_written_before_the_search_index_survive_it_unchanged(migration_runner):
    migration_runner.migrate_to("postgres", BEFORE_SEARCH)
    [ada] = migration_runner.insert(
        "postgres",
        "users",
        [{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org", "password": "$2b$12$hash"}],
    )
    [chess] = migration_runner.insert("postgres", "groups", [{"name": "Chess club"}])
    written = migration_runner.insert(
        "postgres",
        "activities",
        [
            {"group_id": chess["id"], "user_id": ada["id"], "activity_type": "study", "title": "Openings",
             "scheduled_at": datetime(2025, 3, 1, 18, 0, tzinfo=UTC)},
            *migration_runner.generate("postgres", "activities", n=3),
        ],
    )  # fmt: skip

    assert migration_runner.up_one("postgres") == "20250102090000"

    after = {row["id"]: row for row in migration_runner.rows("postgres", "activities")}
    assert after == {row["id"]: row for row in written}
    [openings] = migration_runner.rows("postgres", "activities", where={"title": "Openings"})
    assert openings["status"] == "planned"  # the default, filled in when it was written


@pytest.mark.cassandra
def test_group_messages_written_at_the_first_version_are_still_there_at_the_last(migration_runner):
    migration_runner.migrate_to("cassandra", "001")
    group = UUID("3f1c2c1e-2b9a-4d3e-8f4a-1b2c3d4e5f60")
    message = {"group_id": group, "created_at": datetime(2025, 3, 1, 18, 0, tzinfo=UTC),
               "message_id": UUID(int=1), "user_id": UUID(int=2), "content": "Openings on Saturday"}  # fmt: skip
    migration_runner.insert("cassandra", "group_messages", [message])

    migration_runner.migrate_to("cassandra", "005")

    [stored] = migration_runner.rows("cassandra", "group_messages", where={"group_id": group})
    assert stored["content"] == "Openings on Saturday" and stored["message_id"] == UUID(int=1)
