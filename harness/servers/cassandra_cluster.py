"""A real, throwaway Cassandra 5.0 cluster of 1 to 9 local JVMs on 127.0.0.1, 127.0.0.2, ... (no Docker).

Each node is configured like the single-node provider (same jars, fast-start flags) plus its own address, an
evenly spread token and its datacenter (GossipingPropertyFileSnitch). All nodes are launched at once: a node's
start is CPU-bound class loading and table set-up, so on 2 cores overlapping them beats waiting for each in turn.
Every node is a seed and skips the start-up "shadow round" endpoint collision check
(``cassandra.allow_unsafe_join``; a fresh cluster has no collisions): no node waits for another to start, and
each gossips with all the others from its first round.

Ready means every node answers CQL on its own address and the nodes agree, as they themselves report it
(see :mod:`harness.servers.cluster_readiness`): all peers listed, all NORMAL and UP, one schema version.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ServerError
from harness.servers.base import CassandraServer, NodeProcessInfo, Provider
from harness.servers.cassandra_config import NON_SEED_PROPERTIES, NodeConfig, cluster_configs, parse_dcs
from harness.servers.cassandra_dist import CASSANDRA_VERSION
from harness.servers.cassandra_node import BindFailed, ExitedWithArchive, NodeProcess, Runtime, ignore, stage_clock
from harness.servers.cluster_readiness import NodeView, cluster_missing, failure_detector_verdicts
from harness.servers.procutil import free_port, tcp_open
from harness.stores.cassandra.conn import driver


@dataclass
class _Member:
    """One node while the cluster starts: its process, its driver session and what it reported last."""

    process: NodeProcess
    session: Any = None
    cluster: Any = None
    up_seen: dict[str, bool] = field(default_factory=dict)
    log_offset: int = 0
    waiting: str = "log line"

    @property
    def cfg(self) -> NodeConfig:
        return self.process.cfg


class LocalCassandraCluster(Provider[CassandraServer]):
    """Start, check and stop a throwaway local Cassandra cluster; a context manager returning CassandraServer.

    ``dcs`` is a datacenter spec such as ``"dc1:2,dc2:1"`` (None: all nodes in ``datacenter1``). The returned
    server names every node as a contact point, with the first datacenter as the local one. Cluster members
    load classes a lone node does not (gossip, snitch, messaging), so they get an AppCDS archive of their own
    (``cds_tag``), dumped by the seed of the first cluster started: about 3% less CPU than the lone node's.
    ``together=False``, ``skip_shadow_round=False`` and ``all_seeds=False`` exist for the benchmark
    (``bench/cluster.py``), which measures what they cost.
    """

    def __init__(
        self,
        *,
        nodes: int = 3,
        dcs: str | None = None,
        version: str = CASSANDRA_VERSION,
        heap: str = "512M",
        timeout: float = 180.0,
        cds: bool = True,
        cache: Path | None = None,
        extra_flags: tuple[str, ...] = (),
        together: bool = True,
        skip_shadow_round: bool = True,
        cds_tag: str = "cluster",
        all_seeds: bool = True,
        log: Callable[[str], None] = ignore,
    ) -> None:
        self.dcs = parse_dcs(dcs, nodes)
        self.version = version
        self.heap = heap
        self.timeout = timeout
        self.together = together
        self.skip_shadow_round = skip_shadow_round
        self.all_seeds = all_seeds
        self._log = log
        self._runtime = Runtime(
            version=version, cache=cache, cds=cds, extra_flags=extra_flags, cds_tag=cds_tag, log=log
        )
        self._workdir: Path | None = None
        self._members: list[_Member] = []
        self.info: CassandraServer | None = None
        self.stage_times: dict[str, float] = {}

    # ---------------------------------------------------------------- what tests and benchmarks read

    def node_processes(self) -> list[NodeProcessInfo]:
        """Every running node's address, JVM pid and datacenter (for tests that pause or stop one)."""
        return [
            NodeProcessInfo(address=m.cfg.address, pid=pid, datacenter=m.cfg.datacenter or "")
            for m in self._members
            if (pid := m.process.pid) is not None
        ]

    def peak_rss_mib(self) -> float | None:
        """Summed peak resident memory (VmHWM) of all node JVMs; None if any cannot be read."""
        values = [m.process.peak_rss_kib() for m in self._members]
        if not values or any(v is None for v in values):
            return None
        return sum(v for v in values if v is not None) / 1024

    # ---------------------------------------------------------------- start

    def start(self) -> CassandraServer:
        """Launch every node and return once the cluster is ready (see the module doc); ServerError otherwise."""
        if self.info is not None:
            return self.info
        try:
            self._runtime.prepare()
            self._workdir = Path(tempfile.mkdtemp(prefix="harness-cassandra-cluster-"))
            for attempt in range(1, 4):
                try:
                    self.info = self._start_once()
                    return self.info
                except (BindFailed, ExitedWithArchive) as exc:
                    archive = self._members[0].process.cds.use if self._members else None
                    self._stop_nodes()
                    if attempt == 3:
                        raise
                    if isinstance(exc, ExitedWithArchive) and archive is not None:
                        archive.unlink(missing_ok=True)
                        self._runtime.cds = False
                        self._log("cassandra: a node failed with the AppCDS archive; deleted it, retrying without")
                    else:
                        self._log("cassandra: a port was taken, retrying the cluster with new ports")
        except BaseException:
            self.stop()
            raise
        raise AssertionError("unreachable")

    def _start_once(self) -> CassandraServer:
        assert self._workdir is not None
        addresses = [f"127.0.0.{i + 1}" for i in range(sum(count for _, count in self.dcs))]
        native, storage = free_port(addresses), free_port(addresses)
        for sub in self._workdir.iterdir():  # a previous attempt's nodes
            shutil.rmtree(sub, ignore_errors=True)
        configs = cluster_configs(
            self._workdir,
            self.dcs,
            native_port=native,
            storage_port=storage,
            heap=self.heap,
            non_seed_properties=NON_SEED_PROPERTIES if self.skip_shadow_round else (),
            all_seeds=self.all_seeds,
        )
        seed_plan = self._runtime.plan_cds(configs[0])
        self._members = [_Member(NodeProcess(configs[0], self._runtime, seed_plan))]
        other_plan = self._runtime.plan_cds(configs[0], dump=False)  # a dump is the seed's job
        for cfg in configs[1:]:
            self._members.append(_Member(NodeProcess(cfg, self._runtime, other_plan)))
        shape = ", ".join(f"{dc}: {count}" for dc, count in self.dcs)
        self._log(f"cassandra: starting a {len(configs)}-node cluster ({shape}) on port {native}")
        self.stage_times = {}
        began = time.monotonic()
        self._launch_all(began)
        version = self._wait_ready(began)
        peak = self.peak_rss_mib()
        self._log(
            f"cassandra: {len(configs)} nodes ready in {time.monotonic() - began:.1f}s"
            + (f", peak RSS {peak:.0f} MiB in all" if peak is not None else "")
        )
        return CassandraServer(
            contact_points=tuple(addresses),
            port=native,
            local_datacenter=self.dcs[0][0],
            version=version,
            provider="local",
        )

    def _launch_all(self, began: float) -> None:
        """Node1 first, then (``together``) every other node at once, or each after the previous one answers.

        Launched from this thread: the JVMs die with it (PR_SET_PDEATHSIG is per thread).
        """
        self._members[0].process.launch()
        for previous, member in zip(self._members, self._members[1:], strict=False):
            while not self.together and not self._answers(previous):
                self._check_deadline(began)
                time.sleep(0.05)
            member.process.launch()
        stage_clock(began, self.stage_times, "launched")

    # ---------------------------------------------------------------- readiness

    def _wait_ready(self, began: float) -> str:
        driver()  # import while the JVMs boot, not after
        logger = logging.getLogger("cassandra")
        level = logger.level
        logger.setLevel(logging.CRITICAL)  # "not up yet" errors are expected while probing
        try:
            return self._poll_ready(began)
        finally:
            logger.setLevel(level)

    def _poll_ready(self, began: float) -> str:
        while True:
            for member in self._members:
                self._answers(member, began)
            if all(m.session is not None for m in self._members):
                if "all answer" not in self.stage_times:
                    stage_clock(began, self.stage_times, "all answer")
                version, missing = self._agreement()
                if not missing:
                    stage_clock(began, self.stage_times, "ready")
                    self._close_sessions()
                    return version
                for member in self._members:
                    member.waiting = missing
            self._check_deadline(began)
            time.sleep(0.2)

    def _answers(self, member: _Member, began: float | None = None) -> bool:
        """Advance one node through log line -> TCP -> driver session; True once it has a session."""
        if member.session is not None:
            member.process.check_listening()  # still fails fast if the JVM died
            return True
        cfg = member.cfg
        if not member.process.check_listening():
            return False
        if began is not None and f"{cfg.address} listening" not in self.stage_times:
            stage_clock(began, self.stage_times, f"{cfg.address} listening")
        if not tcp_open(cfg.native_port, cfg.address):
            member.waiting = "native port"
            return False
        member.waiting = "first query"
        with contextlib.suppress(Exception):  # not ready yet: NoHostAvailable, timeouts
            member.cluster, member.session = _node_session(cfg.address, cfg.native_port)
        return member.session is not None

    def _agreement(self) -> tuple[str, str]:
        """(release version, "" if the cluster agrees, else what is still missing), asking every node."""
        views: list[NodeView] = []
        version = ""
        for member in self._members:
            session = member.session
            try:
                local = session.execute("SELECT release_version, schema_version FROM system.local").one()
                peers = session.execute("SELECT peer, data_center, schema_version FROM system.peers_v2")
                gossip = session.execute("SELECT address, status_with_port FROM system_views.gossip_info")
            except Exception as exc:
                return "", f"{member.cfg.address} did not answer ({type(exc).__name__})"
            version = str(local.release_version)
            member.up_seen.update(self._new_verdicts(member))
            views.append(
                NodeView(
                    address=member.cfg.address,
                    schema_version=_text(local.schema_version),
                    peers={str(p.peer): (p.data_center, _text(p.schema_version)) for p in peers},
                    normal=frozenset(str(g.address) for g in gossip if (g.status_with_port or "").startswith("NORMAL")),
                    up=dict(member.up_seen),
                )
            )
        expected = {m.cfg.address: m.cfg.datacenter or "" for m in self._members}
        return version, cluster_missing(expected, views)

    @staticmethod
    def _new_verdicts(member: _Member) -> dict[str, bool]:
        """The failure detector's verdicts logged since the last look (whole lines only)."""
        with member.cfg.log_file.open("rb") as handle:
            handle.seek(member.log_offset)
            chunk = handle.read()
        end = chunk.rfind(b"\n") + 1
        member.log_offset += end
        return failure_detector_verdicts(chunk[:end].decode("utf-8", "replace"))

    def _check_deadline(self, began: float) -> None:
        if time.monotonic() - began <= self.timeout:
            return
        waiting = [m for m in self._members if m.session is None] or self._members
        member = waiting[0]
        raise ServerError(member.process.failure(f"cluster not ready after {self.timeout:.0f}s: {member.waiting}"))

    # ---------------------------------------------------------------- stop

    def _close_sessions(self) -> None:
        for member in self._members:
            if member.cluster is not None:
                with contextlib.suppress(Exception):
                    member.cluster.shutdown()
                member.cluster = member.session = None

    def _stop_nodes(self) -> None:
        self._close_sessions()
        for member in self._members:  # all at once: each takes about a second to stop
            member.process.terminate()
        for member in self._members:
            member.process.kill()

    def stop(self) -> None:
        """Stop every node and delete the cluster's directory; safe to call twice."""
        self._stop_nodes()
        self._members = []
        self.info = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


def _node_session(address: str, port: int) -> tuple[Any, Any]:
    """A driver session bound to exactly one node, so each query reports that node's own view."""
    cs = driver()
    policy = cs.policies.WhiteListRoundRobinPolicy([address])
    profile = cs.cluster.ExecutionProfile(load_balancing_policy=policy, request_timeout=10)
    cluster = cs.cluster.Cluster(
        [address],
        port=port,
        execution_profiles={cs.cluster.EXEC_PROFILE_DEFAULT: profile},
        protocol_version=5,
        connect_timeout=5,
        control_connection_timeout=5,
        schema_metadata_enabled=False,
        token_metadata_enabled=False,
    )
    try:
        return cluster, cluster.connect()
    except Exception:
        cluster.shutdown()
        raise


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
