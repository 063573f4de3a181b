"""Opening driver sessions to a Cassandra described by a CassandraServer, in one place (stores, providers, fixtures)."""

from __future__ import annotations

import logging
import re
import ssl
import warnings
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError
from harness.servers.base import CassandraServer

if TYPE_CHECKING:
    from harness.config import CassandraSettings


# Remote datacenters' nodes get a connection too (the default policy ignores them): the applier asks every node
# for its schema version directly (see agreement.py), and a request may go to another datacenter's coordinator
# when the local one is down, which the QUORUM/SERIAL consistency of the ledger and the lock allows.
REMOTE_HOSTS_PER_DC = 1000


def endpoint(settings: CassandraSettings) -> CassandraServer:
    """The server a store's settings point at."""
    return CassandraServer(
        settings.hosts,
        settings.port,
        settings.local_dc,
        username=settings.username,
        password=settings.password,
        ssl=settings.ssl,
        ssl_ca=settings.ssl_ca,
        ssl_cert=settings.ssl_cert,
        ssl_key=settings.ssl_key,
        ssl_hostname_check=settings.ssl_hostname_check,
    )


def ssl_context(server: CassandraServer) -> ssl.SSLContext | None:
    """Client-to-node TLS as the server describes it; None for plain text. Certificate checks are always on."""
    if not server.tls:
        return None
    if server.ssl_key and not server.ssl_cert:
        raise ConfigError("CASSANDRA_SSL_KEY is set but CASSANDRA_SSL_CERT is not: give the client certificate too")
    try:
        context = ssl.create_default_context(cafile=server.ssl_ca)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"CASSANDRA_SSL_CA={server.ssl_ca}: cannot be read as a PEM CA bundle ({exc})") from None
    if server.ssl_cert:
        try:  # the password callback keeps OpenSSL from prompting on a terminal for an encrypted key
            context.load_cert_chain(server.ssl_cert, server.ssl_key, password=_no_key_password)
        except (OSError, ssl.SSLError, ConfigError) as exc:
            raise ConfigError(
                f"CASSANDRA_SSL_CERT={server.ssl_cert}, CASSANDRA_SSL_KEY={server.ssl_key or '(in the cert file)'}: "
                f"cannot be loaded as a PEM certificate and its unencrypted private key ({exc})"
            ) from None
    context.check_hostname = server.ssl_hostname_check
    return context


def _no_key_password() -> str:
    raise ConfigError("the private key is encrypted; give an unencrypted key (e.g. from a Kubernetes Secret)")


def connect_error(exc: BaseException, server: CassandraServer) -> str:
    """One line for a failed connection, saying what to fix when the cause is TLS."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    errors = getattr(exc, "errors", None) or {}
    causes = [e for e in errors.values() if isinstance(e, BaseException)] or [exc]
    for cause in causes:
        if type(cause).__name__ == "AuthenticationFailed":
            said = re.search(r'message="([^"]*)"', str(cause))
            detail = said.group(1) if said else " ".join(str(cause).split())[:200]
            return f"authentication failed: {detail} (check CASSANDRA_USERNAME and CASSANDRA_PASSWORD)"
        if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(cause):
            detail = getattr(cause, "verify_message", "") or "certificate verify failed"
            return (
                f"TLS: the node's certificate is not accepted ({detail}); check CASSANDRA_SSL_CA (the CA that signed "
                "the nodes' certificates) and, for a hostname mismatch, the contact points"
            )
        if isinstance(cause, ssl.SSLError | ConnectionResetError) and server.tls:
            fix = (
                "does the node require a client certificate? set CASSANDRA_SSL_CERT and CASSANDRA_SSL_KEY"
                if not server.ssl_cert
                else "check that the node has client encryption on and trusts the CA of CASSANDRA_SSL_CERT"
            )
            return f"TLS handshake failed ({' '.join(str(cause).split())}): {fix}"
        if not server.tls and _closed_during_startup(cause):
            return (
                f"the node closed the connection before answering ({' '.join(str(cause).split())[:120]}): it may "
                "accept TLS only; set CASSANDRA_SSL_CA (or CASSANDRA_SSL=true)"
            )
    return text[:500]


def _closed_during_startup(cause: BaseException) -> bool:
    text = str(cause).lower()
    return isinstance(cause, ConnectionResetError) or any(
        mark in text for mark in ("connection reset", "connection closed", "closed by server", "defunct", "eof")
    )


def driver() -> Any:
    """Import the driver (quietly: it warns about optional event loops); cheap after the first call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cassandra.auth
        import cassandra.cluster
        import cassandra.policies
    return cassandra


def connect(
    server: CassandraServer, *, keyspace: str | None = None, timeout: float = 20.0, agreement_wait: float = 30
) -> tuple[Any, Any]:
    """Return (cluster, session); the caller shuts the cluster down. ``agreement_wait`` 0: the driver does not wait
    for schema agreement after a schema change (the stores ask every node themselves, see agreement.py)."""
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
        load_balancing_policy=cs.policies.DCAwareRoundRobinPolicy(
            local_dc=server.local_datacenter, used_hosts_per_remote_dc=REMOTE_HOSTS_PER_DC
        ),
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
        max_schema_agreement_wait=agreement_wait,
        ssl_context=ssl_context(server),
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
