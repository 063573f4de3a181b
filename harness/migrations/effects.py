"""What one CQL statement does to the schema, in the terms ``system_schema`` shows: statement text in, data out.

A killed applier leaves the ledger saying "statement k was running". Cassandra has no transactions, so statement k
may or may not have taken effect; for schema statements the schema itself says which (see
:mod:`harness.migrations.effects_check`). This module only reads the statement: :func:`effect_of` returns an
:class:`Effect` (what the schema looks like once the statement took effect), :data:`RERUN` for a statement that is
harmless to run twice (table options, ``CREATE OR REPLACE``, functions with ``IF [NOT] EXISTS``), or None when the
effect cannot be read from the schema (data changes, grants, roles, anything not recognised): only then must a
person decide.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.cql_tokens import Token, group, name_parts, split_top_level, tokens

__all__ = ["RERUN", "Effect", "Rerun", "effect_of", "normal_type"]

_TYPE_WORD = re.compile(r'"(?:[^"]|"")*"|[A-Za-z0-9_]+|[^\sA-Za-z0-9_"]')


def _ident(part: str) -> str:
    """A CQL identifier as the schema stores it: unquoted ones lower-cased, quoted ones as written."""
    return part[1:-1].replace('""', '"') if part.startswith('"') else part.lower()


def _qualified(token: Token) -> tuple[str | None, str]:
    """``ks.name`` -> (ks, name); ``name`` -> (None, name)."""
    parts = [_ident(p) for p in name_parts(token)]
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[-1] if parts else token.text)


def normal_type(text: str) -> str:
    """A CQL type as one comparable string: lower case (quoted names kept), no spaces, no keyspace prefix,
    ``varchar`` spelled ``text`` and ``frozen<...>`` dropped (the schema adds it to tuples and UDTs by itself)."""
    words = [w if w.startswith('"') else w.lower() for w in _TYPE_WORD.findall(text)]
    words = ["text" if w == "varchar" else w for w in words]
    joined = "".join(words)
    joined = re.sub(r'(?:"(?:[^"]|"")*"|[a-z0-9_]+)\.', "", joined)  # ks.udt -> udt
    while "frozen<" in joined:
        start = joined.index("frozen<")
        depth, end = 0, start + len("frozen")
        for end in range(start + len("frozen"), len(joined)):
            depth += {"<": 1, ">": -1}.get(joined[end], 0)
            if depth == 0:
                break
        joined = joined[:start] + joined[start + len("frozen<") : end] + joined[end + 1 :]
    return joined


@dataclass(frozen=True)
class Effect:
    """The schema after the statement took effect.

    ``kind``: table, type, index, view, keyspace, column or field; ``action``: create, drop, add, remove or
    rename. ``name`` is the object (for column and field changes: their table or type). ``items`` are
    (name, type) pairs for created tables and types and added columns or fields, (name, "") for dropped ones,
    (old, new) for renames. ``on`` is an index's table or a view's base table, ``target`` an index's target
    (``col``, ``keys(col)``, ...). ``if_clause``: IF [NOT] EXISTS on the object or the item, so an object
    already there (or already gone) is the statement's effect whatever its shape.
    """

    action: str
    kind: str
    keyspace: str | None
    name: str | None
    items: tuple[tuple[str, str], ...] = ()
    partition_key: tuple[str, ...] = ()
    clustering: tuple[str, ...] = ()
    static: tuple[str, ...] = ()
    on: str = ""
    target: str = ""
    if_clause: bool = False
    if_object_exists: bool = False  # ALTER ... IF EXISTS: a missing table or type makes the statement a no-op

    def describe(self) -> str:
        what = {"view": "materialized view"}.get(self.kind, self.kind)
        if self.kind in ("column", "field"):
            owner = "table" if self.kind == "column" else "type"
            names = ", ".join(a if not b or self.action != "rename" else f"{a} -> {b}" for a, b in self.items)
            return f"{self.action} {what}(s) {names} of {owner} {self.name}"
        return f"{self.action} {what} {self.name or f'on {self.on} ({self.target})'}"


@dataclass(frozen=True)
class Rerun:
    """A statement that leaves the same schema however often it runs: resume by running it again."""

    why: str


RERUN = Rerun("running it again changes nothing")


def _skip(words: Sequence[Token], at: int, *phrase: str) -> tuple[int, bool]:
    """Index past ``phrase`` (IF NOT EXISTS) when it starts at ``at``, and whether it was there."""
    if [t.key for t in words[at : at + len(phrase)]] == list(phrase):
        return at + len(phrase), True
    return at, False


def _names(words: Sequence[Token]) -> list[str]:
    return [_qualified(t)[1] for t in words if t.kind == "name"]


def _type_text(words: Sequence[Token]) -> str:
    return normal_type(" ".join(t.text for t in words))


def _create_table(words: list[Token], at: int, if_clause: bool) -> Effect | None:
    keyspace, name = _qualified(words[at])
    if at + 1 >= len(words) or words[at + 1].text != "(":
        return None
    inner, _ = group(words, at + 1)
    columns: list[tuple[str, str]] = []
    partition: list[str] = []
    clustering: list[str] = []
    static: list[str] = []
    for part in split_top_level(inner):
        keys = [t.key for t in part]
        if keys[:2] == ["PRIMARY", "KEY"]:
            key_parts = split_top_level(group(part, 2)[0]) if len(part) > 2 else []
            if key_parts:
                partition, clustering = _names(key_parts[0]), [n for p in key_parts[1:] for n in _names(p)]
            continue
        if len(part) < 2:
            return None
        end = next((i for i in range(2, len(part)) if keys[i] in ("STATIC", "PRIMARY")), len(part))
        columns.append((_qualified(part[0])[1], _type_text(part[1:end])))
        if "STATIC" in keys[2:]:
            static.append(columns[-1][0])
        if keys[end : end + 2] == ["PRIMARY", "KEY"]:
            partition = [columns[-1][0]]
    if not partition:
        return None
    return Effect("create", "table", keyspace, name, tuple(columns), tuple(partition), tuple(clustering),
                  tuple(static), if_clause=if_clause)  # fmt: skip


def _create_type(words: list[Token], at: int, if_clause: bool) -> Effect | None:
    keyspace, name = _qualified(words[at])
    if at + 1 >= len(words) or words[at + 1].text != "(":
        return None
    fields = []
    for part in split_top_level(group(words, at + 1)[0]):
        if len(part) < 2:
            return None
        fields.append((_qualified(part[0])[1], _type_text(part[1:])))
    return Effect("create", "type", keyspace, name, tuple(fields), if_clause=if_clause)


def _create_index(words: list[Token], at: int, if_clause: bool) -> Effect | None:
    name: str | None = None
    keyspace: str | None = None
    if words[at].key != "ON":
        keyspace, name = _qualified(words[at])
        at += 1
    if at + 2 >= len(words) or words[at].key != "ON" or words[at + 2].text != "(":
        return None
    table_ks, table = _qualified(words[at + 1])
    inner, _ = group(words, at + 2)
    if len(inner) == 1:
        target = _qualified(inner[0])[1]
    elif len(inner) >= 3 and inner[1].text == "(" and inner[0].kind == "name":
        target = f"{inner[0].text.lower()}({_qualified(inner[2])[1]})"
    else:
        return None
    return Effect("create", "index", table_ks or keyspace, name, on=table, target=target, if_clause=if_clause)


def _create_view(words: list[Token], at: int, if_clause: bool) -> Effect | None:
    keyspace, name = _qualified(words[at])
    keys = [t.key for t in words]
    if "FROM" not in keys[at:]:
        return None
    base = words[keys.index("FROM", at) + 1] if keys.index("FROM", at) + 1 < len(words) else None
    if base is None or base.kind != "name":
        return None
    return Effect("create", "view", keyspace, name, on=_qualified(base)[1], if_clause=if_clause)


_OBJECTS = {"TABLE": "table", "COLUMNFAMILY": "table", "TYPE": "type", "INDEX": "index", "KEYSPACE": "keyspace",
            "SCHEMA": "keyspace"}  # fmt: skip


def _create(words: list[Token]) -> Effect | Rerun | None:
    keys = [t.key for t in words]
    if keys[1:3] == ["OR", "REPLACE"]:
        return Rerun("CREATE OR REPLACE leaves the same definition however often it runs")
    at = 1
    kind = _OBJECTS.get(keys[1])
    if keys[1] == "CUSTOM" and keys[2:3] == ["INDEX"]:
        kind, at = "index", 2
    elif keys[1:3] == ["MATERIALIZED", "VIEW"]:
        kind, at = "view", 2
    if kind is None:
        if keys[1] in ("FUNCTION", "AGGREGATE") and keys[2:5] == ["IF", "NOT", "EXISTS"]:
            return Rerun(f"CREATE {keys[1]} IF NOT EXISTS does nothing the second time")
        return None
    at, if_clause = _skip(words, at + 1, "IF", "NOT", "EXISTS")
    if at >= len(words):
        return None
    if kind == "keyspace":
        return Effect("create", "keyspace", None, _qualified(words[at])[1], if_clause=if_clause)
    builders = {"table": _create_table, "type": _create_type, "index": _create_index, "view": _create_view}
    return builders[kind](words, at, if_clause)


def _drop(words: list[Token]) -> Effect | Rerun | None:
    keys = [t.key for t in words]
    kind, at = _OBJECTS.get(keys[1]), 2
    if keys[1:3] == ["MATERIALIZED", "VIEW"]:
        kind, at = "view", 3
    if kind is None:
        if keys[1] in ("FUNCTION", "AGGREGATE") and keys[2:4] == ["IF", "EXISTS"]:
            return Rerun(f"DROP {keys[1]} IF EXISTS does nothing the second time")
        return None
    at, if_clause = _skip(words, at, "IF", "EXISTS")
    if at >= len(words) or words[at].kind != "name":
        return None
    keyspace, name = _qualified(words[at])
    if kind == "keyspace":
        keyspace, name = None, _qualified(words[at])[1]
    return Effect("drop", kind, keyspace, name, if_clause=if_clause)


def _renames(words: Sequence[Token]) -> tuple[tuple[str, str], ...] | None:
    """``a TO b AND c TO d`` -> ((a, b), (c, d))."""
    pairs = []
    index = 0
    while index + 2 < len(words) and words[index + 1].key == "TO":
        pairs.append((_qualified(words[index])[1], _qualified(words[index + 2])[1]))
        index += 3
        if index < len(words) and words[index].key == "AND":
            index += 1
    return tuple(pairs) if pairs and index >= len(words) else None


def _items(rest: list[Token], typed: bool) -> tuple[tuple[str, str], ...] | None:
    """``c type`` / ``(c1 t1, c2 t2)`` (typed) or ``c`` / ``(c1, c2)`` / ``c1, c2`` (names only)."""
    if rest and rest[0].text == "(":
        rest = group(rest, 0)[0]
    items = []
    for part in split_top_level(rest):
        if typed:
            keys = [t.key for t in part]
            end = next((i for i in range(2, len(part)) if keys[i] == "STATIC"), len(part))
            if len(part) < 2:
                return None
            items.append((_qualified(part[0])[1], _type_text(part[1:end])))
        else:
            if len(part) != 1 or part[0].kind != "name":
                return None
            items.append((_qualified(part[0])[1], ""))
    return tuple(items) or None


def _alter(words: list[Token]) -> Effect | Rerun | None:
    keys = [t.key for t in words]
    if keys[1] in ("KEYSPACE", "SCHEMA") or keys[1:3] == ["MATERIALIZED", "VIEW"]:
        return Rerun(f"ALTER {keys[1]} ... WITH sets the same options however often it runs")
    if keys[1] not in ("TABLE", "COLUMNFAMILY", "TYPE"):
        return None
    kind = "column" if keys[1] != "TYPE" else "field"
    at, object_if = _skip(words, 2, "IF", "EXISTS")
    if at + 1 >= len(words):
        return None
    keyspace, name = _qualified(words[at])
    action, rest = keys[at + 1], words[at + 2 :]
    if action == "WITH" and kind == "column":
        return Rerun("ALTER TABLE ... WITH sets the same options however often it runs")
    phrases = {"ADD": ("IF", "NOT", "EXISTS"), "DROP": ("IF", "EXISTS"), "RENAME": ("IF", "EXISTS")}
    if action not in phrases or (action == "DROP" and kind == "field"):
        return None
    skip, item_if = _skip(rest, 0, *phrases[action])
    rest = rest[skip:]
    if action == "DROP":
        rest = rest[: next((i for i, t in enumerate(rest) if t.key == "USING"), len(rest))]
    items = _renames(rest) if action == "RENAME" else _items(rest, typed=action == "ADD")
    if items is None:
        return None
    verb = {"ADD": "add", "DROP": "remove", "RENAME": "rename"}[action]
    return Effect(verb, kind, keyspace, name, items, if_clause=item_if, if_object_exists=object_if)


def effect_of(statement: str) -> Effect | Rerun | None:
    """What ``statement`` does to the schema; None when the schema cannot show whether it took effect."""
    words = tokens(statement)
    if len(words) < 3:
        return None
    verb = words[0].key
    if verb == "CREATE":
        return _create(words)
    if verb == "DROP":
        return _drop(words)
    if verb == "ALTER":
        return _alter(words)
    return None
