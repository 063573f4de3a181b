"""`harness servers up | status | down`, and a test run against the servers it started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin.nested import pytest_command, run

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SMOKE = """
import pytest

@pytest.mark.smoke
def test_smoke(postgres_server, pg_conn):
    assert postgres_server.provider == "external"
    assert pg_conn.execute("SELECT 1").fetchone() == (1,)
"""


def harness_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_servers_up_exports_a_server_that_a_test_run_uses_and_down_removes_it(example_project, isolated_env):
    up = harness_cli(isolated_env, "servers", "up", "--only", "postgres", "--provider", "local")
    try:
        assert up.returncode == 0, up.stderr
        exports = dict(line.removeprefix("export ").split("=", 1) for line in up.stdout.splitlines())
        assert set(exports) == {"DATABASE_URL", "HARNESS_PG_URL"}
        url = exports["DATABASE_URL"].strip("'")
        assert exports["HARNESS_PG_URL"].strip("'") == url
        again = harness_cli(isolated_env, "servers", "up", "--only", "postgres", "--provider", "local")
        assert again.stdout == up.stdout, "a second `up` reuses the running server"

        status = harness_cli(isolated_env, "servers", "status")
        assert status.returncode == 0 and "postgres: local 15" in status.stdout
        from harness.config import mask

        password = url.split(":")[2].split("@")[0]
        assert mask(url) in status.stdout and password not in status.stdout, "status masks the password"

        project = example_project(SMOKE)
        env = {k: v for k, v in isolated_env.items() if k != "HARNESS_PROVIDER"}
        exported = {k: v.strip("'") for k, v in exports.items()}
        result = run(pytest_command("-k", "smoke"), project, {**env, **exported})
        assert result.returncode == 0, result.stdout + result.stderr
        assert "harness: postgres from external (server given by environment or option)" in result.stdout
        assert "1 passed" in result.stdout
        # DATABASE_URL alone (a shell pointing at some server) is never used: the run starts its own.
        alone = run(pytest_command("-k", "smoke"), project, {**env, "DATABASE_URL": url})
        assert alone.returncode == 1 and "assert 'local' == 'external'" in alone.stdout
    finally:
        down = harness_cli(isolated_env, "servers", "down")
    assert down.returncode == 0 and "stopped: postgres" in down.stderr
    assert harness_cli(isolated_env, "servers", "status").returncode == 1
    leftovers = [p.name for p in Path(isolated_env["TMPDIR"]).iterdir() if p.name.startswith("harness")]
    assert leftovers == []


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (
            ("--cassandra-nodes", "3", "--cassandra-dcs", "dc1:1"),
            "cassandra_dcs 'dc1:1' adds up to 1 node but cassandra_nodes is 3",
        ),
        (("--cassandra-nodes", "10"), "cassandra_nodes must be 1 to 9 (one per 127.0.0.x address), got 10"),
        (("--cassandra-nodes", "2", "--provider", "docker"), "a Cassandra of 2 nodes needs the local provider"),
    ],
)
def test_servers_up_refuses_a_cluster_it_cannot_start_in_one_line_and_starts_nothing(isolated_env, flags, error):
    bad = harness_cli(isolated_env, "servers", "up", "--only", "cassandra", *flags)
    assert bad.returncode == 2
    assert bad.stderr.startswith(f"Error: {error}") and bad.stderr.count("\n") == 1, bad.stderr
    assert harness_cli(isolated_env, "servers", "status").returncode == 1, "nothing was started"
