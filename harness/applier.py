"""Store-independent planning and running of migrations: status, up, down, baseline.

The applier compares the files with the ledger, refuses what is unsafe (an edited applied file, a pending migration
older than the newest applied one, a failed migration left as it was) unless told to proceed, and prints "Applied"
only after the store has recorded the migration.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from harness.errors import HarnessError
from harness.migrations import Migration
from harness.registry import store_kind
from harness.stores.base import BASELINED as BASELINE_STATUS
from harness.stores.base import FAILED as FAILED_STATUS
from harness.stores.base import AppliedMigration, Store, UnresolvedStep
from harness.versions import version_key

Say = Callable[[str], None]

APPLIED = "applied"
BASELINED = "baselined"
PENDING = "pending"
CHANGED = "changed"
MISSING = "missing"
OUT_OF_ORDER = "out-of-order"
FAILED = "failed"

DONE_STATES = (APPLIED, BASELINED, CHANGED, MISSING)


class PlanError(HarnessError):
    """The ledger and the files disagree in a way that makes going on unsafe."""


@dataclass(frozen=True)
class Entry:
    """One line of the status table: a file, a ledger row, or both."""

    version: str
    filename: str | None
    state: str
    applied_at: datetime | None = None
    detail: str = ""


@dataclass(frozen=True)
class Status:
    entries: tuple[Entry, ...]

    @property
    def pending(self) -> list[Entry]:
        return [e for e in self.entries if e.state in (PENDING, OUT_OF_ORDER, FAILED)]

    @property
    def applied(self) -> list[Entry]:
        return [e for e in self.entries if e.state in DONE_STATES]

    @property
    def failed(self) -> list[Entry]:
        return [e for e in self.entries if e.state == FAILED]

    def problems(self) -> list[Entry]:
        return [e for e in self.entries if e.state in (CHANGED, MISSING, OUT_OF_ORDER, FAILED)]


@dataclass(frozen=True)
class Options:
    """Flags that let a run proceed past a reported problem."""

    allow_changed: bool = False
    allow_missing: bool = True
    allow_out_of_order: bool = False
    retry_failed: bool = False


def failure_detail(store: str, record: AppliedMigration) -> str:
    unit = store_kind(store).progress_unit
    if record.interrupted:
        return f"interrupted at {unit} {record.done + 1}: {record.error or 'the applier stopped'}; up resumes it"
    return f"failed at {unit} {record.done + 1}: {record.error or 'unknown error'}"


def plan(migrations: Sequence[Migration], ledger: Sequence[AppliedMigration]) -> Status:
    """Pure: classify every file and ledger row."""
    by_version = {r.version: r for r in ledger}
    files = {m.version: m for m in migrations}
    done = [r for r in ledger if r.status != FAILED_STATUS]
    newest = max((version_key(r.version) for r in done), default=None)
    entries: list[Entry] = []
    for m in migrations:
        rec = by_version.get(m.version)
        if rec is None:
            late = newest is not None and version_key(m.version) < newest
            detail = "older than the newest applied migration" if late else ""
            entries.append(Entry(m.version, m.filename, OUT_OF_ORDER if late else PENDING, detail=detail))
        elif rec.status == FAILED_STATUS:
            entries.append(Entry(m.version, m.filename, FAILED, rec.applied_at, failure_detail(m.store, rec)))
        elif rec.checksum is not None and rec.checksum != m.checksum:
            entries.append(Entry(m.version, m.filename, CHANGED, rec.applied_at, "file edited after it was applied"))
        elif rec.status == BASELINE_STATUS:
            entries.append(Entry(m.version, m.filename, BASELINED, rec.applied_at, "recorded by baseline, not run"))
        else:
            entries.append(Entry(m.version, m.filename, APPLIED, rec.applied_at))
    for rec in ledger:
        if rec.version not in files:
            entries.append(Entry(rec.version, rec.filename, MISSING, rec.applied_at, "applied, but no file has it"))
    entries.sort(key=lambda e: version_key(e.version))
    return Status(tuple(entries))


def status(store: Store, migrations: Sequence[Migration]) -> Status:
    return plan(migrations, store.applied())


def _check(st: Status, options: Options, command: str) -> None:
    msgs: list[str] = []
    for e in st.entries:
        if e.state == CHANGED and not options.allow_changed:
            msgs.append(
                f"{e.filename} was edited after it was applied (checksum differs); restore it, or write a"
                " new migration for the change (--allow-changed to proceed anyway)"
            )
        if e.state == OUT_OF_ORDER and not options.allow_out_of_order and command == "up":
            msgs.append(
                f"{e.filename} is pending but older than the newest applied migration; rename it to a newer"
                " version, or pass --allow-out-of-order to apply it anyway"
            )
        if e.state == MISSING and not options.allow_missing:
            msgs.append(f"version {e.version} is applied but its file is missing")
    if msgs:
        raise PlanError("refusing to " + command + ":\n  " + "\n  ".join(msgs))


def _ms(start: float) -> str:
    return f"{(time.perf_counter() - start) * 1000:.2f}ms"


def _noop_note(m: Migration) -> str:
    if m.comment_only:
        return " (no-op: the file holds only comments)"
    return " (no-op: the up section is empty)" if m.is_noop else ""


def up(
    store: Store,
    migrations: Sequence[Migration],
    say: Say,
    options: Options = Options(),
    target: str | None = None,
    announce: Callable[[Status], None] | None = None,
) -> list[Migration]:
    """Apply every pending migration (up to ``target``) in order, under the store's lock.

    ``announce`` hears the plan before anything runs (a Job's log lists what it is about to apply)."""
    done: list[Migration] = []
    with store.lock(say):
        store.ensure_ledger()  # under the lock: concurrent first runs must not race to create it
        ledger = store.applied()
        st = plan(migrations, ledger)
        _check(st, options, "up")
        if announce is not None:
            announce(st)
        records = {r.version: r for r in ledger}
        states = {e.version: e.state for e in st.entries}
        for m in migrations:
            if target is not None and version_key(m.version) > version_key(target):
                break
            state = states[m.version]
            resume: AppliedMigration | None = None
            if state == FAILED:
                resume = records[m.version]
                _check_resumable(m, resume, options.retry_failed)
                if resume.interrupted and not options.retry_failed:
                    resume = _recover(store, m, resume, say)
            elif state not in (PENDING, OUT_OF_ORDER):
                continue
            if resume is not None:
                say(_resuming(m, resume.done))
            else:
                say(f"Applying: {m.filename}")
            start = time.perf_counter()
            store.apply(m, resume)
            say(f"Applied: {m.filename} in {_ms(start)}{_noop_note(m)}")
            done.append(m)
    return done


def _check_resumable(m: Migration, rec: AppliedMigration, retry: bool) -> None:
    unit = store_kind(m.store).progress_unit
    k = rec.done + 1
    if rec.done_hash is not None and rec.done_hash != m.progress_hash(rec.done):
        raise PlanError(
            f"{m.path}: {unit}s 1..{rec.done} already ran, but the file now changes them; restore them"
            f" as they were and edit only {unit} {k} onwards"
            if rec.done > 1
            else f"{m.path}: {unit} 1 already ran, but the file now changes it; restore it as it was and edit "
            f"only {unit} 2 onwards"
        )
    if rec.in_flight and not retry and rec.checksum is not None and rec.checksum != m.checksum:
        raise PlanError(
            f"{m.path}: {unit} {k} was running when the applier stopped, and the file has changed since, so whether"
            f" what ran took effect cannot be judged from the new text; restore the file as it was and run up again"
            f" (it works out whether {unit} {k} took effect), then make the change in a new migration"
        )
    if rec.checksum == m.checksum and not retry and not rec.interrupted:
        raise PlanError(
            f"{m.path}: migration failed at {unit} {k} ({rec.error or 'unknown error'}) and the file is unchanged;"
            f" fix {unit} {k} and run up again: it resumes at {unit} {k}{_without_repeating(unit, k)}"
            " (--retry-failed retries it as it is)"
        )


def _recover(store: Store, m: Migration, rec: AppliedMigration, say: Say) -> AppliedMigration:
    """An interrupted migration: the store reads what took effect; what it cannot read stops with two commands."""
    unit = store_kind(m.store).progress_unit
    try:
        found = store.resolve_interrupted(m, rec)
    except UnresolvedStep as exc:
        k = exc.step
        raise PlanError(
            f"{m.path}: the applier was interrupted at {unit} {k}, and whether it took effect cannot be read "
            f"from the database: {exc.reason}. Check by hand, then run one of:\n"
            f"  harness {m.store} up --retry-failed         # {unit} {k} did not take effect: run it again\n"
            f"  harness {m.store} resolve {m.version} --done   # it took effect: record it, then run up"
        ) from None
    if found.note:
        say(f"Recovering: {m.filename}: {found.note}")
    return replace(rec, done=found.done)


def _resuming(m: Migration, done: int) -> str:
    unit = store_kind(m.store).progress_unit
    if done >= m.progress_total:
        return f"Resuming: {m.filename}: every {unit} took effect, recording it as applied"
    return f"Resuming: {m.filename} at {unit} {done + 1}"


def _without_repeating(unit: str, k: int) -> str:
    if k <= 1:
        return ""
    return f" without repeating {unit} 1" if k == 2 else f" without repeating {unit}s 1..{k - 1}"


@dataclass(frozen=True)
class DownTarget:
    steps: int | None = 1
    to: str | None = None
    all: bool = False


def select_down(st: Status, target: DownTarget) -> list[str]:
    """Pure: the versions to revert, newest first."""
    applied = [e.version for e in st.entries if e.state in DONE_STATES]
    applied.sort(key=version_key, reverse=True)
    if target.all:
        return applied
    if target.to is not None:
        known = {e.version for e in st.entries}
        if target.to not in known and target.to != "0":
            raise PlanError(f"--to {target.to}: no migration has that version")
        return [v for v in applied if version_key(v) > version_key(target.to)]
    steps = 1 if target.steps is None else target.steps
    if steps < 1:
        raise PlanError("--steps must be at least 1")
    return applied[:steps]


def down(
    store: Store,
    migrations: Sequence[Migration],
    say: Say,
    target: DownTarget = DownTarget(),
    options: Options = Options(),
) -> list[Migration]:
    """Revert applied migrations newest first; refuse up front if one of them cannot be reverted.

    A migration whose down sections are all empty rolls back as a no-op (its ledger row goes), as dbmate does.
    """
    files = {m.version: m for m in migrations}
    done: list[Migration] = []
    with store.lock(say):
        store.ensure_ledger()
        st = status(store, migrations)
        _check(st, options, "down")
        versions = select_down(st, target)
        if not versions:
            if target.to is None and not target.all:  # dbmate's rollback: nothing applied is an error
                raise PlanError("can't roll back: no migration is applied")
            say("No migrations to roll back")
            return done
        blockers = []
        for v in versions:
            m = files.get(v)
            if m is None:
                blockers.append(f"version {v} is applied but its file is missing, so it has no down section")
            elif not m.has_down:
                blockers.append(f"{m.filename} is irreversible (no down section)")
        if blockers:
            raise PlanError("refusing to roll back (nothing was changed):\n  " + "\n  ".join(blockers))
        for v in versions:
            m = files[v]
            say(f"Rolling back: {m.filename}")
            start = time.perf_counter()
            store.revert(m)
            note = " (no-op: the down section is empty)" if not m.reversible else ""
            say(f"Rolled back: {m.filename} in {_ms(start)}{note}")
            done.append(m)
    return done


def baseline(
    store: Store, migrations: Sequence[Migration], say: Say, to: str, *, force: bool = False
) -> list[Migration]:
    """Record every migration up to ``to`` as applied without running it, for a database another tool migrated."""
    if not any(m.version == to for m in migrations):
        raise PlanError(f"--to {to}: no migration has that version")
    chosen = [m for m in migrations if version_key(m.version) <= version_key(to)]
    with store.lock(say):
        store.ensure_ledger()
        ledger = store.applied()
        if ledger and not force:
            raise PlanError(
                f"refusing to baseline: the ledger already has {len(ledger)} row(s) (newest {ledger[-1].version}); "
                "baseline is for a database that no ledger describes yet (--force records the missing rows anyway)"
            )
        recorded = {r.version for r in ledger}
        todo = [m for m in chosen if m.version not in recorded]
        store.baseline(todo)
        for m in todo:
            say(f"Baselined: {m.filename}")
    return todo


def resolve(store: Store, migrations: Sequence[Migration], say: Say, version: str, *, done: bool) -> AppliedMigration:
    """Settle by hand whether the step a failed or interrupted migration stopped at took effect (``done``);
    the ledger then says so and the next plain ``up`` resumes after it (or at it)."""
    files = {m.version: m for m in migrations}
    m = files.get(version)
    if m is None:
        raise PlanError(f"{version}: no migration file has that version")
    unit = store_kind(m.store).progress_unit
    with store.lock(say):
        store.ensure_ledger()
        rec = next((r for r in store.applied() if r.version == version), None)
        if rec is None or rec.status != FAILED_STATUS:
            raise PlanError(f"{m.filename} did not fail and was not interrupted: there is nothing to resolve")
        _check_resumable(m, replace(rec, interrupted=True), retry=True)
        k = rec.done + 1
        count = k if done else rec.done
        store.record_resolution(m, rec, count)
    if count >= m.progress_total:
        say(f"Resolved: {m.filename}: {unit} {k} took effect, which was the last: recorded as applied")
    else:
        verdict = "took effect" if done else "did not take effect"
        say(f"Resolved: {m.filename}: {unit} {k} {verdict}; up resumes at {unit} {count + 1}")
    return replace(rec, done=count)
