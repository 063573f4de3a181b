"""The built-in suites as pytest tests. A project enables them by importing them into one of its test modules:

    from harness.checks.builtin import *  # noqa: F403

and configures where its migrations and contract are (``harness_migrations``, ``harness_contract`` ini settings or
the ``--harness-migrations`` / ``--harness-contract`` flags). ``harness verify`` runs this module directly.
"""

from __future__ import annotations

import warnings

import pytest

from harness.checks.fuzz import check_fuzz
from harness.checks.roundtrip import check_roundtrip
from harness.checks.schema import check_schema
from harness.checks.target import Target

__all__ = [
    "test_fuzz_cassandra_constraints",
    "test_fuzz_postgres_constraints",
    "test_roundtrip_cassandra",
    "test_roundtrip_postgres",
    "test_schema_matches_contract",
]


class HarnessWarning(UserWarning):
    """Something worth reading that does not fail the check (a cross-store link type mismatch, say)."""


def _report(request: pytest.FixtureRequest, notes: list[str]) -> None:
    request.node.user_properties.append(("harness_notes", notes))
    for note in notes:
        warnings.warn(HarnessWarning(note), stacklevel=2)


@pytest.mark.roundtrip
@pytest.mark.postgres
def test_roundtrip_postgres(harness_pg_target: Target, request: pytest.FixtureRequest) -> None:
    _report(request, check_roundtrip(harness_pg_target, "postgres"))


@pytest.mark.roundtrip
@pytest.mark.cassandra
def test_roundtrip_cassandra(harness_cassandra_target: Target, request: pytest.FixtureRequest) -> None:
    _report(request, check_roundtrip(harness_cassandra_target, "cassandra"))


@pytest.mark.schema
@pytest.mark.postgres
@pytest.mark.cassandra
def test_schema_matches_contract(harness_target: Target, request: pytest.FixtureRequest) -> None:
    _report(request, check_schema(harness_target))


@pytest.mark.fuzz
@pytest.mark.postgres
def test_fuzz_postgres_constraints(harness_pg_target: Target, request: pytest.FixtureRequest) -> None:
    _report(request, check_fuzz(harness_pg_target, "postgres"))


@pytest.mark.fuzz
@pytest.mark.cassandra
def test_fuzz_cassandra_constraints(harness_cassandra_target: Target, request: pytest.FixtureRequest) -> None:
    _report(request, check_fuzz(harness_cassandra_target, "cassandra"))
