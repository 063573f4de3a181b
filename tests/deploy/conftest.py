"""Registers the `deploy` marker so `pytest -m deploy` selects these offline deployment checks."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "deploy: offline checks of the Dockerfile, the Helm chart and deploy.sh (no cluster)"
    )
