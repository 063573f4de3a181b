"""Shared helpers for the applier suites: run the real CLI, in-process or as a process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.servers.base import CassandraServer
from harness.stores.cassandra.conn import connect

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str


def harness(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """The CLI in this process (fast); the environment comes from monkeypatch."""
    capsys.readouterr()
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def harness_process(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def copy_migrations(store: str, dest: Path, count: int | None = None) -> Path:
    """The project's own migrations of ``store`` (the first ``count``) in a directory of the test's own."""
    dest.mkdir(parents=True, exist_ok=True)
    files = sorted((REPO / "migrations" / store).iterdir())
    for f in files[:count]:
        shutil.copy(f, dest / f.name)
    return dest


@contextmanager
def session_on(server: CassandraServer) -> Iterator[Any]:
    """A driver session on ``server`` (no keyspace), its cluster shut down on exit."""
    cluster, session = connect(server)
    try:
        yield session
    finally:
        cluster.shutdown()
