"""One schema model for both stores, so snapshots, diffs and contract checks share one vocabulary.

Every object is a frozen dataclass holding only tuples, strings, numbers and booleans, so models are
hashable and two snapshots compare equal exactly when the schemas are the same. Collections are put in
a canonical order on construction (by name, columns by position), whatever order they were built in.
``to_json`` / ``from_json`` round-trip through plain JSON types, because snapshots may cross processes.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

Store = Literal["postgres", "cassandra"]
Options = tuple[tuple[str, str], ...]

STORES: tuple[Store, ...] = ("postgres", "cassandra")

# Cassandra column kinds, as system_schema.columns spells them; PostgreSQL columns are all "regular".
COLUMN_KINDS = ("partition_key", "clustering", "static", "regular")
CONSTRAINT_KINDS = ("primary_key", "unique", "foreign_key", "check", "exclusion")


def options(items: Mapping[str, object] | Iterable[tuple[str, object]] = ()) -> Options:
    """Canonical, hashable form of a small string mapping (sorted pairs, values as text)."""
    pairs = items.items() if isinstance(items, Mapping) else items
    return tuple(sorted((str(k), str(v)) for k, v in pairs))


def _sorted_by_name(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(sorted(values, key=lambda v: v.key))


def _column_order(column: Column) -> tuple[int, int, str]:
    """Key columns first (partition, clustering, static), then by position: one canonical order."""
    return (COLUMN_KINDS.index(column.kind) if column.kind in COLUMN_KINDS else 9, column.position, column.name)


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Column:
    """A column; ``type`` is normalised with its modifiers (``character varying(255)``, ``numeric(12,2)``)."""

    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    kind: str = "regular"
    position: int = 0
    clustering_order: str | None = None
    identity: str | None = None  # PostgreSQL: "always" / "by default"
    generated: str | None = None  # PostgreSQL: generation expression of a stored generated column

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class Constraint:
    """A table constraint; ``definition`` is the database's own text (pg_get_constraintdef)."""

    name: str
    kind: str
    columns: tuple[str, ...] = ()
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    on_update: str | None = None
    definition: str = ""

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class Index:
    """An index; ``columns`` are column names or expressions in key order."""

    name: str
    table: str
    method: str = ""
    columns: tuple[str, ...] = ()
    unique: bool = False
    primary: bool = False
    predicate: str | None = None
    definition: str = ""
    options: Options = ()

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class Table:
    """A table with its columns (in position order), constraints, indexes and the options that matter."""

    name: str
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    options: Options = ()

    def __post_init__(self) -> None:
        _set(self, "columns", tuple(sorted(self.columns, key=_column_order)))
        _set(self, "constraints", _sorted_by_name(self.constraints))
        _set(self, "indexes", _sorted_by_name(self.indexes))
        _set(self, "options", options(self.options))

    @property
    def key(self) -> str:
        return self.name

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def primary_key(self) -> tuple[str, ...]:
        """PostgreSQL: the primary key constraint's columns; Cassandra: the partition key columns."""
        pk = next((c for c in self.constraints if c.kind == "primary_key"), None)
        if pk is not None:
            return pk.columns
        parts = sorted((c for c in self.columns if c.kind == "partition_key"), key=lambda c: c.position)
        return tuple(c.name for c in parts)

    @property
    def foreign_keys(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.kind == "foreign_key")


@dataclass(frozen=True)
class Sequence:
    name: str
    data_type: str = "bigint"
    start: int = 1
    increment: int = 1
    minimum: int | None = None
    maximum: int | None = None
    cache: int = 1
    cycle: bool = False
    owned_by: str | None = None  # "table.column"

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class Enum:
    name: str
    labels: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class View:
    name: str
    definition: str = ""
    columns: tuple[Column, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "columns", tuple(sorted(self.columns, key=_column_order)))

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class MaterializedView:
    """PostgreSQL materialized view or Cassandra materialized view (then ``base_table`` is set)."""

    name: str
    definition: str = ""
    columns: tuple[Column, ...] = ()
    indexes: tuple[Index, ...] = ()
    base_table: str | None = None
    options: Options = ()

    def __post_init__(self) -> None:
        _set(self, "columns", tuple(sorted(self.columns, key=_column_order)))
        _set(self, "indexes", _sorted_by_name(self.indexes))
        _set(self, "options", options(self.options))

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class Function:
    """A function or procedure; ``arguments`` is the identity signature, so overloads differ."""

    name: str
    arguments: str = ""
    result: str = ""
    kind: str = "function"
    language: str = ""
    definition: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}({self.arguments})"


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    definition: str = ""
    enabled: str = "O"

    @property
    def key(self) -> str:
        return f"{self.table}.{self.name}"


@dataclass(frozen=True)
class Extension:
    name: str
    version: str = ""
    schema: str = ""

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class UserType:
    """A composite type (PostgreSQL) or user-defined type (Cassandra): ordered (field, type) pairs."""

    name: str
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class Domain:
    name: str
    base_type: str
    nullable: bool = True
    default: str | None = None
    checks: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class SchemaModel:
    """Everything migrations can change in one PostgreSQL schema or one Cassandra keyspace.

    The schema / keyspace name itself is deliberately not part of the model, so the same migrations
    applied to two keyspaces give equal models.
    """

    store: Store
    tables: tuple[Table, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    enums: tuple[Enum, ...] = ()
    views: tuple[View, ...] = ()
    materialized_views: tuple[MaterializedView, ...] = ()
    functions: tuple[Function, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    extensions: tuple[Extension, ...] = ()
    user_types: tuple[UserType, ...] = ()
    domains: tuple[Domain, ...] = ()
    options: Options = field(default=())

    def __post_init__(self) -> None:
        if self.store not in STORES:
            raise ValueError(f"store must be one of {STORES}, not {self.store!r}")
        for f in dataclasses.fields(self):
            if f.name not in ("store", "options"):
                _set(self, f.name, _sorted_by_name(getattr(self, f.name)))
        _set(self, "options", options(self.options))

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    @property
    def indexes(self) -> tuple[Index, ...]:
        """Every index of every table and materialized view, sorted by name."""
        found = [i for t in self.tables for i in t.indexes]
        found += [i for m in self.materialized_views for i in m.indexes]
        return _sorted_by_name(found)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types only (dicts, lists, str, int, bool, None)."""
        encoded = _encode(self)
        assert isinstance(encoded, dict)
        return encoded

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SchemaModel:
        model: SchemaModel = _decode(cls, data)
        return model


# --- JSON encoding: generic over the dataclasses above ---------------------------------------------

T = TypeVar("T")


def _encode(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _decode(tp: Any, data: Any) -> Any:
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp, globals())
        names = [f.name for f in dataclasses.fields(tp) if f.name in data]
        kwargs = {name: _decode(hints[name], data[name]) for name in names}
        return tp(**kwargs)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in data)
        return tuple(_decode(a, v) for a, v in zip(args, data, strict=True))
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        return _decode(next(a for a in args if a is not type(None)), data)
    return data
