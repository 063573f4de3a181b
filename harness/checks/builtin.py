"""The built-in checks as pytest tests, made from the check registry. A project enables them by importing them:

    from harness.checks.builtin import *  # noqa: F403

and configures where its migrations and contract are (settings `postgres_migrations`, `cassandra_migrations`,
`contract`: in `[tool.harness]`, as `harness_*` ini options or `--harness-*` flags). `harness verify` runs the same
registry without pytest, so both always prove the same things. Built-ins that do not apply to the project (a
Cassandra check in a PostgreSQL-only project) are deselected, not skipped.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

from harness.checks.registry import CHECKS, Check, stores_needed
from harness.checks.target import Databases, Project, Target
from harness.config import Settings


class HarnessWarning(UserWarning):
    """Something worth reading that does not fail the check (a cross-store link type mismatch, say)."""


def _report(request: pytest.FixtureRequest, notes: list[str]) -> None:
    request.node.user_properties.append(("harness_notes", notes))
    for note in notes:
        warnings.warn(HarnessWarning(note), stacklevel=2)


def _builtin(check: Check) -> Callable[..., None]:
    def test(
        harness_project: Project, harness_fresh_databases: Callable[..., Databases], request: pytest.FixtureRequest
    ) -> None:
        databases = harness_fresh_databases(stores_needed(check, harness_project))
        _report(request, check.run(Target(harness_project, databases)))

    test.__name__ = test.__qualname__ = check.test_name
    test.__doc__ = f"Built-in check {check.name}."
    test.harness_check = check  # type: ignore[attr-defined]
    for mark in (check.phase, *check.stores):
        test = getattr(pytest.mark, mark)(test)
    return test


def applies(function: Any, settings: Settings) -> bool:
    """Whether a collected test function is a built-in that applies to the project (non-built-ins always do)."""
    check: Check | None = getattr(function, "harness_check", None)
    if check is None:
        return True
    if check.phase == "schema":
        return settings["contract"] is not None
    if check.phase == "lint":
        return bool(settings.stores())
    return all(settings.migrations_dir(s) is not None for s in check.stores)


_BY_TEST = {c.test_name: c for c in CHECKS}
# Spelled out (not generated into globals()) so that importers and type checkers see every name.
test_lint = _builtin(_BY_TEST["test_lint"])
test_roundtrip_postgres = _builtin(_BY_TEST["test_roundtrip_postgres"])
test_roundtrip_cassandra = _builtin(_BY_TEST["test_roundtrip_cassandra"])
test_data_postgres = _builtin(_BY_TEST["test_data_postgres"])
test_data_cassandra = _builtin(_BY_TEST["test_data_cassandra"])
test_schema_matches_contract = _builtin(_BY_TEST["test_schema_matches_contract"])
test_fuzz_postgres_constraints = _builtin(_BY_TEST["test_fuzz_postgres_constraints"])
test_fuzz_cassandra_constraints = _builtin(_BY_TEST["test_fuzz_cassandra_constraints"])

__all__ = [
    "test_data_cassandra",
    "test_data_postgres",
    "test_fuzz_cassandra_constraints",
    "test_fuzz_postgres_constraints",
    "test_lint",
    "test_roundtrip_cassandra",
    "test_roundtrip_postgres",
    "test_schema_matches_contract",
]
