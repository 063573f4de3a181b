"""Render and lint the chart in-process with helm-python-sdk (no helm binary, no cluster).

The chart is the one shipped with the package (harness.deploy.chart_dir()); the repository's helm/ links to it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import helm_python

from harness.deploy import chart_dir

from .jobs import Manifest, manifests

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = chart_dir()
DEFAULT_RELEASE = "migrations"


@lru_cache(maxsize=64)
def _render_cached(values_json: str, release: str, namespace: str) -> tuple[tuple[str, str], ...]:
    with helm_python.Chart.load(CHART_DIR) as chart:
        out = chart.render(json.loads(values_json), name=release, namespace=namespace, is_install=True)
    return tuple(sorted(out.items()))


def render_raw(
    values: dict[str, Any] | None = None, release: str = DEFAULT_RELEASE, namespace: str = "db"
) -> dict[str, str]:
    """Template path -> rendered text, exactly what helm-python-sdk returns (NOTES.txt included)."""
    return dict(_render_cached(json.dumps(values or {}, sort_keys=True), release, namespace))


def render(
    values: dict[str, Any] | None = None, release: str = DEFAULT_RELEASE, namespace: str = "db"
) -> list[Manifest]:
    """The Kubernetes objects the chart renders for these values (fresh copies, safe to mutate)."""
    return manifests(render_raw(values, release, namespace))


def lint(values: dict[str, Any] | None = None, kube_version: str | None = None) -> dict[str, Any]:
    """`helm lint --strict` report for these values."""
    return helm_python.lint(CHART_DIR, values, strict=True, kube_version=kube_version)


def default_values() -> dict[str, Any]:
    """The chart's values.yaml as Helm loads it."""
    with helm_python.Chart.load(CHART_DIR) as chart:
        return chart.values


def schema() -> dict[str, Any]:
    """values.schema.json."""
    loaded: dict[str, Any] = json.loads((CHART_DIR / "values.schema.json").read_text(encoding="utf-8"))
    return loaded


def reset_values(token: str = "tok-1", **targets: str) -> dict[str, Any]:
    """reset values that pass the chart's guard for the default targets (database and keyspace "app")."""
    confirm = {"postgresql": "app", "cassandra": "app", **targets}
    return {"reset": {"enabled": True, "confirm": confirm, "token": token}}
