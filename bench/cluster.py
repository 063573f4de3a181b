"""How fast a local Cassandra cluster is ready, and what its nodes cost in memory and CPU.

One sample: construct ``LocalCassandraCluster`` and call ``start()`` until it returns, which is only after
every node answers CQL, lists every other node in ``system.peers_v2``, sees them all NORMAL and UP, and all
agree on one schema version; then the summed peak RSS (VmHWM) and CPU seconds (user + system) of all node
JVMs right then; then ``stop()`` (timed too). Variants run interleaved, round by round, so a burst of load on
this shared machine hits them all alike; a first warm-up round is discarded (it may write an AppCDS archive).

    python -m bench.cluster [--runs 5] [--nodes 3] [--dcs dc1:2,dc2:1] [--variants default sequential ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import BenchError, Row, format_table, loadavg, machine, median, say

TARGET = 10.0  # seconds to a ready 3-node cluster on these 2-core machines
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "sequential": {"together": False},
    "no-cds": {"cds": False},
    "single-node-cds": {"cds_tag": ""},
    "heap-384M": {"heap": "384M"},
    "one-compiler-thread": {"extra_flags": ("-XX:CICompilerCount=1",)},
    "no-mbeans": {"extra_flags": ("-Dorg.apache.cassandra.disable_mbean_registration=true",)},
    "shadow-round": {"skip_shadow_round": False},
    "one-seed": {"all_seeds": False},
}


@dataclass
class Samples:
    ready: list[float] = field(default_factory=list)
    stop: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    all_listening: list[float] = field(default_factory=list)


def jvm_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_start(nodes: int, dcs: str | None, options: dict[str, Any], samples: Samples | None) -> str:
    """Start and stop one cluster; record into ``samples`` (None: a warm-up run). Returns a progress line."""
    from harness.servers.cassandra_cluster import LocalCassandraCluster

    began = time.perf_counter()
    cluster = LocalCassandraCluster(nodes=nodes, dcs=dcs, **options)
    try:
        cluster.start()
        ready = time.perf_counter() - began
        rss = cluster.peak_rss_mib() or 0.0
        cpu = sum(jvm_cpu_seconds(node.pid) for node in cluster.node_processes())
        listening = max(v for k, v in cluster.stage_times.items() if k.endswith("listening"))
    finally:
        stop_began = time.perf_counter()
        cluster.stop()
        stopped = time.perf_counter() - stop_began
    if samples is not None:
        samples.ready.append(ready)
        samples.stop.append(stopped)
        samples.rss.append(rss)
        samples.cpu.append(cpu)
        samples.all_listening.append(listening)
    return (
        f"ready {ready:.2f}s (all listening {listening:.2f}s), JVM CPU {cpu:.1f}s, RSS {rss:.0f} MiB, "
        f"stop {stopped:.2f}s"
    )


def rows_for(name: str, nodes: int, samples: Samples) -> list[Row]:
    label = f"{nodes}-node cluster [{name}]"
    return [
        Row(f"{label}: start -> ready (peers, UN, one schema)", tuple(samples.ready), target=TARGET),
        Row(f"{label}: start -> last node listening for CQL", tuple(samples.all_listening)),
        Row(
            f"{label}: last node listening -> ready",
            tuple(r - a for r, a in zip(samples.ready, samples.all_listening, strict=True)),
            note="gossip, UP, schema agreement",
        ),
        Row(f"{label}: CPU seconds of all JVMs at ready", tuple(samples.cpu), note="user + system"),
        Row(f"{label}: summed JVM peak RSS (VmHWM) at ready", tuple(samples.rss), unit="MiB"),
        Row(f"{label}: stop (and delete data)", tuple(samples.stop)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured starts per variant (5)")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--dcs", default=None, help="datacenters, e.g. dc1:2,dc2:1 (default: one)")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=["default"])
    parser.add_argument("--no-warmup", action="store_true", help="count the first round too")
    args = parser.parse_args(argv)
    print(f"## bench.cluster ({machine()})\n")
    print(f"Command: `python -m bench.cluster {' '.join(argv if argv is not None else sys.argv[1:])}`".rstrip() + "\n")
    samples = {name: Samples() for name in args.variants}
    rounds = args.runs + (0 if args.no_warmup else 1)
    try:
        for round_no in range(rounds):
            warmup = round_no == 0 and not args.no_warmup
            for name in args.variants:
                line = one_start(args.nodes, args.dcs, VARIANTS[name], None if warmup else samples[name])
                say(f"  {name} {'warm-up' if warmup else f'run {round_no}'}: {line}; load {loadavg()}")
    except (BenchError, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    rows = [row for name in args.variants for row in rows_for(name, args.nodes, samples[name])]
    print(format_table(rows))
    print(f"\n- load average at the end: {loadavg()}")
    for name in args.variants:
        value = median(samples[name].ready)
        say(f"{name}: median {value:.2f} s to ready (target <= {TARGET:g}) -> {'ok' if value <= TARGET else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
