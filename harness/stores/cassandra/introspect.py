"""Snapshot one Cassandra keyspace from system_schema into a SchemaModel.

One query per system_schema table, filtered by keyspace (a handful in all), so it is cheap to run
before and after every migration. Kept: tables, columns (kind, position, clustering order, type),
secondary indexes, materialized views, user types, functions, aggregates, triggers, the table options
that change behaviour (compaction, default_time_to_live, gc_grace_seconds) and the keyspace's
replication. Table ids and other generated values are left out so snapshots compare by content.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from harness.schema.model import (
    Column,
    Function,
    Index,
    MaterializedView,
    SchemaModel,
    Table,
    Trigger,
    UserType,
)

if TYPE_CHECKING:
    from cassandra.cluster import Session
else:
    Session = Any

DEFAULT_EXCLUDE = ("schema_migrations", "schema_migrations_lock")
_KEY_KINDS = ("partition_key", "clustering")
_T = TypeVar("_T")


def _rows(session: Session, cql: str, keyspace: str) -> list[dict[str, Any]]:
    return _dicts(session.execute(cql, (keyspace,)))


def _dicts(result: Any) -> list[dict[str, Any]]:
    """Rows as dicts whatever row factory the session uses (tuples, named tuples or dicts)."""
    names = list(getattr(result, "column_names", None) or [])
    out: list[dict[str, Any]] = []
    for row in result:
        if isinstance(row, Mapping):
            out.append(dict(row))
        elif hasattr(row, "_asdict"):
            out.append(dict(row._asdict()))
        else:
            out.append(dict(zip(names, row, strict=True)))
    return out


def cassandra_keyspace_exists(session: Session, keyspace: str) -> bool:
    """Whether ``keyspace`` exists (names are case-sensitive as stored, i.e. lower case unless quoted)."""
    rows = _rows(session, "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = %s", keyspace)
    return bool(rows)


def _table_options(row: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    opts: dict[str, str] = {}
    for key, value in sorted(dict(row.get("compaction") or {}).items()):
        opts[f"compaction.{key}"] = str(value)
    for key in ("default_time_to_live", "gc_grace_seconds"):
        if row.get(key) is not None:
            opts[key] = str(row[key])
    return tuple(opts.items())


def _column(row: Mapping[str, Any]) -> Column:
    order = row.get("clustering_order")
    return Column(
        name=row["column_name"],
        type=row["type"],
        nullable=row["kind"] not in _KEY_KINDS,
        kind=row["kind"],
        position=int(row["position"]),
        clustering_order=order if order and order != "none" else None,
    )


def _index(row: Mapping[str, Any]) -> Index:
    opts = dict(row.get("options") or {})
    target = opts.get("target", "")
    method = opts.get("class_name") or str(row.get("kind", "")).lower()
    return Index(
        name=row["index_name"],
        table=row["table_name"],
        method=method,
        columns=(target,) if target else (),
        definition=f"CREATE INDEX {row['index_name']} ON {row['table_name']} ({target})",
        options=tuple((k, str(v)) for k, v in opts.items() if k not in ("target", "class_name")),
    )


_SYSTEM_TABLES = ("keyspaces", "tables", "columns", "indexes", "views", "types", "functions", "aggregates", "triggers")


def _read_system_schema(session: Session, keyspace: str) -> dict[str, list[dict[str, Any]]]:
    """One query per system_schema table, filtered by keyspace: a fixed handful however many tables there are, sent
    together (a snapshot runs before and after every migration; one query after another took about twice as long)."""
    sent = {
        name: session.execute_async(f"SELECT * FROM system_schema.{name} WHERE keyspace_name = %s", (keyspace,))
        for name in _SYSTEM_TABLES
    }
    return {name: _dicts(future.result()) for name, future in sent.items()}


def _by_table(rows: Iterable[Mapping[str, Any]], build: Callable[[Mapping[str, Any]], _T]) -> dict[str, list[_T]]:
    """Built objects grouped by their row's table_name, for the tables and views to pick up."""
    out: dict[str, list[_T]] = defaultdict(list)
    for row in rows:
        out[row["table_name"]].append(build(row))
    return out


