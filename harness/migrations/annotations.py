"""What a migration says about its data, in its header: `harness:transforms` and `harness:lossy-down`.

    -- harness:transforms users.email, users.name     the up is meant to change these columns' values
    -- harness:transforms audit_log                    ... or a whole table's rows (a dedupe, a purge)
    -- harness:lossy-down the old column held only derived values

The data check proves that an up keeps every value it does not declare, and that a down gives back every row and
value written before the up unless the migration declares the down lossy. The header is where the lint's
file-wide suppressions live: the comment lines above the first `-- migrate:up` (a CQL file without markers: the
comment lines at its top). A data annotation anywhere else, a lossy-down without a reason, a transforms naming
nothing and a misspelt directive are errors naming the file and line: a typo must not pass for a declaration.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import MigrationFileError
from harness.migrations.parse import MARKER
from harness.registry import store_kind

TRANSFORMS = "transforms"
LOSSY_DOWN = "lossy-down"
_DIRECTIVE = re.compile(r"^\s*(?:--|//)\s*harness:(?P<name>[\w-]*)(?P<rest>.*)$")
_KNOWN = ("allow", TRANSFORMS, LOSSY_DOWN)  # `allow` belongs to the lint (harness.lint.suppress)
_NAME = r"[A-Za-z_][A-Za-z0-9_$]*"
_TARGET = re.compile(rf"^(?P<table>{_NAME})(?:\.(?P<column>{_NAME}|\*))?$")


@dataclass(frozen=True)
class Transform:
    """One declared change: a column of a table, or the whole table (``column`` None)."""

    table: str
    column: str | None
    line: int

    def __str__(self) -> str:
        return self.table if self.column is None else f"{self.table}.{self.column}"


@dataclass(frozen=True)
class DataAnnotations:
    """The data declarations of one migration file (none: the up keeps every value, the down gives all back)."""

    transforms: tuple[Transform, ...] = ()
    lossy_down: str | None = None  # the reason given

    def transforms_table(self, table: str) -> bool:
        """The whole table is declared: its rows may change, appear or disappear."""
        return any(t.table == table.lower() and t.column is None for t in self.transforms)

    def transforms_column(self, table: str, column: str) -> bool:
        return self.transforms_table(table) or any(
            t.table == table.lower() and t.column == column.lower() for t in self.transforms
        )


def _header_end(lines: list[str], store: str) -> int:
    """The number of header lines: those above the first up marker, else the file's leading comment block."""
    for number, line in enumerate(lines):
        if MARKER.match(line.rstrip("\r")):
            return number
    prefixes = store_kind(store).comment_prefixes
    in_block = False
    for number, line in enumerate(lines):
        text = line.strip()
        if in_block:
            in_block = "*/" not in text
        elif text.startswith("/*"):
            in_block = "*/" not in text[2:]
        elif text and not text.startswith(prefixes):
            return number
    return len(lines)


def _targets(path: Path, number: int, rest: str) -> list[Transform]:
    names = [part.strip() for part in rest.replace(",", " ").split()]
    if not names:
        raise MigrationFileError(
            path, number, "harness:transforms names nothing: write '-- harness:transforms <table>.<column>[, ...]'"
        )
    found: list[Transform] = []
    for name in names:
        match = _TARGET.match(name)
        if match is None:
            raise MigrationFileError(
                path, number, f"harness:transforms {name!r}: write <table>.<column> or <table> (unquoted names)"
            )
        column = match.group("column")
        found.append(Transform(match.group("table").lower(), None if column in (None, "*") else column.lower(), number))
    return found


def _misspelt(path: Path, number: int, name: str) -> None:
    close = difflib.get_close_matches(name, (TRANSFORMS, LOSSY_DOWN), n=1, cutoff=0.6)
    if close and name not in _KNOWN:
        raise MigrationFileError(path, number, f"unknown directive harness:{name}: did you mean harness:{close[0]}?")


def parse_annotations(path: Path | str, text: str, store: str) -> DataAnnotations:
    """The data annotations of one migration file's decoded ``text``; MigrationFileError for a malformed one."""
    path = Path(path)
    lines = text.split("\n")
    header = _header_end(lines, store)
    transforms: list[Transform] = []
    lossy: str | None = None
    for number, line in enumerate(lines, 1):
        match = _DIRECTIVE.match(line)
        if match is None:
            continue
        name, rest = match.group("name"), match.group("rest").strip()
        _misspelt(path, number, name)
        if name not in (TRANSFORMS, LOSSY_DOWN):
            continue
        if number > header:
            raise MigrationFileError(
                path, number, f"harness:{name} must be in the file's header (above '-- migrate:up'): move it there"
            )
        if name == TRANSFORMS:
            transforms += _targets(path, number, rest)
        elif not re.search(r"\w", rest):
            raise MigrationFileError(
                path, number, "harness:lossy-down gives no reason: write '-- harness:lossy-down <why it may lose data>'"
            )
        elif lossy is not None:
            raise MigrationFileError(path, number, "harness:lossy-down is given twice: keep one")
        else:
            lossy = rest
    return DataAnnotations(tuple(transforms), lossy)
