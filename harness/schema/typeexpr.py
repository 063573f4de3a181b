"""Type expressions: mermaid's generic syntax in the contract, angle brackets and arrays in the stores.

``Map~string,List~int~~`` and Cassandra's ``map<text, frozen<list<int>>>`` both become a TypeExpr tree,
so that harness.schema.types can compare them element by element. Pure text -> data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.schema.model import Store

# Generic contract types: canonical spelling and number of type arguments.
COLLECTIONS: dict[str, tuple[str, int]] = {"list": ("List", 1), "set": ("Set", 1), "map": ("Map", 2)}


@dataclass(frozen=True)
class TypeExpr:
    """A type with its type arguments: ``Map~string,int~`` is ``TypeExpr("Map", (string, int))``."""

    name: str
    args: tuple[TypeExpr, ...] = ()

    @property
    def collection(self) -> str | None:
        """``list`` / ``set`` / ``map`` for the contract's collections, else None."""
        key = self.name.lower()
        return key if key in COLLECTIONS and self.args else None

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}~{','.join(str(a) for a in self.args)}~"


class TypeSyntaxError(ValueError):
    """A contract type that cannot be read; the message says what is wrong and how to write it."""


_TOKEN_RE = re.compile(r"\s*(~|,|[^\s~,]+(?:\s+[^\s~,]+)*)")


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:  # only trailing blanks are left, and they were stripped
            break
        tokens.append(" ".join(m.group(1).split()))
        pos = m.end()
    return tokens


def parse_type(text: str) -> TypeExpr:
    """Read a contract type in mermaid's generic syntax; raise TypeSyntaxError saying why not.

    A ``~`` right after a type name opens its arguments when a type follows it, else it closes the
    arguments it is in, so ``List~Map~string,int~~`` is a list of maps. Known collections must have
    their number of arguments (``List~T~``, ``Set~T~``, ``Map~K,V~``) and spell it canonically.
    """
    tokens = _tokens(text)
    if not tokens:
        raise TypeSyntaxError("empty type")
    expr, pos = _parse(tokens, 0, text, depth=0)
    if pos != len(tokens):
        raise TypeSyntaxError(f"unexpected '{tokens[pos]}' in type '{text.strip()}'")
    return _checked(expr, text)


def _parse(tokens: list[str], pos: int, text: str, depth: int) -> tuple[TypeExpr, int]:
    if pos >= len(tokens) or tokens[pos] in "~,":
        got = f"'{tokens[pos]}'" if pos < len(tokens) else "the end"
        raise TypeSyntaxError(f"expected a type name, found {got} in '{text.strip()}'")
    name = tokens[pos]
    pos += 1
    at_tilde = pos < len(tokens) and tokens[pos] == "~"
    opens = at_tilde and (depth == 0 or (pos + 1 < len(tokens) and tokens[pos + 1] not in "~,"))
    if not opens:
        return TypeExpr(name), pos
    if pos + 1 >= len(tokens):
        raise TypeSyntaxError(f"'{name}~' is not closed with '~' in '{text.strip()}'")
    if tokens[pos + 1] in "~,":
        raise TypeSyntaxError(f"'{name}~' opens type arguments but names none; write {name}~type~")
    args: list[TypeExpr] = []
    pos += 1
    while True:
        arg, pos = _parse(tokens, pos, text, depth + 1)
        args.append(arg)
        if pos >= len(tokens):
            raise TypeSyntaxError(f"'{name}~' is not closed with '~' in '{text.strip()}'")
        if tokens[pos] == "~":
            return TypeExpr(name, tuple(args)), pos + 1
        if tokens[pos] != ",":  # a multi-word name is one token, so only ',' or '~' can follow
            raise TypeSyntaxError(f"unexpected '{tokens[pos]}' in '{text.strip()}'")
        pos += 1


def _checked(expr: TypeExpr, text: str) -> TypeExpr:
    args = tuple(_checked(a, text) for a in expr.args)
    known = COLLECTIONS.get(expr.name.lower())
    if known is None:
        return TypeExpr(expr.name, args)
    spelling, arity = known
    if len(args) != arity:
        wanted = f"{spelling}~K,V~" if arity == 2 else f"{spelling}~T~"
        has = f"{len(args)} type argument{'s' if len(args) != 1 else ''}" if args else "no type argument"
        raise TypeSyntaxError(f"{spelling} takes {arity} type argument{'s' if arity > 1 else ''} ({wanted}), "
                              f"'{text.strip()}' has {has}")  # fmt: skip
    return TypeExpr(spelling, args)


def store_type_expr(store: Store, store_type: str) -> TypeExpr:
    """A store type as the introspection prints it, as a TypeExpr; Cassandra's ``frozen<>`` dropped.

    PostgreSQL ``text[]`` becomes ``TypeExpr("[]", (text,))``; scalars keep their modifiers
    (``numeric(12,2)``), which the scalar comparison drops.
    """
    t = store_type.strip()
    if store == "postgres":
        if t.endswith("[]"):
            return TypeExpr("[]", (store_type_expr(store, t[:-2]),))
        return TypeExpr(t)
    expr, _ = _angle(t, 0)
    return expr


_ANGLE_NAME_RE = re.compile(r'\s*("(?:[^"]|"")*"|\'[^\']*\'|[^<>,\s]+)\s*')


def _angle(text: str, pos: int) -> tuple[TypeExpr, int]:
    """Cassandra's ``name<arg, ...>`` syntax; quoted names may hold any character."""
    m = _ANGLE_NAME_RE.match(text, pos)
    if m is None:
        return TypeExpr(text[pos:].strip()), len(text)
    name, pos = m.group(1), m.end()
    if pos >= len(text) or text[pos] != "<":
        return TypeExpr(name), pos
    args: list[TypeExpr] = []
    pos += 1
    while pos < len(text):
        arg, pos = _angle(text, pos)
        args.append(arg)
        while pos < len(text) and text[pos] == " ":
            pos += 1
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        pos += 1  # '>'
        break
    if name.lower() == "frozen" and len(args) == 1:
        return args[0], pos
    return TypeExpr(name.lower(), tuple(args)), pos
