"""Plans: what generating rows needs to know about each table, parents before children.

A column named in the contract takes values from its contract type's domain; a column the contract does
not name (or names with a type incompatible with the column, which the schema check reports) takes
values from its store type, sized to fit it. CHECK rules narrow the domain (see ``checkexpr``). Foreign
keys that a cycle or a self reference makes unsatisfiable stay NULL (or make the table unsupported when
they cannot be NULL). Pure: any SchemaModel plus Contract gives a plan per table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from harness.fuzz.checkexpr import CheckRule, parse_check, rule_applies
from harness.fuzz.kinds import CONTRACT_KINDS, Kind, store_kind
from harness.schema import types as schema_types
from harness.schema.contract import Contract
from harness.schema.model import SchemaModel, Store, Table

KEY_KINDS = ("partition_key", "clustering")


@dataclass(frozen=True)
class ColumnPlan:
    """One column: its store type and Kind, the domain valid values come from, and what may be omitted."""

    name: str
    store_type: str
    kind: Kind | None  # None: a type we cannot generate
    domain: Kind | None  # where valid values come from (contract type's, else the store kind)
    contract_type: str | None  # canonical contract type when the domain is the contract's
    nullable: bool
    defaulted: bool  # has a default, serial or BY DEFAULT identity: may be omitted
    identity_always: bool
    generated: bool
    key: str = "regular"  # Cassandra: partition_key / clustering / static / regular
    rules: tuple[CheckRule, ...] = ()

    @property
    def insertable(self) -> bool:
        return not self.generated

    @property
    def describe(self) -> str:
        return f"contract {self.contract_type}" if self.contract_type else f"{self.store_type} value"


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class TablePlan:
    store: Store
    name: str
    columns: tuple[ColumnPlan, ...]
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (constraint or index name, columns), PK included
    foreign_keys: tuple[ForeignKey, ...] = ()  # only those the generator satisfies
    null_foreign_keys: tuple[ForeignKey, ...] = ()  # cycle or self reference: always NULL
    checks: tuple[CheckRule, ...] = ()  # understood single-column CHECK rules
    unknown_checks: tuple[str, ...] = ()  # constraint names whose rejections are filtered, not reported
    unsupported: str | None = None  # why this table cannot be fuzzed
    partition_key: tuple[str, ...] = ()
    clustering: tuple[str, ...] = ()

    def column(self, name: str) -> ColumnPlan:
        return next(c for c in self.columns if c.name == name)

    @property
    def fk_columns(self) -> frozenset[str]:
        return frozenset(c for fk in (*self.foreign_keys, *self.null_foreign_keys) for c in fk.columns)

    @property
    def row_key(self) -> tuple[str, ...]:
        """The columns that find one row: Cassandra's partition and clustering columns, else the primary key."""
        return (*self.partition_key, *self.clustering) if self.partition_key else self.primary_key


@dataclass(frozen=True)
class Ref:
    """A child's foreign key value: column ``column`` of the ``index``-th row of ``table`` in the example."""

    table: str
    index: int
    column: str


Row = dict[str, object]
Example = list[tuple[str, Row]]


@dataclass(frozen=True)
class _Traits:
    """How a store's columns read for generation."""

    keys_only_not_null: bool  # Cassandra: every non-key column takes NULL (CQL has no NOT NULL)
    defaults: bool  # a default or identity lets a column be omitted (Cassandra has neither)


_TRAITS: dict[str, _Traits] = {
    "postgres": _Traits(keys_only_not_null=False, defaults=True),
    "cassandra": _Traits(keys_only_not_null=True, defaults=False),
}


def _contract_types(model: SchemaModel, contract: Contract | None) -> dict[str, dict[str, str]]:
    if contract is None:
        return {}
    return {
        cls.table_name: {m.name: schema_types.contract_type(m.type) for m in cls.members}
        for cls in contract.for_store(model.store)
    }


def _resolved_type(model: SchemaModel, store_type: str) -> str:
    base = schema_types.base_type(store_type)
    domain = next((d for d in model.domains if d.name == base), None)
    if domain is not None:
        return domain.base_type
    return "text" if any(e.name == base for e in model.enums) else store_type


