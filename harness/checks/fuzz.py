"""Generated inserts against the live constraints (the engine lives in :mod:`harness.fuzz.engine`)."""

from __future__ import annotations

from harness.checks.schema import migrated_model
from harness.checks.target import CheckFailure, Target


def check_fuzz(target: Target, kind: str) -> list[str]:
    from harness.fuzz.engine import fuzz

    contract = target.project.contract
    model = migrated_model(target, kind)
    store = target.store(kind)
    try:
        findings = fuzz(store.rows(), model, contract, profile=target.project.fuzz_profile)
    finally:
        store.close()
    errors = [f.message for f in findings if f.level == "error"]
    warnings = [f.message for f in findings if f.level != "error"]
    if errors:
        raise CheckFailure(
            f"fuzzing the {kind} constraints found problems", [("findings", errors), ("warnings", warnings)]
        )
    return warnings
