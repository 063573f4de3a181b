"""Rows before a migration step against the rows after it: the first row that is gone or holds another value.

Pure: rows in plain data, the table's plan before the step (its kinds compare values at the store's precision) and
the table after it. A column is compared when it still exists with the same type and the migration does not
declare it changed. Rows are matched by their key (primary key; Cassandra: partition and clustering columns) when
every key column is compared, else by all compared columns at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from uuid import UUID

from harness.fuzz.compare import MILLIS, same
from harness.fuzz.plan import ColumnPlan, Row, TablePlan
from harness.schema.model import Table

_MISSING = object()  # a column the row read back does not have


@dataclass(frozen=True)
class Loss:
    """The first difference in one table: a row that is gone (``column`` None) or a value that changed."""

    table: str
    row: str  # the row's key (or the whole row, for a table without a usable key), shown
    column: str | None = None
    before: object = None
    after: object = None

    def describe(self) -> str:
        if self.column is None:
            return f"{self.table} row ({self.row}) is gone"
        return f"{self.table} row ({self.row}): {self.column} was {shown(self.before)}, now {shown(self.after)}"


def compared(plan: TablePlan, after: Table, skip: Collection[str] = ()) -> list[ColumnPlan]:
    """The columns of ``plan`` that still exist in ``after`` with the same type, minus ``skip``."""
    out: list[ColumnPlan] = []
    for col in plan.columns:
        now = after.column(col.name)
        if col.name not in skip and now is not None and now.type == col.store_type:
            out.append(col)
    return out


def shown(value: object, limit: int = 40) -> str:
    """A value in a finding: UUIDs and times as written in SQL, else its repr, cut after ``limit`` characters
    (a long string says its length)."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… (length {len(value)})"
    if isinstance(value, UUID | date | time):
        return value.isoformat() if isinstance(value, date | time) else str(value)
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _shown(row: Mapping[str, object], columns: Sequence[str]) -> str:
    return ", ".join(f"{c}={shown(row.get(c))}" for c in columns)


def _order(row: Row, key: Sequence[str]) -> str:
    return repr([row.get(c) for c in key] if key else sorted(row.items(), key=lambda kv: kv[0]))


def first_loss(
    plan: TablePlan,
    after: Table,
    before_rows: Sequence[Row],
    after_rows: Sequence[Row],
    skip: Collection[str] = (),
) -> Loss | None:
    """The first row of ``before_rows`` (in key order) that ``after_rows`` does not hold unchanged."""
    millis = MILLIS[plan.store]
    columns = compared(plan, after, skip)
    names = {c.name for c in columns}
    key = plan.row_key if plan.row_key and set(plan.row_key) <= names else ()
    key_cols = [c for c in columns if c.name in key]

    def equal(cols: Sequence[ColumnPlan], a: Row, b: Row) -> bool:
        return all(same(c.kind, a.get(c.name), b.get(c.name, _MISSING), millis=millis) for c in cols)

    unused = list(after_rows)
    for row in sorted(before_rows, key=lambda r: _order(r, key)):
        match = next((r for r in unused if equal(key_cols if key else columns, row, r)), None)
        if match is None:
            return Loss(plan.name, _shown(row, key) if key else _shown(row, [c.name for c in columns]))
        unused.remove(match)
        for col in columns:
            if not equal([col], row, match):
                return Loss(plan.name, _shown(row, key), col.name, row.get(col.name), match.get(col.name))
    return None
