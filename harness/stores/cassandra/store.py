"""Cassandra store: a versioned ledger with per-statement progress, a lease lock, and schema agreement checks.

Cassandra has no transactional DDL, so a migration can stop halfway. The ledger therefore records how many
statements of a migration ran; ``up`` refuses to go past a failed migration and, once its file is fixed, resumes at
the failed statement without repeating the ones that already took effect.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError, LockError, StoreError
from harness.servers.base import CassandraServer
from harness.stores.base import APPLIED, FAILED, AppliedMigration, Notify
from harness.stores.cassandra.conn import connect

if TYPE_CHECKING:
    from harness.cql import Statement
    from harness.migrations import Migration
    from harness.schema.model import SchemaModel
    from harness.stores.cassandra.rows import CassandraRows

LEDGER = "schema_migrations"
LOCK_TABLE = "schema_migrations_lock"
LOCK_NAME = "migrations"
RUNNING = "running"
_NAME = re.compile(r"^[A-Za-z0-9_]{1,48}$")


@dataclass(frozen=True)
class Replication:
    """Keyspace replication; ``SimpleStrategy:1`` for development, ``NetworkTopologyStrategy:dc1=3,dc2=3`` else."""

    strategy: str = "SimpleStrategy"
    factors: tuple[tuple[str, int], ...] = (("replication_factor", 1),)

    @classmethod
    def parse(cls, text: str) -> Replication:
        strategy, _, rest = text.strip().partition(":")
        try:
            if strategy == "SimpleStrategy":
                return cls(strategy, (("replication_factor", int(rest or "1")),))
            if strategy == "NetworkTopologyStrategy":
                pairs = [p.split("=", 1) for p in rest.split(",") if p.strip()]
                if not pairs or any(len(p) != 2 for p in pairs):
                    raise ValueError
                return cls(strategy, tuple((dc.strip(), int(n)) for dc, n in pairs))
        except ValueError:
            pass
        raise ConfigError(
            f"replication {text!r} not understood: use SimpleStrategy:N or NetworkTopologyStrategy:dc1=N,dc2=M"
        )

    def cql(self) -> str:
        items = [f"'class': '{self.strategy}'"] + [f"'{k}': {v}" for k, v in self.factors]
        return "{" + ", ".join(items) + "}"


def quote(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(f"keyspace name {name!r} is not valid: use 1-48 letters, digits and underscores")
    return f'"{name}"'


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    match = re.search(r'message="(.*)"', text, re.S)
    return match.group(1) if match else text.splitlines()[0][:500]


class CassandraStore:
    """One driver session bound to the migrations keyspace."""

    kind = "cassandra"

    def __init__(
        self,
        server: CassandraServer,
        keyspace: str,
        *,
        replication: Replication | None = None,
        lock: bool = True,
        lock_ttl: int = 30,
        lock_timeout: float = 300.0,
        create_keyspace: bool = True,
    ) -> None:
        self.server = server
        self.keyspace = keyspace
        self.qks = quote(keyspace)
        self.replication = replication or Replication()
        self.use_lock = lock
        if lock_ttl < 3:
            raise ConfigError(
                f"--lock-ttl {lock_ttl}: the lease must last at least 3 seconds (it is renewed every third)"
            )
        self.lock_ttl = lock_ttl
        self.lock_timeout = lock_timeout
        self.create_keyspace = create_keyspace
        self.owner = f"{socket.gethostname()}:{uuid.uuid4()}"
        self.lock_lost = threading.Event()
        try:
            self.cluster, self.session = connect(server)
        except Exception as exc:
            raise StoreError(f"cannot connect to {self.describe()}: {_error_text(exc)}") from None

    def describe(self) -> str:
        hosts = ",".join(self.server.contact_points)
        return f"cassandra {hosts}:{self.server.port}/{self.keyspace}"

    def _exec(self, cql: str, params: Any = None) -> Any:
        """LOCAL_QUORUM: a ledger or lock write seen by one replica only could let a second applier repeat a
        migration on a multi-node cluster. (Schema statements ignore the consistency level.)"""
        from cassandra import ConsistencyLevel
        from cassandra.query import SimpleStatement

        return self.session.execute(SimpleStatement(cql, consistency_level=ConsistencyLevel.LOCAL_QUORUM), params)

    def keyspace_exists(self) -> bool:
        row = self._exec(
            "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = %s", (self.keyspace,)
        ).one()
        return row is not None

    def _ensure_lock_table(self) -> None:
        """The keyspace and the lock table must exist before anyone can lock; both creations are idempotent."""
        if not self.keyspace_exists():
            if not self.create_keyspace:
                raise StoreError(f"keyspace {self.keyspace} does not exist on {self.describe()}")
            self._ddl(f"CREATE KEYSPACE IF NOT EXISTS {self.qks} WITH replication = {self.replication.cql()}")
        self._ddl(
            f"CREATE TABLE IF NOT EXISTS {self.qks}.{LOCK_TABLE} (name text PRIMARY KEY, owner text,"
            " acquired_at timestamp)"
        )

    def ensure_ledger(self) -> None:
        """Called under the lock (the applier does), so concurrent appliers never race to create the ledger."""
        self._ensure_lock_table()
        self._ddl(
            f"CREATE TABLE IF NOT EXISTS {self.qks}.{LEDGER} (version text PRIMARY KEY, filename text,"
            " checksum text, applied_at timestamp, status text, statements_done int, statements_total int,"
            " done_hash text, error text)"
        )
        self.session.set_keyspace(self.keyspace)

    def _ddl(self, cql: str) -> None:
        result = self._exec(cql)
        self._check_agreement(result, cql)

    def _check_agreement(self, result: Any, what: str) -> None:
        """After a schema change, every node must report the same schema version before the next statement.

        The driver already waited once; with schema metadata off (we never read it, and it costs a refresh per
        change) it reports every change as "not agreed", so ask the control connection again: one cheap query.
        """
        future = getattr(result, "response_future", None)
        if future is None or getattr(future, "is_schema_agreed", True) is not False:
            return
        wait = self.cluster.max_schema_agreement_wait
        if not self.cluster.control_connection.wait_for_schema_agreement(wait_time=wait):
            raise StoreError(
                f"{self.describe()}: schema agreement not reached within "
                f"{self.cluster.max_schema_agreement_wait}s after `{what[:80]}`; check that every node is up"
            )

    def _ledger_exists(self) -> bool:
        row = self._exec(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s AND table_name = %s",
            (self.keyspace, LEDGER),
        ).one()
        return row is not None

    def applied(self) -> list[AppliedMigration]:
        if not self.keyspace_exists() or not self._ledger_exists():
            return []
        rows = self._exec(
            f"SELECT version, filename, checksum, applied_at, status, statements_done, done_hash, error "
            f"FROM {self.qks}.{LEDGER}"
        )
        out = []
        for r in rows:
            status, error = r.status or APPLIED, r.error
            if status == RUNNING:
                status = FAILED
                k = (r.statements_done or 0) + 1
                error = (
                    f"interrupted: the applier stopped at statement {k}; check whether statement {k} took effect,"
                    " then run up --retry-failed (or fix the file)"
                )
            out.append(
                AppliedMigration(
                    version=r.version,
                    checksum=r.checksum,
                    applied_at=r.applied_at,
                    filename=r.filename,
                    status=status,
                    statements_done=r.statements_done or 0,
                    done_hash=r.done_hash,
                    error=error,
                )
            )
        return sorted(out, key=lambda a: (int(a.version) if a.version.isdigit() else -1, a.version))

    # -- lease lock -------------------------------------------------------------------------------------

    @contextmanager
    def lock(self, notify: Notify) -> Iterator[None]:
        if not self.use_lock:
            yield
            return
        self._ensure_lock_table()
        table = f"{self.qks}.{LOCK_TABLE}"
        deadline = time.monotonic() + self.lock_timeout
        told = False
        while True:
            row = self._exec(
                f"INSERT INTO {table} (name, owner, acquired_at) VALUES (%s, %s, toTimestamp(now()))"
                f" IF NOT EXISTS USING TTL {self.lock_ttl}",
                (LOCK_NAME, self.owner),
            ).one()
            if row[0]:
                break
            if time.monotonic() > deadline:
                raise LockError(
                    f"{self.describe()}: the migration lock is held by {row.owner} and was not released within "
                    f"{self.lock_timeout:.0f}s; nothing was applied"
                )
            if not told:
                notify(f"Waiting: the migration lock is held by {row.owner} (a lease of {self.lock_ttl}s)")
                told = True
            time.sleep(0.25)
        self.lock_lost.clear()
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(table, stop), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            # The lease expires by itself: never hide the real error behind a failed release.
            with contextlib.suppress(Exception):
                self._exec(f"DELETE FROM {table} WHERE name = %s IF owner = %s", (LOCK_NAME, self.owner))

    def _renew(self, table: str, stop: threading.Event) -> None:
        while not stop.wait(self.lock_ttl / 3):
            try:
                # Every cell carries its own TTL: rewrite owner too, or it expires while the lease looks renewed.
                row = self._exec(
                    f"UPDATE {table} USING TTL {self.lock_ttl} SET owner = %s, acquired_at = toTimestamp(now()) "
                    "WHERE name = %s IF owner = %s",
                    (self.owner, LOCK_NAME, self.owner),
                ).one()
                if not row[0]:
                    self.lock_lost.set()
                    return
            except Exception:
                continue

    def _check_lock(self, migration: Migration, k: int) -> None:
        if self.lock_lost.is_set():
            raise LockError(
                f"{migration.path}: lost the migration lock before statement {k}; statements 1..{k - 1} are recorded"
                f" and statement {k} did not run; run `up --retry-failed` to resume at statement {k}"
            )

    # -- migrations -------------------------------------------------------------------------------------

    def _record(self, migration: Migration, status: str, done: int, error: str | None = None) -> None:
        from harness.applier import statements_hash

        self._exec(
            f"UPDATE {self.qks}.{LEDGER} SET filename = %s, checksum = %s, applied_at = toTimestamp(now()),"
            " status = %s, statements_done = %s, statements_total = %s, done_hash = %s, error = %s WHERE version = %s",
            (
                migration.filename,
                migration.checksum,
                status,
                done,
                len(migration.up.statements),
                statements_hash(migration, done),
                error,
                migration.version,
            ),
        )

    def _run(self, migration: Migration, stmt: Statement, k: int, what: str) -> None:
        try:
            result = self._exec(stmt.text)
        except Exception as exc:
            raise StoreError(f"{migration.path}:{stmt.line}: {what} statement {k} failed: {_error_text(exc)}") from None
        self._check_agreement(result, stmt.text)

    def apply(self, migration: Migration, resume: AppliedMigration | None = None) -> None:
        start = resume.statements_done if resume else 0
        statements = migration.up.statements
        self._record(migration, RUNNING, start)
        for k, stmt in enumerate(statements[start:], start + 1):
            self._check_lock(migration, k)
            try:
                self._run(migration, stmt, k, "up")
            except StoreError as exc:
                try:
                    self._record(migration, FAILED, k - 1, str(exc))
                except Exception:
                    raise StoreError(
                        f"{exc}; recording the failure also failed, so the ledger says statement {k} was running"
                    ) from None
                raise StoreError(
                    f"{exc} (statements 1..{k - 1} took effect and are recorded; fix statement {k} and run up again"
                    f" to resume there)"
                ) from None
            if k < len(statements):
                self._record(migration, RUNNING, k)
        self._record(migration, APPLIED, len(statements))

    def revert(self, migration: Migration) -> None:
        assert migration.down is not None
        for k, stmt in enumerate(migration.down.statements, 1):
            try:
                self._run(migration, stmt, k, "down")
            except StoreError as exc:
                raise StoreError(
                    f"{exc} (down statements 1..{k - 1} took effect; the migration is still recorded as applied)"
                ) from None
        self._exec(f"DELETE FROM {self.qks}.{LEDGER} WHERE version = %s", (migration.version,))

    def reset(self) -> None:
        self._ddl(f"DROP KEYSPACE IF EXISTS {self.qks}")

    def snapshot(self) -> SchemaModel:
        from harness.stores.cassandra.introspect import introspect_cassandra

        return introspect_cassandra(self.session, self.keyspace, exclude_tables=(LEDGER, LOCK_TABLE))

    def rows(self) -> CassandraRows:
        from harness.stores.cassandra.rows import CassandraRows

        return CassandraRows(self.session, self.keyspace)

    def close(self) -> None:
        self.cluster.shutdown()
