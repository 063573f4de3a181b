"""A state file that outlived its supervisor never leads to another process (a reused pid)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.servers import supervisor


def write_state(state_dir: Path, pid: int) -> None:
    state_dir.mkdir(parents=True)
    (state_dir / supervisor.PIDFILE).write_text(str(pid))
    server = {"url": "postgresql://postgres@127.0.0.1:1/postgres", "version": "15", "provider": "local"}
    (state_dir / supervisor.STATE).write_text(json.dumps({"kind": "postgres", "pid": pid, "server": server}))


def test_a_live_process_that_is_not_a_supervisor_is_neither_trusted_nor_stopped(tmp_path: Path):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        write_state(tmp_path / "postgres", bystander.pid)
        assert supervisor.read_state(tmp_path / "postgres") is None
        assert supervisor.stop(tmp_path / "postgres") is False
        assert bystander.poll() is None, "the bystander must still run"
    finally:
        bystander.kill()
        bystander.wait()


def test_a_dead_pid_means_no_server(tmp_path: Path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    write_state(tmp_path / "postgres", dead.pid)
    assert supervisor.read_state(tmp_path / "postgres") is None
    assert supervisor.stop(tmp_path / "postgres") is False
    assert os.path.exists(tmp_path / "postgres" / supervisor.PIDFILE)
