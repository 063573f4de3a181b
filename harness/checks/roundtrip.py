"""Every migration up and down: the schema after ``down`` must equal the schema before ``up``, on the whole model.

A migration that cannot go down (no down section, or an empty one, which rolls back as a no-op) is a finding unless
the project's policy for that store allows it (`<store>_minimum_downgrade`, or `<store>_up_only`); then what can
still be proven is: each up applies, rows of tables it does not touch survive it, and replaying the whole history
on an emptied database gives the same schema. The downs that could not be checked are counted in a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import applier
from harness.checks.target import CheckFailure, Project, Target
from harness.errors import HarnessError
from harness.fuzz.samples import SeededRows
from harness.migrations import Migration
from harness.registry import store_kind
from harness.schema.diff import diff_models
from harness.schema.model import SchemaModel
from harness.stores.base import Store
from harness.versions import version_key


def _quiet(_msg: str) -> None:
    pass


@dataclass
class _Run:
    """One store's roundtrip: where findings and notes go, and the policy that judges irreversible migrations."""

    store: Store
    kind: str
    project: Project
    migrations: list[Migration]
    rows: SeededRows
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchecked: int = 0  # downs the policy let us skip

    @property
    def prefix(self) -> str:
        return store_kind(self.kind).prefix

    def allowed(self, m: Migration) -> str | None:
        """The setting that allows ``m`` to be irreversible, spelled for the user, or None."""
        if self.project.up_only.get(self.kind):
            return self.project.spell(f"{self.kind}_up_only")
        minimum = self.project.minimum_downgrade.get(self.kind)
        if minimum is not None and version_key(m.version) <= version_key(minimum):
            return self.project.spell(f"{self.kind}_minimum_downgrade")
        return None


def check_roundtrip(target: Target, kind: str) -> list[str]:
    """Raise CheckFailure naming each migration and object that does not round-trip; return notes."""
    migrations = target.migrations(kind)
    store = target.store(kind)
    try:
        with store.lock(_quiet):  # once for the whole walk: each applier call inside re-enters it
            store.ensure_ledger()
            empty = store.snapshot()
            notes: list[str] = []
            rows = SeededRows(store.rows(), target.project.contract, notes, store_kind(kind).prefix)
            run = _Run(store, kind, target.project, migrations, rows, notes=notes)
            for m in migrations:
                if _step(run, m):
                    break
            else:
                _full_cycle(run, empty)
    finally:
        store.close()
    if run.unchecked:
        run.notes.append(
            f"{run.prefix}: {run.unchecked} down section(s) not checked (irreversible, allowed by the policy); the ups,"
            " the rows of untouched tables and a replay of the whole history were checked"
        )
    if run.problems:
        raise CheckFailure(f"roundtrip of the {kind} migrations failed", [("findings", run.problems)])
    return run.notes


def _irreversible(run: _Run, m: Migration, before: SchemaModel, after_up: SchemaModel) -> None:
    """Judge a migration without a usable down by the policy; say what a no-op rollback would leave behind."""
    why = "its down section is empty: rolling back is a no-op" if m.has_down else "no down section"
    left = diff_models(before, after_up)
    leaves = f"; rolling back would leave: {'; '.join(left)}" if left and m.has_down else ""
    setting = run.allowed(m)
    if setting is not None:
        run.unchecked += 1
        return
    hint = (
        f"add a down section that undoes it, or allow it: {run.project.spell(f'{run.kind}_minimum_downgrade')} "
        f"{m.version} (it may never be rolled back), or {run.project.spell(f'{run.kind}_up_only')} true"
    )
    run.problems.append(f"{run.prefix} {m.filename}: irreversible ({why}){leaves}; {hint}")


def _step(run: _Run, m: Migration) -> bool:
    """Up, down, compare, up again. True when the run cannot go on."""
    store, prefix = run.store, run.prefix
    before = store.snapshot()
    run.rows.seed(before)
    try:
        applier.up(store, run.migrations, _quiet, target=m.version)
    except HarnessError as exc:
        run.problems.append(f"{prefix} {m.filename}: up failed: {exc}")
        return True
    after_up = store.snapshot()
    untouched = {t.name for t in before.tables if after_up.table(t.name) == t}
    if not m.reversible:
        _irreversible(run, m, before, after_up)
        run.problems.extend(
            f"{prefix} {m.filename}: a row of an untouched table did not survive its up: {lost}"
            for lost in run.rows.lost(after_up, untouched)
        )
        return False
    try:
        applier.down(store, run.migrations, _quiet, applier.DownTarget(steps=1))
    except HarnessError as exc:
        run.problems.append(f"{prefix} {m.filename}: down failed: {exc}")
        return True
    after = store.snapshot()
    run.problems.extend(
        f"{prefix} {m.filename}: up then down left a difference: {d}" for d in diff_models(before, after)
    )
    run.problems.extend(
        f"{prefix} {m.filename}: a row of an untouched table did not survive up and down: {lost}"
        for lost in run.rows.lost(after, untouched)
    )
    try:
        applier.up(store, run.migrations, _quiet, target=m.version)
    except HarnessError as exc:
        run.problems.append(f"{prefix} {m.filename}: up after down failed: {exc}")
        return True
    return False


def _full_cycle(run: _Run, empty: SchemaModel) -> None:
    """Full down leaves only the ledger, and full up again gives an identical schema. Where the policy allows
    irreversible migrations, go down as far as allowed; with none reversible, empty the database and replay."""
    store, prefix, migrations = run.store, run.prefix, run.migrations
    if any(not m.reversible and run.allowed(m) is None for m in migrations):
        return  # already reported; a full down is impossible
    full = store.snapshot()
    floor = _lowest_reachable(run)
    try:
        if floor is None:
            store.reset()
        else:
            applier.down(store, migrations, _quiet, applier.DownTarget(all=floor == "0", to=floor, steps=None))
    except HarnessError as exc:
        problem = "emptying the database for a replay" if floor is None else "full down"
        run.problems.append(f"{prefix} {problem} failed: {exc}")
        return
    if floor in (None, "0"):
        store.ensure_ledger()
        run.problems.extend(
            f"{prefix} full down left more than the ledger: {d}" for d in diff_models(empty, store.snapshot())
        )
    try:
        applier.up(store, migrations, _quiet)
    except HarnessError as exc:
        run.problems.append(f"{prefix} full up after full down failed: {exc}")
        return
    run.problems.extend(f"{prefix} full up again differs: {d}" for d in diff_models(full, store.snapshot()))


def _lowest_reachable(run: _Run) -> str | None:
    """How far down the history can go: "0" (all), the newest irreversible version, or None (not at all)."""
    irreversible = [m for m in run.migrations if not m.reversible]
    if not irreversible:
        return "0"
    newest = max(irreversible, key=lambda m: version_key(m.version))
    if newest is run.migrations[-1]:
        return None
    return newest.version
