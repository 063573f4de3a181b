"""What a check works on, and how it fails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.migrations import Migration, discover
from harness.servers.base import CassandraServer
from harness.settings import CassandraSettings, PostgresSettings, open_store
from harness.stores.base import Store


class CheckFailure(AssertionError):
    """A failed check: a title and titled sections, each a list of findings (every one, not the first)."""

    def __init__(self, title: str, sections: Sequence[tuple[str, Sequence[str]]]) -> None:
        self.title = title
        self.sections = [(name, list(items)) for name, items in sections if items]
        body = "\n".join(f"{name}:\n" + "\n".join(f"  - {item}" for item in items) for name, items in self.sections)
        super().__init__(f"{title}\n{body}")


@dataclass(frozen=True)
class Target:
    """A project's migrations and contract, and the (fresh) databases to prove them on."""

    migrations_dir: Path
    contract: Path
    postgres_url: str | None = field(default=None, repr=False)
    cassandra: CassandraServer | None = None
    keyspace: str | None = None
    strict_links: bool = False
    minimum_downgrade: str | None = None
    fuzz_profile: str = "dev"

    def migrations(self, kind: str) -> list[Migration]:
        return discover(self.migrations_dir / kind, kind)  # type: ignore[arg-type]

    def store(self, kind: str) -> Store:
        if kind == "postgres":
            assert self.postgres_url, "this check needs a PostgreSQL database"
            return open_store(PostgresSettings(url=self.postgres_url))
        assert self.cassandra and self.keyspace, "this check needs a Cassandra keyspace"
        return open_store(CassandraSettings.for_server(self.cassandra, self.keyspace))
