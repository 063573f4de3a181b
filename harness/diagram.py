"""Draw the schema the migrations build as a contract diagram (``harness diagram``), for teams without one.

Pure: SchemaModels in, a markdown-ready ```mermaid block out; no database driver. The output is in the
contract's own format (harness.schema.contract), chosen so that
``compare(parse_contract(render_diagram(pg, cs)), pg, cs)`` finds no error:

- one class per table, ``PG_`` / ``C_`` + a CamelCase spelling whose snake_case() is the table name
  again (``groups_users_user`` -> ``PG_GroupsUsersUser``). When no CamelCase spelling maps back
  (``a_b_c`` -> ``ABC`` -> ``abc``), the class is named after the table as is (``PG_a_b_c``), with a
  ``%%`` note. A table no class name can map back to (upper case, ``__``, characters outside
  ``\\w``) is left out with a note: compare() then reports it as an extra table (a warning), not as
  a table the contract names wrongly;
- one ``+type column`` member per column, the type from harness.schema.types.describe_type (the most
  specific contract name, else the store's own type name); a type of several words is written
  ``+column: type``; a column whose name is no mermaid identifier is left out with a note (compare()
  will then report it as a column not in the contract);
- keys as ``%%`` notes above each class (mermaid has no key marker, and inside a class body mermaid
  would show a comment as a member);
- one ``PG_Parent "1" --> "many" PG_Child : column`` relation per foreign key (``"0..1"`` when the
  foreign key's columns are also unique), sorted by parent, child, columns. Links across stores
  (``..>``) are not recorded by any database, so a note says to draw them by hand.

Tables are in name order, columns in the model's order (Cassandra: partition key, clustering, then the
rest by name), so the same schema always gives the same text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from harness.registry import store_kind
from harness.schema.contract import DEFAULT_PREFIXES, split_class_name
from harness.schema.model import Column, Constraint, SchemaModel, Store, Table
from harness.schema.typeexpr import TypeSyntaxError, parse_type
from harness.schema.types import describe_type

_IDENT = re.compile(r"[A-Za-z_]\w*")


def camel_case(table: str) -> str:
    """``groups_users_user`` -> ``GroupsUsersUser`` (may not map back; see class_name)."""
    return "".join(part[:1].upper() + part[1:] for part in table.split("_"))


def class_name(
    store: Store, table: str, prefixes: Mapping[str, Store] = DEFAULT_PREFIXES
) -> tuple[str | None, str | None]:
    """(class name or None, note or None) for a table: CamelCase when it maps back, else the table as is."""
    prefix = _prefix(store, prefixes)
    for candidate in (camel_case(table), table):
        name = prefix + candidate
        if _IDENT.fullmatch(name) and split_class_name(name, prefixes) == (store, table):
            if candidate == table and candidate != camel_case(table):
                return name, f"no CamelCase class name maps back to table {table}; the class is named as the table"
            return name, None
    return None, f"table {table} is not drawn: no class name maps back to it (the contract's names are snake_case)"


def _prefix(store: Store, prefixes: Mapping[str, Store]) -> str:
    for prefix, kind in prefixes.items():
        if kind == store:
            return prefix
    raise ValueError(f"no class prefix names the {store} store (prefixes: {', '.join(sorted(prefixes))})")


def _member(store: Store, column: Column) -> str | None:
    """The member line of a column, or None when the contract could not read it back."""
    if not _IDENT.fullmatch(column.name):
        return None
    type_ = describe_type(store, column.type)
    try:
        readable = str(parse_type(type_)) == type_ and ":" not in type_ and type_[:1] not in "+-#~"
    except TypeSyntaxError:
        readable = False
    if not readable:
        return None
    return f"+{column.name}: {type_}" if " " in type_ else f"+{type_} {column.name}"


def _cols(columns: tuple[str, ...]) -> str:
    return ", ".join(columns)


def _key_note(store: Store, table: Table) -> str | None:
    """The keys of a table in words: ``primary key (id); unique (email)`` or Cassandra's key columns."""
    if store == "cassandra":
        names = {k: tuple(c.name for c in table.columns if c.kind == k) for k in ("partition_key", "static")}
        order = tuple(
            f"{c.name} {(c.clustering_order or 'asc').upper()}" for c in table.columns if c.kind == "clustering"
        )
        notes = [f"partition key ({_cols(names['partition_key'])})"] if names["partition_key"] else []
        notes += [f"clustering {_cols(order)}"] if order else []
        notes += [f"static {_cols(names['static'])}"] if names["static"] else []
        return "; ".join(notes) or None
    keys = sorted(
        (c for c in table.constraints if c.kind in ("primary_key", "unique")),
        key=lambda c: (c.kind != "primary_key", c.name),
    )
    text = "; ".join(f"{'primary key' if c.kind == 'primary_key' else 'unique'} ({_cols(c.columns)})" for c in keys)
    return text or None


