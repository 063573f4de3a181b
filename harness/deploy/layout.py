#!/usr/bin/env python3
"""Where a team's migrations are, for deploy.sh: one tab-separated line per item, absolute paths.

    python3 layout.py REPO   ->   postgres<TAB>/abs/dir   cassandra<TAB>/abs/dir   contract<TAB>/abs/file

Why a file run by path: deploy.sh runs it with the Python it was given, before anything is built. The answer is the
harness's own settings (harness.config: environment, `harness.toml` or `[tool.harness]`, then the known layouts),
read by the harness package this file ships in. An empty value means none; deploy.sh's own flags win over all.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The package this file belongs to, whether installed or in a checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: layout.py REPO", file=sys.stderr)
        return 2
    try:
        from harness.config import load_settings
        from harness.errors import ConfigError
    except ImportError as exc:
        print(f"layout.py: error: the harness package cannot be imported by {sys.executable} ({exc})", file=sys.stderr)
        return 2
    try:
        settings = load_settings(cwd=Path(argv[0]))
    except ConfigError as exc:
        print(f"layout.py: error: {exc}", file=sys.stderr)
        return 2
    if not settings.stores() and settings.detect_error:
        print(f"layout.py: error: {settings.detect_error}", file=sys.stderr)
        return 2
    contract = settings["contract"]
    found = {
        "postgres": settings.migrations_dir("postgres"),
        "cassandra": settings.migrations_dir("cassandra"),
        "contract": contract if isinstance(contract, Path) and contract.is_file() else None,
    }
    sys.stdout.write("".join(f"{item}\t{path.resolve() if path else ''}\n" for item, path in found.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
