"""Long histories: 1,000 PostgreSQL and 300 Cassandra migrations.

``status`` against a database or keyspace that has every migration applied (whole process: start-up, connect,
reading and checksumming every file, reading the whole ledger) has a target of 1 s. ``up`` of all 1,000
PostgreSQL migrations into a fresh database is timed beside dbmate's, interleaved, and compared per file (target:
no more than dbmate's per-file cost). The 300 Cassandra migrations (one table, then mostly rows, every tenth a
column) are applied once to build the keyspace; that time is printed for information.

    python -m bench.history [--runs 5] [--only postgres|cassandra] [--pg-migrations 1000] [--cql-migrations 300]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bench.applier import Contest, PgRig, interleave, pg_url, workdir, write_pg_migrations
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
    say,
    say_verdicts,
)

STATUS_TARGET = 1.0
PER_FILE_TARGET = 1.0  # the harness's per-file cost over dbmate's


def bench_postgres(runs: int, count: int, work: Path) -> list[Row]:
    from harness.servers.local_postgres import LocalPostgres

    migrations = work / "pg"
    write_pg_migrations(migrations, count)
    node = LocalPostgres()
    server = node.start()
    try:
        rig = PgRig(server, migrations, count)
        contest = Contest(("harness", "dbmate"))
        say(f"postgres: up of {count} migrations, harness and dbmate interleaved, {runs} rounds")
        interleave(runs, {"harness": rig.run_harness, "dbmate": rig.run_dbmate}, contest)
        harness, dbmate = contest.samples["harness"], contest.samples["dbmate"]
        per_round = tuple(ratio(h, d) for h, d in zip(harness, dbmate, strict=True))
        env = {"DATABASE_URL": pg_url(server.url, "bench_history"), "DBMATE_MIGRATIONS_DIR": str(migrations)}
        run_measured([rig.harness, "postgres", "up"], env)
        say(f"postgres: status against {count} applied migrations, {runs} runs each")
        status = [run_measured([rig.harness, "postgres", "status"], env) for _ in range(runs)]
        dbmate_status = [run_measured([rig.dbmate, "status"], env) for _ in range(runs)]
        _check_status(status[-1], count)
    finally:
        node.stop()
    ms = 1000 / count
    return [
        Row(f"`harness postgres status`, {count} applied", tuple(m.wall for m in status), target=STATUS_TARGET),
        Row(f"`dbmate status`, {count} applied (for reference)", tuple(m.wall for m in dbmate_status)),
        Row(f"`harness postgres up`, {count} into a fresh database", tuple(harness)),
        Row(f"`dbmate up`, {count} into a fresh database", tuple(dbmate)),
        Row("harness per file", tuple(wall * ms for wall in harness), unit="ms"),
        Row("dbmate per file", tuple(wall * ms for wall in dbmate), unit="ms"),
        Row("harness / dbmate per file (per round)", per_round, unit="x", target=PER_FILE_TARGET,
            note=f"ratio of medians {ratio(median(harness), median(dbmate)):.2f}"),
    ]  # fmt: skip


def _check_status(measured: Measured, count: int) -> None:
    if f"Applied: {count}" not in measured.output or "Pending: 0" not in measured.output:
        tail = "\n".join(measured.output.splitlines()[-4:])
        raise BenchError(f"status does not show {count} applied migrations:\n{tail}")


def write_cql_history(directory: Path, count: int) -> None:
    """One table, then rows, every tenth migration a column: a long history that builds quickly."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "0001_events.cql").write_text("CREATE TABLE events (id int PRIMARY KEY, note text);\n")
    for i in range(2, count + 1):
        body = (
            f"ALTER TABLE events ADD c{i} int;\n"
            if i % 10 == 0
            else f"INSERT INTO events (id, note) VALUES ({i}, 'migration {i}');\n"
        )
        (directory / f"{i:04d}_step.cql").write_text(body)


def bench_cassandra(runs: int, count: int, work: Path) -> list[Row]:
    from harness.servers.cassandra_local import LocalCassandra

    migrations = work / "cql"
    write_cql_history(migrations, count)
    harness = executable("harness")
    node = LocalCassandra()
    server = node.start()
    try:
        env = {
            "CASSANDRA_HOSTS": "127.0.0.1",
            "CASSANDRA_PORT": str(server.port),
            "CASSANDRA_KEYSPACE": "bench_history",
            "HARNESS_CASSANDRA_MIGRATIONS": str(migrations),
        }
        say(f"cassandra: up of {count} migrations (once, to build the keyspace)")
        up = run_measured([harness, "cassandra", "up"], env)
        say(f"cassandra: status against {count} applied migrations, {runs} runs")
        status = [run_measured([harness, "cassandra", "status"], env) for _ in range(runs)]
        _check_status(status[-1], count)
    finally:
        node.stop()
    return [
        Row(f"`harness cassandra status`, {count} applied", tuple(m.wall for m in status), target=STATUS_TARGET),
        Row(f"`harness cassandra up`, {count} into a fresh keyspace (one run)", (up.wall,)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per figure (5)")
    parser.add_argument("--only", choices=("postgres", "cassandra"))
    parser.add_argument("--pg-migrations", type=int, default=1000)
    parser.add_argument("--cql-migrations", type=int, default=300)
    args = parser.parse_args(argv)
    print(f"## bench.history ({machine()})\n")
    print(f"Command: `python -m bench.history {' '.join(argv if argv is not None else sys.argv[1:])}`".rstrip() + "\n")
    sections: list[tuple[str, list[Row]]] = []
    with workdir() as work:
        try:
            if args.only in (None, "postgres"):
                sections.append(("PostgreSQL", bench_postgres(args.runs, args.pg_migrations, work)))
                print(f"### PostgreSQL (load average after: {loadavg()})\n\n{format_table(sections[-1][1])}\n")
            if args.only in (None, "cassandra"):
                sections.append(("Cassandra", bench_cassandra(args.runs, args.cql_migrations, work)))
                print(f"### Cassandra (load average after: {loadavg()})\n\n{format_table(sections[-1][1])}\n")
        except (BenchError, subprocess.SubprocessError) as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 2
    say_verdicts(sections)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
