"""What every server provider returns, whichever way it got the server."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class PostgresServer:
    """A reachable PostgreSQL. ``url`` is a libpq URL to a database the owner may CREATE DATABASE from."""

    url: str
    version: str = ""
    provider: str = ""


@dataclass(frozen=True)
class CassandraServer:
    """A reachable Cassandra node (or cluster) speaking CQL."""

    contact_points: tuple[str, ...]
    port: int = 9042
    local_datacenter: str = "datacenter1"
    version: str = ""
    provider: str = ""
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Servers:
    """The pair a test run or ``harness servers up`` hands out."""

    postgres: PostgresServer | None = None
    cassandra: CassandraServer | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "postgres": asdict(self.postgres) if self.postgres else None,
            "cassandra": asdict(self.cassandra) if self.cassandra else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Servers:
        pg = data.get("postgres")
        cs = data.get("cassandra")
        return cls(
            postgres=PostgresServer(**pg) if pg else None,
            cassandra=(CassandraServer(**{**cs, "contact_points": tuple(cs["contact_points"])}) if cs else None),
        )


class ServerHandle(Protocol):
    """One started server; ``stop`` must kill its processes and delete its data, and be idempotent."""

    def stop(self) -> None: ...
