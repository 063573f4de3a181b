"""Deterministic sample rows, and the seeded rows the roundtrip check proves survive every migration step.

A sample row gives every insertable column a simple valid value (a CHECK vocabulary's first word, a
small number, ``"sample"``), the same on every run; only a column no simple candidate fits falls back to
a derandomized hypothesis search (imported then, so this module imports without the test extras).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

from harness.fuzz.checkexpr import coerce, satisfies, vocabulary
from harness.fuzz.compare import first_difference, show
from harness.fuzz.kinds import MAX_STRING, Kind
from harness.fuzz.plan import ColumnPlan, Row, TablePlan, plan_tables
from harness.schema.contract import Contract
from harness.schema.model import SchemaModel
from harness.stores.base import RowError, Rows

_CANDIDATES: dict[str, tuple[object, ...]] = {
    "int": (1, 7, 0, -1),
    "text": ("sample", "s", "a", "0", ""),
    "decimal": (Decimal("12.34"), Decimal("1"), Decimal("0")),
    "float": (1.5, 0.0),
    "bool": (True, False),
    "uuid": (UUID("6f1c2c1e-2b9a-4d3e-8f4a-1b2c3d4e5f60"), UUID("00000000-0000-0000-0000-000000000001")),
    "timestamp": (datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=UTC),),
    "date": (date(2001, 2, 3),),
    "time": (time(4, 5, 6),),
    "bytes": (b"sample",),
    "json": ({"sample": 1},),
    "inet": (),
}


def _fits(kind: Kind, value: object) -> bool:
    if kind.name == "int":
        return (
            isinstance(value, int) and (kind.lo is None or kind.lo <= value) and (kind.hi is None or value <= kind.hi)
        )
    if kind.name == "text":
        return isinstance(value, str) and len(value) <= (kind.max_length or MAX_STRING)
    if kind.name == "decimal" and kind.precision is not None and isinstance(value, Decimal):
        return value == value.quantize(Decimal(1).scaleb(-(kind.scale or 0))) and abs(value) < 10 ** (
            kind.precision - (kind.scale or 0)
        )
    if kind.name == "uuid" and kind.timeuuid:
        return isinstance(value, UUID) and value.version == 1
    return True


def sample_value(col: ColumnPlan) -> object:
    """One deterministic valid non-null value of a column (vocabulary first, then simple candidates)."""
    domain = col.kind if col.kind is not None and col.kind.name == "enum" else col.domain
    kind = col.kind
    if domain is None or kind is None:
        raise ValueError(f"column {col.name} has no supported type ({col.store_type})")
    vocab = vocabulary(col.rules, col.name)
    candidates: list[object] = []
    if vocab:
        candidates = [coerce(domain, v) for v in vocab]
    elif domain.name == "enum":
        candidates = list(domain.labels)
    else:
        candidates = list(_CANDIDATES.get(domain.name, ()))
        if domain.name == "timestamp" and not (col.kind and col.kind.tz):
            candidates = [datetime(2001, 2, 3, 4, 5, 6, 789000)]
    for value in candidates:
        if _fits(kind, value) and _fits(domain, value) and all(satisfies(r, kind, value) for r in col.rules):
            if col.key == "partition_key" and value in ("", b""):
                continue
            return value
    from hypothesis import HealthCheck, find, settings

    from harness.fuzz.quiet import driver_random_ignored
    from harness.fuzz.strategies import value_strategy

    quiet = settings(database=None, derandomize=True, max_examples=500,
                     suppress_health_check=list(HealthCheck))  # fmt: skip
    with driver_random_ignored():
        return find(value_strategy(col, allow_null=False), lambda _: True, settings=quiet)


def sample_rows(model: SchemaModel, contract: Contract | None = None) -> list[tuple[str, Row]]:
    """One deterministic valid row per table, parents first, every insertable column given a value.

    Foreign keys take the parent's sample values. Rows of tables that cannot be generated are left out.
    PostgreSQL: GENERATED ALWAYS identity columns carry a value too, so insert with OVERRIDING SYSTEM
    VALUE (``Rows.insert`` does).
    """
    out: list[tuple[str, Row]] = []
    made: dict[str, Row] = {}
    for plan in plan_tables(model, contract):
        if plan.unsupported:
            continue
        row: Row = {}
        for col in plan.columns:
            if col.generated or col.kind is None or col.kind.name == "counter":
                continue
            row[col.name] = None if col.name in plan.fk_columns else sample_value(col)
        for fk in plan.foreign_keys:
            parent = made[fk.ref_table]
            row.update((c, parent[rc]) for c, rc in zip(fk.columns, fk.ref_columns, strict=True))
        for fk in plan.null_foreign_keys:
            row.update((c, None) for c in fk.columns)
        made[plan.name] = row
        out.append((plan.name, row))
    return out


def _lookup(plan: TablePlan, row: Row) -> Row:
    """What finds a seeded row again: its key's values, or the whole row when the table has no usable key."""
    key = plan.row_key
    if key and all(c in row for c in key):
        return {c: row[c] for c in key}
    return dict(row)


class SeededRows:
    """Sample rows seeded into every table as it appears, so each step can prove untouched tables keep theirs.

    ``notes`` collects why a table could not be seeded (the schema checks still run); ``prefix`` starts
    every message ("PG", "C").
    """

    def __init__(self, rows: Rows, contract: Contract | None, notes: list[str], prefix: str) -> None:
        self.rows, self.contract, self.notes, self.prefix = rows, contract, notes, prefix
        self.seeded: list[tuple[str, Row]] = []
        self.tried: set[str] = set()

    def seed(self, model: SchemaModel) -> None:
        """Write a sample row into each table of ``model`` not tried before (all or none, where the store can)."""
        new = {t for t in model.table_names if t not in self.tried}
        if not new:
            return
        self.tried |= new
        try:
            rows = [(t, r) for t, r in sample_rows(model, self.contract) if t in new]
            with self.rows.batch():
                for name, row in rows:
                    table = model.table(name)
                    assert table is not None
                    self.rows.insert(table, row)
        except Exception as exc:  # a table the generator cannot fill: the schema check still runs, say so
            self.notes.append(f"{self.prefix} could not seed sample rows into {', '.join(sorted(new))}: {exc}")
            return
        self.seeded += rows

    def lost(self, model: SchemaModel, untouched: set[str]) -> list[str]:
        """One message per seeded row of the ``untouched`` tables that is gone or changed (read by its key)."""
        seeded = [(t, r) for t, r in self.seeded if t in untouched]
        if not seeded:
            return []
        plans = {p.name: p for p in plan_tables(model, self.contract)}
        missing: list[str] = []
        for name, row in seeded:
            table, plan = model.table(name), plans.get(name)
            if table is None or plan is None:
                missing.append(f"{self.prefix} {name}: table is gone")
                continue
            try:
                found = self.rows.select(table, _lookup(plan, row))
            except RowError as exc:
                missing.append(f"{self.prefix} {name}: row {show(row, 120)} cannot be read back: {exc}")
                continue
            if not any(first_difference(plan, row, stored) is None for stored in found):
                missing.append(f"{self.prefix} {name}: row {show(row, 120)} is gone or changed")
        return missing
