"""A real 3-node Cassandra cluster in two datacenters on 127.0.0.1-3: ready as promised, usable, and never left behind.

Lane `cluster` (tox -e cluster): each test starts its own cluster (about 2 GiB and 10-20 s on 2 cores).
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
from tests.cluster.conftest import DCS, alive_nodes, leftovers, open_ports, wait_until

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
            peers = {
                str(r.peer): r for r in session.execute("SELECT peer, data_center, schema_version FROM system.peers_v2")
            }
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


def test_cluster_is_ready_usable_and_nothing_is_left_after_kill_9_of_its_owner(owned_cluster, scratch_env) -> None:
    owner, state = owned_cluster
    server = supervisor.server_from_state(state)
    assert isinstance(server, CassandraServer)
    assert server.contact_points == tuple(DCS) and server.local_datacenter == "dc1"
    nodes = supervisor.node_processes(state)
    assert [(n.address, n.datacenter) for n in nodes] == list(DCS.items())
    assert len(alive_nodes(state)) == 3 and open_ports(server.port) == list(DCS)
    assert any(name.startswith("harness-cassandra-cluster-") for name in leftovers(scratch_env))

    check_every_node_sees_the_whole_cluster(server)
    check_lwt_at_serial_on_a_network_topology_keyspace(server)

    os.kill(nodes[2].pid, signal.SIGSTOP)  # a paused node must not survive either
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()

    def gone() -> bool:
        return not alive_nodes(state) and not open_ports(server.port) and not leftovers(scratch_env)

    assert wait_until(gone, 60), (
        f"left: nodes {alive_nodes(state)}, ports on {open_ports(server.port)}, files {leftovers(scratch_env)}"
    )


def harness_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_servers_up_starts_a_cluster_that_down_removes(scratch_env) -> None:
    shape = ("--cassandra-nodes", "3", "--cassandra-dcs", "dc1:2,dc2:1")
    up = harness_cli(scratch_env, "servers", "up", "--only", "cassandra", "--provider", "local", *shape)
    state: dict[str, Any] | None = None
    try:
        assert up.returncode == 0, up.stderr
        exports = dict(line.removeprefix("export ").split("=", 1) for line in up.stdout.splitlines())
        assert exports["CASSANDRA_HOSTS"].strip("'") == ",".join(DCS)
        assert exports["CASSANDRA_LOCAL_DC"].strip("'") == "dc1"
        state = supervisor.read_state(supervisor_dir(scratch_env))
        assert state is not None
        status = harness_cli(scratch_env, "servers", "status")
        for address, dc in DCS.items():
            assert f"node {address} ({dc}): pid " in status.stdout and "MiB" in status.stdout, status.stdout

        single = harness_cli(scratch_env, "servers", "up", "--only", "cassandra", "--provider", "local")
        assert single.returncode == 2
        assert "a Cassandra of 3 nodes (dc1:2,dc2:1) is already running, but 1 node was asked for" in single.stderr

        first = supervisor.node_processes(state)[0]
        os.kill(first.pid, signal.SIGSTOP)  # down still stops a paused node
    finally:
        down = harness_cli(scratch_env, "servers", "down")
    assert down.returncode == 0 and "stopped: cassandra" in down.stderr, down.stderr
    assert state is not None and alive_nodes(state) == []
    assert open_ports(int(exports["CASSANDRA_PORT"])) == []
    assert leftovers(scratch_env) == []


def supervisor_dir(env: dict[str, str]) -> Path:
    """Where `harness servers up` keeps the Cassandra supervisor's state (under XDG_RUNTIME_DIR)."""
    return Path(env["XDG_RUNTIME_DIR"]) / "harness" / "servers" / "cassandra"
