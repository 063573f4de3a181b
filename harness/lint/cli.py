"""`harness lint` from resolved settings: the CLI's one call, and the same run for `verify` and the pytest built-in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

from harness.config import Settings
from harness.lint.format import FORMATS, Format, format_report
from harness.lint.model import LintReport
from harness.lint.run import exit_code, lint

__all__ = ["lint_settings", "main_lint"]


def lint_settings(settings: Settings) -> LintReport:
    """Lint the project's migration directories with its Squawk config, PostgreSQL version and size limit."""
    if not settings.stores():
        settings.require_dir("postgres")  # raises: no directory configured or detected, with the way to set one
    return lint(
        settings.migrations_dir("postgres"),
        settings.migrations_dir("cassandra"),
        squawk_config=settings["squawk_config"],
        pg_version=settings["pg_version"],
        max_bytes=settings["max_file_size"],
        spell=settings.spell,
        allow=settings["lint_allow"] or (),
        allow_source=settings.config_file or Path(settings.spell("lint_allow")),
    )


def main_lint(settings: Settings, fmt: str, say: Callable[[str], None]) -> int:
    """Print the report in `fmt`; 0 clean, 1 findings. LintError (a HarnessError) means it cannot run: exit 2."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown lint format {fmt!r}: use one of {', '.join(FORMATS)}")
    report = lint_settings(settings)
    say(format_report(report, cast(Format, fmt), root=settings.root).rstrip("\n"))
    return exit_code(report)
