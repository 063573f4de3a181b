#!/usr/bin/env python3
"""Render the migrations chart offline, like `helm template`, through helm-python-sdk.

Why: `./deploy.sh --dry-run` must print the manifests on machines that have no `helm` binary (and
must touch no cluster). The same library renders the chart in the test suite, so what a dry run
shows is what the tests validated. Passwords are redacted unless --show-secrets is given, so a dry
run never prints a credential.

    python3 render.py --release migrations --namespace db -f my-values.yaml --set postgresql.env.port=6432
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

CHART_DIR = Path(__file__).resolve().parent / "helm" / "migrations"
REDACTED = "REDACTED"
PASSWORD_KEYS = (("postgresql", "env", "password"), ("cassandra", "env", "password"))
KIND_ORDER = {"ServiceAccount": 0, "Secret": 1, "ConfigMap": 2, "Job": 3, "Pod": 4}


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge override into base the way Helm layers -f files and --set: maps merge, the rest replaces."""
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def redact_passwords(values: Mapping[str, Any]) -> dict[str, Any]:
    """Replace every non-empty password with a marker; empty ones stay empty so the output shows them."""
    redacted = dict(values)
    for path in PASSWORD_KEYS:
        node: Any = redacted
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and node.get(path[-1]):
            patch: dict[str, Any] = {path[-1]: REDACTED}
            for key in reversed(path[:-1]):
                patch = {key: patch}
            redacted = deep_merge(redacted, patch)
    return redacted


def _kind(text: str) -> str:
    match = re.search(r"^kind:\s*(\S+)", text, re.MULTILINE)
    return match.group(1) if match else ""


def to_stream(manifests: Mapping[str, str]) -> str:
    """Join rendered templates into one YAML stream in creation order (Secret before Jobs), no NOTES."""
    docs = [
        (KIND_ORDER.get(_kind(text), 9), path, text.strip())
        for path, text in manifests.items()
        if not path.endswith("NOTES.txt") and text.strip()
    ]
    docs.sort()
    return "".join(f"---\n# Source: {path}\n{text}\n" for _, path, text in docs)


def render(
    release: str,
    namespace: str,
    value_files: Sequence[Path],
    sets: Sequence[str],
    *,
    show_secrets: bool = False,
    chart_dir: Path = CHART_DIR,
) -> str:
    """Render the chart with Helm's layering (defaults < -f files in order < --set) into a YAML stream."""
    import helm_python

    helm_python.validate_release_name(release)
    values = _user_values(value_files, sets)
    with helm_python.Chart.load(chart_dir) as chart:
        merged = chart.merge_values(values)
        chart.validate_schema(merged)
        if not show_secrets:
            values = redact_passwords(merged)
        manifests = chart.render(values, name=release, namespace=namespace, is_install=True)
    return to_stream(manifests)


def _user_values(value_files: Sequence[Path], sets: Sequence[str]) -> dict[str, Any]:
    """The user's values in Helm's order: -f files as given, then every --set."""
    import helm_python

    values: dict[str, Any] = {}
    for file in value_files:
        values = deep_merge(values, helm_python.values_from_yaml(file.read_text(encoding="utf-8")))
    for expression in sets:
        values = deep_merge(values, helm_python.parse_set_string(expression))
    return values


def _merged_values(value_files: Sequence[Path], sets: Sequence[str], chart_dir: Path) -> dict[str, Any]:
    import helm_python

    values = _user_values(value_files, sets)
    with helm_python.Chart.load(chart_dir) as chart:
        merged: dict[str, Any] = chart.merge_values(values)
        chart.validate_schema(merged)
    return merged


def reset_targets(value_files: Sequence[Path], sets: Sequence[str], chart_dir: Path = CHART_DIR) -> str:
    """What a reset would empty: one tab-separated line per enabled store (values key, target, kind, where).

    deploy.sh reads these lines to ask for (or, with --yes, fill in) reset.confirm.<key>; no credentials.
    """
    merged = _merged_values(value_files, sets, chart_dir)
    lines = []
    pg, cass = merged["postgresql"], merged["cassandra"]
    if pg.get("enabled"):
        env = pg["env"]
        lines.append(("postgresql", env["database"], "PostgreSQL database", f"{env['host']}:{env['port']}"))
    if cass.get("enabled"):
        env = cass["env"]
        lines.append(("cassandra", env["keyspace"], "Cassandra keyspace", f"{env['host']} (port {env['port']})"))
    return "".join("\t".join(line) + "\n" for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="render.py", description=__doc__.splitlines()[0])
    parser.add_argument("--release", default="migrations", help="release name (default: migrations)")
    parser.add_argument("--namespace", default="default", help="namespace (default: default)")
    parser.add_argument("-f", "--values", action="append", type=Path, default=[], help="values file")
    parser.add_argument("--set", action="append", default=[], dest="sets", help="helm --set expression")
    parser.add_argument("--chart", type=Path, default=CHART_DIR, help="chart directory")
    parser.add_argument("--show-secrets", action="store_true", help="print passwords instead of REDACTED")
    parser.add_argument(
        "--reset-targets",
        action="store_true",
        help="print only what a reset would empty: key, target and place, tab-separated, one line per store",
    )
    args = parser.parse_args(argv)
    try:
        import helm_python
    except ImportError:
        print(
            "render.py: error: the Python package helm-python-sdk is missing; install it with "
            "`pip install helm-python-sdk` (or install helm and use `helm template`)",
            file=sys.stderr,
        )
        return 3
    for file in args.values:
        if not file.is_file():
            print(f"render.py: error: values file {file} does not exist", file=sys.stderr)
            return 2
    try:
        if args.reset_targets:
            sys.stdout.write(reset_targets(args.values, args.sets, chart_dir=args.chart))
            return 0
        stream = render(
            args.release,
            args.namespace,
            args.values,
            args.sets,
            show_secrets=args.show_secrets,
            chart_dir=args.chart,
        )
    except helm_python.HelmError as exc:
        print(f"render.py: error: chart {args.chart}: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(stream)
    return 0


if __name__ == "__main__":
    sys.exit(main())
