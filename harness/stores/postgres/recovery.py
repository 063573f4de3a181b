"""Resuming an interrupted PostgreSQL migration without a person.

A section that runs in a transaction commits together with its progress row, so a killed applier leaves either
both or neither: the ledger's count of done sections is exact and the section after it simply runs again. A section
under ``transaction:false`` is recorded as "started" before it is sent; after a kill nobody knows whether it ran,
except in the case such sections exist for: a lone ``CREATE INDEX CONCURRENTLY``, whose result the catalog shows
(a valid index: it ran; none: it did not; an invalid one: its build was interrupted, so it is dropped and built
again). Any other such section stops, and the applier prints the two commands that settle it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from harness.errors import StoreError
from harness.migrations import Migration, Section
from harness.stores.base import AppliedMigration, Resolution, UnresolvedStep

if TYPE_CHECKING:
    from harness.stores.postgres.store import PostgresStore

_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_CONCURRENT_INDEX = re.compile(
    rf"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<index>{_NAME})\s+ON\s+"
    rf"(?:ONLY\s+)?(?P<table>{_NAME}(?:\s*\.\s*{_NAME})?)[\s(]",
    re.IGNORECASE,
)


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


def concurrent_index(section: Section) -> tuple[str, str] | None:
    """(index, table as written) when the section is one CREATE INDEX CONCURRENTLY statement and nothing else."""
    text = "\n".join(line for line in section.text.splitlines() if not line.lstrip().startswith("--")).strip()
    text = text.rstrip("; \n\t")
    match = _CONCURRENT_INDEX.match(text)
    if match is None or ";" in text:
        return None
    return _unquote(match.group("index")), match.group("table")


def resolve(store: PostgresStore, migration: Migration, record: AppliedMigration) -> Resolution:
    """Where ``migration`` resumes; UnresolvedStep when the catalog cannot tell."""
    done = min(record.done, len(migration.ups))
    if done >= len(migration.ups):
        return Resolution(done, "every section had run; recording it as applied")
    k = done + 1
    section = migration.ups[done]
    if not record.in_flight:
        note = f"section {k} runs in a transaction, so nothing of it took effect; it runs again"
        return Resolution(done, note if section.transaction else "")
    found = concurrent_index(section)
    if found is None:
        raise UnresolvedStep(
            k,
            f"section {k} (line {section.line}) runs without a transaction (transaction:false) and was sent; "
            "PostgreSQL keeps no trace of whether it ran",
        )
    index, table = found
    try:
        return _judge_index(store, section, k, index, table)
    except psycopg.Error as exc:
        raise StoreError(
            f"{migration.path}:{section.line}: reading whether section {k} took effect failed: "
            + " ".join(str(exc).split())
        ) from None


def _judge_index(store: PostgresStore, section: Section, k: int, index: str, table: str) -> Resolution:
    """The catalog's verdict on an interrupted CREATE INDEX CONCURRENTLY (an invalid index is dropped first)."""
    done = k - 1
    row = store.conn.execute(
        "SELECT x.indisvalid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid"
        " WHERE c.relname = %s AND x.indrelid = to_regclass(%s)",
        (index, table),
    ).fetchone()
    what = f"section {k} (line {section.line}: CREATE INDEX CONCURRENTLY {index})"
    if row is None:
        return Resolution(done, f"{what} was running and did not take effect (no index {index}); it runs again")
    if row[0]:
        return Resolution(k, f"{what} was running and took effect (index {index} exists and is valid)")
    schema = store.conn.execute(
        "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)",
        (table,),
    ).fetchone()
    name = sql.Identifier(index) if schema is None else sql.Identifier(str(schema[0]), index)
    store.conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(name))
    return Resolution(done, f"{what} was interrupted while building: dropped the invalid index {index}; it runs again")
