"""`harness postgres up` imports only what it needs: its start-up is benchmarked against dbmate's (bench.applier)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Modules of other commands, of the other store, and optional libraries: none is needed to apply PostgreSQL files.
NOT_NEEDED = (
    "cassandra",
    "pglast",
    "dotenv",
    "filelock",
    "tomllib",  # only when a configuration file exists
    "harness.cql",
    "harness.cli.servers",
    "harness.runner",
    "harness.schema",
    "harness.servers",
    "harness.checks",
    "harness.fuzz",
    "harness.lint",
    "harness.verify",
    "harness.drift",
    "harness.stores.cassandra",
    "harness.stores.postgres.introspect",
)

_PROBE = """
import json, sys
from harness.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules_of(argv: list[str], tmp_path: Path) -> set[str]:
    """Run the CLI in a fresh interpreter (no configuration file, an unreachable server) and list its modules."""
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    (tmp_path / "db" / "migrations" / "20250101000001_t.sql").write_text("-- migrate:up\nSELECT 1;\n-- migrate:down\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "DBMATE_", "PG", "CASSANDRA_"))}
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    result = json.loads(lines[-1])
    assert result["code"] == 2 and "cannot connect" in done.stderr, done.stderr  # it reached the store
    return set(result["modules"])


@pytest.mark.parametrize("command", ["up", "migrate", "status"])
def test_postgres_commands_import_only_what_they_need(command: str, tmp_path: Path) -> None:
    modules = _modules_of(["postgres", command], tmp_path)
    assert "harness.stores.postgres.store" in modules  # the probe really reached the store
    loaded = sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_NEEDED))
    assert loaded == []
