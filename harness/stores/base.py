"""The interface every store implements, and the ledger record it returns."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from harness.migrations import Migration
    from harness.schema.model import SchemaModel

APPLIED = "applied"
FAILED = "failed"


@dataclass(frozen=True)
class AppliedMigration:
    """One ledger entry. ``checksum`` is None when another tool (dbmate) applied it and left no record of it."""

    version: str
    checksum: str | None = None
    applied_at: datetime | None = None
    filename: str | None = None
    status: str = APPLIED
    statements_done: int = 0
    done_hash: str | None = None
    error: str | None = None


Notify = Callable[[str], None]


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

    def reset(self) -> None:
        """Drop everything the migrations created, ledger included."""
        ...

    def snapshot(self) -> SchemaModel: ...

    def seed(self, model: SchemaModel, rows: list[tuple[str, dict[str, object]]]) -> None:
        """Insert sample rows (parents first) into tables of ``model``."""
        ...

    def missing(self, model: SchemaModel, rows: list[tuple[str, dict[str, object]]]) -> list[str]:
        """Which of ``rows`` are gone or changed, one message each."""
        ...

    def close(self) -> None: ...
