"""Fetch bookkeeping and the supply-chain check of the Cassandra jars: pure file work, no Maven, no JVM."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.errors import ServerError
from harness.servers import cassandra_dist as dist

VERSION = "5.0.9"


@pytest.fixture
def no_tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither mvn nor java findable: any attempt to fetch fails with the install hint."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


JARS = {f"cassandra-all-{VERSION}.jar": b"main jar", "guava-32.jar": b"guava bytes", "jna-5.jar": b"jna bytes"}


def _fake_fetch(cache: Path, jars: dict[str, bytes] = JARS, marker: str = f"{VERSION}\n") -> Path:
    """A cache as an (unverified) finished fetch leaves it."""
    lib = dist.dist_dir(VERSION, cache) / "lib"
    lib.mkdir(parents=True)
    for name, data in jars.items():
        (lib / name).write_bytes(data)
    (lib.parent / ".complete").write_text(marker)
    return lib


def _checksum_file(path: Path, jars: dict[str, bytes] = JARS) -> Path:
    path.write_text("".join(f"{_sha(data)}  {name}\n" for name, data in sorted(jars.items())))
    return path


def test_pom_names_cassandra_all() -> None:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    root = ET.fromstring(dist.pom_text(VERSION))
    dep = root.find("./m:dependencies/m:dependency", ns)
    assert dep is not None
    assert dep.findtext("m:artifactId", namespaces=ns) == "cassandra-all"
    assert dep.findtext("m:version", namespaces=ns) == VERSION


def test_cache_root_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert dist.cache_root() == tmp_path / "explicit"
    monkeypatch.delenv("HARNESS_CACHE_DIR")
    assert dist.cache_root() == tmp_path / "xdg" / "harness"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert dist.cache_root() == tmp_path / "home" / ".cache" / "harness"


def test_matching_jars_are_verified_once_and_recorded_in_the_marker(no_tools: None, tmp_path: Path) -> None:
    lib = _fake_fetch(tmp_path / "cache")
    sums = _checksum_file(tmp_path / "list.sha256")
    assert dist.fetch_cassandra(VERSION, cache=tmp_path / "cache", checksums=sums) == lib
    marker = (lib.parent / ".complete").read_text()
    assert _sha(sums.read_bytes()) in marker
    (lib / "guava-32.jar").write_bytes(b"changed after the check")
    assert dist.fetch_cassandra(VERSION, cache=tmp_path / "cache", checksums=sums) == lib, "reuse reads no jar"


def test_a_changed_list_makes_the_cache_verified_again(no_tools: None, tmp_path: Path) -> None:
    lib = _fake_fetch(tmp_path / "cache")
    sums = _checksum_file(tmp_path / "list.sha256")
    dist.fetch_cassandra(VERSION, cache=tmp_path / "cache", checksums=sums)
    (lib / "guava-32.jar").write_bytes(b"tampered")
    sums.write_text(sums.read_text() + "\n")  # another list (same content, other digest): check again
    with pytest.raises(ServerError, match=r"guava-32\.jar: sha256"):
        dist.fetch_cassandra(VERSION, cache=tmp_path / "cache", checksums=sums)


def test_a_mismatch_names_the_jar_and_both_hashes(no_tools: None, tmp_path: Path) -> None:
    lib = _fake_fetch(tmp_path / "cache", {**JARS, "guava-32.jar": b"tampered"})
    sums = _checksum_file(tmp_path / "list.sha256")
    with pytest.raises(ServerError) as err:
        dist.fetch_cassandra(VERSION, cache=tmp_path / "cache", checksums=sums)
    text = str(err.value)
    assert f"guava-32.jar: sha256 {_sha(b'tampered')}, expected {_sha(b'guava bytes')}" in text
    assert "jna-5.jar" not in text, "only the offending jar is named"
    assert "verified-against" not in (lib.parent / ".complete").read_text(), "a failed check is not recorded"


def test_missing_and_unexpected_jars_are_errors(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "guava-32.jar").write_bytes(b"guava bytes")
    (lib / "evil.jar").write_bytes(b"x")
    with pytest.raises(ServerError) as err:
        dist.verify_jars(lib, _checksum_file(tmp_path / "list.sha256"))
    text = str(err.value)
    assert f"cassandra-all-{VERSION}.jar: listed in list.sha256 but missing" in text
    assert "evil.jar: not in list.sha256 (unexpected jar)" in text
    assert "guava-32.jar" not in text


def test_a_malformed_list_line_is_named(tmp_path: Path) -> None:
    sums = tmp_path / "list.sha256"
    sums.write_text(f"{_sha(b'a')}  a.jar\nnot a checksum line\n")
    with pytest.raises(ServerError, match=r"list.sha256:2: not a `<sha256>  <name>.jar` line"):
        dist.read_checksums(sums)


def test_a_version_without_a_list_is_refused_before_fetching(no_tools: None, tmp_path: Path) -> None:
    with pytest.raises(ServerError, match=r"no sha256 list for Cassandra 4\.9\.9 .*--write-sha256 4\.9\.9"):
        dist.fetch_cassandra("4.9.9", cache=tmp_path)


def test_the_packaged_list_covers_the_pinned_version() -> None:
    sums = dist.read_checksums(dist.checksum_list(dist.CASSANDRA_VERSION))
    assert f"cassandra-all-{dist.CASSANDRA_VERSION}.jar" in sums
    assert len(sums) > 50, "the whole runtime classpath, not just the main jar"


def test_half_finished_fetch_is_not_trusted(no_tools: None, tmp_path: Path) -> None:
    lib = _fake_fetch(tmp_path / "cache")
    (lib.parent / ".complete").unlink()  # interrupted before the marker
    assert not dist.is_complete(VERSION, tmp_path / "cache")
    with pytest.raises(ServerError, match="apt-get install"):
        dist.fetch_cassandra(VERSION, cache=tmp_path / "cache", checksums=_checksum_file(tmp_path / "list.sha256"))


def test_maven_runs_with_strict_checksums(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in `mvn` records its arguments; the fetch must ask for strict checksum checking."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    args_file = tmp_path / "mvn-args"
    for tool, body in (("java", "exit 0"), ("mvn", f'printf "%s\\n" "$@" > {args_file}; exit 1')):
        (bindir / tool).write_text(f"#!/bin/sh\n{body}\n")
        (bindir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    with pytest.raises(ServerError, match=r"fetching Cassandra 5\.0\.9 failed"):
        dist.fetch_cassandra(VERSION, cache=tmp_path / "cache", checksums=_checksum_file(tmp_path / "l.sha256"))
    args = args_file.read_text().splitlines()
    assert "--strict-checksums" in args
    assert "dependency:copy-dependencies" in args
