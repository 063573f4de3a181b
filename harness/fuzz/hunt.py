"""The hunt loop: hypothesis run from inside, each minimal falsifying example turned into a Finding, then on.

``hunt`` calls an ``@given`` inner function directly; a body raises :class:`Problem` for what it finds.
A problem already reported (same ``key``) passes, so the next run looks for a different one: one call
returns every distinct problem of a body, up to ``MAX_FINDINGS_PER_TEST``.

Profiles: ``dev`` (~20 examples per table and rule, random: each run explores new data) and ``ci``
(~150, derandomized: a merge gate must not pass or fail by luck, and a CI failure replays identically on
a laptop with the same profile). A structural rule (NOT NULL, UNIQUE, a foreign key, a missing Cassandra key
column) gets a tenth of that, at least 3: the row breaking it copies a key, drops a value or invents a parent,
so the database's verdict does not depend on the rest of the row, which the valid rows' search explores with
the whole budget; CHECK rules, whose breaking values vary, keep the whole budget too. Both profiles: no example
database (nothing written in the work tree), no deadline (database latency varies), too_slow / filter_too_much
health checks suppressed (rows rejected by CHECKs we cannot read are filtered out by design).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FailedHealthCheck, Flaky, Unsatisfiable

from harness.errors import ConfigError
from harness.fuzz.compare import first_difference, show
from harness.fuzz.plan import Ref, Row, TablePlan
from harness.fuzz.quiet import driver_random_ignored
from harness.schema.compare import Finding
from harness.schema.model import Table
from harness.stores.base import Rows

_COMMON: dict[str, Any] = {
    "database": None,
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    "verbosity": Verbosity.quiet,
    "report_multiple_bugs": False,
    "print_blob": False,
    "phases": (Phase.explicit, Phase.generate, Phase.shrink),
}
settings.register_profile("harness-dev", max_examples=20, derandomize=False, **_COMMON)
settings.register_profile("harness-ci", max_examples=150, derandomize=True, **_COMMON)
PROFILES = {"dev": "harness-dev", "ci": "harness-ci"}
MAX_FINDINGS_PER_TEST = 12
STRUCTURAL_SHARE, STRUCTURAL_MIN = 10, 3

Body = Callable[[Any, st.DataObject], None]


def profile_settings(profile: str) -> settings:
    """The hypothesis settings of a fuzz profile (``dev`` or ``ci``)."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown fuzz profile {profile!r}; use one of {', '.join(PROFILES)}")
    return settings.get_profile(PROFILES[profile])


def structural_settings(config: settings) -> settings:
    """The profile's settings with a structural rule's share of its examples."""
    return settings(config, max_examples=max(STRUCTURAL_MIN, config.max_examples // STRUCTURAL_SHARE))


class Problem(Exception):
    """One finding from one example; ``key`` names the rule or column so that repeats are recognised."""

    def __init__(self, key: str, message: str, level: str = "error", code: str = "fuzz") -> None:
        super().__init__(message)
        self.key = key
        self.finding = Finding("warning" if level == "warning" else "error", code, message)


@dataclass
class Run:
    """One fuzz run over the tables of one store: what every body needs."""

    rows: Rows
    plans: dict[str, TablePlan]
    tables: dict[str, Table]
    prefix: str  # "PG" / "C": starts every finding
    config: settings
    known: set[str] = field(default_factory=set)

    def hunt(
        self, label: str, strategy: st.SearchStrategy[Any], body: Body, *, structural: bool = False
    ) -> list[Finding]:
        """Search with ``body``; ``structural``: a rule whose verdict does not depend on the row (see above)."""
        config = structural_settings(self.config) if structural else self.config
        return hunt(f"{self.prefix} {label}", strategy, body, config, self.known)

    def compare(self, plan: TablePlan, written: Row, stored: Mapping[str, object]) -> None:
        """Raise a Problem for the first written value that was read back changed."""
        name = first_difference(plan, written, stored)
        if name is None:
            return
        col = plan.column(name)
        raise Problem(
            f"value:{plan.name}.{name}",
            f"{self.prefix} {plan.name}.{name}: a valid {col.describe} ({show(written[name])}) was read back as "
            f"{show(stored.get(name))} ({col.store_type})",
            code="fuzz-changed",
        )


def _find_problem(exc: BaseException) -> Problem | None:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find_problem(inner)
            if found is not None:
                return found
    return None


def hunt(label: str, strategy: st.SearchStrategy[Any], body: Body, config: settings, known: set[str]) -> list[Finding]:
    """Run ``body`` under hypothesis until it passes; each new problem becomes one Finding."""
    found: list[Finding] = []
    for _ in range(MAX_FINDINGS_PER_TEST):

        @settings(config)
        @given(strategy, st.data())
        def prop(example: Any, data: st.DataObject) -> None:
            try:
                body(example, data)
            except Problem as p:
                if p.key not in known:
                    raise

        try:
            with driver_random_ignored():
                prop()
            return found
        except (Unsatisfiable, FailedHealthCheck) as exc:
            msg = f"{label}: no valid example could be generated ({type(exc).__name__}); the fuzz skipped it"
            found.append(Finding("warning", "fuzz-unsatisfiable", msg))
            return found
        except Exception as exc:
            problem = _find_problem(exc)
            if problem is None and isinstance(exc, Flaky):
                msg = f"{label}: a failure did not reproduce ({exc}); the fuzz gave up on it"
                found.append(Finding("warning", "fuzz-flaky", msg[:300]))
                return found
            if problem is None:
                raise
            known.add(problem.key)
            found.append(problem.finding)
    return found


def resolve(row: Row, stored: Mapping[str, list[Row]]) -> Row:
    """Replace each Ref by the referenced parent's stored value."""
    return {k: (stored[v.table][v.index][v.column] if isinstance(v, Ref) else v) for k, v in row.items()}


def unsupported(prefix: str, plans: Iterable[TablePlan]) -> list[Finding]:
    return [
        Finding("warning", "fuzz-unsupported", f"{prefix} {p.name}: not fuzzed: {p.unsupported}")
        for p in plans
        if p.unsupported
    ]
