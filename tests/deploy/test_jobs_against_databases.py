"""The rendered Jobs, run exactly as Kubernetes would run them, against real databases (no cluster needed).

Each container's argv and environment come from the rendered chart (the Secret resolved), and the command runs in
the repository (the image's /app layout: migrations/ under the working directory). This is the proof that Helm runs
the same applier the tests use.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .chart import ROOT
from .job_runs import cassandra_values, postgres_values, run_job

pytestmark = pytest.mark.deploy


def in_process(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The container's command as a local process, in the repository (the image's /app layout)."""
    pod_env = {"PATH": os.environ["PATH"], **env, "HOME": str(ROOT), "TMPDIR": "/tmp"}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *argv[1:]],
        cwd=ROOT,
        env=pod_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("reset", [False, True], ids=["plain", "reset"])
def test_the_postgres_job_applies_the_migrations(pg_url, pg_conn, reset):
    pg_conn.execute("CREATE TABLE doomed (id int)")
    ran = run_job("postgres", postgres_values(pg_url, reset), in_process)
    expected = ["harness postgres wait", *(["harness postgres reset --yes"] if reset else []), "harness postgres up"]
    assert ran == expected
    versions = pg_conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert versions == (len(list((ROOT / "migrations" / "postgres").glob("*.sql"))),)
    doomed = pg_conn.execute("SELECT to_regclass('public.doomed')").fetchone()
    assert (doomed == (None,)) is reset


@pytest.mark.parametrize("reset", [False, True], ids=["plain", "reset"])
def test_the_cassandra_job_applies_the_migrations(cassandra_server, cassandra_session, cassandra_keyspace, reset):
    cassandra_session.execute("CREATE TABLE doomed (id int PRIMARY KEY)")
    values = cassandra_values(cassandra_server, cassandra_keyspace, reset)
    ran = run_job("cassandra", values, in_process)
    assert ran[-1] == "harness cassandra up" and ("harness cassandra reset --yes" in ran) is reset
    rows = cassandra_session.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (cassandra_keyspace,)
    )
    tables = {r.table_name for r in rows}
    assert {"group_messages", "user_notifications", "user_purchases", "user_session_events"} <= tables
    assert ("doomed" not in tables) is reset
