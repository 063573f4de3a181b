"""Drift findings and the report from plain data (no database): each kind named, exit codes, text and JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from harness import applier
from harness.cli.parser import build_parser
from harness.drift import DriftReport, Finding, PartResult, contract_findings, ledger_findings, render, schema_findings
from harness.drift.expected import with_search_path
from harness.migrations import Migration, parse_migration
from harness.schema.compare import compare
from harness.schema.contract import parse_contract
from harness.schema.model import Column, Constraint, Enum, Index, SchemaModel, Table
from harness.stores.base import BASELINED, FAILED, AppliedMigration


def migration(version: str, body: str = "SELECT 1;") -> Migration:
    text = f"-- migrate:up\n{body}\n-- migrate:down\n"
    return parse_migration(Path(f"{version}_m{version}.sql"), "postgres", text.encode())


def applied(m: Migration, **fields: object) -> AppliedMigration:
    return AppliedMigration(m.version, checksum=m.checksum, filename=m.filename, **fields)  # type: ignore[arg-type]


def test_ledger_findings_name_every_file_not_applied_failed_edited_and_every_row_without_a_file() -> None:
    ok, base, edited, failed, pending = (migration(v) for v in ("1", "2", "3", "4", "6"))
    ledger = [
        applied(ok),
        applied(base, status=BASELINED),
        dataclasses.replace(applied(edited), checksum="0" * 64),
        applied(failed, status=FAILED, done=0, error="syntax error at or near x"),
        AppliedMigration("5", filename="5_gone.sql"),
    ]
    found = ledger_findings("postgres", applier.plan([ok, base, edited, failed, pending], ledger))
    assert [f.text() for f in found] == [
        "PG 3_m3.sql: applied file edited (checksum differs)",
        "PG 4_m4.sql: failed at section 1: syntax error at or near x (failed)",
        "PG version 5 (5_gone.sql): ledger row without a file",
        "PG 6_m6.sql: not applied (pending)",
    ]
    assert [f.kind for f in found] == ["changed", "failed", "no-file", "pending"]


def test_a_file_older_than_the_newest_applied_one_is_pending_and_says_so() -> None:
    first, second = migration("1"), migration("2")
    (finding,) = ledger_findings("cassandra", applier.plan([first, second], [applied(second)]))
    assert finding.kind == "pending"
    assert finding.text() == "C 1_m1.sql: not applied, and older than the newest applied migration (pending)"


def users(*, extra_column: bool = False, index: bool = True, email_type: str = "text") -> Table:
    columns = [Column("id", "integer", nullable=False, position=1), Column("email", email_type, position=2)]
    if extra_column:
        columns.append(Column("nickname", "text", position=3))
    indexes = (Index("users_email_idx", "users", "btree", ("email",)),) if index else ()
    pk = Constraint("users_pkey", "primary_key", ("id",), definition="PRIMARY KEY (id)")
    return Table("users", tuple(columns), (pk,), indexes)


def test_schema_findings_name_each_extra_missing_and_altered_object() -> None:
    expected = SchemaModel("postgres", tables=(users(),), enums=(Enum("mood", ("ok",)),))
    live = SchemaModel("postgres", tables=(users(extra_column=True, index=False, email_type="varchar(200)"),))
    found = schema_findings("postgres", expected, live)
    assert sorted(f.text() for f in found) == [
        "PG column users.email: type text -> varchar(200) (altered: migrations -> database)",
        "PG column users.nickname: in the database, not in the migrations (extra)",
        "PG enum mood: in the migrations, not in the database (missing)",
        "PG index users_email_idx on users: in the migrations, not in the database (missing)",
    ]
    assert {f.kind for f in found} == {"altered", "extra", "missing"}
    assert schema_findings("postgres", expected, expected) == []


def test_the_keyspace_replication_is_the_deployments_not_drift() -> None:
    table = Table("events", (Column("id", "uuid", nullable=False, kind="partition_key", position=0),))
    fresh = SchemaModel("cassandra", tables=(table,), options=(("replication.class", "SimpleStrategy"),))
    live = dataclasses.replace(fresh, options=(("replication.class", "NetworkTopologyStrategy"),))
    assert schema_findings("cassandra", fresh, live) == []
    dropped = dataclasses.replace(live, tables=())
    assert [f.text() for f in schema_findings("cassandra", fresh, dropped)] == [
        "C table events: in the migrations, not in the database (missing)"
    ]


CONTRACT = """\
```mermaid
classDiagram
class PG_Users {
    +int id
    +string email
}
class C_Events {
    +uuid id
}
C_Events ..> PG_Users : id
```
"""


def test_contract_errors_are_drift_and_warnings_are_only_reported() -> None:
    contract = parse_contract(CONTRACT, path="CONTRACT.md")
    pg = SchemaModel("postgres", tables=(users(extra_column=True),))
    cs = SchemaModel("cassandra", tables=(Table("events", (Column("id", "uuid", kind="partition_key"),)),))
    found = contract_findings(compare(contract, pg, cs))
    part = PartResult("contract", "", tuple(found))
    assert [f.text() for f in part.drift] == ["PG users.nickname: column not in contract"]
    assert [(f.store, f.level) for f in found if f.level == "warning"] == [("", "warning")]
    assert found[-1].text().startswith("C events.id ..> PG users.id: uuid vs integer")


def report(*findings_by_part: tuple[str, str, list[Finding]]) -> DriftReport:
    return DriftReport(
        targets=["postgres 127.0.0.1:5432/app"],
        expected_from=["postgres 15.18 (local)"],
        parts=[PartResult(part, store, tuple(found)) for part, store, found in findings_by_part],
    )


def test_exit_code_is_zero_when_clean_and_one_on_drift() -> None:
    clean = report(("ledger", "postgres", []), ("schema", "postgres", []))
    assert clean.exit_code == 0
    text = render(clean, "text")
    assert "  ledger    postgres   ok\n  schema    postgres   ok\n" in text
    assert text.endswith("no drift: 2 parts checked")
    missing = schema_findings("postgres", SchemaModel("postgres", tables=(users(),)), SchemaModel("postgres"))
    drifted = report(("ledger", "postgres", []), ("schema", "postgres", missing))
    assert drifted.exit_code == 1
    text = render(drifted, "text")
    assert "  schema    postgres   DRIFT (1)\n" in text
    assert "\ndrift:\n  PG table users: in the migrations, not in the database (missing)\n" in text
    assert text.endswith("DRIFT: 1 finding(s) in 1 of 2 parts")


def test_json_report_carries_parts_and_structured_findings() -> None:
    missing = schema_findings("postgres", SchemaModel("postgres", tables=(users(),)), SchemaModel("postgres"))
    data = json.loads(render(report(("schema", "postgres", missing)), "json"))
    assert data["drift"] is True and data["exit_code"] == 1
    (part,) = data["parts"]
    assert part["ok"] is False
    assert part["findings"] == [
        {
            "part": "schema",
            "store": "postgres",
            "kind": "missing",
            "subject": "table users",
            "detail": "in the migrations, not in the database (missing)",
            "level": "error",
            "text": "PG table users: in the migrations, not in the database (missing)",
        }
    ]


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown drift format 'xml'"):
        render(DriftReport(), "xml")


def test_the_expected_database_gets_the_live_urls_search_path() -> None:
    fresh = "postgresql://postgres@127.0.0.1:5433/t_1"
    assert with_search_path(fresh, "postgres://app:pw@db:5432/app?search_path=app,public&sslmode=require") == (
        "postgresql://postgres@127.0.0.1:5433/t_1?search_path=app%2Cpublic"
    )
    assert with_search_path(fresh, "postgres://app@db/app") == fresh
    assert with_search_path(fresh, "host=db dbname=app") == fresh


def test_drift_takes_the_live_targets_the_format_and_where_the_expected_schema_is_built() -> None:
    args = build_parser().parse_args(
        ["drift", "--url", "postgres://db/app", "--hosts", "c1,c2", "--format", "json", "--pg-url", "postgres://x/y"]
    )
    assert (args.url, args.hosts, args.format, args.pg_url) == ("postgres://db/app", "c1,c2", "json", "postgres://x/y")
    assert build_parser().parse_args(["drift"]).format == "text"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["drift", "--format", "xml"])
