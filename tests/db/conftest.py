"""Fixtures shared by the database suites (the plugin provides the servers and fresh keyspaces)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.servers.base import CassandraServer
from tests.db.applier_support import session_on


@pytest.fixture
def cql(cassandra_server: CassandraServer) -> Iterator[Any]:
    """A driver session on the run's Cassandra, to look at what a test did (or set up what it needs)."""
    with session_on(cassandra_server) as session:
        yield session
