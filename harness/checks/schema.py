"""The live schema, after every migration, against the class diagram (the contract)."""

from __future__ import annotations

from harness import applier
from harness.checks.target import CheckFailure, Target
from harness.schema.compare import Finding, compare
from harness.schema.model import SchemaModel


def migrated_model(target: Target, kind: str) -> SchemaModel:
    """Apply every migration of ``kind`` to the target's fresh database and introspect the result."""
    store = target.store(kind)
    try:
        applier.up(store, target.migrations(kind), lambda _m: None)
        return store.snapshot()
    finally:
        store.close()


def check_schema(target: Target) -> list[str]:
    """Raise CheckFailure listing every error; return the warnings."""
    contract = target.project.contract
    if contract is None:
        return ["no contract configured: the schema was not compared with a class diagram"]
    stores = {c.store for c in contract.classes.values()}
    pg = migrated_model(target, "postgres") if "postgres" in stores else None
    cs = migrated_model(target, "cassandra") if "cassandra" in stores else None
    findings: list[Finding] = compare(contract, pg, cs, strict_links=target.project.strict_links)
    errors = [f.message for f in findings if f.level == "error"]
    warnings = [f.message for f in findings if f.level != "error"]
    if errors:
        name = target.project.contract_path.name if target.project.contract_path else "contract"
        raise CheckFailure(
            f"the schema does not match the contract {name}", [("errors", errors), ("warnings", warnings)]
        )
    return warnings
