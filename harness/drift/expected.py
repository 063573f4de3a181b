"""The schema the migrations build: every migration applied to a fresh database on a throwaway server.

Servers come from the settings' provider as for `harness verify` (given ones with ``pg_url`` /
``cassandra_hosts``, else docker, else local processes) and are stopped at the end. The fresh database is set up
as the live one is where that shapes the schema: the same ledger table and, on PostgreSQL, the same
``search_path`` (the schema the migrations land in).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness import applier
from harness.checks.target import cassandra_settings
from harness.config import CassandraSettings, PostgresSettings, Settings
from harness.drift.live import first_line
from harness.errors import HarnessError
from harness.migrations import Migration
from harness.registry import factory
from harness.schema.model import SchemaModel
from harness.stores.base import Store

Say = Callable[[str], None]


class CannotBuild(HarnessError):
    """The expected schema cannot be built (no server, or the migrations fail on a fresh database): exit 2."""


@dataclass
class Expected:
    """The models the migrations build, by store, and the servers that built them (for the report)."""

    models: dict[str, SchemaModel] = field(default_factory=dict)
    servers: list[str] = field(default_factory=list)


def with_search_path(url: str, live_url: str) -> str:
    """``url`` carrying the live URL's dbmate ``search_path`` parameter (if any), so the migrations land in the
    same schema as they did on the live database."""
    wanted = [(k, v) for k, v in parse_qsl(urlsplit(live_url).query, keep_blank_values=True) if k == "search_path"]
    if not wanted:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "search_path"] + wanted
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextmanager
def _fresh_postgres(server: Any, live: PostgresSettings) -> Iterator[PostgresSettings]:
    from harness.servers import janitor

    with janitor.fresh_database(server.url) as url:
        yield PostgresSettings(url=with_search_path(url, live.url), migrations_table=live.migrations_table)


@contextmanager
def _fresh_cassandra(server: Any, live: CassandraSettings) -> Iterator[CassandraSettings]:
    from harness.servers import janitor

    with janitor.fresh_keyspace(server) as keyspace:
        yield cassandra_settings(server, keyspace)


_FRESH: dict[str, Callable[[Any, Any], AbstractContextManager[PostgresSettings | CassandraSettings]]] = {
    "postgres": _fresh_postgres,
    "cassandra": _fresh_cassandra,
}


def _quiet(_message: str) -> None:
    """The applier's progress on a throwaway database is not part of the report."""


def _migrate(
    store: str, connection: PostgresSettings | CassandraSettings, migrations: Sequence[Migration]
) -> SchemaModel:
    opened: Store = factory(store)(connection, create=True)
    try:
        applier.up(opened, migrations, _quiet)
        return opened.snapshot()
    finally:
        opened.close()


def build_expected(
    settings: Settings,
    migrations: Mapping[str, Sequence[Migration]],
    live: Mapping[str, PostgresSettings | CassandraSettings],
    say: Say,
) -> Expected:
    """Migrate a fresh database per store and snapshot it; :class:`CannotBuild` names what stopped it."""
    from harness.servers.from_settings import server_options
    from harness.servers.select import obtain, release_all

    run_dir = Path(tempfile.mkdtemp(prefix="harness-drift-"))
    expected = Expected()
    try:
        options = server_options(settings)
        for store, files in migrations.items():
            try:
                server = obtain(store, options, run_dir, owner=os.getpid(), log=lambda m: say(f"  {m}"))
            except HarnessError as exc:
                raise CannotBuild(f"no {store} server to build the expected schema on: {first_line(exc)}") from None
            expected.servers.append(f"{store} {server.version} ({server.provider})")
            try:
                with _FRESH[store](server, live[store]) as connection:
                    expected.models[store] = _migrate(store, connection, files)
            except Exception as exc:  # the migrations fail on a fresh database, or the server does
                what = first_line(exc) if isinstance(exc, HarnessError) else f"{type(exc).__name__}: {first_line(exc)}"
                raise CannotBuild(f"cannot build the expected {store} schema on a fresh database: {what}") from None
    finally:
        release_all(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
    return expected
