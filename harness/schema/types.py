"""Which store types a contract type may be, one table per store (extend the dicts to add types).

Store types are compared by their base name: modifiers are dropped, so ``character varying(255)``
matches ``character varying`` and ``numeric(12,2)`` matches ``numeric``.

Collections use mermaid's generic syntax in the contract (``List~string~``, ``Set~uuid~``,
``Map~string,int~``, nested ``List~Map~string,int~~``); element types follow the scalar tables:

============================  =======================================  ====================================
contract                      Cassandra                                PostgreSQL
============================  =======================================  ====================================
``List~T~``                   ``list<T>`` (or ``frozen<list<T>>``)     ``T[]``
``Set~T~``                    ``set<T>`` (or ``frozen<set<T>>``)       ``T[]`` (weaker: an array may hold
                                                                       duplicates; no type says otherwise)
``Map~K,V~``                  ``map<K, V>`` (or ``frozen<...>``)       ``jsonb`` / ``json`` (keys and values
                                                                       unchecked: the database does not
                                                                       type them); ``hstore`` when K and V
                                                                       are both ``string`` / ``text``
other ``Name~A,B~``           ``name<A, B>`` (``tuple``, ``vector``)   ``name`` with the same arguments
============================  =======================================  ====================================

``frozen<...>`` is how Cassandra stores a value, not what it holds, so the contract does not say it:
``List~string~`` accepts ``list<text>`` and ``frozen<list<text>>`` alike. A PostgreSQL array records
no dimensions (``integer[]`` also holds 2-D arrays), so ``List~List~int~~`` accepts ``integer[]``.
"""

from __future__ import annotations

import re

from harness.schema.model import Store
from harness.schema.typeexpr import COLLECTIONS, TypeExpr, TypeSyntaxError, parse_type, store_type_expr

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

# --- compatibility ---------------------------------------------------------------------------------


def contract_type(name: str) -> str:
    """Canonical spelling of a contract type: lower case, aliases resolved (``Integer`` -> ``int``)."""
    lowered = name.strip().lower()
    return ALIASES.get(lowered, lowered)


def base_type(store_type: str) -> str:
    """A store type without modifiers: ``timestamp(3) with time zone`` -> ``timestamp with time zone``."""
    return " ".join(re.sub(r"\([^)]*\)", " ", store_type.lower()).split())


def _contract_expr(contract: str) -> TypeExpr:
    try:
        return parse_type(contract)
    except TypeSyntaxError:
        return TypeExpr(contract)  # not a contract the parser accepted: compared as a plain name


def is_known(store: Store, contract: str) -> bool:
    """Whether the type (and every element type of a collection) is in the store's type table."""
    expr = _contract_expr(contract)
    if expr.collection:
        return all(is_known(store, str(a)) for a in expr.args)
    return not expr.args and contract_type(expr.name) in TYPE_MAPS[store]


def _scalar_ok(store: Store, contract: str, store_type: str) -> bool:
    wanted = contract_type(contract)
    base = base_type(store_type)
    return base == wanted or base in TYPE_MAPS[store].get(wanted, frozenset())


def _postgres_map_ok(want: TypeExpr, have: TypeExpr) -> bool:
    if have.args:
        return False
    base = base_type(have.name)
    if base in ("json", "jsonb"):
        return True
    text = TypeExpr("text")
    return base == "hstore" and all(_match("postgres", a, text) for a in want.args)


def _match(store: Store, want: TypeExpr, have: TypeExpr) -> bool:
    kind = want.collection
    if not want.args:
        return not have.args and _scalar_ok(store, want.name, have.name)
    if store == "postgres" and kind == "map":
        return _postgres_map_ok(want, have)
    if store == "postgres" and kind in ("list", "set"):
        if have.name != "[]":
            return False
        element, inner = want.args[0], have.args[0]
        if element.collection in ("list", "set") and inner.name != "[]":
            return _match(store, element, have)  # an array has no declared dimensions
        return _match(store, element, inner)
    return (
        have.name.lower() == want.name.lower()
        and len(have.args) == len(want.args)
        and all(_match(store, w, h) for w, h in zip(want.args, have.args, strict=True))
    )


def compatible(store: Store, contract: str, store_type: str) -> bool:
    """Whether a column of ``store_type`` satisfies the contract type (an exact name always does)."""
    if base_type(store_type) == contract_type(contract):
        return True
    return _match(store, _contract_expr(contract), store_type_expr(store, store_type))


# The contract type a store type is described by (``harness diagram``): the most specific name of the
# tables above, i.e. the one accepting the fewest store types. Exceptions: Cassandra ``text`` is
# ``text``, not ``json`` (json says what a text holds, not how it is stored), and PostgreSQL
# ``hstore`` is ``Map~string,string~``. A store type missing here is described by its own name
# without modifiers (``interval``, an enum's or a user type's name), which compare() accepts as is.
PREFERRED: dict[Store, dict[str, str]] = {
    "postgres": {
        "integer": "int",
        "bigint": "bigint",
        "smallint": "smallint",
        "text": "text",
        "character varying": "text",
        "citext": "text",
        "character": "string",
        "timestamp with time zone": "timestamptz",
        "timestamp without time zone": "timestamp",
        "date": "date",
        "time without time zone": "time",
        "time with time zone": "time",
        "uuid": "uuid",
        "numeric": "decimal",
        "real": "float",
        "double precision": "float",
        "boolean": "bool",
        "json": "json",
        "jsonb": "json",
        "bytea": "bytes",
        "inet": "inet",
        "hstore": "Map~string,string~",
    },
    "cassandra": {
        "int": "int",
        "bigint": "bigint",
        "varint": "int",
        "smallint": "smallint",
        "text": "text",
        "varchar": "text",
        "ascii": "string",
        "timestamp": "timestamp",
        "date": "date",
        "time": "time",
        "uuid": "uuid",
        "timeuuid": "uuid",
        "decimal": "decimal",
        "float": "float",
        "double": "float",
        "boolean": "bool",
        "blob": "bytes",
        "inet": "inet",
    },
}


def _describe(store: Store, expr: TypeExpr) -> TypeExpr:
    args = tuple(_describe(store, a) for a in expr.args)
    if store == "postgres" and expr.name == "[]":
        return TypeExpr("List", args)
    if store == "cassandra" and expr.name in COLLECTIONS and args:
        return TypeExpr(COLLECTIONS[expr.name][0], args)
    if args:
        return TypeExpr(expr.name, args)  # tuple<...>, vector<...>: the same name and arguments
    base = base_type(expr.name)
    preferred = PREFERRED[store].get(base)
    return parse_type(preferred) if preferred else TypeExpr(base)


def describe_type(store: Store, store_type: str) -> str:
    """The contract type (mermaid spelling) that describes a store type and that compatible() accepts.

    ``text[]`` -> ``List~text~``, ``frozen<map<text, int>>`` -> ``Map~text,int~``, ``interval`` ->
    ``interval``. The result may hold a space (``bit varying``): write it as ``name: type`` then.
    """
    return str(_describe(store, store_type_expr(store, store_type)))


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
