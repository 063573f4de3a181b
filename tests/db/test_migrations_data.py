"""This project's migrations: rows written before each one survive it, through the built-in check."""

from harness.checks.builtin import test_data_cassandra, test_data_postgres

__all__ = ["test_data_cassandra", "test_data_postgres"]
