"""Each check catches what it exists for: deliberately broken migration sets fail exactly the intended check.

Every set under tests/corpus is the `good` set with one defect, kept as an overlay of the files that differ. A set
is run through every check whose input it changes (the other checks see exactly the `good` set's files, which pass
below); the intended check must fail with the precise message and every other one must pass: no false alarm.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.checks.data import check_data
from harness.checks.fuzz import check_fuzz
from harness.checks.registry import BY_NAME
from harness.checks.roundtrip import check_roundtrip
from harness.checks.schema import check_schema
from harness.checks.target import CheckFailure, Databases, Project, Target
from harness.config import load_settings

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

# set -> {failing check: expected fragment of its message}; "updown" is the roundtrip check (named apart so that
# `pytest -k roundtrip` selects exactly the roundtrip suite). A set fails exactly the checks listed, no other.
EXPECTED: dict[str, dict[str, str]] = {
    "good": {},
    "pg_down_leaves_index": {
        "updown-postgres": "PG 3_index_posts_state.sql: up then down left a difference: index posts_state_idx",
    },
    "cassandra_down_leaves_index": {
        "updown-cassandra": "C 002_index_events_content.cql: up then down left a difference: index events_content_idx",
    },
    "type_drift": {"schema": "PG authors.name: contract string, database integer"},
    "missing_fk": {"schema": 'PG posts -> authors: no foreign key (relation "writes")'},
    "missing_cassandra_column": {"schema": "C events.content: column missing"},
    "narrow_column": {"fuzz-postgres": "PG posts.body"},
    "irreversible": {
        "updown-postgres": "PG 3_backfill_bodies.sql: irreversible (its down section is empty: rolling back is a "
        "no-op)",
    },
    "pg_down_deletes_rows": {  # both see it: the roundtrip's sample row and the data check's generated rows
        "updown-postgres": "PG 3_create_tags.sql: a row of an untouched table did not survive up and down: ",
        "data-postgres": "PG 3_create_tags.sql: after down, posts row (id=1) is gone",
    },
    "pg_up_rewrites_values": {
        "data-postgres": "PG 3_add_author_pseudonyms.sql: after up, authors row (id=1): name was ",
    },
    "pg_down_loses_column": {
        "data-postgres": "PG 3_move_post_bodies.sql: after down, posts row (id=",
    },
    "cassandra_readds_column": {
        "data-cassandra": "C 002_recreate_events_content.cql: after up, events row (author_id=",
    },
}
CHECKS = (
    "lint",
    "updown-postgres",
    "updown-cassandra",
    "data-postgres",
    "data-cassandra",
    "schema",
    "fuzz-postgres",
    "fuzz-cassandra",
)


def _same_as_good(name: str, store: str) -> bool:
    return not (CORPUS / name / store).is_dir()


def materialize(name: str, into: Path) -> Path:
    """The `good` set with the named set's files laid over it."""
    project = into / name
    shutil.copytree(CORPUS / "good", project)
    if name != "good":
        shutil.copytree(CORPUS / name, project, dirs_exist_ok=True)
    return project


def cases() -> list[tuple[str, str]]:
    out = []
    for name in EXPECTED:
        for check in CHECKS:
            store = check.split("-")[-1]
            if name != "good" and store in ("postgres", "cassandra") and _same_as_good(name, store):
                continue
            out.append((name, check))
    return out


def load_project(project: Path, **settings: Any) -> Project:
    """The project as `verify` reads it: its own directories and contract, plus the given settings."""
    flags = {
        "postgres_migrations": project / "postgres",
        "cassandra_migrations": project / "cassandra",
        "contract": project / "README.md",
        **settings,
    }
    return Project.load(load_settings(flags=flags, cwd=project, env={}))


def run_check(check: str, target: Target) -> list[str]:
    if check == "lint":
        return BY_NAME["lint"].run(target)
    if check == "schema":
        return check_schema(target)
    kind, store = check.split("-")
    return {"updown": check_roundtrip, "data": check_data, "fuzz": check_fuzz}[kind](target, store)


@pytest.mark.parametrize(("name", "check"), cases(), ids=[f"{n}:{c}" for n, c in cases()])
def test_a_broken_set_fails_exactly_its_intended_check(name, check, request, tmp_path):
    target_dbs: dict[str, Any] = {}
    if "postgres" in check or check == "schema":
        target_dbs["postgres_url"] = request.getfixturevalue("pg_url")
    if "cassandra" in check or check == "schema":
        target_dbs["cassandra"] = request.getfixturevalue("cassandra_server")
        target_dbs["keyspace"] = request.getfixturevalue("cassandra_keyspace")
    target = Target(load_project(materialize(name, tmp_path)), Databases(**target_dbs))
    expected = EXPECTED[name].get(check)
    if expected is None:
        run_check(check, target)  # must pass: no false alarm
        return
    with pytest.raises(CheckFailure) as failure:
        run_check(check, target)
    assert expected in str(failure.value)


