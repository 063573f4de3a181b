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


def connect_error(exc: BaseException) -> str:
    """libpq's connection error in one line, with what to do when the cause is TLS."""
    text = " ".join(str(exc).split())
    if "certificate verify failed" in text:
        return (
            f"{text} (the server's certificate is not signed by the CA in sslrootcert / PGSSLROOTCERT, or does not "
            "name the host: sslmode=verify-full checks both)"
        )
    if "no pg_hba.conf entry" in text and "no encryption" in text:
        return f"{text} (the server accepts TLS connections only: set sslmode=verify-full and sslrootcert)"
    if "server does not support SSL" in text:
        return f"{text} (TLS was required but the server does not offer it)"
    return text
