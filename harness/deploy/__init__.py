"""Deployment assets shipped with the package: the Helm chart, deploy.sh and the offline renderer.

Why: a team that installed the harness with pip deploys from its own repository, so the chart and the script must
come with the package (the repository keeps `helm/` and `deploy.sh` as symlinks into this directory). These
functions return where they are on disk; `harness deploy ...` runs `deploy_script()`.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import NoReturn

__all__ = ["chart_dir", "deploy_script", "exec_deploy", "render_script"]


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


def exec_deploy(args: Sequence[str], env: Mapping[str, str] | None = None) -> NoReturn:
    """Become `bash deploy.sh ARGS` (what `harness deploy ARGS` does).

    PYTHON defaults to this interpreter, so deploy.sh reads the settings and renders with the same installation
    (harness.config, helm-python-sdk when installed).
    """
    environ = dict(os.environ if env is None else env)
    environ.setdefault("PYTHON", sys.executable)
    bash = shutil.which("bash", path=environ.get("PATH"))
    if bash is None:
        raise FileNotFoundError("deploy.sh needs bash, which is not on PATH")
    os.execve(bash, [bash, str(deploy_script()), *args], environ)
