"""Move a project's stores from version to version and write and read rows there: tests of data migrations.

A data migration is tested the way it runs in production: rows written at the version before it, the migration,
then the rows read back. The pytest fixture ``migration_runner`` gives a runner on fresh databases of the
project's stores; outside pytest, ``harness.commands.runner`` gives one on databases you name (throwaway ones: it
migrates and writes rows).

    def test_the_backfill_fills_display_names(migration_runner):
        migration_runner.migrate_to("postgres", "20250301000000")        # the version before the backfill
        migration_runner.insert("postgres", "users", [{"name": "Ada Lovelace"}])
        migration_runner.up_one("postgres")                              # the backfill
        assert migration_runner.rows("postgres", "users")[0]["display_name"] == "Ada Lovelace"

Every failure is a :class:`RunnerError` naming the store, the version it is at and what failed (for a migration,
the applier's message: file, line and statement).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

from harness import applier
from harness.checks.data_diff import shown
from harness.checks.target import Databases, Project, Target
from harness.config import CassandraSettings, PostgresSettings
from harness.errors import HarnessError
from harness.fuzz.generated import GenerationError, generate_for
from harness.fuzz.plan import plan_tables
from harness.migrations import Migration
from harness.registry import factory
from harness.schema.model import SchemaModel, Table
from harness.stores.base import RowError, Rows, Store
from harness.versions import version_key

NOTHING = "0"  # the version of a store with no migration applied (as `down --to 0`)
Record = dict[str, Any]  # a row in plain Python values (see harness.stores.base.Rows); Any: tests index into it


class RunnerError(HarnessError):
    """A runner step failed: the message names the store, its version and the failing migration or statement."""


def _quiet(_msg: str) -> None:
    pass


class MigrationRunner:
    """One project's stores on given databases: migrate them, insert rows, generate rows, read rows.

    ``databases``: fresh databases (the fixture's, or the check registry's). ``connections``: connection settings
    per store instead (``harness.commands.runner`` builds them from the usual settings and flags).
    """

    def __init__(
        self,
        project: Project,
        databases: Databases | None = None,
        *,
        connections: Mapping[str, PostgresSettings | CassandraSettings] | None = None,
    ) -> None:
        self.project = project
        target = Target(project, databases or Databases())
        given = dict(connections or {})

        def connect(store: str) -> Store:
            if store in given:
                opened: Store = factory(store)(given[store].require(), create=True)
                return opened
            return target.store(store)

        self._connect: Callable[[str], Store] = connect
        self._stores: dict[str, Store] = {}
        self._rows: dict[str, Rows] = {}
        self._models: dict[str, SchemaModel] = {}
        self._draws: dict[str, int] = {}

    # migrations

    def migrations(self, store: str) -> list[Migration]:
        if store not in self.project.migrations:
            known = ", ".join(self.project.stores) or "none"
            raise RunnerError(f"the project has no {store} migrations (its stores: {known})")
        return list(self.project.migrations[store])

    def versions(self, store: str) -> list[str]:
        """Every version of ``store``'s migrations, oldest first."""
        return [m.version for m in self.migrations(store)]

    def current(self, store: str) -> str | None:
        """The newest applied version, None when nothing is applied."""
        try:
            status = applier.status(self._store(store), self.migrations(store))
        except HarnessError as exc:
            raise RunnerError(f"{store}: cannot read the ledger: {exc}") from exc
        applied = [e.version for e in status.applied]
        return max(applied, key=version_key) if applied else None

    def migrate_to(self, store: str, version: str) -> list[str]:
        """Apply or roll back until ``version`` is the newest applied one ("0": nothing applied); returns the
        versions applied or rolled back, in the order it ran them."""
        if version != NOTHING and version not in self.versions(store):
            shown_versions = ", ".join(self.versions(store))
            raise RunnerError(f"{store}: no migration has version {version} (versions: {shown_versions}; 0 = none)")
        now = self.current(store)
        if now == version or (now is None and version == NOTHING):
            return []
        if now is None or (version != NOTHING and version_key(version) > version_key(now)):
            return self._run(store, now, f"up to {version}", lambda s, ms: applier.up(s, ms, _quiet, target=version))
        down = applier.DownTarget(steps=None, all=version == NOTHING, to=None if version == NOTHING else version)
        return self._run(store, now, f"down to {version}", lambda s, ms: applier.down(s, ms, _quiet, down))

    def up_one(self, store: str) -> str:
        """Apply the next pending migration; returns its version."""
        now = self.current(store)
        pending = [v for v in self.versions(store) if now is None or version_key(v) > version_key(now)]
        if not pending:
            raise RunnerError(f"{store} at version {now}: no migration left to apply")
        self.migrate_to(store, pending[0])
        return pending[0]

    def down_one(self, store: str) -> str:
        """Roll back the newest applied migration; returns its version."""
        now = self.current(store)
        if now is None:
            raise RunnerError(f"{store} at version {NOTHING}: no migration is applied, nothing to roll back")
        self._run(store, now, "down one", lambda s, ms: applier.down(s, ms, _quiet, applier.DownTarget(steps=1)))
        return now

    def _run(
        self, store: str, now: str | None, what: str, step: Callable[[Store, list[Migration]], list[Migration]]
    ) -> list[str]:
        opened = self._store(store)
        self._models.pop(store, None)
        try:
            return [m.version for m in step(opened, self.migrations(store))]
        except HarnessError as exc:
            raise RunnerError(f"{store} at version {now or NOTHING}: {what} failed: {exc}") from exc

    # rows

    def schema(self, store: str) -> SchemaModel:
        """The live schema of ``store`` at its current version."""
        if store not in self._models:
            self._models[store] = self._store(store).snapshot()
        return self._models[store]

    def insert(self, store: str, table: str, rows: Sequence[Mapping[str, object]]) -> list[Record]:
        """Write ``rows`` (all or none where the store has transactions); returns them as stored, with the values
        the database filled in (an identity, a default)."""
        found = self._table(store, table)
        writer = self._rows_of(store)
        stored: list[Record] = []
        try:
            with writer.batch():
                for row in rows:
                    stored.append({**row, **writer.insert(found, row)})
        except RowError as exc:
            row = rows[len(stored)]
            raise RunnerError(
                f"{self._where(store)}: INSERT INTO {table} ({', '.join(row)}) failed for row {len(stored) + 1} "
                f"{shown(dict(row), 160)}: {exc}"
            ) from exc
        return stored

    def generate(self, store: str, table: str, n: int = 3) -> list[Record]:
        """Up to ``n`` rows that fit ``table`` as it is now (its types, the CHECK rules the fuzz understands),
        not written. Rows of parent tables their foreign keys need are generated and written. The same calls
        give the same rows on every run."""
        model = self.schema(store)
        found = self._table(store, table)
        plans = plan_tables(model)
        plan = next(p for p in plans if p.name == found.name)
        if plan.unsupported:
            raise RunnerError(f"{self._where(store)}: cannot generate rows of {table}: {plan.unsupported}")
        count = self._draws.get(store, 0)
        self._draws[store] = count + 1
        seed = zlib.crc32(f"{store}:{table}:{self.current(store)}:{count}".encode())
        tables = {t.name: t for t in model.tables}
        try:
            return generate_for(self._rows_of(store), plans, tables, table, n, seed)
        except (GenerationError, RowError) as exc:
            raise RunnerError(f"{self._where(store)}: generating rows of {table} failed: {exc}") from exc

    def rows(self, store: str, table: str, where: Mapping[str, object] | None = None) -> list[Record]:
        """The rows of ``table`` (those whose columns equal ``where``'s values; None: IS NULL), in no order."""
        found = self._table(store, table)
        try:
            return self._rows_of(store).select(found, where)
        except RowError as exc:
            raise RunnerError(f"{self._where(store)}: SELECT FROM {table} failed: {exc}") from exc

    # plumbing

    def _where(self, store: str) -> str:
        return f"{store} at version {self.current(store) or NOTHING}"

    def _table(self, store: str, name: str) -> Table:
        found = self.schema(store).table(name)
        if found is None:
            tables = ", ".join(self.schema(store).table_names) or "none"
            raise RunnerError(f"{self._where(store)}: no table {name} (tables: {tables})")
        return found

    def _store(self, store: str) -> Store:
        if store not in self._stores:
            self.migrations(store)  # a store the project does not have is an error before any connection
            try:
                opened = self._connect(store)
                opened.ensure_ledger()
            except HarnessError as exc:
                raise RunnerError(f"{store}: cannot open the database: {exc}") from exc
            self._stores[store] = opened
        return self._stores[store]

    def _rows_of(self, store: str) -> Rows:
        if store not in self._rows:
            self._rows[store] = self._store(store).rows()
        return self._rows[store]

    def close(self) -> None:
        """Close every connection (the databases stay; the fixture drops its own)."""
        stores, self._stores, self._rows = self._stores, {}, {}
        for opened in stores.values():
            opened.close()

    def __enter__(self) -> MigrationRunner:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