def _column_plan(model: SchemaModel, table: Table, col_name: str, ctype: str | None) -> ColumnPlan:
    col = table.column(col_name)
    assert col is not None
    kind = store_kind(model.store, col.type, model)
    domain, used = kind, None
    if (
        ctype is not None
        and ctype in CONTRACT_KINDS
        and kind is not None
        and kind.name not in ("enum", "counter")
        and schema_types.compatible(model.store, ctype, _resolved_type(model, col.type))
    ):
        domain, used = CONTRACT_KINDS[ctype], ctype
    nullable = col.nullable
    defaulted = col.default is not None or col.identity == "by default"
    base = schema_types.base_type(col.type)
    dom = next((d for d in model.domains if d.name == base), None)
    if dom is not None:
        nullable = nullable and dom.nullable
        defaulted = defaulted or dom.default is not None
    traits = _TRAITS[model.store]
    if traits.keys_only_not_null:
        nullable = col.kind not in KEY_KINDS
    return ColumnPlan(
        name=col.name,
        store_type=col.type,
        kind=kind,
        domain=domain,
        contract_type=used,
        nullable=nullable,
        defaulted=defaulted and traits.defaults,
        identity_always=col.identity == "always",
        generated=col.generated is not None,
        key=col.kind,
    )


def _unique_sets(table: Table) -> list[tuple[str, tuple[str, ...]]]:
    found: list[tuple[str, tuple[str, ...]]] = []
    for c in table.constraints:
        if c.kind in ("primary_key", "unique") and c.columns:
            found.append((c.name, c.columns))
    names = set(table.column_names)
    for i in table.indexes:
        plain = i.unique and not i.predicate and i.columns and all(x in names for x in i.columns)
        if plain and all(cols != i.columns for _, cols in found):
            found.append((i.name, i.columns))
    return found


def _order(names: Sequence[str], edges: Mapping[str, set[str]]) -> tuple[list[str], set[tuple[str, str]]]:
    """Parents first (Kahn, ties by name); returns the order and the (child, parent) edges broken by cycles."""
    pending = {n: {p for p in edges.get(n, set()) if p in names and p != n} for n in names}
    order: list[str] = []
    broken: set[tuple[str, str]] = set()
    while pending:
        ready = sorted(n for n, ps in pending.items() if not ps)
        if not ready:  # a cycle: drop the edges of the alphabetically first remaining table
            victim = sorted(pending)[0]
            broken |= {(victim, p) for p in pending[victim]}
            pending[victim] = set()
            continue
        for n in ready:
            order.append(n)
            del pending[n]
        for ps in pending.values():
            ps.difference_update(ready)
    return order, broken


def _checks(model: SchemaModel, table: Table, cols: Mapping[str, ColumnPlan]) -> tuple[list[CheckRule], list[str]]:
    """The understood CHECK rules of a table (its own and its columns' domains'), and the unknown names."""
    checks: list[CheckRule] = []
    unknown: list[str] = []
    sources: list[tuple[str, str, str | None]] = [
        (c.name, c.definition, None) for c in table.constraints if c.kind == "check"
    ]
    for live in table.columns:  # a domain's CHECKs constrain the column typed with it
        dom = next((d for d in model.domains if d.name == schema_types.base_type(live.type)), None)
        if dom is not None:
            sources += [(f"{dom.name}_check", d, live.name) for d in dom.checks]
    for cname, definition, value_name in sources:
        parsed = parse_check(cname, definition, value_name=value_name)
        ok = parsed.known and all(
            r.column in cols and (kind := cols[r.column].kind) is not None and rule_applies(r, kind)
            for r in parsed.rules
        )
        if ok:
            checks.extend(parsed.rules)
        else:
            unknown.append(cname)
    return checks, unknown


def _foreign_keys(
    table: Table, cols: Mapping[str, ColumnPlan], plans: Mapping[str, TablePlan], broken: set[tuple[str, str]]
) -> tuple[list[ForeignKey], list[ForeignKey], list[str]]:
    """Foreign keys the generator satisfies, those that stay NULL, and why the rest make the table unsupported."""
    fks: list[ForeignKey] = []
    null_fks: list[ForeignKey] = []
    reasons: list[str] = []
    for fk in table.foreign_keys:
        ref = ForeignKey(fk.name, fk.columns, fk.ref_table or "", fk.ref_columns)
        reachable = ref.ref_table in plans and ref.ref_table != table.name and (table.name, ref.ref_table) not in broken
        if reachable and plans[ref.ref_table].unsupported is None:
            fks.append(ref)
        elif any(cols[c].nullable for c in fk.columns if c in cols):
            null_fks.append(ref)
        else:
            reasons.append(f"foreign key {fk.name} to {fk.ref_table} cannot be satisfied (cycle or unsupported)")
    return fks, null_fks, reasons


