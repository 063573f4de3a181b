"""The interface every store implements, the ledger record it returns, and rows in plain data."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.migrations import Migration
    from harness.schema.model import SchemaModel, Table

APPLIED = "applied"
FAILED = "failed"
BASELINED = "baselined"  # recorded as applied without running: the database was migrated by another tool
STOPPED = "stopped"  # stopped cleanly after ``done`` steps (no agreement, resolved by hand): a plain up resumes


@dataclass(frozen=True)
class AppliedMigration:
    """One ledger entry. ``checksum`` is None when another tool (dbmate) applied it and left no record of it.

    A failed migration keeps how far it got: ``done`` steps in the store's progress unit (PostgreSQL: up
    sections, Cassandra: up statements) and ``done_hash``, the fingerprint of those steps' text.
    ``interrupted``: the run stopped for a reason outside the file (a killed process, a lost lease, no schema
    agreement), so the next plain ``up`` resumes it after :meth:`Store.resolve_interrupted` has worked out
    whether step ``done + 1`` took effect; a failed step (``interrupted`` False) needs a fix or --retry-failed.
    ``in_flight``: step ``done + 1`` may have been running when the applier stopped (else it never started).
    """

    version: str
    checksum: str | None = None
    applied_at: datetime | None = None
    filename: str | None = None
    status: str = APPLIED
    done: int = 0
    done_hash: str | None = None
    error: str | None = None
    interrupted: bool = False
    in_flight: bool = False


@dataclass(frozen=True)
class Resolution:
    """Where an interrupted migration resumes: ``done`` steps took effect; ``note`` says how that was decided."""

    done: int
    note: str


class UnresolvedStep(HarnessError):
    """Whether an interrupted step took effect cannot be read from the database; a person must say."""

    def __init__(self, step: int, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


Notify = Callable[[str], None]


@dataclass(frozen=True)
class ResetResult:
    """What a reset emptied (schemas or keyspace tables), or that its one-shot token was already used."""

    emptied: tuple[str, ...]
    skipped: bool = False


class Store(Protocol):
    """What the applier needs from a database; connection types never appear here."""

    kind: str

    def describe(self) -> str:
        """Where the store points, without secrets, for progress lines and errors."""
        ...

    def ensure_ledger(self) -> None: ...

    def lock(self, notify: Notify) -> AbstractContextManager[None]:
        """Exclusive migration lock; ``notify`` hears why it is waiting."""
        ...

    def applied(self) -> list[AppliedMigration]: ...

    def apply(self, migration: Migration, resume: AppliedMigration | None = None) -> None:
        """Run the up section and record it; on failure leave a ledger state that ``applied`` reports truthfully."""
        ...

    def resolve_interrupted(self, migration: Migration, record: AppliedMigration) -> Resolution:
        """How many steps of an interrupted migration took effect, read from the database (called under the lock).

        Raises UnresolvedStep when the database cannot show it (a data change, a section without a transaction).
        """
        ...

    def record_resolution(self, migration: Migration, record: AppliedMigration, done: int) -> None:
        """Record by hand that ``done`` steps took effect (``harness <store> resolve``); the next up resumes."""
        ...

    def revert(self, migration: Migration) -> None: ...

    def baseline(self, migrations: Sequence[Migration]) -> None:
        """Record ``migrations`` as applied without running them (status BASELINED)."""
        ...

    def target(self) -> str:
        """What a reset is confirmed with: the database (PostgreSQL) or keyspace (Cassandra) name."""
        ...

    def reset_scope(self, scope: Sequence[str] = ()) -> str:
        """What `reset` would empty, in words, for the confirmation and the help."""
        ...

    def reset(self, scope: Sequence[str] = (), once: str | None = None, notify: Notify = ...) -> ResetResult:
        """Empty the target under the migration lock; skip when ``once`` was already recorded."""
        ...

    def snapshot(self) -> SchemaModel: ...

    def rows(self) -> Rows:
        """Writing and reading rows of the store's tables (on the store's own connection)."""
        ...

    def close(self) -> None: ...


Row = dict[str, object]


class RowError(HarnessError):
    """A store refused a row operation, in plain data, so that callers never meet a driver's exception type.

    ``code``: the PostgreSQL SQLSTATE, or the Cassandra driver error's class name. ``constraint``: the
    constraint the store names, when it does. ``message``: the store's one-line message. ``trouble``: the
    server is in trouble (connection, timeout, resources), which says nothing about the row. ``str()`` is
    the store's usual one-line form (``text``; default ``message (code)``).
    """

    def __init__(
        self, code: str, message: str, *, constraint: str | None = None, trouble: bool = False, text: str = ""
    ) -> None:
        super().__init__(text or f"{message} ({code})")
        self.code = code
        self.message = message
        self.constraint = constraint
        self.trouble = trouble


class Rows(Protocol):
    """Rows of a store's tables in plain data; every failure is a :class:`RowError`.

    Tables are ``harness.schema.model.Table`` objects (from ``Store.snapshot()``), so a store can adapt values
    to its column types. Rows are ``{column: value}`` with Python values: int, str, bool, float, Decimal,
    datetime, date, time, UUID, bytes, dict (JSON; Cassandra maps), ipaddress addresses, list and frozenset.
    A ``where`` mapping selects rows whose columns equal its values (None: IS NULL); the primary key's
    values (Cassandra: partition and clustering columns) select one row.
    """

    def batch(self) -> AbstractContextManager[None]:
        """All rows written inside are kept, or none (PostgreSQL: a transaction, or a savepoint inside one).

        Cassandra has no transactions: each row is written as it comes, and stays when a later one fails.
        """
        ...

    def trial(self) -> AbstractContextManager[None]:
        """Everything written inside is undone on exit, whatever happens (PostgreSQL: a transaction, or a
        savepoint inside one, always rolled back; the outermost one runs in UTC and checks deferrable
        constraints at each statement, so a refused row fails at its own INSERT). Stores without
        transactions (Cassandra) raise RowError: delete what you wrote instead."""
        ...

    def insert(self, table: Table, row: Mapping[str, object], *, read_back: bool = False) -> Row:
        """Write one row; return it as stored (values the database filled in included, where the store can
        say). ``read_back``: return it as a separate read finds it afterwards ({} when it is gone)."""
        ...

    def select(self, table: Table, where: Mapping[str, object] | None = None) -> list[Row]:
        """The rows matching ``where`` (every row when None), in no particular order."""
        ...

    def exists(self, table: Table, where: Mapping[str, object]) -> bool:
        """Whether any row matches ``where`` (a parent row, or data under a Cassandra partition key)."""
        ...

    def count(self, table: Table) -> int: ...

    def delete(self, table: Table, where: Mapping[str, object]) -> None:
        """Delete the rows matching ``where`` (Cassandra: a whole partition when only its key is given)."""
        ...

    def probe(self, table: Table, row: Mapping[str, object]) -> tuple[str | None, RowError] | None:
        """After ``row`` was refused: the first column whose value alone the column type refuses, with the
        error. PostgreSQL writes each value into a constraint-free copy of the table (rolled back);
        Cassandra writes each value with the row's key (``(None, error)`` when the key alone is refused)
        and deletes the partition afterwards. None: no single value is refused."""
        ...
