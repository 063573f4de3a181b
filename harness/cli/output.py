"""What the CLI prints: dbmate's status table, its JSON twin, and one masked `Error:` line."""

from __future__ import annotations

from harness import applier

MARKS = {
    applier.APPLIED: "[X]",
    applier.BASELINED: "[B]",
    applier.PENDING: "[ ]",
    applier.OUT_OF_ORDER: "[ ]",
    applier.CHANGED: "[!]",
    applier.MISSING: "[?]",
    applier.FAILED: "[F]",
}


def format_status(st: applier.Status) -> str:
    """dbmate's status table, with marks for what dbmate cannot see."""
    lines = []
    for e in st.entries:
        name = e.filename or f"{e.version} (no file)"
        note = f"  ({e.state}: {e.detail})" if e.detail else ""
        lines.append(f"{MARKS[e.state]} {name}{note}")
    lines += ["", f"Applied: {len(st.applied)}", f"Pending: {len(st.pending)}"]
    if st.failed:
        lines.append(f"Failed: {len(st.failed)}")
    problems = st.problems()
    if problems:
        lines.append(f"Problems: {len(problems)}")
    return "\n".join(lines)


def status_json(st: applier.Status) -> dict[str, object]:
    return {
        "applied": len(st.applied),
        "pending": len(st.pending),
        "failed": len(st.failed),
        "migrations": [
            {
                "version": e.version,
                "file": e.filename,
                "state": e.state,
                "applied_at": e.applied_at.isoformat() if e.applied_at else None,
                "detail": e.detail or None,
            }
            for e in st.entries
        ],
    }
