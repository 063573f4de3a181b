"""`reset` on PostgreSQL: empty exactly the named schemas of one database, nothing else.

Each schema is dropped with CASCADE and created again with its owner and privileges as they were. CASCADE would
also drop objects in *other* schemas that depend on these (a view elsewhere over one of our tables): such
dependents are looked up first and the reset is refused, naming them, so nothing outside the target goes.
Extensions installed in a target schema go with it; extensions elsewhere stay. With a token (`--once`), a reset
that the database already recorded is skipped, so a retried Job or a repeated deploy never resets twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from harness.errors import StoreError
from harness.stores.base import ResetResult

# An object outside the targets that depends on one inside. Sub-objects without a schema of their own (a column
# default, a trigger, a policy) are outside only when they do not belong (auto/internal dependency) to an object
# inside: a default of public.users is dropped with it; a trigger on other.t calling public.f() is not ours.
_OUTSIDE_DEPENDENTS = """
SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid),
                pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
FROM pg_depend d,
     LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) o,
     LATERAL pg_identify_object(d.refclassid, d.refobjid, d.refobjsubid) r
WHERE d.deptype IN ('n', 'a')
  AND r.schema = ANY(%(schemas)s)
  AND o.type <> 'schema'
  AND CASE WHEN o.schema IS NOT NULL THEN NOT o.schema = ANY(%(schemas)s)
           ELSE NOT EXISTS (SELECT 1 FROM pg_depend owner,
                                LATERAL pg_identify_object(owner.refclassid, owner.refobjid, owner.refobjsubid) w
                            WHERE owner.classid = d.classid AND owner.objid = d.objid
                              AND owner.deptype IN ('a', 'i') AND w.schema = ANY(%(schemas)s))
      END
ORDER BY 1
"""

_SCHEMAS = """
SELECT n.nspname, n.nspowner::regrole::text,
       coalesce((SELECT array_agg(format('%%s|%%s|%%s',
                                         CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                                         a.privilege_type, a.is_grantable))
                 FROM aclexplode(n.nspacl) a), '{}')
FROM pg_namespace n WHERE n.nspname = ANY(%(schemas)s)
"""


def _already_done(conn: psycopg.Connection[Any], table: sql.Composed, schema: str, token: str) -> bool:
    exists = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'harness_resets')", (schema,)
    ).fetchone()
    if not (exists and exists[0]):
        return False
    row = conn.execute(sql.SQL("SELECT 1 FROM {} WHERE token = %s").format(table), (token,)).fetchone()
    return row is not None


def _refuse_outside_dependents(conn: psycopg.Connection[Any], schemas: list[str]) -> None:
    rows = conn.execute(_OUTSIDE_DEPENDENTS, {"schemas": schemas}).fetchall()
    if rows:
        shown = "; ".join(f"{dependent} (depends on {referenced})" for dependent, referenced in rows[:10])
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        raise StoreError(
            f"refusing to reset schema(s) {', '.join(schemas)}: objects outside them depend on them and would be "
            f"dropped too: {shown}{more}; drop those first, or add their schemas to the reset (--schema)"
        )


def _restore(conn: psycopg.Connection[Any], name: str, owner: str, grants: Sequence[str]) -> None:
    schema = sql.Identifier(name)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
    try:
        with conn.transaction():
            conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, sql.Identifier(owner)))
    except psycopg.Error:
        pass  # not allowed to give it back (owner not a role we belong to): it stays ours, still empty
    for item in grants:
        grantee, privilege, grantable = item.split("|")
        if grantee == owner:
            continue
        who = sql.SQL("PUBLIC") if grantee == "PUBLIC" else sql.Identifier(grantee)
        option = sql.SQL(" WITH GRANT OPTION") if grantable == "true" else sql.SQL("")
        conn.execute(sql.SQL("GRANT {} ON SCHEMA {} TO {}{}").format(sql.SQL(privilege), schema, who, option))


def reset_schemas(
    conn: psycopg.Connection[Any], schemas: Sequence[str], resets: sql.Composed, ledger_schema: str, once: str | None
) -> ResetResult:
    """Drop and recreate ``schemas`` (owner and privileges kept) in one transaction; record ``once`` after it."""
    targets = list(dict.fromkeys(schemas))
    if once and _already_done(conn, resets, ledger_schema, once):
        return ResetResult(tuple(targets), skipped=True)
    _refuse_outside_dependents(conn, targets)
    found = conn.execute(_SCHEMAS, {"schemas": targets}).fetchall()
    with conn.transaction():
        for name, owner, grants in found:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
            _restore(conn, name, owner, grants)
        for name in targets:
            if name not in {row[0] for row in found}:
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        if once:
            conn.execute(
                sql.SQL("CREATE TABLE {} (token text PRIMARY KEY, reset_at timestamptz NOT NULL DEFAULT now())").format(
                    resets
                )
            )
            conn.execute(sql.SQL("INSERT INTO {} (token) VALUES (%s)").format(resets), (once,))
    return ResetResult(tuple(targets))
