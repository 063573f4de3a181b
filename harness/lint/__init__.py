"""`harness lint`: migration rules that need no database (Squawk for PostgreSQL, our own for CQL).

    report = lint(Path("migrations/postgres"), Path("migrations/cassandra"))
    print(format_report(report, "text"), end="")
    sys.exit(exit_code(report))          # LintError (cannot run) -> exit 2

or all of it in one call: `sys.exit(run_lint(pg_dir, cql_dir, fmt="github"))`; as a built-in check (pytest,
verify): `check_lint(pg_dir, cql_dir)` raises LintFailed, an AssertionError carrying the text report.

The rules, their reasons and how to suppress them are listed in README.md, section Lint.
"""

from __future__ import annotations

from harness.lint.check import LintFailed, check_lint
from harness.lint.command import run_lint
from harness.lint.cql_rules import RULES, CqlRule
from harness.lint.format import FORMATS, Format, format_report, summary
from harness.lint.model import LintError, LintFinding, LintReport
from harness.lint.run import exit_code, lint

__all__ = [
    "FORMATS",
    "RULES",
    "CqlRule",
    "Format",
    "LintError",
    "LintFailed",
    "LintFinding",
    "LintReport",
    "check_lint",
    "exit_code",
    "format_report",
    "lint",
    "run_lint",
    "summary",
]
