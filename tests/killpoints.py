"""Run the real CLI and SIGKILL it at one exact point of a migration: ``python -m tests.killpoints SPEC ARGS...``.

SPEC is JSON naming the point. The process kills itself with SIGKILL (the same signal `kill -9` sends: no clean-up,
no `finally`, no lease release) when it reaches the point, so the test needs no timing luck. Nothing of the product
is replaced: the hook wraps one store method, calls it unchanged, and dies before or after it.

Cassandra (``{"store": "cassandra", "when": W, "statement": TEXT}``), around the statement whose text is TEXT:
``before`` it is sent (the ledger says the statements before it are done), ``after`` the server ran it (before
schema agreement and before the ledger records it), ``sent`` a few milliseconds after sending it (the answer not
yet read). PostgreSQL (``{"store": "postgres", "when": W, "section": N}``, N from 1): ``before-section`` (nothing
of it sent), ``before-body`` (a transaction:false section recorded as started, its body not sent) and
``after-body`` (its body ran, its progress not yet recorded).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from typing import Any


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _hook_cassandra(spec: dict[str, Any]) -> None:
    from harness.stores.cassandra.store import CassandraStore

    original = CassandraStore._send
    target, when = spec["statement"], spec["when"]

    def hooked(self: CassandraStore, cql: str, params: Any, timeout: float | None, **kw: Any) -> Any:
        if cql != target:
            return original(self, cql, params, timeout, **kw)
        if when == "before":
            die()
        if when == "sent":
            threading.Timer(0.005, die).start()
        result = original(self, cql, params, timeout, **kw)
        die()
        return result

    setattr(CassandraStore, "_send", hooked)  # noqa: B010  (a method replaced on purpose)


def _hook_postgres(spec: dict[str, Any]) -> None:
    from harness.stores.postgres.store import PostgresStore

    index, when = int(spec["section"]) - 1, spec["when"]
    run_section, execute = PostgresStore._run_section, PostgresStore._execute

    def hooked_section(self: PostgresStore, migration: Any, section: Any, what: str, *rest: Any) -> None:
        if when == "before-section" and what == "up" and rest[1] == index:
            die()
        run_section(self, migration, section, what, *rest)

    def hooked_execute(self: PostgresStore, migration: Any, section: Any, what: str, *rest: Any) -> None:
        mine = what == "up" and migration.ups.index(section) == index
        if mine and when == "before-body":
            die()
        execute(self, migration, section, what, *rest)
        if mine and when == "after-body":
            die()

    setattr(PostgresStore, "_run_section", hooked_section)  # noqa: B010  (a method replaced on purpose)
    setattr(PostgresStore, "_execute", hooked_execute)  # noqa: B010


def main() -> int:
    spec = json.loads(sys.argv[1])
    {"cassandra": _hook_cassandra, "postgres": _hook_postgres}[spec["store"]](spec)
    from harness import cli

    return cli.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
