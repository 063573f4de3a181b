"""Running a rendered Job's containers (and the drift test pod's) against test databases: the values that point the
chart at them, and the loop that runs each container in order (the runner decides how: a local process laid out as
the image is, or the real image)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import psycopg

from harness.servers.base import CassandraServer

from .chart import render_raw
from .jobs import drift_commands, job_commands

Runner = Callable[[list[str], dict[str, str]], "subprocess.CompletedProcess[str]"]


def postgres_values(url: str, reset_token: str | None = None) -> dict[str, Any]:
    """Chart values for one PostgreSQL test database; a reset (confirmed for that database) with a token."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    env = {
        "host": info["host"],
        "port": int(str(info["port"])),
        "username": info["user"],
        "password": str(info.get("password") or "job-secret-pw"),
        "database": info["dbname"],
        "sslmode": "disable",
    }
    values: dict[str, Any] = {"cassandra": {"enabled": False}, "postgresql": {"env": env}}
    if reset_token:
        values["reset"] = {"enabled": True, "token": reset_token, "confirm": {"postgresql": info["dbname"]}}
    return values


def cassandra_values(server: CassandraServer, keyspace: str, reset_token: str | None = None) -> dict[str, Any]:
    """Chart values for one test keyspace; a reset (confirmed for that keyspace) with a token."""
    env = {
        "host": ",".join(server.contact_points),
        "port": server.port,
        "keyspace": keyspace,
        "localDc": server.local_datacenter,
        "username": server.username or "",
        "password": server.password or "",
    }
    values: dict[str, Any] = {"postgresql": {"enabled": False}, "cassandra": {"env": env}}
    if reset_token:
        values["reset"] = {"enabled": True, "token": reset_token, "confirm": {"cassandra": keyspace}}
    return values


def both_stores(pg: dict[str, Any], cassandra: dict[str, Any]) -> dict[str, Any]:
    """One release for both stores (what the drift test pod checks)."""
    return {"postgresql": pg["postgresql"], "cassandra": cassandra["cassandra"]}


def _no_secret_printed(result: subprocess.CompletedProcess[str], env: dict[str, str]) -> None:
    for secret in (env.get("PGPASSWORD"), env.get("CASSANDRA_PASSWORD")):
        assert not secret or secret not in result.stdout + result.stderr, "a password was printed"


def run_job(store: str, values: dict[str, Any], runner: Runner) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run every container of the store's Job in order, as the kubelet does; fail on a non-zero exit.

    Returns command line -> result, in the order they ran.
    """
    results = {}
    for argv, env in job_commands(render_raw(values), store):
        assert argv[0] == "harness"
        result = runner(argv, env)
        assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
        _no_secret_printed(result, env)
        results[" ".join(argv)] = result
    return results


def run_drift(values: dict[str, Any], runner: Runner) -> subprocess.CompletedProcess[str]:
    """Run the `helm test` pod's one container (harness drift); its exit code is the verdict."""
    ((argv, env),) = drift_commands(render_raw(values))
    result = runner(argv, env)
    _no_secret_printed(result, env)
    return result
