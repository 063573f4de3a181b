"""Start-to-first-query time and peak RSS of the local Cassandra provider.

Usage: python -m bench.cassandra_start [--runs 5] [--no-cds] [--heap 512M] [--auth]
Each run starts a fresh node (new work dir), waits for a real CQL answer, reads the JVM's VmHWM from
/proc and stops it. The jars must be fetched already (python -m harness.servers.cassandra_dist), so
the numbers are start-up only. With AppCDS on (default) a first run without an archive writes it.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import peak_rss_mib
from harness.servers.cassandra_local import LocalCassandra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-cds", action="store_true", help="do not use an AppCDS archive")
    parser.add_argument("--heap", default="512M")
    parser.add_argument("--auth", action="store_true", help="PasswordAuthenticator")
    args = parser.parse_args()

    ready: list[float] = []
    rss: list[float] = []
    for run in range(1, args.runs + 1):
        node = LocalCassandra(heap=args.heap, auth=args.auth, cds=not args.no_cds)
        began = time.monotonic()
        try:
            info = node.start()
            elapsed = time.monotonic() - began
            assert node.pid is not None
            peak = peak_rss_mib(node.pid)
        finally:
            stop_began = time.monotonic()
            node.stop()
            stopped = time.monotonic() - stop_began
        ready.append(elapsed)
        rss.append(peak)
        print(
            f"run {run}: ready in {elapsed:5.2f}s  peak RSS {peak:6.0f} MiB  stop {stopped:4.2f}s  "
            f"(Cassandra {info.version}, port {info.port}, stages {node.stage_times})",
            flush=True,
        )
    print(f"median ready: {statistics.median(ready):.2f}s  min {min(ready):.2f}s  max {max(ready):.2f}s")
    print(f"peak RSS: median {statistics.median(rss):.0f} MiB  max {max(rss):.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
