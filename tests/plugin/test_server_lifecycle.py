"""Servers are shared by xdist workers and never outlive the run: not after a failure, Ctrl-C or a kill."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.plugin.nested import pytest_command, run

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RECORDER = """
import json, os, pathlib, time
import pytest

@pytest.mark.parametrize("n", range(4))
def test_record(postgres_server, pg_conn, n):
    pg_conn.execute("SELECT 1")
    out = pathlib.Path(os.environ["OUT_DIR"]) / f"{os.getpid()}-{n}.json"
    out.write_text(json.dumps({"url": postgres_server.url, "pid": os.getpid()}))
    time.sleep(0.2)
"""

HANGING = """
import json, os, pathlib, time

def test_hangs(postgres_server):
    tmp = pathlib.Path(os.environ["OUT_DIR"], "ready.tmp")
    tmp.write_text(json.dumps({"url": postgres_server.url}))
    os.replace(tmp, tmp.with_suffix(".json"))  # atomic: the outer test never reads half a file
    time.sleep(120)
"""

FAILING = """
def test_fails(postgres_server, pg_conn):
    pg_conn.execute("SELECT 1")
    assert False, "deliberate"
"""


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _leftovers(scratch: Path) -> list[str]:
    return sorted(p.name for p in scratch.iterdir() if p.name.startswith("harness"))


def _wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bool(predicate()):
            return True
        time.sleep(0.2)
    return bool(predicate())


def test_two_xdist_workers_share_one_postgres_and_leave_nothing(example_project, isolated_env, tmp_path):
    project = example_project(RECORDER)
    out = tmp_path / "out"
    out.mkdir()
    result = run(pytest_command("-n", "2", "-q"), project, {**isolated_env, "OUT_DIR": str(out)})
    assert result.returncode == 0, result.stdout + result.stderr
    records = [json.loads(p.read_text()) for p in out.iterdir()]
    assert len(records) == 4
    assert len({r["pid"] for r in records}) == 2, "both workers ran tests"
    urls = {r["url"] for r in records}
    assert len(urls) == 1, f"workers got different servers: {urls}"
    assert not _port_open(_port(urls.pop()))
    assert _leftovers(Path(isolated_env["TMPDIR"])) == []


def test_a_failing_test_still_stops_the_servers(example_project, isolated_env):
    project = example_project(FAILING)
    result = run(pytest_command("-q"), project, isolated_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "deliberate" in result.stdout
    assert _leftovers(Path(isolated_env["TMPDIR"])) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_an_interrupted_run_leaves_no_server_process_or_directory(example_project, isolated_env, tmp_path, sig):
    project = example_project(HANGING)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        pytest_command("-q", "-s"),
        cwd=project,
        env={**isolated_env, "OUT_DIR": str(out), "PYTHONFAULTHANDLER": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _wait_until(lambda: (out / "ready.json").exists(), 60), "the nested run never got its server"
        port = _port(json.loads((out / "ready.json").read_text())["url"])
        assert _port_open(port)
        os.kill(proc.pid, sig)
        try:  # read while waiting: a child blocked on a full pipe would never exit (subprocess's warning on wait())
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER prints every thread's stack: where it hangs
            try:
                output, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            pytest.fail(f"the nested run did not end within 60 s of {sig.name}; its output:\n{output[-6000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    scratch = Path(isolated_env["TMPDIR"])
    assert _wait_until(lambda: not _port_open(port) and _leftovers(scratch) == [], 30), (
        f"left behind: port open={_port_open(port)}, files={_leftovers(scratch)}"
    )
