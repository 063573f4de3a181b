"""The harness's built-in checks (lint, roundtrip, schema against the README's diagram, fuzz) as this repository's tests.

Configured by harness.toml; the pytest plugin comes with the installed package.
"""

from harness.checks.builtin import *  # noqa: F403
