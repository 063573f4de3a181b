"""Wall time of `harness verify` with cold servers (it starts them) and warm ones (`harness servers up`), and of
the whole `tox` gate; medians, with the per-phase split `harness verify` prints and each check phase's share of
the time spent in checks (setup excluded), so a phase's cost is seen against the rest (the data phase, say).

    python -m bench.verify --runs 3 [--gate-runs 1] [--no-cold] [--only data-postgres --only data-cassandra]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_verify(env: dict[str, str], only: list[str], cwd: Path = ROOT) -> tuple[float, dict[str, float], str]:
    start = time.monotonic()
    command = [sys.executable, "-m", "harness.cli", "verify", *(f"--only={name}" for name in only)]
    out = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - start
    phases: dict[str, float] = {}
    for line in out.stdout.splitlines():
        if line.startswith("time: "):
            for part in line.removeprefix("time: ").split(" (")[0].split(", "):
                name, _, secs = part.rpartition(" ")
                phases[name] = float(secs.rstrip("s"))
    verdict = next((line for line in out.stdout.splitlines() if "verified" in line), out.stderr.strip()[-200:])
    return wall, phases, verdict


def median_phases(samples: list[dict[str, float]]) -> dict[str, float]:
    keys = samples[0].keys() if samples else []
    return {k: statistics.median(s.get(k, 0.0) for s in samples) for k in keys}


def shares(phases: dict[str, float]) -> str:
    """Each check phase's part of the time spent in checks (setup is waiting for servers, not checking)."""
    checks = {k: v for k, v in phases.items() if k != "setup"}
    total = sum(checks.values())
    return ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in checks.items()) if total else "none"


def measure(label: str, env: dict[str, str], runs: int, only: list[str]) -> None:
    walls: list[float] = []
    phases: list[dict[str, float]] = []
    for i in range(runs):
        wall, split, verdict = run_verify(env, only)
        walls.append(wall)
        phases.append(split)
        print(f"  {label} run {i + 1}: {wall:.1f}s  ({verdict})", flush=True)
    median = median_phases(phases)
    summary = ", ".join(f"{k} {v:.1f}s" for k, v in median.items())
    print(f"{label}: median {statistics.median(walls):.1f}s of {runs}; phases (median): {summary}", flush=True)
    print(f"{label}: share of the check time (median phases): {shares(median)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gate-runs", type=int, default=0, help="also time bare `tox` this many times")
    parser.add_argument("--no-cold", action="store_true", help="only warm servers (skip the runs that start them)")
    parser.add_argument("--only", action="append", default=[], metavar="CHECK", help="verify only these checks")
    parser.add_argument(
        "--scale", type=int, nargs="+", metavar="N", help="instead: generated histories of N migrations per store"
    )
    args = parser.parse_args()
    if args.scale:
        from bench import verify_scale  # it builds on this module's helpers

        extra = [a for check in args.only for a in ("--only", check)]
        return verify_scale.main(["--sizes", *map(str, args.scale), "--runs", str(args.runs), *extra])
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CASSANDRA_HOSTS", "CASSANDRA_PORT", "HARNESS_RUN_DIR", "HARNESS_RUN_OWNER")
    }
    base["HARNESS_PROVIDER"] = base.get("HARNESS_PROVIDER", "local")
    if not args.no_cold:
        measure("verify, cold servers", base, args.runs, args.only)

    with tempfile.TemporaryDirectory() as runtime:
        env = {**base, "XDG_RUNTIME_DIR": runtime}
        env.pop("HARNESS_PROVIDER")
        up = subprocess.run(
            [sys.executable, "-m", "harness.cli", "servers", "up", "--provider", "local"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        try:
            warm = dict(env)
            for line in up.stdout.splitlines():
                key, _, value = line.removeprefix("export ").partition("=")
                warm[key] = value.strip("'")
            measure("verify, warm servers", warm, args.runs, args.only)
        finally:
            subprocess.run([sys.executable, "-m", "harness.cli", "servers", "down"], env=env, timeout=120)

    gate = []
    for i in range(args.gate_runs):
        start = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "tox", "-q"], cwd=ROOT, env=base, capture_output=True, text=True, timeout=3600
        )
        gate.append(time.monotonic() - start)
        print(f"  tox run {i + 1}: {gate[-1]:.1f}s (exit {result.returncode})", flush=True)
    if gate:
        print(f"tox gate: median {statistics.median(gate):.1f}s of {len(gate)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
