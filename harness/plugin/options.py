"""Plugin options (every setting is a flag and an ini option) and the hooks: markers, no-skip guard, run lifecycle."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from harness.config import KEYS, Settings, load_settings
from harness.errors import ConfigError

DB_MARKERS = ("postgres", "cassandra")
MARKERS = {
    "postgres": "needs a real PostgreSQL (started by the harness plugin)",
    "cassandra": "needs a real Apache Cassandra (started by the harness plugin)",
    "cluster": "needs a local multi-node Cassandra cluster",
    "docker": "needs a Docker engine and locally built images",
    "deploy": "Dockerfile, Helm chart and deploy.sh checks (offline)",
    "smoke": "quick proof that both servers answer",
    "roundtrip": "every migration up and down on real databases",
    "data": "rows written before each migration survive its up and come back after its down",
    "schema": "live schema against the class diagram",
    "fuzz": "generated inserts against the live constraints",
    "lint": "static checks of the migration files",
    "slow": "takes more than a few seconds",
}
RUN_DIR = "HARNESS_RUN_DIR"
RUN_OWNER = "HARNESS_RUN_OWNER"
# Flags of the first release, kept as aliases of the settings' own flags.
ALIASES = {
    "pg_url": ("--pg-url",),
    "cassandra_hosts": ("--cassandra-hosts",),
    "cassandra_port": ("--cassandra-port",),
    "pg_bindir": ("--pg-bindir",),
}


def _dest(name: str) -> str:
    return f"harness_{name}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "migrations harness (real PostgreSQL and Cassandra)")
    for k in KEYS:
        flags = [f"--harness-{k.name.replace('_', '-')}", *ALIASES.get(k.name, ())]
        default = "none" if k.default is None else str(k.default).lower()
        group.addoption(
            *flags,
            dest=_dest(k.name),
            default=None,
            help=f"{k.help} [ini: harness_{k.name}; env: HARNESS_{k.name.upper()}; default: {default}]",
        )
        parser.addini(_dest(k.name), k.help, default=None)  # fmt: skip
    group.addoption(
        "--harness-migrations",
        dest="harness_migrations",
        default=None,
        help="a directory holding postgres/ and cassandra/ (shortcut for both *_migrations settings)",
    )
    parser.addini("harness_migrations", "a directory holding postgres/ and cassandra/", default=None)  # fmt: skip


@dataclass(frozen=True)
class HarnessConfig:
    """The resolved settings of the run, plus what the fixtures derive from them."""

    settings: Settings

    @cached_property
    def servers(self) -> Any:
        from harness.servers.from_settings import server_options

        return server_options(self.settings)

    @property
    def no_skip(self) -> bool:
        return bool(self.settings["no_skip"])

    @property
    def fuzz_profile(self) -> str:
        return str(self.settings["fuzz_profile"])

    @property
    def postgres_dir(self) -> Path:
        return self.settings.require_dir("postgres")

    @property
    def cassandra_dir(self) -> Path:
        return self.settings.require_dir("cassandra")

    @property
    def contract(self) -> Path:
        path = self.settings["contract"]
        if not isinstance(path, Path):
            raise ConfigError(f"no contract configured: set {self.settings.spell('contract')}")
        return path


def resolve_config(config: pytest.Config) -> HarnessConfig:
    root = Path(str(config.rootpath))
    flags = {k.name: config.getoption(_dest(k.name)) for k in KEYS}
    ini: dict[str, Any] = {}
    for k in KEYS:
        value = config.getini(_dest(k.name))
        if value not in (None, "", []):
            ini[k.name] = value
    both, layer = config.getoption("harness_migrations"), flags
    if both is None:
        both, layer = config.getini("harness_migrations"), ini
    if both:  # the first release's single directory: fills whichever per-store setting that layer lacks
        base = root / str(both)
        for store in DB_MARKERS:
            if (base / store).is_dir() and not layer.get(f"{store}_migrations"):
                layer[f"{store}_migrations"] = str(base / store)
    settings = load_settings(flags=flags, ini=ini, cwd=root, context="pytest")
    return HarnessConfig(settings)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.stash[CONFIG] = resolve_config(config)
    if not _is_worker(config) and RUN_DIR not in os.environ:
        os.environ[RUN_DIR] = tempfile.mkdtemp(prefix="harness-run-")
        os.environ[RUN_OWNER] = str(os.getpid())
        config.stash[OWNS_RUN] = True


_DB_FIXTURES = {
    "postgres": {"postgres_server", "pg_url", "pg_conn", "pg_template"},
    "cassandra": {"cassandra_server", "cassandra_session", "cassandra_keyspace"},
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Database fixtures imply their markers; built-in checks that do not apply to the project are deselected."""
    from harness.checks.builtin import applies

    cfg = config.stash[CONFIG]
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for store, fixtures in _DB_FIXTURES.items():
            if names & fixtures:
                item.add_marker(getattr(pytest.mark, store))
        function = getattr(item, "function", None)
        (keep if function is None or applies(function, cfg.settings) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    cfg = item.config.stash.get(CONFIG, None)
    if report.skipped and cfg is not None and cfg.no_skip:
        markers = [m for m in (*DB_MARKERS, "docker", "cluster") if item.get_closest_marker(m)]
        if markers:
            report.outcome = "failed"
            report.longrepr = (
                f"{item.nodeid}: a {'/'.join(markers)} test was skipped, and skips are failures with "
                f"--harness-no-skip (CI must provide every database): {report.longrepr}"
            )


def pytest_report_header(config: pytest.Config) -> list[str]:
    from harness.errors import HarnessError
    from harness.servers import supervisor
    from harness.servers.select import choose_provider

    cfg = config.stash[CONFIG]
    parts = []
    for kind in supervisor.KINDS:
        try:
            provider, why = choose_provider(cfg.servers, kind)
        except HarnessError as exc:
            provider, why = "none", str(exc)
        parts.append(f"{kind} from {provider} ({why})")
    return ["harness: " + "; ".join(parts) + " — started only if a test needs it"]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    from harness.servers import supervisor

    run_dir = os.environ.get(RUN_DIR)
    if not run_dir or not config.stash.get(OWNS_RUN, False):
        return
    for kind in supervisor.KINDS:
        state = supervisor.read_state(Path(run_dir) / kind)
        if state:
            server = supervisor.server_from_state(state)
            terminalreporter.write_line(f"harness: {kind} {server.version} from the {server.provider} provider")


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(OWNS_RUN, False):
        from harness.servers.select import release_all

        run_dir = Path(os.environ.pop(RUN_DIR))
        os.environ.pop(RUN_OWNER, None)
        release_all(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)


CONFIG = pytest.StashKey[HarnessConfig]()
OWNS_RUN = pytest.StashKey[bool]()
