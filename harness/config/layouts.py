"""Known repository layouts, detected when no migrations directory is configured.

Three layouts are known: this project's own (`migrations/postgres`, `migrations/cassandra`, contract in
`migrations/README.md`), dbmate's (`db/migrations`) and the seed module's (`postgres/db/migrations` and
`cassandra/migrations`, contract in the README). Exactly one must match: none, or two, is an error that says how to
configure the directories instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError


@dataclass(frozen=True)
class Layout:
    name: str
    postgres: str | None
    cassandra: str | None
    contracts: tuple[str, ...]  # candidate contract files, the first that exists and holds a classDiagram

    def present(self, root: Path) -> bool:
        return any(d is not None and (root / d).is_dir() for d in (self.postgres, self.cassandra))

    def describe(self) -> str:
        return " + ".join(d for d in (self.postgres, self.cassandra) if d)


LAYOUTS = (
    Layout("harness", "migrations/postgres", "migrations/cassandra", ("migrations/README.md",)),
    Layout("seed", "postgres/db/migrations", "cassandra/migrations", ("README.md",)),
    Layout("dbmate", "db/migrations", None, ("README.md", "db/README.md")),
)


@dataclass(frozen=True)
class Detected:
    layout: Layout
    postgres: Path | None
    cassandra: Path | None
    contract: Path | None

    def describe(self) -> str:
        return f"{self.layout.name} layout ({self.layout.describe()})"


def _has_diagram(path: Path) -> bool:
    try:
        return "classDiagram" in path.read_text(errors="replace")
    except OSError:
        return False


def detect(root: Path, how_to_configure: str) -> Detected:
    """The one known layout under ``root``; a ConfigError naming what was looked for otherwise."""
    found = [layout for layout in LAYOUTS if layout.present(root)]
    if len(found) > 1:
        names = " and ".join(f"{layout.name} ({layout.describe()})" for layout in found)
        raise ConfigError(f"{root}: two migration layouts found, {names}: choose one by configuring {how_to_configure}")
    if not found:
        looked = "; ".join(f"{layout.name}: {layout.describe()}" for layout in LAYOUTS)
        raise ConfigError(f"{root}: no migrations found (looked for {looked}); configure {how_to_configure}")
    layout = found[0]

    def existing(relative: str | None) -> Path | None:
        return root / relative if relative is not None and (root / relative).is_dir() else None

    contract = next((root / c for c in layout.contracts if _has_diagram(root / c)), None)
    return Detected(layout, existing(layout.postgres), existing(layout.cassandra), contract)
