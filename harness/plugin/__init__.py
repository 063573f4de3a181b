"""The pytest plugin: real throwaway PostgreSQL and Cassandra, shared by every xdist worker, cheap per-test isolation.

Servers start lazily, once per run, the first time a test asks for one: the first process takes a file lock and
spawns a supervisor; every other worker reuses it. The controlling process stops them at the end of the run; the
supervisors also stop by themselves if that process dies, so nothing survives a Ctrl-C or a kill.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.servers import supervisor
from harness.servers.base import CassandraServer, PostgresServer
from harness.servers.select import ServerOptions, obtain, release_all

DB_MARKERS = ("postgres", "cassandra")
MARKERS = {
    "postgres": "needs a real PostgreSQL (started by the harness plugin)",
    "cassandra": "needs a real Apache Cassandra (started by the harness plugin)",
    "docker": "needs a Docker engine and locally built images",
    "deploy": "Dockerfile, Helm chart and deploy.sh checks (offline)",
    "smoke": "quick proof that both servers answer",
    "roundtrip": "every migration up and down on real databases",
    "schema": "live schema against the class diagram",
    "fuzz": "generated inserts against the live constraints",
    "slow": "takes more than a few seconds",
    "cluster": "starts a local multi-node Cassandra cluster (about 2 GiB; lane: tox -e cluster)",
}
RUN_DIR = "HARNESS_RUN_DIR"
RUN_OWNER = "HARNESS_RUN_OWNER"

# (ini name, flag, help, default)
OPTIONS: list[tuple[str, str, str, str]] = [
    ("harness_provider", "--harness-provider", "where databases come from: auto|local|docker|external", "auto"),
    ("harness_pg_url", "--pg-url", "an existing PostgreSQL to use (also $DATABASE_URL)", ""),
    ("harness_cassandra_hosts", "--cassandra-hosts", "an existing Cassandra to use (also $CASSANDRA_HOSTS)", ""),
    ("harness_cassandra_port", "--cassandra-port", "its native port (also $CASSANDRA_PORT)", ""),
    ("harness_pg_bindir", "--pg-bindir", "directory of initdb/postgres for the local provider", ""),
    (
        "harness_migrations",
        "--harness-migrations",
        "directory holding postgres/ and cassandra/ migrations",
        "migrations",
    ),
    (
        "harness_contract",
        "--harness-contract",
        "markdown file with the mermaid classDiagram contract",
        "migrations/README.md",
    ),
    (
        "harness_strict_links",
        "--harness-strict-links",
        "cross-store link type mismatches are errors (true/false)",
        "false",
    ),
    (
        "harness_fuzz_profile",
        "--harness-fuzz-profile",
        "fuzz effort: dev (quick) | ci (thorough); also $HARNESS_FUZZ_PROFILE",
        "dev",
    ),
    ("harness_no_skip", "--harness-no-skip", "a skipped database test fails the run (true/false; CI sets it)", "false"),
    (
        "harness_minimum_downgrade",
        "--harness-minimum-downgrade",
        "oldest version the roundtrip must be able to go down to; older migrations may be irreversible",
        "",
    ),
]


@dataclass(frozen=True)
class HarnessConfig:
    """Every plugin option resolved once: flag, else ini, else environment, else default."""

    servers: ServerOptions
    migrations: Path
    contract: Path
    strict_links: bool
    fuzz_profile: str
    no_skip: bool
    minimum_downgrade: str | None

    @property
    def postgres_dir(self) -> Path:
        return self.migrations / "postgres"

    @property
    def cassandra_dir(self) -> Path:
        return self.migrations / "cassandra"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "migrations harness (real PostgreSQL and Cassandra)")
    for ini, flag, help_, default in OPTIONS:
        group.addoption(flag, dest=ini, default=None, help=f"{help_} [ini: {ini}, default: {default or 'none'}]")
        parser.addini(ini, help_, default=default)


def _opt(config: pytest.Config, name: str) -> str:
    value = config.getoption(name)
    if value is None:
        value = config.getini(name)
    return str(value or "")


def _bool(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def resolve_config(config: pytest.Config) -> HarnessConfig:
    root = Path(str(config.rootpath))
    overrides: dict[str, Any] = {
        "provider": _opt(config, "harness_provider") if _opt(config, "harness_provider") != "auto" else None,
        "pg_url": _opt(config, "harness_pg_url") or None,
        "pg_bindir": _opt(config, "harness_pg_bindir") or None,
    }
    hosts = _opt(config, "harness_cassandra_hosts")
    if hosts:
        overrides["cassandra_hosts"] = tuple(h.strip() for h in hosts.split(",") if h.strip())
    if _opt(config, "harness_cassandra_port"):
        overrides["cassandra_port"] = int(_opt(config, "harness_cassandra_port"))
    minimum = _opt(config, "harness_minimum_downgrade")
    return HarnessConfig(
        servers=ServerOptions.from_env(**overrides),
        migrations=root / _opt(config, "harness_migrations"),
        contract=root / _opt(config, "harness_contract"),
        strict_links=_bool(_opt(config, "harness_strict_links")),
        fuzz_profile=config.getoption("harness_fuzz_profile")
        or os.environ.get("HARNESS_FUZZ_PROFILE")
        or config.getini("harness_fuzz_profile")
        or "dev",
        no_skip=_bool(_opt(config, "harness_no_skip")) or _bool(os.environ.get("HARNESS_NO_SKIP", "")),
        minimum_downgrade=minimum or None,
    )


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.stash[_CONFIG] = resolve_config(config)
    if not _is_worker(config) and RUN_DIR not in os.environ:
        os.environ[RUN_DIR] = tempfile.mkdtemp(prefix="harness-run-")
        os.environ[RUN_OWNER] = str(os.getpid())
        config.stash[_OWNS_RUN] = True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that uses a database fixture carries that database's marker, so `-m` and the skip guard see it."""
    pg = {"postgres_server", "pg_url", "pg_conn", "pg_template"}
    cs = {"cassandra_server", "cassandra_session", "cassandra_keyspace"}
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & pg:
            item.add_marker(pytest.mark.postgres)
        if names & cs:
            item.add_marker(pytest.mark.cassandra)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    cfg = item.config.stash.get(_CONFIG, None)
    if report.skipped and cfg is not None and cfg.no_skip:
        markers = [m for m in (*DB_MARKERS, "docker") if item.get_closest_marker(m)]
        if markers:
            report.outcome = "failed"
            report.longrepr = (
                f"{item.nodeid}: a {'/'.join(markers)} test was skipped, and skips are failures with "
                f"--harness-no-skip (CI must provide every database): {report.longrepr}"
            )


