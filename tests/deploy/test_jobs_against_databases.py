"""The rendered Jobs and the drift test pod, run exactly as Kubernetes would run them, against real databases.

Each container's argv and environment come from the rendered chart (the Secret resolved), and the command runs as a
local process laid out as the image is: the migration directories and the contract come from the settings the
image sets (HARNESS_POSTGRES_MIGRATIONS, ...), and the working directory holds nothing. This is the proof that Helm
runs the same applier the tests use; tests/docker runs the same commands in the real image.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from harness.servers.cassandra_dist import cache_root

from .chart import ROOT
from .job_runs import both_stores, cassandra_values, postgres_values, run_drift, run_job

pytestmark = pytest.mark.deploy

IMAGE_ENV = {
    "HARNESS_POSTGRES_MIGRATIONS": str(ROOT / "migrations" / "postgres"),
    "HARNESS_CASSANDRA_MIGRATIONS": str(ROOT / "migrations" / "cassandra"),
    "HARNESS_CONTRACT": str(ROOT / "migrations" / "README.md"),
}
PG_MIGRATIONS = len(list((ROOT / "migrations" / "postgres").glob("*.sql")))
CASSANDRA_TABLES = {"group_messages", "user_notifications", "user_purchases", "user_session_events"}


@pytest.fixture
def in_process(tmp_path):
    """The container's command as a local process, with the image's settings and an empty working directory.

    The drift pod's throwaway servers are local ones here, and they take Cassandra's jars from this machine's cache:
    with an empty HOME, each run would fetch all 121 MB again (and start without a class-data archive).
    """

    def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        pod_env = {"PATH": os.environ["PATH"], **IMAGE_ENV, **env, "HOME": str(tmp_path), "TMPDIR": str(tmp_path),
                   "HARNESS_CACHE_DIR": str(cache_root())}  # fmt: skip
        return subprocess.run(
            [sys.executable, "-m", "harness.cli", *argv[1:]],
            cwd=tmp_path,
            env=pod_env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


def tables(session, keyspace: str) -> set[str]:
    rows = session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (keyspace,))
    return {r.table_name for r in rows}


@pytest.mark.parametrize("reset", [False, True], ids=["plain", "reset"])
def test_the_postgres_job_applies_the_migrations(pg_url, pg_conn, in_process, reset):
    pg_conn.execute("CREATE TABLE doomed (id int)")
    ran = list(run_job("postgres", postgres_values(pg_url, "t-1" if reset else None), in_process))
    dbname = pg_conn.info.dbname
    reset_step = [f"harness postgres reset --yes={dbname} --once=t-1"] if reset else []
    assert ran == ["harness postgres wait", *reset_step, "harness postgres up"]
    assert pg_conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (PG_MIGRATIONS,)
    assert (pg_conn.execute("SELECT to_regclass('public.doomed')").fetchone() == (None,)) is reset


@pytest.mark.parametrize("reset", [False, True], ids=["plain", "reset"])
def test_the_cassandra_job_applies_the_migrations(
    cassandra_server, cassandra_session, cassandra_keyspace, in_process, reset
):
    cassandra_session.execute("CREATE TABLE doomed (id int PRIMARY KEY)")
    values = cassandra_values(cassandra_server, cassandra_keyspace, "t-1" if reset else None)
    ran = list(run_job("cassandra", values, in_process))
    assert ran[-1] == "harness cassandra up"
    assert (f"harness cassandra reset --yes={cassandra_keyspace} --once=t-1" in ran) is reset
    found = tables(cassandra_session, cassandra_keyspace)
    assert found >= CASSANDRA_TABLES
    assert ("doomed" not in found) is reset


def test_a_postgres_reset_runs_once_per_token(pg_url, pg_conn, in_process):
    """A Job retry or a repeated upgrade with the same values re-runs the reset container: it must not reset."""
    token = f"t-{uuid.uuid4().hex[:8]}"
    run_job("postgres", postgres_values(pg_url, token), in_process)
    pg_conn.execute("INSERT INTO users (first_name, last_name, email, password) VALUES ('a', 'b', 'c@d', 'x')")
    again = run_job("postgres", postgres_values(pg_url, token), in_process)
    assert pg_conn.execute("SELECT count(*) FROM users").fetchone() == (1,), "the same token reset again"
    (reset,) = [r for cmd, r in again.items() if " reset " in cmd]
    assert token in reset.stdout + reset.stderr, "the skipped reset says so, naming its token"
    run_job("postgres", postgres_values(pg_url, f"{token}-next"), in_process)
    assert pg_conn.execute("SELECT count(*) FROM users").fetchone() == (0,), "a new token resets"


def test_a_cassandra_reset_runs_once_per_token(cassandra_server, cassandra_session, cassandra_keyspace, in_process):
    token = f"t-{uuid.uuid4().hex[:8]}"
    values = cassandra_values(cassandra_server, cassandra_keyspace, token)
    run_job("cassandra", values, in_process)
    cassandra_session.execute(f"CREATE TABLE {cassandra_keyspace}.survivor (id int PRIMARY KEY)")
    run_job("cassandra", values, in_process)
    assert "survivor" in tables(cassandra_session, cassandra_keyspace), "the same token reset again"


def test_the_drift_pod_passes_after_the_jobs_and_catches_a_hand_made_change(
    pg_url, pg_conn, cassandra_server, cassandra_keyspace, in_process
):
    pg, cassandra = postgres_values(pg_url), cassandra_values(cassandra_server, cassandra_keyspace)
    run_job("postgres", pg, in_process)
    run_job("cassandra", cassandra, in_process)
    clean = run_drift(both_stores(pg, cassandra), in_process)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    pg_conn.execute("ALTER TABLE users ADD COLUMN nickname text")
    drifted = run_drift(both_stores(pg, cassandra), in_process)
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    assert "nickname" in drifted.stdout + drifted.stderr
