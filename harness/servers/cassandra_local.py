"""A real, throwaway Apache Cassandra 5.0 node as a local JVM process (no Docker).

The jars come from :mod:`harness.servers.cassandra_dist`. The node gets a minimal ``cassandra.yaml``
written from scratch, free ports on 127.0.0.1, and every single-node fast-start and test-only
durability shortcut (see ``/work/shared/notes/cassandra-local.md``). Ready means a real CQL query
answered, not a log line. Config rendering and the JVM command line are pure functions so they are
unit-tested without a JVM; everything that touches processes, files and sockets lives in the class.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from harness.errors import ServerError
from harness.servers.base import CassandraServer
from harness.servers.cassandra_dist import CASSANDRA_VERSION, dist_dir, fetch_cassandra, require_tool
from harness.stores.cassandra.conn import driver, probe_version

CLUSTER_NAME = "harness"
DATACENTER = "datacenter1"  # what SimpleSnitch reports
SUPERUSER = ("cassandra", "cassandra")  # created by CassandraRoleManager; throwaway nodes only
READY_LINES = ("Starting listening for CQL clients", "Startup complete")
BIND_FAILURE = "Failed to bind"
ERROR_MARKS = ("ERROR", "Exception", "Error:", "Failed to bind", "fatal error")
LOG_TAIL_LINES = 40

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

# Single-node start-up shortcuts and test-only durability shortcuts (never for real data).
FAST_START_PROPERTIES: tuple[str, ...] = (
    "-Dcassandra-foreground=yes",  # otherwise the daemon closes stdout/stderr
    "-Dcassandra.skip_wait_for_gossip_to_settle=0",
    "-Dcassandra.ring_delay_ms=1000",
    "-Dcassandra.superuser_setup_delay_ms=0",
    "-Dcassandra.skip_sync=true",
    "-Dcassandra.unsafesystem=true",
    "-Dcassandra.test.flush_local_schema_changes=false",
    "-Dcassandra.skip_paxos_state_rebuild=true",
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
class NodeConfig:
    """Everything that makes one node's files and command line; pure data."""

    workdir: Path
    native_port: int
    storage_port: int
    heap: str = "512M"
    auth: bool = False
    cluster_name: str = CLUSTER_NAME

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
    def tmp_dir(self) -> Path:
        return self.workdir / "tmp"


def render_yaml(cfg: NodeConfig) -> str:
    """A minimal cassandra.yaml: the keys without defaults, loopback-only ports, fast single-node start."""
    data = cfg.data_root
    if cfg.auth:
        authenticator, authorizer = "PasswordAuthenticator", "CassandraAuthorizer"
    else:
        authenticator, authorizer = "AllowAllAuthenticator", "AllowAllAuthorizer"
    return f"""# Generated by harness.servers.cassandra_local for a throwaway test node. Not for real data.
cluster_name: '{cfg.cluster_name}'
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:{cfg.storage_port}"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
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
"""


def jvm_command(
    cfg: NodeConfig,
    lib: Path,
    jars: list[str],
    *,
    java: str = "java",
    cds_archive: Path | None = None,
    cds_dump: bool = False,
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
        *cds,
        *JDK17_MODULE_FLAGS,
        *FAST_START_PROPERTIES,
        f"-Dcassandra.config=file://{cfg.yaml_file}",
        f"-Dlogback.configurationFile={cfg.logback_file}",
        f"-Dcassandra.logdir={cfg.workdir / 'logs'}",
        f"-Dcassandra.storagedir={cfg.data_root}",
        f"-Djava.io.tmpdir={cfg.tmp_dir}",
        f"-Djna.tmpdir={cfg.tmp_dir}",
        f"-Dcassandra.triggers_dir={cfg.workdir / 'triggers'}",
        "-cp",
        classpath,
        "org.apache.cassandra.service.CassandraDaemon",
    ]


def cds_key(java_version: str, jars: list[str], command_flags: list[str]) -> str:
    """Name part of an AppCDS archive: it is only valid for the same JDK, classpath and VM flags."""
    digest = hashlib.sha256("\n".join([java_version, *jars, *command_flags]).encode()).hexdigest()
    return digest[:16]


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the node may still lose a race; start() retries then)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MEMLOCK_LIMIT = 64 * 1024
_PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_CAP_IPC_LOCK = 14


