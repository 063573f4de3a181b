"""``dump``: the schema as pg_dump writes it plus the ledger's versions, the way dbmate writes db/schema.sql.

The password reaches pg_dump through its environment (PGPASSWORD), never its arguments, which any user can read
with `ps`; every name written into the output is quoted, because `dbmate load` runs this file later.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import TYPE_CHECKING

from psycopg import sql

from harness.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from harness.stores.postgres.store import PostgresStore


def _pg_dump() -> str:
    found = shutil.which("pg_dump")
    if found:
        return found
    from harness.servers.local_postgres import find_bindir

    try:
        return str(find_bindir() / "pg_dump")
    except Exception:
        raise ConfigError("pg_dump not found: install PostgreSQL's client (Debian: postgresql-client-15)") from None


def _connection_env(store: PostgresStore) -> dict[str, str]:
    """libpq variables for pg_dump, taken from the store's live connection (password included, in env only)."""
    info = store.conn.info
    env = {
        "PGHOST": info.host,
        "PGPORT": str(info.port),
        "PGDATABASE": info.dbname,
        "PGUSER": info.user,
    }
    if info.password:
        env["PGPASSWORD"] = info.password
    params = info.get_parameters()
    if "sslmode" in params:
        env["PGSSLMODE"] = params["sslmode"]
    return env


def dump_schema(store: PostgresStore) -> str:
    cmd = [_pg_dump(), "--schema-only", "--no-owner", "--no-privileges", "--no-comments"]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **_connection_env(store)}, check=False)
    if out.returncode != 0:
        raise StoreError(f"pg_dump failed: {out.stderr.strip()}")
    versions = [r.version for r in store.applied() if r.status != "failed"]
    text = "\n".join(
        line for line in out.stdout.splitlines() if not line.startswith(("-- Dumped", "\\restrict", "\\unrestrict"))
    )
    text = text.rstrip() + "\n\n\n--\n-- Dbmate schema migrations\n--\n\n"
    if versions:
        table = store.ledger.ledger().as_string(store.conn)
        rows = ",\n".join("    (" + sql.Literal(v).as_string(store.conn) + ")" for v in versions)
        text += f"INSERT INTO {table} (version) VALUES\n{rows};\n"
    return text


__all__ = ["dump_schema"]
