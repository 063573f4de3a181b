"""`new`: an empty migration from the template, as `dbmate new` writes it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import ConfigError, MigrationFileError
from harness.migrations.discover import candidate_files
from harness.migrations.parse import file_name_pattern
from harness.registry import store_kind

_SLUG = re.compile(r"[a-z0-9_]+")
TEMPLATE = "-- migrate:up\n\n\n-- migrate:down\n\n"  # exactly what `dbmate new` writes


def _slug(name: str) -> str:
    slug = re.sub(r"\s+", "_", name.strip().lower())
    if not _SLUG.fullmatch(slug):
        raise ConfigError(
            f"migration name {name!r} may only contain letters, digits, underscores and spaces, e.g. 'create users'"
        )
    return slug


def new_migration(directory: Path, name: str, store: str, now: datetime | None = None) -> Path:
    """Create an empty migration from the template; return its path.

    Timestamp stores (PostgreSQL) take the UTC time (YYYYMMDDHHMMSS, like dbmate; a naive `now` counts as UTC);
    sequence stores (Cassandra) count up from the highest existing version (001, 002, ...).
    """
    kind = store_kind(store)
    directory = Path(directory)
    slug = _slug(name)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{directory}: cannot create the migrations directory ({exc.strerror})") from None
    pattern = file_name_pattern(kind)
    existing = {
        path.name: int(match.group(1))
        for path in candidate_files(directory, kind, "the migrations directory")
        if (match := pattern.match(path.name))
    }
    if kind.new_version == "timestamp":
        moment = now or datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        version = moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    else:
        version = f"{max(existing.values(), default=0) + 1:03d}"
    path = directory / f"{version}_{slug}{kind.extension}"
    clash = sorted(other for other, number in existing.items() if number == int(version) and other != path.name)
    if clash:
        raise MigrationFileError(
            path, None, f"version {version} is already used by {clash[0]}: wait a second and run it again"
        )
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(TEMPLATE)
    except FileExistsError:
        raise MigrationFileError(path, None, "already exists; refusing to overwrite it: choose another name") from None
    return path