def make_preexec() -> Callable[[], None] | None:
    """A preexec_fn (Linux) that makes the JVM die with its parent and leaves its heap unlocked.

    Cassandra always calls ``mlockall(MCL_CURRENT)``; as root that succeeds and faults in the whole
    heap (about 1.3 s and +500 MB RSS on a 512M heap). Dropping CAP_IPC_LOCK from the bounding set and
    lowering RLIMIT_MEMLOCK makes it fail as it does for ordinary users (one WARN line). Both are best
    effort. Everything is looked up here, in the parent: between fork and exec only plain C calls run.
    PR_SET_PDEATHSIG fires when the *thread* that started the JVM exits, so start nodes from a thread
    that outlives them (the main thread in pytest).
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    drop_ipc_lock = os.geteuid() == 0
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    limit = MEMLOCK_LIMIT if hard == resource.RLIM_INFINITY else min(MEMLOCK_LIMIT, hard)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if drop_ipc_lock:
            prctl(_PR_CAPBSET_DROP, _CAP_IPC_LOCK)
        if soft == resource.RLIM_INFINITY or soft > limit:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_MEMLOCK, (limit, hard))

    return preexec


def _ignore(_message: str) -> None:
    """Default progress sink: say nothing."""


class _BindFailed(ServerError):
    """A chosen port was taken between picking and binding; start() retries with new ports."""


class _ExitedWithArchive(ServerError):
    """The JVM died during start-up while mapping an AppCDS archive; start() retries without it."""


@dataclass
class _CdsPlan:
    """How this launch uses AppCDS: map ``use``, or dump into ``partial`` and publish it as ``final``."""

    use: Path | None = None
    partial: Path | None = None
    final: Path | None = None

    @property
    def flags_archive(self) -> Path | None:
        return self.use or self.partial


class LocalCassandra:
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
        log: Callable[[str], None] = _ignore,
    ) -> None:
        self.version = version
        self.heap = heap
        self.timeout = timeout
        self.auth = auth
        self.cds = cds
        self.cache = cache
        self._log = log
        self._given_workdir = workdir
        self._workdir: Path | None = None
        self._owns_workdir = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._cds = _CdsPlan()
        self._java = ""
        self._classpath_jars: list[str] = []
        self._lib: Path | None = None
        self._cfg: NodeConfig | None = None
        self._log_offset = 0  # where this attempt's output starts in the (appended) log
        self.info: CassandraServer | None = None
        self.stage_times: dict[str, float] = {}

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_file(self) -> Path | None:
        return self._workdir / "cassandra.log" if self._workdir is not None else None

    def __enter__(self) -> CassandraServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- start

    def start(self) -> CassandraServer:
        """Launch the JVM and return once a CQL query has been answered; ServerError otherwise."""
        if self._proc is not None and self.info is not None:
            return self.info
        self._java = find_java()
        major = java_major(_java_version(self._java))
        if major not in SUPPORTED_JDKS:
            raise ServerError(
                f"{self._java} is JDK {major}; Cassandra {self.version} runs on JDK 11 or 17. "
                "Fix: install openjdk-17-jdk-headless and put it first on PATH or set JAVA_HOME."
            )
        if major < 13:
            self.cds = False  # dynamic AppCDS archives (-XX:ArchiveClassesAtExit) need JDK 13+
        self._lib = fetch_cassandra(self.version, cache=self.cache, log=self._log)
        self._classpath_jars = sorted(p.name for p in self._lib.glob("*.jar"))
        if self._given_workdir is not None:
            self._workdir = self._given_workdir
            self._workdir.mkdir(parents=True, exist_ok=True)
        else:
            self._workdir = Path(tempfile.mkdtemp(prefix="harness-cassandra-"))
            self._owns_workdir = True
        attempts = 3
        for attempt in range(1, attempts + 1):
            cfg = NodeConfig(
                workdir=self._workdir,
                native_port=free_port(),
                storage_port=free_port(),
                heap=self.heap,
                auth=self.auth,
            )
            try:
                self.info = self._start_once(cfg)
                return self.info
            except (_BindFailed, _ExitedWithArchive) as exc:
                archive = self._cds.use
                self._kill()
                if attempt == attempts:
                    self.stop()
                    raise
                if isinstance(exc, _ExitedWithArchive) and archive is not None:
                    archive.unlink(missing_ok=True)
                    self.cds = False
                    self._log("cassandra: start failed with the AppCDS archive; deleted it, retrying without")
                else:
                    self._log("cassandra: port taken, retrying with new ports")
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _command(self, cfg: NodeConfig, archive: Path | None = None, dump: bool = False) -> list[str]:
        assert self._lib is not None
        return jvm_command(cfg, self._lib, self._classpath_jars, java=self._java, cds_archive=archive, cds_dump=dump)

    def _start_once(self, cfg: NodeConfig) -> CassandraServer:
        for sub in ("conf", "logs", "tmp", "data", "triggers"):
            (cfg.workdir / sub).mkdir(parents=True, exist_ok=True)
        cfg.yaml_file.write_text(render_yaml(cfg))
        cfg.logback_file.write_text(LOGBACK_XML)
        self._cfg = cfg
        self._cds = self._plan_cds(cfg)
        command = self._command(cfg, self._cds.flags_archive, dump=self._cds.partial is not None)
        self._log(f"cassandra: starting {self.version} on 127.0.0.1:{cfg.native_port}")
        self.stage_times = {}
        began = time.monotonic()
        self._log_offset = cfg.log_file.stat().st_size if cfg.log_file.exists() else 0
        with cfg.log_file.open("ab") as out:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cfg.workdir,
                start_new_session=True,
                preexec_fn=make_preexec(),
            )
        version = self._wait_ready(cfg, began)
        self._log(f"cassandra: ready in {time.monotonic() - began:.1f}s")
        user, password = SUPERUSER if self.auth else (None, None)
        return CassandraServer(
            contact_points=("127.0.0.1",),
            port=cfg.native_port,
            local_datacenter=DATACENTER,
            version=version,
            provider="local",
            username=user,
            password=password,
        )

    # ---------------------------------------------------------------- AppCDS

    def _plan_cds(self, cfg: NodeConfig) -> _CdsPlan:
        """Use the cached archive if present, else dump one from this run (to a private name)."""
        if not self.cds:
            return _CdsPlan()
        flags = [a for a in self._command(cfg) if a.startswith(("-X", "--add"))]
        key = cds_key(_java_version(self._java), self._classpath_jars, flags)
        final = dist_dir(self.version, self.cache) / "cds" / f"{key}.jsa"
        if final.is_file():
            return _CdsPlan(use=final)
        final.parent.mkdir(parents=True, exist_ok=True)
        return _CdsPlan(partial=final.with_name(f"{final.name}.{os.getpid()}.{id(self)}.partial"), final=final)

    def _publish_cds(self, cfg: NodeConfig, clean_exit: bool) -> None:
        """After the JVM exited: validate a fresh dump and move it into place, or throw it away.

        A truncated or foreign archive crashes the JVM outright instead of being ignored, so the
        dump is only published after a cleanly stopped JVM wrote it and ``java -Xshare:on`` maps it.
        """
        plan, self._cds = self._cds, _CdsPlan()
        if plan.partial is None or plan.final is None:
            return
        try:
            if clean_exit and plan.partial.is_file() and self._archive_maps(cfg, plan.partial):
                os.replace(plan.partial, plan.final)
                self._log("cassandra: wrote an AppCDS archive for faster starts")
        finally:
            plan.partial.unlink(missing_ok=True)

    def _archive_maps(self, cfg: NodeConfig, archive: Path) -> bool:
        """``java -Xshare:on ... -version`` with the node's own flags: fails unless the archive maps."""
        probe = [a.replace("-Xshare:auto", "-Xshare:on") for a in self._command(cfg, archive)[:-1]]
        done = subprocess.run([*probe, "-version"], capture_output=True, timeout=60, check=False)
        return done.returncode == 0

    # ---------------------------------------------------------------- readiness

    def _wait_ready(self, cfg: NodeConfig, began: float) -> str:
        """process alive -> ready log line -> TCP connect -> driver query; fail fast with the log tail."""
        driver()  # import while the JVM boots, not after
        deadline = began + self.timeout
        reader = _LogReader(cfg.log_file, self._log_offset)
        stage = "log line"
        while True:
            proc = self._proc
            assert proc is not None
            text = reader.read_new()
            if BIND_FAILURE in text:
                raise _BindFailed(self._failure(cfg, "a port was already taken (Failed to bind)"))
            code = proc.poll()
            if code is not None:
                error = _ExitedWithArchive if self._cds.use is not None else ServerError
                raise error(self._failure(cfg, f"the JVM exited with code {code} during start-up"))
            if stage == "log line" and reader.seen_any(READY_LINES):
                stage = self._reached("tcp", began)
            if stage == "tcp" and _tcp_open(cfg.native_port):
                stage = self._reached("query", began)
            if stage == "query":
                version = self._query_version(cfg.native_port)
                if version is not None:
                    self._reached("ready", began)
                    return version
            if time.monotonic() > deadline:
                raise ServerError(self._failure(cfg, f"not ready after {self.timeout:.0f}s (waiting for: {stage})"))
            time.sleep(0.1)

    def _reached(self, stage: str, began: float) -> str:
        """Record when each readiness stage was reached (seconds since launch), for tuning."""
        self.stage_times[stage] = round(time.monotonic() - began, 2)
        return stage

    def _query_version(self, port: int) -> str | None:
        """``SELECT release_version FROM system.local`` through the real driver; None if not yet."""
        user, password = SUPERUSER if self.auth else (None, None)
        node = CassandraServer(("127.0.0.1",), port, DATACENTER, username=user, password=password)
        return probe_version(node, timeout=5)

    def _failure(self, cfg: NodeConfig, reason: str) -> str:
        lines = _attempt_lines(cfg.log_file, self._log_offset)
        errors = [line for line in lines if any(mark in line for mark in ERROR_MARKS)][:10]
        tail = "\n".join(lines[-LOG_TAIL_LINES:]) or "(nothing logged)"
        first = "First errors:\n" + "\n".join(errors) + "\n" if errors else ""
        return (
            f"local Cassandra {self.version} failed to start: {reason}.\n{first}"
            f"Log {cfg.log_file} (last {LOG_TAIL_LINES} lines):\n{tail}\n"
            "Fix: read the log above; a JDK 17 `java` is required and ports on 127.0.0.1 must be free."
        )

    # ---------------------------------------------------------------- stop

    def _kill(self) -> None:
        """SIGTERM the process group, wait, then SIGKILL; leaves the work dir in place."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        dumping = self._cds.partial is not None
        grace = 60.0 if dumping else 8.0  # writing an AppCDS archive at exit takes a few seconds
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if self._cfg is not None:
            self._publish_cds(self._cfg, clean_exit=proc.returncode in (0, 128 + signal.SIGTERM))

    def stop(self) -> None:
        """Stop the node and delete its work dir if we created it; safe to call twice."""
        self._kill()
        self.info = None
        if self._owns_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
            self._owns_workdir = False


class _LogReader:
    """Reads a growing log incrementally and keeps a window for marker lines split across reads."""

    def __init__(self, path: Path, offset: int = 0) -> None:
        self.path = path
        self.offset = offset
        self.seen = ""
        self.ever: set[str] = set()

    def read_new(self) -> str:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return ""
        self.offset += len(chunk)
        self.seen = self.seen[-4096:] + chunk.decode("utf-8", "replace")
        return self.seen

    def seen_any(self, markers: tuple[str, ...]) -> bool:
        found = {m for m in markers if m in self.seen}
        self.ever |= found
        return bool(self.ever)


def _attempt_lines(path: Path, offset: int) -> list[str]:
    """The log lines written since ``offset`` (this start attempt)."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return []


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


SUPPORTED_JDKS = range(11, 18)


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` when set (as Cassandra's own scripts do), else ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(Path(home) / "bin" / "java", os.X_OK):
        return str(Path(home) / "bin" / "java")
    return require_tool("java")


def java_major(version_output: str) -> int:
    """Feature version from ``java -version`` output: 'version "17.0.15"' -> 17, '"1.8.0_402"' -> 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        raise ServerError(f"cannot read the Java version from `java -version`:\n{version_output}")
    first = int(match.group(1))
    return int(match.group(2) or 0) if first == 1 else first


_JAVA_VERSION: dict[str, str] = {}


def _java_version(java: str) -> str:
    """``java -version`` output and real path, cached per executable (part of the CDS archive key)."""
    if java not in _JAVA_VERSION:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
        _JAVA_VERSION[java] = (done.stderr + done.stdout).strip() + "\n" + os.path.realpath(java)
    return _JAVA_VERSION[java]
