"""Snapshot one PostgreSQL schema from the catalogs into a SchemaModel.

It runs before and after every migration, so it asks a fixed handful of queries (one per object kind,
never one per table). Only what a migration changes is kept: names, types, definitions as the server
prints them (format_type, pg_get_expr, pg_get_constraintdef, pg_get_indexdef); never OIDs. Objects
that belong to an extension are the extension's, so only the extension itself is listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from typing import Any, NamedTuple

import psycopg

from harness.schema.model import (
    Column,
    Constraint,
    Domain,
    Enum,
    Extension,
    Function,
    Index,
    MaterializedView,
    SchemaModel,
    Sequence,
    Table,
    Trigger,
    UserType,
    View,
)

DEFAULT_EXCLUDE = ("schema_migrations", "harness_migrations")


def _not_extension_member(catalog: str, alias: str) -> str:
    return (
        f"NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass "
        f"AND d.objid = {alias}.oid AND d.deptype = 'e')"
    )


_RELATIONS = f"""
SELECT c.relname, c.relkind::text, c.relpersistence::text,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_by,
       CASE WHEN c.relispartition THEN
           (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid)
           || ' ' || pg_get_expr(c.relpartbound, c.oid) END AS partition_of,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS definition,
       c.relrowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'c')
  AND {_not_extension_member("pg_class", "c")}
"""

_COLUMNS = f"""
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       pg_get_expr(ad.adbin, ad.adrelid) AS default, a.attidentity::text, a.attgenerated::text,
       row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum) AS position
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'c')
  AND {_not_extension_member("pg_class", "c")}
