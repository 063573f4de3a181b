"""Driver errors of the Cassandra store in one line each, and what they mean for the ledger and the lock."""

from __future__ import annotations

import re

from harness.errors import StoreError

CAS_WRITE_UNKNOWN = 0x1700  # a lightweight transaction whose outcome the coordinator cannot tell


def error_text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    match = re.search(r'message="(.*)"', text, re.S)
    return match.group(1) if match else text.splitlines()[0][:500]


def _causes(exc: BaseException) -> list[object]:
    """The error and, for NoHostAvailable and the like, each host's error (``errors`` is a dict there, but
    OperationTimedOut keeps a plain message under that name)."""
    errors = getattr(exc, "errors", None)
    return [exc, *(errors.values() if isinstance(errors, dict) else ())]


def uncertain(exc: BaseException) -> bool:
    """A lightweight transaction that may or may not have been applied (contention, a slow replica)."""
    from cassandra.policies import WriteType

    for cause in _causes(exc):
        name = type(cause).__name__
        if getattr(cause, "code", None) == CAS_WRITE_UNKNOWN or "CAS operation result is unknown" in str(cause):
            return True  # protocol v5's error, for which the driver has no class of its own
        if name == "WriteTimeout" and getattr(cause, "write_type", None) == WriteType.CAS:
            return True
    return False


class OutcomeUnknown(StoreError):
    """A migration statement that may or may not have taken effect (a timeout after it was sent)."""


def outcome_unknown(exc: BaseException) -> bool:
    """A statement sent that may have taken effect: the client or the coordinator timed out waiting for it."""
    return any(type(c).__name__ in ("OperationTimedOut", "WriteTimeout", "ReadTimeout") for c in _causes(exc))


def quorum_hint(exc: BaseException) -> str:
    """Unavailable and timeouts on ledger and lock queries mean too few replicas answered."""
    causes = [exc, *(getattr(exc, "errors", None) or {}).values()]  # NoHostAvailable: each host's error
    quorum = ("Unavailable", "WriteTimeout", "ReadTimeout", "CASWriteUnknownResultError", "OperationTimedOut")
    if any(type(cause).__name__ in quorum for cause in causes):
        return (
            " (ledger and lock queries need a quorum of the keyspace's replicas, whatever their datacenter: check "
            "that the nodes are up)"
        )
    return ""


def took_effect(k: int) -> str:
    if k == 1:
        return "no statement of it took effect"
    return (
        "statement 1 took effect and is recorded" if k == 2 else f"statements 1..{k - 1} took effect and are recorded"
    )
