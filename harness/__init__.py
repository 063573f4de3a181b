"""Migrations harness: apply, verify and deploy PostgreSQL and Cassandra schema migrations."""

__version__ = "0.2.0"
