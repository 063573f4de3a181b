"""The database checks of one verify run at once, each in a worker process on databases of its own.

Most of a check's time is spent waiting for a server (Cassandra's schema changes above all), so the checks overlap
well even on two cores. Processes, not threads: hypothesis, which the roundtrip, data and fuzz checks all use, is
not thread-safe. Workers are spawned, not forked (the driver's threads and the servers' supervisors belong to
this process), and load the project again from the settings.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from harness.checks.registry import BY_NAME, Check
from harness.checks.target import Project
from harness.config import Settings
from harness.errors import ConfigError
from harness.verify.report import CheckResult
from harness.verify.run import FreshDatabases, run_check

# Longest first, so that the last check to start is a short one: Cassandra's schema changes take the longest.
ORDER = ("roundtrip-cassandra", "data-cassandra", "fuzz-cassandra", "fuzz-postgres", "roundtrip-postgres",
         "data-postgres", "schema")  # fmt: skip

_project: dict[str, Project] = {}  # this worker's project, loaded when the worker starts


def jobs(setting: int, checks: int) -> int:
    """How many checks run at once: the setting, or one more than the cores (0); never more than the checks."""
    if setting < 0:
        raise ConfigError(f"verify_jobs must be 0 (one more than the cores) or more, not {setting}")
    wanted = setting or _cores() + 1
    return max(1, min(wanted, checks))


def _cores() -> int:
    """The cores this process may run on (a container's cpuset, not the host's count, where the OS says)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _rank(check: Check) -> int:
    return ORDER.index(check.name) if check.name in ORDER else len(ORDER)


def _start_worker(settings: Settings) -> None:
    """Once per worker process: its project."""
    _project["project"] = Project.load(settings)


def _in_worker(name: str, fresh: FreshDatabases) -> CheckResult:
    return run_check(BY_NAME[name], _project["project"], fresh)


def run_at_once(
    checks: Sequence[Check],
    settings: Settings,
    fresh: FreshDatabases,
    workers: int,
    done: Callable[[CheckResult], None],
) -> None:
    """Run ``checks`` in ``workers`` processes; ``done`` hears of each result as it comes."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_start_worker, initargs=(settings,)) as pool:
        futures = {pool.submit(_in_worker, c.name, fresh): c for c in sorted(checks, key=_rank)}
        try:
            for future in as_completed(futures):
                check = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the worker died (killed, out of memory): the check could not run
                    why = f"its worker process failed: {type(exc).__name__}: {exc}"[:500]
                    result = CheckResult(check.name, check.title, check.phase, outcome="error", message=why)
                done(result)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
