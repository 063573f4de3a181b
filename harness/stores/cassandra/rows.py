"""Cassandra rows: the Rows protocol on one driver session, with prepared statements per table and columns.

Cassandra has no transactions: ``batch`` writes each row as it comes and ``trial`` is refused, so a caller
that must leave nothing behind writes under fresh partition keys and deletes those partitions afterwards.
Tables are qualified with the keyspace, so the session's own keyspace does not matter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from harness.schema.model import Table
from harness.stores.base import Row, RowError

# Driver errors that say nothing about the row: timeouts, unavailable replicas, lost connections, overload.
TROUBLE = frozenset(
    {
        "OperationTimedOut",
        "WriteTimeout",
        "ReadTimeout",
        "Unavailable",
        "NoHostAvailable",
        "ConnectionException",
        "OverloadedErrorMessage",
    }
)
KEY_KINDS = ("partition_key", "clustering")


def row_error(exc: BaseException) -> RowError:
    """A driver error as a RowError: its class name is the code."""
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else ""
    return RowError(name, text, trouble=name in TROUBLE, text=f"{name}: {text}"[:200])


@contextlib.contextmanager
def _as_row_errors() -> Iterator[None]:
    try:
        yield
    except RowError:
        raise
    except Exception as exc:  # the driver's errors share no base class worth naming
        raise row_error(exc) from exc


def _value(value: object) -> object:
    """Values as the driver takes them: addresses as text, frozensets as sets, collections element-wise."""
    if isinstance(value, IPv4Address | IPv6Address):
        return str(value)
    if isinstance(value, set | frozenset):
        return {_value(v) for v in value}
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {_value(k): _value(v) for k, v in value.items()}
    return value


def _as_dict(row: Any) -> Row:
    return dict(row._asdict()) if hasattr(row, "_asdict") else dict(row)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def key_columns(table: Table) -> tuple[str, ...]:
    """Partition key, then clustering columns, each in key order (the order ``Table.columns`` keeps)."""
    return tuple(c.name for c in table.columns if c.kind in KEY_KINDS)


class CassandraRows:
    """Rows of the tables of one keyspace."""

    def __init__(self, session: Any, keyspace: str) -> None:
        self.session = session
        self.keyspace = keyspace
        self._prepared: dict[tuple[str, str, tuple[str, ...]], Any] = {}

    def _table(self, table: Table) -> str:
        return f"{_q(self.keyspace)}.{_q(table.name)}"

    def _statement(self, verb: str, table: Table, cols: tuple[str, ...]) -> Any:
        key = (verb, table.name, cols)
        if key not in self._prepared:
            where = " AND ".join(f"{_q(c)} = ?" for c in cols)
            texts = {
                "insert": f"INSERT INTO {self._table(table)} ({', '.join(_q(c) for c in cols)}) "
                f"VALUES ({', '.join('?' for _ in cols)})",
                "select": f"SELECT * FROM {self._table(table)}" + (f" WHERE {where}" if cols else ""),
                "delete": f"DELETE FROM {self._table(table)} WHERE {where}",
            }
            self._prepared[key] = self.session.prepare(texts[verb])
        return self._prepared[key]

    def _run(self, verb: str, table: Table, values: Mapping[str, object]) -> Any:
        cols = tuple(values)
        with _as_row_errors():
            return self.session.execute(self._statement(verb, table, cols), [_value(values[c]) for c in cols])

    def batch(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def trial(self) -> AbstractContextManager[None]:
        raise RowError("unsupported", f"Cassandra ({self.keyspace}) has no transactions: writes cannot be undone")

    def insert(self, table: Table, row: Mapping[str, object], *, read_back: bool = False) -> Row:
        """Cassandra reports nothing back from an INSERT: the row as written, or as a read by its key finds it."""
        self._run("insert", table, row)
        if not read_back:
            return dict(row)
        found = self._run("select", table, {c: row[c] for c in key_columns(table)}).one()
        return _as_dict(found) if found is not None else {}

    def select(self, table: Table, where: Mapping[str, object] | None = None) -> list[Row]:
        with _as_row_errors():
            return [_as_dict(r) for r in self._run("select", table, where or {})]

    def exists(self, table: Table, where: Mapping[str, object]) -> bool:
        with _as_row_errors():
            return self._run("select", table, where).one() is not None

    def count(self, table: Table) -> int:
        with _as_row_errors():
            found = self.session.execute(f"SELECT count(*) FROM {self._table(table)}").one()
        return int(found[0]) if found else 0

    def delete(self, table: Table, where: Mapping[str, object]) -> None:
        self._run("delete", table, where)

    def probe(self, table: Table, row: Mapping[str, object]) -> tuple[str | None, RowError] | None:
        """The key alone first, then each value with the key; the partition was fresh, so it is deleted after."""
        keys = {c: row[c] for c in key_columns(table)}
        try:
            self._run("insert", table, keys)
        except RowError as err:
            return None, err
        try:
            for name, value in row.items():
                if name in keys or value is None:
                    continue
                try:
                    self._run("insert", table, {**keys, name: value})
                except RowError as err:
                    return name, err
        finally:
            self.delete(table, {c.name: row[c.name] for c in table.columns if c.kind == "partition_key"})
        return None
