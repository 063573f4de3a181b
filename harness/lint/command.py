"""`harness lint` as one call: lint, print the report, return the exit code (0 clean, 1 findings, 2 cannot run)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from harness.lint.format import Format, format_report
from harness.lint.model import LintError
from harness.lint.run import exit_code, lint

__all__ = ["run_lint"]


def run_lint(
    postgres_dir: Path | None,
    cassandra_dir: Path | None,
    *,
    fmt: Format = "text",
    squawk_config: Path | None = None,
    pg_version: str | None = None,
    squawk_binary: Path | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print the report to `out` (stdout) in `fmt`; a run that cannot happen prints `Error: ...` to `err`: 2."""
    try:
        report = lint(
            postgres_dir,
            cassandra_dir,
            squawk_config=squawk_config,
            pg_version=pg_version,
            squawk_binary=squawk_binary,
        )
    except LintError as exc:
        print(f"Error: {exc}", file=err or sys.stderr)
        return 2
    (out or sys.stdout).write(format_report(report, fmt))
    return exit_code(report)
