"""One lint run over a project's migration directories: parse, run Squawk and the CQL rules, apply suppressions.

No database is involved. A file that breaks the migration format is reported as a finding of rule
`migration-file` (the lint ran, and found a problem in the input); what stops the lint from running at
all (a missing directory or Squawk binary, a broken Squawk config) raises LintError: exit 2, not 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from harness.errors import ConfigError, MigrationSetError
from harness.lint import squawk
from harness.lint.cql_rules import check_cql
from harness.lint.model import LintError, LintFinding, LintReport
from harness.lint.spans import sql_spans
from harness.lint.suppress import Allow, allows_of, apply_allows, expand_setting_allows, parse_setting_allows
from harness.migrations import DEFAULT_MAX_BYTES, Migration, discover
from harness.registry import store_kind

__all__ = ["MIGRATION_FILE", "exit_code", "lint"]

MIGRATION_FILE = "migration-file"


def _load(
    directory: Path, store: str, max_bytes: int, spell: Callable[[str], str]
) -> tuple[list[Migration], list[LintFinding], list[Path]]:
    """The directory's migrations, or (when a file breaks the format) findings for every broken file."""
    try:
        migrations = discover(
            directory,
            store,
            max_bytes=max_bytes,
            setting=spell(f"{store}_migrations"),
            size_setting=spell("max_file_size"),
        )
    except ConfigError as exc:
        raise LintError(str(exc)) from None
    except MigrationSetError as exc:
        findings = [
            LintFinding(e.path, e.line or 1, MIGRATION_FILE, e.reason, "fix the file as the message says", "harness")
            for e in exc.errors
        ]
        extension = store_kind(store).extension
        files = sorted(p for p in directory.iterdir() if p.suffix.lower() == extension and p.is_file())
        return [], findings, files
    return migrations, [], [m.path for m in migrations]


def _text(migration: Migration) -> str:
    """What the lint reads of a file: its header comments and up sections in place, every other line blank.

    The parser keeps the sections, so the file is read again only when comments stand above its first
    marker (most files start with `-- migrate:up`): on a busy disk, opening files is most of the lint's time.
    """
    if migration.ups[0].line > 2:
        try:
            return migration.path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise LintError(f"{migration.path}: cannot read the file ({exc.strerror})") from None
    lines: list[str] = []
    for section in migration.ups:
        lines.extend([""] * (section.line - 1 - len(lines)))
        lines[section.line - 1 :] = section.text.split("\n")
    return "\n".join(lines)


def _spans(migration: Migration) -> list[tuple[int, int]]:
    """First and last file line of every up statement (for the reach of suppressions)."""
    spans: list[tuple[int, int]] = []
    for section in migration.ups:
        if store_kind(migration.store).transactional:  # PostgreSQL: the parser keeps sections whole
            spans.extend(sql_spans(section.text, section.line))
        else:
            spans.extend((s.line, s.line + s.text.count("\n")) for s in section.statements)
    return spans


def lint(
    postgres_dir: Path | None,
    cassandra_dir: Path | None,
    *,
    squawk_config: Path | None = None,
    pg_version: str | None = None,
    squawk_binary: Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    spell: Callable[[str], str] = lambda key: f"--{key.replace('_', '-')}",
    allow: Sequence[str] = (),
    allow_source: Path = Path("lint_allow"),
) -> LintReport:
    """Lint both stores' migrations (None skips a store); raise LintError when the lint cannot run.

    `squawk_config` is passed to Squawk as --config (default: the nearest `.squawk.toml` at or above the
    PostgreSQL directory); `pg_version` as --pg-version; `squawk_binary` overrides where Squawk is found.
    `max_bytes` is the parser's file size limit; `spell` names a setting in messages (a flag, by default).
    `allow` holds the `lint_allow` setting's suppressions (see suppress.SettingAllow), read from `allow_source`.
    """
    raw: list[LintFinding] = []
    problems: list[LintFinding] = []
    allows: list[Allow] = []
    files: list[Path] = []
    setting_allows, bad_settings = parse_setting_allows(allow, allow_source)
    problems.extend(bad_settings)
    stores: tuple[tuple[str, Path | None], ...] = (("postgres", postgres_dir), ("cassandra", cassandra_dir))
    for store, directory in stores:
        if directory is None:
            continue
        migrations, broken, found = _load(Path(directory), store, max_bytes, spell)
        problems.extend(broken)
        files.extend(found)
        texts = [_text(m) for m in migrations]
        allows.extend(expand_setting_allows(setting_allows, migrations))
        for migration, text in zip(migrations, texts, strict=True):
            file_allows, malformed = allows_of(migration, text, _spans(migration))
            allows.extend(file_allows)
            problems.extend(malformed)
        if not store_kind(store).transactional:  # Cassandra: the harness's CQL rules
            raw.extend(check_cql(migrations))
        elif migrations:  # PostgreSQL: Squawk
            setup = squawk.setup(Path(directory), binary=squawk_binary, config=squawk_config, pg_version=pg_version)
            raw.extend(squawk.check_postgres(migrations, texts, setup))
    findings = [*apply_allows(raw, allows), *problems]
    return LintReport(tuple(sorted(findings, key=lambda f: f.sort_key)), tuple(files))


def exit_code(report: LintReport) -> int:
    """0 clean, 1 findings (a run that could not happen raised LintError: exit 2)."""
    return 1 if report.findings else 0
