"""Parsed migrations: immutable values that the applier, the stores and the checks share (no I/O here)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from harness.registry import store_kind

if TYPE_CHECKING:
    from harness.cql import Statement


def sql_is_blank(text: str) -> bool:
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


@dataclass(frozen=True)
class Section:
    """One up or down part of a migration file."""

    text: str  # raw text after the marker line up to the next marker / end of file
    line: int  # file line where `text` starts
    options: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    statements: tuple[Statement, ...] = ()  # cassandra only; postgres sends `text` as one query
    store: str = "postgres"  # decides which comment syntax `is_empty` understands

    @property
    def transaction(self) -> bool:
        """dbmate's rule: a section runs in a transaction unless it says `transaction:false`."""
        return self.options.get("transaction") != "false"

    @property
    def is_empty(self) -> bool:
        """Nothing would be executed: only whitespace, comments and bare `;`."""
        if self.statements:
            return False
        if not store_kind(self.store).transactional:
            return True  # statements are split at parse time: none found means all comments and whitespace
        return sql_is_blank(self.text)


@dataclass(frozen=True)
class Migration:
    """One migration file, parsed and checked.

    A file holds one or more up sections, each with its down section (``downs[i]`` undoes ``ups[i]``; None
    when the file gives no down for it, which makes the migration up-only). Up sections run in file order, down
    sections in reverse order, as dbmate does.
    """

    store: str
    version: str  # leading digits as written; dbmate stores the string
    description: str
    filename: str
    path: Path
    ups: tuple[Section, ...]
    downs: tuple[Section | None, ...]
    checksum: str  # sha256 hex of the file's bytes
    comment_only: bool = False  # a CQL file with nothing but comments: a deliberate, recorded no-op

    @property
    def up(self) -> Section:
        """The first up section (the only one, except in dbmate's multi-section files)."""
        return self.ups[0]

    @property
    def down(self) -> Section | None:
        """The first up section's down section."""
        return self.downs[0]

    @property
    def has_down(self) -> bool:
        """Every up section has a down marker (a down may still be empty: a no-op rollback, as in dbmate)."""
        return all(d is not None for d in self.downs)

    @property
    def reversible(self) -> bool:
        """True when there is a down for every section and at least one of them would execute something."""
        return self.has_down and not all(d is None or d.is_empty for d in self.downs)

    @property
    def up_statements(self) -> tuple[Statement, ...]:
        """Every statement of every up section in order (Cassandra applies and counts them one by one)."""
        return tuple(s for section in self.ups for s in section.statements)

    @property
    def is_noop(self) -> bool:
        """Nothing in any up section would execute; the migration is still recorded when applied."""
        return all(section.is_empty for section in self.ups)

    @property
    def progress_total(self) -> int:
        """How many steps a run of the up sections has, in the store's progress unit."""
        return len(self.up_statements) if self._unit == "statement" else len(self.ups)

    @property
    def _unit(self) -> str:
        return store_kind(self.store).progress_unit

    def progress_hash(self, count: int) -> str:
        """Fingerprint of the first ``count`` steps in the store's progress unit (see the two below)."""
        return self.statements_hash(count) if self._unit == "statement" else self.sections_hash(count)

    def statements_hash(self, count: int) -> str:
        """Fingerprint of the first ``count`` up statements: proves a resumed migration did not change what ran."""
        digest = hashlib.sha256()
        for stmt in self.up_statements[:count]:
            digest.update(stmt.text.encode())
            digest.update(b"\0")
        return digest.hexdigest()

    def sections_hash(self, count: int) -> str:
        """Fingerprint of the first ``count`` up sections (PostgreSQL resumes a multi-section file by section)."""
        digest = hashlib.sha256()
        for section in self.ups[:count]:
            digest.update(section.text.encode())
            digest.update(b"\0")
        return digest.hexdigest()
