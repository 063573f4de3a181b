"""Start-to-first-query time of the docker provider's containers (median of N).

Usage: python bench/docker_start.py [--runs 5] [--only postgres|cassandra]
                                    [--postgres-image IMG] [--cassandra-image IMG]
Each run creates a fresh container through testcontainers, waits for a real query (``SHOW
server_version`` / ``SELECT release_version FROM system.local``) and removes the container. Images
default to the registry-free ones from ``docker/build-local-images``, which must exist already, so
the numbers are container start-up only (PostgreSQL includes initdb, as in the official image).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.servers.docker import DockerCassandra, DockerPostgres, docker_available, image_present


def measure(kind: str, image: str, runs: int) -> list[float]:
    """Seconds from start() to a returned server, one fresh container per run."""
    times: list[float] = []
    for run in range(1, runs + 1):
        server = DockerPostgres(image=image) if kind == "postgres" else DockerCassandra(image=image)
        began = time.monotonic()
        try:
            info = server.start()
            elapsed = time.monotonic() - began
        finally:
            server.stop()
        times.append(elapsed)
        print(f"{kind} run {run}/{runs}: {elapsed:.2f} s ({info.version})", flush=True)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("postgres", "cassandra"))
    parser.add_argument("--postgres-image", default="harness/postgres:15")
    parser.add_argument("--cassandra-image", default="harness/cassandra:5.0")
    args = parser.parse_args()
    if not docker_available():
        print("no Docker engine answers: run .ci/docker-engine", file=sys.stderr)
        return 1
    wanted = [args.only] if args.only else ["postgres", "cassandra"]
    images = {"postgres": args.postgres_image, "cassandra": args.cassandra_image}
    missing = [images[k] for k in wanted if not image_present(images[k])]
    if missing:
        print(f"images missing: {', '.join(missing)}; run docker/build-local-images", file=sys.stderr)
        return 1
    results = {kind: measure(kind, images[kind], args.runs) for kind in wanted}
    print(f"\n{'container':<10} {'image':<24} {'median s':>9} {'min s':>7} {'max s':>7}  runs")
    for kind, times in results.items():
        print(
            f"{kind:<10} {images[kind]:<24} {statistics.median(times):>9.2f} {min(times):>7.2f} "
            f"{max(times):>7.2f}  {len(times)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
