"""Built-in checks any project gets by configuration: roundtrip, data, schema against the contract, fuzzing.

Each check is a plain function over a :class:`Target` (where the migrations, the contract and the databases are) that
raises :class:`CheckFailure` listing every finding at once, and returns the warnings it met. The pytest functions in
:mod:`harness.checks.builtin` and ``harness verify`` both call them.
"""

from __future__ import annotations

from harness.checks.target import CheckFailure, Target

__all__ = ["CheckFailure", "Target"]