def test_irreversible_is_allowed_up_to_the_minimum_downgrade(pg_url, tmp_path):
    project = load_project(materialize("irreversible", tmp_path), postgres_minimum_downgrade="3")
    notes = check_roundtrip(Target(project, Databases(postgres_url=pg_url)), "postgres")
    assert notes == [
        "PG: 1 down section(s) not checked (irreversible, allowed by the policy); the ups, the rows of untouched "
        "tables and a replay of the whole history were checked"
    ]


def test_irreversible_without_a_policy_names_the_settings_that_would_allow_it(pg_url, tmp_path):
    project = load_project(materialize("irreversible", tmp_path))
    with pytest.raises(CheckFailure) as failure:
        check_roundtrip(Target(project, Databases(postgres_url=pg_url)), "postgres")
    assert "--postgres-minimum-downgrade 3" in str(failure.value) and "--postgres-up-only true" in str(failure.value)


def test_an_up_only_store_is_checked_for_what_still_applies(cassandra_server, cassandra_keyspace, tmp_path):
    project = materialize("good", tmp_path)
    plain = project / "cassandra" / "002_plain.cql"
    plain.write_text("CREATE TABLE tags (name text PRIMARY KEY);\n")  # no markers: up-only, as the seed writes CQL
    loaded = load_project(project, cassandra_up_only=True)
    databases = Databases(cassandra=cassandra_server, keyspace=cassandra_keyspace)
    notes = check_roundtrip(Target(loaded, databases), "cassandra")
    assert any("1 down section(s) not checked" in n for n in notes)


def test_strict_links_turn_the_cross_store_type_mismatch_into_an_error(pg_url, cassandra_server, cassandra_keyspace):
    databases = Databases(postgres_url=pg_url, cassandra=cassandra_server, keyspace=cassandra_keyspace)
    target = Target(load_project(CORPUS / "good", strict_links=True), databases)
    with pytest.raises(CheckFailure) as failure:
        check_schema(target)
    assert "C events.author_id ..> PG authors.id: uuid vs integer" in str(failure.value)


@pytest.mark.parametrize("jobs", ["1", "0"], ids=["one-at-a-time", "all-at-once"])
def test_verify_command_reports_a_finding_and_exits_one(postgres_server, cassandra_server, tmp_path, jobs):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "HARNESS_PG_URL": postgres_server.url,
        "HARNESS_CASSANDRA_HOSTS": ",".join(cassandra_server.contact_points),
        "HARNESS_CASSANDRA_PORT": str(cassandra_server.port),
        "CASSANDRA_LOCAL_DC": cassandra_server.local_datacenter,
    }
    bad = materialize("type_drift", tmp_path)
    cmd = [sys.executable, "-m", "harness.cli", "verify", "--migrations", str(bad), "--contract",
           str(bad / "README.md"), "--verify-jobs", jobs]  # fmt: skip
    result = subprocess.run(
        cmd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "schema     contract    FAILED" in result.stdout
    assert "PG authors.name: contract string, database integer" in result.stdout
    assert "NOT verified: 7 of 8 checks passed" in result.stdout
    assert result.stderr == ""  # nothing from the worker processes lands in the middle of the report


def test_verify_exits_two_when_the_checks_cannot_run(tmp_path):
    project = materialize("good", tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "harness.cli", "verify", "--migrations", str(project), "--contract",
           str(project / "README.md"), "--provider", "external"]  # fmt: skip
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("Error: no postgres server:") and len(result.stderr.splitlines()) == 1


def test_a_diagram_drawn_by_harness_diagram_is_a_contract_that_verify_accepts(
    postgres_server, cassandra_server, tmp_path
):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "HARNESS_PG_URL": postgres_server.url,
        "HARNESS_CASSANDRA_HOSTS": ",".join(cassandra_server.contact_points),
        "HARNESS_CASSANDRA_PORT": str(cassandra_server.port),
    }
    project = materialize("good", tmp_path)
    (project / "README.md").unlink()  # a team without a diagram
    dirs = ["--postgres-migrations", str(project / "postgres"), "--cassandra-migrations", str(project / "cassandra")]
    drawn = subprocess.run([sys.executable, "-m", "harness.cli", "diagram", *dirs], env=env, cwd=project,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout.startswith("```mermaid\nclassDiagram") and "class PG_Posts {" in drawn.stdout
    (project / "DIAGRAM.md").write_text(drawn.stdout)
    verified = subprocess.run(
        [sys.executable, "-m", "harness.cli", "verify", *dirs, "--contract", str(project / "DIAGRAM.md"),
         "--only", "schema"],
        env=env, cwd=project, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified: 1 of 1 checks passed" in verified.stdout
