"""`-- harness:allow <rule-id>[,<rule-id>...] <reason>`: silence a finding, and say why.

Placement decides the reach. In the file's header (above the first `-- migrate:up`; in a CQL file
without markers, the comment block at the top that a blank line separates from the first statement) it
covers the whole file. Anywhere else in an up section it covers the next statement, from its first to its
last line (Squawk reports column findings on inner lines of a CREATE TABLE). A suppression without a
reason is itself a finding (`allow-without-reason`), and so is one that silences nothing
(`allow-unused`): a typo in a rule id must not pass for a suppression. Squawk's own `-- squawk-ignore`
comments are not read here; Squawk honours them itself.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.lint.model import LintFinding
from harness.migrations import Migration
from harness.registry import store_kind

__all__ = [
    "ALLOW_UNUSED",
    "ALLOW_WITHOUT_REASON",
    "Allow",
    "SettingAllow",
    "allows_of",
    "apply_allows",
    "expand_setting_allows",
    "parse_setting_allows",
]

ALLOW_WITHOUT_REASON = "allow-without-reason"
ALLOW_UNUSED = "allow-unused"
_ALLOW = re.compile(r"^\s*(?:--|//)\s*harness:allow\b(?P<rest>.*)$")
# Squawk's alias: one name for both timeout rules (it accepts it in squawk-ignore and --exclude too).
_ALIASES = {"require-timeout-settings": ("require-lock-timeout", "require-statement-timeout")}


@dataclass(frozen=True)
class Allow:
    """One suppression: the comment's line, the rules it names, and the file lines it covers."""

    path: Path
    line: int
    rules: tuple[str, ...]
    reason: str
    first: int
    last: int

    def covers(self, finding: LintFinding) -> str | None:
        """The rule id (as written) that silences `finding`, or None."""
        if finding.path != self.path or not self.first <= finding.line <= self.last:
            return None
        for rule in self.rules:
            if finding.rule == rule or finding.rule in _ALIASES.get(rule, ()):
                return rule
        return None


def _header(lines: Sequence[str], first_up_line: int, spans: Sequence[tuple[int, int]]) -> range:
    """File lines whose suppressions cover the whole file."""
    if first_up_line > 1:  # the up marker sits on the line before its section
        return range(1, first_up_line - 1)
    first_code = min((start for start, _ in spans), default=len(lines) + 1)
    blanks = [n for n in range(1, first_code) if not lines[n - 1].strip()]
    return range(1, blanks[-1]) if blanks else range(0)


def _reach(
    lines: Sequence[str], line: int, spans: Sequence[tuple[int, int]], prefixes: tuple[str, ...]
) -> tuple[int, int]:
    """Lines covered by a suppression on `line`: the next code line through the end of its statement."""
    for number in range(line + 1, len(lines) + 1):
        content = lines[number - 1].strip()
        if content and not content.startswith(prefixes):
            last = max((end for start, end in spans if start <= number <= end), default=number)
            return number, last
    return line, line  # nothing below it: covers nothing, so it is reported unused


def _parse(path: Path, number: int, rest: str) -> tuple[tuple[str, ...], str, LintFinding | None]:
    match = re.match(r"\s*(\S*)\s*(.*)$", rest)
    assert match is not None  # every part is optional
    rules = tuple(rule for rule in match.group(1).split(",") if rule)
    reason = match.group(2).strip()
    if rules and re.search(r"\w", reason):
        return rules, reason, None
    what = f"of {', '.join(rules)}" if rules else "names no rule and"
    problem = LintFinding(
        path=path,
        line=number,
        rule=ALLOW_WITHOUT_REASON,
        message=f"suppression {what} gives no reason",
        fix="write it as '-- harness:allow <rule-id> <why it is safe here>'",
        source="harness",
    )
    return rules, reason, problem


def allows_of(
    migration: Migration, text: str, spans: Sequence[tuple[int, int]]
) -> tuple[list[Allow], list[LintFinding]]:
    """The suppressions of one file (its decoded `text`, its statements' `spans`), and the malformed ones."""
    lines = text.split("\n")
    ups = migration.ups
    prefixes = store_kind(migration.store).comment_prefixes
    header = _header(lines, ups[0].line, spans)
    places = {n: False for section in ups for n in range(section.line, section.line + section.text.count("\n") + 1)}
    places.update((n, True) for n in header)  # a file without markers: its header is part of the up section
    allows: list[Allow] = []
    problems: list[LintFinding] = []
    for number, whole_file in sorted(places.items()):
        match = _ALLOW.match(lines[number - 1]) if number <= len(lines) else None
        if not match:
            continue
        rules, reason, problem = _parse(migration.path, number, match.group("rest"))
        if problem:
            problems.append(problem)
        first, last = (1, len(lines)) if whole_file else _reach(lines, number, spans, prefixes)
        if rules:
            allows.append(Allow(migration.path, number, rules, reason, first, last))
    return allows, problems


def apply_allows(findings: Iterable[LintFinding], allows: Sequence[Allow]) -> list[LintFinding]:
    """`findings` minus the suppressed ones, plus an `allow-unused` finding per rule id that silenced nothing."""
    kept: list[LintFinding] = []
    used: set[tuple[int, str]] = set()
    for finding in findings:
        hits = [(index, rule) for index, allow in enumerate(allows) if (rule := allow.covers(finding))]
        used.update(hits)
        if not hits:
            kept.append(finding)
    for index, allow in enumerate(allows):
        for rule in allow.rules:
            if (index, rule) not in used and allow.line > 0:  # settings' allows may match files without findings
                kept.append(
                    LintFinding(
                        path=allow.path,
                        line=allow.line,
                        rule=ALLOW_UNUSED,
                        message=f"'harness:allow {rule}' silences nothing here",
                        fix="remove it, or correct the rule id (README, section Lint, lists them); it covers the "
                        "statement below it, or the whole file when written above '-- migrate:up'",
                        source="harness",
                    )
                )
    return kept


@dataclass(frozen=True)
class SettingAllow:
    """A suppression from the settings (`lint_allow`), for files that must not change: an applied migration
    carries its checksum, so a comment added to it later would make the applier refuse it as edited."""

    pattern: str  # a file name pattern (fnmatch), matched against the file's name
    rules: tuple[str, ...]
    reason: str


def parse_setting_allows(entries: Sequence[str], where: Path) -> tuple[list[SettingAllow], list[LintFinding]]:
    """`<file pattern> <rule-id>[,<rule-id>] <reason>` entries; one without a reason is a finding at ``where``."""
    allows: list[SettingAllow] = []
    problems: list[LintFinding] = []
    for entry in entries:
        pattern, _, rest = entry.strip().partition(" ")
        rules, reason, problem = _parse(where, 1, rest)
        if problem is not None or not pattern:
            problems.append(
                LintFinding(
                    where,
                    1,
                    ALLOW_WITHOUT_REASON,
                    f"lint_allow entry {entry!r} gives no reason",
                    "write it as '<file pattern> <rule-id> <why it is safe there>'",
                    "harness",
                )
            )
        if rules and pattern:
            allows.append(SettingAllow(pattern, rules, reason))
    return allows, problems


def expand_setting_allows(allows: Sequence[SettingAllow], migrations: Iterable[Migration]) -> list[Allow]:
    """Each setting's suppression as a whole-file Allow of every file its pattern names (line 0: not in a file)."""
    out: list[Allow] = []
    for migration in migrations:
        for allow in allows:
            if fnmatch.fnmatch(migration.filename, allow.pattern):
                out.append(Allow(migration.path, 0, allow.rules, allow.reason, 1, 1 << 30))
    return out
