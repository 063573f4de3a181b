"""Every difference between two schema snapshots, one readable line each.

Used by the roundtrip suite: the snapshot before ``up`` must equal the snapshot after ``down``, and when
it does not, the lines name exactly what was left behind (``index users_email_idx on users: present
after, absent before``) or lost (``sequence users_id_seq: absent after``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from typing import Any

from harness.schema.model import (
    Column,
    Index,
    MaterializedView,
    Options,
    SchemaModel,
    Table,
)

# Label of each SchemaModel collection ("tables" -> "table").
_KINDS: dict[str, str] = {
    "tables": "table",
    "sequences": "sequence",
    "enums": "enum",
    "views": "view",
    "materialized_views": "materialized view",
    "functions": "function",
    "triggers": "trigger",
    "extensions": "extension",
    "user_types": "type",
    "domains": "domain",
}


def _show(value: object) -> str:
    """One-line rendering; multi-line definitions are folded onto one line."""
    if isinstance(value, str):
        return " ".join(value.split()) or repr(value)
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return str(value)


def _name(kind: str, obj: Any) -> str:
    """How a message names an object: ``index users_email_idx on users``, ``column users.age``."""
    if isinstance(obj, Column):
        raise AssertionError("columns are named by their table")  # pragma: no cover
    if isinstance(obj, Index):
        return f"index {obj.name} on {obj.table}"
    if kind == "trigger":
        return f"trigger {obj.name} on {obj.table}"
    if kind == "function":
        return f"function {obj.key}"
    return f"{kind} {obj.key}"


def _fields(before: Any, after: Any, label: str, skip: Iterable[str] = ()) -> list[str]:
    """Differences of the plain (non-collection-of-objects) fields of two objects of one class."""
    out = []
    for f in dataclasses.fields(before):
        if f.name in skip:
            continue
        b, a = getattr(before, f.name), getattr(after, f.name)
        if b != a:
            out.append(f"{label}: {f.name.replace('_', ' ')} {_show(b)} -> {_show(a)}")
    return out


def _collection(
    before: Iterable[Any],
    after: Iterable[Any],
    label: Callable[[Any], str],
    compare: Callable[[Any, Any], list[str]],
) -> list[str]:
    b = {o.key: o for o in before}
    a = {o.key: o for o in after}
    out: list[str] = []
    # Canonical order of the objects themselves (columns by position, the rest by name).
    for key in [*b, *(k for k in a if k not in b)]:
        if key not in a:
            out.append(f"{label(b[key])}: absent after")
        elif key not in b:
            out.append(f"{label(a[key])}: present after, absent before")
        elif b[key] != a[key]:
            out.extend(compare(b[key], a[key]))
    return out


def _options(before: Options, after: Options, owner: str) -> list[str]:
    b, a = dict(before), dict(after)
    out = []
    for key in sorted(b.keys() | a.keys()):
        if b.get(key) != a.get(key):
            out.append(f"{owner} option {key}: {_show(b.get(key))} -> {_show(a.get(key))}")
    return out


def _columns(owner: str, before: tuple[Column, ...], after: tuple[Column, ...]) -> list[str]:
    return _collection(
        before,
        after,
        lambda c: f"column {owner}.{c.name}",
        lambda b, a: _fields(b, a, f"column {owner}.{b.name}", skip=("name",)),
    )


def _table(kind: str) -> Callable[[Any, Any], list[str]]:
    def compare(b: Table | MaterializedView, a: Table | MaterializedView) -> list[str]:
        out = _fields(b, a, f"{kind} {b.name}", skip=("name", "columns", "constraints", "indexes", "options"))
        out += _columns(b.name, b.columns, a.columns)
        if isinstance(b, Table) and isinstance(a, Table):
            out += _collection(
                b.constraints,
                a.constraints,
                lambda c: f"constraint {c.name} on {b.name}",
                lambda x, y: _fields(x, y, f"constraint {x.name} on {b.name}", skip=("name",)),
            )
        out += _collection(
            b.indexes,
            a.indexes,
            lambda i: _name("index", i),
            lambda x, y: _fields(x, y, _name("index", x), skip=("name",)),
        )
        out += _options(b.options, a.options, f"{kind} {b.name}")
        return out

    return compare


def diff_models(before: SchemaModel, after: SchemaModel) -> list[str]:
    """Every difference from ``before`` to ``after``, in a stable order; empty when they are equal."""
    if before == after:
        return []
    out: list[str] = []
    if before.store != after.store:
        out.append(f"store: {before.store} -> {after.store}")
    for attr, kind in _KINDS.items():
        if kind in ("table", "materialized view"):
            compare = _table(kind)
        else:

            def compare(b: Any, a: Any, kind: str = kind) -> list[str]:
                return _fields(b, a, _name(kind, b), skip=("name",))

        label = functools.partial(_name, kind)
        out += _collection(getattr(before, attr), getattr(after, attr), label, compare)
    out += _options(before.options, after.options, "schema")
    return out


__all__ = ["diff_models"]
