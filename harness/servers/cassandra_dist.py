"""Fetch Apache Cassandra's runtime jars from Maven into a cache, once.

The binary tarball is not published to Maven for 4.x/5.0, but ``cassandra-all`` and its pom are: a
one-dependency pom of our own plus ``dependency:copy-dependencies`` yields the full classpath. The
result is kept outside the work tree and guarded by a completion marker written last, so a second call
costs a stat and an interrupted fetch is redone instead of trusted.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.errors import ServerError

CASSANDRA_VERSION = "5.0.9"
"""Newest 5.0.x ``cassandra-all`` that resolved when this was written (checked with mvn)."""

_MARKER = ".complete"
_INSTALL_HINT = "install a JDK 17 and Maven, e.g. `apt-get install openjdk-17-jdk-headless maven`"


def _ignore(_message: str) -> None:
    """Default progress sink: say nothing."""


def cache_root() -> Path:
    """Where downloads live: $HARNESS_CACHE_DIR, else $XDG_CACHE_HOME/harness, else ~/.cache/harness."""
    explicit = os.environ.get("HARNESS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "harness"


def dist_dir(version: str = CASSANDRA_VERSION, cache: Path | None = None) -> Path:
    """The per-version directory holding the pom, ``lib/`` and the completion marker."""
    return (cache if cache is not None else cache_root()) / "cassandra" / version


def pom_text(version: str) -> str:
    """A pom whose only job is to make Maven resolve ``cassandra-all`` and its runtime dependencies."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>harness.local</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"""


def is_complete(version: str = CASSANDRA_VERSION, cache: Path | None = None) -> bool:
    """True when a previous fetch finished (marker present and the main jar is there)."""
    root = dist_dir(version, cache)
    return (root / _MARKER).is_file() and (root / "lib" / f"cassandra-all-{version}.jar").is_file()


def require_tool(name: str) -> str:
    """Path of an executable on PATH, or a ServerError saying what to install."""
    found = shutil.which(name)
    if found is None:
        raise ServerError(f"`{name}` not found on PATH; the local Cassandra provider needs it: {_INSTALL_HINT}")
    return found


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise concurrent fetches (pytest-xdist workers) on one lock file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fetch_cassandra(
    version: str = CASSANDRA_VERSION,
    *,
    cache: Path | None = None,
    log: Callable[[str], None] = _ignore,
) -> Path:
    """Return a directory holding every runtime jar of Cassandra ``version``, fetching it if needed."""
    root = dist_dir(version, cache)
    lib = root / "lib"
    if is_complete(version, cache):
        return lib
    with _locked(root.parent / f".{version}.lock"):
        if is_complete(version, cache):  # another process finished while we waited
            return lib
        require_tool("java")
        mvn = require_tool("mvn")
        (root / _MARKER).unlink(missing_ok=True)
        shutil.rmtree(lib, ignore_errors=True)
        root.mkdir(parents=True, exist_ok=True)
        (root / "pom.xml").write_text(pom_text(version))
        log(f"cassandra: fetching cassandra-all {version} and its dependencies into {lib}")
        command = [
            mvn,
            "-B",
            "-q",
            "-Dstyle.color=never",
            "-f",
            str(root / "pom.xml"),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={lib}",
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"fetching Cassandra {version} with Maven timed out after 30 min") from exc
        if done.returncode != 0 or not (lib / f"cassandra-all-{version}.jar").is_file():
            output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
            tail = "\n".join(output.strip().splitlines()[-30:])
            raise ServerError(
                f"fetching Cassandra {version} failed: `{' '.join(command)}` exited {done.returncode}\n"
                f"{tail}\nCheck that Maven can reach its central repository (proxy settings in "
                f"~/.m2/settings.xml) and that version {version} exists."
            )
        (root / _MARKER).write_text(f"{version}\n")
        log(f"cassandra: fetched {sum(1 for _ in lib.glob('*.jar'))} jars")
    return lib


def main() -> int:
    """``python -m harness.servers.cassandra_dist [VERSION]``: pre-fetch (CI) and print the lib dir."""
    version = sys.argv[1] if len(sys.argv) > 1 else CASSANDRA_VERSION
    try:
        lib = fetch_cassandra(version, log=lambda m: print(m, file=sys.stderr))
    except ServerError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(lib)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
