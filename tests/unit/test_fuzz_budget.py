"""How many examples a fuzz search spends: the profile's budget, and a structural rule's share of it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st

from harness.fuzz.hunt import Problem, hunt, profile_settings, structural_settings


@pytest.mark.parametrize(("profile", "full", "share"), [("dev", 20, 3), ("ci", 150, 15)])
def test_a_structural_rule_gets_a_tenth_of_the_profile_and_at_least_three(profile: str, full: int, share: int):
    config = profile_settings(profile)
    assert config.max_examples == full
    assert structural_settings(config).max_examples == share
    assert structural_settings(config).derandomize == config.derandomize  # everything else is the profile's


def test_a_structural_search_runs_at_most_its_share_of_examples():
    calls: list[int] = []

    def body(example: Any, data: st.DataObject) -> None:
        calls.append(example)

    assert hunt("t", st.integers(), body, structural_settings(profile_settings("ci")), set()) == []
    assert 1 <= len(calls) <= 15


def test_a_database_that_ignores_a_structural_rule_is_still_a_finding_within_the_share():
    def body(example: Any, data: st.DataObject) -> None:
        raise Problem("accepted:t:t_pkey", "PG t(id): a row duplicating t_pkey was accepted", code="fuzz-accepted")

    findings = hunt("PG t unique", st.integers(), body, structural_settings(profile_settings("dev")), set())
    assert [(f.level, f.code, f.message) for f in findings] == [
        ("error", "fuzz-accepted", "PG t(id): a row duplicating t_pkey was accepted")
    ]
