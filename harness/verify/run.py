"""Run the check registry on throwaway databases, without pytest: servers on demand, a fresh database per check.

Servers start the first time a check needs them (given ones, else docker, else local processes) and are stopped
when the run ends, whatever happens: they belong to this process (a supervisor stops a server whose owner died).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.registry import Check, stores_needed
from harness.checks.target import CheckFailure, Databases, Project, Target
from harness.config import Settings
from harness.errors import HarnessError, ServerError
from harness.verify.report import CheckResult

Say = Callable[[str], None]


class ServerUnavailable(ServerError):
    """A server the checks need cannot be had: the whole run stops (exit 2), with this one line."""


@dataclass
class ServerPool:
    """The run's servers, obtained lazily; ``errors`` keeps a store whose server could not be had."""

    settings: Settings
    say: Say
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="harness-verify-")))
    servers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    announced: bool = False

    def server(self, store: str) -> Any:
        if store in self.errors:
            raise ServerUnavailable(self.errors[store])
        if store not in self.servers:
            from harness.servers.from_settings import server_options
            from harness.servers.select import obtain

            if not self.announced:
                self.say("  starting databases (given ones, else docker, else local processes) ...")
                self.announced = True
            try:
                self.servers[store] = obtain(store, server_options(self.settings), self.run_dir, owner=os.getpid())
            except HarnessError as exc:
                first = (str(exc).strip().splitlines() or [""])[0]
                self.errors[store] = f"no {store} server: {first}"
                raise ServerUnavailable(self.errors[store]) from None
        return self.servers[store]

    def ready(self, stores: tuple[str, ...]) -> FreshDatabases:
        """The servers of ``stores`` (started or found now), as plain data that a worker process can take;
        ServerUnavailable when a server cannot be had."""
        return FreshDatabases({store: self.server(store) for store in stores})

    @contextmanager
    def databases(self, stores: tuple[str, ...]) -> Iterator[Databases]:
        with self.ready(stores).databases(stores) as databases:
            yield databases

    def describe(self) -> list[str]:
        return [f"{kind} {s.version} ({s.provider})" for kind, s in self.servers.items()]

    def close(self) -> None:
        from harness.servers.select import release_all

        try:
            release_all(self.run_dir)
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)


@dataclass(frozen=True)
class FreshDatabases:
    """Servers already had: each check gets a database and a keyspace of its own."""

    servers: dict[str, Any]

    @contextmanager
    def databases(self, stores: tuple[str, ...]) -> Iterator[Databases]:
        from harness.servers import janitor

        with ExitStack() as scope:
            values: dict[str, Any] = {}
            if "postgres" in stores:
                url = self.servers["postgres"].url
                values["postgres_url"] = scope.enter_context(janitor.fresh_database(url))
            if "cassandra" in stores:
                values["cassandra"] = self.servers["cassandra"]
                values["keyspace"] = scope.enter_context(janitor.fresh_keyspace(values["cassandra"]))
            yield Databases(**values)


def run_check(check: Check, project: Project, pool: ServerPool | FreshDatabases) -> CheckResult:
    """One check on fresh databases; findings are "failed", anything that kept it from running is "error"."""
    result = CheckResult(check.name, check.title, check.phase)
    started = time.monotonic()
    try:
        with pool.databases(stores_needed(check, project)) as databases:
            result.setup_seconds = time.monotonic() - started
            began = time.monotonic()
            try:
                result.notes = check.run(Target(project, databases))
            finally:
                result.seconds = time.monotonic() - began
    except CheckFailure as exc:
        result.outcome, result.message = "failed", str(exc)
    except ServerUnavailable:
        raise
    except HarnessError as exc:
        result.outcome, result.message = "error", str(exc)
    except Exception as exc:  # a driver error or a bug: the check could not run; one line, not a traceback
        result.outcome, result.message = "error", f"{type(exc).__name__}: {str(exc).strip()[:500]}"
    if not result.setup_seconds and result.outcome == "error":
        result.setup_seconds = time.monotonic() - started
    return result
