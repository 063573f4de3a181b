"""PostgreSQL store: dbmate's ledger and file semantics, plus checksums, applied_at and a lock beside it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from harness.errors import ConfigError, LockError, StoreError
from harness.stores.base import AppliedMigration, Notify

if TYPE_CHECKING:
    from harness.migrations import Migration, Section
    from harness.schema.model import SchemaModel
    from harness.stores.postgres.rows import PostgresRows

# dbmate's --migration-lock key: the harness and dbmate exclude each other.
ADVISORY_LOCK_KEY = 48372615
META_TABLE = "harness_migrations"


def split_dbmate_url(url: str) -> tuple[str, str | None]:
    """dbmate accepts ``?search_path=`` in the URL; libpq does not, so take it out and return it separately."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    search_path = next((v for k, v in query if k == "search_path"), None)
    rest = urlencode([(k, v) for k, v in query if k != "search_path"])
    return urlunsplit(parts._replace(query=rest)), search_path


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def describe_conninfo(url: str | None) -> str:
    """host:port/dbname of a URL or of the libpq environment, never the password."""
    info = psycopg.conninfo.conninfo_to_dict(url or "")
    import os

    host = info.get("host") or os.environ.get("PGHOST", "localhost")
    port = info.get("port") or os.environ.get("PGPORT", "5432")
    db = info.get("dbname") or os.environ.get("PGDATABASE") or info.get("user") or os.environ.get("PGUSER", "")
    return f"postgres {host}:{port}/{db}"


def error_line(section: Section, exc: psycopg.Error) -> int:
    """Map PostgreSQL's character position inside the sent section to a line of the file."""
    pos = exc.diag.statement_position
    if not pos:
        return section.line
    return section.line + section.text[: int(pos) - 1].count("\n")


def db_error(migration: Migration, section: Section, exc: psycopg.Error, what: str) -> StoreError:
    line = error_line(section, exc)
    lines = section.text.splitlines()  # the section as it was sent; its first line is the file's section.line
    offset = line - section.line
    stmt = lines[offset].strip() if 0 <= offset < len(lines) else ""
    primary = exc.diag.message_primary or str(exc).splitlines()[0]
    code = f" ({exc.sqlstate})" if exc.sqlstate else ""
    near = f" near `{stmt}`" if stmt else ""
    return StoreError(f"{migration.path}:{line}: {what} failed{near}: {primary}{code}")


