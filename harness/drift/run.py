"""`harness drift`: the live databases against the files, the ledger, the schema the migrations build and the
contract. Read-only against the live databases; exit 0 clean, 1 on drift, 2 when it cannot check."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness import applier
from harness.checks.target import Project
from harness.config import Settings, mask
from harness.config.secrets import url_passwords
from harness.drift.expected import CannotBuild, Expected, build_expected
from harness.drift.findings import contract_findings, ledger_findings, schema_findings
from harness.drift.live import Live, live_connection, read_live
from harness.drift.report import DriftReport, PartResult, render
from harness.drift.snapshot import read_expected, write_expected
from harness.schema.compare import compare

Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _shown(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)


def _contract_part(project: Project, live: Mapping[str, Live]) -> PartResult:
    assert project.contract is not None
    pg, cs = live.get("postgres"), live.get("cassandra")
    found = compare(
        project.contract,
        pg.model if pg else None,
        cs.model if cs else None,
        strict_links=project.strict_links,
    )
    return PartResult("contract", "", tuple(contract_findings(found)))


def _expected(settings: Settings, project: Project, connections: Mapping[str, Any], progress: Say) -> Expected:
    """From the expected-schema file when there is one, else built on throwaway databases."""
    path = settings["expected_schema"]
    if isinstance(path, Path) and path.is_file():
        progress(f"  expected schema from {_shown(path)}")
        return read_expected(path, project.migrations)
    progress("  building the expected schema: the migrations on throwaway databases ...")
    try:
        return build_expected(settings, project.migrations, connections, progress)
    except CannotBuild as exc:
        hint = f" ({_shown(path)} does not exist)" if isinstance(path, Path) else ""
        raise CannotBuild(
            f"{exc}; or give the expected schema as a file{hint}: write it with `harness drift "
            f"--write-expected-schema FILE` where servers run, and set {settings.spell('expected_schema')}"
        ) from None


def write_expected_schema(settings: Settings, path: Path, progress: Say) -> Path:
    """Build the expected schema on throwaway databases and write it (no live database is read)."""
    project = Project.load(settings)
    connections = {store: settings.connection(store) for store in project.stores}
    progress("  building the expected schema: the migrations on throwaway databases ...")
    write_expected(path, build_expected(settings, project.migrations, connections, progress), project.migrations)
    return path


def check_drift(settings: Settings, progress: Say, *, url: str | None = None, hosts: str | None = None) -> DriftReport:
    """Every part of the drift check; raises HarnessError (Unreachable, CannotBuild, ConfigError) when it cannot
    check. The live databases are read first (cheap, and unreachable ones stop it before any server starts)."""
    project = Project.load(settings)
    connections = {store: live_connection(settings, store, url=url, hosts=hosts) for store in project.stores}
    live = {store: read_live(store, connection) for store, connection in connections.items()}
    report = DriftReport(targets=[state.where for state in live.values()], contract=_shown(project.contract_path))
    expected = _expected(settings, project, connections, progress)
    report.expected_from = expected.servers
    for store, state in live.items():
        status = applier.plan(project.migrations[store], state.ledger)
        report.parts.append(PartResult("ledger", store, tuple(ledger_findings(store, status))))
        differences = schema_findings(store, expected.models[store], state.model)
        report.parts.append(PartResult("schema", store, tuple(differences)))
    if project.contract is not None:
        report.parts.append(_contract_part(project, live))
    return report


def main_drift(
    settings: Settings,
    say: Say,
    *,
    url: str | None = None,
    hosts: str | None = None,
    fmt: str = "text",
    write_expected_to: Path | None = None,
) -> int:
    """Print the report (JSON on stdout alone with ``fmt="json"``: progress goes to stderr); 0 clean, 1 drift."""
    if write_expected_to is not None:
        say(f"Wrote the expected schema: {write_expected_schema(settings, write_expected_to, _stderr)}")
        return 0
    if url and url_passwords(url):
        _stderr("Warning: --url carries a password, which other users can read in the process list; "
                "prefer DATABASE_URL or PGPASSWORD")  # fmt: skip
    progress = say if fmt == "text" else _stderr
    render(DriftReport(), fmt)  # an unknown format fails before any database is touched
    report = check_drift(settings, progress, url=url, hosts=hosts)
    secrets = settings.secrets() + (url_passwords(url) if url else [])
    say(mask(render(report, fmt), secrets))
    return report.exit_code
