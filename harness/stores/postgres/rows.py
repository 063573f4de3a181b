"""PostgreSQL rows: the Rows protocol on one psycopg connection (the store's, or a test's).

Tables are named unqualified, so they resolve through the connection's search_path as the migrations'
own statements do. Inserts return the stored row (``RETURNING *``); a read-back selects the same row by
its ctid, so tables without a primary key can be read back too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Json, Jsonb

from harness.schema.model import Table
from harness.stores.base import Row, RowError

# SQLSTATE classes that say nothing about the row: connection, resources, operator intervention, system.
TROUBLE_CLASSES = ("08", "40", "53", "54", "57", "58", "XX")
PROBE_TABLE = "harness_fuzz_probe"
_CTID = "__ctid"


def row_error(exc: psycopg.Error) -> RowError:
    """A psycopg error as a RowError: SQLSTATE, constraint name, primary message."""
    state = exc.sqlstate
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    primary = exc.diag.message_primary or first
    lost = state is None and isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    return RowError(
        state or "",
        primary,
        constraint=exc.diag.constraint_name,
        trouble=(state or "")[:2] in TROUBLE_CLASSES or lost,
        text=f"{primary} ({state})",
    )


@contextmanager
def _as_row_errors() -> Iterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        raise row_error(exc) from exc


def _value(table: Table, column: str, value: object) -> object:
    """JSON documents need a wrapper naming json or jsonb; psycopg adapts every other value by its type."""
    if isinstance(value, dict):
        col = table.column(column)
        return Jsonb(value) if col is not None and col.type.lower() == "jsonb" else Json(value)
    return value


def _params(table: Table, values: Mapping[str, object]) -> list[object]:
    return [_value(table, c, v) for c, v in values.items() if v is not None]


def _where(where: Mapping[str, object] | None) -> sql.Composable:
    if not where:
        return sql.SQL("true")
    return sql.SQL(" AND ").join(
        sql.SQL("{} IS NULL" if v is None else "{} = %s").format(sql.Identifier(c)) for c, v in where.items()
    )


def _overriding(table: Table, columns: list[str]) -> bool:
    """Whether a value is given for a GENERATED ALWAYS identity column (which needs OVERRIDING SYSTEM VALUE)."""
    return any((col := table.column(c)) is not None and col.identity == "always" for c in columns)


def _insert_sql(table: Table, columns: list[str], overriding: bool) -> sql.Composed:
    name = sql.Identifier(table.name)
    if not columns:
        return sql.SQL("INSERT INTO {} DEFAULT VALUES RETURNING ctid::text AS {}, *").format(
            name, sql.Identifier(_CTID)
        )
    return sql.SQL("INSERT INTO {} ({}){} VALUES ({}) RETURNING ctid::text AS {}, *").format(
        name,
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(" OVERRIDING SYSTEM VALUE" if overriding else ""),
        sql.SQL(", ").join(sql.Placeholder() for _ in columns),
        sql.Identifier(_CTID),
    )


class PostgresRows:
    """Rows through one connection; ``trial``/``batch`` nest as savepoints inside an open transaction.

    The outermost scope is psycopg's transaction; nested ones are savepoints of our own, because psycopg's take
    two round trips to undo (ROLLBACK TO, then RELEASE) and the fuzz undoes two or three per example.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._depth = 0
        self._inserts: dict[tuple[str, tuple[str, ...], bool], bytes] = {}

    @contextmanager
    def _scope(self, *, undo: bool) -> Iterator[None]:
        outer = self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with _as_row_errors(), self.conn.transaction(force_rollback=undo) if outer else nullcontext():
            name = f"harness_rows_{self._depth}".encode()
            # Two statements in one simple query: one round trip where psycopg's savepoints take two.
            back = b"ROLLBACK TO SAVEPOINT " + name + b"; RELEASE SAVEPOINT " + name
            if not outer:
                self._command(b"SAVEPOINT " + name)
            if undo and self._depth == 0:
                self.conn.execute("SET LOCAL TimeZone = 'UTC'")
                self.conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                if not outer:
                    with suppress(psycopg.Error):  # the connection may be gone: the first error is the one to tell
                        self._command(back)
                raise
            finally:
                self._depth -= 1
            if not outer:
                self._command(back if undo else b"RELEASE SAVEPOINT " + name)

    def _command(self, command: bytes) -> None:
        self.conn.execute(command, prepare=False)

    def batch(self) -> AbstractContextManager[None]:
        return self._scope(undo=False)

    def trial(self) -> AbstractContextManager[None]:
        return self._scope(undo=True)

    def _insert_query(self, table: Table, columns: list[str]) -> bytes:
        """The INSERT for these columns, composed once (psycopg would compose it again at every call)."""
        overriding = _overriding(table, columns)
        key = (table.name, tuple(columns), overriding)
        query = self._inserts.get(key)
        if query is None:
            query = self._inserts[key] = _insert_sql(table, columns, overriding).as_bytes(self.conn)
        return query

    def insert(self, table: Table, row: Mapping[str, object], *, read_back: bool = False) -> Row:
        columns = list(row)
        params = [_value(table, c, v) for c, v in row.items()]
        with _as_row_errors(), self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(self._insert_query(table, columns), params)
            stored = cur.fetchone()
            assert stored is not None
            ctid = stored.pop(_CTID)
            if not read_back:
                return dict(stored)
            query = sql.SQL("SELECT * FROM {} WHERE ctid = %s::tid").format(sql.Identifier(table.name))
            cur.execute(query, [ctid])
            found = cur.fetchone()
        return dict(found) if found else {}

    def select(self, table: Table, where: Mapping[str, object] | None = None) -> list[Row]:
        query = sql.SQL("SELECT * FROM {} WHERE {}").format(sql.Identifier(table.name), _where(where))
        with _as_row_errors(), self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, _params(table, where or {}))
            return [dict(r) for r in cur.fetchall()]

    def exists(self, table: Table, where: Mapping[str, object]) -> bool:
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(sql.Identifier(table.name), _where(where))
        with _as_row_errors():
            found = self.conn.execute(query, _params(table, where)).fetchone()
        return bool(found and found[0])

    def count(self, table: Table) -> int:
        with _as_row_errors():
            found = self.conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.name))).fetchone()
        return int(found[0]) if found else 0

    def delete(self, table: Table, where: Mapping[str, object]) -> None:
        query = sql.SQL("DELETE FROM {} WHERE {}").format(sql.Identifier(table.name), _where(where))
        with _as_row_errors():
            self.conn.execute(query, _params(table, where))

    def probe(self, table: Table, row: Mapping[str, object]) -> tuple[str | None, RowError] | None:
        """Each non-null value alone into a constraint-free copy of the table (a temporary table, rolled back)."""
        with _as_row_errors(), self.conn.transaction(force_rollback=True):
            self.conn.execute(
                sql.SQL("CREATE TEMP TABLE {} AS SELECT * FROM {} WITH NO DATA").format(
                    sql.Identifier(PROBE_TABLE), sql.Identifier(table.name)
                )
            )
            for name, value in row.items():
                if value is None:
                    continue
                insert = sql.SQL("INSERT INTO {} ({}) VALUES (%s)").format(
                    sql.Identifier(PROBE_TABLE), sql.Identifier(name)
                )
                try:
                    with self.conn.transaction():
                        self.conn.execute(insert, [_value(table, name, value)])
                except psycopg.Error as exc:
                    return name, row_error(exc)
        return None