class PostgresStore:
    """One autocommit connection; each migration is one simple query (one implicit transaction), unless told not to."""

    kind = "postgres"

    def __init__(
        self,
        url: str | None = None,
        *,
        migrations_table: str = "schema_migrations",
        lock: bool = True,
        lock_timeout: float = 300.0,
        create_database: bool = False,
        connect_timeout: int = 10,
    ) -> None:
        self.url, self.search_path = split_dbmate_url(url) if url else ("", None)
        schema, _, table = migrations_table.rpartition(".")
        self.table_name = table
        self.schema_name = schema or None
        self.use_lock = lock
        self.lock_timeout = lock_timeout
        self.connect_timeout = connect_timeout
        self.conn = self._connect(create_database)

    def _connect(self, create_database: bool) -> psycopg.Connection[Any]:
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": self.connect_timeout}
        if self.search_path:
            kwargs["options"] = f"-c search_path={self.search_path}"
        try:
            return psycopg.connect(self.url, **kwargs)
        except psycopg.OperationalError as exc:
            if create_database and "does not exist" in str(exc) and "database" in str(exc):
                self._create_database()
                return psycopg.connect(self.url, **kwargs)
            raise StoreError(f"cannot connect to {self.describe()}: {str(exc).strip()}") from None

    def _create_database(self) -> None:
        info = psycopg.conninfo.conninfo_to_dict(self.url)
        import os

        dbname = str(info.get("dbname") or os.environ.get("PGDATABASE") or "")
        if not dbname:
            raise ConfigError("cannot create a database: the URL names none")
        admin = psycopg.conninfo.make_conninfo(self.url, dbname="postgres")
        with psycopg.connect(admin, autocommit=True, connect_timeout=self.connect_timeout) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        print(f"Creating: {dbname}", flush=True)

    def describe(self) -> str:
        return describe_conninfo(self.url)

    # -- ledger -----------------------------------------------------------------------------------------

    @property
    def _schema(self) -> str:
        """dbmate's rule: the table's own prefix, else the URL's first search_path entry, else current_schema()."""
        if self.schema_name:
            return self.schema_name
        first = self.search_path.split(",")[0].strip().strip('"') if self.search_path else ""
        if not first:
            row = self.conn.execute("SELECT current_schema()").fetchone()
            first = str(row[0]) if row and row[0] else "public"
        self.schema_name = first
        return self.schema_name

    def _ledger(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self._schema), sql.Identifier(self.table_name))

    def _meta(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self._schema), sql.Identifier(META_TABLE))

    def ensure_ledger(self) -> None:
        exists = self.conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self._schema,)).fetchone()
        if not exists:  # dbmate creates the ledger's schema too
            self.conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self._schema)))
        self.conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (version varchar PRIMARY KEY)").format(self._ledger()))
        self.conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (version varchar PRIMARY KEY, filename text, checksum text,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(self._meta())
        )

    def ledger_exists(self) -> bool:
        row = self.conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f'"{self._schema}"."{self.table_name}"',)
        ).fetchone()
        return bool(row and row[0])

    def applied(self) -> list[AppliedMigration]:
        if not self.ledger_exists():
            return []
        meta_exists = self.conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{self._schema}"."{META_TABLE}"',))
        row = meta_exists.fetchone()
        if row and row[0]:
            query = sql.SQL(
                "SELECT l.version, m.checksum, m.applied_at, m.filename FROM {} l LEFT JOIN {} m USING (version)"
            ).format(self._ledger(), self._meta())
        else:
            query = sql.SQL("SELECT version, NULL, NULL, NULL FROM {}").format(self._ledger())
        rows = self.conn.execute(query).fetchall()
        records = [AppliedMigration(version=r[0], checksum=r[1], applied_at=r[2], filename=r[3]) for r in rows]
        return sorted(records, key=lambda r: (int(r.version) if r.version.isdigit() else 0, r.version))

    # -- lock -------------------------------------------------------------------------------------------

    @contextmanager
    def lock(self, notify: Notify) -> Iterator[None]:
        if not self.use_lock:
            yield
            return
        deadline = time.monotonic() + self.lock_timeout
        told = False
        while True:
            row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()
            if row and row[0]:
                break
            if time.monotonic() > deadline:
                raise LockError(
                    f"{self.describe()}: another applier held the migration lock (advisory lock "
                    f"{ADVISORY_LOCK_KEY}) for {self.lock_timeout:.0f}s; nothing was applied"
                )
            if not told:
                notify(f"Waiting: another applier holds the migration lock on {self.describe()}")
                told = True
            time.sleep(0.2)
        try:
            yield
        finally:
            if not self.conn.closed:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))

    # -- migrations -------------------------------------------------------------------------------------

    def apply(self, migration: Migration, resume: AppliedMigration | None = None) -> None:
        v, name, checksum = (sql.Literal(x) for x in (migration.version, migration.filename, migration.checksum))
        records = [
            sql.SQL("INSERT INTO {} (version) VALUES ({})").format(self._ledger(), v),
            sql.SQL(
                "INSERT INTO {} (version, filename, checksum) VALUES ({}, {}, {}) ON CONFLICT (version) DO UPDATE"
                " SET filename = EXCLUDED.filename, checksum = EXCLUDED.checksum, applied_at = now()"
            ).format(self._meta(), v, name, checksum),
        ]
        self._run_section(migration, migration.up, "up", records)

    def revert(self, migration: Migration) -> None:
        assert migration.down is not None
        v = sql.Literal(migration.version)
        records = [
            sql.SQL("DELETE FROM {} WHERE version = {}").format(self._ledger(), v),
            sql.SQL("DELETE FROM {} WHERE version = {}").format(self._meta(), v),
        ]
        self._run_section(migration, migration.down, "down", records)

    def _run_section(self, migration: Migration, section: Section, what: str, records: list[sql.Composed]) -> None:
        """Run a section and change the ledger with it: one simple query, which PostgreSQL runs as one transaction
        (one round trip, as dbmate's BEGIN/body/COMMIT but cheaper), or without a transaction when asked."""
        ledger = ";\n".join(r.as_string(self.conn) for r in records)
        body = "" if section.is_empty else section.text
        try:
            if section.transaction:
                self.conn.execute(f"{body}\n;\n{ledger}" if body else ledger)
                return
            if body:
                self.conn.execute(body)
        except psycopg.Error as exc:
            err = db_error(migration, section, exc, what)
            if section.transaction:
                raise err from None
            raise StoreError(
                f"{err}; this section runs without a transaction (transaction:false): statements before the "
                "failing one may have taken effect, and the ledger was not changed"
            ) from None
        self.conn.execute(ledger)

    # -- whole database ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Drop every schema the connected user owns, and public (recreated empty), ledger included.

        Ownership, not privilege: a superuser must not drop other applications' schemas."""
        rows = self.conn.execute(
            "SELECT n.nspname FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%' AND"
            " n.nspname <> 'information_schema' AND (n.nspowner = (SELECT oid FROM pg_roles WHERE rolname ="
            " current_user) OR n.nspname = 'public')"
        ).fetchall()
        with self.conn.transaction():
            for (name,) in rows:
                self.conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
            self.conn.execute("CREATE SCHEMA IF NOT EXISTS public")

    def snapshot(self) -> SchemaModel:
        from harness.stores.postgres.introspect import introspect_postgres

        return introspect_postgres(self.conn, schema=self._schema, exclude_tables=(self.table_name, META_TABLE))

    def rows(self) -> PostgresRows:
        from harness.stores.postgres.rows import PostgresRows

        return PostgresRows(self.conn)

    def close(self) -> None:
        self.conn.close()
