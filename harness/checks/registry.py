"""The checks `harness verify` runs and the pytest built-ins wrap: one registry, so both always prove the same.

Each check is a plain function over a Target that raises CheckFailure listing every finding and returns its
warnings. ``stores`` says which fresh databases it needs: a check of one store runs only when the project has
migrations for that store; the schema check needs every store its contract names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from harness.checks.target import Project, Target
from harness.registry import STORE_NAMES


@dataclass(frozen=True)
class Check:
    name: str  # unique: "roundtrip-postgres"
    phase: str  # report phase: lint, roundtrip, data, schema, fuzz
    title: str  # the report's left column: "roundtrip  postgres"
    stores: tuple[str, ...]  # fresh databases it needs
    run: Callable[[Target], list[str]]
    test_name: str  # the pytest built-in's function name (kept stable: projects select them with -k)


def _roundtrip(store: str, target: Target) -> list[str]:
    from harness.checks.roundtrip import check_roundtrip

    return check_roundtrip(target, store)


def _data(store: str, target: Target) -> list[str]:
    from harness.checks.data import check_data

    return check_data(target, store)


def _fuzz(store: str, target: Target) -> list[str]:
    from harness.checks.fuzz import check_fuzz

    return check_fuzz(target, store)


def _lint(target: Target) -> list[str]:
    """No database: the migration files against Squawk's rules and ours."""
    from harness.checks.target import CheckFailure
    from harness.lint.cli import lint_settings

    settings = target.project.settings
    if settings is None:
        return ["no settings: the lint did not run"]
    report = lint_settings(settings)
    if report.findings:
        found = [f"{f.path}:{f.line}: {f.rule}: {f.message} (fix: {f.fix})" for f in report.findings]
        raise CheckFailure(f"the lint found {len(found)} problem(s) in the migrations", [("findings", found)])
    return []


def _schema(target: Target) -> list[str]:
    from harness.checks.schema import check_schema

    return check_schema(target)


CHECKS: tuple[Check, ...] = (
    Check("lint", "lint", "lint       migrations", (), _lint, "test_lint"),
    *(Check(f"roundtrip-{s}", "roundtrip", f"roundtrip  {s}", (s,), partial(_roundtrip, s), f"test_roundtrip_{s}")
      for s in STORE_NAMES),
    *(Check(f"data-{s}", "data", f"data       {s}", (s,), partial(_data, s), f"test_data_{s}") for s in STORE_NAMES),
    Check("schema", "schema", "schema     contract", STORE_NAMES, _schema, "test_schema_matches_contract"),
    *(Check(f"fuzz-{s}", "fuzz", f"fuzz       {s}", (s,), partial(_fuzz, s), f"test_fuzz_{s}_constraints")
      for s in STORE_NAMES),
)  # fmt: skip

BY_NAME = {c.name: c for c in CHECKS}


def applicable(project: Project, only: list[str] | None = None) -> list[Check]:
    """The checks this project gets: store checks for its stores, the schema check when it has a contract."""
    from harness.errors import ConfigError

    unknown = sorted(set(only or ()) - set(BY_NAME))
    if unknown:
        raise ConfigError(f"unknown check(s) {', '.join(unknown)}: the checks are {', '.join(BY_NAME)}")
    chosen = []
    for check in CHECKS:
        if only and check.name not in only:
            continue
        if check.phase == "schema":
            if project.contract is not None:
                chosen.append(check)
        elif check.phase == "lint" or all(s in project.migrations for s in check.stores):
            chosen.append(check)
    return chosen


def stores_needed(check: Check, project: Project) -> tuple[str, ...]:
    """The schema check needs only the stores its contract names; the others need exactly theirs."""
    if check.phase == "schema" and project.contract is not None:
        named = {c.store for c in project.contract.classes.values()}
        return tuple(s for s in STORE_NAMES if s in named)
    return check.stores
