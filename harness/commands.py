"""The public Python API: one function per command, as alembic's ``command`` module is.

The CLI is argument parsing plus one call here per command; the Helm Jobs run the CLI; the pytest fixtures call
these functions too. Each takes a :class:`Target` (settings, the store, its connection) and a ``say`` callable
for progress lines, and raises a HarnessError subclass on failure, never exits.

    from harness import commands
    from harness.config import load_settings

    target = commands.target(load_settings(), "postgres", url="postgresql://app@127.0.0.1/app")
    commands.up(target)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import __version__, applier
from harness.config import CassandraSettings, PostgresSettings, Settings
from harness.errors import ConfigError, StoreError
from harness.migrations import Migration, discover, new_migration
from harness.registry import admin, factory
from harness.stores.base import ResetResult, Store

if TYPE_CHECKING:
    from harness.runner import MigrationRunner

Say = Callable[[str], None]


def _print(message: str) -> None:
    print(message, flush=True)


@dataclass(frozen=True)
class Target:
    """One store of a project: where its migrations are and how to reach its database."""

    settings: Settings
    store: str
    connection: PostgresSettings | CassandraSettings

    @property
    def migrations_dir(self) -> Path:
        return self.settings.require_dir(self.store)

    def migrations(self) -> list[Migration]:
        return discover(
            self.migrations_dir,
            self.store,
            max_bytes=int(self.settings["max_file_size"]),
            setting=self.settings.spell(f"{self.store}_migrations"),
            size_setting=self.settings.spell("max_file_size"),
        )


def target(settings: Settings, store: str, **connection: Any) -> Target:
    """A Target from the settings plus connection flags (``url`` for PostgreSQL; ``hosts``, ``port``, ... else)."""
    return Target(settings, store, settings.connection(store, **connection))


@contextmanager
def open_store(t: Target, *, create: bool = False, say: Say = _print) -> Iterator[Store]:
    """A live store for the target, closed at the end."""
    store: Store = factory(t.store)(t.connection.require(), create=create, notify=say)
    try:
        yield store
    finally:
        store.close()


def new(t: Target, name: str) -> Path:
    """Create an empty migration file from the template."""
    return new_migration(t.migrations_dir, name, t.store)


def up(
    t: Target,
    *,
    options: applier.Options | None = None,
    to: str | None = None,
    create: bool = True,
    say: Say = _print,
) -> list[Migration]:
    """Apply every pending migration (up to ``to``); ``create`` makes a missing database first, as dbmate's up."""
    migrations = t.migrations()
    with open_store(t, create=create, say=say) as store:

        def announce(st: applier.Status) -> None:
            say(f"harness {__version__}: {store.describe()}, migrations in {t.migrations_dir}")
            names = [e.filename or e.version for e in st.pending]
            shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
            say(f"Pending: {len(names)}" + (f" ({shown})" if names else ""))

        done = applier.up(store, migrations, say, options or applier.Options(), target=to, announce=announce)
    if not done:
        say("No pending migrations")
    return done


def down(t: Target, *, target: applier.DownTarget | None = None, say: Say = _print) -> list[Migration]:
    """Roll back applied migrations (one by default), newest first."""
    migrations = t.migrations()
    with open_store(t, say=say) as store:
        return applier.down(store, migrations, say, target or applier.DownTarget())


def status(t: Target, *, say: Say = _print) -> applier.Status:
    """The files against the ledger: applied, pending, failed, changed, missing."""
    migrations = t.migrations()
    with open_store(t, say=say) as store:
        return applier.status(store, migrations)


def baseline(t: Target, *, to: str, force: bool = False, say: Say = _print) -> list[Migration]:
    """Record the files up to ``to`` as applied without running them (a database another tool migrated)."""
    migrations = t.migrations()
    with open_store(t, create=False, say=say) as store:
        return applier.baseline(store, migrations, say, to, force=force)


def resolve(t: Target, *, version: str, done: bool, say: Say = _print) -> None:
    """Record by hand whether the step a failed or interrupted migration stopped at took effect."""
    migrations = t.migrations()
    with open_store(t, create=False, say=say) as store:
        applier.resolve(store, migrations, say, version, done=done)