"""

_CONSTRAINTS = """
SELECT t.relname, con.conname, con.contype::text,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.i) AS columns,
       CASE WHEN rn.nspname = n.nspname THEN rt.relname ELSE rn.nspname || '.' || rt.relname END AS ref_table,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.i) AS ref_columns,
       con.confdeltype::text, con.confupdtype::text, pg_get_constraintdef(con.oid, true) AS definition
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_class rt ON rt.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rt.relnamespace
WHERE n.nspname = %(schema)s AND con.contype IN ('p', 'u', 'f', 'c', 'x')
"""

_INDEXES = """
SELECT t.relname AS table, i.relname AS name, am.amname, x.indisunique, x.indisprimary,
       pg_get_expr(x.indpred, x.indrelid, true) AS predicate, pg_get_indexdef(x.indexrelid) AS definition,
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
             FROM generate_series(1, x.indnkeyatts) k ORDER BY k) AS columns
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = i.relam
WHERE n.nspname = %(schema)s
"""

_SEQUENCES = f"""
SELECT c.relname, format_type(s.seqtypid, NULL) AS type, s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
       s.seqcache, s.seqcycle,
       (SELECT t.relname || '.' || a.attname FROM pg_depend d
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        ORDER BY 1 LIMIT 1) AS owned_by
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND {_not_extension_member("pg_class", "c")}
"""

_TYPES = f"""
SELECT t.typname::text, t.typtype::text,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels,
       format_type(t.typbasetype, t.typtypmod) AS base_type, t.typnotnull, t.typdefault,
       ARRAY(SELECT pg_get_constraintdef(c.oid, true) FROM pg_constraint c
             WHERE c.contypid = t.oid ORDER BY c.conname) AS checks
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = %(schema)s AND t.typtype IN ('e', 'd') AND {_not_extension_member("pg_type", "t")}
"""

_FUNCTIONS = f"""
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments,
       coalesce(pg_get_function_result(p.oid), '') AS result, p.prokind::text, l.lanname,
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) ELSE '' END AS definition
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE n.nspname = %(schema)s AND {_not_extension_member("pg_proc", "p")}
"""

_TRIGGERS = """
SELECT t.relname, g.tgname, pg_get_triggerdef(g.oid, true) AS definition, g.tgenabled::text
FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %(schema)s AND NOT g.tgisinternal
"""

_EXTENSIONS = """
SELECT e.extname, e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
"""

_CONSTRAINT_KIND = {"p": "primary_key", "u": "unique", "f": "foreign_key", "c": "check", "x": "exclusion"}
_FK_ACTION = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}
_FUNCTION_KIND = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}
_IDENTITY = {"a": "always", "d": "by default"}


_Row = tuple[Any, ...]


class _CatalogRows(NamedTuple):
    relations: list[_Row]
    columns: list[_Row]
    constraints: list[_Row]
    indexes: list[_Row]
    sequences: list[_Row]
    types: list[_Row]
    functions: list[_Row]
    triggers: list[_Row]
    extensions: list[_Row]


class _RelationObjects(NamedTuple):
    tables: list[Table]
    views: list[View]
    matviews: list[MaterializedView]
    user_types: list[UserType]


def _rows(cur: psycopg.Cursor[Any], sql: str, schema: str) -> list[_Row]:
    cur.execute(sql, {"schema": schema})
    return list(cur.fetchall())


def _read_catalogs(conn: psycopg.Connection[Any], schema: str) -> _CatalogRows:
    """All queries in one transaction block (a savepoint inside the caller's), closed here so no state is left."""
    with conn.transaction(), conn.cursor() as cur:
        relations = _rows(cur, _RELATIONS, schema)
        columns = _rows(cur, _COLUMNS, schema)
        constraints = _rows(cur, _CONSTRAINTS, schema)
        indexes = _rows(cur, _INDEXES, schema)
        sequences = _rows(cur, _SEQUENCES, schema)
        type_rows = _rows(cur, _TYPES, schema)
        functions = _rows(cur, _FUNCTIONS, schema)
        triggers = _rows(cur, _TRIGGERS, schema)
        cur.execute(_EXTENSIONS)
        extensions = list(cur.fetchall())
    return _CatalogRows(relations, columns, constraints, indexes, sequences, type_rows, functions, triggers, extensions)


def _columns_by_table(rows: Iterable[_Row]) -> dict[str, list[Column]]:
    """A generated column's expression comes back as its default; it is kept as ``generated`` instead."""
    cols: dict[str, list[Column]] = defaultdict(list)
    for rel, name, type_, notnull, default, identity, generated, position in rows:
        cols[rel].append(
            Column(
                name=name,
                type=type_,
                nullable=not notnull,
                default=None if generated else default,
                position=int(position),
                identity=_IDENTITY.get(identity),
                generated=default if generated else None,
            )
        )
    return cols


def _constraints_by_table(rows: Iterable[_Row]) -> dict[str, list[Constraint]]:
    """Reference fields only for foreign keys: the catalog fills confdeltype and friends for other kinds too."""
    cons: dict[str, list[Constraint]] = defaultdict(list)
    for rel, name, kind, ccols, ref_table, ref_cols, on_delete, on_update, definition in rows:
        fk = kind == "f"
        cons[rel].append(
            Constraint(
                name=name,
                kind=_CONSTRAINT_KIND[kind],
                columns=tuple(ccols),
                ref_table=ref_table if fk else None,
                ref_columns=tuple(ref_cols) if fk else (),
                on_delete=_FK_ACTION.get(on_delete) if fk else None,
                on_update=_FK_ACTION.get(on_update) if fk else None,
                definition=definition,
            )
        )
    return cons


def _indexes_by_table(rows: Iterable[_Row]) -> dict[str, list[Index]]:
    idx: dict[str, list[Index]] = defaultdict(list)
    for rel, name, method, unique, primary, predicate, definition, icols in rows:
        idx[rel].append(
            Index(
                name=name,
                table=rel,
                method=method,
                columns=tuple(icols),
                unique=unique,
                primary=primary,
                predicate=predicate,
                definition=definition,
            )
        )
    return idx


def _table_options(
    kind: str, persistence: str, partition_by: str | None, partition_of: str | None, row_security: bool
) -> tuple[tuple[str, str], ...]:
    """Only the options that differ from a plain logged table, so plain tables compare equal."""
    opts = {
        "persistence": {"u": "unlogged", "t": "temporary"}.get(persistence),
        "partition_by": partition_by,
        "partition_of": partition_of,
        "row_security": "enabled" if row_security else None,
        "foreign": "yes" if kind == "f" else None,
    }
    return tuple((k, v) for k, v in opts.items() if v is not None)


def _relation_objects(
    rows: Iterable[_Row],
    cols: Mapping[str, list[Column]],
    cons: Mapping[str, list[Constraint]],
    idx: Mapping[str, list[Index]],
    excluded: Collection[str],
) -> _RelationObjects:
    """Sort pg_class rows by relkind: one query serves tables, views, materialized views and composite types."""
    out = _RelationObjects([], [], [], [])
    for name, kind, persistence, partition_by, partition_of, definition, row_security in rows:
        columns = tuple(cols.get(name, ()))
        if kind in ("r", "p", "f"):
            if name in excluded:
                continue
            out.tables.append(
                Table(
                    name=name,
                    columns=columns,
                    constraints=tuple(cons.get(name, ())),
                    indexes=tuple(idx.get(name, ())),
                    options=_table_options(kind, persistence, partition_by, partition_of, row_security),
                )
            )
        elif kind == "v":
            out.views.append(View(name=name, definition=definition or "", columns=columns))
        elif kind == "m":
            out.matviews.append(
                MaterializedView(
                    name=name, definition=definition or "", columns=columns, indexes=tuple(idx.get(name, ()))
                )
            )
        else:  # "c": a standalone composite type
            out.user_types.append(UserType(name=name, fields=tuple((c.name, c.type) for c in columns)))
    return out


def _enums_and_domains(rows: Iterable[_Row]) -> tuple[list[Enum], list[Domain]]:
    """One pg_type query serves both kinds; split it by typtype."""
    enums: list[Enum] = []
    domains: list[Domain] = []
    for name, kind, labels, base_type, notnull, default, checks in rows:
        if kind == "e":
            enums.append(Enum(name=name, labels=tuple(labels)))
        else:
            domains.append(
                Domain(name=name, base_type=base_type, nullable=not notnull, default=default, checks=tuple(checks))
            )
    return enums, domains


def _sequences(rows: Iterable[_Row], excluded: Collection[str]) -> tuple[Sequence, ...]:
    """A sequence owned by an excluded ledger table is the ledger's, so it is left out with it."""
    return tuple(
        Sequence(
            name=name,
            data_type=type_,
            start=start,
            increment=inc,
            minimum=minimum,
            maximum=maximum,
            cache=cache,
            cycle=cycle,
            owned_by=owned_by,
        )
        for name, type_, start, inc, minimum, maximum, cache, cycle, owned_by in rows
        if not (owned_by and owned_by.split(".", 1)[0] in excluded)
    )


def _function(row: _Row) -> Function:
    kind: str  # prokind::text; typed, so that .get(kind, kind) is a str
    name, args, result, kind, lang, definition = row
    return Function(
        name=name,
        arguments=args,
        result=result,
        kind=_FUNCTION_KIND.get(kind, kind),
        language=lang,
        definition=definition,
    )


def _triggers(rows: Iterable[_Row], excluded: Collection[str]) -> tuple[Trigger, ...]:
    return tuple(
        Trigger(name=name, table=rel, definition=definition, enabled=enabled)
        for rel, name, definition, enabled in rows
        if rel not in excluded
    )


def introspect_postgres(
    conn: psycopg.Connection[Any],
    schema: str = "public",
    exclude_tables: Collection[str] = DEFAULT_EXCLUDE,
) -> SchemaModel:
    """Everything migrations can change in ``schema``, minus the ledger tables in ``exclude_tables``.

    Runs in its own transaction block (a savepoint when the caller has one open) and leaves no state.
    """
    excluded = set(exclude_tables)
    rows = _read_catalogs(conn, schema)
    cols = _columns_by_table(rows.columns)
    idx = _indexes_by_table(rows.indexes)
    relations = _relation_objects(rows.relations, cols, _constraints_by_table(rows.constraints), idx, excluded)
    enums, domains = _enums_and_domains(rows.types)
    return SchemaModel(
        store="postgres",
        tables=tuple(relations.tables),
        sequences=_sequences(rows.sequences, excluded),
        enums=tuple(enums),
        views=tuple(relations.views),
        materialized_views=tuple(relations.matviews),
        functions=tuple(map(_function, rows.functions)),
        triggers=_triggers(rows.triggers, excluded),
        extensions=tuple(Extension(name=n, version=v, schema=s) for n, v, s in rows.extensions),
        user_types=tuple(relations.user_types),
        domains=tuple(domains),
    )
