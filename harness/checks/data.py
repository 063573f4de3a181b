"""Data through every step: rows written before each migration survive its up, and its down gives them back.

For every migration k on a fresh database: every table holds generated rows (the fuzz strategies over the live
schema and its constraints at k-1, a few per table, kept), and every row of every table is read. Rows are drawn for
a table when its shape is new or changed since its last draw, or when it is empty; rows drawn earlier stay and meet
every later migration, so each step's cost follows the tables, not the steps (drawing for every table at every step
made the check quadratic in the history, and the tables' row counts grow with it). After up
k, each row is still there with the same value in every column that still exists with the same type, except
what the migration declares it changes (``-- harness:transforms users.email``; a whole table: ``users``), whose
rows need only be readable. After down k, every row and value read before k is back exactly, unless the
migration declares its down lossy (``-- harness:lossy-down <reason>``). A migration without a usable down
(the roundtrip judges it against the policy) gets the proof after up only. Each finding names the migration,
the table, the key of the first differing row, and the column with its value before and after.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from harness import applier
from harness.checks.data_diff import first_loss
from harness.checks.target import CheckFailure, Target
from harness.errors import HarnessError, MigrationFileError
from harness.fuzz.generated import GenerationError, fill, unsupported
from harness.fuzz.plan import Row, TablePlan, plan_tables
from harness.migrations import Migration
from harness.migrations.annotations import DataAnnotations, parse_annotations
from harness.registry import store_kind
from harness.schema.model import SchemaModel
from harness.stores.base import RowError, Rows, Store

PER_TABLE = 3  # generated rows per table and step: few, since every step reads every row three times


def _quiet(_msg: str) -> None:
    pass


@dataclass
class _Run:
    store: Store
    rows: Rows
    kind: str
    migrations: list[Migration]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    told: set[str] = field(default_factory=set)  # tables already noted as not fillable
    drawn: dict[str, TablePlan] = field(default_factory=dict)  # each table's shape when rows were last drawn for it

    @property
    def prefix(self) -> str:
        return store_kind(self.kind).prefix


def check_data(target: Target, kind: str) -> list[str]:
    """Raise CheckFailure naming every migration that loses or changes data it does not declare; return notes."""
    migrations = target.migrations(kind)
    store = target.store(kind)
    run = _Run(store, store.rows(), kind, migrations)
    try:
        with store.lock(_quiet):  # once for the whole walk: each applier call inside re-enters it
            store.ensure_ledger()
            for m in migrations:
                if not _step(run, m):
                    break
    finally:
        store.close()
    if run.problems:
        raise CheckFailure(
            f"data through the {kind} migrations failed", [("findings", run.problems), ("warnings", run.notes)]
        )
    return run.notes


def declarations(m: Migration) -> DataAnnotations:
    """What the migration's header declares about its data (MigrationFileError when malformed)."""
    return parse_annotations(m.path, m.path.read_text(encoding="utf-8"), m.store)


def _step(run: _Run, m: Migration) -> bool:
    """Fill, read, up, compare, down, compare, up again. False when the run cannot go on."""
    say = f"{run.prefix} {m.filename}"
    try:
        declared = declarations(m)
    except (MigrationFileError, OSError) as exc:
        run.problems.append(f"{say}: {exc}")
        declared = DataAnnotations()
    model = run.store.snapshot()
    plans = {p.name: p for p in plan_tables(model)}
    changed = [p for name, p in plans.items() if run.drawn.get(name) != p]
    _fill(run, m, model, plans, changed)
    before = _read(run, m, model, "before it")
    fresh = {p.name for p in changed}
    empty = [plans[n] for n, rows in before.items() if not rows and n in plans and n not in fresh]
    empty = [p for p in empty if p.unsupported is None]
    if empty:  # emptied by an earlier step (a declared transform, say): drawn again, so every table holds rows
        _fill(run, m, model, plans, empty)
        before.update(_read(run, m, model, "before it", {p.name for p in empty}))
    run.problems += _unknown(say, declared, model)
    try:
        applier.up(run.store, run.migrations, _quiet, target=m.version)
    except HarnessError as exc:
        run.problems.append(f"{say}: up failed on rows the schema before it accepts: {exc}")
        return False
    _compare(run, m, "up", plans, before, run.store.snapshot(), declared)
    if not m.reversible or not any(before.values()):
        return True  # no usable down (the roundtrip judges it), or nothing was there to give back
    try:
        applier.down(run.store, run.migrations, _quiet, applier.DownTarget(steps=1))
    except HarnessError as exc:
        run.problems.append(f"{say}: down failed with rows in the tables: {exc}")
        return False
    if declared.lossy_down is None:
        _compare(run, m, "down", plans, before, run.store.snapshot(), None)
    try:
        applier.up(run.store, run.migrations, _quiet, target=m.version)
    except HarnessError as exc:  # the schema did not come back: the roundtrip reports it
        run.notes.append(f"{say}: the data check stopped here, the up after its down failed: {exc}")
        return False
    return True


