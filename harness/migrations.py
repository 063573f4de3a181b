"""Find and parse migration files of both stores into immutable Migration values (no database here).

The format is dbmate's (see notes/dbmate.md): `<digits>_<description>.sql|.cql` in one directory,
`-- migrate:up` / `-- migrate:down` markers at line start, `transaction:false` on the marker line.
Every file accepted here is accepted by dbmate too; where dbmate is silent we are strict, because a
mistake found while parsing costs nothing and one found on a production database costs a lot:
misnamed `.sql` files, duplicate versions, unknown or misspelt options, stray or repeated markers.
Cassandra files may omit the markers entirely: the whole file is then an up-only (irreversible)
migration. Cassandra sections are split into statements here, so CQL syntax errors surface with a
file line before anything is applied.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

from harness.cql import CqlSyntaxError, Statement, split_cql
from harness.errors import ConfigError, MigrationFileError, MigrationSetError

__all__ = ["Migration", "Section", "Store", "discover", "new_migration", "parse_migration"]

Store = Literal["postgres", "cassandra"]

_FILE_NAME: dict[str, re.Pattern[str]] = {
    "postgres": re.compile(r"^([0-9]+)_?(.*)\.sql$"),
    "cassandra": re.compile(r"^([0-9]+)_?(.*)\.cql$"),
}
_EXTENSION = {"postgres": ".sql", "cassandra": ".cql"}
_EXAMPLE = {"postgres": "20240101120000_create_users.sql", "cassandra": "001_create_users.cql"}
_MARKER = re.compile(r"^--\s*migrate:(up|down)\b(.*)$")
# What a human may have meant as a marker; dbmate would silently treat it as a comment.
_LOOKS_LIKE_MARKER = re.compile(r"^\s*--\s*migrate\s*:\s*(up|down)\b", re.IGNORECASE)
_SLUG = re.compile(r"[a-z0-9_]+")
_TEMPLATE = "-- migrate:up\n\n\n-- migrate:down\n\n"  # exactly what `dbmate new` writes


@dataclass(frozen=True)
class Section:
    """The up or down part of a migration file."""

    text: str  # raw text after the marker line up to the next marker / end of file
    line: int  # file line where `text` starts
    options: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    statements: tuple[Statement, ...] = ()  # cassandra only; postgres sends `text` as one query
    store: Store = "postgres"  # decides which comment syntax `is_empty` understands

    @property
    def transaction(self) -> bool:
        """dbmate's rule: a section runs in a transaction unless it says `transaction:false`."""
        return self.options.get("transaction") != "false"

    @property
    def is_empty(self) -> bool:
        """Nothing would be executed: only whitespace, comments and bare `;`."""
        if self.statements:
            return False
        if self.store == "cassandra":
            return True  # split_cql found no statement, so it is all comments and whitespace
        return _sql_is_blank(self.text)


@dataclass(frozen=True)
class Migration:
    """One migration file, parsed and checked."""

    store: Store
    version: str  # leading digits as written; dbmate stores the string
    description: str
    filename: str
    path: Path
    up: Section
    down: Section | None  # None: the file has no down section at all
    checksum: str  # sha256 hex of the file's bytes

    @property
    def reversible(self) -> bool:
        """True when a down section exists and would execute something."""
        return self.down is not None and not self.down.is_empty


def _sql_is_blank(text: str) -> bool:
    """True if `text` holds only whitespace, `;`, `--` and (nested, as in PostgreSQL) `/* */` comments."""
    pos, size = 0, len(text)
    while pos < size:
        char = text[pos]
        if char.isspace() or char == ";":
            pos += 1
        elif text.startswith("--", pos):
            end = text.find("\n", pos)
            pos = size if end < 0 else end + 1
        elif text.startswith("/*", pos):
            depth, pos = 1, pos + 2
            while depth:
                opens, closes = text.find("/*", pos), text.find("*/", pos)
                if closes < 0:
                    return False  # unterminated: let the database report it
                if 0 <= opens < closes:
                    depth, pos = depth + 1, opens + 2
                else:
                    depth, pos = depth - 1, closes + 2
        else:
            return False
    return True


def _check_store(store: str) -> None:
    if store not in get_args(Store):
        raise ConfigError(f"unknown store {store!r}: use one of {', '.join(get_args(Store))}")


def _bad_name_message(store: Store) -> str:
    return (
        f"file name does not look like a {store} migration: it must be <digits>_<description>"
        f"{_EXTENSION[store]} with a lowercase extension, e.g. {_EXAMPLE[store]}; rename it "
        f"(or give it another extension if it is not a migration)"
    )


