"""How fast the server providers give a usable database, and what Cassandra costs in memory.

Measured, each on a fresh server per run (median of --runs):
- local PostgreSQL and local Cassandra: seconds from the start request (constructing the provider and calling
  ``start()``) to its return, which happens only after a real query answered (``SHOW server_version`` /
  ``SELECT release_version FROM system.local``); stop time separately;
- Cassandra's peak resident memory (VmHWM of the JVM, read right after it became ready);
- a per-test PostgreSQL database as the pytest plugin makes one: CREATE DATABASE ... TEMPLATE <template holding
  the project's migrations> + connect + first query + DROP DATABASE ... WITH (FORCE) (median of --db-runs);
- docker containers (harness/postgres:15, harness/cassandra:5.0) when an engine answers and the images exist;
- downloads excluded from the above and reported separately: a cold ``fetch_cassandra`` into an empty temporary
  cache dir, and the warm no-op call.

    python -m bench.servers [--runs 5] [--db-runs 50] [--only postgres|cassandra|pertest|fetch|docker ...]
                            [--tmpdir /dev/shm ...] [--empty-maven-repo]

``--tmpdir DIR`` repeats the local-provider sections with the servers' data directories under DIR (for example
tmpfs), next to the default temporary directory, because disk speed dominates CREATE DATABASE on these machines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import BenchError, Row, format_table, loadavg, machine, median, peak_rss_mib, say

CASSANDRA_TARGET = 15.0
POSTGRES_TARGET = 3.0
PERTEST_TARGET_MS = 150.0
DOCKER_IMAGES = {"postgres": "harness/postgres:15", "cassandra": "harness/cassandra:5.0"}
SECTIONS = ("postgres", "cassandra", "pertest", "fetch", "docker")
PROJECT_MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "postgres"


def timed_starts(
    label: str, runs: int, make: Callable[[], Any], after_start: Callable[[Any], float | None] | None = None
) -> tuple[list[float], list[float], list[float]]:
    """Start and stop a fresh server ``runs`` times: (seconds to ready, seconds to stop, extra samples)."""
    ready: list[float] = []
    stops: list[float] = []
    extra: list[float] = []
    for run in range(1, runs + 1):
        began = time.perf_counter()
        node = make()
        try:
            info = node.start()
            ready.append(time.perf_counter() - began)
            if after_start is not None:
                value = after_start(node)
                if value is not None:
                    extra.append(value)
        finally:
            stop_began = time.perf_counter()
            node.stop()
            stops.append(time.perf_counter() - stop_began)
        more = f", peak RSS {extra[-1]:.0f} MiB" if extra and len(extra) == run else ""
        say(
            f"  {label} run {run}/{runs}: ready {ready[-1]:.2f}s, stop {stops[-1]:.2f}s{more} "
            f"({getattr(info, 'version', '')}; load {loadavg()})"
        )
    return ready, stops, extra


def bench_local_postgres(runs: int) -> list[Row]:
    from harness.servers.local_postgres import LocalPostgres

    ready, stops, _ = timed_starts("local postgres", runs, LocalPostgres)
    return [
        Row("local PostgreSQL: start -> first query", tuple(ready), target=POSTGRES_TARGET, note="initdb included"),
        Row("local PostgreSQL: stop (and delete data)", tuple(stops)),
    ]


def bench_local_cassandra(runs: int) -> list[Row]:
    from harness.servers.cassandra_dist import fetch_cassandra
    from harness.servers.cassandra_local import LocalCassandra

    fetch_cassandra(log=say)  # downloads are reported separately; this is the no-op when warm
    stages: list[dict[str, float]] = []

    def rss(node: Any) -> float | None:
        stages.append(dict(node.stage_times))
        return peak_rss_mib(node.pid) if node.pid is not None else None

    ready, stops, peaks = timed_starts("local cassandra", runs, LocalCassandra, rss)
    log_line = [s["tcp"] for s in stages if "tcp" in s]
    rows = [
        Row(
            "local Cassandra: start -> first CQL query",
            tuple(ready),
            target=CASSANDRA_TARGET,
            note="AppCDS archive in use if cached",
        ),
    ]
    if log_line:
        rows.append(Row("local Cassandra: start -> 'listening for CQL clients' log line", tuple(log_line)))
    rows.append(Row("local Cassandra: stop (and delete data)", tuple(stops)))
    if peaks:
        rows.append(
            Row("local Cassandra: JVM peak RSS (VmHWM) when ready", tuple(peaks), unit="MiB", note="heap -Xmx512M")
        )
    return rows


def make_template(admin_url: str, name: str) -> int:
    """A template database holding the project's PostgreSQL migrations, applied by the harness itself."""
    import psycopg

    from harness import applier
    from harness.migrations import discover
    from harness.stores.postgres.store import PostgresStore

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    url = str(psycopg.conninfo.make_conninfo(admin_url, dbname=name))
    migrations = discover(PROJECT_MIGRATIONS, "postgres") if PROJECT_MIGRATIONS.is_dir() else []
    store = PostgresStore(url)
    try:
        applier.up(store, migrations, lambda _m: None)
    finally:
        store.close()
    return len(migrations)


