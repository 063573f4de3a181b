"""The expected schema as a committed file: what the `helm test` drift pod uses where no throwaway server runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.db.applier_support import REPO, harness

pytestmark = [pytest.mark.postgres, pytest.mark.cassandra]
EXAMPLE = REPO / "examples" / "seed-layout"


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_server, cassandra_server) -> Path:
    """A copy of the example team's repository as the working directory, with throwaway servers named."""
    project = tmp_path / "team"
    shutil.copytree(EXAMPLE, project)
    monkeypatch.chdir(project)
    monkeypatch.setenv("HARNESS_PG_URL", postgres_server.url)
    monkeypatch.setenv("HARNESS_CASSANDRA_HOSTS", ",".join(cassandra_server.contact_points))
    monkeypatch.setenv("HARNESS_CASSANDRA_PORT", str(cassandra_server.port))
    return project


def test_the_committed_expected_schema_of_the_example_is_current(team: Path, capsys) -> None:
    written = harness(capsys, "drift", "--write-expected-schema", str(team / "fresh.json"))
    assert written.code == 0, written.err
    assert json.loads((team / "fresh.json").read_text()) == json.loads((EXAMPLE / "expected-schema.json").read_text())


def test_drift_reads_the_file_without_servers_and_refuses_a_stale_one(
    team: Path, pg_url: str, cassandra_server, cassandra_keyspace: str, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("CASSANDRA_HOSTS", ",".join(cassandra_server.contact_points))
    monkeypatch.setenv("CASSANDRA_PORT", str(cassandra_server.port))
    monkeypatch.setenv("CASSANDRA_KEYSPACE", cassandra_keyspace)
    assert harness(capsys, "postgres", "up").code == 0 and harness(capsys, "cassandra", "up").code == 0
    # No server may be used for the expected schema: the file must be enough.
    monkeypatch.setenv("HARNESS_PROVIDER", "external")
    monkeypatch.delenv("HARNESS_PG_URL")
    monkeypatch.delenv("HARNESS_CASSANDRA_HOSTS")
    clean = harness(capsys, "drift")
    assert clean.code == 0, clean.out + clean.err
    assert "expected schema from expected-schema.json" in clean.out
    stale = team / "cassandra" / "migrations" / "006_more.cql"
    stale.write_text("CREATE TABLE more_events (id uuid PRIMARY KEY);\n")
    refused = harness(capsys, "drift")
    assert refused.code == 2 and "written for other migration files (stale)" in refused.err