def _fill(run: _Run, m: Migration, model: SchemaModel, plans: dict[str, TablePlan], wanted: list[TablePlan]) -> None:
    """Generated rows into the ``wanted`` tables the generator can fill (their parents get a row too); what it
    cannot fill is a note, once per table."""
    for name, why in unsupported(wanted).items():
        if name not in run.told:
            run.told.add(name)
            run.notes.append(f"{run.prefix} {name}: the data check writes no rows into it: {why}")
    run.drawn.update((p.name, p) for p in wanted)
    if not [p for p in wanted if p.unsupported is None]:
        return
    seed = zlib.crc32(f"{run.kind}:{m.version}".encode())
    tables = {t.name: t for t in model.tables}
    try:
        with run.rows.batch():
            fill(run.rows, list(plans.values()), tables, PER_TABLE, seed, only={p.name for p in wanted})
    except (GenerationError, RowError) as exc:
        run.notes.append(f"{run.prefix} {m.filename}: no generated rows were written before it: {exc}")


def _read(run: _Run, m: Migration, model: SchemaModel, when: str, only: set[str] | None = None) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {}
    for table in model.tables:
        if only is not None and table.name not in only:
            continue
        try:
            found[table.name] = run.rows.select(table)
        except RowError as exc:
            run.problems.append(f"{run.prefix} {m.filename}: the rows of {table.name} cannot be read {when}: {exc}")
    return found


def _unknown(say: str, declared: DataAnnotations, model: SchemaModel) -> list[str]:
    """Declarations naming nothing that exists before the migration: a typo must not pass for a declaration."""
    out = []
    for t in declared.transforms:
        table = model.table(t.table)
        if table is None or (t.column is not None and table.column(t.column) is None):
            what = "table" if table is None else "column"
            out.append(f"{say}:{t.line}: harness:transforms {t} names no {what} of the schema before it")
    return out


def _compare(
    run: _Run,
    m: Migration,
    step: str,
    plans: dict[str, TablePlan],
    before: dict[str, list[Row]],
    model: SchemaModel,
    declared: DataAnnotations | None,
) -> None:
    """One finding per table whose rows did not survive the step (a table the step dropped is not compared)."""
    for name, rows in before.items():
        after = model.table(name)
        if after is None or not rows:
            continue
        try:
            now = run.rows.select(after)
        except RowError as exc:
            run.problems.append(f"{run.prefix} {m.filename}: after {step}, the rows of {name} cannot be read: {exc}")
            continue
        if declared is not None and declared.transforms_table(name):
            continue  # declared: readable is all it must be
        plan = plans[name]
        skip = [c.name for c in plan.columns if declared is not None and declared.transforms_column(name, c.name)]
        loss = first_loss(plan, after, rows, now, skip)
        if loss is None:
            continue
        if step == "up":
            what = loss.table if loss.column is None else f"{loss.table}.{loss.column}"
            hint = f"if the up is meant to change it, declare it in the header: -- harness:transforms {what}"
        else:
            hint = "the down does not give back what was there before the up; restore it, or declare in the header: "
            hint += "-- harness:lossy-down <reason>"
        run.problems.append(f"{run.prefix} {m.filename}: after {step}, {loss.describe()}; {hint}")
