"""Shared helpers for the benchmarks: statistics, timed subprocesses, machine facts, and table printing.

Targets are printed beside the figures and never asserted: these machines are shared and noisy, so a
benchmark that fails a build on a slow minute would teach people to ignore it.
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class BenchError(RuntimeError):
    """A measured command failed; the message carries the command, its exit code and its output tail."""


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sample."""
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; infinity when the denominator is zero (never happens with wall times)."""
    return numerator / denominator if denominator else float("inf")


def verdict(value: float, target: float) -> str:
    """'ok' or 'MISSED' against an upper-bound target; printed, never asserted."""
    return "ok" if value <= target else "MISSED"


def loadavg() -> str:
    """The 1/5/15-minute load averages, printed beside every figure because the machine is shared."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def machine() -> str:
    """One line describing where the figures were taken."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{now}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {loadavg()}"


def executable(name: str) -> str:
    """A console script next to this interpreter first (skips pyenv shims, whose start-up would be timed), else PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise BenchError(f"`{name}` not found next to {sys.executable} nor on PATH; install it (see pyproject.toml)")
    return found


@dataclass(frozen=True)
class Measured:
    """One finished process: wall seconds, and CPU seconds (user + system) it and its waited children used."""

    wall: float
    cpu: float
    output: str = ""


def run_measured(command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Measured:
    """Run one whole process (start-up included); BenchError if it exits non-zero.

    CPU time comes from RUSAGE_CHILDREN deltas: a number that the machine's load disturbs far less than wall time.
    """
    full_env = {**os.environ, **(env or {})}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(list(command), env=full_env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise BenchError(f"`{' '.join(command)}` exited {done.returncode}:\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(elapsed, cpu, done.stdout)


def run_timed(command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> float:
    """Wall seconds of one whole process (start-up included); BenchError if it exits non-zero."""
    return run_measured(command, env, cwd).wall


def peak_rss_mib(pid: int) -> float:
    """VmHWM (peak resident set size) of a live process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmHWM in /proc/{pid}/status")


@dataclass(frozen=True)
class Row:
    """One line of a result table: what, the sample, the target (None = none), and a unit."""

    what: str
    values: tuple[float, ...]
    unit: str = "s"
    target: float | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return median(self.values)


def _fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.1f}" if value >= 1 else f"{value:.3f}"
    if unit == "MiB":
        return f"{value:.0f}"
    if unit == "x":
        return f"{value:.2f}"
    return f"{value:.2f}"


def format_table(rows: Sequence[Row]) -> str:
    """A markdown table (renders in README and reads fine in a terminal)."""
    head = "| measurement | median | min | max | n | target | verdict | note |"
    sep = "|---|---:|---:|---:|---:|---:|---|---|"
    lines = [head, sep]
    for row in rows:
        target = f"<= {_fmt(row.target, row.unit)} {row.unit}" if row.target is not None else ""
        judged = verdict(row.median, row.target) if row.target is not None else ""
        lines.append(
            f"| {row.what} | {_fmt(row.median, row.unit)} {row.unit} | {_fmt(min(row.values), row.unit)} | "
            f"{_fmt(max(row.values), row.unit)} | {len(row.values)} | {target} | {judged} | {row.note} |"
        )
    return "\n".join(lines)


def say(message: str) -> None:
    """Progress lines go to stderr so stdout holds only the tables."""
    print(message, file=sys.stderr, flush=True)


def say_verdicts(sections: Sequence[tuple[str, Sequence[Row]]]) -> None:
    """One closing line per row that has a target: its median and whether it met it."""
    for title, rows in sections:
        for row in rows:
            if row.target is not None:
                say(f"{title}: {row.what}: median {row.median:.2f} -> {verdict(row.median, row.target)}")
