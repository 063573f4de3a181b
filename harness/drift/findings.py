"""Drift findings from plain data: the ledger's plan, two schema models, the contract's findings (pure).

Every finding names one object (a file, a ledger version, a table, column, index, constraint or type) and says
what kind of drift it is, so a reader can act on each line without looking anything up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from harness import applier
from harness.registry import store_kind
from harness.schema.compare import Finding as ContractFinding
from harness.schema.diff import diff_models
from harness.schema.model import SchemaModel

Part = Literal["ledger", "schema", "contract"]
Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One difference. ``store`` is empty for a contract finding that spans both stores (a ``..>`` link)."""

    part: Part
    store: str
    kind: str
    subject: str
    detail: str
    level: Level = "error"

    @property
    def prefix(self) -> str:
        return store_kind(self.store).prefix if self.store else ""

    def text(self) -> str:
        """``PG column users.nickname: in the database, not in the migrations (extra)``."""
        return f"{f'{self.prefix} {self.subject}'.strip()}: {self.detail}"

    def to_json(self) -> dict[str, str]:
        return {**dataclasses.asdict(self), "text": self.text()}


# -- ledger ----------------------------------------------------------------------------------------------

_LEDGER_DETAIL = {
    applier.PENDING: "not applied (pending)",
    applier.OUT_OF_ORDER: "not applied, and older than the newest applied migration (pending)",
    applier.CHANGED: "applied file edited (checksum differs)",
    applier.MISSING: "ledger row without a file",
}
_LEDGER_KIND = {applier.OUT_OF_ORDER: applier.PENDING, applier.MISSING: "no-file"}


def ledger_findings(store: str, status: applier.Status) -> list[Finding]:
    """Every file not applied, failed or edited after it was applied, and every ledger row without a file.

    Baselined rows are fine: another tool ran them and the ledger says so.
    """
    out: list[Finding] = []
    for entry in status.entries:
        if entry.state in (applier.APPLIED, applier.BASELINED):
            continue
        if entry.state == applier.MISSING:
            subject = f"version {entry.version}" + (f" ({entry.filename})" if entry.filename else "")
        else:
            subject = entry.filename or f"version {entry.version}"
        detail = f"{entry.detail} (failed)" if entry.state == applier.FAILED else _LEDGER_DETAIL[entry.state]
        out.append(Finding("ledger", store, _LEDGER_KIND.get(entry.state, entry.state), subject, detail))
    return out


# -- schema ----------------------------------------------------------------------------------------------

# The two fixed endings of diff_models' lines for an object on one side only (before = the migrations' schema).
_ONLY_LIVE = ": present after, absent before"
_ONLY_EXPECTED = ": absent after"


def without_keyspace_options(model: SchemaModel) -> SchemaModel:
    """The model without its schema-wide options: on Cassandra the keyspace's replication and durable_writes,
    which the deployment sets (CASSANDRA_REPLICATION), not the migrations; PostgreSQL has none."""
    return dataclasses.replace(model, options=())


def schema_findings(store: str, expected: SchemaModel, live: SchemaModel) -> list[Finding]:
    """Every difference between the schema the migrations build and the live one, one finding per object."""
    lines = diff_models(without_keyspace_options(expected), without_keyspace_options(live))
    return [_schema_finding(store, line) for line in lines]


def _schema_finding(store: str, line: str) -> Finding:
    if line.endswith(_ONLY_LIVE):
        subject, kind, detail = line[: -len(_ONLY_LIVE)], "extra", "in the database, not in the migrations (extra)"
    elif line.endswith(_ONLY_EXPECTED):
        subject, kind = line[: -len(_ONLY_EXPECTED)], "missing"
        detail = "in the migrations, not in the database (missing)"
    else:
        subject, _, change = line.partition(": ")  # "column users.age: type integer -> text"
        kind, detail = "altered", f"{change} (altered: migrations -> database)"
    return Finding("schema", store, kind, subject, detail)


# -- contract --------------------------------------------------------------------------------------------


def contract_findings(findings: Iterable[ContractFinding]) -> list[Finding]:
    """The contract's findings on the live models; errors are drift, warnings (an extra table) are reported."""
    prefixes = {store_kind(name).prefix: name for name in ("postgres", "cassandra")}
    out: list[Finding] = []
    for f in findings:
        head, _, detail = f.message.partition(": ")
        prefix, _, subject = head.partition(" ")
        store = prefixes.get(prefix, "")
        if not store or ".." in subject:  # a link between stores, or a relation: the whole message is its name
            store, subject = "", head
        out.append(Finding("contract", store, f.code, subject, detail, f.level))
    return out
