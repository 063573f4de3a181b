"""Running a nested pytest in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", *args]


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
