"""Fixtures: the shared servers, a fresh database or keyspace per test, and what the built-in checks run on.

Override ``harness_config`` (or set the settings) to point the built-in checks at another project's migrations.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.checks.target import Databases, Project
from harness.plugin.options import CONFIG, RUN_DIR, RUN_OWNER, HarnessConfig
from harness.servers.base import CassandraServer, PostgresServer

if TYPE_CHECKING:
    from harness.runner import MigrationRunner
    from harness.servers.janitor import KeyspaceDropper


@pytest.fixture(scope="session")
def harness_config(pytestconfig: pytest.Config) -> HarnessConfig:
    """The run's resolved settings (override to point the built-in checks at another project)."""
    return pytestconfig.stash[CONFIG]


@pytest.fixture(scope="session")
def harness_project(harness_config: HarnessConfig) -> Project:
    """The project's migrations and contract, read once per run."""
    return Project.load(harness_config.settings)


def _obtain(kind: str, cfg: HarnessConfig) -> Any:
    from harness.servers.select import obtain

    run_dir = Path(os.environ[RUN_DIR])
    owner = int(os.environ.get(RUN_OWNER, os.getpid()))
    return obtain(kind, cfg.servers, run_dir, owner=owner)


@pytest.fixture(scope="session")
def postgres_server(harness_config: HarnessConfig) -> PostgresServer:
    server = _obtain("postgres", harness_config)
    assert isinstance(server, PostgresServer)
    return server


@pytest.fixture(scope="session")
def cassandra_server(harness_config: HarnessConfig) -> CassandraServer:
    server = _obtain("cassandra", harness_config)
    assert isinstance(server, CassandraServer)
    return server


def worker_id(config: pytest.Config) -> str:
    wi = getattr(config, "workerinput", None)
    return str(wi["workerid"]) if wi else "main"


@pytest.fixture(scope="session")
def pg_template() -> str:
    """The database every test database is copied from. A copy of ``template0`` costs the same as a copy of an empty
    database of our own (75 ms create and drop, medians of 20 each), so there is none to make; a project whose tests
    all need something installed first overrides this fixture with the name of a database it prepared."""
    return "template0"


@pytest.fixture
def pg_url(postgres_server: PostgresServer, pg_template: str, pytestconfig: pytest.Config) -> Iterator[str]:
    """A fresh, empty database for this test (cloned from the worker's template), dropped afterwards."""
    from harness.servers.janitor import fresh_database

    with fresh_database(postgres_server.url, pg_template, worker_id(pytestconfig)) as url:
        yield url


@pytest.fixture
def pg_conn(pg_url: str) -> Iterator[Any]:
    """An autocommit driver connection to this test's database."""
    from harness.servers.janitor import postgres_connection

    with postgres_connection(pg_url) as conn:
        yield conn


@pytest.fixture(scope="session")
def harness_keyspace_dropper(cassandra_server: CassandraServer) -> Iterator[KeyspaceDropper]:
    """Drops the keyspaces of finished tests (this worker's), each while the next test runs; waits at the end."""
    from harness.servers.janitor import KeyspaceDropper

    dropper = KeyspaceDropper(cassandra_server)
    try:
        yield dropper
    finally:
        dropper.close()


@pytest.fixture
def cassandra_keyspace(harness_keyspace_dropper: KeyspaceDropper, pytestconfig: pytest.Config) -> Iterator[str]:
    """A keyspace name of this test's own (not created: the applier creates it); dropped afterwards. The previous
    test's keyspace is gone before this test starts, so no test's Cassandra work overlaps a drop of this worker."""
    from harness.servers.janitor import fresh_keyspace

    dropper = harness_keyspace_dropper
    with fresh_keyspace(dropper.server, worker_id(pytestconfig), dropper) as name:
        yield name


@pytest.fixture
def cassandra_session(cassandra_server: CassandraServer, cassandra_keyspace: str) -> Iterator[Any]:
    """A driver session on a fresh keyspace (SimpleStrategy, RF 1) of this test's own."""
    from harness.servers.janitor import cassandra_session as session_on

    with session_on(cassandra_server, cassandra_keyspace) as session:
        yield session


def fresh_databases(request: pytest.FixtureRequest, stores: Sequence[str]) -> Databases:
    """Fresh databases of the given stores for this test (only those: a PostgreSQL-only check starts no Cassandra)."""
    values: dict[str, Any] = {}
    if "postgres" in stores:
        values["postgres_url"] = request.getfixturevalue("pg_url")
    if "cassandra" in stores:
        values["cassandra"] = request.getfixturevalue("cassandra_server")
        values["keyspace"] = request.getfixturevalue("cassandra_keyspace")
    return Databases(**values)


@pytest.fixture
def harness_fresh_databases(request: pytest.FixtureRequest) -> Callable[[Sequence[str]], Databases]:
    """A function giving this test fresh databases of the stores it names (the built-in checks use it)."""
    return lambda stores: fresh_databases(request, stores)


@pytest.fixture
def harness_databases(harness_project: Project, request: pytest.FixtureRequest) -> Databases:
    """Fresh databases of every store the project has migrations for."""
    return fresh_databases(request, harness_project.stores)


@pytest.fixture
def migration_runner(harness_project: Project, request: pytest.FixtureRequest) -> Iterator[MigrationRunner]:
    """A MigrationRunner on fresh databases of the project's stores, nothing applied: move a store to a version,
    write rows, apply the next migration, read the rows back (tests of data migrations). Closed after the test."""
    from harness.runner import MigrationRunner

    runner = MigrationRunner(harness_project, fresh_databases(request, harness_project.stores))
    try:
        yield runner
    finally:
        runner.close()
