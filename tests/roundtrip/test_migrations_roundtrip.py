"""This project's migrations, up and down, through the built-in check, exactly as any user enables it."""

from harness.checks.builtin import test_roundtrip_cassandra, test_roundtrip_postgres

__all__ = ["test_roundtrip_cassandra", "test_roundtrip_postgres"]
