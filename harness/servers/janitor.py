"""Fresh, isolated databases on a shared server: one per test (pytest) or per check (`harness verify`).

PostgreSQL: each fresh database a copy of ``template0`` (`CREATE DATABASE ... TEMPLATE`), which nobody can connect to,
so any number of copies can be made at once. Cassandra: a keyspace name of its own (the applier creates it), dropped
afterwards. Names carry the worker and the pid, so parallel workers and parallel runs never collide.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from harness.errors import ServerError
from harness.servers.base import CassandraServer

_counter = itertools.count(1)


def unique_name(prefix: str, worker: str = "main") -> str:
    return f"{prefix}_{worker}_{os.getpid()}_{next(_counter)}".lower()


def db_url(base: str, dbname: str) -> str:
    """The server's URL pointed at another database (kept a URL: dbmate and users' tools take URLs)."""
    parts = urlsplit(base)
    if parts.scheme not in ("postgres", "postgresql"):
        return str(psycopg.conninfo.make_conninfo(base, dbname=dbname))
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def _admin(server_url: str, statement: sql.Composed) -> None:
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


@contextmanager
def fresh_database(server_url: str, template: str = "template0", worker: str = "main") -> Iterator[str]:
    """A fresh database cloned from ``template`` (its URL), dropped with its sessions at the end."""
    name = unique_name("t", worker)
    _admin(server_url, sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    try:
        yield db_url(server_url, name)
    finally:
        _admin(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def postgres_connection(url: str) -> Iterator[Any]:
    """An autocommit connection for tests that talk to the database themselves."""
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


class KeyspaceDropper:
    """Drops finished tests' keyspaces on one connection, the last one in the background.

    Each table a DROP KEYSPACE removes makes Cassandra flush, so a drop costs about 0.1 s per table: a test's
    teardown hands its keyspace over and returns, and the drop overlaps with whatever runs next. At most one drop
    is in flight: the next keyspace's test (or the end of the run) waits for it, and a failed drop is raised there.
    """

    def __init__(self, server: CassandraServer, timeout: float = 120.0) -> None:
        self.server = server
        self.timeout = timeout
        self._connection: tuple[Any, Any] | None = None
        self._pending: tuple[str, Any] | None = None

    def drop_later(self, name: str) -> None:
        self.wait()
        if self._connection is None:
            from harness.stores.cassandra.conn import connect

            self._connection = connect(self.server)
        session = self._connection[1]
        self._pending = (name, session.execute_async(f'DROP KEYSPACE IF EXISTS "{name}"', timeout=self.timeout))

    def wait(self) -> None:
        """Block until the drop in flight (if any) is done; raise ServerError if it failed."""
        if self._pending is None:
            return
        name, future = self._pending
        self._pending = None
        try:
            future.result()
        except Exception as exc:
            raise ServerError(f"dropping the test keyspace {name} failed: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        try:
            self.wait()
        finally:
            connection, self._connection = self._connection, None
            if connection is not None:
                connection[0].shutdown()


@contextmanager
def fresh_keyspace(
    server: CassandraServer, worker: str = "main", dropper: KeyspaceDropper | None = None
) -> Iterator[str]:
    """A keyspace name of its own (not created: the applier creates it); dropped at the end, or handed to ``dropper``
    to drop while what follows runs (the drop it still has in flight is waited for first)."""
    own = dropper is None
    dropper = dropper or KeyspaceDropper(server)
    dropper.wait()
    name = unique_name("t", worker)
    try:
        yield name
    finally:
        dropper.drop_later(name)
        if own:
            dropper.close()


@contextmanager
def cassandra_session(server: CassandraServer, keyspace: str) -> Iterator[Any]:
    """A driver session on ``keyspace``, created here (SimpleStrategy, RF 1)."""
    from harness.stores.cassandra.conn import connect

    cluster, session = connect(server)
    try:
        session.execute(
            f"CREATE KEYSPACE \"{keyspace}\" WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
        )
        session.set_keyspace(keyspace)
        yield session
    finally:
        cluster.shutdown()
