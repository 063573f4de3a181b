"""Running a rendered Job's containers against test databases: the values that point the chart at them, and the
loop that runs each container in order (the runner decides how: a local process, or the real image)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import psycopg

from harness.servers.base import CassandraServer

from .chart import render_raw
from .jobs import job_commands

Runner = Callable[[list[str], dict[str, str]], "subprocess.CompletedProcess[str]"]


def postgres_values(url: str, reset: bool) -> dict[str, Any]:
    info = psycopg.conninfo.conninfo_to_dict(url)
    env = {
        "host": info["host"],
        "port": int(str(info["port"])),
        "username": info["user"],
        "password": str(info.get("password") or "job-secret-pw"),
        "database": info["dbname"],
        "sslmode": "disable",
    }
    return {"reset": reset, "cassandra": {"enabled": False}, "postgresql": {"env": env}}


def cassandra_values(server: CassandraServer, keyspace: str, reset: bool) -> dict[str, Any]:
    env = {
        "host": ",".join(server.contact_points),
        "port": server.port,
        "keyspace": keyspace,
        "localDc": server.local_datacenter,
        "username": server.username or "",
        "password": server.password or "",
    }
    return {"reset": reset, "postgresql": {"enabled": False}, "cassandra": {"env": env}}


def run_job(store: str, values: dict[str, Any], runner: Runner) -> list[str]:
    """Run every container of the store's Job in order; fail on a non-zero exit or a printed secret."""
    ran = []
    for argv, env in job_commands(render_raw(values), store):
        assert argv[0] == "harness"
        result = runner(argv, env)
        assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
        for secret in (env.get("PGPASSWORD"), env.get("CASSANDRA_PASSWORD")):
            assert not secret or secret not in result.stdout + result.stderr
        ran.append(" ".join(argv))
    return ran
