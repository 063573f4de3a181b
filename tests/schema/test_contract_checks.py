"""This project's schema against its class diagram, and its constraints under fuzzing (built-in checks)."""

from harness.checks.builtin import (
    test_fuzz_cassandra_constraints,
    test_fuzz_postgres_constraints,
    test_schema_matches_contract,
)

__all__ = ["test_fuzz_cassandra_constraints", "test_fuzz_postgres_constraints", "test_schema_matches_contract"]
