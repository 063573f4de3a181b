"""PostgreSQL store: dbmate's ledger and file semantics, plus checksums, progress, a lock and a scoped reset."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import pq, sql

from harness.errors import ConfigError, StoreError
from harness.migrations import Migration, Section
from harness.stores.base import (
    APPLIED,
    BASELINED,
    FAILED,
    STOPPED,
    AppliedMigration,
    Notify,
    ResetResult,
    Resolution,
)
from harness.stores.lockwait import wait_for_lock
from harness.stores.postgres.conn import connect_error
from harness.stores.postgres.errors import db_error
from harness.stores.postgres.ledger import META_TABLE, RESETS_TABLE, Ledger
from harness.stores.postgres.reset import reset_schemas
from harness.stores.postgres.url import database_name, describe_conninfo, search_path_entries, split_dbmate_url

if TYPE_CHECKING:
    from harness.config import PostgresSettings
    from harness.schema.model import SchemaModel
    from harness.stores.postgres.rows import PostgresRows

# dbmate's --migration-lock key: the harness and dbmate exclude each other.
ADVISORY_LOCK_KEY = 48372615
RUNNING = "running"  # sections 1..done committed; the next one, if it runs in a transaction, left nothing behind
STARTED = "started"  # sections 1..done committed; the next one runs without a transaction and was sent


def _quiet(_message: str) -> None:
    """Default progress sink."""


class PostgresStore:
    """One autocommit connection; each section is one simple query (one implicit transaction), unless told not to."""

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
        notify: Notify = _quiet,
        read_only: bool = False,
    ) -> None:
        self.url, self.search_path = split_dbmate_url(url) if url else ("", None)
        schema, _, table = migrations_table.rpartition(".")
        self.table_name = table
        self.schema_name = schema or None
        self.read_only = read_only
        self.use_lock = lock and not read_only  # the advisory lock writes nothing, but a reader needs none
        self.lock_timeout = lock_timeout
        self.connect_timeout = connect_timeout
        self.notify = notify
        self.conn = self._connect(create_database and not read_only)
        self._lock_depth = 0

    def _connect(self, create_database: bool) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout)
        except psycopg.OperationalError as exc:
            if not (create_database and "does not exist" in str(exc) and "database" in str(exc)):
                raise StoreError(f"cannot connect to {self.describe()}: {connect_error(exc)}") from None
            self._create_database()
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout)
        if self.search_path:  # dbmate's URL parameter, applied with every name quoted
            names = sql.SQL(", ").join(sql.Identifier(n) for n in search_path_entries(self.search_path))
            conn.execute(sql.SQL("SET search_path TO {}").format(names))
        if self.read_only:  # the server then refuses every write of this session, whatever the role may do
            conn.execute("SET default_transaction_read_only = on")
        return conn

    def _create_database(self) -> None:
        dbname = database_name(self.url)
        if not dbname:
            raise ConfigError("cannot create a database: the URL names none")
        admin = psycopg.conninfo.make_conninfo(self.url, dbname="postgres")
        with psycopg.connect(admin, autocommit=True, connect_timeout=self.connect_timeout) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        self.notify(f"Creating: {dbname}")

    def describe(self) -> str:
        return describe_conninfo(self.url)

    def target(self) -> str:
        """What `reset` empties, as the user confirms it: the database name."""
        return database_name(self.url)

    # -- ledger -----------------------------------------------------------------------------------------

    @property
    def _schema(self) -> str:
        """dbmate's rule: the table's own prefix, else the URL's first search_path entry, else current_schema()."""
        if self.schema_name:
            return self.schema_name
        entries = search_path_entries(self.search_path) if self.search_path else []
        first = entries[0] if entries else ""
        if not first:
            row = self.conn.execute("SELECT current_schema()").fetchone()
            first = str(row[0]) if row and row[0] else "public"
        self.schema_name = first
        return self.schema_name

    @property
    def ledger(self) -> Ledger:
        return Ledger(self._schema, self.table_name)

    def ensure_ledger(self) -> None:
        """Every statement in one simple query: one round trip (and one transaction) instead of one each."""
        self.conn.execute(sql.SQL(";\n").join(self.ledger.create()))

    def _tables_present(self, names: Sequence[str]) -> set[str]:
        """Which of ``names`` exist in the ledger's schema, in one round trip."""
        rows = self.conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename = ANY(%s)", (self._schema, list(names))
        ).fetchall()
        return {str(row[0]) for row in rows}

    def ledger_exists(self) -> bool:
        return self.table_name in self._tables_present([self.table_name])

    def applied(self) -> list[AppliedMigration]:
        present = self._tables_present([self.table_name, META_TABLE])
        if self.table_name not in present:
            return []
        rows = self.conn.execute(self.ledger.select(META_TABLE in present)).fetchall()
        records = []
        for version, checksum, applied_at, filename, status, done, done_hash, error, in_ledger in rows:
            interrupted = status in (RUNNING, STARTED, STOPPED) and not in_ledger
            if not in_ledger and status != FAILED and not interrupted:
                continue  # our record of a row that dbmate rolled back: the ledger decides
            if status in (RUNNING, STARTED) and not in_ledger:
                error = "the applier stopped while it ran"
            records.append(
                AppliedMigration(
                    version=version,
                    checksum=checksum,
                    applied_at=applied_at,
                    filename=filename,
                    status=FAILED if interrupted else status if status in (FAILED, BASELINED) else APPLIED,
                    done=done or 0,
                    done_hash=done_hash,
                    error=error,
                    interrupted=interrupted,
                    in_flight=status == STARTED,
                )
            )
        return records

    # -- lock -------------------------------------------------------------------------------------------

    @contextmanager
    def lock(self, notify: Notify) -> Iterator[None]:
        """dbmate's advisory lock; re-entrant within this store (reset runs under the caller's lock too)."""
        if not self.use_lock or self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return

        def try_once() -> str | None:
            row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()
            return None if row and row[0] else "another applier"

        wait_for_lock(
            try_once,
            timeout=self.lock_timeout,
            notify=notify,
            where=self.describe(),
            what=f"advisory lock {ADVISORY_LOCK_KEY}",
        )
        self._lock_depth = 1
        try:
            yield
        finally:
            self._lock_depth = 0
            if not self.conn.closed:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))

    # -- migrations -------------------------------------------------------------------------------------

    def apply(self, migration: Migration, resume: AppliedMigration | None = None) -> None:
        """Run the up sections in order; each commits with its progress record, the last with the ledger row."""
        first = resume.done if resume else 0
        last = len(migration.ups) - 1
        if first > last:  # every section took effect (an interrupted run, resolved): only the record is missing
            with self.conn.transaction():
                for statement in self.ledger.applied(migration):
                    self.conn.execute(statement)
            return
        for index in range(first, last + 1):
            section = migration.ups[index]
            if index == last:
                records = self.ledger.applied(migration)
            else:
                records = [self.ledger.progress(migration, RUNNING, index + 1)]
            try:
                self._run_section(migration, section, "up", records, index, len(migration.ups))
            except StoreError as exc:
                if index > 0 or not section.transaction:  # something may have taken effect: keep it on record
                    self._record_failure(migration, index, exc)
                raise

    def _record_failure(self, migration: Migration, index: int, exc: StoreError) -> None:
        # If the connection is gone, the progress row of the last committed section still tells the truth.
        with contextlib.suppress(psycopg.Error):
            self.conn.execute(self.ledger.progress(migration, FAILED, index, str(exc)))

    def resolve_interrupted(self, migration: Migration, record: AppliedMigration) -> Resolution:
        from harness.stores.postgres.recovery import resolve

        return resolve(self, migration, record)

    def record_resolution(self, migration: Migration, record: AppliedMigration, done: int) -> None:
        if done >= len(migration.ups):
            with self.conn.transaction():
                for statement in self.ledger.applied(migration):
                    self.conn.execute(statement)
        else:
            note = f"section {done} recorded as done by hand (harness resolve)" if done else "resolved by hand"
            self.conn.execute(self.ledger.progress(migration, STOPPED, done, note))

    def revert(self, migration: Migration) -> None:
        """Run the down sections in reverse order; the ledger rows go with the last one (the first section's)."""
        pairs = list(enumerate(migration.downs))
        for index, down in reversed(pairs):
            if down is None:
                raise StoreError(f"{migration.path}: section {index + 1} has no down section")
            records = self.ledger.removed(migration) if index == 0 else []
            try:
                self._run_section(migration, down, "down", records, index, len(pairs))
            except StoreError as exc:
                if index < len(pairs) - 1:
                    raise StoreError(
                        f"{exc} (the down sections after section {index + 1} took effect; the migration is still "
                        "recorded as applied)"
                    ) from None
                raise

    def baseline(self, migrations: Sequence[Migration]) -> None:
        with self.conn.transaction():
            for m in migrations:
                for statement in self.ledger.applied(m, status=BASELINED):
                    self.conn.execute(statement)

    def _run_section(
        self, migration: Migration, section: Section, what: str, records: list[sql.Composed], index: int, total: int
    ) -> None:
        """Send the section and its ledger change as one simple query: PostgreSQL runs it as one transaction (one
        round trip, as dbmate's BEGIN/body/COMMIT but cheaper), or, under transaction:false, the body alone first.
        """
        ledger = ";\n".join(r.as_string(self.conn) for r in records)
        body = "" if section.is_empty else section.text
        number = index + 1 if total > 1 else None
        if section.transaction:
            self._execute(migration, section, what, f"{body}\n;\n{ledger}" if body else ledger, number)
            return
        if body:
            if what == "up":  # a kill from here on leaves "started": whether the body ran is not known
                self.conn.execute(self.ledger.progress(migration, STARTED, index))
            try:
                self._execute(migration, section, what, body, number)
            except StoreError as exc:
                raise StoreError(
                    f"{exc}; this section runs without a transaction (transaction:false): statements before the "
                    "failing one may have taken effect, and the ledger was not changed"
                ) from None
        if ledger:
            self.conn.execute(ledger)

    def _execute(self, migration: Migration, section: Section, what: str, query: str, number: int | None) -> None:
        """One simple query; on an error, the results before it tell exactly which statement failed."""
        if not query.strip():
            return
        pgconn = self.conn.pgconn
        blocking = pgconn.nonblocking
        pgconn.nonblocking = 0  # send the whole query before reading (sections may be megabytes)
        succeeded, error = 0, None
        try:
            pgconn.send_query(query.encode())
            while (result := pgconn.get_result()) is not None:
                if result.status == pq.ExecStatus.FATAL_ERROR:
                    error = error or psycopg.errors.error_from_result(result, encoding=self.conn.info.encoding)
                elif error is None:
                    succeeded += 1
        except psycopg.OperationalError as exc:
            raise StoreError(f"{self.describe()}: the connection was lost during {migration.path}: {exc}") from None
        finally:
            with contextlib.suppress(psycopg.Error):  # a lost connection cannot be set back
                pgconn.nonblocking = blocking
        if error is not None:
            if pgconn.status != pq.ConnStatus.OK:
                raise StoreError(f"{self.describe()}: the connection was lost during {migration.path}: {error}")
            raise db_error(migration, section, error, what, succeeded, number)

    # -- whole database ---------------------------------------------------------------------------------

    def reset(self, scope: Sequence[str] = (), once: str | None = None, notify: Notify = _quiet) -> ResetResult:
        """Empty the ledger's schema and the schemas in ``scope``, under the migration lock (see reset.py)."""
        with self.lock(notify):
            return reset_schemas(self.conn, [self._schema, *scope], self.ledger.resets(), self._schema, once)

    def reset_scope(self, scope: Sequence[str] = ()) -> str:
        """What `reset` would empty, for the confirmation and the help."""
        names = ", ".join(dict.fromkeys([self._schema, *scope]))
        return f"schema(s) {names} of database {self.target()}"

    def snapshot(self) -> SchemaModel:
        from harness.stores.postgres.introspect import introspect_postgres

        return introspect_postgres(
            self.conn, schema=self._schema, exclude_tables=(self.table_name, META_TABLE, RESETS_TABLE)
        )

    def rows(self) -> PostgresRows:
        from harness.stores.postgres.rows import PostgresRows

        return PostgresRows(self.conn)

    def close(self) -> None:
        self.conn.close()


def open_postgres(
    settings: PostgresSettings, *, create: bool = False, notify: Notify = _quiet, read_only: bool = False
) -> PostgresStore:
    """The registry's factory: a live store from settings. ``read_only``: no lock, no database creation, and a
    session in which the server refuses every write (``harness drift``)."""
    return PostgresStore(
        settings.url,
        migrations_table=settings.migrations_table,
        lock=settings.lock,
        lock_timeout=settings.lock_timeout,
        create_database=create,
        notify=notify,
        read_only=read_only,
    )
