"""One Cassandra JVM as a child process: the JDK and jars it runs on, its AppCDS archive, launch, watch, kill.

Shared by the single-node provider (:mod:`harness.servers.cassandra_local`) and the local cluster
(:mod:`harness.servers.cassandra_cluster`); readiness beyond "the process is up and logs that it listens"
is theirs, because it differs (one node answers a query; a cluster must also agree).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ServerError
from harness.servers.cassandra_config import (
    LOGBACK_XML,
    SUPPORTED_JDKS,
    NodeConfig,
    cds_key,
    java_major,
    jvm_command,
    render_rackdc,
    render_yaml,
)
from harness.servers.cassandra_dist import dist_dir, fetch_cassandra, require_tool
from harness.servers.procutil import child_preexec, peak_rss_kib

READY_LINES = ("Starting listening for CQL clients", "Startup complete")
BIND_FAILURE = "Failed to bind"
ERROR_MARKS = ("ERROR", "Exception", "Error:", "Failed to bind", "fatal error")
LOG_TAIL_LINES = 40


def ignore(_message: str) -> None:
    """Default progress sink: say nothing."""


class BindFailed(ServerError):
    """A chosen port was taken between picking and binding; the starter retries with new ports."""


class ExitedWithArchive(ServerError):
    """The JVM died during start-up while mapping an AppCDS archive; the starter retries without it."""


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` when set (as Cassandra's own scripts do), else ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(Path(home) / "bin" / "java", os.X_OK):
        return str(Path(home) / "bin" / "java")
    return require_tool("java")


_JAVA_VERSION: dict[str, str] = {}


def java_version(java: str) -> str:
    """``java -version`` output and real path, cached per executable (part of the CDS archive key)."""
    if java not in _JAVA_VERSION:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
        _JAVA_VERSION[java] = (done.stderr + done.stdout).strip() + "\n" + os.path.realpath(java)
    return _JAVA_VERSION[java]


@dataclass
class CdsPlan:
    """How one launch uses AppCDS: map ``use``, or dump into ``partial`` and publish it as ``final``."""

    use: Path | None = None
    partial: Path | None = None
    final: Path | None = None

    @property
    def archive(self) -> Path | None:
        return self.use or self.partial

    @property
    def dumping(self) -> bool:
        return self.partial is not None


@dataclass
class Runtime:
    """The JDK, the jars and the AppCDS archive cache that every node of one start shares.

    ``cds``: keep an AppCDS archive of Cassandra's classes in the cache, written by the first clean JVM
    exit, validated, then mapped by every later start (about 1 s less per node on 2 cores).
    """

    version: str
    cache: Path | None = None
    cds: bool = True
    extra_flags: tuple[str, ...] = ()
    cds_tag: str = ""  # a separate archive for nodes that load other classes (cluster members)
    log: Callable[[str], None] = ignore
    java: str = ""
    lib: Path = field(default_factory=Path)
    jars: list[str] = field(default_factory=list)

    def prepare(self) -> None:
        """Find a supported JDK and fetch (or reuse) the jars; ServerError naming the fix otherwise."""
        self.java = find_java()
        major = java_major(java_version(self.java))
        if major not in SUPPORTED_JDKS:
            raise ServerError(
                f"{self.java} is JDK {major}; Cassandra {self.version} runs on JDK 11 or 17. "
                "Fix: install openjdk-17-jdk-headless and put it first on PATH or set JAVA_HOME."
            )
        if major < 13:
            self.cds = False  # dynamic AppCDS archives (-XX:ArchiveClassesAtExit) need JDK 13+
        self.lib = fetch_cassandra(self.version, cache=self.cache, log=self.log)
        self.jars = sorted(p.name for p in self.lib.glob("*.jar"))

    def command(self, cfg: NodeConfig, archive: Path | None = None, dump: bool = False) -> list[str]:
        return jvm_command(
            cfg,
            self.lib,
            self.jars,
            java=self.java,
            cds_archive=archive,
            cds_dump=dump,
            extra_flags=self.extra_flags,
        )

    def plan_cds(self, cfg: NodeConfig, dump: bool = True) -> CdsPlan:
        """Use the cached archive if present, else (when ``dump``) dump one from this run to a private name."""
        if not self.cds:
            return CdsPlan()
        flags = [a for a in self.command(cfg) if a.startswith(("-X", "--add"))] + (
            [self.cds_tag] if self.cds_tag else []
        )
        key = cds_key(java_version(self.java), self.jars, flags)
        final = dist_dir(self.version, self.cache) / "cds" / f"{key}.jsa"
        if final.is_file():
            return CdsPlan(use=final)
        if not dump:
            return CdsPlan()
        final.parent.mkdir(parents=True, exist_ok=True)
        return CdsPlan(partial=final.with_name(f"{final.name}.{os.getpid()}.{id(cfg)}.partial"), final=final)

    def publish_cds(self, plan: CdsPlan, cfg: NodeConfig, clean_exit: bool) -> None:
        """After the JVM exited: validate a fresh dump and move it into place, or throw it away.

        A truncated or foreign archive crashes the JVM outright instead of being ignored, so the dump is
        only published after a cleanly stopped JVM wrote it and ``java -Xshare:on`` maps it.
        """
        if plan.partial is None or plan.final is None:
            return
        try:
            if clean_exit and plan.partial.is_file() and self._archive_maps(cfg, plan.partial):
                os.replace(plan.partial, plan.final)
                self.log("cassandra: wrote an AppCDS archive for faster starts")
        finally:
            plan.partial.unlink(missing_ok=True)

    def _archive_maps(self, cfg: NodeConfig, archive: Path) -> bool:
        """``java -Xshare:on ... -version`` with the node's own flags: fails unless the archive maps."""
        probe = [a.replace("-Xshare:auto", "-Xshare:on") for a in self.command(cfg, archive)[:-1]]
        done = subprocess.run([*probe, "-version"], capture_output=True, timeout=60, check=False)
        return done.returncode == 0


