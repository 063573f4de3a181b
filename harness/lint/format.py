"""The report as text (people, pre-commit), JSON (tools) or GitHub Actions annotations (pull request reviews).

Paths are shown relative to `root` (default: the working directory) when they lie under it, so
annotations land on the right file of the checkout and text output stays short.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, get_args

from harness.lint.model import LintFinding, LintReport

__all__ = ["FORMATS", "Format", "format_report", "summary"]

Format = Literal["text", "json", "github"]
FORMATS: tuple[str, ...] = get_args(Format)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def summary(report: LintReport) -> str:
    """One line: how many files were read and what was found."""
    files = len(report.files)
    if report.clean:
        return f"lint: {files} file{'s' * (files != 1)}, no findings"
    count = len(report.findings)
    with_findings = len({f.path for f in report.findings})
    return f"lint: {count} finding{'s' * (count != 1)} in {with_findings} of {files} file{'s' * (files != 1)}"


def _text(report: LintReport, root: Path) -> str:
    lines: list[str] = []
    for f in report.findings:
        lines.append(f"{_shown(f.path, root)}:{f.line}: {f.rule}: {f.message}")
        lines.append(f"    fix: {f.fix}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _as_dict(f: LintFinding, root: Path) -> dict[str, object]:
    return {
        "path": _shown(f.path, root),
        "line": f.line,
        "column": f.column,
        "rule": f.rule,
        "level": f.level,
        "source": f.source,
        "message": f.message,
        "fix": f.fix,
    }


def _json(report: LintReport, root: Path) -> str:
    data = {
        "files": [_shown(p, root) for p in report.files],
        "findings": [_as_dict(f, root) for f in report.findings],
    }
    return json.dumps(data, indent=2) + "\n"


def _escape_data(text: str) -> str:
    """GitHub's workflow-command escaping of a message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """GitHub's workflow-command escaping of a property value (file, title)."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(report: LintReport, root: Path) -> str:
    lines: list[str] = []
    for f in report.findings:
        where = f"file={_escape_property(_shown(f.path, root))},line={f.line}"
        if f.column is not None:
            where += f",col={f.column}"
        title = _escape_property(f.rule)
        body = _escape_data(f"{f.message}\nfix: {f.fix}")
        lines.append(f"::{f.level} {where},title={title}::{body}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def format_report(report: LintReport, fmt: Format = "text", *, root: Path | None = None) -> str:
    """The whole report in `fmt`, ending with a newline."""
    root = root or Path.cwd()
    if fmt == "text":
        return _text(report, root)
    if fmt == "json":
        return _json(report, root)
    if fmt == "github":
        return _github(report, root)
    raise ValueError(f"unknown lint format {fmt!r}: use one of {', '.join(FORMATS)}")
