"""The keyspace itself: its replication (validated), its quoted name, and emptying it for `reset`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import ConfigError, StoreError

_KEYSPACE = re.compile(r"^[A-Za-z0-9_]{1,48}$")
_DATACENTER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_MAX_FACTOR = 100


@dataclass(frozen=True)
class Replication:
    """Keyspace replication; ``SimpleStrategy:1`` for development, ``NetworkTopologyStrategy:dc1=3,dc2=3`` else."""

    strategy: str = "SimpleStrategy"
    factors: tuple[tuple[str, int], ...] = (("replication_factor", 1),)

    @classmethod
    def parse(cls, text: str) -> Replication:
        strategy, _, rest = text.strip().partition(":")
        try:
            if strategy == "SimpleStrategy":
                return cls(strategy, (("replication_factor", _factor(rest or "1")),))
            if strategy == "NetworkTopologyStrategy":
                pairs = [p.split("=", 1) for p in rest.split(",") if p.strip()]
                if not pairs or any(len(p) != 2 for p in pairs):
                    raise ValueError
                return cls(strategy, tuple((_datacenter(dc.strip()), _factor(n)) for dc, n in pairs))
        except ValueError:
            pass
        raise ConfigError(
            f"replication {text!r} not understood: use SimpleStrategy:N or NetworkTopologyStrategy:dc1=N,dc2=M "
            f"(N from 1 to {_MAX_FACTOR}, datacenter names of letters, digits, '_', '.', '-')"
        )

    def cql(self) -> str:
        items = [f"'class': '{self.strategy}'"] + [f"'{k}': {v}" for k, v in self.factors]
        return "{" + ", ".join(items) + "}"


def _factor(text: str) -> int:
    value = int(text.strip())
    if not 1 <= value <= _MAX_FACTOR:
        raise ValueError(text)
    return value


def _datacenter(name: str) -> str:
    if not _DATACENTER.match(name):
        raise ValueError(name)
    return name


def quote(name: str) -> str:
    """A keyspace name, validated by Cassandra's own rule and quoted so that its case is kept."""
    if not _KEYSPACE.match(name):
        raise ConfigError(f"keyspace name {name!r} is not valid: use 1-48 letters, digits and underscores")
    return f'"{name}"'


def _names(execute: Callable[..., Any], query: str, keyspace: str) -> list[str]:
    return [str(row[0]) for row in execute(query, (keyspace,))]


def empty_keyspace(
    execute: Callable[..., Any], agree: Callable[[Any, str], None], keyspace: str, *, keep: Sequence[str] = ()
) -> list[str]:
    """Drop every view, table, function, aggregate and type of ``keyspace`` except the tables in ``keep``.

    Order matters: views before their base tables, aggregates before functions, types last (a type used by
    another type goes after it: retried until none is left or no progress is made).
    """
    from cassandra.metadata import protect_name

    ks = protect_name(keyspace)
    dropped: list[str] = []

    def drop(what: str, name: str, signature: str = "") -> None:
        result = execute(f"DROP {what} IF EXISTS {ks}.{protect_name(name)}{signature}")
        agree(result, f"DROP {what} {name}")
        dropped.append(f"{what.lower()} {name}")

    for view in _names(execute, "SELECT view_name FROM system_schema.views WHERE keyspace_name = %s", keyspace):
        drop("MATERIALIZED VIEW", view)
    tables = _names(execute, "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", keyspace)
    for table in tables:
        if table not in keep:
            drop("TABLE", table)
    for query, what in (
        ("SELECT aggregate_name, argument_types FROM system_schema.aggregates WHERE keyspace_name = %s", "AGGREGATE"),
        ("SELECT function_name, argument_types FROM system_schema.functions WHERE keyspace_name = %s", "FUNCTION"),
    ):
        for row in execute(query, (keyspace,)):
            drop(what, str(row[0]), "(" + ", ".join(row[1] or ()) + ")")
    types = _names(execute, "SELECT type_name FROM system_schema.types WHERE keyspace_name = %s", keyspace)
    while types:
        left = []
        for name in types:
            try:
                drop("TYPE", name)
            except Exception:  # still used by another type: try again after that one is gone
                left.append(name)
        if len(left) == len(types):
            raise StoreError(f"cannot drop type(s) {', '.join(left)} of keyspace {keyspace}")
        types = left
    return dropped
