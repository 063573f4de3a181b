"""Generated rows that stay in the database: deterministic draws from the fuzz strategies, written parents first.

The data check and the migration runner fill tables with rows that fit the live schema (its store types, the
CHECK rules the fuzz understands, foreign keys to rows of the same draw) and keep them, so a migration meets
realistic data. A draw is deterministic: a short seeded hypothesis run of the generate phase only, whose last
example is taken (the first one hypothesis tries is its simplest, zeros and empty strings, which prove little).
Columns a sequence feeds (identity, serial) are left to the database, so later inserts never collide with a
generated key. Rows go in one by one; a row the database refuses for a reason that is not the row's type (a
unique key already taken, a CHECK the fuzz cannot read) is left out, with the rows that reference it. On a store
without uniqueness checks (Cassandra overwrites), a row whose partition already holds data is left out too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st
from hypothesis.errors import FailedHealthCheck, Unsatisfiable

from harness.errors import HarnessError
from harness.fuzz.plan import ColumnPlan, Example, Ref, Row, TablePlan, ancestors
from harness.fuzz.quiet import driver_random_ignored
from harness.fuzz.strategies import value_strategy
from harness.schema.model import Table
from harness.stores.base import RowError, Rows

T = TypeVar("T")
EXAMPLES = 5  # generated per draw; the last one is kept
# Refusals that leave a generated row out instead of failing: a key already taken, an exclusion constraint.
SKIPPED = ("23505", "23P01")
_SETTINGS = settings(
    database=None,
    deadline=None,
    max_examples=EXAMPLES,
    phases=(Phase.generate,),
    suppress_health_check=list(HealthCheck),
    verbosity=Verbosity.quiet,
    derandomize=False,
)


class GenerationError(HarnessError):
    """No rows fitting the schema could be drawn, or the database refused one for a reason about the row."""


def draw(strategy: st.SearchStrategy[T], seed: int) -> T:
    """One example of ``strategy``, the same for the same seed on every run."""
    seen: list[T] = []

    @fixed_seed(seed)
    @_SETTINGS
    @given(strategy)
    def collect(value: T) -> None:
        seen.append(value)

    try:
        with driver_random_ignored():
            collect()
    except (Unsatisfiable, FailedHealthCheck) as exc:
        raise GenerationError(f"no rows fitting the schema could be generated ({type(exc).__name__})") from None
    if not seen:
        raise GenerationError("no rows fitting the schema could be generated")
    return seen[-1]


def sequence_fed(table: Table) -> frozenset[str]:
    """Columns the database numbers itself (identity, serial): left out of generated rows."""
    return frozenset(
        c.name for c in table.columns if c.identity is not None or (c.default or "").lstrip().startswith("nextval(")
    )


def _unique_sets(plan: TablePlan, omitted: frozenset[str]) -> list[tuple[str, ...]]:
    sets = [cols for _, cols in plan.unique if not set(cols) & omitted]
    if plan.partition_key:  # one row per primary key: a second write would overwrite the first
        sets.append(plan.row_key)
    return sets


def _given(col: ColumnPlan, omitted: frozenset[str], fk_columns: frozenset[str]) -> bool:
    never = col.generated or col.identity_always or col.kind is None or col.kind.name == "counter"
    return not never and col.name not in omitted and col.name not in fk_columns


@st.composite
def _rows(
    draw_: st.DrawFn, plans: tuple[TablePlan, ...], counts: tuple[int, ...], omit: Mapping[str, frozenset[str]]
) -> Example:
    """``counts[i]`` rows of ``plans[i]``, parents first; the first row of a table may hold NULLs, the others
    hold a value wherever the column takes one (NULL in, NULL out proves little)."""
    made: dict[str, int] = {}
    out: Example = []
    for plan, wanted in zip(plans, counts, strict=True):
        omitted = omit.get(plan.name, frozenset())
        fk_cols = plan.fk_columns
        seen: list[set[tuple[object, ...]]] = [set() for _ in _unique_sets(plan, omitted)]
        rows: list[Row] = []
        for attempt in range(wanted + 3):
            if len(rows) == wanted:
                break
            row: Row = {
                c.name: draw_(value_strategy(c, allow_null=attempt == 0))
                for c in plan.columns
                if _given(c, omitted, fk_cols)
            }
            row.update((c, None) for fk in plan.null_foreign_keys for c in fk.columns)
            for fk in plan.foreign_keys:
                parent = draw_(st.integers(0, made[fk.ref_table] - 1))
                row.update((c, Ref(fk.ref_table, parent, rc)) for c, rc in zip(fk.columns, fk.ref_columns, strict=True))
            keys = [tuple(row.get(c) for c in cols) for cols in _unique_sets(plan, omitted)]
            if any(k in s for k, s in zip(keys, seen, strict=True)):
                continue
            for k, s in zip(keys, seen, strict=True):
                s.add(k)
            rows.append(row)
        if not rows:
            reject()
        made[plan.name] = len(rows)
        out += [(plan.name, r) for r in rows]
    return out


def generate(plans: Sequence[TablePlan], tables: Mapping[str, Table], wanted: Mapping[str, int], seed: int) -> Example:
    """A foreign-key-closed draw: ``wanted[t]`` rows of each table t (fewer when its unique keys run out), one
    row of each ancestor that is not wanted itself, parents first. Tables the generator cannot fill are left
    out (``TablePlan.unsupported`` says why)."""
    by_name = {p.name: p for p in plans}
    needed = {n for n in wanted if n in by_name and by_name[n].unsupported is None}
    for name in list(needed):
        needed |= set(ancestors(by_name, name))
    chosen = tuple(p for p in plans if p.name in needed)
    if not chosen:
        return []
    counts = tuple(wanted.get(p.name, 1) for p in chosen)
    omit = {p.name: sequence_fed(tables[p.name]) for p in chosen}
    return draw(_rows(chosen, counts, omit), seed)


def _resolve(row: Row, stored: Mapping[str, list[Row | None]]) -> Row | None:
    """Refs replaced by the parent's stored values; None when the parent row was left out."""
    out: Row = {}
    for column, value in row.items():
        if isinstance(value, Ref):
            parent = stored[value.table][value.index]
            if parent is None:
                return None
            value = parent[value.column]
        out[column] = value
    return out


