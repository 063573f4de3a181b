"""The report of `harness verify`: a progress line per check, then times, findings, warnings and a verdict."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Say = Callable[[str], None]
MARKS = {"passed": "ok", "failed": "FAILED", "error": "ERROR"}


@dataclass
class CheckResult:
    name: str
    title: str
    phase: str
    outcome: str = "passed"  # passed | failed | error
    seconds: float = 0.0
    setup_seconds: float = 0.0
    message: str = ""
    notes: list[str] = field(default_factory=list)


def line(result: CheckResult) -> str:
    extra = f", {len(result.notes)} warning(s)" if result.notes else ""
    return f"  {result.title:<22} {MARKS[result.outcome]:<7} {result.seconds:6.1f}s{extra}"


def report(results: list[CheckResult], servers: list[str], started: float, say: Say) -> None:
    say("")
    if servers:
        say(f"servers: {', '.join(servers)}")
    phases: dict[str, float] = {"setup": sum(r.setup_seconds for r in results)}
    for r in results:
        phases[r.phase] = phases.get(r.phase, 0.0) + r.seconds
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in phases.items())
    say(f"time: {timing} (each check's own time, summed per phase; setup: servers, fresh databases)")
    failures = [r for r in results if r.outcome != "passed"]
    notes = [n for r in results for n in r.notes]
    for r in failures:
        say("")
        say(f"{' '.join(r.title.split())} {r.outcome.upper()}:")
        for text_line in r.message.strip().splitlines():
            say(f"  {text_line}")
    if notes:
        say("")
        say("warnings:")
        for n in notes:
            say(f"  - {n}")
    say("")
    verdict = "verified" if not failures and results else "NOT verified"
    say(
        f"{verdict}: {len(results) - len(failures)} of {len(results)} checks passed, {len(notes)} warning(s), "
        f"{time.monotonic() - started:.1f}s"
    )


def write_junit(path: Path, results: list[CheckResult]) -> None:
    """One test case per check, so a CI system shows each check (failures with their findings, warnings as output)."""
    suite = ET.Element(
        "testsuite",
        name="harness verify",
        tests=str(len(results)),
        failures=str(sum(r.outcome == "failed" for r in results)),
        errors=str(sum(r.outcome == "error" for r in results)),
        time=f"{sum(r.seconds + r.setup_seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"harness.{r.phase}", name=r.name,
                             time=f"{r.seconds + r.setup_seconds:.3f}")  # fmt: skip
        if r.outcome != "passed":
            tag = "failure" if r.outcome == "failed" else "error"
            element = ET.SubElement(case, tag, message=(r.message.strip().splitlines() or [""])[0][:200])
            element.text = r.message
        if r.notes:
            ET.SubElement(case, "system-out").text = "\n".join(f"warning: {n}" for n in r.notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = ET.Element("testsuites", name="harness")
    root.append(suite)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
