"""Kinds: the value space of a store type or a contract type, as generating and comparing values need it.

Domains of the contract types:

- ``int``: 32-bit signed integers; ``bigint``: 64-bit; ``smallint``: 16-bit.
- ``string`` / ``text``: text of 0..200 code points, no NUL (PostgreSQL text cannot hold ``\\x00``) and
  no surrogates (not encodable in UTF-8).
- ``timestamp`` / ``timestamptz``: timezone-aware datetimes from 1900 to 2200 at microsecond precision.
  PostgreSQL keeps microseconds, Cassandra milliseconds: values are compared at the store's precision.
- ``uuid``: any UUID. ``decimal``: up to 18 significant digits, scale 0..6. ``bool``. ``float``: finite
  32-bit floats (exact in both ``real`` and ``double``). ``date``: 1900..2200.

A store type maps onto a Kind through a table per store (``KIND_OF``); None means "not generated".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from harness.schema import types as schema_types
from harness.schema.model import SchemaModel

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
INT16 = (-(2**15), 2**15 - 1)
INT8 = (-(2**7), 2**7 - 1)
MAX_STRING = 200
MAX_DIGITS = 18
MAX_SCALE = 6


@dataclass(frozen=True)
class Kind:
    """The value space of one type: a name plus the limits that matter for generating and comparing."""

    name: str  # int decimal float text bool uuid timestamp date time bytes json inet enum list set map counter
    lo: int | None = None
    hi: int | None = None
    max_length: int | None = None
    fixed_length: bool = False  # character(n): padded with spaces, compared without trailing spaces
    ascii: bool = False
    precision: int | None = None  # decimal digits (numeric(p,s)); None: MAX_DIGITS
    scale: int | None = None  # numeric scale; None: 0..MAX_SCALE
    width: int = 64  # float width
    tz: bool = True  # timestamp with time zone
    time_precision: int = 6  # fractional second digits the store keeps (Cassandra: 3)
    timeuuid: bool = False
    labels: tuple[str, ...] = ()
    element: Kind | None = None
    key: Kind | None = None


CONTRACT_KINDS: dict[str, Kind] = {
    "int": Kind("int", *INT32),
    "bigint": Kind("int", *INT64),
    "smallint": Kind("int", *INT16),
    "string": Kind("text", max_length=MAX_STRING),
    "text": Kind("text", max_length=MAX_STRING),
    "timestamp": Kind("timestamp"),
    "timestamptz": Kind("timestamp"),
    "uuid": Kind("uuid"),
    "decimal": Kind("decimal"),
    "bool": Kind("bool"),
    "float": Kind("float", width=32),
    "date": Kind("date"),
}

_PG_SIMPLE: dict[str, Kind] = {
    "integer": Kind("int", *INT32),
    "smallint": Kind("int", *INT16),
    "bigint": Kind("int", *INT64),
    "real": Kind("float", width=32),
    "double precision": Kind("float", width=64),
    "text": Kind("text", max_length=MAX_STRING),
    "citext": Kind("text", max_length=MAX_STRING),
    "character varying": Kind("text", max_length=MAX_STRING),
    "boolean": Kind("bool"),
    "uuid": Kind("uuid"),
    "date": Kind("date"),
    "time without time zone": Kind("time"),
    "bytea": Kind("bytes"),
    "json": Kind("json"),
    "jsonb": Kind("json"),
    "inet": Kind("inet"),
}

_CASSANDRA_SIMPLE: dict[str, Kind] = {
    "int": Kind("int", *INT32),
    "bigint": Kind("int", *INT64),
    "smallint": Kind("int", *INT16),
    "tinyint": Kind("int", *INT8),
    "varint": Kind("int", *INT64),
    "counter": Kind("counter"),
    "float": Kind("float", width=32),
    "double": Kind("float", width=64),
    "decimal": Kind("decimal"),
    "text": Kind("text", max_length=MAX_STRING),
    "varchar": Kind("text", max_length=MAX_STRING),
    "ascii": Kind("text", max_length=MAX_STRING, ascii=True),
    "boolean": Kind("bool"),
    "uuid": Kind("uuid"),
    "timeuuid": Kind("uuid", timeuuid=True),
    "timestamp": Kind("timestamp", time_precision=3),
    "date": Kind("date"),
    "time": Kind("time"),
    "blob": Kind("bytes"),
    "inet": Kind("inet"),
}

_MODIFIERS = re.compile(r"\(([^)]*)\)")
_COLLECTION = re.compile(r"(frozen|list|set|map)<(.*)>")


def _postgres_modified(base: str, mods: list[str]) -> Kind | None:
    """Kinds whose limits come from type modifiers (``varchar(10)``, ``numeric(12,2)``, ``timestamp(3)``)."""
    if base in ("character varying", "character", "bpchar") and mods:
        return Kind("text", max_length=int(mods[0]), fixed_length=base != "character varying")
    if base == "character":
        return Kind("text", max_length=1, fixed_length=True)
    if base == "numeric":
        if mods:
            return Kind("decimal", precision=int(mods[0]), scale=int(mods[1]) if len(mods) > 1 else 0)
        return Kind("decimal")
    if base in ("timestamp with time zone", "timestamp without time zone"):
        return Kind("timestamp", tz=base.endswith("with time zone"), time_precision=int(mods[0]) if mods else 6)
    return None


def postgres_kind(store_type: str, model: SchemaModel | None = None) -> Kind | None:
    """The Kind of a PostgreSQL type as format_type prints it; None when it is not supported.

    ``model`` resolves enum and domain names (a domain takes its base type's kind).
    """
    t = store_type.strip().lower()
    if t.endswith("[]"):
        element = postgres_kind(t[:-2], model)
        return Kind("list", element=element) if element and element.name not in ("list", "json") else None
    found = _MODIFIERS.search(t)
    mods = [m.strip() for m in found.group(1).split(",")] if found else []
    base = schema_types.base_type(t)
    if model is not None:
        enum = next((e for e in model.enums if e.name == base), None)
        if enum is not None:
            return Kind("enum", labels=enum.labels)
        domain = next((d for d in model.domains if d.name == base), None)
        if domain is not None:
            return postgres_kind(domain.base_type, model)
    return _postgres_modified(base, mods) or _PG_SIMPLE.get(base)


def _split_top(text: str) -> list[str]:
    """Split type arguments at top-level commas (``text, frozen<map<int, text>>`` is two)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [*parts, cur.strip()] if cur.strip() else parts


def cassandra_kind(store_type: str, model: SchemaModel | None = None) -> Kind | None:
    """The Kind of a Cassandra type as system_schema prints it (``frozen<list<int>>`` too).

    ``model`` is accepted for a uniform signature with :func:`postgres_kind`; Cassandra types need none.
    """
    t = store_type.strip().lower()
    m = _COLLECTION.fullmatch(t)
    if m is None:
        return _CASSANDRA_SIMPLE.get(t)
    outer, inner = m.groups()
    if outer == "frozen":
        return cassandra_kind(inner)
    args = [cassandra_kind(a) for a in _split_top(inner)]
    if any(a is None or a.name in ("list", "set", "map", "counter") for a in args):
        return None
    if outer == "map" and len(args) == 2:
        return Kind("map", key=args[0], element=args[1])
    if len(args) == 1:
        return Kind(outer, element=args[0])
    return None


KIND_OF: dict[str, Callable[[str, SchemaModel | None], Kind | None]] = {
    "postgres": postgres_kind,
    "cassandra": cassandra_kind,
}


def store_kind(store: str, store_type: str, model: SchemaModel | None = None) -> Kind | None:
    """The Kind of a type of ``store`` (a name in ``KIND_OF``)."""
    return KIND_OF[store](store_type, model)
