"""Repository-level pytest configuration.

The harness plugin itself is loaded through its ``pytest11`` entry point (as in any project that installs the
package); here only what is particular to this repository: the hypothesis profile of our own property tests follows
the same dev/ci switch as the fuzz suite, and never writes an example database into the work tree.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("harness-repo-dev", database=None, deadline=None)
settings.register_profile("harness-repo-ci", database=None, deadline=None, max_examples=300, derandomize=True)
settings.load_profile("harness-repo-ci" if os.environ.get("HARNESS_FUZZ_PROFILE") == "ci" else "harness-repo-dev")
