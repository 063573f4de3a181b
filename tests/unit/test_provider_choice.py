"""Which provider serves a run, and the errors when none can."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError, ServerError
from harness.servers.local_postgres import find_bindir
from harness.servers.select import ServerOptions, choose_provider


def test_servers_given_by_environment_win():
    opts = ServerOptions.from_env({"DATABASE_URL": "postgresql://u@127.0.0.1:1/db", "CASSANDRA_HOSTS": "127.0.0.1"})
    assert choose_provider(opts, "postgres") == ("external", "server given by environment or option")
    assert choose_provider(opts, "cassandra")[0] == "external"


def test_an_explicit_provider_is_taken_as_chosen():
    assert choose_provider(ServerOptions.from_env({}, provider="local"), "cassandra") == ("local", "chosen")
    assert choose_provider(ServerOptions.from_env({}, provider="docker"), "postgres") == ("docker", "chosen")


def test_external_without_an_address_names_what_to_set():
    opts = ServerOptions.from_env({"HARNESS_PROVIDER": "external"})
    with pytest.raises(ConfigError, match="no cassandra server given: set CASSANDRA_HOSTS / --cassandra-hosts"):
        choose_provider(opts, "cassandra")


def test_an_unknown_provider_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="unknown provider 'podman': choose one of auto, local, docker, external"):
        ServerOptions.from_env({"HARNESS_PROVIDER": "podman"})


def test_missing_postgres_binaries_list_every_place_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("HARNESS_PG_BINDIR", raising=False)
    with pytest.raises(ServerError) as err:
        find_bindir(tmp_path / "nowhere", debian_glob=str(tmp_path / "lib/postgresql/*/bin"))
    text = str(err.value)
    assert f"{tmp_path / 'nowhere'} (no initdb/postgres there)" in text
    assert "pg_config on PATH (not found)" in text
    assert f"{tmp_path}/lib/postgresql/*/bin (no match)" in text
    assert "apt-get install postgresql-15" in text


def test_postgres_binaries_are_found_in_an_explicit_directory(tmp_path: Path):
    for name in ("initdb", "postgres"):
        (tmp_path / name).write_text("")
    assert find_bindir(tmp_path, debian_glob=str(tmp_path / "none/*")) == tmp_path