def pytest_report_header(config: pytest.Config) -> list[str]:
    from harness.errors import HarnessError
    from harness.servers.select import choose_provider

    cfg = config.stash[_CONFIG]
    parts = []
    for kind in supervisor.KINDS:
        try:
            provider, why = choose_provider(cfg.servers, kind)
        except HarnessError as exc:
            provider, why = "none", str(exc)
        parts.append(f"{kind} from {provider} ({why})")
    return ["harness: " + "; ".join(parts) + " — started only if a test needs it"]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run_dir = os.environ.get(RUN_DIR)
    if not run_dir or not config.stash.get(_OWNS_RUN, False):
        return
    for kind in supervisor.KINDS:
        state = supervisor.read_state(Path(run_dir) / kind)
        if state:
            server = supervisor.server_from_state(state)
            terminalreporter.write_line(f"harness: {kind} {server.version} from the {server.provider} provider")


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_OWNS_RUN, False):
        run_dir = Path(os.environ.pop(RUN_DIR))
        os.environ.pop(RUN_OWNER, None)
        release_all(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)


_CONFIG = pytest.StashKey[HarnessConfig]()
_OWNS_RUN = pytest.StashKey[bool]()


# -- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def harness_config(pytestconfig: pytest.Config) -> HarnessConfig:
    """Override to point the built-in checks at another project's migrations and contract."""
    return pytestconfig.stash[_CONFIG]


