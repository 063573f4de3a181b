"""The real applier image runs the rendered Helm Jobs' exact commands and environment against real databases.

Needs a Docker engine and the image of docker/build-local-images (HARNESS_APPLIER_IMAGE, default
harness/migrations:local); `tox -e docker` runs it and CI provides both. The container joins the host network so it
reaches the databases' loopback ports, as a pod reaches its database service.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any

import psycopg
import pytest

from harness.servers.docker import docker_available, image_present
from tests.deploy.chart import render_raw
from tests.deploy.jobs import job_commands

pytestmark = pytest.mark.docker

IMAGE = os.environ.get("HARNESS_APPLIER_IMAGE", "harness/migrations:local")


@pytest.fixture(scope="module", autouse=True)
def applier_image() -> str:
    assert docker_available(), "no Docker engine answers: start one (.ci/docker-engine) to run the docker lane"
    assert image_present(IMAGE), f"image {IMAGE} is missing: build it with docker/build-local-images applier"
    return IMAGE


def run_in_image(store: str, values: dict[str, Any]) -> list[str]:
    ran = []
    for argv, env in job_commands(render_raw(values), store):
        env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        cmd = [
            "docker",
            "run",
            "--rm",
            "--network",
            "host",
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--user",
            "10001",
            "--cap-drop",
            "ALL",
            *env_args,
            "--entrypoint",
            argv[0],
            IMAGE,
            *argv[1:],
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
        for secret in (env.get("PGPASSWORD"), env.get("CASSANDRA_PASSWORD")):
            assert not secret or secret not in result.stdout + result.stderr
        ran.append(" ".join(argv))
    return ran


@pytest.mark.parametrize("reset", [False, True], ids=["plain", "reset"])
def test_the_image_runs_the_postgres_job(pg_url, pg_conn, reset):
    pg_conn.execute("CREATE TABLE doomed (id int)")
    info = psycopg.conninfo.conninfo_to_dict(pg_url)
    values = {
        "reset": reset,
        "cassandra": {"enabled": False},
        "postgresql": {
            "env": {
                "host": info["host"],
                "port": int(str(info["port"])),
                "username": info["user"],
                "password": str(info.get("password") or "job-secret-pw"),
                "database": info["dbname"],
                "sslmode": "disable",
            }
        },
    }
    ran = run_in_image("postgres", values)
    assert ran[-1] == "harness postgres up"
    assert pg_conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (5,)
    assert (pg_conn.execute("SELECT to_regclass('public.doomed')").fetchone() == (None,)) is reset


def test_the_image_runs_the_cassandra_job(cassandra_server, cassandra_session, cassandra_keyspace):
    values = {
        "postgresql": {"enabled": False},
        "cassandra": {
            "env": {
                "host": ",".join(cassandra_server.contact_points),
                "port": cassandra_server.port,
                "keyspace": cassandra_keyspace,
                "localDc": cassandra_server.local_datacenter,
                "username": cassandra_server.username or "",
                "password": cassandra_server.password or "",
            }
        },
    }
    assert run_in_image("cassandra", values)[-1] == "harness cassandra up"
    rows = cassandra_session.execute("SELECT version FROM schema_migrations")
    assert sorted(r.version for r in rows) == ["001", "002", "003", "004"]