class NodeProcess:
    """One node's files and JVM: write the config, launch, watch the log, report failures, stop."""

    def __init__(self, cfg: NodeConfig, runtime: Runtime, cds: CdsPlan) -> None:
        self.cfg = cfg
        self.runtime = runtime
        self.cds = cds
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0  # where this attempt's output starts in the (appended) log
        self._reader: LogReader | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def launch(self) -> None:
        """Write the node's files and start its JVM (call from a thread that outlives the node)."""
        cfg = self.cfg
        for sub in ("conf", "logs", "tmp", "data", "triggers"):
            (cfg.workdir / sub).mkdir(parents=True, exist_ok=True)
        cfg.yaml_file.write_text(render_yaml(cfg))
        cfg.logback_file.write_text(LOGBACK_XML)
        if cfg.datacenter is not None:
            cfg.rackdc_file.write_text(render_rackdc(cfg))
        command = self.runtime.command(cfg, self.cds.archive, dump=self.cds.dumping)
        self._log_offset = cfg.log_file.stat().st_size if cfg.log_file.exists() else 0
        self._reader = LogReader(cfg.log_file, self._log_offset)
        with cfg.log_file.open("ab") as out:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cfg.workdir,
                start_new_session=True,
                preexec_fn=child_preexec(unlock_memory=True),
            )

    def check_listening(self) -> bool:
        """True once the log says CQL is served; raises (with the log) if the JVM failed or exited."""
        assert self.proc is not None and self._reader is not None
        text = self._reader.read_new()
        if BIND_FAILURE in text:
            raise BindFailed(self.failure("a port was already taken (Failed to bind)"))
        code = self.proc.poll()
        if code is not None:
            error = ExitedWithArchive if self.cds.use is not None else ServerError
            raise error(self.failure(f"the JVM exited with code {code} during start-up"))
        return self._reader.seen_any(READY_LINES)

    def failure(self, reason: str) -> str:
        """An error message: the reason, the first error lines and the tail of this attempt's log."""
        lines = _attempt_lines(self.cfg.log_file, self._log_offset)
        errors = [line for line in lines if any(mark in line for mark in ERROR_MARKS)][:10]
        tail = "\n".join(lines[-LOG_TAIL_LINES:]) or "(nothing logged)"
        first = "First errors:\n" + "\n".join(errors) + "\n" if errors else ""
        return (
            f"local Cassandra {self.runtime.version} on {self.cfg.address} failed to start: {reason}.\n{first}"
            f"Log {self.cfg.log_file} (last {LOG_TAIL_LINES} lines):\n{tail}\n"
            "Fix: read the log above; a JDK 17 `java` is required and ports on 127.0.0.x must be free."
        )

    def peak_rss_kib(self) -> int | None:
        return peak_rss_kib(self.proc.pid) if self.proc is not None else None

    def terminate(self) -> None:
        """Ask the JVM to stop (SIGTERM to its process group) without waiting, so several nodes stop together."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGCONT)  # a node a test paused must still be able to stop
            os.killpg(self.proc.pid, signal.SIGTERM)

    def kill(self) -> None:
        """SIGTERM the JVM's process group, wait, then SIGKILL; publish a fresh AppCDS dump. Keeps the files."""
        self.terminate()
        proc, self.proc = self.proc, None
        if proc is None:
            return
        grace = 60.0 if self.cds.dumping else 8.0  # writing an AppCDS archive at exit takes a few seconds
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        plan, self.cds = self.cds, CdsPlan()
        self.runtime.publish_cds(plan, self.cfg, clean_exit=proc.returncode in (0, 128 + signal.SIGTERM))


class LogReader:
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


def stage_clock(began: float, times: dict[str, float], stage: str) -> str:
    """Record when a readiness stage was reached (seconds since launch), for tuning; returns the stage."""
    times[stage] = round(time.monotonic() - began, 2)
    return stage
