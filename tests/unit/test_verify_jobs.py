"""How many checks `harness verify` runs at once, and in which order it hands them out."""

from __future__ import annotations

import os

import pytest

from harness.checks.registry import CHECKS
from harness.errors import ConfigError
from harness.verify.workers import ORDER, _rank, jobs


def test_zero_means_one_more_than_the_cores_but_never_more_than_the_checks():
    cores = len(os.sched_getaffinity(0))
    assert jobs(0, 100) == cores + 1
    assert jobs(0, 2) == min(2, cores + 1)


def test_a_given_number_is_kept_within_one_and_the_checks():
    assert jobs(1, 7) == 1
    assert jobs(3, 7) == 3
    assert jobs(12, 7) == 7


def test_a_negative_number_is_refused_naming_the_setting():
    with pytest.raises(ConfigError, match="verify_jobs"):
        jobs(-1, 7)


def test_every_database_check_has_a_place_in_the_order_and_the_lint_has_none():
    with_databases = [c.name for c in CHECKS if c.phase != "lint"]
    assert sorted(ORDER) == sorted(with_databases)
    assert sorted(CHECKS, key=_rank)[0].name == "roundtrip-cassandra"
