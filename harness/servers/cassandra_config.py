"""The files and the command line of a throwaway Cassandra 5.0 node, as pure functions (unit-tested without a JVM).

A node gets a minimal ``cassandra.yaml`` written from scratch (only the keys without defaults, loopback
addresses, free ports) and every fast-start and test-only durability shortcut that exists in 5.0:
``num_tokens: 1`` with an ``initial_token`` (the default token allocation waits for schema, up to the 30 s
ring delay), skipping the wait for gossip to settle, a 1 s ring delay, no superuser setup delay, no commit
log sync. Several nodes of one cluster run from the same jars on 127.0.0.1, 127.0.0.2, ... (Linux routes
all of 127.0.0.0/8 to loopback): each binds the same storage and native ports on its own address, the
first node is the seed, tokens are spread evenly per datacenter, and datacenters come from
GossipingPropertyFileSnitch and a ``cassandra-rackdc.properties`` per node.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError, ServerError

CLUSTER_NAME = "harness"
DATACENTER = "datacenter1"  # what SimpleSnitch reports, and the default datacenter of a cluster
RACK = "rack1"
SUPERUSER = ("cassandra", "cassandra")  # created by CassandraRoleManager; throwaway nodes only
MAX_NODES = 9  # 127.0.0.1 .. 127.0.0.9
SUPPORTED_JDKS = range(11, 18)
_DC_NAME = re.compile(r"[A-Za-z0-9_-]+")

# Module flags of Cassandra 5.0's conf/jvm17-server.options; without them startup dies early.
JDK17_MODULE_FLAGS: tuple[str, ...] = (
    "-Djdk.attach.allowAttachSelf=true",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
    "--add-exports=java.sql/java.sql=ALL-UNNAMED",
    "--add-exports=java.base/java.lang.ref=ALL-UNNAMED",
    "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.module=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.math=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.module=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
)

# Start-up shortcuts and test-only durability shortcuts (never for real data).
FAST_START_PROPERTIES: tuple[str, ...] = (
    "-Dcassandra-foreground=yes",  # otherwise the daemon closes stdout/stderr
    "-Dcassandra.skip_wait_for_gossip_to_settle=0",
    "-Dcassandra.ring_delay_ms=1000",
    "-Dcassandra.superuser_setup_delay_ms=0",
    "-Dcassandra.auth_bcrypt_gensalt_log2_rounds=4",  # the default superuser's bcrypt hash: 16 rounds, not 1024
    "-Dcassandra.skip_sync=true",
    "-Dcassandra.unsafesystem=true",
    "-Dcassandra.test.flush_local_schema_changes=false",
    "-Dcassandra.skip_paxos_state_rebuild=true",
    # Every DROP TABLE flushes every table with unflushed writes (the commit log is recycled); these two background
    # writers keep system tables dirty for nothing on a test node: about 13% off a DROP TABLE (bench in README).
    "-Dcassandra.size_recorder_interval=0",
    "-Dcassandra.sstable_activity_tracking=false",
    # Skips measuring memtable row overhead by filling a throwaway memtable (about 2 s on 2 cores);
    # 180 is what 5.0's SkipListMemtable measures on JDK 17 with compressed oops. Only sizing estimates use it.
    "-Dcassandra.memtable.row_overhead_size=180",
    "-Dcassandra.shutdown_announce_in_ms=0",  # stop: no 2 s gossip shutdown announcement
    "-Dcassandra.test.messagingService.nonGracefulShutdown=true",  # stop: no 2 s messaging quiesce
    "-Dcassandra.libjemalloc=-",
    "-Dchronicle.analytics.disable=true",  # the Chronicle jars would otherwise try to phone home
    "-Dchronicle.announcer.disable=true",
    "-Djava.net.preferIPv4Stack=true",
)

# General JVM settings: those of Cassandra's jvm-server.options that suit a small test node, plus
# C1-only JIT (start-up is dominated by class loading and cold code; C2 would compete for 2 cores).
JVM_TUNING: tuple[str, ...] = (
    "-Xss256k",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+PerfDisableSharedMem",
    "-XX:-UsePerfData",
    "-XX:+ExitOnOutOfMemoryError",  # a clear exit beats a wedged node; also silences a start-up warning
)

LOGBACK_XML = """<configuration scan="false" debug="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %logger{0} - %msg%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="STDOUT" />
  </root>
