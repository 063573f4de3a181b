"""The cluster lane's support: clusters started as a user gets one (a nested pytest run, `harness servers`), and the
lane's shared 3-node, 2-datacenter cluster from the plugin, with its nodes' pids for pausing them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.servers.base import NodeProcessInfo
from harness.servers.procutil import pid_alive, tcp_open

DCS = {"127.0.0.1": "dc1", "127.0.0.2": "dc1", "127.0.0.3": "dc2"}
SHAPE_ENV = {"HARNESS_PROVIDER": "local", "HARNESS_CASSANDRA_NODES": "3", "HARNESS_CASSANDRA_DCS": "dc1:2,dc2:1"}

# A test run that asks the plugin for its Cassandra (a cluster, by the settings above), says where it is, and
# then hangs until the outer test interrupts or kills the run.
HANGING = """
import json, os, pathlib, time
from dataclasses import asdict
from harness.servers.select import running_nodes

def test_hangs_holding_a_cluster(cassandra_server):
    nodes = running_nodes(pathlib.Path(os.environ["HARNESS_RUN_DIR"]))
    info = {"server": {**cassandra_server.__dict__, "contact_points": list(cassandra_server.contact_points)},
            "nodes": [asdict(n) for n in nodes]}
    tmp = pathlib.Path(os.environ["OUT_DIR"], "ready.tmp")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, tmp.with_suffix(".json"))
    time.sleep(600)