def _decode(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MigrationFileError(
            path,
            line,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at byte offset {exc.start}): save the file as UTF-8",
        ) from None
    if text.startswith("\ufeff"):  # dbmate 2.37 then misses the up marker ("must define an up block")
        raise MigrationFileError(path, 1, "file starts with a UTF-8 byte order mark: save it as UTF-8 without BOM")
    return text


@dataclass(frozen=True)
class _Marker:
    kind: str  # "up" | "down"
    line: int
    options: dict[str, str]


def _parse_options(path: Path, line: int, kind: str, rest: str, store: Store) -> dict[str, str]:
    options: dict[str, str] = {}
    for token in rest.split():
        key, sep, value = token.partition(":")
        if not sep or not key or ":" in value:
            raise MigrationFileError(
                path,
                line,
                f"malformed option {token!r} after '-- migrate:{kind}': options are key:value, "
                f"e.g. '-- migrate:{kind} transaction:false'",
            )
        if key != "transaction":
            raise MigrationFileError(
                path, line, f"unknown option {key!r} after '-- migrate:{kind}': the only option is transaction:false"
            )
        if value not in ("true", "false"):
            raise MigrationFileError(path, line, f"option transaction must be true or false (lowercase), not {value!r}")
        if key in options:
            raise MigrationFileError(path, line, f"option {key!r} is given twice: keep one")
        if store == "cassandra":
            raise MigrationFileError(
                path,
                line,
                f"option transaction:{value} means nothing on Cassandra: schema statements are applied one by one "
                "and cannot be rolled back together; remove the option",
            )
        options[key] = value
    return options


def _section(path: Path, store: Store, text: str, line: int, options: dict[str, str]) -> Section:
    statements: tuple[Statement, ...] = ()
    if store == "cassandra":
        try:
            statements = tuple(split_cql(text, first_line=line))
        except CqlSyntaxError as exc:
            raise MigrationFileError(path, exc.line, f"CQL syntax: {exc.reason}") from None
    return Section(text, line, MappingProxyType(options), statements, store)


def _sections(path: Path, text: str, store: Store) -> tuple[Section, Section | None]:
    """Split the decoded file into its up and down sections, enforcing the marker rules."""
    lines = text.split("\n")
    starts = [0]
    for content in lines[:-1]:
        starts.append(starts[-1] + len(content) + 1)

    def start_of(line: int) -> int:  # offset where a 1-based line starts; end of text past the last line
        return starts[line - 1] if line <= len(lines) else len(text)

    markers: list[_Marker] = []
    for number, raw in enumerate(lines, 1):
        content = raw.rstrip("\r")
        match = _MARKER.match(content)
        if match:
            kind = match.group(1)
            markers.append(_Marker(kind, number, _parse_options(path, number, kind, match.group(2), store)))
        elif _LOOKS_LIKE_MARKER.match(content):
            raise MigrationFileError(
                path,
                number,
                f"{content.strip()!r} looks like a section marker but is not one: write '-- migrate:up' or "
                "'-- migrate:down' in lowercase at the very start of the line",
            )

    ups = [m for m in markers if m.kind == "up"]
    downs = [m for m in markers if m.kind == "down"]
    for kind, found in (("up", ups), ("down", downs)):
        if len(found) > 1:
            raise MigrationFileError(
                path,
                found[1].line,
                f"second '-- migrate:{kind}' marker (the first is on line {found[0].line}): a file has one "
                f"{kind} section; merge them or move the rest into a new migration",
            )

    if not ups:
        if store == "postgres":
            raise MigrationFileError(
                path,
                1,
                "no '-- migrate:up' marker: each migration must define an up block; start the file with "
                "'-- migrate:up', the statements, then '-- migrate:down' and the statements that undo them",
            )
        if downs:
            raise MigrationFileError(
                path,
                downs[0].line,
                "'-- migrate:down' without '-- migrate:up': put '-- migrate:up' above the up statements, "
                "or remove the down marker to make the file an up-only (irreversible) migration",
            )
        up = _section(path, store, text, 1, {})
        if up.is_empty:
            raise MigrationFileError(path, 1, "the file has no statements: write the CQL statements to apply")
        return up, None

    up_marker = ups[0]
    down_marker = downs[0] if downs else None
    if down_marker and down_marker.line < up_marker.line:
        raise MigrationFileError(
            path,
            down_marker.line,
            f"'-- migrate:down' comes before '-- migrate:up' (line {up_marker.line}): put the up section first",
        )
    comment_prefixes = ("--", "//") if store == "cassandra" else ("--",)
    for number in range(1, up_marker.line):
        content = lines[number - 1].strip()
        if content and not content.startswith(comment_prefixes):
            raise MigrationFileError(
                path,
                number,
                f"statement before '-- migrate:up' (line {up_marker.line}): only comments and blank lines may "
                "precede the up marker; move it below the marker",
            )
    if down_marker is None and store == "postgres":
        raise MigrationFileError(
            path,
            up_marker.line,
            "no '-- migrate:down' marker: each migration must define a down block with '-- migrate:down' "
            "(dbmate's rule); add it after the up statements, followed by the statements that undo them "
            "(leave it empty for an irreversible migration)",
        )

    up_end = start_of(down_marker.line) if down_marker else len(text)
    up = _section(path, store, text[start_of(up_marker.line + 1) : up_end], up_marker.line + 1, up_marker.options)
    if up.is_empty:
        raise MigrationFileError(
            path, up_marker.line, "the up section is empty: write the migration's statements after '-- migrate:up'"
        )
    down = None
    if down_marker:
        down_text = text[start_of(down_marker.line + 1) :]
        down = _section(path, store, down_text, down_marker.line + 1, down_marker.options)
    return up, down


