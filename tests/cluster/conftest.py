"""A local Cassandra cluster started the way the plugin and `harness servers up` start one: by a supervisor."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.servers import supervisor
from harness.servers.procutil import pid_alive, tcp_open

SHAPE = {"cassandra_nodes": 3, "cassandra_dcs": "dc1:2,dc2:1"}
DCS = {"127.0.0.1": "dc1", "127.0.0.2": "dc1", "127.0.0.3": "dc2"}

# The owner, as the plugin's controlling pytest process is: obtains the cluster for its run, then waits.
OWNER = """
import json, os, pathlib, sys, time
from harness.servers.select import ServerOptions, obtain
opts = ServerOptions(provider="local", cassandra_nodes=3, cassandra_dcs="dc1:2,dc2:1")
server = obtain("cassandra", opts, pathlib.Path(sys.argv[1]), owner=os.getpid(), timeout=300)
pathlib.Path(sys.argv[2]).write_text(json.dumps({"port": server.port}))
time.sleep(600)
"""


@pytest.fixture
def scratch_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose temporary files land in tmp_path/tmp, so leftovers can be counted there."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_RUN", "CASSANDRA_", "DATABASE_URL"))}
    env.update(TMPDIR=str(scratch), XDG_RUNTIME_DIR=str(tmp_path / "run"))
    return env


def leftovers(env: dict[str, str]) -> list[str]:
    """Cassandra directories and run directories left in the scratch temporary directory."""
    return sorted(p.name for p in Path(env["TMPDIR"]).iterdir() if p.name.startswith("harness"))


def alive_nodes(state: dict[str, Any]) -> list[str]:
    """Node JVMs of a state file that still run (a reused pid would not be a Cassandra daemon)."""
    alive = []
    for node in supervisor.node_processes(state):
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


@pytest.fixture
def owned_cluster(
    scratch_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """An owner process holding a 3-node, 2-datacenter cluster; yields (owner, the supervisor's state)."""
    state_root = Path(tempfile.mkdtemp(prefix="harness-run-", dir=scratch_env["TMPDIR"]))
    ready = tmp_path / "ready.json"
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(state_root), str(ready)],
        env=scratch_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        if not wait_until(lambda: ready.exists() or owner.poll() is not None, 300) or not ready.exists():
            owner.kill()
            output = owner.communicate()[0]
            log = state_root / "cassandra" / supervisor.LOG
            pytest.fail(f"the owner got no cluster:\n{output}\n{log.read_text() if log.exists() else ''}")
        state = supervisor.read_state(state_root / "cassandra")
        assert state is not None
        yield owner, state
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        supervisor.stop(state_root / "cassandra")  # no-op when the owner's death already stopped it