def _keyspace_options(ks: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """Replication and durable_writes; none for a keyspace that does not exist."""
    options: dict[str, str] = {}
    if ks:
        for key, value in sorted(dict(ks[0].get("replication") or {}).items()):
            options[f"replication.{key}"] = str(value)
        options["durable_writes"] = str(ks[0].get("durable_writes"))
    return tuple(options.items())


def _materialized_view(row: Mapping[str, Any], cols: Mapping[str, list[Column]]) -> MaterializedView:
    return MaterializedView(
        name=row["view_name"],
        definition=row.get("where_clause") or "",
        columns=tuple(cols.get(row["view_name"], ())),
        base_table=row["base_table_name"],
        options=(*_table_options(row), ("include_all_columns", str(row.get("include_all_columns")))),
    )


def _user_type(row: Mapping[str, Any]) -> UserType:
    return UserType(
        name=row["type_name"],
        fields=tuple(zip(row.get("field_names") or (), row.get("field_types") or (), strict=True)),
    )


def _function(row: Mapping[str, Any]) -> Function:
    """Cassandra keeps no CREATE text; the parts that define behaviour are joined into one definition."""
    arguments = zip(row.get("argument_names") or (), row.get("argument_types") or (), strict=True)
    null_input = "CALLED" if row.get("called_on_null_input") else "RETURNS NULL"
    return Function(
        name=row["function_name"],
        arguments=", ".join(f"{n} {t}" for n, t in arguments),
        result=row.get("return_type") or "",
        kind="function",
        language=row.get("language") or "",
        definition=f"{null_input} ON NULL INPUT AS {row.get('body') or ''}",
    )


def _aggregate(row: Mapping[str, Any]) -> Function:
    return Function(
        name=row["aggregate_name"],
        arguments=", ".join(row.get("argument_types") or ()),
        result=row.get("return_type") or "",
        kind="aggregate",
        definition=f"SFUNC {row.get('state_func')} STYPE {row.get('state_type')} "
        f"FINALFUNC {row.get('final_func')} INITCOND {row.get('initcond')}",
    )


def _trigger(row: Mapping[str, Any]) -> Trigger:
    return Trigger(name=row["trigger_name"], table=row["table_name"], definition=str(dict(row.get("options") or {})))


def introspect_cassandra(
    session: Session,
    keyspace: str,
    exclude_tables: Collection[str] = DEFAULT_EXCLUDE,
) -> SchemaModel:
    """Everything migrations can change in ``keyspace``, minus the ledger tables in ``exclude_tables``.

    A keyspace that does not exist gives an empty model; use cassandra_keyspace_exists to tell apart.
    """
    excluded = set(exclude_tables)
    rows = _read_system_schema(session, keyspace)
    cols = _by_table(rows["columns"], _column)
    idx = _by_table(rows["indexes"], _index)
    return SchemaModel(
        store="cassandra",
        tables=tuple(
            Table(
                name=row["table_name"],
                columns=tuple(cols.get(row["table_name"], ())),
                indexes=tuple(idx.get(row["table_name"], ())),
                options=_table_options(row),
            )
            for row in rows["tables"]
            if row["table_name"] not in excluded
        ),
        materialized_views=tuple(_materialized_view(row, cols) for row in rows["views"]),
        user_types=tuple(_user_type(row) for row in rows["types"]),
        functions=(*map(_function, rows["functions"]), *map(_aggregate, rows["aggregates"])),
        triggers=tuple(_trigger(row) for row in rows["triggers"] if row["table_name"] not in excluded),
        options=_keyspace_options(rows["keyspaces"]),
    )