def _obtain(kind: str, cfg: HarnessConfig) -> Any:
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


_counter = itertools.count(1)


def unique_name(config: pytest.Config, prefix: str) -> str:
    """Names carry the xdist worker and the pid: parallel workers and parallel runs never collide."""
    return f"{prefix}_{worker_id(config)}_{os.getpid()}_{next(_counter)}".lower()


def db_url(base: str, dbname: str) -> str:
    """The server's URL pointed at another database (kept a URL: dbmate and users' tools take URLs)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base)
    if parts.scheme not in ("postgres", "postgresql"):
        import psycopg

        return str(psycopg.conninfo.make_conninfo(base, dbname=dbname))
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@pytest.fixture(scope="session")
def pg_template(postgres_server: PostgresServer, pytestconfig: pytest.Config) -> Iterator[str]:
    """A template database per worker; every test database is a cheap copy of it."""
    import psycopg
    from psycopg import sql

    name = unique_name(pytestconfig, "harness_tpl")
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pg_url(postgres_server: PostgresServer, pg_template: str, pytestconfig: pytest.Config) -> Iterator[str]:
    """A fresh, empty database for this test (cloned from the worker's template), dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = unique_name(pytestconfig, "t")
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(pg_template))
        )
    yield db_url(postgres_server.url, name)
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pg_conn(pg_url: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def cassandra_keyspace(cassandra_server: CassandraServer, pytestconfig: pytest.Config) -> Iterator[str]:
    """A keyspace name of this test's own (not created: the applier creates it); dropped afterwards."""
    from harness.stores.cassandra.conn import connect

    name = unique_name(pytestconfig, "t")
    yield name
    cluster, session = connect(cassandra_server)
    try:
        session.execute(f'DROP KEYSPACE IF EXISTS "{name}"')
    finally:
        cluster.shutdown()


@pytest.fixture
def cassandra_session(cassandra_server: CassandraServer, cassandra_keyspace: str) -> Iterator[Any]:
    """A driver session on a fresh keyspace (SimpleStrategy, RF 1) of this test's own."""
    from harness.stores.cassandra.conn import connect

    cluster, session = connect(cassandra_server)
    try:
        session.execute(
            f"CREATE KEYSPACE \"{cassandra_keyspace}\" WITH replication = {{'class': 'SimpleStrategy', "
            "'replication_factor': 1}"
        )
        session.set_keyspace(cassandra_keyspace)
        yield session
    finally:
        cluster.shutdown()


def _target(cfg: HarnessConfig, **databases: Any) -> Any:
    from harness.checks.target import Target

    return Target(
        migrations_dir=cfg.migrations,
        contract=cfg.contract,
        strict_links=cfg.strict_links,
        minimum_downgrade=cfg.minimum_downgrade,
        fuzz_profile=cfg.fuzz_profile,
        **databases,
    )


@pytest.fixture
def harness_pg_target(harness_config: HarnessConfig, pg_url: str) -> Any:
    """The project's migrations and contract with a fresh PostgreSQL database."""
    return _target(harness_config, postgres_url=pg_url)


@pytest.fixture
def harness_cassandra_target(
    harness_config: HarnessConfig, cassandra_server: CassandraServer, cassandra_keyspace: str
) -> Any:
    """The project's migrations and contract with a fresh Cassandra keyspace."""
    return _target(harness_config, cassandra=cassandra_server, keyspace=cassandra_keyspace)


@pytest.fixture
def harness_target(harness_config: HarnessConfig, request: pytest.FixtureRequest) -> Any:
    """Both stores, each only if the project has migrations for it (a PostgreSQL-only project starts no Cassandra)."""
    databases: dict[str, Any] = {}
    if harness_config.postgres_dir.is_dir():
        databases["postgres_url"] = request.getfixturevalue("pg_url")
    if harness_config.cassandra_dir.is_dir():
        databases["cassandra"] = request.getfixturevalue("cassandra_server")
        databases["keyspace"] = request.getfixturevalue("cassandra_keyspace")
    return _target(harness_config, **databases)
