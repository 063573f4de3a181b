"""What a check works on (the project, loaded once; fresh databases), and how it fails."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import CassandraSettings, PostgresSettings, Settings
from harness.errors import ConfigError
from harness.migrations import Migration, discover
from harness.registry import STORE_NAMES, factory, store_kind
from harness.schema.contract import Contract, load_contract
from harness.stores.base import Store

if TYPE_CHECKING:
    from harness.servers.base import CassandraServer


class CheckFailure(AssertionError):
    """A failed check: a title and titled sections, each a list of findings (every one, not the first)."""

    def __init__(self, title: str, sections: Sequence[tuple[str, Sequence[str]]]) -> None:
        self.title = title
        self.sections = [(name, list(items)) for name, items in sections if items]
        body = "\n".join(f"{name}:\n" + "\n".join(f"  - {item}" for item in items) for name, items in self.sections)
        super().__init__(f"{title}\n{body}")


def _spell_cli(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class Project:
    """A project's migrations per store, its contract and its policies: read once, shared by every check."""

    migrations: Mapping[str, tuple[Migration, ...]]
    contract: Contract | None = None
    contract_path: Path | None = None
    strict_links: bool = False
    minimum_downgrade: Mapping[str, str | None] = field(default_factory=dict)
    up_only: Mapping[str, bool] = field(default_factory=dict)
    fuzz_profile: str = "dev"
    spell: Callable[[str], str] = _spell_cli
    settings: Settings | None = None  # what it was loaded from (the lint reads its own settings there)

    @property
    def stores(self) -> tuple[str, ...]:
        return tuple(s for s in STORE_NAMES if s in self.migrations)

    @classmethod
    def load(cls, settings: Settings) -> Project:
        """Every migration directory and the contract, with the errors a user must fix before anything runs."""
        migrations: dict[str, tuple[Migration, ...]] = {}
        for store in settings.stores():
            directory = settings.require_dir(store)
            found = discover(directory, store, max_bytes=int(settings["max_file_size"]),
                             setting=settings.spell(f"{store}_migrations"),
                             size_setting=settings.spell("max_file_size"))  # fmt: skip
            if not found:
                raise ConfigError(
                    f"{directory}: holds no {store_kind(store).extension} migrations; point "
                    f"{settings.spell(f'{store}_migrations')} at the directory that has them"
                )
            migrations[store] = tuple(found)
        if not migrations:
            settings.require_dir("postgres")  # raises the detection error or says what to configure
        path = settings["contract"]
        contract = load_contract(path) if isinstance(path, Path) else None
        if contract is not None:
            for store in sorted({c.store for c in contract.classes.values()} - set(migrations)):
                raise ConfigError(
                    f"{path}: the contract has {store} classes ({store_kind(store).prefix}_...), but the project "
                    f"has no {store} migrations; set {settings.spell(f'{store}_migrations')}"
                )
        return cls(
            migrations=migrations,
            contract=contract,
            contract_path=path if isinstance(path, Path) else None,
            strict_links=bool(settings["strict_links"]),
            minimum_downgrade={s: settings[f"{s}_minimum_downgrade"] for s in STORE_NAMES},
            up_only={s: bool(settings[f"{s}_up_only"]) for s in STORE_NAMES},
            fuzz_profile=str(settings["fuzz_profile"]),
            spell=settings.spell,
            settings=settings,
        )


@dataclass(frozen=True)
class Databases:
    """Fresh, empty databases to prove the migrations on (one per check)."""

    postgres_url: str | None = field(default=None, repr=False)
    cassandra: CassandraServer | None = None
    keyspace: str | None = None


@dataclass(frozen=True)
class Target:
    project: Project
    databases: Databases = Databases()

    def migrations(self, store: str) -> list[Migration]:
        if store not in self.project.migrations:
            raise ConfigError(f"the project has no {store} migrations")
        return list(self.project.migrations[store])

    def store(self, store: str) -> Store:
        """A live store on this target's fresh database of ``store``."""
        opened: Store = factory(store)(_CONNECTIONS[store](self.databases))
        return opened


def _postgres(db: Databases) -> PostgresSettings:
    if not db.postgres_url:
        raise ConfigError("this check needs a PostgreSQL database")
    return PostgresSettings(url=db.postgres_url)


def _cassandra(db: Databases) -> CassandraSettings:
    if db.cassandra is None or not db.keyspace:
        raise ConfigError("this check needs a Cassandra keyspace")
    # A check's keyspace is thrown away: its rows skip the commit log. Every DROP TABLE flushes each table that has
    # rows in the commit log, and the checks write rows to every table of the history (README, Performance).
    return cassandra_settings(db.cassandra, db.keyspace, durable_writes=False)


_CONNECTIONS: dict[str, Callable[[Databases], PostgresSettings | CassandraSettings]] = {
    "postgres": _postgres,
    "cassandra": _cassandra,
}


def cassandra_settings(server: CassandraServer, keyspace: str, *, durable_writes: bool = True) -> CassandraSettings:
    """Settings for a keyspace on a server a provider handed out."""
    return CassandraSettings(
        hosts=server.contact_points,
        port=server.port,
        keyspace=keyspace,
        local_dc=server.local_datacenter,
        username=server.username,
        password=server.password,
        durable_writes=durable_writes,
    )
