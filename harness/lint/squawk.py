"""PostgreSQL rules by Squawk (the `squawk` binary of the squawk-cli package): we run it, never re-implement it.

Each up section becomes one input for Squawk with every other line of the file blanked, so Squawk's
0-based line numbers are the file's lines minus one, and a down section (which drops what the up made,
by design) is never linted. The file's header comments (above `-- migrate:up`) are kept, so a
`-- squawk-ignore-file` there still works. dbmate runs a section in a transaction unless it says
`transaction:false`; Squawk learns that through `--assume-in-transaction` / `--no-assume-in-transaction`
(the flag overrides the config file's `assume_in_transaction`: the file's own option is the truth).
The inputs are written to a temporary directory and Squawk runs once per transaction mode over all of
them: one process per section costs a few milliseconds each, which made 300 files take about a second
(`bench/lint.py`). Squawk's output columns are bytes; findings carry character columns.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.lint.model import LintError, LintFinding
from harness.migrations import Migration, Section

__all__ = ["CONFIG_NAME", "INSTALL_HINT", "SquawkSetup", "check_postgres", "find_config", "locate_squawk", "setup"]

CONFIG_NAME = ".squawk.toml"  # the only name Squawk itself reads
INSTALL_HINT = (
    "install it with the harness's lint extra (pip install 'migrations-harness[lint]'; the verify extra has it too), "
    "which ships Squawk's binary (package squawk-cli)"
)
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+){0,2}$")


@dataclass(frozen=True)
class SquawkSetup:
    """How to call Squawk: the binary, the config passed with --config, the PostgreSQL version, skipped paths."""

    binary: Path
    config: Path | None = None
    pg_version: str | None = None
    excluded_paths: tuple[str, ...] = ()


def locate_squawk(explicit: Path | None = None, *, python: str | None = None, path: str | None = None) -> Path:
    """`explicit`, else the `squawk` beside the running interpreter (its venv's bin), else PATH (`path` if given)."""
    if explicit is not None:
        if explicit.is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise LintError(f"{explicit}: no executable Squawk binary there: give the right path, or {INSTALL_HINT}")
    beside = Path(python or sys.executable).parent
    found = shutil.which("squawk", path=str(beside)) or shutil.which("squawk", path=path)
    if found:
        return Path(found)
    raise LintError(f"squawk not found (looked in {beside} and on PATH): {INSTALL_HINT}")


def find_config(start: Path) -> Path | None:
    """The nearest `.squawk.toml` in `start` or above it, as Squawk finds it from its working directory."""
    for directory in (start.resolve(), *start.resolve().parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def _excluded_paths(config: Path) -> tuple[str, ...]:
    """The config's `excluded_paths`: Squawk applies them to path arguments only, and we feed it stdin."""
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LintError(f"{config}: cannot read Squawk's config: {exc}") from None
    patterns = data.get("excluded_paths", [])
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise LintError(f"{config}: excluded_paths must be a list of strings (glob patterns)")
    return tuple(patterns)


def setup(
    postgres_dir: Path,
    *,
    binary: Path | None = None,
    config: Path | None = None,
    pg_version: str | None = None,
) -> SquawkSetup:
    """Resolve everything Squawk needs once per run; any problem is a LintError (the lint cannot run)."""
    if pg_version is not None:
        if not _VERSION.match(pg_version):
            raise LintError(f"PostgreSQL version {pg_version!r} is not a version: write it as 16 or 16.4")
        if "." not in pg_version:
            pg_version += ".0"  # Squawk reads "11" as lower than "11.0"
    if config is not None and not config.is_file():
        raise LintError(f"{config}: Squawk config file not found")
    config = config or find_config(postgres_dir)
    excluded = _excluded_paths(config) if config else ()
    return SquawkSetup(locate_squawk(binary), config, pg_version, excluded)


def _skipped(s: SquawkSetup, path: Path) -> bool:
    names = [path.name, path.as_posix()]
    if s.config and path.resolve().is_relative_to(s.config.parent.resolve()):
        names.append(path.resolve().relative_to(s.config.parent.resolve()).as_posix())
    return any(fnmatch.fnmatch(name, pattern) for pattern in s.excluded_paths for name in names)


def squawk_input(text: str, section: Section, first_up_line: int) -> str:
    """The file's header and this section's lines, everything else blank: Squawk's line n is file line n+1."""
    lines = text.split("\n")
    kept = [line if number < first_up_line - 1 else "" for number, line in enumerate(lines[: section.line - 1], 1)]
    return "\n".join([*kept, section.text]) if kept else section.text


def _column(line: str, byte_column: int) -> int:
    return len(line.encode("utf-8")[:byte_column].decode("utf-8", "ignore")) + 1


def _finding(path: Path, lines: Sequence[str], item: dict[str, Any]) -> LintFinding:
    rule = str(item["rule_name"])
    line0 = int(item["line"])
    fix = item.get("help") or (
        "correct the SQL syntax" if rule == "syntax-error" else f"see https://squawkhq.com/docs/{rule}"
    )
    return LintFinding(
        path=path,
        line=line0 + 1,
        rule=rule,
        message=str(item["message"]),
        fix=str(fix),
        source="squawk",
        level="error" if item.get("level") == "Error" else "warning",
        column=_column(lines[line0], int(item["column"])) if line0 < len(lines) else None,
    )


@dataclass(frozen=True)
class _Job:
    migration: Migration
    section: Section
    source: str


def _squawk(s: SquawkSetup, paths: Sequence[Path], transaction: bool, cwd: Path) -> list[dict[str, Any]]:
    """Squawk's JSON findings for `paths`; LintError when it did not lint (exit 1 is also its config error)."""
    args = [str(s.binary), "--reporter", "json"]
    args.append("--assume-in-transaction" if transaction else "--no-assume-in-transaction")
    if s.config:
        args += ["--config", str(s.config)]
    if s.pg_version:
        args += ["--pg-version", s.pg_version]
    try:
        done = subprocess.run([*args, *map(str, paths)], capture_output=True, cwd=cwd, check=False)
    except OSError as exc:
        raise LintError(f"cannot run {s.binary}: {exc.strerror}: {INSTALL_HINT}") from None
    try:
        items = json.loads(done.stdout) if done.returncode in (0, 1) else None
    except ValueError:
        items = None
    if not isinstance(items, list):
        detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip() or "no output"
        raise LintError(f"squawk failed (exit {done.returncode}): {detail}")
    return items


def _jobs(migrations: Sequence[Migration], texts: Sequence[str], s: SquawkSetup) -> list[_Job]:
    jobs: list[_Job] = []
    for migration, text in zip(migrations, texts, strict=True):
        if _skipped(s, migration.path):
            continue
        first = migration.ups[0].line
        jobs.extend(_Job(migration, up, squawk_input(text, up, first)) for up in migration.ups if not up.is_empty)
    return jobs


_CHUNK = 400  # files per Squawk process: keeps the command line far below the system's limit


def _scratch() -> str | None:
    """Where Squawk's inputs go: $TMPDIR when set, else RAM-backed /dev/shm where it exists, else the default.

    Creating a few hundred small files on a busy disk cost more than Squawk itself (bench/lint.py).
    """
    shm = Path("/dev/shm")
    if os.environ.get("TMPDIR") or not (shm.is_dir() and os.access(shm, os.W_OK)):
        return None
    return str(shm)


def check_postgres(migrations: Sequence[Migration], texts: Sequence[str], s: SquawkSetup) -> list[LintFinding]:
    """Squawk's findings for every up section of `migrations` (`texts`: their decoded contents)."""
    jobs = _jobs(migrations, texts, s)
    if not jobs:
        return []
    findings: list[LintFinding] = []
    with tempfile.TemporaryDirectory(prefix="harness-lint-", dir=_scratch()) as tmp:
        paths = [Path(tmp) / f"{index}.sql" for index in range(len(jobs))]
        for path, job in zip(paths, jobs, strict=True):
            path.write_bytes(job.source.encode("utf-8"))
        for transaction in (True, False):
            group = [index for index, job in enumerate(jobs) if job.section.transaction == transaction]
            for at in range(0, len(group), _CHUNK):
                chunk = [paths[index] for index in group[at : at + _CHUNK]]
                for item in _squawk(s, chunk, transaction, cwd=jobs[0].migration.path.parent):
                    job = jobs[int(Path(str(item["file"])).stem)]
                    findings.append(_finding(job.migration.path, job.source.split("\n"), item))
    return findings
