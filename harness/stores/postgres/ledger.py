"""The ledger: dbmate's ``schema_migrations(version)`` untouched, and our record beside it.

dbmate reads and writes only ``schema_migrations``; what it lacks (checksum, applied_at, a failed migration's
progress, baselined rows) lives in ``harness_migrations`` in the same schema, so either tool can continue where the
other stopped. Every statement here is composed with psycopg's ``sql`` module: names are always quoted.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from harness.migrations import Migration

META_TABLE = "harness_migrations"
RESETS_TABLE = "harness_resets"

# Columns added after the first release are added in place (ADD COLUMN IF NOT EXISTS), so old ledgers keep working.
_META_COLUMNS = (
    ("status", "text"),
    ("done", "integer"),
    ("done_hash", "text"),
    ("error", "text"),
)


@dataclass(frozen=True)
class Ledger:
    """Names of the ledger tables in one schema."""

    schema: str
    table: str = "schema_migrations"

    def ledger(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.table))

    def meta(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(META_TABLE))

    def resets(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(RESETS_TABLE))

    def create(self) -> list[sql.Composed]:
        statements: list[sql.Composed] = [
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)),
            sql.SQL("CREATE TABLE IF NOT EXISTS {} (version varchar PRIMARY KEY)").format(self.ledger()),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (version varchar PRIMARY KEY, filename text, checksum text,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(self.meta()),
        ]
        statements += [
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                self.meta(), sql.Identifier(name), sql.SQL(kind)
            )
            for name, kind in _META_COLUMNS
        ]
        return statements

    def select(self, meta_exists: bool) -> sql.Composed:
        """Every migration the ledger or our record knows; rows of a failed migration have no ledger row."""
        if not meta_exists:
            return sql.SQL("SELECT version, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true FROM {}").format(
                self.ledger()
            )
        return sql.SQL(
            "SELECT coalesce(l.version, m.version), m.checksum, m.applied_at, m.filename, m.status, m.done,"
            " m.done_hash, m.error, l.version IS NOT NULL FROM {} l FULL JOIN {} m USING (version)"
        ).format(self.ledger(), self.meta())

    def applied(self, m: Migration, status: str = "applied") -> list[sql.Composed]:
        """Record ``m`` as applied: dbmate's row and ours (sent with the last section, in its transaction)."""
        v = sql.Literal(m.version)
        return [
            # No ON CONFLICT: a second applier without the lock must fail here, rolling back its whole section.
            sql.SQL("INSERT INTO {} (version) VALUES ({})").format(self.ledger(), v),
            self._upsert(m, status, len(m.ups), None),
        ]

    def progress(self, m: Migration, status: str, done: int, error: str | None = None) -> sql.Composed:
        """Our record of a migration that stopped (or is running) after ``done`` sections; no dbmate row."""
        return self._upsert(m, status, done, error)

    def _upsert(self, m: Migration, status: str, done: int, error: str | None) -> sql.Composed:
        values = [m.version, m.filename, m.checksum, status, done, m.sections_hash(done), error]
        return sql.SQL(
            "INSERT INTO {} (version, filename, checksum, status, done, done_hash, error) VALUES ({})"
            " ON CONFLICT (version) DO UPDATE SET filename = EXCLUDED.filename, checksum = EXCLUDED.checksum,"
            " applied_at = now(), status = EXCLUDED.status, done = EXCLUDED.done, done_hash = EXCLUDED.done_hash,"
            " error = EXCLUDED.error"
        ).format(self.meta(), sql.SQL(", ").join(sql.Literal(x) for x in values))

    def removed(self, m: Migration) -> list[sql.Composed]:
        v = sql.Literal(m.version)
        return [
            sql.SQL("DELETE FROM {} WHERE version = {}").format(self.ledger(), v),
            sql.SQL("DELETE FROM {} WHERE version = {}").format(self.meta(), v),
        ]