@dataclass
class _Drawn:
    """What one store's section drew: table -> class name, and the notes to print with the section."""

    classes: dict[str, str]
    lines: list[str]


def _section(model: SchemaModel, prefixes: Mapping[str, Store]) -> _Drawn:
    store = model.store
    out = _Drawn({}, [f"%% === {store_kind(store).title} Tables ==="])
    for table in model.tables:
        name, note = class_name(store, table.name, prefixes)
        if note:
            out.lines.append(f"%% {note}")
        if name is None:
            out.lines.append("")
            continue
        out.classes[table.name] = name
        members: list[str] = []
        for column in table.columns:
            member = _member(store, column)
            if member is None:
                out.lines.append(f"%% column {column.name!r} ({column.type}) cannot be written as a member")
            else:
                members.append(f"    {member}")
        key = _key_note(store, table)
        if key:
            out.lines.append(f"%% {table.name}: {key}")
        out.lines += [f"class {name} {{", *members, "}", ""]
    if not model.tables:
        out.lines += ["%% (no tables)", ""]
    return out


def _unique(table: Table, columns: tuple[str, ...]) -> bool:
    return any(c.kind in ("primary_key", "unique") and set(c.columns) == set(columns) for c in table.constraints)


def _relations(model: SchemaModel, classes: dict[str, str]) -> list[str]:
    found: list[tuple[str, str, str, str]] = []
    notes: list[str] = []
    for table in model.tables:
        if table.name not in classes:
            continue
        fk: Constraint
        for fk in table.foreign_keys:
            ref = fk.ref_table or ""
            if ref not in classes:
                notes.append(f"%% {table.name}.{_cols(fk.columns)} references {ref}, which is not drawn")
                continue
            many = '"0..1"' if _unique(table, fk.columns) else '"many"'
            found.append((ref, table.name, _cols(fk.columns), many))
    lines = [f'{classes[ref]} "1" --> {many} {classes[child]} : {label}' for ref, child, label, many in sorted(found)]
    return [f"%% === {store_kind('postgres').title} Relationships ===", *notes, *lines, ""] if found or notes else []


def render_diagram(
    postgres: SchemaModel | None,
    cassandra: SchemaModel | None,
    *,
    prefixes: Mapping[str, Store] = DEFAULT_PREFIXES,
) -> str:
    """The ```mermaid classDiagram of the given models (None: that store is left out), ending in a newline."""
    lines = ["```mermaid", "classDiagram", ""]
    for store, model in (("postgres", postgres), ("cassandra", cassandra)):
        if model is not None and model.store != store:
            raise ValueError(f"the {store} argument holds a {model.store} model")
    pg_classes: dict[str, str] = {}
    if postgres is not None:
        drawn = _section(postgres, prefixes)
        pg_classes = drawn.classes
        lines += drawn.lines
    if cassandra is not None:
        lines += _section(cassandra, prefixes).lines
    if postgres is not None:
        lines += _relations(postgres, pg_classes)
    if postgres is not None and cassandra is not None:
        example = f"{_prefix('cassandra', prefixes)}Table ..> {_prefix('postgres', prefixes)}Table : column"
        lines += [
            "%% === Symbolic Cassandra Links ===",
            f"%% No database records a reference across stores; draw each by hand: {example}",
            "",
        ]
    while lines[-1] == "":
        lines.pop()
    return "\n".join([*lines, "```"]) + "\n"
