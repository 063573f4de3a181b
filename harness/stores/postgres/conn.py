"""Asking a PostgreSQL described by a URL for its version, in one place (providers, external servers)."""

from __future__ import annotations

import math

import psycopg


def server_version(url: str, timeout: float = 10.0) -> str:
    """``SHOW server_version`` on a fresh connection, which also proves the server accepts connections.

    Raises psycopg's errors (OperationalError while the server is not up yet): callers decide whether that
    means "retry", "not ready" or "unreachable". libpq takes whole seconds (rounded up, at least 1).
    """
    with psycopg.connect(url, connect_timeout=max(1, math.ceil(timeout))) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else ""
