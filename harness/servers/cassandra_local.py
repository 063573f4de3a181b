"""A real, throwaway Apache Cassandra 5.0 node as a local JVM process (no Docker).

The jars come from :mod:`harness.servers.cassandra_dist`, the node's files and command line from
:mod:`harness.servers.cassandra_config` (free ports on 127.0.0.1, every single-node fast-start and test-only
durability shortcut). Ready means a real CQL query answered, not a log line: process alive -> "Starting
listening for CQL clients" logged -> TCP connect to the native port -> ``SELECT release_version FROM
system.local`` through the driver. It fails fast, with the log tail, on "Failed to bind" or an exited JVM.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness.errors import ServerError
from harness.servers.base import CassandraServer, NodeProcessInfo, Provider

# Re-exported: the image build (docker/cassandra/render_config.py) and older callers read these from here.
from harness.servers.cassandra_config import (
    CLUSTER_NAME,
    DATACENTER,
    FAST_START_PROPERTIES,
    JDK17_MODULE_FLAGS,
    JVM_TUNING,
    LOGBACK_XML,
    SUPERUSER,
    ClientTls,
    NodeConfig,
    render_yaml,
)
from harness.servers.cassandra_dist import CASSANDRA_VERSION
from harness.servers.cassandra_node import (
    BindFailed,
    ExitedWithArchive,
    NodeProcess,
    Runtime,
    ignore,
    stage_clock,
)
from harness.servers.certs import Certificates
from harness.servers.procutil import free_port, tcp_open
from harness.stores.cassandra.conn import driver, probe_version

__all__ = [
    "CLUSTER_NAME",
    "DATACENTER",
    "FAST_START_PROPERTIES",
    "JDK17_MODULE_FLAGS",
    "JVM_TUNING",
    "LOGBACK_XML",
    "SUPERUSER",
    "LocalCassandra",
    "NodeConfig",
    "render_yaml",
]


class LocalCassandra(Provider[CassandraServer]):
    """Start, probe and stop one throwaway Cassandra node; a context manager returning CassandraServer.

    ``cds=True`` keeps an AppCDS archive of Cassandra's classes in the cache (written by the first
    start's JVM at exit, validated, then mapped by every later start): about 1 s faster on 2 cores.
    """

    def __init__(
        self,
        *,
        version: str = CASSANDRA_VERSION,
        workdir: Path | None = None,
        heap: str = "512M",
        timeout: float = 120.0,
        auth: bool = False,
        cds: bool = True,
        cache: Path | None = None,
        log: Callable[[str], None] = ignore,
        tls: bool = False,
        client_auth: bool = False,
        properties: tuple[str, ...] = (),
    ) -> None:
        self.version = version
        self.properties = properties  # more -D options, after the built-in ones (the last of a name wins)
        self.tls = tls or client_auth  # TLS-only native port, certificates made at start (see certs.py)
        self.client_auth = client_auth  # the node also requires a client certificate signed by the same CA
        self.certificates: Certificates | None = None
        self._client_tls: ClientTls | None = None
        self.heap = heap
        self.timeout = timeout
        self.auth = auth
        self.cds = cds
        self.cache = cache
        self._log = log
        self._given_workdir = workdir
        self._workdir: Path | None = None
        self._owns_workdir = False
        self._runtime = Runtime(version=version, cache=cache, cds=cds, log=log)
        self._node: NodeProcess | None = None
        self.info: CassandraServer | None = None
        self.stage_times: dict[str, float] = {}

    @property
    def pid(self) -> int | None:
        return self._node.pid if self._node is not None else None

    @property
    def log_file(self) -> Path | None:
        return self._workdir / "cassandra.log" if self._workdir is not None else None

    def node_processes(self) -> list[NodeProcessInfo]:
        """The JVM behind this server (for tests that pause or stop it), empty when not running."""
        pid = self.pid
        return [] if pid is None else [NodeProcessInfo(address="127.0.0.1", pid=pid, datacenter=DATACENTER)]

    def peak_rss_mib(self) -> float | None:
        """The JVM's peak resident memory (VmHWM) so far."""
        kib = self._node.peak_rss_kib() if self._node is not None else None
        return None if kib is None else kib / 1024

    def start(self) -> CassandraServer:
        """Launch the JVM and return once a CQL query has been answered; ServerError otherwise."""
        if self._node is not None and self.info is not None:
            return self.info
        self._runtime.cds = self.cds
        self._runtime.prepare()
        self.cds = self._runtime.cds
        if self._given_workdir is not None:
            self._workdir = self._given_workdir
            self._workdir.mkdir(parents=True, exist_ok=True)
        else:
            self._workdir = Path(tempfile.mkdtemp(prefix="harness-cassandra-"))
            self._owns_workdir = True
        if self.tls:
            self._make_tls(self._workdir / "tls")
        attempts = 3
        for attempt in range(1, attempts + 1):
            cfg = NodeConfig(
                workdir=self._workdir,
                native_port=free_port(),
                storage_port=free_port(),
                heap=self.heap,
                auth=self.auth,
                client_tls=self._client_tls,
                properties=self.properties,
            )
            try:
                self.info = self._start_once(cfg)
                return self.info
            except (BindFailed, ExitedWithArchive) as exc:
                archive = self._node.cds.use if self._node is not None else None
                self._kill()
                if attempt == attempts:
                    self.stop()
                    raise
                if isinstance(exc, ExitedWithArchive) and archive is not None:
                    archive.unlink(missing_ok=True)
                    self.cds = self._runtime.cds = False
                    self._log("cassandra: start failed with the AppCDS archive; deleted it, retrying without")
                else:
                    self._log("cassandra: port taken, retrying with new ports")
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _start_once(self, cfg: NodeConfig) -> CassandraServer:
        self._node = NodeProcess(cfg, self._runtime, self._runtime.plan_cds(cfg))
        self._log(f"cassandra: starting {self.version} on 127.0.0.1:{cfg.native_port}")
        self.stage_times = {}
        began = time.monotonic()
        self._node.launch()
        version = self._wait_ready(self._node, began)
        self._log(f"cassandra: ready in {time.monotonic() - began:.1f}s")
        return self._server(cfg.native_port, version)

    def _server(self, port: int, version: str = "") -> CassandraServer:
        """How clients reach this node: its port, the superuser with auth, the CA (and client certificate) with TLS."""
        user, password = SUPERUSER if self.auth else (None, None)
        certs = self.certificates
        return CassandraServer(
            contact_points=("127.0.0.1",),
            port=port,
            local_datacenter=DATACENTER,
            version=version,
            provider="local",
            username=user,
            password=password,
            ssl_ca=str(certs.ca) if certs else None,
            ssl_cert=str(certs.client_cert) if certs and self.client_auth else None,
            ssl_key=str(certs.client_key) if certs and self.client_auth else None,
        )

    def _make_tls(self, directory: Path) -> None:
        from harness.servers.certs import java_stores, make_certificates

        self.certificates = make_certificates(directory)
        stores = java_stores(self.certificates, directory, secrets.token_hex(12))
        self._client_tls = ClientTls(stores.keystore, stores.truststore, stores.password, self.client_auth)

    def _wait_ready(self, node: NodeProcess, began: float) -> str:
        """process alive -> ready log line -> TCP connect -> driver query; fail fast with the log tail."""
        driver()  # import while the JVM boots, not after
        deadline = began + self.timeout
        port = node.cfg.native_port
        stage = "log line"
        while True:
            listening = node.check_listening()
            if stage == "log line" and listening:
                stage = stage_clock(began, self.stage_times, "tcp")
            if stage == "tcp" and tcp_open(port):
                stage = stage_clock(began, self.stage_times, "query")
            if stage == "query":
                version = self._query_version(port)
                if version is not None:
                    stage_clock(began, self.stage_times, "ready")
                    return version
            if time.monotonic() > deadline:
                raise ServerError(node.failure(f"not ready after {self.timeout:.0f}s (waiting for: {stage})"))
            time.sleep(0.1)

    def _query_version(self, port: int) -> str | None:
        """``SELECT release_version FROM system.local`` through the real driver; None if not yet."""
        return probe_version(self._server(port), timeout=5)

    def _kill(self) -> None:
        """Stop the JVM (publishing a fresh AppCDS dump); leaves the work dir in place."""
        node, self._node = self._node, None
        if node is not None:
            node.kill()

    def stop(self) -> None:
        """Stop the node and delete its work dir if we created it; safe to call twice."""
        self._kill()
        self.info = None
        if self._owns_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
            self._owns_workdir = False