"""


@pytest.fixture
def scratch_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a separate run whose temporary files land in tmp_path/tmp (to count leftovers)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    drop = ("HARNESS_", "CASSANDRA_", "DATABASE_URL", "PYTEST_XDIST", "PYTEST_ADDOPTS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(TMPDIR=str(scratch), XDG_RUNTIME_DIR=str(tmp_path / "run"))
    return env


def leftovers(env: dict[str, str]) -> list[str]:
    """Cassandra directories and run directories left in the scratch temporary directory."""
    return sorted(p.name for p in Path(env["TMPDIR"]).iterdir() if p.name.startswith("harness"))


def alive_nodes(nodes: list[NodeProcessInfo]) -> list[str]:
    """Those of ``nodes`` whose JVM still runs (a reused pid would not be a Cassandra daemon)."""
    alive = []
    for node in nodes:
        try:
            cmdline = Path(f"/proc/{node.pid}/cmdline").read_bytes()
        except OSError:
            continue
        if pid_alive(node.pid) and b"CassandraDaemon" in cmdline:
            alive.append(f"{node.address} (pid {node.pid})")
    return alive


def open_ports(port: int) -> list[str]:
    return [address for address in DCS if tcp_open(port, address)]


def wait_until(predicate: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return bool(predicate())


class HangingRun:
    """A nested pytest run holding a cluster from the plugin: its process, server and node processes."""

    def __init__(self, proc: subprocess.Popen[str], info: dict[str, Any]) -> None:
        self.proc = proc
        self.server = info["server"]
        self.nodes = [NodeProcessInfo(**node) for node in info["nodes"]]


@pytest.fixture
def hanging_run(scratch_env: dict[str, str], tmp_path: Path) -> Iterator[HangingRun]:
    """Start a nested test run that holds a 3-node, 2-datacenter cluster; kill it at the end whatever happened."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_hangs.py").write_text(HANGING)
    (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-s"],
        cwd=project,
        env={**scratch_env, **SHAPE_ENV, "OUT_DIR": str(out)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = out / "ready.json"
        if not wait_until(lambda: ready.exists() or proc.poll() is not None, 300) or not ready.exists():
            proc.kill()
            pytest.fail(f"the nested run got no cluster:\n{proc.communicate()[0]}")
        yield HangingRun(proc, json.loads(ready.read_text()))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


# ---------------------------------------------------------------- the lane's shared cluster (through the plugin)

SHAPE = (3, "dc1:2,dc2:1")
NTS = "NetworkTopologyStrategy:dc1=2,dc2=1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start clusters of their own run first, so the shared cluster is not up beside theirs."""
    items.sort(key=lambda item: "cassandra_server" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def cluster(harness_config: Any, cassandra_server: Any) -> Any:
    """The plugin's session Cassandra, which this lane needs to be the 3-node, 2-datacenter cluster."""
    shape = (harness_config.servers.cassandra_nodes, harness_config.servers.cassandra_dcs)
    if shape != SHAPE:
        pytest.fail(
            f"the cluster lane needs HARNESS_CASSANDRA_NODES=3 and HARNESS_CASSANDRA_DCS=dc1:2,dc2:1 (tox -e cluster "
            f"sets them), not {shape}"
        )
    return cassandra_server


@pytest.fixture(scope="session")
def node_pids(cluster: Any) -> dict[str, int]:
    """address -> JVM pid of the shared cluster's nodes (from the supervisor's state)."""
    from harness.plugin.options import RUN_DIR
    from harness.servers.select import running_nodes

    nodes = running_nodes(Path(os.environ[RUN_DIR]))
    assert [n.address for n in nodes] == list(DCS), nodes
    return {n.address: n.pid for n in nodes}


def node_log(pid: int) -> Path:
    """A node's log: its JVM runs in the node's work directory."""
    return Path(os.readlink(f"/proc/{pid}/cwd")) / "cassandra.log"


def single_node_session(address: str, port: int, timeout: float = 10) -> tuple[Any, Any]:
    """A driver session that talks to exactly one node, so its answers are that node's own view."""
    from harness.stores.cassandra.conn import driver

    cs = driver()
    policy = cs.policies.WhiteListRoundRobinPolicy([address])
    profile = cs.cluster.ExecutionProfile(load_balancing_policy=policy, request_timeout=timeout)
    cluster = cs.cluster.Cluster(
        [address], port=port, execution_profiles={cs.cluster.EXEC_PROFILE_DEFAULT: profile}, protocol_version=5,
        connect_timeout=timeout, schema_metadata_enabled=False, token_metadata_enabled=False,
    )  # fmt: skip
    try:
        return cluster, cluster.connect()
    except Exception:
        cluster.shutdown()
        raise


def schema_versions(port: int) -> dict[str, str | None]:
    """Each node's own schema version, asked of that node (None: it does not answer)."""
    versions: dict[str, str | None] = {}
    for address in DCS:
        try:
            cluster, session = single_node_session(address, port, timeout=3)
        except Exception:
            versions[address] = None
            continue
        try:
            versions[address] = str(session.execute("SELECT schema_version FROM system.local").one()[0])
        except Exception:
            versions[address] = None
        finally:
            cluster.shutdown()
    return versions


def wait_healthy(port: int, timeout: float = 120) -> None:
    """Every node answers and all report one schema version (after a test paused some)."""
    last: dict[str, str | None] = {}

    def agreed() -> bool:
        nonlocal last
        last = schema_versions(port)
        return None not in last.values() and len(set(last.values())) == 1

    assert wait_until(agreed, timeout), f"the cluster did not come back together: {last}"


@contextmanager
def paused(pids: dict[str, int], *addresses: str, port: int, wait: bool = True, later: bool = False) -> Iterator[None]:
    """SIGSTOP the nodes' JVMs (``later``: the body does, at the moment it chooses); SIGCONT them whatever happens,
    and (``wait``) wait until the cluster agrees again."""
    stopped = list(addresses) if later else []
    try:
        for address in () if later else addresses:
            os.kill(pids[address], signal.SIGSTOP)
            stopped.append(address)
        yield
    finally:
        for address in stopped:
            os.kill(pids[address], signal.SIGCONT)
        if stopped and wait:
            wait_healthy(port)


def seen_down(pids: dict[str, int], address: str, by: str, since: int) -> bool:
    """Node ``by`` has logged that ``address`` is DOWN after byte ``since`` of its log."""
    with node_log(pids[by]).open("rb") as handle:
        handle.seek(since)
        text = handle.read().decode("utf-8", "replace")
    return any(f"/{address}:" in line and "is now DOWN" in line for line in text.splitlines())


def cluster_env(server: Any, keyspace: str, directory: Path, **extra: str) -> dict[str, str]:
    return {
        "CASSANDRA_HOSTS": ",".join(server.contact_points),
        "CASSANDRA_PORT": str(server.port),
        "CASSANDRA_KEYSPACE": keyspace,
        "CASSANDRA_LOCAL_DC": server.local_datacenter,
        "CASSANDRA_REPLICATION": NTS,
        "HARNESS_CASSANDRA_MIGRATIONS": str(directory),
        **extra,
    }
