"""The migration runner on real databases: versions, rows, generated rows, and errors that say where they happened."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness import commands
from harness.checks.target import Databases, Project
from harness.config import load_settings
from harness.runner import MigrationRunner, RunnerError

GOOD = Path(__file__).resolve().parents[1] / "corpus" / "good"  # authors, posts (a foreign key), events


def load(directory: Path) -> Project:
    flags = {"postgres_migrations": directory / "postgres", "cassandra_migrations": directory / "cassandra"}
    return Project.load(load_settings(flags=flags, cwd=directory, env={}))


@pytest.fixture
def pg_runner(pg_url):
    with MigrationRunner(load(GOOD), Databases(postgres_url=pg_url)) as runner:
        yield runner


@pytest.mark.postgres
def test_migrate_to_goes_up_and_down_and_zero_means_nothing_applied(pg_runner: MigrationRunner):
    assert pg_runner.current("postgres") is None
    assert pg_runner.migrate_to("postgres", "2") == ["1", "2"]
    assert pg_runner.current("postgres") == "2" and pg_runner.schema("postgres").table("posts") is not None
    assert pg_runner.migrate_to("postgres", "1") == ["2"]
    assert pg_runner.schema("postgres").table("posts") is None
    assert pg_runner.migrate_to("postgres", "0") == ["1"]
    assert pg_runner.current("postgres") is None and pg_runner.schema("postgres").table_names == ()
    assert pg_runner.up_one("postgres") == "1" and pg_runner.down_one("postgres") == "1"


@pytest.mark.postgres
def test_an_unknown_version_lists_the_known_ones(pg_runner: MigrationRunner):
    with pytest.raises(RunnerError, match=r"^postgres: no migration has version 7 \(versions: 1, 2; 0 = none\)$"):
        pg_runner.migrate_to("postgres", "7")


@pytest.mark.postgres
def test_stepping_past_either_end_says_where_the_store_is(pg_runner: MigrationRunner):
    with pytest.raises(RunnerError, match=r"^postgres at version 0: no migration is applied, nothing to roll back$"):
        pg_runner.down_one("postgres")
    pg_runner.migrate_to("postgres", "2")
    with pytest.raises(RunnerError, match=r"^postgres at version 2: no migration left to apply$"):
        pg_runner.up_one("postgres")


@pytest.mark.postgres
def test_a_failing_migration_names_the_store_the_version_the_file_and_the_statement(pg_url, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(GOOD, project)
    (project / "postgres" / "3_broken.sql").write_text(
        "-- migrate:up\nALTER TABLE posts ADD COLUMN score integer;\nALTER TABLE nowhere ADD COLUMN x integer;\n"
        "-- migrate:down\nALTER TABLE posts DROP COLUMN score;\n"
    )
    with MigrationRunner(load(project), Databases(postgres_url=pg_url)) as runner:
        runner.migrate_to("postgres", "2")
        with pytest.raises(RunnerError) as error:
            runner.up_one("postgres")
        assert runner.current("postgres") == "2"  # the failed migration changed nothing
    message = str(error.value)
    assert message.startswith("postgres at version 2: up to 3 failed: ")
    assert "3_broken.sql:3" in message and "ALTER TABLE nowhere ADD COLUMN x integer" in message


@pytest.mark.postgres
def test_an_unknown_table_lists_the_tables_there_are(pg_runner: MigrationRunner):
    pg_runner.migrate_to("postgres", "1")
    with pytest.raises(RunnerError, match=r"^postgres at version 1: no table posts \(tables: authors\)$"):
        pg_runner.rows("postgres", "posts")


@pytest.mark.postgres
def test_generated_rows_reference_parents_it_wrote_and_fit_the_table(pg_runner: MigrationRunner):
    pg_runner.migrate_to("postgres", "2")
    posts = pg_runner.generate("postgres", "posts", n=4)
    authors = {row["id"] for row in pg_runner.rows("postgres", "authors")}
    assert len(posts) == 4 and authors
    assert {post["author_id"] for post in posts} <= authors
    assert all("id" not in post for post in posts)  # the identity is the database's to number
    stored = pg_runner.insert("postgres", "posts", posts)
    assert sorted(r["id"] for r in stored) == sorted(r["id"] for r in pg_runner.rows("postgres", "posts"))
    assert pg_runner.rows("postgres", "posts", where={"id": stored[0]["id"]}) == [stored[0]]


@pytest.mark.postgres
def test_the_same_calls_generate_the_same_rows(pg_url):
    def draw() -> list[dict[str, object]]:
        with MigrationRunner(load(GOOD), Databases(postgres_url=pg_url)) as runner:
            runner.migrate_to("postgres", "0")
            runner.migrate_to("postgres", "2")
            return runner.generate("postgres", "posts") + runner.generate("postgres", "posts")

    first, second = draw(), draw()
    assert first == second and first[:3] != first[3:]


@pytest.mark.postgres
def test_commands_give_a_runner_on_a_database_named_outside_pytest(pg_url, tmp_path):
    settings = load_settings(flags={"postgres_migrations": GOOD / "postgres"}, cwd=tmp_path, env={})
    with commands.runner(settings, commands.target(settings, "postgres", url=pg_url)) as runner:
        runner.migrate_to("postgres", "1")
        [ada] = runner.insert("postgres", "authors", [{"name": "Ada"}])
        assert runner.rows("postgres", "authors") == [{"id": ada["id"], "name": "Ada"}]


@pytest.mark.cassandra
def test_a_refused_cassandra_row_names_the_keyspace_version_and_statement(cassandra_server, cassandra_keyspace):
    databases = Databases(cassandra=cassandra_server, keyspace=cassandra_keyspace)
    with MigrationRunner(load(GOOD), databases) as runner:
        runner.migrate_to("cassandra", "001")
        with pytest.raises(RunnerError) as error:
            runner.insert("cassandra", "events", [{"content": "no key"}])
    assert str(error.value).startswith("cassandra at version 001: INSERT INTO events (content) failed for row 1 ")
    assert "InvalidRequest" in str(error.value)