def _type_reasons(cols: Mapping[str, ColumnPlan]) -> list[str]:
    reasons: list[str] = []
    for col in cols.values():
        ungenerated = col.kind is None or col.kind.name == "counter"
        needed = col.key in KEY_KINDS or not (col.nullable or col.defaulted)
        if ungenerated and needed:
            reasons.append(f"column {col.name} has type {col.store_type}, which the generator does not support")
    if any(c.kind is not None and c.kind.name == "counter" for c in cols.values()):  # only Cassandra has counters
        reasons.append("counter tables take UPDATE, not INSERT")
    return reasons


def _table_plan(
    model: SchemaModel,
    table: Table,
    ctypes: Mapping[str, str],
    plans: Mapping[str, TablePlan],
    broken: set[tuple[str, str]],
) -> TablePlan:
    cols = {c.name: _column_plan(model, table, c.name, ctypes.get(c.name)) for c in table.columns}
    checks, unknown = _checks(model, table, cols)
    for col in list(cols.values()):
        cols[col.name] = replace(col, rules=tuple(r for r in checks if r.column == col.name))
    fks, null_fks, reasons = _foreign_keys(table, cols, plans, broken)
    reasons += _type_reasons(cols)
    keyed = sorted((c for c in table.columns if c.kind in KEY_KINDS),
                   key=lambda c: (c.kind != "partition_key", c.position))  # fmt: skip
    return TablePlan(
        store=model.store,
        name=table.name,
        columns=tuple(cols[c.name] for c in table.columns),
        primary_key=table.primary_key,
        unique=tuple(_unique_sets(table)),
        foreign_keys=tuple(fks),
        null_foreign_keys=tuple(null_fks),
        checks=tuple(checks),
        unknown_checks=tuple(unknown),
        unsupported="; ".join(reasons) or None,
        partition_key=tuple(c.name for c in keyed if c.kind == "partition_key"),
        clustering=tuple(c.name for c in keyed if c.kind == "clustering"),
    )


def plan_tables(model: SchemaModel, contract: Contract | None = None) -> list[TablePlan]:
    """A plan per table of ``model``, parents before children (topological order of foreign keys)."""
    ctypes = _contract_types(model, contract)
    tables = {t.name: t for t in model.tables}
    edges = {t.name: {fk.ref_table for fk in t.foreign_keys if fk.ref_table} for t in model.tables}
    order, broken = _order(sorted(tables), edges)
    plans: dict[str, TablePlan] = {}
    for name in order:
        plans[name] = _table_plan(model, tables[name], ctypes.get(name, {}), plans, broken)
    return [plans[n] for n in order]


def ancestors(plans: Mapping[str, TablePlan], target: str) -> list[str]:
    """Tables whose rows the target's rows need (transitively), parents first."""
    need: set[str] = set()
    stack = [target]
    while stack:
        for fk in plans[stack.pop()].foreign_keys:
            if fk.ref_table not in need:
                need.add(fk.ref_table)
                stack.append(fk.ref_table)
    return [n for n in plans if n in need]


@dataclass(frozen=True)
class Rule:
    """One constraint a rule-breaking row violates: ``kind`` is not_null, unique, foreign_key or check."""

    kind: str
    table: str
    name: str  # constraint name (the column for not_null)
    columns: tuple[str, ...]
    check: CheckRule | None = None
    expected: str = ""  # PostgreSQL SQLSTATE


SQLSTATE = {"not_null": "23502", "unique": "23505", "foreign_key": "23503", "check": "23514"}


def breakable_rules(plan: TablePlan) -> list[Rule]:
    """Every constraint of a PostgreSQL table that a row can break alone, in a stable order."""
    rules: list[Rule] = []
    for c in plan.columns:
        if not c.nullable and not c.defaulted and not c.generated and not c.identity_always and c.kind is not None:
            rules.append(Rule("not_null", plan.name, c.name, (c.name,), expected=SQLSTATE["not_null"]))
    for name, cols in plan.unique:
        if all(plan.column(c).kind is not None for c in cols):
            rules.append(Rule("unique", plan.name, name, cols, expected=SQLSTATE["unique"]))
    for fk in plan.foreign_keys:
        if all(plan.column(c).kind is not None for c in fk.columns):
            rules.append(Rule("foreign_key", plan.name, fk.name, fk.columns, expected=SQLSTATE["foreign_key"]))
    for r in plan.checks:
        col = plan.column(r.column)
        if col.kind is not None:
            rules.append(Rule("check", plan.name, r.constraint, (r.column,), check=r, expected=SQLSTATE["check"]))
    return rules
