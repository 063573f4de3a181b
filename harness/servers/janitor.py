"""Fresh, isolated databases on a shared server: one per test (pytest) or per check (`harness verify`).

PostgreSQL: a template database per worker, and each fresh database a copy of it (`CREATE DATABASE ... TEMPLATE`,
much cheaper than an empty one from template0 with its catalog). Cassandra: a keyspace name of its own (the applier
creates it), dropped afterwards. Names carry the worker and the pid, so parallel workers and parallel runs never
collide.
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
def template_database(server_url: str, worker: str = "main") -> Iterator[str]:
    """An empty template database (its name), dropped at the end."""
    name = unique_name("harness_tpl", worker)
    _admin(server_url, sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        _admin(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def fresh_database(server_url: str, template: str, worker: str = "main") -> Iterator[str]:
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


@contextmanager
def fresh_keyspace(server: CassandraServer, worker: str = "main") -> Iterator[str]:
    """A keyspace name of its own (not created: the applier creates it); dropped at the end."""
    from harness.stores.cassandra.conn import connect

    name = unique_name("t", worker)
    try:
        yield name
    finally:
        cluster, session = connect(server)
        try:
            session.execute(f'DROP KEYSPACE IF EXISTS "{name}"')
        finally:
            cluster.shutdown()


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