def parse_migration(path: Path, store: Store, data: bytes | None = None) -> Migration:
    """Parse one file (`data` overrides reading it); raise MigrationFileError naming file, line and fix."""
    _check_store(store)
    path = Path(path)
    name = _FILE_NAME[store].match(path.name)
    if not name:
        raise MigrationFileError(path, None, _bad_name_message(store))
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MigrationFileError(
                path, None, f"cannot read the file ({exc.strerror}): check it is readable"
            ) from None
    up, down = _sections(path, _decode(path, data), store)
    return Migration(
        store=store,
        version=name.group(1),
        description=name.group(2),
        filename=path.name,
        path=path,
        up=up,
        down=down,
        checksum=hashlib.sha256(data).hexdigest(),
    )


def _order(migration: Migration) -> tuple[int, str]:
    return int(migration.version), migration.filename


def _files(directory: Path, store: Store) -> list[Path]:
    """Candidate files (extension compared case-insensitively so `X.SQL` is reported, not ignored)."""
    extension = _EXTENSION[store]
    try:
        entries = list(directory.iterdir())
    except OSError as exc:
        raise ConfigError(
            f"{directory}: cannot list the migrations directory ({exc.strerror}): create it or point "
            f"--migrations-dir at the directory holding the {extension} files"
        ) from None
    return sorted(p for p in entries if p.suffix.lower() == extension and p.is_file())


def discover(directory: Path, store: Store) -> list[Migration]:
    """All migrations of `directory` sorted by (numeric version, file name); every error reported at once."""
    _check_store(store)
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(
            f"{directory}: migrations directory does not exist or is not a directory: create it or point "
            f"--migrations-dir at the directory holding the {_EXTENSION[store]} files"
        )
    migrations: list[Migration] = []
    errors: list[MigrationFileError] = []
    files = _files(directory, store)
    for path in files:
        try:
            migrations.append(parse_migration(path, store))
        except MigrationFileError as exc:
            errors.append(exc)
    # Duplicates are judged on names alone, so they are reported even when a file's content is broken too.
    named = sorted((int(m.group(1)), p.name, p, m.group(1)) for p in files if (m := _FILE_NAME[store].match(p.name)))
    first_with: dict[int, str] = {}
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
    if errors:
        raise MigrationSetError(sorted(errors, key=lambda e: (e.path.name, e.line or 0)))
    return sorted(migrations, key=_order)


def _slug(name: str) -> str:
    slug = re.sub(r"\s+", "_", name.strip().lower())
    if not _SLUG.fullmatch(slug):
        raise ConfigError(
            f"migration name {name!r} may only contain letters, digits, underscores and spaces, e.g. 'create users'"
        )
    return slug


def new_migration(directory: Path, name: str, store: Store, now: datetime | None = None) -> Path:
    """Create an empty migration from the template, as `dbmate new` does; return its path.

    PostgreSQL versions are the UTC time (YYYYMMDDHHMMSS, like dbmate; a naive `now` counts as
    UTC); Cassandra versions count up from the highest existing one (001, 002, ...).
    """
    _check_store(store)
    directory = Path(directory)
    slug = _slug(name)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{directory}: cannot create the migrations directory ({exc.strerror})") from None
    existing = {
        path.name: int(match.group(1))
        for path in _files(directory, store)
        if (match := _FILE_NAME[store].match(path.name))
    }
    if store == "postgres":
        moment = now or datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        version = moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    else:
        version = f"{max(existing.values(), default=0) + 1:03d}"
    path = directory / f"{version}_{slug}{_EXTENSION[store]}"
    clash = sorted(other for other, number in existing.items() if number == int(version) and other != path.name)
    if clash:
        raise MigrationFileError(
            path, None, f"version {version} is already used by {clash[0]}: wait a second and run it again"
        )
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(_TEMPLATE)
    except FileExistsError:
        raise MigrationFileError(path, None, "already exists; refusing to overwrite it: choose another name") from None
    return path
