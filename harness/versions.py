"""The one ordering of migration versions, shared by the parser, the applier, the stores and the checks.

Versions are the leading digits of a file name, kept as text because dbmate stores text. They compare as
numbers (``9`` before ``10``; ``001`` equals ``1`` in rank, which the parser refuses as a duplicate). A ledger
row written by another tool may hold a non-numeric version: it sorts before every numeric one, then by text,
so it is listed (and never mistaken for the newest applied migration).
"""

from __future__ import annotations


def version_key(version: str) -> tuple[int, int, str]:
    """Sort key: non-numeric versions first (by text), then numeric ones by value, ties by text."""
    if version.isdigit():
        return (1, int(version), version)
    return (0, 0, version)
