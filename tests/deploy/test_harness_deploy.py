"""`harness deploy` is the packaged deploy.sh: a team that only installed the package can deploy."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.deploy


def test_harness_deploy_runs_the_packaged_script_with_its_arguments() -> None:
    result = subprocess.run([sys.executable, "-m", "harness.cli", "deploy", "--help"], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: deploy.sh [options]")


def test_an_unknown_deploy_option_is_deploy_shs_error_not_the_clis() -> None:
    result = subprocess.run([sys.executable, "-m", "harness.cli", "deploy", "--no-such-option"], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode != 0 and "--no-such-option" in result.stderr and "harness: error" not in result.stderr
