"""Waiting for the migration lock, the same way for every store."""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.errors import LockError
from harness.stores.base import Notify


def wait_for_lock(
    try_once: Callable[[], str | None],
    *,
    timeout: float,
    notify: Notify,
    where: str,
    what: str,
    interval: float = 0.2,
) -> None:
    """Call ``try_once`` until it takes the lock (returns None); it returns the holder's description otherwise.

    The first wait is announced once, so a Job's log shows why it is idle; after ``timeout`` seconds a LockError
    says who held the lock and that nothing was applied.
    """
    deadline = time.monotonic() + timeout
    told = False
    while True:
        holder = try_once()
        if holder is None:
            return
        if time.monotonic() > deadline:
            raise LockError(
                f"{where}: the migration lock ({what}) is held by {holder} and was not released within "
                f"{timeout:.0f}s; nothing was applied"
            )
        if not told:
            notify(f"Waiting: the migration lock is held by {holder} ({where})")
            told = True
        time.sleep(interval)
