"""``harness verify``: the built-in suites on throwaway (or given) servers, with a readable report.

It runs :mod:`harness.checks.builtin` through pytest with this package's plugin, so it proves exactly what a
project's own test run proves, and turns the outcome into one report that lists every finding.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHECK_TITLES = {
    "test_roundtrip_postgres": "roundtrip  postgres",
    "test_roundtrip_cassandra": "roundtrip  cassandra",
    "test_schema_matches_contract": "schema     contract",
    "test_fuzz_postgres_constraints": "fuzz       postgres",
    "test_fuzz_cassandra_constraints": "fuzz       cassandra",
}


@dataclass
class CheckResult:
    name: str
    outcome: str = "passed"
    seconds: float = 0.0
    setup_seconds: float = 0.0
    message: str = ""
    notes: list[str] = field(default_factory=list)


class Collector:
    """A pytest plugin that keeps what the report needs and prints a progress line per check."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.results: dict[str, CheckResult] = {}
        self.servers: list[str] = []

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Servers still run here (they stop at unconfigure): note which ones the run used."""
        import os

        from harness.servers import supervisor

        run_dir = os.environ.get("HARNESS_RUN_DIR")
        for kind in supervisor.KINDS:
            state = supervisor.read_state(Path(run_dir) / kind) if run_dir else None
            if state:
                server = supervisor.server_from_state(state)
                self.servers.append(f"{kind} {server.version} ({server.provider})")

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        if not self.results:
            self.say("  starting databases (given ones, else docker, else local processes) ...")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.say(f"  cannot collect the checks: {report.longrepr}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = report.nodeid.split("::")[-1]
        result = self.results.setdefault(name, CheckResult(name))
        if report.when == "setup":
            result.setup_seconds = report.duration
        if report.when == "call":
            result.seconds = report.duration
            for key, value in report.user_properties:
                if key == "harness_notes" and isinstance(value, list):
                    result.notes.extend(str(v) for v in value)
        if report.failed:
            result.outcome = "failed" if report.when == "call" else "error"
            crash = getattr(report.longrepr, "reprcrash", None)
            text = str(report.longrepr)
            if report.when == "call" and crash is not None:
                text = crash.message
            result.message = text
        elif report.skipped and report.when != "teardown":
            result.outcome = "skipped"
            result.message = str(report.longrepr)
        if report.when == "teardown" or (report.when == "setup" and not report.passed):
            self.say(line(result))


def line(result: CheckResult) -> str:
    title = CHECK_TITLES.get(result.name, result.name)
    mark = {"passed": "ok", "failed": "FAILED", "error": "ERROR", "skipped": "SKIPPED"}[result.outcome]
    extra = f", {len(result.notes)} warning(s)" if result.notes else ""
    return f"  {title:<22} {mark:<7} {result.seconds:6.1f}s{extra}"


def run_verify(
    migrations: Path,
    contract: Path,
    *,
    provider: str | None,
    strict_links: bool,
    fuzz_profile: str,
    minimum_downgrade: str | None,
    say: Callable[[str], None],
    extra_args: list[str] | None = None,
) -> tuple[int, dict[str, CheckResult], list[str]]:
    """Run every built-in check; returns (findings count, results)."""
    if not migrations.is_dir():
        from harness.errors import ConfigError

        raise ConfigError(f"{migrations}: no such directory (it should hold postgres/ and/or cassandra/)")
    if not contract.is_file():
        from harness.errors import ConfigError

        raise ConfigError(f"{contract}: no such file (the markdown file with the mermaid classDiagram)")
    args = [
        "--pyargs",
        "harness.checks.builtin",
        "-p",
        "no:cacheprovider",
        f"--rootdir={migrations.resolve().parent}",
        "-o",
        "addopts=",
        "-o",
        "testpaths=",
        f"--harness-migrations={migrations.resolve()}",
        f"--harness-contract={contract.resolve()}",
        f"--harness-strict-links={'true' if strict_links else 'false'}",
        f"--harness-fuzz-profile={fuzz_profile}",
        "-W",
        "ignore::UserWarning",
        "-p",
        "no:terminal",
    ]
    if provider:
        args.append(f"--harness-provider={provider}")
    if minimum_downgrade:
        args.append(f"--harness-minimum-downgrade={minimum_downgrade}")
    present = {kind for kind in ("postgres", "cassandra") if (migrations / kind).is_dir()}
    deselect = [
        n
        for n in CHECK_TITLES
        if ("postgres" in n and "postgres" not in present) or ("cassandra" in n and "cassandra" not in present)
    ]
    if deselect:
        args += ["-k", " and ".join(f"not {n}" for n in deselect)]
    args += extra_args or []
    collector = Collector(say)
    pytest.main(args, plugins=[collector])
    failed = sum(1 for r in collector.results.values() if r.outcome != "passed")
    return failed, collector.results, collector.servers


def report(results: dict[str, CheckResult], servers: list[str], started: float, say: Callable[[str], None]) -> None:
    say("")
    if servers:
        say(f"servers: {', '.join(servers)}")
    phases: dict[str, float] = {"setup": sum(r.setup_seconds for r in results.values())}
    for r in results.values():
        phase = CHECK_TITLES.get(r.name, r.name).split()[0]
        phases[phase] = phases.get(phase, 0.0) + r.seconds
    say("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in phases.items()) + " (setup: server start, fresh databases)")
    failures = [r for r in results.values() if r.outcome != "passed"]
    notes = [n for r in results.values() for n in r.notes]
    for r in failures:
        say("")
        say(f"{' '.join(CHECK_TITLES.get(r.name, r.name).split())} {r.outcome.upper()}:")
        for text_line in r.message.strip().splitlines():
            say(f"  {text_line}")
    if notes:
        say("")
        say("warnings:")
        for n in notes:
            say(f"  - {n}")
    say("")
    verdict = "verified" if not failures and results else "NOT verified"
    say(
        f"{verdict}: {len(results) - len(failures)} of {len(results)} checks passed, {len(notes)} warning(s), "
        f"{time.monotonic() - started:.1f}s"
    )


def main_verify(args: Any, say: Callable[[str], None]) -> int:
    started = time.monotonic()
    say(f"harness verify: {args.migrations} against the contract in {args.contract}")
    failed, results, servers = run_verify(
        Path(args.migrations),
        Path(args.contract),
        provider=args.provider,
        strict_links=args.strict_links,
        fuzz_profile=args.fuzz_profile,
        minimum_downgrade=args.minimum_downgrade,
        say=say,
    )
    report(results, servers, started, say)
    if not results or any(r.outcome == "error" for r in results.values()):
        return 2  # the checks could not run (no server, a broken setup): an error, not a finding
    return 1 if failed else 0