def reset_target(t: Target) -> str:
    """The name `reset` must be confirmed with (database or keyspace), without connecting."""
    if isinstance(t.connection, CassandraSettings):
        return t.connection.keyspace
    from harness.stores.postgres.url import database_name

    return database_name(t.connection.url, t.settings.env)


def reset(
    t: Target, *, confirm: str | None, scope: tuple[str, ...] = (), once: str | None = None, say: Say = _print
) -> ResetResult:
    """Empty the target (see each store's reset) once ``confirm`` names it; skip when ``once`` was recorded."""
    expected = reset_target(t)
    if confirm != expected:
        given = "no confirmation" if confirm in (None, "") else f"--yes={confirm}"
        raise ConfigError(
            f"reset destroys data: confirm it by naming the {'keyspace' if t.store == 'cassandra' else 'database'}, "
            f"--yes={expected} ({given} was given)"
        )
    with open_store(t, say=say) as store:
        say(f"Resetting: {store.describe()}: {store.reset_scope(scope)}")
        result = store.reset(scope, once, say)
    if result.skipped:
        say(f"Reset: skipped, token {once} was already used on {expected} (a retried Job or a repeated deploy)")
    else:
        say(f"Reset: {expected} is empty ({len(result.emptied)} object(s) or schema(s) dropped)")
    return result


def wait(t: Target, *, timeout: float = 60.0, say: Say = _print) -> float:
    """Poll until the database answers a real query; returns the seconds waited."""
    start = time.monotonic()
    last = ""
    told = False
    while True:
        try:
            with open_store(t, say=say):
                return time.monotonic() - start
        except StoreError as exc:
            last = str(exc)
        if time.monotonic() - start > timeout:
            raise StoreError(f"{t.store} database not reachable after {timeout:.0f}s: {last}")
        if not told:
            say(f"Waiting for the {t.store} database")
            told = True
        time.sleep(1.0)


def dump(t: Target, *, schema_file: str | None = None, say: Say = _print) -> Path | None:
    """The schema as pg_dump writes it plus the ledger's versions, as dbmate writes db/schema.sql."""
    if not isinstance(t.connection, PostgresSettings):
        raise ConfigError("dump is for PostgreSQL only")
    from harness.stores.postgres.dump import dump_schema

    path = schema_file or t.settings.env.get("DBMATE_SCHEMA_FILE") or "db/schema.sql"
    with open_store(t, say=say) as store:
        text = dump_schema(store)  # type: ignore[arg-type]  # the registry gives dump to PostgreSQL only
    if path == "-":
        print(text, end="")
        return None
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    say(f"Writing: {out}")
    return out


def create(t: Target, *, say: Say = _print) -> None:
    """dbmate's `create`: make the target's database (PostgreSQL) or keyspace (Cassandra); an existing one is an
    error."""
    admin(t.store, "create_target")(t.connection.require(), say)


def drop(t: Target, *, confirm: str | None, say: Say = _print) -> None:
    """dbmate's `drop`, confirmed by naming the database or keyspace (dbmate asks nothing; data is at stake)."""
    expected = reset_target(t)
    if confirm != expected:
        raise ConfigError(f"drop destroys the whole {'keyspace' if t.store == 'cassandra' else 'database'}: "
                          f"confirm it with --yes={expected}")  # fmt: skip
    admin(t.store, "drop_target")(t.connection.require(), say)


def runner(settings: Settings, *targets: Target) -> MigrationRunner:
    """A MigrationRunner (see :mod:`harness.runner`) on the databases the targets name, outside pytest; use throwaway
    databases, since it migrates them up and down and writes rows.

        settings = load_settings()
        with commands.runner(settings, commands.target(settings, "postgres", url=url)) as run:
            run.migrate_to("postgres", "20250101120300")
    """
    from harness.checks.target import Project
    from harness.runner import MigrationRunner

    return MigrationRunner(Project.load(settings), connections={t.store: t.connection for t in targets})
