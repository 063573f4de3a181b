"""The real applier image runs the rendered Helm Jobs' exact commands and environment against real databases.

Needs a Docker engine and the image of docker/build-local-images (HARNESS_APPLIER_IMAGE, default
harness/migrations:local); `tox -e docker` runs it and CI provides both. The container joins the host network so it
reaches the databases' loopback ports, as a pod reaches its database service.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from harness.servers.docker import docker_available, image_present
from tests.deploy.job_runs import cassandra_values, postgres_values, run_job

pytestmark = pytest.mark.docker

IMAGE = os.environ.get("HARNESS_APPLIER_IMAGE", "harness/migrations:local")


@pytest.fixture(scope="module", autouse=True)
def applier_image() -> str:
    assert docker_available(), "no Docker engine answers: start one (.ci/docker-engine) to run the docker lane"
    assert image_present(IMAGE), f"image {IMAGE} is missing: build it with docker/build-local-images applier"
    return IMAGE


def in_image(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The container's command in the real image, locked down as the chart's pod security context says."""
    env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    cmd = ["docker", "run", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp", "--user", "10001",
           "--cap-drop", "ALL", *env_args, "--entrypoint", argv[0], IMAGE, *argv[1:]]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("reset", [False, True], ids=["plain", "reset"])
def test_the_image_runs_the_postgres_job(pg_url, pg_conn, reset):
    pg_conn.execute("CREATE TABLE doomed (id int)")
    ran = run_job("postgres", postgres_values(pg_url, reset), in_image)
    assert ran[-1] == "harness postgres up"
    assert pg_conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (5,)
    assert (pg_conn.execute("SELECT to_regclass('public.doomed')").fetchone() == (None,)) is reset


def test_the_image_runs_the_cassandra_job(cassandra_server, cassandra_session, cassandra_keyspace):
    values = cassandra_values(cassandra_server, cassandra_keyspace, reset=False)
    assert run_job("cassandra", values, in_image)[-1] == "harness cassandra up"
    rows = cassandra_session.execute("SELECT version FROM schema_migrations")
    assert sorted(r.version for r in rows) == ["001", "002", "003", "004"]
