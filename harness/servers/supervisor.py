"""A background process that owns one throwaway server: start it, publish its address, stop it and wipe it.

Why a separate process: a server must outlive the command that asked for it (``harness servers up``) or be shared
by every pytest-xdist worker, yet must never outlive its owner. The supervisor polls its owner's pid and tears the
server down when the owner is gone, even when the owner was killed with SIGKILL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.errors import ServerError
from harness.servers.base import CassandraServer, NodeProcessInfo, NodesHandle, PostgresServer, ServerHandle
from harness.servers.procutil import log_tail, pid_alive

KINDS = ("postgres", "cassandra")
STATE = "server.json"
FAILED = "failed.txt"
PIDFILE = "supervisor.pid"
LOG = "supervisor.log"


def _start(kind: str, provider: str, options: dict[str, Any]) -> tuple[ServerHandle, PostgresServer | CassandraServer]:
    def log(msg: str) -> None:
        print(msg, flush=True)

    if provider == "local" and kind == "postgres":
        from harness.servers.local_postgres import LocalPostgres

        pg = LocalPostgres(bindir=options.get("pg_bindir"), log=log)
        return pg, pg.start()
    if provider == "local" and kind == "cassandra":
        nodes, dcs = int(options.get("cassandra_nodes") or 1), options.get("cassandra_dcs")
        if nodes > 1 or dcs:
            from harness.servers.cassandra_cluster import LocalCassandraCluster

            cluster = LocalCassandraCluster(nodes=nodes, dcs=dcs, log=log)
            return cluster, cluster.start()
        from harness.servers.cassandra_local import LocalCassandra

        cs = LocalCassandra(log=log)
        return cs, cs.start()
    if provider == "docker" and kind == "postgres":
        from harness.servers.docker import DockerPostgres

        dpg = DockerPostgres(image=options.get("postgres_image"), log=log)
        return dpg, dpg.start()
    if provider == "docker" and kind == "cassandra":
        if int(options.get("cassandra_nodes") or 1) > 1 or options.get("cassandra_dcs"):
            raise ServerError("the docker provider starts single Cassandra nodes; a cluster needs the local provider")
        from harness.servers.docker import DockerCassandra

        dcs = DockerCassandra(image=options.get("cassandra_image"), log=log)
        return dcs, dcs.start()
    raise ServerError(f"unknown provider/server {provider}/{kind}")


def _is_supervisor(pid: int) -> bool:
    """Alive and still a supervisor: a state file that outlived its process must not lead to a reused pid."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to ask: trust the pid
    return b"harness.servers.supervisor" in cmdline


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def state_data(
    kind: str, provider: str, options: dict[str, Any], handle: ServerHandle, info: PostgresServer | CassandraServer
) -> dict[str, Any]:
    """What the state file publishes: the server, the options it was started with, and its node processes.

    ``nodes`` (local Cassandra only) lists each JVM as ``{"address", "pid", "datacenter"}``, so tests can pause
    (SIGSTOP/SIGCONT) or stop one node of a cluster.
    """
    server = dict(info.__dict__)
    if isinstance(info, CassandraServer):
        server["contact_points"] = list(info.contact_points)
    nodes = [asdict(n) for n in handle.node_processes()] if isinstance(handle, NodesHandle) else []
    return {
        "kind": kind,
        "provider": provider,
        "pid": os.getpid(),
        "options": options,
        "server": server,
        "nodes": nodes,
    }


def node_processes(state: dict[str, Any]) -> list[NodeProcessInfo]:
    """The node processes a state file lists (empty for servers that are not local Cassandra)."""
    return [NodeProcessInfo(**node) for node in state.get("nodes") or []]


def serve(state_dir: Path, kind: str, provider: str, owner: int | None, options: dict[str, Any]) -> int:
    """The supervisor's main loop (runs in the background process)."""
    stopping = False

    def on_signal(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    (state_dir / PIDFILE).write_text(str(os.getpid()))
    handle: ServerHandle | None = None
    owner_died = False
    try:
        handle, info = _start(kind, provider, options)
        data = state_data(kind, provider, options, handle, info)
        _write_atomic(state_dir / STATE, json.dumps(data))
        while not stopping:
            if owner is not None and not pid_alive(owner):
                owner_died = True
                break
            time.sleep(0.3)
        return 0
    except Exception as exc:  # reported to the waiting parent through the state directory
        _write_atomic(state_dir / FAILED, f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        if handle is not None:
            handle.stop()
        (state_dir / STATE).unlink(missing_ok=True)
        (state_dir / PIDFILE).unlink(missing_ok=True)
        if owner_died:  # nobody is left to remove the run's directory
            shutil.rmtree(state_dir.parent, ignore_errors=True)


def spawn(
    state_dir: Path,
    kind: str,
    provider: str,
    *,
    owner: int | None,
    options: dict[str, Any] | None = None,
    timeout: float = 180.0,
) -> subprocess.Popen[bytes]:
    """Start a supervisor in its own session (Ctrl-C in the terminal reaches the owner, which stops it cleanly)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    for name in (STATE, FAILED):
        (state_dir / name).unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "harness.servers.supervisor",
        str(state_dir),
        kind,
        provider,
        "--options",
        json.dumps(options or {}),
    ]
    if owner is not None:
        cmd += ["--owner", str(owner)]
    with open(state_dir / LOG, "ab") as logf:
        return subprocess.Popen(
            cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )


def wait_ready(state_dir: Path, proc: subprocess.Popen[bytes] | None, timeout: float = 180.0) -> dict[str, Any]:
    """Block until the supervisor published its server, or raise with the reason and the log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(state_dir)
        if state:
            return state
        failed = state_dir / FAILED
        if failed.exists() or (proc is not None and proc.poll() is not None):
            time.sleep(0.2)
            reason = failed.read_text() if failed.exists() else "supervisor exited"
            raise ServerError(f"{state_dir.name} server failed to start: {reason}\n{log_tail(state_dir / LOG)}")
        time.sleep(0.1)
    stop(state_dir)
    raise ServerError(f"{state_dir.name} server not ready after {timeout:.0f}s\n{log_tail(state_dir / LOG)}")


def read_state(state_dir: Path) -> dict[str, Any] | None:
    path = state_dir / STATE
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if _is_supervisor(int(data["pid"])) else None


def stop(state_dir: Path, timeout: float = 60.0) -> bool:
    """Stop the supervisor of ``state_dir`` and wait until it has wiped its server. True if one was running."""
    try:
        pid = int((state_dir / PIDFILE).read_text())
    except (OSError, ValueError):
        return False
    if not _is_supervisor(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def server_from_state(state: dict[str, Any]) -> PostgresServer | CassandraServer:
    srv = state["server"]
    if state["kind"] == "postgres":
        return PostgresServer(**srv)
    return CassandraServer(**{**srv, "contact_points": tuple(srv["contact_points"])})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("provider", choices=("local", "docker"))
    parser.add_argument("--owner", type=int, default=None)
    parser.add_argument("--options", default="{}")
    args = parser.parse_args(argv)
    return serve(args.state_dir, args.kind, args.provider, args.owner, json.loads(args.options))


if __name__ == "__main__":
    sys.exit(main())
