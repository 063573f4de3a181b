"""How `harness verify` grows with the history: generated projects of N migrations per store, warm servers.

Each generated migration creates one small table (an id, a text and a timestamp column; PostgreSQL also an index),
with a down that drops it, and the contract names every table, so every check has work per migration. Servers are
started once (`harness servers up`) and given to every run, so the figures are the checks' own cost.

    python -m bench.verify_scale --sizes 10 100 300 [--runs 1] [--only roundtrip-postgres ...]
    python -m bench.verify --scale 10 100 300 [--runs 1]      # the same
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.verify import median_phases, run_verify

TARGET_100_50 = 15.0  # seconds, warm, for 100 PostgreSQL + 50 Cassandra migrations (issue: verify as history grows)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def generate(root: Path, pg: int, cql: int) -> Path:
    """A project with ``pg`` PostgreSQL and ``cql`` Cassandra migrations and a contract naming every table."""
    (root / "postgres").mkdir(parents=True)
    (root / "cassandra").mkdir(parents=True)
    classes: list[str] = []
    for i in range(1, pg + 1):
        name = f"pgitem{i:04d}"
        (root / "postgres" / f"{i:04d}_{name}.sql").write_text(
            f"-- migrate:up\nCREATE TABLE {name} (id integer PRIMARY KEY, label text NOT NULL, at timestamptz);\n"
            f"CREATE INDEX {name}_at_idx ON {name} (at);\n-- migrate:down\nDROP TABLE {name};\n"
        )
        classes.append(f"class PG_{_camel(name)} {{\n  +int id\n  +string label\n  +timestamp at\n}}")
    for i in range(1, cql + 1):
        name = f"citem{i:04d}"
        (root / "cassandra" / f"{i:04d}_{name}.cql").write_text(
            f"-- migrate:up\nCREATE TABLE {name} (id uuid, at timestamp, label text, PRIMARY KEY ((id), at))\n"
            f"  WITH CLUSTERING ORDER BY (at DESC);\n-- migrate:down\nDROP TABLE {name};\n"
        )
        classes.append(f"class C_{_camel(name)} {{\n  +uuid id\n  +timestamp at\n  +string label\n}}")
    diagram = "\n".join(classes)
    (root / "README.md").write_text(f"# generated\n\n```mermaid\nclassDiagram\n{diagram}\n```\n")
    (root / "harness.toml").write_text(
        'postgres_migrations = "postgres"\ncassandra_migrations = "cassandra"\ncontract = "README.md"\n'
        'lint_allow = ["*.sql prefer-bigint-over-int,require-concurrent-index-creation,require-timeout-settings '
        'generated tables for a benchmark"]\n'
    )
    return root


def _servers_up(env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "harness.cli", "servers", "up", "--provider", "local"], env=env,
                         capture_output=True, text=True, timeout=600, check=True)  # fmt: skip
    exported = dict(line.removeprefix("export ").split("=", 1) for line in out.stdout.splitlines())
    return {k: shlex.split(v)[0] for k, v in exported.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 300], help="migrations per store")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", action="append", default=[], metavar="CHECK")
    parser.add_argument("--pg-100-cql-50", action="store_true", help="also the 100 + 50 project against its target")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="harness-scale-") as tmp:
        env = {**os.environ, "XDG_RUNTIME_DIR": f"{tmp}/run"}
        env.update(_servers_up(env))
        try:
            shapes = [(n, n) for n in args.sizes] + ([(100, 50)] if args.pg_100_cql_50 else [])
            for pg, cql in shapes:
                project = generate(Path(tmp) / f"p{pg}_{cql}", pg, cql)
                walls, splits = [], []
                for _ in range(args.runs):
                    started = time.monotonic()
                    _wall, split, verdict = run_verify(env, args.only, cwd=project)
                    walls.append(time.monotonic() - started)
                    splits.append(split)
                phases = ", ".join(f"{k} {v:.1f}s" for k, v in median_phases(splits).items())
                walls.sort()
                target = f" (target <= {TARGET_100_50:.0f}s)" if (pg, cql) == (100, 50) else ""
                print(f"{pg:4d} PG + {cql:4d} C: {walls[len(walls) // 2]:6.1f}s{target}; {phases}; {verdict}",
                      flush=True)  # fmt: skip
        finally:
            subprocess.run([sys.executable, "-m", "harness.cli", "servers", "down"], env=env, timeout=120)
    print(f"load average at end: {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
