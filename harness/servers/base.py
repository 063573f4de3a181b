"""What every server provider returns, whichever way it got the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, runtime_checkable


@dataclass(frozen=True)
class PostgresServer:
    """A reachable PostgreSQL. ``url`` is a libpq URL to a database the owner may CREATE DATABASE from."""

    url: str = field(repr=False)  # may carry the password of a throwaway server
    version: str = ""
    provider: str = ""


@dataclass(frozen=True)
class CassandraServer:
    """A reachable Cassandra node (or cluster) speaking CQL.

    Client-to-node TLS is on when ``ssl`` is set or a CA or client certificate is given: ``ssl_ca`` is a PEM file of
    the CA(s) to trust (the system's store when None), ``ssl_cert``/``ssl_key`` a client certificate for nodes that
    require one, and ``ssl_hostname_check`` whether the node's certificate must name the address connected to.
    """

    contact_points: tuple[str, ...]
    port: int = 9042
    local_datacenter: str = "datacenter1"
    version: str = ""
    provider: str = ""
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    ssl: bool = False
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None
    ssl_hostname_check: bool = True

    @property
    def tls(self) -> bool:
        return self.ssl or bool(self.ssl_ca or self.ssl_cert)


@dataclass(frozen=True)
class NodeProcessInfo:
    """One database process of a local server: where it listens and its pid (tests pause or stop it)."""

    address: str
    pid: int
    datacenter: str


class ServerHandle(Protocol):
    """One started server; ``stop`` must kill its processes and delete its data, and be idempotent."""

    def stop(self) -> None: ...


@runtime_checkable
class NodesHandle(Protocol):
    """A handle that can name its node processes (the local Cassandra providers)."""

    def node_processes(self) -> list[NodeProcessInfo]: ...


Started = TypeVar("Started", PostgresServer, CassandraServer)


class Provider(Generic[Started]):
    """A server that ``with provider as server:`` starts, and stops again whatever happens inside."""

    def start(self) -> Started:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Started:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
