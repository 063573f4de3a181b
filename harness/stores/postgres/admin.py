"""dbmate's `create` and `drop`: the database itself, through the server's `postgres` database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from harness.errors import ConfigError, StoreError
from harness.stores.base import Notify
from harness.stores.postgres.url import database_name, describe_conninfo, split_dbmate_url

if TYPE_CHECKING:
    from harness.config import PostgresSettings


def _admin(settings: PostgresSettings) -> tuple[str, str]:
    url, _ = split_dbmate_url(settings.url) if settings.url else ("", None)
    name = database_name(url)
    if not name:
        raise ConfigError("the URL names no database")
    return psycopg.conninfo.make_conninfo(url, dbname="postgres"), name


def create_target(settings: PostgresSettings, notify: Notify) -> None:
    """CREATE DATABASE; an existing one is an error, as in dbmate."""
    admin, name = _admin(settings)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise StoreError(f"{describe_conninfo(settings.url)}: cannot create the database: {exc}") from None
    notify(f"Creating: {name}")


def drop_target(settings: PostgresSettings, notify: Notify) -> None:
    """DROP DATABASE IF EXISTS (sessions on it make it fail: nothing is killed)."""
    admin, name = _admin(settings)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise StoreError(f"{describe_conninfo(settings.url)}: cannot drop the database: {exc}") from None
    notify(f"Dropping: {name}")
