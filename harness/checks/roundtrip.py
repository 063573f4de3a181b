"""Every migration up and down: the schema after ``down`` must equal the schema before ``up``, on the whole model."""

from __future__ import annotations

from harness import applier
from harness.checks.target import CheckFailure, Target
from harness.errors import HarnessError
from harness.fuzz.samples import SeededRows
from harness.migrations import Migration
from harness.schema.contract import load_contract
from harness.schema.diff import diff_models
from harness.schema.model import SchemaModel
from harness.stores.base import Store


def _quiet(_msg: str) -> None:
    pass


def _vkey(version: str) -> int:
    return int(version) if version.isdigit() else -1


def _may_be_irreversible(m: Migration, minimum: str | None) -> bool:
    return minimum is not None and _vkey(m.version) <= _vkey(minimum)


def check_roundtrip(target: Target, kind: str) -> list[str]:
    """Raise CheckFailure naming each migration and object that does not round-trip; return notes."""
    migrations = target.migrations(kind)
    store = target.store(kind)
    prefix = "PG" if kind == "postgres" else "C"
    problems: list[str] = []
    notes: list[str] = []
    contract = load_contract(target.contract) if target.contract.is_file() else None
    try:
        store.ensure_ledger()
        empty = store.snapshot()
        rows = SeededRows(store.rows(), contract, notes, prefix)
        for m in migrations:
            stop = _step(store, migrations, m, target, prefix, problems, notes, rows)
            if stop:
                break
        else:
            _full_cycle(store, migrations, empty, target, prefix, problems)
    finally:
        store.close()
    if problems:
        raise CheckFailure(f"roundtrip of the {kind} migrations failed", [("findings", problems)])
    return notes


def _step(
    store: Store,
    migrations: list[Migration],
    m: Migration,
    target: Target,
    prefix: str,
    problems: list[str],
    notes: list[str],
    rows: SeededRows,
) -> bool:
    """Up, down, compare, up again. True when the run cannot go on."""
    before = store.snapshot()
    rows.seed(before)
    try:
        applier.up(store, migrations, _quiet, target=m.version)
    except HarnessError as exc:
        problems.append(f"{prefix} {m.filename}: up failed: {exc}")
        return True
    after_up = store.snapshot()
    if not m.reversible:
        if _may_be_irreversible(m, target.minimum_downgrade):
            notes.append(f"{prefix} {m.filename}: irreversible, allowed by the minimum downgrade")
        else:
            problems.append(
                f"{prefix} {m.filename}: irreversible (no down section); add one, or set the minimum downgrade"
                f" (--harness-minimum-downgrade {m.version}) if it may never be rolled back"
            )
        return False
    try:
        applier.down(store, migrations, _quiet, applier.DownTarget(steps=1))
    except HarnessError as exc:
        problems.append(f"{prefix} {m.filename}: down failed: {exc}")
        return True
    after = store.snapshot()
    problems.extend(f"{prefix} {m.filename}: up then down left a difference: {d}" for d in diff_models(before, after))
    untouched = {t.name for t in before.tables if after_up.table(t.name) == t}
    problems.extend(
        f"{prefix} {m.filename}: a row of an untouched table did not survive up and down: {lost}"
        for lost in rows.lost(after, untouched)
    )
    try:
        applier.up(store, migrations, _quiet, target=m.version)
    except HarnessError as exc:
        problems.append(f"{prefix} {m.filename}: up after down failed: {exc}")
        return True
    return False


def _full_cycle(
    store: Store, migrations: list[Migration], empty: SchemaModel, target: Target, prefix: str, problems: list[str]
) -> None:
    """Full down leaves only the ledger; full up again gives an identical schema."""
    if any(not m.reversible and not _may_be_irreversible(m, target.minimum_downgrade) for m in migrations):
        return  # already reported; a full down is impossible
    full = store.snapshot()
    to = target.minimum_downgrade
    try:
        applier.down(store, migrations, _quiet, applier.DownTarget(all=to is None, to=to, steps=None))
    except HarnessError as exc:
        problems.append(f"{prefix} full down failed: {exc}")
        return
    if to is None:
        problems.extend(
            f"{prefix} full down left more than the ledger: {d}" for d in diff_models(empty, store.snapshot())
        )
    try:
        applier.up(store, migrations, _quiet)
    except HarnessError as exc:
        problems.append(f"{prefix} full up after full down failed: {exc}")
        return
    problems.extend(f"{prefix} full up again differs: {d}" for d in diff_models(full, store.snapshot()))
