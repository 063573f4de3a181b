"""Cassandra store: a versioned ledger with per-statement progress, a lease lock, and schema agreement checks.

Cassandra has no transactional DDL, so a migration can stop halfway. The ledger therefore records how many
statements of a migration ran; ``up`` refuses to go past a failed migration and, once its file is fixed, resumes at
the failed statement without repeating the ones that already took effect. A run that was interrupted (killed, lease
lost, no schema agreement) is resumed by a plain ``up``: see :mod:`harness.stores.cassandra.recovery`. Ledger
writes use the server's clock (no client-side timestamps), so a host with a fast clock cannot make a later write
lose.

Consistency. Ledger and lock reads and writes run at QUORUM, and the lock's lightweight transactions at SERIAL:
a quorum of all the keyspace's replicas, whatever datacenter each applier calls local. LOCAL_QUORUM and
LOCAL_SERIAL would be cheaper across datacenters, but two appliers with different local datacenters (a Job in each
region, a laptop) would then each win the lock's Paxos round in their own datacenter and both apply, and a ledger
row written at LOCAL_QUORUM in one datacenter may not yet be readable in the other, so the second applier would
repeat a migration. The price: with a whole datacenter (or a majority of replicas) down, ``up`` stops with a clear
error instead of migrating, which is also when schema changes would not reach every node.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.errors import StoreError
from harness.migrations import Migration
from harness.servers.base import CassandraServer
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
from harness.stores.cassandra.agreement import Agreement, AgreementError, down_note
from harness.stores.cassandra.conn import connect, connect_error, endpoint
from harness.stores.cassandra.errors import (
    OutcomeUnknown,
    error_text,
    outcome_unknown,
    quorum_hint,
    took_effect,
    uncertain,
)
from harness.stores.cassandra.keyspace import Replication, empty_keyspace, quote
from harness.stores.cassandra.lease import LOCK_NAME, LOCK_TABLE, Lease, UncertainWrite

if TYPE_CHECKING:
    from harness.config import CassandraSettings
    from harness.cql import Statement
    from harness.schema.model import SchemaModel
    from harness.stores.cassandra.rows import CassandraRows

__all__ = ["LEDGER", "LOCK_NAME", "LOCK_TABLE", "CassandraStore", "Replication", "open_cassandra"]

LEDGER = "schema_migrations"
RESETS = "schema_migrations_resets"
RUNNING = "running"
LEDGER_PAGE = 1000  # ledger rows per page: a long history is read page by page, never in one response


def _quiet(_message: str) -> None:
    """Default progress sink."""


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
        read_only: bool = False,
        agreement_timeout: float = 30.0,
        ledger_page: int = LEDGER_PAGE,
        durable_writes: bool = True,
    ) -> None:
        self.server = server
        self.keyspace = keyspace
        self.qks = quote(keyspace)
        self.replication = replication or Replication()
        self.durable_writes = durable_writes
        self.read_only = read_only
        self.use_lock = lock and not read_only  # the lease is a write
        self.create_keyspace = create_keyspace and not read_only
        self.lease = Lease(
            self._exec_timeout, f"{self.qks}.{LOCK_TABLE}", ttl=lock_ttl, timeout=lock_timeout, describe=self.describe()
        )
        self._locked = 0
        self._lock_table_ready = False  # the keyspace and the lock table exist and every node knows them
        self.ledger_page = ledger_page
        try:
            self.cluster, self.session = connect(server, timeout=5.0, agreement_wait=0)
        except Exception as exc:
            raise StoreError(f"cannot connect to {self.describe()}: {connect_error(exc, server)}") from None
        self.session.use_client_timestamp = False  # ledger and lease writes take the server's time
        self.agreement = Agreement(self.cluster, self.session, agreement_timeout)

    def describe(self) -> str:
        hosts = ",".join(self.server.contact_points)
        return f"cassandra {hosts}:{self.server.port}/{self.keyspace}"

    def target(self) -> str:
        return self.keyspace

    def _exec(self, cql: str, params: Any = None) -> Any:
        return self._exec_timeout(cql, params, None)

    def _exec_timeout(self, cql: str, params: Any, timeout: float | None, *, serial: bool = False) -> Any:
        """A ledger, lock or schema query; a driver error becomes one StoreError line saying what to check (an
        UncertainWrite for a lightweight transaction whose outcome is unknown)."""
        try:
            return self._send(cql, params, timeout, serial=serial)
        except StoreError:
            raise
        except Exception as exc:
            text = f"{self.describe()}: {error_text(exc)} (in `{' '.join(cql.split())[:60]}`)"
            if uncertain(exc):
                raise UncertainWrite(text) from None
            raise StoreError(f"{text}{quorum_hint(exc)}") from None

    def _send(self, cql: str, params: Any, timeout: float | None, *, serial: bool = False) -> Any:
        """QUORUM, and SERIAL for the lease's conditions (see the module's "Consistency"). Schema statements ignore
        the consistency level. Driver errors pass through (a migration statement's error names its file)."""
        from cassandra import ConsistencyLevel
        from cassandra.query import SimpleStatement

        if self.read_only and not cql.lstrip().upper().startswith("SELECT"):
            raise StoreError(f"{self.describe()}: opened read-only, refusing `{' '.join(cql.split())[:80]}`")
        statement = SimpleStatement(
            cql,
            consistency_level=ConsistencyLevel.SERIAL if serial else ConsistencyLevel.QUORUM,
            serial_consistency_level=ConsistencyLevel.SERIAL,
            fetch_size=self.ledger_page,
        )
        if timeout is None:
            return self.session.execute(statement, params)
        return self.session.execute(statement, params, timeout=timeout)

    def keyspace_exists(self) -> bool:
        row = self._exec(
            "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = %s", (self.keyspace,)
        ).one()
        return row is not None

    def _ensure_lock_table(self) -> None:
        """The keyspace and the lock table must exist before anyone can lock; both creations are idempotent.

        Appliers starting together all create them, through different nodes. Two nodes creating "the same" table
        at once give it two different ids, and until the schema converges writes fail with INCOMPATIBLE_SCHEMA; so
        the lock table's id is derived from the keyspace's name: every creator makes the identical table. A keyspace
        found to exist may have been created a moment ago through another node: every node must know it before the
        table is created through any of them.
        """
        if self._lock_table_ready:
            return
        if not self.keyspace_exists():
            if not self.create_keyspace:
                raise StoreError(f"keyspace {self.keyspace} does not exist on {self.describe()}")
            durable = "" if self.durable_writes else " AND durable_writes = false"
            self._ddl(f"CREATE KEYSPACE IF NOT EXISTS {self.qks} WITH replication = {self.replication.cql()}{durable}")
        else:
            self.agreement.await_agreement(self.describe(), f"finding keyspace {self.keyspace}")
        table_id = uuid.uuid5(uuid.NAMESPACE_URL, f"harness:cassandra:{self.keyspace}.{LOCK_TABLE}")
        self._ddl(
            f"CREATE TABLE IF NOT EXISTS {self.qks}.{LOCK_TABLE} (name text PRIMARY KEY, owner text,"
            f" acquired_at timestamp) WITH ID = {table_id}"
        )
        self._lock_table_ready = True

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
        """After a schema change, every node of the run must report the same schema version before the next
        statement (see agreement.py). The driver marks a schema change's result as not agreed (it does not wait
        itself: its view of which nodes are up lags), other results as agreed."""
        future = getattr(result, "response_future", None)
        if future is None or getattr(future, "is_schema_agreed", True) is not False:
            return
        self.agreement.await_agreement(self.describe(), what)

    def _ledger_exists(self) -> bool:
        row = self._exec(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s AND table_name = %s",
            (self.keyspace, LEDGER),
        ).one()
        return row is not None

    def applied(self) -> list[AppliedMigration]:
        if not self.keyspace_exists() or not self._ledger_exists():
            return []
        statement = f"SELECT version, filename, checksum, applied_at, status, statements_done, done_hash, error FROM {self.qks}.{LEDGER}"  # noqa: E501
        out = []
        for r in self._exec(statement):  # page by page (ledger_page rows each)
            status, done = r.status or APPLIED, r.statements_done or 0
            interrupted = status in (RUNNING, STOPPED)
            out.append(
                AppliedMigration(
                    version=r.version,
                    checksum=r.checksum,
                    applied_at=r.applied_at,
                    filename=r.filename,
                    status=FAILED if interrupted else status,
                    done=done,
                    done_hash=r.done_hash,
                    error="the applier stopped while it ran" if status == RUNNING else r.error,
                    interrupted=interrupted,
                    in_flight=status == RUNNING,
                )
            )
        return out

    # -- lease lock -------------------------------------------------------------------------------------

    @contextmanager
    def lock(self, notify: Notify) -> Iterator[None]:
        if not self.use_lock or self._locked:
            self._locked += 1
            try:
                yield
            finally:
                self._locked -= 1
            return
        self._ensure_lock_table()
        self.agreement.members()  # which nodes this run waits for; say which do not answer
        if self.agreement.down:
            notify(down_note(self.agreement.down))
        # Another applier may have created the keyspace or the lock table a moment ago through another node: every
        # node must know them before the lock's first write, which could otherwise reach one that does not.
        self.agreement.await_agreement(self.describe(), f"creating {LOCK_TABLE}")
        with self.lease.hold(notify):
            self._locked = 1
            try:
                yield
            finally:
                self._locked = 0

    def _check_lock(self, before: str) -> None:
        if self.use_lock:
            self.lease.check(before)

    # -- migrations -------------------------------------------------------------------------------------

    def _record(self, migration: Migration, status: str, done: int, error: str | None = None) -> None:
        self._check_lock(f"recording {migration.filename}")
        try:
            self._exec(
                f"UPDATE {self.qks}.{LEDGER} SET filename = %s, checksum = %s, applied_at = toTimestamp(now()),"
                " status = %s, statements_done = %s, statements_total = %s, done_hash = %s, error = %s"
                " WHERE version = %s",
                (
                    migration.filename,
                    migration.checksum,
                    status,
                    done,
                    len(migration.up_statements),
                    migration.statements_hash(done),
                    error,
                    migration.version,
                ),
            )
        except StoreError as exc:
            # The cluster stalled during the write (the lease's renewals with it): a lease that ran out meanwhile is
            # the report, as before any other write, and the write's own error its detail.
            self._check_lock(f"recording {migration.filename} was done (the write failed: {exc})")
            raise

    def _run(self, migration: Migration, stmt: Statement, k: int, what: str) -> None:
        self._check_lock(f"{what} statement {k} of {migration.filename}")
        try:
            result = self._send(stmt.text, None, None)
        except Exception as exc:
            text = f"{migration.path}:{stmt.line}: {what} statement {k} failed: {error_text(exc)}"
            raise (OutcomeUnknown(text) if outcome_unknown(exc) else StoreError(text)) from None
        self._check_agreement(result, stmt.text)

    def apply(self, migration: Migration, resume: AppliedMigration | None = None) -> None:
        start = resume.done if resume else 0
        statements = migration.up_statements
        self._record(migration, RUNNING, start)
        for k, stmt in enumerate(statements[start:], start + 1):
            try:
                self._run(migration, stmt, k, "up")
            except AgreementError as exc:
                self._stopped(migration, k, exc)
            except OutcomeUnknown as exc:  # the ledger still says "running": the next up reads what took effect
                raise StoreError(
                    f"{exc} (statement {k} may or may not have taken effect; it stays recorded as running, so the next"
                    f" up works out from the schema whether it did, or names the commands that settle it)"
                ) from None
            except StoreError as exc:
                try:
                    self._record(migration, FAILED, k - 1, str(exc))
                except Exception:
                    raise StoreError(
                        f"{exc}; recording the failure also failed, so the ledger says statement {k} was running"
                    ) from None
                raise StoreError(
                    f"{exc} ({took_effect(k)}; fix statement {k} and run up again to resume there)"
                ) from None
            if k < len(statements):
                self._record(migration, RUNNING, k)
        self._record(migration, APPLIED, len(statements))

    def _stopped(self, migration: Migration, k: int, exc: AgreementError) -> None:
        """Statement k took effect but the nodes did not agree: record exactly that, so up resumes at k + 1."""
        try:
            self._record(migration, STOPPED, k, str(exc))
        except Exception as also:
            raise StoreError(f"{exc}; recording it also failed ({error_text(also)})") from None
        raise StoreError(
            f"{exc} (statement {k} took effect and is recorded; once every node answers, run up again: it "
            f"resumes at statement {k + 1})"
            if k < len(migration.up_statements)
            else f"{exc} (every statement took effect and is recorded; once every node answers, run up again to "
            "record the migration as applied)"
        ) from None

    def resolve_interrupted(self, migration: Migration, record: AppliedMigration) -> Resolution:
        from harness.stores.cassandra.recovery import resolve

        return resolve(self, migration, record)

    def record_resolution(self, migration: Migration, record: AppliedMigration, done: int) -> None:
        if done >= len(migration.up_statements):
            self._record(migration, APPLIED, len(migration.up_statements))
        else:
            self._record(migration, STOPPED, done, f"statement {done} recorded as done by hand (harness resolve)")

    def await_agreement(self, why: str) -> None:
        self.agreement.await_agreement(self.describe(), why)

    def revert(self, migration: Migration) -> None:
        """Down sections in reverse order; the ledger row goes once every statement ran."""
        statements = [s for down in reversed(migration.downs) if down is not None for s in down.statements]
        for k, stmt in enumerate(statements, 1):
            try:
                self._run(migration, stmt, k, "down")
            except AgreementError as exc:
                done = f"down statement{'s 1..' if k > 1 else ' '}{k} took effect but not every node has it yet"
                raise StoreError(f"{exc} ({done}; the migration is still recorded as applied)") from None
            except StoreError as exc:
                done = "no down statement took effect" if k == 1 else f"down statements 1..{k - 1} took effect"
                if isinstance(exc, OutcomeUnknown):
                    done += f", and down statement {k} may have"
                raise StoreError(f"{exc} ({done}; the migration is still recorded as applied)") from None
        self._check_lock(f"removing {migration.filename} from the ledger")
        self._exec(f"DELETE FROM {self.qks}.{LEDGER} WHERE version = %s", (migration.version,))

    def baseline(self, migrations: Sequence[Migration]) -> None:
        for m in migrations:
            self._record(m, BASELINED, len(m.up_statements))

    # -- whole keyspace ---------------------------------------------------------------------------------

    def reset_scope(self, scope: Sequence[str] = ()) -> str:
        return f"every table, view, index, type and function of keyspace {self.keyspace} (the ledger included)"

    def reset(self, scope: Sequence[str] = (), once: str | None = None, notify: Notify = _quiet) -> ResetResult:
        """Empty the keyspace under the lease (the lock table stays, so the lock holds throughout)."""
        if not self.keyspace_exists():
            return ResetResult((), skipped=False)
        with self.lock(notify):
            table = f"{self.qks}.{RESETS}"
            if once and self._reset_recorded(once):
                return ResetResult((), skipped=True)
            dropped = empty_keyspace(self._exec, self._check_agreement, self.keyspace, keep=(LOCK_TABLE,))
            if once:
                self._ddl(f"CREATE TABLE IF NOT EXISTS {table} (reset_token text PRIMARY KEY, reset_at timestamp)")
                self._exec(f"INSERT INTO {table} (reset_token, reset_at) VALUES (%s, toTimestamp(now()))", (once,))
            return ResetResult(tuple(dropped))

    def _reset_recorded(self, token: str) -> bool:
        exists = self._exec(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s AND table_name = %s",
            (self.keyspace, RESETS),
        ).one()
        if exists is None:
            return False
        return (
            self._exec(f"SELECT reset_token FROM {self.qks}.{RESETS} WHERE reset_token = %s", (token,)).one()
            is not None
        )

    def snapshot(self) -> SchemaModel:
        from harness.stores.cassandra.introspect import introspect_cassandra

        return introspect_cassandra(self.session, self.keyspace, exclude_tables=(LEDGER, LOCK_TABLE, RESETS))

    def rows(self) -> CassandraRows:
        from harness.stores.cassandra.rows import CassandraRows

        return CassandraRows(self.session, self.keyspace)

    def close(self) -> None:
        self.cluster.shutdown()


def open_cassandra(
    settings: CassandraSettings, *, create: bool = False, notify: Notify = _quiet, read_only: bool = False
) -> CassandraStore:
    """The registry's factory: a live store from settings (the keyspace is created when missing). ``read_only``:
    no lease, no keyspace or ledger creation, and every statement but a SELECT refused (``harness drift``)."""
    return CassandraStore(
        endpoint(settings),
        settings.keyspace,
        replication=Replication.parse(settings.replication),
        lock=settings.lock,
        lock_ttl=settings.lock_ttl,
        lock_timeout=settings.lock_timeout,
        read_only=read_only,
        agreement_timeout=settings.agreement_timeout,
        durable_writes=settings.durable_writes,
    )
