"""What the kill -9 tests of both stores and both lanes share: the CLI as a process, killed at a point or not."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def cli(env: dict[str, str], *args: str, kill: dict[str, Any] | None = None, timeout: float = 180) -> Run:
    """``harness ARGS`` in a process of its own; with ``kill``, SIGKILLed at that point (see tests.killpoints)."""
    head = ["-m", "tests.killpoints", json.dumps(kill)] if kill else ["-m", "harness.cli"]
    done = subprocess.run(
        [sys.executable, *head, *args],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(done.returncode, done.stdout, done.stderr, kill)


class Run:
    """One finished CLI process: exit code (-9 when killed), output, and the kill point it was given."""

    def __init__(self, code: int, out: str, err: str, kill: dict[str, Any] | None = None) -> None:
        self.code, self.out, self.err, self.kill = code, out, err, kill

    @property
    def killed(self) -> bool:
        return self.code == -signal.SIGKILL

    def __repr__(self) -> str:
        return f"Run(code={self.code}, kill={self.kill}, out={self.out!r}, err={self.err!r})"


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``harness ARGS`` started in the background (the test kills it from outside)."""
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", *args],
        env={**os.environ, **env},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_when(proc: subprocess.Popen[str], ready: Callable[[], bool], timeout: float = 60) -> tuple[str, str]:
    """SIGKILL ``proc`` as soon as ``ready()`` holds; its output. Fails if it ends or times out first."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the applier ended (exit {proc.returncode}) before the kill point:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the kill point was not reached within {timeout:.0f}s")
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return out, err


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path
