"""The interface every store implements, and the ledger record it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from harness.migrations import Migration
    from harness.schema.model import SchemaModel

APPLIED = "applied"
FAILED = "failed"
BASELINED = "baselined"  # recorded as applied without running: the database was migrated by another tool


@dataclass(frozen=True)
class AppliedMigration:
    """One ledger entry. ``checksum`` is None when another tool (dbmate) applied it and left no record of it.

    A failed migration keeps how far it got: ``done`` steps in the store's progress unit (PostgreSQL: up
    sections, Cassandra: up statements) and ``done_hash``, the fingerprint of those steps' text.
    """

    version: str
    checksum: str | None = None
    applied_at: datetime | None = None
    filename: str | None = None
    status: str = APPLIED
    done: int = 0
    done_hash: str | None = None
    error: str | None = None


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

    def seed(self, model: SchemaModel, rows: list[tuple[str, dict[str, object]]]) -> None:
        """Insert sample rows (parents first) into tables of ``model``."""
        ...

    def missing(self, model: SchemaModel, rows: list[tuple[str, dict[str, object]]]) -> list[str]:
        """Which of ``rows`` are gone or changed, one message each."""
        ...

    def close(self) -> None: ...
