"""Running a nested pytest in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# A shell starts its background jobs with SIGINT ignored, and Python then keeps it ignored (it installs its
# KeyboardInterrupt handler only over the default action): a gate run started with `&` would make a nested run deaf
# to Ctrl-C. The nested run starts as from a terminal: SIGINT back to its default, then the same process (pid) execs.
_FROM_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, '-m', 'pytest', *sys.argv[1:]])"
)


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-c", _FROM_A_TERMINAL, *args]


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
