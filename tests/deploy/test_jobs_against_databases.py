"""The rendered Jobs, run exactly as Kubernetes would run them, against real databases (no cluster needed).

Each container's argv and environment come from the rendered chart (the Secret resolved), and the command runs in
the repository (the image's /app layout: migrations/ under the working directory). This is the proof that Helm runs
the same applier the tests use.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import psycopg
import pytest

from .chart import ROOT, render_raw
from .jobs import job_commands

pytestmark = pytest.mark.deploy


def run_job(store: str, values: dict[str, Any]) -> list[str]:
    """Run every container of the store's Job in order; return their argv; fail on the first non-zero exit."""
    ran = []
    for argv, env in job_commands(render_raw(values), store):
        assert argv[0] == "harness"
        pod_env = {"PATH": os.environ["PATH"], **env, "HOME": str(ROOT), "TMPDIR": "/tmp"}
        result = subprocess.run(
            [sys.executable, "-m", "harness.cli", *argv[1:]],
            cwd=ROOT,
            env=pod_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
        for secret in (env.get("PGPASSWORD"), env.get("CASSANDRA_PASSWORD")):
            assert not secret or secret not in result.stdout + result.stderr
        ran.append(" ".join(argv))
    return ran


def pg_values(url: str, reset: bool) -> dict[str, Any]:
    info = psycopg.conninfo.conninfo_to_dict(url)
    return {
        "reset": reset,
        "cassandra": {"enabled": False},
        "postgresql": {
            "env": {
                "host": info["host"],
                "port": int(str(info["port"])),
                "username": info["user"],
                "password": "job-secret-pw",
                "database": info["dbname"],
                "sslmode": "disable",
            }
        },
    }


@pytest.mark.parametrize("reset", [False, True], ids=["plain", "reset"])
def test_the_postgres_job_applies_the_migrations(pg_url, pg_conn, reset):
    pg_conn.execute("CREATE TABLE doomed (id int)")
    ran = run_job("postgres", pg_values(pg_url, reset))
    expected = ["harness postgres wait", *(["harness postgres reset --yes"] if reset else []), "harness postgres up"]
    assert ran == expected
    versions = pg_conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert versions == (len(list((ROOT / "migrations" / "postgres").glob("*.sql"))),)
    doomed = pg_conn.execute("SELECT to_regclass('public.doomed')").fetchone()
    assert (doomed == (None,)) is reset


@pytest.mark.parametrize("reset", [False, True], ids=["plain", "reset"])
def test_the_cassandra_job_applies_the_migrations(cassandra_server, cassandra_session, cassandra_keyspace, reset):
    cassandra_session.execute("CREATE TABLE doomed (id int PRIMARY KEY)")
    values = {
        "reset": reset,
        "postgresql": {"enabled": False},
        "cassandra": {
            "env": {
                "host": ",".join(cassandra_server.contact_points),
                "port": cassandra_server.port,
                "keyspace": cassandra_keyspace,
                "localDc": cassandra_server.local_datacenter,
            }
        },
    }
    ran = run_job("cassandra", values)
    assert ran[-1] == "harness cassandra up" and ("harness cassandra reset --yes" in ran) is reset
    rows = cassandra_session.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (cassandra_keyspace,)
    )
    tables = {r.table_name for r in rows}
    assert {"group_messages", "user_notifications", "user_purchases", "user_session_events"} <= tables
    assert ("doomed" not in tables) is reset
