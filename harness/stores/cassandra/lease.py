"""The migration lock on Cassandra: a lease row written with a lightweight transaction and a TTL, renewed.

Cassandra has no sessions to hang a lock on, so the lock is a row that expires unless renewed. Two things make it
safe to rely on:
- it cannot be lost quietly: the lease counts as lost as soon as the last successful renewal is older than two
  thirds of the TTL (before it can actually expire), each renewal times out well under a third of the TTL, and the
  applier checks the lease before every statement and every ledger write;
- a dead holder does not block for a whole TTL: the owner names host and pid, so a holder on this host whose process
  is gone is taken over at once.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from harness.errors import ConfigError, LockError, StoreError
from harness.pids import pid_alive
from harness.stores.base import Notify
from harness.stores.lockwait import wait_for_lock

LOCK_TABLE = "schema_migrations_lock"
LOCK_NAME = "migrations"


class UncertainWrite(StoreError):
    """A lightweight transaction whose outcome the coordinator could not tell (contention, a replica too slow)."""


def new_owner() -> str:
    """``host:pid:random``: unique, and enough to tell whether the holder is a dead process on this host."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4()}"


def holder_is_dead(owner: str, host: str | None = None) -> bool:
    """True only when provably dead: the holder ran on this host and its process no longer exists."""
    parts = owner.split(":")
    if len(parts) < 3 or not parts[1].isdigit():
        return False
    return parts[0] == (host or socket.gethostname()) and not pid_alive(int(parts[1]))


class Lease:
    """One applier's lease on a keyspace. ``execute(cql, params, timeout, serial=False)`` runs a statement at
    QUORUM (its conditions at SERIAL), a read at SERIAL when ``serial``; it raises UncertainWrite for a lightweight
    transaction whose outcome is unknown."""

    def __init__(
        self,
        execute: Callable[..., Any],
        table: str,
        *,
        ttl: int,
        timeout: float,
        describe: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl < 3:
            raise ConfigError(f"--lock-ttl {ttl}: the lease must last at least 3 seconds (it is renewed every third)")
        self._execute = execute
        self.table = table
        self.ttl = ttl
        self.timeout = timeout
        self.describe = describe
        self.owner = new_owner()
        self._clock = clock
        self._renewed_at: float | None = None
        self._attempt_started = 0.0  # when the latest attempt to take the lease was sent
        self._lost = threading.Event()

    # -- state ------------------------------------------------------------------------------------------

    @property
    def held(self) -> bool:
        """Whether the lease is ours right now (never True once a renewal failed or came too late)."""
        if self._renewed_at is None or self._lost.is_set():
            return False
        if self._clock() - self._renewed_at > self.ttl * 2 / 3:
            self._lost.set()
        return not self._lost.is_set()

    def check(self, before: str) -> None:
        """Raise LockError unless the lease is held; ``before`` says what was about to happen."""
        if not self.held:
            raise LockError(
                f"{self.describe}: lost the migration lock before {before} (its last renewal is older than "
                f"{self.ttl * 2 / 3:.0f}s of its {self.ttl}s lease); stopped so that no second applier runs at the "
                "same time; run up again to continue"
            )

    # -- taking and keeping it --------------------------------------------------------------------------

    def _try_once(self) -> str | None:
        """None once the lease is ours; else who holds it. Under contention a Paxos round can end with its outcome
        unknown: the row is then read at SERIAL (which completes any round in progress) to see whose it is."""
        try:
            return self._try_insert()
        except UncertainWrite:
            pass
        try:
            row = self._execute(f"SELECT owner FROM {self.table} WHERE name = %s", (LOCK_NAME,), None, serial=True)
        except UncertainWrite:  # a serial read runs a Paxos round of its own, which contention can leave open too
            return "nobody yet (contended attempts; trying again)"
        owner = row.one()
        if owner is not None and owner[0] == self.owner:  # taken by one of our attempts, maybe an earlier one
            return None if self._renew_once() else "this applier's earlier attempt (renewing it failed; trying again)"
        return f"{owner[0]} (contended)" if owner is not None else "nobody yet (contended attempts; trying again)"

    def _insert_if_free(self) -> Any:
        """The lightweight transaction that takes a free lease: its row says whether it applied, and who holds it."""
        self._attempt_started = self._clock()
        return self._execute(
            f"INSERT INTO {self.table} (name, owner, acquired_at) VALUES (%s, %s, toTimestamp(now()))"
            f" IF NOT EXISTS USING TTL {self.ttl}",
            (LOCK_NAME, self.owner),
            None,
        ).one()

    def _try_insert(self) -> str | None:
        row = self._insert_if_free()
        if row[0]:
            self._renewed_at = self._attempt_started  # the TTL runs from the write, not from its answer
            return None
        holder = str(row.owner)
        if holder == self.owner:  # an earlier attempt of ours, whose outcome was unknown, took it: renew it now
            return None if self._renew_once() else "this applier's earlier attempt (renewing it failed; trying again)"
        if holder_is_dead(holder):
            self._execute(f"DELETE FROM {self.table} WHERE name = %s IF owner = %s", (LOCK_NAME, holder), None)
            return self._try_once_after_takeover(holder)
        return f"{holder} ({self._left(holder)})"

    def _left(self, holder: str) -> str:
        """How long the holder's lease still runs unless renewed: the wait ahead if the holder is gone."""
        try:
            row = self._execute(f"SELECT owner, TTL(owner) FROM {self.table} WHERE name = %s", (LOCK_NAME,), None).one()
        except StoreError:  # only the wording of the wait depends on it
            return "its lease's time left unknown"
        if row is None or row[0] != holder or row[1] is None:
            return "its lease just ended"
        return f"its lease runs out in {row[1]}s unless renewed"

    def _try_once_after_takeover(self, holder: str) -> str | None:
        row = self._insert_if_free()
        if row[0]:
            self._renewed_at = self._attempt_started  # the TTL runs from the write, not from its answer
            return None
        return f"{row.owner} (taken over from the dead holder {holder} by another applier)"

    def _renew_once(self) -> bool:
        """One renewal; True if it succeeded in time. Every cell carries its own TTL: rewrite owner too."""
        started = self._clock()
        try:
            row = self._execute(
                f"UPDATE {self.table} USING TTL {self.ttl} SET owner = %s, acquired_at = toTimestamp(now()) "
                "WHERE name = %s IF owner = %s",
                (self.owner, LOCK_NAME, self.owner),
                self.ttl / 4,
            ).one()
        except Exception:  # a timeout or an unavailable replica: not renewed; `held` decides when it is lost
            return False
        if not row[0]:
            self._lost.set()  # someone else holds it now
            return False
        self._renewed_at = started
        return True

    def _renew_loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.ttl / 3) and not self._lost.is_set():
            self._renew_once()

    @contextmanager
    def hold(self, notify: Notify) -> Iterator[None]:
        """Take the lease (waiting up to ``timeout``), keep it renewed, release it at the end."""
        wait_for_lock(self._try_once, timeout=self.timeout, notify=notify, where=self.describe, what="lease",
                      interval=0.25)  # fmt: skip
        self._lost.clear()
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew_loop, args=(stop,), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self._renewed_at = None
            # The lease expires by itself: never hide the real error behind a failed release.
            with contextlib.suppress(Exception):
                self._execute(f"DELETE FROM {self.table} WHERE name = %s IF owner = %s", (LOCK_NAME, self.owner), None)
