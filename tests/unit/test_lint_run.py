"""A whole lint run: output formats, exit codes, broken files, and this repository's own migrations."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from harness.config import load_settings
from harness.errors import HarnessError
from harness.lint import (
    RULES,
    LintError,
    LintFailed,
    LintFinding,
    LintReport,
    check_lint,
    exit_code,
    format_report,
    lint,
    run_lint,
)
from harness.lint.cli import main_lint

ROOT = Path(__file__).resolve().parents[2]
TIMEOUTS = "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\n"


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def report(tmp_path: Path) -> LintReport:
    """Two findings in one file, one in another, and a clean file."""
    a, x, b = tmp_path / "db" / "1_a.sql", tmp_path / "c" / "001_x.cql", tmp_path / "c" / "002_b.cql"
    return LintReport(
        findings=(
            LintFinding(a, 4, "changing-column-type", "Changing, a: type", "Add a column.", "squawk", "warning", 19),
            LintFinding(a, 9, "allow-unused", "50% silent\nline two", "Remove it.", "harness"),
            LintFinding(b, 3, "cql-truncate", "TRUNCATE t", "Delete rows.", "harness"),
        ),
        files=(a, x, b),
    )


def test_text_format_is_file_line_rule_message_then_the_fix(report: LintReport, tmp_path: Path) -> None:
    assert format_report(report, "text", root=tmp_path) == (
        "db/1_a.sql:4: changing-column-type: Changing, a: type\n"
        "    fix: Add a column.\n"
        "db/1_a.sql:9: allow-unused: 50% silent\nline two\n"
        "    fix: Remove it.\n"
        "c/002_b.cql:3: cql-truncate: TRUNCATE t\n"
        "    fix: Delete rows.\n"
        "lint: 3 findings in 2 of 3 files\n"
    )


def test_text_format_of_a_clean_run_says_what_was_read(tmp_path: Path) -> None:
    clean = LintReport((), (tmp_path / "1_a.sql",))
    assert format_report(clean, "text", root=tmp_path) == "lint: 1 file, no findings\n"


def test_json_format_lists_files_and_findings(report: LintReport, tmp_path: Path) -> None:
    data = json.loads(format_report(report, "json", root=tmp_path))
    assert data["files"] == ["db/1_a.sql", "c/001_x.cql", "c/002_b.cql"]
    assert data["findings"][0] == {
        "path": "db/1_a.sql",
        "line": 4,
        "column": 19,
        "rule": "changing-column-type",
        "level": "warning",
        "source": "squawk",
        "message": "Changing, a: type",
        "fix": "Add a column.",
    }
    assert [(f["line"], f["column"], f["level"]) for f in data["findings"][1:]] == [
        (9, None, "error"),
        (3, None, "error"),
    ]


def test_github_format_is_one_escaped_annotation_per_finding(report: LintReport, tmp_path: Path) -> None:
    assert format_report(report, "github", root=tmp_path).splitlines() == [
        "::warning file=db/1_a.sql,line=4,col=19,title=changing-column-type::Changing, a: type%0Afix: Add a column.",
        "::error file=db/1_a.sql,line=9,title=allow-unused::50%25 silent%0Aline two%0Afix: Remove it.",
        "::error file=c/002_b.cql,line=3,title=cql-truncate::TRUNCATE t%0Afix: Delete rows.",
        "lint: 3 findings in 2 of 3 files",
    ]


def test_github_format_escapes_property_values(tmp_path: Path) -> None:
    odd = LintReport((LintFinding(tmp_path / "a,b:c.sql", 1, "r", "m", "f", "harness"),), ())
    assert (
        format_report(odd, "github", root=tmp_path).splitlines()[0]
        == "::error file=a%2Cb%3Ac.sql,line=1,title=r::m%0Afix: f"
    )


def test_paths_outside_the_root_are_shown_as_given(report: LintReport, tmp_path: Path) -> None:
    assert format_report(report, "text", root=tmp_path / "elsewhere").startswith(f"{tmp_path}/db/1_a.sql:4: ")


def test_unknown_format_is_refused(report: LintReport) -> None:
    with pytest.raises(ValueError, match="text, json, github"):
        format_report(report, "xml")  # type: ignore[arg-type]


def test_clean_run_exits_0_and_findings_exit_1(tmp_path: Path) -> None:
    write(tmp_path / "pg", "1_ok.sql", "-- migrate:up\nCREATE TABLE t (id bigint PRIMARY KEY);\n-- migrate:down\n")
    write(tmp_path / "c", "001_ok.cql", "CREATE TABLE t (k int PRIMARY KEY);\n")
    out = io.StringIO()
    assert run_lint(tmp_path / "pg", tmp_path / "c", out=out) == 0
    assert out.getvalue() == "lint: 2 files, no findings\n"
    write(tmp_path / "c", "002_drop.cql", "DROP TABLE t;\n")
    out = io.StringIO()
    assert run_lint(tmp_path / "pg", tmp_path / "c", fmt="json", out=out) == 1
    assert [f["rule"] for f in json.loads(out.getvalue())["findings"]] == ["cql-drop-table"]


@pytest.mark.parametrize("what", ["missing", "a file"])
def test_a_directory_that_cannot_be_read_exits_2(tmp_path: Path, what: str) -> None:
    directory = tmp_path / "migrations"
    if what == "a file":
        directory.write_text("not a directory")
    err = io.StringIO()
    assert run_lint(None, directory, out=io.StringIO(), err=err) == 2
    assert err.getvalue().startswith(f"Error: {directory}: migrations directory does not exist")


def test_a_missing_squawk_binary_exits_2_naming_the_extra(tmp_path: Path) -> None:
    write(tmp_path, "1_ok.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n")
    err, out = io.StringIO(), io.StringIO()
    assert run_lint(tmp_path, None, squawk_binary=tmp_path / "missing" / "squawk", out=out, err=err) == 2
    assert "harness[lint]" in err.getvalue() and out.getvalue() == ""


def test_a_file_that_breaks_the_migration_format_is_a_finding_on_its_line(tmp_path: Path) -> None:
    write(tmp_path, "001_ok.cql", "CREATE TABLE t (k int PRIMARY KEY);\n")
    write(tmp_path, "002_bad.cql", "-- migrate:up\nCREATE TABLE u (k int PRIMARY KEY);\n-- Migrate:Down\n")
    report = lint(None, tmp_path)
    assert [(f.path.name, f.line, f.rule) for f in report.findings] == [("002_bad.cql", 3, "migration-file")]
    assert [p.name for p in report.files] == ["001_ok.cql", "002_bad.cql"]
    assert exit_code(report) == 1


def test_findings_are_sorted_by_file_then_line(tmp_path: Path) -> None:
    write(tmp_path, "002_b.cql", "TRUNCATE b;\nDROP TABLE b;\n")
    write(tmp_path, "001_a.cql", "CREATE TABLE a (k int PRIMARY KEY);\n\nDROP TABLE a;\n")
    report = lint(None, tmp_path)
    assert [(f.path.name, f.line) for f in report.findings] == [("001_a.cql", 3), ("002_b.cql", 1), ("002_b.cql", 2)]


def test_no_directory_at_all_lints_nothing() -> None:
    assert exit_code(lint(None, None)) == 0


@pytest.mark.parametrize("base", ["migrations", "tests/corpus/good"])
def test_this_repositorys_migrations_pass_the_lint(base: str) -> None:
    # This repository's applied migrations keep their bytes: their suppressions are in [tool.harness] lint_allow.
    allow = load_settings(cwd=ROOT, env={})["lint_allow"] if base == "migrations" else ()
    report = lint(ROOT / base / "postgres", ROOT / base / "cassandra", allow=allow)
    assert format_report(report, "text", root=ROOT).splitlines()[:-1] == []
    assert len(report.files) == len(list((ROOT / base).glob("*/*.?ql")))


def test_lint_error_is_what_cannot_run_means(tmp_path: Path) -> None:
    with pytest.raises(LintError):
        lint(tmp_path / "nope", None)


def test_pre_commit_hooks_run_the_lint_once_and_status_only_on_request() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"harness-lint", "harness-status"}
    for hook in hooks.values():
        assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
        assert hook["pass_filenames"] is False  # the rules read whole directories, not the changed files
    assert hooks["harness-lint"]["entry"] == "harness lint"
    assert any(dep.startswith("squawk-cli") for dep in hooks["harness-lint"]["additional_dependencies"])
    assert hooks["harness-status"]["entry"] == "harness postgres status --exit-code"
    assert hooks["harness-status"]["stages"] == ["manual"]


def test_readme_lists_every_rule_with_its_reason() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Lint\n") : readme.index("## Tests and CI\n")]
    for rule in RULES:
        assert f"| `{rule.id}` | {rule.why} | {rule.fix} |" in section
    for rule_id in (
        "require-concurrent-index-creation",
        "adding-required-field",
        "changing-column-type",
        "constraint-missing-not-valid",
        "require-lock-timeout",
        "require-statement-timeout",
        "allow-without-reason",
        "allow-unused",
        "migration-file",
    ):
        assert f"`{rule_id}`" in section


def test_check_lint_raises_an_assertion_error_with_the_text_report(tmp_path: Path) -> None:
    write(tmp_path, "001_drop.cql", "DROP TABLE t;\n")
    with pytest.raises(LintFailed) as info:
        check_lint(None, tmp_path, root=tmp_path)
    assert isinstance(info.value, AssertionError)
    assert str(info.value).startswith("001_drop.cql:1: cql-drop-table: DROP TABLE t in an up section")
    assert [f.rule for f in info.value.report.findings] == ["cql-drop-table"]
    write(tmp_path, "001_drop.cql", "-- harness:allow cql-drop-table nothing reads it since release 3\nDROP TABLE t;\n")
    assert check_lint(None, tmp_path).clean


def test_main_lint_reads_directories_version_and_squawk_config_from_settings(tmp_path: Path) -> None:
    write(tmp_path, "harness.toml", 'postgres_migrations = "db"\npg_version = "10"\nsquawk_config = "ci/squawk.toml"\n')
    write(tmp_path / "ci", "squawk.toml", 'excluded_rules = ["require-concurrent-index-creation"]\n')
    add = "ALTER TABLE users ADD COLUMN IF NOT EXISTS flag boolean DEFAULT false;\n"
    index = "CREATE INDEX users_flag_idx ON users (flag);\n"
    write(tmp_path / "db", "1_flag.sql", "-- migrate:up\n" + TIMEOUTS + add + index + "-- migrate:down\n")
    settings = load_settings(env={}, cwd=tmp_path)
    said: list[str] = []
    assert main_lint(settings, "text", said.append) == 1
    assert said[0].splitlines()[0].startswith("db/1_flag.sql:4: adding-field-with-default: ")  # PostgreSQL 10 rules
    assert said[0].splitlines()[-1] == "lint: 1 finding in 1 of 1 file"  # the index rule is excluded by the config


def test_main_lint_without_any_migrations_directory_cannot_run(tmp_path: Path) -> None:
    settings = load_settings(env={}, cwd=tmp_path)
    with pytest.raises(HarnessError):
        main_lint(settings, "text", print)
