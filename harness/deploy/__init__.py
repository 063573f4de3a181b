"""Deployment assets shipped with the package: the Helm chart, deploy.sh and the offline renderer.

Why: a team that installed the harness with pip deploys from its own repository, so the chart and the script must
come with the package (the repository keeps `helm/` and `deploy.sh` as symlinks into this directory). These
functions return where they are on disk; `harness deploy ...` runs `deploy_script()`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["chart_dir", "deploy_script", "render_script"]


def _asset(*parts: str) -> Path:
    path = Path(str(files(__name__).joinpath(*parts)))
    if not path.exists():
        raise FileNotFoundError(f"deployment asset {'/'.join(parts)} is missing from {path.parent}: reinstall harness")
    return path


def chart_dir() -> Path:
    """The Helm chart directory (`helm upgrade --install <release> <chart_dir()>`)."""
    return _asset("helm", "migrations")


def deploy_script() -> Path:
    """deploy.sh: build the team's image and install the chart (run it with bash from the team's repository)."""
    return _asset("deploy.sh")


def render_script() -> Path:
    """render.py: `helm template` without a helm binary (helm-python-sdk), passwords redacted."""
    return _asset("render.py")
