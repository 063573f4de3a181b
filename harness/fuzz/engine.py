"""Constraint fuzzing on a real database: generated rows against the live schema, findings not exceptions.

``fuzz`` turns each minimal falsifying example into a Finding and goes on hunting, so one call returns
every distinct problem: one per column for valid values (refused, or read back changed) and one per
constraint for rule-breaking rows (accepted, rejected with another error, or leaving rows written). It
writes through ``Store.rows()`` only, so both pytest tests and ``harness verify`` call it with any store.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.fuzz import fresh_keys, transactional
from harness.fuzz.hunt import Run, profile_settings, unsupported
from harness.fuzz.plan import plan_tables
from harness.registry import store_kind
from harness.schema.compare import Finding
from harness.schema.contract import Contract
from harness.schema.model import SchemaModel
from harness.stores.base import Rows

# How each store is searched: in rolled-back transactions, or under fresh keys deleted afterwards.
SEARCHES: dict[str, Callable[[Run], list[Finding]]] = {
    "postgres": transactional.search,
    "cassandra": fresh_keys.search,
}


def fuzz(rows: Rows, model: SchemaModel, contract: Contract | None, *, profile: str = "dev") -> list[Finding]:
    """Fuzz every table of ``model`` (the live schema ``rows`` writes to); every finding, never only the first.

    PostgreSQL: runs in a transaction (a savepoint if one is open) that is always rolled back. Cassandra:
    valid rows under fresh keys must read back identical (timestamps to the millisecond); rows missing a
    partition or clustering key column must be refused. Either way nothing is left behind.
    """
    config = profile_settings(profile)
    plans = plan_tables(model, contract)
    prefix = store_kind(model.store).prefix
    run = Run(rows, {p.name: p for p in plans}, {t.name: t for t in model.tables}, prefix, config)
    return unsupported(prefix, plans) + SEARCHES[model.store](run)
