"""Check live schema models against the contract diagram; every finding, never only the first.

Pure: takes a parsed Contract and the introspected models (None for a store that was not introspected,
whose checks are then skipped) and returns Findings. Messages start with the store prefix (``PG`` /
``C``) and the table, e.g. ``PG users.email: contract string, database integer``; collections
read the same (``C user_tags.tags: contract List~string~, database set<text>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.schema import types as schema_types
from harness.schema.contract import Contract, ContractClass, Link, Relation
from harness.schema.model import SchemaModel, Store, Table

Level = Literal["error", "warning"]
PREFIX: dict[Store, str] = {"postgres": "PG", "cassandra": "C"}

ONE = frozenset({"1", "0..1", "1..1", "one"})
MANY = frozenset({"many", "*", "0..*", "1..*", "n", "0..n", "1..n", "m"})


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"


def _resolve(model: SchemaModel, store_type: str) -> str:
    """A PostgreSQL domain stands for its base type; an enum for text (it stores labels); in arrays too."""
    if model.store == "postgres" and store_type.strip().endswith("[]"):
        return _resolve(model, store_type.strip()[:-2]) + "[]"
    base = schema_types.base_type(store_type)
    domain = next((d for d in model.domains if d.name == base), None)
    if domain is not None:
        return domain.base_type
    if any(e.name == base for e in model.enums):
        return "text"
    return store_type


def _type_ok(model: SchemaModel, contract_type: str, store_type: str) -> bool:
    return schema_types.compatible(model.store, contract_type, store_type) or schema_types.compatible(
        model.store, contract_type, _resolve(model, store_type)
    )


def _check_class(cls: ContractClass, model: SchemaModel) -> list[Finding]:
    p = f"{PREFIX[cls.store]} {cls.table_name}"
    table = model.table(cls.table_name)
    if table is None:
        return [Finding("error", "table-missing", f"{p}: table missing")]
    out: list[Finding] = []
    for m in cls.members:
        col = table.column(m.name)
        if col is None:
            out.append(Finding("error", "column-missing", f"{p}.{m.name}: column missing"))
        elif _type_ok(model, m.type, col.type):
            continue
        elif not schema_types.is_known(cls.store, m.type):
            known = ", ".join(sorted(schema_types.TYPE_MAPS[cls.store]))
            out.append(
                Finding(
                    "error",
                    "unknown-type",
                    f"{p}.{m.name}: contract type {m.type} is not in the {cls.store} type table "
                    f"(known: {known}), database {col.type}",
                )
            )
        else:
            out.append(Finding("error", "type-mismatch", f"{p}.{m.name}: contract {m.type}, database {col.type}"))
    for col in table.columns:
        if cls.member(col.name) is None:
            out.append(Finding("error", "column-extra", f"{p}.{col.name}: column not in contract"))
    return out


def _relation_name(rel: Relation) -> str:
    return f'relation "{rel.label}"' if rel.label else f"relation on line {rel.line}"


def _has_fk(table: Table, referenced: str) -> bool:
    return any(fk.ref_table == referenced for fk in table.foreign_keys)


def _check_relation(rel: Relation, contract: Contract, pg: SchemaModel | None) -> list[Finding]:
    src, dst = contract.classes[rel.source], contract.classes[rel.target]
    if src.store != dst.store:
        return [
            Finding(
                "warning",
                "relation-cross-store",
                f"{PREFIX[src.store]} {src.table_name} -> {PREFIX[dst.store]} {dst.table_name}: "
                f"{_relation_name(rel)} crosses stores, no database can enforce it; draw it as '..>'",
            )
        ]
    if src.store != "postgres" or pg is None:
        return []
    a, b = pg.table(src.table_name), pg.table(dst.table_name)
    if a is None or b is None:
        return []  # reported as table-missing
    am, bm = (rel.source_mult or "").lower(), (rel.target_mult or "").lower()
    if am in ONE and bm in MANY:
        pairs = [(b, a)]
    elif am in MANY and bm in ONE:
        pairs = [(a, b)]
    elif am in ONE and bm in ONE:
        pairs = [(b, a), (a, b)]
    else:
        return []  # no multiplicities, or many-to-many: nothing a single foreign key could prove
    if any(_has_fk(many, one.name) for many, one in pairs):
        return []
    many, one = pairs[0]
    arrow = "<->" if len(pairs) == 2 else "->"
    return [
        Finding(
            "error", "foreign-key-missing", f"PG {many.name} {arrow} {one.name}: no foreign key ({_relation_name(rel)})"
        )
    ]


@dataclass(frozen=True)
class _End:
    """One end of a link: its columns' types and primary key, from the database when introspected."""

    cls: ContractClass
    types: dict[str, str]
    primary_key: tuple[str, ...]
    model: SchemaModel | None

    def families(self, column: str) -> frozenset[str]:
        t = self.types[column]
        if self.model is None:
            return schema_types.contract_families(t)
        return schema_types.families(self.cls.store, _resolve(self.model, t))

    def name(self, column: str | None = None) -> str:
        base = f"{PREFIX[self.cls.store]} {self.cls.table_name}"
        return f"{base}.{column}" if column else base


