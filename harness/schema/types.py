"""Which store types a contract type may be, one table per store (extend the dicts to add types).

Store types are compared by their base name: modifiers are dropped, so ``character varying(255)``
matches ``character varying`` and ``numeric(12,2)`` matches ``numeric``.
"""

from __future__ import annotations

import re

from harness.schema.model import Store

# Contract spellings that mean the same thing as a key of the tables below.
ALIASES: dict[str, str] = {
    "integer": "int",
    "str": "string",
    "varchar": "string",
    "boolean": "bool",
    "datetime": "timestamp",
    "numeric": "decimal",
    "double": "float",
    "blob": "bytes",
    "bytea": "bytes",
}

POSTGRES_TYPES: dict[str, frozenset[str]] = {
    "int": frozenset({"integer", "bigint", "smallint"}),
    "bigint": frozenset({"bigint"}),
    "smallint": frozenset({"smallint"}),
    "string": frozenset({"text", "character varying", "character", "citext"}),
    "text": frozenset({"text", "character varying", "citext"}),
    "timestamp": frozenset({"timestamp with time zone", "timestamp without time zone"}),
    "timestamptz": frozenset({"timestamp with time zone"}),
    "date": frozenset({"date"}),
    "time": frozenset({"time without time zone", "time with time zone"}),
    "uuid": frozenset({"uuid"}),
    "decimal": frozenset({"numeric"}),
    "float": frozenset({"real", "double precision"}),
    "bool": frozenset({"boolean"}),
    "json": frozenset({"json", "jsonb"}),
    "bytes": frozenset({"bytea"}),
    "inet": frozenset({"inet"}),
}

CASSANDRA_TYPES: dict[str, frozenset[str]] = {
    "int": frozenset({"int", "bigint", "varint"}),
    "bigint": frozenset({"bigint"}),
    "smallint": frozenset({"smallint"}),
    "string": frozenset({"text", "varchar", "ascii"}),
    "text": frozenset({"text", "varchar"}),
    "timestamp": frozenset({"timestamp"}),
    "date": frozenset({"date"}),
    "time": frozenset({"time"}),
    "uuid": frozenset({"uuid", "timeuuid"}),
    "decimal": frozenset({"decimal"}),
    "float": frozenset({"float", "double"}),
    "bool": frozenset({"boolean"}),
    "json": frozenset({"text"}),
    "bytes": frozenset({"blob"}),
    "inet": frozenset({"inet"}),
}

TYPE_MAPS: dict[Store, dict[str, frozenset[str]]] = {
    "postgres": POSTGRES_TYPES,
    "cassandra": CASSANDRA_TYPES,
}

# Families used to compare two columns across stores (a link from a Cassandra column to a PostgreSQL
# key): two store types are compatible when some family holds both.
FAMILIES: tuple[str, ...] = (
    "int",
    "string",
    "timestamp",
    "date",
    "time",
    "uuid",
    "decimal",
    "float",
    "bool",
    "bytes",
    "inet",
)


def contract_type(name: str) -> str:
    """Canonical spelling of a contract type: lower case, aliases resolved (``Integer`` -> ``int``)."""
    lowered = name.strip().lower()
    return ALIASES.get(lowered, lowered)


def base_type(store_type: str) -> str:
    """A store type without modifiers: ``timestamp(3) with time zone`` -> ``timestamp with time zone``."""
    return " ".join(re.sub(r"\([^)]*\)", " ", store_type.lower()).split())


def is_known(store: Store, contract: str) -> bool:
    return contract_type(contract) in TYPE_MAPS[store]


def compatible(store: Store, contract: str, store_type: str) -> bool:
    """Whether a column of ``store_type`` satisfies the contract type (an exact name always does)."""
    wanted = contract_type(contract)
    base = base_type(store_type)
    return base == wanted or base in TYPE_MAPS[store].get(wanted, frozenset())


def families(store: Store, store_type: str) -> frozenset[str]:
    """The cross-store families a store type belongs to (``integer`` -> {int}, ``timeuuid`` -> {uuid})."""
    base = base_type(store_type)
    return frozenset(f for f in FAMILIES if base in TYPE_MAPS[store].get(f, frozenset()))


def contract_families(contract: str) -> frozenset[str]:
    """The families of a contract type, for links whose ends are not introspected."""
    wanted = contract_type(contract)
    return frozenset(
        f
        for f in FAMILIES
        if f == wanted
        or any(TYPE_MAPS[s].get(wanted, frozenset()) & TYPE_MAPS[s].get(f, frozenset()) for s in TYPE_MAPS)
    )