</configuration>
"""


@dataclass(frozen=True)
class ClientTls:
    """Client-to-node encryption of a test node: TLS only, its Java key store, and client certificates checked
    against the trust store when ``require_client_auth``."""

    keystore: Path
    truststore: Path
    password: str
    require_client_auth: bool = False


@dataclass(frozen=True)
class NodeConfig:
    """Everything that makes one node's files and command line; pure data.

    ``datacenter`` None is a lone node (SimpleSnitch, which reports ``datacenter1``); a name makes the node a
    cluster member: GossipingPropertyFileSnitch with that datacenter, no bootstrap streaming (the cluster is
    empty), and a ``cassandra-rackdc.properties`` beside the yaml.
    """

    workdir: Path
    native_port: int
    storage_port: int
    heap: str = "512M"
    auth: bool = False
    cluster_name: str = CLUSTER_NAME
    address: str = "127.0.0.1"
    seeds: tuple[str, ...] = ("127.0.0.1",)
    initial_token: int = 0
    datacenter: str | None = None
    rack: str = RACK
    properties: tuple[str, ...] = ()  # more -D system properties for this node's JVM
    client_tls: ClientTls | None = None

    @property
    def data_root(self) -> Path:
        return self.workdir / "data"

    @property
    def log_file(self) -> Path:
        return self.workdir / "cassandra.log"

    @property
    def yaml_file(self) -> Path:
        return self.workdir / "conf" / "cassandra.yaml"

    @property
    def logback_file(self) -> Path:
        return self.workdir / "conf" / "logback.xml"

    @property
    def rackdc_file(self) -> Path:
        return self.workdir / "conf" / "cassandra-rackdc.properties"

    @property
    def tmp_dir(self) -> Path:
        return self.workdir / "tmp"


def render_yaml(cfg: NodeConfig) -> str:
    """A minimal cassandra.yaml: the keys without defaults, loopback-only addresses, fast start."""
    data = cfg.data_root
    if cfg.auth:
        authenticator, authorizer = "PasswordAuthenticator", "CassandraAuthorizer"
    else:
        authenticator, authorizer = "AllowAllAuthenticator", "AllowAllAuthorizer"
    seeds = ",".join(f"{seed}:{cfg.storage_port}" for seed in cfg.seeds)
    snitch = "SimpleSnitch" if cfg.datacenter is None else "GossipingPropertyFileSnitch"
    member = "" if cfg.datacenter is None else "auto_bootstrap: false\n"
    return f"""# Generated by harness.servers.cassandra_local for a throwaway test node. Not for real data.
cluster_name: '{cfg.cluster_name}'
num_tokens: 1
initial_token: {cfg.initial_token}
{member}partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: {snitch}
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{seeds}"
listen_address: {cfg.address}
rpc_address: {cfg.address}
storage_port: {cfg.storage_port}
native_transport_port: {cfg.native_port}
start_native_transport: true
storage_compatibility_mode: NONE
data_file_directories:
  - {data / "data"}
commitlog_directory: {data / "commitlog"}
saved_caches_directory: {data / "saved_caches"}
hints_directory: {data / "hints"}
cdc_raw_directory: {data / "cdc_raw"}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
disk_access_mode: standard
auto_snapshot: false
authenticator: {authenticator}
authorizer: {authorizer}
role_manager: CassandraRoleManager
crypto_provider:
  - class_name: org.apache.cassandra.security.JREProvider