def _end(cls: ContractClass, model: SchemaModel | None) -> _End | None:
    if model is None:
        # A diagram marks no primary key; a member named "id" is the usual one.
        pk = ("id",) if cls.member("id") else ()
        return _End(cls, {m.name: m.type for m in cls.members}, pk, None)
    table = model.table(cls.table_name)
    if table is None:
        return None
    return _End(cls, {c.name: c.type for c in table.columns}, table.primary_key, model)


def _check_link(link: Link, contract: Contract, models: dict[Store, SchemaModel | None], strict: bool) -> list[Finding]:
    src_cls, dst_cls = contract.classes[link.source], contract.classes[link.target]
    label = f'link "{link.label}"' if link.label else f"link on line {link.line}"
    src, dst = _end(src_cls, models[src_cls.store]), _end(dst_cls, models[dst_cls.store])
    head = f"{PREFIX[src_cls.store]} {src_cls.table_name} ..> {PREFIX[dst_cls.store]} {dst_cls.table_name}"
    out = [
        Finding("error", "link-end-missing", f"{head}: {PREFIX[c.store]} {c.table_name} missing ({label})")
        for c, end in ((src_cls, src), (dst_cls, dst))
        if end is None
    ]
    if src is None or dst is None:
        return out
    col = link.label or ""
    if col in src.types and col in dst.types:
        pair = (col, col)
    elif col in src.types and len(dst.primary_key) == 1:
        pair = (col, dst.primary_key[0])
    elif col in dst.types and len(src.primary_key) == 1:
        pair = (src.primary_key[0], col)
    else:
        out.append(
            Finding(
                "warning",
                "link-unchecked",
                f"{head}: {label} names no column of both tables, nor one of a table whose other end "
                "has a single-column primary key; types not compared",
            )
        )
        return out
    a, b = pair
    fa, fb = src.families(a), dst.families(b)
    if fa and fb and not fa & fb:
        out.append(
            Finding(
                "error" if strict else "warning",
                "link-type-mismatch",
                f"{src.name(a)} ..> {dst.name(b)}: {src.types[a]} vs {dst.types[b]} ({label})",
            )
        )
    return out


def compare(
    contract: Contract,
    pg: SchemaModel | None,
    cassandra: SchemaModel | None,
    *,
    strict_links: bool = False,
    extra_tables: Level | None = "warning",
) -> list[Finding]:
    """Every finding of the contract against the models, in a stable order (classes, relations, links).

    ``extra_tables``: level of a finding for a table that is in the database but not in the contract
    (None: do not report them).
    """
    models: dict[Store, SchemaModel | None] = {"postgres": pg, "cassandra": cassandra}
    out: list[Finding] = []
    for store, model in models.items():
        if model is not None and model.store != store:
            raise ValueError(f"the {store} argument holds a {model.store} model")
    for cls in contract.classes.values():
        model = models[cls.store]
        if model is not None:
            out += _check_class(cls, model)
    for store, model in models.items():
        if model is None or extra_tables is None:
            continue
        named = {c.table_name for c in contract.for_store(store)}
        for table in model.tables:
            if table.name not in named:
                out.append(Finding(extra_tables, "table-extra", f"{PREFIX[store]} {table.name}: table not in contract"))
    for rel in contract.relations:
        out += _check_relation(rel, contract, pg)
    for link in contract.links:
        out += _check_link(link, contract, models, strict_links)
    return out


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]
