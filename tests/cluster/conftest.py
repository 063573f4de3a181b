"""A local Cassandra cluster started as a user gets one: by a nested pytest run (the plugin) or `harness servers`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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
