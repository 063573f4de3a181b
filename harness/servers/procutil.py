"""Process and port helpers shared by the server providers and the supervisor (one copy of each)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.pids import pid_alive as pid_alive  # re-exported: the providers import their helpers from here

LOOPBACK = "127.0.0.1"
PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_CAP_IPC_LOCK = 14
MEMLOCK_LIMIT = 64 * 1024


def tcp_open(port: int, host: str = LOOPBACK, timeout: float = 1.0) -> bool:
    """A connect() to ``host:port`` succeeds: a cheap check before building a database client."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(hosts: Sequence[str] = (LOOPBACK,), attempts: int = 20) -> int:
    """A port free right now on every one of ``hosts`` (loopback addresses).

    Chosen by the kernel on the first address, then test-bound on the others, so several nodes can share one
    port number on their own addresses. A server may still lose a race for it; its starter retries then.
    """
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((hosts[0], 0))
            port = int(sock.getsockname()[1])
        if all(_bindable(host, port) for host in hosts[1:]):
            return port
    raise OSError(f"no port free on all of {', '.join(hosts)} after {attempts} tries")


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def child_preexec(*, unlock_memory: bool = False) -> Callable[[], None] | None:
    """A ``preexec_fn`` (Linux; None elsewhere) that makes the child get SIGKILL when its starter dies.

    PR_SET_PDEATHSIG fires when the *thread* that started the child exits, so start servers from a thread that
    outlives them (the main thread). It runs after Popen's user switch, which would otherwise clear it.

    ``unlock_memory``: Cassandra always calls ``mlockall(MCL_CURRENT)``; as root that succeeds and faults in
    the whole heap (about 1.3 s and +500 MB RSS on a 512M heap). Dropping CAP_IPC_LOCK from the bounding set
    and lowering RLIMIT_MEMLOCK makes it fail as it does for ordinary users (one WARN line); best effort.
    Everything is looked up here, in the parent: between fork and exec only plain C calls run.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    drop_ipc_lock = unlock_memory and os.geteuid() == 0
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    limit = MEMLOCK_LIMIT if hard == resource.RLIM_INFINITY else min(MEMLOCK_LIMIT, hard)
    lower_memlock = unlock_memory and (soft == resource.RLIM_INFINITY or soft > limit)

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if drop_ipc_lock:
            prctl(_PR_CAPBSET_DROP, _CAP_IPC_LOCK, 0, 0, 0)
        if lower_memlock:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_MEMLOCK, (limit, hard))

    return preexec


def peak_rss_kib(pid: int) -> int | None:
    """VmHWM (peak resident set) of a live process in KiB, from /proc; None when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])
