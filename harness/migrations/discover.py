"""Find every migration of a directory, parsed and checked, with every file error reported at once."""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import ConfigError, MigrationFileError, MigrationSetError
from harness.migrations.model import Migration
from harness.migrations.parse import file_name_pattern, parse_migration
from harness.registry import StoreKind, store_kind
from harness.versions import version_key

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
"""Migration files are read whole; a size limit keeps one stray file from exhausting a Job's memory."""


def _suffix(name: str) -> str:
    """Path(name).suffix without building a Path (pathlib's rule: `..sql` has one, `.sql` has none)."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def candidate_files(directory: Path, kind: StoreKind, setting: str) -> list[Path]:
    """Files with the store's extension (compared case-insensitively so `X.SQL` is reported, not ignored).

    os.scandir knows each entry's type from the listing itself: no stat per file, as iterdir plus is_file needs.
    """
    try:
        with os.scandir(directory) as entries:
            names = [
                e.name for e in entries if _suffix(e.name).lower() == kind.extension and (e.is_file() or e.is_symlink())
            ]
    except OSError as exc:
        raise ConfigError(
            f"{directory}: cannot list the migrations directory ({exc.strerror}): create it or point "
            f"{setting} at the directory holding the {kind.extension} files"
        ) from None
    return [directory / name for name in sorted(names)]


def _check_file(path: Path, directory: Path, max_bytes: int, size_setting: str) -> MigrationFileError | None:
    """A symlink that leaves the directory, or a file over the size limit, is refused before it is read."""
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(directory.resolve()):
            return MigrationFileError(
                path,
                None,
                f"symbolic link to {target}, outside the migrations directory: copy the file in, or link to "
                "a file inside the directory",
            )
        if not target.is_file():
            return MigrationFileError(path, None, "symbolic link to something that is not a file")
    size = path.stat().st_size
    if size > max_bytes:
        return MigrationFileError(
            path,
            None,
            f"{size} bytes, over the limit of {max_bytes} bytes: split the migration, or raise the limit "
            f"({size_setting})",
        )
    return None


def _duplicates(files: list[Path], kind: StoreKind) -> list[MigrationFileError]:
    """Judged on names alone, so they are reported even when a file's content is broken too."""
    pattern = file_name_pattern(kind)
    named = sorted((int(m.group(1)), p.name, p, m.group(1)) for p in files if (m := pattern.match(p.name)))
    first_with: dict[int, str] = {}
    errors = []
    for number, name, path, version in named:
        first = first_with.setdefault(number, name)
        if first != name:
            errors.append(
                MigrationFileError(
                    path,
                    None,
                    f"version {version} is also used by {first} (versions compare as numbers): every "
                    "migration needs its own version; renumber one of the two files",
                )
            )
    return errors


def discover(
    directory: Path,
    store: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    setting: str = "--migrations-dir",
    size_setting: str = "--max-file-size",
) -> list[Migration]:
    """All migrations of `directory` sorted by version; every error reported at once.

    ``setting`` / ``size_setting`` spell, for messages, how the caller's user changes the directory and the size
    limit (a flag on the command line, a key in pytest's ini).
    """
    kind = store_kind(store)
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(
            f"{directory}: migrations directory does not exist or is not a directory: create it or point "
            f"{setting} at the directory holding the {kind.extension} files"
        )
    migrations: list[Migration] = []
    errors: list[MigrationFileError] = []
    files = candidate_files(directory, kind, setting)
    for path in files:
        refused = _check_file(path, directory, max_bytes, size_setting)
        if refused is not None:
            errors.append(refused)
            continue
        try:
            migrations.append(parse_migration(path, kind.name))
        except MigrationFileError as exc:
            errors.append(exc)
    errors += _duplicates(files, kind)
    if errors:
        raise MigrationSetError(sorted(errors, key=lambda e: (e.path.name, e.line or 0)))
    return sorted(migrations, key=lambda m: (version_key(m.version), m.filename))