user_defined_functions_enabled: true
materialized_views_enabled: true
sasi_indexes_enabled: true
{_client_encryption(cfg.client_tls)}"""


def _client_encryption(tls: ClientTls | None) -> str:
    """The yaml block that makes the native port TLS-only (empty without TLS)."""
    if tls is None:
        return ""
    return f"""client_encryption_options:
  enabled: true
  optional: false
  keystore: {tls.keystore}
  keystore_password: {tls.password}
  require_client_auth: {str(tls.require_client_auth).lower()}
  truststore: {tls.truststore}
  truststore_password: {tls.password}
"""


def render_rackdc(cfg: NodeConfig) -> str:
    """GossipingPropertyFileSnitch's per-node file: this node's datacenter and rack."""
    return f"dc={cfg.datacenter or DATACENTER}\nrack={cfg.rack}\n"


def jvm_command(
    cfg: NodeConfig,
    lib: Path,
    jars: list[str],
    *,
    java: str = "java",
    cds_archive: Path | None = None,
    cds_dump: bool = False,
    extra_flags: tuple[str, ...] = (),
) -> list[str]:
    """The full ``java`` command line; ``jars`` are file names in ``lib`` (sorted for a stable CDS key)."""
    classpath = os.pathsep.join(str(lib / name) for name in jars)
    cds: list[str] = []
    if cds_archive is not None:
        flag = "ArchiveClassesAtExit" if cds_dump else "SharedArchiveFile"
        cds = [f"-XX:{flag}={cds_archive}", "-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    return [
        java,
        f"-Xms{cfg.heap}",
        f"-Xmx{cfg.heap}",
        *JVM_TUNING,
        *extra_flags,
        *cds,
        *JDK17_MODULE_FLAGS,
        *FAST_START_PROPERTIES,
        *cfg.properties,
        f"-Dcassandra.config=file://{cfg.yaml_file}",
        f"-Dlogback.configurationFile={cfg.logback_file}",
        f"-Dcassandra.logdir={cfg.workdir / 'logs'}",
        f"-Dcassandra.storagedir={cfg.data_root}",
        f"-Djava.io.tmpdir={cfg.tmp_dir}",
        f"-Djna.tmpdir={cfg.tmp_dir}",
        f"-Dcassandra.triggers_dir={cfg.workdir / 'triggers'}",
        *([f"-Dcassandra-rackdc.properties=file://{cfg.rackdc_file}"] if cfg.datacenter is not None else []),
        "-cp",
        classpath,
        "org.apache.cassandra.service.CassandraDaemon",
    ]


def cds_key(java_version: str, jars: list[str], command_flags: list[str]) -> str:
    """Name part of an AppCDS archive: it is only valid for the same JDK, classpath and VM flags."""
    digest = hashlib.sha256("\n".join([java_version, *jars, *command_flags]).encode()).hexdigest()
    return digest[:16]


def java_major(version_output: str) -> int:
    """Feature version from ``java -version`` output: 'version "17.0.15"' -> 17, '"1.8.0_402"' -> 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        raise ServerError(f"cannot read the Java version from `java -version`:\n{version_output}")
    first = int(match.group(1))
    return int(match.group(2) or 0) if first == 1 else first


# ---------------------------------------------------------------- several nodes


# The start-up "shadow round" (endpoint collision check) kills a non-seed that reaches it before the seed
# listens, and makes a seed wait for the other seeds; a fresh test cluster has no collisions to find.
NON_SEED_PROPERTIES: tuple[str, ...] = ("-Dcassandra.allow_unsafe_join=true",)

# A member that was paused or down pulls the schema changes it missed once it is back; by default it waits up to a
# minute for that (migration delay, pull interval), which tests that pause a node would spend idle.
CLUSTER_PROPERTIES: tuple[str, ...] = (
    "-Dcassandra.migration_delay_ms=1000",
    "-Dcassandra.schema_pull_interval_ms=2000",
)


