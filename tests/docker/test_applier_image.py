"""The real images: the applier base image, a team's image built FROM it (examples/seed-layout/Dockerfile), and the
rendered Helm Jobs' and drift pod's exact commands and environment run in it against real databases.

Needs a Docker engine and the base image of docker/build-local-images (HARNESS_APPLIER_IMAGE, default
harness/migrations:local); `tox -e docker` runs it and CI provides both. The team's image is built here, FROM that
base. Containers join the host network so they reach the databases' loopback ports, as a pod reaches its database
service, and run locked down as the chart's security contexts say.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.servers.docker import docker_available, image_present
from tests.deploy.chart import ROOT
from tests.deploy.job_runs import both_stores, cassandra_values, postgres_values, run_drift, run_job
from tests.deploy.sandbox import EXAMPLE

pytestmark = pytest.mark.docker

BASE = os.environ.get("HARNESS_APPLIER_IMAGE", "harness/migrations:local")
PG_MIGRATIONS = len(list((ROOT / "migrations" / "postgres").glob("*.sql")))
TEAM_PG = sorted(p.name.split("_")[0] for p in (EXAMPLE / "postgres" / "db" / "migrations").glob("*.sql"))
TEAM_CQL = sorted(p.name.split("_")[0] for p in (EXAMPLE / "cassandra" / "migrations").glob("*.cql"))


def docker(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


def build(tag: str, context: Path, dockerfile: Path) -> str:
    result = docker("build", "--pull=false", "--build-arg", f"BASE_IMAGE={BASE}", "-f", str(dockerfile),
                    "-t", tag, str(context))  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tag


@pytest.fixture(scope="module", autouse=True)
def base_image() -> str:
    assert docker_available(), "no Docker engine answers: start one (.ci/docker-engine) to run the docker lane"
    assert image_present(BASE), f"image {BASE} is missing: build it with docker/build-local-images applier"
    return BASE


@pytest.fixture(scope="module")
def team_image() -> Iterator[str]:
    """The example team's image: examples/seed-layout built with its own two-line Dockerfile FROM the base."""
    tag = build(f"harness/team-example:{uuid.uuid4().hex[:8]}", EXAMPLE, EXAMPLE / "Dockerfile")
    yield tag
    docker("image", "rm", "--force", tag)


def in_image(image: str, tmp_path: Path, *extra: str):
    """A runner: the container's command in `image`, locked down as the chart's pod security context says; the
    environment goes through a 0600 env file, never through docker's arguments."""

    def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        env_file = tmp_path / f"env-{uuid.uuid4().hex}"
        env_file.touch(mode=0o600)
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
        try:
            return docker("run", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp", "--user", "10001:10001",
                          "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--env-file", str(env_file),
                          *extra, "--entrypoint", argv[0], image, *argv[1:], timeout=300)  # fmt: skip
        finally:
            env_file.unlink()

    return run


def test_the_base_image_holds_the_applier_only(base_image: str) -> None:
    tools = ("pytest", "hypothesis", "testcontainers", "helm_python")
    probe = f"import importlib.util as u; print([m for m in {tools!r} if u.find_spec(m)])"
    result = docker("run", "--rm", "--read-only", "--entrypoint", "python3", base_image, "-c", probe)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr
    user = docker("image", "inspect", "--format", "{{.Config.User}} {{.Config.Env}}", base_image).stdout
    assert user.startswith("10001:10001") and "HARNESS_POSTGRES_MIGRATIONS=/migrations/postgres" in user
    listing = docker("run", "--rm", "--entrypoint", "python3", base_image, "-c",
                     "import os; print(os.path.exists('/migrations'))")  # fmt: skip
    assert listing.stdout.strip() == "False", "the base image bakes in no migrations"


@pytest.mark.parametrize("reset", [False, True], ids=["plain", "reset"])
def test_the_team_image_runs_the_postgres_job(team_image, tmp_path, pg_url, pg_conn, reset):
    pg_conn.execute("CREATE TABLE doomed (id int)")
    ran = run_job("postgres", postgres_values(pg_url, "t-1" if reset else None), in_image(team_image, tmp_path))
    assert list(ran)[-1] == "harness postgres up"
    versions = [r[0] for r in pg_conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == TEAM_PG
    assert (pg_conn.execute("SELECT to_regclass('public.doomed')").fetchone() == (None,)) is reset


def test_the_team_image_runs_the_jobs_then_the_drift_test(
    team_image, tmp_path, pg_url, pg_conn, cassandra_server, cassandra_session, cassandra_keyspace
):
    runner = in_image(team_image, tmp_path)
    pg, cassandra = postgres_values(pg_url), cassandra_values(cassandra_server, cassandra_keyspace)
    assert list(run_job("postgres", pg, runner)) == ["harness postgres wait", "harness postgres up"]
    assert list(run_job("cassandra", cassandra, runner)) == ["harness cassandra wait", "harness cassandra up"]
    rows = cassandra_session.execute(f"SELECT version FROM {cassandra_keyspace}.schema_migrations")
    assert sorted(r.version for r in rows) == TEAM_CQL
    clean = run_drift(both_stores(pg, cassandra), runner)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    pg_conn.execute("ALTER TABLE users ADD COLUMN nickname text")
    drifted = run_drift(both_stores(pg, cassandra), runner)
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr


def test_the_base_image_reads_the_migration_directory_from_its_settings(base_image, tmp_path, pg_url, pg_conn):
    """No migrations in the base: mount them anywhere and point HARNESS_POSTGRES_MIGRATIONS there."""
    mounted = in_image(base_image, tmp_path, "-v", f"{ROOT / 'migrations' / 'postgres'}:/elsewhere/pg:ro")
    values = postgres_values(pg_url)
    values["extraEnv"] = [{"name": "HARNESS_POSTGRES_MIGRATIONS", "value": "/elsewhere/pg"}]
    run_job("postgres", values, mounted)
    assert pg_conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (PG_MIGRATIONS,)


def test_this_repository_s_image_is_built_the_same_way(tmp_path) -> None:
    tag = build(f"harness/app:{uuid.uuid4().hex[:8]}", ROOT / "migrations", ROOT / "docker" / "app" / "Dockerfile")
    try:
        probe = "import os; print(sorted(os.listdir('/migrations')), len(os.listdir('/migrations/postgres')))"
        listing = docker("run", "--rm", "--entrypoint", "python3", tag, "-c", probe)
        assert listing.stdout.split() == ["['cassandra',", "'contract.md',", "'postgres']", str(PG_MIGRATIONS)]
    finally:
        docker("image", "rm", "--force", tag)
