#!/usr/bin/env python3
"""Where a team's migrations are, for deploy.sh: one tab-separated line per item, absolute paths.

    python3 layout.py REPO   ->   postgres<TAB>/abs/dir   cassandra<TAB>/abs/dir   contract<TAB>/abs/file

Why a file run by path: deploy.sh runs it with whatever Python it finds, before anything is built. The order
is the settings' own: environment (HARNESS_<KEY>, DBMATE_MIGRATIONS_DIR), then `harness.toml` or
`[tool.harness]` in pyproject.toml (paths relative to that file), then the known layouts: ours
(migrations/{postgres,cassandra}), the seed's (postgres/db/migrations + cassandra/migrations), dbmate's
(db/migrations). An empty value means none was found; deploy.sh's own flags win over all of this.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

KEYS = {"postgres": "postgres_migrations", "cassandra": "cassandra_migrations", "contract": "contract"}
ENV_ALIASES = {"postgres": ("DBMATE_MIGRATIONS_DIR",)}
LAYOUTS = (
    {"postgres": "migrations/postgres", "cassandra": "migrations/cassandra", "contract": "migrations/README.md"},
    {"postgres": "postgres/db/migrations", "cassandra": "cassandra/migrations", "contract": "README.md"},
    {"postgres": "db/migrations"},
)


class LayoutError(Exception):
    """A config file that cannot be read."""


def config_table(repo: Path) -> tuple[dict[str, Any], Path]:
    """The harness settings table of the repository and the directory its paths are relative to."""
    for name, section in (("harness.toml", None), ("pyproject.toml", ("tool", "harness"))):
        path = repo / name
        if not path.is_file():
            continue
        try:
            data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise LayoutError(f"{path}: {exc}") from exc
        if section is None:
            nested = data.get("tool", {}).get("harness")
            return (nested if isinstance(nested, dict) else data), repo
        table = data.get(section[0], {}).get(section[1])
        if isinstance(table, dict):
            return table, repo
    return {}, repo


def _is_contract(path: Path) -> bool:
    try:
        return path.is_file() and "classDiagram" in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def find(repo: Path, env: Mapping[str, str]) -> dict[str, str]:
    """item -> absolute path ("" when none) for postgres, cassandra and contract."""
    table, base = config_table(repo)
    found: dict[str, str] = {}
    for item, key in KEYS.items():
        names = (f"HARNESS_{key.upper()}", *ENV_ALIASES.get(item, ()))
        value = next((env[n] for n in names if env.get(n)), None) or table.get(key)
        if value:
            found[item] = str((base / str(value)).resolve())
    for layout in LAYOUTS:
        if all(item in found for item in KEYS):
            break
        dirs_there = [layout[i] for i in ("postgres", "cassandra") if i in layout and (repo / layout[i]).is_dir()]
        if not dirs_there:
            continue
        for item, rel in layout.items():
            path = repo / rel
            usable = _is_contract(path) if item == "contract" else path.is_dir()
            if item not in found and usable:
                found[item] = str(path.resolve())
    return {item: found.get(item, "") for item in KEYS}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: layout.py REPO", file=sys.stderr)
        return 2
    try:
        found = find(Path(argv[0]).resolve(), os.environ)
    except LayoutError as exc:
        print(f"layout.py: error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write("".join(f"{item}\t{path}\n" for item, path in found.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
