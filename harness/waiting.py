"""Waiting for a database to accept connections (Kubernetes starts the Job and the database together)."""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.errors import StoreError
from harness.settings import CassandraSettings, PostgresSettings


def _probe(settings: PostgresSettings | CassandraSettings) -> None:
    if isinstance(settings, PostgresSettings):
        import psycopg

        from harness.stores.postgres.store import split_dbmate_url

        url, _ = split_dbmate_url(settings.url) if settings.url else ("", None)
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return
    from harness.stores.cassandra.conn import connect

    cluster, session = connect(settings.server(), timeout=3)
    try:
        session.execute("SELECT release_version FROM system.local")
    finally:
        cluster.shutdown()


def wait_for(
    settings: PostgresSettings | CassandraSettings, timeout: float, say: Callable[[str], None], where: str
) -> float:
    """Poll until a real query succeeds; returns the seconds waited."""
    start = time.monotonic()
    last = ""
    told = False
    while True:
        try:
            _probe(settings)
            return time.monotonic() - start
        except Exception as exc:
            last = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if time.monotonic() - start > timeout:
            raise StoreError(f"{where} not reachable after {timeout:.0f}s: {last}")
        if not told:
            say(f"Waiting for {where}")
            told = True
        time.sleep(1.0)
