"""The drift report: one line per part checked, then every finding; as text (verify's style) or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.drift.findings import Finding

FORMATS = ("text", "json")
CLEAN, DRIFT = 0, 1


@dataclass(frozen=True)
class PartResult:
    """One part of the check (``ledger`` / ``schema`` of a store, or the ``contract``) and its findings."""

    part: str
    store: str
    findings: tuple[Finding, ...] = ()

    @property
    def drift(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def ok(self) -> bool:
        return not self.drift


@dataclass
class DriftReport:
    """Everything `harness drift` found, and against what (no secrets: stores describe themselves without)."""

    targets: list[str] = field(default_factory=list)
    expected_from: list[str] = field(default_factory=list)
    contract: str | None = None
    parts: list[PartResult] = field(default_factory=list)

    @property
    def drift(self) -> list[Finding]:
        return [f for p in self.parts for f in p.drift]

    @property
    def warnings(self) -> list[Finding]:
        return [f for p in self.parts for f in p.findings if f.level == "warning"]

    @property
    def exit_code(self) -> int:
        return DRIFT if self.drift else CLEAN


def _mark(part: PartResult) -> str:
    if part.ok:
        return "ok" + (f", {len(part.findings)} warning(s)" if part.findings else "")
    return f"DRIFT ({len(part.drift)})"


def format_text(report: DriftReport) -> str:
    lines = [f"harness drift (read-only): {', '.join(report.targets)}"]
    lines.append(f"  expected schema: the migrations applied on {', '.join(report.expected_from) or 'nothing'}")
    lines.append(f"  contract: {report.contract or 'none configured'}")
    for p in report.parts:
        lines.append(f"  {p.part:<9} {p.store or 'all stores':<10} {_mark(p)}")
    if report.drift:
        lines += ["", "drift:"]
        lines += [f"  {f.text()}" for f in report.drift]
    if report.warnings:
        lines += ["", "warnings:"]
        lines += [f"  {f.text()}" for f in report.warnings]
    failing = sum(not p.ok for p in report.parts)
    verdict = (
        f"DRIFT: {len(report.drift)} finding(s) in {failing} of {len(report.parts)} parts"
        if report.drift
        else f"no drift: {len(report.parts)} parts checked"
    )
    return "\n".join([*lines, "", verdict])


def to_json(report: DriftReport) -> dict[str, Any]:
    return {
        "drift": bool(report.drift),
        "exit_code": report.exit_code,
        "targets": report.targets,
        "expected_from": report.expected_from,
        "contract": report.contract,
        "parts": [
            {"part": p.part, "store": p.store, "ok": p.ok, "findings": [f.to_json() for f in p.findings]}
            for p in report.parts
        ],
    }


def render(report: DriftReport, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown drift format {fmt!r}: use one of {', '.join(FORMATS)}")
    return json.dumps(to_json(report), indent=2) if fmt == "json" else format_text(report)
