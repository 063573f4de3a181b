"""``harness verify``: the whole proof with a readable report (the main job of this project).

Lint first (no database), then every registered check on throwaway databases; exit 0 when everything holds, 1 on
any finding, 2 when the checks cannot run (no server, a broken setup).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from harness.checks.registry import applicable, stores_needed
from harness.checks.target import Project
from harness.config import Settings
from harness.errors import ConfigError
from harness.registry import STORE_NAMES
from harness.verify.report import CheckResult, line, report, write_junit
from harness.verify.run import ServerPool, run_check
from harness.verify.workers import jobs, run_at_once

Say = Callable[[str], None]


def _header(settings: Settings, project: Project, say: Say) -> None:
    parts = [f"{s} migrations in {settings.migrations_dir(s)}" for s in project.stores]
    contract = f"against the contract in {project.contract_path}" if project.contract_path else "without a contract"
    layout = f" ({settings.detected.describe()}, detected)" if settings.detected else ""
    say(f"harness verify: {', '.join(parts)} {contract}{layout}")
    from harness.servers.from_settings import ignored_variables

    ignored = ignored_variables(settings)
    if ignored:
        say(f"  not using {', '.join(ignored)} from the environment: verify creates and drops databases; give a "
            f"server explicitly with {settings.spell('pg_url')} / {settings.spell('cassandra_hosts')}")  # fmt: skip


def require_extra() -> None:
    """`verify` needs the `verify` extra; without it, one line naming the extra instead of a failure mid-run."""
    import importlib.util

    missing = [name for name in ("hypothesis", "pytest") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"harness verify needs the 'verify' extra (missing: {', '.join(missing)}): "
            "pip install 'migrations-harness[verify]'"
        )


def verify(settings: Settings, say: Say, *, only: list[str] | None = None) -> tuple[list[CheckResult], list[str]]:
    """Run every applicable check; returns the results and the servers used. Raises HarnessError when it cannot
    start (bad configuration, unreadable migrations or contract)."""
    require_extra()
    project = Project.load(settings)
    _header(settings, project, say)
    pool = ServerPool(settings, say)
    checks = applicable(project, only)
    results: dict[str, CheckResult] = {}

    def done(result: CheckResult) -> None:
        results[result.name] = result
        say(line(result))

    try:
        with_databases = [c for c in checks if stores_needed(c, project)]
        for check in checks:
            if check not in with_databases:  # the lint: no database, here and first
                done(run_check(check, project, pool))
        if with_databases:
            needed = {s for c in with_databases for s in stores_needed(c, project)}
            fresh = pool.ready(tuple(s for s in STORE_NAMES if s in needed))
            workers = jobs(int(settings["verify_jobs"]), len(with_databases))
            if workers == 1:
                for check in with_databases:
                    done(run_check(check, project, fresh))
            else:
                run_at_once(with_databases, settings, fresh, workers, done)
        servers = pool.describe()
    finally:
        pool.close()
    return [results[c.name] for c in checks], servers


def main_verify(settings: Settings, say: Say, *, junitxml: Path | None = None, only: list[str] | None = None) -> int:
    started = time.monotonic()
    results, servers = verify(settings, say, only=only)
    report(results, servers, started, say)
    if junitxml is not None:
        write_junit(junitxml, results)
    if not results or any(r.outcome == "error" for r in results):
        return 2
    return 1 if any(r.outcome == "failed" for r in results) else 0
