"""The pure parts of the local Cassandra providers: generated yaml and rackdc, JVM command line, cluster layout.

No JVM and no Maven run here; starting a real node is the plugin's job.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from harness.errors import ServerError
from harness.servers.cassandra_config import (
    FAST_START_PROPERTIES,
    JDK17_MODULE_FLAGS,
    LOGBACK_XML,
    NodeConfig,
    cds_key,
    java_major,
    jvm_command,
    render_yaml,
)
from harness.servers.procutil import free_port


@pytest.fixture
def cfg(tmp_path: Path) -> NodeConfig:
    return NodeConfig(workdir=tmp_path / "node", native_port=19042, storage_port=17000, heap="384M")


def test_yaml_has_every_key_without_a_default(cfg: NodeConfig) -> None:
    conf = yaml.safe_load(render_yaml(cfg))
    for key in ("commitlog_sync", "commitlog_sync_period", "partitioner", "endpoint_snitch", "seed_provider"):
        assert conf[key], key
    assert conf["seed_provider"][0]["parameters"][0]["seeds"] == "127.0.0.1:17000"


def test_yaml_binds_only_loopback_on_chosen_ports(cfg: NodeConfig) -> None:
    conf = yaml.safe_load(render_yaml(cfg))
    assert conf["listen_address"] == conf["rpc_address"] == "127.0.0.1"
    assert conf["native_transport_port"] == 19042
    assert conf["storage_port"] == 17000


def test_yaml_fast_start_and_features(cfg: NodeConfig) -> None:
    conf = yaml.safe_load(render_yaml(cfg))
    assert conf["num_tokens"] == 1
    assert conf["initial_token"] == 0
    assert conf["auto_snapshot"] is False
    assert conf["storage_compatibility_mode"] == "NONE"
    assert conf["disk_access_mode"] == "standard"
    assert conf["crypto_provider"] == [{"class_name": "org.apache.cassandra.security.JREProvider"}]
    for flag in ("user_defined_functions_enabled", "materialized_views_enabled", "sasi_indexes_enabled"):
        assert conf[flag] is True, flag


def test_yaml_directories_live_in_the_work_dir(cfg: NodeConfig) -> None:
    conf = yaml.safe_load(render_yaml(cfg))
    dirs = [*conf["data_file_directories"]]
    dirs += [conf[k] for k in ("commitlog_directory", "saved_caches_directory", "hints_directory")]
    assert all(Path(d).is_relative_to(cfg.workdir) for d in dirs), dirs


def test_yaml_auth_switch(cfg: NodeConfig) -> None:
    open_conf = yaml.safe_load(render_yaml(cfg))
    assert open_conf["authenticator"] == "AllowAllAuthenticator"
    auth_cfg = NodeConfig(workdir=cfg.workdir, native_port=1, storage_port=2, auth=True)
    auth_conf = yaml.safe_load(render_yaml(auth_cfg))
    assert auth_conf["authenticator"] == "PasswordAuthenticator"
    assert auth_conf["authorizer"] == "CassandraAuthorizer"


def test_jvm_command_shape(cfg: NodeConfig, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    cmd = jvm_command(cfg, lib, ["a.jar", "b.jar"], java="/opt/java")
    assert cmd[0] == "/opt/java"
    assert cmd[-1] == "org.apache.cassandra.service.CassandraDaemon"
    assert cmd[cmd.index("-cp") + 1] == f"{lib / 'a.jar'}:{lib / 'b.jar'}"
    assert "-Xms384M" in cmd and "-Xmx384M" in cmd
    assert f"-Dcassandra.config=file://{cfg.yaml_file}" in cmd
    assert f"-Dlogback.configurationFile={cfg.logback_file}" in cmd
    assert f"-Dcassandra.storagedir={cfg.data_root}" in cmd
    for flag in (*JDK17_MODULE_FLAGS, *FAST_START_PROPERTIES):
        assert flag in cmd, flag
    assert "-Dcassandra-foreground=yes" in cmd
    assert not any("AlwaysPreTouch" in a for a in cmd)
    assert not any(a.startswith(("-Dcassandra.jmx", "-Dcom.sun.management.jmxremote")) for a in cmd)
    assert not any(a.startswith("-XX:SharedArchiveFile") or "ArchiveClassesAtExit" in a for a in cmd)


def test_jvm_command_cds_modes(cfg: NodeConfig, tmp_path: Path) -> None:
    archive = tmp_path / "x.jsa"
    use = jvm_command(cfg, tmp_path, ["a.jar"], cds_archive=archive)
    dump = jvm_command(cfg, tmp_path, ["a.jar"], cds_archive=archive, cds_dump=True)
    assert f"-XX:SharedArchiveFile={archive}" in use
    assert f"-XX:ArchiveClassesAtExit={archive}" in dump
    assert "-Xshare:auto" in use and "-Xshare:auto" in dump


def test_cds_key_changes_with_jdk_classpath_and_flags() -> None:
    base = cds_key("17.0.15", ["a.jar", "b.jar"], ["-Xmx512M"])
    assert base == cds_key("17.0.15", ["a.jar", "b.jar"], ["-Xmx512M"])
    assert base != cds_key("17.0.16", ["a.jar", "b.jar"], ["-Xmx512M"])
    assert base != cds_key("17.0.15", ["a.jar", "c.jar"], ["-Xmx512M"])
    assert base != cds_key("17.0.15", ["a.jar", "b.jar"], ["-Xmx1G"])


def test_logback_is_well_formed_and_skips_caller_data() -> None:
    root = ET.fromstring(LOGBACK_XML)
    pattern = root.find("./appender/encoder/pattern")
    assert pattern is not None and pattern.text
    assert "%F" not in pattern.text and "%L" not in pattern.text  # caller data costs a stack walk per line


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 1024 <= port <= 65535


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "11.0.24" 2024-07-16', 11),
        ('java version "1.8.0_402"', 8),
        ('openjdk version "21" 2023-09-19', 21),
    ],
)
def test_java_major(output: str, major: int) -> None:
    assert java_major(output) == major


def test_java_major_unreadable() -> None:
    with pytest.raises(ServerError, match="Java version"):
        java_major("command not found")
