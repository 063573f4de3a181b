"""Opening driver sessions to a Cassandra described by a CassandraServer, in one place."""

from __future__ import annotations

import logging
import warnings
from typing import Any

from harness.servers.base import CassandraServer


def connect(server: CassandraServer, *, keyspace: str | None = None, timeout: float = 20.0) -> tuple[Any, Any]:
    """Return (cluster, session); the caller shuts the cluster down."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import Cluster
        from cassandra.policies import DCAwareRoundRobinPolicy
    logging.getLogger("cassandra").setLevel(logging.ERROR)
    auth = PlainTextAuthProvider(username=server.username, password=server.password or "") if server.username else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # legacy execution parameters: fine for one session
        cluster = Cluster(
            list(server.contact_points),
            port=server.port,
            auth_provider=auth,
            load_balancing_policy=DCAwareRoundRobinPolicy(local_dc=server.local_datacenter),
            protocol_version=5,
            connect_timeout=timeout,
            control_connection_timeout=timeout,
            max_schema_agreement_wait=30,
            # Nothing here reads the driver's metadata model (introspection queries system_schema itself):
            # skipping it saves a schema refresh after every DDL statement and the token map at connect.
            schema_metadata_enabled=False,
            token_metadata_enabled=False,
        )
    try:
        session = cluster.connect(keyspace)
    except Exception:
        cluster.shutdown()
        raise
    session.default_timeout = max(timeout, 30.0)
    return cluster, session


def cassandra_version(server: CassandraServer) -> str:
    cluster, session = connect(server)
    try:
        row = session.execute("SELECT release_version FROM system.local").one()
        return str(row[0]) if row else ""
    finally:
        cluster.shutdown()
