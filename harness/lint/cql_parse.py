"""Just enough of CQL's grammar for the lint rules: tokens, and the shapes of CREATE TABLE and ALTER TABLE.

`harness.cql` already cut each up section into statements (and refused unclosed literals), so this only
classifies one statement's tokens. It is deliberately partial: a shape it does not recognise yields
nothing, and the rules stay quiet rather than guess.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from harness.cql_tokens import Token, group, name_parts, split_top_level, tokens

__all__ = [
    "Column",
    "TableAlter",
    "TableShape",
    "Token",
    "alter_table",
    "comments",
    "create_table",
    "name_of",
    "normal_type",
    "tokens",
]


def comments(text: str) -> Iterator[str]:
    """The comments of `text` (not text inside string literals that merely looks like one)."""
    return (t.text for t in tokens(text, keep_comments=True) if t.kind == "comment")


def name_of(token: Token) -> str:
    """A table or column name without its keyspace, as CQL compares it: unquoted parts lower-cased."""
    parts = name_parts(token)
    last = parts[-1] if parts else token.text
    if last.startswith('"'):
        return last[1:-1].replace('""', '"')
    return last.lower()


_ALIASES = {"varchar": "text"}


def normal_type(parts: Sequence[Token]) -> str:
    """A column type as one comparable string: `frozen<list<int>>`, with varchar spelled text."""
    text = "".join(t.text for t in parts).lower().replace(" ", "")
    return _ALIASES.get(text, text)


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class TableShape:
    """A CREATE TABLE: its columns, partition and clustering keys, and the columns its CLUSTERING ORDER names."""

    name: str
    columns: tuple[Column, ...]
    clustering: tuple[str, ...]
    ordered: frozenset[str]


def _skip_if(words: Sequence[Token], at: int, *phrase: str) -> int:
    """Index past `phrase` (e.g. IF NOT EXISTS) when it starts at `at`, else `at`."""
    if [t.key for t in words[at : at + len(phrase)]] == list(phrase):
        return at + len(phrase)
    return at


def _names(part: Sequence[Token]) -> list[str]:
    return [name_of(t) for t in part if t.kind == "name"]


def _primary_key(inner: list[Token]) -> tuple[str, ...]:
    """Clustering columns of `PRIMARY KEY (...)`: everything after the partition key."""
    keys = split_top_level(inner)
    return tuple(name for part in keys[1:] for name in _names(part))


def _ordered(words: Sequence[Token]) -> frozenset[str]:
    keys = [t.key for t in words]
    for index in range(len(keys) - 2):
        if keys[index : index + 3] == ["CLUSTERING", "ORDER", "BY"] and index + 3 < len(words):
            inner, _ = group(words, index + 3)
            return frozenset(part_names[0] for part in split_top_level(inner) if (part_names := _names(part)))
    return frozenset()


def create_table(words: Sequence[Token]) -> TableShape | None:
    """The shape of `CREATE TABLE|COLUMNFAMILY [IF NOT EXISTS] name (...) [WITH ...]`, else None."""
    if len(words) < 4 or words[0].key != "CREATE" or words[1].key not in ("TABLE", "COLUMNFAMILY"):
        return None
    at = _skip_if(words, 2, "IF", "NOT", "EXISTS") + 1
    name = name_of(words[at - 1])
    if at >= len(words) or words[at].text != "(":
        return None
    inner, after = group(words, at)
    columns: list[Column] = []
    clustering: tuple[str, ...] = ()
    for part in split_top_level(inner):
        keys = [t.key for t in part]
        if keys[:2] == ["PRIMARY", "KEY"] and len(part) > 2:
            clustering = _primary_key(group(part, 2)[0])
            continue
        if len(part) < 2:
            continue
        end = len(part)
        for stop in ("STATIC", "PRIMARY"):
            if stop in keys[2:]:
                end = min(end, keys.index(stop, 2))
        columns.append(Column(name_of(part[0]), normal_type(part[1:end])))
    return TableShape(name, tuple(columns), clustering, _ordered(words[after:]))


@dataclass(frozen=True)
class TableAlter:
    """An ALTER TABLE: `action` is ADD, DROP, ALTER (a type change) or another word; `columns` what it names."""

    table: str
    action: str
    columns: tuple[Column, ...]


def alter_table(words: Sequence[Token]) -> TableAlter | None:
    """The shape of `ALTER TABLE [IF EXISTS] name ADD|DROP|ALTER ...`, else None."""
    if len(words) < 4 or words[0].key != "ALTER" or words[1].key not in ("TABLE", "COLUMNFAMILY"):
        return None
    at = _skip_if(words, 2, "IF", "EXISTS") + 1
    if at >= len(words):
        return None
    table, action = name_of(words[at - 1]), words[at].key
    rest = list(words[at + 1 :])
    if action == "ADD":
        rest = rest[_skip_if(rest, 0, "IF", "NOT", "EXISTS") :]
    elif action == "DROP":
        rest = rest[_skip_if(rest, 0, "IF", "EXISTS") :]
        rest = rest[: next((i for i, t in enumerate(rest) if t.key == "USING"), len(rest))]
    if rest and rest[0].text == "(":
        rest = group(rest, 0)[0]
    columns: list[Column] = []
    for part in split_top_level(rest):
        if action == "ADD" and len(part) >= 2:
            end = next((i for i, t in enumerate(part) if i >= 2 and t.key == "STATIC"), len(part))
            columns.append(Column(name_of(part[0]), normal_type(part[1:end])))
        elif action == "DROP":
            columns.extend(Column(name, "") for name in _names(part))
        elif action == "ALTER" and len(part) >= 3 and part[1].key == "TYPE":
            columns.append(Column(name_of(part[0]), normal_type(part[2:])))
    return TableAlter(table, action, tuple(columns))
