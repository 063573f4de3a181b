"""Schema-change latency of the local Cassandra node, as configured and with given -D options, side by side.

Every DROP TABLE makes Cassandra recycle its commit log, which flushes every table with unflushed writes (system
tables included), so a DROP costs several times a CREATE. Two nodes run at once; each round times CREATE TABLE,
ALTER TABLE ADD and DROP TABLE on one, then the other, after an LWT insert into a ledger-like table (as the
applier writes between schema changes), so machine load hits both alike.

    python -m bench.cassandra_ddl [--rounds 30] [--other -Dcassandra.size_recorder_interval=300 ...]

``--other`` gives the second node's extra options (default: the two background writers the harness switches off,
switched back on), so the default run shows what switching them off is worth.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Row, format_table, loadavg, machine, say
from harness.servers.cassandra_local import LocalCassandra
from harness.stores.cassandra.conn import connect

WRITERS_ON = ("-Dcassandra.size_recorder_interval=300", "-Dcassandra.sstable_activity_tracking=true")
STATEMENTS = (
    ("CREATE TABLE", "CREATE TABLE b.t{n} (id int PRIMARY KEY, v text)"),
    ("ALTER TABLE ADD", "ALTER TABLE b.t{n} ADD w int"),
    ("DROP TABLE", "DROP TABLE b.t{n}"),
)


def _session(stack: contextlib.ExitStack, properties: tuple[str, ...]) -> Any:
    node = LocalCassandra(workdir=Path(stack.enter_context(tempfile.TemporaryDirectory())), properties=properties)
    stack.callback(node.stop)
    cluster, session = connect(node.start(), agreement_wait=0)
    stack.callback(cluster.shutdown)
    session.execute("CREATE KEYSPACE b WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("CREATE TABLE b.ledger (k int PRIMARY KEY, v text)")
    return session


def _round(session: Any, n: int, times: dict[str, list[float]]) -> None:
    session.execute(f"INSERT INTO b.ledger (k, v) VALUES ({n}, 'x') IF NOT EXISTS")
    for what, text in STATEMENTS:
        began = time.perf_counter()
        session.execute(text.format(n=n))
        times[what].append((time.perf_counter() - began) * 1000)
        if what == "CREATE TABLE":
            session.execute(f"INSERT INTO b.t{n} (id, v) VALUES (1, 'a')")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--other", nargs="*", default=list(WRITERS_ON), help="the second node's extra -D options")
    args = parser.parse_args()
    say(f"{machine()}; load average {loadavg()}")
    variants = {"as configured": (), " ".join(args.other) or "(no options)": tuple(args.other)}
    with contextlib.ExitStack() as stack:
        sessions = {name: _session(stack, props) for name, props in variants.items()}
        times: dict[str, dict[str, list[float]]] = {name: {what: [] for what, _ in STATEMENTS} for name in sessions}
        for n in range(args.rounds):
            for name, session in sessions.items():
                _round(session, n, times[name])
    rows = [
        Row(f"{what}, {name}", tuple(values), unit="ms")
        for name, by_statement in times.items()
        for what, values in by_statement.items()
    ]
    say(format_table(rows))
    say(f"load average {loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
