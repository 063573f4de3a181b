"""Schema layer: one model for both stores, the contract diagram, live introspection and comparison.

Pure modules (model, diff, contract, types, compare) import no database driver; the introspection
modules are imported from their own names so that importing ``harness.schema`` stays driver-free.
"""

from harness.schema.compare import Finding, compare
from harness.schema.contract import (
    Contract,
    ContractClass,
    ContractError,
    Link,
    Member,
    Relation,
    load_contract,
    parse_contract,
)
from harness.schema.diff import diff_models
from harness.schema.model import SchemaModel

__all__ = [
    "Contract",
    "ContractClass",
    "ContractError",
    "Finding",
    "Link",
    "Member",
    "Relation",
    "SchemaModel",
    "compare",
    "diff_models",
    "load_contract",
    "parse_contract",
]
