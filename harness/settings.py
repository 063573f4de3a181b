"""Connection settings for each store, from flags and the environment (the Helm Jobs use only the environment)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ConfigError
from harness.servers.base import CassandraServer
from harness.stores.base import Store


@dataclass(frozen=True)
class PostgresSettings:
    """``url`` empty means libpq's own variables (PGHOST, PGUSER, PGPASSWORD, ...) decide, as in the Helm Jobs."""

    url: str = field(default="", repr=False)
    migrations_dir: Path = Path("migrations/postgres")
    migrations_table: str = "schema_migrations"
    lock: bool = True
    lock_timeout: float = 300.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: object) -> PostgresSettings:
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "url": env.get("DATABASE_URL", ""),
            "migrations_dir": Path(env.get("DBMATE_MIGRATIONS_DIR", "migrations/postgres")),
            "migrations_table": env.get("DBMATE_MIGRATIONS_TABLE", "schema_migrations"),
        }
        values.update({k: v for k, v in flags.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if not settings.url and not (env.get("PGHOST") or env.get("PGDATABASE")):
            raise ConfigError("no PostgreSQL given: set DATABASE_URL (or --url), or the libpq variables PGHOST etc.")
        return settings


@dataclass(frozen=True)
class CassandraSettings:
    hosts: tuple[str, ...] = ("127.0.0.1",)
    port: int = 9042
    keyspace: str = ""
    local_dc: str = "datacenter1"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    replication: str = "SimpleStrategy:1"
    migrations_dir: Path = Path("migrations/cassandra")
    lock: bool = True
    lock_ttl: int = 30
    lock_timeout: float = 300.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: object) -> CassandraSettings:
        env = os.environ if env is None else env
        hosts = env.get("CASSANDRA_HOSTS") or env.get("CASSANDRA_HOST") or "127.0.0.1"
        values: dict[str, object] = {
            "hosts": tuple(h.strip() for h in hosts.split(",") if h.strip()),
            "port": int(env.get("CASSANDRA_PORT", "9042")),
            "keyspace": env.get("CASSANDRA_KEYSPACE", ""),
            "local_dc": env.get("CASSANDRA_LOCAL_DC", "datacenter1"),
            "username": env.get("CASSANDRA_USERNAME") or None,
            "password": env.get("CASSANDRA_PASSWORD") or None,
            "replication": env.get("CASSANDRA_REPLICATION", "SimpleStrategy:1"),
        }
        if isinstance(flags.get("hosts"), str):
            flags["hosts"] = tuple(h.strip() for h in str(flags["hosts"]).split(",") if h.strip())
        values.update({k: v for k, v in flags.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if not settings.keyspace:
            raise ConfigError("no Cassandra keyspace given: set CASSANDRA_KEYSPACE or --keyspace")
        return settings

    @classmethod
    def for_server(cls, server: CassandraServer, keyspace: str) -> CassandraSettings:
        """Settings for a keyspace on a server a provider handed out (the checks and the tests use this)."""
        return cls(
            hosts=server.contact_points,
            port=server.port,
            keyspace=keyspace,
            local_dc=server.local_datacenter,
            username=server.username,
            password=server.password,
        )

    def server(self) -> CassandraServer:
        return CassandraServer(
            contact_points=self.hosts,
            port=self.port,
            local_datacenter=self.local_dc,
            username=self.username,
            password=self.password,
        )


def open_store(settings: PostgresSettings | CassandraSettings, *, create: bool = False) -> Store:
    """The one place that turns settings into a live store."""
    if isinstance(settings, PostgresSettings):
        from harness.stores.postgres.store import PostgresStore

        return PostgresStore(
            settings.url,
            migrations_table=settings.migrations_table,
            lock=settings.lock,
            lock_timeout=settings.lock_timeout,
            create_database=create,
        )
    from harness.stores.cassandra.store import CassandraStore, Replication

    return CassandraStore(
        settings.server(),
        settings.keyspace,
        replication=Replication.parse(settings.replication),
        lock=settings.lock,
        lock_ttl=settings.lock_ttl,
        lock_timeout=settings.lock_timeout,
    )


def secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """Every secret the process knows, so output can be scrubbed of them."""
    env = os.environ if env is None else env
    found = [env.get("PGPASSWORD", ""), env.get("CASSANDRA_PASSWORD", "")]
    from urllib.parse import urlsplit

    for key in ("DATABASE_URL",):
        with contextlib.suppress(ValueError):
            found.append(urlsplit(env.get(key, "")).password or "")
    return [s for s in found if s]