def _taken(rows: Rows, plan: TablePlan, table: Table, row: Row) -> bool:
    """A store that overwrites instead of refusing (rows with a partition key): does the partition hold data?"""
    return bool(plan.partition_key) and rows.exists(table, {c: row[c] for c in plan.partition_key})


def write(
    rows: Rows, plans: Mapping[str, TablePlan], tables: Mapping[str, Table], example: Iterable[tuple[str, Row]]
) -> list[tuple[str, Row]]:
    """Insert a draw parents first; returns the rows as stored (values the database filled in included).

    Each row goes in on its own (a savepoint where the store has them), so one refused row leaves the others."""
    return _place(rows, plans, tables, example)[0]


def generate_for(
    rows: Rows, plans: Sequence[TablePlan], tables: Mapping[str, Table], table: str, n: int, seed: int
) -> list[Row]:
    """Up to ``n`` rows of ``table``, not written; the parent rows their foreign keys reference are written."""
    example = generate(plans, tables, {table: n}, seed)
    return _place(rows, {p.name: p for p in plans}, tables, example, hold=table)[1]


def _place(
    rows: Rows,
    plans: Mapping[str, TablePlan],
    tables: Mapping[str, Table],
    example: Iterable[tuple[str, Row]],
    hold: str | None = None,
) -> tuple[list[tuple[str, Row]], list[Row]]:
    """Write the draw's rows, except those of ``hold``, which come back resolved instead."""
    stored: dict[str, list[Row | None]] = {}
    written: list[tuple[str, Row]] = []
    held: list[Row] = []
    for name, row in example:
        plan, table = plans[name], tables[name]
        values = _resolve(row, stored)
        if name == hold:
            held += [] if values is None else [values]
            continue
        kept: Row | None = None
        if values is not None and not _taken(rows, plan, table, values):
            kept = _insert(rows, plan, table, values)
        stored.setdefault(name, []).append(kept)
        if kept is not None:
            written.append((name, kept))
    return written, held


def _insert(rows: Rows, plan: TablePlan, table: Table, values: Row) -> Row | None:
    try:
        with rows.batch():
            inserted = rows.insert(table, values)
    except RowError as exc:
        unreadable_check = exc.code == "23514" and exc.constraint in plan.unknown_checks
        if exc.trouble or not (exc.code in SKIPPED or unreadable_check):
            raise
        return None
    return {**values, **inserted}


def fill(
    rows: Rows,
    plans: Sequence[TablePlan],
    tables: Mapping[str, Table],
    per_table: int,
    seed: int,
    only: Collection[str] | None = None,
) -> list[tuple[str, Row]]:
    """``per_table`` generated rows into every table the generator supports (or those of them in ``only``; their
    parents get a row each); returns what was written."""
    wanted = {p.name: per_table for p in plans if p.unsupported is None and (only is None or p.name in only)}
    example = generate(plans, tables, wanted, seed)
    return write(rows, {p.name: p for p in plans}, tables, example)


def unsupported(plans: Iterable[TablePlan]) -> dict[str, str]:
    """Tables the generator cannot fill, with the reason."""
    return {p.name: p.unsupported for p in plans if p.unsupported is not None}
