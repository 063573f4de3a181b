"""`harness drift`: is the live database still what the migrations made it? Read-only, for in-cluster checks.

Three parts, each finding naming one object: the ledger against the files (pending, failed, edited
after applying, a row without a file), the live schema against the schema the migrations build on a throwaway
database (extra, missing, altered), and the live schema against the contract when one is configured.
"""

from harness.drift.findings import Finding, contract_findings, ledger_findings, schema_findings
from harness.drift.report import DriftReport, PartResult, format_text, render, to_json
from harness.drift.run import check_drift, main_drift

__all__ = [
    "DriftReport",
    "Finding",
    "PartResult",
    "check_drift",
    "contract_findings",
    "format_text",
    "ledger_findings",
    "main_drift",
    "render",
    "schema_findings",
    "to_json",
]
