"""``dump``: the schema as pg_dump writes it plus the ledger's versions, the way dbmate writes db/schema.sql."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from harness.errors import ConfigError, StoreError
from harness.settings import PostgresSettings, open_store


def _pg_dump() -> str:
    found = shutil.which("pg_dump")
    if found:
        return found
    from harness.servers.local_postgres import find_bindir

    try:
        return str(find_bindir() / "pg_dump")
    except Exception:
        raise ConfigError("pg_dump not found: install PostgreSQL's client (Debian: postgresql-client-15)") from None


def dump(settings: PostgresSettings, target: str, say: Callable[[str], None]) -> None:
    from harness.stores.postgres.store import split_dbmate_url

    url, _ = split_dbmate_url(settings.url) if settings.url else ("", None)
    cmd = [_pg_dump(), "--schema-only", "--no-owner", "--no-privileges", "--no-comments"]
    if url:
        cmd.append(f"--dbname={url}")
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise StoreError(f"pg_dump failed: {out.stderr.strip()}")
    store = open_store(settings)
    try:
        versions = [r.version for r in store.applied()]
        table = f"{getattr(store, '_schema', 'public')}.{settings.migrations_table.rpartition('.')[2]}"
    finally:
        store.close()
    text = "\n".join(
        line for line in out.stdout.splitlines() if not line.startswith(("-- Dumped", "\\restrict", "\\unrestrict"))
    )
    text = text.rstrip() + "\n\n\n--\n-- Dbmate schema migrations\n--\n\n"
    if versions:
        rows = ",\n".join(f"    ('{v}')" for v in versions)
        text += f"INSERT INTO {table} (version) VALUES\n{rows};\n"
    if target == "-":
        print(text, end="")
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    say(f"Writing: {path}")
