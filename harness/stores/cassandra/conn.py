"""Opening driver sessions to a Cassandra described by a CassandraServer, in one place (stores, providers, fixtures)."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any

from harness.servers.base import CassandraServer

if TYPE_CHECKING:
    from harness.config import CassandraSettings


def endpoint(settings: CassandraSettings) -> CassandraServer:
    """The server a store's settings point at."""
    return CassandraServer(
        settings.hosts, settings.port, settings.local_dc, username=settings.username, password=settings.password
    )


def driver() -> Any:
    """Import the driver (quietly: it warns about optional event loops); cheap after the first call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cassandra.auth
        import cassandra.cluster
        import cassandra.policies
    return cassandra


def connect(server: CassandraServer, *, keyspace: str | None = None, timeout: float = 20.0) -> tuple[Any, Any]:
    """Return (cluster, session); the caller shuts the cluster down."""
    cs = driver()
    logger = logging.getLogger("cassandra")
    if logger.level < logging.ERROR:  # its warnings about unreachable hosts are ours to report, as errors
        logger.setLevel(logging.ERROR)
    auth = (
        cs.auth.PlainTextAuthProvider(username=server.username, password=server.password or "")
        if server.username
        else None
    )
    profile = cs.cluster.ExecutionProfile(
        load_balancing_policy=cs.policies.DCAwareRoundRobinPolicy(local_dc=server.local_datacenter),
        request_timeout=max(timeout, 30.0),
    )
    cluster = cs.cluster.Cluster(
        list(server.contact_points),
        port=server.port,
        auth_provider=auth,
        execution_profiles={cs.cluster.EXEC_PROFILE_DEFAULT: profile},
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
    return cluster, session


def cassandra_version(server: CassandraServer, *, timeout: float = 20.0) -> str:
    """The node's release version by a real query (which also proves it answers CQL)."""
    cluster, session = connect(server, timeout=timeout)
    try:
        row = session.execute("SELECT release_version FROM system.local").one()
        return str(row[0]) if row else ""
    finally:
        cluster.shutdown()


def probe_version(server: CassandraServer, *, timeout: float = 5.0) -> str | None:
    """Like cassandra_version, but None while the node is not ready yet, without the driver's log noise."""
    logger = logging.getLogger("cassandra")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # "not up yet" errors are expected while probing
    try:
        return cassandra_version(server, timeout=timeout)
    except Exception:  # NoHostAvailable, AuthenticationFailed (roles not set up yet), timeouts
        return None
    finally:
        logger.setLevel(level)
