"""Fetch Apache Cassandra's runtime jars from Maven into a cache, once, and check them against the repository.

The binary tarball is not published to Maven for 4.x/5.0, but ``cassandra-all`` and its pom are: a
one-dependency pom of our own plus ``dependency:copy-dependencies`` yields the full classpath. The
result is kept outside the work tree and guarded by a completion marker written last, so a second call
costs a stat and an interrupted fetch is redone instead of trusted.

Supply chain: Maven runs with ``--strict-checksums`` (a download whose checksum does not match fails), and
every jar is then checked against ``cassandra-<version>.sha256`` shipped in this package (``sha256sum``
format, one line per jar of the pinned version). A missing, extra or different jar is an error naming the
jar and both hashes. The check runs after each fetch and is recorded in the completion marker with the
digest of the list, so reusing the cache costs nothing until the list changes, when it runs again.

Making the list for a new version (once, by a maintainer, after reviewing the fetched jars)::

    python -m harness.servers.cassandra_dist --write-sha256 VERSION

fetches VERSION with strict checksums and writes ``harness/servers/cassandra-VERSION.sha256`` from it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
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


def checksum_list(version: str) -> Path:
    """The packaged ``cassandra-<version>.sha256`` (may not exist: then that version cannot be verified)."""
    return Path(str(resources.files("harness.servers").joinpath(f"cassandra-{version}.sha256")))


def read_checksums(path: Path) -> dict[str, str]:
    """``sha256sum`` lines (``<64 hex>  <file name>``) -> {file name: hash}; ServerError naming a bad line."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ServerError(f"cannot read the Cassandra jar checksum list {path}: {exc}") from None
    expected: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = re.fullmatch(r"([0-9a-f]{64}) [ *]([^/\\]+\.jar)", line.strip())
        if match is None:
            raise ServerError(f"{path}:{number}: not a `<sha256>  <name>.jar` line: {line!r}")
        expected[match.group(2)] = match.group(1)
    return expected


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_jars(lib: Path, checksums: Path) -> None:
    """Every jar in ``lib`` is listed in ``checksums`` with its exact sha256, and every listed jar is there.

    Raises ServerError naming each offending jar (expected and actual hash), so a tampered or corrupted
    download never reaches a JVM.
    """
    expected = read_checksums(checksums)
    present = {p.name: p for p in lib.glob("*.jar")}
    problems = [f"{name}: listed in {checksums.name} but missing" for name in sorted(expected.keys() - present)]
    problems += [f"{name}: not in {checksums.name} (unexpected jar)" for name in sorted(present.keys() - expected)]
    for name in sorted(expected.keys() & present.keys()):
        actual = sha256_file(present[name])
        if actual != expected[name]:
            problems.append(f"{name}: sha256 {actual}, expected {expected[name]}")
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise ServerError(
            f"Cassandra jars in {lib} do not match {checksums}:\n  {shown}\n"
            f"Fix: delete {lib.parent} and fetch again; if it still differs, do not use these jars."
        )


def _list_digest(checksums: Path) -> str:
    return hashlib.sha256(checksums.read_bytes()).hexdigest()


def _marker_text(version: str, checksums: Path) -> str:
    return f"{version}\nverified-against-sha256 {_list_digest(checksums)}\n"


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
    checksums: Path | None = None,
    log: Callable[[str], None] = _ignore,
) -> Path:
    """Return a directory holding every runtime jar of Cassandra ``version``, fetched if needed and verified.

    ``checksums`` is the sha256 list to check against (default: the one packaged for ``version``).
    """
    checksums = checksums if checksums is not None else checksum_list(version)
    if not checksums.is_file():
        raise ServerError(
            f"no sha256 list for Cassandra {version} ({checksums} is missing), so its jars cannot be verified. "
            f"Use version {CASSANDRA_VERSION}, or make the list: python -m harness.servers.cassandra_dist "
            f"--write-sha256 {version}"
        )
    root = dist_dir(version, cache)
    lib = root / "lib"
    if _verified(root, version, checksums):
        return lib
    with _locked(root.parent / f".{version}.lock"):
        if not is_complete(version, cache):  # none yet, or another process's fetch was interrupted
            _fetch(version, root, log)
        if not _verified(root, version, checksums):
            verify_jars(lib, checksums)
            (root / _MARKER).write_text(_marker_text(version, checksums))
            log(f"cassandra: {sum(1 for _ in lib.glob('*.jar'))} jars match {checksums.name}")
    return lib


def _verified(root: Path, version: str, checksums: Path) -> bool:
    """A finished fetch whose marker records a check against exactly this list (cheap: no jar is read)."""
    try:
        marker = (root / _MARKER).read_text()
    except OSError:
        return False
    return marker == _marker_text(version, checksums) and (root / "lib" / f"cassandra-all-{version}.jar").is_file()


def _fetch(version: str, root: Path, log: Callable[[str], None]) -> None:
    """Run Maven (strict checksums) into ``root/lib`` and write an unverified completion marker."""
    lib = root / "lib"
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
        "--strict-checksums",  # a download whose checksum does not match fails instead of warning
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
    (root / _MARKER).write_text(f"{version}\n")  # fetched, not yet verified
    log(f"cassandra: fetched {sum(1 for _ in lib.glob('*.jar'))} jars")


def write_checksums(version: str, cache: Path | None = None, log: Callable[[str], None] = _ignore) -> Path:
    """Fetch ``version`` (strict checksums, no list yet) and write its packaged sha256 list; returns the list."""
    root = dist_dir(version, cache)
    with _locked(root.parent / f".{version}.lock"):
        if not is_complete(version, cache):
            _fetch(version, root, log)
        jars = sorted((root / "lib").glob("*.jar"))
        target = checksum_list(version)
        target.write_text("".join(f"{sha256_file(jar)}  {jar.name}\n" for jar in jars))
    log(f"cassandra: wrote {len(jars)} sha256 lines to {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.servers.cassandra_dist [--write-sha256] [VERSION]``: pre-fetch (CI) and print the lib dir.

    ``--write-sha256`` makes the packaged checksum list of VERSION instead (maintainers, once per version).
    """
    args = sys.argv[1:] if argv is None else argv
    write = "--write-sha256" in args
    rest = [a for a in args if a != "--write-sha256"]
    version = rest[0] if rest else CASSANDRA_VERSION
    try:
        if write:
            print(write_checksums(version, log=lambda m: print(m, file=sys.stderr)))
            return 0
        lib = fetch_cassandra(version, log=lambda m: print(m, file=sys.stderr))
    except ServerError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(lib)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
