"""Helpers for running an independent pytest (its own servers) in a subprocess."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

HARNESS_VARS = (
    "HARNESS_RUN_DIR",
    "HARNESS_RUN_OWNER",
    "DATABASE_URL",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_ADDOPTS",
)
# Servers given to the outer run (a shell that sourced `harness servers up`, say): the nested run must start its own.
SERVER_PREFIXES = ("HARNESS_PG_URL", "HARNESS_CASSANDRA_", "CASSANDRA_")


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """An environment in which a nested run starts servers of its own, with temporary files under tmp_path/tmp."""
    env = {k: v for k, v in os.environ.items() if k not in HARNESS_VARS and not k.startswith(SERVER_PREFIXES)}
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    for part in [scratch, *scratch.parents]:  # let an unprivileged PostgreSQL reach it when we run as root
        if part == Path(tempfile.gettempdir()):
            break
        part.chmod(part.stat().st_mode | 0o011)
    env.update(TMPDIR=str(scratch), HARNESS_PROVIDER="local", XDG_RUNTIME_DIR=str(tmp_path / "run"))
    return env


@pytest.fixture
def example_project(tmp_path: Path) -> Callable[[str], Path]:
    """Write a test file into a fresh project directory and return that directory."""

    def write(source: str) -> Path:
        project = tmp_path / "project"
        project.mkdir(exist_ok=True)
        (project / "test_example.py").write_text(source)
        (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
        return project

    return write
