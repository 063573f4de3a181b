"""The report of `harness verify`: JUnit XML for CI systems, and the lint phase that needs no database."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.verify.report import CheckResult, write_junit

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def test_junit_xml_has_one_test_case_per_check_with_failures_errors_and_warnings(tmp_path: Path) -> None:
    results = [
        CheckResult("lint", "lint       migrations", "lint", seconds=0.2),
        CheckResult("schema", "schema     contract", "schema", "failed", 1.5, 0.5, "title\nfindings:\n  - PG a.b"),
        CheckResult("fuzz-postgres", "fuzz       postgres", "fuzz", "error", 0.1, message="no postgres server"),
        CheckResult("roundtrip-postgres", "roundtrip  postgres", "roundtrip", notes=["PG: a warning"]),
    ]
    path = tmp_path / "out" / "verify.xml"
    write_junit(path, results)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "4"
    assert (suite.get("failures"), suite.get("errors")) == ("1", "1")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["lint", "schema", "fuzz-postgres", "roundtrip-postgres"]
    failure = cases["schema"].find("failure")
    assert failure is not None and failure.get("message") == "title" and "PG a.b" in (failure.text or "")
    assert cases["fuzz-postgres"].find("error") is not None
    out = cases["roundtrip-postgres"].find("system-out")
    assert out is not None and out.text == "warning: PG: a warning"
    assert cases["lint"].get("time") == "0.200"


def test_verify_runs_the_lint_first_without_a_database_and_writes_junit(tmp_path: Path) -> None:
    project = tmp_path / "good"
    shutil.copytree(CORPUS / "good", project)
    junit = tmp_path / "verify.xml"
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "verify", "--only", "lint", "--junitxml", str(junit),
         "--postgres-migrations", str(project / "postgres"), "--cassandra-migrations", str(project / "cassandra"),
         "--contract", str(project / "README.md")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "  lint       migrations  ok" in result.stdout and "starting databases" not in result.stdout
    assert ET.parse(junit).getroot().find("testsuite/testcase[@name='lint']") is not None


def test_a_lint_finding_fails_verify_with_exit_one_naming_file_line_and_rule(tmp_path: Path) -> None:
    project = tmp_path / "good"
    shutil.copytree(CORPUS / "good", project)
    (project / "cassandra" / "002_filter.cql").write_text("SELECT * FROM events WHERE content = 'x' ALLOW FILTERING;\n")
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "verify", "--only", "lint",
         "--postgres-migrations", str(project / "postgres"), "--cassandra-migrations", str(project / "cassandra"),
         "--contract", str(project / "README.md")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "002_filter.cql:1: cql-allow-filtering" in result.stdout and "NOT verified" in result.stdout
