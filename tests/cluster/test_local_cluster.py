"""A real 3-node Cassandra cluster in two datacenters on 127.0.0.1-3: ready as promised, usable, and never left behind.

Lane `cluster` (tox -e cluster): each test starts its own cluster (about 1 GiB and 10-30 s on 2 cores).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.servers import supervisor
from harness.servers.base import CassandraServer
from harness.stores.cassandra.conn import connect, driver
from tests.cluster.conftest import DCS, HangingRun, alive_nodes, leftovers, open_ports, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.cassandra, pytest.mark.slow]


def node_session(address: str, port: int) -> tuple[Any, Any]:
    """A driver session that talks to exactly one node, so its answers are that node's own view."""
    cs = driver()
    policy = cs.policies.WhiteListRoundRobinPolicy([address])
    profile = cs.cluster.ExecutionProfile(load_balancing_policy=policy, request_timeout=20)
    cluster = cs.cluster.Cluster(
        [address], port=port, execution_profiles={cs.cluster.EXEC_PROFILE_DEFAULT: profile}, protocol_version=5
    )
    return cluster, cluster.connect()


def check_every_node_sees_the_whole_cluster(server: CassandraServer) -> None:
    schemas = set()
    for address, dc in DCS.items():
        cluster, session = node_session(address, server.port)
        try:
            local = session.execute("SELECT data_center, schema_version FROM system.local").one()
            rows = session.execute("SELECT peer, data_center, schema_version FROM system.peers_v2")
            peers = {str(row.peer): row for row in rows}
        finally:
            cluster.shutdown()
        assert local.data_center == dc, address
        assert {peer: row.data_center for peer, row in peers.items()} == {a: d for a, d in DCS.items() if a != address}
        schemas |= {local.schema_version, *(row.schema_version for row in peers.values())}
    assert len(schemas) == 1, f"schema versions differ: {schemas}"


def check_lwt_at_serial_on_a_network_topology_keyspace(server: CassandraServer) -> None:
    cs = driver()
    cluster, session = connect(server, timeout=30)
    try:
        hosts = {(str(h.address), h.datacenter) for h in cluster.metadata.all_hosts()}
        assert hosts == set(DCS.items()), "the driver discovers every node with its datacenter"
        session.execute(
            "CREATE KEYSPACE lwt WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}"
        )
        session.execute("CREATE TABLE lwt.t (k int PRIMARY KEY, v int)")
        insert = cs.query.SimpleStatement(
            "INSERT INTO lwt.t (k, v) VALUES (1, %s) IF NOT EXISTS",
            consistency_level=cs.ConsistencyLevel.QUORUM,
            serial_consistency_level=cs.ConsistencyLevel.SERIAL,
        )
        assert session.execute(insert, (1,)).was_applied
        assert not session.execute(insert, (2,)).was_applied, "the second insert loses the compare-and-set"
        read = cs.query.SimpleStatement("SELECT v FROM lwt.t WHERE k = 1", consistency_level=cs.ConsistencyLevel.SERIAL)
        assert session.execute(read).one().v == 1
    finally:
        cluster.shutdown()


def cassandra_server(info: dict[str, Any]) -> CassandraServer:
    return CassandraServer(**{**info, "contact_points": tuple(info["contact_points"])})


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_cluster_from_the_plugin_is_ready_usable_and_gone_after_the_run_dies(
    hanging_run: HangingRun, scratch_env: dict[str, str], sig: signal.Signals
) -> None:
    server = cassandra_server(hanging_run.server)
    assert server.contact_points == tuple(DCS) and server.local_datacenter == "dc1"
    assert [(n.address, n.datacenter) for n in hanging_run.nodes] == list(DCS.items())
    assert len(alive_nodes(hanging_run.nodes)) == 3 and open_ports(server.port) == list(DCS)
    assert any(name.startswith("harness-cassandra-cluster-") for name in leftovers(scratch_env))
    if sig == signal.SIGKILL:  # one cluster is enough to prove what a ready cluster is
        check_every_node_sees_the_whole_cluster(server)
        check_lwt_at_serial_on_a_network_topology_keyspace(server)

    os.kill(hanging_run.nodes[2].pid, signal.SIGSTOP)  # a paused node must not survive either
    os.kill(hanging_run.proc.pid, sig)
    hanging_run.proc.wait(timeout=120)

    def gone() -> bool:
        return not alive_nodes(hanging_run.nodes) and not open_ports(server.port) and not leftovers(scratch_env)

    assert wait_until(gone, 60), (
        f"left: nodes {alive_nodes(hanging_run.nodes)}, ports on {open_ports(server.port)}, "
        f"files {leftovers(scratch_env)}"
    )


def harness_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def supervisor_dir(env: dict[str, str]) -> Path:
    """Where `harness servers up` keeps the Cassandra supervisor's state (under XDG_RUNTIME_DIR)."""
    return Path(env["XDG_RUNTIME_DIR"]) / "harness" / "servers" / "cassandra"


def test_servers_up_starts_a_cluster_that_down_removes(scratch_env: dict[str, str]) -> None:
    shape = ("--cassandra-nodes", "3", "--cassandra-dcs", "dc1:2,dc2:1")
    up = harness_cli(scratch_env, "servers", "up", "--only", "cassandra", "--provider", "local", *shape)
    nodes = []
    try:
        assert up.returncode == 0, up.stderr
        assert "cassandra: 3 nodes, peak RSS " in up.stderr and " MiB in all" in up.stderr
        exports = dict(line.removeprefix("export ").split("=", 1) for line in up.stdout.splitlines())
        assert exports["CASSANDRA_HOSTS"].strip("'") == ",".join(DCS)
        assert exports["CASSANDRA_LOCAL_DC"].strip("'") == "dc1"
        state = supervisor.read_state(supervisor_dir(scratch_env))
        assert state is not None
        nodes = supervisor.node_processes(state)
        status = harness_cli(scratch_env, "servers", "status")
        for node in nodes:
            assert f"node {node.address} ({DCS[node.address]}): pid {node.pid}, peak RSS " in status.stdout, (
                status.stdout
            )

        single = harness_cli(scratch_env, "servers", "up", "--only", "cassandra", "--provider", "local")
        assert single.returncode == 2
        assert "a Cassandra of 3 nodes (dc1:2,dc2:1) is already running, but 1 node was asked for" in single.stderr

        os.kill(nodes[0].pid, signal.SIGSTOP)  # down still stops a paused node
    finally:
        down = harness_cli(scratch_env, "servers", "down")
    assert down.returncode == 0 and "stopped: cassandra" in down.stderr, down.stderr
    assert len(nodes) == 3 and alive_nodes(nodes) == []
    assert open_ports(int(exports["CASSANDRA_PORT"])) == []
    assert leftovers(scratch_env) == []