def bench_per_test_database(runs: int) -> list[Row]:
    """The plugin's janitor cycle, step by step, with a fresh admin connection per step as the plugin does."""
    import psycopg
    from psycopg import sql

    from harness.servers.local_postgres import LocalPostgres

    node = LocalPostgres()
    server = node.start()
    totals: list[float] = []
    parts: dict[str, list[float]] = {"create": [], "connect + first query": [], "drop": []}
    try:
        template = "bench_template"
        count = make_template(server.url, template)
        say(f"  per-test database: template with {count} project migrations; {runs} cycles")
        for i in range(runs):
            name = f"bench_t_{i}"
            t0 = time.perf_counter()
            with psycopg.connect(server.url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
                )
            t1 = time.perf_counter()
            url = str(psycopg.conninfo.make_conninfo(server.url, dbname=name))
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
            t2 = time.perf_counter()
            with psycopg.connect(server.url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            t3 = time.perf_counter()
            totals.append((t3 - t0) * 1000)
            for key, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                parts[key].append(value * 1000)
    finally:
        node.stop()
    return [
        Row(
            "per-test PostgreSQL database: create from template + connect + query + drop",
            tuple(totals),
            unit="ms",
            target=PERTEST_TARGET_MS,
            note=f"template = {count} project migrations",
        ),
        *(Row(f"  of which {key}", tuple(values), unit="ms") for key, values in parts.items()),
    ]


def _maven_repo_has(version: str) -> bool:
    return (Path.home() / ".m2" / "repository" / "org" / "apache" / "cassandra" / "cassandra-all" / version).is_dir()


def bench_fetch(runs: int, empty_maven_repo: bool = False) -> list[Row]:
    """One cold fetch into an empty cache dir (not repeated: it is the slow, network-bound step), then warm no-ops.

    ``empty_maven_repo`` also points Maven at an empty local repository (MAVEN_OPTS=-Dmaven.repo.local=...), so
    the cold fetch is a real download from Maven's central repository: opt-in, because it leaves 127.0.0.1.
    """
    from harness.servers.cassandra_dist import CASSANDRA_VERSION, fetch_cassandra

    warm_repo = _maven_repo_has(CASSANDRA_VERSION) and not empty_maven_repo
    cache = Path(tempfile.mkdtemp(prefix="harness-bench-cache-"))
    saved_opts = os.environ.get("MAVEN_OPTS")
    if empty_maven_repo:
        os.environ["MAVEN_OPTS"] = f"{saved_opts or ''} -Dmaven.repo.local={cache / 'm2'}".strip()
    try:
        began = time.perf_counter()
        lib = fetch_cassandra(cache=cache, log=say)
        cold = time.perf_counter() - began
        jars = sum(1 for _ in lib.glob("*.jar"))
        size = sum(p.stat().st_size for p in lib.glob("*.jar")) / 2**20
        warm = []
        for _ in range(runs):
            began = time.perf_counter()
            fetch_cassandra(cache=cache)
            warm.append((time.perf_counter() - began) * 1000)
    finally:
        if empty_maven_repo:
            if saved_opts is None:
                os.environ.pop("MAVEN_OPTS", None)
            else:
                os.environ["MAVEN_OPTS"] = saved_opts
        shutil.rmtree(cache, ignore_errors=True)
    source = (
        "Maven's local repository (~/.m2) already held the artifacts: a copy, no download"
        if warm_repo
        else "downloaded from Maven's central repository"
    )
    return [
        Row(f"fetch_cassandra, cold cache ({jars} jars, {size:.0f} MiB)", (cold,), note=source),
        Row("fetch_cassandra, warm cache (no-op)", tuple(warm), unit="ms"),
    ]


def _java_pid_of_container(node: Any) -> int | None:
    """The host pid of the JVM inside a DockerCassandra container (best effort; None if not found)."""
    try:
        wrapped = node._container._container.get_wrapped_container()
        wrapped.reload()
        todo = [int(wrapped.attrs["State"]["Pid"])]
    except Exception:
        return None
    while todo:
        pid = todo.pop()
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "java":
                return pid
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return None


def bench_docker(runs: int) -> tuple[list[Row], list[str]]:
    from harness.servers.docker import DockerCassandra, DockerPostgres, docker_available, image_present

    if not docker_available():
        return [], ["skipped: docker provider (no Docker engine answers; start one with .ci/docker-engine)"]
    missing = [image for image in DOCKER_IMAGES.values() if not image_present(image)]
    if missing:
        return [], [f"skipped: docker provider (images missing: {', '.join(missing)}; run docker/build-local-images)"]
    ready, stops, _ = timed_starts("docker postgres", runs, lambda: DockerPostgres(image=DOCKER_IMAGES["postgres"]))
    rows = [
        Row(
            f"docker PostgreSQL ({DOCKER_IMAGES['postgres']}): start -> first query",
            tuple(ready),
            target=POSTGRES_TARGET,
            note="container create + initdb",
        ),
        Row("docker PostgreSQL: stop (remove container)", tuple(stops)),
    ]

    def rss(node: Any) -> float | None:
        pid = _java_pid_of_container(node)
        return peak_rss_mib(pid) if pid is not None else None

    ready, stops, peaks = timed_starts(
        "docker cassandra", runs, lambda: DockerCassandra(image=DOCKER_IMAGES["cassandra"]), rss
    )
    rows += [
        Row(
            f"docker Cassandra ({DOCKER_IMAGES['cassandra']}): start -> first CQL query",
            tuple(ready),
            target=CASSANDRA_TARGET,
            note="target is for local; shown for comparison",
        ),
        Row("docker Cassandra: stop (remove container)", tuple(stops)),
    ]
    if peaks:
        rows.append(Row("docker Cassandra: JVM peak RSS (VmHWM) when ready", tuple(peaks), unit="MiB"))
    return rows, []


@contextmanager
def data_under(directory: str | None) -> Iterator[str]:
    """Make the providers' ``tempfile.mkdtemp`` calls land in ``directory`` (None: the system default)."""
    saved = tempfile.tempdir
    tempfile.tempdir = directory
    try:
        yield tempfile.gettempdir()
    finally:
        tempfile.tempdir = saved


def labelled(rows: list[Row], where: str) -> list[Row]:
    """Tag each row with the directory the server kept its data in."""
    return [Row(f"{r.what} [data in {where}]", r.values, r.unit, r.target, r.note) for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="server starts per provider (5)")
    parser.add_argument("--db-runs", type=int, default=50, help="per-test database cycles (50)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument(
        "--empty-maven-repo",
        action="store_true",
        help="fetch: make the cold fetch a real download (empty Maven repository; uses the network)",
    )
    parser.add_argument(
        "--tmpdir",
        action="append",
        default=[],
        help="also measure the local providers with their data under this directory (repeatable)",
    )
    args = parser.parse_args(argv)
    wanted = args.only or list(SECTIONS)
    print(f"## bench.servers ({machine()})\n")
    print(f"Command: `python -m bench.servers {' '.join(argv if argv is not None else sys.argv[1:])}`".rstrip() + "\n")
    rows: list[Row] = []
    notes: list[str] = []
    steps: dict[str, Callable[[], list[Row]]] = {
        "postgres": lambda: bench_local_postgres(args.runs),
        "pertest": lambda: bench_per_test_database(args.db_runs),
        "cassandra": lambda: bench_local_cassandra(args.runs),
        "fetch": lambda: bench_fetch(args.runs, args.empty_maven_repo),
    }
    try:
        for name in SECTIONS:
            if name not in wanted:
                continue
            say(f"{name}: measuring (load {loadavg()})")
            if name == "docker":
                found, skipped = bench_docker(args.runs)
                rows += found
                notes += skipped
            elif name == "fetch":
                rows += steps[name]()
            else:
                for directory in [None, *args.tmpdir]:
                    with data_under(directory) as where:
                        say(f"  data directories under {where}")
                        rows += labelled(steps[name](), where)
            notes.append(f"load average after {name}: {loadavg()}")
    except BenchError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    print(format_table(rows))
    print()
    for note in notes:
        print(f"- {note}")
    for row in rows:
        if row.target is not None:
            say(
                f"{row.what}: median {row.median:.2f} {row.unit} (target <= {row.target:g}) -> "
                f"{'ok' if median(row.values) <= row.target else 'MISSED'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
