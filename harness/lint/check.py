"""The lint as a built-in check: an AssertionError subclass carrying the text report, for pytest and verify."""

from __future__ import annotations

from pathlib import Path

from harness.lint.format import format_report
from harness.lint.model import LintReport
from harness.lint.run import lint

__all__ = ["LintFailed", "check_lint"]


class LintFailed(AssertionError):
    """Findings exist; `report` holds them and the message is the text report (file:line: rule: message, fix)."""

    def __init__(self, report: LintReport, text: str) -> None:
        self.report = report
        super().__init__(text)


def check_lint(
    postgres_dir: Path | None,
    cassandra_dir: Path | None,
    *,
    squawk_config: Path | None = None,
    pg_version: str | None = None,
    root: Path | None = None,
) -> LintReport:
    """The clean report, or LintFailed with every finding; LintError (cannot run) passes through unchanged."""
    report = lint(postgres_dir, cassandra_dir, squawk_config=squawk_config, pg_version=pg_version)
    if report.findings:
        raise LintFailed(report, format_report(report, "text", root=root))
    return report
