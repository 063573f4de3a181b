"""The roundtrip and data checks hold the migration lock for their whole walk, not once per applier call: no other
applier slips in between a migration's up and its down, and a Cassandra walk takes its lease once instead of twice
per step (two lightweight transactions each)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest

from harness.checks.data import check_data
from harness.checks.roundtrip import check_roundtrip
from harness.checks.target import Databases, Project, Target
from harness.config import load_settings
from harness.schema.model import SchemaModel
from harness.stores.base import Store
from harness.stores.postgres.store import ADVISORY_LOCK_KEY

EXAMPLE = Path(__file__).parent / "backfill_example"


class ProbingStore:
    """The check's real store; each snapshot (the walk takes them between its applier calls) first asks, from a
    connection of its own, for the advisory lock that dbmate and our applier take."""

    def __init__(self, store: Store, url: str, free: list[bool]) -> None:
        self._store, self._url, self._free = store, url, free

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def snapshot(self) -> SchemaModel:
        with psycopg.connect(self._url, autocommit=True) as other:
            row = other.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()
            self._free.append(bool(row and row[0]))
        return self._store.snapshot()


@dataclass(frozen=True)
class ProbedTarget(Target):
    free: list[bool] = field(default_factory=list)  # one entry per probe: whether the lock was free

    def store(self, store: str) -> Store:
        assert self.databases.postgres_url is not None
        return cast(Store, ProbingStore(super().store(store), self.databases.postgres_url, self.free))


@pytest.mark.postgres
@pytest.mark.parametrize("check", [check_roundtrip, check_data], ids=["updown", "data"])
def test_no_other_applier_takes_the_lock_between_the_steps_of_a_check(
    check: Callable[[Target, str], list[str]], pg_url: str, tmp_path: Path
) -> None:
    copy = tmp_path / "project"
    shutil.copytree(EXAMPLE / "postgres", copy / "postgres")
    project = Project.load(load_settings(flags={"postgres_migrations": copy / "postgres"}, cwd=copy, env={}))
    target = ProbedTarget(project, Databases(postgres_url=pg_url))
    check(target, "postgres")
    assert len(target.free) >= len(project.migrations["postgres"])  # the probe ran between the steps
    assert not any(target.free), f"another session took the lock between steps: {target.free}"
