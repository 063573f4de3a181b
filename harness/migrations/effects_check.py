"""Whether a statement's :class:`~harness.migrations.effects.Effect` is in a schema snapshot: pure, no database.

The verdict is True (the schema is what the statement makes: it took effect), False (the schema is what it was
before: it did not) or None (neither: the object is there with another shape, or only part of a multi-column
change is visible), with a reason in words. None stops a recovery: guessing would repeat or skip a change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.migrations.effects import Effect, normal_type
from harness.schema.model import SchemaModel, Table

__all__ = ["Verdict", "judge"]

Lookup = Callable[[str], SchemaModel | None]  # keyspace -> its snapshot, None when it does not exist


@dataclass(frozen=True)
class Verdict:
    took_effect: bool | None
    reason: str


def _presence(effect: Effect, present: bool, what: str) -> Verdict:
    """CREATE: present means done; DROP: absent means done."""
    if effect.action == "create":
        if present:
            return Verdict(True, f"{what} exists")
        return Verdict(False, f"{what} does not exist")
    return Verdict(True, f"{what} is gone") if not present else Verdict(False, f"{what} still exists")


def _table_shape(table: Table) -> tuple[dict[str, str], list[str], list[str], set[str]]:
    columns = {c.name: normal_type(c.type) for c in table.columns}
    partition = [c.name for c in table.columns if c.kind == "partition_key"]
    clustering = [c.name for c in table.columns if c.kind == "clustering"]
    return columns, partition, clustering, {c.name for c in table.columns if c.kind == "static"}


def _table_differences(effect: Effect, table: Table) -> list[str]:
    columns, partition, clustering, static = _table_shape(table)
    wanted = dict(effect.items)
    diffs = [f"column {n} is missing" for n in wanted if n not in columns]
    diffs += [f"column {n} is not in the statement" for n in columns if n not in wanted]
    diffs += [f"column {n} is {columns[n]}, not {t}" for n, t in wanted.items() if n in columns and columns[n] != t]
    if list(effect.partition_key) != partition:
        diffs.append(f"the partition key is ({', '.join(partition)}), not ({', '.join(effect.partition_key)})")
    if list(effect.clustering) != clustering:
        diffs.append(f"the clustering columns are ({', '.join(clustering)}), not ({', '.join(effect.clustering)})")
    if set(effect.static) != static:
        diffs.append(f"the static columns are ({', '.join(sorted(static))})")
    return diffs


def _created(effect: Effect, what: str, differences: list[str] | None) -> Verdict:
    """A CREATE whose object is there (``differences`` None: it is not)."""
    if differences is None:
        return Verdict(False, f"{what} does not exist")
    if not differences or effect.if_clause:
        return Verdict(True, f"{what} exists" + ("" if differences else " as the statement defines it"))
    return Verdict(None, f"{what} exists but is not what the statement defines: {'; '.join(differences)}")


def _index_target(target: str) -> tuple[str, str]:
    """``keys(m)`` -> ("keys", "m"); ``m`` -> ("", "m"); quotes around the column dropped."""
    function, _, rest = target.partition("(")
    if not rest:
        return "", target.strip('"')
    return function.lower(), rest.rstrip(")").strip('"')


def _same_target(wanted: str, stored: str) -> bool:
    (want_fn, want_col), (have_fn, have_col) = _index_target(wanted), _index_target(stored)
    if want_col != have_col:
        return False
    return want_fn == have_fn or (not want_fn and have_fn == "values")  # a bare collection column indexes values


def _index(effect: Effect, model: SchemaModel) -> Verdict:
    found = [(t.name, i) for t in model.tables for i in t.indexes]
    if effect.action == "drop" or effect.name is not None:
        named = [(table, i) for table, i in found if i.name == effect.name]
        if effect.action == "drop" or not named:
            return _presence(effect, bool(named), f"index {effect.name}")
        table, index = named[0]
        stored = index.columns[0] if index.columns else ""
        diffs = [] if table == effect.on else [f"it is on table {table}, not {effect.on}"]
        diffs += [] if _same_target(effect.target, stored) else [f"it indexes {stored}, not {effect.target}"]
        return _created(effect, f"index {effect.name}", diffs)
    same = [i for table, i in found if table == effect.on and _same_target(effect.target, i.columns[0] if i.columns
                                                                               else "")]  # fmt: skip
    what = f"an index on {effect.on} ({effect.target})"
    return Verdict(True, f"{what} exists ({same[0].name})") if same else Verdict(False, f"{what} does not exist")


def _members(effect: Effect, model: SchemaModel) -> tuple[dict[str, str] | None, str]:
    """Columns of the table (or fields of the type) a column/field change is about; None when it is missing."""
    if effect.kind == "column":
        table = model.table(effect.name or "")
        return (None if table is None else _table_shape(table)[0]), f"table {effect.name}"
    found = next((t for t in model.user_types if t.name == effect.name), None)
    return (None if found is None else {n: normal_type(t) for n, t in found.fields}), f"type {effect.name}"


def _member_change(effect: Effect, model: SchemaModel) -> Verdict:
    """ADD, DROP and RENAME of columns or fields: all of them visible, none of them, or a mix (None)."""
    members, owner = _members(effect, model)
    noun = "column" if effect.kind == "column" else "field"
    if members is None:
        if effect.if_object_exists:
            return Verdict(True, f"{owner} does not exist, so the statement (ALTER ... IF EXISTS) does nothing")
        return Verdict(None, f"{owner} does not exist")
    done: list[str] = []
    undone: list[str] = []
    other: list[str] = []
    for first, second in effect.items:
        if effect.action == "add":
            have = members.get(first)
            bucket = undone if have is None else done if have == second or effect.if_clause else other
            bucket.append(first if bucket is not other else f"{first} is {have}, not {second}")
        elif effect.action == "remove":
            (done if first not in members else undone).append(first)
        else:
            state = (first in members, second in members)
            bucket = done if state == (False, True) else undone if state == (True, False) else other
            bucket.append(f"{first} -> {second}" if bucket is not other else f"{first} -> {second}: neither or both")
    if other or (done and undone):
        parts = [f"{', '.join(done)} done" if done else "", f"{', '.join(undone)} not done" if undone else "", *other]
        return Verdict(None, f"{owner}: {'; '.join(p for p in parts if p)}")
    verb = {"add": "present", "remove": "gone", "rename": "renamed"}[effect.action]
    if done:
        return Verdict(True, f"{noun}(s) {', '.join(done)} of {owner}: {verb}")
    if effect.if_clause and effect.action != "add":
        return Verdict(True, f"{noun}(s) {', '.join(undone)} of {owner}: nothing to do (IF EXISTS)")
    return Verdict(False, f"{noun}(s) {', '.join(undone)} of {owner}: not {verb}")


def judge(effect: Effect, lookup: Lookup, keyspace: str) -> Verdict:
    """Did ``effect`` happen? ``keyspace`` is where unqualified names live; ``lookup`` snapshots a keyspace."""
    if effect.kind == "keyspace":
        return _presence(effect, lookup(effect.name or "") is not None, f"keyspace {effect.name}")
    model = lookup(effect.keyspace or keyspace) or SchemaModel(store="cassandra")
    if effect.kind in ("column", "field"):
        return _member_change(effect, model)
    if effect.kind == "index":
        return _index(effect, model)
    if effect.kind == "table":
        table = model.table(effect.name or "")
        if effect.action == "drop":
            return _presence(effect, table is not None, f"table {effect.name}")
        return _created(effect, f"table {effect.name}", None if table is None else _table_differences(effect, table))
    if effect.kind == "type":
        found = next((t for t in model.user_types if t.name == effect.name), None)
        if effect.action == "drop":
            return _presence(effect, found is not None, f"type {effect.name}")
        fields = None if found is None else [(n, normal_type(t)) for n, t in found.fields]
        diffs = None if fields is None else ([] if fields == list(effect.items) else [f"its fields are {fields}"])
        return _created(effect, f"type {effect.name}", diffs)
    view = next((v for v in model.materialized_views if v.name == effect.name), None)
    if effect.action == "drop":
        return _presence(effect, view is not None, f"materialized view {effect.name}")
    diffs = None if view is None else ([] if view.base_table == effect.on else [f"its base is {view.base_table}"])
    return _created(effect, f"materialized view {effect.name}", diffs)
