"""What the linter reports: findings, the report of one run, and the error for a run that cannot happen."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from harness.errors import HarnessError

__all__ = ["Level", "LintError", "LintFinding", "LintReport", "Source"]

Level = Literal["error", "warning"]
Source = Literal["squawk", "harness"]


class LintError(HarnessError):
    """The lint cannot run (no Squawk binary, unreadable directory, broken Squawk config): exit 2, not 1."""


@dataclass(frozen=True)
class LintFinding:
    """One problem at a file line, with the fix; `column` is 1-based in characters, None when not known."""

    path: Path
    line: int
    rule: str
    message: str
    fix: str
    source: Source
    level: Level = "error"
    column: int | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (str(self.path), self.line, self.column or 0, self.rule, self.message)


@dataclass(frozen=True)
class LintReport:
    """Findings sorted by file and line, and every file that was read (so "clean" says what was clean)."""

    findings: tuple[LintFinding, ...]
    files: tuple[Path, ...]

    @property
    def clean(self) -> bool:
        return not self.findings