def parse_dcs(spec: str | None, nodes: int) -> tuple[tuple[str, int], ...]:
    """``"dc1:2,dc2:1"`` -> (("dc1", 2), ("dc2", 1)); None means every node in ``datacenter1``.

    Checks what a cluster on 127.0.0.1..127.0.0.9 can be: 1 to 9 nodes, datacenter names of letters,
    digits, ``_`` and ``-``, each named once, counts that add up to ``nodes``. One-line ConfigErrors.
    """
    if not 1 <= nodes <= MAX_NODES:
        raise ConfigError(f"cassandra_nodes must be 1 to {MAX_NODES} (one per 127.0.0.x address), got {nodes}")
    if spec is None or not spec.strip():
        return ((DATACENTER, nodes),)
    dcs: list[tuple[str, int]] = []
    for part in spec.split(","):
        name, sep, count = part.strip().partition(":")
        if not sep or not _DC_NAME.fullmatch(name) or not count.strip().isdigit():
            raise ConfigError(
                f"cassandra_dcs {spec!r}: {part.strip()!r} is not NAME:COUNT (NAME of letters, digits, _ or -; "
                "for example dc1:2,dc2:1)"
            )
        if int(count) < 1:
            raise ConfigError(f"cassandra_dcs {spec!r}: datacenter {name} needs at least one node")
        if any(name == seen for seen, _ in dcs):
            raise ConfigError(f"cassandra_dcs {spec!r}: datacenter {name} is named twice")
        dcs.append((name, int(count)))
    total = sum(count for _, count in dcs)
    if total != nodes:
        plural = "" if total == 1 else "s"
        raise ConfigError(f"cassandra_dcs {spec!r} adds up to {total} node{plural} but cassandra_nodes is {nodes}")
    return tuple(dcs)


def dc_tokens(count: int, dc_index: int) -> list[int]:
    """Evenly spread Murmur3 tokens for ``count`` nodes of one datacenter.

    Each datacenter gets its own even ring (so NetworkTopologyStrategy balances within it), shifted by its
    index so no two nodes of the cluster share a token.
    """
    step = 2**64 // count
    return [-(2**63) + i * step + dc_index for i in range(count)]


def node_address(index: int) -> str:
    """Node ``index`` (0-based) listens on 127.0.0.<index + 1>."""
    return f"127.0.0.{index + 1}"


def cluster_configs(
    root: Path,
    dcs: tuple[tuple[str, int], ...],
    *,
    native_port: int,
    storage_port: int,
    heap: str,
    cluster_name: str = CLUSTER_NAME,
    non_seed_properties: tuple[str, ...] = NON_SEED_PROPERTIES,
    all_seeds: bool = True,
) -> list[NodeConfig]:
    """One NodeConfig per node, in start order: node1 (127.0.0.1) first, datacenter by datacenter.

    ``all_seeds``: every node is a seed (and skips the shadow round), so each gossips to every other from its
    first round instead of learning about them through node1: the last node is seen UP by all about twice as
    fast. A fresh cluster that bootstraps nothing has no use for the seed/non-seed split. Without it, node1 is
    the only seed and ``non_seed_properties`` go to the others.
    """
    total = sum(count for _, count in dcs)
    seeds = tuple(node_address(i) for i in range(total)) if all_seeds else (node_address(0),)
    configs: list[NodeConfig] = []
    for dc_index, (dc, count) in enumerate(dcs):
        for token in dc_tokens(count, dc_index):
            index = len(configs)
            configs.append(
                NodeConfig(
                    workdir=root / f"node{index + 1}",
                    native_port=native_port,
                    storage_port=storage_port,
                    heap=heap,
                    cluster_name=cluster_name,
                    address=node_address(index),
                    seeds=seeds,
                    initial_token=token,
                    datacenter=dc,
                    properties=(*CLUSTER_PROPERTIES, *(non_seed_properties if index or all_seeds else ())),
                )
            )
    return configs
