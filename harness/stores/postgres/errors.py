"""Name the failing statement of a section exactly: file, line, statement, database error.

A section is sent as one simple query, so PostgreSQL answers with one result per statement and stops at the
first error. The number of results before the error is therefore the failing statement's index: exact, whether
or not the server gave a character position (runtime errors such as a division by zero or a constraint
violation give none). The section is split into statements with PostgreSQL's own parser (pglast) only then, on
the error path, so a successful run never pays for the import.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from harness.errors import StoreError
from harness.migrations import Migration, Section


@dataclass(frozen=True)
class StatementAt:
    """Where statement ``index`` (0-based) of a section starts: its file line and its first line of text."""

    line: int
    text: str


def _offsets(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of every statement, by PostgreSQL's parser, else its scanner alone.

    The embedded parser may know a newer grammar than the server (or an older one): when it refuses the text,
    the scanner still finds the statement boundaries.
    """
    from pglast import parser

    try:
        return [(s.start, s.stop) for s in parser.split(text, with_parser=True, only_slices=True)]
    except parser.ParseError:
        try:
            return [(s.start, s.stop) for s in parser.split(text, with_parser=False, only_slices=True)]
        except parser.ParseError:
            return []


def statement_at(section: Section, index: int) -> StatementAt | None:
    """Statement ``index`` of the section, or None when it cannot be told (the split disagrees with the server)."""
    spans = _offsets(section.text)
    if not 0 <= index < len(spans):
        return None
    start, end = spans[index]
    while start < end and section.text[start].isspace():
        start += 1
    first = section.text[start:end].strip().splitlines()[0] if section.text[start:end].strip() else ""
    return StatementAt(section.line + section.text[:start].count("\n"), first)


def _by_position(section: Section, position: int) -> StatementAt:
    line = section.line + section.text[: position - 1].count("\n")
    lines = section.text.splitlines()
    offset = line - section.line
    return StatementAt(line, lines[offset].strip() if 0 <= offset < len(lines) else "")


def locate(section: Section, exc: psycopg.Error, succeeded: int) -> StatementAt:
    """The failing spot: the server's position when it gave one, else the statement after ``succeeded`` ones."""
    position = exc.diag.statement_position
    if position and int(position) <= len(section.text) + 1:
        return _by_position(section, int(position))
    found = statement_at(section, succeeded)
    return found if found is not None else StatementAt(section.line, "")


def db_error(
    migration: Migration, section: Section, exc: psycopg.Error, what: str, succeeded: int, number: int | None = None
) -> StoreError:
    """One line: file:line, which statement, the database's message and SQLSTATE."""
    spot = locate(section, exc, succeeded)
    primary = exc.diag.message_primary or (str(exc).splitlines() or [type(exc).__name__])[0]
    code = f" ({exc.sqlstate})" if exc.sqlstate else ""
    near = f" near `{spot.text[:120]}`" if spot.text else ""
    which = f" section {number}" if number is not None else ""
    return StoreError(f"{migration.path}:{spot.line}: {what}{which} failed at statement {succeeded + 1}{near}: "
                      f"{primary}{code}")  # fmt: skip
