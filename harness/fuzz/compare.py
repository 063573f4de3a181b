"""Whether a value read back equals the one written, at the store's precision; and values shown in findings."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from harness.fuzz.kinds import Kind
from harness.fuzz.plan import TablePlan

# Stores that keep timestamps to the millisecond (a value read back may lose its microseconds).
MILLIS: dict[str, bool] = {"postgres": False, "cassandra": True}

_EMPTY: tuple[object, ...] = (None, [], (), set(), frozenset(), {})


def _instant(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def same(kind: Kind | None, expected: object, actual: object, *, millis: bool = False) -> bool:
    """Whether a read-back value equals the written one at the store's precision.

    ``millis``: the store keeps timestamps to the millisecond (Cassandra); naive datetimes are UTC.
    An empty collection and NULL are the same (Cassandra stores an empty collection as NULL).
    """
    if kind is None:
        return expected == actual
    if kind.name in ("list", "set", "map") and expected in _EMPTY and actual in _EMPTY:
        return True
    if expected is None or actual is None:
        return expected is actual
    name = kind.name
    if name == "timestamp" and isinstance(expected, datetime) and isinstance(actual, datetime):
        diff = abs(_instant(expected) - _instant(actual))
        return diff < timedelta(milliseconds=1) if millis else diff == timedelta(0)
    if name == "text" and kind.fixed_length and isinstance(expected, str) and isinstance(actual, str):
        return expected.rstrip(" ") == actual.rstrip(" ")
    if name == "date" and hasattr(actual, "date") and not isinstance(actual, date):
        actual = actual.date()
    if name == "time" and hasattr(actual, "time") and not isinstance(actual, time):
        actual = actual.time()
    if name == "inet":
        return ipaddress.ip_interface(str(expected)) == ipaddress.ip_interface(str(actual))
    if name == "set":
        return bool(set(expected) == set(actual))  # type: ignore[call-overload]
    if name == "map":
        return bool(dict(expected) == dict(actual))  # type: ignore[call-overload]
    if name == "list" and kind.element is not None:
        exp, act = list(expected), list(actual)  # type: ignore[call-overload]
        return len(exp) == len(act) and all(
            same(kind.element, e, a, millis=millis) for e, a in zip(exp, act, strict=True)
        )
    if name == "decimal":
        return Decimal(str(expected)) == Decimal(str(actual))
    return expected == actual


def first_difference(plan: TablePlan, written: Mapping[str, object], stored: Mapping[str, object]) -> str | None:
    """The first column of ``written`` whose value ``stored`` does not hold (at the plan's store's precision)."""
    millis = MILLIS[plan.store]
    for name, value in written.items():
        if not same(plan.column(name).kind, value, stored.get(name), millis=millis):
            return name
    return None


def show(value: object, limit: int = 40) -> str:
    """A short, readable form of a value for a finding."""
    if isinstance(value, str):
        shown = repr(value[:limit]) + ("…" if len(value) > limit else "")
        return f"length {len(value)}: {shown}"
    text = repr(value)
    return text if len(text) <= limit + 20 else text[: limit + 20] + "…"
