"""Parse one migration file into a Migration (no database here).

The format is dbmate's: `<digits>_<description>.sql|.cql`, `-- migrate:up` / `-- migrate:down` markers at line
start, `transaction:false` on the marker line, and (dbmate 2.37) several up/down pairs in one file. Every
PostgreSQL file accepted here is accepted by dbmate too; where dbmate is silent we are strict, because a mistake
found while parsing costs nothing and one found on a production database costs a lot: unknown or misspelt
options, stray or misplaced markers (README lists these differences).

Cassandra files follow the seed's habit as well: a file without markers is an up-only migration, a file with
nothing but comments is a deliberate no-op (recorded when applied), and `/* */` comments (a licence header) may
precede the markers. Cassandra sections are split into statements here, so CQL syntax errors surface with a file
line before anything is applied.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from harness.errors import MigrationFileError
from harness.migrations.model import Migration, Section
from harness.registry import StoreKind, store_kind

if TYPE_CHECKING:
    from harness.cql import Statement

MARKER = re.compile(r"^--\s*migrate:(up|down)\b(.*)$")
# What a human may have meant as a marker; dbmate would silently treat it as a comment.
_LOOKS_LIKE_MARKER = re.compile(r"^\s*--\s*migrate\s*:\s*(up|down)\b", re.IGNORECASE)


def file_name_pattern(kind: StoreKind) -> re.Pattern[str]:
    """`<digits>[_]<description><extension>`, as dbmate matches file names."""
    return re.compile(rf"^([0-9]+)_?(.*){re.escape(kind.extension)}$")


def bad_name_message(kind: StoreKind) -> str:
    return (
        f"file name does not look like a {kind.name} migration: it must be <digits>_<description>"
        f"{kind.extension} with a lowercase extension, e.g. {kind.example}; rename it "
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


def _parse_options(path: Path, line: int, kind: str, rest: str, store: StoreKind) -> dict[str, str]:
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
        if not store.transactional:
            raise MigrationFileError(
                path,
                line,
                f"option transaction:{value} means nothing on {store.title}: schema statements are applied one by "
                "one and cannot be rolled back together; remove the option",
            )
        options[key] = value
    return options


def _statements(path: Path, store: StoreKind, text: str, line: int) -> tuple[Statement, ...]:
    if store.transactional:
        return ()  # PostgreSQL gets the section as one query; the server splits it
    from harness.cql import CqlSyntaxError, split_cql  # Cassandra only: `postgres up` does not import it

    try:
        return tuple(split_cql(text, first_line=line))
    except CqlSyntaxError as exc:
        raise MigrationFileError(path, exc.line, f"CQL syntax: {exc.reason}") from None


def _section(path: Path, store: StoreKind, text: str, line: int, options: dict[str, str]) -> Section:
    return Section(text, line, MappingProxyType(options), _statements(path, store, text, line), store.name)


def _markers(path: Path, lines: list[str], store: StoreKind) -> list[_Marker]:
    markers: list[_Marker] = []
    for number, raw in enumerate(lines, 1):
        if not raw.lstrip().startswith("--"):
            continue  # neither a marker nor a near miss: both start with "--" (most lines; saves two matches each)
        content = raw.rstrip("\r")
        match = MARKER.match(content)
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
    return markers


def _pairs(path: Path, markers: list[_Marker], store: StoreKind) -> list[tuple[_Marker, _Marker | None]]:
    """Group markers into (up, down) pairs in file order; a down always follows its own up."""
    pairs: list[tuple[_Marker, _Marker | None]] = []
    for marker in markers:
        if marker.kind == "up":
            pairs.append((marker, None))
            continue
        if not pairs:
            raise MigrationFileError(
                path,
                marker.line,
                "'-- migrate:down' comes before any '-- migrate:up': put the up section first"
                + ("" if store.transactional else ", or remove the down marker to make the file up-only"),
            )
        up, down = pairs[-1]
        if down is not None:
            raise MigrationFileError(
                path,
                marker.line,
                f"second '-- migrate:down' for the up section on line {up.line} (its down is on line {down.line}): "
                "each up section has one down section; start a new pair with '-- migrate:up'",
            )
        pairs[-1] = (up, marker)
    if store.transactional:
        for up, down in pairs:
            if down is None:
                raise MigrationFileError(
                    path,
                    up.line,
                    "no '-- migrate:down' marker for this up section: each migration must define a down block "
                    "with '-- migrate:down' (dbmate's rule); add it after the up statements, followed by the "
                    "statements that undo them (leave it empty for an irreversible migration)",
                )
    return pairs


def _check_preamble(path: Path, text: str, first_marker: int, lines: list[str], store: StoreKind) -> None:
    """Only comments and blank lines may precede the first up marker."""
    if not store.transactional:
        from harness.cql import CqlSyntaxError, split_cql

        try:
            found = split_cql("\n".join(lines[: first_marker - 1]))
        except CqlSyntaxError as exc:
            raise MigrationFileError(path, exc.line, f"CQL syntax: {exc.reason}") from None
        if found:
            _statement_before(path, found[0].line, first_marker)
        return
    for number in range(1, first_marker):
        content = lines[number - 1].strip()
        if content.startswith("/*"):
            raise MigrationFileError(
                path,
                number,
                f"a /* */ comment before '-- migrate:up' (line {first_marker}): dbmate refuses files with anything "
                "but '--' comment lines above the up marker; write the header as '--' lines",
            )
        if content and not content.startswith(store.comment_prefixes):
            _statement_before(path, number, first_marker)


def _statement_before(path: Path, line: int, first_marker: int) -> None:
    raise MigrationFileError(
        path,
        line,
        f"statement before '-- migrate:up' (line {first_marker}): only comments and blank lines may precede "
        "the up marker; move it below the marker",
    )


def _unmarked(path: Path, text: str, store: StoreKind) -> tuple[tuple[Section, ...], tuple[None], bool]:
    """A file without markers: PostgreSQL refuses it; for Cassandra it is one up-only section."""
    if store.transactional:
        raise MigrationFileError(
            path,
            1,
            "no '-- migrate:up' marker: each migration must define an up block; start the file with "
            "'-- migrate:up', the statements, then '-- migrate:down' and the statements that undo them",
        )
    if not text.strip():
        raise MigrationFileError(
            path, 1, "the file is empty: write the CQL statements, or a comment saying why this version is a no-op"
        )
    up = _section(path, store, text, 1, {})
    return (up,), (None,), up.is_empty


def sections(path: Path, text: str, store: StoreKind) -> tuple[tuple[Section, ...], tuple[Section | None, ...], bool]:
    """Split the decoded file into (up sections, their down sections, comment-only) by the marker rules."""
    lines = text.split("\n")
    starts = [0]
    for content in lines[:-1]:
        starts.append(starts[-1] + len(content) + 1)

    def start_of(line: int) -> int:  # offset where a 1-based line starts; end of text past the last line
        return starts[line - 1] if line <= len(lines) else len(text)

    markers = _markers(path, lines, store)
    if not markers:
        return _unmarked(path, text, store)
    pairs = _pairs(path, markers, store)
    _check_preamble(path, text, markers[0].line, lines, store)
    bounds = [start_of(m.line) for m in markers[1:]] + [len(text)]
    end_of = {m.line: bounds[i] for i, m in enumerate(markers)}
    ups: list[Section] = []
    downs: list[Section | None] = []
    for up, down in pairs:
        ups.append(_section(path, store, text[start_of(up.line + 1) : end_of[up.line]], up.line + 1, up.options))
        downs.append(
            None
            if down is None
            else _section(path, store, text[start_of(down.line + 1) : end_of[down.line]], down.line + 1, down.options)
        )
    return tuple(ups), tuple(downs), False


def parse_migration(path: Path, store: str, data: bytes | None = None) -> Migration:
    """Parse one file (`data` overrides reading it); raise MigrationFileError naming file, line and fix."""
    kind = store_kind(store)
    path = path if isinstance(path, Path) else Path(path)  # Path(a Path) parses it again
    name = file_name_pattern(kind).match(path.name)
    if not name:
        raise MigrationFileError(path, None, bad_name_message(kind))
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MigrationFileError(
                path, None, f"cannot read the file ({exc.strerror}): check it is readable"
            ) from None
    ups, downs, comment_only = sections(path, _decode(path, data), kind)
    return Migration(
        store=kind.name,
        version=name.group(1),
        description=name.group(2),
        filename=path.name,
        path=path,
        ups=ups,
        downs=downs,
        checksum=hashlib.sha256(data).hexdigest(),
        comment_only=comment_only,
    )
